package slab

import (
	"math/rand"
	"runtime"
	"sync"
	"testing"
	"unsafe"
)

func TestLargeClassSize(t *testing.T) {
	prev, prevCI := ClassSize(MaxSize), -1
	for n := MaxSize + 1; n <= largeMax; n++ {
		c := ClassSize(n)
		ci, size := largeClass(n)
		if size != c || classSizeOf(ci) != c {
			t.Fatalf("ClassSize(%d)=%d, largeClass=%d,%d, classSizeOf=%d", n, c, ci, size, classSizeOf(ci))
		}
		if c < n || c < prev || ci < prevCI || ci >= numLarge {
			t.Fatalf("ClassSize(%d)=%d (class %d) after %d (class %d)", n, c, ci, prev, prevCI)
		}
		if float64(c-n)/float64(n) > 0.125 {
			t.Fatalf("ClassSize(%d)=%d wastes more than 1/8", n, c)
		}
		prev, prevCI = c, ci
	}
	if prevCI != numLarge-1 || prev != largeMax {
		t.Fatalf("last large class %d of size %d", prevCI, prev)
	}
	for _, n := range []int{largeMax + 1, 5 << 20, 20<<20 + 7} {
		if c := ClassSize(n); c != roundPage(n) {
			t.Fatalf("ClassSize(%d)=%d, want the page-rounded size", n, c)
		}
	}
}

// fill writes a pattern into the first, last and some middle bytes of
// an object: enough to catch overlaps without touching every page of a
// 20 MB one.
func fill(r Ref, n int, b byte) {
	s := Bytes(r, n)
	for i := 0; i < n; i += 4093 {
		s[i] = b
	}
	s[n-1] = b
}

func check(t *testing.T, r Ref, n int, b byte) {
	t.Helper()
	s := Bytes(r, n)
	for i := 0; i < n; i += 4093 {
		if s[i] != b {
			t.Fatalf("object of %d bytes corrupted at %d", n, i)
		}
	}
	if s[n-1] != b {
		t.Fatalf("object of %d bytes corrupted at its end", n)
	}
}

// TestLargeAllocFreeModel mixes small, large and huge objects in one
// arena and checks none overlaps another and InUse follows them.
func TestLargeAllocFreeModel(t *testing.T) {
	var a Arena
	defer a.Release()
	type obj struct {
		r Ref
		n int
		b byte
	}
	rng := rand.New(rand.NewSource(3))
	var live []obj
	var want int64
	for i := 0; i < 6000; i++ {
		if len(live) > 0 && rng.Intn(3) == 0 {
			j := rng.Intn(len(live))
			o := live[j]
			check(t, o.r, o.n, o.b)
			a.Free(o.r, o.n)
			want -= int64(ClassSize(o.n))
			live[j] = live[len(live)-1]
			live = live[:len(live)-1]
			continue
		}
		var n int
		switch k := rng.Intn(100); {
		case k < 40:
			n = 1 + rng.Intn(MaxSize)
		case k < 80:
			n = MaxSize + 1 + rng.Intn(64<<10)
		case k < 97:
			n = MaxSize + 1 + rng.Intn(largeMax-MaxSize)
		default:
			n = largeMax + 1 + rng.Intn(9<<20)
		}
		o := obj{a.Alloc(n), n, byte(1 + rng.Intn(255))}
		fill(o.r, o.n, o.b)
		want += int64(ClassSize(n))
		live = append(live, o)
	}
	for _, o := range live {
		check(t, o.r, o.n, o.b)
	}
	if a.InUse() != want {
		t.Fatalf("InUse=%d want %d", a.InUse(), want)
	}
}

