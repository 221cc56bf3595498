package server_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/rdb"
	"github.com/corvid-db/corvid/internal/server"
	"github.com/corvid-db/corvid/internal/testutil"
)

// opaqueWriter hides a buffer's type, as a socket to a replica would be:
// the snapshot's header cannot be rewritten once flushed.
type opaqueWriter struct{ b *bytes.Buffer }

func (w opaqueWriter) Write(p []byte) (int, error) { return w.b.Write(p) }

// TestSnapshotVersionUnpatchable: a snapshot streamed to an output that
// cannot be rewritten is labelled up front with the version its keys
// need (the pre-pass), and loads; the same on a buffer gets it by
// patching.
func TestSnapshotVersionUnpatchable(t *testing.T) {
	srv := testutil.Start(t, "rdbcompression", "no")
	c := srv.Client(t)
	ctx := context.Background()
	// Enough data that the header leaves the writer's 64 KiB buffer.
	for i := range 200 {
		c.Set(ctx, fmt.Sprint("filler-", i), strings.Repeat(fmt.Sprint(i, "-"), 400), 0)
	}
	check := func(want int) {
		t.Helper()
		for _, opaque := range []bool{false, true} {
			var buf bytes.Buffer
			var out interface{ Write([]byte) (int, error) } = &buf
			if opaque {
				out = opaqueWriter{&buf}
			}
			if err := server.WriteSnapshot(srv.Srv, out); err != nil {
				t.Fatalf("opaque %v: %v", opaque, err)
			}
			if buf.Len() < 100<<10 {
				t.Fatalf("snapshot of %d bytes does not test a flushed header", buf.Len())
			}
			ver, err := rdb.Load(bytes.NewReader(buf.Bytes()), &rdb.Loader{})
			if err != nil {
				t.Fatalf("opaque %v: load: %v", opaque, err)
			}
			if ver != want {
				t.Errorf("opaque %v: version %d, want %d", opaque, ver, want)
			}
		}
	}
	check(rdb.Version70)
	c.XAdd(ctx, &redis.XAddArgs{Stream: "x", ID: "1-1", Values: []any{"f", "v"}})
	c.XGroupCreate(ctx, "x", "g", "0")
	c.XGroupCreateConsumer(ctx, "x", "g", "idle") // active time -1: type 21
	check(rdb.Version72)
	c.Del(ctx, "x")
	check(rdb.Version70)
	c.SAdd(ctx, "s", "a", 1, 2)
	c.SRem(ctx, "s", "a")
	check(rdb.Version72)
	c.HSet(ctx, "h", "a", 1)
	c.Do(ctx, "hpexpire", "h", 600000, "fields", 1, "a")
	check(rdb.VersionHashTTL)
	c.Do(ctx, "hpersist", "h", "fields", 1, "a")
	check(rdb.Version72)
}

// TestSnapshotSkipsExpiredHash: a hash whose every field has expired but
// that was not reclaimed yet is left out of the snapshot, which then
// loads (an empty hash in the file made DEBUG RELOAD and restarts fail).
func TestSnapshotSkipsExpiredHash(t *testing.T) {
	srv := testutil.Start(t, "enable-debug-command", "yes")
	c := srv.Client(t)
	ctx := context.Background()
	if err := c.Do(ctx, "debug", "set-active-expire", 0).Err(); err != nil {
		t.Fatal(err)
	}
	c.Set(ctx, "k", "v", 0)
	c.HSet(ctx, "h", "a", 1, "b", 2)
	c.Do(ctx, "hpexpire", "h", 1, "fields", 2, "a", "b")
	time.Sleep(5 * time.Millisecond) // past the 1 ms TTLs (a lower bound: nothing reclaims them)
	if err := c.Do(ctx, "debug", "reload").Err(); err != nil {
		t.Fatalf("debug reload: %v", err)
	}
	if n := c.Exists(ctx, "h").Val(); n != 0 || c.Get(ctx, "k").Val() != "v" {
		t.Fatalf("after reload: h exists %d, k %q", n, c.Get(ctx, "k").Val())
	}
}

// TestBgsaveMakesLittleGarbage: a background save of many small values
// allocates a few objects in all (pooled chunks, the file), not one or
// more per key. It did: each value that did not compress and each string
// that was not a number left garbage behind, and the collector then ran
// dozens of times per save, each run a pause for the clients served
// meanwhile.
func TestBgsaveMakesLittleGarbage(t *testing.T) {
	srv := testutil.Start(t, "save", "", "dir", t.TempDir())
	c := srv.Client(t)
	ctx := context.Background()
	const keys = 50000
	rng := rand.New(rand.NewPCG(5, 6))
	value := make([]byte, 100)
	p := c.Pipeline()
	for i := range keys {
		for j := range value {
			value[j] = byte(rng.Uint32())
		}
		p.Set(ctx, fmt.Sprintf("key:%012d", i), string(value), 0)
		if i%1000 == 999 {
			if _, err := p.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 5000 { // a big value, encoded with no lock held
		p.ZAdd(ctx, "zbig", redis.Z{Score: float64(i), Member: fmt.Sprint("member-", i)})
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := c.BgSave(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(c.Info(ctx, "persistence").Val(), "rdb_bgsave_in_progress:0") {
		if time.Now().After(deadline) {
			t.Fatal("BGSAVE did not finish")
		}
		time.Sleep(20 * time.Millisecond)
	}
	runtime.ReadMemStats(&after)
	if !strings.Contains(c.Info(ctx, "persistence").Val(), "rdb_last_bgsave_status:ok") {
		t.Fatal("BGSAVE failed")
	}
	// The race detector's build allocates where the normal one does not,
	// and its sync.Pool drops a share of what is put back.
	if n := after.Mallocs - before.Mallocs; n > keys/10 && !raceEnabled() {
		t.Errorf("a BGSAVE of %d keys made %d objects, want at most %d", keys, n, keys/10)
	}
}
