package server_test

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/testutil"
)

// startMonitor opens a connection in MONITOR mode.
func startMonitor(t *testing.T, srv *testutil.Instance) *testutil.Raw {
	t.Helper()
	m := srv.Raw(t)
	expect(t, m, "OK", "monitor")
	return m
}

// feedRE splits a feed line: time, db, client address, arguments.
var feedRE = regexp.MustCompile(`^(\d+)\.(\d{6}) \[(\d+) ([^\]]+)\] (.*)$`)

// parseFeed splits a feed line, or returns ok false if it is not one.
func parseFeed(line string) (db, addr, args string, ok bool) {
	sub := feedRE.FindStringSubmatch(line)
	if sub == nil {
		return "", "", "", false
	}
	return sub[3], sub[4], sub[5], true
}

// readFeed reads one feed line and returns its db, address and arguments,
// checking that its timestamp is now.
func readFeed(t *testing.T, m *testutil.Raw) (db, addr, args string) {
	t.Helper()
	v := read(t, m)
	line, ok := v.(string)
	if !ok {
		t.Fatalf("feed: not a status line: %#v", v)
	}
	db, addr, args, ok = parseFeed(line)
	if !ok {
		t.Fatalf("feed line %q does not look like Redis's", line)
	}
	var sec int64
	fmt.Sscan(line, &sec)
	if d := time.Now().Unix() - sec; d < -1 || d > 5 {
		t.Fatalf("feed timestamp of %q is not now", line)
	}
	return db, addr, args
}

// readSkippingFeed reads a monitor's next reply, skipping feed lines.
func readSkippingFeed(t *testing.T, m *testutil.Raw) any {
	t.Helper()
	for {
		v := read(t, m)
		if s, ok := v.(string); ok {
			if _, _, _, feed := parseFeed(s); feed {
				continue
			}
		}
		return v
	}
}

// expectFeed reads one feed line and compares its arguments.
func expectFeed(t *testing.T, m *testutil.Raw, wantArgs string) {
	t.Helper()
	if _, _, args := readFeed(t, m); args != wantArgs {
		t.Fatalf("feed args %s, want %s", args, wantArgs)
	}
}

func TestMonitorFeed(t *testing.T) {
	srv := testutil.Start(t)
	m := startMonitor(t, srv)
	r := srv.Raw(t)
	me := r.Conn.LocalAddr().String()

	expect(t, r, "OK", "set", "foo", "bar")
	if db, addr, args := readFeed(t, m); db != "0" || addr != me || args != `"set" "foo" "bar"` {
		t.Fatalf("feed: db=%s addr=%s args=%s", db, addr, args)
	}

	// sdscatrepr quoting.
	expect(t, r, "OK", "set", "k", "a\nb\r\t\a\b\"q\\ \x00\x01\x7f\xff~")
	expectFeed(t, m, `"set" "k" "a\nb\r\t\a\b\"q\\ \x00\x01\x7f\xff~"`)

	// Fed after execution: SELECT shows the new database.
	expect(t, r, "OK", "select", "3")
	if db, _, args := readFeed(t, m); db != "3" || args != `"select" "3"` {
		t.Fatalf("SELECT feed: db=%s args=%s", db, args)
	}
	expect(t, r, nil, "get", "foo")
	if db, _, _ := readFeed(t, m); db != "3" {
		t.Fatalf("GET after SELECT 3 fed with db %s", db)
	}

	// Rejected and admin commands are not fed; other CLIENT subcommands are.
	do(t, r, "bogus")
	do(t, r, "set", "x")
	do(t, r, "client", "list")
	do(t, r, "client", "pause", "abc")
	do(t, r, "client", "id")
	expectFeed(t, m, `"client" "id"`)

	// Secrets are redacted, as far as each command's parsing goes.
	do(t, r, "auth", "not-real")
	expectFeed(t, m, `"auth" "(redacted)"`)
	do(t, r, "auth", "user", "not-a-password")
	expectFeed(t, m, `"auth" "(redacted)" "(redacted)"`)
	do(t, r, "hello", "3", "AUTH", "not-real", "not-a-password")
	expectFeed(t, m, `"hello" "3" "AUTH" "(redacted)" "(redacted)"`)
	do(t, r, "hello", "2", "setname", "n", "auth", "u", "p")
	expectFeed(t, m, `"hello" "2" "setname" "n" "auth" "(redacted)" "(redacted)"`)
	do(t, r, "hello", "4", "auth", "u", "p")
	expectFeed(t, m, `"hello" "4" "auth" "u" "p"`)
}

