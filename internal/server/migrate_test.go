package server_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// MIGRATE between in-process servers, and to and from Debian's
// redis-server 7.0 when it is installed.

// migHostPort splits an address into MIGRATE's host and port arguments.
func migHostPort(t *testing.T, addr string) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

// migrate runs MIGRATE from c to addr with the arguments after the host
// and port, returning the reply as a string ("OK", "NOKEY" or the error).
func migrate(t *testing.T, c *redis.Client, addr string, rest ...any) string {
	t.Helper()
	h, p := migHostPort(t, addr)
	v, err := c.Do(context.Background(), append([]any{"migrate", h, p}, rest...)...).Result()
	if err != nil {
		return err.Error()
	}
	s, _ := v.(string)
	return s
}

// migSnapshot is a key's type, value and whether it has a TTL, read
// through ordinary commands, so keys on two servers can be compared.
func migSnapshot(t *testing.T, c *redis.Client, key string) []any {
	t.Helper()
	ctx := context.Background()
	typ := c.Type(ctx, key).Val()
	var v any
	switch typ {
	case "string":
		v = c.Get(ctx, key).Val()
	case "list":
		v = c.LRange(ctx, key, 0, -1).Val()
	case "set":
		m := c.SMembers(ctx, key).Val()
		sort.Strings(m)
		v = m
	case "zset":
		v = c.ZRangeWithScores(ctx, key, 0, -1).Val()
	case "hash":
		v = c.HGetAll(ctx, key).Val()
	case "stream":
		v = c.XRange(ctx, key, "-", "+").Val()
	}
	return []any{typ, v, c.PTTL(ctx, key).Val() > 0}
}

func migPopulate(t *testing.T, c *redis.Client) []string {
	t.Helper()
	ctx := context.Background()
	for _, cmd := range [][]any{
		{"set", "s", "hello"},
		{"set", "n", "12345"},
		{"rpush", "l", "a", "b", "3"},
		{"sadd", "si", "1", "2", "3"},
		{"sadd", "sl", "a", "b"},
		{"zadd", "z", "1", "a", "2.5", "b"},
		{"hset", "h", "f", "v", "g", "w"},
		{"xadd", "x", "1-1", "f", "v"},
		{"set", "t", "v", "px", "100000"},
	} {
		if err := c.Do(ctx, cmd...).Err(); err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
	}
	return []string{"s", "n", "l", "si", "sl", "z", "h", "x", "t"}
}

// The single-key form moves the key with its value and TTL; the source
// key is gone; a missing key answers NOKEY.
func TestMigrateSingleKey(t *testing.T) {
	src, dst := testutil.Start(t), testutil.Start(t)
	s, d := src.Client(t), dst.Client(t)
	ctx := context.Background()
	keys := migPopulate(t, s)
	for _, k := range keys {
		want := migSnapshot(t, s, k)
		if got := migrate(t, s, dst.Addr, k, 0, 5000); got != "OK" {
			t.Fatalf("MIGRATE %s: %s", k, got)
		}
		if n := s.Exists(ctx, k).Val(); n != 0 {
			t.Fatalf("%s still on the source", k)
		}
		if got := migSnapshot(t, d, k); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s on the target: %v, want %v", k, got, want)
		}
	}
	if ttl := d.PTTL(ctx, "t").Val(); ttl <= 90*time.Second || ttl > 100*time.Second {
		t.Fatalf("TTL carried: %v", ttl)
	}
	if got := migrate(t, s, dst.Addr, "s", 0, 5000); got != "NOKEY" {
		t.Fatalf("MIGRATE of a missing key: %s", got)
	}
}

