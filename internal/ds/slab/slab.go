// Package slab is an off-heap memory allocator for keyspace records.
//
// Why it exists: Go's garbage collector has to scan every pointer it can reach
// and, with the default GOGC, lets the heap grow to twice its live size before
// collecting. A keyspace of millions of small records kept as Go objects
// therefore costs about twice its live size in resident memory and a full
// scan of every record on each collection (the DESIGN-NOTES measured 548 B of
// RSS per 100-byte key for map[string]any). Records stored here live in
// anonymous mmap'd chunks the collector never sees: they contain no Go
// pointers, and references to them are plain integers (Ref), so an index made
// of Refs is itself pointer-free and is not scanned either.
//
// Layout: memory is reserved from the OS in 4 MiB chunks, cut into 64 KiB
// pages. An Arena (one per keyspace table, so one per shard and database)
// takes pages from the process-wide pool and carves each page into objects of
// one size class; freed objects go on a per-class intrusive free list (the
// first 8 bytes of a free object hold the next free Ref). Dropping an arena
// (FLUSHDB, FLUSHALL) hands all its pages back to the pool at once and tells
// the kernel it may reclaim them (MADV_DONTNEED), so memory is really
// returned, which jemalloc-based Redis also does.
//
// Size classes step by 16 bytes up to 256 and by an eighth of the power of
// two above that, up to MaxSize. Larger values belong on the Go heap (a single
// large pointer-free []byte costs the collector nothing to scan), but a record
// whose key alone passes MaxSize cannot be split, so an Arena also serves
// objects of any size (large.go).
//
// An Arena is not safe for concurrent use: its owner (a keyspace shard)
// serialises access with the shard lock. The page pool is shared and has its
// own mutex; it is only touched when an arena needs a fresh page.
package slab

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Ref names an object in the slab: the chunk number in the high bits and the
// byte offset within the chunk in the low chunkShift bits. The zero Ref is nil.
type Ref uint64

const (
	chunkShift = 22
	chunkSize  = 1 << chunkShift // 4 MiB reserved from the OS at a time
	pageShift  = 16
	pageSize   = 1 << pageShift // 64 KiB: the unit arenas take from the pool
	maxChunks  = 1 << 18        // refs fit in 40 bits: 1 TiB of slab memory

	// MaxSize is the largest object of the size classes carved from
	// pages, and the largest SharedAlloc serves. Arena.Alloc serves
	// larger objects too, at a higher cost (large.go).
	MaxSize = 8192
	// RefBits is how many low bits of a uint64 a Ref may occupy.
	RefBits = chunkShift + 18
)

// chunks maps a chunk number to its base address. Entries are written once
// (under pool.mu) and read without locks by every arena, hence the atomics.
var chunks [maxChunks]atomic.Pointer[byte]

// pool hands out pages to arenas and takes them back.
var pool struct {
	mu        sync.Mutex
	nchunks   int      // chunk numbers used so far; chunk 0 is never used so Ref 0 stays nil
	freeIdx   []uint32 // chunk numbers given back by freed huge objects (large.go)
	freePages []Ref    // pages returned by dropped arenas
	next      Ref      // next never-used page in the newest chunk
	end       Ref
	reserved  int64 // bytes reserved from the OS
}

// takeIndex returns an unused chunk number; pool.mu is held. Numbers
// freed by huge objects are reused first: each takes one, and the 2^18 of
// them would otherwise run out long before the memory does.
func takeIndex() (int, error) {
	if n := len(pool.freeIdx); n > 0 {
		idx := pool.freeIdx[n-1]
		pool.freeIdx = pool.freeIdx[:n-1]
		return int(idx), nil
	}
	if pool.nchunks == 0 {
		pool.nchunks = 1
	}
	if pool.nchunks >= maxChunks {
		return 0, ErrExhausted
	}
	pool.nchunks++
	return pool.nchunks - 1, nil
}

// newChunk reserves a chunk from the OS and returns its first Ref; pool.mu
// is held.
func newChunk() (Ref, error) {
	idx, err := takeIndex()
	if err != nil {
		return 0, err
	}
	p, err := osMap(chunkSize)
	if err != nil {
		pool.freeIdx = append(pool.freeIdx, uint32(idx))
		return 0, fmt.Errorf("slab: cannot map a chunk: %w", err)
	}
	chunks[idx].Store(p)
	pool.reserved += chunkSize
	return Ref(idx) << chunkShift, nil
}

// ReservedBytes reports how much memory the slab has reserved from the OS.
func ReservedBytes() int64 {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	return pool.reserved
}

