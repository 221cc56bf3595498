package server_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/testutil"
)

// INFO's copy-on-write figures: what the snapshot copied out for commands
// that changed records it had not saved yet, at their size in memory (a
// fork's figure for the same writes), and total_forks counts snapshots.
func TestSnapshotCopyOnWriteInfo(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	value := strings.Repeat("A", 500)
	pipe := c.Pipeline()
	for i := 0; i < 10000; i++ {
		pipe.Set(ctx, "key"+strconv.Itoa(i), value, 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if v := infoLineOf(t, c, "persistence", "current_cow_size"); v != "0" {
		t.Fatalf("current_cow_size:%s before any save", v)
	}
	forks := infoLineOf(t, c, "stats", "total_forks")
	c.ConfigSet(ctx, "rdb-key-save-delay", "200") // about 2 s for the save
	if err := c.BgSave(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if f := infoLineOf(t, c, "stats", "total_forks"); f != strconv.Itoa(atoi(forks)+1) {
		t.Fatalf("total_forks %s after a BGSAVE, was %s", f, forks)
	}
	// 200 changed keys, most not saved yet: far more than 16 KiB copied.
	for i := 0; i < 200; i++ {
		c.SetRange(ctx, "key"+strconv.Itoa(i*50), 0, "B")
	}
	cow := atoi(infoLineOf(t, c, "persistence", "current_cow_size"))
	if cow < 16<<10 {
		t.Fatalf("current_cow_size:%d after 200 of 10000 keys of 500 bytes changed during the save", cow)
	}
	testutil.WaitFor(t, 30*time.Second, "the save", func() bool {
		return infoLineOf(t, c, "persistence", "rdb_bgsave_in_progress") == "0"
	})
	if last := atoi(infoLineOf(t, c, "persistence", "rdb_last_cow_size")); last < cow {
		t.Fatalf("rdb_last_cow_size:%d, less than the %d seen during the save", last, cow)
	}
	if v := infoLineOf(t, c, "persistence", "current_cow_size"); v != "0" {
		t.Fatalf("current_cow_size:%s with no save running", v)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// CONFIG RESETSTAT resets the replication counters too (Redis's
// resetServerStats), which Redis's PSYNC tests count after it.
func TestResetStatResetsSyncCounters(t *testing.T) {
	primary := testutil.Start(t)
	replica := testutil.Start(t)
	p := primary.Client(t)
	linkReplica(t, replica.Client(t), primary.Addr)
	if v := infoLineOf(t, p, "stats", "sync_full"); v != "1" {
		t.Fatalf("sync_full:%s after a replica synchronised", v)
	}
	if err := p.ConfigResetStat(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"sync_full", "sync_partial_ok", "sync_partial_err"} {
		if v := infoLineOf(t, p, "stats", f); v != "0" {
			t.Fatalf("%s:%s after CONFIG RESETSTAT", f, v)
		}
	}
}

// A command a client sent on one connection has run when INFO, sent
// afterwards on another (served by another event loop), reports: as with
// a single-threaded server, where both wait in the same queue. The wait
// is bounded (a loop that gets no core for 50 ms is not waited for), so
// a machine busy with other tests may see a few misses; without the
// barrier nearly every round misses.
func TestInfoSeesCommandsSentBeforeIt(t *testing.T) {
	if os.Getenv("CORVID_IO") == "goroutines" {
		t.Skip("a goroutine per connection: no event loops to wait for")
	}
	srv := testutil.Start(t)
	writer := srv.Raw(t)
	reader := srv.Raw(t)
	const rounds = 300
	misses := 0
	for i := 1; i <= rounds; i++ {
		if err := writer.Send("set", "k"+strconv.Itoa(i), "v"); err != nil {
			t.Fatal(err)
		}
		v, err := reader.Do("info", "keyspace")
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("db0:keys=%d,", i); !strings.Contains(fmt.Sprint(v), want) {
			misses++
		}
		if _, err := writer.Read(); err != nil {
			t.Fatal(err)
		}
	}
	if misses > rounds/10 {
		t.Fatalf("INFO missed the command sent before it in %d of %d rounds", misses, rounds)
	}
}
