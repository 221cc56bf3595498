package rdb

import (
	"encoding/binary"
	"math"
	"strconv"
)

// Redis's listpack byte format (listpack.c), which RDB uses for small
// hashes, sets, sorted sets, list nodes and stream nodes: a 4-byte total
// size and a 2-byte element count (65535: unknown), the elements, and an
// 0xFF terminator. Each element is an encoding byte (with small integers
// and short string lengths folded in), its data, and a back-length that
// lets the list be walked backwards.

const (
	lpHeaderSize = 6
	lpEOF        = 0xff
)

// LPElem is one decoded listpack element: a string (S non-nil, possibly
// empty) or an integer.
type LPElem struct {
	S     []byte
	I     int64
	IsStr bool
}

// Bytes returns the element as a string, formatting integers.
func (e LPElem) Bytes() []byte {
	if e.IsStr {
		return e.S
	}
	return strconv.AppendInt(nil, e.I, 10)
}

// Int returns the element as an integer, parsing strings.
func (e LPElem) Int() (int64, bool) {
	if !e.IsStr {
		return e.I, true
	}
	v, err := strconv.ParseInt(string(e.S), 10, 64)
	return v, err == nil
}

// lpDecodeEntry decodes the element at p, returning it and its total size
// (encoding + data + back-length), validating every byte it reads.
func lpDecodeEntry(lp []byte, p int) (LPElem, int, error) {
	end := len(lp) - 1 // the terminator
	if p >= end {
		return LPElem{}, 0, corrupt("listpack element past the end")
	}
	b := lp[p]
	var e LPElem
	var hdr, dlen int
	switch {
	case b&0x80 == 0: // 7-bit uint
		e.I, hdr = int64(b&0x7f), 1
	case b&0xc0 == 0x80: // 6-bit string
		hdr, dlen = 1, int(b&0x3f)
		e.IsStr = true
	case b&0xe0 == 0xc0: // 13-bit int
		if p+2 > end {
			return LPElem{}, 0, corrupt("listpack truncated")
		}
		u := uint64(b&0x1f)<<8 | uint64(lp[p+1])
		if u >= 1<<12 {
			e.I = int64(u) - 1<<13
		} else {
			e.I = int64(u)
		}
		hdr = 2
	case b&0xf0 == 0xe0: // 12-bit string
		if p+2 > end {
			return LPElem{}, 0, corrupt("listpack truncated")
		}
		hdr, dlen = 2, int(b&0x0f)<<8|int(lp[p+1])
		e.IsStr = true
	case b == 0xf0: // 32-bit string
		if p+5 > end {
			return LPElem{}, 0, corrupt("listpack truncated")
		}
		hdr, dlen = 5, int(binary.LittleEndian.Uint32(lp[p+1:]))
		e.IsStr = true
	case b >= 0xf1 && b <= 0xf4:
		size := [...]int{2, 3, 4, 8}[b-0xf1]
		if p+1+size > end {
			return LPElem{}, 0, corrupt("listpack truncated")
		}
		d := lp[p+1 : p+1+size]
		switch size {
		case 2:
			e.I = int64(int16(binary.LittleEndian.Uint16(d)))
		case 3:
			u := uint32(d[0]) | uint32(d[1])<<8 | uint32(d[2])<<16
			e.I = int64(int32(u<<8) >> 8)
		case 4:
			e.I = int64(int32(binary.LittleEndian.Uint32(d)))
		default:
			e.I = int64(binary.LittleEndian.Uint64(d))
		}
		hdr = 1 + size
	default:
		return LPElem{}, 0, corrupt("bad listpack encoding 0x%x", b)
	}
	body := hdr + dlen
	if dlen < 0 || p+body > end {
		return LPElem{}, 0, corrupt("listpack element past the end")
	}
	if e.IsStr {
		e.S = lp[p+hdr : p+body : p+body]
	}
	bl := lpBacklenSize(body)
	if p+body+bl > end {
		return LPElem{}, 0, corrupt("listpack back-length past the end")
	}
	if v, ok := lpDecodeBacklen(lp[p+body : p+body+bl]); !ok || v != body {
		return LPElem{}, 0, corrupt("listpack back-length mismatch")
	}
	return e, body + bl, nil
}

func lpBacklenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// lpDecodeBacklen reads a back-length laid out left to right: the
// leftmost byte without the continuation bit, the rightmost holding the
// least significant 7 bits.
func lpDecodeBacklen(b []byte) (int, bool) {
	v := 0
	for i := len(b) - 1; i >= 0; i-- {
		cont := b[i]&0x80 != 0
		if (i > 0) != cont {
			return 0, false
		}
		v |= int(b[i]&0x7f) << (7 * (len(b) - 1 - i))
	}
	return v, true
}