// KEYS moves several keys at once, skipping the missing ones; COPY keeps
// the source; REPLACE overwrites, and without it the target's BUSYKEY
// comes back, the source key kept.
func TestMigrateKeysCopyReplace(t *testing.T) {
	src, dst := testutil.Start(t), testutil.Start(t)
	s, d := src.Client(t), dst.Client(t)
	ctx := context.Background()
	s.MSet(ctx, "a", "1", "b", "2", "c", "3")
	if got := migrate(t, s, dst.Addr, "", 0, 5000, "keys", "a", "missing", "b"); got != "OK" {
		t.Fatalf("KEYS: %s", got)
	}
	if n := s.Exists(ctx, "a", "b").Val(); n != 0 {
		t.Fatalf("a, b still on the source (%d)", n)
	}
	if v := d.MGet(ctx, "a", "b").Val(); !reflect.DeepEqual(v, []any{"1", "2"}) {
		t.Fatalf("target: %v", v)
	}
	if got := migrate(t, s, dst.Addr, "", 0, 5000, "keys", "missing", "gone"); got != "NOKEY" {
		t.Fatalf("KEYS with none there: %s", got)
	}

	if got := migrate(t, s, dst.Addr, "c", 0, 5000, "copy"); got != "OK" {
		t.Fatalf("COPY: %s", got)
	}
	if s.Get(ctx, "c").Val() != "3" || d.Get(ctx, "c").Val() != "3" {
		t.Fatal("COPY: the key should be on both sides")
	}
	s.Set(ctx, "c", "new", 0)
	const busy = "ERR Target instance replied with error: BUSYKEY Target key name already exists."
	if got := migrate(t, s, dst.Addr, "c", 0, 5000); got != busy {
		t.Fatalf("existing target key: %q", got)
	}
	if s.Get(ctx, "c").Val() != "new" || d.Get(ctx, "c").Val() != "3" {
		t.Fatal("after BUSYKEY both keys stay as they were")
	}
	if got := migrate(t, s, dst.Addr, "c", 0, 5000, "copy", "replace"); got != "OK" {
		t.Fatalf("COPY REPLACE: %s", got)
	}
	if s.Get(ctx, "c").Val() != "new" || d.Get(ctx, "c").Val() != "new" {
		t.Fatal("COPY REPLACE")
	}
	// A partial failure: the keys the target took are deleted, the
	// others stay, and the first error is the reply.
	s.MSet(ctx, "c", "x", "e", "5")
	if got := migrate(t, s, dst.Addr, "", 0, 5000, "keys", "e", "c"); got != busy {
		t.Fatalf("partial: %q", got)
	}
	if s.Exists(ctx, "e").Val() != 0 || s.Get(ctx, "c").Val() != "x" || d.Get(ctx, "e").Val() != "5" {
		t.Fatal("partial: e should have moved and c stayed")
	}
}

// Argument errors, in Redis's order and words.
func TestMigrateArgumentErrors(t *testing.T) {
	src := testutil.Start(t)
	s := src.Client(t)
	s.Set(context.Background(), "k", "v", 0)
	const addr = "127.0.0.1:1"
	for _, tc := range []struct {
		args []any
		want string
	}{
		{[]any{"k", 0, 10, "bogus"}, "ERR syntax error"},
		{[]any{"k", 0, 10, "auth"}, "ERR syntax error"},
		{[]any{"k", 0, 10, "auth2", "u"}, "ERR syntax error"},
		{[]any{"k", 0, 10, "keys", "k"}, "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"},
		{[]any{"k", "x", 10}, "ERR value is not an integer or out of range"},
		{[]any{"k", 0, "x"}, "ERR value is not an integer or out of range"},
		{[]any{"k", 0}, "ERR wrong number of arguments for 'migrate' command"},
		{[]any{"", 0, 10, "keys"}, "NOKEY"},
		{[]any{"k", 0, 10, "bogus", "keys", "k"}, "ERR syntax error"},
		{[]any{"k", 0, 10, "keys", "k", "bogus"}, "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"},
	} {
		if got := migrate(t, s, addr, tc.args...); got != tc.want {
			t.Errorf("MIGRATE %v: %q, want %q", tc.args, got, tc.want)
		}
	}
	if s.Get(context.Background(), "k").Val() != "v" {
		t.Fatal("an argument error must leave the key")
	}
}

