package server_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// clientField reads a field of the CLIENT LIST line of the client named
// name; ok is false when no such client is listed.
func clientField(t *testing.T, c *redis.Client, name, field string) (string, bool) {
	t.Helper()
	list, err := c.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		if !strings.Contains(line, " name="+name+" ") {
			continue
		}
		for _, kv := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(kv, field+"="); ok {
				return v, true
			}
		}
	}
	return "", false
}

func infoInt(t *testing.T, c *redis.Client, field string) int64 {
	t.Helper()
	n := infoFieldInt(t, c, field)
	if n < 0 {
		t.Fatalf("INFO has no %s", field)
	}
	return n
}

// namedRaw opens a raw connection named name.
func namedRaw(t *testing.T, srv *testutil.Instance, name string) *testutil.Raw {
	t.Helper()
	r := srv.Raw(t)
	if v, err := r.Do("CLIENT", "SETNAME", name); err != nil || v != "OK" {
		t.Fatalf("CLIENT SETNAME: %v %v", v, err)
	}
	return r
}

// controlClient is a go-redis client of one connection exempt from
// eviction, to watch the others with.
func controlClient(t *testing.T, srv *testutil.Instance) *redis.Client {
	return srv.ClientWith(t, &redis.Options{Protocol: 2, PoolSize: 1,
		OnConnect: func(ctx context.Context, cn *redis.Conn) error {
			return cn.Do(ctx, "CLIENT", "NO-EVICT", "on").Err()
		}})
}

// waitClosed waits for the server to close r's connection.
func waitClosed(t *testing.T, r *testutil.Raw, what string) {
	t.Helper()
	_ = r.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, r.R); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("%s: %v, want the connection closed", what, err)
	}
}

// A client whose query buffer, transaction or unread replies take the
// clients' memory past maxmemory-clients is closed, the others stay, and
// INFO counts it.
func TestClientEvictionClosesTheOffender(t *testing.T) {
	srv := testutil.Start(t, "maxmemory-clients", "2mb")
	ctx := context.Background()
	c := controlClient(t, srv)
	c.Set(ctx, "big", strings.Repeat("v", 200_000), 0)

	// Half of a 3 MB argument.
	qb := namedRaw(t, srv, "qbuf")
	if err := qb.Write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n" + strings.Repeat("x", 2_500_000))); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, qb, "half a 3 MB argument")

	// A transaction queueing 4 x 600 KB.
	tx := namedRaw(t, srv, "multi")
	if _, err := tx.Do("MULTI"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if err := tx.Send("SET", "k", strings.Repeat("m", 600_000)); err != nil {
			break
		}
	}
	waitClosed(t, tx, "a 2.4 MB transaction")

	if os.Getenv("CORVID_IO") == "goroutines" {
		// A connection with a goroutine of its own stops reading while
		// its replies wait (TestHostileClients checks what it holds).
		return
	}
	// Replies not read: GET big pipelined, nothing read.
	out := namedRaw(t, srv, "output")
	var cmds []byte
	for i := 0; i < 200; i++ {
		cmds = append(cmds, testutil.Encode("GET", "big")...)
	}
	_ = out.Write(cmds)
	testutil.WaitFor(t, 10*time.Second, "the reader that does not read to be evicted", func() bool {
		_, ok := clientField(t, c, "output", "tot-mem")
		return !ok
	})

	if n := infoInt(t, c, "evicted_clients"); n != 3 {
		t.Fatalf("evicted_clients %d, want 3", n)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("a small client: %v", err)
	}
	if total := infoInt(t, c, "mem_clients_normal"); total > 2<<20 {
		t.Fatalf("mem_clients_normal %d after the evictions, over the 2 MB limit", total)
	}
}

// CLIENT NO-EVICT exempts a client; turning it off makes it the one
// evicted at the next command. The clients' total still counts it.
func TestClientNoEvict(t *testing.T) {
	srv := testutil.Start(t, "maxmemory-clients", "1mb")
	ctx := context.Background()
	c := controlClient(t, srv)
	// Connected first: once the keeper is over the limit and cannot be
	// evicted, a new client is evicted at its first command, as in Redis.
	c.Ping(ctx)
	r := namedRaw(t, srv, "keeper")
	if v, err := r.Do("CLIENT", "NO-EVICT", "on"); err != nil || v != "OK" {
		t.Fatalf("NO-EVICT: %v %v", v, err)
	}
	if err := r.Write([]byte("*2\r\n$3\r\nGET\r\n$2000000\r\n" + strings.Repeat("x", 1_500_000))); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, "the query buffer to fill", func() bool {
		v, _ := clientField(t, c, "keeper", "qbuf")
		return v == "1500000"
	})
	if total := infoInt(t, c, "mem_clients_normal"); total < 1_500_000 {
		t.Fatalf("mem_clients_normal %d leaves out the no-evict client", total)
	}
	if _, ok := clientField(t, c, "keeper", "tot-mem"); !ok {
		t.Fatal("the no-evict client was evicted")
	}
	// Killed, it leaves the total; it was never counted as evicted.
	id, _ := clientField(t, c, "keeper", "id")
	if err := c.Do(ctx, "CLIENT", "KILL", "ID", id, "SKIPME", "no").Err(); err != nil {
		t.Fatal(err)
	}
	if n := infoInt(t, c, "evicted_clients"); n != 0 {
		t.Fatalf("evicted_clients %d, want 0", n)
	}

	if os.Getenv("CORVID_IO") == "goroutines" {
		return // what follows needs replies to pile up (see above)
	}
	// The flag turned off by the client itself: evicted before the next
	// command anyone runs.
	r2 := namedRaw(t, srv, "flipper")
	r2.Do("CLIENT", "NO-EVICT", "on")
	big := strings.Repeat("v", 400_000)
	c.Set(ctx, "big", big, 0)
	var cmds []byte
	for i := 0; i < 50; i++ { // 20 MB: more than the sockets' buffers take
		cmds = append(cmds, testutil.Encode("GET", "big")...)
	}
	cmds = append(cmds, testutil.Encode("CLIENT", "NO-EVICT", "off")...)
	if err := r2.Write(cmds); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the client to be evicted once NO-EVICT is off", func() bool {
		_, ok := clientField(t, c, "flipper", "tot-mem")
		return !ok
	})
}

