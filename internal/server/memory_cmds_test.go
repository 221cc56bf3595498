package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/testutil"
)

// TestMemoryStatsDoesNotHang: MEMORY STATS once took every shard lock twice
// (they are not reentrant) and hung every keyspace command of every client.
func TestMemoryStatsDoesNotHang(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, proto := range []int{2, 3} {
		cl := srv.Client(t)
		if proto == 3 {
			cl = srv.Client3(t)
		}
		v, err := cl.Do(ctx, "memory", "stats").Result()
		if err != nil {
			t.Fatalf("RESP%d MEMORY STATS: %v", proto, err)
		}
		var n int
		switch r := v.(type) {
		case []any:
			n = len(r) / 2
		case map[any]any:
			n = len(r)
		default:
			t.Fatalf("RESP%d MEMORY STATS replied %T", proto, v)
		}
		if n < 17 {
			t.Fatalf("RESP%d MEMORY STATS has %d fields", proto, n)
		}
	}
	// The keyspace is still usable by another connection.
	other := srv.Client(t)
	if got, err := other.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET after MEMORY STATS: %q, %v", got, err)
	}
}
