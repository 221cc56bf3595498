package commands_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

var sCtx = context.Background()

func TestStreamXaddXrangeBasics(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	kExpect(t, c, "1-1", "xadd", "s", "1-1", "a", "1")
	kExpect(t, c, "1-2", "xadd", "s", "1-*", "b", "2")
	kExpect(t, c, "2-0", "xadd", "s", "2", "c", "3")
	kExpect(t, c, "2-1", "xadd", "s", "2-*", "c", "4", "d", "5")
	kExpect(t, c, 4, "xlen", "s")
	kExpect(t, c, 0, "xlen", "nokey")
	kExpect(t, c, "stream", "type", "s")
	kExpect(t, c, "stream", "object", "encoding", "s")
	kExpect(t, c, nil, "xadd", "nokey", "nomkstream", "*", "a", "1")
	kExpect(t, c, 0, "exists", "nokey")

	id := kDo(t, c, "xadd", "s", "*", "x", "y").(string)
	if !strings.HasSuffix(id, "-0") {
		t.Fatalf("auto id %q", id)
	}
	// XRANGE / XREVRANGE with exclusive bounds and COUNT.
	msgs, err := c.XRange(sCtx, "s", "(1-1", "2").Result()
	if err != nil || len(msgs) != 3 || msgs[0].ID != "1-2" || msgs[2].ID != "2-1" || msgs[2].Values["d"] != "5" {
		t.Fatalf("xrange: %v %v", msgs, err)
	}
	msgs, _ = c.XRevRangeN(sCtx, "s", "+", "-", 2).Result()
	if len(msgs) != 2 || msgs[0].ID != id || msgs[1].ID != "2-1" {
		t.Fatalf("xrevrange: %v", msgs)
	}
	kExpect(t, c, []any{}, "xrange", "nokey", "-", "+")
	kExpect(t, c, nil, "xrange", "s", "-", "+", "count", "0")
	kExpect(t, c, []any{[]any{"1-1", []any{"a", "1"}}}, "xrange", "s", "-", "(1-2")
	kExpect(t, c, []any{}, "xrange", "s", "(2-1", "(2-1")

	// XDEL and XTRIM.
	kExpect(t, c, 1, "xdel", "s", "1-2", "9-9")
	kExpect(t, c, 0, "xdel", "s", "1-2")
	kExpect(t, c, 4, "xlen", "s") // 1-1, 2-0, 2-1 and the auto ID
	kExpect(t, c, 2, "xtrim", "s", "maxlen", "2")
	kExpect(t, c, 2, "xlen", "s")
	kExpect(t, c, 1, "xtrim", "s", "minid", "=", id)
	kExpect(t, c, 0, "xtrim", "nokey", "maxlen", "0")

	// MAXLEN on XADD.
	for i := 0; i < 10; i++ {
		kDo(t, c, "xadd", "m", "maxlen", "=", "3", "*", "i", i)
	}
	kExpect(t, c, 3, "xlen", "m")
	if err := c.XAdd(sCtx, &redis.XAddArgs{Stream: "m", MaxLen: 1, Values: []string{"k", "v"}}).Err(); err != nil {
		t.Fatal(err)
	}
	kExpect(t, c, 1, "xlen", "m")

	// COPY keeps entries and groups.
	kExpect(t, c, "OK", "xgroup", "create", "m", "g", "0")
	kExpect(t, c, 1, "copy", "m", "m2")
	kExpect(t, c, 1, "xlen", "m2")
	groups, err := c.XInfoGroups(sCtx, "m2").Result()
	if err != nil || len(groups) != 1 || groups[0].Name != "g" {
		t.Fatalf("copied groups: %v %v", groups, err)
	}
}