// AUTH and AUTH2 are sent before the RESTOREs; the target's refusal is
// reported as its error, the key kept.
func TestMigrateAuth(t *testing.T) {
	src, dst := testutil.Start(t), testutil.Start(t, "requirepass", "secret")
	s := src.Client(t)
	d := dst.ClientWith(t, &redis.Options{Protocol: 2, Password: "secret"})
	ctx := context.Background()
	s.MSet(ctx, "a", "1", "b", "2")
	for _, tc := range []struct {
		args []any
		want string
	}{
		{[]any{"a", 0, 5000}, "ERR Target instance replied with error: NOAUTH Authentication required."},
		{[]any{"a", 0, 5000, "auth", "wrong"}, "ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled."},
		{[]any{"a", 0, 5000, "auth2", "default", "wrong"}, "ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled."},
	} {
		if got := migrate(t, s, dst.Addr, tc.args...); got != tc.want {
			t.Fatalf("MIGRATE %v: %q, want %q", tc.args, got, tc.want)
		}
	}
	if s.Exists(ctx, "a").Val() != 1 || d.Exists(ctx, "a").Val() != 0 {
		t.Fatal("a refused migration must leave the key where it was")
	}
	if got := migrate(t, s, dst.Addr, "a", 0, 5000, "auth", "secret"); got != "OK" {
		t.Fatalf("AUTH: %s", got)
	}
	if got := migrate(t, s, dst.Addr, "", 0, 5000, "auth2", "default", "secret", "keys", "b"); got != "OK" {
		t.Fatalf("AUTH2: %s", got)
	}
	if v := d.MGet(ctx, "a", "b").Val(); !reflect.DeepEqual(v, []any{"1", "2"}) {
		t.Fatalf("target: %v", v)
	}
	// The passwords are hidden from the slow log, as Redis does.
	s.ConfigSet(ctx, "slowlog-log-slower-than", "0")
	s.Set(ctx, "c", "3", 0)
	migrate(t, s, dst.Addr, "c", 0, 5000, "auth", "secret")
	logs := s.SlowLogGet(ctx, 1).Val()
	if len(logs) == 0 || strings.Contains(strings.Join(logs[0].Args, " "), "secret") {
		t.Fatalf("slow log: %v", logs)
	}
}

// A target that refuses connections, or accepts and never answers, gives
// IOERR within the timeout, and the key stays.
func TestMigrateDeadTarget(t *testing.T) {
	src := testutil.Start(t)
	s := src.Client(t)
	ctx := context.Background()
	s.Set(ctx, "k", "v", 0)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	start := time.Now()
	if got := migrate(t, s, closed, "k", 0, 200); got != "IOERR error or timeout writing to target instance" {
		t.Fatalf("closed port: %q", got)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("closed port took %v", el)
	}

	// Accepts, reads, never replies.
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	go func() {
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start = time.Now()
	if got := migrate(t, s, hole.Addr().String(), "k", 0, 200); got != "IOERR error or timeout reading to target instance" {
		t.Fatalf("silent target: %q", got)
	}
	if el := time.Since(start); el < 150*time.Millisecond || el > 2*time.Second {
		t.Fatalf("silent target: IOERR after %v, want about the 200 ms timeout", el)
	}
	if got := migrate(t, s, "no-such-host.invalid:6379", "k", 0, 200); got != "IOERR error or timeout connecting to the client" {
		t.Fatalf("unresolvable host: %q", got)
	}
	if s.Get(ctx, "k").Val() != "v" {
		t.Fatal("the key must stay after an I/O error")
	}
}

// migrateConns lists the target's connections that ran RESTORE: the
// ones MIGRATE opened.
func migrateConns(t *testing.T, d *redis.Client) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(d.ClientList(context.Background()).Val(), "\n") {
		if strings.Contains(l, "cmd=restore") || strings.Contains(l, "cmd=select") {
			f := strings.Fields(l)
			out = append(out, f[0]+" "+f[slicesIndexPrefix(f, "db=")])
		}
	}
	return out
}

func slicesIndexPrefix(f []string, p string) int {
	for i, s := range f {
		if strings.HasPrefix(s, p) {
			return i
		}
	}
	return 0
}

