package config

import (
	"math/rand"
	"strings"
	"testing"
	"time"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		nocase     bool
		want       bool
	}{
		{"", "", false, true},
		{"", "a", false, false},
		{"a", "", false, false},
		{"*", "", false, false}, // Redis quirk: the loop never runs on an empty subject
		{"*", "anything", false, true},
		{"**", "x", false, true},
		{"h?llo", "hello", false, true},
		{"h?llo", "hllo", false, false},
		{"h*llo", "hllo", false, true},
		{"h*llo", "heeeello", false, true},
		{"h*llo*", "hello world", false, true},
		{"*llo", "hello", false, true},
		{"*llo", "hell", false, false},
		{"a*", "a", false, true},
		{"a**", "a", false, true},
		{"a*b*c", "aXbYc", false, true},
		{"a*b*c", "aXbY", false, false},
		{"h[ae]llo", "hello", false, true},
		{"h[ae]llo", "hallo", false, true},
		{"h[ae]llo", "hillo", false, false},
		{"h[^e]llo", "hallo", false, true},
		{"h[^e]llo", "hello", false, false},
		{"h[a-b]llo", "hbllo", false, true},
		{"h[b-a]llo", "hbllo", false, true}, // reversed range
		{"h[a-b]llo", "hcllo", false, false},
		{"[a-]", "-", false, false}, // a range from 'a' to ']' (reversed), like Redis
		{"[a-]", "^", false, true},  // ...
		{"[a-]", "a", false, true},  // ...
		{"[-a]", "-", false, true},  // a leading '-' is literal
		{"[]", "]", false, false},   // empty class matches nothing
		{"[]a]", "]", false, false}, // ']' closes the class immediately
		{"[\\]]", "]", false, true},
		{"[\\^]", "^", false, true},
		{"[a\\-z]", "-", false, true},
		{"[a\\-z]", "b", false, false},
		{"h\\*llo", "h*llo", false, true},
		{"h\\*llo", "hello", false, false},
		{"\\", "\\", false, true}, // trailing backslash is literal
		{"a\\", "a\\", false, true},
		{"[abc", "a", false, true},  // unterminated class runs to the end
		{"[abc", "d", false, false}, // ...
		{"[^", "x", false, true},    // "[^" matches any single byte
		{"[", "x", false, false},    // "[" matches nothing
		{"x[", "x", false, false},   // ... and needs a byte
		{"[a-", "-", false, true},   // not a range (pattern too short)
		{"HELLO", "hello", false, false},
		{"HELLO", "hello", true, true},
		{"H*O", "hello", true, true},
		{"h[A-Z]llo", "hello", true, true},
		{"h[A-Z]llo", "hello", false, false},
		{"h[E]llo", "hello", true, true},
		{"h[\\E]llo", "hello", true, false}, // escaped class bytes are case-sensitive
		{"maxmemory*", "maxmemory-policy", true, true},
		{"*max*", "hash-max-listpack-entries", true, true},
		{"\xff", "\xff", false, true},
		{"[a-\xff]", "\x80", false, false}, // signed-char range like Redis on x86-64
		{"[\x80-\xff]", "\x90", false, true},
	}
	for _, tt := range tests {
		if got := GlobMatchString(tt.pattern, tt.s, tt.nocase); got != tt.want {
			t.Errorf("GlobMatchString(%q, %q, %v) = %v, want %v", tt.pattern, tt.s, tt.nocase, got, tt.want)
		}
		if got := GlobMatch([]byte(tt.pattern), []byte(tt.s), tt.nocase); got != tt.want {
			t.Errorf("GlobMatch(%q, %q, %v) = %v, want %v", tt.pattern, tt.s, tt.nocase, got, tt.want)
		}
	}
}

