package server_test

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/testutil"
)

// client-output-buffer-limit's normal class: a reply past the hard limit
// closes the client unanswered, and a command that could write an
// unbounded reply (a random pick with a huge negative count, KEYS) stops
// instead of building it.
func TestNormalOutputLimit(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	c := srv.Client(t)
	c.ConfigSet(ctx, "client-output-buffer-limit", "normal 100000 0 0")
	item := strings.Repeat("x", 1000)
	for i := 0; i < 150; i++ {
		c.LPush(ctx, "list", item)
	}
	c.HSet(ctx, "h", "a", "b")
	for _, cmd := range [][]string{{"lrange", "list", "0", "-1"}, {"hrandfield", "h", "-999999999"}, {"keys", "*"}} {
		if cmd[0] == "keys" {
			for i := 0; i < 1000; i++ {
				c.Set(ctx, strings.Repeat("k", 100)+string(rune('a'+i%26))+strings.Repeat("0", i%7)+strconv.Itoa(i), "v", 0)
			}
		}
		r := srv.Raw(t)
		start := time.Now()
		if err := r.Send(cmd...); err != nil {
			t.Fatal(err)
		}
		r.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(r.R)
		if len(got) != 0 || err != nil {
			t.Fatalf("%s: got %d bytes (%v), want the connection closed unanswered", cmd[0], len(got), err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%s took %v: not stopped mid-run", cmd[0], d)
		}
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("a client within the limit: %v", err)
	}
	// Without a limit (the default) the reply goes out whole.
	c.ConfigSet(ctx, "client-output-buffer-limit", "normal 0 0 0")
	if n := len(c.LRange(ctx, "list", 0, -1).Val()); n != 150 {
		t.Fatalf("LRANGE without a limit: %d items", n)
	}
}

// A subscriber over the soft limit is closed once it stayed over it for
// the limit's seconds, also when nothing more is published meanwhile.
func TestPubsubSoftLimitWithoutTraffic(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	c := srv.Client(t)
	c.ConfigSet(ctx, "client-output-buffer-limit", "pubsub 0 100000 1")
	sub := srv.Raw(t)
	sub.Send("client", "setname", "slowsub")
	sub.Send("subscribe", "ch")
	msg := strings.Repeat("m", 1000)
	testutil.WaitFor(t, 5*time.Second, "the subscriber over the soft limit", func() bool {
		for i := 0; i < 200; i++ {
			c.Publish(ctx, "ch", msg)
		}
		// Over the limit once the sockets' buffers took what they can
		// (loopback's may grow to megabytes).
		time.Sleep(50 * time.Millisecond)
		for _, l := range strings.Split(c.ClientList(ctx).Val(), "\n") {
			if strings.Contains(l, "name=slowsub") {
				return omemOf(l) > 100000
			}
		}
		return false
	})
	testutil.WaitFor(t, 5*time.Second, "the subscriber closed", func() bool {
		return !strings.Contains(c.ClientList(ctx).Val(), "name=slowsub")
	})
}

func omemOf(line string) int {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, "omem="); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// A client that asked to be closed (QUIT) while earlier replies still
// waited for its socket gets all of them, then QUIT's +OK, then the close.
func TestQuitAfterPendingReplies(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	value := strings.Repeat("v", 4<<20)
	srv.Client(t).Set(ctx, "big", value, 0)
	r := srv.Raw(t)
	var cmds []byte
	for i := 0; i < 4; i++ {
		cmds = append(cmds, testutil.Encode("GET", "big")...)
	}
	cmds = append(cmds, testutil.Encode("QUIT")...)
	if err := r.Write(cmds); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the replies pile up unread
	_ = r.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := 0; i < 4; i++ {
		if v, err := r.Read(); err != nil || v != value {
			t.Fatalf("GET %d: %v", i, err)
		}
	}
	if v, err := r.Read(); err != nil || v != "OK" {
		t.Fatalf("QUIT: %v %v", v, err)
	}
	if b, err := io.ReadAll(r.R); err != nil || len(b) != 0 {
		t.Fatalf("after QUIT: %q %v, want the close", b, err)
	}
}
