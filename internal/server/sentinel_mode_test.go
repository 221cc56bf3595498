package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/resp"
	"github.com/corvid-db/corvid/internal/server"
	"github.com/corvid-db/corvid/internal/testutil"
)

// fakeSentinel is a SentinelService that answers as a sentinel monitoring
// one master would, and records what it was given.
type fakeSentinel struct {
	mu     sync.Mutex
	calls  [][]string // SENTINEL commands, as received
	hellos []string   // PUBLISH __sentinel__:hello messages
}

const fakeSentinelID = "0123456789abcdef0123456789abcdef01234567"

func (f *fakeSentinel) Command(c *command.Ctx) {
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = string(a)
	}
	f.mu.Lock()
	f.calls = append(f.calls, args)
	f.mu.Unlock()
	switch c.Cmd.Name {
	case "sentinel|myid":
		c.W.BulkString(fakeSentinelID)
	case "sentinel|help":
		c.W.ArrayLen(1)
		c.W.SimpleString("SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	case "sentinel|get-master-addr-by-name":
		c.W.ArrayLen(2)
		c.W.BulkString("127.0.0.1")
		c.W.BulkString("6379")
	default:
		c.OK()
	}
}

func (f *fakeSentinel) InfoSection() string {
	return "sentinel_masters:1\r\nsentinel_tilt:0\r\nsentinel_tilt_since_seconds:-1\r\n" +
		"sentinel_running_scripts:0\r\nsentinel_scripts_queue_length:0\r\nsentinel_simulate_failure_flags:0\r\n" +
		"master0:name=mymaster,status=ok,address=127.0.0.1:6379,slaves=0,sentinels=1\r\n"
}

func (f *fakeSentinel) Role(w *resp.Writer) {
	w.ArrayLen(2)
	w.BulkString("sentinel")
	w.ArrayLen(1)
	w.BulkString("mymaster")
}

func (f *fakeSentinel) ProcessHello(m string) {
	f.mu.Lock()
	f.hellos = append(f.hellos, m)
	f.mu.Unlock()
}

func (f *fakeSentinel) helloMessages() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.hellos...)
}

// sentinelOpts say how a test sentinel is built.
type sentinelOpts struct {
	// marked registers a "sentinel" directive handler before loading,
	// as internal/sentinel does: New then builds a sentinel's table.
	// Otherwise New builds a normal server and SetSentinel switches it.
	marked bool
	lines  string // more configuration lines
	dir    string // "" for a new temporary directory
}

// newSentinel builds (without starting) a server in sentinel mode fronting
// a fakeSentinel, with its log captured.
func newSentinel(t *testing.T, o sentinelOpts) (*server.Server, *fakeSentinel, *testutil.LogBuffer) {
	t.Helper()
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	cfg := config.New()
	cfg.SetSentinelDefaults()
	if o.marked {
		cfg.HandleDirective("sentinel", func([]string) error { return nil })
	}
	if err := cfg.LoadString("bind 127.0.0.1\nport 0\ndir " + strconv.Quote(o.dir) + "\n" + o.lines); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := &testutil.LogBuffer{}
	srv.Log.SetOutput(log)
	srv.EphemeralPort = true
	svc := &fakeSentinel{}
	srv.SetSentinel(svc)
	return srv, svc, log
}

// startSentinel starts a server in sentinel mode (see newSentinel).
func startSentinel(t *testing.T, o sentinelOpts) (*testutil.Instance, *fakeSentinel, *testutil.LogBuffer) {
	t.Helper()
	srv, svc, log := newSentinel(t, o)
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v\n%s", err, log)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &testutil.Instance{Addr: srv.Addr().String(), Srv: srv}, svc, log
}

