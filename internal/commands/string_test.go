package commands_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/testutil"
)

var bgCtx = context.Background()

// strServer starts a server and returns it with a RESP2 client.
func strServer(t *testing.T) (*testutil.Instance, *redis.Client) {
	t.Helper()
	inst := testutil.Start(t)
	return inst, inst.Client(t)
}

// do runs a command and fails the test on any error other than redis.Nil
// (returned as a nil value).
func sDo(t *testing.T, rdb *redis.Client, args ...any) any {
	t.Helper()
	v, err := rdb.Do(bgCtx, args...).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		t.Fatalf("%v: unexpected error %v", args, err)
	}
	return v
}

// want runs a command and compares its reply with exp (nil for a null).
func sWant(t *testing.T, rdb *redis.Client, exp any, args ...any) {
	t.Helper()
	got := sDo(t, rdb, args...)
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("%v: got %.200q, want %.200q", args, fmt.Sprintf("%#v", got), fmt.Sprintf("%#v", exp))
	}
}

// wantErr runs a command and checks it fails with exactly msg.
func sWantErr(t *testing.T, rdb *redis.Client, msg string, args ...any) {
	t.Helper()
	_, err := rdb.Do(bgCtx, args...).Result()
	if err == nil || errors.Is(err, redis.Nil) {
		t.Fatalf("%v: got %v, want error %q", args, err, msg)
	}
	if err.Error() != msg {
		t.Fatalf("%v: got error %q, want %q", args, err.Error(), msg)
	}
}

const (
	sErrSyntax    = "ERR syntax error"
	sErrNotInt    = "ERR value is not an integer or out of range"
	sErrNotFloat  = "ERR value is not a valid float"
	sErrWrongType = "WRONGTYPE Operation against a key holding the wrong kind of value"
	sErrOverflow  = "ERR increment or decrement would overflow"
	sErrNaN       = "ERR increment would produce NaN or Infinity"
)

// putNonString makes key hold a value that is not a string: through a
// collection command when the server has one, otherwise by storing a value
// of another type directly in the keyspace.
func putNonString(t *testing.T, inst *testutil.Instance, rdb *redis.Client, key string) {
	t.Helper()
	for _, args := range [][]any{{"RPUSH", key, "x"}, {"SADD", key, "x"}, {"HSET", key, "f", "v"}, {"ZADD", key, "1", "x"}} {
		if err := rdb.Do(bgCtx, args...).Err(); err == nil {
			return
		} else if !strings.HasPrefix(err.Error(), "ERR unknown command") {
			t.Fatalf("%v: %v", args, err)
		}
	}
	st := inst.Srv.Store
	sh := keyspace.ShardOf([]byte(key))
	st.LockShard(sh)
	st.DB(0).SetObject([]byte(key), keyspace.TypeList, &struct{ x int }{}, 0)
	st.UnlockShard(sh)
}

// encoding returns OBJECT ENCODING of key, skipping the test if the server
// does not have OBJECT yet.
func sEncoding(t *testing.T, rdb *redis.Client, key string) string {
	t.Helper()
	v, err := rdb.Do(bgCtx, "OBJECT", "ENCODING", key).Result()
	if err != nil && strings.HasPrefix(err.Error(), "ERR unknown command") {
		t.Skip("OBJECT is not implemented yet")
	}
	if errors.Is(err, redis.Nil) {
		return ""
	}
	if err != nil {
		t.Fatalf("OBJECT ENCODING %s: %v", key, err)
	}
	return v.(string)
}

func TestGetSetBasic(t *testing.T) {
	_, rdb := strServer(t)
	sWant(t, rdb, nil, "GET", "k")
	sWant(t, rdb, "OK", "SET", "k", "v")
	sWant(t, rdb, "v", "GET", "k")
	sWant(t, rdb, "OK", "set", "k", "")
	sWant(t, rdb, "", "GET", "k")
	sWant(t, rdb, "OK", "SET", "n", "12345")
	sWant(t, rdb, "12345", "GET", "n")
	sWant(t, rdb, "OK", "SET", "n", "-9223372036854775808")
	sWant(t, rdb, "-9223372036854775808", "GET", "n")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'get' command", "GET")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'get' command", "GET", "a", "b")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'set' command", "SET", "k")
}

func TestSetConditions(t *testing.T) {
	_, rdb := strServer(t)
	sWant(t, rdb, nil, "SET", "k", "v", "XX")
	sWant(t, rdb, int64(0), "EXISTS", "k")
	sWant(t, rdb, "OK", "SET", "k", "v1", "NX")
	sWant(t, rdb, nil, "SET", "k", "v2", "NX")
	sWant(t, rdb, "v1", "GET", "k")
	sWant(t, rdb, "OK", "SET", "k", "v3", "xx")
	sWant(t, rdb, "v3", "GET", "k")
	sWant(t, rdb, nil, "SET", "k", "v4", "nx", "NX", "px", "100000") // NX NX is accepted
	// GET returns the old value whatever the condition decides.
	sWant(t, rdb, "v3", "SET", "k", "v5", "NX", "GET")
	sWant(t, rdb, "v3", "GET", "k")
	sWant(t, rdb, nil, "SET", "new", "x", "NX", "GET")
	sWant(t, rdb, "x", "GET", "new")
	sWant(t, rdb, nil, "SET", "absent", "x", "XX", "GET")
	sWant(t, rdb, int64(0), "EXISTS", "absent")
	sWant(t, rdb, "x", "SET", "new", "y", "XX", "GET", "GET")
	sWant(t, rdb, "y", "GET", "new")
}

