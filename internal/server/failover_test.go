package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// FAILOVER's examples for TestEveryCommand and TestRedisDiff: on a server
// without replicas every form is refused, in Redis's words.
func init() {
	cmdExamples["failover"] = []string{`failover`, `failover abort`, `failover to localhost 6380`,
		`failover to localhost x`, `failover timeout 0`, `failover timeout 10 force`, `failover abort timeout 10`,
		`failover timeout 10 timeout 10`}
}

// foNode is one server of a failover test, with a client and its log.
type foNode struct {
	*testutil.Instance
	c    *redis.Client
	log  *testutil.LogBuffer
	host string
	port string
}

func startFoNode(t *testing.T, directives ...string) *foNode {
	t.Helper()
	inst := testutil.Start(t, append([]string{"enable-debug-command", "yes"}, directives...)...)
	n := &foNode{Instance: inst, c: inst.Client(t), log: &testutil.LogBuffer{}}
	inst.Srv.Log.SetOutput(n.log)
	n.host, n.port, _ = net.SplitHostPort(inst.Addr)
	return n
}

// field returns an INFO replication field ("" when absent).
func (n *foNode) field(t *testing.T, name string) string {
	t.Helper()
	return infoLineOf(t, n.c, "replication", name)
}

// statInt returns an INFO stats counter.
func (n *foNode) statInt(t *testing.T, name string) int64 {
	t.Helper()
	v, _ := strconv.ParseInt(infoLineOf(t, n.c, "stats", name), 10, 64)
	return v
}

func (n *foNode) role(t *testing.T) string {
	t.Helper()
	v, err := n.c.Do(context.Background(), "role").Slice()
	if err != nil {
		t.Fatal(err)
	}
	return v[0].(string)
}

func (n *foNode) digest(t *testing.T) string {
	t.Helper()
	return n.c.Do(context.Background(), "debug", "digest").String()
}

// follow makes n a replica of primary, at addr (the primary's, or a
// freezer's in front of it), and waits for the stream to flow and for the
// primary to count n online (a moment after n has loaded the snapshot).
func (n *foNode) follow(t *testing.T, primary *foNode, addr string) {
	t.Helper()
	linkReplica(t, n.c, addr)
	port := n.port
	if ap := n.c.ConfigGet(context.Background(), "replica-announce-port").Val()["replica-announce-port"]; ap != "" && ap != "0" {
		port = ap
	}
	testutil.WaitFor(t, 10*time.Second, "replica online", func() bool {
		return strings.Contains(primary.Info(t), "port="+port+",state=online")
	})
}

// Info returns INFO replication.
func (n *foNode) Info(t *testing.T) string {
	t.Helper()
	return n.c.Info(context.Background(), "replication").Val()
}

// waitPhase waits for INFO's master_failover_state to be phase.
func (n *foNode) waitPhase(t *testing.T, phase string) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, "master_failover_state:"+phase, func() bool {
		return n.field(t, "master_failover_state") == phase
	})
}

// waitCaughtUp waits for replica to have applied everything primary streamed.
func waitCaughtUp(t *testing.T, primary, replica *foNode) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, "replica caught up", func() bool {
		return replica.field(t, "master_link_status") == "up" &&
			replica.field(t, "slave_repl_offset") == primary.field(t, "master_repl_offset")
	})
}

// logCount counts the lines of n's log that contain s.
func (n *foNode) logCount(s string) int {
	return strings.Count(n.log.String(), s)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// freezer is a TCP proxy that can stop passing bytes, in both directions,
// and start again: what a stopped process (SIGSTOP in Redis's tests) looks
// like from the other side of its connections. Bytes keep their order and
// nothing is lost; a side that closes is passed on once what it sent has
// been.
type freezer struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cond   *sync.Cond
	frozen bool
	closed bool
	conns  []net.Conn
}

func newFreezer(t *testing.T, target string) *freezer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln, target: target}
	f.cond = sync.NewCond(&f.mu)
	go f.accept()
	t.Cleanup(f.close)
	return f
}

func (f *freezer) port() string {
	_, p, _ := net.SplitHostPort(f.ln.Addr().String())
	return p
}

func (f *freezer) addr() string { return f.ln.Addr().String() }

func (f *freezer) accept() {
	for {
		in, err := f.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", f.target)
		if err != nil {
			in.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, in, out)
		f.mu.Unlock()
		go f.pipe(in, out)
		go f.pipe(out, in)
	}
}

