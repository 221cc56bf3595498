package slab

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sync"
	"unsafe"
)

// Large objects: Arena.Alloc above MaxSize.
//
// The keyspace keeps a record's key in the record, and a key may be as
// long as the protocol admits (512 MB by default), so an Arena must serve
// any size. Such objects are rare (Redis's own tests use a few keys of
// 200 KB), but a dataset may hold many keys just over 8 KB, so their cost
// matters more than their speed. Two tiers, both off the Go heap so that
// INFO used_memory counts them exactly and a deleted key's bytes leave the
// count at once:
//
//   - Up to largeMax (1 MiB), objects come from size classes that go on
//     by eighths of a power of two (9 KiB, 10 KiB, …), cut from 4 MiB
//     chunks that each serve one class, process-wide, behind one mutex.
//     A freed object goes on its class's free list, its whole pages handed
//     back to the kernel if it is big enough to be worth a system call;
//     an arena's Release hands back the pages of all of its objects, a
//     few calls per run of neighbours. The chunks themselves are never
//     unmapped (their addresses stay reserved for the class): a mapping
//     per object, unmapped when freed, leaves a hole per freed object
//     between merged neighbours, and some 65 thousand holes reach
//     vm.max_map_count (65530 by default), after which both mmap and
//     munmap fail.
//   - Above largeMax, an object has a mapping of its own, page-rounded,
//     named by one chunk number (its bytes run on past the 4 MiB a chunk
//     number normally covers) and unmapped when freed; freed numbers are
//     reused. Each is over 1 MiB, so the mapping limit takes 64 GiB of
//     them (in holes and objects) and the chunk numbers 256 GiB.
//
// An Arena remembers its large objects (with their sizes) so that Release
// frees them; records of a few hundred bytes never pay for it.

const (
	// largeMax is the largest object of the large size classes.
	largeMax    = 1 << largeMaxLog
	largeMaxLog = 20
	// maxSizeLog is log2(MaxSize), where the large classes start.
	maxSizeLog = 13
	// numLarge is the number of large classes: eight per doubling.
	numLarge = 8 * (largeMaxLog - maxSizeLog)
	// releaseMin is the class size from which a freed object's pages go
	// back to the kernel at once rather than waiting for reuse: smaller
	// ones are not worth a system call (and its TLB shootdown) per DEL.
	releaseMin = 64 << 10
)

// ErrExhausted is what Alloc panics with (wrapped or as is) when the slab
// has used all 2^18 chunk numbers: a terabyte of objects.
var ErrExhausted = errors.New("slab: out of address space")

// largeClass returns the class index and size of an object of n bytes,
// MaxSize < n <= largeMax: the next multiple of an eighth of the power of
// two below n.
func largeClass(n int) (ci, size int) {
	e := bits.Len(uint(n-1)) - 1 // 1<<e < n <= 2<<e
	shift := e - 3
	k := (n - 1<<e + 1<<shift - 1) >> shift // 1..8 eighths
	return (e-maxSizeLog)*8 + k - 1, 1<<e + k<<shift
}

// largeSize is ClassSize for n > MaxSize.
func largeSize(n int) int {
	if n > largeMax {
		return roundPage(n)
	}
	_, size := largeClass(n)
	return size
}

// large holds the free objects of the large classes, for every arena.
var large struct {
	mu      sync.Mutex
	classes [numLarge]largeFree
}

type largeFree struct {
	free      []Ref // freed objects; kept off the objects, whose pages may be gone
	next, end Ref   // the rest of the class's newest chunk
}

func (a *Arena) allocLarge(n int) Ref {
	var r Ref
	if n > largeMax {
		r = allocHuge(n)
	} else {
		r = allocPooled(n)
	}
	if a.large == nil {
		a.large = make(map[Ref]int)
	}
	a.large[r] = n
	a.inUse += int64(largeSize(n))
	return r
}

