package slab

import (
	"math/rand"
	"testing"
)

func TestClassSize(t *testing.T) {
	prev := 0
	for n := 1; n <= MaxSize; n++ {
		c := ClassSize(n)
		if c < n {
			t.Fatalf("ClassSize(%d)=%d too small", n, c)
		}
		if c < prev {
			t.Fatalf("ClassSize not monotonic at %d", n)
		}
		if n > 256 && float64(c-n)/float64(n) > 0.125 {
			t.Fatalf("ClassSize(%d)=%d wastes more than 1/8", n, c)
		}
		prev = c
	}
}

// TestAllocFreeModel writes a distinct pattern into every live object and
// checks none is overwritten by another allocation.
func TestAllocFreeModel(t *testing.T) {
	var a Arena
	defer a.Release()
	type obj struct {
		r Ref
		n int
		b byte
	}
	rng := rand.New(rand.NewSource(1))
	var live []obj
	for i := 0; i < 200000; i++ {
		if len(live) > 0 && rng.Intn(3) == 0 {
			j := rng.Intn(len(live))
			o := live[j]
			for _, x := range Bytes(o.r, o.n) {
				if x != o.b {
					t.Fatalf("object corrupted")
				}
			}
			a.Free(o.r, o.n)
			live[j] = live[len(live)-1]
			live = live[:len(live)-1]
			continue
		}
		n := 1 + rng.Intn(600)
		if rng.Intn(50) == 0 {
			n = 1 + rng.Intn(MaxSize)
		}
		o := obj{a.Alloc(n), n, byte(rng.Intn(256))}
		b := Bytes(o.r, n)
		for k := range b {
			b[k] = o.b
		}
		live = append(live, o)
	}
	var want int64
	for _, o := range live {
		want += int64(ClassSize(o.n))
		for _, x := range Bytes(o.r, o.n) {
			if x != o.b {
				t.Fatalf("object corrupted")
			}
		}
	}
	if a.InUse() != want {
		t.Fatalf("InUse=%d want %d", a.InUse(), want)
	}
}

func TestReleaseReusesPages(t *testing.T) {
	var a Arena
	for i := 0; i < 10000; i++ {
		a.Alloc(100)
	}
	pages := len(a.pages)
	a.Release()
	before := ReservedBytes()
	for i := 0; i < 10000; i++ {
		a.Alloc(100)
	}
	if len(a.pages) != pages || ReservedBytes() != before {
		t.Fatalf("pages not reused: %d vs %d, reserved %d vs %d", len(a.pages), pages, ReservedBytes(), before)
	}
	a.Release()
}

func BenchmarkAllocFree(b *testing.B) {
	var a Arena
	defer a.Release()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := a.Alloc(128)
		a.Free(r, 128)
	}
}