// The connection to a target is cached and reused, a SELECT switching its
// database when another is asked for; a cached connection the target has
// closed is replaced (Redis retries once).
func TestMigrateCachedConnection(t *testing.T) {
	src, dst := testutil.Start(t), testutil.Start(t)
	s, d := src.Client(t), dst.Client(t)
	ctx := context.Background()
	s.MSet(ctx, "a", "1", "b", "2", "c", "3", "e", "5")
	if got := migrate(t, s, dst.Addr, "a", 0, 5000); got != "OK" {
		t.Fatal(got)
	}
	first := migrateConns(t, d)
	if len(first) != 1 || !strings.HasSuffix(first[0], "db=0") {
		t.Fatalf("after one MIGRATE: %q", first)
	}
	if got := migrate(t, s, dst.Addr, "b", 3, 5000); got != "OK" {
		t.Fatal(got)
	}
	second := migrateConns(t, d)
	if len(second) != 1 || strings.Fields(second[0])[0] != strings.Fields(first[0])[0] || !strings.HasSuffix(second[0], "db=3") {
		t.Fatalf("the connection should be reused with db 3: %q then %q", first, second)
	}
	d3 := dst.ClientWith(t, &redis.Options{Protocol: 2, DB: 3})
	if d3.Get(ctx, "b").Val() != "2" || d.Exists(ctx, "b").Val() != 0 {
		t.Fatal("b should be in db 3 of the target")
	}
	// The target drops the connection: the next MIGRATE reconnects.
	if err := d.Do(ctx, "client", "kill", "id", strings.TrimPrefix(strings.Fields(second[0])[0], "id=")).Err(); err != nil {
		t.Fatal(err)
	}
	if got := migrate(t, s, dst.Addr, "c", 0, 5000); got != "OK" {
		t.Fatalf("after the target closed the cached connection: %s", got)
	}
	if d.Get(ctx, "c").Val() != "3" {
		t.Fatal("c not on the target")
	}
	third := migrateConns(t, d)
	if len(third) != 1 || third[0] == second[0] {
		t.Fatalf("a new connection was expected: %q", third)
	}
	if info := s.Info(ctx, "stats").Val(); !strings.Contains(info, "migrate_cached_sockets:1\r\n") {
		t.Fatalf("INFO stats does not count the cached socket:\n%s", info)
	}
}

// MIGRATEs of keys of different shards run at the same time here (one at
// a time in Redis): each has a connection of its own while it runs.
func TestMigrateConcurrent(t *testing.T) {
	src, dst := testutil.Start(t), testutil.Start(t)
	ctx := context.Background()
	s := src.Client(t)
	const workers, rounds = 4, 30
	errs := make(chan string, workers*rounds)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				k := fmt.Sprintf("k%d-%d", w, i)
				s.Set(ctx, k, k, 0)
				if got := migrate(t, s, dst.Addr, "", w, 5000, "keys", k); got != "OK" {
					errs <- k + ": " + got
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	for w := range workers {
		dw := dst.ClientWith(t, &redis.Options{Protocol: 2, DB: w})
		if n := dw.DBSize(ctx).Val(); n != rounds {
			t.Errorf("db %d of the target has %d keys, want %d", w, n, rounds)
		}
	}
	if n := s.DBSize(ctx).Val(); n != 0 {
		t.Errorf("%d keys left on the source", n)
	}
}

// The deletion reaches replicas and the AOF as DEL of the keys that
// moved (not MIGRATE, nor the keys that did not), fires the "del" event
// and breaks WATCH; COPY propagates nothing.
func TestMigratePropagatesDel(t *testing.T) {
	src, dst := testutil.Start(t, "notify-keyspace-events", "Eg"), testutil.Start(t)
	s, d := src.Client(t), dst.Client(t)
	ctx := context.Background()
	ws := attachStream(t, src)
	s.MSet(ctx, "a", "1", "b", "2", "kept", "3")
	d.Set(ctx, "b", "there", 0)

	sub := src.Client(t).Subscribe(ctx, "__keyevent@0__:del")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	w := src.Client(t)
	err := w.Watch(ctx, func(tx *redis.Tx) error {
		if got := migrate(t, s, dst.Addr, "", 0, 5000, "keys", "a", "b", "missing"); !strings.Contains(got, "BUSYKEY") {
			t.Fatalf("MIGRATE: %q", got)
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Ping(ctx)
			return nil
		})
		return err
	}, "a")
	if err != redis.TxFailedErr {
		t.Fatalf("WATCH on a migrated key: %v", err)
	}
	// A WATCH on a key MIGRATE left in place survives.
	err = w.Watch(ctx, func(tx *redis.Tx) error {
		s.Set(ctx, "c", "4", 0)
		if got := migrate(t, s, dst.Addr, "", 0, 5000, "keys", "c", "b"); !strings.Contains(got, "BUSYKEY") {
			t.Fatalf("MIGRATE: %q", got)
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Ping(ctx)
			return nil
		})
		return err
	}, "b")
	if err != nil {
		t.Fatalf("WATCH on a key left in place: %v", err)
	}
	if got := migrate(t, s, dst.Addr, "kept", 0, 5000, "copy"); got != "OK" {
		t.Fatal(got)
	}
	for _, want := range []string{"a", "c"} {
		m, err := sub.ReceiveMessage(ctx)
		if err != nil || m.Payload != want {
			t.Fatalf("del event: %v %v, want %s", m, err, want)
		}
	}
	expectStream(t, ws, "select 0", "mset a 1 b 2 kept 3", "del a", "set c 4", "del c")
}

