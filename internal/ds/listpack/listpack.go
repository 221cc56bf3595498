// Package listpack is a compact encoding for small collections: a sequence
// of byte-string elements packed in one []byte, with no per-element
// pointers or headers beyond a length prefix and a back-length suffix.
//
// Small lists, hashes, sets and sorted sets (below the *-max-listpack-*
// thresholds) are stored this way, which is what Redis does too and why a
// five-field hash costs tens of bytes rather than hundreds. Because the
// encoding is just bytes, the keyspace can keep it inside its slab record,
// off the Go heap, invisible to the garbage collector.
//
// Layout: a 4-byte little-endian element count, then the elements. Each
// element is uvarint(len) | data | backlen, where backlen is the size of
// uvarint(len)+data written as a varint whose bytes read right to left (the
// last byte has its high bit clear), so the list can be walked from either
// end. Operations that change the list return the (possibly reallocated)
// slice, like append. Positions are byte offsets returned by First, Last,
// Next, Prev and Seek; they are invalidated by any change.
//
// The format is Corvid's own, not Redis's byte format (Redis's listpacks
// also store small integers specially; this one keeps every element as a
// string, which keeps the code small and the elements directly usable as
// replies).
package listpack

import (
	"encoding/binary"
)

const headerSize = 4

// New returns an empty listpack.
func New() []byte { return make([]byte, headerSize, 64) }

// Len returns the number of elements.
func Len(lp []byte) int { return int(binary.LittleEndian.Uint32(lp)) }

func setLen(lp []byte, n int) { binary.LittleEndian.PutUint32(lp, uint32(n)) }

// Bytes returns the total encoded size.
func Bytes(lp []byte) int { return len(lp) }

func backlenSize(v int) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// entrySize is the encoded size of an element of n bytes.
func entrySize(n int) int {
	body := uvarintSize(n) + n
	return body + backlenSize(body)
}

func uvarintSize(v int) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// putEntry writes the element at dst (which has entrySize(len(e)) bytes).
func putEntry(dst, e []byte) {
	n := binary.PutUvarint(dst, uint64(len(e)))
	n += copy(dst[n:], e)
	body := n
	// backlen: least significant 7-bit group rightmost; every byte but the
	// leftmost has its high bit set, so a right-to-left read stops there.
	bl := backlenSize(body)
	for i := bl - 1; i >= 0; i-- {
		b := byte(body & 0x7f)
		if i != 0 {
			b |= 0x80
		}
		dst[n+i] = b
		body >>= 7
	}
}

// First returns the position of the first element, or -1 if empty.
func First(lp []byte) int {
	if len(lp) <= headerSize {
		return -1
	}
	return headerSize
}

// Last returns the position of the last element, or -1 if empty.
func Last(lp []byte) int {
	if len(lp) <= headerSize {
		return -1
	}
	return Prev(lp, len(lp))
}

// Get returns the element at pos. The slice aliases lp.
func Get(lp []byte, pos int) []byte {
	l, n := binary.Uvarint(lp[pos:])
	start := pos + n
	return lp[start : start+int(l) : start+int(l)]
}

// size returns the full encoded size of the element at pos.
func size(lp []byte, pos int) int {
	l, n := binary.Uvarint(lp[pos:])
	body := n + int(l)
	return body + backlenSize(body)
}

// Next returns the position after pos, or -1 at the end.
func Next(lp []byte, pos int) int {
	p := pos + size(lp, pos)
	if p >= len(lp) {
		return -1
	}
	return p
}

// Prev returns the position before pos (pos may be len(lp)), or -1 at the start.
func Prev(lp []byte, pos int) int {
	if pos <= headerSize {
		return -1
	}
	i := pos - 1
	v := 0
	shift := 0
	for {
		v |= int(lp[i]&0x7f) << shift
		if lp[i]&0x80 == 0 {
			break
		}
		i--
		shift += 7
	}
	_ = shift
	return i - v
}

// Seek returns the position of the element at index idx (negative counts
// from the end), or -1 if out of range. It walks from the nearer end.
func Seek(lp []byte, idx int) int {
	n := Len(lp)
	if idx < 0 {
		idx += n
	}
	if idx < 0 || idx >= n {
		return -1
	}
	if idx < n/2 {
		p := First(lp)
		for ; idx > 0; idx-- {
			p = Next(lp, p)
		}
		return p
	}
	p := Last(lp)
	for k := n - 1; k > idx; k-- {
		p = Prev(lp, p)
	}
	return p
}

// Append adds elements at the end.
func Append(lp []byte, elems ...[]byte) []byte {
	for _, e := range elems {
		sz := entrySize(len(e))
		off := len(lp)
		lp = grow(lp, sz)
		putEntry(lp[off:off+sz], e)
		setLen(lp, Len(lp)+1)
	}
	return lp
}

// Insert puts e before the element at pos (pos == len(lp) appends).
func Insert(lp []byte, pos int, e []byte) []byte {
	sz := entrySize(len(e))
	old := len(lp)
	lp = grow(lp, sz)
	copy(lp[pos+sz:], lp[pos:old])
	putEntry(lp[pos:pos+sz], e)
	setLen(lp, Len(lp)+1)
	return lp
}

// Prepend adds e at the front.
func Prepend(lp []byte, e []byte) []byte { return Insert(lp, headerSize, e) }

// Delete removes count elements starting at pos.
func Delete(lp []byte, pos int, count int) []byte {
	end := pos
	k := 0
	for ; k < count && end < len(lp); k++ {
		end += size(lp, end)
	}
	lp = append(lp[:pos], lp[end:]...)
	setLen(lp, Len(lp)-k)
	return lp
}

// Replace sets the element at pos to e.
func Replace(lp []byte, pos int, e []byte) []byte {
	old := size(lp, pos)
	sz := entrySize(len(e))
	switch {
	case sz > old:
		n := len(lp)
		lp = grow(lp, sz-old)
		copy(lp[pos+sz:], lp[pos+old:n])
	case sz < old:
		copy(lp[pos+sz:], lp[pos+old:])
		lp = lp[:len(lp)-(old-sz)]
	}
	putEntry(lp[pos:pos+sz], e)
	return lp
}

// Find returns the position of the first element equal to e, searching
// from pos with the given stride (2 to look only at hash fields or zset
// members), or -1.
func Find(lp []byte, pos int, e []byte, stride int) int {
	for pos >= 0 {
		if string(Get(lp, pos)) == string(e) {
			return pos
		}
		for s := 0; s < stride && pos >= 0; s++ {
			pos = Next(lp, pos)
		}
	}
	return -1
}

// Elements returns every element (aliasing lp), appended to dst.
func Elements(dst [][]byte, lp []byte) [][]byte {
	for p := First(lp); p >= 0; p = Next(lp, p) {
		dst = append(dst, Get(lp, p))
	}
	return dst
}

func grow(lp []byte, n int) []byte {
	if cap(lp)-len(lp) >= n {
		return lp[:len(lp)+n]
	}
	nb := make([]byte, len(lp)+n, (len(lp)+n)*5/4+16)
	copy(nb, lp)
	return nb
}