func TestStreamErrors(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	kDo(t, c, "xadd", "s", "5-5", "f", "v")
	kDo(t, c, "set", "str", "x")
	for _, tc := range []struct {
		want string
		args []any
	}{
		{"ERR wrong number of arguments for 'xadd' command", []any{"xadd", "s", "*", "f"}},
		{"ERR wrong number of arguments for 'xadd' command", []any{"xadd", "s", "maxlen", "1", "*"}},
		{"ERR The ID specified in XADD must be greater than 0-0", []any{"xadd", "s", "0-0", "f", "v"}},
		{"ERR The ID specified in XADD is equal or smaller than the target stream top item", []any{"xadd", "s", "5-5", "f", "v"}},
		{"ERR The ID specified in XADD is equal or smaller than the target stream top item", []any{"xadd", "s", "4-*", "f", "v"}},
		{"ERR Invalid stream ID specified as stream command argument", []any{"xadd", "s", "abc", "f", "v"}},
		{"ERR syntax error, MAXLEN and MINID options at the same time are not compatible", []any{"xadd", "s", "maxlen", "1", "minid", "1", "*", "f", "v"}},
		{"ERR The MAXLEN argument must be >= 0.", []any{"xadd", "s", "maxlen", "-1", "*", "f", "v"}},
		{"ERR syntax error, LIMIT cannot be used without the special ~ option", []any{"xadd", "s", "maxlen", "1", "limit", "1", "*", "f", "v"}},
		{"ERR syntax error, LIMIT cannot be used without specifying a trimming strategy", []any{"xadd", "s", "limit", "1", "*", "f", "v"}},
		{"ERR The LIMIT argument must be >= 0.", []any{"xtrim", "s", "maxlen", "~", "1", "limit", "-1"}},
		{"ERR syntax error, XTRIM must be called with a trimming strategy", []any{"xtrim", "s", "limit", "0"}},
		{"ERR syntax error", []any{"xtrim", "s", "foo", "1"}},
		{"WRONGTYPE Operation against a key holding the wrong kind of value", []any{"xadd", "str", "*", "f", "v"}},
		{"WRONGTYPE Operation against a key holding the wrong kind of value", []any{"xlen", "str"}},
		{"ERR invalid start ID for the interval", []any{"xrange", "s", "(18446744073709551615-18446744073709551615", "+"}},
		{"ERR invalid end ID for the interval", []any{"xrange", "s", "-", "(0-0"}},
		{"ERR Invalid stream ID specified as stream command argument", []any{"xrange", "s", "(-", "+"}},
		{"ERR syntax error", []any{"xrange", "s", "-", "+", "cnt", "1"}},
		{"ERR value is not an integer or out of range", []any{"xrange", "s", "-", "+", "count", "x"}},
		{"ERR Invalid stream ID specified as stream command argument", []any{"xdel", "s", "+"}},
		{"ERR no such key", []any{"xsetid", "nokey", "1-1"}},
		{"ERR The ID specified in XSETID is smaller than the target stream top item", []any{"xsetid", "s", "1-1"}},
		{"ERR entries_added must be positive", []any{"xsetid", "s", "9-9", "entriesadded", "-1"}},
		{"ERR The entries_added specified in XSETID is smaller than the target stream length", []any{"xsetid", "s", "9-9", "entriesadded", "0"}},
		{"ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id", []any{"xsetid", "s", "9-9", "maxdeletedid", "10-0"}},
		{"ERR timeout is not an integer or out of range", []any{"xread", "block", "1.5", "streams", "s", "$"}},
		{"ERR timeout is negative", []any{"xread", "block", "-1", "streams", "s", "$"}},
		{"ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.", []any{"xread", "count", "1", "streams", "s"}},
		{"ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified.", []any{"xreadgroup", "group", "g", "c", "count", "1", "streams", "s"}},
		{"ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.", []any{"xread", "group", "g", "c", "streams", "s", "0"}},
		{"ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.", []any{"xread", "streams", "s", ">"}},
		{"ERR Missing GROUP option for XREADGROUP", []any{"xreadgroup", "count", "1", "noack", "streams", "s", ">"}},
		{"NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option", []any{"xreadgroup", "group", "g", "c", "streams", "s", ">"}},
		{"ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.", []any{"xgroup", "create", "nokey", "g", "$"}},
		{"ERR value for ENTRIESREAD must be positive or -1", []any{"xgroup", "create", "s", "g", "$", "entriesread", "-3"}},
		{"ERR unknown subcommand or wrong number of arguments for 'create'. Try XGROUP HELP.", []any{"xgroup", "create", "s", "g", "$", "foo"}},
		{"NOGROUP No such consumer group 'g' for key name 's'", []any{"xgroup", "setid", "s", "g", "$"}},
		{"NOGROUP No such consumer group 'g' for key name 's'", []any{"xgroup", "createconsumer", "s", "g", "c"}},
		{"NOGROUP No such key 's' or consumer group 'g'", []any{"xpending", "s", "g"}},
		{"NOGROUP No such key 's' or consumer group 'g'", []any{"xclaim", "s", "g", "c", "0", "1-1"}},
		{"NOGROUP No such key 's' or consumer group 'g'", []any{"xautoclaim", "s", "g", "c", "0", "0"}},
		{"ERR COUNT must be > 0", []any{"xautoclaim", "s", "g", "c", "0", "0", "count", "0"}},
		{"ERR Invalid min-idle-time argument for XAUTOCLAIM", []any{"xautoclaim", "s", "g", "c", "x", "0"}},
		{"ERR syntax error", []any{"xpending", "s", "g", "-", "+"}},
		{"ERR no such key", []any{"xinfo", "stream", "nokey"}},
		{"NOGROUP No such consumer group 'g' for key name 's'", []any{"xinfo", "consumers", "s", "g"}},
		{"ERR unknown subcommand or wrong number of arguments for 'stream'. Try XINFO HELP.", []any{"xinfo", "stream", "s", "full", "x"}},
	} {
		got := kDo(t, c, tc.args...)
		if e, ok := got.(kErr); !ok || string(e) != tc.want {
			t.Errorf("%v: got %#v, want error %q", tc.args, got, tc.want)
		}
	}
	// XCLAIM option errors need an existing group.
	kExpect(t, c, "OK", "xgroup", "create", "s", "g", "0")
	kExpect(t, c, kErr("ERR Unrecognized XCLAIM option 'bogus'"), "xclaim", "s", "g", "c", "0", "5-5", "bogus")
	kExpect(t, c, kErr("ERR Invalid IDLE option argument for XCLAIM"), "xclaim", "s", "g", "c", "0", "5-5", "idle", "x")
	kExpect(t, c, kErr("BUSYGROUP Consumer Group name already exists"), "xgroup", "create", "s", "g", "0")
	if help := kDo(t, c, "xgroup", "help").([]any); len(help) != 17 || help[0] != "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" {
		t.Errorf("xgroup help: %v", help)
	}
	if help := kDo(t, c, "xinfo", "help").([]any); len(help) != 9 {
		t.Errorf("xinfo help: %v", help)
	}
}

