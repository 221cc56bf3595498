package server_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/testutil"
)

// expectLine reads one raw reply line, for replies whose RESP type matters
// (*-1 against _).
func expectLine(t *testing.T, r *testutil.Raw, want string) {
	t.Helper()
	_ = r.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := r.R.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if line != want+"\r\n" {
		t.Fatalf("got %q, want %q", line, want+"\r\n")
	}
}

// runTx sends MULTI, the commands and EXEC, checks every +QUEUED and
// returns EXEC's reply.
func runTx(t *testing.T, r *testutil.Raw, cmds ...[]string) any {
	t.Helper()
	expect(t, r, "OK", "multi")
	for _, c := range cmds {
		expect(t, r, "QUEUED", c...)
	}
	return do(t, r, "exec")
}

// sameAs compares a reply with its fmt.Sprint form.
func sameAs(t *testing.T, got any, want string) {
	t.Helper()
	if s := fmt.Sprint(got); s != want {
		t.Fatalf("got %s, want %s", s, want)
	}
}

// keysInShards returns n keys that all fall in different keyspace shards.
func keysInShards(n int) []string {
	seen := map[int]bool{}
	var out []string
	for i := 0; len(out) < n; i++ {
		k := "k" + strconv.Itoa(i)
		if s := keyspace.ShardOf([]byte(k)); !seen[s] {
			seen[s] = true
			out = append(out, k)
		}
	}
	return out
}

func TestMultiExecBasics(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	expect(t, r, "3", "rpush", "l", "a", "b", "c")
	sameAs(t, runTx(t, r, []string{"lrange", "l", "0", "-1"}, []string{"ping"}, []string{"incr", "n"}), "[[a b c] PONG 1]")
	sameAs(t, runTx(t, r), "[]")

	// DISCARD drops the queue.
	expect(t, r, "OK", "multi")
	expect(t, r, "QUEUED", "del", "l")
	expect(t, r, "OK", "discard")
	expect(t, r, "[a b c]", "lrange", "l", "0", "-1")

	// SELECT inside a transaction applies to the commands after it.
	sameAs(t, runTx(t, r, []string{"select", "3"}, []string{"set", "x", "in3"}, []string{"select", "0"}, []string{"set", "x", "in0"}), "[OK OK OK OK]")
	expect(t, r, "in0", "get", "x")
	expect(t, r, "OK", "select", "3")
	expect(t, r, "in3", "get", "x")
	expect(t, r, "OK", "select", "0")
}

func TestMultiErrors(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	expect(t, r, testutil.ErrorReply("ERR EXEC without MULTI"), "exec")
	expect(t, r, testutil.ErrorReply("ERR DISCARD without MULTI"), "discard")

	// Errors of MULTI and WATCH themselves do not doom the transaction.
	expect(t, r, "OK", "multi")
	expect(t, r, testutil.ErrorReply("ERR MULTI calls can not be nested"), "multi")
	expect(t, r, testutil.ErrorReply("ERR WATCH inside MULTI is not allowed"), "watch", "x")
	expect(t, r, "QUEUED", "set", "a", "1")
	expect(t, r, "[OK]", "exec")

	// Admission errors do: unknown command, arity, no-multi commands.
	for _, bad := range [][]string{
		{"nosuchcommand", "x"},
		{"set", "onlykey"},
		{"discard", "extra"},
		{"shutdown"},
	} {
		do(t, r, "del", "f1", "f2")
		expect(t, r, "OK", "multi")
		expect(t, r, "QUEUED", "set", "f1", "v")
		if v := do(t, r, bad...); !strings.HasPrefix(fmt.Sprint(v), "ERR ") {
			t.Fatalf("%v: got %v", bad, v)
		}
		expect(t, r, "QUEUED", "set", "f2", "v")
		expect(t, r, testutil.ErrorReply("EXECABORT Transaction discarded because of previous errors."), "exec")
		expect(t, r, int64(0), "exists", "f1", "f2")
		expect(t, r, "PONG", "ping") // out of MULTI
	}
	expect(t, r, "OK", "multi")
	expect(t, r, testutil.ErrorReply("ERR Command not allowed inside a transaction"), "shutdown")
	expect(t, r, "OK", "discard")

	// EXEC refused at admission discards the transaction and says why.
	expect(t, r, "OK", "multi")
	expect(t, r, "QUEUED", "set", "f1", "v")
	expect(t, r, testutil.ErrorReply("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"), "exec", "x")
	expect(t, r, testutil.ErrorReply("ERR EXEC without MULTI"), "exec")
	expect(t, r, int64(0), "exists", "f1")

	// Runtime errors are elements of EXEC's reply; the rest still runs.
	expect(t, r, "OK", "set", "s", "notanumber")
	got := runTx(t, r, []string{"set", "before", "1"}, []string{"incr", "s"}, []string{"set", "after", "1"})
	arr, _ := got.([]any)
	if len(arr) != 3 || arr[0] != "OK" || arr[2] != "OK" {
		t.Fatalf("exec: %#v", got)
	}
	if e, ok := arr[1].(testutil.ErrorReply); !ok || !strings.HasPrefix(string(e), "ERR value is not an integer") {
		t.Fatalf("incr in exec: %#v", arr[1])
	}
	expect(t, r, int64(2), "exists", "before", "after")

	// MONITOR needs a stream of replies; a transaction gives one each.
	sameAs(t, runTx(t, r, []string{"monitor"}, []string{"ping"}), "[ERR MONITOR isn't allowed for DENY BLOCKING client PONG]")
	expect(t, r, "OK", "set", "k", "v") // not a monitor

	// WATCH and UNWATCH arity; UNWATCH with nothing watched.
	expect(t, r, testutil.ErrorReply("ERR wrong number of arguments for 'watch' command"), "watch")
	expect(t, r, testutil.ErrorReply("ERR wrong number of arguments for 'unwatch' command"), "unwatch", "x")
	expect(t, r, "OK", "unwatch")
}

