package resp

import (
	"math"
	"strconv"
	"testing"
)

// parseIntOracle is string2ll's contract restated with strconv: the text
// must be at most 20 bytes and be exactly the canonical decimal form of an
// int64.
func parseIntOracle(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || strconv.FormatInt(v, 10) != string(b) {
		return 0, false
	}
	return v, true
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1", 1, true},
		{"-1", -1, true},
		{"123456", 123456, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"18446744073709551615", 0, false},
		{"18446744073709551616", 0, false},
		{"99999999999999999999", 0, false},
		{"000000000000000000001", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{"-0", 0, false},
		{"+1", 0, false},
		{"01", 0, false},
		{"00", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"1a", 0, false},
		{"1.0", 0, false},
		{"--1", 0, false},
		{"1\x00", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseInt([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		og, ook := parseIntOracle([]byte(tt.in))
		if og != tt.want || ook != tt.ok {
			t.Errorf("oracle(%q) = %d, %v; want %d, %v", tt.in, og, ook, tt.want, tt.ok)
		}
	}
}

func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"0", "-1", "9223372036854775807", "-9223372036854775808", "01", "-0", "+5", "12a"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := ParseInt(b)
		want, wok := parseIntOracle(b)
		if got != want || ok != wok {
			t.Fatalf("ParseInt(%q) = %d, %v; oracle %d, %v", b, got, ok, want, wok)
		}
	})
}

func TestAppendDouble(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "-0"},
		{math.NaN(), "nan"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{3, "3"},
		{-12, "-12"},
		{1.5, "1.5"},
		{-1.5, "-1.5"},
		{0.1, "0.1"},
		{0.0001, "0.0001"},
		{1e-6, "0.000001"},
		{1.5e-6, "1.5e-6"},
		{1e-7, "1e-7"},
		{1.5e-7, "1.5e-7"},
		{1e-10, "1e-10"},
		{3.14e-100, "3.14e-100"},
		{5e-324, "5e-324"},
		{100.5, "100.5"},
		{123456.789, "123456.789"},
		{10000000.5, "10000000.5"},
		{123.4567891, "123.4567891"},
		{12345.678901234567, "1.2345678901234567e+4"},
		{1e15, "1000000000000000"},
		{1e18, "1000000000000000000"},
		{1 << 62, "4611686018427387904"},
		{-(1 << 62), "-4611686018427387904"},
		{5e18, "5e+18"},
		{1 << 63, "9223372036854776000"},
		{1.234567890123e19, "12345678901230000000"},
		{1.23456789012e19, "1.23456789012e+19"},
		{1e20, "1e+20"},
		{1.5e20, "1.5e+20"},
		{-1e21, "-1e+21"},
		{1.23456789e23, "1.23456789e+23"},
		{3.14e100, "3.14e+100"},
		{1e105, "1e+105"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
	}
	for _, tt := range tests {
		got := string(AppendDouble(nil, tt.f))
		if got != tt.want {
			t.Errorf("AppendDouble(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func FuzzAppendDouble(f *testing.F) {
	for _, v := range []float64{0, 1.5, 1e20, 1e-7, 12345.678901234567, 1 << 62, math.MaxFloat64} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		s := AppendDouble(nil, v)
		got, err := strconv.ParseFloat(string(s), 64)
		if math.IsNaN(v) {
			if string(s) != "nan" {
				t.Fatalf("AppendDouble(NaN) = %q", s)
			}
			return
		}
		if err != nil || got != v || math.Signbit(got) != math.Signbit(v) {
			t.Fatalf("AppendDouble(%v) = %q, parses back as %v, %v", v, s, got, err)
		}
	})
}

func TestAppendDoubleNoAlloc(t *testing.T) {
	buf := make([]byte, 0, 64)
	n := testing.AllocsPerRun(100, func() {
		buf = AppendDouble(buf[:0], 12345.678901234567)
		buf = AppendDouble(buf[:0], 1.5e-7)
		buf = AppendDouble(buf[:0], 42)
	})
	if n != 0 {
		t.Errorf("AppendDouble allocates %v times", n)
	}
}

func BenchmarkParseInt(b *testing.B) {
	in := []byte("1234567890")
	b.ReportAllocs()
	for b.Loop() {
		ParseInt(in)
	}
}
