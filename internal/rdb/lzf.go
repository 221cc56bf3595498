package rdb

import "math/bits"

// LZF, the compression RDB strings use (Marc Lehmann's format, as Redis's
// lzf_c.c/lzf_d.c). A control byte below 32 announces ctrl+1 literal
// bytes; otherwise its top three bits are a match length minus 2 (7: an
// extra byte follows with more length) and its low five bits, with the
// next byte, the match offset minus 1 (up to 8 KiB back).

const (
	lzfMaxLit = 32
	lzfMaxOff = 1 << 13
	lzfMaxRef = (1 << 8) + (1 << 3) // 264
	lzfHLog   = 14
)

// lzfCompress compresses in, appending to dst[:0], and returns the
// result, or nil when it would not be shorter than limit bytes (Redis
// stores such strings uncompressed).
//
// The hash table is sized to the input (2^8 to 2^14 entries): clearing a
// fixed 64 KiB table for every 100-byte value cost four times the
// compression itself and made snapshots of small strings four times
// slower. Any table size yields valid LZF; only the ratio can differ.
func lzfCompress(dst, in []byte, limit int) []byte {
	if len(in) < 4 || limit <= 0 {
		return nil
	}
	hlog := min(max(bits.Len(uint(len(in))), 8), lzfHLog)
	var small [1 << 10]int32
	var table []int32 // position+1 of the last 3-byte sequence with this hash
	if hlog <= 10 {
		table = small[:1<<hlog]
	} else {
		table = make([]int32, 1<<hlog)
	}
	out := dst[:0]
	if cap(out) < limit {
		out = make([]byte, 0, limit)
	}
	lit := 0 // literals pending in the current run
	out = append(out, 0)
	litPos := 0 // index of the current run's control byte
	shift := 32 - hlog
	hash := func(p int) uint32 {
		v := uint32(in[p])<<16 | uint32(in[p+1])<<8 | uint32(in[p+2])
		return (v * 2654435761) >> shift
	}
	ip := 0
	// literal copies in[ip] into the current literal run, starting a new
	// run when it is full; false when the output would pass limit.
	literal := func() bool {
		if len(out)+1 > limit {
			return false
		}
		out = append(out, in[ip])
		ip++
		lit++
		if lit == lzfMaxLit {
			out[litPos] = byte(lit - 1)
			litPos = len(out)
			out = append(out, 0)
			lit = 0
		}
		return true
	}
	for ip+2 < len(in) {
		h := hash(ip)
		ref := int(table[h]) - 1
		table[h] = int32(ip + 1)
		off := ip - ref - 1
		if ref >= 0 && off < lzfMaxOff && in[ref] == in[ip] && in[ref+1] == in[ip+1] && in[ref+2] == in[ip+2] {
			// Match: extend it.
			l := 3
			maxL := min(lzfMaxRef, len(in)-ip)
			for l < maxL && in[ref+l] == in[ip+l] {
				l++
			}
			// Close the literal run (drop its control byte if empty).
			if lit == 0 {
				out = out[:len(out)-1]
			} else {
				out[litPos] = byte(lit - 1)
			}
			if len(out)+3+1 > limit {
				return nil
			}
			ln := l - 2
			if ln < 7 {
				out = append(out, byte(off>>8)|byte(ln<<5))
			} else {
				out = append(out, byte(off>>8)|7<<5, byte(ln-7))
			}
			out = append(out, byte(off))
			// Index the positions inside the match so later data finds them.
			for k := ip + 1; k < ip+l && k+2 < len(in); k++ {
				table[hash(k)] = int32(k + 1)
			}
			ip += l
			litPos = len(out)
			out = append(out, 0)
			lit = 0
			continue
		}
		if !literal() {
			return nil
		}
	}
	for ip < len(in) {
		if !literal() {
			return nil
		}
	}
	if lit == 0 {
		out = out[:len(out)-1]
	} else {
		out[litPos] = byte(lit - 1)
	}
	if len(out) >= limit {
		return nil
	}
	return out
}

// lzfDecompress expands in into exactly n bytes, or fails.
func lzfDecompress(in []byte, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	ip := 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < 32 {
			l := ctrl + 1
			if ip+l > len(in) {
				return nil, corrupt("lzf literal run past the input")
			}
			if len(out)+l > n {
				return nil, corrupt("lzf output overflow")
			}
			out = append(out, in[ip:ip+l]...)
			ip += l
			continue
		}
		l := ctrl >> 5
		if l == 7 {
			if ip >= len(in) {
				return nil, corrupt("lzf truncated match")
			}
			l += int(in[ip])
			ip++
		}
		if ip >= len(in) {
			return nil, corrupt("lzf truncated match")
		}
		ref := len(out) - (ctrl&0x1f)<<8 - int(in[ip]) - 1
		ip++
		l += 2
		if ref < 0 {
			return nil, corrupt("lzf back reference before the start")
		}
		if len(out)+l > n {
			return nil, corrupt("lzf output overflow")
		}
		for k := 0; k < l; k++ {
			out = append(out, out[ref+k])
		}
	}
	if len(out) != n {
		return nil, corrupt("lzf length mismatch")
	}
	return out, nil
}
