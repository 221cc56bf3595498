package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/server"
	"github.com/corvid-db/corvid/internal/testutil"
)

// startWithUsers starts a server whose configuration file holds lines
// (user directives and the like).
func startWithUsers(t *testing.T, lines ...string) *testutil.Instance {
	t.Helper()
	path := filepath.Join(t.TempDir(), "corvid.conf")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return testutil.StartWithFile(t, path)
}

// asUser returns a client authenticated as user.
func asUser(t *testing.T, srv *testutil.Instance, user, pass string) *redis.Client {
	t.Helper()
	c := srv.ClientWith(t, &redis.Options{Username: user, Password: pass, MaxRetries: -1})
	// HELLO needs no permission (no_auth), so this tests the AUTH alone.
	if err := c.Do(context.Background(), "hello", "3").Err(); err != nil {
		t.Fatalf("AUTH %s: %v", user, err)
	}
	return c
}

func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

// The users of the configuration file are enforced on every command:
// commands, keys read and written, channels; the denials reach the ACL
// counters in INFO, and CLIENT LIST and CLIENT KILL USER know the users.
func TestACLConfigUsersEnforced(t *testing.T) {
	srv := startWithUsers(t,
		"user alice on >alicepw ~cache:* %R~ro:* &news.* +@read +@write +@pubsub -@dangerous +info +client +multi +exec +eval",
		"user bob off >bobpw +@all ~*",
		"requirepass adminpw")
	ctx := context.Background()
	admin := asUser(t, srv, "default", "adminpw")
	anon := srv.Client(t)
	if err := anon.Get(ctx, "x").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Fatalf("no AUTH: %v", err)
	}
	if err := anon.Do(ctx, "auth", "bob", "bobpw").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Fatalf("AUTH of a user that is off: %v", err)
	}
	alice := asUser(t, srv, "alice", "alicepw")
	if err := alice.Set(ctx, "cache:1", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v := alice.Get(ctx, "cache:1").Val(); v != "v" {
		t.Fatalf("GET %q", v)
	}
	wantErr(t, alice.Get(ctx, "other").Err(), "NOPERM No permissions to access a key")
	admin.Set(ctx, "ro:1", "r", 0)
	if v := alice.Get(ctx, "ro:1").Val(); v != "r" {
		t.Fatalf("GET of a read-only key: %q", v)
	}
	wantErr(t, alice.Set(ctx, "ro:1", "w", 0).Err(), "NOPERM No permissions to access a key")
	wantErr(t, alice.Do(ctx, "flushall").Err(), "NOPERM User alice has no permissions to run the 'flushall' command")
	wantErr(t, alice.Do(ctx, "config", "get", "port").Err(), "NOPERM User alice has no permissions to run the 'config|get' command")
	wantErr(t, alice.Publish(ctx, "sports", "x").Err(), "NOPERM No permissions to access a channel")
	if err := alice.Publish(ctx, "news.today", "x").Err(); err != nil {
		t.Fatal(err)
	}
	// MULTI: a denied command dooms the transaction.
	tx := alice.TxPipeline()
	tx.Set(ctx, "cache:2", "v", 0)
	tx.Get(ctx, "other")
	if _, err := tx.Exec(ctx); err == nil || !strings.HasPrefix(err.Error(), "EXECABORT") {
		t.Fatalf("EXEC after a denied command: %v", err)
	}
	// EVAL's keys are checked, and scripts run redis.call as the caller.
	wantErr(t, alice.Eval(ctx, "return 1", []string{"other"}).Err(), "NOPERM No permissions to access a key")
	err := alice.Eval(ctx, "return redis.call('get', 'other')", []string{"cache:1"}).Err()
	if err == nil || !strings.Contains(err.Error(), "ACL failure in script: No permissions to access a key") {
		t.Fatalf("script: %v", err)
	}
	info := admin.Info(ctx, "stats").Val()
	for _, want := range []string{"acl_access_denied_auth:1", "acl_access_denied_cmd:2", "acl_access_denied_key:5", "acl_access_denied_channel:1"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO stats lacks %s:\n%s", want, info)
		}
	}
	if list := admin.ClientList(ctx).Val(); !strings.Contains(list, "user=alice") || !strings.Contains(list, "user=default") {
		t.Fatalf("CLIENT LIST:\n%s", list)
	}
	// alice's pool has a connection per concurrent use: one or two.
	if n, err := admin.Do(ctx, "client", "kill", "user", "alice").Int(); err != nil || n < 1 {
		t.Fatalf("CLIENT KILL USER alice: %d %v", n, err)
	}
	wantErr(t, admin.Do(ctx, "client", "kill", "user", "nobody").Err(), "ERR No such user 'nobody'")
	if list := admin.ClientList(ctx).Val(); strings.Contains(list, "user=alice") {
		t.Fatalf("alice's connections survived CLIENT KILL USER:\n%s", list)
	}
}

