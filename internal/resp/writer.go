package resp

import (
	"io"
	"strconv"
)

// sharedHdrs is how many small aggregate and bulk headers are pre-encoded,
// like Redis's OBJ_SHARED_BULKHDR_LEN shared headers.
const sharedHdrs = 32

// maxRetainReply is the largest reply buffer Reset keeps.
const maxRetainReply = 1 << 20

var (
	hdrArray [sharedHdrs]string // "*<n>\r\n"
	hdrBulk  [sharedHdrs]string // "$<n>\r\n"
	hdrMap   [sharedHdrs]string // "%<n>\r\n"
	hdrSet   [sharedHdrs]string // "~<n>\r\n"
	hdrPush  [sharedHdrs]string // "><n>\r\n"
)

func init() {
	for i := range sharedHdrs {
		n := strconv.Itoa(i) + "\r\n"
		hdrArray[i] = "*" + n
		hdrBulk[i] = "$" + n
		hdrMap[i] = "%" + n
		hdrSet[i] = "~" + n
		hdrPush[i] = ">" + n
	}
}

// Writer encodes replies by appending them to Buf, in RESP2 or RESP3
// according to Proto. Once Buf has grown to the size of the replies of a
// batch no method allocates. The server appends all the replies of the
// commands it parsed from one read and sends Buf with one write (see
// WriteTo), then calls Reset.
//
// The zero value encodes RESP2.
type Writer struct {
	// Buf holds the encoded replies.
	Buf []byte
	// Proto is the protocol version: 3 for RESP3, anything else for RESP2.
	Proto int
}

// Len returns the number of bytes buffered.
func (w *Writer) Len() int { return len(w.Buf) }

// Reset empties Buf, keeping its memory unless it grew beyond 1 MiB (for
// a big reply), in which case it is released.
func (w *Writer) Reset() {
	if cap(w.Buf) > maxRetainReply {
		w.Buf = nil
		return
	}
	w.Buf = w.Buf[:0]
}

// WriteTo writes Buf to dst with one Write call and, if it was all written,
// empties Buf as Reset does. Otherwise the bytes written are dropped from
// Buf, which keeps the rest, and the error is returned (io.ErrShortWrite if
// dst reported none). It implements io.WriterTo.
func (w *Writer) WriteTo(dst io.Writer) (int64, error) {
	if len(w.Buf) == 0 {
		return 0, nil
	}
	n, err := dst.Write(w.Buf)
	if n < 0 || n > len(w.Buf) {
		n = 0
	}
	if n == len(w.Buf) && err == nil {
		w.Reset()
		return int64(n), nil
	}
	if err == nil {
		err = io.ErrShortWrite
	}
	w.Buf = w.Buf[:copy(w.Buf, w.Buf[n:])]
	return int64(n), err
}

func (w *Writer) resp3() bool { return w.Proto >= 3 }

func (w *Writer) crlf() { w.Buf = append(w.Buf, '\r', '\n') }

// header appends prefix, n and CRLF, using tab for small n.
func (w *Writer) header(tab *[sharedHdrs]string, prefix byte, n int) {
	if uint(n) < sharedHdrs {
		w.Buf = append(w.Buf, tab[n]...)
		return
	}
	w.Buf = append(w.Buf, prefix)
	w.Buf = strconv.AppendInt(w.Buf, int64(n), 10)
	w.Buf = append(w.Buf, '\r', '\n')
}

// Raw appends b as is: it must already be valid RESP.
func (w *Writer) Raw(b []byte) { w.Buf = append(w.Buf, b...) }

// RawString appends s as is: it must already be valid RESP.
func (w *Writer) RawString(s string) { w.Buf = append(w.Buf, s...) }

// SimpleString appends the status reply +s. Like Redis, it does not check
// s: it must not contain CR or LF.
func (w *Writer) SimpleString(s string) {
	w.Buf = append(w.Buf, '+')
	w.Buf = append(w.Buf, s...)
	w.crlf()
}

// Error appends the error reply -msg. msg carries its own code, as in
// "ERR syntax error" or "WRONGTYPE ..." (a leading '-' is accepted too).
// As Redis does for formatted errors, CR and LF at either end are trimmed
// and those in the middle become spaces, so the reply stays one line.
func (w *Writer) Error(msg string) {
	if len(msg) > 0 && msg[0] == '-' {
		msg = msg[1:]
	}
	// Trim CR/LF at both ends, like sdstrim(s, "\r\n").
	for len(msg) > 0 && (msg[0] == '\r' || msg[0] == '\n') {
		msg = msg[1:]
	}
	for len(msg) > 0 && (msg[len(msg)-1] == '\r' || msg[len(msg)-1] == '\n') {
		msg = msg[:len(msg)-1]
	}
	w.Buf = append(w.Buf, '-')
	start := len(w.Buf)
	w.Buf = append(w.Buf, msg...)
	for i, c := range w.Buf[start:] {
		if c == '\r' || c == '\n' {
			w.Buf[start+i] = ' '
		}
	}
	w.crlf()
}

