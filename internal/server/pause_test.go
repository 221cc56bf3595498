package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/testutil"
)

func TestClientPauseArguments(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	for _, c := range []struct {
		want string
		args []string
	}{
		{"ERR wrong number of arguments for 'client|pause' command", nil},
		{"ERR timeout is not an integer or out of range", []string{"abc"}},
		{"ERR timeout is not an integer or out of range", []string{"1.5"}},
		{"ERR timeout is negative", []string{"-1"}},
		{"ERR timeout is out of range", []string{"9223372036854775807"}},
		{"ERR CLIENT PAUSE mode must be WRITE or ALL", []string{"abc", "bogus"}},
		{"ERR unknown subcommand or wrong number of arguments for 'pause'. Try CLIENT HELP.", []string{"100", "write", "extra"}},
		{"ERR wrong number of arguments for 'client|unpause' command", []string{}},
	} {
		sub := "pause"
		if c.want == "ERR wrong number of arguments for 'client|unpause' command" {
			sub, c.args = "unpause", []string{"x"}
		}
		expect(t, r, testutil.ErrorReply(c.want), append([]string{"client", sub}, c.args...)...)
	}
	// PAUSE 0 pauses nothing.
	expect(t, r, "OK", "client", "pause", "0")
	expect(t, r, "OK", "set", "k", "v")
	expect(t, r, "OK", "client", "unpause")
}

func TestClientPauseWrite(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	expect(t, r, "OK", "set", "foo", "bar")
	expect(t, r, "OK", "client", "pause", "100000", "WRITE")

	// Reads, keyless commands and commands rejected at admission run.
	other := srv.Raw(t)
	expect(t, other, "bar", "get", "foo")
	expect(t, other, "PONG", "ping")
	expect(t, other, int64(1), "exists", "foo")
	expect(t, other, testutil.ErrorReply("ERR wrong number of arguments for 'set' command"), "set", "foo")
	if n := blockedCount(t, r); n != 0 {
		t.Fatalf("%d clients blocked by reads", n)
	}

	// Writes wait, shown as blocked on their command.
	w := srv.Raw(t)
	wid := do(t, w, "client", "id").(int64)
	if err := w.Send("set", "foo", "baz"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, "SET postponed", func() bool { return blockedCount(t, r) == 1 })
	line := clientLine(t, r, wid)
	if infoField(line, "flags") != "b" || infoField(line, "cmd") != "set" || infoField(line, "argv-mem") != "9" {
		t.Fatalf("postponed client: %s", line)
	}
	expect(t, other, "bar", "get", "foo")

	// A shorter pause does not shorten the one in force.
	expect(t, r, "OK", "client", "pause", "10", "WRITE")
	expect(t, other, "bar", "get", "foo")
	if n := blockedCount(t, r); n != 1 {
		t.Fatalf("blocked = %d after a shorter PAUSE", n)
	}

	expect(t, r, "OK", "client", "unpause")
	expectSeq(t, w, "OK")
	expect(t, r, "baz", "get", "foo")
}

func TestClientPauseAll(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	m := startMonitor(t, srv)
	expect(t, r, "OK", "client", "pause", "100000", "ALL")

	// Everything waits, even PING and CLIENT UNPAUSE from a normal client.
	other := srv.Raw(t)
	if err := other.Write([]byte("PING\r\nCLIENT UNPAUSE\r\n")); err != nil {
		t.Fatal(err)
	}
	// Only the monitor can look: CLIENT LIST waits too.
	testutil.WaitFor(t, 5*time.Second, "PING postponed", func() bool { return blockedCount(t, m) == 1 })
	// Arity errors are still answered at once.
	p := srv.Raw(t)
	expect(t, p, testutil.ErrorReply("ERR wrong number of arguments for 'get' command"), "get")

	// A monitor is not paused (Redis exempts replicas, which monitors are).
	// The released PING may be fed to the monitor before its own +OK.
	if err := m.Send("client", "unpause"); err != nil {
		t.Fatal(err)
	}
	if v := readSkippingFeed(t, m); v != "OK" {
		t.Fatalf("CLIENT UNPAUSE from the monitor: %#v", v)
	}
	expectSeq(t, other, "PONG", "OK")
	expect(t, p, "PONG", "ping")
}

