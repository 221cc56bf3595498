package resp

import (
	"math"
	"strconv"
)

// maxIntLen is the longest decimal text ParseInt accepts: Redis's string2ll
// rejects strings of LONG_STR_SIZE (21) bytes or more.
const maxIntLen = 20

// ParseInt parses b as a signed 64-bit decimal integer, accepting exactly
// what Redis's string2ll accepts: an optional '-', then either "0" alone or
// a digit 1-9 followed by digits, with no '+', no leading zeros, no spaces,
// no "-0", at most 20 bytes, and a value that fits in an int64. It reports
// false for anything else.
func ParseInt(b []byte) (int64, bool) {
	n := len(b)
	if n == 0 || n > maxIntLen {
		return 0, false
	}
	if n == 1 && b[0] == '0' {
		return 0, true
	}
	i := 0
	neg := b[0] == '-'
	if neg {
		i = 1
		if n == 1 {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	v := uint64(b[i] - '0')
	for i++; i < n; i++ {
		d := b[i] - '0'
		if d > 9 {
			return 0, false
		}
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		if v > math.MaxUint64-uint64(d) {
			return 0, false
		}
		v += uint64(d)
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true // for v == 1<<63 this wraps to math.MinInt64
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// maxExactInt is (double)(LLONG_MAX/2), i.e. 2^62: Redis prints integral
// doubles within ±maxExactInt as plain integers.
const maxExactInt = 1 << 62

// AppendDouble appends f formatted the way Redis 7.2's d2string does (used by
// its double replies and for sorted-set scores): "nan", "inf", "-inf", "0",
// "-0"; integral values within ±2^62 as plain integers ("3", "-12"); any
// other value from its shortest round-tripping digits, laid out by
// fpconv_dtoa's rules. With n digits and value = digits × 10^k:
//   - 0 <= k < 8: the digits and k zeros ("12345678901230000000");
//   - -7 < k < 0, or k <= -7 with a scientific exponent within ±3: plain
//     decimal ("1.5", "0.000001", "123.4567891");
//   - otherwise scientific, the exponent signed and not zero-padded
//     ("1e+20", "1.5e-7", "1.2345678901234567e+4", "1e-300").
func AppendDouble(dst []byte, f float64) []byte {
	if f != 0 && f >= -maxExactInt && f <= maxExactInt {
		if i := int64(f); float64(i) == f {
			return strconv.AppendInt(dst, i, 10)
		}
	}
	return AppendFpconv(dst, f)
}

// AppendFpconv is fpconv_dtoa itself: AppendDouble without its integer
// shortcut, so 1e15 is "1e+15". Redis converts Lua numbers this way.
func AppendFpconv(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	// The shortest round-tripping digits, as "-d.ddde±XX".
	var scratch [32]byte
	s := strconv.AppendFloat(scratch[:0], f, 'e', -1, 64)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
		dst = append(dst, '-')
	}
	var digits [24]byte
	nd := 0
	i := 0
	for ; i < len(s) && s[i] != 'e'; i++ {
		if s[i] != '.' {
			digits[nd] = s[i]
			nd++
		}
	}
	// s[i] == 'e'; s[i+1] is the sign.
	e := 0
	for _, c := range s[i+2:] {
		e = e*10 + int(c-'0')
	}
	if s[i+1] == '-' {
		e = -e
	}
	return emitDigits(dst, digits[:nd], e-(nd-1))
}

// emitDigits lays out the value digits×10^k following fpconv_dtoa's
// conventions (see AppendDouble).
func emitDigits(dst, digits []byte, k int) []byte {
	nd := len(digits)
	exp := k + nd - 1 // the exponent of the scientific form
	absExp := exp
	if absExp < 0 {
		absExp = -absExp
	}
	// Plain integer: at most 7 zeros to append.
	if k >= 0 && absExp < nd+7 {
		dst = append(dst, digits...)
		for ; k > 0; k-- {
			dst = append(dst, '0')
		}
		return dst
	}
	// Plain decimal.
	if k < 0 && (k > -7 || absExp < 4) {
		offset := nd + k
		if offset <= 0 {
			dst = append(dst, '0', '.')
			for ; offset < 0; offset++ {
				dst = append(dst, '0')
			}
			return append(dst, digits...)
		}
		dst = append(dst, digits[:offset]...)
		dst = append(dst, '.')
		return append(dst, digits[offset:]...)
	}
	// Scientific: d[.ddd]e±X, the exponent written without padding
	// (1e+5, 1e+20, 1e+100, 1e+105).
	dst = append(dst, digits[0])
	if nd > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	if exp < 0 {
		dst = append(dst, 'e', '-')
	} else {
		dst = append(dst, 'e', '+')
	}
	return strconv.AppendInt(dst, int64(absExp), 10)
}
