package commands_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/commands"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
	"github.com/corvid-db/corvid/internal/server"
	"github.com/corvid-db/corvid/internal/testutil"
)

var kCtx = context.Background()

// kErr is an error reply, as kDo returns it, so tables can compare it.
type kErr string

// kDo runs a command and returns its reply: int64, string, []any, nil for a
// null, or kErr for an error reply.
func kDo(t testing.TB, c *redis.Client, args ...any) any {
	t.Helper()
	v, err := c.Do(kCtx, args...).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		var re redis.Error
		if errors.As(err, &re) {
			return kErr(err.Error())
		}
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

// kExpect checks a command's reply; an int want is compared as int64.
func kExpect(t testing.TB, c *redis.Client, want any, args ...any) {
	t.Helper()
	if n, ok := want.(int); ok {
		want = int64(n)
	}
	if got := kDo(t, c, args...); !reflect.DeepEqual(got, want) {
		t.Errorf("%v: got %#v, want %#v", args, got, want)
	}
}

func kInt(t testing.TB, c *redis.Client, args ...any) int64 {
	t.Helper()
	v := kDo(t, c, args...)
	n, ok := v.(int64)
	if !ok {
		t.Fatalf("%v: got %#v, want an integer", args, v)
	}
	return n
}

// kSeed stores string values directly in database db, encoded the way Redis
// would encode them, so these tests do not depend on the string commands.
func kSeed(inst *testutil.Instance, db int, kv ...string) {
	s := inst.Srv.Store
	s.LockAll()
	defer s.UnlockAll()
	d := s.DB(db)
	for i := 0; i < len(kv); i += 2 {
		k, v := []byte(kv[i]), []byte(kv[i+1])
		if n, ok := resp.ParseInt(v); ok {
			d.SetInt(k, n, 0)
		} else if len(v) <= 44 {
			d.SetString(k, v, keyspace.EncEmbstr, 0)
		} else {
			d.SetString(k, v, keyspace.EncRaw, 0)
		}
	}
}

// kFakeList stands in for a list value until the list type exists.
type kFakeList struct{ items []string }

func (f *kFakeList) Encoding() string { return "listpack" }
func (f *kFakeList) Copy() any        { return &kFakeList{items: slices.Clone(f.items)} }

func kSeedList(inst *testutil.Instance, db int, key string, items ...string) {
	s := inst.Srv.Store
	s.LockAll()
	defer s.UnlockAll()
	s.DB(db).SetObject([]byte(key), keyspace.TypeList, &kFakeList{items: items}, 0)
}

// kValue reads a key's string value (or the items of a kFakeList) directly.
func kValue(inst *testutil.Instance, db int, key string) (string, bool) {
	s := inst.Srv.Store
	s.LockAll()
	defer s.UnlockAll()
	d := s.DB(db)
	d.NoTouch = true
	e, ok := d.Lookup([]byte(key))
	if !ok {
		return "", false
	}
	if l, ok := e.Object().(*kFakeList); ok {
		return fmt.Sprint(l.items), true
	}
	return string(e.AppendValue(nil)), true
}

func kStart(t *testing.T, directives ...string) (*testutil.Instance, *redis.Client) {
	t.Helper()
	inst := testutil.Start(t, directives...)
	return inst, inst.Client(t)
}

func kClientDB(t *testing.T, inst *testutil.Instance, db int) *redis.Client {
	return inst.ClientWith(t, &redis.Options{Protocol: 2, DB: db})
}

func kSorted(t testing.TB, v any) []string {
	t.Helper()
	arr, ok := v.([]any)
	if !ok {
		t.Fatalf("got %#v, want an array", v)
	}
	out := make([]string, len(arr))
	for i, x := range arr {
		out[i] = x.(string)
	}
	sort.Strings(out)
	return out
}

func TestDelUnlinkExists(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	kSeed(inst, 0, "a", "1", "b", "2", "c", "3")
	kExpect(t, c, 3, "exists", "a", "b", "c")
	kExpect(t, c, 4, "exists", "a", "a", "a", "b", "nope")
	kExpect(t, c, 0, "exists", "nope")
	kExpect(t, c, 1, "del", "a", "a", "nope")
	kExpect(t, c, 0, "exists", "a")
	kExpect(t, c, 2, "unlink", "b", "c", "b")
	kExpect(t, c, 0, "exists", "a", "b", "c")
	kExpect(t, c, 0, "del", "a")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'del' command"), "del")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'unlink' command"), "unlink")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'exists' command"), "exists")
}

func TestType(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	kSeed(inst, 0, "s", "hello", "n", "42")
	kSeedList(inst, 0, "l", "x")
	kExpect(t, c, "string", "type", "s")
	kExpect(t, c, "string", "type", "n")
	kExpect(t, c, "list", "type", "l")
	kExpect(t, c, "none", "type", "missing")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'type' command"), "type", "a", "b")
}

