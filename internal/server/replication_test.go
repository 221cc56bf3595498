package server_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/rdb"
	"github.com/corvid-db/corvid/internal/server"
	"github.com/corvid-db/corvid/internal/testutil"
)

// A replica's view: PSYNC gets a full resynchronisation, an RDB holding
// exactly the dataset, then the write stream from that instant.
func TestPsyncSnapshotThenStream(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	c.Set(ctx, "s", "v", 0)
	c.Set(ctx, "ttl", "v", time.Hour)
	c.HSet(ctx, "h", "f", "1")
	c.RPush(ctx, "l", "a", "b")
	c3 := srv.Client(t)
	c3.Do(ctx, "select", "3")
	c3.SAdd(ctx, "set", "x")

	conn, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte("REPLCONF listening-port 6380\r\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	if l, _ := r.ReadString('\n'); l != "+OK\r\n" {
		t.Fatalf("REPLCONF: %q", l)
	}
	conn.Write([]byte("PSYNC ? -1\r\n"))
	l, _ := r.ReadString('\n')
	if !strings.HasPrefix(l, "+FULLRESYNC ") || len(strings.Fields(l)) != 3 {
		t.Fatalf("PSYNC: %q", l)
	}
	l = readPayloadHeader(r)
	n, err := strconv.Atoi(strings.TrimSpace(l[1:]))
	if l[0] != '$' || err != nil {
		t.Fatalf("payload header %q", l)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		t.Fatal(err)
	}
	keys := map[string]int64{}
	db := 0
	_, err = rdb.Load(bytes.NewReader(payload), &rdb.Loader{
		SelectDB: func(d int) error { db = d; return nil },
		Key: func(k rdb.KeyInfo, rr *rdb.Reader) error {
			if _, err := rdb.ReadObject(rr, k.Type); err != nil {
				return err
			}
			keys[strconv.Itoa(db)+":"+string(k.Key)] = k.ExpireAt
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 5 || keys["0:ttl"] == 0 || keys["0:s"] != 0 || keys["3:set"] != 0 {
		t.Fatalf("snapshot keys %v", keys)
	}
	// Online once the primary has seen its last write of the payload
	// go, which may be a moment after the replica has read it.
	testutil.WaitFor(t, 5*time.Second, "the replica online", func() bool {
		return strings.Contains(c.Info(ctx, "replication").Val(), "slave0:ip=127.0.0.1,port=6380,state=online")
	})
	c3.Incr(ctx, "n") // db 3
	want := "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$4\r\nincr\r\n$1\r\nn\r\n"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r, got); err != nil || string(got) != want {
		t.Fatalf("stream %q, want %q (%v)", got, want, err)
	}
	// An ACK is silent (a command that answers would disconnect the
	// replica: TestReplicaConnectionRules).
	conn.Write([]byte("REPLCONF ACK 0\r\n"))
	c.Set(ctx, "after", "1", 0)
	want = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$5\r\nafter\r\n$1\r\n1\r\n"
	got = make([]byte, len(want))
	if _, err := io.ReadFull(r, got); err != nil || string(got) != want {
		t.Fatalf("stream %q, want %q (%v)", got, want, err)
	}
	conn.Close()
	testutil.WaitFor(t, 2*time.Second, "replica gone", func() bool {
		return strings.Contains(c.Info(ctx, "replication").Val(), "connected_slaves:0")
	})
}

// A Corvid replica of a Corvid primary: the snapshot, then the stream,
// with the replica refusing writes until it is promoted.
func TestReplicaOfCorvid(t *testing.T) {
	primary := testutil.Start(t)
	replica := testutil.Start(t)
	p, r := primary.Client(t), replica.Client(t)
	ctx := context.Background()
	p.Set(ctx, "before", "1", 0)
	p.ZAdd(ctx, "z", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2, Member: "b"})
	p.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "1-1", Values: []string{"f", "v"}})
	p.Do(ctx, "function", "load", "#!lua name=lib\nredis.register_function('f', function() return 1 end)\n"+
		"redis.register_function{function_name='ro', callback=function() return 2 end, flags={'no-writes'}}")
	linkReplica(t, r, primary.Addr)
	p.Set(ctx, "after", "2", time.Hour)
	// An approximate trim with LIMIT reaches the replica as "=" with LIMIT,
	// which a primary's stream may carry.
	if err := p.Do(ctx, "xadd", "s", "maxlen", "~", "1", "limit", "5", "*", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	p.Incr(ctx, "n")
	p.Do(ctx, "select", "2")
	testutil.WaitFor(t, 5*time.Second, "stream applied", func() bool {
		return r.Get(ctx, "n").Val() == "1"
	})
	if pl, rl := primary.Client(t).XLen(ctx, "s").Val(), r.XLen(ctx, "s").Val(); pl != rl || pl != 2 {
		t.Fatalf("stream length: primary %d, replica %d", pl, rl)
	}
	if v := r.Get(ctx, "before").Val(); v != "1" {
		t.Fatalf("before = %q", v)
	}
	if v := r.ZRangeWithScores(ctx, "z", 0, -1).Val(); len(v) != 2 || v[1].Member != "b" {
		t.Fatalf("z = %v", v)
	}
	if ttl := r.TTL(ctx, "after").Val(); ttl < 59*time.Minute {
		t.Fatalf("after's TTL %v", ttl)
	}
	if v, err := r.Do(ctx, "fcall", "ro", "0").Result(); err != nil || v != int64(2) {
		t.Fatalf("function on the replica: %v %v", v, err)
	}
	if err := r.Do(ctx, "fcall", "f", "0").Err(); err == nil || err.Error() != "READONLY Can not run script with write flag on readonly replica" {
		t.Fatalf("function that may write, on a replica: %v", err)
	}
	if err := r.Set(ctx, "x", "1", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "READONLY") {
		t.Fatalf("write on a replica: %v", err)
	}
	if !strings.Contains(p.Info(ctx, "replication").Val(), "connected_slaves:1") {
		t.Fatal("primary does not list its replica")
	}
	if err := r.Do(ctx, "replicaof", "no", "one").Err(); err != nil {
		t.Fatal(err)
	}
	if err := r.Set(ctx, "x", "1", 0).Err(); err != nil {
		t.Fatalf("write after promotion: %v", err)
	}
	if !strings.Contains(r.Info(ctx, "replication").Val(), "role:master") {
		t.Fatal("still a replica")
	}
}