func TestSetSyntaxErrors(t *testing.T) {
	_, rdb := strServer(t)
	for _, args := range [][]any{
		{"SET", "k", "v", "NX", "XX"},
		{"SET", "k", "v", "XX", "NX"},
		{"SET", "k", "v", "EX", "10", "PX", "100"},
		{"SET", "k", "v", "PX", "10", "EX", "100"},
		{"SET", "k", "v", "EX", "10", "EXAT", "100"},
		{"SET", "k", "v", "PXAT", "10", "EXAT", "100"},
		{"SET", "k", "v", "EX", "10", "KEEPTTL"},
		{"SET", "k", "v", "KEEPTTL", "EX", "10"},
		{"SET", "k", "v", "KEEPTTL", "PXAT", "10"},
		{"SET", "k", "v", "EX"},
		{"SET", "k", "v", "PX"},
		{"SET", "k", "v", "EXAT"},
		{"SET", "k", "v", "PXAT"},
		{"SET", "k", "v", "PERSIST"},
		{"SET", "k", "v", "foo"},
		{"SET", "k", "v", "NXX"},
		{"SET", "k", "v", "GETT"},
		{"SET", "k", "v", "EX", "10", "extra"},
		{"SET", "k", "v", "IFEQ"},
		{"SET", "k", "v", "IFEQ", "a", "NX"},
		{"SET", "k", "v", "XX", "IFEQ", "a"},
		{"SET", "k", "v", "IFEQ", "a", "IFNE", "b"},
		{"SET", "k", "v", "IFEQ", "a", "IFEQ", "a"},
		{"SET", "k", "v", "IFDEQ", "0123456789abcdef", "XX"},
		{"SET", "k", "v", "IFX", "a"},
	} {
		sWantErr(t, rdb, sErrSyntax, args...)
	}
	sWant(t, rdb, int64(0), "EXISTS", "k")
	// Repeating a compatible option is fine, as in Redis.
	sWant(t, rdb, "OK", "SET", "k", "v", "EX", "10", "EX", "20")
	sWant(t, rdb, "OK", "SET", "k", "v", "XX", "XX", "KEEPTTL", "KEEPTTL")
}

func TestSetInvalidExpire(t *testing.T) {
	_, rdb := strServer(t)
	sWant(t, rdb, "OK", "SET", "k", "old")
	inv := "ERR invalid expire time in 'set' command"
	for _, c := range []struct {
		msg  string
		args []any
	}{
		{sErrNotInt, []any{"EX", "abc"}},
		{sErrNotInt, []any{"EX", "1.5"}},
		{sErrNotInt, []any{"PX", " 1"}},
		{sErrNotInt, []any{"EX", "99999999999999999999"}},
		{inv, []any{"EX", "0"}},
		{inv, []any{"EX", "-1"}},
		{inv, []any{"PX", "0"}},
		{inv, []any{"EXAT", "0"}},
		{inv, []any{"PXAT", "-5"}},
		{inv, []any{"EX", "9223372036854776"}},   // seconds overflow in ms
		{inv, []any{"EXAT", "9223372036854776"}}, // same for the absolute form
		{inv, []any{"EX", "9223372036854775"}},   // ms fit but now+ms overflows
		{inv, []any{"PX", "9223372036854775807"}},
	} {
		args := append([]any{"SET", "k", "new"}, c.args...)
		sWantErr(t, rdb, c.msg, args...)
	}
	sWant(t, rdb, "old", "GET", "k")
	sWantErr(t, rdb, "ERR invalid expire time in 'setex' command", "SETEX", "k", "0", "v")
	sWantErr(t, rdb, "ERR invalid expire time in 'psetex' command", "PSETEX", "k", "-3", "v")
	sWantErr(t, rdb, sErrNotInt, "SETEX", "k", "x", "v")
	sWantErr(t, rdb, "ERR invalid expire time in 'getex' command", "GETEX", "k", "EX", "0")
	sWant(t, rdb, "old", "GET", "k")
	// The largest values that do not overflow are accepted.
	sWant(t, rdb, "OK", "SET", "k", "v", "PXAT", "9223372036854775807")
	sWant(t, rdb, "OK", "SET", "k", "v", "EXAT", "9223372036854775")
}