func TestRename(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	kSeed(inst, 0, "src", "v1", "dst", "old")
	kExpect(t, c, 1, "pexpire", "src", 100000)
	kExpect(t, c, "OK", "rename", "src", "dst")
	kExpect(t, c, 0, "exists", "src")
	if v, _ := kValue(inst, 0, "dst"); v != "v1" {
		t.Fatalf("dst = %q, want v1", v)
	}
	if ttl := kInt(t, c, "pttl", "dst"); ttl <= 90000 || ttl > 100000 {
		t.Fatalf("RENAME lost the TTL: pttl = %d", ttl)
	}
	// Renaming onto a key with a TTL gives it the source's (lack of) TTL.
	kSeed(inst, 0, "plain", "p")
	kExpect(t, c, "OK", "rename", "plain", "dst")
	kExpect(t, c, -1, "ttl", "dst")

	kExpect(t, c, kErr("ERR no such key"), "rename", "missing", "x")
	kExpect(t, c, kErr("ERR no such key"), "rename", "missing", "missing")
	kExpect(t, c, "OK", "rename", "dst", "dst")
	kExpect(t, c, 1, "exists", "dst")

	kSeed(inst, 0, "a", "A", "b", "B")
	kExpect(t, c, 0, "renamenx", "a", "b")
	kExpect(t, c, 0, "renamenx", "a", "a")
	kExpect(t, c, kErr("ERR no such key"), "renamenx", "missing", "b")
	kExpect(t, c, 1, "renamenx", "a", "c")
	if v, _ := kValue(inst, 0, "c"); v != "A" {
		t.Fatalf("c = %q, want A", v)
	}
	if v, _ := kValue(inst, 0, "b"); v != "B" {
		t.Fatalf("b = %q, want B", v)
	}
	// A collection moves by reference and keeps its type.
	kSeedList(inst, 0, "list", "x", "y")
	kExpect(t, c, "OK", "rename", "list", "list2")
	kExpect(t, c, "list", "type", "list2")
	// An expired destination counts as missing for RENAMENX: wait on the
	// clock, not the server, so nothing reads "gone" before RENAMENX.
	kSeed(inst, 0, "gone", "g", "live", "l")
	kExpect(t, c, 1, "pexpire", "gone", 20)
	deadline := time.Now().Add(40 * time.Millisecond)
	testutil.WaitFor(t, 5*time.Second, "gone's TTL to pass", func() bool { return time.Now().After(deadline) })
	kExpect(t, c, 1, "renamenx", "live", "gone")
	if v, _ := kValue(inst, 0, "gone"); v != "l" {
		t.Fatalf("gone = %q, want l", v)
	}
}

func TestCopy(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	c1 := kClientDB(t, inst, 1)
	kSeed(inst, 0, "src", "value", "other", "o")
	kSeedList(inst, 0, "list", "a", "b")
	kExpect(t, c, 1, "pexpire", "src", 100000)

	kExpect(t, c, 1, "copy", "src", "dst")
	if v, _ := kValue(inst, 0, "dst"); v != "value" {
		t.Fatalf("dst = %q", v)
	}
	if ttl := kInt(t, c, "pttl", "dst"); ttl <= 90000 {
		t.Fatalf("COPY lost the TTL: pttl = %d", ttl)
	}
	kExpect(t, c, 0, "copy", "src", "other")
	kExpect(t, c, 1, "copy", "src", "other", "REPLACE")
	if v, _ := kValue(inst, 0, "other"); v != "value" {
		t.Fatalf("other = %q", v)
	}
	kExpect(t, c, 0, "copy", "missing", "x")
	kExpect(t, c, 0, "exists", "x")

	// Across databases, the same name is fine.
	kExpect(t, c, 1, "copy", "src", "src", "db", 1)
	kExpect(t, c1, 1, "exists", "src")
	kExpect(t, c, 0, "copy", "src", "src", "DB", "1")
	kExpect(t, c, 1, "copy", "src", "src", "replace", "db", "1")
	kExpect(t, c, 1, "copy", "list", "l2", "db", 1)
	kExpect(t, c1, "list", "type", "l2")
	// The copy is a distinct value.
	s := inst.Srv.Store
	s.LockAll()
	e, _ := s.DB(1).Lookup([]byte("l2"))
	e.Object().(*kFakeList).items[0] = "changed"
	s.UnlockAll()
	if v, _ := kValue(inst, 0, "list"); v != "[a b]" {
		t.Fatalf("source list changed through its copy: %s", v)
	}

	kExpect(t, c, kErr("ERR source and destination objects are the same"), "copy", "src", "src")
	kExpect(t, c, kErr("ERR source and destination objects are the same"), "copy", "src", "src", "db", 0)
	kExpect(t, c, kErr("ERR source and destination objects are the same"), "copy", "missing", "missing")
	kExpect(t, c, kErr("ERR DB index is out of range"), "copy", "src", "x", "db", 16)
	kExpect(t, c, kErr("ERR DB index is out of range"), "copy", "src", "x", "db", -1)
	kExpect(t, c, kErr("ERR value is not an integer or out of range"), "copy", "src", "x", "db", "one")
	kExpect(t, c, kErr("ERR value is not an integer or out of range"), "copy", "src", "x", "db", "4294967296")
	kExpect(t, c, kErr("ERR syntax error"), "copy", "src", "x", "db")
	kExpect(t, c, kErr("ERR syntax error"), "copy", "src", "x", "bogus")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'copy' command"), "copy", "src")
}

func TestMove(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	c2 := kClientDB(t, inst, 2)
	kSeed(inst, 0, "k", "v", "both", "0")
	kSeed(inst, 2, "both", "2")
	kExpect(t, c, 1, "pexpire", "k", 100000)

	kExpect(t, c, 1, "move", "k", 2)
	kExpect(t, c, 0, "exists", "k")
	if v, _ := kValue(inst, 2, "k"); v != "v" {
		t.Fatalf("k in db 2 = %q", v)
	}
	if ttl := kInt(t, c2, "pttl", "k"); ttl <= 90000 {
		t.Fatalf("MOVE lost the TTL: pttl = %d", ttl)
	}
	kExpect(t, c, 0, "move", "both", 2)
	if v, _ := kValue(inst, 0, "both"); v != "0" {
		t.Fatalf("both in db 0 = %q", v)
	}
	kExpect(t, c, 0, "move", "missing", 2)
	kExpect(t, c, kErr("ERR source and destination objects are the same"), "move", "both", 0)
	kExpect(t, c2, kErr("ERR source and destination objects are the same"), "move", "k", 2)
	kExpect(t, c, kErr("ERR DB index is out of range"), "move", "both", 16)
	kExpect(t, c, kErr("ERR DB index is out of range"), "move", "both", -1)
	kExpect(t, c, kErr("ERR value is not an integer or out of range"), "move", "both", "x")
	kExpect(t, c, kErr("ERR value is not an integer or out of range"), "move", "both", "2147483648")
}

