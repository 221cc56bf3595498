package rdb

import (
	"encoding/binary"
	"math"
)

// The legacy encodings RDB files from older Redis versions contain:
// ziplists (lists, hashes, sorted sets before 7.0), intsets and zipmaps
// (hashes before 2.6). They are only read, and always fully validated.

// ParseZiplist validates a ziplist and returns its elements.
func ParseZiplist(zl []byte) ([]LPElem, error) {
	const hdr = 10
	if len(zl) < hdr+1 {
		return nil, corrupt("ziplist too short")
	}
	if int(binary.LittleEndian.Uint32(zl)) != len(zl) {
		return nil, corrupt("ziplist size mismatch")
	}
	tail := int(binary.LittleEndian.Uint32(zl[4:]))
	count := int(binary.LittleEndian.Uint16(zl[8:]))
	if zl[len(zl)-1] != 0xff {
		return nil, corrupt("ziplist without terminator")
	}
	end := len(zl) - 1
	var out []LPElem
	prevLen, lastStart := 0, hdr
	p := hdr
	for p < end {
		start := p
		// prevlen
		var pl int
		if zl[p] < 254 {
			pl = int(zl[p])
			p++
		} else if zl[p] == 254 {
			if p+5 > end {
				return nil, corrupt("ziplist truncated")
			}
			pl = int(binary.LittleEndian.Uint32(zl[p+1:]))
			p += 5
		} else {
			return nil, corrupt("bad ziplist prevlen")
		}
		if pl != prevLen {
			return nil, corrupt("ziplist prevlen mismatch")
		}
		if p >= end {
			return nil, corrupt("ziplist truncated")
		}
		b := zl[p]
		var e LPElem
		var dlen int
		switch b >> 6 {
		case 0:
			dlen, p = int(b&0x3f), p+1
			e.IsStr = true
		case 1:
			if p+2 > end {
				return nil, corrupt("ziplist truncated")
			}
			dlen, p = int(b&0x3f)<<8|int(zl[p+1]), p+2
			e.IsStr = true
		case 2:
			if b != 0x80 || p+5 > end {
				return nil, corrupt("bad ziplist string encoding")
			}
			dlen, p = int(binary.BigEndian.Uint32(zl[p+1:])), p+5
			e.IsStr = true
		default:
			p++
			switch {
			case b == 0xc0:
				dlen = 2
			case b == 0xd0:
				dlen = 4
			case b == 0xe0:
				dlen = 8
			case b == 0xf0:
				dlen = 3
			case b == 0xfe:
				dlen = 1
			case b >= 0xf1 && b <= 0xfd:
				e.I = int64(b&0x0f) - 1
			default:
				return nil, corrupt("bad ziplist encoding 0x%x", b)
			}
		}
		if dlen < 0 || p+dlen > end {
			return nil, corrupt("ziplist entry past the end")
		}
		d := zl[p : p+dlen : p+dlen]
		if e.IsStr {
			e.S = d
		} else {
			switch dlen {
			case 1:
				e.I = int64(int8(d[0]))
			case 2:
				e.I = int64(int16(binary.LittleEndian.Uint16(d)))
			case 3:
				u := uint32(d[0]) | uint32(d[1])<<8 | uint32(d[2])<<16
				e.I = int64(int32(u<<8) >> 8)
			case 4:
				e.I = int64(int32(binary.LittleEndian.Uint32(d)))
			case 8:
				e.I = int64(binary.LittleEndian.Uint64(d))
			}
		}
		p += dlen
		prevLen = p - start
		lastStart = start
		out = append(out, e)
	}
	if len(out) > 0 && tail != lastStart || len(out) == 0 && tail != hdr {
		return nil, corrupt("ziplist tail offset mismatch")
	}
	if count != math.MaxUint16 && count != len(out) {
		return nil, corrupt("ziplist count mismatch")
	}
	return out, nil
}

// ParseIntset validates an intset (encoding width, length, strictly
// ascending members) and returns its members.
func ParseIntset(is []byte) ([]int64, error) {
	if len(is) < 8 {
		return nil, corrupt("intset too short")
	}
	w := int(binary.LittleEndian.Uint32(is))
	if w != 2 && w != 4 && w != 8 {
		return nil, corrupt("bad intset encoding %d", w)
	}
	n := int(binary.LittleEndian.Uint32(is[4:]))
	if n == 0 || uint64(n)*uint64(w)+8 != uint64(len(is)) {
		return nil, corrupt("intset size mismatch")
	}
	out := make([]int64, n)
	for i := range out {
		d := is[8+i*w:]
		switch w {
		case 2:
			out[i] = int64(int16(binary.LittleEndian.Uint16(d)))
		case 4:
			out[i] = int64(int32(binary.LittleEndian.Uint32(d)))
		default:
			out[i] = int64(binary.LittleEndian.Uint64(d))
		}
		if i > 0 && out[i] <= out[i-1] {
			return nil, corrupt("intset not sorted")
		}
	}
	return out, nil
}

// BuildIntset encodes sorted, distinct members as a Redis intset.
func BuildIntset(vals []int64) []byte {
	w := 2
	for _, v := range vals {
		switch {
		case v < math.MinInt32 || v > math.MaxInt32:
			w = 8
		case (v < math.MinInt16 || v > math.MaxInt16) && w < 4:
			w = 4
		}
	}
	b := make([]byte, 8, 8+w*len(vals))
	binary.LittleEndian.PutUint32(b, uint32(w))
	binary.LittleEndian.PutUint32(b[4:], uint32(len(vals)))
	for _, v := range vals {
		switch w {
		case 2:
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		case 4:
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		default:
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	}
	return b
}

// ParseZipmap validates a zipmap and returns its fields and values,
// alternating.
func ParseZipmap(zm []byte) ([][]byte, error) {
	if len(zm) < 2 || zm[len(zm)-1] != 0xff {
		return nil, corrupt("bad zipmap")
	}
	end := len(zm) - 1
	readLen := func(p int) (int, int, error) {
		if p >= end {
			return 0, 0, corrupt("zipmap truncated")
		}
		if zm[p] < 254 {
			return int(zm[p]), p + 1, nil
		}
		if zm[p] == 255 || p+5 > end {
			return 0, 0, corrupt("bad zipmap length")
		}
		return int(binary.LittleEndian.Uint32(zm[p+1:])), p + 5, nil
	}
	var out [][]byte
	p := 1
	for p < end {
		l, q, err := readLen(p)
		if err != nil {
			return nil, err
		}
		if l > end-q {
			return nil, corrupt("zipmap field past the end")
		}
		f := zm[q : q+l : q+l]
		p = q + l
		l, q, err = readLen(p)
		if err != nil {
			return nil, err
		}
		if q >= end {
			return nil, corrupt("zipmap truncated")
		}
		free := int(zm[q])
		q++
		if l > end-q || free > end-q-l {
			return nil, corrupt("zipmap value past the end")
		}
		out = append(out, f, zm[q:q+l:q+l])
		p = q + l + free
	}
	n := len(out) / 2
	if n == 0 || (zm[0] != 254 && int(zm[0]) != n) {
		return nil, corrupt("zipmap count mismatch")
	}
	return out, nil
}