func TestClientPauseExpires(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	other := srv.Raw(t)
	start := time.Now()
	expect(t, r, "OK", "client", "pause", "300", "ALL")
	expect(t, other, "PONG", "ping")
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("PING answered %v into a 300 ms pause", d)
	}
	// The stricter, longer pause wins over a later, laxer, shorter one.
	m := startMonitor(t, srv) // monitors are not paused: one can re-pause
	start = time.Now()
	expect(t, r, "OK", "client", "pause", "300", "ALL")
	expect(t, m, "OK", "client", "pause", "20", "WRITE")
	expect(t, other, "PONG", "ping")
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("PING answered %v into a 300 ms ALL pause", d)
	}
}

// TestClientPauseOrder checks that postponed commands run in the order they
// arrived once the pause ends.
func TestClientPauseOrder(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	expect(t, r, "OK", "client", "pause", "100000", "WRITE")
	const n = 8
	clients := make([]*testutil.Raw, n)
	for i := range clients {
		clients[i] = srv.Raw(t)
		if err := clients[i].Send("append", "order", fmt.Sprint(i, ",")); err != nil {
			t.Fatal(err)
		}
		testutil.WaitFor(t, 5*time.Second, "APPEND postponed", func() bool { return blockedCount(t, r) == i+1 })
	}
	expect(t, r, "OK", "client", "unpause")
	want := ""
	for i, c := range clients {
		want += fmt.Sprint(i, ",")
		if got := read(t, c); got != int64(len(want)) {
			t.Fatalf("client %d: APPEND returned %v, want %d", i, got, len(want))
		}
	}
	expect(t, r, want, "get", "order")
}

// TestClientPauseKilledWaiter checks that a client killed while postponed
// goes away at once and its command never runs.
func TestClientPauseKilledWaiter(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	expect(t, r, "OK", "client", "pause", "100000", "WRITE")
	w := srv.Raw(t)
	wid := do(t, w, "client", "id").(int64)
	if err := w.Send("set", "ghost", "1"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, "SET postponed", func() bool { return blockedCount(t, r) == 1 })
	expect(t, r, int64(1), "client", "kill", "id", fmt.Sprint(wid))
	expectClosed(t, w)
	testutil.WaitFor(t, 5*time.Second, "killed client gone", func() bool { return clientLine(t, r, wid) == "" })
	w2 := srv.Raw(t)
	if err := w2.Send("set", "real", "1"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, "SET postponed", func() bool { return blockedCount(t, r) == 1 })
	expect(t, r, "OK", "client", "unpause")
	expectSeq(t, w2, "OK")
	expect(t, r, int64(0), "exists", "ghost")
}

// TestClientPauseStopsActiveExpiry checks that keys are not reclaimed by
// active expiry while a pause is in force, and are once it ends.
func TestClientPauseStopsActiveExpiry(t *testing.T) {
	srv := testutil.Start(t, "hz", "100")
	r := srv.Raw(t)
	for i := 0; i < 20; i++ {
		expect(t, r, "OK", "set", fmt.Sprint("k", i), "v", "px", "200")
	}
	expect(t, r, "OK", "client", "pause", "100000", "WRITE")
	if n := do(t, r, "dbsize").(int64); n != 20 {
		t.Skipf("keys expired before the pause began (dbsize %d): machine too slow", n)
	}
	// A negative check needs some waiting: 60 cron ticks at hz 100, the
	// keys' time long past.
	time.Sleep(600 * time.Millisecond)
	if n := do(t, r, "dbsize").(int64); n != 20 {
		t.Fatalf("active expiry reclaimed keys during a pause: dbsize %d", n)
	}
	expect(t, r, "OK", "client", "unpause")
	testutil.WaitFor(t, 5*time.Second, "keys reclaimed after the pause", func() bool {
		return do(t, r, "dbsize").(int64) == 0
	})
}