// TestSentinelModeInfo checks INFO's sections in sentinel mode, as
// tests/sentinel/tests/13-info-command.tcl does.
func TestSentinelModeInfo(t *testing.T) {
	inst, _, _ := startSentinel(t, sentinelOpts{})
	rdb := inst.Client(t)
	ctx := context.Background()
	info := func(args ...string) string {
		t.Helper()
		cmd := []any{"info"}
		for _, a := range args {
			cmd = append(cmd, a)
		}
		s, err := rdb.Do(ctx, cmd...).Text()
		if err != nil {
			t.Fatalf("INFO %v: %v", args, err)
		}
		return s
	}
	check := func(text, what string, has, hasNot []string) {
		t.Helper()
		for _, f := range has {
			if !strings.Contains(text, f) {
				t.Errorf("INFO %s lacks %q:\n%s", what, f, text)
			}
		}
		for _, f := range hasNot {
			if strings.Contains(text, f) {
				t.Errorf("INFO %s has %q:\n%s", what, f, text)
			}
		}
	}
	everyHeader := []string{"# Server\r\n", "# Clients\r\n", "# Stats\r\n", "# CPU\r\n", "# Sentinel\r\n"}
	for _, arg := range []string{"", "all", "default", "everything"} {
		var text string
		if arg == "" {
			text = info()
		} else {
			text = info(arg)
		}
		check(text, strconv.Quote(arg),
			append([]string{"redis_version", "redis_mode:sentinel", "maxclients", "used_cpu_user", "sentinel_tilt", "master0:name=mymaster"}, everyHeader...),
			[]string{"used_memory", "rdb_last_bgsave", "master_repl_offset", "cluster_enabled", "# Keyspace", "# Commandstats", "# Errorstats", "# Latencystats"})
		// In Redis's order, one empty line between sections.
		var at []int
		for _, h := range everyHeader {
			at = append(at, strings.Index(text, h))
		}
		if !slices.IsSorted(at) {
			t.Errorf("INFO %q: sections out of order (%v):\n%s", arg, at, text)
		}
		if !strings.Contains(text, "\r\n\r\n# Sentinel\r\nsentinel_masters:1\r\n") {
			t.Errorf("INFO %q: sentinel section not separated as the others:\n%s", arg, text)
		}
	}
	check(info("cpu"), "cpu", []string{"used_cpu_user"}, []string{"sentinel_tilt", "redis_version"})
	sen := info("sentinel")
	check(sen, "sentinel", []string{"sentinel_tilt"}, []string{"used_cpu_user", "redis_version"})
	if !strings.HasPrefix(sen, "# Sentinel\r\n") {
		t.Errorf("INFO sentinel = %q", sen)
	}
	check(info("SERVER", "sentinel", "replication"), "server sentinel replication",
		[]string{"redis_version", "sentinel_tilt"}, []string{"used_memory", "used_cpu_user", "# Replication"})
	check(info("cpu", "all"), "cpu all",
		[]string{"used_cpu_user", "sentinel_tilt", "redis_version"}, []string{"used_memory", "master_repl_offset"})
	for _, sec := range []string{"memory", "keyspace", "commandstats", "persistence", "replication"} {
		if text := info(sec); text != "" {
			t.Errorf("INFO %s = %q, want nothing", sec, text)
		}
	}

	// As Redis's sentinelInfoCommand, a plain bulk string in RESP3 too.
	raw := inst.Raw(t)
	if _, err := raw.Do("hello", "3"); err != nil {
		t.Fatal(err)
	}
	if err := raw.Send("info", "cpu"); err != nil {
		t.Fatal(err)
	}
	if b, err := raw.R.Peek(1); err != nil || b[0] != '$' {
		t.Errorf("INFO over RESP3 starts with %q (%v), want a bulk string", b, err)
	}
}

