package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// CONFIG SET inside EXEC runs its hooks while the transaction holds every
// shard: a hook that locked the keyspace again (appendonly yes, maxmemory)
// once hung the whole server.
func TestConfigSetHooksInsideExec(t *testing.T) {
	for _, pair := range [][2]string{
		{"appendonly", "yes"},
		{"maxmemory", "100mb"},
		{"maxmemory", "0"},
		{"appendonly", "no"},
	} {
		srv := testutil.Start(t)
		c := srv.Client(t)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "foo", "bar", 0)
			p.ConfigSet(ctx, pair[0], pair[1])
			return nil
		})
		if err != nil {
			cancel()
			t.Fatalf("MULTI SET; CONFIG SET %s %s; EXEC: %v %v", pair[0], pair[1], cmds, err)
		}
		if v, err := srv.Client(t).Get(ctx, "foo").Result(); err != nil || v != "bar" {
			t.Fatalf("after CONFIG SET %s in EXEC: GET foo = %q, %v", pair[0], v, err)
		}
		if v := c.ConfigGet(ctx, pair[0]).Val()[pair[0]]; pair[0] == "appendonly" && v != pair[1] {
			t.Fatalf("CONFIG GET %s = %q", pair[0], v)
		}
		cancel()
	}
}
