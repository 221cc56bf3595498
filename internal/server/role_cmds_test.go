package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// roleReply reads ROLE's reply as raw RESP, so the types show: bulk
// strings as $, integers as :.
func roleReply(t *testing.T, r *testutil.Raw) string {
	t.Helper()
	if err := r.Send("role"); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var read func()
	read = func() {
		line, err := r.R.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		switch line[0] {
		case '*':
			n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
			b.WriteString("[")
			for i := 0; i < n; i++ {
				if i > 0 {
					b.WriteString(" ")
				}
				read()
			}
			b.WriteString("]")
		case '$':
			n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(r.R, buf); err != nil {
				t.Fatal(err)
			}
			b.WriteString("$" + string(buf[:n]))
		default:
			b.WriteString(strings.TrimSpace(line))
		}
	}
	read()
	return b.String()
}

// raw3 opens a raw RESP3 connection.
func raw3(t *testing.T, srv *testutil.Instance) *testutil.Raw {
	t.Helper()
	r := srv.Raw(t)
	if v, err := r.Do("hello", "3"); err != nil {
		t.Fatalf("HELLO 3: %v %v", v, err)
	}
	return r
}

// ROLE on a primary with a replica attached, and on the replica: Redis's
// shapes (the replicas' port and offset as bulk strings, the replica's
// primary port and offset as integers) in RESP2 and RESP3, with the real
// offsets.
func TestRolePrimaryAndReplica(t *testing.T) {
	primary := testutil.Start(t)
	replica := testutil.Start(t)
	ctx := context.Background()
	for _, r := range []*testutil.Raw{primary.Raw(t), raw3(t, primary)} {
		if got := roleReply(t, r); got != "[$master :0 []]" {
			t.Fatalf("ROLE of a primary without replicas: %s", got)
		}
	}
	p, rc := primary.Client(t), replica.Client(t)
	host, port, _ := net.SplitHostPort(primary.Addr)
	if err := rc.Do(ctx, "replicaof", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "replica attached", func() bool {
		return strings.Contains(p.Info(ctx, "replication").Val(), "state=online")
	})
	p.Set(ctx, "k", "v", 0)
	_, replicaPort, _ := net.SplitHostPort(replica.Addr)
	var offset int64
	testutil.WaitFor(t, 10*time.Second, "replica acknowledged the write", func() bool {
		off := primaryOffset(t, primary)
		got := roleReply(t, primary.Raw(t))
		offset = off
		return off > 0 && got == fmt.Sprintf("[$master :%d [[$127.0.0.1 $%s $%d]]]", off, replicaPort, off)
	})
	for _, r := range []*testutil.Raw{primary.Raw(t), raw3(t, primary)} {
		want := fmt.Sprintf("[$master :%d [[$127.0.0.1 $%s $%d]]]", offset, replicaPort, offset)
		if got := roleReply(t, r); got != want {
			t.Fatalf("primary's ROLE:\n got %s\nwant %s", got, want)
		}
	}
	want := fmt.Sprintf("[$slave $%s :%s $connected :%d]", host, port, offset)
	testutil.WaitFor(t, 5*time.Second, "replica's ROLE", func() bool { return roleReply(t, replica.Raw(t)) == want })
	if got := roleReply(t, raw3(t, replica)); got != want {
		t.Fatalf("replica's ROLE in RESP3:\n got %s\nwant %s", got, want)
	}
	// go-redis reads both shapes, in RESP2 and RESP3 alike.
	for _, c := range []*testutil.Instance{primary, replica} {
		var shapes []string
		for _, cl := range []interface {
			Do(context.Context, ...any) *redis.Cmd
		}{c.Client(t), c.Client3(t)} {
			v, err := cl.Do(ctx, "role").Slice()
			if err != nil {
				t.Fatal(err)
			}
			shapes = append(shapes, fmt.Sprintf("%T %v", v[len(v)-1], v))
		}
		if shapes[0] != shapes[1] || (!strings.Contains(shapes[0], "[master ") && !strings.Contains(shapes[0], "[slave ")) {
			t.Fatalf("go-redis ROLE, RESP2 then RESP3: %q", shapes)
		}
	}
	// Promoted, it is a primary again, with the offset it reached.
	rc.Do(ctx, "replicaof", "no", "one")
	if got := roleReply(t, replica.Raw(t)); !strings.HasPrefix(got, "[$master :") || !strings.HasSuffix(got, " []]") {
		t.Fatalf("ROLE after REPLICAOF NO ONE: %s", got)
	}
}

