package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corvid-db/corvid/internal/testutil"
)

func TestConfigGet(t *testing.T) {
	srv := testutil.Start(t, "maxmemory", "1mb")
	c := srv.Client(t)
	ctx := context.Background()
	m, err := c.ConfigGet(ctx, "maxmemory").Result()
	if err != nil || len(m) != 1 || m["maxmemory"] != "1048576" {
		t.Fatalf("CONFIG GET maxmemory: %v %v", m, err)
	}
	m, err = c.ConfigGet(ctx, "slowlog-*").Result()
	if err != nil || m["slowlog-max-len"] != "128" || m["slowlog-log-slower-than"] != "10000" {
		t.Fatalf("CONFIG GET slowlog-*: %v %v", m, err)
	}
	r := srv.Raw(t)
	// Several patterns in one call; RESP2 is a flat array, no duplicates.
	v := admDo(t, r, "config", "get", "hz", "maxmemory", "HZ").([]any)
	if len(v) != 4 || v[0] != "hz" || v[1] != "10" || v[2] != "maxmemory" {
		t.Fatalf("CONFIG GET hz maxmemory HZ: %v", v)
	}
	admExpect(t, r, "[]", "config", "get", "nosuchdirective")
	admDo(t, r, "hello", "3")
	admExpect(t, r, "map[hz:10]", "config", "get", "hz")
	admExpect(t, r, "ERR wrong number of arguments for 'config|get' command", "config", "get")
}

func TestConfigSet(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	if err := c.ConfigSet(ctx, "maxmemory", "10mb").Err(); err != nil {
		t.Fatal(err)
	}
	if m := c.ConfigGet(ctx, "maxmemory").Val(); m["maxmemory"] != "10485760" {
		t.Fatalf("after SET: %v", m)
	}
	r := srv.Raw(t)
	admExpect(t, r, "OK", "config", "set", "hz", "20", "maxmemory-policy", "allkeys-lru")
	admExpect(t, r, "[hz 20 maxmemory-policy allkeys-lru]", "config", "get", "hz", "maxmemory-policy")
	// Atomic: one bad value and nothing changes.
	admExpect(t, r, "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value",
		"config", "set", "hz", "30", "maxmemory", "lots")
	admExpect(t, r, "[hz 20]", "config", "get", "hz")
	admExpect(t, r, "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'", "config", "set", "nosuch", "1")
	admExpect(t, r, "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config", "config", "set", "databases", "1")
	admExpect(t, r, "ERR syntax error", "config", "set", "hz", "10", "maxmemory")
	admExpect(t, r, "ERR wrong number of arguments for 'config|set' command", "config", "set", "hz")
	// The server follows the settings it caches.
	if v, _ := infoOf(t, srv, "server").get("server", "hz"); v != "20" {
		t.Fatalf("INFO hz after CONFIG SET hz 20: %s", v)
	}
	admExpect(t, r, "ERR unknown subcommand 'nosuch'. Try CONFIG HELP.", "config", "nosuch")
	help := admDo(t, r, "config", "help").([]any)
	if len(help) != 11 || help[0] != "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" || help[1] != "GET <pattern>" {
		t.Fatalf("CONFIG HELP: %q", help)
	}
}

func TestConfigRewrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "corvid.conf")
	if err := os.WriteFile(path, []byte("# my settings\nmaxmemory 1mb\nhz 15\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := testutil.StartWithFile(t, path)
	c := srv.Client(t)
	ctx := context.Background()
	if v, _ := infoOf(t, srv, "server").get("server", "config_file"); v != path {
		t.Fatalf("config_file:%s, want %s", v, path)
	}
	if m := c.ConfigGet(ctx, "hz").Val(); m["hz"] != "15" {
		t.Fatalf("hz from file: %v", m)
	}
	if err := c.ConfigSet(ctx, "maxmemory", "2mb").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "slowlog-max-len", "7").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigRewrite(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{"# my settings", "maxmemory 2mb", "hz 15", "slowlog-max-len 7"} {
		if !strings.Contains(text, want) {
			t.Fatalf("rewritten file lacks %q:\n%s", want, text)
		}
	}
	// The rewritten file loads back to the same values.
	srv2 := testutil.StartWithFile(t, path)
	m := srv2.Client(t).ConfigGet(ctx, "*").Val()
	if m["maxmemory"] != "2097152" || m["slowlog-max-len"] != "7" || m["hz"] != "15" {
		t.Fatalf("reloaded: maxmemory=%s slowlog-max-len=%s hz=%s", m["maxmemory"], m["slowlog-max-len"], m["hz"])
	}

	plain := testutil.Start(t)
	admExpect(t, plain.Raw(t), "ERR The server is running without a config file", "config", "rewrite")
}

func TestMaxmemoryNoevictionRefusesWrites(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	admExpect(t, r, "OK", "set", "k", "v")
	admExpect(t, r, "OK", "config", "set", "maxmemory", "1")
	admExpect(t, r, "OOM command not allowed when used memory > 'maxmemory'.", "set", "x", "1")
	admExpect(t, r, "v", "get", "k")
	admExpect(t, r, "1", "del", "k")
	admExpect(t, r, "OK", "multi")
	admExpect(t, r, "OOM command not allowed when used memory > 'maxmemory'.", "set", "x", "1")
	admExpect(t, r, "OK", "discard")
	admExpect(t, r, "OK", "config", "set", "maxmemory", "0")
	admExpect(t, r, "OK", "set", "x", "1")
}

func TestMaxmemoryEviction(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	sub := srv.Raw(t)
	admExpect(t, r, "OK", "config", "set", "notify-keyspace-events", "Ee")
	expect(t, sub, "[psubscribe * 1]", "psubscribe", "*")
	admExpect(t, r, "OK", "config", "set", "maxmemory-policy", "volatile-lru")
	admExpect(t, r, "OK", "set", "keep", "v")
	admExpect(t, r, "OK", "set", "tmp", "v", "ex", "100")
	admExpect(t, r, "OK", "config", "set", "maxmemory", "1")
	expectSeq(t, sub, "[pmessage * __keyevent@0__:evicted tmp]")
	// Only keys with a TTL go under volatile-*: the rest stays, and writes
	// are refused.
	admExpect(t, r, "v", "get", "keep")
	admExpect(t, r, "OOM command not allowed when used memory > 'maxmemory'.", "set", "x", "1")
	admExpect(t, r, "OK", "config", "set", "maxmemory-policy", "allkeys-random")
	admExpect(t, r, "OK", "config", "set", "maxmemory", "2")
	expectSeq(t, sub, "[pmessage * __keyevent@0__:evicted keep]")
	admExpect(t, r, "0", "dbsize")
	admExpect(t, r, "OK", "config", "set", "maxmemory", "0")
}
