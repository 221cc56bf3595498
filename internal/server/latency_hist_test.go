package server

import (
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	for _, ns := range []int64{0, 1, 1023, 1024, 1500, 2047, 2048, 1 << 20, 999_999_999, 1_000_000_000, 5_000_000_000} {
		i := histIndex(ns)
		if i < 0 || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d", ns, i)
		}
		v := min(max(ns, histMinNs), histMaxNs)
		if up := histUpper(i); v > up || (i > 0 && v <= histUpper(i-1)) {
			t.Fatalf("%dns in bucket %d whose range ends at %d (previous %d)", ns, i, up, histUpper(i-1))
		}
	}
	// Bucket edges are within 1/16 of the value.
	for ns := int64(histMinNs); ns < histMaxNs; ns = ns*17/16 + 1 {
		if up := histUpper(histIndex(ns)); float64(up-ns) > float64(ns)/16+1 {
			t.Fatalf("%dns reported as %dns", ns, up)
		}
	}
}

func TestHistogramPercentilesAndCDF(t *testing.T) {
	var h latencyHistogram
	for i := 0; i < 98; i++ {
		h.record(500 * time.Nanosecond) // clamped to 1024ns
	}
	h.record(40 * time.Microsecond)
	h.record(3 * time.Millisecond)
	if p := h.percentile(50); p < 1.024 || p > 1.1 {
		t.Fatalf("p50 = %v µs", p)
	}
	if p := h.percentile(99); p < 40 || p > 43 {
		t.Fatalf("p99 = %v µs", p)
	}
	if p := h.percentile(100); p < 3000 || p > 3200 {
		t.Fatalf("p100 = %v µs", p)
	}
	if p := h.percentile(0); p < 1.024 || p > 1.1 {
		t.Fatalf("p0 = %v µs", p)
	}
	labels, cum := h.cdf()
	// Redis's labels for 1024·2^k ns: 1, 2, 4, 8, 16, 33, 66, 132 … µs.
	want := map[int64]int64{1: 98, 66: 99, 4227: 100}
	if len(labels) != len(want) {
		t.Fatalf("cdf %v %v", labels, cum)
	}
	for i, l := range labels {
		if want[l] != cum[i] {
			t.Fatalf("cdf %v %v", labels, cum)
		}
	}
	var empty latencyHistogram
	if l, _ := empty.cdf(); len(l) != 0 {
		t.Fatalf("empty cdf %v", l)
	}
}

func TestBytesToHumanAndFormats(t *testing.T) {
	for n, want := range map[int64]string{0: "0B", 1023: "1023B", 1024: "1.00K", 1536: "1.50K", 1 << 20: "1.00M", 3 << 30: "3.00G", 5 << 40: "5.00T"} {
		if got := bytesToHuman(n); got != want {
			t.Errorf("bytesToHuman(%d) = %s, want %s", n, got, want)
		}
	}
	for p, want := range map[float64]string{50: "50", 99.9: "99.9", 0: "0", 100: "100", 99.99: "99.99"} {
		if got := formatPercentileName(p); got != want {
			t.Errorf("formatPercentileName(%v) = %s, want %s", p, got, want)
		}
	}
	if got := formatCPU(1500 * time.Millisecond); got != "1.500000" {
		t.Errorf("formatCPU = %s", got)
	}
	for s, want := range map[string]uint64{"100": 100, "1k": 1000, "1kb": 1024, "2MB": 2 << 20, "1gb": 1 << 30, "0": 0} {
		if got, ok := parseMemory(s); !ok || got != want {
			t.Errorf("parseMemory(%q) = %d %v", s, got, ok)
		}
	}
	if _, ok := parseMemory("x1"); ok {
		t.Error("parseMemory accepted x1")
	}
	if d := parseSeconds([]byte("0.5xyz")); d != 500*time.Millisecond {
		t.Errorf("parseSeconds = %v", d)
	}
}
