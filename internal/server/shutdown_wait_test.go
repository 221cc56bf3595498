package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// laggingReplica is a replica that takes its full synchronisation and then
// acknowledges only what it is told to, so that tests can make it lag.
type laggingReplica struct {
	conn net.Conn
	r    *bufio.Reader
}

func newLaggingReplica(t *testing.T, addr string) *laggingReplica {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f := &laggingReplica{conn: conn, r: bufio.NewReader(conn)}
	fmt.Fprintf(conn, "REPLCONF listening-port 5555\r\nREPLCONF capa psync2\r\nPSYNC ? -1\r\n")
	for range 2 {
		if l, _ := f.r.ReadString('\n'); l != "+OK\r\n" {
			t.Fatalf("REPLCONF answered %q", l)
		}
	}
	for {
		l, err := f.r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(l, "+FULLRESYNC") {
			continue
		}
		if l == "\n" {
			continue // keep-alive while the RDB is made
		}
		n, err := strconv.Atoi(strings.TrimSpace(l[1:]))
		if l[0] != '$' || err != nil {
			t.Fatalf("expected the RDB, got %q", l)
		}
		if _, err := f.r.Discard(n); err != nil {
			t.Fatal(err)
		}
		return f
	}
}

// ack acknowledges offset.
func (f *laggingReplica) ack(offset string) {
	fmt.Fprintf(f.conn, "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$%d\r\n%s\r\n", len(offset), offset)
}

// TestShutdownWaitsForLaggingReplica: SHUTDOWN on a primary whose replica
// has not acknowledged the whole stream waits for it (shutdown-timeout),
// holding writes back, shown by INFO's shutdown_in_milliseconds and
// blocked_clients; SHUTDOWN ABORT gives the waiting clients Redis's error
// and lets writes go on; once the replica acknowledges, SHUTDOWN goes
// through, logging how many replicas were in sync.
func TestShutdownWaitsForLaggingReplica(t *testing.T) {
	srv, log := startLogged(t, t.TempDir(), "save", "", "repl-diskless-sync", "no", "shutdown-timeout", "10", "hz", "100")
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr().String()})
	defer c.Close()
	replica := newLaggingReplica(t, srv.Addr().String())
	testutil.WaitFor(t, 5*time.Second, "the replica online", func() bool {
		return strings.Contains(c.Info(ctx, "replication").Val(), "state=online")
	})
	c.Incr(ctx, "k") // not acknowledged

	shutdownErr := make(chan error, 1)
	go func() {
		sc := redis.NewClient(&redis.Options{Addr: srv.Addr().String(), MaxRetries: -1})
		defer sc.Close()
		shutdownErr <- sc.Shutdown(ctx).Err()
	}()
	testutil.WaitFor(t, 5*time.Second, "SHUTDOWN waiting", func() bool {
		info := c.Info(ctx, "server", "clients").Val()
		return strings.Contains(info, "shutdown_in_milliseconds:") && strings.Contains(info, "blocked_clients:1")
	})
	// Writes wait meanwhile; reads do not.
	write := make(chan error, 1)
	go func() { write <- c.Set(ctx, "during", "1", 0).Err() }()
	select {
	case err := <-write:
		t.Fatalf("a write ran during the shutdown's wait: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := c.Do(ctx, "shutdown", "abort").Err(); err != nil {
		t.Fatal(err)
	}
	if err := <-shutdownErr; err == nil || !strings.Contains(err.Error(), "Errors trying to SHUTDOWN. Check logs.") {
		t.Fatalf("the waiting SHUTDOWN got %v", err)
	}
	if err := <-write; err != nil {
		t.Fatalf("the held write: %v", err)
	}
	if !strings.Contains(log.String(), "Waiting for replicas before shutting down.") ||
		!strings.Contains(log.String(), "Shutdown manually aborted.") {
		t.Fatalf("log:\n%s", log)
	}

	// Now the replica catches up while SHUTDOWN waits.
	go func() {
		sc := redis.NewClient(&redis.Options{Addr: srv.Addr().String(), MaxRetries: -1})
		defer sc.Close()
		shutdownErr <- sc.Shutdown(ctx).Err()
	}()
	testutil.WaitFor(t, 5*time.Second, "SHUTDOWN waiting again", func() bool {
		return strings.Contains(c.Info(ctx, "server").Val(), "shutdown_in_milliseconds:")
	})
	off := strings.TrimPrefix(infoLineOf(t, c, "replication", "master_repl_offset"), "")
	replica.ack(off)
	select {
	case <-srv.ShutdownRequested:
	case <-time.After(5 * time.Second):
		t.Fatalf("the shutdown did not go on once the replica was in sync:\n%s", log)
	}
	if !strings.Contains(log.String(), "1 of 1 replicas are in sync when shutting down.") {
		t.Fatalf("log:\n%s", log)
	}
}