func (a *Arena) freeLarge(r Ref, n int) {
	delete(a.large, r)
	a.inUse -= int64(largeSize(n))
	if n > largeMax {
		freeHuge(r, n)
		return
	}
	ci, size := largeClass(n)
	if size >= releaseMin {
		releaseSpan(r, size)
	}
	large.mu.Lock()
	c := &large.classes[ci]
	c.free = append(c.free, r)
	large.mu.Unlock()
}

func allocPooled(n int) Ref {
	ci, size := largeClass(n)
	large.mu.Lock()
	defer large.mu.Unlock()
	c := &large.classes[ci]
	if k := len(c.free); k > 0 {
		r := c.free[k-1]
		c.free = c.free[:k-1]
		return r
	}
	if c.next == 0 || c.next+Ref(size) > c.end {
		// The rest of the old chunk, less than one object, stays
		// untouched: address space, not memory.
		pool.mu.Lock()
		r, err := newChunk()
		pool.mu.Unlock()
		if err != nil {
			panic(err)
		}
		c.next, c.end = r, r+chunkSize
	}
	r := c.next
	c.next += Ref(size)
	return r
}

func allocHuge(n int) Ref {
	size := roundPage(n)
	p, err := osMap(size)
	if err != nil {
		panic(fmt.Errorf("slab: cannot map %d bytes: %w", size, err))
	}
	pool.mu.Lock()
	idx, err := takeIndex()
	if err == nil {
		chunks[idx].Store(p)
		pool.reserved += int64(size)
	}
	pool.mu.Unlock()
	if err != nil {
		_ = osUnmap(p, size)
		panic(err)
	}
	return Ref(idx) << chunkShift
}

func freeHuge(r Ref, n int) {
	size := roundPage(n)
	idx := int(r >> chunkShift)
	p := chunks[idx].Load()
	chunks[idx].Store(nil)
	unmapped := osUnmap(p, size) == nil
	if !unmapped {
		// Splitting a merged mapping failed (vm.max_map_count): the
		// memory goes back all the same, only the addresses stay taken.
		osRelease(unsafe.Pointer(p), size)
	}
	pool.mu.Lock()
	pool.freeIdx = append(pool.freeIdx, uint32(idx))
	if unmapped {
		pool.reserved -= int64(size)
	}
	pool.mu.Unlock()
}

// releaseSpan hands the whole pages of the size bytes at r (within one
// chunk) back to the kernel; they read back as zeroes.
func releaseSpan(r Ref, size int) {
	off := int(r & (chunkSize - 1))
	start := (off + pageBytes - 1) &^ (pageBytes - 1)
	end := (off + size) &^ (pageBytes - 1)
	if end > start {
		base := unsafe.Pointer(chunks[r>>chunkShift].Load())
		osRelease(unsafe.Add(base, start), end-start)
	}
}

// releaseLarge frees the large objects of an arena being released: the
// huge ones one by one, the pooled ones class by class with their pages
// handed back in runs of neighbours, so that a FLUSHALL of many big keys
// makes a few system calls per chunk rather than one per key.
func releaseLarge(objs map[Ref]int) {
	var byClass [numLarge][]Ref
	for r, n := range objs {
		if n > largeMax {
			freeHuge(r, n)
			continue
		}
		ci, _ := largeClass(n)
		byClass[ci] = append(byClass[ci], r)
	}
	for ci, refs := range byClass {
		if len(refs) == 0 {
			continue
		}
		size := Ref(classSizeOf(ci))
		slices.Sort(refs)
		start, end := refs[0], refs[0]+size
		for _, r := range refs[1:] {
			if r == end && r>>chunkShift == start>>chunkShift {
				end += size
				continue
			}
			releaseSpan(start, int(end-start))
			start, end = r, r+size
		}
		releaseSpan(start, int(end-start))
	}
	large.mu.Lock()
	for ci, refs := range byClass {
		large.classes[ci].free = append(large.classes[ci].free, refs...)
	}
	large.mu.Unlock()
}

// classSizeOf returns the size of large class ci.
func classSizeOf(ci int) int {
	e := ci/8 + maxSizeLog
	return 1<<e + (ci%8+1)<<(e-3)
}