func TestSwapDB(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	c1 := kClientDB(t, inst, 1)
	kSeed(inst, 0, "zero", "0", "shared", "from0")
	kSeed(inst, 1, "one", "1", "shared", "from1", "more", "m")
	kExpect(t, c, "OK", "swapdb", 0, 1)
	kExpect(t, c, 2, "exists", "one", "more")
	kExpect(t, c, 0, "exists", "zero")
	kExpect(t, c1, 1, "exists", "zero")
	if v, _ := kValue(inst, 0, "shared"); v != "from1" {
		t.Fatalf("shared in db 0 = %q", v)
	}
	kExpect(t, c, 3, "dbsize")
	kExpect(t, c1, 2, "dbsize")
	kExpect(t, c, "OK", "swapdb", 1, 1)
	kExpect(t, c, 3, "dbsize")

	kExpect(t, c, kErr("ERR invalid first DB index"), "swapdb", "a", 1)
	kExpect(t, c, kErr("ERR invalid first DB index"), "swapdb", "a", "b")
	kExpect(t, c, kErr("ERR invalid second DB index"), "swapdb", 0, "b")
	kExpect(t, c, kErr("ERR invalid second DB index"), "swapdb", 0, "99999999999")
	kExpect(t, c, kErr("ERR DB index is out of range"), "swapdb", 0, 16)
	kExpect(t, c, kErr("ERR DB index is out of range"), "swapdb", -1, 0)
	kExpect(t, c, kErr("ERR wrong number of arguments for 'swapdb' command"), "swapdb", 0)
}

func TestFlushAndDBSize(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	c1 := kClientDB(t, inst, 1)
	kSeed(inst, 0, "a", "1", "b", "2")
	kSeed(inst, 1, "c", "3")
	kSeed(inst, 5, "d", "4")
	kExpect(t, c, 2, "dbsize")
	kExpect(t, c1, 1, "dbsize")
	kExpect(t, c, "OK", "flushdb")
	kExpect(t, c, 0, "dbsize")
	kExpect(t, c1, 1, "dbsize")

	kSeed(inst, 0, "a", "1")
	kExpect(t, c, "OK", "flushdb", "SYNC")
	kExpect(t, c, 0, "dbsize")
	kSeed(inst, 0, "a", "1")
	kExpect(t, c, "OK", "flushdb", "async")
	kExpect(t, c, 0, "dbsize")
	kExpect(t, c1, 1, "dbsize")

	kExpect(t, c, "OK", "flushall")
	kExpect(t, c1, 0, "dbsize")
	if _, ok := kValue(inst, 5, "d"); ok {
		t.Fatal("FLUSHALL left db 5")
	}

	kExpect(t, c, kErr("ERR syntax error"), "flushdb", "now")
	kExpect(t, c, kErr("ERR syntax error"), "flushall", "async", "sync")
	kExpect(t, c, kErr("ERR syntax error"), "flushall", "lazy")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'dbsize' command"), "dbsize", "x")
}

func TestFlushAllAsync(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	for db := 0; db < 16; db++ {
		kv := make([]string, 0, 2000)
		for i := 0; i < 200; i++ {
			kv = append(kv, fmt.Sprintf("key:%d:%d", db, i), strconv.Itoa(i))
		}
		kSeed(inst, db, kv...)
	}
	kSeedList(inst, 3, "list", "x")
	kExpect(t, c, 200, "dbsize")
	if err := c.FlushAllAsync(kCtx).Err(); err != nil {
		t.Fatal(err)
	}
	for db := 0; db < 16; db++ {
		kExpect(t, kClientDB(t, inst, db), 0, "dbsize")
	}
	// The server is fully usable right away.
	kSeed(inst, 0, "after", "1")
	kExpect(t, c, 1, "dbsize")
	kExpect(t, c, "OK", "flushall", "ASYNC")
	kExpect(t, c, 0, "dbsize")
}

func TestKeys(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	kSeed(inst, 0, "hello", "1", "hallo", "2", "hxllo", "3", "hllo", "4", "heeeello", "5",
		"h*llo", "6", "foo:1", "a", "foo:2", "b", "bar", "c", "Hello", "7")
	cases := []struct {
		pattern string
		want    []string
	}{
		{"*", []string{"Hello", "bar", "foo:1", "foo:2", "h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo"}},
		{"h?llo", []string{"h*llo", "hallo", "hello", "hxllo"}},
		{"h*llo", []string{"h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo"}},
		{"h[ae]llo", []string{"hallo", "hello"}},
		{"h[^e]llo", []string{"h*llo", "hallo", "hxllo"}},
		{"h[a-b]llo", []string{"hallo"}},
		{`h\*llo`, []string{"h*llo"}},
		{"foo:*", []string{"foo:1", "foo:2"}},
		{"nomatch*", []string{}},
		{"bar", []string{"bar"}},
		{"Hel*", []string{"Hello"}},
	}
	for _, tc := range cases {
		got := kSorted(t, kDo(t, c, "keys", tc.pattern))
		if !slices.Equal(got, tc.want) {
			t.Errorf("KEYS %q = %v, want %v", tc.pattern, got, tc.want)
		}
	}
	// Expired keys are hidden from KEYS even before they are reclaimed.
	kExpect(t, c, 1, "pexpire", "bar", 1)
	testutil.WaitFor(t, 5*time.Second, "bar hidden", func() bool {
		return len(kSorted(t, kDo(t, c, "keys", "ba*"))) == 0
	})
	kExpect(t, c, kErr("ERR wrong number of arguments for 'keys' command"), "keys")
}