// Lowering maxmemory-clients evicts the largest clients first, and only
// as many as it takes (Redis's test of the order, with exact sizes: a big
// argument's buffer is sized for it, not doubled).
func TestClientEvictionLargestFirst(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	c := controlClient(t, srv)
	sizes := []int{128 << 10, 1 << 20, 3 << 20}
	mem := make([]int64, len(sizes))
	for i, size := range sizes {
		for j := 0; j < 2; j++ {
			r := namedRaw(t, srv, fmt.Sprintf("c%d-%d", i, j))
			if err := r.Write([]byte(fmt.Sprintf("*2\r\n$%d\r\n", size) + strings.Repeat("v", size))); err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("c%d-%d", i, j)
			testutil.WaitFor(t, 5*time.Second, "the query buffer", func() bool {
				v, _ := clientField(t, c, name, "qbuf")
				return v == strconv.Itoa(size)
			})
			v, _ := clientField(t, c, name, "tot-mem")
			n, _ := strconv.ParseInt(v, 10, 64)
			if n < int64(size) || n > int64(size)+64<<10 {
				t.Fatalf("%s: tot-mem %d for a %d-byte argument", name, n, size)
			}
			mem[i] = n
		}
	}
	total := infoInt(t, c, "mem_clients_normal")
	// Room for all but the two largest (and for the control client's
	// reply buffer to grow meanwhile).
	c.ConfigSet(ctx, "maxmemory-clients", strconv.FormatInt(total-2*mem[2]+64<<10, 10))
	for i := range sizes {
		for j := 0; j < 2; j++ {
			_, ok := clientField(t, c, fmt.Sprintf("c%d-%d", i, j), "tot-mem")
			if ok != (i < 2) {
				t.Fatalf("after lowering the limit, c%d-%d present=%v", i, j, ok)
			}
		}
	}
	if n := infoInt(t, c, "evicted_clients"); n != 2 {
		t.Fatalf("evicted_clients %d, want 2", n)
	}
	// A percentage of maxmemory.
	c.ConfigSet(ctx, "maxmemory", "20mb")
	c.ConfigSet(ctx, "maxmemory-clients", "5%") // 1 MB: the 1 MB clients go
	for j := 0; j < 2; j++ {
		if _, ok := clientField(t, c, fmt.Sprintf("c1-%d", j), "tot-mem"); ok {
			t.Fatalf("c1-%d survived maxmemory-clients 5%% of 20 MB", j)
		}
		if _, ok := clientField(t, c, fmt.Sprintf("c0-%d", j), "tot-mem"); !ok {
			t.Fatalf("c0-%d evicted by maxmemory-clients 5%% of 20 MB", j)
		}
	}
}

// A subscriber that reads nothing is evicted by what is published to it
// (the pub/sub output limit off, so that eviction is what closes it).
func TestClientEvictionSubscriber(t *testing.T) {
	srv := testutil.Start(t, "maxmemory-clients", "1mb", "client-output-buffer-limit", "pubsub 0 0 0")
	ctx := context.Background()
	c := controlClient(t, srv)
	sub := namedRaw(t, srv, "sleeper")
	if _, err := sub.Do("SUBSCRIBE", "ch"); err != nil {
		t.Fatal(err)
	}
	msg := strings.Repeat("m", 10_000)
	for i := 0; i < 1000; i++ {
		if err := c.Publish(ctx, "ch", msg).Err(); err != nil {
			t.Fatal(err)
		}
		if _, ok := clientField(t, c, "sleeper", "tot-mem"); !ok {
			if n := infoInt(t, c, "evicted_clients"); n != 1 {
				t.Fatalf("evicted_clients %d", n)
			}
			return
		}
	}
	t.Fatal("10 MB published to a subscriber that reads nothing, and it is still connected")
}