func TestSetExpiry(t *testing.T) {
	_, rdb := strServer(t)
	ms := func(key string) int64 {
		t.Helper()
		return sDo(t, rdb, "PTTL", key).(int64)
	}
	sWant(t, rdb, "OK", "SET", "k", "v", "EX", "100")
	if v := ms("k"); v <= 99000 || v > 100000 {
		t.Fatalf("PTTL after EX 100 = %d", v)
	}
	sWant(t, rdb, "OK", "SET", "k", "v", "PX", "5000")
	if v := ms("k"); v <= 4000 || v > 5000 {
		t.Fatalf("PTTL after PX 5000 = %d", v)
	}
	at := time.Now().Add(time.Hour)
	sWant(t, rdb, "OK", "SET", "k", "v", "EXAT", strconv.FormatInt(at.Unix(), 10))
	if v := sDo(t, rdb, "EXPIRETIME", "k").(int64); v != at.Unix() {
		t.Fatalf("EXPIRETIME after EXAT = %d, want %d", v, at.Unix())
	}
	sWant(t, rdb, "OK", "SET", "k", "v", "PXAT", strconv.FormatInt(at.UnixMilli(), 10))
	if v := sDo(t, rdb, "PEXPIRETIME", "k").(int64); v != at.UnixMilli() {
		t.Fatalf("PEXPIRETIME after PXAT = %d, want %d", v, at.UnixMilli())
	}
	// KEEPTTL keeps it; a plain SET, GETSET and MSET clear it.
	sWant(t, rdb, "OK", "SET", "k", "v2", "KEEPTTL")
	if v := sDo(t, rdb, "PEXPIRETIME", "k").(int64); v != at.UnixMilli() {
		t.Fatalf("PEXPIRETIME after KEEPTTL = %d", v)
	}
	sWant(t, rdb, "OK", "SET", "k", "v3")
	sWant(t, rdb, int64(-1), "TTL", "k")
	sWant(t, rdb, "OK", "SET", "k", "v", "EX", "100")
	sWant(t, rdb, "v", "GETSET", "k", "w")
	sWant(t, rdb, int64(-1), "TTL", "k")
	sWant(t, rdb, "OK", "SET", "k", "v", "EX", "100")
	sWant(t, rdb, "OK", "MSET", "k", "x")
	sWant(t, rdb, int64(-1), "TTL", "k")
	// INCR, APPEND, SETRANGE and INCRBYFLOAT keep it.
	sWant(t, rdb, "OK", "SET", "k", "1", "EX", "100")
	sDo(t, rdb, "INCR", "k")
	sDo(t, rdb, "INCRBYFLOAT", "k", "1.5")
	sDo(t, rdb, "APPEND", "k", "0")
	sDo(t, rdb, "SETRANGE", "k", "0", "9")
	if v := ms("k"); v <= 0 {
		t.Fatalf("TTL lost: PTTL = %d", v)
	}
	sWant(t, rdb, "9.50", "GET", "k")
	// SETEX and PSETEX.
	sWant(t, rdb, "OK", "SETEX", "s", "100", "v")
	if v := ms("s"); v <= 99000 {
		t.Fatalf("PTTL after SETEX = %d", v)
	}
	sWant(t, rdb, "OK", "PSETEX", "s", "100000", "v")
	if v := ms("s"); v <= 99000 {
		t.Fatalf("PTTL after PSETEX = %d", v)
	}
}

func TestSetExpiresForReal(t *testing.T) {
	_, rdb := strServer(t)
	sWant(t, rdb, "OK", "SET", "px", "v", "PX", "30")
	sWant(t, rdb, "OK", "PSETEX", "ps", "30", "v")
	sWant(t, rdb, "OK", "SET", "pxat", "v", "PXAT", strconv.FormatInt(time.Now().Add(30*time.Millisecond).UnixMilli(), 10))
	sWant(t, rdb, "OK", "SET", "keep", "v", "PX", "30")
	sWant(t, rdb, "OK", "SET", "keep", "w", "KEEPTTL")
	sWant(t, rdb, "OK", "SET", "getex", "v")
	sWant(t, rdb, "v", "GETEX", "getex", "PX", "30")
	for _, k := range []string{"px", "ps", "pxat", "keep", "getex"} {
		testutil.WaitFor(t, 5*time.Second, k+" to expire", func() bool {
			return sDo(t, rdb, "GET", k) == nil
		})
	}
}

func TestSetPastAbsoluteExpiry(t *testing.T) {
	_, rdb := strServer(t)
	sWant(t, rdb, "OK", "SET", "k", "old")
	// An EXAT/PXAT in the past: Redis sets the key and it is expired at once.
	sWant(t, rdb, "OK", "SET", "k", "v", "EXAT", "1")
	sWant(t, rdb, nil, "GET", "k")
	sWant(t, rdb, int64(0), "EXISTS", "k")
	sWant(t, rdb, "OK", "SET", "k", "v", "PXAT", "1000")
	sWant(t, rdb, int64(0), "EXISTS", "k")
	sWant(t, rdb, nil, "SET", "k", "v", "PXAT", "1000", "GET")
	sWant(t, rdb, int64(0), "EXISTS", "k")
}

func TestSetGetWrongType(t *testing.T) {
	inst, rdb := strServer(t)
	putNonString(t, inst, rdb, "coll")
	sWantErr(t, rdb, sErrWrongType, "GET", "coll")
	// SET ... GET on a non-string fails and sets nothing.
	sWantErr(t, rdb, sErrWrongType, "SET", "coll", "v", "GET")
	sWantErr(t, rdb, sErrWrongType, "SET", "coll", "v", "NX", "GET")
	sWantErr(t, rdb, sErrWrongType, "SET", "coll", "v", "XX", "GET")
	sWantErr(t, rdb, sErrWrongType, "GET", "coll")
	// NX refuses, plain SET and XX overwrite whatever the type.
	sWant(t, rdb, nil, "SET", "coll", "v", "NX")
	sWant(t, rdb, "OK", "SET", "coll", "v", "XX")
	sWant(t, rdb, "v", "GET", "coll")
	putNonString(t, inst, rdb, "coll2")
	sWant(t, rdb, "OK", "SET", "coll2", "v")
	sWant(t, rdb, "v", "GET", "coll2")
	// The invalid expire error comes before the type check.
	putNonString(t, inst, rdb, "coll3")
	sWantErr(t, rdb, "ERR invalid expire time in 'set' command", "SET", "coll3", "v", "EX", "0", "GET")
}

func TestSetnxSetexPsetex(t *testing.T) {
	_, rdb := strServer(t)
	sWant(t, rdb, int64(1), "SETNX", "k", "a")
	sWant(t, rdb, int64(0), "SETNX", "k", "b")
	sWant(t, rdb, "a", "GET", "k")
	sWant(t, rdb, "OK", "SETEX", "k", "10", "c")
	sWant(t, rdb, "c", "GET", "k")
	sWant(t, rdb, "OK", "PSETEX", "k", "10000", "d")
	sWant(t, rdb, "d", "GET", "k")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'setnx' command", "SETNX", "k")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'setex' command", "SETEX", "k", "10")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'psetex' command", "PSETEX", "k", "10", "v", "x")
}

