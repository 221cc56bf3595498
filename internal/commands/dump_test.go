package commands_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// dSnapshot captures a key's type, contents, encoding and whether it has
// a TTL, through ordinary commands, so two keys can be compared whatever
// server holds them.
func dSnapshot(t *testing.T, c *redis.Client, key string) []any {
	t.Helper()
	ctx := context.Background()
	typ := c.Type(ctx, key).Val()
	out := []any{typ}
	var v any
	var err error
	switch typ {
	case "string":
		v, err = c.Get(ctx, key).Result()
	case "list":
		v, err = c.LRange(ctx, key, 0, -1).Result()
	case "set":
		var m []string
		m, err = c.SMembers(ctx, key).Result()
		sort.Strings(m)
		v = m
	case "zset":
		// Scores as numbers: redis-server 7.0 prints them with %.17g.
		v, err = c.ZRangeWithScores(ctx, key, 0, -1).Result()
	case "hash":
		var m map[string]string
		m, err = c.HGetAll(ctx, key).Result()
		v = m
	case "stream":
		v, err = c.Do(ctx, "xinfo", "stream", key, "full").Result()
		// The node layout is the server's own business, and
		// redis-server 7.0 has no consumer active-time.
		v = testutil.StripStreamLayout(v)
	}
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return append(out, v)
}

