package commands

import (
	"math/big"
)

// INCRBYFLOAT computes in C's long double, which on the x86-64 builds Redis
// ships is the x87 80-bit extended format: a 64-bit significand and an
// exponent reaching about 1.19e4932. Results like INCRBYFLOAT 10.5 0.1 =
// "10.6" (where float64 would print 10.59999999999999964) and the exact
// digits Redis prints for 1e308 depend on that precision, so it is emulated
// with math/big floats rounded to 64 bits, with the extended format's range
// checked by hand. This is the slow path of a rarely hot command; big.Float
// allocates, which is acceptable here.
const (
	ldPrec = 64
	// ldMaxExp: finite values satisfy |x| < 2^16384; big.Float's MantExp
	// exponent e (x = m·2^e, 0.5 ≤ |m| < 1) is then at most 16384.
	ldMaxExp = 16384
	// ldZeroExp: at or below this MantExp exponent a value is under half the
	// smallest subnormal (2^-16445) and strtold returns zero with ERANGE.
	ldZeroExp = -16446
	// ldMaxChars is Redis's MAX_LONG_DOUBLE_CHARS: the longest number text
	// it parses (exclusive) and the buffer its formatting must fit in.
	ldMaxChars = 5 * 1024
)

// ldouble is a long double value: f when finite, or an infinity (inf = ±1).
type ldouble struct {
	f   *big.Float
	inf int
}

func newLD() *big.Float { return new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven) }

// ldFromInt converts an int-encoded value; 64 significand bits hold any int64.
func ldFromInt(n int64) ldouble { return ldouble{f: newLD().SetInt64(n)} }

// ldParse parses b as Redis's string2ld does: strtold must consume the
// whole text, which must not start with white space, must not be NaN, and
// must not overflow or underflow to zero. strtold's grammar is accepted:
// an optional sign, then a decimal number with optional exponent, a
// hexadecimal number ("0x1.8p3") or "inf"/"infinity" in any case.
func ldParse(b []byte) (ldouble, bool) {
	if len(b) == 0 || len(b) >= ldMaxChars {
		return ldouble{}, false
	}
	switch b[0] {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return ldouble{}, false
	}
	i := 0
	neg := false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		i = 1
	}
	rest := b[i:]
	if strKW(rest, "INF") || strKW(rest, "INFINITY") {
		if neg {
			return ldouble{inf: -1}, true
		}
		return ldouble{inf: 1}, true
	}
	if len(rest) >= 2 && rest[0] == '0' && rest[1]|0x20 == 'x' {
		return ldParseHex(b, rest[2:], neg)
	}
	return ldParseDec(b, rest, neg)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || ('a' <= c|0x20 && c|0x20 <= 'f')
}

// ldExponent parses an exponent's digits (after 'e' or 'p' and a sign),
// saturating far beyond any meaningful range; it reports false when there
// are no digits (strtold would then stop before the 'e', leaving text).
func ldExponent(s []byte) (int, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, false
	}
	e := 0
	for _, c := range s {
		if !isDigit(c) {
			return 0, false
		}
		if e < 1<<30 {
			e = e*10 + int(c-'0')
		}
	}
	if neg {
		e = -e
	}
	return e, true
}

// ldParseDec handles digits[.digits][e[±]digits].
func ldParseDec(all, s []byte, neg bool) (ldouble, bool) {
	j := 0
	intDigits, fracDigits := 0, 0
	for j < len(s) && isDigit(s[j]) {
		j++
		intDigits++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
			fracDigits++
		}
	}
	if intDigits+fracDigits == 0 {
		return ldouble{}, false
	}
	exp := 0
	if j < len(s) {
		if s[j]|0x20 != 'e' {
			return ldouble{}, false
		}
		e, ok := ldExponent(s[j+1:])
		if !ok {
			return ldouble{}, false
		}
		exp = e
	}
	// Decimal magnitude of the leading non-zero digit, to refuse values far
	// outside the range before big.Float computes a giant power of ten.
	mag, nonzero := 0, false
	for k := 0; k < intDigits; k++ {
		if s[k] != '0' {
			mag, nonzero = intDigits-k-1, true
			break
		}
	}
	if !nonzero {
		for k := 0; k < fracDigits; k++ {
			if s[intDigits+1+k] != '0' {
				mag, nonzero = -(k + 1), true
				break
			}
		}
	}
	if !nonzero {
		z := newLD()
		if neg {
			z.Neg(z)
		}
		return ldouble{f: z}, true
	}
	switch mag += exp; {
	case mag > 4933:
		return ldouble{}, false // overflow: HUGE_VAL with ERANGE
	case mag < -4960:
		return ldouble{}, false // underflow to zero with ERANGE
	}
	// Let big.Float round the exact decimal. It reads the mantissa as an
	// integer and scales it by the exponent, so hand it a normalized form.
	f := newLD()
	if _, _, err := f.Parse(string(all), 10); err != nil {
		return ldouble{}, false
	}
	return ldCheckParsed(f)
}

