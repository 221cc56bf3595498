package server_test

import (
	"bufio"
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/server"
	"github.com/corvid-db/corvid/internal/testutil"
)

// writeStream collects a server's write stream as commands.
type writeStream struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func attachStream(t *testing.T, srv *testutil.Instance) *writeStream {
	ws := &writeStream{}
	detach := server.AttachWriteStream(srv.Srv, func(b []byte) {
		ws.mu.Lock()
		ws.buf.Write(b)
		ws.mu.Unlock()
	})
	t.Cleanup(detach)
	return ws
}

// commands parses what was streamed so far, one string per command
// (arguments joined by spaces, the name lower-cased).
func (ws *writeStream) commands(t *testing.T) []string {
	ws.mu.Lock()
	data := append([]byte(nil), ws.buf.Bytes()...)
	ws.mu.Unlock()
	r := bufio.NewReader(bytes.NewReader(data))
	var out []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return out
		}
		if line[0] != '*' {
			t.Fatalf("stream: expected an array, got %q", line)
		}
		n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
		args := make([]string, n)
		for i := range args {
			h, _ := r.ReadString('\n')
			l, _ := strconv.Atoi(strings.TrimSpace(h[1:]))
			b := make([]byte, l+2)
			if _, err := r.Read(b); err != nil {
				t.Fatal(err)
			}
			args[i] = string(b[:l])
		}
		args[0] = strings.ToLower(args[0])
		out = append(out, strings.Join(args, " "))
	}
}

// expectStream checks the stream against patterns (* matches any run).
func expectStream(t *testing.T, ws *writeStream, want ...string) {
	t.Helper()
	var got []string
	deadline := time.Now().Add(2 * time.Second)
	for {
		got = ws.commands(t)
		if len(got) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(got) != len(want) {
		t.Fatalf("stream has %d commands, want %d:\n got %q\nwant %q", len(got), len(want), got, want)
	}
	for i := range want {
		if !globMatch(want[i], got[i]) {
			t.Fatalf("command %d: got %q, want %q\nstream %q", i, got[i], want[i], got)
		}
	}
}

func globMatch(pat, s string) bool {
	parts := strings.Split(pat, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, p)
		}
		k := strings.Index(s, p)
		if k < 0 {
			return false
		}
		s = s[k+len(p):]
	}
	return s == ""
}

func TestWriteStreamTTLsAreAbsolute(t *testing.T) {
	srv := testutil.Start(t)
	ws := attachStream(t, srv)
	c := srv.Client(t)
	ctx := context.Background()
	c.Do(ctx, "set", "foo1", "bar", "ex", "200")
	c.Do(ctx, "setex", "foo1", "100", "bar")
	c.Do(ctx, "set", "foo1", "bar", "pxat", strconv.FormatInt(time.Now().UnixMilli()+100000, 10))
	c.Do(ctx, "set", "foo1", "bar", "get")
	c.Do(ctx, "expire", "foo1", "100", "nx")
	c.Do(ctx, "expireat", "foo1", strconv.FormatInt(time.Now().Unix()-100, 10))
	c.Do(ctx, "expire", "missing", "100") // changes nothing: not sent
	c.Do(ctx, "set", "foo4", "bar", "ex", "100")
	c.Do(ctx, "getex", "foo4", "persist")
	c.Do(ctx, "getex", "foo4")
	c.Do(ctx, "getex", "foo4", "px", "5000")
	c.Do(ctx, "getex", "foo4", "exat", "1")
	c.Do(ctx, "incrbyfloat", "f", "1.5")
	c.Do(ctx, "getset", "f", "x")
	c.Do(ctx, "getdel", "f")
	expectStream(t, ws,
		"select 0",
		"set foo1 bar PXAT *",
		"set foo1 bar PXAT *",
		"set foo1 bar pxat *",
		"set foo1 bar",
		"pexpireat foo1 * nx",
		"del foo1",
		"set foo4 bar PXAT *",
		"persist foo4",
		"pexpireat foo4 *",
		"del foo4",
		"set f 1.5 KEEPTTL",
		"set f x",
		"del f",
	)
}

