//go:build !(linux || darwin || freebsd)

package slab

import (
	"sync"
	"unsafe"
)

// keep holds the fallback allocations, by base address, so the collector
// never frees them while a Ref or AllocLarge slice still names them.
var keep struct {
	mu sync.Mutex
	m  map[*byte][]byte
}

func osAlloc(n int) *byte {
	b := make([]byte, n)
	keep.mu.Lock()
	if keep.m == nil {
		keep.m = make(map[*byte][]byte)
	}
	keep.m[&b[0]] = b
	keep.mu.Unlock()
	return &b[0]
}

func osMap(n int) (*byte, error) { return osAlloc(n), nil }

func osRelease(p unsafe.Pointer, n int) { clear(unsafe.Slice((*byte)(p), n)) }

// osFree drops the allocation at p so the collector can reclaim it.
func osFree(p *byte, n int) {
	keep.mu.Lock()
	delete(keep.m, p)
	keep.mu.Unlock()
}

func osUnmap(p *byte, n int) error {
	osFree(p, n)
	return nil
}
