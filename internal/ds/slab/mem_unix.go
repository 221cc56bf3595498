//go:build linux || darwin || freebsd

package slab

import (
	"syscall"
	"unsafe"
)

// osAlloc reserves n bytes of zeroed anonymous memory outside the Go heap.
func osAlloc(n int) *byte {
	p, err := osMap(n)
	if err != nil {
		panic("slab: mmap: " + err.Error())
	}
	return p
}

// osMap is osAlloc reporting failure (out of memory, or of mappings:
// vm.max_map_count) instead of panicking.
func osMap(n int) (*byte, error) {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, err
	}
	return &b[0], nil
}

// osRelease lets the kernel reclaim the pages (they read back as zeroes).
func osRelease(p unsafe.Pointer, n int) {
	_ = syscall.Madvise(unsafe.Slice((*byte)(p), n), syscall.MADV_DONTNEED)
}

// osFree unmaps n bytes that osAlloc(n) returned at p. syscall.Munmap finds
// the mapping by the slice's last byte, so the slice is rebuilt with the
// exact length that was mapped.
func osFree(p *byte, n int) {
	if err := osUnmap(p, n); err != nil {
		panic("slab: munmap: " + err.Error())
	}
}

// osUnmap is osFree reporting failure. Unmapping part of a larger
// mapping (the kernel merges neighbouring anonymous ones) splits it, which
// fails with ENOMEM once the process has vm.max_map_count mappings.
func osUnmap(p *byte, n int) error { return syscall.Munmap(unsafe.Slice(p, n)) }