func dPopulate(t *testing.T, c *redis.Client) []string {
	t.Helper()
	ctx := context.Background()
	must := func(args ...any) {
		t.Helper()
		if err := c.Do(ctx, args...).Err(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	must("set", "str:embstr", "hello")
	must("set", "str:int", "-12345")
	must("set", "str:bigint", "9223372036854775807")
	must("set", "str:raw", strings.Repeat("abc", 100))
	must("set", "str:ttl", "x", "px", 100000)
	must("rpush", "list:small", "a", "1", "-300", "70000", "")
	must("sadd", "set:intset", 3, 1, 2, -100000)
	must("sadd", "set:listpack", "a", "b", "1")
	must("zadd", "zset:small", 1, "a", 2.5, "b", "-inf", "c", "+inf", "d", 0.1, "e")
	must("hset", "hash:small", "f1", "v1", "f2", "2")
	big := []any{}
	for i := range 1000 {
		big = append(big, fmt.Sprintf("element-%d", i))
	}
	must(append([]any{"rpush", "list:big"}, big...)...)
	must(append([]any{"sadd", "set:big"}, big...)...)
	zbig := []any{"zadd", "zset:big"}
	hbig := []any{"hset", "hash:big"}
	for i := range 1000 {
		zbig = append(zbig, float64(i)/3, big[i])
		hbig = append(hbig, big[i], i)
	}
	must(zbig...)
	must(hbig...)
	must("pexpire", "hash:big", 500000)
	for i := range 300 {
		must("xadd", "stream:s", fmt.Sprintf("%d-%d", 1000+i/2, i%2), "f", i, "g", "x")
	}
	must("xadd", "stream:s", "2000-0", "other", "fields")
	must("xdel", "stream:s", "1001-0")
	must("xgroup", "create", "stream:s", "g1", "0")
	must("xgroup", "create", "stream:s", "g2", "$")
	must("xreadgroup", "group", "g1", "alice", "count", 3, "streams", "stream:s", ">")
	must("xreadgroup", "group", "g1", "bob", "count", 2, "streams", "stream:s", ">")
	must("xack", "stream:s", "g1", "1000-0")
	must("xadd", "stream:empty", "1-1", "a", "b")
	must("xdel", "stream:empty", "1-1")
	return []string{"str:embstr", "str:int", "str:bigint", "str:raw", "str:ttl", "list:small", "set:intset",
		"set:listpack", "zset:small", "hash:small", "list:big", "set:big", "zset:big", "hash:big", "stream:s", "stream:empty"}
}

func TestDumpRestoreRoundTrip(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	keys := dPopulate(t, c)
	for _, k := range keys {
		payload, err := c.Dump(ctx, k).Result()
		if err != nil {
			t.Fatalf("dump %s: %v", k, err)
		}
		pttl := c.PTTL(ctx, k).Val()
		ttl := int64(0)
		if pttl > 0 {
			ttl = pttl.Milliseconds()
		}
		if err := c.Do(ctx, "restore", k+":copy", ttl, payload).Err(); err != nil {
			t.Fatalf("restore %s: %v", k, err)
		}
		want, got := dSnapshot(t, c, k), dSnapshot(t, c, k+":copy")
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s: restored %.300v, want %.300v", k, got, want)
		}
		e1 := c.ObjectEncoding(ctx, k).Val()
		e2 := c.ObjectEncoding(ctx, k+":copy").Val()
		if e1 != e2 {
			t.Errorf("%s: encoding %s after restore, was %s", k, e2, e1)
		}
		if (pttl > 0) != (c.PTTL(ctx, k+":copy").Val() > 0) {
			t.Errorf("%s: TTL not restored", k)
		}
	}
	// The stream's consumer groups and pending entries came along.
	p := c.XPending(ctx, "stream:s:copy", "g1").Val()
	if p.Count != 4 || p.Consumers["alice"] != 2 || p.Consumers["bob"] != 2 {
		t.Errorf("pending after restore: %+v", p)
	}
}

func TestDumpRestoreHashFieldTTL(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	c.HSet(ctx, "h", "a", 1, "b", 2, "c", 3)
	c.Do(ctx, "hpexpire", "h", 100000, "fields", 1, "b")
	var big []any
	for i := range 600 {
		big = append(big, fmt.Sprint("f", i), i)
	}
	c.HSet(ctx, "hb", big...)
	c.Do(ctx, "hpexpire", "hb", 200000, "fields", 2, "f1", "f2")
	for _, k := range []string{"h", "hb"} {
		payload := c.Dump(ctx, k).Val()
		if err := c.Do(ctx, "restore", k+"2", 0, payload).Err(); err != nil {
			t.Fatalf("restore %s: %v", k, err)
		}
		if !reflect.DeepEqual(dSnapshot(t, c, k), dSnapshot(t, c, k+"2")) {
			t.Errorf("%s: contents differ", k)
		}
		if a, b := c.ObjectEncoding(ctx, k).Val(), c.ObjectEncoding(ctx, k+"2").Val(); a != b {
			t.Errorf("%s: encoding %s vs %s", k, b, a)
		}
	}
	for _, tc := range []struct {
		key, field string
		ttl        bool
	}{{"h2", "b", true}, {"h2", "a", false}, {"hb2", "f2", true}, {"hb2", "f3", false}} {
		v := c.Do(ctx, "hpttl", tc.key, "fields", 1, tc.field).Val().([]any)[0].(int64)
		if (v > 0) != tc.ttl {
			t.Errorf("%s %s: hpttl %d", tc.key, tc.field, v)
		}
	}
}

func TestRestoreErrors(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	c.Set(ctx, "k", "value", 0)
	payload := c.Dump(ctx, "k").Val()
	check := func(want string, args ...any) {
		t.Helper()
		err := c.Do(ctx, args...).Err()
		if want == "" && err != nil || want != "" && (err == nil || err.Error() != want) {
			t.Errorf("%v: got %v, want %q", args[:2], err, want)
		}
	}
	check("BUSYKEY Target key name already exists.", "restore", "k", 0, payload)
	check("ERR Invalid TTL value, must be >= 0", "restore", "n", -1, payload)
	check("ERR value is not an integer or out of range", "restore", "n", "x", payload)
	check("ERR DUMP payload version or checksum are wrong", "restore", "n", 0, "short")
	check("ERR syntax error", "restore", "n", 0, payload, "bogus")
	check("ERR Invalid IDLETIME value, must be >= 0", "restore", "n", 0, payload, "idletime", -1)
	check("ERR Invalid FREQ value, must be >= 0 and <= 255", "restore", "n", 0, payload, "freq", 256)
	check("ERR syntax error", "restore", "n", 0, payload, "idletime", 1, "freq", 1)
	bad := []byte(payload)
	bad[len(bad)-10] = 99 // a future RDB version
	check("ERR DUMP payload version or checksum are wrong", "restore", "n", 0, string(bad))
	check("", "restore", "k", 0, payload, "replace", "idletime", 1000)
	if idle := c.ObjectIdleTime(ctx, "k").Val(); idle < 999*time.Second {
		t.Logf("IDLETIME not applied (keyspace has no SetLRU yet): %v", idle)
	}
	// A TTL already in the past: the key is not created (and REPLACE deletes it).
	check("", "restore", "k", 1, payload, "replace", "absttl")
	if c.Exists(ctx, "k").Val() != 0 {
		t.Error("restore with a past ABSTTL created the key")
	}
	check("", "restore", "k", time.Now().Add(time.Hour).UnixMilli(), payload, "absttl")
	if ttl := c.TTL(ctx, "k").Val(); ttl < 3500*time.Second {
		t.Errorf("ABSTTL: ttl %v", ttl)
	}
	if c.Dump(ctx, "missing").Err() != redis.Nil {
		t.Error("DUMP of a missing key is not nil")
	}
}

// TestRestoreCorrupt restores payloads of every type with bytes flipped
// and cut off (checksum recomputed, so the decoder sees them): errors are
// fine, a crash is not, and the server must keep answering.
func TestRestoreCorrupt(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	keys := dPopulate(t, c)
	n := 0
	for _, k := range keys {
		payload := []byte(c.Dump(ctx, k).Val())
		body := payload[:len(payload)-10]
		try := func(b []byte) {
			p := appendFooter(b)
			err := c.Do(ctx, "restore", "corrupt", 0, string(p), "replace").Err()
			if err != nil && err.Error() != "ERR Bad data format" {
				t.Fatalf("%s: unexpected error %v", k, err)
			}
			n++
		}
		step := max(1, len(body)/40)
		for i := 0; i < len(body); i += step {
			b := append([]byte(nil), body...)
			b[i] ^= 0xa5
			try(b)
			try(body[:i])
		}
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d corrupted payloads", n)
}

// appendFooter adds a DUMP footer (version 11, CRC64 Jones) to body.
func appendFooter(body []byte) []byte {
	p := append(append([]byte(nil), body...), 11, 0)
	crc := crc64Jones(p)
	for i := range 8 {
		p = append(p, byte(crc>>(8*i)))
	}
	return p
}

func crc64Jones(p []byte) uint64 {
	var crc uint64
	for _, b := range p {
		crc ^= uint64(b)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x95ac9329ac4bc9b5
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

// TestRestoreFromRedis restores payloads made by a real redis-server (if
// one is installed) and compares the contents key by key.
func TestRestoreFromRedis(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	rc := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), Protocol: 2})
	t.Cleanup(func() { rc.Close() })
	ctx := context.Background()
	testutil.WaitFor(t, 5*time.Second, "redis-server to start", func() bool { return rc.Ping(ctx).Err() == nil })
	keys := dPopulate(t, rc)
	srv := testutil.Start(t)
	c := srv.Client(t)
	for _, k := range keys {
		payload, err := rc.Dump(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Do(ctx, "restore", k, 0, payload).Err(); err != nil {
			t.Fatalf("restore %s: %v", k, err)
		}
		if want, got := dSnapshot(t, rc, k), dSnapshot(t, c, k); !reflect.DeepEqual(want, got) {
			t.Errorf("%s: %.300v, want %.300v", k, got, want)
		}
		// Encodings redis-server 7.0 shares with 7.2 must agree.
		if strings.HasPrefix(k, "str:") || strings.HasPrefix(k, "zset:") || strings.HasPrefix(k, "hash:") || k == "set:intset" || k == "set:big" {
			if a, b := rc.ObjectEncoding(ctx, k).Val(), c.ObjectEncoding(ctx, k).Val(); a != b {
				t.Errorf("%s: encoding %s, redis-server has %s", k, b, a)
			}
		}
	}
}

// dumpTypeVersion returns a DUMP payload's object type and footer version.
func dumpTypeVersion(t *testing.T, c *redis.Client, key string) (byte, int) {
	t.Helper()
	p, err := c.Dump(context.Background(), key).Result()
	if err != nil {
		t.Fatalf("dump %s: %v", key, err)
	}
	f := p[len(p)-10:]
	return p[0], int(f[0]) | int(f[1])<<8
}

// TestDumpVersionFooter: a payload says the oldest RDB version defining
// its type, and a hash with no live field TTL is a plain hash whatever
// its history, so Redis 7.0 (10) and 7.2 (11) can restore them; only a
// live field TTL makes type 25/24 and version 12.
func TestDumpVersionFooter(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	must := func(args ...any) {
		t.Helper()
		if err := c.Do(ctx, args...).Err(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	var big []any
	for i := range 600 {
		big = append(big, fmt.Sprint("f", i), i)
	}
	// Hashes that had field TTLs and have none left.
	must("hset", "h:persisted", "a", 1, "b", 2)
	must("hpexpire", "h:persisted", 100000, "fields", 1, "a")
	must("hpersist", "h:persisted", "fields", 1, "a")
	must("hset", "h:deleted", "a", 1)
	must("hsetex", "h:deleted", "px", 100000, "fields", 1, "b", 2)
	must("hdel", "h:deleted", "b")
	must(append([]any{"hset", "hb:persisted"}, big...)...)
	must("hpexpire", "hb:persisted", 100000, "fields", 2, "f1", "f2")
	must("hpersist", "hb:persisted", "fields", 2, "f1", "f2")
	must(append([]any{"hset", "hb:deleted"}, big...)...)
	must("hpexpire", "hb:deleted", 100000, "fields", 1, "f1")
	must("hdel", "hb:deleted", "f1")
	// Hashes with a live field TTL.
	must("hset", "h:ttl", "a", 1, "b", 2)
	must("hpexpire", "h:ttl", 100000, "fields", 1, "a")
	must(append([]any{"hset", "hb:ttl"}, big...)...)
	must("hpexpire", "hb:ttl", 100000, "fields", 1, "f1")
	// Everything else.
	must("set", "s:str", "hello")
	must("set", "s:int", 12)
	must("rpush", "l", "a", "b")
	must("sadd", "set:intset", 1, 2)
	must("sadd", "set:listpack", 1, "a", "b")
	must("sadd", "set:lp-ints", "a", 1, 2) // a listpack of integers once "a" goes
	must("srem", "set:lp-ints", "a")
	must(append([]any{"sadd", "set:ht"}, big...)...)
	must("zadd", "z", 1, "a")
	must("xadd", "x:plain", "1-1", "f", "v")
	must("xadd", "x:read", "1-1", "f", "v")
	must("xgroup", "create", "x:read", "g", "0")
	must("xreadgroup", "group", "g", "alice", "streams", "x:read", ">")
	must("xadd", "x:idle", "1-1", "f", "v")
	must("xgroup", "create", "x:idle", "g", "0")
	must("xgroup", "createconsumer", "x:idle", "g", "bob") // active time -1, seen now
	for _, tc := range []struct {
		key string
		typ byte
		ver int
		enc string
	}{
		{"h:persisted", 16, 10, ""},
		{"h:deleted", 16, 10, ""},
		{"hb:persisted", 4, 10, "hashtable"},
		{"hb:deleted", 4, 10, "hashtable"},
		{"h:ttl", 25, 12, ""},
		{"hb:ttl", 24, 12, "hashtable"},
		{"s:str", 0, 10, "embstr"},
		{"s:int", 0, 10, "int"},
		{"l", 18, 10, "listpack"},
		{"set:intset", 11, 10, "intset"},
		{"set:listpack", 2, 10, "listpack"},
		{"set:lp-ints", 20, 11, "listpack"},
		{"set:ht", 2, 10, "hashtable"},
		{"z", 17, 10, "listpack"},
		{"x:plain", 19, 10, "stream"},
		{"x:read", 19, 10, "stream"},
		{"x:idle", 21, 11, "stream"},
	} {
		typ, ver := dumpTypeVersion(t, c, tc.key)
		if typ != tc.typ || ver != tc.ver {
			t.Errorf("%s: type %d version %d, want type %d version %d", tc.key, typ, ver, tc.typ, tc.ver)
		}
		// What was dumped restores to the same contents and encoding.
		payload := c.Dump(ctx, tc.key).Val()
		if err := c.Do(ctx, "restore", tc.key+":copy", 0, payload).Err(); err != nil {
			t.Fatalf("restore %s: %v", tc.key, err)
		}
		if want, got := dSnapshot(t, c, tc.key), dSnapshot(t, c, tc.key+":copy"); !reflect.DeepEqual(want, got) {
			t.Errorf("%s: restored %.300v, want %.300v", tc.key, got, want)
		}
		if tc.enc != "" {
			if got := c.ObjectEncoding(ctx, tc.key+":copy").Val(); got != tc.enc {
				t.Errorf("%s: restored as %s, want %s", tc.key, got, tc.enc)
			}
		}
	}
	// The idle consumer's active time survived (type 21).
	cons := c.XInfoConsumers(ctx, "x:idle:copy", "g").Val()
	if len(cons) != 1 || cons[0].Inactive != -time.Millisecond {
		t.Errorf("x:idle consumers after restore: %+v", cons)
	}
}

// TestDumpHashAllFieldsExpired: a hash whose every field has expired but
// that was not yet reclaimed dumps as nothing (nil), not as an empty hash
// no loader accepts.
func TestDumpHashAllFieldsExpired(t *testing.T) {
	srv := testutil.Start(t, "enable-debug-command", "yes")
	c := srv.Client(t)
	ctx := context.Background()
	if err := c.Do(ctx, "debug", "set-active-expire", 0).Err(); err != nil {
		t.Fatal(err)
	}
	c.HSet(ctx, "h", "a", 1, "b", 2)
	c.Do(ctx, "hpexpire", "h", 1, "fields", 2, "a", "b")
	time.Sleep(5 * time.Millisecond) // past the 1 ms TTLs (a lower bound: nothing reclaims them)
	if err := c.Dump(ctx, "h").Err(); err != redis.Nil {
		t.Fatalf("dump of a hash with every field expired: %v", err)
	}
}