func TestGetex(t *testing.T) {
	inst, rdb := strServer(t)
	sWant(t, rdb, nil, "GETEX", "missing", "EX", "10")
	sWant(t, rdb, "OK", "SET", "k", "v")
	sWant(t, rdb, "v", "GETEX", "k")
	sWant(t, rdb, int64(-1), "TTL", "k")
	sWant(t, rdb, "v", "GETEX", "k", "EX", "100")
	if v := sDo(t, rdb, "TTL", "k").(int64); v != 100 {
		t.Fatalf("TTL = %d", v)
	}
	sWant(t, rdb, "v", "GETEX", "k", "PX", "200000")
	if v := sDo(t, rdb, "TTL", "k").(int64); v != 200 {
		t.Fatalf("TTL = %d", v)
	}
	at := time.Now().Add(time.Hour).Unix()
	sWant(t, rdb, "v", "GETEX", "k", "EXAT", strconv.FormatInt(at, 10))
	sWant(t, rdb, at, "EXPIRETIME", "k")
	sWant(t, rdb, "v", "GETEX", "k", "PXAT", strconv.FormatInt(at*1000+5, 10))
	sWant(t, rdb, at*1000+5, "PEXPIRETIME", "k")
	sWant(t, rdb, "v", "GETEX", "k", "PERSIST")
	sWant(t, rdb, int64(-1), "TTL", "k")
	sWant(t, rdb, "v", "GETEX", "k", "persist", "PERSIST")
	// An absolute time in the past deletes the key after replying.
	sWant(t, rdb, "v", "GETEX", "k", "EXAT", "1")
	sWant(t, rdb, int64(0), "EXISTS", "k")
	sWant(t, rdb, "OK", "SET", "k", "v")
	sWant(t, rdb, "v", "GETEX", "k", "PXAT", "1")
	sWant(t, rdb, int64(0), "EXISTS", "k")
	sWant(t, rdb, "OK", "SET", "k", "v")
	for _, args := range [][]any{
		{"GETEX", "k", "EX", "10", "PX", "10"},
		{"GETEX", "k", "PERSIST", "EX", "10"},
		{"GETEX", "k", "EX", "10", "PERSIST"},
		{"GETEX", "k", "KEEPTTL"},
		{"GETEX", "k", "NX"},
		{"GETEX", "k", "GET"},
		{"GETEX", "k", "EX"},
		{"GETEX", "k", "foo"},
	} {
		sWantErr(t, rdb, sErrSyntax, args...)
	}
	sWantErr(t, rdb, sErrNotInt, "GETEX", "k", "EX", "ten")
	sWantErr(t, rdb, "ERR invalid expire time in 'getex' command", "GETEX", "k", "PXAT", "0")
	sWant(t, rdb, int64(-1), "TTL", "k")
	putNonString(t, inst, rdb, "coll")
	sWantErr(t, rdb, sErrWrongType, "GETEX", "coll")
	sWantErr(t, rdb, sErrWrongType, "GETEX", "coll", "EX", "0") // type before expire
	// Options are parsed before the key is looked up.
	sWantErr(t, rdb, sErrSyntax, "GETEX", "missing", "foo")
}

func TestGetdelGetset(t *testing.T) {
	inst, rdb := strServer(t)
	sWant(t, rdb, nil, "GETDEL", "k")
	sWant(t, rdb, "OK", "SET", "k", "v")
	sWant(t, rdb, "v", "GETDEL", "k")
	sWant(t, rdb, int64(0), "EXISTS", "k")
	sWant(t, rdb, nil, "GETSET", "k", "1")
	sWant(t, rdb, "1", "GETSET", "k", "2")
	sWant(t, rdb, "2", "GET", "k")
	putNonString(t, inst, rdb, "coll")
	sWantErr(t, rdb, sErrWrongType, "GETDEL", "coll")
	sWantErr(t, rdb, sErrWrongType, "GETSET", "coll", "v")
	sWant(t, rdb, int64(1), "EXISTS", "coll")
	sWantErr(t, rdb, sErrWrongType, "GET", "coll")
}

func TestMgetMsetMsetnx(t *testing.T) {
	inst, rdb := strServer(t)
	sWant(t, rdb, "OK", "MSET", "a", "1", "b", "two", "a", "3")
	sWant(t, rdb, []any{"3", "two", nil}, "MGET", "a", "b", "c")
	putNonString(t, inst, rdb, "coll")
	sWant(t, rdb, []any{nil, "3"}, "MGET", "coll", "a")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'mset' command", "MSET", "a", "1", "b")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'mset' command", "MSET", "a")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'msetnx' command", "MSETNX", "x", "1", "y")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'mget' command", "MGET")
	sWant(t, rdb, int64(0), "MSETNX", "x", "1", "a", "2")
	sWant(t, rdb, []any{nil, "3"}, "MGET", "x", "a")
	sWant(t, rdb, int64(1), "MSETNX", "x", "1", "y", "2")
	sWant(t, rdb, []any{"1", "2"}, "MGET", "x", "y")
	sWant(t, rdb, int64(0), "MSETNX", "coll", "1")
	// A key repeated in MSETNX is set once, the last value winning.
	sWant(t, rdb, int64(1), "MSETNX", "z", "1", "z", "2")
	sWant(t, rdb, "2", "GET", "z")
}

