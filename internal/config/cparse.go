package config

import (
	"math"
	"strconv"
	"strings"
)

// Number parsing and formatting helpers reproducing the exact acceptance
// rules of the C functions Redis uses for configuration values, since users
// rely on their quirks (e.g. "maxmemory ''" means 0).

// string2ll parses s strictly as a decimal int64: optional '-', no leading
// zeros (except "0" itself), no spaces or '+', at most 20 characters.
func string2ll(s string) (int64, bool) {
	if len(s) == 0 || len(s) >= 21 {
		return 0, false
	}
	if s == "0" {
		return 0, true
	}
	i, neg := 0, false
	if s[0] == '-' {
		neg = true
		i++
		if i == len(s) {
			return 0, false
		}
	}
	if s[i] < '1' || s[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		if v > math.MaxUint64-uint64(c-'0') {
			return 0, false
		}
		v += uint64(c - '0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// isCSpace reports whether c is a C-locale isspace character.
func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// strtoll emulates C strtoll(s, &end, base) for base 8 or 10: it skips
// leading white space, accepts an optional sign and as many digits as
// possible, saturating at the int64 limits (overflow is then true). rest is
// the unparsed remainder; when no digit was found rest is the whole of s,
// exactly like the C end pointer.
func strtoll(s string, base int) (v int64, rest string, overflow bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var u uint64
	limit := uint64(math.MaxInt64)
	if neg {
		limit = 1 << 63
	}
	for i < len(s) {
		d := int(s[i]) - '0'
		if d < 0 || d >= base {
			break
		}
		if !overflow {
			if u > (limit-uint64(d))/uint64(base) {
				overflow = true
			} else {
				u = u*uint64(base) + uint64(d)
			}
		}
		i++
	}
	if i == start {
		return 0, s, false
	}
	switch {
	case overflow && neg:
		v = math.MinInt64
	case overflow:
		v = math.MaxInt64
	case neg:
		v = -int64(u)
	default:
		v = int64(u)
	}
	return v, s[i:], overflow
}

// memtoull emulates Redis's memtoull: a run of decimal digits (possibly
// empty, meaning 0) followed by an optional unit among b, k, kb, m, mb, g,
// gb (case-insensitive). Negative numbers are rejected. Like the C code,
// digit overflow saturates and the unit multiplication wraps around.
func memtoull(s string) (uint64, bool) {
	if len(s) > 0 && s[0] == '-' {
		return 0, false
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	var mul uint64
	switch u := strings.ToLower(s[i:]); u {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	if i >= 128 {
		return 0, false
	}
	var v uint64
	for _, c := range []byte(s[:i]) {
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			v = math.MaxUint64
			break
		}
		v = v*10 + d
	}
	return v * mul, true
}

// formatMemory writes bytes using the largest of the gb, mb, kb units that
// divides it exactly, as CONFIG REWRITE does.
func formatMemory(bytes int64) string {
	const kb, mb, gb = 1024, 1024 * 1024, 1024 * 1024 * 1024
	switch {
	case bytes != 0 && bytes%gb == 0:
		return strconv.FormatInt(bytes/gb, 10) + "gb"
	case bytes != 0 && bytes%mb == 0:
		return strconv.FormatInt(bytes/mb, 10) + "mb"
	case bytes != 0 && bytes%kb == 0:
		return strconv.FormatInt(bytes/kb, 10) + "kb"
	}
	return strconv.FormatInt(bytes, 10)
}

// formatMemoryUnsigned is formatMemory for values of unsigned C types.
func formatMemoryUnsigned(bytes uint64) string {
	if bytes <= math.MaxInt64 {
		return formatMemory(int64(bytes))
	}
	const kb, mb, gb = 1024, 1024 * 1024, 1024 * 1024 * 1024
	switch {
	case bytes%gb == 0:
		return strconv.FormatUint(bytes/gb, 10) + "gb"
	case bytes%mb == 0:
		return strconv.FormatUint(bytes/mb, 10) + "mb"
	case bytes%kb == 0:
		return strconv.FormatUint(bytes/kb, 10) + "kb"
	}
	return strconv.FormatUint(bytes, 10)
}

// formatPercentile formats f like printf("%f") with trailing zeros (and a
// trailing dot) removed.
func formatPercentile(f float64) string {
	s := strconv.FormatFloat(f, 'f', 6, 64)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

// string2d parses s strictly as a float64 like Redis's string2d: no leading
// space, the whole string consumed, no NaN, no overflow.
func string2d(s string) (float64, bool) {
	if len(s) == 0 || isCSpace(s[0]) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// toLowerASCII lower-cases ASCII letters only (like sdstolower / tolower in
// the C locale) and avoids allocating when s is already lower-case.
func toLowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lower(b[j])
			}
			return string(b)
		}
	}
	return s
}

// capitalize upper-cases the first byte of s, turning Go's lower-case errno
// texts into C strerror texts ("no such file or directory" -> "No such file
// or directory").
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-('a'-'A')) + s[1:]
}
