package server_test

import (
	"bytes"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/resp"
	"github.com/corvid-db/corvid/internal/testutil"
)

func TestMaxClients(t *testing.T) {
	srv := testutil.Start(t, "maxclients", "2")
	a, b := srv.Raw(t), srv.Raw(t)
	expect(t, a, "PONG", "ping")
	expect(t, b, "PONG", "ping")
	c := srv.Raw(t)
	expectSeq(t, c, testutil.ErrorReply("ERR max number of clients reached"))
	expectClosed(t, c)
	expect(t, a, "PONG", "ping")
	// A slot frees up when a client leaves.
	expect(t, b, "OK", "quit")
	expectClosed(t, b)
	testutil.WaitFor(t, 5*time.Second, "a new client accepted", func() bool {
		d := srv.Raw(t)
		v, err := d.Do("ping")
		return err == nil && v == "PONG"
	})
}

func TestIdleTimeout(t *testing.T) {
	srv := testutil.Start(t, "timeout", "1")
	idle := srv.Raw(t)
	expect(t, idle, "PONG", "ping")
	mon := srv.Raw(t)
	monID := do(t, mon, "client", "id").(int64)
	expect(t, mon, "OK", "monitor")
	busy := srv.Raw(t)
	paused := srv.Raw(t)
	expect(t, paused, "OK", "client", "pause", "100000", "WRITE")
	waiter := srv.Raw(t)
	if err := waiter.Send("set", "k", "v"); err != nil {
		t.Fatal(err)
	}

	// The idle client goes within a couple of seconds; the busy one, the
	// monitor and the postponed one stay.
	deadline := time.Now().Add(5 * time.Second)
	_ = idle.Conn.SetReadDeadline(deadline)
	closed := make(chan error, 1)
	go func() {
		_, err := idle.R.ReadByte()
		closed <- err
	}()
	start := time.Now()
	for done := false; !done; {
		select {
		case err := <-closed:
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("idle client not closed")
			}
			done = true
		case <-time.After(200 * time.Millisecond):
			expect(t, busy, "PONG", "ping")
			expect(t, paused, "PONG", "ping")
		}
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("idle client closed after only %v", d)
	}
	// Past the idle client's end, the others are all still there.
	testutil.WaitFor(t, 5*time.Second, "another timeout period", func() bool {
		expect(t, busy, "PONG", "ping")
		expect(t, paused, "PONG", "ping")
		return time.Since(start) > 2500*time.Millisecond
	})
	if f := infoField(clientLine(t, busy, monID), "flags"); f != "O" {
		t.Fatalf("monitor gone or changed: flags=%q", f)
	}
	expect(t, paused, "OK", "client", "unpause")
	expectSeq(t, waiter, "OK")
}

func TestQueryBufferLimit(t *testing.T) {
	srv := testutil.Start(t, "client-query-buffer-limit", "1mb")
	good := srv.Raw(t)
	bad := srv.Raw(t)
	expect(t, bad, "PONG", "ping")
	// One argument of 2 MB, within proto-max-bulk-len but beyond the limit.
	payload := append([]byte("*3\r\n$3\r\nset\r\n$1\r\nk\r\n$2000000\r\n"), bytes.Repeat([]byte("x"), 1200000)...)
	_ = bad.Write(payload) // the server may close before it is all sent
	expectClosed(t, bad)
	expect(t, good, "PONG", "ping")
	expect(t, good, int64(0), "exists", "k")
	// Many pipelined small commands within the limit are fine.
	ok := srv.Raw(t)
	var pipe []byte
	for i := 0; i < 20000; i++ {
		pipe = append(pipe, testutil.Encode("set", "k", "v")...)
	}
	if err := ok.Write(pipe); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20000; i++ {
		if v := read(t, ok); v != "OK" {
			t.Fatalf("reply %d: %v", i, v)
		}
	}
}

