package ztree

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/corvid-db/corvid/internal/ds/slab"
)

// A leaf is one 4 KiB block of slab memory holding a run of entries in
// order. It is slotted, like a database page, so that entries of any length
// pack without per-entry allocation and a binary search reads only the
// fixed-size slots:
//
//	[0:8)   prev leaf Ref        [8:16)  next leaf Ref
//	[16:18) entry count          [18:20) data start (lowest used data byte)
//	[20:22) garbage bytes (data of deleted entries below the block end)
//	[24:…)  slots, 10 bytes each: score (float64 bits), data offset (uint16)
//	[…:4096) member data, growing down: length (uint16), bytes
//
// A member longer than maxInline is kept out of line in the tree's big
// slice and its data is the marker length bigMark and a uint32 index.
// Everything is little-endian and read through encoding/binary, whose
// unaligned loads compile to single instructions.
const (
	leafSize  = 4096
	hdrSize   = 24
	slotSize  = 10
	leafRoom  = leafSize - hdrSize
	maxInline = 512
	bigMark   = 0xFFFF
	bigData   = 6 // marker + index
)

var le = binary.LittleEndian

type block [leafSize]byte

func leafAt(r slab.Ref) *block { return (*block)(slab.Pointer(r)) }

func (b *block) prev() slab.Ref     { return slab.Ref(le.Uint64(b[0:8])) }
func (b *block) next() slab.Ref     { return slab.Ref(le.Uint64(b[8:16])) }
func (b *block) setPrev(r slab.Ref) { le.PutUint64(b[0:8], uint64(r)) }
func (b *block) setNext(r slab.Ref) { le.PutUint64(b[8:16], uint64(r)) }
func (b *block) n() int             { return int(le.Uint16(b[16:18])) }
func (b *block) setN(n int)         { le.PutUint16(b[16:18], uint16(n)) }
func (b *block) start() int         { return int(le.Uint16(b[18:20])) }
func (b *block) setStart(s int)     { le.PutUint16(b[18:20], uint16(s)) }
func (b *block) garbage() int       { return int(le.Uint16(b[20:22])) }
func (b *block) setGarbage(g int)   { le.PutUint16(b[20:22], uint16(g)) }

// init makes b an empty, unlinked leaf.
func (b *block) init() {
	clear(b[:hdrSize])
	b.setStart(leafSize)
}

func (b *block) score(i int) float64 {
	o := hdrSize + slotSize*i
	return math.Float64frombits(le.Uint64(b[o : o+8]))
}

func (b *block) setScore(i int, s float64) {
	o := hdrSize + slotSize*i
	le.PutUint64(b[o:o+8], math.Float64bits(s))
}

func (b *block) dataOff(i int) int { return b.u16(hdrSize + slotSize*i + 8) }

// u16 is the little-endian uint16 at o; cheaper to inline than le.Uint16
// of a subslice.
func (b *block) u16(o int) int { return int(b[o]) | int(b[o+1])<<8 }

// dataSize is the number of data bytes entry i occupies.
func (b *block) dataSize(i int) int {
	d := b.dataOff(i)
	l := int(le.Uint16(b[d : d+2]))
	if l == bigMark {
		return bigData
	}
	return 2 + l
}

// bigIndex returns the index in Tree.big of an out-of-line member, or -1.
func (b *block) bigIndex(i int) int {
	d := b.dataOff(i)
	if le.Uint16(b[d:d+2]) != bigMark {
		return -1
	}
	return int(le.Uint32(b[d+2 : d+6]))
}

// free is the contiguous room between the slots and the data.
func (b *block) free() int { return b.start() - hdrSize - slotSize*b.n() }

// live is the bytes the entries use (slots and data), garbage excluded.
func (b *block) live() int { return leafRoom - b.free() - b.garbage() }

// entrySize is the room an entry of a member of length l needs.
func entrySize(l int) int {
	if l > maxInline {
		return slotSize + bigData
	}
	return slotSize + 2 + l
}

