package server_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// AOF directories exchanged with Debian's redis-server 7.0, in both
// directions, and Corvid's files checked by redis-check-aof and
// redis-check-rdb. The layout is Redis 7's multi-part AOF: appenddirname
// holds a manifest, a base file (an RDB snapshot, or commands when
// aof-use-rdb-preamble is off) and incremental files of commands. The
// dataset is rtFill's (every type and encoding, TTLs, several databases, a
// function library), then rtAppendWrites's, which reach the incremental
// file as the servers propagate them: MULTI/EXEC units, scripts,
// database changes, stream group moves. Both servers are given the same
// non-default appenddirname and appendfilename.

const (
	rtAOFDir  = "rt-aof-dir"
	rtAOFFile = "rt.aof"
)

// rtRedisTool returns the path of one of redis-server's tools
// (redis-check-aof, redis-check-rdb), skipping the test without it.
func rtRedisTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/" + name); err == nil {
		return "/usr/bin/" + name
	}
	t.Skip(name + " not installed")
	return ""
}

// rtStartRedisAOF starts redis-server on dir with appendonly on (fsynced
// before each reply) in rtAOFDir, loading it if it exists, with the
// extra directives.
func rtStartRedisAOF(t *testing.T, dir string, extra ...string) *rtRedis {
	t.Helper()
	return rtStartRedis(t, dir, append([]string{"--appendonly", "yes", "--appendfsync", "always",
		"--appenddirname", rtAOFDir, "--appendfilename", rtAOFFile}, extra...)...)
}

// rtStartCorvidAOF starts Corvid on dir with appendonly on in rtAOFDir,
// loading it if it exists, with the extra directives.
func rtStartCorvidAOF(t *testing.T, dir string, extra ...string) *testutil.Instance {
	t.Helper()
	return testutil.Start(t, append([]string{"dir", dir, "appendonly", "yes",
		"appenddirname", rtAOFDir, "appendfilename", rtAOFFile}, extra...)...)
}

// rtInfoInt reads an integer field of INFO persistence.
func rtInfoInt(t *testing.T, c *redis.Client, field string) int {
	t.Helper()
	info, err := c.Info(context.Background(), "persistence").Result()
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("INFO %s: %q", field, v)
			}
			return n
		}
	}
	t.Fatalf("INFO persistence lacks %s:\n%s", field, info)
	return 0
}