func TestStreamXsetidAndInfo(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	kDo(t, c, "xadd", "s", "1-0", "a", "1")
	kDo(t, c, "xadd", "s", "2-0", "b", "2")
	kDo(t, c, "xadd", "s", "3-0", "c", "3")
	kExpect(t, c, 1, "xdel", "s", "2-0")
	info, err := c.XInfoStream(sCtx, "s").Result()
	if err != nil {
		t.Fatal(err)
	}
	if info.Length != 2 || info.LastGeneratedID != "3-0" || info.MaxDeletedEntryID != "2-0" || info.EntriesAdded != 3 ||
		info.RecordedFirstEntryID != "1-0" || info.FirstEntry.ID != "1-0" || info.LastEntry.ID != "3-0" || info.RadixTreeKeys != 1 {
		t.Fatalf("xinfo stream: %+v", info)
	}
	kExpect(t, c, "OK", "xsetid", "s", "5-0", "entriesadded", "10", "maxdeletedid", "4-0")
	info, _ = c.XInfoStream(sCtx, "s").Result()
	if info.LastGeneratedID != "5-0" || info.EntriesAdded != 10 || info.MaxDeletedEntryID != "4-0" {
		t.Fatalf("after xsetid: %+v", info)
	}
	kExpect(t, c, kErr("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id"), "xsetid", "s", "3-5")
	kExpect(t, c, kErr("ERR The ID specified in XADD is equal or smaller than the target stream top item"), "xadd", "s", "5-0", "f", "v")
	kExpect(t, c, "5-1", "xadd", "s", "5-*", "f", "v")

	// RESP3: XINFO STREAM is a map, XREAD a map keyed by stream.
	c3 := srv.Client3(t)
	m, ok := kDo(t, c3, "xinfo", "stream", "s").(map[any]any)
	if !ok || m["length"] != int64(3) {
		t.Fatalf("resp3 xinfo: %#v", kDo(t, c3, "xinfo", "stream", "s"))
	}
	r, ok := kDo(t, c3, "xread", "count", "1", "streams", "s", "0").(map[any]any)
	if !ok || len(r["s"].([]any)) != 1 {
		t.Fatalf("resp3 xread: %#v", r)
	}
	full, err := c.XInfoStreamFull(sCtx, "s", 0).Result()
	if err != nil || len(full.Entries) != 3 {
		t.Fatalf("xinfo full: %+v %v", full, err)
	}
}