// Int appends the integer reply :n.
func (w *Writer) Int(n int64) {
	w.Buf = append(w.Buf, ':')
	w.Buf = strconv.AppendInt(w.Buf, n, 10)
	w.crlf()
}

// Bulk appends b as a bulk string. A nil b is an empty string, not a null:
// use Null for that.
func (w *Writer) Bulk(b []byte) {
	w.header(&hdrBulk, '$', len(b))
	w.Buf = append(w.Buf, b...)
	w.crlf()
}

// BulkString appends s as a bulk string.
func (w *Writer) BulkString(s string) {
	w.header(&hdrBulk, '$', len(s))
	w.Buf = append(w.Buf, s...)
	w.crlf()
}

// BulkInt appends n formatted in decimal as a bulk string.
func (w *Writer) BulkInt(n int64) {
	var tmp [20]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// Null appends a null: $-1 in RESP2 (the null bulk string), _ in RESP3.
func (w *Writer) Null() {
	if w.resp3() {
		w.Buf = append(w.Buf, "_\r\n"...)
	} else {
		w.Buf = append(w.Buf, "$-1\r\n"...)
	}
}

// NullArray appends a null aggregate: *-1 in RESP2, _ in RESP3.
func (w *Writer) NullArray() {
	if w.resp3() {
		w.Buf = append(w.Buf, "_\r\n"...)
	} else {
		w.Buf = append(w.Buf, "*-1\r\n"...)
	}
}

// ArrayLen appends the header of an array of n elements.
func (w *Writer) ArrayLen(n int) { w.header(&hdrArray, '*', n) }

// MapLen appends the header of a map of n key/value pairs: %n in RESP3, an
// array of 2n elements in RESP2.
func (w *Writer) MapLen(n int) {
	if w.resp3() {
		w.header(&hdrMap, '%', n)
	} else {
		w.header(&hdrArray, '*', 2*n)
	}
}

// SetLen appends the header of a set of n elements: ~n in RESP3, an array
// in RESP2.
func (w *Writer) SetLen(n int) {
	if w.resp3() {
		w.header(&hdrSet, '~', n)
	} else {
		w.header(&hdrArray, '*', n)
	}
}

// PushLen appends the header of an out-of-band push message of n elements:
// >n in RESP3, an array in RESP2 (as pub/sub messages are).
func (w *Writer) PushLen(n int) {
	if w.resp3() {
		w.header(&hdrPush, '>', n)
	} else {
		w.header(&hdrArray, '*', n)
	}
}

// AttributeLen appends the header of a RESP3 attribute of n key/value
// pairs, which must be followed by those pairs and then by the reply they
// describe. Attributes do not exist in RESP2: like Redis, which asserts,
// AttributeLen panics if Proto is not 3.
func (w *Writer) AttributeLen(n int) {
	if !w.resp3() {
		panic("resp: AttributeLen on a RESP2 connection")
	}
	w.Buf = append(w.Buf, '|')
	w.Buf = strconv.AppendInt(w.Buf, int64(n), 10)
	w.crlf()
}

// Double appends f: ,<f> in RESP3, a bulk string in RESP2, formatted by
// AppendDouble as Redis 7.2 does ("3", "1.5", "1e+20", "inf", "-inf",
// "nan").
func (w *Writer) Double(f float64) {
	var tmp [32]byte
	s := AppendDouble(tmp[:0], f)
	if w.resp3() {
		w.Buf = append(w.Buf, ',')
		w.Buf = append(w.Buf, s...)
		w.crlf()
		return
	}
	w.Bulk(s)
}

// Bool appends b: #t or #f in RESP3, the integer 1 or 0 in RESP2.
func (w *Writer) Bool(b bool) {
	switch {
	case w.resp3() && b:
		w.Buf = append(w.Buf, "#t\r\n"...)
	case w.resp3():
		w.Buf = append(w.Buf, "#f\r\n"...)
	case b:
		w.Buf = append(w.Buf, ":1\r\n"...)
	default:
		w.Buf = append(w.Buf, ":0\r\n"...)
	}
}

// Verbatim appends s as a verbatim string of the given format (three
// bytes, such as "txt" or "mkd"): =<len>\r\n<format>:<s>\r\n in RESP3, a
// plain bulk string of s in RESP2.
func (w *Writer) Verbatim(format string, s []byte) {
	if !w.resp3() {
		w.Bulk(s)
		return
	}
	w.Buf = append(w.Buf, '=')
	w.Buf = strconv.AppendInt(w.Buf, int64(len(format)+1+len(s)), 10)
	w.crlf()
	w.Buf = append(w.Buf, format...)
	w.Buf = append(w.Buf, ':')
	w.Buf = append(w.Buf, s...)
	w.crlf()
}

// BigNumber appends the decimal integer s: (s in RESP3, a bulk string in
// RESP2. s is not checked.
func (w *Writer) BigNumber(s string) {
	if !w.resp3() {
		w.BulkString(s)
		return
	}
	w.Buf = append(w.Buf, '(')
	w.Buf = append(w.Buf, s...)
	w.crlf()
}
