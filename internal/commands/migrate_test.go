package commands

import (
	"bufio"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"
)

func migArgs(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		if f == `""` {
			f = ""
		}
		out = append(out, []byte(f))
	}
	return out
}

// migrateKeys finds the keys as Redis's key specs and migrateGetKeys do
// together.
func TestMigrateKeys(t *testing.T) {
	for _, tc := range []struct {
		args string
		want []int
	}{
		{`migrate h p k 0 5000`, []int{3}},
		{`migrate h p "" 0 5000`, []int{3}},
		{`migrate h p "" 0 5000 KEYS a b c`, []int{7, 8, 9}},
		{`migrate h p "" 0 5000 copy replace keys a`, []int{9}},
		{`migrate h p "" 0 5000 KEYS`, []int{3}}, // the spec finds no KEYS before the last argument
		{`migrate h p k 0 5000 KEYS a`, nil},     // the handler refuses it
		{`migrate h p "" 0 5000 AUTH keys KEYS a`, []int{9}},
		{`migrate h p "" 0 5000 AUTH2 keys keys KEYS a`, []int{10}},
		{`migrate h p k 0 5000 AUTH keys COPY`, []int{3}},
		{`migrate h p "" 0 5000 bogus KEYS a`, []int{8}},
		{`migrate h`, nil},
	} {
		if got := migrateKeys(migArgs(tc.args)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestCAtoi(t *testing.T) {
	for in, want := range map[string]int32{
		"6379": 6379, " 6379": 6379, "\t+12x": 12, "-5": -5, "abc": 0, "": 0,
		"70000": 70000, "99999999999999999999999": -1, "4294967297": 1, "50000000000000000000": -1, "-9223372036854775809": 0,
	} {
		if got := cAtoi([]byte(in)); got != want {
			t.Errorf("cAtoi(%q) = %d, want %d", in, got, want)
		}
	}
}

// pipeConn returns a migrateConn over one end of a pipe.
func pipeConn(name string) (*migrateConn, net.Conn) {
	a, b := net.Pipe()
	return &migrateConn{name: name, conn: a, r: bufio.NewReader(a), db: -1}, b
}

func closedConn(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	return err != nil && !isTimeout(err)
}

// Cached connections are taken out while in use, closed once idle for
// the TTL (the clock is the cache's), and at most max are kept.
func TestMigrateSocketsCache(t *testing.T) {
	now := time.Unix(1000, 0)
	s := newMigrateSockets(time.Hour, 2, func() time.Time { return now })
	defer s.close()
	a, aPeer := pipeConn("a:1")
	s.put(a)
	if got, err := s.get("a:1", nil, nil, time.Second); err != nil || got != a {
		t.Fatalf("get: %v %v", got, err)
	}
	if s.len() != 0 {
		t.Fatal("a connection in use stays out of the cache")
	}
	s.put(a)
	// Another connection to the same target put back: the later stays.
	a2, a2Peer := pipeConn("a:1")
	s.put(a2)
	if s.len() != 1 || s.conns["a:1"] != a2 || !closedConn(aPeer) {
		t.Fatal("the earlier connection should be closed")
	}
	now = now.Add(30 * time.Minute)
	b, bPeer := pipeConn("b:1")
	s.put(b)
	// Full: a third target evicts one of the two.
	c, _ := pipeConn("c:1")
	s.put(c)
	if s.len() != 2 || s.conns["c:1"] != c {
		t.Fatalf("cache of %d", s.len())
	}
	evicted := s.conns["a:1"] == nil
	if evicted != closedConn(a2Peer) {
		t.Fatal("the evicted connection must be closed")
	}
	_ = bPeer
	now = now.Add(45 * time.Minute) // a2 idle 75 min, b and c 45 min
	s.sweep()
	if s.conns["a:1"] != nil {
		t.Fatal("a connection idle past the TTL should be closed")
	}
	now = now.Add(30 * time.Minute)
	emptied := false
	s.onEmpty = func() { emptied = true }
	s.sweep()
	if s.len() != 0 || !emptied || !s.dead {
		t.Fatalf("all idle: %d left, emptied %v", s.len(), emptied)
	}
	// A connection put back into a dead cache is closed.
	d, dPeer := pipeConn("d:1")
	s.put(d)
	if s.len() != 0 || !closedConn(dPeer) {
		t.Fatal("put after unregistering")
	}
}

// Reply lines are read as Redis's syncReadLine reads them.
func TestMigrateReadLine(t *testing.T) {
	mc, peer := pipeConn("x:1")
	defer peer.Close()
	go func() {
		_, _ = peer.Write([]byte("+OK\r\n-ERR bad\r\n\r\n" + strings.Repeat("x", 1100) + "\r\n\n"))
	}()
	var got []string
	for range 5 {
		l, err := mc.readLine(time.Second)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(l))
	}
	want := []string{"+OK", "-ERR bad", "\x00", strings.Repeat("x", 1023), strings.Repeat("x", 77)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("lines %q", got)
	}
	if _, err := mc.readLine(time.Second); err != errMigrateEmptyLine {
		t.Fatalf("a lone newline: %v", err)
	}
	if _, err := mc.readLine(50 * time.Millisecond); !isTimeout(err) {
		t.Fatalf("nothing to read: %v", err)
	}
}