// A replica whose link breaks continues from where it was (PSYNC replid
// offset, +CONTINUE): the writes made meanwhile come from the backlog, and
// no new snapshot is sent.
func TestReplicaPartialResync(t *testing.T) {
	primary := testutil.Start(t)
	replica := testutil.Start(t)
	p, r := primary.Client(t), replica.Client(t)
	ctx := context.Background()
	p.Set(ctx, "a", "1", 0)
	host, port, _ := net.SplitHostPort(primary.Addr)
	r.Do(ctx, "replicaof", host, port)
	testutil.WaitFor(t, 10*time.Second, "synchronised", func() bool { return r.Get(ctx, "a").Val() == "1" })
	p3 := primary.Client(t)
	p3.Do(ctx, "select", "3")
	p3.Set(ctx, "in3", "x", 0) // the stream now has db 3 selected
	r3 := replica.Client(t)
	r3.Do(ctx, "select", "3")
	testutil.WaitFor(t, 5*time.Second, "db 3 write", func() bool { return r3.Get(ctx, "in3").Val() == "x" })
	// Cut the link from the primary's side, then write while it is down.
	if err := p.Do(ctx, "client", "kill", "type", "replica").Err(); err != nil {
		t.Fatal(err)
	}
	p3.Incr(ctx, "n3") // db 3, with no new SELECT in the stream
	p.Set(ctx, "b", "2", 0)
	testutil.WaitFor(t, 10*time.Second, "caught up", func() bool { return r.Get(ctx, "b").Val() == "2" })
	if v := r3.Get(ctx, "n3").Val(); v != "1" {
		t.Fatalf("n3 on the replica's db 3: %q", v)
	}
	info := p.Info(ctx, "stats").Val()
	if !strings.Contains(info, "sync_full:1\r\n") || !strings.Contains(info, "sync_partial_ok:1\r\n") {
		t.Fatalf("primary's sync counters:\n%s", info)
	}
}

