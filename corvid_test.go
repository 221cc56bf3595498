package corvid_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid"
)

func TestEmbeddedServer(t *testing.T) {
	srv, err := corvid.Start(corvid.Options{Config: []string{"requirepass", "s3cret", "databases", "4"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	anon := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2})
	defer anon.Close()
	if err := anon.Ping(ctx).Err(); err == nil || err.Error() != "NOAUTH Authentication required." {
		t.Fatalf("ping without auth: %v", err)
	}

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: "s3cret"})
	defer rdb.Close()
	if got, err := rdb.Echo(ctx, "hi").Result(); err != nil || got != "hi" {
		t.Fatalf("echo: %q %v", got, err)
	}
	if err := rdb.Do(ctx, "select", "4").Err(); err == nil || err.Error() != "ERR DB index is out of range" {
		t.Fatalf("select 4 with databases 4: %v", err)
	}
}

func TestEmbeddedBadConfig(t *testing.T) {
	if _, err := corvid.Start(corvid.Options{Config: []string{"no-such-directive", "1"}}); err == nil {
		t.Fatal("unknown directive accepted")
	}
	if _, err := corvid.Start(corvid.Options{Addr: "nonsense"}); err == nil {
		t.Fatal("bad address accepted")
	}
}
