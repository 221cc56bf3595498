package server_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/testutil"
)

func TestTrackingRESP3(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Raw(t)
	w := srv.Raw(t)
	do(t, c, "hello", "3")
	expect(t, c, "OK", "client", "tracking", "on")
	expect(t, w, "OK", "set", "k", "1")
	expect(t, c, "1", "get", "k")
	expect(t, w, "OK", "set", "k", "2")
	// The invalidation push arrives before the next reply.
	if err := c.Send("ping"); err != nil {
		t.Fatal(err)
	}
	expectSeq(t, c, "[invalidate [k]]", "PONG")
	// Once invalidated, the key is forgotten until read again.
	expect(t, w, "OK", "set", "k", "3")
	expect(t, c, "PONG", "ping")
	// Own writes invalidate too, after the reply; NOLOOP stops that.
	expect(t, c, "3", "get", "k")
	if err := c.Send("set", "k", "4"); err != nil {
		t.Fatal(err)
	}
	expectSeq(t, c, "OK", "[invalidate [k]]")
	expect(t, c, "OK", "client", "tracking", "on", "noloop")
	expect(t, c, "4", "get", "k")
	expect(t, c, "OK", "set", "k", "5")
	expect(t, c, "PONG", "ping")
	// FLUSHALL invalidates everything with a null.
	expect(t, c, "OK", "client", "tracking", "off")
	expect(t, c, "OK", "client", "tracking", "on")
	expect(t, c, "5", "get", "k")
	expect(t, w, "OK", "flushall")
	if err := c.Send("ping"); err != nil {
		t.Fatal(err)
	}
	expectSeq(t, c, "[invalidate <nil>]", "PONG")
	expect(t, c, "map[flags:[on] prefixes:[] redirect:0]", "client", "trackinginfo")
	expect(t, c, int64(0), "client", "getredir")
}

func TestTrackingRedirectRESP2(t *testing.T) {
	srv := testutil.Start(t)
	inv := srv.Raw(t)
	c := srv.Raw(t)
	w := srv.Raw(t)
	id := do(t, inv, "client", "id").(int64)
	expect(t, inv, "[subscribe __redis__:invalidate 1]", "subscribe", "__redis__:invalidate")
	expect(t, c, "OK", "client", "tracking", "on", "redirect", strconv.FormatInt(id, 10))
	expect(t, c, int64(id), "client", "getredir")
	expect(t, c, "<nil>", "get", "a")
	expect(t, c, "[<nil> <nil>]", "mget", "b", "c")
	expect(t, w, "OK", "mset", "a", "1", "b", "2")
	expectSeq(t, inv, "[message __redis__:invalidate [a]]", "[message __redis__:invalidate [b]]")
	// Expiry invalidates as well.
	expect(t, c, "<nil>", "get", "e")
	expect(t, w, "OK", "set", "e", "x", "px", "20")
	expectSeq(t, inv, "[message __redis__:invalidate [e]]")
	expect(t, c, "x", "get", "e")
	expectSeq(t, inv, "[message __redis__:invalidate [e]]") // the active expiry cycle
}

func TestTrackingBcastOptin(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Raw(t)
	w := srv.Raw(t)
	do(t, c, "hello", "3")
	expect(t, c, "ERR PREFIX option requires BCAST mode to be enabled", "client", "tracking", "on", "prefix", "a")
	expect(t, c, "ERR Prefix 'ab' overlaps with another provided prefix 'a'. Prefixes for a single client must not overlap.",
		"client", "tracking", "on", "bcast", "prefix", "ab", "prefix", "a")
	expect(t, c, "OK", "client", "tracking", "on", "bcast", "prefix", "user:", "prefix", "cfg:")
	expect(t, w, "OK", "mset", "user:1", "a", "other", "b", "user:2", "c")
	if err := c.Send("ping"); err != nil {
		t.Fatal(err)
	}
	got := read(t, c)
	if s := got.([]any); len(s) != 2 || len(s[1].([]any)) != 2 {
		t.Fatalf("bcast invalidation: %v", got)
	}
	expectSeq(t, c, "PONG")
	expect(t, c, "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.", "client", "tracking", "on")
	expect(t, c, "OK", "client", "tracking", "off")

	// OPTIN: only reads after CLIENT CACHING yes are tracked.
	expect(t, c, "OK", "client", "tracking", "on", "optin")
	expect(t, c, "<nil>", "get", "x")
	expect(t, c, "OK", "client", "caching", "yes")
	expect(t, c, "<nil>", "get", "y")
	expect(t, w, "OK", "mset", "x", "1", "y", "2")
	if err := c.Send("ping"); err != nil {
		t.Fatal(err)
	}
	expectSeq(t, c, "[invalidate [y]]", "PONG")
	expect(t, c, "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.", "client", "caching", "no")
}

// TestTrackingRedirectToIdleRESP3 redirects to a RESP3 connection that is
// neither subscribed nor tracking: the push reaches it while it is idle.
func TestTrackingRedirectToIdleRESP3(t *testing.T) {
	srv := testutil.Start(t)
	target := srv.Raw(t)
	c := srv.Raw(t)
	w := srv.Raw(t)
	do(t, target, "hello", "3")
	id := do(t, target, "client", "id").(int64)
	if err := target.Send("client", "reply", "off"); err != nil {
		t.Fatal(err)
	}
	expect(t, c, "OK", "client", "tracking", "on", "redirect", strconv.FormatInt(id, 10))
	expect(t, c, "<nil>", "get", "k")
	expect(t, w, "OK", "set", "k", "v")
	expectSeq(t, target, "[invalidate [k]]")
}

// Once the redirection target's QUIT is answered it is gone: the next
// invalidation tells the tracking client tracking-redir-broken, as in
// Redis (which frees the client before the next command runs). The target
// used to stay registered until its socket was closed, so a SET on another
// core in that window lost the message to it (Redis's unit/tracking hung
// in 2 of 12 runs); that window is too narrow to hit here every time, so
// this checks the behaviour, and the Tcl file the race.
func TestTrackingRedirectGoneAfterQuit(t *testing.T) {
	srv := testutil.Start(t)
	for i := range 30 {
		target := srv.Raw(t)
		c := srv.Raw(t)
		w := srv.Raw(t)
		do(t, c, "hello", "3")
		id := do(t, target, "client", "id").(int64)
		expect(t, c, "OK", "client", "tracking", "on", "redirect", strconv.FormatInt(id, 10))
		key := "k" + strconv.Itoa(i)
		expect(t, c, "<nil>", "get", key)
		expect(t, target, "OK", "quit")
		expect(t, w, "OK", "set", key, "v")
		_ = c.Conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		v, err := c.Read()
		if err != nil || fmt.Sprint(v) != fmt.Sprintf("[tracking-redir-broken %d]", id) {
			t.Fatalf("round %d: %v %v, want tracking-redir-broken", i, v, err)
		}
	}
}