// kScanAll iterates SCAN to completion with the given options and returns
// every key seen (with duplicates) and the number of calls.
func kScanAll(t testing.TB, c *redis.Client, opts ...any) ([]string, int) {
	t.Helper()
	var keys []string
	cursor := "0"
	calls := 0
	for {
		args := append([]any{"scan", cursor}, opts...)
		v := kDo(t, c, args...)
		arr, ok := v.([]any)
		if !ok || len(arr) != 2 {
			t.Fatalf("SCAN reply %#v", v)
		}
		calls++
		cursor = arr[0].(string)
		for _, k := range arr[1].([]any) {
			keys = append(keys, k.(string))
		}
		if cursor == "0" {
			return keys, calls
		}
		if calls > 1000000 {
			t.Fatal("SCAN does not terminate")
		}
	}
}

func kUniq(keys []string) []string {
	out := slices.Clone(keys)
	sort.Strings(out)
	return slices.Compact(out)
}

func TestScan(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	var kv []string
	for i := 0; i < 1000; i++ {
		kv = append(kv, "key:"+strconv.Itoa(i), strconv.Itoa(i))
	}
	kSeed(inst, 0, kv...)
	for i := 0; i < 10; i++ {
		kSeedList(inst, 0, "list:"+strconv.Itoa(i), "x")
	}

	keys, calls := kScanAll(t, c)
	if got := kUniq(keys); len(got) != 1010 {
		t.Fatalf("SCAN returned %d distinct keys, want 1010", len(got))
	}
	if calls < 20 {
		t.Errorf("default COUNT 10 finished 1010 keys in %d calls", calls)
	}
	keys, callsBig := kScanAll(t, c, "COUNT", 500)
	if len(kUniq(keys)) != 1010 || callsBig >= calls {
		t.Errorf("COUNT 500: %d keys in %d calls (COUNT 10 took %d)", len(kUniq(keys)), callsBig, calls)
	}

	keys, _ = kScanAll(t, c, "MATCH", "key:1?", "COUNT", 100)
	if got := kUniq(keys); len(got) != 10 || got[0] != "key:10" || got[9] != "key:19" {
		t.Errorf("MATCH key:1? = %v", got)
	}
	keys, _ = kScanAll(t, c, "match", "*")
	if len(kUniq(keys)) != 1010 {
		t.Errorf("MATCH * returned %d keys", len(kUniq(keys)))
	}
	keys, _ = kScanAll(t, c, "TYPE", "list")
	if got := kUniq(keys); len(got) != 10 || got[0] != "list:0" {
		t.Errorf("TYPE list = %v", got)
	}
	keys, _ = kScanAll(t, c, "type", "STRING", "match", "key:99*")
	if got := kUniq(keys); !slices.Equal(got, []string{"key:99", "key:990", "key:991", "key:992", "key:993", "key:994", "key:995", "key:996", "key:997", "key:998", "key:999"}) {
		t.Errorf("TYPE string MATCH key:99* = %v", got)
	}
	// Redis 7.2 answers an unknown type with nothing rather than an error.
	keys, _ = kScanAll(t, c, "TYPE", "nosuchtype")
	if len(keys) != 0 {
		t.Errorf("TYPE nosuchtype = %v", keys)
	}

	// The cursor is a bulk string.
	raw := inst.Raw(t)
	if err := raw.Send("scan", "0"); err != nil {
		t.Fatal(err)
	}
	line, err := raw.R.ReadString('\n')
	if err != nil || line != "*2\r\n" {
		t.Fatalf("SCAN reply starts %q, %v", line, err)
	}
	line, _ = raw.R.ReadString('\n')
	if line[0] != '$' {
		t.Fatalf("SCAN cursor is %q, want a bulk string", line)
	}

	// Cursors Redis's strtoul accepts: "" is 0, a sign is allowed.
	for _, cur := range []string{"", "+0", "-1", "18446744073709551615"} {
		if v := kDo(t, c, "scan", cur); reflect.TypeOf(v) != reflect.TypeOf([]any{}) {
			t.Errorf("SCAN %q = %#v", cur, v)
		}
	}
	for _, cur := range []string{"x", " 1", "1 ", "1.5", "-", "18446744073709551616", "0x10"} {
		kExpect(t, c, kErr("ERR invalid cursor"), "scan", cur)
	}
	kExpect(t, c, kErr("ERR syntax error"), "scan", 0, "count", 0)
	kExpect(t, c, kErr("ERR syntax error"), "scan", 0, "count", -5)
	kExpect(t, c, kErr("ERR value is not an integer or out of range"), "scan", 0, "count", "ten")
	kExpect(t, c, kErr("ERR syntax error"), "scan", 0, "count")
	kExpect(t, c, kErr("ERR syntax error"), "scan", 0, "match")
	kExpect(t, c, kErr("ERR syntax error"), "scan", 0, "bogus", "x")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'scan' command"), "scan")
	// A huge COUNT behaves like "everything".
	v := kDo(t, c, "scan", 0, "count", int64(math.MaxInt64))
	if arr := v.([]any); arr[0] != "0" || len(arr[1].([]any)) != 1010 {
		t.Errorf("SCAN COUNT max: cursor %v, %d keys", arr[0], len(arr[1].([]any)))
	}
}

func TestScanSkipsAndReclaimsExpired(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t, "hz", "1")
	var kv []string
	for i := 0; i < 100; i++ {
		kv = append(kv, "k"+strconv.Itoa(i), "v")
	}
	kSeed(inst, 0, kv...)
	for i := 0; i < 50; i++ {
		kExpect(t, c, 1, "pexpire", "k"+strconv.Itoa(i), 1)
	}
	testutil.WaitFor(t, 5*time.Second, "keys to expire", func() bool { return kInt(t, c, "pttl", "k49") == -2 })
	keys, _ := kScanAll(t, c, "COUNT", 7)
	if got := kUniq(keys); len(got) != 50 {
		t.Fatalf("SCAN returned %d keys, want the 50 live ones", len(got))
	}
	for _, k := range keys {
		if n, _ := strconv.Atoi(k[1:]); n < 50 {
			t.Fatalf("SCAN returned expired key %s", k)
		}
	}
	// Everything SCAN met has been reclaimed, not just hidden.
	kExpect(t, c, 50, "dbsize")
}

