//go:build linux || darwin || freebsd

package slab

import (
	"syscall"
	"unsafe"
)

// osAlloc reserves n bytes of zeroed anonymous memory outside the Go heap.
func osAlloc(n int) *byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		panic("slab: mmap: " + err.Error())
	}
	return &b[0]
}

// osRelease lets the kernel reclaim the pages (they read back as zeroes).
func osRelease(p unsafe.Pointer, n int) {
	_ = syscall.Madvise(unsafe.Slice((*byte)(p), n), syscall.MADV_DONTNEED)
}

// osFree unmaps n bytes that osAlloc(n) returned at p. syscall.Munmap finds
// the mapping by the slice's last byte, so the slice is rebuilt with the
// exact length that was mapped.
func osFree(p *byte, n int) {
	if err := syscall.Munmap(unsafe.Slice(p, n)); err != nil {
		panic("slab: munmap: " + err.Error())
	}
}