func TestStreamXreadNonBlocking(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	kDo(t, c, "xadd", "a", "1-0", "f", "1")
	kDo(t, c, "xadd", "a", "2-0", "f", "2")
	kDo(t, c, "xadd", "b", "1-0", "g", "1")
	res, err := c.XRead(sCtx, &redis.XReadArgs{Streams: []string{"a", "b", "0", "1-0"}, Block: -1}).Result()
	if err != nil || len(res) != 1 || res[0].Stream != "a" || len(res[0].Messages) != 2 {
		t.Fatalf("xread: %v %v", res, err)
	}
	kExpect(t, c, nil, "xread", "streams", "a", "$")
	kExpect(t, c, nil, "xread", "streams", "nokey", "0")
	// "+" serves the last entry.
	kExpect(t, c, []any{[]any{"a", []any{[]any{"2-0", []any{"f", "2"}}}}}, "xread", "streams", "a", "+")
	kExpect(t, c, []any{[]any{"a", []any{[]any{"1-0", []any{"f", "1"}}}}}, "xread", "count", "1", "streams", "a", "0")
	// COMMAND GETKEYS finds exactly the stream keys.
	kExpect(t, c, []any{"a", "b"}, "command", "getkeys", "xread", "count", "1", "streams", "a", "b", "0", "0")
	kExpect(t, c, []any{"s"}, "command", "getkeys", "xreadgroup", "group", "streams", "c", "streams", "s", ">")
}