func TestMultiStats(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	expect(t, r, "OK", "multi")
	expect(t, r, "QUEUED", "set", "a", "b")
	expect(t, r, "QUEUED", "auth", "a")
	got := do(t, r, "exec")
	if arr, _ := got.([]any); len(arr) != 2 || arr[0] != "OK" {
		t.Fatalf("exec: %#v", got)
	}
	info := fmt.Sprint(do(t, r, "info", "commandstats"))
	for _, want := range []string{
		"cmdstat_set:calls=1,", "cmdstat_auth:calls=1,", "cmdstat_exec:calls=1,", "cmdstat_multi:calls=1,",
	} {
		if !strings.Contains(info, want) {
			t.Fatalf("commandstats lack %q:\n%s", want, info)
		}
	}
	field := func(name, key string) string {
		for _, l := range strings.Split(info, "\r\n") {
			if strings.HasPrefix(l, "cmdstat_"+name+":") {
				for _, f := range strings.Split(strings.TrimPrefix(l, "cmdstat_"+name+":"), ",") {
					if k, v, _ := strings.Cut(f, "="); k == key {
						return v
					}
				}
			}
		}
		return ""
	}
	if field("auth", "failed_calls") != "1" || field("exec", "failed_calls") != "0" || field("set", "failed_calls") != "0" {
		t.Fatalf("failed_calls wrong:\n%s", info)
	}
	// An aborted EXEC is a failed EXEC; the bad command was rejected.
	expect(t, r, "OK", "multi")
	do(t, r, "set")
	do(t, r, "exec")
	info = fmt.Sprint(do(t, r, "info", "commandstats"))
	if field("exec", "failed_calls") != "1" || field("set", "rejected_calls") != "1" || field("set", "calls") != "1" {
		t.Fatalf("after EXECABORT:\n%s", info)
	}
	errs := fmt.Sprint(do(t, r, "info", "errorstats"))
	if !strings.Contains(errs, "errorstat_EXECABORT:count=1") {
		t.Fatalf("errorstats: %s", errs)
	}
}