// rtRewriteAOF runs BGREWRITEAOF and waits until the rewrite is done and
// the manifest switched (at once in Corvid, in a child in redis-server).
func rtRewriteAOF(t *testing.T, c *redis.Client) {
	t.Helper()
	before := rtInfoInt(t, c, "aof_rewrites")
	if err := c.BgRewriteAOF(context.Background()).Err(); err != nil {
		t.Fatalf("bgrewriteaof: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for rtInfoInt(t, c, "aof_rewrites") == before || rtInfoInt(t, c, "aof_rewrite_in_progress") != 0 ||
		rtInfoInt(t, c, "aof_rewrite_scheduled") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the AOF rewrite did not finish")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := rtInfoInt(t, c, "aof_rewrites"); n != before+1 {
		t.Fatalf("aof_rewrites %d after one rewrite from %d", n, before)
	}
}

// rtAppendWrites changes rtFill's dataset in ways that reach the
// incremental file as each server propagates them: MULTI/EXEC units (one
// selecting another database inside), a script, commands replicated as
// others (INCRBYFLOAT, GETEX, XREADGROUP, XAUTOCLAIM…), TTLs set, changed
// and removed, keys moved between databases, SWAPDB, an expired key, a
// second function library. Nothing here is random, so both servers end
// with the same contents.
func rtAppendWrites(t *testing.T, clients map[int]*redis.Client) {
	t.Helper()
	ctx := context.Background()
	c := clients[0]
	must := func(c *redis.Client, args ...any) {
		t.Helper()
		if err := c.Do(ctx, args...).Err(); err != nil && err != redis.Nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "tx:counter")
		p.Set(ctx, "tx:s", "v", time.Hour)
		p.RPush(ctx, "list:small", "tx")
		p.HSet(ctx, "hash:small", "tx", "1")
		p.Expire(ctx, "list:big", 2*time.Hour)
		return nil
	}); err != nil {
		t.Fatalf("multi/exec: %v", err)
	}
	// A transaction that changes database: a client of its own, as the
	// SELECT stays on the connection.
	o := *c.Options()
	o.PoolSize = 1
	sel := redis.NewClient(&o)
	if _, err := sel.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "tx:db0", "a", 0)
		p.Select(ctx, 9)
		p.Set(ctx, "tx:db9", "b", 0)
		p.SAdd(ctx, "tx:db9:set", 1, 2, "three")
		return nil
	}); err != nil {
		t.Fatalf("multi/exec with select: %v", err)
	}
	sel.Close()
	must(c, "eval", "redis.call('set', KEYS[1], 'lua') redis.call('incr', KEYS[2]) redis.call('pexpire', KEYS[1], 900000)",
		2, "lua:s", "tx:counter")
	must(c, "incrbyfloat", "str:float", "1.5")
	must(c, "hincrbyfloat", "hash:small", "f3", "1.25")
	must(c, "set", "str:embstr", "changed", "keepttl")
	must(c, "append", "str:raw", "tail")
	must(c, "expire", "str:int", 1000)
	must(c, "persist", "str:ttl")
	must(c, "pexpireat", "str:neg", time.Now().Add(time.Hour).UnixMilli())
	must(c, "getex", "str:bigint", "ex", 500)
	must(c, "set", "gone:soon", "v", "px", 1)
	must(c, "del", "set:ht")
	must(c, "lpop", "list:big", 10)
	must(c, "lmove", "list:big", "list:moved", "left", "right")
	must(c, "srem", "set:intset", 1)
	must(c, "smove", "set:listpack", "set:intset", "b")
	must(c, "zincrby", "zset:big", 5, "m3")
	must(c, "zrem", "zset:big", "m4")
	must(c, "zpopmin", "zset:small")
	must(c, "hdel", "hash:small", "f1")
	must(c, "xadd", "stream:plain", "1-20", "f", "v")
	must(c, "xtrim", "stream:plain", "maxlen", 5)
	must(c, "xadd", "stream:groups", "2001-0", "new", "entry")
	must(c, "xreadgroup", "group", "g2", "carol", "count", 2, "streams", "stream:groups", ">")
	must(c, "xclaim", "stream:groups", "g1", "dave", 0, "1000-1")
	must(c, "xautoclaim", "stream:groups", "g1", "erin", 0, "0-0", "count", 1)
	must(c, "xack", "stream:groups", "g1", "1002-0")
	must(c, "xgroup", "create", "stream:groups", "g3", "1500-0")
	must(c, "xgroup", "createconsumer", "stream:groups", "g3", "frank")
	must(c, "xgroup", "setid", "stream:groups", "g2", "1500-0")
	must(c, "copy", "str:embstr", "copied", "db", 9)
	must(c, "move", "hash:longval", 3)
	must(c, "function", "load", "#!lua name=rtlib2\nredis.register_function('rtg', function(keys, args) return 2 end)")
	d3 := clients[3]
	must(d3, "set", "db3:str", "new")
	must(d3, "del", "db3:list")
	must(d3, "rename", "db3:ttl", "db3:renamed")
	must(d3, "swapdb", 3, 9)
	time.Sleep(5 * time.Millisecond) // gone:soon is past its TTL
}

