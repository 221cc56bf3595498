package commands_test

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/commands"
	"github.com/corvid-db/corvid/internal/testutil"
)

// hi builds an expected array of integers.
func hi(v ...int64) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

// hStart1 starts a server and a client with a single connection, for
// tests that SELECT databases.
func hStart1(t *testing.T, directives ...string) (*testutil.Instance, *redis.Client) {
	t.Helper()
	inst := testutil.Start(t, directives...)
	return inst, inst.ClientWith(t, &redis.Options{Protocol: 2, PoolSize: 1, MaxRetries: -1})
}

// hInts runs a command replying with an array of integers.
func hInts(t testing.TB, c *redis.Client, args ...any) []int64 {
	t.Helper()
	arr, ok := kDo(t, c, args...).([]any)
	if !ok {
		t.Fatalf("%v: not an array", args)
	}
	out := make([]int64, len(arr))
	for i, x := range arr {
		n, ok := x.(int64)
		if !ok {
			t.Fatalf("%v: element %d is %#v", args, i, x)
		}
		out[i] = n
	}
	return out
}

// hExpectEnc checks OBJECT ENCODING.
func hExpectEnc(t testing.TB, c *redis.Client, key, enc string) {
	t.Helper()
	got := kDo(t, c, "object", "encoding", key)
	if got != enc {
		t.Fatalf("OBJECT ENCODING %s = %v, want %s", key, got, enc)
	}
}

func TestHashFieldExpireBasics(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, 3, "hset", "h", "a", "1", "b", "2", "c", "3")
	hExpectEnc(t, c, "h", "listpack")
	kExpect(t, c, hi(1, -2), "hexpire", "h", 100, "FIELDS", 2, "a", "zz")
	hExpectEnc(t, c, "h", "listpackex")
	kExpect(t, c, hi(100, -1, -2), "httl", "h", "FIELDS", 3, "a", "b", "zz")
	if ms := hInts(t, c, "hpttl", "h", "fields", 1, "a")[0]; ms <= 99000 || ms > 100000 {
		t.Fatalf("HPTTL = %d", ms)
	}
	now := time.Now()
	if s := hInts(t, c, "hexpiretime", "h", "FIELDS", 1, "a")[0]; s < now.Unix()+99 || s > now.Unix()+101 {
		t.Fatalf("HEXPIRETIME = %d (now %d)", s, now.Unix())
	}
	if ms := hInts(t, c, "hpexpiretime", "h", "FIELDS", 2, "a", "b"); ms[0] < now.UnixMilli()+98000 || ms[0] > now.UnixMilli()+101000 || ms[1] != -1 {
		t.Fatalf("HPEXPIRETIME = %v", ms)
	}
	// Absolute forms.
	at := now.Add(time.Hour).Unix()
	kExpect(t, c, hi(1), "hexpireat", "h", at, "FIELDS", 1, "b")
	kExpect(t, c, hi(at), "hexpiretime", "h", "FIELDS", 1, "b")
	kExpect(t, c, hi(1), "hpexpireat", "h", at*1000+500, "FIELDS", 1, "b")
	kExpect(t, c, hi(at*1000+500), "hpexpiretime", "h", "FIELDS", 1, "b")
	kExpect(t, c, hi(at+1), "hexpiretime", "h", "FIELDS", 1, "b") // rounded up
	kExpect(t, c, hi(1), "hpexpire", "h", 50000, "FIELDS", 1, "c")
	if s := hInts(t, c, "httl", "h", "FIELDS", 1, "c")[0]; s != 50 {
		t.Fatalf("HTTL after HPEXPIRE 50000 = %d", s)
	}
	// HPERSIST.
	kExpect(t, c, hi(1, -1, -2), "hpersist", "h", "FIELDS", 3, "a", "a", "zz")
	kExpect(t, c, hi(-1, -1), "httl", "h", "FIELDS", 2, "a", "a")
	// Fields keep their values; the key keeps no TTL of its own.
	kExpect(t, c, []any{"1", "2", "3"}, "hmget", "h", "a", "b", "c")
	kExpect(t, c, -1, "ttl", "h")
	// Missing keys.
	kExpect(t, c, hi(-2, -2), "hexpire", "nokey", 10, "FIELDS", 2, "a", "b")
	kExpect(t, c, hi(-2), "httl", "nokey", "FIELDS", 1, "a")
	kExpect(t, c, hi(-2), "hpexpiretime", "nokey", "FIELDS", 1, "a")
	kExpect(t, c, hi(-2), "hpersist", "nokey", "FIELDS", 1, "a")
	kExpect(t, c, 0, "exists", "nokey")
	// A plain hash answers -1 / -2 without changing encoding.
	kExpect(t, c, 1, "hset", "plain", "a", "1")
	kExpect(t, c, hi(-1, -2), "httl", "plain", "FIELDS", 2, "a", "b")
	kExpect(t, c, hi(-1, -2), "hpersist", "plain", "FIELDS", 2, "a", "b")
	hExpectEnc(t, c, "plain", "listpack")
}