// primaryOffset reads master_repl_offset.
func primaryOffset(t *testing.T, srv *testutil.Instance) int64 {
	t.Helper()
	info := srv.Client(t).Info(context.Background(), "replication").Val()
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, "master_repl_offset:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatalf("no master_repl_offset in %s", info)
	return 0
}

// A replica's ROLE follows its link: connect (no primary answers),
// handshake (connected, waiting for the primary's replies), sync (the
// snapshot is coming), with offset -1 while no stream flows. A scripted
// primary holds the link in each state.
func TestRoleReplicaLinkStates(t *testing.T) {
	replica := testutil.Start(t)
	rc := replica.Client(t)
	ctx := context.Background()
	state := func() string {
		v, err := rc.Do(ctx, "role").Slice()
		if err != nil || len(v) != 5 || v[0] != "slave" || v[4] != int64(-1) {
			t.Fatalf("replica's ROLE: %v %v", v, err)
		}
		return v[3].(string)
	}

	// Nobody listens: the link waits to connect, or is connecting.
	deadPort := closedPort(t)
	rc.Do(ctx, "replicaof", "127.0.0.1", deadPort)
	if s := state(); s != "connect" && s != "connecting" {
		t.Fatalf("state with no primary: %s", s)
	}
	v, _ := rc.Do(ctx, "role").Slice()
	if p, _ := strconv.Atoi(deadPort); v[1] != "127.0.0.1" || v[2] != int64(p) {
		t.Fatalf("ROLE names the primary %v:%v", v[1], v[2])
	}

	// A primary that accepts and stays silent: the handshake waits.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	_, silentPort, _ := net.SplitHostPort(silent.Addr().String())
	rc.Do(ctx, "replicaof", "127.0.0.1", silentPort)
	testutil.WaitFor(t, 5*time.Second, "handshake", func() bool { return state() == "handshake" })

	// A primary that answers the handshake, announces a full
	// resynchronisation and never sends the snapshot: sync.
	fakePort := fakePrimary(t, func(c net.Conn) {
		io.WriteString(c, "+FULLRESYNC "+strings.Repeat("a", 40)+" 100\r\n$1000\r\n")
	})
	rc.Do(ctx, "replicaof", "127.0.0.1", fakePort)
	testutil.WaitFor(t, 5*time.Second, "sync", func() bool { return state() == "sync" })
}

// fakePrimary listens for one replica and answers its handshake (+PONG,
// +OK), handing the connection to psync when PSYNC comes; it returns the
// port. The listener closes when the test ends.
func fakePrimary(t *testing.T, psync func(c net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			args, err := readCommand(br)
			if err != nil {
				return
			}
			switch strings.ToUpper(args[0]) {
			case "PING":
				io.WriteString(c, "+PONG\r\n")
			case "PSYNC":
				psync(c)
			default:
				io.WriteString(c, "+OK\r\n")
			}
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// readCommand reads one RESP array of bulk strings.
func readCommand(br *bufio.Reader) ([]string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if line[0] != '*' {
		return strings.Fields(line), nil // inline
	}
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	args := make([]string, n)
	for i := range args {
		h, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		sz, _ := strconv.Atoi(strings.TrimSpace(h[1:]))
		buf := make([]byte, sz+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, err
		}
		args[i] = string(buf[:sz])
	}
	return args, nil
}

// A replica waiting for its primary's answer to PSYNC gives up after
// repl-timeout as it is while it waits: CONFIG SET shortening it during
// the handshake takes effect (Redis's cron reads it each second), where
// a deadline fixed when the link began would wait the old minute.
func TestHandshakeTimeoutFollowsConfig(t *testing.T) {
	srv, log := startLogged(t, t.TempDir())
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr().String()})
	defer rc.Close()
	ctx := context.Background()
	answered := make(chan struct{})
	port := fakePrimary(t, func(c net.Conn) {
		close(answered) // and never answers PSYNC
	})
	rc.Do(ctx, "replicaof", "127.0.0.1", port)
	<-answered
	rc.ConfigSet(ctx, "repl-timeout", "1")
	testutil.WaitFor(t, 5*time.Second, "the handshake to time out", func() bool {
		return strings.Contains(log.String(), "Timeout connecting to the MASTER...")
	})
}
