package server_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// RDB files exchanged with Debian's redis-server 7.0 (RDB version 10), in
// both directions: a file Corvid saves must load in redis-server with the
// same contents whenever Redis 7.0 can represent them, and be refused by
// version (not halfway) when it cannot; a file redis-server saves must
// load in Corvid with the same contents.

// rtRedisBinary returns redis-server's path, skipping the test without one.
func rtRedisBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/redis-server"); err == nil {
		return "/usr/bin/redis-server"
	}
	t.Skip("redis-server not installed")
	return ""
}

// rtRedis is a redis-server process on dir/dump.rdb.
type rtRedis struct {
	addr string
	log  *testutil.LogBuffer
	done chan struct{} // closed when the process has exited
}

// rtStartRedis starts redis-server with dir/dump.rdb as its file, loading
// it if it exists, and the extra arguments (directives as "--name",
// "value", which override the defaults); the process is killed when the
// test ends.
func rtStartRedis(t *testing.T, dir string, extra ...string) *rtRedis {
	t.Helper()
	bin := rtRedisBinary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := &rtRedis{addr: "127.0.0.1:" + strconv.Itoa(port), log: &testutil.LogBuffer{}, done: make(chan struct{})}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--dbfilename", "dump.rdb")
	cmd.Args = append(cmd.Args, extra...)
	cmd.Stdout, cmd.Stderr = r.log, r.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(r.done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-r.done })
	return r
}

// client returns a RESP2 client on database db, closed at cleanup.
func (r *rtRedis) client(t *testing.T, db int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: r.addr, DB: db, Protocol: 2})
	t.Cleanup(func() { c.Close() })
	return c
}