func TestMonitorOwnCommands(t *testing.T) {
	srv := testutil.Start(t)
	m := startMonitor(t, srv)
	r := srv.Raw(t)
	mAddr := m.Conn.LocalAddr().String()

	// A monitor's own command: its reply first, then its feed line.
	expect(t, m, "PONG", "ping")
	if _, addr, args := readFeed(t, m); addr != mAddr || args != `"ping"` {
		t.Fatalf("own PING feed: %s %s", addr, args)
	}
	// A monitor may not touch the keyspace (Redis treats it as a replica);
	// the rejection is not fed.
	expect(t, m, testutil.ErrorReply("ERR Replica can't interact with the keyspace"), "get", "foo")
	// A second MONITOR is ignored without a reply.
	if err := m.Write([]byte("MONITOR\r\nECHO hi\r\n")); err != nil {
		t.Fatal(err)
	}
	expectSeq(t, m, "hi")
	expectFeed(t, m, `"ECHO" "hi"`)

	// Other clients see it as a normal client with flag O.
	line := clientLine(t, r, do(t, m, "client", "id").(int64))
	read(t, m) // the feed of CLIENT ID
	if infoField(line, "flags") != "O" {
		t.Fatalf("monitor flags: %s", line)
	}
	if got := fmt.Sprint(do(t, r, "client", "list", "type", "normal")); !strings.Contains(got, "flags=O") {
		t.Fatalf("monitor must be a normal client: %s", got)
	}

	// RESET leaves monitor mode.
	m2 := startMonitor(t, srv)
	expect(t, m2, "RESET", "reset")
	expectFeed(t, m, `"reset"`)
	expect(t, r, "OK", "set", "a", "1")
	expectFeed(t, m, `"set" "a" "1"`)
	expect(t, m2, "PONG", "ping") // no feed line came first
	expectFeed(t, m, `"ping"`)

	// QUIT: the +OK (and the feed of the QUIT itself) go out before the close.
	expect(t, m, "OK", "quit")
	expectFeed(t, m, `"quit"`)
	expectClosed(t, m)
}

// TestMonitorNoInterleave has a monitor pipeline commands of its own while
// other clients write big values: every frame it reads must be whole, its
// own replies in order, each before the feed line of its own command.
func TestMonitorNoInterleave(t *testing.T) {
	srv := testutil.Start(t)
	m := startMonitor(t, srv)
	mAddr := m.Conn.LocalAddr().String()

	const writers, writes, pings = 4, 50, 300
	val := strings.Repeat("x\n\"\xff", 20000) // 80 KB, about 200 KB quoted
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := srv.Raw(t)
			for i := 0; i < writes; i++ {
				if _, err := c.Do("set", fmt.Sprint("k", w), val); err != nil {
					t.Errorf("writer: %v", err)
					return
				}
			}
		}()
	}
	var pipe []byte
	for i := 0; i < pings; i++ {
		pipe = append(pipe, testutil.Encode("echo", fmt.Sprint(i))...)
	}
	go func() { _ = m.Write(pipe) }()

	replies, ownFeeds, sets := 0, 0, 0
	for replies < pings || ownFeeds < pings || sets < writers*writes {
		v := read(t, m)
		line, _ := v.(string)
		if db, addr, args, ok := parseFeed(line); ok && db == "0" {
			switch {
			case addr == mAddr:
				if args != fmt.Sprintf(`"echo" "%d"`, ownFeeds) {
					t.Fatalf("own feed %d out of order: %s", ownFeeds, args)
				}
				ownFeeds++
				if ownFeeds > replies {
					t.Fatalf("feed of own command %d before its reply", ownFeeds-1)
				}
			case strings.HasPrefix(args, `"set" "k`) && len(args) > 150000:
				sets++
			default:
				t.Fatalf("unexpected feed line %.200q", line)
			}
			continue
		}
		if line != fmt.Sprint(replies) {
			t.Fatalf("reply %d: got %.200q", replies, line)
		}
		replies++
	}
	wg.Wait()
}

// EVAL and FCALL show before the commands their script runs, which show
// as from "lua"; a blocked command shows once, when it blocks, not again
// when a push serves it.
func TestMonitorScriptsAndBlocked(t *testing.T) {
	srv := testutil.Start(t)
	m := startMonitor(t, srv)
	r := srv.Raw(t)
	me := r.Conn.LocalAddr().String()
	expect(t, r, nil, "eval", "redis.call('set', KEYS[1], ARGV[1])", "1", "foo", "bar")
	if _, addr, args := readFeed(t, m); addr != me || args != `"eval" "redis.call('set', KEYS[1], ARGV[1])" "1" "foo" "bar"` {
		t.Fatalf("EVAL feed: addr=%s args=%s", addr, args)
	}
	if _, addr, args := readFeed(t, m); addr != "lua" || args != `"set" "foo" "bar"` {
		t.Fatalf("script command feed: addr=%s args=%s", addr, args)
	}
	expect(t, r, "test", "function", "load", "replace", "#!lua name=test\nredis.register_function('test', function() return redis.call('set', 'foo', 'baz') end)")
	expectFeed(t, m, `"function" "load" "replace" "#!lua name=test\nredis.register_function('test', function() return redis.call('set', 'foo', 'baz') end)"`)
	expect(t, r, "OK", "fcall", "test", "0")
	expectFeed(t, m, `"fcall" "test" "0"`)
	if _, addr, args := readFeed(t, m); addr != "lua" || args != `"set" "foo" "baz"` {
		t.Fatalf("function command feed: addr=%s args=%s", addr, args)
	}

	b := srv.Raw(t)
	if err := b.Send("blpop", "mylist", "0"); err != nil {
		t.Fatal(err)
	}
	expectFeed(t, m, `"blpop" "mylist" "0"`)
	expect(t, r, int64(1), "lpush", "mylist", "1")
	expectFeed(t, m, `"lpush" "mylist" "1"`)
	read(t, b)
	expect(t, r, int64(1), "lpush", "mylist", "2")
	expectFeed(t, m, `"lpush" "mylist" "2"`)
}