// TestSentinelModeCommandTable checks that the table holds only the
// commands and subcommands Redis 7.2 flags SENTINEL, as 00-base.tcl's
// "Sentinel command flag infrastructure works correctly" does.
func TestSentinelModeCommandTable(t *testing.T) {
	inst, _, _ := startSentinel(t, sentinelOpts{})
	rdb := inst.Client(t)
	ctx := context.Background()
	list, err := rdb.Do(ctx, "command", "list").StringSlice()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"acl", "auth", "client", "command", "hello", "info", "ping", "psubscribe",
		"publish", "punsubscribe", "role", "sentinel", "shutdown", "subscribe", "unsubscribe"}
	var top []string
	for _, n := range list {
		if !strings.Contains(n, "|") {
			top = append(top, n)
		}
	}
	slices.Sort(top)
	if !slices.Equal(top, want) {
		t.Errorf("COMMAND LIST's commands = %v, want %v", top, want)
	}
	if n, err := rdb.Do(ctx, "command", "count").Int(); err != nil || n != len(want) {
		t.Errorf("COMMAND COUNT = %d, %v; want %d", n, err, len(want))
	}
	for _, cmd := range []string{"ping", "info", "subscribe", "client|setinfo", "sentinel", "sentinel|myid", "sentinel|slaves"} {
		docs, err := rdb.Do(ctx, "command", "docs", cmd).Slice()
		if err != nil || len(docs) == 0 {
			t.Errorf("COMMAND DOCS %s = %v, %v; want docs", cmd, docs, err)
		}
		if !slices.Contains(list, cmd) {
			t.Errorf("COMMAND LIST lacks %s", cmd)
		}
	}
	for _, cmd := range []string{"save", "bgrewriteaof", "blpop", "replicaof", "get", "quit", "select", "config", "client|no-touch", "exec"} {
		docs, err := rdb.Do(ctx, "command", "docs", cmd).Slice()
		if err != nil || len(docs) != 0 {
			t.Errorf("COMMAND DOCS %s = %v, %v; want nothing", cmd, docs, err)
		}
		if slices.Contains(list, cmd) {
			t.Errorf("COMMAND LIST has %s", cmd)
		}
		if strings.Contains(cmd, "|") {
			continue
		}
		err = rdb.Do(ctx, cmd).Err()
		if err == nil || !strings.HasPrefix(err.Error(), "ERR unknown command '"+cmd+"'") {
			t.Errorf("%s: %v, want ERR unknown command", cmd, err)
		}
	}
	if err := rdb.Do(ctx, "blpop", "l", "0").Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR unknown command 'blpop'") {
		t.Errorf("BLPOP l 0: %v", err)
	}
	if err := rdb.Do(ctx, "client", "no-touch", "on").Err(); err == nil || err.Error() != "ERR unknown subcommand 'no-touch'. Try CLIENT HELP." {
		t.Errorf("CLIENT NO-TOUCH: %v", err)
	}
	if name, err := rdb.Do(ctx, "client", "setinfo", "lib-name", "x").Text(); err != nil || name != "OK" {
		t.Errorf("CLIENT SETINFO: %q %v", name, err)
	}

	// COMMAND INFO: SENTINEL's flags and subcommands, CLIENT without
	// NO-TOUCH; the sentinel flags are not shown, as in Redis.
	infos, err := rdb.Do(ctx, "command", "info", "sentinel", "client").Slice()
	if err != nil || len(infos) != 2 {
		t.Fatalf("COMMAND INFO: %v %v", infos, err)
	}
	sen := infos[0].([]any)
	if sen[0] != "sentinel" || sen[1] != int64(-2) || !equalAny(sen[2], []string{"admin"}) ||
		!equalAny(sen[6], []string{"@admin", "@slow", "@dangerous"}) || len(sen[9].([]any)) != 21 {
		t.Errorf("COMMAND INFO SENTINEL = %v", sen)
	}
	for _, s := range sen[9].([]any) {
		if e := s.([]any); e[0] == "sentinel|help" && !equalAny(e[2], []string{"loading", "stale"}) {
			t.Errorf("COMMAND INFO SENTINEL HELP = %v", e)
		}
	}
	var subs []string
	for _, s := range infos[1].([]any)[9].([]any) {
		subs = append(subs, s.([]any)[0].(string))
	}
	if len(subs) != 17 || slices.Contains(subs, "client|no-touch") || !slices.Contains(subs, "client|setinfo") {
		t.Errorf("CLIENT's subcommands = %v", subs)
	}

	// The ACLs know the same commands.
	if err := rdb.Do(ctx, "acl", "setuser", "u1", "+get").Err(); err == nil || !strings.Contains(err.Error(), "Unknown command") {
		t.Errorf("ACL SETUSER +get: %v", err)
	}
	if err := rdb.Do(ctx, "acl", "setuser", "u2", "on", "nopass", "+sentinel|myid", "+ping").Err(); err != nil {
		t.Errorf("ACL SETUSER +sentinel|myid: %v", err)
	}
	cat, err := rdb.Do(ctx, "acl", "cat", "dangerous").StringSlice()
	if err != nil || !slices.Contains(cat, "sentinel|myid") || slices.Contains(cat, "flushall") || slices.Contains(cat, "config|set") {
		t.Errorf("ACL CAT dangerous = %v, %v", cat, err)
	}
	if list, err := rdb.Do(ctx, "command", "list", "filterby", "aclcat", "pubsub").StringSlice(); err != nil ||
		slices.Contains(list, "ssubscribe") || !slices.Contains(list, "publish") {
		t.Errorf("COMMAND LIST FILTERBY ACLCAT pubsub = %v, %v", list, err)
	}
}

