package server_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// The background snapshots under a continuous write load: each test
// checks that what a BGSAVE, an AOF rewrite or a replica's full
// synchronisation produced is exactly the dataset at the snapshot's
// instant (DEBUG DIGEST taken in the same MULTI/EXEC as the command that
// fixes the instant), plus, for the AOF and the replica, every write
// acknowledged after it.

// startDebug starts a server that takes DEBUG (DIGEST, POPULATE).
func startDebug(t *testing.T, directives ...string) *testutil.Instance {
	return testutil.Start(t, append(directives, "enable-debug-command", "yes")...)
}

// waitSameDigest waits up to 30 s for the replica's DEBUG DIGEST to be
// the primary's and returns both: the replica has applied everything when
// they agree, and a lost or doubled write never gets there.
func waitSameDigest(t *testing.T, replica, primary *redis.Client) (got, want string) {
	t.Helper()
	want = digestOf(t, primary)
	deadline := time.Now().Add(30 * time.Second)
	for got != want && time.Now().Before(deadline) {
		got = digestOf(t, replica)
		time.Sleep(20 * time.Millisecond)
	}
	return got, want
}

// fillForSnapshot makes a dataset of every type whose snapshot takes long
// enough for writers to overlap it: plain keys, and collections big
// enough to be written with no shard lock held.
func fillForSnapshot(t *testing.T, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	if err := c.Do(ctx, "debug", "populate", "20000", "key", "64").Err(); err != nil {
		t.Fatal(err)
	}
	p := c.Pipeline()
	for i := 0; i < 3000; i++ {
		m := "m" + strconv.Itoa(i)
		p.ZAdd(ctx, "big:zset", redis.Z{Score: float64(i), Member: m})
		p.HSet(ctx, "big:hash", m, i)
		p.SAdd(ctx, "big:set", m)
		p.RPush(ctx, "big:list", m)
		if i%10 == 0 {
			p.XAdd(ctx, &redis.XAddArgs{Stream: "big:stream", Values: []any{"f", m}})
			p.Set(ctx, "ttl:"+m, m, time.Hour)
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

// writeLoad runs writers over every type until stop is closed; n counts
// the writes acknowledged, and the function returned waits for the
// writers and returns it.
func writeLoad(t *testing.T, c *redis.Client, stop <-chan struct{}, n *atomic.Int64) func() int64 {
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				select {
				case <-stop:
					return
				default:
				}
				k := "key:" + strconv.Itoa(rng.IntN(24000))
				m := "m" + strconv.Itoa(rng.IntN(3500))
				var err error
				switch rng.IntN(9) {
				case 0:
					err = c.Del(ctx, k).Err()
				case 1:
					err = c.ZIncrBy(ctx, "big:zset", 1, m).Err()
				case 2:
					err = c.HIncrBy(ctx, "big:hash", m, 1).Err()
				case 3:
					err = c.SRem(ctx, "big:set", m).Err()
				case 4:
					err = c.LSet(ctx, "big:list", int64(rng.IntN(2500)), m).Err()
				case 5:
					err = c.XAdd(ctx, &redis.XAddArgs{Stream: "big:stream", Values: []any{"f", m}}).Err()
				case 6:
					err = c.Expire(ctx, k, time.Hour).Err()
				default:
					err = c.Set(ctx, k, "w"+strconv.Itoa(w), 0).Err()
				}
				if err != nil && err != redis.Nil {
					t.Errorf("write: %v", err)
					return
				}
				n.Add(1)
			}
		}(w)
	}
	return func() int64 { wg.Wait(); return n.Load() }
}

// overlapped fails the test unless writes were acknowledged while the
// background operation ran: before is the count when it began.
func overlapped(t *testing.T, n *atomic.Int64, before int64) {
	t.Helper()
	if during := n.Load() - before; during < 100 {
		t.Fatalf("only %d writes were served during the snapshot: the test proves nothing", during)
	}
}

// atInstant runs cmd in a MULTI with DEBUG DIGEST, so both see the same
// instant, and returns the digest.
func atInstant(t *testing.T, c *redis.Client, cmd ...any) string {
	t.Helper()
	ctx := context.Background()
	var digest *redis.Cmd
	_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		digest = p.Do(ctx, "debug", "digest")
		p.Do(ctx, cmd...)
		return nil
	})
	if err != nil {
		t.Fatalf("MULTI DEBUG DIGEST %v EXEC: %v", cmd, err)
	}
	return digest.Val().(string)
}

func digestOf(t *testing.T, c *redis.Client) string {
	t.Helper()
	d, err := c.Do(context.Background(), "debug", "digest").Text()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func infoLineOf(t *testing.T, c *redis.Client, section, field string) string {
	t.Helper()
	for _, l := range strings.Split(c.Info(context.Background(), section).Val(), "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return v
		}
	}
	return ""
}

