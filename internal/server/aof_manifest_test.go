package server

import (
	"bytes"
	"context"
	"fmt"
	"github.com/corvid-db/corvid/internal/resp"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/keyspace"
)

// TestManifestParseRefusals feeds the parser every manifest Redis 7.2's
// aofLoadManifestFromFile refuses, and checks the text and the line it
// reports: the server stops with those words, which operators and
// Redis's tests look for.
func TestManifestParseRefusals(t *testing.T) {
	long := "file appendonly.aof.1.base.aof seq 1 type b" + strings.Repeat(" k v", 300) + "\n"
	cases := []struct {
		name, text, msg string
		line            int // 0: no line reported
	}{
		{"empty", "", errManifestEmpty, 0},
		{"only a comment is not empty", "# nothing\n", "", 0},
		{"blank line", "file a.1.incr.aof seq 1 type i\n\nfile a.3.incr.aof seq 3 type i\n", errManifestFormat, 2},
		{"spaces only", "file a.1.incr.aof seq 1 type i\n  \t \n", errManifestFormat, 2},
		{"duplicate base", "file a.1.base.aof seq 1 type b\nfile a.2.base.aof seq 2 type b\n", errManifestDupBase, 2},
		{"non-monotonic", "file a.2.incr.aof seq 2 type i\nfile a.1.incr.aof seq 1 type i\n", errManifestNonMonoto, 2},
		{"same incr seq twice", "file a.2.incr.aof seq 2 type i\nfile a.3.incr.aof seq 2 type i\n", errManifestNonMonoto, 2},
		{"incr seq 0 is missing", "file a.0.incr.aof seq 0 type i\n", errManifestFormat, 1},
		{"negative incr seq", "file a.incr.aof seq -1 type i\n", errManifestNonMonoto, 1},
		{"unknown type", "file a.1.base.aof seq 1 type x\n", errManifestType, 1},
		{"missing key", "filx a.1.base.aof seq 1 type b\n", errManifestFormat, 1},
		{"empty type", "file a.1.base.aof seq 1 type ''\n", errManifestFormat, 1},
		{"line too short", "file a.1.base.aof seq 1 type b\nfile a.1.incr.aof type i\n", errManifestFormat, 2},
		{"odd parameters", "file a.1.incr.aof seq 1 type i newkey\n", errManifestFormat, 1},
		{"line too long", long, errManifestLongLine, 0},
		{"no final newline", "file a.1.base.aof seq 1 type b", errManifestLongLine, 0},
		{"a path", "file dir/a.1.base.aof seq 1 type b\n", errManifestPath, 1},
		{"a windows path", "file dir\\\\a seq 1 type b\n", errManifestPath, 1},
		{"unbalanced quotes", "file \"a.1.base.aof seq 1 type b\n", errManifestFormat, 1},
		{"text after a closing quote", "file \"a\"b seq 1 type b\n", errManifestFormat, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseAOFManifest(strings.NewReader(tc.text))
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			me, ok := err.(*manifestError)
			if !ok {
				t.Fatalf("got %v, want %q", err, tc.msg)
			}
			if me.msg != tc.msg || me.Error() != tc.msg {
				t.Fatalf("got %q, want %q", me.msg, tc.msg)
			}
			if me.hasLine != (tc.line != 0) || me.lineNum != tc.line {
				t.Fatalf("line %d (reported %v), want %d", me.lineNum, me.hasLine, tc.line)
			}
		})
	}
}