// gate waits while the freezer is frozen.
func (f *freezer) gate() {
	f.mu.Lock()
	for f.frozen && !f.closed {
		f.cond.Wait()
	}
	f.mu.Unlock()
}

func (f *freezer) pipe(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		f.gate() // frozen: what comes stays in the kernel's buffers
		n, err := src.Read(buf)
		if n > 0 {
			f.gate() // a read that was under way when it froze waits too
			if _, werr := dst.Write(buf[:n]); werr != nil {
				src.Close()
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (f *freezer) freeze() {
	f.mu.Lock()
	f.frozen = true
	f.mu.Unlock()
}

func (f *freezer) thaw() {
	f.mu.Lock()
	f.frozen = false
	f.cond.Broadcast()
	f.mu.Unlock()
}

func (f *freezer) close() {
	f.ln.Close()
	f.mu.Lock()
	f.closed = true
	f.cond.Broadcast()
	for _, c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
}

// FAILOVER's argument checks and refusals, each with Redis's error text,
// in Redis's order: syntax first, then the failover in progress, the
// role, the replicas, FORCE's requirements and the target.
func TestFailoverErrors(t *testing.T) {
	ctx := context.Background()
	p := startFoNode(t)
	for _, c := range []struct {
		args []any
		want string
	}{
		{[]any{"failover"}, "ERR FAILOVER requires connected replicas."},
		{[]any{"failover", "abort"}, "ERR No failover in progress."},
		{[]any{"failover", "ABORT", "timeout", "10"}, "ERR syntax error"},
		{[]any{"failover", "timeout"}, "ERR syntax error"},
		{[]any{"failover", "timeout", "0"}, "ERR FAILOVER timeout must be greater than 0"},
		{[]any{"failover", "timeout", "-5"}, "ERR FAILOVER timeout must be greater than 0"},
		{[]any{"failover", "timeout", "x"}, "ERR value is not an integer or out of range"},
		{[]any{"failover", "timeout", "10", "timeout", "10"}, "ERR syntax error"},
		{[]any{"failover", "to", "localhost"}, "ERR syntax error"},
		{[]any{"failover", "to", "localhost", "port"}, "ERR value is not an integer or out of range"},
		{[]any{"failover", "to", "a", "1", "to", "b", "2"}, "ERR syntax error"},
		{[]any{"failover", "force", "force"}, "ERR syntax error"},
		{[]any{"failover", "nosuch"}, "ERR syntax error"},
		// Valid syntax: refused for having no replica before FORCE is checked.
		{[]any{"failover", "force"}, "ERR FAILOVER requires connected replicas."},
		{[]any{"failover", "to", "127.0.0.1", "1", "timeout", "5", "force"}, "ERR FAILOVER requires connected replicas."},
	} {
		if err := p.c.Do(ctx, c.args...).Err(); errText(err) != c.want {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
	}

	a := startFoNode(t)
	a.follow(t, p, p.Addr)
	for _, c := range []struct {
		node *foNode
		args []any
		want string
	}{
		{a, []any{"failover"}, "ERR FAILOVER is not valid when server is a replica."},
		{a, []any{"failover", "to", p.host, p.port}, "ERR FAILOVER is not valid when server is a replica."},
		{p, []any{"failover", "force", "timeout", "100"}, "ERR FAILOVER with force option requires both a timeout and target HOST and IP."},
		{p, []any{"failover", "to", a.host, a.port, "force"}, "ERR FAILOVER with force option requires both a timeout and target HOST and IP."},
		{p, []any{"failover", "to", "invalidhost", a.port}, "ERR FAILOVER target HOST and PORT is not a replica."},
		{p, []any{"failover", "to", a.host, "1"}, "ERR FAILOVER target HOST and PORT is not a replica."},
		// Nothing started: still nothing to abort.
		{p, []any{"failover", "abort"}, "ERR No failover in progress."},
	} {
		if err := c.node.c.Do(ctx, c.args...).Err(); errText(err) != c.want {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
	}

	// A replica still waiting for its snapshot is not online: a raw link
	// announcing port 6390 that asks for a full synchronisation, streamed
	// (capa eof), while the primary waits repl-diskless-sync-delay.
	p.c.ConfigSet(ctx, "repl-diskless-sync-delay", "30")
	raw := p.Raw(t)
	if v, _ := raw.Do("REPLCONF", "listening-port", "6390", "capa", "eof"); v != "OK" {
		t.Fatalf("REPLCONF: %v", v)
	}
	if err := raw.Send("PSYNC", "?", "-1"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, "a replica waiting for its snapshot", func() bool {
		return strings.Contains(p.field(t, "slave1"), "port=6390,state=wait_bgsave")
	})
	if err := p.c.Do(ctx, "failover", "to", "127.0.0.1", "6390").Err(); errText(err) != "ERR FAILOVER target replica is not online." {
		t.Errorf("failover to a replica in wait_bgsave: %v\n%s", err, p.Info(t))
	}
	if p.field(t, "master_failover_state") != "no-failover" {
		t.Errorf("a refused FAILOVER left master_failover_state:%s", p.field(t, "master_failover_state"))
	}
}

// The target's side of PSYNC ... FAILOVER: refused by a primary and by a
// replica of another history, in Redis's words, with its log line.
func TestPsyncFailoverRefusals(t *testing.T) {
	p := startFoNode(t)
	raw := p.Raw(t)
	v, _ := raw.Do("PSYNC", "0123456789012345678901234567890123456789", "1", "FAILOVER")
	if v != testutil.ErrorReply("ERR PSYNC FAILOVER can't be sent to a master.") {
		t.Errorf("PSYNC FAILOVER to a primary: %v", v)
	}
	if p.logCount("Failover request received for replid 0123456789012345678901234567890123456789.") != 1 {
		t.Errorf("log:\n%s", p.log.String())
	}
	a := startFoNode(t)
	a.follow(t, p, p.Addr)
	raw = a.Raw(t)
	v, _ = raw.Do("PSYNC", "0123456789012345678901234567890123456789", "1", "failover")
	if v != testutil.ErrorReply("ERR PSYNC FAILOVER replid must match my replid.") {
		t.Errorf("PSYNC FAILOVER with another replid: %v", v)
	}
	if a.role(t) != "slave" {
		t.Errorf("the replica changed role: %s", a.role(t))
	}
}

// FAILOVER TO a named replica: the primary waits for it, becomes its
// replica, and the target takes over with a partial resynchronisation, as
// Redis's log lines tell; the other replica then follows the new primary,
// partially too, and all three hold the same data.
func TestFailoverToNamedReplica(t *testing.T) {
	ctx := context.Background()
	p, a, b := startFoNode(t), startFoNode(t), startFoNode(t)
	a.follow(t, p, p.Addr)
	b.follow(t, p, p.Addr)
	for i := range 100 {
		p.c.Set(ctx, "k"+strconv.Itoa(i), i, 0)
	}
	partial, full := a.statInt(t, "sync_partial_ok"), a.statInt(t, "sync_full")
	if err := p.c.Do(ctx, "failover", "to", a.host, a.port).Err(); err != nil {
		t.Fatal(err)
	}
	p.waitPhase(t, "no-failover")
	if p.role(t) != "slave" || a.role(t) != "master" {
		t.Fatalf("roles after FAILOVER: old primary %s, target %s", p.role(t), a.role(t))
	}
	if h, port := p.field(t, "master_host"), p.field(t, "master_port"); h != a.host || port != a.port {
		t.Fatalf("the old primary follows %s:%s, want %s", h, port, a.Addr)
	}
	b.follow(t, a, a.Addr)
	waitCaughtUp(t, a, p)
	waitCaughtUp(t, a, b)
	if got := a.statInt(t, "sync_partial_ok") - partial; got != 2 {
		t.Errorf("partial resynchronisations on the new primary: %d, want 2", got)
	}
	if got := a.statInt(t, "sync_full") - full; got != 0 {
		t.Errorf("full resynchronisations on the new primary: %d, want 0", got)
	}
	if da, dp, db := a.digest(t), p.digest(t), b.digest(t); da != dp || da != db {
		t.Errorf("digests differ: %s %s %s", da, dp, db)
	}
	for _, l := range []string{"FAILOVER requested to " + a.host + ":" + a.port + ".",
		"Failover target " + a.host + ":" + a.port + " is synced, failing over."} {
		if p.logCount(l) != 1 {
			t.Errorf("old primary's log lacks %q:\n%s", l, p.log.String())
		}
	}
	for _, l := range []string{"Failover request received for replid ", "MASTER MODE enabled (failover request from 'id="} {
		if a.logCount(l) != 1 {
			t.Errorf("target's log lacks %q:\n%s", l, a.log.String())
		}
	}
	// The new primary takes writes; the old one refuses them.
	if err := a.c.Set(ctx, "after", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := p.c.Set(ctx, "after", "2", 0).Err(); errText(err) != "READONLY You can't write against a read only replica." {
		t.Errorf("write to the old primary: %v", err)
	}
}

// FAILOVER with no TO picks the replica that has caught up: here the only
// one whose link flows.
func TestFailoverToAnyReplica(t *testing.T) {
	ctx := context.Background()
	p, a, b := startFoNode(t), startFoNode(t), startFoNode(t)
	fz := newFreezer(t, p.Addr)
	a.follow(t, p, fz.addr()) // a's link can be frozen: it never catches up
	b.follow(t, p, p.Addr)
	fz.freeze()
	p.c.Set(ctx, "case", "1", 0)
	if err := p.c.Do(ctx, "failover").Err(); err != nil {
		t.Fatal(err)
	}
	p.waitPhase(t, "no-failover")
	if p.role(t) != "slave" || b.role(t) != "master" || p.field(t, "master_port") != b.port {
		t.Fatalf("roles: old primary %s of port %s, b %s", p.role(t), p.field(t, "master_port"), b.role(t))
	}
	if p.logCount("FAILOVER requested to any replica.") != 1 ||
		p.logCount("Failover target "+b.host+":"+b.port+" is synced, failing over.") != 1 {
		t.Errorf("log:\n%s", p.log.String())
	}
	fz.thaw()
	a.c.Do(ctx, "replicaof", b.host, b.port)
	waitCaughtUp(t, b, a)
	waitCaughtUp(t, b, p)
	if da, dp, db := a.digest(t), p.digest(t), b.digest(t); da != dp || da != db {
		t.Errorf("digests differ: %s %s %s", da, dp, db)
	}
}

// TIMEOUT without FORCE: a target that does not catch up in time aborts
// the failover; the writes held back meanwhile then run on the primary,
// which never stopped being one. Reads go on throughout.
func TestFailoverTimeoutAborts(t *testing.T) {
	ctx := context.Background()
	p, a := startFoNode(t), startFoNode(t)
	fz := newFreezer(t, p.Addr)
	a.follow(t, p, fz.addr())
	fz.freeze()
	p.c.Set(ctx, "case", "1", 0)
	partial, full := p.statInt(t, "sync_partial_ok"), p.statInt(t, "sync_full")
	if err := p.c.Do(ctx, "failover", "to", a.host, a.port, "timeout", "500").Err(); err != nil {
		t.Fatal(err)
	}
	if st := p.field(t, "master_failover_state"); st != "waiting-for-sync" {
		t.Fatalf("master_failover_state:%s", st)
	}
	if v := p.c.Get(ctx, "case").Val(); v != "1" {
		t.Fatalf("read during the failover: %q", v)
	}
	w := p.Raw(t)
	if err := w.Send("SET", "held", "1"); err != nil {
		t.Fatal(err)
	}
	noReplyWithin(t, w, 100*time.Millisecond)
	p.waitPhase(t, "no-failover")
	if v, err := w.Read(); v != "OK" {
		t.Fatalf("the write held back: %v %v", v, err)
	}
	if p.role(t) != "master" {
		t.Fatalf("role after the abort: %s", p.role(t))
	}
	if p.logCount("FAILOVER to "+a.host+":"+a.port+" aborted: Replica never caught up before timeout") != 1 {
		t.Errorf("log:\n%s", p.log.String())
	}
	fz.thaw()
	waitCaughtUp(t, p, a)
	if p.statInt(t, "sync_partial_ok") != partial || p.statInt(t, "sync_full") != full {
		t.Errorf("the replica resynchronised")
	}
	if a.c.Get(ctx, "held").Val() != "1" {
		t.Errorf("the write held back did not reach the replica")
	}
}

// FAILOVER ABORT while waiting: the pause ends (CLIENT UNPAUSE alone does
// not end it), and while the failover runs, a second FAILOVER, REPLICAOF
// and SYNC are refused.
func TestFailoverAbort(t *testing.T) {
	ctx := context.Background()
	p, a := startFoNode(t), startFoNode(t)
	fz := newFreezer(t, p.Addr)
	a.follow(t, p, fz.addr())
	fz.freeze()
	p.c.Set(ctx, "case", "2", 0)
	if err := p.c.Do(ctx, "failover", "to", a.host, a.port, "timeout", "60000").Err(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []any
		want string
	}{
		{[]any{"failover"}, "ERR FAILOVER already in progress."},
		{[]any{"failover", "to", a.host, a.port}, "ERR FAILOVER already in progress."},
		{[]any{"replicaof", "no", "one"}, "ERR REPLICAOF not allowed while failing over."},
		{[]any{"replicaof", a.host, a.port}, "ERR REPLICAOF not allowed while failing over."},
	} {
		if err := p.c.Do(ctx, c.args...).Err(); errText(err) != c.want {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
	}
	raw := p.Raw(t)
	if v, _ := raw.Do("PSYNC", "?", "-1"); v != testutil.ErrorReply("NOMASTERLINK Can't SYNC while failing over") {
		t.Errorf("PSYNC during a failover: %v", v)
	}
	w := p.Raw(t)
	if v, _ := w.Do("CLIENT", "UNPAUSE"); v != "OK" {
		t.Fatalf("CLIENT UNPAUSE: %v", v)
	}
	if err := w.Send("INCR", "n"); err != nil {
		t.Fatal(err)
	}
	noReplyWithin(t, w, 100*time.Millisecond)
	if err := p.c.Do(ctx, "failover", "abort").Err(); err != nil {
		t.Fatal(err)
	}
	if st := p.field(t, "master_failover_state"); st != "no-failover" {
		t.Fatalf("master_failover_state after ABORT: %s", st)
	}
	if v, err := w.Read(); v != int64(1) {
		t.Fatalf("the write held back: %v %v", v, err)
	}
	if p.logCount("FAILOVER to "+a.host+":"+a.port+" aborted: Failover manually aborted") != 1 {
		t.Errorf("log:\n%s", p.log.String())
	}
	fz.thaw()
	waitCaughtUp(t, p, a)
}

// FORCE: the target never catches up, so at TIMEOUT the primary switches
// anyway. While the target is frozen both servers are replicas (never two
// primaries); once it wakes, it takes over.
func TestFailoverForce(t *testing.T) {
	ctx := context.Background()
	p := startFoNode(t)
	a := startFoNode(t)
	// a is known to the primary by the port of a freezer in front of it
	// (replica-announce-port), and reaches the primary through another:
	// frozen together, a looks stopped.
	front := newFreezer(t, a.Addr)
	a.c.ConfigSet(ctx, "replica-announce-port", front.port())
	link := newFreezer(t, p.Addr)
	a.follow(t, p, link.addr())
	front.freeze()
	link.freeze()
	p.c.Set(ctx, "case", "3", 0) // a will not acknowledge this in time
	if err := p.c.Do(ctx, "failover", "to", "127.0.0.1", front.port(), "timeout", "100", "force").Err(); err != nil {
		t.Fatal(err)
	}
	p.waitPhase(t, "failover-in-progress")
	if p.role(t) != "slave" || a.role(t) != "slave" {
		t.Fatalf("roles while the target is frozen: %s and %s", p.role(t), a.role(t))
	}
	if p.logCount("FAILOVER to 127.0.0.1:"+front.port()+" time out exceeded, failing over.") != 1 {
		t.Errorf("log:\n%s", p.log.String())
	}
	partial, full := a.statInt(t, "sync_partial_ok"), a.statInt(t, "sync_full")
	// The stream first, as a woken process reads what waited: then the
	// takeover continues it.
	link.thaw()
	testutil.WaitFor(t, 10*time.Second, "the target has the last write", func() bool {
		return a.c.Get(ctx, "case").Val() == "3"
	})
	front.thaw()
	p.waitPhase(t, "no-failover")
	if p.role(t) != "slave" || a.role(t) != "master" {
		t.Fatalf("roles after FORCE: %s and %s", p.role(t), a.role(t))
	}
	waitCaughtUp(t, a, p)
	if a.statInt(t, "sync_partial_ok")-partial != 1 || a.statInt(t, "sync_full") != full {
		t.Errorf("the old primary did not continue partially")
	}
	if da, dp := a.digest(t), p.digest(t); da != dp {
		t.Errorf("digests differ: %s %s", da, dp)
	}
}

// A target that refuses the PSYNC (here its ACL denies PSYNC) aborts the
// failover: the old primary is a primary again, under a new replication
// ID, which its replicas continue with partial resynchronisations.
func TestFailoverTargetRejectsPsync(t *testing.T) {
	ctx := context.Background()
	p, a, b := startFoNode(t), startFoNode(t), startFoNode(t)
	a.follow(t, p, p.Addr)
	b.follow(t, p, p.Addr)
	a.c.Do(ctx, "acl", "setuser", "default", "-psync")
	p.c.Set(ctx, "foo", "bar", 0)
	partial, full := p.statInt(t, "sync_partial_ok"), p.statInt(t, "sync_full")
	replid := p.field(t, "master_replid")
	if err := p.c.Do(ctx, "failover", "to", a.host, a.port).Err(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the failover aborted", func() bool {
		return p.logCount("aborted: Failover target rejected psync request") == 1
	})
	p.waitPhase(t, "no-failover")
	if p.role(t) != "master" || a.role(t) != "slave" {
		t.Fatalf("roles after the rejection: %s and %s", p.role(t), a.role(t))
	}
	if p.field(t, "master_replid") == replid || p.field(t, "master_replid2") != replid {
		t.Errorf("replication IDs after the abort: %s, %s (was %s)", p.field(t, "master_replid"), p.field(t, "master_replid2"), replid)
	}
	waitCaughtUp(t, p, a)
	waitCaughtUp(t, p, b)
	if p.statInt(t, "sync_partial_ok")-partial != 2 || p.statInt(t, "sync_full") != full {
		t.Errorf("resynchronisations: %d partial, %d full", p.statInt(t, "sync_partial_ok")-partial, p.statInt(t, "sync_full")-full)
	}
	if err := p.c.Set(ctx, "after", "1", 0).Err(); err != nil {
		t.Fatalf("write after the abort: %v", err)
	}
}

// The property a failover is for: under a continuous write load, every
// write the old primary acknowledged is on the new one. Writers (plain
// SETs and MULTI/EXEC transactions) run against the old primary until it
// answers READONLY (the writes the pause held back get it too), then go on
// against the new primary.
func TestFailoverUnderWriteLoadLosesNothing(t *testing.T) {
	ctx := context.Background()
	p, a, b := startFoNode(t), startFoNode(t), startFoNode(t)
	a.follow(t, p, p.Addr)
	b.follow(t, p, p.Addr)
	writers := 8
	if raceEnabled() {
		writers = 4
	}
	var (
		mu        sync.Mutex
		acked     []string // keys whose write was acknowledged, by either primary
		refused   atomic.Int64
		onNew     atomic.Int64
		stop      atomic.Bool
		wg        sync.WaitGroup
		failures  = make(chan error, writers)
		switched  = make(chan struct{})
		newClient = func(addr string) *redis.Client {
			return redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, MaxRetries: -1,
				PoolSize: 1, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second})
		}
		switchOnce sync.Once
		switchNow  = func() { switchOnce.Do(func() { close(switched) }) }
	)
	// A test that fails half-way still lets its writers go.
	t.Cleanup(func() { stop.Store(true); switchNow() })
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(p.Addr)
			defer func() { c.Close() }()
			primary := true
			for n := 0; !stop.Load(); n++ {
				key := fmt.Sprintf("w%d:%d", w, n)
				var err error
				if w%2 == 1 {
					// A transaction: EXEC is what the pause holds back.
					_, err = c.TxPipelined(ctx, func(pl redis.Pipeliner) error {
						pl.Set(ctx, key, n, 0)
						pl.Incr(ctx, fmt.Sprintf("count%d", w))
						return nil
					})
				} else {
					err = c.Set(ctx, key, n, 0).Err()
				}
				switch {
				case err == nil:
					mu.Lock()
					acked = append(acked, key)
					mu.Unlock()
					if !primary {
						onNew.Add(1)
					}
				case primary && (strings.HasPrefix(err.Error(), "READONLY ") || strings.HasPrefix(err.Error(), "EXECABORT ")):
					// The old primary is a replica now (a transaction's
					// SET got READONLY, so its EXEC is refused): on to
					// the new one.
					refused.Add(1)
					<-switched
					c.Close()
					c = newClient(a.Addr)
					primary = false
				default:
					failures <- fmt.Errorf("writer %d, %s: %v", w, key, err)
					return
				}
			}
		}()
	}
	// Writes flow before the failover...
	testutil.WaitFor(t, 10*time.Second, "writes before the failover", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) > 2000
	})
	if err := p.c.Do(ctx, "failover", "to", a.host, a.port).Err(); err != nil {
		t.Fatal(err)
	}
	p.waitPhase(t, "no-failover")
	if a.role(t) != "master" {
		t.Fatalf("the target is %s", a.role(t))
	}
	switchNow()
	// ... and after it, on the new primary.
	testutil.WaitFor(t, 10*time.Second, "writes on the new primary", func() bool {
		return onNew.Load() > 500
	})
	stop.Store(true)
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Error(err)
	}
	if refused.Load() != int64(writers) {
		t.Errorf("%d writers saw READONLY, want all %d", refused.Load(), writers)
	}
	// Every acknowledged write, in one MGET per batch.
	mu.Lock()
	keys := acked
	mu.Unlock()
	missing := 0
	for i := 0; i < len(keys); i += 1000 {
		batch := keys[i:min(i+1000, len(keys))]
		vals, err := a.c.MGet(ctx, batch...).Result()
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range vals {
			if v == nil {
				if missing < 10 {
					t.Errorf("acknowledged write of %s is not on the new primary", batch[j])
				}
				missing++
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged writes lost", missing, len(keys))
	}
	t.Logf("%d acknowledged writes, %d on the new primary, all there", len(keys), onNew.Load())
	// The old primary and the other replica end up with the same data.
	b.c.Do(ctx, "replicaof", a.host, a.port)
	waitCaughtUp(t, a, p)
	waitCaughtUp(t, a, b)
	if da, dp, db := a.digest(t), p.digest(t), b.digest(t); da != dp || da != db {
		t.Errorf("digests differ: %s %s %s", da, dp, db)
	}
}

// INFO replication as Redis 7.2 writes it, on a replica and a primary:
// the fields sentinels and clients read, present and right.
func TestFailoverInfoReplicationFields(t *testing.T) {
	ctx := context.Background()
	p, a := startFoNode(t), startFoNode(t)

	// A primary turned replica of an address where nothing answers: the
	// link never came up, so it has no down time yet (-1), and the
	// offsets are its own history's.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().(*net.TCPAddr)
	dead.Close()
	a.c.Set(ctx, "x", "1", 0)
	a.c.Do(ctx, "replicaof", "127.0.0.1", deadAddr.Port)
	for k, want := range map[string]string{
		"role": "slave", "master_link_status": "down", "master_last_io_seconds_ago": "-1",
		"master_sync_in_progress": "0", "master_link_down_since_seconds": "-1",
		"slave_read_repl_offset": a.field(t, "master_repl_offset"), "slave_repl_offset": a.field(t, "master_repl_offset"),
		"slave_priority": "100", "slave_read_only": "1", "replica_announced": "1",
		"master_failover_state": "no-failover",
	} {
		if got := a.field(t, k); got != want {
			t.Errorf("unlinked replica: %s:%s, want %s", k, got, want)
		}
	}

	// Linked (through a proxy, closed below to lose the link): no down
	// time shown, the last I/O is recent, and the offsets read and
	// applied are the primary's.
	a.c.ConfigSet(ctx, "replica-priority", "42")
	a.c.ConfigSet(ctx, "replica-announced", "no")
	fz := newFreezer(t, p.Addr)
	a.follow(t, p, fz.addr())
	p.c.Set(ctx, "k", "v", 0)
	waitCaughtUp(t, p, a)
	for k, want := range map[string]string{
		"master_link_status": "up", "master_sync_in_progress": "0",
		"slave_read_repl_offset": p.field(t, "master_repl_offset"),
		"slave_priority":         "42", "replica_announced": "0",
	} {
		if got := a.field(t, k); got != want {
			t.Errorf("linked replica: %s:%s, want %s", k, got, want)
		}
	}
	if io, _ := strconv.Atoi(a.field(t, "master_last_io_seconds_ago")); io < 0 || io > 2 {
		t.Errorf("master_last_io_seconds_ago:%d", io)
	}
	if a.field(t, "master_link_down_since_seconds") != "" {
		t.Errorf("master_link_down_since_seconds shown while the link is up")
	}
	for _, k := range []string{"master_sync_total_bytes", "master_sync_read_bytes", "master_sync_left_bytes", "master_sync_perc", "master_sync_last_io_seconds_ago"} {
		if a.field(t, k) != "" {
			t.Errorf("%s shown with no synchronisation in progress", k)
		}
	}

	// The primary's side: the replica's line, and min_slaves_good_slaves
	// only with min-replicas-to-write set.
	if p.field(t, "min_slaves_good_slaves") != "" {
		t.Errorf("min_slaves_good_slaves without min-replicas-to-write")
	}
	p.c.ConfigSet(ctx, "min-replicas-to-write", "1")
	if got := p.field(t, "min_slaves_good_slaves"); got != "1" {
		t.Errorf("min_slaves_good_slaves:%s", got)
	}
	want := fmt.Sprintf("ip=127.0.0.1,port=%s,state=online,offset=%s,lag=", a.port, p.field(t, "master_repl_offset"))
	testutil.WaitFor(t, 5*time.Second, "the replica's acknowledgement", func() bool {
		return strings.HasPrefix(p.field(t, "slave0"), want)
	})
	for k, want := range map[string]string{"role": "master", "connected_slaves": "1", "master_failover_state": "no-failover"} {
		if got := p.field(t, k); got != want {
			t.Errorf("primary: %s:%s, want %s", k, got, want)
		}
	}

	// The link lost: the down time counts from then.
	p.c.ConfigSet(ctx, "min-replicas-to-write", "0")
	fz.close()
	testutil.WaitFor(t, 10*time.Second, "link down", func() bool {
		return a.field(t, "master_link_status") == "down"
	})
	if d, err := strconv.Atoi(a.field(t, "master_link_down_since_seconds")); err != nil || d < 0 || d > 2 {
		t.Errorf("master_link_down_since_seconds:%s after the link was lost", a.field(t, "master_link_down_since_seconds"))
	}
	if a.field(t, "master_last_io_seconds_ago") != "-1" {
		t.Errorf("master_last_io_seconds_ago:%s with the link down", a.field(t, "master_last_io_seconds_ago"))
	}
	if a.field(t, "slave_repl_offset") == "1" || a.field(t, "slave_repl_offset") == "0" {
		t.Errorf("slave_repl_offset:%s: where the link stopped is kept", a.field(t, "slave_repl_offset"))
	}
}

// INFO's master_sync_* fields while a snapshot arrives: size, bytes read,
// bytes left, percentage, and master_sync_in_progress:1, from a primary
// (played here) that sends the first 9 of 100 bytes and stops.
func TestFailoverInfoSyncProgress(t *testing.T) {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	hold := make(chan struct{})
	defer close(hold)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		for {
			// The handshake, one inline or multibulk command at a time.
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if !strings.HasPrefix(line, "*") {
				continue
			}
			n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
			var args []string
			for range n {
				r.ReadString('\n')
				a, _ := r.ReadString('\n')
				args = append(args, strings.TrimSpace(a))
			}
			switch strings.ToUpper(args[0]) {
			case "PING":
				io.WriteString(conn, "+PONG\r\n")
			case "REPLCONF":
				io.WriteString(conn, "+OK\r\n")
			case "PSYNC":
				io.WriteString(conn, "+FULLRESYNC 0123456789012345678901234567890123456789 0\r\n$100\r\nREDIS0011")
				<-hold
				return
			}
		}
	}()
	a := startFoNode(t)
	a.c.Do(ctx, "replicaof", "127.0.0.1", ln.Addr().(*net.TCPAddr).Port)
	testutil.WaitFor(t, 10*time.Second, "the snapshot under way", func() bool {
		return a.field(t, "master_sync_read_bytes") == "9"
	})
	for k, want := range map[string]string{
		"master_link_status": "down", "master_sync_in_progress": "1",
		"master_sync_total_bytes": "100", "master_sync_read_bytes": "9", "master_sync_left_bytes": "91",
		"master_sync_perc": "9.00", "slave_repl_offset": "1", "slave_read_repl_offset": "1",
	} {
		if got := a.field(t, k); got != want {
			t.Errorf("%s:%s, want %s", k, got, want)
		}
	}
	if s, _ := strconv.Atoi(a.field(t, "master_sync_last_io_seconds_ago")); s < 0 || s > 2 {
		t.Errorf("master_sync_last_io_seconds_ago:%d", s)
	}
	if v, err := a.c.Do(ctx, "role").Slice(); err != nil || v[3] != "sync" {
		t.Errorf("ROLE: %v %v", v, err)
	}
}
