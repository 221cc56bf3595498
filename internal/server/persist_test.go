package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// fillEveryType writes one key of each type, in two databases.
func fillEveryType(t *testing.T, c *redis.Client) {
	ctx := context.Background()
	c.Set(ctx, "s", "v", 0)
	c.Set(ctx, "ttl", "v", time.Hour)
	c.Set(ctx, "n", "12345", 0)
	c.RPush(ctx, "l", "a", "b", "c")
	c.SAdd(ctx, "set", "x", "y")
	c.SAdd(ctx, "iset", 1, 2, 3)
	c.HSet(ctx, "h", "f", "v", "g", "w")
	c.ZAdd(ctx, "z", redis.Z{Score: 1.5, Member: "a"}, redis.Z{Score: -2, Member: "b"})
	for i := range 200 {
		c.ZAdd(ctx, "bigz", redis.Z{Score: float64(i), Member: "m" + strings.Repeat("x", i%7) + string(rune('a'+i%26))})
	}
	c.XAdd(ctx, &redis.XAddArgs{Stream: "st", ID: "1-1", Values: []string{"f", "v"}})
	c.XGroupCreate(ctx, "st", "g", "0")
	c.Do(ctx, "hset", "hx", "a", "1", "b", "2")
	c.Do(ctx, "hexpire", "hx", "3600", "fields", "1", "a")
	c.PFAdd(ctx, "hll", "a", "b", "c")
	c.Do(ctx, "function", "load", "#!lua name=lib\nredis.register_function('f', function() return 1 end)")
}

// digest is DEBUG DIGEST: equal datasets have equal digests.
func digest(t *testing.T, c *redis.Client) string {
	d, err := c.Do(context.Background(), "debug", "digest").Text()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSaveAndLoadAtStart(t *testing.T) {
	dir := t.TempDir()
	srv := testutil.Start(t, "dir", dir, "enable-debug-command", "yes")
	c := srv.Client(t)
	ctx := context.Background()
	fillEveryType(t, c)
	want := digest(t, c)
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dump.rdb")); err != nil {
		t.Fatal(err)
	}
	if n := c.Info(ctx, "persistence").Val(); !strings.Contains(n, "rdb_changes_since_last_save:0") || !strings.Contains(n, "rdb_saves:1") {
		t.Fatalf("INFO persistence after SAVE:\n%s", n)
	}
	// A new server on the same directory starts with the same dataset.
	srv2 := testutil.Start(t, "dir", dir, "enable-debug-command", "yes")
	c2 := srv2.Client(t)
	if got := digest(t, c2); got != want {
		t.Fatalf("digest after restart %s, want %s", got, want)
	}
	if ttl := c2.TTL(ctx, "ttl").Val(); ttl < 59*time.Minute {
		t.Fatalf("TTL after restart: %v", ttl)
	}
	if v, err := c2.Do(ctx, "fcall", "f", "0").Result(); err != nil || v != int64(1) {
		t.Fatalf("function after restart: %v %v", v, err)
	}
}

func TestBgsaveAndDebugReload(t *testing.T) {
	dir := t.TempDir()
	srv := testutil.Start(t, "dir", dir, "enable-debug-command", "yes")
	c := srv.Client(t)
	ctx := context.Background()
	fillEveryType(t, c)
	want := digest(t, c)
	if v := c.BgSave(ctx).Val(); v != "Background saving started" {
		t.Fatalf("BGSAVE: %q", v)
	}
	testutil.WaitFor(t, 5*time.Second, "bgsave done", func() bool {
		return strings.Contains(c.Info(ctx, "persistence").Val(), "rdb_bgsave_in_progress:0")
	})
	if _, err := os.Stat(filepath.Join(dir, "dump.rdb")); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "debug", "reload").Err(); err != nil {
		t.Fatal(err)
	}
	if got := digest(t, c); got != want {
		t.Fatalf("digest after DEBUG RELOAD %s, want %s", got, want)
	}
	if enc := c.ObjectEncoding(ctx, "bigz").Val(); enc != "skiplist" {
		t.Fatalf("bigz encoding after reload: %s", enc)
	}
	// SAVE is refused inside MULTI, as in Redis.
	r := srv.Raw(t)
	r.Do("multi")
	if v, _ := r.Do("save"); !strings.Contains(fmt.Sprint(v), "not allowed inside a transaction") {
		t.Fatalf("SAVE in MULTI: %v", v)
	}
}

func TestShutdownSaves(t *testing.T) {
	dir := t.TempDir()
	srv := testutil.Start(t, "dir", dir, "save", "")
	c := srv.Client(t)
	ctx := context.Background()
	c.Set(ctx, "k", "v", 0)
	r := srv.Raw(t)
	r.Do("shutdown", "nosave")
	if _, err := os.Stat(filepath.Join(dir, "dump.rdb")); err == nil {
		t.Fatal("SHUTDOWN NOSAVE wrote dump.rdb")
	}
	srv2 := testutil.Start(t, "dir", dir, "save", "")
	srv2.Client(t).Set(ctx, "k2", "v2", 0)
	srv2.Raw(t).Do("shutdown", "save")
	if _, err := os.Stat(filepath.Join(dir, "dump.rdb")); err != nil {
		t.Fatalf("SHUTDOWN SAVE: %v", err)
	}
	srv3 := testutil.Start(t, "dir", dir)
	if v := srv3.Client(t).Get(ctx, "k2").Val(); v != "v2" {
		t.Fatalf("k2 after SHUTDOWN SAVE and a restart: %q", v)
	}
}