func TestAppendStrlen(t *testing.T) {
	inst, rdb := strServer(t)
	sWant(t, rdb, int64(0), "STRLEN", "k")
	sWant(t, rdb, int64(5), "APPEND", "k", "hello")
	sWant(t, rdb, int64(11), "APPEND", "k", " world")
	sWant(t, rdb, "hello world", "GET", "k")
	sWant(t, rdb, int64(11), "STRLEN", "k")
	sWant(t, rdb, int64(11), "APPEND", "k", "")
	sWant(t, rdb, "OK", "SET", "n", "-123")
	sWant(t, rdb, int64(4), "STRLEN", "n")
	sWant(t, rdb, int64(5), "APPEND", "n", "4")
	sWant(t, rdb, "-1234", "GET", "n")
	sWant(t, rdb, int64(-1233), "INCR", "n")
	putNonString(t, inst, rdb, "coll")
	sWantErr(t, rdb, sErrWrongType, "APPEND", "coll", "x")
	sWantErr(t, rdb, sErrWrongType, "STRLEN", "coll")
}

func TestGetrange(t *testing.T) {
	inst, rdb := strServer(t)
	sWant(t, rdb, "", "GETRANGE", "k", "0", "-1")
	sWant(t, rdb, "OK", "SET", "k", "Hello World")
	for _, c := range []struct {
		start, end string
		want       string
	}{
		{"0", "4", "Hello"}, {"-5", "-1", "World"}, {"0", "-1", "Hello World"},
		{"0", "100", "Hello World"}, {"-100", "100", "Hello World"}, {"-100", "-100", "H"},
		{"5", "3", ""}, {"-1", "-5", ""}, {"11", "20", ""}, {"10", "10", "d"},
		{"3", "-100", ""}, {"-1", "-1", "d"}, {"0", "0", "H"},
		{"-9223372036854775808", "9223372036854775807", "Hello World"},
	} {
		sWant(t, rdb, c.want, "GETRANGE", "k", c.start, c.end)
		sWant(t, rdb, c.want, "SUBSTR", "k", c.start, c.end)
	}
	sWant(t, rdb, "OK", "SET", "n", "1234567")
	sWant(t, rdb, "234", "GETRANGE", "n", "1", "3")
	sWant(t, rdb, "67", "GETRANGE", "n", "-2", "-1")
	sWant(t, rdb, "OK", "SET", "e", "")
	sWant(t, rdb, "", "GETRANGE", "e", "0", "-1")
	sWantErr(t, rdb, sErrNotInt, "GETRANGE", "k", "a", "1")
	sWantErr(t, rdb, sErrNotInt, "GETRANGE", "k", "0", "1.0")
	sWantErr(t, rdb, sErrNotInt, "GETRANGE", "missing", "x", "1") // numbers first
	putNonString(t, inst, rdb, "coll")
	sWantErr(t, rdb, sErrWrongType, "GETRANGE", "coll", "0", "1")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'substr' command", "SUBSTR", "k", "0")
}

func TestSetrange(t *testing.T) {
	inst, rdb := strServer(t)
	sWant(t, rdb, int64(0), "SETRANGE", "k", "5", "")
	sWant(t, rdb, int64(0), "EXISTS", "k")
	sWant(t, rdb, int64(7), "SETRANGE", "k", "5", "hi")
	sWant(t, rdb, "\x00\x00\x00\x00\x00hi", "GET", "k")
	sWant(t, rdb, int64(7), "SETRANGE", "k", "0", "")
	sWant(t, rdb, int64(7), "SETRANGE", "k", "0", "ab")
	sWant(t, rdb, "ab\x00\x00\x00hi", "GET", "k")
	sWant(t, rdb, int64(12), "SETRANGE", "k", "2", "0123456789")
	sWant(t, rdb, "ab0123456789", "GET", "k")
	sWant(t, rdb, "OK", "SET", "n", "100")
	sWant(t, rdb, int64(3), "SETRANGE", "n", "1", "9")
	sWant(t, rdb, "190", "GET", "n")
	sWant(t, rdb, int64(191), "INCR", "n")
	sWantErr(t, rdb, "ERR offset is out of range", "SETRANGE", "k", "-1", "x")
	sWantErr(t, rdb, sErrNotInt, "SETRANGE", "k", "x", "x")
	tooLong := "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	sWantErr(t, rdb, tooLong, "SETRANGE", "k", "536870912", "x")
	sWantErr(t, rdb, tooLong, "SETRANGE", "k", "536870911", "xy")
	sWantErr(t, rdb, tooLong, "SETRANGE", "new", "536870912", "x")
	sWantErr(t, rdb, tooLong, "SETRANGE", "k", "9223372036854775807", "x")
	sWant(t, rdb, int64(0), "EXISTS", "new")
	// An empty value on a missing key is checked before the size.
	sWant(t, rdb, int64(0), "SETRANGE", "new", "536870912", "")
	putNonString(t, inst, rdb, "coll")
	sWantErr(t, rdb, sErrWrongType, "SETRANGE", "coll", "0", "x")
	sWantErr(t, rdb, sErrWrongType, "SETRANGE", "coll", "0", "")
}

