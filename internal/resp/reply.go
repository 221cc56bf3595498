package resp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
)

// Reply is one reply a server sent, as a client reads it (the server side
// of this package parses commands; this is the other direction, for the
// connections Corvid itself opens: a sentinel's links to the servers it
// monitors). Aggregates keep their elements in Elems; a map's keys and
// values alternate there.
type Reply struct {
	// Kind is the RESP type byte: '+' simple string, '-' error, ':'
	// integer, '$' bulk string, '*' array, and the RESP3 types '_' null,
	// ',' double, '#' boolean, '(' big number, '=' verbatim string, '%'
	// map, '~' set, '>' push, '|' attribute.
	Kind  byte
	Str   string // the text of a string, error, double, big number or verbatim reply
	Int   int64  // an integer, or a boolean's 0/1
	Elems []Reply
	Null  bool // a RESP2 null bulk or array, or RESP3 null
}

// IsString reports whether the reply is a non-null string of any kind.
func (r *Reply) IsString() bool {
	switch r.Kind {
	case '+', '$', '=':
		return !r.Null
	}
	return false
}

// IsArray reports whether the reply is a non-null array, set or push.
func (r *Reply) IsArray() bool {
	switch r.Kind {
	case '*', '~', '>':
		return !r.Null
	}
	return false
}

// ErrProtocol reports a reply that is not valid RESP.
var ErrProtocol = errors.New("protocol error in reply")

// Limits of ReadReply: a bulk string (512 MB, Redis's proto-max-bulk-len
// default), an aggregate's element count, and the nesting depth.
const (
	maxReplyBulk  = 512 << 20
	maxReplyElems = 1 << 24
	maxReplyDepth = 64
)

// ReadReply reads one reply from r. Attributes ('|') are read and skipped:
// the reply they annotate is returned.
func ReadReply(r *bufio.Reader) (Reply, error) {
	return readReply(r, 0)
}

func readReply(r *bufio.Reader, depth int) (Reply, error) {
	if depth > maxReplyDepth {
		return Reply{}, ErrProtocol
	}
	line, err := readReplyLine(r)
	if err != nil {
		return Reply{}, err
	}
	if len(line) == 0 {
		return Reply{}, ErrProtocol
	}
	kind, rest := line[0], line[1:]
	rep := Reply{Kind: kind}
	switch kind {
	case '+', '-', ',', '(':
		rep.Str = string(rest)
	case ':':
		n, err := strconv.ParseInt(string(rest), 10, 64)
		if err != nil {
			return Reply{}, ErrProtocol
		}
		rep.Int = n
	case '#':
		switch string(rest) {
		case "t":
			rep.Int = 1
		case "f":
		default:
			return Reply{}, ErrProtocol
		}
	case '_':
		rep.Null = true
	case '$', '=':
		n, err := strconv.Atoi(string(rest))
		if err != nil || n < -1 || n > maxReplyBulk {
			return Reply{}, ErrProtocol
		}
		if n == -1 {
			rep.Null = true
			return rep, nil
		}
		var buf []byte
		if n <= 64<<10 {
			buf = make([]byte, n+2)
			if _, err := io.ReadFull(r, buf); err != nil {
				return Reply{}, err
			}
		} else {
			// Grown as the data arrives, so that a header announcing more
			// than is sent costs nothing.
			var bb bytes.Buffer
			if _, err := io.CopyN(&bb, r, int64(n)+2); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return Reply{}, err
			}
			buf = bb.Bytes()
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return Reply{}, ErrProtocol
		}
		if kind == '=' && n >= 4 {
			buf = buf[4:] // "txt:" or "mkd:"
			n -= 4
		}
		rep.Str = string(buf[:n])
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(string(rest))
		if err != nil || n < -1 || n > maxReplyElems {
			return Reply{}, ErrProtocol
		}
		if n == -1 {
			rep.Null = true
			return rep, nil
		}
		if kind == '%' || kind == '|' {
			n *= 2
		}
		rep.Elems = make([]Reply, 0, min(n, 1024))
		for range n {
			e, err := readReply(r, depth+1)
			if err != nil {
				return Reply{}, err
			}
			rep.Elems = append(rep.Elems, e)
		}
		if kind == '|' {
			return readReply(r, depth)
		}
	default:
		return Reply{}, ErrProtocol
	}
	return rep, nil
}

// readReplyLine reads a line ending in CRLF and returns it without the
// CRLF. Lines are headers and simple strings: bounded to 64 KiB.
func readReplyLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if err == nil || err == bufio.ErrBufferFull {
			line = append(line, chunk...)
		}
		if err == bufio.ErrBufferFull {
			if len(line) > 64<<10 {
				return nil, ErrProtocol
			}
			continue
		}
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		break
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, ErrProtocol
	}
	return line[:len(line)-2], nil
}