// TestScanGuarantee checks SCAN's promise: a key present for the whole
// iteration is returned at least once, even while other clients add and
// remove enough keys to grow and shrink the tables under the cursor.
func TestScanGuarantee(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	// Few stable keys per shard table and bursts of many more make every
	// round grow the tables and shrink them back (shrinking happens below
	// 10% occupancy).
	const stable, burst = 1000, 4000
	var kv []string
	for i := 0; i < stable; i++ {
		kv = append(kv, "stable:"+strconv.Itoa(i), "s")
	}
	kSeed(inst, 0, kv...)
	kSeed(inst, 0, "template", "t")

	var stop atomic.Bool
	var wg sync.WaitGroup
	var churnErr atomic.Value
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			cw := inst.Client(t)
			for round := 0; !stop.Load(); round++ {
				// Grow: add a burst of keys (COPY creates them), then
				// shrink: delete them all again.
				pipe := cw.Pipeline()
				for i := 0; i < burst; i++ {
					pipe.Do(kCtx, "copy", "template", fmt.Sprintf("churn:%d:%d:%d", w, round, i))
				}
				if _, err := pipe.Exec(kCtx); err != nil {
					churnErr.Store(err)
					return
				}
				pipe = cw.Pipeline()
				for i := 0; i < burst; i++ {
					pipe.Do(kCtx, "del", fmt.Sprintf("churn:%d:%d:%d", w, round, i))
				}
				if _, err := pipe.Exec(kCtx); err != nil {
					churnErr.Store(err)
					return
				}
			}
		}(w)
	}
	for pass := 0; pass < 2; pass++ {
		keys, _ := kScanAll(t, c, "MATCH", "stable:*", "COUNT", 10)
		got := kUniq(keys)
		if len(got) != stable {
			seen := map[string]bool{}
			for _, k := range got {
				seen[k] = true
			}
			var missing []string
			for i := 0; i < stable && len(missing) < 10; i++ {
				if k := "stable:" + strconv.Itoa(i); !seen[k] {
					missing = append(missing, k)
				}
			}
			t.Fatalf("pass %d: SCAN returned %d of %d stable keys; missing e.g. %v", pass, len(got), stable, missing)
		}
	}
	stop.Store(true)
	wg.Wait()
	if err := churnErr.Load(); err != nil {
		t.Fatalf("churn: %v", err)
	}
}

func TestRandomKey(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	kExpect(t, c, nil, "randomkey")
	kSeed(inst, 0, "a", "1", "b", "2", "c", "3")
	seen := map[string]bool{}
	for i := 0; i < 300 && len(seen) < 3; i++ {
		seen[kDo(t, c, "randomkey").(string)] = true
	}
	if len(seen) != 3 || !seen["a"] || !seen["b"] || !seen["c"] {
		t.Errorf("RANDOMKEY returned %v", seen)
	}
	// Expired keys are never returned.
	kExpect(t, c, 1, "pexpire", "a", 1)
	kExpect(t, c, 1, "pexpire", "b", 1)
	testutil.WaitFor(t, 5*time.Second, "a and b to expire", func() bool { return kInt(t, c, "exists", "a", "b") == 0 })
	for i := 0; i < 50; i++ {
		kExpect(t, c, "c", "randomkey")
	}
	kExpect(t, c, kErr("ERR wrong number of arguments for 'randomkey' command"), "randomkey", "x")
}

func TestExpireOptions(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	kSeed(inst, 0, "k", "v")

	kExpect(t, c, 0, "expire", "missing", 100)
	kExpect(t, c, -2, "ttl", "missing")
	kExpect(t, c, -1, "ttl", "k")
	kExpect(t, c, -1, "pttl", "k")
	kExpect(t, c, -1, "expiretime", "k")
	kExpect(t, c, -1, "pexpiretime", "k")

	// GT/LT treat "no TTL" as infinite.
	kExpect(t, c, 0, "expire", "k", 100, "GT")
	kExpect(t, c, -1, "ttl", "k")
	kExpect(t, c, 0, "expire", "k", 100, "XX")
	kExpect(t, c, 1, "expire", "k", 100, "LT")
	kTTLNear(t, c, "k", 100)
	kExpect(t, c, 0, "expire", "k", 200, "NX")
	kExpect(t, c, 1, "expire", "k", 200, "xx")
	kTTLNear(t, c, "k", 200)
	kExpect(t, c, 0, "expire", "k", 100, "gt")
	kExpect(t, c, 1, "expire", "k", 300, "gt")
	// Equal is neither greater nor less (absolute times, so the clock
	// moving between commands cannot make them differ).
	at := time.Now().Add(time.Hour).UnixMilli()
	kExpect(t, c, 1, "pexpireat", "k", at)
	kExpect(t, c, 0, "pexpireat", "k", at, "gt")
	kExpect(t, c, 0, "pexpireat", "k", at, "lt")
	kExpect(t, c, 0, "expireat", "k", at/1000-1, "gt")
	kExpect(t, c, 1, "expireat", "k", at/1000+1, "gt")
	kExpect(t, c, 1, "expire", "k", 300)
	kExpect(t, c, 0, "expire", "k", 400, "lt")
	kExpect(t, c, 1, "expire", "k", 150, "lt")
	kTTLNear(t, c, "k", 150)
	kExpect(t, c, 1, "expire", "k", 500, "xx", "gt")
	kTTLNear(t, c, "k", 500)
	kExpect(t, c, 1, "persist", "k")
	kExpect(t, c, 0, "persist", "k")
	kExpect(t, c, 0, "persist", "missing")
	kExpect(t, c, -1, "ttl", "k")
	kExpect(t, c, 1, "expire", "k", 100, "nx")
	kExpect(t, c, 0, "expire", "k", 100, "nx")

	kExpect(t, c, kErr("ERR NX and XX, GT or LT options at the same time are not compatible"), "expire", "k", 10, "nx", "xx")
	kExpect(t, c, kErr("ERR NX and XX, GT or LT options at the same time are not compatible"), "expire", "k", 10, "nx", "gt")
	kExpect(t, c, kErr("ERR NX and XX, GT or LT options at the same time are not compatible"), "pexpire", "k", 10, "lt", "nx")
	kExpect(t, c, kErr("ERR GT and LT options at the same time are not compatible"), "expire", "k", 10, "gt", "lt")
	kExpect(t, c, kErr("ERR Unsupported option foo"), "expire", "k", 10, "foo")
	// Options are checked before the time, and before the key.
	kExpect(t, c, kErr("ERR Unsupported option foo"), "expire", "missing", "notanumber", "foo")
	kExpect(t, c, kErr("ERR value is not an integer or out of range"), "expire", "k", "1.5")
	kExpect(t, c, kErr("ERR value is not an integer or out of range"), "pexpire", "k", "")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'expire' command"), "expire", "k")
	// Conditions on a missing key are simply not met.
	kExpect(t, c, 0, "expire", "missing", 10, "xx")
}