func TestStreamConsumerGroupFlow(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	kExpect(t, c, "OK", "xgroup", "create", "s", "g", "$", "mkstream")
	for i := 1; i <= 5; i++ {
		kDo(t, c, "xadd", "s", fmt.Sprintf("%d-0", i), "n", i)
	}
	res, err := c.XReadGroup(sCtx, &redis.XReadGroupArgs{Group: "g", Consumer: "alice", Streams: []string{"s", ">"}, Count: 2, Block: -1}).Result()
	if err != nil || len(res[0].Messages) != 2 || res[0].Messages[0].ID != "1-0" {
		t.Fatalf("xreadgroup: %v %v", res, err)
	}
	res, _ = c.XReadGroup(sCtx, &redis.XReadGroupArgs{Group: "g", Consumer: "bob", Streams: []string{"s", ">"}, Count: 1, Block: -1}).Result()
	if len(res[0].Messages) != 1 || res[0].Messages[0].ID != "3-0" {
		t.Fatalf("bob: %v", res)
	}
	// History: alice's own pending entries.
	res, _ = c.XReadGroup(sCtx, &redis.XReadGroupArgs{Group: "g", Consumer: "alice", Streams: []string{"s", "0"}, Block: -1}).Result()
	if len(res[0].Messages) != 2 {
		t.Fatalf("alice history: %v", res)
	}
	sum, err := c.XPending(sCtx, "s", "g").Result()
	if err != nil || sum.Count != 3 || sum.Lower != "1-0" || sum.Higher != "3-0" || sum.Consumers["alice"] != 2 || sum.Consumers["bob"] != 1 {
		t.Fatalf("xpending: %+v %v", sum, err)
	}
	ext, err := c.XPendingExt(sCtx, &redis.XPendingExtArgs{Stream: "s", Group: "g", Start: "-", End: "+", Count: 10, Consumer: "alice"}).Result()
	if err != nil || len(ext) != 2 || ext[0].RetryCount != 2 || ext[0].Consumer != "alice" {
		t.Fatalf("xpending ext: %+v %v", ext, err)
	}
	kExpect(t, c, []any{}, "xpending", "s", "g", "idle", "100000", "-", "+", "10")
	kExpect(t, c, []any{}, "xpending", "s", "g", "-", "+", "10", "nobody")

	// NOACK reads advance the group without pending entries.
	kExpect(t, c, []any{[]any{"s", []any{[]any{"4-0", []any{"n", "4"}}}}}, "xreadgroup", "group", "g", "carol", "count", "1", "noack", "streams", "s", ">")
	expectReply(t, kDo(t, c, "xpending", "s", "g").([]any)[0], int64(3))

	groups, _ := c.XInfoGroups(sCtx, "s").Result()
	if len(groups) != 1 || groups[0].Consumers != 3 || groups[0].Pending != 3 || groups[0].LastDeliveredID != "4-0" || groups[0].EntriesRead != 4 || groups[0].Lag != 1 {
		t.Fatalf("xinfo groups: %+v", groups)
	}

	// XCLAIM with options.
	claimed, err := c.XClaim(sCtx, &redis.XClaimArgs{Stream: "s", Group: "g", Consumer: "bob", MinIdle: 0, Messages: []string{"1-0"}}).Result()
	if err != nil || len(claimed) != 1 || claimed[0].Values["n"] != "1" {
		t.Fatalf("xclaim: %v %v", claimed, err)
	}
	kExpect(t, c, []any{"2-0"}, "xclaim", "s", "g", "bob", "0", "2-0", "justid", "retrycount", "7", "idle", "5000")
	ext, _ = c.XPendingExt(sCtx, &redis.XPendingExtArgs{Stream: "s", Group: "g", Start: "2-0", End: "2-0", Count: 1}).Result()
	if len(ext) != 1 || ext[0].Consumer != "bob" || ext[0].RetryCount != 7 || ext[0].Idle < 5*time.Second {
		t.Fatalf("after xclaim: %+v", ext)
	}
	kExpect(t, c, []any{"5-0"}, "xclaim", "s", "g", "dave", "0", "5-0", "force", "justid")
	kExpect(t, c, []any{}, "xclaim", "s", "g", "dave", "0", "9-0", "force")
	kExpect(t, c, []any{}, "xclaim", "s", "g", "dave", "100000", "1-0")

	// XAUTOCLAIM drops deleted entries from the PEL and reports them.
	kExpect(t, c, 1, "xdel", "s", "3-0")
	got := kDo(t, c, "xautoclaim", "s", "g", "erin", "0", "0", "count", "2")
	want := []any{"3-0", []any{[]any{"1-0", []any{"n", "1"}}, []any{"2-0", []any{"n", "2"}}}, []any{}}
	expectReply(t, got, want)
	got = kDo(t, c, "xautoclaim", "s", "g", "erin", "0", "3-0", "justid")
	expectReply(t, got, []any{"0-0", []any{"5-0"}, []any{"3-0"}})

	// XACK, DELCONSUMER, SETID, DESTROY.
	kExpect(t, c, 2, "xack", "s", "g", "1-0", "2-0", "9-9")
	kExpect(t, c, 0, "xack", "s", "nogroup", "1-0")
	kExpect(t, c, 1, "xgroup", "createconsumer", "s", "g", "frank")
	kExpect(t, c, 0, "xgroup", "createconsumer", "s", "g", "frank")
	kExpect(t, c, 1, "xgroup", "delconsumer", "s", "g", "erin")
	kExpect(t, c, 0, "xgroup", "delconsumer", "s", "g", "nobody")
	kExpect(t, c, "OK", "xgroup", "setid", "s", "g", "0", "entriesread", "0")
	consumers, err := c.XInfoConsumers(sCtx, "s", "g").Result()
	if err != nil || len(consumers) != 5 {
		t.Fatalf("xinfo consumers: %+v %v", consumers, err)
	}
	kExpect(t, c, 1, "xgroup", "destroy", "s", "g")
	kExpect(t, c, 0, "xgroup", "destroy", "s", "g")
}