func TestHashFieldExpireConditions(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	for _, big := range []bool{false, true} {
		key := "small"
		if big {
			key = "big"
		}
		kExpect(t, c, 2, "hset", key, "ttl", "x", "none", "y")
		if big {
			kDo(t, c, "hset", key, "long", string(make([]byte, 100)))
			hExpectEnc(t, c, key, "hashtable")
		}
		kExpect(t, c, hi(1), "hexpire", key, 100, "FIELDS", 1, "ttl")
		// NX: only fields without a TTL.
		kExpect(t, c, hi(0, 1, -2), "hexpire", key, 200, "NX", "FIELDS", 3, "ttl", "none", "zz")
		kExpect(t, c, hi(100, 200), "httl", key, "FIELDS", 2, "ttl", "none")
		kExpect(t, c, hi(1, -1), "hpersist", key, "FIELDS", 2, "none", "none")
		// XX: only fields with a TTL.
		kExpect(t, c, hi(1, 0), "hexpire", key, 300, "xx", "FIELDS", 2, "ttl", "none")
		// GT: a field without a TTL never expires, so nothing is greater.
		kExpect(t, c, hi(0, 0), "hexpire", key, 200, "GT", "FIELDS", 2, "ttl", "none")
		kExpect(t, c, hi(1), "hexpire", key, 400, "GT", "FIELDS", 1, "ttl")
		at := time.Now().UnixMilli() + 450_000
		kExpect(t, c, hi(1), "hpexpireat", key, at, "GT", "FIELDS", 1, "ttl")
		kExpect(t, c, hi(0), "hpexpireat", key, at, "GT", "FIELDS", 1, "ttl") // equal
		kExpect(t, c, hi(0), "hpexpireat", key, at, "LT", "FIELDS", 1, "ttl")
		// LT: any TTL is less than none.
		kExpect(t, c, hi(0, 1), "hexpire", key, 500, "LT", "FIELDS", 2, "ttl", "none")
		kExpect(t, c, hi(1), "hexpire", key, 100, "lt", "FIELDS", 1, "ttl")
		kExpect(t, c, hi(100, 500), "httl", key, "FIELDS", 2, "ttl", "none")
		// Conditions are checked before "already expired": a failed
		// condition keeps the field.
		kExpect(t, c, hi(0), "hexpire", key, 0, "NX", "FIELDS", 1, "ttl")
		kExpect(t, c, hi(2), "hexpire", key, 0, "LT", "FIELDS", 1, "ttl")
		kExpect(t, c, 0, "hexists", key, "ttl")
	}
}

func TestHashFieldExpirePastDeletes(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, 3, "hset", "h", "a", "1", "b", "2", "c", "3")
	kExpect(t, c, hi(2, -2), "hexpire", "h", 0, "FIELDS", 2, "a", "a")
	kExpect(t, c, hi(2), "hpexpireat", "h", 1, "FIELDS", 1, "b")
	kExpect(t, c, hi(2), "hexpireat", "h", time.Now().Unix()-10, "FIELDS", 1, "c")
	kExpect(t, c, 0, "exists", "h") // the last field took the key with it
	// Same for a large hash.
	kDo(t, c, "hset", "big", "a", "1", "b", string(make([]byte, 100)))
	kExpect(t, c, hi(2, 2), "hpexpire", "big", 0, "FIELDS", 2, "a", "b")
	kExpect(t, c, 0, "exists", "big")
}