// kTTLNear checks TTL just after setting a TTL of want seconds: it may have
// ticked down by one second on a loaded machine, never more, never up.
func kTTLNear(t testing.TB, c *redis.Client, key string, want int64) {
	t.Helper()
	if ttl := kInt(t, c, "ttl", key); ttl > want || ttl < want-1 {
		t.Errorf("TTL %s = %d, want about %d", key, ttl, want)
	}
}

func TestExpireOverflow(t *testing.T) {
	t.Parallel()
	_, c := kStart(t)
	big := strconv.FormatInt(math.MaxInt64/1000+1, 10)
	kExpect(t, c, kErr("ERR invalid expire time in 'expire' command"), "expire", "k", big)
	kExpect(t, c, kErr("ERR invalid expire time in 'expireat' command"), "expireat", "k", big)
	kExpect(t, c, kErr("ERR invalid expire time in 'expire' command"), "expire", "k", "-"+big)
	kExpect(t, c, kErr("ERR invalid expire time in 'pexpire' command"), "pexpire", "k", strconv.FormatInt(math.MaxInt64, 10))
	kExpect(t, c, kErr("ERR invalid expire time in 'expire' command"), "expire", "k", strconv.FormatInt(math.MaxInt64/1000, 10))
	// PEXPIREAT has no base time to add, so any int64 is a valid time.
	kExpect(t, c, 0, "pexpireat", "k", strconv.FormatInt(math.MaxInt64, 10))
	kExpect(t, c, kErr("ERR value is not an integer or out of range"), "pexpireat", "k", "9223372036854775808")
}

func TestExpireInThePastDeletes(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	kSeed(inst, 0, "a", "1", "b", "2", "c", "3", "d", "4", "e", "5")
	kExpect(t, c, 1, "expire", "a", -1)
	kExpect(t, c, 1, "pexpire", "b", 0)
	kExpect(t, c, 1, "expireat", "c", 1)
	kExpect(t, c, 1, "pexpireat", "d", time.Now().UnixMilli()-1000)
	kExpect(t, c, 1, "expire", "e", math.MinInt64/1000)
	kExpect(t, c, 0, "exists", "a", "b", "c", "d", "e")
	kExpect(t, c, 0, "dbsize")
	// Conditions still apply before the deletion.
	kSeed(inst, 0, "f", "6")
	kExpect(t, c, 0, "expire", "f", -1, "xx")
	kExpect(t, c, 0, "expire", "f", -1, "gt")
	kExpect(t, c, 1, "expire", "f", -1, "lt")
	kExpect(t, c, 0, "exists", "f")
}

func TestTTLValues(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	kSeed(inst, 0, "k", "v")
	at := time.Now().Add(time.Hour).UnixMilli()
	kExpect(t, c, 1, "pexpireat", "k", at)
	kExpect(t, c, at, "pexpiretime", "k")
	kExpect(t, c, (at+500)/1000, "expiretime", "k")
	if pttl := kInt(t, c, "pttl", "k"); pttl > 3600000 || pttl < 3590000 {
		t.Errorf("pttl = %d", pttl)
	}
	kTTLNear(t, c, "k", 3600)
	// TTL rounds to the nearest second: 1.6s left is 2, not 1. Time only
	// moves on, so if PTTL still says >= 1.5s afterwards, TTL must have
	// seen at least that much.
	kExpect(t, c, 1, "pexpire", "k", 1600)
	if ttl := kInt(t, c, "ttl", "k"); ttl != 2 {
		if pttl := kInt(t, c, "pttl", "k"); ttl != 1 || pttl >= 1500 {
			t.Errorf("TTL with 1.6s left = %d (pttl now %d)", ttl, pttl)
		}
	}
	kExpect(t, c, 1, "expireat", "k", 4102444800)
	kExpect(t, c, 4102444800, "expiretime", "k")
	kExpect(t, c, 4102444800000, "pexpiretime", "k")
	kExpect(t, c, -2, "expiretime", "missing")
	kExpect(t, c, -2, "pexpiretime", "missing")
	kExpect(t, c, -2, "pttl", "missing")
}

