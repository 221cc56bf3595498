// Package hll implements HyperLogLog sketches in Redis's exact string
// representation, so values move between redis-server and Corvid unchanged
// (GET/SET, DUMP/RESTORE, snapshots) and give the same counts.
//
// A value is a 16-byte header followed by the registers:
//
//	"HYLL" | encoding (0 dense, 1 sparse) | 3 zero bytes | cached cardinality
//
// The cached cardinality is 8 bytes little endian; the top bit of its last
// byte set means "stale, recompute". Dense values hold 16384 6-bit registers
// packed LSB first (12288 bytes). Sparse values hold run-length opcodes:
//
//	00xxxxxx        ZERO:  1..64 registers at 0
//	01xxxxxx yyyyyyyy XZERO: 1..16384 registers at 0 (14-bit length)
//	1vvvvvxx        VAL:   1..4 registers at value 1..32
//
// Functions take and return the value's bytes; those that can grow or
// re-encode a value return the (possibly new) slice, which callers store.
// Nothing here locks or allocates behind the caller's back except where a
// sparse value is promoted to dense.
package hll

import (
	"math"
	"strconv"
	"strings"
)

// Layout constants, as Redis defines them (P = 14).
const (
	P          = 14
	Q          = 64 - P
	Registers  = 1 << P
	Bits       = 6
	RegMax     = 1<<Bits - 1
	HeaderSize = 16
	DenseSize  = HeaderSize + (Registers*Bits+7)/8

	// Dense and Sparse are the encoding byte's values.
	Dense  = 0
	Sparse = 1

	// Seed is the MurmurHash64A seed Redis hashes elements with.
	Seed = 0xadc83b19

	sparseValMaxValue = 32
	sparseValMaxLen   = 4
	sparseZeroMaxLen  = 64
	sparseXZeroMaxLen = 16384

	alphaInf = 0.721347520444481703680 // 0.5/ln(2)
)