func TestWaitForReplicas(t *testing.T) {
	primary := testutil.Start(t)
	replica := testutil.Start(t)
	p, r := primary.Client(t), replica.Client(t)
	ctx := context.Background()
	if n, err := p.Do(ctx, "wait", "0", "0").Int(); err != nil || n != 0 {
		t.Fatalf("WAIT with no replicas: %v %v", n, err)
	}
	host, port, _ := net.SplitHostPort(primary.Addr)
	r.Do(ctx, "replicaof", host, port)
	testutil.WaitFor(t, 10*time.Second, "replica online", func() bool {
		return strings.Contains(p.Info(ctx, "replication").Val(), "connected_slaves:1")
	})
	c := primary.Client(t)
	c.Set(ctx, "k", "v", 0)
	start := time.Now()
	if n, err := c.Do(ctx, "wait", "1", "5000").Int(); err != nil || n != 1 {
		t.Fatalf("WAIT 1: %v %v", n, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("WAIT 1 took %v: the GETACK was not answered", d)
	}
	start = time.Now()
	if n, err := c.Do(ctx, "wait", "2", "200").Int(); err != nil || n != 1 {
		t.Fatalf("WAIT 2 with one replica: %v %v", n, err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("WAIT 2 returned after %v, before its timeout", d)
	}
	if err := r.Do(ctx, "wait", "1", "0").Err(); err == nil || !strings.Contains(err.Error(), "replica instances") {
		t.Fatalf("WAIT on a replica: %v", err)
	}
	// In a script it does not block.
	if n, err := c.Do(ctx, "eval", "return redis.call('wait','5','0')", "0").Int(); err != nil || n != 1 {
		t.Fatalf("WAIT in a script: %v %v", n, err)
	}
}

// A replica does not expire keys, actively or on a read: the key whose TTL
// passed is hidden but stays until the primary's DEL arrives, as on a Redis
// replica.
func TestReplicaLeavesExpiryToPrimary(t *testing.T) {
	primary := testutil.Start(t, "enable-debug-command", "yes")
	replica := testutil.Start(t, "hz", "100")
	p, r := primary.Client(t), replica.Client(t)
	ctx := context.Background()
	linkReplica(t, r, primary.Addr)
	p.Do(ctx, "debug", "set-active-expire", "0")
	p.Set(ctx, "k", "v", 50*time.Millisecond)
	testutil.WaitFor(t, 5*time.Second, "key replicated", func() bool { return r.DBSize(ctx).Val() == 1 })
	time.Sleep(300 * time.Millisecond) // thirty active cycles of the replica
	if n := r.DBSize(ctx).Val(); n != 1 {
		t.Fatalf("the replica reclaimed the expired key itself (DBSIZE %d)", n)
	}
	// A read hides it without reclaiming it.
	if err := r.Get(ctx, "k").Err(); err != redis.Nil {
		t.Fatalf("GET of an expired key on the replica: %v", err)
	}
	if n := r.DBSize(ctx).Val(); n != 1 {
		t.Fatalf("a read on the replica reclaimed the expired key (DBSIZE %d)", n)
	}
	p.Do(ctx, "debug", "set-active-expire", "1")
	testutil.WaitFor(t, 5*time.Second, "the primary's DEL applied", func() bool { return r.DBSize(ctx).Val() == 0 })
}

// TestWritableReplicaExpiresItsOwnKeys: keys a client gave a time to
// live on a writable replica are expired by the replica (the primary
// knows nothing of them), as Redis's expireSlaveKeys does; the
// primary's keys still wait for the primary's DEL.
func TestWritableReplicaExpiresItsOwnKeys(t *testing.T) {
	primary := testutil.Start(t, "enable-debug-command", "yes")
	replica := testutil.Start(t, "hz", "100", "replica-read-only", "no")
	p, r := primary.Client(t), replica.Client(t)
	ctx := context.Background()
	linkReplica(t, r, primary.Addr)
	p.Do(ctx, "debug", "set-active-expire", "0")
	p.Set(ctx, "from-primary", "v", 50*time.Millisecond)
	testutil.WaitFor(t, 5*time.Second, "key replicated", func() bool { return r.DBSize(ctx).Val() == 1 })
	for _, k := range []string{"own1", "own2"} {
		if err := r.Set(ctx, k, "v", 100*time.Millisecond).Err(); err != nil {
			t.Fatal(err)
		}
	}
	r.Set(ctx, "own-persistent", "v", 0)
	r.Set(ctx, "own-persisted", "v", 100*time.Millisecond)
	r.Persist(ctx, "own-persisted")
	if n := r.DBSize(ctx).Val(); n != 5 {
		t.Fatalf("DBSIZE %d, want 5", n)
	}
	testutil.WaitFor(t, 5*time.Second, "the replica's own keys expired", func() bool { return r.DBSize(ctx).Val() == 3 })
	for _, k := range []string{"own-persistent", "own-persisted"} {
		if r.Exists(ctx, k).Val() != 1 {
			t.Fatalf("%s is gone", k)
		}
	}
	// The primary's expired key is still there, hidden, until its DEL.
	time.Sleep(100 * time.Millisecond)
	if n := r.DBSize(ctx).Val(); n != 3 {
		t.Fatalf("the replica reclaimed the primary's expired key itself (DBSIZE %d)", n)
	}
}

// TestReplicaGoneWhileWaitingIsForgotten: a replica that disconnects while
// it waits for its snapshot (repl-diskless-sync-delay) leaves the list at
// once, with Redis's log line, and the snapshot made later does not fail
// on its account.
func TestReplicaGoneWhileWaitingIsForgotten(t *testing.T) {
	srv, log := startLogged(t, t.TempDir(), "repl-diskless-sync", "yes", "repl-diskless-sync-delay", "1")
	c := redis.NewClient(&redis.Options{Addr: srv.Addr().String()})
	defer c.Close()
	ctx := context.Background()
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "REPLCONF listening-port 4321\r\nREPLCONF capa eof capa psync2\r\nPSYNC ? -1\r\n")
	testutil.WaitFor(t, 5*time.Second, "the replica listed", func() bool {
		return strings.Contains(c.Info(ctx, "replication").Val(), "connected_slaves:1")
	})
	conn.Close()
	testutil.WaitFor(t, 5*time.Second, "the replica forgotten", func() bool {
		return strings.Contains(c.Info(ctx, "replication").Val(), "connected_slaves:0")
	})
	time.Sleep(1500 * time.Millisecond) // past the delay: nothing to sync
	if !strings.Contains(log.String(), "Connection with replica 127.0.0.1:4321 lost.") {
		t.Fatalf("no line for the lost replica:\n%s", log)
	}
	if strings.Contains(log.String(), "SYNC failed") || strings.Contains(log.String(), "Starting BGSAVE for SYNC") {
		t.Fatalf("a snapshot was made or failed for a replica that had gone:\n%s", log)
	}
}

// TestReplicaRestartContinues: a replica with save points saves on
// SHUTDOWN, as Redis's does, and its file keeps the primary's replication
// ID and offset: restarted, it continues with a partial resync.
func TestReplicaRestartContinues(t *testing.T) {
	primary := testutil.Start(t)
	p := primary.Client(t)
	ctx := context.Background()
	dir := t.TempDir()
	host, port, _ := net.SplitHostPort(primary.Addr)
	link := func(srv *server.Server) *redis.Client {
		r := redis.NewClient(&redis.Options{Addr: srv.Addr().String()})
		if err := r.Do(ctx, "replicaof", host, port).Err(); err != nil {
			t.Fatal(err)
		}
		testutil.WaitFor(t, 10*time.Second, "link up", func() bool {
			return strings.Contains(r.Info(ctx, "replication").Val(), "master_link_status:up")
		})
		return r
	}
	srv, _ := startLogged(t, dir, "save", "900 1")
	r := link(srv)
	for i := range 100 {
		p.Set(ctx, "k"+strconv.Itoa(i), i, 0)
	}
	testutil.WaitFor(t, 5*time.Second, "writes applied", func() bool { return r.DBSize(ctx).Val() == 100 })
	r.Close()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	p.Set(ctx, "after", "1", 0) // the backlog holds what the replica missed
	full := infoLineOf(t, p, "stats", "sync_full")
	// Started as a replica, as Redis's test restarts it after CONFIG
	// REWRITE: the file's ID and offset are then its primary's.
	srv2, log := startLoggedConf(t, dir, "replicaof "+host+" "+port+"\n")
	r2 := redis.NewClient(&redis.Options{Addr: srv2.Addr().String()})
	defer r2.Close()
	testutil.WaitFor(t, 5*time.Second, "the missed write applied", func() bool { return r2.Get(ctx, "after").Val() == "1" })
	if got := infoLineOf(t, p, "stats", "sync_full"); got != full {
		t.Fatalf("the restarted replica synchronised in full (sync_full %s, was %s):\n%s", got, full, log)
	}
	if n := r2.DBSize(ctx).Val(); n != 101 {
		t.Fatalf("DBSIZE %d after the restart, want 101", n)
	}
}

// TestReplicaLogsErrorsFromPrimaryStream: a command of the primary's
// stream that fails on the replica (DEBUG REPLICATE sends one the replica
// does not know; a write to a key the writable replica changed) is
// logged as critical, as Redis does, with the stream that came before it
// and not the failing command itself.
func TestReplicaLogsErrorsFromPrimaryStream(t *testing.T) {
	primary := testutil.Start(t, "enable-debug-command", "yes")
	p := primary.Client(t)
	ctx := context.Background()
	srv, log := startLogged(t, t.TempDir(), "replica-read-only", "no")
	r := redis.NewClient(&redis.Options{Addr: srv.Addr().String()})
	defer r.Close()
	linkReplica(t, r, primary.Addr)
	p.Set(ctx, "before", "1", 0) // something in the backlog before it
	if err := p.Do(ctx, "debug", "replicate", "fake-command-1").Err(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, "the error logged", func() bool { return strings.Contains(log.String(), "CRITICAL") })
	if n := strings.Count(log.String(), "fake-command-1"); n != 1 {
		t.Fatalf("fake-command-1 appears %d times in the log, want once (the backlog shown is what came before it):\n%s", n, log)
	}
	r.Set(ctx, "n", "foo", 0)
	p.IncrBy(ctx, "n", 1)
	p.Set(ctx, "done", "1", 0)
	testutil.WaitFor(t, 5*time.Second, "the stream applied", func() bool { return r.Get(ctx, "done").Val() == "1" })
	text := log.String()
	for _, want := range []string{
		"# == CRITICAL == This replica is sending an error to its master: 'ERR unknown command 'fake-command-1', with args beginning with: ' after processing the command '<unknown>'",
		"# == CRITICAL == This replica is sending an error to its master: 'ERR value is not an integer or out of range' after processing the command 'incrby'",
		"* Latest backlog is: '\"",
	} {
		if !strings.Contains(text, want) {
			t.Fatalf("the log lacks %q:\n%s", want, text)
		}
	}
	if r.Get(ctx, "n").Val() != "foo" || p.Get(ctx, "n").Val() != "1" {
		t.Fatal("the replica's write or the primary's was lost")
	}
}

// linkReplica makes r a replica of the server at addr and waits for its
// link to be up.
func linkReplica(t *testing.T, r *redis.Client, addr string) {
	t.Helper()
	ctx := context.Background()
	host, port, _ := net.SplitHostPort(addr)
	if err := r.Do(ctx, "replicaof", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "link up", func() bool {
		return strings.Contains(r.Info(ctx, "replication").Val(), "master_link_status:up")
	})
}

// noReplyWithin checks that a reply is not there yet: the command sent
// on r is blocked.
func noReplyWithin(t *testing.T, r *testutil.Raw, d time.Duration) {
	t.Helper()
	r.Conn.SetReadDeadline(time.Now().Add(d))
	if _, err := r.R.Peek(1); err == nil {
		t.Fatal("a reply came: the command did not block")
	}
	r.Conn.SetReadDeadline(time.Time{})
}

// WAITAOF's arguments and refusals, with Redis's error texts, and its
// local figure: 1 once the connection's writes are fsynced (everysec,
// always, a rewrite), never with appendfsync no (the timeout ends it).
func TestWaitaofLocal(t *testing.T) {
	srv := testutil.Start(t, "appendonly", "yes")
	r := srv.Raw(t)
	for _, c := range []struct {
		want string
		args []string
	}{
		{"ERR value is out of range, value must between 0 and 1", []string{"2", "0", "0"}},
		{"ERR value is out of range, value must between 0 and 1", []string{"-1", "0", "0"}},
		{"ERR value is not an integer or out of range", []string{"one", "0", "0"}},
		{"ERR value is out of range, must be positive", []string{"0", "-1", "0"}},
		{"ERR value is not an integer or out of range", []string{"0", "x", "0"}},
		{"ERR timeout is negative", []string{"0", "0", "-1"}},
		{"ERR timeout is not an integer or out of range", []string{"0", "0", "1.5"}},
		{"ERR timeout is not an integer or out of range", []string{"0", "0", "9223372036854775808"}},
		{"ERR timeout is out of range", []string{"0", "0", "9223372036854775807"}},
	} {
		expect(t, r, c.want, append([]string{"waitaof"}, c.args...)...)
	}
	expect(t, r, "ERR wrong number of arguments for 'waitaof' command", "waitaof", "0", "0")
	expect(t, r, "ERR timeout is out of range", "wait", "0", "9223372036854775807")
	// No write yet: offset 0 is on disk.
	expect(t, r, "[1 0]", "waitaof", "1", "0", "0")

	do(t, r, "config", "set", "appendfsync", "no")
	do(t, r, "incr", "n")
	start := time.Now()
	expect(t, r, "[0 0]", "waitaof", "1", "0", "60")
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("WAITAOF returned after %v, before its timeout", d)
	}
	// In MULTI it answers at once.
	do(t, r, "multi")
	do(t, r, "waitaof", "1", "0", "0")
	expect(t, r, "[[0 0]]", "exec")
	// From a script it is refused.
	if v := fmt.Sprint(do(t, r, "eval", "return redis.call('waitaof', '0', '0', '0')", "0")); !strings.Contains(v, "not allowed from script") {
		t.Fatalf("WAITAOF from a script: %s", v)
	}
	do(t, r, "config", "set", "appendfsync", "everysec")
	expect(t, r, "[1 0]", "waitaof", "1", "0", "0")
	do(t, r, "config", "set", "appendfsync", "always")
	do(t, r, "incr", "n")
	expect(t, r, "[1 0]", "waitaof", "1", "0", "0")
	// A rewrite puts everything on disk, even with appendfsync no.
	do(t, r, "config", "set", "appendfsync", "no")
	do(t, r, "incr", "n")
	do(t, r, "bgrewriteaof")
	expect(t, r, "[1 0]", "waitaof", "1", "0", "0")

	// go-redis's WaitAOF, on one connection (WAITAOF is about the
	// connection's own writes).
	ctx := context.Background()
	conn := srv.Client(t).Conn()
	defer conn.Close()
	conn.ConfigSet(ctx, "appendfsync", "everysec")
	conn.Incr(ctx, "n")
	if v, err := conn.WaitAOF(ctx, 1, 0, 5*time.Second).Result(); err != nil || fmt.Sprint(v) != "[1 0]" {
		t.Fatalf("go-redis WaitAOF: %v %v", v, err)
	}

	// Blocked on the local fsync when appendonly is turned off: the
	// error, as Redis gives it.
	do(t, r, "config", "set", "appendfsync", "no")
	do(t, r, "incr", "n")
	if err := r.Send("waitaof", "1", "0", "0"); err != nil {
		t.Fatal(err)
	}
	noReplyWithin(t, r, 100*time.Millisecond)
	srv.Client(t).ConfigSet(ctx, "appendonly", "no")
	const noAOF = "ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled."
	if v := read(t, r); fmt.Sprint(v) != noAOF {
		t.Fatalf("blocked WAITAOF when appendonly is turned off: %v", v)
	}
	expect(t, r, noAOF, "waitaof", "1", "0", "0")
	expect(t, r, "[0 0]", "waitaof", "0", "0", "0")
}

