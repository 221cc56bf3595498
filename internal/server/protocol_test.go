package server_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/corvid-db/corvid/internal/testutil"
)

// TestPipeline10000 sends 10,000 commands in one write and expects 10,000
// replies, in order.
func TestPipeline10000(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	const n = 10000
	var pipe []byte
	for i := 0; i < n; i++ {
		switch i % 4 {
		case 0:
			pipe = append(pipe, testutil.Encode("set", fmt.Sprint("k", i), fmt.Sprint("v", i))...)
		case 1:
			pipe = append(pipe, testutil.Encode("get", fmt.Sprint("k", i-1))...)
		case 2:
			pipe = append(pipe, testutil.Encode("incr", "counter")...)
		default:
			pipe = append(pipe, fmt.Sprintf("ECHO e%d\r\n", i)...) // inline, mixed in
		}
	}
	go func() { _ = r.Write(pipe) }()
	for i := 0; i < n; i++ {
		var want any
		switch i % 4 {
		case 0:
			want = "OK"
		case 1:
			want = fmt.Sprint("v", i-1)
		case 2:
			want = int64(i/4 + 1)
		default:
			want = fmt.Sprint("e", i)
		}
		if got := read(t, r); got != want {
			t.Fatalf("reply %d: got %#v, want %#v", i, got, want)
		}
	}
}

// readRaw reads exactly len(want) bytes and compares them.
func readRaw(t *testing.T, r *testutil.Raw, want string) {
	t.Helper()
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(r.R, buf); err != nil {
		t.Fatalf("reading %q: %v", want, err)
	}
	if string(buf) != want {
		t.Fatalf("got %q, want %q", buf, want)
	}
}

func TestRESP3(t *testing.T) {
	srv := testutil.Start(t, "enable-debug-command", "yes")
	r := srv.Raw(t)
	// RESP2 first.
	if err := r.Send("get", "missing"); err != nil {
		t.Fatal(err)
	}
	readRaw(t, r, "$-1\r\n")
	hello := do(t, r, "hello", "3").(map[string]any)
	if hello["proto"] != int64(3) || hello["server"] != "redis" {
		t.Fatalf("HELLO 3: %#v", hello)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "missing"}, "_\r\n"},
		{[]string{"client", "trackinginfo"}, "%3\r\n$5\r\nflags\r\n~1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n"},
		{[]string{"client", "getname"}, "_\r\n"},
	} {
		if err := r.Send(c.args...); err != nil {
			t.Fatal(err)
		}
		readRaw(t, r, c.want)
	}
	// DEBUG PROTOCOL exercises the remaining types, where DEBUG exists.
	if v := do(t, r, "debug", "protocol", "true"); v != true {
		if e, ok := v.(testutil.ErrorReply); ok && strings.Contains(string(e), "unknown") {
			t.Logf("DEBUG PROTOCOL not available (%s); skipping its types", e)
			return
		}
		t.Fatalf("DEBUG PROTOCOL true: %#v", v)
	}
	for _, c := range []struct{ typ, want string }{
		{"false", "#f\r\n"},
		{"null", "_\r\n"},
		{"double", ",3.141\r\n"},
		{"map", "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n"},
	} {
		if err := r.Send("debug", "protocol", c.typ); err != nil {
			t.Fatal(err)
		}
		readRaw(t, r, c.want)
	}
}

func TestInlineCommands(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	in := "PING\r\n" +
		"set a \"b c\"\r\n" +
		"get a\n" +
		"set b \"\\x41\\n\\t\\\"q\\\"\"\r\n" +
		"get b\r\n" +
		"set c 'x \"y\" \\' z'\r\n" +
		"get c\r\n" +
		"   echo    spaced   \r\n"
	if err := r.Write([]byte(in)); err != nil {
		t.Fatal(err)
	}
	expectSeq(t, r, "PONG", "OK", "b c", "OK", "A\n\t\"q\"", "OK", `x "y" ' z`, "spaced")
}

func TestBinarySafe(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	var all []byte
	for i := 0; i < 256; i++ {
		all = append(all, byte(i))
	}
	key := "k\x00\r\n*1\r\n$4\r\n" + string(all)
	val := string(bytes.Repeat(all, 100))
	expect(t, r, "OK", "set", key, val)
	expect(t, r, val, "get", key)
	expect(t, r, int64(len(val)), "strlen", key)
	expect(t, r, nil, "get", "k")
	expect(t, r, "OK", "set", "", "")
	expect(t, r, "", "get", "")
	expect(t, r, int64(1), "exists", "")
}