func TestWriteStreamTransactionsAndScripts(t *testing.T) {
	srv := testutil.Start(t)
	ws := attachStream(t, srv)
	r := srv.Raw(t)
	for _, cmd := range [][]string{
		{"multi"}, {"set", "a", "1"}, {"exec"}, // one write: not wrapped
		{"multi"}, {"set", "a", "2"}, {"get", "a"}, {"select", "1"}, {"incr", "b"}, {"exec"},
		{"multi"}, {"del", "nothing"}, {"exec"}, // no effect: nothing sent
		{"eval", "redis.call('set','s','1') redis.call('incr','s') return 1", "1", "s"},
		{"eval", "return redis.call('get','s')", "1", "s"},
		{"publish", "ch", "hi"},
	} {
		if _, err := r.Do(cmd...); err != nil {
			t.Fatal(cmd, err)
		}
	}
	expectStream(t, ws,
		"select 0", "set a 1",
		"multi", "set a 2", "select 1", "incr b", "exec",
		"multi", "set s 1", "incr s", "exec",
		"publish ch hi",
	)
}

func TestWriteStreamPopsAndExpiry(t *testing.T) {
	srv := testutil.Start(t)
	ws := attachStream(t, srv)
	c := srv.Client(t)
	ctx := context.Background()
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Client(t).BLPop(ctx, 5*time.Second, "q")
	}()
	testutil.WaitFor(t, 2*time.Second, "client blocked", func() bool {
		return strings.Contains(c.Info(ctx, "clients").Val(), "blocked_clients:1")
	})
	c.RPush(ctx, "q", "job")
	<-done
	c.SAdd(ctx, "s", "a", "b", "c")
	c.SPopN(ctx, "s", 2)
	c.ZAdd(ctx, "z", redis.Z{Score: 1, Member: "m"}, redis.Z{Score: 2, Member: "n"})
	c.Do(ctx, "zmpop", "1", "z", "min", "count", "5")
	c.Do(ctx, "set", "gone", "v", "px", "1")
	time.Sleep(5 * time.Millisecond)
	c.Get(ctx, "gone") // lazy expiry: a DEL, and no GET
	got := ws.commands(t)
	want := []string{"select 0", "rpush q job", "lpop q", "sadd s a b c", "srem s * *", "zadd z 1 m 2 n", "zpopmin z 2", "set gone v PXAT *", "del gone"}
	if len(got) != len(want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	for i := range want {
		if !globMatch(want[i], got[i]) {
			t.Fatalf("command %d: got %q want %q (%q)", i, got[i], want[i], got)
		}
	}
}