// fakeReplica attaches a raw connection as a replica (PSYNC, snapshot
// read and dropped) and returns it with the stream's offset.
func fakeReplica(t *testing.T, srv *testutil.Instance) (net.Conn, *bufio.Reader, int64) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	conn.Write([]byte("REPLCONF listening-port 7777\r\n"))
	if l, _ := r.ReadString('\n'); l != "+OK\r\n" {
		t.Fatalf("REPLCONF: %q", l)
	}
	conn.Write([]byte("PSYNC ? -1\r\n"))
	l, _ := r.ReadString('\n')
	f := strings.Fields(l)
	if len(f) != 3 || f[0] != "+FULLRESYNC" {
		t.Fatalf("PSYNC: %q", l)
	}
	offset, _ := strconv.ParseInt(f[2], 10, 64)
	l = readPayloadHeader(r)
	n, _ := strconv.Atoi(strings.TrimSpace(l[1:]))
	if _, err := io.ReadFull(r, make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Time{})
	return conn, r, offset
}

// readPayloadHeader reads the line that announces a full
// synchronisation's RDB, after the newlines a primary sends to keep the
// link alive while it writes the file (replicas skip them, as Redis's).
func readPayloadHeader(r *bufio.Reader) string {
	for {
		l, _ := r.ReadString('\n')
		if l != "\n" {
			return l
		}
	}
}

