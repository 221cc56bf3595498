package commands_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// blockedClients reads INFO's blocked_clients.
func blockedClients(t testing.TB, c *redis.Client) int {
	t.Helper()
	info, err := c.Info(context.Background(), "clients").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "blocked_clients:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	t.Fatal("no blocked_clients in INFO")
	return 0
}

func waitBlocked(t testing.TB, c *redis.Client, n int) {
	t.Helper()
	testutil.WaitFor(t, 5*time.Second, fmt.Sprintf("%d blocked clients", n), func() bool { return blockedClients(t, c) == n })
}

// async runs a command on its own connection and delivers its reply.
func async(t *testing.T, srv *testutil.Instance, args ...any) <-chan any {
	t.Helper()
	c := srv.Client(t)
	ch := make(chan any, 1)
	go func() { ch <- lDoNoFatal(c, args...) }()
	return ch
}

func lDoNoFatal(c *redis.Client, args ...any) any {
	v, err := c.Do(context.Background(), args...).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return "!" + err.Error()
	}
	return v
}

func recv(t *testing.T, ch <-chan any) any {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("blocked command got no reply")
		return nil
	}
}

func expectReply(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

func TestBlockingPopImmediateAndErrors(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	lDo(t, c, "rpush", "l", "a", "b")
	expectReply(t, lDo(t, c, "blpop", "nokey", "l", "0"), []any{"l", "a"})
	expectReply(t, lDo(t, c, "brpop", "l", "0"), []any{"l", "b"})
	expectReply(t, lDo(t, c, "exists", "l"), int64(0))
	lDo(t, c, "set", "s", "x")
	expectReply(t, lDo(t, c, "blpop", "s", "0"), "!WRONGTYPE Operation against a key holding the wrong kind of value")
	expectReply(t, lDo(t, c, "blpop", "l", "-1"), "!ERR timeout is negative")
	expectReply(t, lDo(t, c, "blpop", "l", "abc"), "!ERR timeout is not a float or out of range")
	expectReply(t, lDo(t, c, "blpop", "l", "0x7FFFFFFFFFFFFF"), "!ERR timeout is out of range")
	expectReply(t, lDo(t, c, "blpop", "l", "1e400"), "!ERR timeout is not a float or out of range")
	expectReply(t, lDo(t, c, "blpop", "l", "inf"), "!ERR timeout is out of range")
	expectReply(t, lDo(t, c, "blmove", "l", "d", "up", "left", "0"), "!ERR syntax error")
	expectReply(t, lDo(t, c, "blmpop", "0", "0", "l", "left"), "!ERR numkeys should be greater than 0")
	expectReply(t, lDo(t, c, "bzmpop", "0", "1", "z", "max", "count", "0"), "!ERR count should be greater than 0")
	lDo(t, c, "zadd", "z", "1", "a", "2", "b", "3", "c")
	expectReply(t, lDo(t, c, "bzpopmin", "z", "0"), []any{"z", "a", "1"})
	expectReply(t, lDo(t, c, "bzpopmax", "z", "0"), []any{"z", "c", "3"})
	expectReply(t, lDo(t, c, "bzmpop", "0", "1", "z", "min"), []any{"z", []any{[]any{"b", "2"}}})
	lDo(t, c, "rpush", "l", "1", "2", "3")
	expectReply(t, lDo(t, c, "blmpop", "0", "2", "x", "l", "right", "count", "2"), []any{"l", []any{"3", "2"}})
	expectReply(t, lDo(t, c, "blmove", "l", "d", "left", "right", "0"), "1")
	expectReply(t, lDo(t, c, "brpoplpush", "d", "d", "0"), "1")

	// Inside MULTI a blocking command with nothing to pop replies at once.
	pipe := c.TxPipeline()
	bl := pipe.BLPop(context.Background(), 0, "empty")
	if _, err := pipe.Exec(context.Background()); err != nil && !errors.Is(err, redis.Nil) {
		t.Fatal(err)
	}
	if !errors.Is(bl.Err(), redis.Nil) {
		t.Fatalf("BLPOP in MULTI: %v", bl.Err())
	}
}

func TestBlockingPopWokenByPush(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ch := async(t, srv, "blpop", "q1", "q2", "0")
	waitBlocked(t, c, 1)
	lDo(t, c, "rpush", "q2", "job")
	expectReply(t, recv(t, ch), []any{"q2", "job"})
	expectReply(t, lDo(t, c, "exists", "q2"), int64(0))
	waitBlocked(t, c, 0)

	// BZPOPMAX woken by ZADD, BZMPOP by a GEOADD (a sorted set too).
	ch = async(t, srv, "bzpopmax", "z", "0")
	waitBlocked(t, c, 1)
	lDo(t, c, "zadd", "z", "5", "m", "7", "n")
	expectReply(t, recv(t, ch), []any{"z", "n", "7"})
	ch = async(t, srv, "bzmpop", "0", "1", "g", "min", "count", "10")
	waitBlocked(t, c, 1)
	lDo(t, c, "geoadd", "g", "13.361389", "38.115556", "Palermo")
	if r := recv(t, ch).([]any); r[0] != "g" || len(r[1].([]any)) != 1 {
		t.Fatalf("BZMPOP: %#v", r)
	}
}

func TestBlockingFIFO(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	const n = 50
	chans := make([]<-chan any, n)
	for i := range n {
		chans[i] = async(t, srv, "blpop", "jobs", "0")
		waitBlocked(t, c, i+1)
	}
	args := []any{"rpush", "jobs"}
	for i := range n {
		args = append(args, strconv.Itoa(i))
	}
	lDo(t, c, args...)
	for i := range n {
		expectReply(t, recv(t, chans[i]), []any{"jobs", strconv.Itoa(i)})
	}
	waitBlocked(t, c, 0)
}

func TestBlockingTimeout(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	start := time.Now()
	expectReply(t, lDo(t, c, "blpop", "none", "0.1"), nil)
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("BLPOP 0.1 took %v", d)
	}
	expectReply(t, lDo(t, c, "blmove", "none", "x", "left", "left", "0.05"), nil)
	expectReply(t, lDo(t, c, "bzpopmin", "none", "0.05"), nil)
	// RESP3: the timeout is a null.
	c3 := srv.Client3(t)
	if err := c3.Do(context.Background(), "blpop", "none", "0.01").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("RESP3 timeout: %v", err)
	}
	waitBlocked(t, c, 0)
}