func TestIncrDecr(t *testing.T) {
	inst, rdb := strServer(t)
	sWant(t, rdb, int64(1), "INCR", "c")
	sWant(t, rdb, int64(2), "INCR", "c")
	sWant(t, rdb, int64(1), "DECR", "c")
	sWant(t, rdb, int64(11), "INCRBY", "c", "10")
	sWant(t, rdb, int64(6), "DECRBY", "c", "5")
	sWant(t, rdb, int64(-4), "DECRBY", "c", "10")
	sWant(t, rdb, int64(-1), "DECR", "new")
	sWant(t, rdb, int64(-5), "INCRBY", "new2", "-5")
	sWant(t, rdb, "OK", "SET", "c", "9223372036854775806")
	sWant(t, rdb, int64(9223372036854775807), "INCR", "c")
	sWantErr(t, rdb, sErrOverflow, "INCR", "c")
	sWantErr(t, rdb, sErrOverflow, "INCRBY", "c", "1")
	sWant(t, rdb, "9223372036854775807", "GET", "c")
	sWant(t, rdb, "OK", "SET", "c", "-9223372036854775807")
	sWant(t, rdb, int64(-9223372036854775808), "DECR", "c")
	sWantErr(t, rdb, sErrOverflow, "DECR", "c")
	sWantErr(t, rdb, sErrOverflow, "DECRBY", "c", "1")
	sWant(t, rdb, int64(-1), "INCRBY", "c", "9223372036854775807")
	sWantErr(t, rdb, "ERR decrement would overflow", "DECRBY", "c", "-9223372036854775808")
	sWant(t, rdb, int64(-9223372036854775807), "INCRBY", "c", "-9223372036854775806")
	sWantErr(t, rdb, sErrNotInt, "INCRBY", "c", "abc")
	sWantErr(t, rdb, sErrNotInt, "INCRBY", "c", "1.5")
	sWantErr(t, rdb, sErrNotInt, "INCRBY", "c", "9223372036854775808")
	sWantErr(t, rdb, sErrNotInt, "DECRBY", "c", "")
	for _, bad := range []string{"abc", " 1", "1 ", "01", "+1", "1.0", "", "12345678901234567890", "-0"} {
		sWant(t, rdb, "OK", "SET", "s", bad)
		sWantErr(t, rdb, sErrNotInt, "INCR", "s")
		sWant(t, rdb, bad, "GET", "s")
	}
	// A number stored as a plain string (after APPEND) still counts.
	sWant(t, rdb, "OK", "SET", "s", "1")
	sDo(t, rdb, "APPEND", "s", "0")
	sWant(t, rdb, int64(11), "INCR", "s")
	putNonString(t, inst, rdb, "coll")
	for _, cmd := range []string{"INCR", "DECR"} {
		sWantErr(t, rdb, sErrWrongType, cmd, "coll")
	}
	sWantErr(t, rdb, sErrWrongType, "INCRBY", "coll", "1")
	sWantErr(t, rdb, sErrWrongType, "DECRBY", "coll", "1")
	sWantErr(t, rdb, sErrNotInt, "INCRBY", "coll", "x") // the increment is parsed first
	sWantErr(t, rdb, "ERR wrong number of arguments for 'incr' command", "INCR", "a", "b")
}

func TestIncrbyfloat(t *testing.T) {
	inst, rdb := strServer(t)
	// Results checked against Redis (x86-64, long double arithmetic).
	steps := []struct{ key, incr, want string }{
		{"f", "1.5", "1.5"},
		{"f", "0.1", "1.6"},
		{"f", "-1.6", "0"},
		{"g", "10.5", "10.5"},
		{"g", "0.1", "10.6"},
		{"h", "3", "3"},
		{"h", "1e2", "103"},
		{"h", "1E2", "203"},
		{"h", ".5", "203.5"},
		{"h", "5.", "208.5"},
		{"h", "+3", "211.5"},
		{"h", "0x1p4", "227.5"},
		{"h", "0x1.8", "229"},
		{"h", "-0", "229"},
		{"i", "1.5e-7", "0.00000015"},
		{"j", "1e-20", "0"},
		{"k", "1e308", "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048"},
		{"l", "5.0e3", "5000"},
		{"m", "1.2345678901234567890123", "1.23456789012345679"},
		{"m", "-0.3", "0.93456789012345679"},
		{"n", "4.9e-4951", "0"}, // a subnormal long double is accepted
	}
	for _, s := range steps {
		sWant(t, rdb, s.want, "INCRBYFLOAT", s.key, s.incr)
	}
	sWant(t, rdb, "10.6", "GET", "g")
	for _, bad := range []string{"abc", " 1", "1 ", "", "nan", "NaN", "1e", "0x", ".", "1e5000", "-1e5000", "1e-5000", "1,5", "1.5.5", "0x1p", "infx"} {
		sWantErr(t, rdb, sErrNotFloat, "INCRBYFLOAT", "g", bad)
	}
	for _, inf := range []string{"inf", "-inf", "+INF", "Infinity", "-infinity"} {
		sWantErr(t, rdb, sErrNaN, "INCRBYFLOAT", "g", inf)
	}
	sWant(t, rdb, "OK", "SET", "big", "1.1e4932")
	sWantErr(t, rdb, sErrNaN, "INCRBYFLOAT", "big", "1e4932")
	sWant(t, rdb, "10.6", "GET", "g")
	sWant(t, rdb, "OK", "SET", "s", "abc")
	sWantErr(t, rdb, sErrNotFloat, "INCRBYFLOAT", "s", "1")
	sWant(t, rdb, "OK", "SET", "s", "inf")
	sWantErr(t, rdb, sErrNaN, "INCRBYFLOAT", "s", "1")
	sWant(t, rdb, "OK", "SET", "s", "7")
	sWant(t, rdb, "7.25", "INCRBYFLOAT", "s", "0.25")
	putNonString(t, inst, rdb, "coll")
	sWantErr(t, rdb, sErrWrongType, "INCRBYFLOAT", "coll", "1")
	sWantErr(t, rdb, sErrWrongType, "INCRBYFLOAT", "coll", "x") // type before the increment
	// Near the top of the long double range every digit is printed.
	v := sDo(t, rdb, "INCRBYFLOAT", "huge", "1.1e4932").(string)
	if len(v) != 4933 || !strings.HasPrefix(v, "1099999999999999999") {
		t.Fatalf("INCRBYFLOAT 1.1e4932 = %.30s… (%d digits)", v, len(v))
	}
}