// The primary counts a replica for WAITAOF by the FACK of its REPLCONF
// ACK (and for WAIT by the ACK): a replica that acknowledges without FACK
// has no AOF.
func TestWaitaofCountsFack(t *testing.T) {
	srv := testutil.Start(t, "appendonly", "yes", "appendfsync", "always")
	conn, _, _ := fakeReplica(t, srv)
	r := srv.Raw(t)
	do(t, r, "set", "k", "v")
	off := primaryOffset(t, srv)
	// Acknowledged, not on the replica's disk: WAIT counts it, WAITAOF not.
	conn.Write([]byte(fmt.Sprintf("REPLCONF ACK %d\r\n", off)))
	expect(t, r, "1", "wait", "1", "2000")
	expect(t, r, "[1 0]", "waitaof", "1", "1", "50")
	// Blocked until the FACK comes.
	if err := r.Send("waitaof", "1", "1", "0"); err != nil {
		t.Fatal(err)
	}
	noReplyWithin(t, r, 100*time.Millisecond)
	conn.Write([]byte(fmt.Sprintf("REPLCONF ACK %d FACK %d\r\n", off, off)))
	if v := read(t, r); fmt.Sprint(v) != "[1 1]" {
		t.Fatalf("WAITAOF after the FACK: %v", v)
	}
	// An older FACK does not move it back.
	conn.Write([]byte("REPLCONF ACK 1 FACK 1\r\n"))
	expect(t, r, "[1 1]", "waitaof", "0", "1", "0")
	// The stream's PING and GETACK stay out of the AOF.
	dir := fmt.Sprint(do(t, r, "config", "get", "dir").([]any)[1])
	files, _ := filepath.Glob(filepath.Join(dir, "appendonlydir", "*.incr.aof"))
	if len(files) != 1 {
		t.Fatalf("incremental files: %v", files)
	}
	b, _ := os.ReadFile(files[0])
	if !bytes.Contains(b, []byte("\r\nset\r\n")) || bytes.Contains(b, []byte("GETACK")) || bytes.Contains(b, []byte("PING")) {
		t.Fatalf("incremental AOF:\n%q", b)
	}
}

// WAITAOF with a Corvid replica that has an AOF: counted once its fsync
// covers the write (everysec, always), not with appendfsync no (the
// timeout ends it), nor without an AOF. On the replica WAITAOF is refused.
func TestWaitaofWithReplica(t *testing.T) {
	primary := testutil.Start(t, "appendonly", "yes", "appendfsync", "always")
	replica := testutil.Start(t, "appendonly", "yes", "enable-debug-command", "yes")
	p, rc := primary.Client(t), replica.Client(t)
	ctx := context.Background()
	p.Set(ctx, "before", "1", 0)
	host, port, _ := net.SplitHostPort(primary.Addr)
	rc.Do(ctx, "replicaof", host, port)
	testutil.WaitFor(t, 10*time.Second, "replica synchronised", func() bool {
		return strings.Contains(rc.Info(ctx, "replication").Val(), "master_link_status:up")
	})
	rr := replica.Raw(t)
	expect(t, rr, "ERR value is out of range, value must between 0 and 1", "waitaof", "3", "0", "0")
	expect(t, rr, "ERR WAITAOF cannot be used with replica instances. Please also note that writes to replicas are just local and are not propagated.", "waitaof", "0", "0", "0")
	// The replica's AOF holds the snapshot it loaded: reloading it
	// keeps the key no command wrote there.
	expect(t, rr, "OK", "debug", "loadaof")
	expect(t, rr, "1", "get", "before")

	r := primary.Raw(t)
	rc.ConfigSet(ctx, "appendfsync", "no")
	do(t, r, "incr", "n")
	expect(t, r, "[1 0]", "waitaof", "1", "1", "100")
	rc.ConfigSet(ctx, "appendfsync", "everysec")
	do(t, r, "incr", "n")
	start := time.Now()
	expect(t, r, "[1 1]", "waitaof", "1", "1", "0")
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("WAITAOF with an everysec replica took %v", d)
	}
	rc.ConfigSet(ctx, "appendfsync", "always")
	do(t, r, "incr", "n")
	expect(t, r, "[1 1]", "waitaof", "1", "1", "0")
	rc.ConfigSet(ctx, "appendonly", "no")
	do(t, r, "incr", "n")
	expect(t, r, "[1 0]", "waitaof", "1", "1", "100")
	expect(t, r, "1", "wait", "1", "0")
	// Turned on again at run time, the replica's AOF counts again.
	rc.ConfigSet(ctx, "appendonly", "yes")
	do(t, r, "incr", "n")
	expect(t, r, "[1 1]", "waitaof", "1", "1", "0")
}

