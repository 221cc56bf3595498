package server_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// evictionOrder fills the database with want keys ("a:N", which the policy
// should evict first) and keep keys ("b:N"), each created by prepare, then
// sets maxmemory to 1 so that every key goes, and returns the evicted keys
// in the order the "evicted" events report them.
func evictionOrder(t *testing.T, policy string, prepare func(c *redis.Client, key string, first bool)) []string {
	t.Helper()
	srv := testutil.Start(t, "maxmemory-policy", policy, "maxmemory-samples", "10", "notify-keyspace-events", "Ee")
	c := srv.Client(t)
	ctx := context.Background()
	const n = 200
	for i := range n {
		prepare(c, fmt.Sprintf("a:%d", i), true)
		prepare(c, fmt.Sprintf("b:%d", i), false)
	}
	sub := c.PSubscribe(ctx, "__keyevent@0__:evicted")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := sub.Channel(redis.WithChannelSize(4 * n))
	if err := c.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	var order []string
	timeout := time.After(10 * time.Second)
	for len(order) < 2*n {
		select {
		case m := <-msgs:
			order = append(order, m.Payload)
		case <-timeout:
			t.Fatalf("%d keys evicted, want %d", len(order), 2*n)
		}
	}
	return order
}

// firstEvicted counts the "a:" keys among the first n evicted.
func firstEvicted(order []string, n int) int {
	hits := 0
	for _, k := range order[:n] {
		if strings.HasPrefix(k, "a:") {
			hits++
		}
	}
	return hits
}

// expectPreferred checks that the policy evicted the "a:" keys first: at
// least 90% of the first 150 evicted (random choice would give ~50%).
func expectPreferred(t *testing.T, order []string) {
	t.Helper()
	if hits := firstEvicted(order, 150); hits < 135 {
		t.Fatalf("%d of the first 150 evicted keys were the ones to go first; order %v", hits, order[:150])
	}
}

// restoreWithAccess creates key as a string whose access field RESTORE
// sets: opt is "idletime" or "freq".
func restoreWithAccess(t *testing.T, c *redis.Client, key, opt string, val int) {
	t.Helper()
	ctx := context.Background()
	c.Set(ctx, "tmp", "value", 0)
	payload := c.Dump(ctx, "tmp").Val()
	c.Del(ctx, "tmp")
	if err := c.Do(ctx, "restore", key, 0, payload, opt, val).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestEvictionLRUPrefersIdleKeys(t *testing.T) {
	order := evictionOrder(t, "allkeys-lru", func(c *redis.Client, key string, idle bool) {
		seconds := 0
		if idle {
			seconds = 1000
		}
		restoreWithAccess(t, c, key, "idletime", seconds)
	})
	expectPreferred(t, order)
}

func TestEvictionLFUPrefersRareKeys(t *testing.T) {
	order := evictionOrder(t, "allkeys-lfu", func(c *redis.Client, key string, rare bool) {
		freq := 100
		if rare {
			freq = 0
		}
		restoreWithAccess(t, c, key, "freq", freq)
	})
	expectPreferred(t, order)
}

func TestEvictionVolatileTTLPrefersNearExpiry(t *testing.T) {
	ctx := context.Background()
	order := evictionOrder(t, "volatile-ttl", func(c *redis.Client, key string, near bool) {
		ttl := 1000 * time.Second
		if near {
			ttl = 100 * time.Second
		}
		c.Set(ctx, key, "value", ttl)
	})
	expectPreferred(t, order)
}

// Under an LFU policy each access raises the counter (every time with
// lfu-log-factor 0), OBJECT FREQ reads it without raising it, a new key
// starts at 5, and SET on an existing key counts as one access and keeps
// the counter: the figures redis-server gives for the same sequence.
func TestLFUCounter(t *testing.T) {
	srv := testutil.Start(t, "maxmemory-policy", "allkeys-lfu", "lfu-log-factor", "0")
	c := srv.Client(t)
	ctx := context.Background()
	c.Set(ctx, "k", "v", 0)
	if f := c.ObjectFreq(ctx, "k").Val(); f != 5 {
		t.Fatalf("new key: OBJECT FREQ %d, want 5", f)
	}
	for range 10 {
		c.Get(ctx, "k")
	}
	if f := c.ObjectFreq(ctx, "k").Val(); f != 15 {
		t.Fatalf("after 10 GETs: OBJECT FREQ %d, want 15", f)
	}
	c.Set(ctx, "k", "w", 0) // the lookup counts, the overwrite keeps it
	if f := c.ObjectFreq(ctx, "k").Val(); f != 16 {
		t.Fatalf("after an overwrite: OBJECT FREQ %d, want 16", f)
	}
	c.Append(ctx, "k", "x") // one access, as in Redis
	if f := c.ObjectFreq(ctx, "k").Val(); f != 17 {
		t.Fatalf("after APPEND: OBJECT FREQ %d, want 17", f)
	}
	if err := c.ConfigSet(ctx, "lfu-log-factor", "10").Err(); err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		c.Get(ctx, "k")
	}
	if f := c.ObjectFreq(ctx, "k").Val(); f < 18 || f > 40 {
		t.Fatalf("after 1000 GETs with lfu-log-factor 10: OBJECT FREQ %d, want a logarithmic count", f)
	}
}

// A burst of writes between two memory samples does not carry used_memory
// far past maxmemory: the writes' estimated growth triggers a measurement.
// The server runs in process, so the test's heap (and that of tests running
// alongside) is in used_memory too: the limit is set well above what is
// measured at the start, a write refused for the heap's sake is tolerated,
// and the final figure is read after a collection.
func TestEvictionKeepsBurstsNearMaxmemory(t *testing.T) {
	srv := testutil.Start(t, "maxmemory-policy", "allkeys-lru")
	c := srv.Client(t)
	ctx := context.Background()
	stat := func(name string) int64 {
		var v int64
		for _, l := range strings.Split(c.Info(ctx, "memory", "stats").Val(), "\r\n") {
			fmt.Sscanf(l, name+":%d", &v)
		}
		return v
	}
	runtime.GC()
	limit := stat("used_memory") + 16<<20
	if err := c.ConfigSet(ctx, "maxmemory", fmt.Sprint(limit)).Err(); err != nil {
		t.Fatal(err)
	}
	val := strings.Repeat("x", 500)
	refused := 0
	for round := range 80 {
		pipe := c.Pipeline()
		for i := range 1000 {
			pipe.Set(ctx, fmt.Sprintf("k:%d:%d", round, i), val, 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			if !strings.HasPrefix(err.Error(), "OOM") {
				t.Fatalf("round %d: %v", round, err)
			}
			refused++
		}
	}
	if refused > 8 {
		t.Fatalf("%d of 80 rounds had writes refused under allkeys-lru", refused)
	}
	if evicted := stat("evicted_keys"); evicted == 0 {
		t.Fatalf("80,000 keys of 500 bytes under a limit 16 MiB above the start evicted nothing")
	}
	runtime.GC()
	if mem := stat("used_memory"); mem > limit*11/10 {
		t.Fatalf("used_memory %d after the bursts, more than 10%% over maxmemory %d", mem, limit)
	}
}