func TestLCS(t *testing.T) {
	inst, rdb := strServer(t)
	sWant(t, rdb, "OK", "MSET", "a", "ohmytext", "b", "mynewtext")
	sWant(t, rdb, "mytext", "LCS", "a", "b")
	sWant(t, rdb, int64(6), "LCS", "a", "b", "LEN")
	sWant(t, rdb, []any{"matches", []any{
		[]any{[]any{int64(4), int64(7)}, []any{int64(5), int64(8)}},
		[]any{[]any{int64(2), int64(3)}, []any{int64(0), int64(1)}},
	}, "len", int64(6)}, "LCS", "a", "b", "IDX")
	sWant(t, rdb, []any{"matches", []any{
		[]any{[]any{int64(4), int64(7)}, []any{int64(5), int64(8)}, int64(4)},
	}, "len", int64(6)}, "LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN")
	sWant(t, rdb, []any{"matches", []any{
		[]any{[]any{int64(4), int64(7)}, []any{int64(5), int64(8)}, int64(4)},
		[]any{[]any{int64(2), int64(3)}, []any{int64(0), int64(1)}, int64(2)},
	}, "len", int64(6)}, "LCS", "a", "b", "idx", "minmatchlen", "-5", "withmatchlen")
	sWant(t, rdb, "", "LCS", "missing", "b")
	sWant(t, rdb, int64(0), "LCS", "missing", "other", "LEN")
	sWant(t, rdb, []any{"matches", []any{}, "len", int64(0)}, "LCS", "missing", "b", "IDX")
	sWant(t, rdb, "OK", "MSET", "x", "AGGTAB", "y", "GXTXAYB", "n1", "1234567", "n2", "2345")
	sWant(t, rdb, "GTAB", "LCS", "x", "y")
	sWant(t, rdb, "2345", "LCS", "n1", "n2")
	sWant(t, rdb, []any{"matches", []any{
		[]any{[]any{int64(1), int64(4)}, []any{int64(0), int64(3)}, int64(4)},
	}, "len", int64(4)}, "LCS", "n1", "n2", "IDX", "WITHMATCHLEN")
	sWantErr(t, rdb, "ERR If you want both the length and indexes, please just use IDX.", "LCS", "a", "b", "LEN", "IDX")
	sWantErr(t, rdb, sErrSyntax, "LCS", "a", "b", "foo")
	sWantErr(t, rdb, sErrSyntax, "LCS", "a", "b", "MINMATCHLEN")
	sWantErr(t, rdb, sErrNotInt, "LCS", "a", "b", "MINMATCHLEN", "x")
	putNonString(t, inst, rdb, "coll")
	sWantErr(t, rdb, "ERR The specified keys must contain string values", "LCS", "a", "coll")
	sWantErr(t, rdb, "ERR The specified keys must contain string values", "LCS", "coll", "a", "foo")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'lcs' command", "LCS", "a")

	// RESP3: IDX replies with a map.
	r := inst.Raw(t)
	if _, err := r.Do("HELLO", "3"); err != nil {
		t.Fatal(err)
	}
	if err := r.Send("LCS", "a", "b", "IDX", "MINMATCHLEN", "4"); err != nil {
		t.Fatal(err)
	}
	line, _ := r.R.ReadString('\n')
	if line != "%2\r\n" {
		t.Fatalf("RESP3 LCS IDX starts with %q, want a map of 2", line)
	}
	rest := []string{"$7\r\n", "matches\r\n", "*1\r\n", "*2\r\n", "*2\r\n", ":4\r\n", ":7\r\n", "*2\r\n", ":5\r\n", ":8\r\n", "$3\r\n", "len\r\n", ":6\r\n"}
	for _, exp := range rest {
		if got, _ := r.R.ReadString('\n'); got != exp {
			t.Fatalf("RESP3 LCS IDX: got %q, want %q", got, exp)
		}
	}
}