// A WAITAOF for a replica that is not there yet ends when one has
// synchronised: the snapshot it loaded is in its AOF.
func TestWaitaofReleasedByFullSync(t *testing.T) {
	primary := testutil.Start(t, "appendonly", "yes")
	replica := testutil.Start(t, "appendonly", "yes", "appendfsync", "no")
	r := primary.Raw(t)
	do(t, r, "incr", "n")
	if err := r.Send("waitaof", "0", "1", "0"); err != nil {
		t.Fatal(err)
	}
	noReplyWithin(t, r, 100*time.Millisecond)
	host, port, _ := net.SplitHostPort(primary.Addr)
	replica.Client(t).Do(context.Background(), "replicaof", host, port)
	r.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if v, err := r.Read(); err != nil || fmt.Sprint(v) != "[0 1]" && fmt.Sprint(v) != "[1 1]" {
		t.Fatalf("WAITAOF once the replica synchronised: %v %v", v, err)
	}
}

// A primary demoted while a WAITAOF or WAIT waits for its replicas ends
// the wait with Redis's UNBLOCKED error.
func TestWaitaofUnblockedByDemotion(t *testing.T) {
	other := testutil.Start(t)
	srv := testutil.Start(t, "appendonly", "yes")
	ra, rb := srv.Raw(t), srv.Raw(t)
	do(t, ra, "incr", "n")
	do(t, rb, "incr", "n")
	if err := ra.Send("waitaof", "0", "1", "0"); err != nil {
		t.Fatal(err)
	}
	if err := rb.Send("wait", "1", "0"); err != nil {
		t.Fatal(err)
	}
	noReplyWithin(t, ra, 100*time.Millisecond)
	noReplyWithin(t, rb, 10*time.Millisecond)
	host, port, _ := net.SplitHostPort(other.Addr)
	srv.Client(t).Do(context.Background(), "replicaof", host, port)
	const unblocked = "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"
	for _, r := range []*testutil.Raw{ra, rb} {
		if v := read(t, r); fmt.Sprint(v) != unblocked {
			t.Fatalf("wait on a demoted primary: %v", v)
		}
	}
}

// replicaof in the configuration makes a server a replica from the start,
// as Redis: it connects and synchronises without a REPLICAOF command.
func TestReplicaofDirectiveAtStart(t *testing.T) {
	primary := testutil.Start(t)
	p := primary.Client(t)
	ctx := context.Background()
	p.Set(ctx, "k", "v", 0)
	host, port, _ := net.SplitHostPort(primary.Addr)
	replica := testutil.Start(t, "replicaof", host+" "+port)
	r := replica.Client(t)
	testutil.WaitFor(t, 10*time.Second, "link up", func() bool {
		return strings.Contains(r.Info(ctx, "replication").Val(), "master_link_status:up")
	})
	if v := r.Get(ctx, "k").Val(); v != "v" {
		t.Fatalf("k = %q on the replica", v)
	}
	if role, err := r.Do(ctx, "role").Slice(); err != nil || role[0] != "slave" {
		t.Fatalf("ROLE = %v, %v", role, err)
	}
}

