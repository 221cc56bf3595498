package hll

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// Values captured from redis-server 7.0 (same format as 7.2).
var (
	goldenABC = []byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80`\xf3\x80P\xb1\x84K\xfb\x80BZ")
	goldenNew = []byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff")
)

func addAll(t *testing.T, b []byte, max int, elems ...string) []byte {
	t.Helper()
	for _, e := range elems {
		var r int
		b, r = Add(b, []byte(e), max)
		if r < 0 {
			t.Fatalf("Add(%q) reported corruption", e)
		}
	}
	return b
}

func TestGoldenRedisBytes(t *testing.T) {
	if got := New(); !bytes.Equal(got, goldenNew) {
		t.Fatalf("New() = %q, want %q", got, goldenNew)
	}
	b := addAll(t, New(), 3000, "a", "b", "c")
	if !bytes.Equal(b, goldenABC) {
		t.Fatalf("after a b c: %q, want %q", b, goldenABC)
	}
	if c, inv := Count(b); c != 3 || inv {
		t.Fatalf("Count = %d,%v", c, inv)
	}
	b = addAll(t, New(), 3000, "", "foo", "bar", "12345")
	if got, want := Decode(b), "Z:5938 v:2,1 Z:1409 v:5,1 Z:2658 v:1,1 Z:4696 v:1,1 Z:1679"; got != want {
		t.Fatalf("Decode = %q, want %q", got, want)
	}
	if c, _ := Count(b); c != 4 {
		t.Fatalf("Count = %d, want 4", c)
	}
}

func TestMurmurTail(t *testing.T) {
	// Every tail length goes through the switch; the hash of a prefix must
	// differ from the full input's, and hashing must be deterministic.
	in := []byte("0123456789abcdefXYZ")
	seen := map[uint64]bool{}
	for n := 0; n <= len(in); n++ {
		h := MurmurHash64A(in[:n], Seed)
		if seen[h] {
			t.Fatalf("collision at length %d", n)
		}
		seen[h] = true
		if h != MurmurHash64A(append([]byte(nil), in[:n]...), Seed) {
			t.Fatal("not deterministic")
		}
	}
}

func TestDenseRegisters(t *testing.T) {
	regs := make([]byte, DenseSize-HeaderSize)
	rnd := rand.New(rand.NewPCG(1, 2))
	var want [Registers]uint8
	for round := 0; round < 5; round++ {
		for i := range want {
			want[i] = uint8(rnd.IntN(64))
			DenseSet(regs, i, want[i])
		}
		for i := range want {
			if got := DenseGet(regs, i); got != want[i] {
				t.Fatalf("register %d = %d, want %d", i, got, want[i])
			}
		}
	}
}

// TestSparseMatchesDense adds the same random elements to a sparse and a
// dense sketch under several size limits: the registers and estimates must
// agree, the sparse opcodes must cover every register, and promotion must
// happen exactly when the limit is passed.
func TestSparseMatchesDense(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, max := range []int{0, 30, 100, 500, 3000, 1 << 20} {
		for trial := 0; trial < 20; trial++ {
			sp := New()
			de, _ := ToDense(New())
			n := rnd.IntN(3000)
			for i := 0; i < n; i++ {
				e := []byte(strconv.FormatUint(rnd.Uint64(), 36))
				var r1, r2 int
				sp, r1 = Add(sp, e, max)
				de, r2 = Add(de, e, max)
				if r1 != r2 {
					t.Fatalf("max %d: sparse changed=%d dense changed=%d", max, r1, r2)
				}
				// Splits that grow a value past the limit promote it instead.
				if IsSparse(sp) && len(sp) > len(goldenNew) && len(sp) > max {
					t.Fatalf("max %d: sparse value of %d bytes", max, len(sp))
				}
			}
			d2, ok := ToDense(sp)
			if !ok {
				t.Fatalf("max %d: sparse value corrupt: %s", max, Decode(sp))
			}
			if !bytes.Equal(d2[HeaderSize:], de[HeaderSize:]) {
				t.Fatalf("max %d: registers differ", max)
			}
			c1, inv := Count(sp)
			c2, _ := Count(de)
			if inv || c1 != c2 {
				t.Fatalf("max %d: counts %d (invalid %v) vs %d", max, c1, inv, c2)
			}
			if IsSparse(sp) {
				checkCanonical(t, sp)
			}
		}
	}
}

// checkCanonical verifies the invariants Redis's sparse writer keeps: the
// opcodes cover exactly the registers and no VAL run exceeds its limits.
func checkCanonical(t *testing.T, b []byte) {
	t.Helper()
	idx := 0
	for p := HeaderSize; p < len(b); {
		op := b[p]
		switch {
		case isZero(op):
			idx += zeroLen(op)
			p++
		case isXZero(op):
			idx += xzeroLen(b, p)
			p += 2
		default:
			if valValue(op) > sparseValMaxValue {
				t.Fatal("VAL too large")
			}
			idx += valLen(op)
			p++
		}
	}
	if idx != Registers {
		t.Fatalf("opcodes cover %d registers", idx)
	}
}

func TestPromotionThreshold(t *testing.T) {
	b := addAll(t, New(), 3000, "a", "b", "c", "d", "e", "d", "g", "h", "i", "j", "k")
	if !IsSparse(b) {
		t.Fatal("should be sparse")
	}
	b = addAll(t, b, 30, "new_element")
	if IsSparse(b) {
		t.Fatal("should have been promoted at limit 30")
	}
	if len(b) != DenseSize {
		t.Fatalf("dense length %d", len(b))
	}
	// A register value above 32 cannot be sparse.
	sp := New()
	sp, r := Set(sp, 7, 33, 3000)
	if r != 1 || IsSparse(sp) || DenseGet(sp[HeaderSize:], 7) != 33 {
		t.Fatal("value 33 should promote")
	}
}

func TestCachedCardinality(t *testing.T) {
	b := New()
	if c, ok := CachedCard(b); !ok || c != 0 {
		t.Fatal("new value has a valid zero cache")
	}
	InvalidateCache(b)
	if _, ok := CachedCard(b); ok {
		t.Fatal("cache should be stale")
	}
	SetCachedCard(b, 0x0102030405060708)
	if c, ok := CachedCard(b); !ok || c != 0x0102030405060708 {
		t.Fatalf("cache = %x %v", c, ok)
	}
	if b[8] != 0x08 || b[15] != 0x01 {
		t.Fatal("cache must be little endian")
	}
}

func TestValid(t *testing.T) {
	d, _ := ToDense(New())
	cases := []struct {
		b  []byte
		ok bool
	}{
		{New(), true},
		{d, true},
		{d[:len(d)-1], false},
		{[]byte("HYLL"), false},
		{append([]byte("HYLx"), New()[4:]...), false},
		{append(append([]byte("HYLL"), 2), New()[5:]...), false},
		{append(append([]byte("HYLL"), Dense), New()[5:]...), false},
	}
	for i, c := range cases {
		if Valid(c.b) != c.ok {
			t.Errorf("case %d: Valid = %v", i, !c.ok)
		}
	}
}

func TestCorruptSparseDetected(t *testing.T) {
	b := addAll(t, New(), 3000, "a", "b", "c")
	tail := append(append([]byte(nil), b...), "hello"...)
	if _, inv := Count(tail); !inv {
		t.Fatal("trailing garbage not detected")
	}
	var max [Registers]uint8
	if Merge(&max, tail) {
		t.Fatal("Merge accepted a corrupt value")
	}
	if _, ok := ToDense(tail); ok {
		t.Fatal("ToDense accepted a corrupt value")
	}
}

// TestFuzzCorruptionNeverPanics corrupts random bytes of sparse and dense
// values and runs every operation on them.
func TestFuzzCorruptionNeverPanics(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	rounds := 2000
	if testing.Short() {
		rounds = 300
	}
	for j := 0; j < rounds; j++ {
		b := New()
		n := rnd.IntN(3000)
		for i := 0; i < n; i++ {
			b, _ = Add(b, []byte(fmt.Sprint(rnd.Float64())), 3000)
		}
		for i := 0; i < 5; i++ {
			b[rnd.IntN(len(b))] = byte(rnd.IntN(256))
			if rnd.IntN(2) == 0 {
				break
			}
		}
		if rnd.IntN(4) == 0 {
			b = b[:HeaderSize+rnd.IntN(len(b)-HeaderSize+1)]
		}
		if !Valid(b) {
			continue
		}
		Count(b)
		var max [Registers]uint8
		Merge(&max, b)
		ToDense(b)
		Decode(b)
		c := append([]byte(nil), b...)
		for i := 0; i < 20; i++ {
			if c, _ = Add(c, []byte(fmt.Sprint(i, j)), 3000); !Valid(c) {
				break
			}
		}
	}
}

func TestEstimatorError(t *testing.T) {
	b := New()
	for n := 1; n <= 200000; n++ {
		b, _ = Add(b, []byte("elem:"+strconv.Itoa(n)), 3000)
		if n == 10 || n == 1000 || n == 50000 || n == 200000 {
			c, _ := Count(b)
			if err := math.Abs(float64(c)-float64(n)) / float64(n); err > 0.05 {
				t.Fatalf("n=%d estimate %d (error %.3f)", n, c, err)
			}
		}
	}
	var regs [Registers]uint8
	if CountRegisters(&regs) != 0 {
		t.Fatal("empty registers count 0")
	}
	Merge(&regs, b)
	c1, _ := Count(b)
	if c2 := CountRegisters(&regs); c1 != c2 {
		t.Fatalf("raw count %d != %d", c2, c1)
	}
}

func TestMergeUnion(t *testing.T) {
	a := addAll(t, New(), 3000, "a", "b", "c")
	b := addAll(t, New(), 3000, "b", "c", "d")
	c := addAll(t, New(), 3000, "c", "d", "e")
	c, _ = ToDense(c)
	var max [Registers]uint8
	for _, v := range [][]byte{a, b, c} {
		if !Merge(&max, v) {
			t.Fatal("merge failed")
		}
	}
	if n := CountRegisters(&max); n != 5 {
		t.Fatalf("union = %d", n)
	}
}

func TestSelfTest(t *testing.T) {
	if testing.Short() {
		t.Skip("adds 10,000,000 elements")
	}
	if err := SelfTest(3000, rand.New(rand.NewPCG(7, 8))); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkAddDense(b *testing.B) {
	d, _ := ToDense(New())
	e := []byte("element:000000")
	for i := 0; i < b.N; i++ {
		e[8] = byte(i)
		e[9] = byte(i >> 8)
		d, _ = Add(d, e, 3000)
	}
}

func BenchmarkCountDense(b *testing.B) {
	d, _ := ToDense(New())
	for i := 0; i < 100000; i++ {
		d, _ = Add(d, []byte(strconv.Itoa(i)), 3000)
	}
	for i := 0; i < b.N; i++ {
		Count(d)
	}
}