func equalAny(v any, want []string) bool {
	got, ok := v.([]any)
	if !ok || len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// TestSentinelModeCommands checks what the server answers for the
// sentinel: SENTINEL, ROLE, HELLO and PUBLISH.
func TestSentinelModeCommands(t *testing.T) {
	inst, svc, _ := startSentinel(t, sentinelOpts{})
	rdb := inst.Client(t)
	ctx := context.Background()
	if id, err := rdb.Do(ctx, "SENTINEL", "MYID").Text(); err != nil || id != fakeSentinelID {
		t.Errorf("SENTINEL MYID = %q, %v", id, err)
	}
	if help, err := rdb.Do(ctx, "sentinel", "help").StringSlice(); err != nil || len(help) == 0 || !strings.HasPrefix(help[0], "SENTINEL <subcommand> ") {
		t.Errorf("SENTINEL HELP = %q, %v", help, err)
	}
	if addr, err := rdb.Do(ctx, "sentinel", "get-master-addr-by-name", "mymaster").StringSlice(); err != nil || !slices.Equal(addr, []string{"127.0.0.1", "6379"}) {
		t.Errorf("SENTINEL GET-MASTER-ADDR-BY-NAME = %v, %v", addr, err)
	}
	svc.mu.Lock()
	calls := svc.calls
	svc.mu.Unlock()
	if len(calls) != 3 || !slices.Equal(calls[0], []string{"SENTINEL", "MYID"}) || !slices.Equal(calls[2], []string{"sentinel", "get-master-addr-by-name", "mymaster"}) {
		t.Errorf("the service got %q", calls)
	}
	for _, c := range []struct {
		args []any
		err  string
	}{
		{[]any{"sentinel", "nosuch"}, "ERR unknown subcommand 'nosuch'. Try SENTINEL HELP."},
		{[]any{"sentinel", "master"}, "ERR wrong number of arguments for 'sentinel|master' command"},
		{[]any{"sentinel", "is-master-down-by-addr", "a", "b"}, "ERR wrong number of arguments for 'sentinel|is-master-down-by-addr' command"},
		{[]any{"sentinel"}, "ERR wrong number of arguments for 'sentinel' command"},
		{[]any{"publish", "chan", "msg"}, "ERR Only HELLO messages are accepted by Sentinel instances."},
	} {
		if err := rdb.Do(ctx, c.args...).Err(); err == nil || err.Error() != c.err {
			t.Errorf("%v: %v, want %s", c.args, err, c.err)
		}
	}

	role, err := rdb.Do(ctx, "role").Slice()
	if err != nil || len(role) != 2 || role[0] != "sentinel" || !equalAny(role[1], []string{"mymaster"}) {
		t.Errorf("ROLE = %v, %v", role, err)
	}

	raw := inst.Raw(t)
	hello, err := raw.Do("hello", "3")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := hello.(map[string]any)
	if len(m) != 6 || m["mode"] != "sentinel" || m["server"] != "redis" || m["role"] != nil {
		t.Errorf("HELLO 3 = %v", hello)
	}

	// PUBLISH takes hello messages for the sentinel; no subscriber gets them.
	sub := rdb.Subscribe(ctx, "__sentinel__:hello")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := rdb.Publish(ctx, "__sentinel__:hello", "127.0.0.1,26380,runid,0,mymaster,127.0.0.1,6379,0").Result(); err != nil || n != 1 {
		t.Errorf("PUBLISH __sentinel__:hello = %d, %v", n, err)
	}
	if got := svc.helloMessages(); len(got) != 1 || got[0] != "127.0.0.1,26380,runid,0,mymaster,127.0.0.1,6379,0" {
		t.Errorf("hello messages = %q", got)
	}
	if msg, err := sub.ReceiveTimeout(ctx, 100*time.Millisecond); err == nil {
		t.Errorf("a subscriber got %v", msg)
	}
}

// TestSentinelModePublish checks Server.Publish, which the sentinel calls
// from its own goroutines: channel and pattern subscribers get the
// message, as from PUBLISH.
func TestSentinelModePublish(t *testing.T) {
	inst, _, _ := startSentinel(t, sentinelOpts{})
	ctx := context.Background()
	rdb := inst.Client(t)
	sub := rdb.Subscribe(ctx, "+sdown")
	defer sub.Close()
	psub := rdb.PSubscribe(ctx, "*")
	defer psub.Close()
	for _, s := range []*redis.PubSub{sub, psub} {
		if _, err := s.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	const writers, each = 4, 25
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if n := inst.Srv.Publish("+sdown", "master mymaster 127.0.0.1 6379"); n != 2 {
					t.Errorf("Publish = %d receivers, want 2", n)
				}
			}
		}()
	}
	wg.Wait()
	for _, s := range []*redis.PubSub{sub, psub} {
		for i := 0; i < writers*each; i++ {
			msg, err := s.ReceiveMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if msg.Channel != "+sdown" || msg.Payload != "master mymaster 127.0.0.1 6379" {
				t.Fatalf("got %+v", msg)
			}
		}
	}
	if n := inst.Srv.Publish("nobody", "x"); n != 1 { // the pattern *
		t.Errorf("Publish to nobody = %d, want 1", n)
	}
}