func TestHashFieldExpireLazy(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, 4, "hset", "h", "a", "1", "b", "2", "c", "3", "d", "4")
	kExpect(t, c, hi(1, 1), "hpexpire", "h", 30, "FIELDS", 2, "a", "c")
	kExpect(t, c, 4, "hlen", "h")
	testutil.WaitFor(t, 5*time.Second, "fields to expire", func() bool { return kInt(t, c, "hlen", "h") == 2 })
	kExpect(t, c, []any{"b", "2", "d", "4"}, "hgetall", "h")
	kExpect(t, c, nil, "hget", "h", "a")
	kExpect(t, c, 0, "hexists", "h", "c")
	kExpect(t, c, 0, "hstrlen", "h", "c")
	kExpect(t, c, []any{"b", "d"}, "hkeys", "h")
	kExpect(t, c, hi(-2, -1), "httl", "h", "FIELDS", 2, "a", "b")
	// HINCRBY on an expired field starts from 0.
	kExpect(t, c, hi(1), "hpexpire", "h", 20, "FIELDS", 1, "b")
	testutil.WaitFor(t, 5*time.Second, "b to expire", func() bool { return kInt(t, c, "hexists", "h", "b") == 0 })
	// The last fields expiring delete the key, seen by any hash command.
	kExpect(t, c, 0, "hincrby", "h", "b", 0)
	kExpect(t, c, hi(1, 1), "hpexpire", "h", 20, "FIELDS", 2, "d", "b")
	testutil.WaitFor(t, 5*time.Second, "the key to go", func() bool {
		return reflect.DeepEqual(kDo(t, c, "hgetall", "h"), []any{})
	})
	kExpect(t, c, 0, "exists", "h")
	kExpect(t, c, "none", "type", "h")
	kExpect(t, c, 5, "hincrby", "h", "b", 5)
}

func TestHashFieldExpireActive(t *testing.T) {
	t.Parallel()
	inst, c := hStart1(t, "hash-max-listpack-entries", "4")
	st := inst.Srv.Store
	now := time.Now().UnixMilli()
	later := now + 3600_000
	kExpect(t, c, 3, "hset", "small", "a", "1", "b", "2", "keep", "3")
	kExpect(t, c, hi(1, 1), "hpexpireat", "small", later, "FIELDS", 2, "a", "b")
	kExpect(t, c, 2, "hset", "gone", "a", "1", "b", "2")
	kExpect(t, c, hi(1, 1), "hpexpireat", "gone", later+1, "FIELDS", 2, "a", "b")
	kDo(t, c, "hset", "big", "f0", "0", "f1", "1", "f2", "2", "f3", "3", "f4", "4")
	hExpectEnc(t, c, "big", "hashtable")
	kExpect(t, c, hi(1, 1, 1), "hpexpireat", "big", later+2, "FIELDS", 3, "f0", "f1", "f2")
	kExpect(t, c, 1, "hset", "never", "a", "1")
	kExpect(t, c, hi(1), "hpexpireat", "never", later+7200_000, "FIELDS", 1, "a")
	if n := st.FieldExpiryKeys(); n != 4 {
		t.Fatalf("FieldExpiryKeys = %d, want 4", n)
	}
	// Nothing is due yet.
	if n := commands.ExpireHashFields(st, now, 100); n != 0 {
		t.Fatalf("reclaimed %d fields before their time", n)
	}
	// A budget bounds the work of one call; later calls finish the job.
	got := commands.ExpireHashFields(st, later+10, 3)
	if got != 3 {
		t.Fatalf("first cycle reclaimed %d, want 3", got)
	}
	for i := 0; i < 10 && got < 7; i++ {
		got += commands.ExpireHashFields(st, later+10, 3)
	}
	if got != 7 {
		t.Fatalf("reclaimed %d fields, want 7", got)
	}
	// The clock has not reached the expiries, so only active expiry can
	// have removed these fields.
	kExpect(t, c, []any{"keep", "3"}, "hgetall", "small")
	kExpect(t, c, 0, "exists", "gone")
	kExpect(t, c, 2, "hlen", "big")
	kExpect(t, c, 1, "hlen", "never")
	if n := st.FieldExpiryKeys(); n != 1 {
		t.Fatalf("FieldExpiryKeys = %d after the cycle, want 1", n)
	}
	// Registry entries of keys deleted by other means go away by sampling.
	kExpect(t, c, 1, "del", "never")
	for i := 0; i < 10 && st.FieldExpiryKeys() > 0; i++ {
		commands.ExpireHashFields(st, now, 100)
	}
	if n := st.FieldExpiryKeys(); n != 0 {
		t.Fatalf("FieldExpiryKeys = %d after DEL, want 0", n)
	}
	// SWAPDB: the registry follows the keys to their new database.
	kExpect(t, c, 2, "hset", "sw", "a", "1", "b", "2")
	kExpect(t, c, hi(1), "hpexpireat", "sw", later, "FIELDS", 1, "a")
	kExpect(t, c, "OK", "swapdb", 0, 1)
	if n := commands.ExpireHashFields(st, later+10, 100); n != 1 {
		t.Fatalf("reclaimed %d fields after SWAPDB, want 1", n)
	}
	kExpect(t, c, "OK", "select", 1)
	kExpect(t, c, []any{"b", "2"}, "hgetall", "sw")
	kExpect(t, c, "OK", "select", 0)
	kExpect(t, c, 1, "hset", "f", "a", "1")
	kExpect(t, c, hi(1), "hexpire", "f", 1000, "FIELDS", 1, "a")
	kExpect(t, c, "OK", "flushall")
	commands.ExpireHashFields(st, now, 100)
	if n := st.FieldExpiryKeys(); n != 0 {
		t.Fatalf("FieldExpiryKeys = %d after FLUSHALL, want 0", n)
	}
}