// rtCopyAOF copies the AOF directory of src into dst, as it is on disk.
func rtCopyAOF(t *testing.T, src, dst string) {
	t.Helper()
	from, to := filepath.Join(src, rtAOFDir), filepath.Join(dst, rtAOFDir)
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(from, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, f.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// rtManifest reads the manifest of the AOF directory in dir: the base
// file and the incremental files.
func rtManifest(t *testing.T, dir string) (base string, incrs []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, rtAOFDir, rtAOFFile+".manifest"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		if len(f) != 6 || f[0] != "file" || f[2] != "seq" || f[4] != "type" {
			t.Fatalf("manifest line %q", line)
		}
		switch f[5] {
		case "b":
			base = f[1]
		case "i":
			incrs = append(incrs, f[1])
		}
	}
	if base == "" || len(incrs) == 0 {
		t.Fatalf("manifest without a base or an incremental file:\n%s", data)
	}
	return base, incrs
}

// rtAOFLoadTime are the stream fields an AOF does not carry: a consumer
// made or moved by a command (XCLAIM, XREADGROUP, XGROUP CREATECONSUMER)
// is seen when the command is loaded, in Redis as in Corvid.
var rtAOFLoadTime = []string{"seen-time"}

// rtAOFCase is one way of writing the AOF: its extra directives, and
// whether the dataset is rewritten into a base before rtAppendWrites.
type rtAOFCase struct {
	name    string
	extra   []string
	rewrite bool
}

// TestAOFFromRedis70: Corvid started on an AOF directory redis-server 7.0
// wrote holds the same contents (every key's type, value, TTL and mapped
// encoding, the function libraries), whether the base is an RDB file
// (aof-use-rdb-preamble yes), commands (no), or the empty base Redis
// starts with, all of the dataset then being in the incremental file as
// redis-server propagated it, timestamp annotations included.
func TestAOFFromRedis70(t *testing.T) {
	rtRedisBinary(t)
	for _, tc := range []rtAOFCase{
		{"rdb base", []string{"--aof-use-rdb-preamble", "yes"}, true},
		{"command base", []string{"--aof-use-rdb-preamble", "no"}, true},
		{"empty rdb base", []string{"--aof-use-rdb-preamble", "yes"}, false},
		{"empty command base", []string{"--aof-use-rdb-preamble", "no"}, false},
		{"timestamps", []string{"--aof-use-rdb-preamble", "yes", "--aof-timestamp-enabled", "yes"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			r := rtStartRedisAOF(t, dir, tc.extra...)
			r.waitReady(t)
			redis70 := func(db int) *redis.Client { return r.client(t, db) }
			rtFill(t, rtClients(redis70))
			if tc.rewrite {
				rtRewriteAOF(t, redis70(0))
			}
			rtAppendWrites(t, rtClients(redis70))
			base, incrs := rtManifest(t, dir)
			want := ".rdb" // tc.extra starts with aof-use-rdb-preamble
			if tc.extra[1] == "no" {
				want = ".aof"
			}
			if filepath.Ext(base) != want {
				t.Fatalf("redis-server's base is %s, want a %s file", base, want)
			}
			incr, err := os.ReadFile(filepath.Join(dir, rtAOFDir, incrs[len(incrs)-1]))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(incr, []byte("\r\nMULTI\r\n")) {
				t.Fatalf("redis-server's incremental file has no MULTI:\n%.500s", incr)
			}
			if ts := slices.Contains(tc.extra, "--aof-timestamp-enabled"); ts != bytes.HasPrefix(incr, []byte("#TS:")) {
				t.Fatalf("redis-server's incremental file starts %q", incr[:min(len(incr), 20)])
			}
			// Every reply came after its fsync: the files are complete.
			copied := t.TempDir()
			rtCopyAOF(t, dir, copied)
			srv := rtStartCorvidAOF(t, copied)
			if n := srv.Client(t).DBSize(context.Background()).Val(); n == 0 {
				t.Fatal("Corvid loaded nothing from redis-server's AOF")
			}
			// Every command of the files ran without an error (where
			// Redis stops loading at an unknown command).
			if errs := srv.Client(t).Info(context.Background(), "errorstats").Val(); strings.Contains(errs, "errorstat_") {
				t.Errorf("replaying redis-server's AOF failed commands:\n%s", errs)
			}
			rtCompare(t, rtCorvidClients(t, srv), redis70, rtEncoding70, rtAOFLoadTime...)
		})
	}
}

// TestAOFToRedis70: redis-server 7.0 started on an AOF directory Corvid
// wrote holds the same contents as the Corvid that wrote it, with the
// dataset in an RDB base (version 10) after a rewrite, in a base of
// commands (aof-use-rdb-preamble no, timestamp annotations included), or
// all of it in the incremental file as Corvid propagated it.
func TestAOFToRedis70(t *testing.T) {
	rtRedisBinary(t)
	commands := []string{"aof-use-rdb-preamble", "no", "aof-timestamp-enabled", "yes"}
	for _, tc := range []rtAOFCase{
		{"rewritten", nil, true},
		{"command base", commands, true},
		{"incremental", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			srv := rtStartCorvidAOF(t, dir, append([]string{"appendfsync", "always"}, tc.extra...)...)
			corvid := rtCorvidClients(t, srv)
			rtFill(t, rtClients(corvid))
			if tc.rewrite {
				rtRewriteAOF(t, corvid(0))
			}
			rtAppendWrites(t, rtClients(corvid))
			base, _ := rtManifest(t, dir)
			data, err := os.ReadFile(filepath.Join(dir, rtAOFDir, base))
			if err != nil {
				t.Fatal(err)
			}
			want := "REDIS0010"
			if tc.extra != nil {
				want = "#TS:"
			}
			if !bytes.HasPrefix(data, []byte(want)) {
				t.Fatalf("base %s starts %q, want %s", base, data[:min(len(data), 9)], want)
			}
			copied := t.TempDir()
			rtCopyAOF(t, dir, copied)
			r := rtStartRedisAOF(t, copied)
			r.waitReady(t)
			rtCompare(t, corvid, func(db int) *redis.Client { return r.client(t, db) }, rtEncoding70, rtAOFLoadTime...)
		})
	}
}