// TestMalformedInput is the protocol-robustness acceptance test: each kind
// of malformed request, on a connection of its own, gets Redis's exact
// error and the connection is closed (or, where Redis accepts the input,
// the connection keeps working), while another connection keeps getting
// correct answers throughout; and declaring huge arguments that never
// arrive does not make the server allocate them.
func TestMalformedInput(t *testing.T) {
	srv := testutil.Start(t, "proto-max-bulk-len", "1mb")
	witness := srv.Raw(t)
	step := 0
	check := func() {
		t.Helper()
		step++
		k, v := fmt.Sprint("w", step), fmt.Sprint("value-", step)
		expect(t, witness, "PONG", "ping")
		expect(t, witness, "OK", "set", k, v)
		expect(t, witness, v, "get", k)
	}
	proto := func(s string) testutil.ErrorReply { return testutil.ErrorReply("ERR Protocol error: " + s) }

	fatal := []struct {
		name string
		in   string
		want testutil.ErrorReply
	}{
		{"multibulk count above INT_MAX", "*3000000000\r\n", proto("invalid multibulk length")},
		{"non-numeric multibulk count", "*abc\r\n", proto("invalid multibulk length")},
		{"empty multibulk count", "*\r\n", proto("invalid multibulk length")},
		{"multibulk count with a plus sign", "*+1\r\n$4\r\nPING\r\n", proto("invalid multibulk length")},
		{"multibulk count with a leading zero", "*01\r\n$4\r\nPING\r\n", proto("invalid multibulk length")},
		{"multibulk count with a space", "*1 \r\n$4\r\nPING\r\n", proto("invalid multibulk length")},
		{"huge count then a huge bulk length", "*1000000000\r\n$2000000000\r\n", proto("invalid bulk length")},
		{"negative bulk length", "*1\r\n$-1\r\n", proto("invalid bulk length")},
		{"non-numeric bulk length", "*1\r\n$abc\r\n", proto("invalid bulk length")},
		{"empty bulk length", "*1\r\n$\r\n", proto("invalid bulk length")},
		{"bulk length with a plus sign", "*1\r\n$+4\r\nPING\r\n", proto("invalid bulk length")},
		{"bulk length above proto-max-bulk-len", "*2\r\n$4\r\necho\r\n$1048577\r\n", proto("invalid bulk length")},
		{"missing CRLF after the count", "*1\r\n$4PING\r\n", proto("invalid bulk length")},
		{"integer instead of bulk", "*1\r\n:5\r\n", proto("expected '$', got ':'")},
		{"simple string instead of bulk", "*2\r\n$4\r\necho\r\n+hi\r\n", proto("expected '$', got '+'")},
		{"bare CRLF instead of bulk", "*1\r\n\r\n", proto("expected '$', got ' '")},
		{"unbalanced double quote", "set a \"b\r\n", proto("unbalanced quotes in request")},
		{"unbalanced single quote", "set a 'b\r\n", proto("unbalanced quotes in request")},
		{"closing quote not followed by a space", "set a \"b\"c\r\n", proto("unbalanced quotes in request")},
		{"inline request over 64 KiB", strings.Repeat("a", resp.MaxInlineSize+1), proto("too big inline request")},
		{"multibulk count over 64 KiB", "*" + strings.Repeat("1", resp.MaxInlineSize), proto("too big mbulk count string")},
		{"bulk length over 64 KiB", "*1\r\n$" + strings.Repeat("1", resp.MaxInlineSize), proto("too big bulk count string")},
	}
	for _, c := range fatal {
		t.Run(c.name, func(t *testing.T) {
			r := srv.Raw(t)
			if err := r.Write([]byte(c.in)); err != nil {
				t.Fatal(err)
			}
			expectSeq(t, r, c.want)
			expectClosed(t, r)
		})
		check()
	}

	// Input Redis accepts: empty and negative counts are empty commands,
	// the two bytes after a bulk are skipped unchecked, a type byte other
	// than '*' starts an inline command.
	accepted := []struct {
		name string
		in   string
		want []any
	}{
		{"negative and empty multibulk counts", "*-5\r\n*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", []any{"PONG"}},
		{"bulk not followed by CRLF", "*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n", []any{"PONG", "PONG"}},
		{"unknown type byte", "%3\r\nPING\r\n", []any{testutil.ErrorReply("ERR unknown command '%3', with args beginning with: "), "PONG"}},
		{"bulk at top level is inline", "$4\r\nPING\r\n", []any{testutil.ErrorReply("ERR unknown command '$4', with args beginning with: "), "PONG"}},
		{"empty lines", "\r\n\n\r\nPING\r\n", []any{"PONG"}},
	}
	for _, c := range accepted {
		t.Run(c.name, func(t *testing.T) {
			r := srv.Raw(t)
			if err := r.Write([]byte(c.in)); err != nil {
				t.Fatal(err)
			}
			expectSeq(t, r, c.want...)
			expect(t, r, "still open", "echo", "still open")
		})
		check()
	}

	// Huge declarations with little or nothing after them, on a server with
	// the default 512 MB proto-max-bulk-len: the connections wait for data,
	// and the server must not have allocated what was announced.
	big := testutil.Start(t)
	bigWitness := big.Raw(t)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	some := strings.Repeat("a", 20000)
	huge := []string{
		"*1000000000\r\n",
		"*2147483647\r\n$536870912\r\n",
		"*1000000000\r\n$500000000\r\n" + some,
		"*2\r\n$4\r\necho\r\n$400000000\r\n" + some,
	}
	conns := make([]*testutil.Raw, len(huge))
	for i, h := range huge {
		conns[i] = big.Raw(t)
		if err := conns[i].Write([]byte(h)); err != nil {
			t.Fatal(err)
		}
	}
	sent := 0
	for _, h := range huge {
		sent += len(h)
	}
	// qbuf cannot tell: as in Redis it leaves out the headers parsed.
	testutil.WaitFor(t, 5*time.Second, "declarations read", func() bool {
		info := fmt.Sprint(do(t, bigWitness, "info", "stats"))
		for _, l := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(l, "total_net_input_bytes:"); ok {
				n, _ := strconv.Atoi(v)
				return n >= sent
			}
		}
		return false
	})
	check()
	runtime.GC()
	runtime.ReadMemStats(&after)
	const limit = 8 << 20
	if grow := int64(after.HeapInuse) - int64(before.HeapInuse); grow > limit {
		t.Fatalf("heap in use grew by %d bytes after huge declarations (limit %d)", grow, limit)
	}
	if grow := int64(after.Sys) - int64(before.Sys); grow > limit {
		t.Fatalf("memory obtained from the OS grew by %d bytes (limit %d)", grow, limit)
	}
	t.Logf("heap in use %+d bytes, sys %+d bytes", int64(after.HeapInuse)-int64(before.HeapInuse), int64(after.Sys)-int64(before.Sys))
	// The waiting connections still fail properly when the data is wrong.
	if err := conns[0].Write([]byte("$2000000000\r\n")); err != nil {
		t.Fatal(err)
	}
	expectSeq(t, conns[0], proto("invalid bulk length"))
	expectClosed(t, conns[0])
	expect(t, bigWitness, "PONG", "ping")
}

func TestUnauthenticatedLimits(t *testing.T) {
	srv := testutil.Start(t, "requirepass", "secret")
	r := srv.Raw(t)
	if err := r.Write([]byte("*11\r\n")); err != nil {
		t.Fatal(err)
	}
	expectSeq(t, r, testutil.ErrorReply("ERR Protocol error: unauthenticated multibulk length"))
	expectClosed(t, r)
	r = srv.Raw(t)
	if err := r.Write([]byte("*2\r\n$4\r\nauth\r\n$16385\r\n")); err != nil {
		t.Fatal(err)
	}
	expectSeq(t, r, testutil.ErrorReply("ERR Protocol error: unauthenticated bulk length"))
	expectClosed(t, r)
	// Once authenticated, the limits are gone.
	r = srv.Raw(t)
	expect(t, r, "OK", "auth", "secret")
	big := strings.Repeat("v", 20000)
	expect(t, r, big, "echo", big)
}