func TestLazyExpiry(t *testing.T) {
	t.Parallel()
	// A long cron period keeps active expiry out of the way.
	inst, c := kStart(t, "hz", "1")
	kSeed(inst, 0, "k", "v", "keep", "1")
	kExpect(t, c, 1, "pexpire", "k", 50)
	kExpect(t, c, 2, "dbsize")
	before := inst.Srv.Store.ExpiredKeys.Load()
	testutil.WaitFor(t, 5*time.Second, "k to expire", func() bool { return kInt(t, c, "exists", "k") == 0 })
	kExpect(t, c, 1, "dbsize")
	if inst.Srv.Store.ExpiredKeys.Load() <= before {
		t.Error("expired_keys did not count the lazily expired key")
	}
	kExpect(t, c, -2, "ttl", "k")
	kExpect(t, c, "none", "type", "k")
}

func TestActiveExpiry(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t, "hz", "100")
	const n = 1000
	var kv []string
	for i := 0; i < n; i++ {
		kv = append(kv, "vol:"+strconv.Itoa(i), "v")
	}
	kSeed(inst, 0, kv...)
	kSeed(inst, 0, "persistent", "p")
	pipe := c.Pipeline()
	for i := 0; i < n; i++ {
		pipe.Do(kCtx, "pexpire", "vol:"+strconv.Itoa(i), 100)
	}
	if _, err := pipe.Exec(kCtx); err != nil {
		t.Fatal(err)
	}
	// Nothing reads the keys: only the cron can reclaim them.
	testutil.WaitFor(t, 20*time.Second, "active expiry to reclaim the volatile keys", func() bool {
		return kInt(t, c, "dbsize") == 1
	})
	kExpect(t, c, 1, "exists", "persistent")
	if got := inst.Srv.Store.ExpiredKeys.Load(); got < n {
		t.Errorf("expired_keys = %d, want >= %d", got, n)
	}
}

func TestTouchAndIdleTime(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	kSeed(inst, 0, "a", "1", "b", "2")
	kExpect(t, c, 2, "touch", "a", "b", "missing")
	kExpect(t, c, 3, "touch", "a", "a", "b")
	if idle := kInt(t, c, "object", "idletime", "a"); idle > 1 {
		t.Fatalf("fresh key idle for %ds", idle)
	}
	// Wait until the coarse (1s) access clock says "a" has been idle a
	// while; then introspection must not reset it, and TOUCH must.
	testutil.WaitFor(t, 10*time.Second, "a to become idle", func() bool {
		return kInt(t, c, "object", "idletime", "a") >= 2
	})
	for _, cmd := range [][]any{
		{"exists", "a"}, {"type", "a"}, {"ttl", "a"}, {"pttl", "a"}, {"expiretime", "a"},
		{"object", "encoding", "a"}, {"object", "refcount", "a"}, {"scan", 0, "type", "string"},
	} {
		kDo(t, c, cmd...)
		if idle := kInt(t, c, "object", "idletime", "a"); idle < 2 {
			t.Errorf("%v reset the idle time", cmd)
		}
	}
	kExpect(t, c, 1, "touch", "a")
	if idle := kInt(t, c, "object", "idletime", "a"); idle > 1 {
		t.Errorf("TOUCH left idle time %d", idle)
	}
	kExpect(t, c, kErr("ERR wrong number of arguments for 'touch' command"), "touch")
}

func TestObject(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	long := string(make([]byte, 100))
	kSeed(inst, 0, "int", "12345", "small", "7", "neg", "-3", "emb", "hello", "raw", long)
	kSeedList(inst, 0, "list", "x")
	kExpect(t, c, "int", "object", "encoding", "int")
	kExpect(t, c, "embstr", "object", "encoding", "emb")
	kExpect(t, c, "raw", "object", "encoding", "raw")
	kExpect(t, c, "listpack", "object", "encoding", "list")
	kExpect(t, c, nil, "object", "encoding", "missing")
	kExpect(t, c, nil, "object", "refcount", "missing")
	kExpect(t, c, nil, "object", "idletime", "missing")
	kExpect(t, c, nil, "object", "freq", "missing")

	kExpect(t, c, 2147483647, "object", "refcount", "small")
	kExpect(t, c, 1, "object", "refcount", "int")
	kExpect(t, c, 1, "object", "refcount", "neg")
	kExpect(t, c, 1, "object", "refcount", "emb")
	kExpect(t, c, 1, "object", "refcount", "list")

	lfuErr := kErr("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
	kExpect(t, c, lfuErr, "object", "freq", "emb")

	help := kDo(t, c, "object", "help").([]any)
	if len(help) != 15 || help[0] != "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" || help[13] != "HELP" {
		t.Errorf("OBJECT HELP = %q", help)
	}
	kExpect(t, c, kErr("ERR unknown subcommand 'foo'. Try OBJECT HELP."), "object", "foo", "emb")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'object' command"), "object")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'object|help' command"), "object", "help", "x")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'object|encoding' command"), "object", "encoding")

	// RESP3 null for a missing key.
	c3 := inst.Client3(t)
	if err := c3.Do(kCtx, "object", "encoding", "missing").Err(); !errors.Is(err, redis.Nil) {
		t.Errorf("RESP3 OBJECT ENCODING missing: %v", err)
	}
}

// kConfigReachable reports whether handlers can read the server's
// configuration (through a Config method on the connection).
func kConfigReachable() bool {
	_, ok := reflect.TypeOf((*server.Client)(nil)).MethodByName("Config")
	return ok
}

