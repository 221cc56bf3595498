package slab

import (
	"math/rand"
	"sync"
	"testing"
)

// TestSharedAllocFree checks that concurrent users of the shared arena
// never receive overlapping objects and that the in-use count returns to
// where it started once everything is freed.
func TestSharedAllocFree(t *testing.T) {
	before := SharedInUse()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			type obj struct {
				r Ref
				n int
				b byte
			}
			var live []obj
			for i := 0; i < 20000; i++ {
				if len(live) > 0 && rng.Intn(2) == 0 {
					j := rng.Intn(len(live))
					o := live[j]
					for _, x := range Bytes(o.r, o.n) {
						if x != o.b {
							t.Errorf("shared object corrupted")
							return
						}
					}
					SharedFree(o.r, o.n)
					live[j] = live[len(live)-1]
					live = live[:len(live)-1]
					continue
				}
				n := 1 + rng.Intn(MaxSize)
				o := obj{SharedAlloc(n), n, byte(rng.Intn(256))}
				b := Bytes(o.r, n)
				for k := range b {
					b[k] = o.b
				}
				live = append(live, o)
			}
			for _, o := range live {
				SharedFree(o.r, o.n)
			}
		}(int64(g))
	}
	wg.Wait()
	if got := SharedInUse(); got != before {
		t.Fatalf("SharedInUse %d after freeing everything, was %d", got, before)
	}
}

func TestSharedInUseCountsClassSize(t *testing.T) {
	before := SharedInUse()
	r := SharedAlloc(4000)
	if got := SharedInUse() - before; got != int64(ClassSize(4000)) {
		t.Fatalf("counted %d, want %d", got, ClassSize(4000))
	}
	SharedFree(r, 4000)
	if SharedInUse() != before {
		t.Fatal("free not counted")
	}
}

func TestAllocLarge(t *testing.T) {
	if AllocLarge(0) != nil {
		t.Fatal("AllocLarge(0) not nil")
	}
	FreeLarge(nil)
	before := SharedInUse()
	for _, n := range []int{1, pageBytes - 1, pageBytes, pageBytes + 1, 1 << 20, 3<<20 + 5} {
		b := AllocLarge(n)
		if len(b) != n || cap(b)%pageBytes != 0 || cap(b) < n {
			t.Fatalf("AllocLarge(%d): len %d cap %d", n, len(b), cap(b))
		}
		if got := SharedInUse() - before; got != int64(cap(b)) {
			t.Fatalf("AllocLarge(%d) counted %d, want %d", n, got, cap(b))
		}
		for i, x := range b {
			if x != 0 {
				t.Fatalf("AllocLarge(%d): byte %d not zero", n, i)
			}
		}
		for i := range b {
			b[i] = byte(i)
		}
		FreeLarge(b[:0])
		if SharedInUse() != before {
			t.Fatalf("FreeLarge(%d) left %d", n, SharedInUse()-before)
		}
	}
	// Freed memory can be mapped and handed out again, zeroed.
	for i := 0; i < 100; i++ {
		b := AllocLarge(1 << 16)
		if b[0] != 0 || b[len(b)-1] != 0 {
			t.Fatal("reused memory not zeroed")
		}
		b[0], b[len(b)-1] = 1, 1
		FreeLarge(b)
	}
}

// TestSharedBlocksReturnPages checks that page-sized objects give their
// pages back to the pool once all of a page's objects are free, so a
// deleted big collection does not stay resident.
func TestSharedBlocksReturnPages(t *testing.T) {
	for _, size := range []int{4096, 8192, 4000} {
		p := blockPoolFor(ClassSize(size))
		before := SharedInUse()
		refs := make([]Ref, 1000)
		for i := range refs {
			refs[i] = SharedAlloc(size)
			b := Bytes(refs[i], size)
			for k := range b {
				b[k] = byte(i)
			}
		}
		for i, r := range refs {
			for _, x := range Bytes(r, size) {
				if x != byte(i) {
					t.Fatalf("size %d: object %d overwritten", size, i)
				}
			}
		}
		shared.mu.Lock()
		held := len(p.pages)
		shared.mu.Unlock()
		if want := 1000 / p.perPage(); held < want {
			t.Fatalf("size %d: %d pages for 1000 objects", size, held)
		}
		pool.mu.Lock()
		freeBefore := len(pool.freePages)
		pool.mu.Unlock()
		// Free in a scattered order: pages empty out only at the end.
		for i := 0; i < len(refs); i += 2 {
			SharedFree(refs[i], size)
		}
		for i := 1; i < len(refs); i += 2 {
			SharedFree(refs[i], size)
		}
		if SharedInUse() != before {
			t.Fatalf("size %d: SharedInUse %d, was %d", size, SharedInUse(), before)
		}
		shared.mu.Lock()
		kept, partial := len(p.pages), len(p.partial)
		shared.mu.Unlock()
		pool.mu.Lock()
		returned := len(pool.freePages) - freeBefore
		pool.mu.Unlock()
		if kept > keepIdle || partial != 0 || returned < held-keepIdle {
			t.Fatalf("size %d: pool keeps %d pages (%d partial), returned %d of %d", size, kept, partial, returned, held)
		}
		// The returned pages are reused rather than new memory reserved.
		reserved := ReservedBytes()
		for i := range refs {
			refs[i] = SharedAlloc(size)
		}
		if ReservedBytes() != reserved {
			t.Fatalf("size %d: reserved more memory instead of reusing pages", size)
		}
		for _, r := range refs {
			SharedFree(r, size)
		}
	}
}

func TestSharedBlocksDoubleFreePanics(t *testing.T) {
	r := SharedAlloc(4096)
	SharedFree(r, 4096)
	defer func() {
		if recover() == nil {
			t.Fatal("double free not detected")
		}
	}()
	SharedFree(r, 4096)
}
