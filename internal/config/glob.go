package config

// Glob-style pattern matching with the semantics of Redis's stringmatchlen
// (util.c), used by CONFIG GET and meant to be shared with KEYS, SCAN MATCH
// and PSUBSCRIBE/PUBSUB CHANNELS.
//
// Supported syntax:
//
//	*        any sequence of bytes, including the empty one
//	?        exactly one byte
//	[abc]    one byte among a, b, c
//	[^abc]   one byte not among a, b, c
//	[a-z]    one byte in the range (bounds may be given in either order)
//	\x       the byte x literally (also inside brackets)
//
// An unterminated "[" class extends to the end of the pattern. Matching works
// on bytes, not runes; nocase folds ASCII letters only (like tolower in the C
// locale); range bounds compare as signed chars, as Redis does on x86-64 (so a
// range spanning bytes below and above 0x80 behaves like the reference). Escaped bytes inside a class are compared case-sensitively even
// when nocase is set, exactly as Redis does.
//
// Pathological patterns are defused the way Redis 7.2 does: once the
// remainder of a pattern after a '*' failed to match at every position of the
// remaining subject, no earlier '*' can make it match either, so the whole
// match fails immediately (this keeps "*a*a*a*...b" linear-ish instead of
// exponential); and recursion (one level per '*') is capped at
// maxGlobNesting levels, beyond which that branch is treated as a mismatch.
// The matcher never allocates.

// maxGlobNesting is the deepest '*' recursion explored before a branch is
// abandoned as a mismatch (Redis 7.2.6+, CVE-2024-31228).
const maxGlobNesting = 1000

// Results of globMatch: a match, a mismatch, or a mismatch that also tells
// every caller up the recursion to give up (Redis's skipLongerMatches).
const (
	globNoMatch = 0
	globMatch   = 1
	globAbort   = 2
)

// GlobMatch reports whether s matches the glob pattern, with Redis
// stringmatchlen semantics (see the package documentation for the syntax).
// If nocase is true ASCII letters compare case-insensitively. It does not
// allocate and is safe for concurrent use.
func GlobMatch(pattern, s []byte, nocase bool) bool {
	return globMatchImpl(pattern, s, nocase, 0) == globMatch
}

// GlobMatchString is GlobMatch for strings; it does not allocate.
func GlobMatchString(pattern, s string, nocase bool) bool {
	return globMatchImpl(pattern, s, nocase, 0) == globMatch
}

// lower folds an ASCII upper-case letter to lower case.
func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// globMatchImpl matches s against pattern. Bytes past the end of the pattern
// read as NUL, mirroring the NUL-terminated buffers the C code relies on.
func globMatchImpl[T ~string | ~[]byte](pattern, s T, nocase bool, nesting int) int {
	if nesting > maxGlobNesting {
		return globNoMatch
	}
	p, plen := 0, len(pattern)
	at := func(i int) byte {
		if i < plen {
			return pattern[i]
		}
		return 0
	}
	si, slen := 0, len(s)
	for p < plen && si < slen {
		switch pattern[p] {
		case '*':
			for p+1 < plen && pattern[p+1] == '*' {
				p++
			}
			if p+1 == plen {
				return globMatch
			}
			for si < slen {
				switch globMatchImpl(pattern[p+1:], s[si:], nocase, nesting+1) {
				case globMatch:
					return globMatch
				case globAbort:
					return globAbort
				}
				si++
			}
			// The rest of the pattern matched at no position of the rest of
			// the subject: an earlier '*' swallowing more cannot help.
			return globAbort
		case '?':
			si++
		case '[':
			p++
			not := at(p) == '^'
			if not {
				p++
			}
			match := false
			c := s[si]
			for {
				if p >= plen {
					// Unterminated class: step back so the increment
					// below lands exactly at the end of the pattern.
					p--
					break
				}
				if pattern[p] == '\\' && plen-p >= 2 {
					p++
					if pattern[p] == c {
						match = true
					}
				} else if pattern[p] == ']' {
					break
				} else if plen-p >= 3 && pattern[p+1] == '-' {
					// Like the C code, compare as (signed) chars.
					start, end, cc := int8(pattern[p]), int8(pattern[p+2]), int8(c)
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, cc = int8(lower(byte(start))), int8(lower(byte(end))), int8(lower(byte(cc)))
					}
					p += 2
					if cc >= start && cc <= end {
						match = true
					}
				} else if nocase {
					if lower(pattern[p]) == lower(c) {
						match = true
					}
				} else if pattern[p] == c {
					match = true
				}
				p++
			}
			if not {
				match = !match
			}
			if !match {
				return globNoMatch
			}
			si++
		case '\\':
			if plen-p >= 2 {
				p++
			}
			fallthrough
		default:
			if nocase {
				if lower(pattern[p]) != lower(s[si]) {
					return globNoMatch
				}
			} else if pattern[p] != s[si] {
				return globNoMatch
			}
			si++
		}
		p++
		if si == slen {
			for p < plen && pattern[p] == '*' {
				p++
			}
			break
		}
	}
	if p == plen && si == slen {
		return globMatch
	}
	return globNoMatch
}
