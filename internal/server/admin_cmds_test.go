package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// admDo runs a command on a raw connection, failing the test on I/O errors.
func admDo(t *testing.T, r *testutil.Raw, args ...string) any {
	t.Helper()
	v, err := r.Do(args...)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return v
}

// admExpect runs a command on a raw connection and compares the printed reply.
func admExpect(t *testing.T, r *testutil.Raw, want string, args ...string) {
	t.Helper()
	if got := fmt.Sprint(admDo(t, r, args...)); got != want {
		t.Fatalf("%q:\n got %s\nwant %s", args, got, want)
	}
}

// admErr runs a command with go-redis and checks its error text.
func admErr(t *testing.T, c *redis.Client, want string, args ...any) {
	t.Helper()
	err := c.Do(context.Background(), args...).Err()
	if err == nil || err.Error() != want {
		t.Fatalf("%v: got error %v, want %q", args, err, want)
	}
}

func TestTimeAndLastsave(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	before := time.Now()
	tm, err := c.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if d := tm.Sub(before); d < -time.Second || d > 5*time.Second {
		t.Fatalf("TIME %v far from %v", tm, before)
	}
	raw := srv.Raw(t)
	v := admDo(t, raw, "time").([]any)
	if len(v) != 2 {
		t.Fatalf("TIME: %v", v)
	}
	ls, err := c.LastSave(ctx).Result()
	if err != nil || ls <= 0 || ls > time.Now().Unix() {
		t.Fatalf("LASTSAVE %d %v", ls, err)
	}
	admErr(t, c, "ERR wrong number of arguments for 'time' command", "time", "x")
}

func TestShutdown(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	admExpect(t, r, "ERR syntax error", "shutdown", "bogus")
	admExpect(t, r, "ERR syntax error", "shutdown", "save", "nosave")
	admExpect(t, r, "ERR syntax error", "shutdown", "abort", "now")
	admExpect(t, r, "ERR No shutdown in progress.", "shutdown", "abort")
	select {
	case <-srv.Srv.ShutdownRequested:
		t.Fatal("shutdown requested by a refused SHUTDOWN")
	default:
	}
	if err := r.Send("shutdown", "nosave", "now"); err != nil {
		t.Fatal(err)
	}
	// Redis replies nothing: the connection just closes.
	v, err := r.Read()
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("SHUTDOWN: read %v, %v; want the connection closed", v, err)
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("SHUTDOWN: %v", err)
	}
	select {
	case <-srv.Srv.ShutdownRequested:
	case <-time.After(5 * time.Second):
		t.Fatal("SHUTDOWN did not request a shutdown")
	}
	// go-redis takes the closed connection for a broken one and retries:
	// as with redis-server, whose process is gone by then, the retry
	// finds the port closed (the ports close before the connection).
	srv2 := testutil.Start(t)
	err = srv2.Client(t).Shutdown(context.Background()).Err()
	if err != nil && !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("go-redis Shutdown: %v", err)
	}
	select {
	case <-srv2.Srv.ShutdownRequested:
	case <-time.After(5 * time.Second):
		t.Fatal("go-redis's SHUTDOWN did not request a shutdown")
	}
}
