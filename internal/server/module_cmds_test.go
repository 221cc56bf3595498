package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

const errModuleDisabled = "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."

// By default (enable-module-command no) MODULE LIST and HELP answer, as in
// Redis, and LOAD, LOADEX and UNLOAD are refused with Redis's text.
func TestModuleDefaultGated(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	for _, r := range []*testutil.Raw{srv.Raw(t), raw3(t, srv)} {
		if err := r.Send("module", "list"); err != nil {
			t.Fatal(err)
		}
		readRaw(t, r, "*0\r\n")
	}
	for _, c := range []*redis.Client{srv.Client(t), srv.Client3(t)} {
		if v, err := c.Do(ctx, "module", "list").Slice(); err != nil || len(v) != 0 {
			t.Fatalf("MODULE LIST: %v %v", v, err)
		}
		help, err := c.Do(ctx, "module", "help").StringSlice()
		if err != nil || !strings.HasPrefix(help[0], "MODULE <subcommand>") || help[len(help)-2] != "HELP" {
			t.Fatalf("MODULE HELP: %q %v", help, err)
		}
		for _, sub := range []string{"LIST", "LOAD <path>", "LOADEX <path>", "UNLOAD <name>"} {
			if !strings.Contains(strings.Join(help, "\n"), "\n"+sub) {
				t.Fatalf("MODULE HELP lacks %s: %q", sub, help)
			}
		}
		admErr(t, c, errModuleDisabled, "module", "load", "/tmp/m.so")
		admErr(t, c, errModuleDisabled, "module", "loadex", "/tmp/m.so", "config", "a", "b")
		admErr(t, c, errModuleDisabled, "module", "unload", "m")
		if err := c.ModuleLoadex(ctx, &redis.ModuleLoadexConfig{Path: "/tmp/m.so"}).Err(); err == nil || err.Error() != errModuleDisabled {
			t.Fatalf("go-redis ModuleLoadex: %v", err)
		}
		admErr(t, c, "ERR wrong number of arguments for 'module|list' command", "module", "list", "x")
		admErr(t, c, "ERR wrong number of arguments for 'module|unload' command", "module", "unload", "a", "b")
		admErr(t, c, "ERR wrong number of arguments for 'module|load' command", "module", "load")
		admErr(t, c, "ERR unknown subcommand 'nosuch'. Try MODULE HELP.", "module", "nosuch")
		admErr(t, c, "ERR wrong number of arguments for 'module' command", "module")
	}
	r := srv.Raw(t)
	admExpect(t, r, "[[module|load -3 [admin noscript no_async_loading] 0 0 0 [@admin @slow @dangerous] [] [] []]]", "command", "info", "module|load")
	admExpect(t, r, "[[module|list 2 [admin noscript] 0 0 0 [@admin @slow @dangerous] [nondeterministic_output_order] [] []]]", "command", "info", "module|list")
	admExpect(t, r, "[[module|help 2 [loading stale] 0 0 0 [@slow] [] [] []]]", "command", "info", "module|help")
}

// Allowed (yes, or local for a connection from the loopback), every load
// fails as Redis's does when the library cannot be loaded, with its reply
// and log lines; UNLOAD finds no such module.
func TestModuleEnabled(t *testing.T) {
	for _, mode := range []string{"yes", "local"} {
		t.Run(mode, func(t *testing.T) {
			srv := testutil.Start(t, "enable-module-command", mode)
			var log testutil.LogBuffer
			srv.Srv.Log.SetOutput(&log)
			c := srv.Client(t)
			ctx := context.Background()
			const loadErr = "ERR Error loading the extension. Please check the server logs."
			admErr(t, c, loadErr, "module", "load", "/tmp/no-such-module.so", "arg")
			if !strings.Contains(log.String(), "# Module /tmp/no-such-module.so failed to load: ") {
				t.Fatalf("log after MODULE LOAD:\n%s", log.String())
			}
			err := c.ModuleLoadex(ctx, &redis.ModuleLoadexConfig{Path: "/tmp/other.so", Conf: map[string]any{"n": 1}}).Err()
			if err == nil || err.Error() != loadErr || !strings.Contains(log.String(), "Module /tmp/other.so failed to load") {
				t.Fatalf("MODULE LOADEX: %v\n%s", err, log.String())
			}
			admErr(t, c, loadErr, "module", "loadex", "/tmp/x.so", "config", "name")
			if !strings.Contains(log.String(), "* CONFIG specified without name value pair") {
				t.Fatalf("log after LOADEX with a lone CONFIG:\n%s", log.String())
			}
			admErr(t, c, loadErr, "module", "loadex", "/tmp/x.so", "bogus")
			if !strings.Contains(log.String(), "* Syntax Error from arguments to loadex around bogus.") {
				t.Fatalf("log after LOADEX with a bad option:\n%s", log.String())
			}
			admErr(t, c, "ERR Error unloading module: no such module with that name", "module", "unload", "json")
			if !strings.Contains(log.String(), "# Error unloading module json: no such module with that name") {
				t.Fatalf("log after MODULE UNLOAD:\n%s", log.String())
			}
			if v, err := c.Do(ctx, "module", "list").Slice(); err != nil || len(v) != 0 {
				t.Fatalf("MODULE LIST: %v %v", v, err)
			}
		})
	}
}

// The gate is the dispatcher's, as Redis's CMD_PROTECTED check: it comes
// before authentication, and a transaction that queues a refused MODULE
// LOAD is aborted.
func TestModuleGateInDispatcher(t *testing.T) {
	srv := testutil.Start(t, "requirepass", "secret")
	r := srv.Raw(t)
	errOf := func(args ...string) string {
		t.Helper()
		v, err := r.Do(args...)
		if err != nil {
			t.Fatal(err)
		}
		e, _ := v.(testutil.ErrorReply)
		return string(e)
	}
	if e := errOf("module", "load", "/tmp/m.so"); e != errModuleDisabled {
		t.Fatalf("unauthenticated MODULE LOAD: %q", e)
	}
	if _, err := r.Do("auth", "secret"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Do("multi"); err != nil {
		t.Fatal(err)
	}
	if e := errOf("module", "unload", "m"); e != errModuleDisabled {
		t.Fatalf("MODULE UNLOAD in MULTI: %q", e)
	}
	if e := errOf("exec"); !strings.HasPrefix(e, "EXECABORT") {
		t.Fatalf("EXEC after a refused MODULE UNLOAD: %q", e)
	}
}