func TestExecArgumentsAreCopied(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	expect(t, r, "OK", "multi")
	expect(t, r, "QUEUED", "set", "a", "first-value")
	// Later reads reuse the read buffer the queued arguments came from.
	big := strings.Repeat("z", 100000)
	for i := 0; i < 5; i++ {
		expect(t, r, "QUEUED", "set", "big"+strconv.Itoa(i), big)
	}
	// And a pipeline: the whole batch sits in one buffer.
	var batch []byte
	for i := 0; i < 50; i++ {
		batch = append(batch, testutil.Encode("rpush", "list", "elem-"+strconv.Itoa(i))...)
	}
	batch = append(batch, testutil.Encode("exec")...)
	if err := r.Write(batch); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if v := read(t, r); v != "QUEUED" {
			t.Fatalf("queued reply %d: %v", i, v)
		}
	}
	if arr, _ := read(t, r).([]any); len(arr) != 56 {
		t.Fatalf("exec returned %d replies", len(arr))
	}
	expect(t, r, "first-value", "get", "a")
	expect(t, r, big, "get", "big4")
	expect(t, r, "elem-37", "lindex", "list", "37")
}

func TestWatchConcurrentWriter(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	a, b := srv.Client(t), srv.Client(t)
	if err := a.Set(ctx, "counter", "10", 0).Err(); err != nil {
		t.Fatal(err)
	}
	err := a.Watch(ctx, func(tx *redis.Tx) error {
		n, err := tx.Get(ctx, "counter").Int()
		if err != nil {
			return err
		}
		// Another connection changes the key between WATCH and EXEC.
		if err := b.Set(ctx, "counter", "100", 0).Err(); err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "counter", n+1, 0)
			return nil
		})
		return err
	}, "counter")
	if !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("watch with concurrent writer: %v", err)
	}
	if v := a.Get(ctx, "counter").Val(); v != "100" {
		t.Fatalf("counter = %s", v)
	}
	// Untouched: the transaction runs.
	err = a.Watch(ctx, func(tx *redis.Tx) error {
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Incr(ctx, "counter")
			return nil
		})
		return err
	}, "counter")
	if err != nil {
		t.Fatal(err)
	}
	if v := a.Get(ctx, "counter").Val(); v != "101" {
		t.Fatalf("counter = %s", v)
	}
}

// watchThenExec runs WATCH keys (in the connection's current database), then
// touch on another connection, then an empty transaction, and reports
// whether EXEC went through.
func watchThenExec(t *testing.T, r, other *testutil.Raw, keys []string, touch ...[]string) bool {
	t.Helper()
	expect(t, r, "OK", append([]string{"watch"}, keys...)...)
	for _, c := range touch {
		do(t, other, c...)
	}
	expect(t, r, "OK", "multi")
	expect(t, r, "QUEUED", "ping")
	v := do(t, r, "exec")
	if v == nil {
		return false
	}
	if fmt.Sprint(v) != "[PONG]" {
		t.Fatalf("exec: %#v", v)
	}
	return true
}