func TestStringEncodings(t *testing.T) {
	_, rdb := strServer(t)
	sEncoding(t, rdb, "nothing-yet") // skips if OBJECT is missing
	s44 := strings.Repeat("x", 44)
	s45 := strings.Repeat("x", 45)
	cases := []struct {
		setup [][]any
		key   string
		want  string
	}{
		{[][]any{{"SET", "k", "v"}}, "k", "embstr"},
		{[][]any{{"SET", "k", "1"}}, "k", "int"},
		{[][]any{{"SET", "k", "-9223372036854775808"}}, "k", "int"},
		{[][]any{{"SET", "k", "9223372036854775808"}}, "k", "embstr"},
		{[][]any{{"SET", "k", "12345678901234567890123"}}, "k", "embstr"},
		{[][]any{{"SET", "k", "007"}}, "k", "embstr"},
		{[][]any{{"SET", "k", "-0"}}, "k", "embstr"},
		{[][]any{{"SET", "k", s44}}, "k", "embstr"},
		{[][]any{{"SET", "k", s45}}, "k", "raw"},
		{[][]any{{"SET", "k", "1"}, {"APPEND", "k", "2"}}, "k", "raw"},
		{[][]any{{"DEL", "k"}, {"APPEND", "k", "12"}}, "k", "int"},
		{[][]any{{"DEL", "k"}, {"APPEND", "k", "ab"}}, "k", "embstr"},
		{[][]any{{"DEL", "k"}, {"APPEND", "k", "ab"}, {"APPEND", "k", "c"}}, "k", "raw"},
		{[][]any{{"DEL", "k"}, {"SETRANGE", "k", "0", "12"}}, "k", "raw"},
		{[][]any{{"SET", "k", "abc"}, {"SETRANGE", "k", "0", "x"}}, "k", "raw"},
		{[][]any{{"SET", "k", "5"}, {"SETRANGE", "k", "0", ""}}, "k", "int"},
		{[][]any{{"SET", "k", "abc"}, {"DEL", "k"}, {"INCR", "k"}}, "k", "int"},
		{[][]any{{"SET", "k", "5"}, {"APPEND", "k", "0"}, {"INCR", "k"}}, "k", "int"},
		{[][]any{{"DEL", "k"}, {"INCRBYFLOAT", "k", "2"}}, "k", "embstr"},
		{[][]any{{"DEL", "k"}, {"INCRBYFLOAT", "k", "1e50"}}, "k", "raw"},
		{[][]any{{"GETSET", "k", "10"}}, "k", "int"},
		{[][]any{{"MSET", "k", "10", "k2", "abc"}}, "k2", "embstr"},
		{[][]any{{"SETEX", "k", "100", "42"}}, "k", "int"},
		{[][]any{{"SETNX", "fresh", "42"}}, "fresh", "int"},
	}
	for _, c := range cases {
		for _, s := range c.setup {
			sDo(t, rdb, s...)
		}
		if got := sEncoding(t, rdb, c.key); got != c.want {
			t.Errorf("after %v: encoding %s, want %s", c.setup, got, c.want)
		}
	}
}

func TestBinarySafe(t *testing.T) {
	_, rdb := strServer(t)
	vals := []string{"\x00", "a\x00b", "\r\n", "line1\r\nline2", "\xff\xfe\x00\x80", strings.Repeat("\x00\r\n\xff", 100)}
	for i, v := range vals {
		key := "bin\x00\r\n" + strconv.Itoa(i)
		sWant(t, rdb, "OK", "SET", key, v)
		sWant(t, rdb, v, "GET", key)
		sWant(t, rdb, int64(len(v)), "STRLEN", key)
		sWant(t, rdb, int64(2*len(v)), "APPEND", key, v)
		sWant(t, rdb, v+v, "GET", key)
		sWant(t, rdb, v, "GETRANGE", key, "0", strconv.Itoa(len(v)-1))
	}
	sWant(t, rdb, "OK", "MSET", "\xff", "\x00", "\x00", "\xff")
	sWant(t, rdb, []any{"\x00", "\xff"}, "MGET", "\xff", "\x00")
	sWant(t, rdb, int64(3), "SETRANGE", "\xff", "2", "\r")
	sWant(t, rdb, "\x00\x00\r", "GET", "\xff")
}

func TestLargeValues(t *testing.T) {
	_, rdb := strServer(t)
	for _, size := range []int{1 << 20, 20 << 20} {
		v := make([]byte, size)
		for i := range v {
			v[i] = byte(i * 7)
		}
		key := "big" + strconv.Itoa(size)
		if err := rdb.Set(bgCtx, key, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
		got, err := rdb.Get(bgCtx, key).Bytes()
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("GET of a %d-byte value: err %v, equal %v", size, err, bytes.Equal(got, v))
		}
		sWant(t, rdb, int64(size), "STRLEN", key)
		sWant(t, rdb, string(v[size-3:]), "GETRANGE", key, "-3", "-1")
		sWant(t, rdb, int64(size+4), "APPEND", key, "tail")
		sWant(t, rdb, int64(size+4), "SETRANGE", key, "10", "MID")
		sWant(t, rdb, int64(size+10), "SETRANGE", key, strconv.Itoa(size+6), "end!")
		got, err = rdb.Get(bgCtx, key).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		exp := append(append([]byte(nil), v...), "tail\x00\x00end!"...)
		copy(exp[10:], "MID")
		if !bytes.Equal(got, exp) {
			t.Fatalf("%d-byte value after APPEND/SETRANGE differs", size)
		}
		got, err = rdb.GetDel(bgCtx, key).Bytes()
		if err != nil || !bytes.Equal(got, exp) {
			t.Fatalf("GETDEL of the %d-byte value: %v", size, err)
		}
	}
}

func TestWrongTypeEverywhere(t *testing.T) {
	inst, rdb := strServer(t)
	putNonString(t, inst, rdb, "coll")
	for _, args := range [][]any{
		{"GET", "coll"}, {"GETEX", "coll"}, {"GETDEL", "coll"}, {"GETSET", "coll", "v"},
		{"APPEND", "coll", "v"}, {"STRLEN", "coll"}, {"GETRANGE", "coll", "0", "1"},
		{"SUBSTR", "coll", "0", "1"}, {"SETRANGE", "coll", "0", "v"}, {"INCR", "coll"},
		{"DECR", "coll"}, {"INCRBY", "coll", "1"}, {"DECRBY", "coll", "1"},
		{"INCRBYFLOAT", "coll", "1"}, {"SET", "coll", "v", "GET"},
	} {
		sWantErr(t, rdb, sErrWrongType, args...)
	}
	sWant(t, rdb, int64(1), "EXISTS", "coll")
}