// TestHashFieldExpireActiveConcurrent runs active expiry while clients
// write, for the race detector.
func TestHashFieldExpireActiveConcurrent(t *testing.T) {
	t.Parallel()
	inst, c := sStart(t)
	st := inst.Srv.Store
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			commands.ExpireHashFields(st, time.Now().UnixMilli(), 50)
		}
	}()
	for i := 0; i < 300; i++ {
		k := "k" + strconv.Itoa(i%20)
		kDo(t, c, "hset", k, "a", "1", "b", "2")
		kDo(t, c, "hpexpire", k, 1+i%3, "FIELDS", 1, "a")
	}
	<-done
	for i := 0; i < 20; i++ {
		testutil.WaitFor(t, 5*time.Second, "expiry", func() bool {
			return kInt(t, c, "hexists", "k"+strconv.Itoa(i), "a") == 0
		})
	}
}

func TestHashFieldExpireWritesAndTTL(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, 4, "hset", "h", "s", "1", "i", "1", "f", "1.5", "n", "1")
	kExpect(t, c, hi(1, 1, 1, 1), "hexpire", "h", 100, "FIELDS", 4, "s", "i", "f", "n")
	// HSET drops the TTL; HINCRBY, HINCRBYFLOAT and a refused HSETNX keep it.
	kExpect(t, c, 0, "hset", "h", "s", "2")
	kExpect(t, c, 3, "hincrby", "h", "i", 2)
	kExpect(t, c, "2.5", "hincrbyfloat", "h", "f", 1)
	kExpect(t, c, 0, "hsetnx", "h", "n", "2")
	kExpect(t, c, hi(-1, 100, 100, 100), "httl", "h", "FIELDS", 4, "s", "i", "f", "n")
	// Fields with TTLs come first, ordered by expiry, as in Redis.
	kExpect(t, c, hi(1), "hexpire", "h", 50, "FIELDS", 1, "n")
	kExpect(t, c, []any{"n", "i", "f", "s"}, "hkeys", "h")
	// HDEL of a field with a TTL.
	kExpect(t, c, 1, "hdel", "h", "n")
	kExpect(t, c, hi(-2), "httl", "h", "FIELDS", 1, "n")
	// Converting to a hashtable keeps the TTLs.
	kExpect(t, c, 1, "hset", "h", "long", string(make([]byte, 100)))
	hExpectEnc(t, c, "h", "hashtable")
	kExpect(t, c, hi(-1, 100, 100, -1), "httl", "h", "FIELDS", 4, "s", "i", "f", "long")
	kExpect(t, c, 0, "hset", "h", "i", "9")
	kExpect(t, c, 2, "hincrby", "h", "f2", 2)
	kExpect(t, c, hi(-1, 100), "httl", "h", "FIELDS", 2, "i", "f")
	kExpect(t, c, "OK", "hmset", "h", "f", "x")
	kExpect(t, c, hi(-1), "httl", "h", "FIELDS", 1, "f")
}

func TestHashFieldExpireKeyCommands(t *testing.T) {
	t.Parallel()
	_, c := hStart1(t)
	for _, big := range []bool{false, true} {
		kExpect(t, c, 2, "hset", "src", "a", "1", "b", "2")
		if big {
			kDo(t, c, "hset", "src", "long", string(make([]byte, 100)))
		}
		kExpect(t, c, hi(1), "hexpire", "src", 100, "FIELDS", 1, "a")
		kExpect(t, c, "OK", "rename", "src", "dst")
		kExpect(t, c, hi(100, -1), "httl", "dst", "FIELDS", 2, "a", "b")
		kExpect(t, c, 1, "copy", "dst", "cp")
		kExpect(t, c, hi(100), "httl", "cp", "FIELDS", 1, "a")
		// The copy is independent.
		kExpect(t, c, hi(1), "hpersist", "cp", "FIELDS", 1, "a")
		kExpect(t, c, hi(100), "httl", "dst", "FIELDS", 1, "a")
		kExpect(t, c, 1, "move", "dst", 1)
		kExpect(t, c, "OK", "select", 1)
		kExpect(t, c, hi(100), "httl", "dst", "FIELDS", 1, "a")
		kExpect(t, c, 1, "del", "dst")
		kExpect(t, c, "OK", "select", 0)
		kExpect(t, c, 1, "del", "cp")
		// A key TTL and field TTLs are independent.
		kExpect(t, c, 1, "hset", "k", "a", "1")
		kExpect(t, c, 1, "expire", "k", 1000)
		kExpect(t, c, hi(1), "hexpire", "k", 100, "FIELDS", 1, "a")
		kExpect(t, c, 1000, "ttl", "k")
		kExpect(t, c, 1, "hset", "k", "b", "2")
		kExpect(t, c, 1000, "ttl", "k")
		kExpect(t, c, 1, "del", "k")
	}
}

