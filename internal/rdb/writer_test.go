package rdb

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestIntEncodingCanonical checks the hand-written parser against the
// definition: a string is integer-encoded exactly when it is the decimal
// form strconv gives of a value that fits 32 bits.
func TestIntEncodingCanonical(t *testing.T) {
	cases := []string{"", "-", "0", "-0", "00", "01", "-01", "1", "-1", "12", "+1", " 1", "1 ", "1a",
		"127", "128", "-128", "-129", "32767", "32768", "-32768", "-32769",
		"2147483647", "2147483648", "-2147483648", "-2147483649", "99999999999", "-9999999999", "-99999999999",
		"123456789012", "4294967296", "1.5", "1e3", "٣"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		cases = append(cases, strconv.FormatInt(rng.Int64N(1<<34)-1<<33, 10))
	}
	for _, s := range cases {
		want := false
		if v, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(v, 10) == s &&
			v >= math.MinInt32 && v <= math.MaxInt32 {
			want = true
		}
		enc, got := intEncoding(nil, []byte(s))
		if got != want {
			t.Fatalf("intEncoding(%q) = %v, want %v", s, got, want)
		}
		if got {
			v, _ := strconv.ParseInt(s, 10, 64)
			ref, _ := appendIntEncoded(nil, v)
			if !bytes.Equal(enc, ref) {
				t.Fatalf("intEncoding(%q) = %x, want %x", s, enc, ref)
			}
		}
	}
}

// TestWriteStringAllocatesNothing: a snapshot writes millions of strings,
// and a garbage object per string made the collector run dozens of times
// per save (incompressible values, which do not compress, and strings that
// are not numbers, whose parse failed with an allocated error).
func TestWriteStringAllocatesNothing(t *testing.T) {
	w := NewBufferWriter(make([]byte, 0, 1<<20))
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 100)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	compressible := bytes.Repeat([]byte("abcd"), 25)
	values := [][]byte{random, compressible, []byte("key:000000001234"), []byte("12345"), []byte("-7"), []byte("not a number")}
	n := testing.AllocsPerRun(200, func() {
		w.Reset(w.Bytes()[:0])
		for _, v := range values {
			w.WriteString(v)
			w.WriteLen(uint64(len(v)))
		}
		w.WriteInt(1 << 40)
		w.WriteBinaryDouble(1.5)
		w.WriteDouble(2.25)
		w.WriteMillis(12345)
	})
	if n != 0 {
		t.Fatalf("%v allocations per round, want 0", n)
	}
	// What was written reads back.
	r := NewReader(w.Bytes())
	for _, v := range values {
		got, err := r.ReadString()
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("read %q, %v; want %q", got, err, v)
		}
		if l, _, err := r.ReadLen(); err != nil || l != uint64(len(v)) {
			t.Fatalf("read length %d, %v; want %d", l, err, len(v))
		}
	}
}
