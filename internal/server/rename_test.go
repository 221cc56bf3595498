package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/server"
	"github.com/corvid-db/corvid/internal/testutil"
)

// rename-command gives a command another name, or none: the old name is
// unknown everywhere (connections, MULTI, scripts), the new one works, and
// CONFIG REWRITE keeps the directive. Production configurations use it to
// hide FLUSHALL or CONFIG; a server that refused it could not replace
// redis-server under them.
func TestRenameCommand(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "corvid.conf")
	if err := os.WriteFile(conf, []byte("rename-command flushdb badger\nrename-command DEBUG \"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := testutil.StartWithFile(t, conf)
	c := srv.Client(t)
	ctx := context.Background()
	c.Set(ctx, "k", "v", 0)
	for _, args := range [][]any{{"flushdb"}, {"FlushDB"}, {"debug", "sleep", "0"}} {
		if err := c.Do(ctx, args...).Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR unknown command") {
			t.Fatalf("%v after rename-command: %v", args, err)
		}
	}
	if err := c.Eval(ctx, "return redis.call('flushdb')", nil).Err(); err == nil || !strings.Contains(err.Error(), "Unknown Redis command") {
		t.Fatalf("the old name from a script: %v", err)
	}
	if n := c.DBSize(ctx).Val(); n != 1 {
		t.Fatalf("the key is gone: dbsize %d", n)
	}
	if err := c.Do(ctx, "BADGER").Err(); err != nil {
		t.Fatal(err)
	}
	if n := c.DBSize(ctx).Val(); n != 0 {
		t.Fatalf("BADGER did not flush: dbsize %d", n)
	}
	// The connection's lookup cache does not let the old name through
	// after the new one ran.
	if err := c.Do(ctx, "flushdb").Err(); err == nil {
		t.Fatal("flushdb answered after badger")
	}
	if err := c.ConfigRewrite(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(conf)
	if err != nil || !strings.Contains(string(b), "rename-command flushdb badger") {
		t.Fatalf("CONFIG REWRITE lost rename-command: %v\n%s", err, b)
	}
}

// A rename of an unknown command, or onto a name taken, refuses to start
// with Redis's configuration errors, located at the directive.
func TestRenameCommandErrors(t *testing.T) {
	for text, want := range map[string]string{
		"port 0\nrename-command nosuch x": "at line 2\n>>> 'rename-command nosuch x'\nNo such command in rename-command",
		"rename-command get set":          "at line 1\n>>> 'rename-command get set'\nTarget command name already exists",
	} {
		cfg := config.New()
		if err := cfg.LoadString(text); err != nil {
			t.Fatal(err)
		}
		_, err := server.New(cfg)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "*** FATAL CONFIG FILE ERROR") {
			t.Fatalf("%q: %v", text, err)
		}
	}
}
