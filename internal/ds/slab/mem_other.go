//go:build !(linux || darwin || freebsd)

package slab

import "unsafe"

// keep holds the fallback chunks so the collector never frees them.
var keep [][]byte

func osAlloc(n int) *byte {
	b := make([]byte, n)
	keep = append(keep, b)
	return &b[0]
}

func osRelease(p unsafe.Pointer, n int) { clear(unsafe.Slice((*byte)(p), n)) }