// CONFIG GET replicaof (and so CONFIG REWRITE) follows REPLICAOF: a
// rewritten file must not make a promoted primary a replica again.
func TestReplicaofConfigFollowsCommand(t *testing.T) {
	primary := testutil.Start(t)
	replica := testutil.Start(t)
	r := replica.Client(t)
	ctx := context.Background()
	host, port, _ := net.SplitHostPort(primary.Addr)
	if err := r.Do(ctx, "replicaof", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	if got := r.ConfigGet(ctx, "replicaof").Val()["replicaof"]; got != host+" "+port {
		t.Fatalf("CONFIG GET replicaof after REPLICAOF = %q", got)
	}
	if err := r.Do(ctx, "replicaof", "no", "one").Err(); err != nil {
		t.Fatal(err)
	}
	if got := r.ConfigGet(ctx, "replicaof").Val()["replicaof"]; got != "" {
		t.Fatalf("CONFIG GET replicaof after REPLICAOF NO ONE = %q", got)
	}
}

// A chain A <- B <- C passes A's stream on byte for byte: all three report
// A's replication ID and offset. When B is promoted and A made B's
// replica, both A and C continue with a partial resynchronisation (B keeps
// A's ID as its second), as Redis's PSYNC2 does, and end with B's writes.
func TestChainedReplicasProxyAndContinueAfterPromotion(t *testing.T) {
	a, b, c := testutil.Start(t), testutil.Start(t), testutil.Start(t)
	ca, cb, cc := a.Client(t), b.Client(t), c.Client(t)
	ctx := context.Background()
	replicate := func(r *redis.Client, to *testutil.Instance) {
		t.Helper()
		host, port, _ := net.SplitHostPort(to.Addr)
		if err := r.Do(ctx, "replicaof", host, port).Err(); err != nil {
			t.Fatal(err)
		}
	}
	field := func(r *redis.Client, name string) string {
		for _, l := range strings.Split(r.Info(ctx, "replication", "stats").Val(), "\r\n") {
			if v, ok := strings.CutPrefix(l, name+":"); ok {
				return v
			}
		}
		return ""
	}
	same := func(what string) {
		t.Helper()
		testutil.WaitFor(t, 10*time.Second, what, func() bool {
			ida, offa := field(ca, "master_replid"), field(ca, "master_repl_offset")
			return field(cb, "master_replid") == ida && field(cc, "master_replid") == ida &&
				field(cb, "master_repl_offset") == offa && field(cc, "master_repl_offset") == offa
		})
	}
	replicate(cb, a)
	replicate(cc, b)
	for i := 0; i < 20; i++ {
		ca.Incr(ctx, "k")
	}
	same("chain in step")
	if err := cb.Do(ctx, "replicaof", "no", "one").Err(); err != nil {
		t.Fatal(err)
	}
	replicate(ca, b)
	cb.Incr(ctx, "k")
	defer func() {
		if t.Failed() {
			for _, r := range []*redis.Client{ca, cb, cc} {
				t.Logf("k=%q dbsize=%d replid=%s offset=%s", r.Get(ctx, "k").Val(), r.DBSize(ctx).Val(),
					field(r, "master_replid"), field(r, "master_repl_offset"))
			}
		}
	}()
	testutil.WaitFor(t, 10*time.Second, "after the promotion", func() bool {
		ida, offb := field(cb, "master_replid"), field(cb, "master_repl_offset")
		return field(ca, "master_replid") == ida && field(cc, "master_replid") == ida &&
			field(ca, "master_repl_offset") == offb && field(cc, "master_repl_offset") == offb &&
			ca.Get(ctx, "k").Val() == "21" && cc.Get(ctx, "k").Val() == "21"
	})
	if n := field(cb, "sync_partial_ok"); n != "2" {
		t.Fatalf("B accepted %s partial resynchronisations, want 2 (A and C)", n)
	}
}

// A client blocked in BLPOP when its server becomes a replica is
// unblocked with Redis's UNBLOCKED error (counted as a failed call): a
// replica's lists change only by its primary's stream.
func TestBlockedWriterUnblockedWhenBecomingReplica(t *testing.T) {
	primary, srv := testutil.Start(t), testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- c.BLPop(ctx, 0, "foo").Err() }()
	testutil.WaitFor(t, 5*time.Second, "client blocked", func() bool {
		return strings.Contains(srv.Client(t).Info(ctx, "clients").Val(), "blocked_clients:1")
	})
	host, port, _ := net.SplitHostPort(primary.Addr)
	if err := srv.Client(t).Do(ctx, "replicaof", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || err.Error() != "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)" {
			t.Fatalf("BLPOP after REPLICAOF: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("BLPOP still blocked after the server became a replica")
	}
	if s := srv.Client(t).Info(ctx, "commandstats").Val(); !strings.Contains(s, "cmdstat_blpop:calls=1,") || !strings.Contains(s, "failed_calls=1") {
		t.Fatalf("BLPOP's commandstats: %s", s)
	}
}

// A replica's hard output limit below repl-backlog-size counts as the
// backlog's size, as in Redis: the replica could continue (PSYNC) from
// the backlog, so dropping it for less would only make it resynchronise
// in full.
func TestReplicaOutputLimitAtLeastBacklog(t *testing.T) {
	srv := testutil.Start(t, "repl-diskless-sync", "no", "repl-backlog-size", "64mb",
		"client-output-buffer-limit", "replica 512kb 0 0")
	fakeReplica(t, srv) // reads nothing after its RDB
	c := srv.Client(t)
	ctx := context.Background()
	big := strings.Repeat("x", 1<<20)
	for i := 0; i < 12; i++ {
		c.Set(ctx, "k"+strconv.Itoa(i), big, 0)
	}
	time.Sleep(100 * time.Millisecond)
	if n := infoLineOf(t, c, "replication", "connected_slaves"); n != "1" {
		t.Fatalf("connected_slaves:%s: a replica 12 MB behind was dropped under a 512 KB limit and a 64 MB backlog", n)
	}
	if err := c.ConfigSet(ctx, "repl-backlog-size", "1mb").Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		c.Set(ctx, "k"+strconv.Itoa(i), big, 0)
	}
	testutil.WaitFor(t, 5*time.Second, "the replica dropped past the limit", func() bool {
		return infoLineOf(t, c, "replication", "connected_slaves") == "0"
	})
}

// A replica whose own link is down refuses to serve replicas
// (-NOMASTERLINK, as Redis), and a replica refused that way keeps its
// history: back on its primary it continues (PSYNC) instead of loading a
// snapshot. Serving them from a replica with no stream gave them a
// history that was not the primary's.
func TestNoMasterLinkKeepsHistory(t *testing.T) {
	primary := testutil.Start(t)
	orphan := testutil.Start(t)
	replica, log := startLogged(t, t.TempDir())
	p, o := primary.Client(t), orphan.Client(t)
	r := redis.NewClient(&redis.Options{Addr: replica.Addr().String()})
	defer r.Close()
	ctx := context.Background()
	p.Set(ctx, "k", "1", 0)
	linkReplica(t, r, primary.Addr)
	// orphan replicates a primary that is not there: its link stays down.
	deadPort := closedPort(t)
	o.Do(ctx, "replicaof", "127.0.0.1", deadPort)
	host, port, _ := net.SplitHostPort(orphan.Addr)
	r.Do(ctx, "replicaof", host, port)
	testutil.WaitFor(t, 10*time.Second, "the refusal", func() bool {
		return strings.Contains(log.String(), "Master is currently unable to PSYNC but should be in the future: -NOMASTERLINK")
	})
	p.Incr(ctx, "k")
	full := infoLineOf(t, p, "stats", "sync_full")
	linkReplica(t, r, primary.Addr)
	if f := infoLineOf(t, p, "stats", "sync_full"); f != full {
		t.Fatalf("the replica synchronised in full (sync_full %s, was %s): its history was lost", f, full)
	}
	testutil.WaitFor(t, 5*time.Second, "the INCR", func() bool { return r.Get(ctx, "k").Val() == "2" })
}

// A replica shut down while it loads its primary's RDB exits at once and
// does not save the half-loaded dataset (NOSAVE is implied while loading,
// as in Redis); it held every shard until the transfer's end before.
func TestShutdownWhileLoadingFromPrimary(t *testing.T) {
	primary := startDebug(t, "rdb-key-save-delay", "100000") // 100 ms a key
	p := primary.Client(t)
	ctx := context.Background()
	if err := p.Do(ctx, "debug", "populate", "100").Err(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	replica, log := startLogged(t, dir, "save", "3600 1")
	r := redis.NewClient(&redis.Options{Addr: replica.Addr().String()})
	defer r.Close()
	host, port, _ := net.SplitHostPort(primary.Addr)
	r.Do(ctx, "replicaof", host, port)
	testutil.WaitFor(t, 10*time.Second, "the load", func() bool {
		return strings.Contains(log.String(), "MASTER <-> REPLICA sync: Loading DB in memory")
	})
	done := make(chan error, 1)
	go func() { done <- replica.Shutdown(context.Background()) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("Shutdown waits for the load:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(dir, "dump.rdb")); !os.IsNotExist(err) {
		t.Fatalf("the half-loaded dataset was saved: %v", err)
	}
}

// A disk-based snapshot made for replicas that all went away is stopped
// (its save child killed), as in Redis, unless save points make it a save
// worth finishing.
func TestUselessSyncSnapshotStopped(t *testing.T) {
	primary := startDebug(t, "repl-diskless-sync", "no", "save", "", "rdb-key-save-delay", "1000000")
	p := primary.Client(t)
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		p.Set(ctx, strconv.Itoa(i), "v", 0)
	}
	replica := testutil.Start(t)
	r := replica.Client(t)
	host, port, _ := net.SplitHostPort(primary.Addr)
	for _, save := range []string{"", "900 1"} {
		p.ConfigSet(ctx, "save", save)
		r.Do(ctx, "replicaof", host, port)
		testutil.WaitFor(t, 10*time.Second, "the snapshot for the replica", func() bool {
			return infoLineOf(t, p, "persistence", "rdb_bgsave_in_progress") == "1" &&
				strings.Contains(infoLineOf(t, p, "replication", "slave0"), "state=wait_bgsave")
		})
		r.Do(ctx, "replicaof", "no", "one")
		if save == "" {
			testutil.WaitFor(t, 5*time.Second, "the useless snapshot stopped", func() bool {
				return infoLineOf(t, p, "persistence", "rdb_bgsave_in_progress") == "0"
			})
			continue
		}
		time.Sleep(300 * time.Millisecond)
		if infoLineOf(t, p, "persistence", "rdb_bgsave_in_progress") != "1" {
			t.Fatal("a snapshot that is also a save (save points set) was stopped")
		}
		p.ConfigSet(ctx, "rdb-key-save-delay", "0")
	}
}

// A replica pointed elsewhere and back continues (PSYNC) its primary's
// stream in the database the stream had selected, as Redis's cached
// master keeps its db: the primary sends no SELECT on a continuation, so
// a replica starting from database 0 wrote the continued stream there.
func TestContinuationKeepsSelectedDB(t *testing.T) {
	primary := testutil.Start(t)
	replica := testutil.Start(t)
	p, r := primary.Client(t), replica.Client(t)
	ctx := context.Background()
	p9 := primary.ClientWith(t, &redis.Options{DB: 9, Protocol: 2})
	p9.Set(ctx, "a", "1", 0)
	linkReplica(t, r, primary.Addr)
	// Once linked: the stream selects database 9 for the replica.
	p9.Set(ctx, "a2", "1", 0)
	r9 := replica.ClientWith(t, &redis.Options{DB: 9, Protocol: 2})
	testutil.WaitFor(t, 5*time.Second, "a2 on the replica", func() bool { return r9.Get(ctx, "a2").Val() == "1" })
	deadPort := closedPort(t)
	r.Do(ctx, "replicaof", "127.0.0.1", deadPort)
	p9.Set(ctx, "b", "2", 0)
	partial := infoLineOf(t, p, "stats", "sync_partial_ok")
	linkReplica(t, r, primary.Addr)
	testutil.WaitFor(t, 5*time.Second, "b on the replica", func() bool { return r9.Get(ctx, "b").Val() == "2" })
	if n := r.DBSize(ctx).Val(); n != 0 {
		t.Fatalf("%d keys in database 0 of the replica: the continued stream went there", n)
	}
	if got := infoLineOf(t, p, "stats", "sync_partial_ok"); got == partial {
		t.Fatal("the replica did not continue (PSYNC): the test does not test the continuation")
	}
}

// A replica's connection carries the stream: a command of the replica's
// that would answer disconnects it, as in Redis; and PSYNC with an offset
// that is not a number is refused before anything starts.
func TestReplicaConnectionRules(t *testing.T) {
	srv, log := startLogged(t, t.TempDir(), "repl-diskless-sync-delay", "0")
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("PSYNC replicationid offset_str\r\n"))
	r := bufio.NewReader(conn)
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if l, _ := r.ReadString('\n'); l != "-ERR value is not an integer or out of range\r\n" {
		t.Fatalf("PSYNC with a wrong offset: %q", l)
	}
	if !strings.Contains(log.String(), "asks for synchronization but with a wrong offset") {
		t.Fatalf("log:\n%s", log)
	}
	conn.Write([]byte("SYNC\r\nPING\r\n"))
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatalf("the replica's connection was not closed: %v", err)
	}
	testutil.WaitFor(t, 5*time.Second, "the log line", func() bool {
		return strings.Contains(log.String(), "Replica generated a reply to command 'ping', disconnecting it: id=")
	})
	// A refused command too: its error is logged as critical first.
	conn2, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	conn2.Write([]byte("PSYNC ? -1\r\nGET foo\r\n"))
	conn2.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, conn2); err != nil {
		t.Fatalf("the replica's connection was not closed: %v", err)
	}
	testutil.WaitFor(t, 5*time.Second, "the log lines", func() bool {
		l := log.String()
		return strings.Contains(l, "Replica generated a reply to command 'get', disconnecting it: id=") &&
			strings.Contains(l, "== CRITICAL == This master is sending an error to its replica: 'ERR Replica can't interact with the keyspace'")
	})
}