func TestClientUnblock(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	b := srv.Client(t)
	id := b.ClientID(context.Background()).Val()
	ch := make(chan any, 1)
	go func() { ch <- lDoNoFatal(b, "blpop", "k", "0") }()
	waitBlocked(t, c, 1)
	expectReply(t, lDo(t, c, "client", "unblock", strconv.FormatInt(id, 10)), int64(1))
	expectReply(t, recv(t, ch), nil)
	go func() { ch <- lDoNoFatal(b, "bzpopmin", "k", "0") }()
	waitBlocked(t, c, 1)
	expectReply(t, lDo(t, c, "client", "unblock", strconv.FormatInt(id, 10), "error"), int64(1))
	expectReply(t, recv(t, ch), "!UNBLOCKED client unblocked via CLIENT UNBLOCK")
	expectReply(t, lDo(t, c, "client", "unblock", strconv.FormatInt(id, 10)), int64(0))
	expectReply(t, lDo(t, c, "client", "unblock", "x"), "!ERR value is not an integer or out of range")
	expectReply(t, lDo(t, c, "client", "unblock", "1", "maybe"), "!ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
}

// CLIENT UNBLOCK returns with the unblocked command already counted in
// INFO commandstats, as Redis accounts it within the unblocking call.
func TestClientUnblockAccountsAtOnce(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	b := srv.Client(t)
	ctx := context.Background()
	id := strconv.FormatInt(b.ClientID(ctx).Val(), 10)
	for i := range 20 {
		c.ConfigResetStat(ctx)
		ch := make(chan any, 1)
		go func() { ch <- lDoNoFatal(b, "blpop", "k", "0") }()
		waitBlocked(t, c, 1)
		expectReply(t, lDo(t, c, "client", "unblock", id, "timeout"), int64(1))
		stats := c.Info(ctx, "commandstats").Val()
		if !strings.Contains(stats, "cmdstat_blpop:calls=1,") {
			t.Fatalf("round %d: blpop not counted once right after CLIENT UNBLOCK:\n%s", i, stats)
		}
		expectReply(t, recv(t, ch), nil)
	}
	// Unblocked with the error, the command counts as failed, as in Redis.
	c.ConfigResetStat(ctx)
	ch := make(chan any, 1)
	go func() { ch <- lDoNoFatal(b, "blpop", "k", "0") }()
	waitBlocked(t, c, 1)
	expectReply(t, lDo(t, c, "client", "unblock", id, "error"), int64(1))
	if stats := c.Info(ctx, "commandstats").Val(); !strings.Contains(stats, "cmdstat_blpop:calls=1,") || !strings.Contains(stats, ",rejected_calls=0,failed_calls=1") {
		t.Fatalf("blpop unblocked with an error is not a failed call:\n%s", stats)
	}
	expectReply(t, recv(t, ch), "!UNBLOCKED client unblocked via CLIENT UNBLOCK")
}

func TestBlockingDeleteTypeChangeAndExec(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	ch := async(t, srv, "blpop", "k", "0")
	waitBlocked(t, c, 1)
	// A push undone in the same transaction wakes nobody.
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, "k", "x")
		p.Del(ctx, "k")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Nor does a key of another type.
	lDo(t, c, "set", "k", "str")
	lDo(t, c, "del", "k")
	select {
	case v := <-ch:
		t.Fatalf("woken early: %#v", v)
	case <-time.After(50 * time.Millisecond):
	}
	// Pushes inside MULTI wake the waiter after EXEC, with the first element.
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, "k", "a")
		p.RPush(ctx, "k", "b")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	expectReply(t, recv(t, ch), []any{"k", "a"})
	expectReply(t, lDo(t, c, "lrange", "k", "0", "-1"), []any{"b"})

	// BRPOPLPUSH to a destination of the wrong type: WRONGTYPE once served,
	// and the element stays.
	lDo(t, c, "del", "k")
	lDo(t, c, "set", "dst", "str")
	ch = async(t, srv, "brpoplpush", "k", "dst", "0")
	waitBlocked(t, c, 1)
	lDo(t, c, "rpush", "k", "e")
	expectReply(t, recv(t, ch), "!WRONGTYPE Operation against a key holding the wrong kind of value")
	expectReply(t, lDo(t, c, "lrange", "k", "0", "-1"), []any{"e"})
}

