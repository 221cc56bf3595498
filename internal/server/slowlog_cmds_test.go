package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/testutil"
)

func TestSlowlog(t *testing.T) {
	srv := testutil.Start(t, "slowlog-log-slower-than", "0", "slowlog-max-len", "10")
	c := srv.Client(t)
	ctx := context.Background()
	c.Do(ctx, "client", "setname", "slowpoke")
	c.SlowLogReset(ctx)
	start := time.Now().Unix()
	c.Set(ctx, "k", "v", 0)
	c.Do(ctx, "echo", strings.Repeat("x", 200))
	logs, err := c.SlowLogGet(ctx, 10).Result()
	if err != nil {
		t.Fatal(err)
	}
	// Newest first: the SLOWLOG RESET itself is the oldest entry.
	if len(logs) != 3 {
		t.Fatalf("SLOWLOG GET: %+v", logs)
	}
	e := logs[1]
	if strings.Join(e.Args, " ") != "set k v" || e.ClientName != "slowpoke" || !strings.HasPrefix(e.ClientAddr, "127.0.0.1:") ||
		e.Time.Unix() < start || e.Time.Unix() > time.Now().Unix() || e.Duration < 0 {
		t.Fatalf("entry: %+v", e)
	}
	if logs[0].ID != e.ID+1 || strings.Join(logs[2].Args, " ") != "slowlog reset" {
		t.Fatalf("order: %+v", logs)
	}
	if a := logs[0].Args; len(a) != 2 || a[1] != strings.Repeat("x", 128)+"... (72 more bytes)" {
		t.Fatalf("long argument: %q", a)
	}
	if n, _ := c.Do(ctx, "slowlog", "len").Int64(); n != 4 { // the GET above is logged too
		t.Fatalf("SLOWLOG LEN %d", n)
	}

	for i := 0; i < 30; i++ {
		c.Ping(ctx)
	}
	r := srv.Raw(t)
	if n := len(admDo(t, r, "slowlog", "get", "5").([]any)); n != 5 {
		t.Fatalf("GET 5: %d", n)
	}
	if n := len(admDo(t, r, "slowlog", "get", "-1").([]any)); n != 10 {
		t.Fatalf("GET -1: %d", n)
	}
	if n := len(admDo(t, r, "slowlog", "get", "100").([]any)); n != 10 {
		t.Fatalf("GET 100: %d", n)
	}
	if n := len(admDo(t, r, "slowlog", "get").([]any)); n != 10 {
		t.Fatalf("GET: %d", n)
	}
	admExpect(t, r, "ERR count should be greater than or equal to -1", "slowlog", "get", "-2")
	admExpect(t, r, "ERR count should be greater than or equal to -1", "slowlog", "get", "x")
	admExpect(t, r, "ERR unknown subcommand or wrong number of arguments for 'get'. Try SLOWLOG HELP.", "slowlog", "get", "1", "2")
	admExpect(t, r, "ERR wrong number of arguments for 'slowlog|len' command", "slowlog", "len", "x")

	// Many arguments are cut to 32, the last one saying how many are left.
	args := []any{"mset"}
	for i := 0; i < 40; i++ {
		args = append(args, fmt.Sprint("k", i), "v")
	}
	c.Do(ctx, args...)
	last := admDo(t, r, "slowlog", "get", "1").([]any)[0].([]any)[3].([]any)
	if len(last) != 32 || last[31] != "... (50 more arguments)" {
		t.Fatalf("argument cut: %d %v", len(last), last[31])
	}

	// Secrets are redacted.
	admExpect(t, r, "OK", "config", "set", "masterauth", "hunter2")
	entry := admDo(t, r, "slowlog", "get", "1").([]any)[0].([]any)
	if fmt.Sprint(entry[3]) != "[config set masterauth (redacted)]" {
		t.Fatalf("CONFIG SET masterauth logged as %v", entry[3])
	}

	admExpect(t, r, "OK", "slowlog", "reset")
	admExpect(t, r, "1", "slowlog", "len") // the RESET itself
	admExpect(t, r, "OK", "config", "set", "slowlog-log-slower-than", "-1")
	admExpect(t, r, "OK", "slowlog", "reset")
	c.Ping(ctx)
	admExpect(t, r, "0", "slowlog", "len")
	help := admDo(t, r, "slowlog", "help").([]any)
	if help[0] != "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" || help[1] != "GET [<count>]" {
		t.Fatalf("SLOWLOG HELP: %q", help)
	}
}

func TestSlowlogThreshold(t *testing.T) {
	srv := testutil.Start(t, "slowlog-log-slower-than", "100000", "enable-debug-command", "yes")
	r := srv.Raw(t)
	admExpect(t, r, "PONG", "ping")
	admExpect(t, r, "0", "slowlog", "len")
	admExpect(t, r, "OK", "debug", "sleep", "0.12")
	admExpect(t, r, "1", "slowlog", "len")
	e := admDo(t, r, "slowlog", "get").([]any)[0].([]any)
	if fmt.Sprint(e[3]) != "[debug sleep 0.12]" || e[2].(int64) < 100000 {
		t.Fatalf("entry %v", e)
	}
}