func TestWatchTouches(t *testing.T) {
	srv := testutil.Start(t)
	r, o := srv.Raw(t), srv.Raw(t)
	reset := func() {
		t.Helper()
		expect(t, o, "OK", "flushall")
		expect(t, o, "OK", "select", "0")
	}
	cases := []struct {
		name  string
		setup [][]string
		keys  []string
		touch [][]string
		runs  bool
	}{
		{"set", nil, []string{"x"}, [][]string{{"set", "x", "1"}}, false},
		{"one of five", [][]string{{"set", "x", "1"}}, []string{"a", "b", "x", "c", "d"}, [][]string{{"set", "x", "2"}}, false},
		{"untouched", nil, []string{"x"}, [][]string{{"set", "y", "1"}}, true},
		{"read", [][]string{{"set", "x", "1"}}, []string{"x"}, [][]string{{"get", "x"}}, true},
		{"failed write", [][]string{{"set", "x", "abc"}}, []string{"x"}, [][]string{{"incr", "x"}}, true},
		{"del", [][]string{{"set", "x", "1"}}, []string{"x"}, [][]string{{"del", "x"}}, false},
		{"del missing", nil, []string{"x"}, [][]string{{"del", "x"}}, true},
		{"expire", [][]string{{"set", "x", "1"}}, []string{"x"}, [][]string{{"expire", "x", "100"}}, false},
		{"rename source", [][]string{{"set", "x", "1"}}, []string{"x"}, [][]string{{"rename", "x", "y"}}, false},
		{"rename destination", [][]string{{"set", "y", "1"}}, []string{"x"}, [][]string{{"rename", "y", "x"}}, false},
		{"copy source", [][]string{{"set", "x", "1"}}, []string{"x"}, [][]string{{"copy", "x", "y"}}, true},
		{"copy destination", [][]string{{"set", "y", "1"}}, []string{"x"}, [][]string{{"copy", "y", "x"}}, false},
		{"copy to other db", [][]string{{"set", "y", "1"}}, []string{"x"}, [][]string{{"copy", "y", "x", "db", "1"}}, true},
		{"move source", [][]string{{"set", "x", "1"}}, []string{"x"}, [][]string{{"move", "x", "1"}}, false},
		{"flushall existing", [][]string{{"set", "x", "1"}}, []string{"x"}, [][]string{{"flushall"}}, false},
		{"flushall missing", [][]string{{"set", "y", "1"}}, []string{"x"}, [][]string{{"flushall"}}, true},
		{"flushdb existing", [][]string{{"set", "x", "1"}}, []string{"x"}, [][]string{{"flushdb"}}, false},
		{"flushdb other db", [][]string{{"set", "x", "1"}}, []string{"x"}, [][]string{{"select", "1"}, {"flushdb"}, {"select", "0"}}, true},
		{"swapdb existing", [][]string{{"set", "x", "1"}}, []string{"x"}, [][]string{{"swapdb", "0", "1"}}, false},
		{"swapdb created", [][]string{{"select", "1"}, {"set", "x", "1"}, {"select", "0"}}, []string{"x"}, [][]string{{"swapdb", "0", "1"}}, false},
		{"swapdb neither", [][]string{{"set", "y", "1"}}, []string{"x"}, [][]string{{"swapdb", "0", "1"}}, true},
		{"swapdb same", [][]string{{"set", "x", "1"}}, []string{"x"}, [][]string{{"swapdb", "0", "0"}}, true},
		{"other db", [][]string{{"set", "x", "1"}}, []string{"x"}, [][]string{{"select", "1"}, {"set", "x", "2"}, {"select", "0"}}, true},
	}
	for _, c := range cases {
		reset()
		for _, s := range c.setup {
			do(t, o, s...)
		}
		if got := watchThenExec(t, r, o, c.keys, c.touch...); got != c.runs {
			t.Errorf("%s: exec ran = %v, want %v", c.name, got, c.runs)
		}
	}

	// MOVE touches the key in the destination database too.
	reset()
	expect(t, o, "OK", "set", "m", "1")
	expect(t, r, "OK", "select", "2")
	if watchThenExec(t, r, o, []string{"m"}, []string{"move", "m", "2"}) {
		t.Error("move destination: exec ran")
	}
	expect(t, r, "OK", "select", "0")

	// After EXEC (successful or not) and after UNWATCH, nothing is watched.
	reset()
	expect(t, r, "OK", "watch", "x")
	expect(t, o, "OK", "set", "x", "1")
	expect(t, r, "OK", "unwatch")
	if !watchThenExec(t, r, o, []string{"y"}, []string{"set", "x", "2"}) {
		t.Error("unwatch: exec failed")
	}
	if !watchThenExec(t, r, o, []string{"z"}, []string{"set", "x", "3"}) {
		t.Error("after exec: exec failed")
	}

	// DISCARD unwatches and clears the dirty flag.
	expect(t, r, "OK", "watch", "x")
	expect(t, o, "OK", "set", "x", "10")
	expect(t, r, "OK", "multi")
	expect(t, r, "OK", "discard")
	sameAs(t, runTx(t, r, []string{"incr", "x"}), "[11]")

	// The dirty flag survives further WATCHes.
	expect(t, r, "OK", "watch", "x")
	expect(t, o, "OK", "set", "x", "20")
	expect(t, r, "OK", "watch", "y")
	if v := runTx(t, r, []string{"ping"}); v != nil {
		t.Fatalf("dirty watch: exec ran: %v", v)
	}

	// RESET discards the transaction and unwatches.
	expect(t, r, "OK", "watch", "x")
	expect(t, o, "OK", "set", "x", "30")
	expect(t, r, "OK", "multi")
	expect(t, r, "QUEUED", "set", "x", "fromtx")
	expect(t, r, "RESET", "reset")
	expect(t, r, "30", "get", "x")
	if !watchThenExec(t, r, o, []string{"q"}) {
		t.Error("after reset: exec failed")
	}
}