// insertAt puts (s, m) at position pos, compacting the block if its free
// room is short but garbage would make enough. big >= 0 stores the member
// out of line under that index. It reports false, changing nothing, when
// the entry does not fit.
func (b *block) insertAt(pos int, s float64, m string, big int) bool {
	need := entrySize(len(m))
	if b.free() < need {
		if b.free()+b.garbage() < need {
			return false
		}
		b.compact()
	}
	n := b.n()
	o := hdrSize + slotSize*pos
	copy(b[o+slotSize:hdrSize+slotSize*(n+1)], b[o:hdrSize+slotSize*n])
	d := b.start()
	if big >= 0 {
		d -= bigData
		le.PutUint16(b[d:d+2], bigMark)
		le.PutUint32(b[d+2:d+6], uint32(big))
	} else {
		d -= 2 + len(m)
		le.PutUint16(b[d:d+2], uint16(len(m)))
		copy(b[d+2:], m)
	}
	b.setStart(d)
	le.PutUint64(b[o:o+8], math.Float64bits(s))
	le.PutUint16(b[o+8:o+10], uint16(d))
	b.setN(n + 1)
	return true
}

// removeRange drops entries [pos, pos+c). Out-of-line members are the
// caller's to free.
func (b *block) removeRange(pos, c int) {
	n := b.n()
	st, g := b.start(), b.garbage()
	for i := pos; i < pos+c; i++ {
		d, sz := b.dataOff(i), b.dataSize(i)
		if d == st {
			// The lowest data: give it straight back to the free room.
			st += sz
		} else {
			g += sz
		}
	}
	o := hdrSize + slotSize*pos
	copy(b[o:], b[o+slotSize*c:hdrSize+slotSize*n])
	n -= c
	if n == 0 {
		st, g = leafSize, 0
	}
	b.setN(n)
	b.setStart(st)
	b.setGarbage(g)
}

// compact rewrites b without garbage, keeping its links.
func (b *block) compact() {
	var tmp block
	tmp = *b
	b.rebuildFrom(&tmp, 0, tmp.n())
}

// rebuildFrom replaces b's entries with src's entries [from, to), keeping
// b's links. src must not be b.
func (b *block) rebuildFrom(src *block, from, to int) {
	b.setN(0)
	b.setStart(leafSize)
	b.setGarbage(0)
	b.appendFrom(src, from, to)
}

// appendFrom appends src's entries [from, to) after b's; b's free room
// must hold them. src must not be b.
func (b *block) appendFrom(src *block, from, to int) {
	n, st := b.n(), b.start()
	for i := from; i < to; i++ {
		d, sz := src.dataOff(i), src.dataSize(i)
		st -= sz
		copy(b[st:st+sz], src[d:d+sz])
		o, so := hdrSize+slotSize*n, hdrSize+slotSize*i
		copy(b[o:o+8], src[so:so+8])
		le.PutUint16(b[o+8:o+10], uint16(st))
		n++
	}
	b.setN(n)
	b.setStart(st)
}

// splitPoint returns where to cut a block in two halves of about equal
// bytes, each non-empty.
func (b *block) splitPoint() int {
	n := b.n()
	total, acc := b.live(), 0
	h := n - 1
	for i := 0; i < n; i++ {
		acc += slotSize + b.dataSize(i)
		if 2*acc >= total {
			h = i + 1
			break
		}
	}
	return max(1, min(h, n-1))
}

// member returns entry i's member; it aliases the block (or the tree's
// big slice) and is valid until the tree changes.
func (t *Tree) member(b *block, i int) string {
	d := b.dataOff(i)
	if l := b.u16(d); uint(l-1) < maxInline {
		return unsafe.String(&b[d+2], l)
	}
	return t.memberRare(b, d)
}

// memberRare decodes the empty member and out-of-line ones.
func (t *Tree) memberRare(b *block, d int) string {
	if b.u16(d) == bigMark {
		return unsafeString(t.big[le.Uint32(b[d+2:d+6])])
	}
	return ""
}

// lsearch returns the index of the first entry of b >= (s, m). n is b's
// entry count, which the parent's count gives without a load from b's
// header (one cache miss fewer before the first probe).
func (t *Tree) lsearch(b *block, n int, s float64, m string) int {
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		ms := b.score(mid)
		if ms < s || (ms == s && t.member(b, mid) < m) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}