func TestWriteStreamStreams(t *testing.T) {
	srv := testutil.Start(t)
	ws := attachStream(t, srv)
	r := srv.Raw(t)
	for _, cmd := range [][]string{
		{"xadd", "s", "1-1", "f", "1"},
		{"xadd", "s", "2-*", "f", "2"},
		{"xadd", "s", "3-0", "f", "3"},
		{"xadd", "s", "maxlen", "~", "1", "4-*", "f", "4"},
		{"xadd", "s", "minid", "=", "0", "5-0", "f", "5"},
		{"xadd", "t", "*", "f", "1"},
		{"xgroup", "create", "s", "g", "0"},
		{"multi"},
		{"xreadgroup", "group", "g", "c1", "count", "2", "streams", "s", ">"},
		{"xreadgroup", "group", "g", "c1", "streams", "s", ">"},
		{"exec"},
		{"xreadgroup", "group", "g", "c2", "noack", "streams", "s", "0"}, // history: no entries
		{"xclaim", "s", "g", "c2", "0", "2-0"},
		{"xautoclaim", "s", "g", "c3", "0", "0", "count", "1"},
	} {
		if _, err := r.Do(cmd...); err != nil {
			t.Fatal(cmd, err)
		}
	}
	claim := func(consumer, id, count string) string {
		return "xclaim s g " + consumer + " 0 " + id + " TIME * RETRYCOUNT " + count + " FORCE JUSTID LASTID 5-0"
	}
	expectStream(t, ws,
		"select 0",
		"xadd s 1-1 f 1",
		"xadd s 2-0 f 2",
		"xadd s 3-0 f 3",
		"xadd s maxlen = 4 4-0 f 4",
		"xadd s minid = 0 5-0 f 5",
		"xadd t *-0 f 1",
		"xgroup create s g 0",
		"multi",
		"xclaim s g c1 0 1-1 TIME * RETRYCOUNT 1 FORCE JUSTID LASTID 1-1",
		"xclaim s g c1 0 2-0 TIME * RETRYCOUNT 1 FORCE JUSTID LASTID 2-0",
		"xclaim s g c1 0 3-0 TIME * RETRYCOUNT 1 FORCE JUSTID LASTID 3-0",
		"xclaim s g c1 0 4-0 TIME * RETRYCOUNT 1 FORCE JUSTID LASTID 4-0",
		claim("c1", "5-0", "1"),
		"exec",
		"xgroup CREATECONSUMER s g c2",
		claim("c2", "2-0", "2"),
		claim("c3", "1-1", "2"),
	)
}

func TestWriteStreamHashFieldTTLs(t *testing.T) {
	srv := testutil.Start(t)
	ws := attachStream(t, srv)
	r := srv.Raw(t)
	for _, cmd := range [][]string{
		{"hset", "h", "a", "1", "b", "2", "c", "3"},
		{"hexpire", "h", "100", "nx", "fields", "2", "a", "nope"},
		{"hexpire", "h", "100", "nx", "fields", "1", "a"}, // NX fails: nothing sent
		{"hexpireat", "h", "1", "fields", "1", "c"},       // in the past: deleted
		{"hpexpire", "h", "1", "fields", "1", "b"},
	} {
		if _, err := r.Do(cmd...); err != nil {
			t.Fatal(cmd, err)
		}
	}
	time.Sleep(5 * time.Millisecond)
	r.Do("hget", "h", "b") // reclaimed lazily: an HDEL
	expectStream(t, ws,
		"select 0",
		"hset h a 1 b 2 c 3",
		"hpexpireat h * nx FIELDS 1 a",
		"hdel h c",
		"hpexpireat h * FIELDS 1 b",
		"hdel h b",
	)
}

// HSETEX and HGETEX with a relative (or seconds) expiry go out with the
// absolute PXAT time, so that a replica or a replayed AOF keeps the clock.
func TestWriteStreamHashSetGetExAbsolute(t *testing.T) {
	srv := testutil.Start(t)
	ws := attachStream(t, srv)
	r := srv.Raw(t)
	at := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
	for _, cmd := range [][]string{
		{"hsetex", "h", "EX", "100", "FIELDS", "1", "f", "v"},
		{"hsetex", "h", "FNX", "PX", "100", "FIELDS", "1", "f", "w"}, // fails: nothing sent
		{"hsetex", "h", "PXAT", at, "FIELDS", "1", "g", "v"},
		{"hgetex", "h", "EXAT", "4000000000", "FIELDS", "1", "f"},
		{"hgetex", "h", "PERSIST", "FIELDS", "1", "g"},
	} {
		if _, err := r.Do(cmd...); err != nil {
			t.Fatal(cmd, err)
		}
	}
	expectStream(t, ws,
		"select 0",
		"hsetex h PXAT * FIELDS 1 f v",
		"hsetex h PXAT "+at+" FIELDS 1 g v",
		"hgetex h PXAT 4000000000000 FIELDS 1 f",
		"hgetex h PERSIST FIELDS 1 g",
	)
}