// waitReady waits until the server answers PING, failing with its log if
// it exits first.
func (r *rtRedis) waitReady(t *testing.T) {
	t.Helper()
	c := r.client(t, 0)
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		select {
		case <-r.done:
			t.Fatalf("redis-server exited:\n%s", r.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start:\n%s", r.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rtDatabases are the databases the fill uses.
var rtDatabases = []int{0, 3, 9}

const rtLibrary = "#!lua name=rtlib\nredis.register_function('rtf', function(keys, args) return 1 end)"

// rtFill writes every type in every encoding both servers have, with
// expiries, in several databases, and a function library. clients are
// per database (rtDatabases).
func rtFill(t *testing.T, clients map[int]*redis.Client) {
	t.Helper()
	ctx := context.Background()
	c := clients[0]
	must := func(c *redis.Client, args ...any) {
		t.Helper()
		if err := c.Do(ctx, args...).Err(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	seq := func(prefix string, n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = fmt.Sprint(prefix, i)
		}
		return out
	}
	must(c, "set", "str:embstr", "hello")
	must(c, "set", "str:int", "12345")
	must(c, "set", "str:neg", "-7")
	must(c, "set", "str:bigint", "9223372036854775807")
	must(c, "set", "str:float", "3.25")
	must(c, "set", "str:empty", "")
	must(c, "set", "str:raw", strings.Repeat("abcdefgh", 40))
	must(c, "set", "str:ttl", "x", "px", 600000)
	must(c, "rpush", "list:small", "a", "1", "-300", "70000", "")
	must(c, append([]any{"rpush", "list:big"}, seq("element-", 1000)...)...)
	must(c, "sadd", "set:intset", 3, 1, 2, -100000)
	must(c, "sadd", "set:listpack", "a", "b", "1")
	must(c, "sadd", "set:int-first", 5, 3, "x", 7) // integers before the first string
	must(c, append([]any{"sadd", "set:ht"}, seq("member-", 300)...)...)
	must(c, append([]any{"sadd", "set:bigints"}, seq("", 600)...)...) // past set-max-intset-entries
	must(c, "sadd", "set:long", strings.Repeat("m", 100))             // past set-max-listpack-value
	must(c, "zadd", "zset:small", 1, "a", 2.5, "b", "-inf", "c", "+inf", "d", 0.1, "e")
	zbig := []any{"zadd", "zset:big"}
	for i := range 200 {
		zbig = append(zbig, float64(i)/3, fmt.Sprint("m", i))
	}
	must(c, zbig...)
	must(c, "hset", "hash:small", "f1", "v1", "f2", "2")
	hbig := []any{"hset", "hash:big"}
	for i := range 600 {
		hbig = append(hbig, fmt.Sprint("field-", i), i)
	}
	must(c, hbig...)
	must(c, "pexpire", "hash:big", 500000)
	must(c, "hset", "hash:longval", "f", strings.Repeat("v", 100))
	for i := range 10 {
		must(c, "xadd", "stream:plain", fmt.Sprintf("1-%d", i+1), "f", i)
	}
	for i := range 300 {
		must(c, "xadd", "stream:groups", fmt.Sprintf("%d-%d", 1000+i/2, i%2), "f", i, "g", "x")
	}
	must(c, "xadd", "stream:groups", "2000-0", "other", "fields")
	must(c, "xdel", "stream:groups", "1001-0")
	must(c, "xgroup", "create", "stream:groups", "g1", "0")
	must(c, "xgroup", "create", "stream:groups", "g2", "$")
	must(c, "xreadgroup", "group", "g1", "alice", "count", 3, "streams", "stream:groups", ">")
	must(c, "xreadgroup", "group", "g1", "bob", "count", 2, "streams", "stream:groups", ">")
	must(c, "xack", "stream:groups", "g1", "1000-0")
	must(c, "xadd", "stream:empty", "1-1", "a", "b")
	must(c, "xdel", "stream:empty", "1-1")
	for _, db := range rtDatabases[1:] {
		c := clients[db]
		must(c, "set", fmt.Sprint("db", db, ":str"), db)
		must(c, "set", fmt.Sprint("db", db, ":ttl"), "v", "ex", 3600)
		must(c, "rpush", fmt.Sprint("db", db, ":list"), "x", "y")
		must(c, "hset", "shared-name", "db", db)
	}
	must(c, "function", "load", rtLibrary)
}

// rtSnapshot captures a key through ordinary commands: its type and
// contents, with what differs between Redis versions stripped.
func rtSnapshot(t *testing.T, c *redis.Client, key string) []any {
	t.Helper()
	ctx := context.Background()
	typ := c.Type(ctx, key).Val()
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
		sort.Strings(m) // member order is unspecified (and differs by encoding)
		v = m
	case "zset":
		v, err = c.ZRangeWithScores(ctx, key, 0, -1).Result()
	case "hash":
		v, err = c.HGetAll(ctx, key).Result()
	case "stream":
		v, err = c.Do(ctx, "xinfo", "stream", key, "full").Result()
		v = testutil.StripStreamLayout(v)
	}
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return []any{typ, v}
}

// rtEncoding70 is the encoding redis-server 7.0 gives a value Corvid
// holds in encoding enc: 7.0 has no listpack lists (quicklist), listpack
// sets (hashtable) nor field TTLs (a listpackex hash is a listpack);
// everything else is shared.
func rtEncoding70(typ, enc string) string {
	switch {
	case typ == "list" && enc == "listpack":
		return "quicklist"
	case typ == "set" && enc == "listpack":
		return "hashtable"
	case typ == "hash" && enc == "listpackex":
		return "listpack"
	}
	return enc
}

// rtReloadEncoding is the encoding a Corvid reloading its own file gives
// a value it held in enc: the same, but for a listpackex hash with no
// field TTL left, which is saved as the plain listpack it then is.
func rtReloadEncoding(typ, enc string) string {
	if typ == "hash" && enc == "listpackex" {
		return "listpack"
	}
	return enc
}

// rtDropFields removes the named fields (with their values) from a
// reply's field/value arrays, at any depth.
func rtDropFields(v any, names []string) any {
	arr, ok := v.([]any)
	if !ok {
		return v
	}
	var out []any
	for i := 0; i < len(arr); i++ {
		if s, _ := arr[i].(string); i+1 < len(arr) && slices.Contains(names, s) {
			i++
			continue
		}
		out = append(out, rtDropFields(arr[i], names))
	}
	return out
}

// rtCompare checks that two servers hold the same keys with the same
// contents, TTLs (within a few seconds) and encodings (the first's mapped
// by enc), database by database, and the same function libraries. The
// stream fields named in ignore (of XINFO STREAM FULL) are not compared.
func rtCompare(t *testing.T, corvid, redis70 func(db int) *redis.Client, enc func(typ, enc string) string, ignore ...string) {
	t.Helper()
	ctx := context.Background()
	for db := range 16 {
		a, b := corvid(db), redis70(db)
		ka, kb := a.Keys(ctx, "*").Val(), b.Keys(ctx, "*").Val()
		sort.Strings(ka)
		sort.Strings(kb)
		if !reflect.DeepEqual(ka, kb) {
			t.Errorf("db %d: keys %v, then %v", db, ka, kb)
			continue
		}
		for _, k := range ka {
			sa, sb := rtSnapshot(t, a, k), rtSnapshot(t, b, k)
			if len(ignore) > 0 && sa[0] == "stream" {
				sa[1], sb[1] = rtDropFields(sa[1], ignore), rtDropFields(sb[1], ignore)
			}
			if !reflect.DeepEqual(sa, sb) {
				t.Errorf("db %d %s: %.300s, then %.300s", db, k, fmt.Sprint(sa), fmt.Sprint(sb))
			}
			ta, tb := a.PTTL(ctx, k).Val(), b.PTTL(ctx, k).Val()
			if (ta > 0) != (tb > 0) || (ta > 0 && (ta-tb > 10*time.Second || tb-ta > 10*time.Second)) {
				t.Errorf("db %d %s: TTL %v, then %v", db, k, ta, tb)
			}
			typ := a.Type(ctx, k).Val()
			ea, eb := a.ObjectEncoding(ctx, k).Val(), b.ObjectEncoding(ctx, k).Val()
			if enc(typ, ea) != eb {
				t.Errorf("db %d %s: encoding %s, then %s", db, k, ea, eb)
			}
		}
	}
	la, lb := rtLibraries(t, corvid(0)), rtLibraries(t, redis70(0))
	if !reflect.DeepEqual(la, lb) {
		t.Errorf("functions: %v, then %v", la, lb)
	}
}

// rtLibraries lists library and function names from FUNCTION LIST.
func rtLibraries(t *testing.T, c *redis.Client) []string {
	t.Helper()
	libs, err := c.FunctionList(context.Background(), redis.FunctionListQuery{}).Result()
	if err != nil {
		t.Fatalf("function list: %v", err)
	}
	var out []string
	for _, l := range libs {
		for _, f := range l.Functions {
			out = append(out, l.Name+"."+f.Name)
		}
	}
	sort.Strings(out)
	return out
}

// rtCorvidClients returns a per-database client factory for a Corvid.
func rtCorvidClients(t *testing.T, srv *testutil.Instance) func(int) *redis.Client {
	cache := map[int]*redis.Client{}
	return func(db int) *redis.Client {
		if c := cache[db]; c != nil {
			return c
		}
		c := srv.ClientWith(t, &redis.Options{DB: db, Protocol: 2})
		cache[db] = c
		return c
	}
}

func rtClients(get func(int) *redis.Client) map[int]*redis.Client {
	m := map[int]*redis.Client{}
	for _, db := range rtDatabases {
		m[db] = get(db)
	}
	return m
}

// rtSave makes Corvid SAVE and returns the file's bytes.
func rtSave(t *testing.T, srv *testutil.Instance) []byte {
	t.Helper()
	ctx := context.Background()
	c := srv.Client(t)
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatalf("save: %v", err)
	}
	cfg := c.ConfigGet(ctx, "*").Val()
	data, err := os.ReadFile(filepath.Join(cfg["dir"], cfg["dbfilename"]))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRDBToRedis70: redis-server 7.0 loads the file Corvid saves, every
// type and encoding included, a hash that had field TTLs and no longer
// has them too, and holds the same contents.
func TestRDBToRedis70(t *testing.T) {
	rtRedisBinary(t)
	srv := testutil.Start(t)
	corvid := rtCorvidClients(t, srv)
	rtFill(t, rtClients(corvid))
	// Corvid-only history: field TTLs set, then persisted or deleted.
	ctx := context.Background()
	c := corvid(0)
	for _, args := range [][]any{
		{"hset", "hfe:persisted", "a", 1, "b", 2},
		{"hpexpire", "hfe:persisted", 100000, "fields", 1, "a"},
		{"hpersist", "hfe:persisted", "fields", 1, "a"},
		{"hset", "hfe:deleted", "a", 1},
		{"hsetex", "hfe:deleted", "px", 100000, "fields", 1, "b", 2},
		{"hdel", "hfe:deleted", "b"},
	} {
		if err := c.Do(ctx, args...).Err(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	hbig := []any{"hset", "hfe:big"}
	for i := range 600 {
		hbig = append(hbig, fmt.Sprint("f", i), i)
	}
	c.Do(ctx, hbig...)
	c.Do(ctx, "hpexpire", "hfe:big", 100000, "fields", 2, "f1", "f2")
	c.Do(ctx, "hpersist", "hfe:big", "fields", 1, "f1")
	c.Do(ctx, "hdel", "hfe:big", "f2")

	data := rtSave(t, srv)
	if got := string(data[:9]); got != "REDIS0010" {
		t.Fatalf("header %q, want REDIS0010 (nothing here needs more than Redis 7.0)", got)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dump.rdb"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	r := rtStartRedis(t, dir)
	r.waitReady(t)
	rtCompare(t, corvid, func(db int) *redis.Client { return r.client(t, db) }, rtEncoding70)

	// Corvid itself reloads the file with every encoding as it was
	// (listpack sets written in the plain layout included).
	again := testutil.Start(t, "dir", dir, "dbfilename", "dump.rdb")
	rtCompare(t, corvid, rtCorvidClients(t, again), rtReloadEncoding)
}

// TestRDBRefusedByRedis70: a file that needs a newer version says so,
// and redis-server 7.0 refuses it by its version before loading anything
// (it used to stop at the first key with "Invalid object type").
func TestRDBRefusedByRedis70(t *testing.T) {
	rtRedisBinary(t)
	for _, tc := range []struct {
		name string
		fill [][]any
		want int
	}{
		{"live field TTL", [][]any{
			{"set", "before", "x"},
			{"hset", "h", "a", 1, "b", 2},
			{"hpexpire", "h", 600000, "fields", 1, "a"},
		}, 12},
		{"listpack set of integers", [][]any{
			{"sadd", "s", "a", 1, 2},
			{"srem", "s", "a"},
		}, 11},
		{"idle stream consumer", [][]any{
			{"xadd", "x", "1-1", "f", "v"},
			{"xgroup", "create", "x", "g", "0"},
			{"xgroup", "createconsumer", "x", "g", "c"},
		}, 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testutil.Start(t)
			c := srv.Client(t)
			for _, args := range tc.fill {
				if err := c.Do(context.Background(), args...).Err(); err != nil {
					t.Fatalf("%v: %v", args, err)
				}
			}
			data := rtSave(t, srv)
			if got, want := string(data[:9]), fmt.Sprintf("REDIS%04d", tc.want); got != want {
				t.Fatalf("header %q, want %q", got, want)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "dump.rdb"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			r := rtStartRedis(t, dir)
			select {
			case <-r.done:
			case <-time.After(10 * time.Second):
				t.Fatalf("redis-server did not refuse the file:\n%s", r.log)
			}
			msg := fmt.Sprintf("Can't handle RDB format version %d", tc.want)
			if log := r.log.String(); !strings.Contains(log, msg) || strings.Contains(log, "Invalid object type") {
				t.Fatalf("redis-server's log lacks %q:\n%s", msg, log)
			}
		})
	}
}

// TestRDBFromRedis70: Corvid loads the file redis-server 7.0 saves and
// holds the same contents (internal/rdb's TestLoadRedisFile checks the
// decoding alone; this goes through the server's loader).
func TestRDBFromRedis70(t *testing.T) {
	dir := t.TempDir()
	r := rtStartRedis(t, dir)
	r.waitReady(t)
	redis70 := func(db int) *redis.Client { return r.client(t, db) }
	rtFill(t, rtClients(redis70))
	if err := redis70(0).Save(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	srv := testutil.Start(t, "dir", dir, "dbfilename", "dump.rdb")
	if n := srv.Client(t).DBSize(context.Background()).Val(); n == 0 {
		t.Fatal("Corvid loaded nothing from redis-server's file")
	}
	rtCompare(t, rtCorvidClients(t, srv), redis70, rtEncoding70)
}