// A Corvid replica loses the migrated key.
func TestMigrateReplica(t *testing.T) {
	primary, replica, dst := testutil.Start(t), testutil.Start(t), testutil.Start(t)
	p, r := primary.Client(t), replica.Client(t)
	ctx := context.Background()
	h, port := migHostPort(t, primary.Addr)
	if err := r.Do(ctx, "replicaof", h, port).Err(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "link up", func() bool {
		return strings.Contains(r.Info(ctx, "replication").Val(), "master_link_status:up")
	})
	p.Set(ctx, "k", "v", 0)
	p.Set(ctx, "k2", "v", 0)
	testutil.WaitFor(t, 5*time.Second, "k replicated", func() bool { return r.Exists(ctx, "k", "k2").Val() == 2 })
	if got := migrate(t, p, dst.Addr, "k", 0, 5000); got != "OK" {
		t.Fatal(got)
	}
	if got := migrate(t, p, dst.Addr, "k2", 0, 5000, "copy"); got != "OK" {
		t.Fatal(got)
	}
	p.Set(ctx, "marker", "1", 0)
	testutil.WaitFor(t, 5*time.Second, "marker replicated", func() bool { return r.Exists(ctx, "marker").Val() == 1 })
	if r.Exists(ctx, "k").Val() != 0 || r.Exists(ctx, "k2").Val() != 1 {
		t.Fatal("the replica should have lost k (and kept k2, copied)")
	}
}

// COMMAND GETKEYS and COMMAND INFO agree with Redis 7.2 for MIGRATE.
func TestMigrateCommandKeys(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	for _, tc := range []struct {
		args []any
		want any
	}{
		{[]any{"h", "p", "", 0, 5000, "KEYS", "key1", "key2", "key3"}, []any{"key1", "key2", "key3"}},
		{[]any{"h", "p", "key1", 0, 5000}, []any{"key1"}},
		{[]any{"h", "p", "", 0, 5000}, []any{""}},
		{[]any{"h", "p", "", 0, 5000, "KEYS"}, []any{""}},
		{[]any{"h", "p", "", 0, 5000, "auth", "keys", "keys", "a"}, []any{"a"}},
		{[]any{"h", "p", "", 0, 5000, "auth2", "u", "keys", "keys", "a"}, []any{"a"}},
		{[]any{"h", "p", "k", 0, 5000, "KEYS", "a"}, "ERR Invalid arguments specified for command"},
	} {
		v, err := c.Do(ctx, append([]any{"command", "getkeys", "migrate"}, tc.args...)...).Result()
		if err != nil {
			v = err.Error()
		}
		if !reflect.DeepEqual(v, tc.want) {
			t.Errorf("COMMAND GETKEYS MIGRATE %v: %v, want %v", tc.args, v, tc.want)
		}
	}
	info, err := c.Do(ctx, "command", "info", "migrate").Result()
	if err != nil {
		t.Fatal(err)
	}
	e := info.([]any)[0].([]any)
	if e[1] != int64(-6) || !reflect.DeepEqual(e[2], []any{"write", "movablekeys"}) ||
		e[3] != int64(3) || e[4] != int64(3) || e[5] != int64(1) ||
		!reflect.DeepEqual(e[6], []any{"@keyspace", "@write", "@slow", "@dangerous"}) ||
		!reflect.DeepEqual(e[7], []any{"nondeterministic_output"}) || len(e[8].([]any)) != 2 {
		t.Fatalf("COMMAND INFO MIGRATE: %v", e)
	}
}