// ldParseHex handles 0xH[.H][p[±]digits] (s is after "0x").
func ldParseHex(all, s []byte, neg bool) (ldouble, bool) {
	j, digits := 0, 0
	lead := -1 // binary magnitude estimate of the first non-zero digit
	intDigits := 0
	for j < len(s) && isHexDigit(s[j]) {
		j++
		intDigits++
		digits++
	}
	for k := 0; k < intDigits; k++ {
		if s[k] != '0' {
			lead = 4 * (intDigits - k)
			break
		}
	}
	if j < len(s) && s[j] == '.' {
		j++
		k := 0
		for j < len(s) && isHexDigit(s[j]) {
			if lead < 0 && s[j] != '0' {
				lead = -4 * k
			}
			j++
			k++
			digits++
		}
	}
	if digits == 0 {
		return ldouble{}, false
	}
	exp := 0
	if j < len(s) {
		if s[j]|0x20 != 'p' {
			return ldouble{}, false
		}
		e, ok := ldExponent(s[j+1:])
		if !ok {
			return ldouble{}, false
		}
		exp = e
	}
	if lead < 0 {
		z := newLD()
		if neg {
			z.Neg(z)
		}
		return ldouble{f: z}, true
	}
	if m := lead + exp; m > ldMaxExp+8 || m < ldZeroExp-8 {
		return ldouble{}, false
	}
	text := string(all)
	if j == len(s) || s[j]|0x20 != 'p' {
		text += "p0" // big.Float wants the binary exponent of a hex mantissa
	}
	f := newLD()
	if _, _, err := f.Parse(text, 0); err != nil {
		return ldouble{}, false
	}
	return ldCheckParsed(f)
}

// ldCheckParsed applies strtold's range errors to a rounded value.
func ldCheckParsed(f *big.Float) (ldouble, bool) {
	if f.Sign() == 0 {
		return ldouble{f: f}, true
	}
	m := new(big.Float)
	e := f.MantExp(m)
	if e > ldMaxExp || e <= ldZeroExp {
		return ldouble{}, false
	}
	// Exactly half the smallest subnormal rounds (to even) to zero.
	if e == ldZeroExp+1 && m.Abs(m).Cmp(big.NewFloat(0.5)) == 0 {
		return ldouble{}, false
	}
	return ldouble{f: f}, true
}

// ldAdd adds two long doubles; ok is false when the sum is NaN or infinite.
func ldAdd(a, b ldouble) (ldouble, bool) {
	if a.inf != 0 || b.inf != 0 {
		return ldouble{}, false
	}
	r := newLD().Add(a.f, b.f)
	if r.Sign() != 0 && r.MantExp(nil) > ldMaxExp {
		return ldouble{}, false
	}
	return ldouble{f: r}, true
}

// ldFormatHuman formats a finite value as Redis's ld2string in
// LD_STR_HUMAN mode: printf("%.17Lf"), trailing zeros and a trailing dot
// removed, "-0" shown as "0". If the printed form does not fit Redis's
// 5 KiB buffer, ld2string fails and Redis stores an empty string.
func ldFormatHuman(dst []byte, v ldouble) []byte {
	s := v.f.Text('f', 17)
	if len(s)+1 > ldMaxChars {
		return dst
	}
	n := len(s)
	for n > 0 && s[n-1] == '0' {
		n--
	}
	if n > 0 && s[n-1] == '.' {
		n--
	}
	s = s[:n]
	if s == "-0" {
		s = "0"
	}
	return append(dst, s...)
}