// TestBgsaveUnderWritesIsTheInstant: the file a BGSAVE writes while four
// clients write holds the dataset at BGSAVE's instant, and the writers
// were served during the save.
func TestBgsaveUnderWritesIsTheInstant(t *testing.T) {
	dir := t.TempDir()
	srv := startDebug(t, "dir", dir, "save", "", "rdb-key-save-delay", "50")
	c := srv.Client(t)
	fillForSnapshot(t, c)
	stop := make(chan struct{})
	var n atomic.Int64
	done := writeLoad(t, c, stop, &n)
	time.Sleep(50 * time.Millisecond)
	want := atInstant(t, c, "bgsave")
	before := n.Load()
	testutil.WaitFor(t, 60*time.Second, "BGSAVE done", func() bool {
		return infoLineOf(t, c, "persistence", "rdb_bgsave_in_progress") == "0"
	})
	overlapped(t, &n, before)
	close(stop)
	writes := done()
	if status := infoLineOf(t, c, "persistence", "rdb_last_bgsave_status"); status != "ok" {
		t.Fatalf("rdb_last_bgsave_status:%s", status)
	}
	if digestOf(t, c) == want {
		t.Fatal("the writers changed nothing: the test proves nothing")
	}
	loaded := startDebug(t, "dir", dir, "save", "")
	if got := digestOf(t, loaded.Client(t)); got != want {
		t.Fatalf("dump.rdb holds digest %s, the dataset at BGSAVE's instant was %s (%d writes meanwhile)", got, want, writes)
	}
}