// TestSentinelModePersistence checks that a sentinel loads no RDB or AOF
// and saves nothing, SHUTDOWN SAVE included.
func TestSentinelModePersistence(t *testing.T) {
	dir := t.TempDir()
	// Not an RDB file: a server that loaded it would not start.
	if err := os.WriteFile(filepath.Join(dir, "dump.rdb"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	inst, _, log := startSentinel(t, sentinelOpts{dir: dir, lines: "appendonly yes\nsave 1 1\n"})
	if strings.Contains(log.String(), "Server initialized") || strings.Contains(log.String(), "Ready to accept") {
		t.Errorf("a sentinel logs no dataset's start:\n%s", log)
	}
	rdb := inst.Client(t)
	ctx := context.Background()
	_ = rdb.Do(ctx, "shutdown", "save").Err() // the connection closes
	select {
	case <-inst.Srv.ShutdownRequested:
	case <-time.After(10 * time.Second):
		t.Fatal("SHUTDOWN SAVE did not shut down")
	}
	if err := inst.Srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "dump.rdb" {
			t.Errorf("the sentinel wrote %s", e.Name())
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "dump.rdb")); string(b) != "garbage" {
		t.Errorf("dump.rdb was rewritten")
	}
	if strings.Contains(log.String(), "Saving") || !strings.Contains(log.String(), "Sentinel is now ready to exit, bye bye...") {
		t.Errorf("shutdown log:\n%s", log)
	}
}

// TestSentinelModeDefaults checks a sentinel's port and protected-mode
// defaults, which the configuration overrides.
func TestSentinelModeDefaults(t *testing.T) {
	cfg := config.New()
	cfg.SetSentinelDefaults()
	if cfg.Int("port") != 26379 || cfg.Bool("protected-mode") {
		t.Errorf("defaults: port %d, protected-mode %v", cfg.Int("port"), cfg.Bool("protected-mode"))
	}
	if cfg.Given("port") || cfg.Given("protected-mode") {
		t.Error("defaults count as given")
	}
	if err := cfg.LoadString("port 5000\nprotected-mode yes\n"); err != nil {
		t.Fatal(err)
	}
	if cfg.Int("port") != 5000 || !cfg.Bool("protected-mode") {
		t.Errorf("loaded: port %d, protected-mode %v", cfg.Int("port"), cfg.Bool("protected-mode"))
	}
	if normal := config.New(); normal.Int("port") != 6379 || !normal.Bool("protected-mode") {
		t.Error("a server's defaults changed")
	}
}

// TestSentinelModeLog checks the role character and the banner.
func TestSentinelModeLog(t *testing.T) {
	srv, _, log := newSentinel(t, sentinelOpts{lines: "always-show-logo no\n"})
	srv.LogStartup("")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	text := log.String()
	if !regexp.MustCompile(`(?m)^\d+:X \d\d \w{3} \d{4} [\d:.]+ \* Running mode=sentinel, port=0\.$`).MatchString(text) {
		t.Errorf("banner:\n%s", text)
	}
	if regexp.MustCompile(`(?m)^\d+:[^X] `).MatchString(text) {
		t.Errorf("a line without the role X:\n%s", text)
	}
}

// TestSentinelModeFromConfig checks the two ways into sentinel mode with
// a configuration naming commands: a sentinel's configuration (New builds
// a sentinel's table) takes users and renames of a sentinel's commands;
// SetSentinel on a normal server refuses, at Start, those naming commands
// a sentinel lacks.
func TestSentinelModeFromConfig(t *testing.T) {
	inst, _, _ := startSentinel(t, sentinelOpts{marked: true,
		lines: "user mon on nopass +sentinel|myid +ping\nrename-command sentinel sent\n"})
	rdb := inst.ClientWith(t, &redis.Options{Protocol: 2, Username: "mon", Password: "x"})
	ctx := context.Background()
	if id, err := rdb.Do(ctx, "sent", "myid").Text(); err != nil || id != fakeSentinelID {
		t.Errorf("SENT MYID = %q, %v", id, err)
	}
	if err := rdb.Do(ctx, "sent", "masters").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Errorf("SENT MASTERS as mon: %v", err)
	}
	if err := rdb.Do(ctx, "sentinel", "myid").Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR unknown command 'sentinel'") {
		t.Errorf("SENTINEL after the rename: %v", err)
	}

	for _, lines := range []string{"rename-command save nosave\n", "user u on nopass +get\n"} {
		srv, _, log := newSentinel(t, sentinelOpts{lines: lines})
		if err := srv.Start(); err == nil {
			_ = srv.Close()
			t.Errorf("%q: Start succeeded\n%s", lines, log)
		}
	}

	// A sentinel's configuration without its service does not start.
	cfg := config.New()
	cfg.HandleDirective("sentinel", func([]string) error { return nil })
	if err := cfg.LoadString("bind 127.0.0.1\nport 0\n"); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Log.SetOutput(&testutil.LogBuffer{})
	srv.EphemeralPort = true
	if !srv.SentinelMode() {
		t.Error("a sentinel's configuration: not in sentinel mode")
	}
	if err := srv.Start(); err == nil {
		_ = srv.Close()
		t.Error("started in sentinel mode without a service")
	}
}