// TestStreamEightConsumers is the acceptance scenario: eight consumers of
// one group share 100,000 entries, each delivered to exactly one of them
// and acknowledged; then a consumer that crashed with entries pending has
// them reclaimed by XAUTOCLAIM.
func TestStreamEightConsumers(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	const total = 100000
	kExpect(t, c, "OK", "xgroup", "create", "jobs", "workers", "$", "mkstream")
	for base := 0; base < total; base += 2000 {
		pipe := c.Pipeline()
		for i := base; i < base+2000; i++ {
			pipe.XAdd(sCtx, &redis.XAddArgs{Stream: "jobs", Values: []any{"job", i}})
		}
		if _, err := pipe.Exec(sCtx); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := make(map[string]string, total)
	var dup []string
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			wc := srv.Client(t)
			for {
				res, err := wc.XReadGroup(sCtx, &redis.XReadGroupArgs{Group: "workers", Consumer: name, Streams: []string{"jobs", ">"}, Count: 500, Block: -1}).Result()
				if err == redis.Nil {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				ids := make([]string, 0, len(res[0].Messages))
				mu.Lock()
				for _, m := range res[0].Messages {
					if prev, ok := seen[m.ID]; ok {
						dup = append(dup, m.ID+" "+prev+" "+name)
					}
					seen[m.ID] = name
					ids = append(ids, m.ID)
				}
				mu.Unlock()
				if n, err := wc.XAck(sCtx, "jobs", "workers", ids...).Result(); err != nil || n != int64(len(ids)) {
					errs <- fmt.Errorf("xack %d of %d: %v", n, len(ids), err)
					return
				}
			}
		}(fmt.Sprintf("worker-%d", w))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(dup) > 0 {
		t.Fatalf("%d entries delivered twice, e.g. %s", len(dup), dup[0])
	}
	if len(seen) != total {
		t.Fatalf("%d entries delivered, want %d", len(seen), total)
	}
	if sum, _ := c.XPending(sCtx, "jobs", "workers").Result(); sum.Count != 0 {
		t.Fatalf("pending after acks: %+v", sum)
	}
	groups, _ := c.XInfoGroups(sCtx, "jobs").Result()
	if groups[0].EntriesRead != total || groups[0].Lag != 0 {
		t.Fatalf("group after the run: %+v", groups[0])
	}

	// A consumer takes work and dies without acknowledging it.
	for i := 0; i < 20; i++ {
		c.XAdd(sCtx, &redis.XAddArgs{Stream: "jobs", Values: []any{"job", "late"}})
	}
	res, err := c.XReadGroup(sCtx, &redis.XReadGroupArgs{Group: "workers", Consumer: "crashed", Streams: []string{"jobs", ">"}, Count: 20, Block: -1}).Result()
	if err != nil || len(res[0].Messages) != 20 {
		t.Fatalf("crashed read: %v %v", res, err)
	}
	testutil.WaitFor(t, 5*time.Second, "pending entries to idle", func() bool {
		ext, _ := c.XPendingExt(sCtx, &redis.XPendingExtArgs{Stream: "jobs", Group: "workers", Idle: 50 * time.Millisecond, Start: "-", End: "+", Count: 100}).Result()
		return len(ext) == 20
	})
	var reclaimed []string
	start := "0-0"
	for {
		msgs, next, err := c.XAutoClaim(sCtx, &redis.XAutoClaimArgs{Stream: "jobs", Group: "workers", Consumer: "rescuer", MinIdle: 50 * time.Millisecond, Start: start, Count: 8}).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			reclaimed = append(reclaimed, m.ID)
		}
		if next == "0-0" {
			break
		}
		start = next
	}
	if len(reclaimed) != 20 {
		t.Fatalf("reclaimed %d, want 20", len(reclaimed))
	}
	if n, _ := c.XAck(sCtx, "jobs", "workers", reclaimed...).Result(); n != 20 {
		t.Fatalf("acked %d reclaimed entries", n)
	}
	consumers, _ := c.XInfoConsumers(sCtx, "jobs", "workers").Result()
	for _, cn := range consumers {
		if cn.Pending != 0 {
			t.Fatalf("consumer %s still has %d pending", cn.Name, cn.Pending)
		}
	}
}