// TestManifestParseAccepts checks what Redis reads without complaint:
// comments (counted as lines), unknown keys, keys in any case, history
// files in any order, a quoted name with blanks, CRLF line ends, and the
// current numbers taken from the last base and incremental file.
func TestManifestParseAccepts(t *testing.T) {
	text := "# written by hand\r\n" +
		"FILE \"my aof\\n.1.base.rdb\" SEQ 7 TYPE b newkey newvalue\r\n" +
		"file a.5.incr.aof seq 5 type h\n" +
		"file 'q.6.incr.aof' seq 6 type i\n" +
		"file a.2.base.rdb seq 2 type h\n" +
		"file a.9.incr.aof seq 9 type iii\n"
	m, err := parseAOFManifest(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if m.base == nil || m.base.name != "my aof\n.1.base.rdb" || m.baseSeq != 7 {
		t.Fatalf("base %+v, seq %d", m.base, m.baseSeq)
	}
	if len(m.history) != 2 || m.history[0].name != "a.5.incr.aof" || m.history[1].name != "a.2.base.rdb" {
		t.Fatalf("history %+v", m.history)
	}
	if len(m.incrs) != 2 || m.incrs[0].name != "q.6.incr.aof" || m.incrSeq != 9 {
		t.Fatalf("incrs %+v, seq %d", m.incrs, m.incrSeq)
	}
	// What is written back is what Redis writes: Redis's order and
	// quoting, unknown keys and comments dropped.
	want := "file \"my aof\\n.1.base.rdb\" seq 7 type b\n" +
		"file a.5.incr.aof seq 5 type h\n" +
		"file a.2.base.rdb seq 2 type h\n" +
		"file q.6.incr.aof seq 6 type i\n" +
		"file a.9.incr.aof seq 9 type i\n"
	if got := string(m.format()); got != want {
		t.Fatalf("format:\n%s\nwant:\n%s", got, want)
	}
}

// TestManifestNameQuoting writes names that need sdscatrepr's quoting and
// reads them back with the sdssplitargs rules.
func TestManifestNameQuoting(t *testing.T) {
	names := []string{
		"appendonly.aof.1.base.rdb",
		" file seq \n\n.aof .2.base.rdb",
		"quote\"tab\tcr\r\a\b.1.incr.aof",
		"bytes\x00\x01\x7f\xff.aof",
		"it's.1.incr.aof",
	}
	for _, name := range names {
		m := &aofManifest{base: &aofInfo{name: name, seq: 1, typ: aofTypeBase}}
		text := m.format()
		if bytes.Count(text, []byte("\n")) != 1 {
			t.Fatalf("%q: written on more than one line: %q", name, text)
		}
		got, err := parseAOFManifest(bytes.NewReader(text))
		if err != nil {
			t.Fatalf("%q: %q refused: %v", name, text, err)
		}
		if got.base.name != name {
			t.Fatalf("read back %q from %q, want %q", got.base.name, text, name)
		}
	}
	if got := resp.Repr(" file seq \n\n.aof .2.base.rdb"); got != `" file seq \n\n.aof .2.base.rdb"` {
		t.Fatalf("catRepr: %s", got)
	}
}

// TestSplitArgs checks sdssplitargs' corners.
func TestSplitArgs(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"a b  c", []string{"a", "b", "c"}, true},
		{`"a b" c`, []string{"a b", "c"}, true},
		{`"\x41\x4a\n" 'x\'y'`, []string{"AJ\n", "x'y"}, true},
		{`"\xZZ"`, []string{"xZZ"}, true},
		{`pre"mid"`, []string{"premid"}, true},
		{`"unterminated`, nil, false},
		{`'unterminated`, nil, false},
		{`"a"b`, nil, false},
		{"   ", nil, true},
	}
	for _, tc := range cases {
		got, ok := splitArgs(tc.in)
		if ok != tc.ok || strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestManifestSequences follows Redis's numbering through rewrites: base
// and incremental numbers move apart, the files a rewrite covers become
// history in Redis's order, and with appending off every incremental file
// does.
func TestManifestSequences(t *testing.T) {
	m := &aofManifest{}
	m.newBase("a", true)
	m.newIncr("a")
	// A rewrite while appending: a new incremental file at its start...
	m.newIncr("a")
	// ...and when the base is written the older increment is history.
	m.newBase("a", true)
	m.markIncrsHistory(true)
	m.newIncr("a")
	m.newBase("a", false)
	m.markIncrsHistory(true)
	want := "file a.3.base.aof seq 3 type b\n" +
		"file a.2.incr.aof seq 2 type h\n" +
		"file a.2.base.rdb seq 2 type h\n" +
		"file a.1.incr.aof seq 1 type h\n" +
		"file a.1.base.rdb seq 1 type h\n" +
		"file a.3.incr.aof seq 3 type i\n"
	if got := string(m.format()); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	// Failed rewrites leave increments; with appending off a base covers
	// them all.
	m.history = nil
	m.newIncr("a")
	m.newIncr("a")
	m.newBase("a", true)
	m.markIncrsHistory(false)
	if len(m.incrs) != 0 || len(m.history) != 4 || m.base.name != "a.4.base.rdb" || m.incrSeq != 5 {
		t.Fatalf("after a rewrite with appending off: %s", m.format())
	}
}

// logBuffer collects a server's log.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p; the server logs from many goroutines.
func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything logged so far.
func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startAOFServer starts a server on dir with appendonly yes and the extra
// directives, and returns it with its log, or its start error.
func startAOFServer(t *testing.T, dir string, directives ...string) (*Server, *logBuffer, error) {
	t.Helper()
	cfg := config.New()
	text := "bind 127.0.0.1\nport 0\nappendonly yes\ndir " + strconv.Quote(dir) + "\n"
	for i := 0; i+1 < len(directives); i += 2 {
		text += directives[i] + " " + strconv.Quote(directives[i+1]) + "\n"
	}
	if err := cfg.LoadString(text); err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := &logBuffer{}
	srv.Log.SetOutput(log)
	srv.EphemeralPort = true
	if err := srv.Start(); err != nil {
		return nil, log, err
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, log, nil
}

// respCommand encodes a command as RESP.
func respCommand(args ...string) string {
	s := "*" + strconv.Itoa(len(args)) + "\r\n"
	for _, a := range args {
		s += "$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n"
	}
	return s
}

// writeTestFile makes path (and its directory) hold text.
func writeTestFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readTestFile returns path's contents.
func readTestFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAOFStartRefusesBadManifest checks that a server does not start on
// a manifest Redis refuses, nor on one listing a missing file, and says
// why in Redis's words as its last word.
func TestAOFStartRefusesBadManifest(t *testing.T) {
	cases := []struct {
		name, manifest, want string
	}{
		{"duplicate base", "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.2.base.aof seq 2 type b\n", errManifestDupBase},
		{"missing file", "file appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.9.incr.aof seq 9 type i\n",
			"Unable to obtain the AOF file appendonly.aof.9.incr.aof length. stat: No such file or directory"},
		{"empty", "", errManifestEmpty},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			aofDir := filepath.Join(dir, "appendonlydir")
			writeTestFile(t, filepath.Join(aofDir, "appendonly.aof.1.incr.aof"), respCommand("set", "k", "v"))
			writeTestFile(t, filepath.Join(aofDir, "appendonly.aof.1.base.aof"), respCommand("set", "k", "v"))
			writeTestFile(t, filepath.Join(aofDir, "appendonly.aof.2.base.aof"), respCommand("set", "k", "v"))
			writeTestFile(t, filepath.Join(aofDir, "appendonly.aof.manifest"), tc.manifest)
			_, log, err := startAOFServer(t, dir)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("start: %v, want %q\n%s", err, tc.want, log)
			}
		})
	}
}