func TestWatchExpiry(t *testing.T) {
	srv := testutil.Start(t, "enable-debug-command", "yes")
	r, o := srv.Raw(t), srv.Raw(t)
	expect(t, r, "OK", "debug", "set-active-expire", "0")
	waitPast := func(deadline time.Time) {
		for time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}

	// A watched key that expires before EXEC makes it fail, though nothing
	// reclaimed it.
	expect(t, r, "OK", "set", "key", "1", "px", "30")
	exp := time.Now().Add(30 * time.Millisecond)
	expect(t, r, "OK", "watch", "key")
	waitPast(exp.Add(5 * time.Millisecond))
	if v := runTx(t, r, []string{"incr", "key"}); v != nil {
		t.Fatalf("lazy expired watched key: exec ran: %v", v)
	}

	// Watching a key already expired is no watch on a live key.
	expect(t, r, "OK", "set", "x", "foo", "px", "1")
	waitPast(time.Now().Add(5 * time.Millisecond))
	if !watchThenExec(t, r, o, []string{"x"}) {
		t.Error("stale watched key: exec failed")
	}
	// Nor does its reclamation change anything…
	expect(t, r, "OK", "set", "x", "foo", "px", "1")
	waitPast(time.Now().Add(5 * time.Millisecond))
	if !watchThenExec(t, r, o, []string{"x"}, []string{"exists", "x"}) {
		t.Error("stale watched key reclaimed: exec failed")
	}
	// …or a flush of it.
	expect(t, r, "OK", "set", "x", "foo", "px", "1")
	waitPast(time.Now().Add(5 * time.Millisecond))
	if !watchThenExec(t, r, o, []string{"x"}, []string{"flushdb"}) {
		t.Error("stale watched key flushed: exec failed")
	}
	// But writing it is a change.
	expect(t, r, "OK", "set", "x", "foo", "px", "1")
	waitPast(time.Now().Add(5 * time.Millisecond))
	if watchThenExec(t, r, o, []string{"x"}, []string{"set", "x", "new"}) {
		t.Error("stale watched key rewritten: exec ran")
	}

	// SWAPDB of stale keys: no change.
	expect(t, r, "OK", "flushall")
	expect(t, r, "OK", "select", "1")
	expect(t, r, "OK", "set", "x", "foo", "px", "1")
	waitPast(time.Now().Add(5 * time.Millisecond))
	if !watchThenExec(t, r, o, []string{"x"}, []string{"swapdb", "0", "1"}) {
		t.Error("stale key swapped out: exec failed")
	}
	expect(t, r, "OK", "flushall")
	expect(t, r, "OK", "select", "0")
	expect(t, r, "OK", "set", "x", "foo", "px", "1")
	waitPast(time.Now().Add(5 * time.Millisecond))
	expect(t, r, "OK", "select", "1")
	if !watchThenExec(t, r, o, []string{"x"}, []string{"swapdb", "0", "1"}) {
		t.Error("missing key replaced with stale key: exec failed")
	}
	expect(t, r, "OK", "select", "0")

	// Active expiry of a live watched key fails EXEC.
	expect(t, r, "OK", "debug", "set-active-expire", "1")
	expect(t, r, "OK", "flushall")
	expect(t, r, "OK", "set", "x", "foo", "px", "50")
	expect(t, r, "OK", "watch", "x")
	testutil.WaitFor(t, 5*time.Second, "active expiry", func() bool { return do(t, o, "dbsize") == int64(0) })
	if v := runTx(t, r, []string{"ping"}); v != nil {
		t.Fatalf("actively expired watched key: exec ran: %v", v)
	}
}

func TestExecNullReply(t *testing.T) {
	srv := testutil.Start(t)
	o := srv.Raw(t)
	for _, proto := range []string{"2", "3"} {
		r := srv.Raw(t)
		if _, err := r.Do("hello", proto); err != nil {
			t.Fatal(err)
		}
		expect(t, r, "OK", "watch", "x")
		expect(t, o, "OK", "set", "x", proto)
		expect(t, r, "OK", "multi")
		expect(t, r, "QUEUED", "ping")
		if err := r.Send("exec"); err != nil {
			t.Fatal(err)
		}
		if proto == "2" {
			expectLine(t, r, "*-1")
		} else {
			expectLine(t, r, "_")
		}
	}
}