// SORT's BY and GET patterns name keys no key spec finds: they need a
// user who may read every key, as in Redis.
func TestACLSortPatterns(t *testing.T) {
	srv := startWithUsers(t, "user carol on nopass ~list* +@all", "user dave on nopass %R~* +@all")
	ctx := context.Background()
	carol := asUser(t, srv, "carol", "x")
	carol.RPush(ctx, "list", 3, 1, 2)
	wantErr(t, carol.Do(ctx, "sort", "list", "by", "w_*").Err(), "ERR BY option of SORT denied due to insufficient ACL permissions.")
	wantErr(t, carol.Do(ctx, "sort", "list", "get", "#").Err(), "ERR GET option of SORT denied due to insufficient ACL permissions.")
	if v := carol.Do(ctx, "sort", "list", "by", "nosort").Val(); v == nil {
		t.Fatal("BY without a pattern is allowed")
	}
	dave := asUser(t, srv, "dave", "x")
	if err := dave.Do(ctx, "sort", "list", "by", "w_*").Err(); err != nil {
		t.Fatalf("a user who reads every key: %v", err)
	}
}

// requirepass is the default user's password, also when changed by
// CONFIG SET; AUTH with one argument is the default user's.
func TestACLRequirePassIsDefaultUser(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	c := srv.Client(t)
	wantErr(t, c.Do(ctx, "auth", "pw").Err(), "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
	if err := c.ConfigSet(ctx, "requirepass", "pw").Err(); err != nil {
		t.Fatal(err)
	}
	fresh := srv.ClientWith(t, &redis.Options{MaxRetries: -1})
	if err := fresh.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Fatalf("a new connection without AUTH: %v", err)
	}
	if err := fresh.Do(ctx, "auth", "pw").Err(); err != nil {
		t.Fatal(err)
	}
	if err := fresh.Do(ctx, "auth", "default", "pw").Err(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, fresh.Do(ctx, "auth", "default", "nope").Err(), "WRONGPASS invalid username-password pair or user is disabled.")
	if err := fresh.Do(ctx, "hello", "3", "auth", "default", "pw").Err(); err != nil {
		t.Fatal(err)
	}
}

// A malformed aclfile stops the start, with the line and the reason; a
// good one gives its users; users in both places are refused.
func TestACLFileAtStart(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "users.acl")
	os.WriteFile(good, []byte("user default on nopass ~* &* +@all\nuser eve on >evepw ~e:* +get\n"), 0o644)
	srv := testutil.Start(t, "aclfile", good)
	eve := asUser(t, srv, "eve", "evepw")
	wantErr(t, eve.Set(context.Background(), "e:1", "v", 0).Err(), "NOPERM User eve has no permissions to run the 'set' command")

	bad := filepath.Join(dir, "bad.acl")
	os.WriteFile(bad, []byte("user default on nopass ~* &* +@all\nuser eve on +nosuchcmd\n"), 0o644)
	cfg := config.New()
	if err := cfg.LoadString("port 0\naclfile " + bad + "\n"); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.EphemeralPort = true
	err = s.Start()
	if err == nil {
		s.Close()
		t.Fatal("started with a malformed aclfile")
	}
	if !strings.Contains(err.Error(), "Aborting Redis startup because of ACL errors") || !strings.Contains(err.Error(), ":2:") {
		t.Fatalf("error: %v", err)
	}

	cfg = config.New()
	if err := cfg.LoadString("port 0\naclfile " + good + "\nuser x on nopass\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := server.New(cfg); err == nil || !strings.Contains(err.Error(), "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid") {
		t.Fatalf("users in both places: %v", err)
	}
}

// CONFIG REWRITE writes the users as "user" lines, as Redis does when no
// aclfile holds them.
func TestACLConfigRewriteWritesUsers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "corvid.conf")
	os.WriteFile(path, []byte("user alice on >alicepw ~* +@all\n"), 0o644)
	srv := testutil.StartWithFile(t, path)
	ctx := context.Background()
	c := srv.Client(t)
	if err := c.Do(ctx, "acl", "setuser", "bob", "on", "nopass", "~b*", "+get").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "acl", "deluser", "alice").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigRewrite(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	text := string(b)
	for _, want := range []string{"user default on nopass sanitize-payload ~* &* +@all", "user bob on nopass sanitize-payload ~b* resetchannels -@all +get"} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("the rewritten file lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "alice") {
		t.Errorf("a deleted user is still in the file:\n%s", text)
	}
}
