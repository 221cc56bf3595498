package config

import (
	"github.com/corvid-db/corvid/internal/resp"
	"math"
	"testing"
)

func TestString2ll(t *testing.T) {
	tests := []struct {
		s  string
		v  int64
		ok bool
	}{
		{"0", 0, true}, {"-1", -1, true}, {"123", 123, true},
		{"9223372036854775807", math.MaxInt64, true}, {"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false},
		{"", 0, false}, {"-", 0, false}, {"01", 0, false}, {"-0", 0, false}, {"+1", 0, false},
		{" 1", 0, false}, {"1 ", 0, false}, {"1a", 0, false}, {"123456789012345678901", 0, false},
	}
	for _, tt := range tests {
		if v, ok := string2ll(tt.s); v != tt.v || ok != tt.ok {
			t.Errorf("string2ll(%q) = %d, %v", tt.s, v, ok)
		}
	}
}

func TestStrtoll(t *testing.T) {
	tests := []struct {
		s, rest string
		base    int
		v       int64
		of      bool
	}{
		{"12", "", 10, 12, false}, {"  -12x", "x", 10, -12, false}, {"+7", "", 10, 7, false},
		{"", "", 10, 0, false}, {"x", "x", 10, 0, false}, {" ", " ", 10, 0, false}, {"-", "-", 10, 0, false},
		{"99999999999999999999", "", 10, math.MaxInt64, true},
		{"-99999999999999999999", "", 10, math.MinInt64, true},
		{"0755", "", 8, 0o755, false}, {"78", "8", 8, 7, false},
	}
	for _, tt := range tests {
		v, rest, of := strtoll(tt.s, tt.base)
		if v != tt.v || rest != tt.rest || of != tt.of {
			t.Errorf("strtoll(%q, %d) = %d, %q, %v", tt.s, tt.base, v, rest, of)
		}
	}
}

func TestMemtoull(t *testing.T) {
	tests := []struct {
		s  string
		v  uint64
		ok bool
	}{
		{"", 0, true}, {"0", 0, true}, {"10", 10, true}, {"10b", 10, true}, {"10B", 10, true},
		{"1k", 1000, true}, {"1kb", 1024, true}, {"1KB", 1024, true}, {"2m", 2000000, true},
		{"2mb", 2 << 20, true}, {"3g", 3000000000, true}, {"3gb", 3 << 30, true}, {"gb", 0, true},
		{"-1", 0, false}, {"1x", 0, false}, {"1 kb", 0, false}, {"1.5", 0, false}, {"+1", 0, false},
		{"18446744073709551615", math.MaxUint64, true},
		{"99999999999999999999", math.MaxUint64, true}, // strtoull saturates
	}
	for _, tt := range tests {
		if v, ok := memtoull(tt.s); v != tt.v || ok != tt.ok {
			t.Errorf("memtoull(%q) = %d, %v", tt.s, v, ok)
		}
	}
}

func TestFormatters(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 1: "1", 1024: "1kb", 1536: "1536", 3 << 20: "3mb", 5 << 30: "5gb", 1000: "1000"} {
		if got := formatMemory(in); got != want {
			t.Errorf("formatMemory(%d) = %q, want %q", in, got, want)
		}
	}
	if got := formatMemoryUnsigned(math.MaxUint64); got != "18446744073709551615" {
		t.Errorf("formatMemoryUnsigned(max) = %q", got)
	}
	if got := formatMemoryUnsigned(1 << 63); got != "8589934592gb" {
		t.Errorf("formatMemoryUnsigned(1<<63) = %q", got)
	}
	if got := resp.Repr("a \"b\"\\\n\r\t\a\b\x00\xff"); got != `"a \"b\"\\\n\r\t\a\b\x00\xff"` {
		t.Errorf("repr = %s", got)
	}
	for in, want := range map[float64]string{50: "50", 99.9: "99.9", 0: "0", 12.3456789: "12.345679", 100: "100"} {
		if got := formatPercentile(in); got != want {
			t.Errorf("formatPercentile(%v) = %q, want %q", in, got, want)
		}
	}
}