func TestHashFieldExpireReads(t *testing.T) {
	t.Parallel()
	_, c := sStart(t, "hash-max-listpack-entries", "8")
	for _, n := range []int{4, 20} {
		key := "h" + strconv.Itoa(n)
		kDo(t, c, append([]any{"hset", key}, hPairs(n)...)...)
		kExpect(t, c, hi(1), "hpexpire", key, 20, "FIELDS", 1, "f0")
		kExpect(t, c, hi(1), "hexpire", key, 100, "FIELDS", 1, "f1")
		testutil.WaitFor(t, 5*time.Second, "f0 to expire", func() bool { return kInt(t, c, "hlen", key) == int64(n-1) })
		for i := 0; i < 20; i++ {
			f := kDo(t, c, "hrandfield", key)
			if f == "f0" {
				t.Fatalf("HRANDFIELD returned an expired field")
			}
		}
		arr := kDo(t, c, "hrandfield", key, -50).([]any)
		for _, f := range arr {
			if f == "f0" {
				t.Fatalf("HRANDFIELD -50 returned an expired field")
			}
		}
		if got := len(kDo(t, c, "hrandfield", key, 100, "withvalues").([]any)); got != 2*(n-1) {
			t.Fatalf("HRANDFIELD 100 WITHVALUES returned %d elements", got)
		}
		scan := kDo(t, c, "hscan", key, 0, "count", 1000).([]any)
		if got := len(scan[1].([]any)); got != 2*(n-1) {
			t.Fatalf("HSCAN returned %d elements, want %d", got, 2*(n-1))
		}
		vals := kDo(t, c, "hvals", key).([]any)
		if len(vals) != n-1 {
			t.Fatalf("HVALS returned %d values", len(vals))
		}
	}
}

func TestHashFieldExpireErrors(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, 1, "hset", "h", "a", "1")
	kExpect(t, c, "OK", "set", "str", "x")
	wrong := kErr("WRONGTYPE Operation against a key holding the wrong kind of value")
	for _, name := range []string{"hexpire", "hpexpire", "hexpireat", "hpexpireat"} {
		kExpect(t, c, kErr("ERR wrong number of arguments for '"+name+"' command"), name, "h", 10, "FIELDS", 1)
		kExpect(t, c, wrong, name, "str", 10, "FIELDS", 1, "a")
		kExpect(t, c, wrong, name, "str", "bad", "FIELDS", 1, "a") // type first
		kExpect(t, c, kErr("ERR value is not an integer or out of range"), name, "h", "x", "FIELDS", 1, "a")
		kExpect(t, c, kErr("ERR invalid expire time, must be >= 0"), name, "h", -1, "FIELDS", 1, "a")
		kExpect(t, c, kErr("ERR invalid expire time in '"+name+"' command"), name, "h", int64(1)<<50, "FIELDS", 1, "a")
		kExpect(t, c, kErr("ERR Mandatory argument FIELDS is missing or not at the right position"), name, "h", 10, "FILDS", 1, "a")
		kExpect(t, c, kErr("ERR Mandatory argument FIELDS is missing or not at the right position"), name, "h", 10, "NX", "XX", "FIELDS", 1, "a")
		kExpect(t, c, kErr("ERR Parameter `numFields` should be greater than 0"), name, "h", 10, "FIELDS", 0, "a")
		kExpect(t, c, kErr("ERR Parameter `numFields` should be greater than 0"), name, "h", 10, "FIELDS", "x", "a")
		kExpect(t, c, kErr("ERR The `numfields` parameter must match the number of arguments"), name, "h", 10, "FIELDS", 2, "a")
		kExpect(t, c, kErr("ERR The `numfields` parameter must match the number of arguments"), name, "h", 10, "GT", "FIELDS", 1, "a", "b")
	}
	kExpect(t, c, kErr("ERR invalid expire time in 'hexpire' command"), "hexpire", "h", (int64(1)<<46)/1000, "FIELDS", 1, "a")
	kExpect(t, c, kErr("ERR invalid expire time in 'hpexpireat' command"), "hpexpireat", "h", int64(1)<<46, "FIELDS", 1, "a")
	kExpect(t, c, hi(1), "hpexpireat", "h", int64(1)<<46-1, "FIELDS", 1, "a")
	for _, name := range []string{"httl", "hpttl", "hexpiretime", "hpexpiretime", "hpersist"} {
		kExpect(t, c, kErr("ERR wrong number of arguments for '"+name+"' command"), name, "h", "FIELDS", 1)
		kExpect(t, c, wrong, name, "str", "FIELDS", 1, "a")
		kExpect(t, c, kErr("ERR Mandatory argument FIELDS is missing or not at the right position"), name, "h", "FIELD", 1, "a")
		kExpect(t, c, kErr("ERR Number of fields must be a positive integer"), name, "h", "FIELDS", -1, "a")
		kExpect(t, c, kErr("ERR Number of fields must be a positive integer"), name, "h", "FIELDS", "one", "a")
		kExpect(t, c, kErr("ERR The `numfields` parameter must match the number of arguments"), name, "h", "FIELDS", 3, "a", "b")
	}
}