func TestMultiClientList(t *testing.T) {
	srv := testutil.Start(t)
	r, o := srv.Raw(t), srv.Raw(t)
	id := do(t, r, "client", "id").(int64)
	line := clientLine(t, o, id)
	if infoField(line, "flags") != "N" || infoField(line, "multi") != "-1" || infoField(line, "multi-mem") != "0" {
		t.Fatalf("idle client: %s", line)
	}
	expect(t, r, "OK", "multi")
	expect(t, r, "QUEUED", "set", "a", "1")
	expect(t, r, "QUEUED", "client", "info")
	line = clientLine(t, o, id)
	if infoField(line, "flags") != "x" || infoField(line, "multi") != "2" || infoField(line, "cmd") != "client|info" {
		t.Fatalf("in multi: %s", line)
	}
	// Redis 7.2: argv bytes plus pointers, plus the queue's allocation.
	if infoField(line, "multi-mem") != strconv.Itoa(5+24+10+16+2*24) {
		t.Fatalf("multi-mem: %s", line)
	}
	arr, _ := do(t, r, "exec").([]any)
	if len(arr) != 2 {
		t.Fatalf("exec: %v", arr)
	}
	inside := fmt.Sprint(arr[1])
	if infoField(inside, "flags") != "x" || infoField(inside, "multi") != "2" || infoField(inside, "cmd") != "exec" {
		t.Fatalf("client info inside exec: %s", inside)
	}
	expect(t, r, "OK", "watch", "a", "b")
	expect(t, o, "OK", "set", "a", "2")
	line = clientLine(t, o, id)
	if infoField(line, "flags") != "d" || infoField(line, "multi-mem") != "160" {
		t.Fatalf("dirty watch: %s", line)
	}
	expect(t, r, "OK", "unwatch")
	if line = clientLine(t, o, id); infoField(line, "flags") != "N" || infoField(line, "multi-mem") != "0" {
		t.Fatalf("after unwatch: %s", line)
	}
}

func TestMultiMonitorFeed(t *testing.T) {
	srv := testutil.Start(t)
	m, r := srv.Raw(t), srv.Raw(t)
	expect(t, m, "OK", "monitor")
	runTx(t, r, []string{"set", "foo", "bar"})
	expect(t, r, "OK", "multi")
	do(t, r, "syntax", "error")
	do(t, r, "exec")
	for _, want := range []string{`"multi"`, `"set" "foo" "bar"`, `"exec"`, `"multi"`, `"exec"`} {
		line := fmt.Sprint(read(t, m))
		if !strings.HasSuffix(line, want) {
			t.Fatalf("monitor: got %q, want …%s", line, want)
		}
	}
}

func TestMultiPause(t *testing.T) {
	srv := testutil.Start(t)
	r, admin := srv.Raw(t), srv.Raw(t)
	expect(t, r, "OK", "set", "foo", "bar")

	// Read-only transactions are not held by a WRITE pause.
	expect(t, admin, "OK", "client", "pause", "100000", "write")
	sameAs(t, runTx(t, r, []string{"ping"}, []string{"get", "foo"}), "[PONG bar]")
	expect(t, admin, "OK", "client", "unpause")

	// A transaction that writes waits at EXEC, as a whole.
	expect(t, r, "OK", "multi")
	expect(t, r, "QUEUED", "set", "foo", "baz")
	expect(t, admin, "OK", "client", "pause", "100000", "write")
	if err := r.Send("exec"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, "exec blocked", func() bool { return blockedCount(t, admin) == 1 })
	expect(t, admin, "bar", "get", "foo")
	expect(t, admin, "OK", "client", "unpause")
	expectSeq(t, r, "[OK]")
	expect(t, admin, "baz", "get", "foo")

	// CLIENT PAUSE inside a transaction holds others only after it.
	sameAs(t, runTx(t, r, []string{"set", "f1", "a"}, []string{"client", "pause", "100000", "write"}, []string{"set", "f2", "b"}), "[OK OK OK]")
	w := srv.Raw(t)
	if err := w.Send("set", "f3", "c"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, "write blocked", func() bool { return blockedCount(t, admin) == 1 })
	expect(t, admin, int64(2), "exists", "f1", "f2")
	expect(t, admin, "OK", "client", "unpause")
	expectSeq(t, w, "OK")
}

