package slab

import (
	"math/bits"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Collection internals (sorted-set leaves, sealed stream nodes) are small
// fixed-size blocks that many keys allocate and free concurrently from
// different shards, so they come from one process-wide arena behind a
// mutex rather than from the shard arenas: a block is taken once per many
// elements, which keeps the lock cold. Large pointer-free arrays (hash
// indexes of big collections) are mapped straight from the OS so that
// freeing one really returns its memory, which a 64 KiB-page arena could
// not do for arrays of many megabytes.
//
// Objects of the page-sized classes (4 KiB and 8 KiB: sorted-set leaves,
// big stream nodes) do not go through the Arena: an Arena keeps its free
// list inside the free objects, so it can never hand a page back, and a
// deleted ten-million-member sorted set would keep its quarter gigabyte
// resident for ever. Instead their free slots are tracked per 64 KiB page
// (a bitmap each), and a page whose objects are all free goes back to the
// page pool, which tells the kernel it may reclaim it and lets any arena
// reuse it. A few empty pages are kept to absorb churn at a boundary.
//
// All of it is counted in one atomic so INFO and maxmemory can read the
// total without taking the arena lock.

var shared struct {
	mu     sync.Mutex
	a      Arena
	blocks [2]blockPool // 4 KiB and 8 KiB objects
}

// keepIdle is how many empty pages a blockPool holds before returning them.
const keepIdle = 4

// blockPool serves objects of one size that divides pageSize.
type blockPool struct {
	size    Ref
	pages   map[Ref]*blockPage // by page Ref, for every page the pool holds
	partial []*blockPage       // pages with a free object
	idle    []*blockPage       // pages with every object free
}

type blockPage struct {
	page Ref
	free uint16 // bit i: object i is free
	pos  int    // index in partial, or -1
}

func (p *blockPool) perPage() int { return int(pageSize / p.size) }

func (p *blockPool) all() uint16 { return uint16(1)<<p.perPage() - 1 }

func (p *blockPool) alloc() Ref {
	var bp *blockPage
	switch {
	case len(p.partial) > 0:
		bp = p.partial[len(p.partial)-1]
	case len(p.idle) > 0:
		bp = p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		p.addPartial(bp)
	default:
		if p.pages == nil {
			p.pages = make(map[Ref]*blockPage)
		}
		bp = &blockPage{page: getPage(), free: p.all(), pos: -1}
		p.pages[bp.page] = bp
		p.addPartial(bp)
	}
	i := bits.TrailingZeros16(bp.free)
	bp.free &^= 1 << i
	if bp.free == 0 {
		p.removePartial(bp)
	}
	return bp.page + Ref(i)*p.size
}

func (p *blockPool) release(r Ref) {
	bp := p.pages[r&^(pageSize-1)]
	i := int((r & (pageSize - 1)) / p.size)
	if bp == nil || bp.free&(1<<i) != 0 {
		panic("slab: bad or double SharedFree")
	}
	if bp.free == 0 {
		p.addPartial(bp)
	}
	bp.free |= 1 << i
	if bp.free != p.all() {
		return
	}
	p.removePartial(bp)
	if len(p.idle) < keepIdle {
		p.idle = append(p.idle, bp)
		return
	}
	delete(p.pages, bp.page)
	putPages([]Ref{bp.page})
}

func (p *blockPool) addPartial(bp *blockPage) {
	bp.pos = len(p.partial)
	p.partial = append(p.partial, bp)
}

func (p *blockPool) removePartial(bp *blockPage) {
	last := p.partial[len(p.partial)-1]
	p.partial[bp.pos], last.pos = last, bp.pos
	p.partial[len(p.partial)-1] = nil
	p.partial = p.partial[:len(p.partial)-1]
	bp.pos = -1
}

func init() {
	shared.blocks[0].size = 4096
	shared.blocks[1].size = 8192
}

// blockPoolFor returns the pool that serves class size c, or nil.
func blockPoolFor(c int) *blockPool {
	switch c {
	case 4096:
		return &shared.blocks[0]
	case 8192:
		return &shared.blocks[1]
	}
	return nil
}

// sharedInUse is what SharedInUse reports; see there.
var sharedInUse atomic.Int64

// pageBytes is the OS page size AllocLarge rounds to.
var pageBytes = os.Getpagesize()

// SharedAlloc returns a Ref to n bytes (1 <= n <= MaxSize) of uninitialised
// memory from the process-wide arena. It is safe for concurrent use.
func SharedAlloc(n int) Ref {
	c := ClassSize(n)
	var r Ref
	shared.mu.Lock()
	if p := blockPoolFor(c); p != nil {
		r = p.alloc()
	} else {
		r = shared.a.Alloc(n)
	}
	shared.mu.Unlock()
	sharedInUse.Add(int64(c))
	return r
}

// SharedFree returns the n-byte object at r (n as given to SharedAlloc).
func SharedFree(r Ref, n int) {
	c := ClassSize(n)
	shared.mu.Lock()
	defer shared.mu.Unlock() // release panics on a double free
	if p := blockPoolFor(c); p != nil {
		p.release(r)
	} else {
		shared.a.Free(r, n)
	}
	sharedInUse.Add(-int64(c))
}

// AllocLarge returns n zeroed bytes outside the Go heap, for arrays that
// hold no Go pointers (the collector neither scans nor sees them). The
// slice's capacity is n rounded up to the OS page size. It must be given
// back with FreeLarge; n == 0 returns nil.
func AllocLarge(n int) []byte {
	if n <= 0 {
		return nil
	}
	size := roundPage(n)
	p := osAlloc(size)
	sharedInUse.Add(int64(size))
	return unsafe.Slice(p, size)[:n]
}

// FreeLarge returns memory from AllocLarge to the OS. b may be resliced as
// long as it still starts where AllocLarge's slice started and keeps its
// capacity (or a capacity that rounds up to the same pages); nil is a no-op.
// b and every slice of it are invalid afterwards.
func FreeLarge(b []byte) {
	if cap(b) == 0 {
		return
	}
	size := roundPage(cap(b))
	osFree(unsafe.SliceData(b), size)
	sharedInUse.Add(-int64(size))
}

func roundPage(n int) int { return (n + pageBytes - 1) &^ (pageBytes - 1) }

// SharedInUse reports the bytes currently handed out by SharedAlloc (at
// their size-class sizes) and AllocLarge (page-rounded): the off-heap
// memory of collections, which the Go heap statistics do not include.
func SharedInUse() int64 { return sharedInUse.Load() }