func TestStreamXreadgroupBlockWokenByXadd(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	kExpect(t, c, "OK", "xgroup", "create", "s", "g", "$", "mkstream")
	ch := async(t, srv, "xreadgroup", "group", "g", "alice", "block", "0", "streams", "s", ">")
	waitBlocked(t, c, 1)
	kExpect(t, c, "7-0", "xadd", "s", "7-0", "f", "v")
	expectReply(t, recv(t, ch), []any{[]any{"s", []any{[]any{"7-0", []any{"f", "v"}}}}})
	expectReply(t, kDo(t, c, "xpending", "s", "g").([]any)[0], int64(1))

	// XGROUP DESTROY unblocks a waiting reader with NOGROUP.
	ch = async(t, srv, "xreadgroup", "group", "g", "bob", "block", "0", "streams", "s", ">")
	waitBlocked(t, c, 1)
	kExpect(t, c, 1, "xgroup", "destroy", "s", "g")
	if got, ok := recv(t, ch).(string); !ok || !strings.HasPrefix(got, "!NOGROUP") {
		t.Fatalf("after destroy: %#v", got)
	}

	// A timeout replies null.
	kExpect(t, c, "OK", "xgroup", "create", "s", "g", "$")
	kExpect(t, c, nil, "xreadgroup", "group", "g", "alice", "block", "20", "streams", "s", ">")
}

func TestStreamXreadBlock(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	kDo(t, c, "xadd", "s", "1-0", "old", "1")
	ch := async(t, srv, "xread", "block", "0", "streams", "s", "$")
	waitBlocked(t, c, 1)
	// A write to another stream does not wake it; new data on s does, and
	// only the new entry is served.
	kDo(t, c, "xadd", "other", "*", "x", "1")
	kDo(t, c, "xadd", "s", "2-0", "new", "2")
	expectReply(t, recv(t, ch), []any{[]any{"s", []any{[]any{"2-0", []any{"new", "2"}}}}})

	// A stream created while waiting serves everything.
	ch = async(t, srv, "xread", "block", "5000", "streams", "fresh", "$")
	waitBlocked(t, c, 1)
	kDo(t, c, "xadd", "fresh", "3-0", "a", "b")
	expectReply(t, recv(t, ch), []any{[]any{"fresh", []any{[]any{"3-0", []any{"a", "b"}}}}})

	// Timeout, and MULTI never blocks.
	start := time.Now()
	kExpect(t, c, nil, "xread", "block", "30", "streams", "s", "$")
	if time.Since(start) < 25*time.Millisecond {
		t.Fatal("BLOCK 30 returned early")
	}
	pipe := c.TxPipeline()
	r := pipe.Do(sCtx, "xread", "block", "0", "streams", "s", "$")
	if _, err := pipe.Exec(sCtx); err != nil && err != redis.Nil {
		t.Fatal(err)
	}
	if v, err := r.Result(); err != redis.Nil || v != nil {
		t.Fatalf("xread block in multi: %v %v", v, err)
	}

	// go-redis's typed XRead with Block.
	go func() {
		time.Sleep(20 * time.Millisecond)
		srv.Client(t).XAdd(sCtx, &redis.XAddArgs{Stream: "s", ID: "9-0", Values: []string{"k", "v"}})
	}()
	res, err := c.XRead(sCtx, &redis.XReadArgs{Streams: []string{"s", "2-0"}, Block: 5 * time.Second}).Result()
	if err != nil || len(res) != 1 || res[0].Messages[0].ID != "9-0" {
		t.Fatalf("typed xread block: %v %v", res, err)
	}
}