// TestAOFCheckedByRedis70: redis-check-aof (given the manifest, as 7.0
// accepts) finds Corvid's AOF directory valid after a clean shutdown, with
// MULTI/EXEC units in the incremental file, and redis-check-rdb its RDB
// base; redis-server 7.0 then loads the directory with the keys Corvid
// had. With aof-use-rdb-preamble no the base is commands, which
// redis-check-aof checks as such.
func TestAOFCheckedByRedis70(t *testing.T) {
	checkAOF := rtRedisTool(t, "redis-check-aof")
	checkRDB := rtRedisTool(t, "redis-check-rdb")
	for _, tc := range []rtAOFCase{
		{"rewritten", nil, true},
		{"command base", []string{"aof-use-rdb-preamble", "no", "aof-timestamp-enabled", "yes"}, true},
		{"incremental", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			srv := rtStartCorvidAOF(t, dir, tc.extra...) // appendfsync everysec: the shutdown writes the rest
			corvid := rtCorvidClients(t, srv)
			rtFill(t, rtClients(corvid))
			if tc.rewrite {
				rtRewriteAOF(t, corvid(0))
			}
			rtAppendWrites(t, rtClients(corvid))
			// Keys, not DBSIZE: that counts gone:soon until it is deleted.
			keys := map[int]int{}
			for _, db := range rtDatabases {
				keys[db] = len(corvid(db).Keys(context.Background(), "*").Val())
			}
			if err := srv.Srv.Shutdown(context.Background()); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			base, incrs := rtManifest(t, dir)
			incr, err := os.ReadFile(filepath.Join(dir, rtAOFDir, incrs[len(incrs)-1]))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(incr, []byte("\r\nMULTI\r\n")) || !bytes.Contains(incr, []byte("\r\nEXEC\r\n")) {
				t.Fatalf("Corvid's incremental file has no MULTI/EXEC:\n%.500s", incr)
			}
			manifest := filepath.Join(dir, rtAOFDir, rtAOFFile+".manifest")
			out, err := exec.Command(checkAOF, manifest).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "is valid") {
				t.Fatalf("redis-check-aof %s: %v\n%s", manifest, err, out)
			}
			if strings.HasSuffix(base, ".rdb") {
				out, err = exec.Command(checkRDB, filepath.Join(dir, rtAOFDir, base)).CombinedOutput()
				if err != nil || !strings.Contains(string(out), "RDB looks OK") {
					t.Fatalf("redis-check-rdb %s: %v\n%s", base, err, out)
				}
			} else if !strings.Contains(string(out), "Start to check BASE AOF (RESP format).") {
				t.Fatalf("redis-check-aof did not check %s as commands:\n%s", base, out)
			}
			r := rtStartRedisAOF(t, dir)
			r.waitReady(t)
			for db, n := range keys {
				if got := len(r.client(t, db).Keys(context.Background(), "*").Val()); got != n {
					t.Errorf("db %d: redis-server loaded %d keys, Corvid had %d", db, got, n)
				}
			}
		})
	}
}