func TestHashGetEx(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, 3, "hset", "h", "a", "1", "b", "2", "c", "3")
	kExpect(t, c, []any{"1", nil}, "hgetex", "h", "FIELDS", 2, "a", "zz")
	hExpectEnc(t, c, "h", "listpack")
	kExpect(t, c, []any{"1", nil}, "hgetex", "h", "EX", 100, "FIELDS", 2, "a", "zz")
	kExpect(t, c, hi(100, -1), "httl", "h", "FIELDS", 2, "a", "b")
	kExpect(t, c, []any{"2"}, "hgetex", "h", "px", 50000, "FIELDS", 1, "b")
	kExpect(t, c, hi(50), "httl", "h", "FIELDS", 1, "b")
	at := time.Now().Add(time.Hour).Unix()
	kExpect(t, c, []any{"3"}, "hgetex", "h", "EXAT", at, "FIELDS", 1, "c")
	kExpect(t, c, hi(at), "hexpiretime", "h", "FIELDS", 1, "c")
	kExpect(t, c, []any{"3"}, "hgetex", "h", "PXAT", at*1000+1, "FIELDS", 1, "c")
	kExpect(t, c, hi(at*1000+1), "hpexpiretime", "h", "FIELDS", 1, "c")
	kExpect(t, c, []any{"1", "2"}, "hgetex", "h", "PERSIST", "FIELDS", 2, "a", "b")
	kExpect(t, c, hi(-1, -1), "httl", "h", "FIELDS", 2, "a", "b")
	// A time in the past deletes what it reads; the last field the key.
	kExpect(t, c, []any{"1", "2"}, "hgetex", "h", "EX", 0, "FIELDS", 2, "a", "b")
	kExpect(t, c, []any{"c"}, "hkeys", "h")
	kExpect(t, c, []any{"3"}, "hgetex", "h", "PXAT", 1, "FIELDS", 1, "c")
	kExpect(t, c, 0, "exists", "h")
	kExpect(t, c, []any{nil, nil}, "hgetex", "h", "EX", 10, "FIELDS", 2, "a", "b")
	// Errors.
	kExpect(t, c, "OK", "set", "str", "x")
	kExpect(t, c, kErr("WRONGTYPE Operation against a key holding the wrong kind of value"), "hgetex", "str", "FIELDS", 1, "a")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'hgetex' command"), "hgetex", "h", "FIELDS", 1)
	kExpect(t, c, kErr("ERR Mandatory argument FIELDS is missing or not at the right position"), "hgetex", "h", "KEEPTTL", "FIELDS", 1, "a")
	kExpect(t, c, kErr("ERR Mandatory argument FIELDS is missing or not at the right position"), "hgetex", "h", "EX", 10, "PERSIST", "FIELDS", 1, "a")
	kExpect(t, c, kErr("ERR value is not an integer or out of range"), "hgetex", "h", "EX", "ten", "FIELDS", 1, "a")
	kExpect(t, c, kErr("ERR invalid expire time, must be >= 0"), "hgetex", "h", "PX", -5, "FIELDS", 1, "a")
	kExpect(t, c, kErr("ERR invalid expire time in 'hgetex' command"), "hgetex", "h", "EXAT", int64(1)<<50, "FIELDS", 1, "a")
	kExpect(t, c, kErr("ERR Number of fields must be a positive integer"), "hgetex", "h", "FIELDS", 0, "a")
	kExpect(t, c, kErr("ERR The `numfields` parameter must match the number of arguments"), "hgetex", "h", "PERSIST", "FIELDS", 2, "a")
}