func TestStreamNotifications(t *testing.T) {
	srv := testutil.Start(t, "notify-keyspace-events", "KEA")
	c := srv.Client(t)
	sub := srv.Client(t).PSubscribe(sCtx, "__keyevent@0__:*")
	defer sub.Close()
	if _, err := sub.Receive(sCtx); err != nil {
		t.Fatal(err)
	}
	kDo(t, c, "xadd", "s", "maxlen", "1", "1-0", "f", "v")
	kDo(t, c, "xadd", "s", "maxlen", "1", "2-0", "f", "v")
	kDo(t, c, "xgroup", "create", "s", "g", "0")
	kDo(t, c, "xreadgroup", "group", "g", "c", "streams", "s", ">")
	kDo(t, c, "xdel", "s", "2-0")
	kDo(t, c, "xgroup", "destroy", "s", "g")
	want := []string{"xadd", "xadd", "xtrim", "xgroup-create", "xgroup-createconsumer", "xdel", "xgroup-destroy"}
	var got []string
	ch := sub.Channel()
	for len(got) < len(want) {
		select {
		case m := <-ch:
			got = append(got, strings.TrimPrefix(m.Channel, "__keyevent@0__:"))
		case <-time.After(5 * time.Second):
			t.Fatalf("events so far %v, want %v", got, want)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events %v, want %v", got, want)
	}
}

// TestStreamGroupStateKeepsWatch: consumer-group commands change the
// groups, not the entries, and Redis does not signal the key as modified
// for them: a WATCH on the stream survives them (and client tracking keeps
// the key), while XADD, XDEL and XTRIM still invalidate it.
func TestStreamGroupStateKeepsWatch(t *testing.T) {
	srv := testutil.Start(t)
	setup := srv.Client(t)
	for _, tc := range []struct {
		cmd   []any
		fires bool
	}{
		{[]any{"xreadgroup", "group", "g", "bob", "streams", "s", ">"}, false},
		{[]any{"xreadgroup", "group", "g", "alice", "streams", "s", "0"}, false},
		{[]any{"xack", "s", "g", "1-0"}, false},
		{[]any{"xclaim", "s", "g", "bob", "0", "1-0"}, false},
		{[]any{"xautoclaim", "s", "g", "bob", "0", "0"}, false},
		{[]any{"xgroup", "create", "s", "g2", "0"}, false},
		{[]any{"xgroup", "setid", "s", "g", "0"}, false},
		{[]any{"xgroup", "createconsumer", "s", "g", "carol"}, false},
		{[]any{"xgroup", "delconsumer", "s", "g", "alice"}, false},
		{[]any{"xgroup", "destroy", "s", "g"}, false},
		{[]any{"xsetid", "s", "9-0"}, false},
		{[]any{"xadd", "s", "*", "f", "v"}, true},
		{[]any{"xdel", "s", "1-0"}, true},
		{[]any{"xtrim", "s", "maxlen", "0"}, true},
	} {
		kDo(t, setup, "del", "s")
		kDo(t, setup, "xadd", "s", "1-0", "f", "v")
		kDo(t, setup, "xadd", "s", "2-0", "f", "v")
		kDo(t, setup, "xgroup", "create", "s", "g", "0")
		kDo(t, setup, "xreadgroup", "group", "g", "alice", "count", "1", "streams", "s", ">")
		c := srv.Client(t)
		err := c.Watch(sCtx, func(tx *redis.Tx) error {
			if err := tx.Do(sCtx, tc.cmd...).Err(); err != nil && err != redis.Nil {
				return err
			}
			_, err := tx.TxPipelined(sCtx, func(p redis.Pipeliner) error {
				p.Ping(sCtx)
				return nil
			})
			return err
		}, "s")
		if fired := err == redis.TxFailedErr; fired != tc.fires || (err != nil && !fired) {
			t.Errorf("%v: EXEC aborted %v (err %v), want %v", tc.cmd, fired, err, tc.fires)
		}
	}
}