// TestRDBCheckedByRedis70: redis-check-rdb finds the dump.rdb Corvid saves
// of the every-type dataset valid.
func TestRDBCheckedByRedis70(t *testing.T) {
	checkRDB := rtRedisTool(t, "redis-check-rdb")
	srv := testutil.Start(t)
	rtFill(t, rtClients(rtCorvidClients(t, srv)))
	data := rtSave(t, srv)
	path := filepath.Join(t.TempDir(), "dump.rdb")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(checkRDB, path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "RDB looks OK") {
		t.Fatalf("redis-check-rdb: %v\n%s", err, out)
	}
}

// TestAOFCommandBaseAndAnnotations: without redis-server, Corvid loads a
// base of commands (as Redis writes with aof-use-rdb-preamble no) and
// skips annotation lines ("#TS:...", aof-timestamp-enabled), one inside a
// MULTI/EXEC unit included, which Corvid used to run as an unknown inline
// command, failing the transaction.
func TestAOFCommandBaseAndAnnotations(t *testing.T) {
	dir := t.TempDir()
	aof := filepath.Join(dir, rtAOFDir)
	if err := os.MkdirAll(aof, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		rtAOFFile + ".manifest": "file " + rtAOFFile + ".3.base.aof seq 3 type b\n" +
			"file " + rtAOFFile + ".3.incr.aof seq 3 type i\n",
		rtAOFFile + ".3.base.aof": string(testutil.Encode("SELECT", "0")) + string(testutil.Encode("SET", "a", "1")) +
			string(testutil.Encode("RPUSH", "l", "x", "y")) + string(testutil.Encode("SELECT", "2")) +
			string(testutil.Encode("SET", "b", "2")),
		rtAOFFile + ".3.incr.aof": "#TS:1700000000\r\n" + string(testutil.Encode("SELECT", "0")) +
			string(testutil.Encode("MULTI")) + string(testutil.Encode("INCR", "a")) +
			"#TS:1700000001\r\n" + string(testutil.Encode("SET", "c", "3")) + string(testutil.Encode("EXEC")),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(aof, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := rtStartCorvidAOF(t, dir)
	ctx := context.Background()
	c0, c2 := srv.Client(t), srv.ClientWith(t, &redis.Options{DB: 2, Protocol: 2})
	if a, l, cv, b := c0.Get(ctx, "a").Val(), c0.LRange(ctx, "l", 0, -1).Val(), c0.Get(ctx, "c").Val(), c2.Get(ctx, "b").Val(); a != "2" || cv != "3" || b != "2" || len(l) != 2 {
		t.Errorf("a=%q l=%q c=%q b(db 2)=%q, want 2 [x y] 3 2", a, l, cv, b)
	}
	if errs := c0.Info(ctx, "errorstats").Val(); strings.Contains(errs, "errorstat_") {
		t.Errorf("loading ran failed commands:\n%s", errs)
	}
}
