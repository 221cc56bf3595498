// Package intset is a sorted set of integers packed into one []byte, the
// compact encoding Redis uses for small sets whose members are all
// integers. Every element has the same width (2, 4 or 8 bytes), the
// smallest that holds them all; adding a value that needs more bytes
// widens the whole set once, and the set never narrows again, as in Redis.
//
// Being a plain byte string, an intset lives inside a keyspace record, off
// the Go heap. Membership is a binary search; the elements come out in
// ascending order, which SMEMBERS and friends rely on for Redis-identical
// replies.
//
// Layout: one byte holding the width, a 4-byte little-endian count, then
// the values, little-endian, ascending. Functions that change the set
// modify it in place and return the (possibly reallocated) slice, like
// append: callers holding keyspace memory copy it first.
package intset

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// HeaderSize is the number of bytes before the first value.
const HeaderSize = 5

// New returns an empty intset of the narrowest width.
func New() []byte {
	b := make([]byte, HeaderSize, 32)
	b[0] = 2
	return b
}

// Len returns the number of elements.
func Len(is []byte) int { return int(binary.LittleEndian.Uint32(is[1:])) }

// Width returns the byte width of every element (2, 4 or 8).
func Width(is []byte) int { return int(is[0]) }

func setLen(is []byte, n int) { binary.LittleEndian.PutUint32(is[1:], uint32(n)) }

// widthFor returns the narrowest width that can hold v.
func widthFor(v int64) int {
	switch {
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return 2
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return 4
	}
	return 8
}

func getW(is []byte, w, i int) int64 {
	off := HeaderSize + i*w
	switch w {
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(is[off:])))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(is[off:])))
	}
	return int64(binary.LittleEndian.Uint64(is[off:]))
}

func putW(is []byte, w, i int, v int64) {
	off := HeaderSize + i*w
	switch w {
	case 2:
		binary.LittleEndian.PutUint16(is[off:], uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(is[off:], uint32(v))
	default:
		binary.LittleEndian.PutUint64(is[off:], uint64(v))
	}
}

// Get returns the element at index i (0 ≤ i < Len).
func Get(is []byte, i int) int64 { return getW(is, Width(is), i) }

// Min returns the smallest element; the set must not be empty.
func Min(is []byte) int64 { return Get(is, 0) }

// Max returns the largest element; the set must not be empty.
func Max(is []byte) int64 { return Get(is, Len(is)-1) }

// Search returns the index of v and true, or the index where v would be
// inserted and false.
func Search(is []byte, v int64) (int, bool) {
	n, w := Len(is), Width(is)
	if n == 0 {
		return 0, false
	}
	// Values outside the range are decided without a search, which makes
	// appending ascending values (SINTERSTORE, conversions) O(1) to locate.
	if v > getW(is, w, n-1) {
		return n, false
	}
	if v < getW(is, w, 0) {
		return 0, false
	}
	lo, hi := 0, n-1
	for lo <= hi {
		mid := int(uint(lo+hi) >> 1)
		cur := getW(is, w, mid)
		switch {
		case cur < v:
			lo = mid + 1
		case cur > v:
			hi = mid - 1
		default:
			return mid, true
		}
	}
	return lo, false
}

// Contains reports whether v is in the set.
func Contains(is []byte, v int64) bool {
	if widthFor(v) > Width(is) {
		return false
	}
	_, ok := Search(is, v)
	return ok
}

func grow(is []byte, n int) []byte {
	if cap(is)-len(is) >= n {
		return is[:len(is)+n]
	}
	nb := make([]byte, len(is)+n, (len(is)+n)*5/4+16)
	copy(nb, is)
	return nb
}

// Add inserts v and reports whether it was not already present.
func Add(is []byte, v int64) ([]byte, bool) {
	w := Width(is)
	if vw := widthFor(v); vw > w {
		return upgradeAndAdd(is, vw, v), true
	}
	i, found := Search(is, v)
	if found {
		return is, false
	}
	n := Len(is)
	is = grow(is, w)
	off := HeaderSize + i*w
	copy(is[off+w:], is[off:HeaderSize+n*w])
	putW(is, w, i, v)
	setLen(is, n+1)
	return is, true
}

// upgradeAndAdd widens every element to w and adds v, which needs that
// width and so is either below or above every current element.
func upgradeAndAdd(is []byte, w int, v int64) []byte {
	n, old := Len(is), Width(is)
	is = grow(is, (n+1)*w-n*old)
	prepend := 0
	if v < 0 {
		prepend = 1
	}
	// Back to front so no value is overwritten before it is read.
	for i := n - 1; i >= 0; i-- {
		putW(is, w, i+prepend, getW(is, old, i))
	}
	if prepend == 1 {
		putW(is, w, 0, v)
	} else {
		putW(is, w, n, v)
	}
	is[0] = byte(w)
	setLen(is, n+1)
	return is
}

// Remove deletes v and reports whether it was present.
func Remove(is []byte, v int64) ([]byte, bool) {
	if widthFor(v) > Width(is) {
		return is, false
	}
	i, found := Search(is, v)
	if !found {
		return is, false
	}
	return RemoveAt(is, i), true
}

// RemoveAt deletes the element at index i.
func RemoveAt(is []byte, i int) []byte {
	n, w := Len(is), Width(is)
	off := HeaderSize + i*w
	copy(is[off:], is[off+w:HeaderSize+n*w])
	is = is[:HeaderSize+(n-1)*w]
	setLen(is, n-1)
	return is
}

// Random returns a uniformly chosen element; the set must not be empty.
func Random(is []byte) int64 { return Get(is, rand.IntN(Len(is))) }

// Append appends the elements, ascending, to dst.
func Append(dst []int64, is []byte) []int64 {
	n, w := Len(is), Width(is)
	for i := 0; i < n; i++ {
		dst = append(dst, getW(is, w, i))
	}
	return dst
}