// redis-py builds its key finder from COMMAND: MIGRATE is movablekeys, so
// it asks COMMAND GETKEYS.
func TestMigrateRedisPyKeys(t *testing.T) {
	py := "/usr/bin/python3"
	if exec.Command(py, "-c", "import redis").Run() != nil {
		t.Skip("no python3 with the redis module (Debian's python3-redis)")
	}
	srv := testutil.Start(t)
	_, port := migHostPort(t, srv.Addr)
	script := `
import sys, redis
from redis.commands.parser import CommandsParser
r = redis.Redis(port=int(sys.argv[1]))
p = CommandsParser(r)
print(p.get_keys(r, "MIGRATE", "h", "1", "", "0", "5000", "KEYS", "key1", "key2", "key3"))
print(p.get_keys(r, "MIGRATE", "h", "1", "key1", "0", "5000"))
`
	out, err := exec.Command(py, "-c", script, port).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := "['key1', 'key2', 'key3']\n['key1']\n"
	if string(out) != want {
		t.Fatalf("redis-py keys:\n%s\nwant\n%s", out, want)
	}
}

// Corvid's payloads restore in redis-server 7.0, and redis-server's
// MIGRATE restores in Corvid (SELECT, AUTH and the pipeline as Redis
// sends them).
func TestMigrateRedis70(t *testing.T) {
	bin := rtRedisBinary(t)
	raddr := startRedisServer(t, bin)
	src, dst := testutil.Start(t), testutil.Start(t, "requirepass", "pw")
	s := src.Client(t)
	r := redis.NewClient(&redis.Options{Addr: raddr, Protocol: 2})
	defer r.Close()
	ctx := context.Background()
	keys := migPopulate(t, s)
	want := map[string][]any{}
	for _, k := range keys {
		want[k] = migSnapshot(t, s, k)
	}
	args := []any{"", 2, 5000, "keys"}
	for _, k := range keys {
		args = append(args, k)
	}
	if got := migrate(t, s, raddr, args...); got != "OK" {
		t.Fatalf("MIGRATE to redis-server: %s", got)
	}
	r2 := redis.NewClient(&redis.Options{Addr: raddr, Protocol: 2, DB: 2})
	defer r2.Close()
	for _, k := range keys {
		if got := migSnapshot(t, r2, k); !reflect.DeepEqual(got, want[k]) {
			t.Errorf("%s in redis-server: %v, want %v", k, got, want[k])
		}
	}
	// And back, from redis-server to a Corvid with a password.
	h, p := migHostPort(t, dst.Addr)
	margs := []any{"migrate", h, p, "", 0, 5000, "auth", "pw", "keys"}
	for _, k := range keys {
		margs = append(margs, k)
	}
	if v, err := r2.Do(ctx, margs...).Result(); err != nil || v != "OK" {
		t.Fatalf("MIGRATE from redis-server: %v %v", v, err)
	}
	d := dst.ClientWith(t, &redis.Options{Protocol: 2, Password: "pw"})
	for _, k := range keys {
		if got := migSnapshot(t, d, k); !reflect.DeepEqual(got, want[k]) {
			t.Errorf("%s back in Corvid: %v, want %v", k, got, want[k])
		}
	}
}