// TestMultiWholeKeyspaceCommands checks that queued commands which lock
// the whole keyspace themselves, or need it all, do not deadlock EXEC.
func TestMultiWholeKeyspaceCommands(t *testing.T) {
	srv := testutil.Start(t, "enable-debug-command", "yes")
	r := srv.Raw(t)
	done := make(chan any, 1)
	go func() {
		v, err := r.Do("multi")
		if err == nil {
			for _, c := range [][]string{
				{"set", "a", "1"}, {"info", "keyspace"}, {"dbsize"}, {"debug", "sleep", "0"},
				{"config", "resetstat"}, {"keys", "*"}, {"get", "a"},
			} {
				if v, err = r.Do(c...); err != nil || v != "QUEUED" {
					break
				}
			}
			if err == nil {
				v, err = r.Do("exec")
			}
		}
		if err != nil {
			v = err
		}
		done <- v
	}()
	select {
	case v := <-done:
		arr, _ := v.([]any)
		if len(arr) != 7 || arr[2] != int64(1) || fmt.Sprint(arr[5]) != "[a]" || arr[6] != "1" {
			t.Fatalf("exec: %#v", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("EXEC with keyspace-wide commands deadlocked")
	}
}

// TestExecIsolation runs many transactions incrementing two keys in
// different shards while readers check they are always equal, with several
// cores executing at once.
func TestExecIsolation(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 4 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	}
	srv := testutil.Start(t)
	ctx := context.Background()
	keys := keysInShards(2)
	a, b := keys[0], keys[1]
	const writers, perWriter = 8, 200
	var stop atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	for i := 0; i < writers; i++ {
		c := srv.Client(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < perWriter; j++ {
				_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Incr(ctx, a)
					p.Incr(ctx, b)
					return nil
				})
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	var readers sync.WaitGroup
	var reads atomic.Int64
	for i := 0; i < 4; i++ {
		c := srv.Client(t)
		readers.Add(1)
		go func() {
			defer readers.Done()
			for !stop.Load() {
				v, err := c.MGet(ctx, a, b).Result()
				if err != nil {
					errc <- err
					return
				}
				if fmt.Sprint(v[0]) != fmt.Sprint(v[1]) {
					errc <- fmt.Errorf("saw %s=%v and %s=%v", a, v[0], b, v[1])
					return
				}
				reads.Add(1)
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	readers.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	c := srv.Client(t)
	want := strconv.Itoa(writers * perWriter)
	if v := c.MGet(ctx, a, b).Val(); fmt.Sprint(v) != "["+want+" "+want+"]" {
		t.Fatalf("final values %v, want %s", v, want)
	}
	if reads.Load() == 0 {
		t.Fatal("readers never ran")
	}
}

// TestExecAtomicAcrossShards checks that a transaction writing keys in
// many shards is seen whole or not at all, and that WATCH-based
// read-modify-write loops lose no update.
func TestExecAtomicAcrossShards(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 4 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	}
	srv := testutil.Start(t)
	ctx := context.Background()
	keys := keysInShards(16)
	args := make([]any, 0, 32)
	for _, k := range keys {
		args = append(args, k, "0")
	}
	c := srv.Client(t)
	if err := c.MSet(ctx, args...).Err(); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	errc := make(chan error, 4)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rd := srv.Client(t)
		for !stop.Load() {
			v, err := rd.MGet(ctx, keys...).Result()
			if err != nil {
				errc <- err
				return
			}
			for _, x := range v[1:] {
				if x != v[0] {
					errc <- fmt.Errorf("torn transaction: %v", v)
					return
				}
			}
		}
	}()
	for i := 1; i <= 200; i++ {
		_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Set(ctx, k, i, 0)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}

	// Optimistic increments: WATCH, GET, MULTI SET, EXEC, retried on
	// conflict. Every increment must land exactly once.
	const workers, each = 6, 50
	var ww sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		cl := srv.Client(t)
		ww.Add(1)
		go func() {
			defer ww.Done()
			for n := 0; n < each; {
				err := cl.Watch(ctx, func(tx *redis.Tx) error {
					v, err := tx.Get(ctx, "cas").Int()
					if err != nil && err != redis.Nil {
						return err
					}
					_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Set(ctx, "cas", v+1, 0)
						return nil
					})
					return err
				}, "cas")
				if errors.Is(err, redis.TxFailedErr) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				n++
			}
		}()
	}
	ww.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if v := c.Get(ctx, "cas").Val(); v != strconv.Itoa(workers*each) {
		t.Fatalf("cas = %s, want %d", v, workers*each)
	}
}