// TestAOFRewriteUnderWritesLosesNothing: a BGREWRITEAOF while clients
// write makes a base that is the dataset at its instant, and the AOF
// reloaded holds every acknowledged write.
func TestAOFRewriteUnderWritesLosesNothing(t *testing.T) {
	dir := t.TempDir()
	srv := startDebug(t, "dir", dir, "save", "", "appendonly", "yes", "appendfsync", "always", "rdb-key-save-delay", "50")
	c := srv.Client(t)
	fillForSnapshot(t, c)
	stop := make(chan struct{})
	var n atomic.Int64
	done := writeLoad(t, c, stop, &n)
	time.Sleep(50 * time.Millisecond)
	atBase := atInstant(t, c, "bgrewriteaof")
	before := n.Load()
	testutil.WaitFor(t, 60*time.Second, "rewrite done", func() bool {
		return infoLineOf(t, c, "persistence", "aof_rewrite_in_progress") == "0"
	})
	overlapped(t, &n, before)
	time.Sleep(100 * time.Millisecond) // writes after the rewrite too
	close(stop)
	done()
	want := digestOf(t, c)
	if want == atBase {
		t.Fatal("the writers changed nothing: the test proves nothing")
	}
	if err := srv.Srv.Close(); err != nil {
		t.Fatal(err)
	}
	// The new base alone is the instant.
	aofDir := filepath.Join(dir, "appendonlydir")
	bases, _ := filepath.Glob(filepath.Join(aofDir, "*.base.rdb"))
	if len(bases) != 1 {
		t.Fatalf("base files after the rewrite: %v", bases)
	}
	baseDir := t.TempDir()
	data, err := os.ReadFile(bases[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(baseDir, "dump.rdb"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := digestOf(t, startDebug(t, "dir", baseDir, "save", "").Client(t)); got != atBase {
		t.Fatalf("the new base holds digest %s, the dataset at the rewrite's instant was %s", got, atBase)
	}
	// Base and increment: every acknowledged write.
	reloaded := startDebug(t, "dir", dir, "save", "", "appendonly", "yes")
	if got := digestOf(t, reloaded.Client(t)); got != want {
		t.Fatalf("the reloaded AOF holds digest %s, the dataset was %s", got, want)
	}
}

// TestFullSyncUnderWritesLosesNothing: a replica synchronising while
// clients write ends with exactly the primary's dataset, diskless and
// from disk.
func TestFullSyncUnderWritesLosesNothing(t *testing.T) {
	for _, diskless := range []string{"yes", "no"} {
		t.Run("diskless-"+diskless, func(t *testing.T) {
			primary := startDebug(t, "dir", t.TempDir(), "save", "", "repl-diskless-sync", diskless, "rdb-key-save-delay", "50")
			replica := startDebug(t, "save", "")
			c, rc := primary.Client(t), replica.Client(t)
			fillForSnapshot(t, c)
			stop := make(chan struct{})
			var n atomic.Int64
			done := writeLoad(t, c, stop, &n)
			time.Sleep(50 * time.Millisecond)
			before := n.Load()
			host, port, _ := strings.Cut(primary.Addr, ":")
			if err := rc.Do(context.Background(), "replicaof", host, port).Err(); err != nil {
				t.Fatal(err)
			}
			testutil.WaitFor(t, 60*time.Second, "replica online", func() bool {
				return strings.Contains(infoLineOf(t, c, "replication", "slave0"), "state=online") &&
					infoLineOf(t, rc, "replication", "master_link_status") == "up"
			})
			overlapped(t, &n, before)
			time.Sleep(100 * time.Millisecond)
			close(stop)
			writes := done()
			if got, want := waitSameDigest(t, rc, c); got != want {
				t.Fatalf("replica digest %s, primary %s (%d writes)", got, want, writes)
			}
		})
	}
}

// TestSwapdbLoadFromAnotherPrimary: with repl-diskless-load swapdb a
// replica loading an RDB from a primary of another history (made slow
// with key-load-delay) loads it aside but answers -LOADING meanwhile
// (loading:1, async_loading:0), as Redis does, then has the primary's
// dataset in place of its own.
func TestSwapdbLoadFromAnotherPrimary(t *testing.T) {
	primary := startDebug(t, "save", "")
	replica := startDebug(t, "save", "", "repl-diskless-load", "swapdb", "key-load-delay", "100")
	c, rc := primary.Client(t), replica.Client(t)
	ctx := context.Background()
	if err := c.Do(ctx, "debug", "populate", "3000", "new", "10").Err(); err != nil {
		t.Fatal(err)
	}
	rc.Set(ctx, "old", "gone after the load", 0)
	host, port, _ := strings.Cut(primary.Addr, ":")
	if err := rc.Do(ctx, "replicaof", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "loading", func() bool {
		return infoLineOf(t, rc, "persistence", "loading") == "1"
	})
	if a := infoLineOf(t, rc, "persistence", "async_loading"); a != "0" {
		t.Fatalf("async_loading:%s loading from another history", a)
	}
	if err := rc.Get(ctx, "old").Err(); err == nil || !strings.HasPrefix(err.Error(), "LOADING") {
		t.Fatalf("GET during the load: %v", err)
	}
	testutil.WaitFor(t, 60*time.Second, "load done", func() bool {
		return infoLineOf(t, rc, "replication", "master_link_status") == "up"
	})
	if n := rc.DBSize(ctx).Val(); n != 3000 {
		t.Fatalf("replica has %d keys after the load, want the primary's 3000", n)
	}
	if digestOf(t, rc) != digestOf(t, c) {
		t.Fatal("replica's dataset differs from the primary's")
	}
}

// TestFullSyncHoldsStreamInBuffer: the stream written while a replica's
// RDB is being made is held back behind it, in the replication buffer,
// which outgrows the backlog meanwhile (repl_backlog_histlen past
// repl-backlog-size) and shrinks back once the replica has it. The
// replica ends with exactly the primary's dataset.
func TestFullSyncHoldsStreamInBuffer(t *testing.T) {
	for _, diskless := range []string{"yes", "no"} {
		t.Run("diskless-"+diskless, func(t *testing.T) {
			primary := startDebug(t, "dir", t.TempDir(), "save", "", "repl-diskless-sync", diskless,
				"repl-diskless-sync-delay", "0", "rdb-key-save-delay", "200")
			replica := startDebug(t, "save", "")
			c, rc := primary.Client(t), replica.Client(t)
			ctx := context.Background()
			if err := c.Do(ctx, "debug", "populate", "5000", "key", "64").Err(); err != nil {
				t.Fatal(err)
			}
			host, port, _ := strings.Cut(primary.Addr, ":")
			if err := rc.Do(ctx, "replicaof", host, port).Err(); err != nil {
				t.Fatal(err)
			}
			testutil.WaitFor(t, 10*time.Second, "the snapshot running", func() bool {
				return infoLineOf(t, c, "persistence", "rdb_bgsave_in_progress") == "1"
			})
			// 24 MiB of writes while the RDB is being made (5000 keys at
			// 200 µs each: a second), in order, some to the same keys.
			value := strings.Repeat("v", 64<<10)
			p := c.Pipeline()
			for i := range 384 {
				p.Set(ctx, "big:"+strconv.Itoa(i%300), value+strconv.Itoa(i), 0)
				p.Incr(ctx, "counter")
			}
			if _, err := p.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if infoLineOf(t, c, "persistence", "rdb_bgsave_in_progress") != "1" {
				t.Fatal("the snapshot ended before the writes: the test does not hold the stream")
			}
			if h, _ := strconv.Atoi(infoLineOf(t, c, "replication", "repl_backlog_histlen")); h < 24<<20 {
				t.Errorf("repl_backlog_histlen:%d while the replica holds 24 MiB back", h)
			}
			testutil.WaitFor(t, 60*time.Second, "replica online", func() bool {
				return strings.Contains(infoLineOf(t, c, "replication", "slave0"), "state=online") &&
					infoLineOf(t, rc, "replication", "master_link_status") == "up"
			})
			testutil.WaitFor(t, 10*time.Second, "the buffer back to the backlog's size", func() bool {
				h, _ := strconv.Atoi(infoLineOf(t, c, "replication", "repl_backlog_histlen"))
				return h <= 1<<20
			})
			if got, want := waitSameDigest(t, rc, c); got != want {
				t.Fatalf("replica digest %s, primary %s", got, want)
			}
			if v := rc.Get(ctx, "counter").Val(); v != "384" {
				t.Fatalf("counter on the replica is %q, want 384", v)
			}
		})
	}
}