func getPage() Ref {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if n := len(pool.freePages); n > 0 {
		p := pool.freePages[n-1]
		pool.freePages = pool.freePages[:n-1]
		return p
	}
	if pool.next == pool.end {
		r, err := newChunk()
		if err != nil {
			panic(err)
		}
		pool.next, pool.end = r, r+chunkSize
	}
	p := pool.next
	pool.next += pageSize
	return p
}

func putPages(pages []Ref) {
	for _, p := range pages {
		osRelease(addr(p), pageSize)
	}
	pool.mu.Lock()
	pool.freePages = append(pool.freePages, pages...)
	pool.mu.Unlock()
}

func addr(r Ref) unsafe.Pointer {
	base := chunks[r>>chunkShift].Load()
	return unsafe.Add(unsafe.Pointer(base), int(r&(chunkSize-1)))
}

// Bytes returns the n bytes at r. The slice aliases slab memory: it is valid
// until the object is freed and must not be retained past the owner's lock.
func Bytes(r Ref, n int) []byte {
	return unsafe.Slice((*byte)(addr(r)), n)
}

// Pointer returns the address of the object at r, for fixed-layout headers.
func Pointer(r Ref) unsafe.Pointer { return addr(r) }

// size classes
var (
	classSize  []uint32
	classOfLen [MaxSize/16 + 1]uint8 // by (n+15)/16
)

func init() {
	for s := uint32(16); s <= 256; s += 16 {
		classSize = append(classSize, s)
	}
	for base := uint32(256); base < MaxSize; base *= 2 {
		step := base / 8
		for s := base + step; s <= base*2; s += step {
			classSize = append(classSize, s)
		}
	}
	c := 0
	for i := range classOfLen {
		n := uint32(i * 16)
		for classSize[c] < n {
			c++
		}
		classOfLen[i] = uint8(c)
	}
}

// ClassSize returns the number of bytes an object of n bytes really occupies.
func ClassSize(n int) int {
	if uint(n) > MaxSize {
		return largeSize(n)
	}
	return int(classSize[classOfLen[(uint(n)+15)>>4]])
}

type class struct {
	free Ref // head of the intrusive free list
	next Ref // bump pointer in the current page
	end  Ref
}

// Arena allocates objects. The zero value is ready.
type Arena struct {
	classes []class
	pages   []Ref
	large   map[Ref]int // objects above MaxSize, with their sizes as given to Alloc
	inUse   int64       // bytes handed out (class sizes), for INFO memory
}

// Alloc returns a Ref to n bytes (n >= 1) of uninitialised memory.
// Objects above MaxSize are contiguous but may span chunks, so their
// interior must be addressed from Pointer(r) (or Bytes(r, n)), not by
// adding to r. If the memory or the Refs run out, Alloc panics with an
// error wrapping ErrExhausted (or the OS's error) before changing anything.
func (a *Arena) Alloc(n int) Ref {
	// Unsigned, the test proves the classOfLen index in bounds: it takes
	// the place of the bounds check, and small objects pay nothing for it.
	if uint(n) > MaxSize {
		return a.allocLarge(n)
	}
	if a.classes == nil {
		a.classes = make([]class, len(classSize))
	}
	ci := classOfLen[(uint(n)+15)>>4]
	c := &a.classes[ci]
	size := Ref(classSize[ci])
	if r := c.free; r != 0 {
		c.free = *(*Ref)(addr(r))
		a.inUse += int64(size)
		return r
	}
	if c.next+size > c.end || c.next == 0 {
		p := getPage()
		a.pages = append(a.pages, p)
		c.next, c.end = p, p+pageSize
	}
	a.inUse += int64(size)
	r := c.next
	c.next += size
	return r
}

// Free returns the n-byte object at r (n as given to Alloc) to the arena.
func (a *Arena) Free(r Ref, n int) {
	if uint(n) > MaxSize {
		a.freeLarge(r, n)
		return
	}
	ci := classOfLen[(uint(n)+15)>>4]
	c := &a.classes[ci]
	*(*Ref)(addr(r)) = c.free
	c.free = r
	a.inUse -= int64(classSize[ci])
}

// InUse reports the bytes currently allocated from this arena.
func (a *Arena) InUse() int64 { return a.inUse }

// Footprint reports the bytes of pages and large objects this arena holds.
func (a *Arena) Footprint() int64 {
	n := int64(len(a.pages)) * pageSize
	for _, size := range a.large {
		n += int64(ClassSize(size))
	}
	return n
}

// Release gives every page and large object back; every Ref from this
// arena becomes invalid. The arena is empty and reusable afterwards.
func (a *Arena) Release() {
	if len(a.pages) > 0 {
		putPages(a.pages)
	}
	if len(a.large) > 0 {
		releaseLarge(a.large)
	}
	*a = Arena{}
}