func TestHashSetEx(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, 1, "hsetex", "h", "FIELDS", 2, "a", "1", "b", "2")
	hExpectEnc(t, c, "h", "listpack")
	kExpect(t, c, hi(-1, -1), "httl", "h", "FIELDS", 2, "a", "b")
	kExpect(t, c, 1, "hsetex", "h", "EX", 100, "FIELDS", 1, "a", "10")
	kExpect(t, c, hi(100), "httl", "h", "FIELDS", 1, "a")
	// KEEPTTL keeps it; no option drops it, as HSET.
	kExpect(t, c, 1, "hsetex", "h", "KEEPTTL", "FIELDS", 1, "a", "11")
	kExpect(t, c, hi(100), "httl", "h", "FIELDS", 1, "a")
	kExpect(t, c, "11", "hget", "h", "a")
	kExpect(t, c, 1, "hsetex", "h", "FIELDS", 1, "a", "12")
	kExpect(t, c, hi(-1), "httl", "h", "FIELDS", 1, "a")
	// FNX: none may exist. FXX: all must exist.
	kExpect(t, c, 0, "hsetex", "h", "FNX", "EX", 10, "FIELDS", 2, "a", "x", "new", "x")
	kExpect(t, c, 1, "hsetex", "h", "FNX", "PX", 20000, "FIELDS", 2, "c", "3", "d", "4")
	kExpect(t, c, hi(20, 20), "httl", "h", "FIELDS", 2, "c", "d")
	kExpect(t, c, 0, "hsetex", "h", "FXX", "FIELDS", 2, "a", "x", "zz", "x")
	kExpect(t, c, "12", "hget", "h", "a")
	kExpect(t, c, 1, "hsetex", "h", "FXX", "KEEPTTL", "FIELDS", 2, "c", "30", "d", "40")
	kExpect(t, c, hi(20, 20), "httl", "h", "FIELDS", 2, "c", "d")
	at := time.Now().Add(time.Hour).Unix()
	kExpect(t, c, 1, "hsetex", "h", "EXAT", at, "FIELDS", 1, "a", "13")
	kExpect(t, c, hi(at), "hexpiretime", "h", "FIELDS", 1, "a")
	kExpect(t, c, 1, "hsetex", "h", "PXAT", at*1000, "FIELDS", 1, "b", "22")
	kExpect(t, c, hi(at*1000), "hpexpiretime", "h", "FIELDS", 1, "b")
	// FXX on a missing key creates nothing; FNX creates it.
	kExpect(t, c, 0, "hsetex", "nokey", "FXX", "FIELDS", 1, "a", "1")
	kExpect(t, c, 0, "exists", "nokey")
	kExpect(t, c, 1, "hsetex", "nokey", "FNX", "EX", 50, "FIELDS", 1, "a", "1")
	kExpect(t, c, hi(50), "httl", "nokey", "FIELDS", 1, "a")
	// A time in the past sets and immediately deletes.
	kExpect(t, c, 1, "hsetex", "gone", "PX", 0, "FIELDS", 1, "a", "1")
	kExpect(t, c, 0, "exists", "gone")
	// Large values convert to a hashtable with the TTL.
	kExpect(t, c, 1, "hsetex", "h", "EX", 70, "FIELDS", 1, "long", string(make([]byte, 100)))
	hExpectEnc(t, c, "h", "hashtable")
	kExpect(t, c, hi(70, 20), "httl", "h", "FIELDS", 2, "long", "c")
	// Errors: parsed before the key is looked at.
	kExpect(t, c, "OK", "set", "str", "x")
	kExpect(t, c, kErr("WRONGTYPE Operation against a key holding the wrong kind of value"), "hsetex", "str", "FIELDS", 1, "a", "1")
	kExpect(t, c, kErr("ERR Only one of FXX or FNX arguments can be specified"), "hsetex", "str", "FXX", "FNX", "FIELDS", 1, "a", "1")
	kExpect(t, c, kErr("ERR Only one of FXX or FNX arguments can be specified"), "hsetex", "h", "FNX", "FNX", "FIELDS", 1, "a", "1")
	kExpect(t, c, kErr("ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified"), "hsetex", "h", "EX", 10, "KEEPTTL", "FIELDS", 1, "a", "1")
	kExpect(t, c, kErr("ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified"), "hsetex", "h", "KEEPTTL", "PX", 10, "FIELDS", 1, "a", "1")
	kExpect(t, c, kErr("ERR unknown argument: NX"), "hsetex", "h", "NX", "FIELDS", 1, "a", "1")
	kExpect(t, c, kErr("ERR invalid number of fields"), "hsetex", "h", "FIELDS", 0, "a", "1")
	kExpect(t, c, kErr("ERR invalid number of fields"), "hsetex", "h", "FIELDS", "x", "a", "1")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'hsetex' command"), "hsetex", "h", "FIELDS", 2, "a", "1")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'hsetex' command"), "hsetex", "h", "FIELDS", 1, "a", "1", "b")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'hsetex' command"), "hsetex", "h", "EX", 10, "FIELDS", 1)
	kExpect(t, c, kErr("ERR value is not an integer or out of range"), "hsetex", "h", "EX", "x", "FIELDS", 1, "a", "1")
	kExpect(t, c, kErr("ERR invalid expire time, must be >= 0"), "hsetex", "h", "EX", -1, "FIELDS", 1, "a", "1")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'hsetex' command"), "hsetex", "h", "FIELDS", 1, "a")
}