func TestBlockingChainAndSwapdb(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	// a -> b by BLMOVE, b popped by BLPOP: one push serves both.
	ch1 := async(t, srv, "blmove", "a", "b", "left", "right", "0")
	waitBlocked(t, c, 1)
	ch2 := async(t, srv, "blpop", "b", "0")
	waitBlocked(t, c, 2)
	lDo(t, c, "rpush", "a", "v")
	expectReply(t, recv(t, ch1), "v")
	expectReply(t, recv(t, ch2), []any{"b", "v"})
	expectReply(t, lDo(t, c, "exists", "a", "b"), int64(0))

	// SWAPDB brings a list into the waiter's database.
	lDo(t, c, "select", "0")
	w := srv.Client(t)
	ch := make(chan any, 1)
	go func() { ch <- lDoNoFatal(w, "blpop", "swapped", "0") }()
	waitBlocked(t, c, 1)
	c9 := srv.ClientWith(t, &redis.Options{DB: 9})
	lDo(t, c9, "rpush", "swapped", "x")
	lDo(t, c, "swapdb", "0", "9")
	expectReply(t, recv(t, ch), []any{"swapped", "x"})
}

func TestBlockedClientDisconnects(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	r := srv.Raw(t)
	if err := r.Send("blpop", "gone", "0"); err != nil {
		t.Fatal(err)
	}
	waitBlocked(t, c, 1)
	_ = r.Conn.Close()
	waitBlocked(t, c, 0)
	// The departed client does not swallow the next element.
	lDo(t, c, "rpush", "gone", "x")
	expectReply(t, lDo(t, c, "lrange", "gone", "0", "-1"), []any{"x"})
}

func TestBlockingRace(t *testing.T) {
	// Producers and blocked consumers on several cores: every element is
	// delivered exactly once.
	srv := testutil.Start(t)
	c := srv.Client(t)
	const consumers, items = 8, 2000
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range consumers {
		cc := srv.Client(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				v, err := cc.BLPop(context.Background(), 2*time.Second, "work").Result()
				if err != nil {
					return
				}
				if v[1] == "stop" {
					return
				}
				mu.Lock()
				seen[v[1]]++
				mu.Unlock()
			}
		}()
	}
	var pw sync.WaitGroup
	for p := range 4 {
		pc := srv.Client(t)
		pw.Add(1)
		go func() {
			defer pw.Done()
			for i := range items / 4 {
				pc.RPush(context.Background(), "work", fmt.Sprintf("%d-%d", p, i))
			}
		}()
	}
	pw.Wait()
	for range consumers {
		c.RPush(context.Background(), "work", "stop")
	}
	wg.Wait()
	if len(seen) != items {
		t.Fatalf("%d distinct items delivered, want %d", len(seen), items)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%s delivered %d times", k, n)
		}
	}
}