// TestAOFUpgradeFromOldAOF starts on the single file of an AOF from
// before Redis 7, with an RDB preamble and commands after it, as Redis 7
// upgrades one: the file moves into appenddirname as the base, a
// manifest lists it with a new incremental file, and a rewrite later
// replaces it with numbered files.
func TestAOFUpgradeFromOldAOF(t *testing.T) {
	// The preamble: an RDB file of the dataset as it was, made by a
	// server of our own.
	src, _, err := startAOFServer(t, t.TempDir(), "appendonly", "no")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: src.Addr().String(), Protocol: 2})
	defer c.Close()
	c.Set(ctx, "k1", "v1", 0)
	c.RPush(ctx, "list", "a", "b")
	var rdbBytes bytes.Buffer
	src.Store.LockAll()
	err = src.writeSnapshot(&rdbBytes)
	src.Store.UnlockAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, interrupted := range []bool{false, true} {
		dir := t.TempDir()
		old := rdbBytes.String() + respCommand("set", "k2", "v2") + respCommand("rpush", "list", "c")
		writeTestFile(t, filepath.Join(dir, "appendonly.aof"), old)
		if interrupted {
			// Cut short after the manifest was written, before the move.
			writeTestFile(t, filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"), "file appendonly.aof seq 1 type b\n")
		}
		srv, log, err := startAOFServer(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Successfully migrated an old-style AOF file (appendonly.aof) into the AOF directory (appendonlydir).",
			"Reading RDB preamble from AOF file...", "Reading the remaining AOF tail...",
			"Creating AOF incr file appendonly.aof.1.incr.aof on server start"} {
			if !strings.Contains(log.String(), want) {
				t.Fatalf("log lacks %q:\n%s", want, log)
			}
		}
		c := redis.NewClient(&redis.Options{Addr: srv.Addr().String(), Protocol: 2})
		defer c.Close()
		if got := c.MGet(ctx, "k1", "k2").Val(); len(got) != 2 || got[0] != "v1" || got[1] != "v2" {
			t.Fatalf("k1 k2 = %v", got)
		}
		if got := c.LRange(ctx, "list", 0, -1).Val(); strings.Join(got, ",") != "a,b,c" {
			t.Fatalf("list = %v", got)
		}
		if _, err := os.Stat(filepath.Join(dir, "appendonly.aof")); !os.IsNotExist(err) {
			t.Fatalf("the old file is still in dir: %v", err)
		}
		manifest := filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest")
		if got, want := readTestFile(t, manifest), "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"; got != want {
			t.Fatalf("manifest:\n%s\nwant:\n%s", got, want)
		}
		c.Set(ctx, "k3", "v3", 0)
		if err := c.Do(ctx, "bgrewriteaof").Err(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(c.Info(ctx, "persistence").Val(), "aof_rewrite_in_progress:0") {
			if time.Now().After(deadline) {
				t.Fatal("rewrite not done")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if got, want := readTestFile(t, manifest), "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"; got != want {
			t.Fatalf("manifest after a rewrite:\n%s\nwant:\n%s", got, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "appendonlydir", "appendonly.aof")); !os.IsNotExist(err) {
			t.Fatalf("the old base is still there after a rewrite: %v", err)
		}
		// The restarted server reads the rewritten AOF.
		_ = srv.Close()
		srv2, log2, err := startAOFServer(t, dir)
		if err != nil {
			t.Fatalf("restart: %v\n%s", err, log2)
		}
		c2 := redis.NewClient(&redis.Options{Addr: srv2.Addr().String(), Protocol: 2})
		defer c2.Close()
		if got := c2.MGet(ctx, "k1", "k2", "k3").Val(); len(got) != 3 || got[2] != "v3" || got[0] != "v1" {
			t.Fatalf("after restart: %v", got)
		}
		_ = srv2.Close()
	}
}

// TestAOFUpgradeNotRedone checks the layouts that are not an upgrade to
// do: a manifest naming the old file that is already in appenddirname
// loads that one and leaves the file in dir alone, and one naming it when
// it is in neither place stops the server, as Redis.
func TestAOFUpgradeNotRedone(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "appendonly.aof"), respCommand("set", "k1", "old"))
	writeTestFile(t, filepath.Join(dir, "appendonlydir", "appendonly.aof"), respCommand("set", "k4", "moved"))
	writeTestFile(t, filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"), "file appendonly.aof seq 1 type b\n")
	srv, log, err := startAOFServer(t, dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr().String(), Protocol: 2})
	defer c.Close()
	if got := c.MGet(ctx, "k1", "k4").Val(); got[0] != nil || got[1] != "moved" {
		t.Fatalf("k1 k4 = %v", got)
	}
	if got := readTestFile(t, filepath.Join(dir, "appendonly.aof")); got != respCommand("set", "k1", "old") {
		t.Fatalf("the file in dir changed: %q", got)
	}
	if strings.Contains(log.String(), "migrated") {
		t.Fatalf("upgraded again:\n%s", log)
	}
	_ = srv.Close()

	dir = t.TempDir()
	writeTestFile(t, filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"), "file appendonly.aof seq 1 type b\n")
	if _, log, err := startAOFServer(t, dir); err == nil ||
		err.Error() != "Unable to obtain the AOF file appendonly.aof length. stat: No such file or directory" {
		t.Fatalf("start: %v\n%s", err, log)
	}
}

// TestAOFCommandBase checks a base written as commands
// (aof-use-rdb-preamble no) by the first base at start and by a
// background rewrite: named .base.aof, headed by a "#TS:" line with
// aof-timestamp-enabled, and reloading to the same dataset.
func TestAOFCommandBase(t *testing.T) {
	dir := t.TempDir()
	srv, log, err := startAOFServer(t, dir, "aof-use-rdb-preamble", "no", "aof-timestamp-enabled", "yes", "enable-debug-command", "yes")
	if err != nil {
		t.Fatal(err)
	}
	base1 := filepath.Join(dir, "appendonlydir", "appendonly.aof.1.base.aof")
	if got := readTestFile(t, base1); !strings.HasPrefix(got, "#TS:") {
		t.Fatalf("first base %q does not start with #TS:\n%s", got, log)
	}
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr().String(), Protocol: 2})
	defer c.Close()
	c.Set(ctx, "s", "v", 0)
	c.PExpireAt(ctx, "s", time.Now().Add(time.Hour))
	for i := 0; i < 150; i++ {
		c.RPush(ctx, "list", i)
		c.SAdd(ctx, "set", "m"+strconv.Itoa(i))
		c.SAdd(ctx, "ints", i)
		c.ZAdd(ctx, "zset", redis.Z{Score: float64(i) / 3, Member: i})
		c.HSet(ctx, "hash", "f"+strconv.Itoa(i), i)
		c.XAdd(ctx, &redis.XAddArgs{Stream: "stream", Values: []any{"f", i}})
	}
	c.ZAdd(ctx, "zset", redis.Z{Score: -1 / zero(), Member: "ninf"})
	c.Do(ctx, "hpexpireat", "hash", time.Now().Add(time.Hour).UnixMilli(), "FIELDS", 1, "f3")
	c.XGroupCreate(ctx, "stream", "g", "0")
	c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "alice", Streams: []string{"stream", ">"}, Count: 3})
	c.Do(ctx, "xgroup", "createconsumer", "stream", "g", "bob")
	c.Do(ctx, "function", "load", "#!lua name=lib\nredis.register_function('f', function() return 1 end)")
	r := redis.NewClient(&redis.Options{Addr: srv.Addr().String(), Protocol: 2, DB: 5})
	defer r.Close()
	r.Set(ctx, "in5", "x", 0)
	// Enough data that an RDB file's header is written out before a hash
	// with field TTLs, which needs a newer RDB version than the default
	// label: the label must then be corrected in the file. Snapshots go
	// shard by shard, so the hash is put in one of the last.
	rng := rand.New(rand.NewPCG(1, 2))
	p := c.Pipeline()
	for i := 0; i < 4000; i++ {
		v := make([]byte, 500)
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		p.Set(ctx, "filler:"+strconv.Itoa(i), v, 0)
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	ttlHash := "ttlhash"
	for i := 0; keyspace.ShardOf([]byte(ttlHash)) < keyspace.NumShards*3/4; i++ {
		ttlHash = "ttlhash" + strconv.Itoa(i)
	}
	c.Do(ctx, "hset", ttlHash, "a", "1", "b", "2")
	c.Do(ctx, "hpexpireat", ttlHash, time.Now().Add(time.Hour).UnixMilli(), "FIELDS", 1, "a")
	want := c.Do(ctx, "debug", "digest").Val()
	if err := c.Do(ctx, "bgrewriteaof").Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(c.Info(ctx, "persistence").Val(), "aof_rewrite_in_progress:0") {
		if time.Now().After(deadline) {
			t.Fatal("rewrite not done")
		}
		time.Sleep(5 * time.Millisecond)
	}
	base2 := readTestFile(t, filepath.Join(dir, "appendonlydir", "appendonly.aof.2.base.aof"))
	for _, part := range []string{"#TS:", "FUNCTION\r\n$4\r\nLOAD", "SELECT\r\n$1\r\n5", "XCLAIM", "CREATECONSUMER", "HPEXPIREAT", "ENTRIESREAD", "PEXPIREAT", "-inf"} {
		if !strings.Contains(base2, part) {
			t.Fatalf("the rewritten base lacks %q", part)
		}
	}
	if n := strings.Count(base2, "RPUSH"); n != 3 {
		t.Fatalf("150 list elements in %d RPUSH, want 3 (64 per command)", n)
	}
	if err := c.Do(ctx, "debug", "loadaof").Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.Do(ctx, "debug", "digest").Val(); got != want {
		t.Fatalf("digest after DEBUG LOADAOF %v, want %v", got, want)
	}
	if got := c.Do(ctx, "fcall", "f", 0).Val(); got != int64(1) {
		t.Fatalf("FCALL after reload: %v", got)
	}
	// The same dataset in an RDB base: its version label fits the
	// types written (hash field TTLs need a newer one than the default).
	c.ConfigSet(ctx, "aof-use-rdb-preamble", "yes")
	if err := c.Do(ctx, "bgrewriteaof").Err(); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(c.Info(ctx, "persistence").Val(), "aof_rewrite_in_progress:0") {
		if time.Now().After(deadline) {
			t.Fatal("rewrite not done")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(c.Info(ctx, "persistence").Val(), "aof_last_bgrewrite_status:ok") {
		t.Fatalf("the RDB rewrite failed:\n%s", log)
	}
	if err := c.Do(ctx, "debug", "loadaof").Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.Do(ctx, "debug", "digest").Val(); got != want {
		t.Fatalf("digest after an RDB rewrite and DEBUG LOADAOF %v, want %v", got, want)
	}
}

// zero is 0 where a constant would make -1/zero() a compile-time
// division by zero: the test needs a -inf score.
func zero() float64 { return 0 }

// TestAOFManifestLifecycle follows Redis's multi-part AOF test
// (integration/aof-multi-part.tcl, its second part) through turning the
// AOF on, rewrites, failed rewrites, rewrites with appending off, history
// files kept and collected, DEBUG LOADAOF and the back-off of failing
// automatic rewrites, checking the manifest Redis would have at each
// step. Redis's test fails its rewrites by killing the child process; a
// directory where the next base goes fails them here.
func TestAOFManifestLifecycle(t *testing.T) {
	dir := t.TempDir()
	srv, log, err := startAOFServer(t, dir, "appendonly", "no", "save", "", "enable-debug-command", "yes")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr().String(), Protocol: 2})
	defer c.Close()
	aofDir := filepath.Join(dir, "appendonlydir")
	manifest := filepath.Join(aofDir, "appendonly.aof.manifest")
	info := func(field string) string {
		for _, line := range strings.Split(c.Info(ctx, "persistence").Val(), "\r\n") {
			if v, ok := strings.CutPrefix(line, field+":"); ok {
				return v
			}
		}
		return ""
	}
	waitRewrite := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		// Both from one INFO: between two, a scheduled rewrite can start.
		idle := func() bool {
			text := c.Info(ctx, "persistence").Val()
			return strings.Contains(text, "aof_rewrite_in_progress:0\r\n") && strings.Contains(text, "aof_rewrite_scheduled:0\r\n")
		}
		for !idle() {
			if time.Now().After(deadline) {
				t.Fatalf("rewrite not done\n%s", log)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	check := func(lines ...string) {
		t.Helper()
		want := strings.Join(lines, "\n") + "\n"
		if got := readTestFile(t, manifest); got != want {
			t.Fatalf("manifest:\n%s\nwant:\n%s", got, want)
		}
	}
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(aofDir, name))
		return err == nil
	}
	rewrite := func() {
		t.Helper()
		if err := c.Do(ctx, "bgrewriteaof").Err(); err != nil {
			t.Fatal(err)
		}
		waitRewrite()
	}
	// A directory where the next base goes fails the rename of the
	// rewrite's file, and the rewrite.
	var trap string
	failRewrites := func(on bool) {
		if on {
			srv.aof.mu.Lock()
			next := srv.aof.man.baseSeq + 1
			srv.aof.mu.Unlock()
			trap = filepath.Join(aofDir, fmt.Sprintf("appendonly.aof.%d.base.rdb", next))
			_ = os.MkdirAll(filepath.Join(trap, "x"), 0o755)
		} else {
			_ = os.RemoveAll(trap)
		}
	}

	c.Set(ctx, "k0", "v", 0)
	if err := c.ConfigSet(ctx, "appendonly", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	waitRewrite()
	check("file appendonly.aof.1.base.rdb seq 1 type b", "file appendonly.aof.1.incr.aof seq 1 type i")
	rewrite()
	check("file appendonly.aof.2.base.rdb seq 2 type b", "file appendonly.aof.2.incr.aof seq 2 type i")
	if exists("appendonly.aof.1.base.rdb") || exists("appendonly.aof.1.incr.aof") {
		t.Fatal("history files not deleted")
	}

	// Each failed rewrite leaves the incremental file it opened.
	failRewrites(true)
	for i := 0; i < 3; i++ {
		c.Set(ctx, "k"+strconv.Itoa(i), "v", 0)
		rewrite()
	}
	check("file appendonly.aof.2.base.rdb seq 2 type b", "file appendonly.aof.2.incr.aof seq 2 type i",
		"file appendonly.aof.3.incr.aof seq 3 type i", "file appendonly.aof.4.incr.aof seq 4 type i",
		"file appendonly.aof.5.incr.aof seq 5 type i")
	if got := info("aof_rewrites_consecutive_failures"); got != "3" {
		t.Fatalf("aof_rewrites_consecutive_failures %s", got)
	}
	if got := info("aof_last_bgrewrite_status"); got != "err" {
		t.Fatalf("aof_last_bgrewrite_status %s", got)
	}
	want := c.Do(ctx, "debug", "digest").Val()
	if err := c.Do(ctx, "debug", "loadaof").Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.Do(ctx, "debug", "digest").Val(); got != want {
		t.Fatalf("digest after loading the failed rewrites' files %v, want %v", got, want)
	}
	failRewrites(false)
	rewrite()
	check("file appendonly.aof.3.base.rdb seq 3 type b", "file appendonly.aof.6.incr.aof seq 6 type i")
	for _, name := range []string{"appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", "appendonly.aof.5.incr.aof"} {
		if exists(name) {
			t.Fatalf("%s not deleted", name)
		}
	}

	// With appending off a rewrite makes a base and no incremental file.
	if err := c.ConfigSet(ctx, "appendonly", "no").Err(); err != nil {
		t.Fatal(err)
	}
	rewrite()
	check("file appendonly.aof.4.base.rdb seq 4 type b")
	if exists("appendonly.aof.6.incr.aof") {
		t.Fatal("incremental file not deleted")
	}
	if err := c.Do(ctx, "debug", "loadaof").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "appendonly", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	waitRewrite()
	// DEBUG LOADAOF read the manifest back: no incremental file listed,
	// so the numbering of incremental files starts again.
	check("file appendonly.aof.5.base.rdb seq 5 type b", "file appendonly.aof.1.incr.aof seq 1 type i")

	// History files stay while aof-disable-auto-gc is on.
	c.ConfigSet(ctx, "aof-disable-auto-gc", "yes")
	rewrite()
	rewrite()
	check("file appendonly.aof.7.base.rdb seq 7 type b", "file appendonly.aof.2.incr.aof seq 2 type h",
		"file appendonly.aof.6.base.rdb seq 6 type h", "file appendonly.aof.1.incr.aof seq 1 type h",
		"file appendonly.aof.5.base.rdb seq 5 type h", "file appendonly.aof.3.incr.aof seq 3 type i")
	c.ConfigSet(ctx, "aof-disable-auto-gc", "no")
	check("file appendonly.aof.7.base.rdb seq 7 type b", "file appendonly.aof.3.incr.aof seq 3 type i")
	if exists("appendonly.aof.5.base.rdb") || exists("appendonly.aof.2.incr.aof") {
		t.Fatal("history files not deleted")
	}
	if err := c.Do(ctx, "debug", "loadaof").Err(); err != nil {
		t.Fatal(err)
	}
	rewrite()
	check("file appendonly.aof.8.base.rdb seq 8 type b", "file appendonly.aof.4.incr.aof seq 4 type i")

	// Three failures in a row hold automatic rewrites back.
	failRewrites(true)
	for i := 0; i < 3; i++ {
		rewrite()
	}
	c.ConfigSet(ctx, "auto-aof-rewrite-percentage", "1")
	c.ConfigSet(ctx, "auto-aof-rewrite-min-size", "1kb")
	c.Set(ctx, "x", strings.Repeat("x", 2048), 0)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in 1 minutes") {
		if time.Now().After(deadline) {
			t.Fatalf("no limit in the log:\n%s", log)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := info("aof_rewrite_in_progress"); got != "0" {
		t.Fatalf("a rewrite runs while limited")
	}
	check("file appendonly.aof.8.base.rdb seq 8 type b", "file appendonly.aof.4.incr.aof seq 4 type i",
		"file appendonly.aof.5.incr.aof seq 5 type i", "file appendonly.aof.6.incr.aof seq 6 type i",
		"file appendonly.aof.7.incr.aof seq 7 type i")
	c.ConfigSet(ctx, "auto-aof-rewrite-percentage", "0")
	failRewrites(false)
	rewrite() // BGREWRITEAOF is not held back
	check("file appendonly.aof.9.base.rdb seq 9 type b", "file appendonly.aof.8.incr.aof seq 8 type i")

	// Turned on during a BGSAVE, the AOF waits for it: no file is made
	// meanwhile, and DEBUG LOADAOF loads the files as they were.
	c.ConfigSet(ctx, "appendonly", "no")
	c.Set(ctx, "k1", "during-off", 0)
	c.ConfigSet(ctx, "rdb-key-save-delay", "100000")
	if err := c.BgSave(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	c.ConfigSet(ctx, "rdb-key-save-delay", "0")
	if err := c.ConfigSet(ctx, "appendonly", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	if got := info("aof_rewrite_scheduled"); got != "1" {
		t.Fatalf("aof_rewrite_scheduled %s during a BGSAVE", got)
	}
	check("file appendonly.aof.9.base.rdb seq 9 type b", "file appendonly.aof.8.incr.aof seq 8 type i")
	if err := c.Do(ctx, "debug", "loadaof").Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.Get(ctx, "k1").Val(); got != "v" {
		t.Fatalf("k1 = %q after DEBUG LOADAOF, want the AOF's", got)
	}
	waitRewrite()
	check("file appendonly.aof.10.base.rdb seq 10 type b", "file appendonly.aof.9.incr.aof seq 9 type i")
	c.Set(ctx, "k3", "v3", 0)
	if err := c.Do(ctx, "debug", "loadaof").Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.Get(ctx, "k3").Val(); got != "v3" {
		t.Fatalf("k3 = %q after DEBUG LOADAOF", got)
	}
}

// TestAOFTurnedOnRewriteFails checks Redis's temporary incremental file:
// while the first base of an AOF being turned on is written the stream
// goes to temp-<name>.incr, which no manifest lists; when that rewrite
// fails the file goes and the rewrite is retried; when it succeeds the
// file becomes the first incremental file.
func TestAOFTurnedOnRewriteFails(t *testing.T) {
	dir := t.TempDir()
	srv, log, err := startAOFServer(t, dir, "appendonly", "no", "save", "", "enable-debug-command", "yes")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr().String(), Protocol: 2})
	defer c.Close()
	aofDir := filepath.Join(dir, "appendonlydir")
	trap := filepath.Join(aofDir, "appendonly.aof.1.base.rdb")
	if err := os.MkdirAll(filepath.Join(trap, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	c.Set(ctx, "before", "1", 0)
	if err := c.ConfigSet(ctx, "appendonly", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), "Removing the temp incr aof file temp-appendonly.aof.incr in the background") {
		if time.Now().After(deadline) {
			t.Fatalf("the failed rewrite's temporary file was not removed:\n%s", log)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(aofDir, "appendonly.aof.manifest")); !os.IsNotExist(err) {
		t.Fatalf("a manifest exists before the first base: %v", err)
	}
	c.Set(ctx, "during", "1", 0)
	_ = os.RemoveAll(trap)
	deadline = time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(aofDir, "appendonly.aof.manifest"))
		if string(b) == "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n" {
			break
		}
		// On a slow machine the cron's retries may have failed three
		// times before the trap went, which holds them back a minute;
		// BGREWRITEAOF is not held back.
		if p := c.Info(ctx, "persistence").Val(); strings.Contains(p, "aof_rewrite_scheduled:1") &&
			strings.Contains(p, "aof_rewrite_in_progress:0") {
			_ = c.Do(ctx, "bgrewriteaof").Err()
		}
		if time.Now().After(deadline) {
			t.Fatalf("manifest %q\n%s", b, log)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(aofDir, "temp-appendonly.aof.incr")); !os.IsNotExist(err) {
		t.Fatalf("the temporary incremental file is still there: %v", err)
	}
	c.Set(ctx, "after", "1", 0)
	want := c.Do(ctx, "debug", "digest").Val()
	if err := c.Do(ctx, "debug", "loadaof").Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.Do(ctx, "debug", "digest").Val(); got != want {
		t.Fatalf("digest after DEBUG LOADAOF %v, want %v", got, want)
	}
}