// TestSentinelModeOffUnchanged checks that outside sentinel mode nothing
// of it shows: SENTINEL is unknown, COMMAND counts the table without it,
// and the commands it changes answer as a server's.
func TestSentinelModeOffUnchanged(t *testing.T) {
	inst := testutil.Start(t)
	rdb := inst.Client(t)
	ctx := context.Background()
	if inst.Srv.SentinelMode() {
		t.Fatal("in sentinel mode")
	}
	if err := rdb.Do(ctx, "sentinel", "myid").Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR unknown command 'sentinel'") {
		t.Errorf("SENTINEL MYID: %v", err)
	}
	n, err := rdb.Do(ctx, "command", "count").Int()
	if err != nil || n != inst.Srv.Table.Len() || n < 200 {
		t.Errorf("COMMAND COUNT = %d, %v (table: %d)", n, err, inst.Srv.Table.Len())
	}
	if inst.Srv.Table.Lookup([]byte("sentinel")) != nil || inst.Srv.Table.Declared("sentinel") == nil {
		t.Error("SENTINEL is in the table, or not declared")
	}
	list, err := rdb.Do(ctx, "command", "list").StringSlice()
	if err != nil || slices.ContainsFunc(list, func(s string) bool { return strings.HasPrefix(s, "sentinel") }) ||
		!slices.Contains(list, "client|no-touch") || !slices.Contains(list, "save") {
		t.Errorf("COMMAND LIST: %v", err)
	}
	if docs, err := rdb.Do(ctx, "command", "docs", "sentinel").Slice(); err != nil || len(docs) != 0 {
		t.Errorf("COMMAND DOCS SENTINEL = %v, %v", docs, err)
	}
	if err := rdb.Do(ctx, "acl", "setuser", "u", "+sentinel|myid").Err(); err == nil {
		t.Error("ACL SETUSER +sentinel|myid accepted")
	}
	if text, err := rdb.Info(ctx).Result(); err != nil || !strings.Contains(text, "redis_mode:standalone") || !strings.Contains(text, "# Keyspace") {
		t.Errorf("INFO: %v", err)
	}
	if n, err := rdb.Publish(ctx, "chan", "msg").Result(); err != nil || n != 0 {
		t.Errorf("PUBLISH = %d, %v", n, err)
	}
	if role, err := rdb.Do(ctx, "role").Slice(); err != nil || role[0] != "master" {
		t.Errorf("ROLE = %v, %v", role, err)
	}
	hello, err := inst.Raw(t).Do("hello", "3")
	if m, _ := hello.(map[string]any); err != nil || len(m) != 7 || m["mode"] != "standalone" || m["role"] != "master" {
		t.Errorf("HELLO 3 = %v, %v", hello, err)
	}
	if inst.Srv.OutgoingTLS() != nil {
		t.Error("OutgoingTLS without tls-replication")
	}
}

// TestSentinelModeOutgoingTLS checks that with tls-replication the
// sentinel gets the client configuration a replica uses, and that it
// reaches a TLS server.
func TestSentinelModeOutgoingTLS(t *testing.T) {
	f := testutil.TLSCerts(t)
	_, addr := startTLS(t, f)
	inst, _, _ := startSentinel(t, sentinelOpts{lines: "tls-replication yes\ntls-cert-file " + strconv.Quote(f.ServerCert) +
		"\ntls-key-file " + strconv.Quote(f.ServerKey) + "\ntls-ca-cert-file " + strconv.Quote(f.CACert) + "\n"})
	cfg := inst.Srv.OutgoingTLS()
	if cfg == nil {
		t.Fatal("OutgoingTLS = nil with tls-replication yes")
	}
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	raw := &testutil.Raw{Conn: conn, R: bufio.NewReader(conn)}
	if pong, err := raw.Do("ping"); err != nil || pong != "PONG" {
		t.Errorf("PING over TLS = %v, %v", pong, err)
	}
}