// naiveGlob is a straightforward exponential matcher with the same syntax,
// used as a reference for the optimized one on small random inputs.
func naiveGlob(p, s string, nocase bool) bool {
	eq := func(a, b byte) bool {
		if nocase {
			return lower(a) == lower(b)
		}
		return a == b
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if naiveGlob(p[1:], s, nocase) {
					return true
				}
				s = s[1:]
			}
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for {
				if len(p) == 0 {
					p = " " // so that the trailing p = p[1:] empties it
					break
				}
				if p[0] == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if p[0] == ']' {
					break
				} else if len(p) >= 3 && p[1] == '-' {
					lo, hi, c := int8(p[0]), int8(p[2]), int8(s[0])
					if lo > hi {
						lo, hi = hi, lo
					}
					if nocase {
						lo, hi, c = int8(lower(byte(lo))), int8(lower(byte(hi))), int8(lower(byte(c)))
					}
					p = p[2:]
					if c >= lo && c <= hi {
						match = true
					}
				} else if eq(p[0], s[0]) {
					match = true
				}
				p = p[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
			p = p[1:]
			goto next
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if !eq(p[0], s[0]) {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
	next:
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}

func TestGlobMatchAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const palette = "ab*?[]^-\\A"
	gen := func(n int, chars string) string {
		b := make([]byte, rng.Intn(n))
		for i := range b {
			b[i] = chars[rng.Intn(len(chars))]
		}
		return string(b)
	}
	for i := 0; i < 200000; i++ {
		p := gen(8, palette)
		s := gen(8, "abAB-]^*")
		nocase := i%2 == 0
		if got, want := GlobMatchString(p, s, nocase), naiveGlob(p, s, nocase); got != want {
			t.Fatalf("GlobMatchString(%q, %q, %v) = %v, reference says %v", p, s, nocase, got, want)
		}
	}
}

func TestGlobMatchPathological(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		// Exponential without the skip-longer-matches cut.
		{strings.Repeat("a*", 40) + "b", strings.Repeat("a", 300), false},
		{strings.Repeat("*a", 50) + "*b", strings.Repeat("a", 1000), false},
		{strings.Repeat("*?", 30) + "x", strings.Repeat("y", 5000), false},
		{strings.Repeat("*a", 20) + "*", strings.Repeat("a", 5000), true},
		// Deeper than the nesting limit: that branch is abandoned.
		{strings.Repeat("*a", 2000), strings.Repeat("a", 2000), false},
		{strings.Repeat("*a", 900), strings.Repeat("a", 900), true},
	}
	for _, tc := range cases {
		start := time.Now()
		got := GlobMatchString(tc.pattern, tc.s, false)
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("pattern of length %d took %v", len(tc.pattern), el)
		}
		if got != tc.want {
			t.Errorf("pattern %.20q... on %d bytes = %v, want %v", tc.pattern, len(tc.s), got, tc.want)
		}
	}
}

func TestGlobMatchDoesNotAllocate(t *testing.T) {
	p, s := []byte("*foo*[a-z]?bar\\*"), []byte("xxfooxyzbar*")
	ps, ss := "h*[^x]l?o*", "hello world"
	allocs := testing.AllocsPerRun(1000, func() {
		GlobMatch(p, s, true)
		GlobMatchString(ps, ss, false)
	})
	if allocs != 0 {
		t.Fatalf("GlobMatch allocates %v times per run", allocs)
	}
}

func FuzzGlobMatch(f *testing.F) {
	f.Add("h*llo", "hello", false)
	f.Add("[a-", "x", true)
	f.Add("\\", "", false)
	f.Fuzz(func(t *testing.T, p, s string, nocase bool) {
		if len(p) > 12 || len(s) > 12 {
			return
		}
		if got, want := GlobMatchString(p, s, nocase), naiveGlob(p, s, nocase); got != want {
			t.Fatalf("GlobMatchString(%q, %q, %v) = %v, reference says %v", p, s, nocase, got, want)
		}
	})
}

func BenchmarkGlobMatch(b *testing.B) {
	p, s := []byte("user:*:session:[0-9]*"), []byte("user:12345:session:98765")
	for i := 0; i < b.N; i++ {
		GlobMatch(p, s, false)
	}
}
