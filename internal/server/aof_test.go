package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/testutil"
)

func TestAOFReloadAndRestart(t *testing.T) {
	dir := t.TempDir()
	srv := testutil.Start(t, "dir", dir, "appendonly", "yes", "appendfsync", "always", "enable-debug-command", "yes")
	c := srv.Client(t)
	ctx := context.Background()
	fillEveryType(t, c)
	c.Incr(ctx, "counter")
	c.Expire(ctx, "counter", time.Hour)
	r := srv.Raw(t)
	r.Do("multi")
	r.Do("incr", "counter")
	r.Do("set", "x", "1")
	r.Do("exec")
	c.Do(ctx, "xadd", "st", "maxlen", "~", "1", "limit", "10", "*", "f", "v")
	want := digest(t, c)
	if !strings.Contains(c.Info(ctx, "persistence").Val(), "aof_enabled:1") {
		t.Fatal("aof_enabled is not 1")
	}
	if err := c.Do(ctx, "debug", "loadaof").Err(); err != nil {
		t.Fatal(err)
	}
	if got := digest(t, c); got != want {
		t.Fatalf("digest after DEBUG LOADAOF %s, want %s", got, want)
	}
	if err := c.Do(ctx, "bgrewriteaof").Err(); err != nil {
		t.Fatal(err)
	}
	c.Set(ctx, "after-rewrite", "1", 0) // during or after the rewrite
	testutil.WaitFor(t, 10*time.Second, "rewrite done", func() bool {
		return strings.Contains(c.Info(ctx, "persistence").Val(), "aof_rewrite_in_progress:0")
	})
	want = digest(t, c)
	files, _ := os.ReadDir(filepath.Join(dir, "appendonlydir"))
	if len(files) != 3 {
		t.Fatalf("appendonlydir holds %d files, want base, incr and manifest", len(files))
	}
	if err := c.Do(ctx, "debug", "loadaof").Err(); err != nil {
		t.Fatal(err)
	}
	if got := digest(t, c); got != want {
		t.Fatalf("digest after a rewrite and DEBUG LOADAOF %s, want %s", got, want)
	}
	// A new server on the directory starts from the AOF.
	srv2 := testutil.Start(t, "dir", dir, "appendonly", "yes", "enable-debug-command", "yes")
	if got := digest(t, srv2.Client(t)); got != want {
		t.Fatalf("digest after restart %s, want %s", got, want)
	}
}

func TestAOFTurnedOnAtRunTime(t *testing.T) {
	dir := t.TempDir()
	srv := testutil.Start(t, "dir", dir, "enable-debug-command", "yes")
	c := srv.Client(t)
	ctx := context.Background()
	c.Set(ctx, "before", "1", 0)
	if err := c.ConfigSet(ctx, "appendonly", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	c.Set(ctx, "after", "2", 0) // during or after the rewrite that makes the base
	// As with Redis, the AOF exists once the rewrite that turning it on
	// starts is done.
	testutil.WaitFor(t, 10*time.Second, "initial rewrite", func() bool {
		return strings.Contains(c.Info(ctx, "persistence").Val(), "aof_rewrite_in_progress:0")
	})
	want := digest(t, c)
	if err := c.Do(ctx, "debug", "loadaof").Err(); err != nil {
		t.Fatal(err)
	}
	if got := digest(t, c); got != want {
		t.Fatalf("digest after DEBUG LOADAOF %s, want %s", got, want)
	}
	if err := c.ConfigSet(ctx, "appendonly", "no").Err(); err != nil {
		t.Fatal(err)
	}
}