// MurmurHash64A is the 64-bit MurmurHash2 variant Redis uses, reading the
// input as little-endian words whatever the host's byte order.
func MurmurHash64A(key []byte, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := seed ^ (uint64(len(key)) * m)
	n := len(key) &^ 7
	for i := 0; i < n; i += 8 {
		k := uint64(key[i]) | uint64(key[i+1])<<8 | uint64(key[i+2])<<16 | uint64(key[i+3])<<24 |
			uint64(key[i+4])<<32 | uint64(key[i+5])<<40 | uint64(key[i+6])<<48 | uint64(key[i+7])<<56
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	tail := key[n:]
	if len(tail) > 0 {
		for i := len(tail) - 1; i >= 0; i-- {
			h ^= uint64(tail[i]) << (8 * uint(i))
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// PatLen hashes an element and returns the register it selects and the
// length of the 00…1 run in the remaining bits (1..Q+1).
func PatLen(ele []byte) (index int, count uint8) {
	h := MurmurHash64A(ele, Seed)
	index = int(h & (Registers - 1))
	h >>= P
	h |= 1 << Q // bounds the run at Q+1
	count = 1
	for bit := uint64(1); h&bit == 0; bit <<= 1 {
		count++
	}
	return index, count
}

// New returns an empty sparse value: the header and one XZERO opcode
// covering every register, as PFADD creates it.
func New() []byte { return AppendNew(nil) }

// AppendNew appends an empty sparse value to dst.
func AppendNew(dst []byte) []byte {
	dst = append(dst, 'H', 'Y', 'L', 'L', Sparse, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	for left := Registers; left > 0; {
		n := min(left, sparseXZeroMaxLen)
		dst = append(dst, xzeroOp(n)...)
		left -= n
	}
	return dst
}

// Valid reports whether b passes Redis's HLL type check: the magic, a
// known encoding, and the exact length for a dense value. Sparse values
// are only checked for corruption when they are decoded.
func Valid(b []byte) bool {
	if len(b) < HeaderSize || b[0] != 'H' || b[1] != 'Y' || b[2] != 'L' || b[3] != 'L' {
		return false
	}
	switch b[4] {
	case Dense:
		return len(b) == DenseSize
	case Sparse:
		return true
	}
	return false
}

// IsSparse reports whether a valid value uses the sparse encoding.
func IsSparse(b []byte) bool { return b[4] == Sparse }

// CachedCard returns the cached cardinality and whether it is current.
func CachedCard(b []byte) (uint64, bool) {
	if b[15]&0x80 != 0 {
		return 0, false
	}
	var c uint64
	for i := 7; i >= 0; i-- {
		c = c<<8 | uint64(b[8+i])
	}
	return c, true
}

// SetCachedCard stores a freshly computed cardinality in the header.
func SetCachedCard(b []byte, card uint64) {
	for i := 0; i < 8; i++ {
		b[8+i] = byte(card >> (8 * uint(i)))
	}
}

// InvalidateCache marks the cached cardinality stale.
func InvalidateCache(b []byte) { b[15] |= 0x80 }

// DenseGet returns register i of packed dense registers.
func DenseGet(regs []byte, i int) uint8 {
	byt := i * Bits / 8
	fb := uint(i*Bits) & 7
	v := uint(regs[byt]) >> fb
	if byt+1 < len(regs) {
		v |= uint(regs[byt+1]) << (8 - fb)
	}
	return uint8(v & RegMax)
}

// DenseSet sets register i of packed dense registers to v (0..63).
func DenseSet(regs []byte, i int, v uint8) {
	byt := i * Bits / 8
	fb := uint(i*Bits) & 7
	regs[byt] &^= byte(RegMax << fb)
	regs[byt] |= byte(uint(v) << fb)
	if byt+1 < len(regs) {
		regs[byt+1] &^= byte(RegMax >> (8 - fb))
		regs[byt+1] |= byte(uint(v) >> (8 - fb))
	}
}

// denseSetMax raises register i to count if it is lower and reports whether
// it did.
func denseSetMax(regs []byte, i int, count uint8) bool {
	if count > DenseGet(regs, i) {
		DenseSet(regs, i, count)
		return true
	}
	return false
}

// Sparse opcode helpers.

func isZero(op byte) bool  { return op&0xc0 == 0 }
func isXZero(op byte) bool { return op&0xc0 == 0x40 }
func isVal(op byte) bool   { return op&0x80 != 0 }
func zeroLen(op byte) int  { return int(op&0x3f) + 1 }
func valValue(op byte) int { return int(op>>2&0x1f) + 1 }
func valLen(op byte) int   { return int(op&3) + 1 }
func valOp(v, n int) byte  { return byte((v-1)<<2|(n-1)) | 0x80 }
func zeroOp(n int) byte    { return byte(n - 1) }
func xzeroOp(n int) []byte { return []byte{byte((n-1)>>8) | 0x40, byte((n - 1) & 0xff)} }

// xzeroLen reads an XZERO run; a truncated opcode reads a zero second byte,
// as Redis does through the string's terminator.
func xzeroLen(b []byte, p int) int {
	var lo byte
	if p+1 < len(b) {
		lo = b[p+1]
	}
	return (int(b[p]&0x3f)<<8 | int(lo)) + 1
}

// Add adds an element to a valid value and reports 1 if a register changed
// (the cached cardinality is then stale), 0 if not, -1 if the sparse
// representation is corrupt. The returned slice replaces b: a sparse value
// may grow or be promoted to dense once it would exceed sparseMax bytes.
func Add(b []byte, ele []byte, sparseMax int) ([]byte, int) {
	index, count := PatLen(ele)
	return Set(b, index, count, sparseMax)
}

// Set raises register index to count if it is lower; results as Add.
func Set(b []byte, index int, count uint8, sparseMax int) ([]byte, int) {
	switch b[4] {
	case Dense:
		if denseSetMax(b[HeaderSize:], index, count) {
			return b, 1
		}
		return b, 0
	case Sparse:
		return sparseSet(b, index, count, sparseMax)
	}
	return b, -1
}

// sparseSet updates a sparse value in place where the opcode sequence allows
// it, splits the opcode covering the register otherwise, merges adjacent
// equal VAL opcodes afterwards, and promotes to dense when the register
// value or the new length does not fit — the same steps, in the same order,
// as Redis, so both produce the same bytes.
func sparseSet(b []byte, index int, count uint8, sparseMax int) ([]byte, int) {
	if count > sparseValMaxValue {
		return promote(b, index, count)
	}
	p, end := HeaderSize, len(b)
	first, prev, span := 0, -1, 0
	for p < end {
		op := b[p]
		oplen := 1
		switch {
		case isZero(op):
			span = zeroLen(op)
		case isVal(op):
			span = valLen(op)
		default:
			span = xzeroLen(b, p)
			oplen = 2
		}
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= end {
		return b, -1
	}
	op := b[p]
	switch {
	case isZero(op):
		if zeroLen(op) == 1 { // a lone zero register becomes a lone VAL
			b[p] = valOp(int(count), 1)
			return sparseMerge(b, prev), 1
		}
	case isVal(op):
		if valValue(op) >= int(count) {
			return b, 0
		}
		if valLen(op) == 1 {
			b[p] = valOp(int(count), 1)
			return sparseMerge(b, prev), 1
		}
	}

	// General case: split the opcode into up to three.
	var seq [5]byte
	n := 0
	last := first + span - 1
	if !isVal(op) {
		if index != first {
			n += putZeros(seq[n:], index-first)
		}
		seq[n] = valOp(int(count), 1)
		n++
		if index != last {
			n += putZeros(seq[n:], last-index)
		}
	} else {
		cur := valValue(op)
		if index != first {
			seq[n] = valOp(cur, index-first)
			n++
		}
		seq[n] = valOp(int(count), 1)
		n++
		if index != last {
			seq[n] = valOp(cur, last-index)
			n++
		}
	}
	oldlen := 1
	if isXZero(op) {
		oldlen = 2
	}
	delta := n - oldlen
	if delta > 0 && len(b)+delta > sparseMax {
		return promote(b, index, count)
	}
	if delta > 0 {
		b = append(b, seq[:delta]...) // grow; contents fixed below
	}
	if p+oldlen <= end {
		copy(b[p+n:], b[p+oldlen:end])
	} // else: an XZERO truncated at the tail of a corrupt value
	b = b[:end+delta]
	copy(b[p:], seq[:n])
	return sparseMerge(b, prev), 1
}

// putZeros writes a ZERO or XZERO opcode for n registers and returns its size.
func putZeros(dst []byte, n int) int {
	if n > sparseZeroMaxLen {
		copy(dst, xzeroOp(n))
		return 2
	}
	dst[0] = zeroOp(n)
	return 1
}

// sparseMerge joins adjacent VAL opcodes of equal value, scanning at most
// five opcodes from the one before the change, and marks the cache stale.
func sparseMerge(b []byte, prev int) []byte {
	p := HeaderSize
	if prev >= 0 {
		p = prev
	}
	end := len(b)
	for scan := 5; p < end && scan > 0; {
		scan--
		op := b[p]
		if isXZero(op) {
			p += 2
			continue
		}
		if isZero(op) {
			p++
			continue
		}
		if p+1 < end && isVal(b[p+1]) {
			v := valValue(op)
			if v == valValue(b[p+1]) {
				if n := valLen(op) + valLen(b[p+1]); n <= sparseValMaxLen {
					b[p+1] = valOp(v, n)
					copy(b[p:], b[p+1:end])
					end--
					b = b[:end]
					continue
				}
			}
		}
		p++
	}
	InvalidateCache(b)
	return b
}

// promote converts a sparse value to dense and then sets the register.
func promote(b []byte, index int, count uint8) ([]byte, int) {
	d, ok := ToDense(b)
	if !ok {
		return b, -1
	}
	DenseSet(d[HeaderSize:], index, count)
	return d, 1
}

// ToDense returns the dense form of a valid value (b itself if already
// dense) with the same header, or false if the sparse opcodes do not cover
// exactly the 16384 registers.
func ToDense(b []byte) ([]byte, bool) {
	if b[4] == Dense {
		return b, true
	}
	d := make([]byte, DenseSize)
	copy(d, b[:HeaderSize])
	d[4] = Dense
	regs := d[HeaderSize:]
	idx := 0
	for p := HeaderSize; p < len(b); {
		op := b[p]
		switch {
		case isZero(op):
			idx += zeroLen(op)
			p++
		case isXZero(op):
			idx += xzeroLen(b, p)
			p += 2
		default:
			n, v := valLen(op), valValue(op)
			if idx+n > Registers {
				return nil, false
			}
			for ; n > 0; n-- {
				DenseSet(regs, idx, uint8(v))
				idx++
			}
			p++
		}
	}
	if idx != Registers {
		return nil, false
	}
	return d, true
}

// Count estimates the cardinality of a valid value. invalid reports a
// sparse value whose opcodes do not cover exactly the 16384 registers (the
// estimate is then meaningless).
func Count(b []byte) (card uint64, invalid bool) {
	var h [64]int
	if b[4] == Dense {
		denseHisto(b[HeaderSize:], &h)
	} else {
		invalid = !sparseHisto(b, &h)
	}
	return estimate(&h), invalid
}

// CountRegisters estimates the cardinality of unpacked registers (the
// union PFCOUNT builds for several keys).
func CountRegisters(regs *[Registers]uint8) uint64 {
	var h [64]int
	for _, v := range regs {
		h[v&63]++
	}
	return estimate(&h)
}

func denseHisto(r []byte, h *[64]int) {
	for i := 0; i+12 <= len(r); i += 12 {
		h[r[i]&63]++
		h[(r[i]>>6|r[i+1]<<2)&63]++
		h[(r[i+1]>>4|r[i+2]<<4)&63]++
		h[(r[i+2]>>2)&63]++
		h[r[i+3]&63]++
		h[(r[i+3]>>6|r[i+4]<<2)&63]++
		h[(r[i+4]>>4|r[i+5]<<4)&63]++
		h[(r[i+5]>>2)&63]++
		h[r[i+6]&63]++
		h[(r[i+6]>>6|r[i+7]<<2)&63]++
		h[(r[i+7]>>4|r[i+8]<<4)&63]++
		h[(r[i+8]>>2)&63]++
		h[r[i+9]&63]++
		h[(r[i+9]>>6|r[i+10]<<2)&63]++
		h[(r[i+10]>>4|r[i+11]<<4)&63]++
		h[(r[i+11]>>2)&63]++
	}
}

// sparseHisto fills the histogram and reports whether the opcodes cover
// exactly the registers. Runs past the end are counted as Redis counts
// them, so a corrupt value never indexes out of the histogram.
func sparseHisto(b []byte, h *[64]int) bool {
	idx := 0
	for p := HeaderSize; p < len(b); {
		op := b[p]
		switch {
		case isZero(op):
			n := zeroLen(op)
			idx += n
			h[0] += n
			p++
		case isXZero(op):
			n := xzeroLen(b, p)
			idx += n
			h[0] += n
			p += 2
		default:
			n := valLen(op)
			idx += n
			h[valValue(op)] += n
			p++
		}
	}
	return idx == Registers
}

// estimate is Ertl's improved raw estimator ("New cardinality estimation
// algorithms for HyperLogLog sketches", arXiv:1702.01284), computed in the
// same order of operations as Redis so results agree to the unit.
func estimate(h *[64]int) uint64 {
	const m = float64(Registers)
	z := m * tau((m-float64(h[Q+1]))/m)
	for j := Q; j >= 1; j-- {
		z += float64(h[j])
		z *= 0.5
	}
	z += m * sigma(float64(h[0])/m)
	return uint64(math.Round(alphaInf * m * m / z))
}

func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		zp := z
		z += x * y
		y += y
		if zp == z {
			return z
		}
	}
}

func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		zp := z
		y *= 0.5
		d := 1 - x
		z -= d * d * y
		if zp == z {
			return z / 3
		}
	}
}

// Merge raises each of max's registers to the value's register and reports
// false for a corrupt sparse value.
func Merge(max *[Registers]uint8, b []byte) bool {
	if b[4] == Dense {
		regs := b[HeaderSize:]
		for i := range max {
			if v := DenseGet(regs, i); v > max[i] {
				max[i] = v
			}
		}
		return true
	}
	i := 0
	for p := HeaderSize; p < len(b); {
		op := b[p]
		switch {
		case isZero(op):
			i += zeroLen(op)
			p++
		case isXZero(op):
			i += xzeroLen(b, p)
			p += 2
		default:
			n, v := valLen(op), uint8(valValue(op))
			if i+n > Registers {
				return false
			}
			for ; n > 0; n-- {
				if v > max[i] {
					max[i] = v
				}
				i++
			}
			p++
		}
	}
	return i == Registers
}

// Decode renders a sparse value's opcodes as PFDEBUG DECODE does:
// "Z:n" for XZERO, "z:n" for ZERO, "v:value,n" for VAL, space separated.
func Decode(b []byte) string {
	var s strings.Builder
	for p := HeaderSize; p < len(b); {
		op := b[p]
		switch {
		case isZero(op):
			s.WriteString("z:" + strconv.Itoa(zeroLen(op)) + " ")
			p++
		case isXZero(op):
			s.WriteString("Z:" + strconv.Itoa(xzeroLen(b, p)) + " ")
			p += 2
		default:
			s.WriteString("v:" + strconv.Itoa(valValue(op)) + "," + strconv.Itoa(valLen(op)) + " ")
			p++
		}
	}
	return strings.Trim(s.String(), " ")
}
