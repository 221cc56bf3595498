package server_test

import (
	"testing"

	"github.com/corvid-db/corvid/internal/testutil"
)

func TestKeyspaceNotifications(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	sub := srv.Raw(t)
	expect(t, r, "OK", "config", "set", "notify-keyspace-events", "KEA")
	expect(t, sub, "[psubscribe * 1]", "psubscribe", "*")
	expect(t, r, "OK", "set", "foo", "bar")
	expectSeq(t, sub, "[pmessage * __keyspace@0__:foo set]", "[pmessage * __keyevent@0__:set foo]")
	expect(t, r, "OK", "set", "foo", "bar", "ex", "100")
	expectSeq(t, sub, "[pmessage * __keyspace@0__:foo set]", "[pmessage * __keyevent@0__:set foo]",
		"[pmessage * __keyspace@0__:foo expire]", "[pmessage * __keyevent@0__:expire foo]")
	expect(t, r, int64(1), "del", "foo")
	expectSeq(t, sub, "[pmessage * __keyspace@0__:foo del]", "[pmessage * __keyevent@0__:del foo]")

	// Only the keyspace channel, and only list events.
	expect(t, r, "OK", "config", "set", "notify-keyspace-events", "Kl")
	expect(t, r, "OK", "set", "ignored", "x")
	expect(t, r, int64(1), "lpush", "l", "a")
	expect(t, r, "a", "rpop", "l")
	expectSeq(t, sub, "[pmessage * __keyspace@0__:l lpush]", "[pmessage * __keyspace@0__:l rpop]")

	// The generic del follows the event that emptied a collection.
	expect(t, r, "OK", "config", "set", "notify-keyspace-events", "Kglszh")
	expect(t, r, int64(2), "sadd", "s", "a", "b")
	expect(t, r, int64(1), "smove", "s", "s2", "a")
	expect(t, r, int64(1), "srem", "s", "b")
	expectSeq(t, sub, "[pmessage * __keyspace@0__:s sadd]",
		"[pmessage * __keyspace@0__:s srem]", "[pmessage * __keyspace@0__:s2 sadd]",
		"[pmessage * __keyspace@0__:s srem]", "[pmessage * __keyspace@0__:s del]")
	expect(t, r, int64(1), "zadd", "z", "1", "m")
	expect(t, r, "3", "zadd", "z", "incr", "2", "m")
	expect(t, r, int64(1), "hset", "h", "f", "v")
	expect(t, r, "OK", "rename", "h", "h2")
	expectSeq(t, sub, "[pmessage * __keyspace@0__:z zadd]", "[pmessage * __keyspace@0__:z zincr]",
		"[pmessage * __keyspace@0__:h hset]", "[pmessage * __keyspace@0__:h rename_from]",
		"[pmessage * __keyspace@0__:h2 rename_to]")

	// Expired and new keys.
	expect(t, r, "OK", "config", "set", "notify-keyspace-events", "Exn")
	expect(t, r, "OK", "psetex", "tmp", "20", "v")
	expectSeq(t, sub, "[pmessage * __keyevent@0__:new tmp]", "[pmessage * __keyevent@0__:expired tmp]")
	expect(t, r, "OK", "config", "set", "notify-keyspace-events", "")
	expect(t, r, "OK", "set", "quiet", "x")
	expect(t, r, int64(1), "publish", "marker", "end")
	expectSeq(t, sub, "[pmessage * marker end]")
}