// A huge object is named by one chunk number but its bytes run on past
// the 4 MiB the number normally covers.
func TestHugeObjectSpansChunks(t *testing.T) {
	var a Arena
	n := 5<<20 + 3
	r := a.Alloc(n)
	b := Bytes(r, n)
	b[0], b[chunkSize], b[n-1] = 1, 2, 3
	p := Pointer(r)
	if *(*byte)(unsafe.Add(p, chunkSize)) != 2 || *(*byte)(unsafe.Add(p, n-1)) != 3 {
		t.Fatal("huge object not contiguous")
	}
	if a.InUse() != int64(roundPage(n)) || a.Footprint() != int64(roundPage(n)) {
		t.Fatalf("InUse %d, Footprint %d for a %d-byte object", a.InUse(), a.Footprint(), n)
	}
	a.Release()
	if a.InUse() != 0 || len(a.large) != 0 {
		t.Fatal("Release kept a huge object")
	}
}

// Freed huge objects give their mapping and their chunk number back, so
// churn neither grows the reservation nor uses up the 2^18 numbers.
func TestHugeFreeReusesChunkNumbers(t *testing.T) {
	var a Arena
	r := a.Alloc(2 << 20)
	a.Free(r, 2<<20)
	pool.mu.Lock()
	n0 := pool.nchunks
	pool.mu.Unlock()
	reserved := ReservedBytes()
	type obj struct {
		r Ref
		n int
	}
	var live []obj
	for i := 0; i < 400; i++ {
		n := largeMax + 1 + i%3*(1<<20)
		r := a.Alloc(n)
		fill(r, n, 9)
		live = append(live, obj{r, n})
		if len(live) == 3 {
			a.Free(live[0].r, live[0].n)
			live = live[1:]
		}
	}
	a.Release()
	pool.mu.Lock()
	n1 := pool.nchunks
	pool.mu.Unlock()
	if n1 > n0+3 {
		t.Fatalf("huge objects used %d new chunk numbers", n1-n0)
	}
	if got := ReservedBytes(); got != reserved {
		t.Fatalf("ReservedBytes %d after freeing every huge object, was %d", got, reserved)
	}
}

// Release hands pooled large objects back for reuse: allocating them
// again reserves nothing new.
func TestLargeReleaseReuses(t *testing.T) {
	var a Arena
	alloc := func() {
		for i := 0; i < 3000; i++ {
			n := 9000 + i%7*5000
			fill(a.Alloc(n), n, 7)
		}
	}
	alloc()
	a.Release()
	reserved := ReservedBytes()
	alloc()
	if got := ReservedBytes(); got != reserved {
		t.Fatalf("reallocating released large objects reserved %d more bytes", got-reserved)
	}
	a.Release()
	if a.InUse() != 0 {
		t.Fatalf("InUse %d after Release", a.InUse())
	}
}

// A freed object of releaseMin bytes or more gives its pages back at once.
func TestLargeFreeReturnsPages(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads back MADV_DONTNEED zeroes")
	}
	var a Arena
	defer a.Release()
	n := releaseMin + 1000
	r := a.Alloc(n)
	b := Bytes(r, n)
	for i := range b {
		b[i] = 0xff
	}
	a.Free(r, n)
	off := int(r & (chunkSize - 1))
	mid := (off+pageBytes-1)&^(pageBytes-1) - off // first whole page
	if b[mid] != 0 || b[mid+pageBytes] != 0 {
		t.Fatal("freed large object kept its pages")
	}
}

// Arenas of different shards allocate large objects at once.
func TestLargeConcurrentArenas(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			var a Arena
			defer a.Release()
			rng := rand.New(rand.NewSource(seed))
			type obj struct {
				r Ref
				n int
			}
			var live []obj
			for i := 0; i < 2000; i++ {
				if len(live) > 0 && rng.Intn(2) == 0 {
					j := rng.Intn(len(live))
					check(t, live[j].r, live[j].n, byte(seed+1))
					a.Free(live[j].r, live[j].n)
					live[j] = live[len(live)-1]
					live = live[:len(live)-1]
					continue
				}
				n := MaxSize + 1 + rng.Intn(200<<10)
				if rng.Intn(50) == 0 {
					n = largeMax + 1 + rng.Intn(2<<20)
				}
				r := a.Alloc(n)
				fill(r, n, byte(seed+1))
				live = append(live, obj{r, n})
			}
		}(int64(g))
	}
	wg.Wait()
}