// TestWatchManyClientsDisconnect checks that closing connections that
// watch keys leaves no stale watcher behind.
func TestWatchManyClientsDisconnect(t *testing.T) {
	srv := testutil.Start(t)
	for i := 0; i < 20; i++ {
		r := srv.Raw(t)
		expect(t, r, "OK", "watch", "shared", "k"+strconv.Itoa(i))
		if i%2 == 0 {
			expect(t, r, "OK", "multi")
			expect(t, r, "QUEUED", "set", "shared", "x")
		}
		_ = r.Conn.Close()
	}
	r, o := srv.Raw(t), srv.Raw(t)
	testutil.WaitFor(t, 5*time.Second, "clients gone", func() bool {
		return strings.Count(strings.TrimSpace(fmt.Sprint(do(t, o, "client", "list"))), "\n") == 1
	})
	expect(t, o, "OK", "set", "shared", "1")
	if !watchThenExec(t, r, o, []string{"other"}, []string{"set", "shared", "2"}) {
		t.Fatal("exec failed")
	}
	if watchThenExec(t, r, o, []string{"shared"}, []string{"set", "shared", "3"}) {
		t.Fatal("exec ran")
	}
}

// TestMultiSlowlog checks that the commands of a transaction are logged
// one by one, secrets redacted, and EXEC itself not (skip_slowlog).
func TestMultiSlowlog(t *testing.T) {
	srv := testutil.Start(t, "slowlog-log-slower-than", "0")
	r := srv.Raw(t)
	expect(t, r, "OK", "slowlog", "reset")
	runTx(t, r, []string{"set", "k", "v"}, []string{"auth", "secret"})
	entries, _ := do(t, r, "slowlog", "get", "10").([]any)
	var got []string
	for _, e := range entries {
		fields, _ := e.([]any)
		if len(fields) < 4 {
			t.Fatalf("entry %#v", e)
		}
		got = append(got, fmt.Sprint(fields[3]))
	}
	// Newest first.
	if strings.Join(got, "|") != "[auth (redacted)]|[set k v]|[multi]|[slowlog reset]" {
		t.Fatalf("slowlog: %q", got)
	}
}

func TestWatchSortStoreSourceNotTouched(t *testing.T) {
	srv := testutil.Start(t)
	a := srv.Raw(t)
	b := srv.Raw(t)
	expect(t, a, int64(3), "rpush", "src", "3", "1", "2")
	expect(t, a, "OK", "watch", "src")
	expect(t, b, int64(3), "sort", "src", "store", "dst")
	expect(t, a, "OK", "multi")
	expect(t, a, "QUEUED", "ping")
	expect(t, a, "[PONG]", "exec")
	expect(t, a, "OK", "watch", "dst")
	expect(t, b, int64(3), "sort", "src", "store", "dst")
	expect(t, a, "OK", "multi")
	expect(t, a, "QUEUED", "ping")
	expect(t, a, "<nil>", "exec")
}

// SMOVE of a member the destination already holds changes only the source:
// a WATCH on the destination survives, one on the source does not.
func TestWatchSmoveUnchangedDestination(t *testing.T) {
	srv := testutil.Start(t)
	a := srv.Raw(t)
	b := srv.Raw(t)
	expect(t, a, int64(2), "sadd", "src", "a", "b")
	expect(t, a, int64(1), "sadd", "dst", "a")
	expect(t, a, "OK", "watch", "dst")
	expect(t, a, "OK", "multi")
	expect(t, a, "QUEUED", "sadd", "dst", "c")
	expect(t, b, int64(1), "smove", "src", "dst", "a")
	expect(t, a, "[1]", "exec")
	expect(t, a, int64(2), "scard", "dst")

	expect(t, a, "OK", "watch", "src")
	expect(t, a, "OK", "multi")
	expect(t, a, "QUEUED", "ping")
	expect(t, b, int64(1), "smove", "src", "dst", "b")
	expect(t, a, "<nil>", "exec")
}