func TestHashGetDel(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, 3, "hset", "h", "a", "1", "b", "2", "c", "3")
	kExpect(t, c, []any{"1", nil, nil}, "hgetdel", "h", "FIELDS", 3, "a", "zz", "a")
	kExpect(t, c, []any{"b", "c"}, "hkeys", "h")
	kExpect(t, c, []any{"2", "3"}, "hgetdel", "h", "FIELDS", 2, "b", "c")
	kExpect(t, c, 0, "exists", "h")
	kExpect(t, c, []any{nil}, "hgetdel", "h", "FIELDS", 1, "a")
	kExpect(t, c, kErr("ERR Mandatory argument FIELDS is missing or not at the right position"), "hgetdel", "h", "FIELD", 1, "a")
	kExpect(t, c, kErr("ERR Number of fields must be a positive integer"), "hgetdel", "h", "FIELDS", 0, "a")
	kExpect(t, c, kErr("ERR The `numfields` parameter must match the number of arguments"), "hgetdel", "h", "FIELDS", 3, "a")
}

func TestHashFieldExpireRESP3(t *testing.T) {
	t.Parallel()
	inst := testutil.Start(t)
	c := inst.Client3(t)
	kExpect(t, c, 2, "hset", "h", "a", "1", "b", "2")
	kExpect(t, c, hi(1, -2), "hexpire", "h", 100, "FIELDS", 2, "a", "zz")
	kExpect(t, c, hi(100, -1, -2), "httl", "h", "FIELDS", 3, "a", "b", "zz")
	kExpect(t, c, hi(1), "hpersist", "h", "FIELDS", 1, "a")
	kExpect(t, c, []any{"1", nil}, "hgetex", "h", "EX", 10, "FIELDS", 2, "a", "zz")
	kExpect(t, c, []any{nil}, "hgetex", "missing", "FIELDS", 1, "a")
	kExpect(t, c, map[any]any{"a": "1", "b": "2"}, "hgetall", "h")
	kExpect(t, c, 1, "hsetex", "h", "EX", 10, "FIELDS", 1, "c", "3")
	kExpect(t, c, []any{"3", nil}, "hgetdel", "h", "FIELDS", 2, "c", "zz")
	// The raw wire shape: an array of integers; nulls as RESP3 nulls.
	r := inst.Raw(t)
	if _, err := r.Do("HELLO", "3"); err != nil {
		t.Fatal(err)
	}
	if typ, _ := sHeader(t, r, "HTTL", "h", "FIELDS", "1", "a"); typ != '*' {
		t.Fatalf("HTTL reply type %q", typ)
	}
}

// TestHashFieldActiveExpiryByCron checks that the server's cron reclaims
// fields nobody touches: the key disappears from DBSIZE (which touches no key).
func TestHashFieldActiveExpiryByCron(t *testing.T) {
	t.Parallel()
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	for i := range 20 {
		k := fmt.Sprintf("sess:%d", i)
		c.HSet(ctx, k, "token", "x")
		kDo(t, c, "hpexpire", k, "30", "fields", "1", "token")
	}
	testutil.WaitFor(t, 5*time.Second, "fields reclaimed", func() bool { return c.DBSize(ctx).Val() == 0 })
}