// After a failed background save, with save points and
// stop-writes-on-bgsave-error, writes are refused with MISCONF until a
// save succeeds, as in Redis. A failed SAVE does not count: Redis's
// rdbSave leaves rdb_last_bgsave_status alone when it fails.
func TestWritesRefusedAfterFailedSave(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := testutil.Start(t, "dir", dir, "save", "3600 1")
	c := srv.Client(t)
	ctx := context.Background()
	c.Set(ctx, "k", "v", 0)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx).Err(); err == nil {
		t.Fatal("SAVE into a missing directory succeeded")
	}
	if err := c.Set(ctx, "k2", "v", 0).Err(); err != nil {
		t.Fatalf("write after a failed SAVE: %v", err)
	}
	if err := c.BgSave(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "BGSAVE over", func() bool {
		return strings.Contains(c.Info(ctx, "persistence").Val(), "rdb_bgsave_in_progress:0")
	})
	if err := c.Set(ctx, "k2", "v", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "MISCONF ") {
		t.Fatalf("write after a failed save: %v", err)
	}
	if v := c.Get(ctx, "k").Val(); v != "v" {
		t.Fatalf("reads must still work: %q", v)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "k2", "v", 0).Err(); err != nil {
		t.Fatalf("write after a good save: %v", err)
	}
	c.ConfigSet(ctx, "stop-writes-on-bgsave-error", "no")
}

// A list kept as one listpack comes back as a listpack when it fits the
// node limits (here 500 small integers under list-max-listpack-size -1),
// and as a quicklist when it does not, as Redis converts a loaded one-node
// quicklist.
func TestDebugReloadListEncoding(t *testing.T) {
	srv := testutil.Start(t, "dir", t.TempDir(), "enable-debug-command", "yes", "list-max-listpack-size", "-1")
	c := srv.Client(t)
	ctx := context.Background()
	for i := range 500 {
		c.RPush(ctx, "small", i)
	}
	for i := range 2000 {
		c.RPush(ctx, "big", i)
	}
	for _, k := range []string{"small", "big"} {
		before := c.ObjectEncoding(ctx, k).Val()
		if err := c.Do(ctx, "debug", "reload").Err(); err != nil {
			t.Fatal(err)
		}
		if after := c.ObjectEncoding(ctx, k).Val(); after != before {
			t.Fatalf("%s: encoding %s before DEBUG RELOAD, %s after", k, before, after)
		}
	}
	if enc := c.ObjectEncoding(ctx, "small").Val(); enc != "listpack" {
		t.Fatalf("small: %s", enc)
	}
	if enc := c.ObjectEncoding(ctx, "big").Val(); enc != "quicklist" {
		t.Fatalf("big: %s", enc)
	}
	if v := c.LIndex(ctx, "small", 499).Val(); v != "499" {
		t.Fatalf("LINDEX small 499: %q", v)
	}
}

// DEBUG RELOAD NOFLUSH loads over the dataset: a library or key in both is
// an error, unless MERGE, where the snapshot's version wins.
func TestDebugReloadNoflushMerge(t *testing.T) {
	srv := testutil.Start(t, "dir", t.TempDir(), "enable-debug-command", "yes")
	c := srv.Client(t)
	ctx := context.Background()
	lib := "#!lua name=test\nredis.register_function('test', function() return 'v1' end)"
	if err := c.FunctionLoad(ctx, lib).Err(); err != nil {
		t.Fatal(err)
	}
	c.Set(ctx, "x", "saved", 0)
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	c.Set(ctx, "x", "changed", 0)
	c.Set(ctx, "y", "new", 0)
	if err := c.Do(ctx, "debug", "reload", "nosave", "noflush").Err(); err == nil || !strings.Contains(err.Error(), "Error trying to load the RDB") {
		t.Fatalf("DEBUG RELOAD NOSAVE NOFLUSH over the same library: %v", err)
	}
	if err := c.Do(ctx, "debug", "reload", "nosave", "noflush", "merge").Err(); err != nil {
		t.Fatal(err)
	}
	if x, y := c.Get(ctx, "x").Val(), c.Get(ctx, "y").Val(); x != "saved" || y != "new" {
		t.Fatalf("after NOFLUSH MERGE: x=%q y=%q", x, y)
	}
	if v := c.FCall(ctx, "test", nil).Val(); v != "v1" {
		t.Fatalf("FCALL test after the merge: %v", v)
	}
}

// A library name in the shebang may be quoted, as sdssplitargs reads it.
func TestFunctionLoadQuotedName(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	if v, err := c.FunctionLoad(context.Background(), "#!lua name=\"foo\"\nredis.register_function('foo', function() return 1 end)").Result(); err != nil || v != "foo" {
		t.Fatalf("FUNCTION LOAD with name=\"foo\": %q %v", v, err)
	}
}

// With save points, FLUSHALL saves the empty dataset at once, as Redis: a
// restart does not bring the keys back, and rdb_changes_since_last_save
// is 0.
func TestFlushallSavesWithSavePoints(t *testing.T) {
	srv := testutil.Start(t, "save", "3600 1 300 100", "enable-debug-command", "yes")
	c := srv.Client(t)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	c.Set(ctx, "k2", "v", 0)
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	info := c.Info(ctx, "persistence").Val()
	if !strings.Contains(info, "rdb_changes_since_last_save:0\r\n") {
		t.Fatalf("changes since the last save after FLUSHALL:\n%s", info)
	}
	if err := c.Do(ctx, "debug", "reload", "nosave").Err(); err != nil {
		t.Fatal(err)
	}
	if n := c.DBSize(ctx).Val(); n != 0 {
		t.Fatalf("the flushed keys came back from dump.rdb: dbsize %d", n)
	}
}
