package resp

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

func TestWriter(t *testing.T) {
	tests := []struct {
		name  string
		write func(w *Writer)
		resp2 string
		resp3 string
	}{
		{"simple", func(w *Writer) { w.SimpleString("OK") }, "+OK\r\n", "+OK\r\n"},
		{"error", func(w *Writer) { w.Error("ERR syntax error") }, "-ERR syntax error\r\n", "-ERR syntax error\r\n"},
		{"error dash", func(w *Writer) { w.Error("-WRONGTYPE x") }, "-WRONGTYPE x\r\n", "-WRONGTYPE x\r\n"},
		{"error newlines", func(w *Writer) { w.Error("\r\nERR a\r\nb\nc\r\n") }, "-ERR a  b c\r\n", "-ERR a  b c\r\n"},
		{"int", func(w *Writer) { w.Int(-42) }, ":-42\r\n", ":-42\r\n"},
		{"int min", func(w *Writer) { w.Int(math.MinInt64) }, ":-9223372036854775808\r\n", ":-9223372036854775808\r\n"},
		{"bulk", func(w *Writer) { w.Bulk([]byte("hello")) }, "$5\r\nhello\r\n", "$5\r\nhello\r\n"},
		{"bulk empty", func(w *Writer) { w.Bulk(nil) }, "$0\r\n\r\n", "$0\r\n\r\n"},
		{"bulk 31", func(w *Writer) { w.BulkString(strings.Repeat("a", 31)) }, "$31\r\n" + strings.Repeat("a", 31) + "\r\n", "$31\r\n" + strings.Repeat("a", 31) + "\r\n"},
		{"bulk 32", func(w *Writer) { w.BulkString(strings.Repeat("a", 32)) }, "$32\r\n" + strings.Repeat("a", 32) + "\r\n", "$32\r\n" + strings.Repeat("a", 32) + "\r\n"},
		{"bulk int", func(w *Writer) { w.BulkInt(-7) }, "$2\r\n-7\r\n", "$2\r\n-7\r\n"},
		{"null", func(w *Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
		{"null array", func(w *Writer) { w.NullArray() }, "*-1\r\n", "_\r\n"},
		{"array", func(w *Writer) { w.ArrayLen(2); w.BulkString("a"); w.Int(1) }, "*2\r\n$1\r\na\r\n:1\r\n", "*2\r\n$1\r\na\r\n:1\r\n"},
		{"array 0", func(w *Writer) { w.ArrayLen(0) }, "*0\r\n", "*0\r\n"},
		{"array 1000", func(w *Writer) { w.ArrayLen(1000) }, "*1000\r\n", "*1000\r\n"},
		{"array -1", func(w *Writer) { w.ArrayLen(-1) }, "*-1\r\n", "*-1\r\n"},
		{"map", func(w *Writer) { w.MapLen(1); w.BulkString("k"); w.Int(1) }, "*2\r\n$1\r\nk\r\n:1\r\n", "%1\r\n$1\r\nk\r\n:1\r\n"},
		{"map big", func(w *Writer) { w.MapLen(20) }, "*40\r\n", "%20\r\n"},
		{"set", func(w *Writer) { w.SetLen(3) }, "*3\r\n", "~3\r\n"},
		{"set big", func(w *Writer) { w.SetLen(100) }, "*100\r\n", "~100\r\n"},
		{"push", func(w *Writer) { w.PushLen(3) }, "*3\r\n", ">3\r\n"},
		{"push big", func(w *Writer) { w.PushLen(33) }, "*33\r\n", ">33\r\n"},
		{"double int", func(w *Writer) { w.Double(3) }, "$1\r\n3\r\n", ",3\r\n"},
		{"double frac", func(w *Writer) { w.Double(1.5) }, "$3\r\n1.5\r\n", ",1.5\r\n"},
		{"double exp", func(w *Writer) { w.Double(1e20) }, "$5\r\n1e+20\r\n", ",1e+20\r\n"},
		{"double inf", func(w *Writer) { w.Double(math.Inf(1)) }, "$3\r\ninf\r\n", ",inf\r\n"},
		{"double -inf", func(w *Writer) { w.Double(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		{"double nan", func(w *Writer) { w.Double(math.NaN()) }, "$3\r\nnan\r\n", ",nan\r\n"},
		{"bool true", func(w *Writer) { w.Bool(true) }, ":1\r\n", "#t\r\n"},
		{"bool false", func(w *Writer) { w.Bool(false) }, ":0\r\n", "#f\r\n"},
		{"verbatim", func(w *Writer) { w.Verbatim("txt", []byte("hi")) }, "$2\r\nhi\r\n", "=6\r\ntxt:hi\r\n"},
		{"bignum", func(w *Writer) { w.BigNumber("1234567890123456789012") }, "$22\r\n1234567890123456789012\r\n", "(1234567890123456789012\r\n"},
		{"raw", func(w *Writer) { w.Raw([]byte("+A\r\n")); w.RawString(":1\r\n") }, "+A\r\n:1\r\n", "+A\r\n:1\r\n"},
	}
	for _, tt := range tests {
		for _, proto := range []int{2, 3} {
			w := &Writer{Proto: proto}
			tt.write(w)
			want := tt.resp2
			if proto == 3 {
				want = tt.resp3
			}
			if string(w.Buf) != want {
				t.Errorf("%s RESP%d: got %q, want %q", tt.name, proto, w.Buf, want)
			}
			if w.Len() != len(want) {
				t.Errorf("%s: Len = %d", tt.name, w.Len())
			}
		}
	}
	// The zero value speaks RESP2.
	var w Writer
	w.Null()
	if string(w.Buf) != "$-1\r\n" {
		t.Errorf("zero Writer: %q", w.Buf)
	}
}

func TestWriterAttribute(t *testing.T) {
	w := &Writer{Proto: 3}
	w.AttributeLen(1)
	if string(w.Buf) != "|1\r\n" {
		t.Errorf("got %q", w.Buf)
	}
	defer func() {
		if recover() == nil {
			t.Error("AttributeLen on RESP2 did not panic")
		}
	}()
	(&Writer{Proto: 2}).AttributeLen(1)
}

// TestWriterRoundTrip encodes commands as a client would (an array of
// bulk strings) with the Writer and parses them back.
func TestWriterRoundTrip(t *testing.T) {
	cmds := [][]string{
		{"SET", "key", "value"},
		{"GET", ""},
		{"MSET", strings.Repeat("k", 40), "a\r\nb", "x", "\x00\xff"},
		{strings.Repeat("v", 100000)},
	}
	var w Writer
	for _, c := range cmds {
		w.ArrayLen(len(c))
		for _, a := range c {
			w.BulkString(a)
		}
	}
	got := run(&Parser{}, w.Buf)
	if got.err != nil || len(got.cmds) != len(cmds) {
		t.Fatalf("got %v", got)
	}
	for i := range cmds {
		if strings.Join(got.cmds[i], "|") != strings.Join(cmds[i], "|") {
			t.Errorf("command %d: got %q", i, got.cmds[i])
		}
	}
}

type shortWriter struct{ bytes.Buffer }

func (s *shortWriter) Write(b []byte) (int, error) { return s.Buffer.Write(b[:(len(b)+1)/2]) }

func TestWriterWriteTo(t *testing.T) {
	var w Writer
	w.SimpleString("OK")
	w.Int(1)
	var dst bytes.Buffer
	n, err := w.WriteTo(&dst)
	if err != nil || n != 9 || dst.String() != "+OK\r\n:1\r\n" || w.Len() != 0 {
		t.Errorf("WriteTo: %d, %v, %q, Len %d", n, err, dst.String(), w.Len())
	}
	w.SimpleString("HELLO")
	var sw shortWriter
	if _, err := w.WriteTo(&sw); !errors.Is(err, io.ErrShortWrite) || string(w.Buf) != "LO\r\n" {
		t.Errorf("short write: %v, left %q", err, w.Buf)
	}
	w.WriteTo(&sw)
	w.WriteTo(&sw)
	w.WriteTo(&sw)
	if sw.String() != "+HELLO\r\n" || w.Len() != 0 {
		t.Errorf("after retries: wrote %q, left %q", sw.String(), w.Buf)
	}
	// A big reply buffer is released by Reset.
	w.Reset()
	w.Bulk(make([]byte, 2<<20))
	w.Reset()
	if cap(w.Buf) != 0 {
		t.Errorf("big buffer kept: %d", cap(w.Buf))
	}
}

// TestWriterNoAlloc checks that once Buf has grown no method allocates.
func TestWriterNoAlloc(t *testing.T) {
	val := []byte("some value")
	for _, proto := range []int{2, 3} {
		w := &Writer{Proto: proto}
		write := func() {
			w.Reset()
			w.SimpleString("OK")
			w.Error("ERR bad\r\nthing")
			w.Int(123456789)
			w.Bulk(val)
			w.BulkString("string")
			w.BulkInt(-99)
			w.Null()
			w.NullArray()
			w.ArrayLen(3)
			w.ArrayLen(300)
			w.MapLen(2)
			w.SetLen(40)
			w.PushLen(3)
			w.Double(3.25)
			w.Double(1e-300)
			w.Double(7)
			w.Bool(true)
			w.Verbatim("txt", val)
			w.BigNumber("123")
			w.Raw(val)
		}
		write()
		if n := testing.AllocsPerRun(100, write); n != 0 {
			t.Errorf("RESP%d: %v allocations", proto, n)
		}
	}
}

func BenchmarkWriterGetReplies(b *testing.B) {
	val := []byte("value-0123456789")
	var w Writer
	b.ReportAllocs()
	for b.Loop() {
		if w.Len() > 32<<10 {
			w.Reset()
		}
		w.Bulk(val)
	}
}

func BenchmarkWriterMixed(b *testing.B) {
	val := []byte("value-0123456789")
	w := Writer{Proto: 3}
	b.ReportAllocs()
	for b.Loop() {
		w.Reset()
		w.ArrayLen(4)
		w.Bulk(val)
		w.Int(1234567)
		w.Null()
		w.Double(3.14159)
		w.SimpleString("OK")
	}
}

func BenchmarkWriterDouble(b *testing.B) {
	var w Writer
	b.ReportAllocs()
	for b.Loop() {
		w.Reset()
		w.Double(12345.678901234567)
	}
}