func TestObjectPolicies(t *testing.T) {
	t.Parallel()
	if !kConfigReachable() {
		t.Skip("server.Client has no Config() method yet: OBJECT cannot see maxmemory-policy")
	}
	inst, c := kStart(t, "maxmemory-policy", "allkeys-lfu")
	kSeed(inst, 0, "small", "7", "emb", "x")
	kExpect(t, c, kErr("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."),
		"object", "idletime", "emb")
	if _, ok := kDo(t, c, "object", "freq", "emb").(int64); !ok {
		t.Error("OBJECT FREQ under allkeys-lfu did not return an integer")
	}
	set := func(name, kValue string) {
		t.Helper()
		if err := inst.Srv.Config.Set([][2]string{{name, kValue}}); err != nil {
			t.Fatalf("config set %s %s: %v", name, kValue, err)
		}
	}
	set("maxmemory-policy", "volatile-lfu")
	if _, ok := kDo(t, c, "object", "freq", "emb").(int64); !ok {
		t.Error("OBJECT FREQ under volatile-lfu did not return an integer")
	}
	// With a memory limit and an LRU/LFU policy, integers are not shared.
	set("maxmemory", "100mb")
	kExpect(t, c, 1, "object", "refcount", "small")
	set("maxmemory-policy", "noeviction")
	kExpect(t, c, 2147483647, "object", "refcount", "small")
	set("maxmemory-policy", "allkeys-lru")
	kExpect(t, c, 1, "object", "refcount", "small")
}

func TestCommandTable(t *testing.T) {
	t.Parallel()
	tab := command.NewTable()
	commands.Register(tab)
	cases := []struct {
		name                    string
		arity                   int
		flags                   command.Flags
		first, last, step, nkey int
		args                    []string
	}{
		{"del", -2, command.Write, 1, -1, 1, 3, []string{"del", "a", "b", "c"}},
		{"copy", -3, command.Write | command.DenyOOM, 1, 2, 1, 2, []string{"copy", "a", "b", "db", "1", "replace"}},
		{"move", 3, command.Write | command.Fast, 1, 1, 1, 1, []string{"move", "a", "3"}},
		{"rename", 3, command.Write, 1, 2, 1, 2, []string{"rename", "a", "b"}},
		{"keys", 2, command.ReadOnly | command.AllShards, 0, 0, 0, 0, []string{"keys", "*"}},
		{"scan", -2, command.ReadOnly | command.AllShards, 0, 0, 0, 0, []string{"scan", "0"}},
		{"swapdb", 3, command.Write | command.Fast | command.AllShards, 0, 0, 0, 0, []string{"swapdb", "0", "1"}},
		{"flushall", -1, command.Write | command.AllShards, 0, 0, 0, 0, []string{"flushall"}},
		{"dbsize", 1, command.ReadOnly | command.Fast | command.AllShards, 0, 0, 0, 0, []string{"dbsize"}},
		{"randomkey", 1, command.ReadOnly | command.AllShards, 0, 0, 0, 0, []string{"randomkey"}},
		{"expire", -3, command.Write | command.Fast, 1, 1, 1, 1, []string{"expire", "k", "1", "nx"}},
		{"touch", -2, command.ReadOnly | command.Fast, 1, -1, 1, 2, []string{"touch", "a", "b"}},
	}
	for _, tc := range cases {
		cmd := tab.Lookup([]byte(tc.name))
		if cmd == nil {
			t.Errorf("%s not registered", tc.name)
			continue
		}
		if cmd.Arity != tc.arity || cmd.Flags != tc.flags || cmd.FirstKey != tc.first || cmd.LastKey != tc.last || cmd.Step != tc.step {
			t.Errorf("%s: arity %d flags %v keys %d,%d,%d", tc.name, cmd.Arity, cmd.Flags.Names(), cmd.FirstKey, cmd.LastKey, cmd.Step)
		}
		args := make([][]byte, len(tc.args))
		for i, a := range tc.args {
			args[i] = []byte(a)
		}
		if got := cmd.KeyIndexes(nil, args); len(got) != tc.nkey {
			t.Errorf("%s: key indexes %v", tc.name, got)
		}
	}
	obj := tab.Lookup([]byte("OBJECT"))
	enc := obj.Sub([]byte("encoding"))
	if enc == nil || enc.FirstKey != 2 || enc.Arity != 3 {
		t.Fatalf("object|encoding: %+v", enc)
	}
	if got := enc.KeyIndexes(nil, [][]byte{[]byte("object"), []byte("encoding"), []byte("k")}); !slices.Equal(got, []int{2}) {
		t.Errorf("object|encoding keys %v", got)
	}
	for _, name := range []string{"keys", "swapdb", "flushall", "flushdb"} {
		if tab.Lookup([]byte(name)).ACL&command.CatDangerous == 0 {
			t.Errorf("%s is not @dangerous", name)
		}
	}
}

// TestKeyspaceHitsMisses checks which commands count as reads for INFO's
// keyspace_hits/keyspace_misses: Redis counts read lookups only.
func TestKeyspaceHitsMisses(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	kSeed(inst, 0, "a", "1", "b", "2")
	stats := func() (int64, int64) {
		s := inst.Srv.Store
		s.LockAll()
		defer s.UnlockAll()
		return s.HitsMisses()
	}
	cases := []struct {
		args         []any
		hits, misses int64
	}{
		{[]any{"exists", "a", "nope", "a"}, 2, 1},
		{[]any{"type", "a"}, 1, 0},
		{[]any{"ttl", "nope"}, 0, 1},
		{[]any{"pexpiretime", "a"}, 1, 0},
		{[]any{"touch", "a", "nope"}, 1, 1},
		{[]any{"object", "encoding", "a"}, 1, 0},
		{[]any{"copy", "a", "c"}, 1, 0},
		{[]any{"copy", "nope", "c"}, 0, 1},
		{[]any{"keys", "*"}, 0, 0},
		{[]any{"expire", "a", 100}, 0, 0},
		{[]any{"persist", "a"}, 0, 0},
		{[]any{"rename", "c", "d"}, 0, 0},
		{[]any{"del", "d", "nope"}, 0, 0},
		{[]any{"move", "b", 1}, 0, 0},
	}
	for _, tc := range cases {
		h0, m0 := stats()
		kDo(t, c, tc.args...)
		h1, m1 := stats()
		if h1-h0 != tc.hits || m1-m0 != tc.misses {
			t.Errorf("%v: %d hits, %d misses; want %d, %d", tc.args, h1-h0, m1-m0, tc.hits, tc.misses)
		}
	}
}
