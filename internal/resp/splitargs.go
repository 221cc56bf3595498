package resp

import (
	"bytes"
	"errors"
	"strings"
)

// ErrUnbalancedQuotes is returned by SplitArgs when a quoted token is not
// closed, or when a closing quote is followed by something other than a
// space or the end of the line (as in `"foo"bar`).
var ErrUnbalancedQuotes = errors.New("unbalanced quotes")

// SplitArgs splits line into arguments exactly as Redis's sdssplitargs does.
// It is used for inline commands and for configuration files.
//
// Arguments are separated by blanks (space, \t, \n, \v, \f, \r). A token may
// contain "double quoted" parts, in which \n \r \t \b \a are the usual escapes,
// \xHH is a byte given in hex, and a backslash followed by any other byte
// stands for that byte; and 'single quoted' parts, in which only \' is an
// escape. A closing quote must be followed by a blank or the end of the line,
// otherwise ErrUnbalancedQuotes is returned, as it is for an unclosed quote.
// Quotes may start in the middle of a token: foo"bar" is the single argument
// foobar. An empty quoted string ("") is an empty argument. As in Redis, which
// works on C strings, a NUL byte ends the line: anything after it is ignored.
//
// A line with no arguments yields a slice of length 0 and a nil error. The
// returned arguments share one freshly allocated copy of line; the input is
// never modified.
func SplitArgs(line []byte) ([][]byte, error) {
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	cp := make([]byte, len(line))
	copy(cp, line)
	args, err := splitInPlace(cp, nil)
	if err != nil {
		return nil, err
	}
	return args, nil
}

// isBlank reports whether c is a blank for C's isspace in the "C" locale.
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHexDigit(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexValue(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// splitInPlace implements SplitArgs over line, which must not contain a NUL
// byte. It unescapes in place: the unescaped form of a token is never longer
// than its source, so it is written over the token's own bytes and every
// argument is a sub-slice of line. Arguments are appended to args[:0]; on
// error args[:0] is returned so the caller keeps its slice for reuse.
func splitInPlace(line []byte, args [][]byte) ([][]byte, error) {
	args = args[:0]
	n := len(line)
	i := 0
	for {
		for i < n && isBlank(line[i]) {
			i++
		}
		if i == n {
			return args, nil
		}
		tok, w := i, i // token start; write position (w <= i always)
		inDouble, inSingle := false, false
	token:
		for {
			switch {
			case inDouble:
				if i == n {
					return args[:0], ErrUnbalancedQuotes
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < n && line[i+1] == 'x' && isHexDigit(line[i+2]) && isHexDigit(line[i+3]):
					line[w] = hexValue(line[i+2])<<4 | hexValue(line[i+3])
					w++
					i += 4
				case c == '\\' && i+1 < n:
					e := line[i+1]
					switch e {
					case 'n':
						e = '\n'
					case 'r':
						e = '\r'
					case 't':
						e = '\t'
					case 'b':
						e = '\b'
					case 'a':
						e = '\a'
					}
					line[w] = e
					w++
					i += 2
				case c == '"':
					if i+1 < n && !isBlank(line[i+1]) {
						return args[:0], ErrUnbalancedQuotes
					}
					i++
					break token
				default:
					line[w] = c
					w++
					i++
				}
			case inSingle:
				if i == n {
					return args[:0], ErrUnbalancedQuotes
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < n && line[i+1] == '\'':
					line[w] = '\''
					w++
					i += 2
				case c == '\'':
					if i+1 < n && !isBlank(line[i+1]) {
						return args[:0], ErrUnbalancedQuotes
					}
					i++
					break token
				default:
					line[w] = c
					w++
					i++
				}
			default:
				if i == n {
					break token
				}
				switch c := line[i]; c {
				case ' ', '\n', '\r', '\t':
					i++
					break token
				case '"':
					inDouble = true
					i++
				case '\'':
					inSingle = true
					i++
				default:
					line[w] = c
					w++
					i++
				}
			}
		}
		args = append(args, line[tok:w:w])
	}
}

// Repr quotes s the way sdscatrepr does, so that it reads back through
// sdssplitargs: surrounding double quotes, backslash escapes for \ " \n \r
// \t \a \b and \xHH for other non-printable bytes.
func Repr(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if c >= 0x20 && c < 0x7f {
				b.WriteByte(c)
			} else {
				const hex = "0123456789abcdef"
				b.WriteString(`\x`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&15])
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