func lpAppendBacklen(dst []byte, l int) []byte {
	n := lpBacklenSize(l)
	for i := n - 1; i >= 0; i-- {
		b := byte(l>>(7*i)) & 0x7f
		if i != n-1 {
			b |= 0x80
		}
		dst = append(dst, b)
	}
	return dst
}

// ParseListpack validates a whole listpack (header, every element,
// terminator, count) and returns its elements. Strings alias lp.
func ParseListpack(lp []byte) ([]LPElem, error) {
	var out []LPElem
	err := WalkListpack(lp, func(e LPElem) error { out = append(out, e); return nil })
	return out, err
}

// WalkListpack validates lp and calls fn with each element in order.
func WalkListpack(lp []byte, fn func(LPElem) error) error {
	if len(lp) < lpHeaderSize+1 {
		return corrupt("listpack too short")
	}
	if int(binary.LittleEndian.Uint32(lp)) != len(lp) {
		return corrupt("listpack size mismatch")
	}
	if lp[len(lp)-1] != lpEOF {
		return corrupt("listpack without terminator")
	}
	hdrCount := int(binary.LittleEndian.Uint16(lp[4:]))
	n := 0
	for p := lpHeaderSize; p < len(lp)-1; {
		e, size, err := lpDecodeEntry(lp, p)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
		p += size
		n++
	}
	if hdrCount != math.MaxUint16 && hdrCount != n {
		return corrupt("listpack count mismatch")
	}
	return nil
}

// ListpackBuilder builds a listpack in Redis's format.
type ListpackBuilder struct {
	b []byte
	n int
}

// NewListpackBuilder returns an empty builder.
func NewListpackBuilder() *ListpackBuilder {
	return &ListpackBuilder{b: make([]byte, lpHeaderSize, 256)}
}

// Len returns the number of elements so far.
func (lb *ListpackBuilder) Len() int { return lb.n }

// Size returns the size the listpack has so far (terminator included).
func (lb *ListpackBuilder) Size() int { return len(lb.b) + 1 }

// Append adds s, stored as an integer when it is one (as lpAppend does).
func (lb *ListpackBuilder) Append(s []byte) {
	if len(s) > 0 && len(s) <= 20 {
		if v, err := strconv.ParseInt(string(s), 10, 64); err == nil {
			var tmp [20]byte
			if string(strconv.AppendInt(tmp[:0], v, 10)) == string(s) {
				lb.AppendInt(v)
				return
			}
		}
	}
	start := len(lb.b)
	switch l := len(s); {
	case l < 64:
		lb.b = append(lb.b, 0x80|byte(l))
	case l < 4096:
		lb.b = append(lb.b, 0xe0|byte(l>>8), byte(l))
	default:
		lb.b = append(lb.b, 0xf0)
		lb.b = binary.LittleEndian.AppendUint32(lb.b, uint32(l))
	}
	lb.b = append(lb.b, s...)
	lb.b = lpAppendBacklen(lb.b, len(lb.b)-start)
	lb.n++
}

// AppendInt adds an integer in the smallest encoding that holds it.
func (lb *ListpackBuilder) AppendInt(v int64) {
	start := len(lb.b)
	switch {
	case v >= 0 && v <= 127:
		lb.b = append(lb.b, byte(v))
	case v >= -4096 && v <= 4095:
		u := uint64(v) & 0x1fff
		lb.b = append(lb.b, 0xc0|byte(u>>8), byte(u))
	case v >= math.MinInt16 && v <= math.MaxInt16:
		lb.b = binary.LittleEndian.AppendUint16(append(lb.b, 0xf1), uint16(v))
	case v >= -1<<23 && v < 1<<23:
		u := uint32(v)
		lb.b = append(lb.b, 0xf2, byte(u), byte(u>>8), byte(u>>16))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		lb.b = binary.LittleEndian.AppendUint32(append(lb.b, 0xf3), uint32(v))
	default:
		lb.b = binary.LittleEndian.AppendUint64(append(lb.b, 0xf4), uint64(v))
	}
	lb.b = lpAppendBacklen(lb.b, len(lb.b)-start)
	lb.n++
}

// Bytes finishes the listpack and returns it; the builder may not be
// used afterwards.
func (lb *ListpackBuilder) Bytes() []byte {
	b := append(lb.b, lpEOF)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	n := lb.n
	if n >= math.MaxUint16 {
		n = math.MaxUint16
	}
	binary.LittleEndian.PutUint16(b[4:], uint16(n))
	return b
}