// closedPort returns a loopback port nobody listens on (one just freed).
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}

// CLIENT UNBLOCK ends a WAIT (and a WAITAOF): with TIMEOUT it answers as
// a timeout would, with ERROR with the UNBLOCKED error.
func TestClientUnblockEndsWait(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	c := srv.Client(t)
	for _, tc := range []struct {
		cmd    []string
		reason string
		want   string
	}{
		{[]string{"WAIT", "1", "0"}, "TIMEOUT", "0"},
		{[]string{"WAIT", "1", "0"}, "ERROR", "UNBLOCKED client unblocked via CLIENT UNBLOCK"},
		{[]string{"WAITAOF", "0", "1", "0"}, "TIMEOUT", "[0 0]"},
	} {
		r := srv.Raw(t)
		idv, _ := r.Do("CLIENT", "ID")
		id := fmt.Sprint(idv)
		if err := r.Send(tc.cmd...); err != nil {
			t.Fatal(err)
		}
		testutil.WaitFor(t, 5*time.Second, "the wait to start", func() bool {
			n, _ := c.Do(ctx, "CLIENT", "UNBLOCK", id, tc.reason).Int()
			return n == 1
		})
		_ = r.Conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		v, err := r.Read()
		got := fmt.Sprint(v)
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Fatalf("%v unblocked with %s: %q, want %q", tc.cmd, tc.reason, got, tc.want)
		}
	}
}
