package server_test

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/testutil"
)

// qbufTotal returns qbuf + qbuf-free of the client named name, as Redis's
// querybuf.tcl measures the query buffer.
func qbufTotal(t *testing.T, r *testutil.Raw, name string) int {
	t.Helper()
	v := admDo(t, r, "client", "list").(string)
	for _, line := range strings.Split(v, "\n") {
		if infoField(line, "name") == name {
			q, _ := strconv.Atoi(infoField(line, "qbuf"))
			f, _ := strconv.Atoi(infoField(line, "qbuf-free"))
			return q + f
		}
	}
	t.Fatalf("no client %q in %q", name, v)
	return 0
}

// TestQueryBufferResize follows Redis's query buffer life: 16 KiB after a
// command, released after 2 idle seconds; room for a big announced
// argument at once, cut to the bytes held once idle.
func TestQueryBufferResize(t *testing.T) {
	srv := testutil.Start(t, "hz", "100")
	admin := srv.Raw(t)
	c := srv.Raw(t)
	admDo(t, c, "client", "setname", "small")
	if n := qbufTotal(t, admin, "small"); n < 16384 || n >= 32768 {
		t.Fatalf("query buffer %d after a small command", n)
	}
	fat := srv.Raw(t)
	admDo(t, fat, "client", "setname", "fat")
	if err := fat.Write([]byte("*3\r\n$3\r\nset\r\n$1\r\na\r\n$1000000\r\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for qbufTotal(t, admin, "fat") < 1000000 {
		if time.Now().After(deadline) {
			t.Fatalf("no room made for an announced 1000000-byte argument: %d", qbufTotal(t, admin, "fat"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	deadline = time.Now().Add(10 * time.Second)
	for qbufTotal(t, admin, "small") != 0 || qbufTotal(t, admin, "fat") >= 1000000 {
		if time.Now().After(deadline) {
			t.Fatalf("idle buffers not released: small %d, fat %d", qbufTotal(t, admin, "small"), qbufTotal(t, admin, "fat"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Released clients still work, the fat one finishing its argument.
	if v := admDo(t, c, "ping"); v != "PONG" {
		t.Fatalf("PING after release: %v", v)
	}
	if err := fat.Write([]byte(strings.Repeat("x", 1000000) + "\r\n")); err != nil {
		t.Fatal(err)
	}
	if v, err := fat.Read(); err != nil || v != "OK" {
		t.Fatalf("big SET after release: %v %v", v, err)
	}
	if v := admDo(t, admin, "strlen", "a"); v != int64(1000000) {
		t.Fatalf("STRLEN a = %v", v)
	}
}

// TestConfigSetListeners: setting bind or port to the current value keeps
// listening; a busy port fails with Redis's error and leaves the old
// listener serving.
func TestConfigSetListeners(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	port := strings.TrimPrefix(srv.Addr, "127.0.0.1:")
	if v := admDo(t, r, "config", "set", "bind", "127.0.0.1", "port", port); v != "OK" {
		t.Fatalf("CONFIG SET bind/port to the same values: %v", v)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	v := admDo(t, r, "config", "set", "maxmemory", "10000001", "port", busyPort)
	if e, ok := v.(testutil.ErrorReply); !ok || !strings.HasPrefix(string(e), "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port") {
		t.Fatalf("CONFIG SET port busy: %v", v)
	}
	if g := admDo(t, r, "config", "get", "port").([]any); g[1] != port {
		t.Fatalf("port not restored: %v", g)
	}
	if g := admDo(t, r, "config", "get", "maxmemory").([]any); g[1] != "0" {
		t.Fatalf("maxmemory not restored: %v", g)
	}
	if v := admDo(t, srv.Raw(t), "ping"); v != "PONG" {
		t.Fatalf("old listener gone: %v", v)
	}
	v = admDo(t, r, "config", "set", "bind", "999.999.999.999")
	if e, ok := v.(testutil.ErrorReply); !ok || !strings.HasSuffix(string(e), "- Failed to bind to specified addresses.") {
		t.Fatalf("CONFIG SET bind invalid: %v", v)
	}
}
