package acl

import (
	"strings"
	"testing"
)

// denial is what a check should return: the reason and the argument index.
type denial struct {
	r   Reason
	pos int
}

var ok = denial{Allowed, 0}

func expectChecks(t *testing.T, u *User, cases map[string]denial) {
	t.Helper()
	for line, want := range cases {
		r, pos := check(t, u, line)
		if (denial{r, pos}) != want {
			t.Errorf("%s: %q → %v at %d, want %v at %d", u.Describe(), line, r, pos, want.r, want.pos)
		}
	}
}

func TestCheckCommands(t *testing.T) {
	cmd := denial{DeniedCommand, 0}
	expectChecks(t, newTestUser(t, "newuser", "on"), map[string]denial{
		"ping": cmd, "set foo bar": cmd, "get read::foo": cmd,
		"auth newuser pw": ok, // no_auth commands need no permission
	})
	expectChecks(t, newTestUser(t, "newuser", "on", "+set"), map[string]denial{
		"set foo bar": {DeniedKey, 1}, "get foo": cmd,
	})
	expectChecks(t, newTestUser(t, "newuser", "allcommands", "~foo:*", "~bar:*"), map[string]denial{
		"set foo:1 a": ok, "set bar:2 b": ok, "set zap:3 c": {DeniedKey, 1},
		"mget foo:1 bar:2 zap:3 foo:4": {DeniedKey, 3},
		"ping":                         ok,
	})
	expectChecks(t, newTestUser(t, "newuser", "+@all", "~*", "&*", "-ping"), map[string]denial{
		"incr mycounter": ok, "ping": cmd,
	})
	expectChecks(t, newTestUser(t, "newuser", "-@all", "+@set", "+acl", "~*"), map[string]denial{
		"sadd myset a b c": ok, "set foo bar": cmd, "acl list": ok, "acl whoami": ok,
	})
	expectChecks(t, newTestUser(t, "newuser", "+@all", "-@string", "~*"), map[string]denial{
		"sadd myset a": ok, "set foo bar": cmd, "get foo": cmd,
	})
	expectChecks(t, newTestUser(t, "newuser", "+@all", "-client", "+client|id", "+client|setname"), map[string]denial{
		"client id": ok, "client setname foo": ok, "client kill type master": cmd, "client list": cmd,
	})
	expectChecks(t, newTestUser(t, "newuser", "+@all", "-client|kill"), map[string]denial{
		"client id": ok, "CLIENT KILL type master": cmd,
	})
	expectChecks(t, newTestUser(t, "newuser", "-@all", "+acl", "+config", "-config|set"), map[string]denial{
		"config get loglevel": ok, "config set loglevel debug": cmd, "config rewrite": ok,
	})
	expectChecks(t, newTestUser(t, "newuser", "-@all", "+del", "+acl", "+@stream", "+@transaction"), map[string]denial{
		"multi": ok, "exec": ok, "acl whoami": ok, "ping": cmd,
	})
	// First-argument exceptions of commands without subcommands.
	expectChecks(t, newTestUser(t, "newuser", "-@all", "+acl", "+select|0", "+debug|object", "~*"), map[string]denial{
		"select 0": ok, "select 1": cmd, "select": cmd,
		"debug object key": ok, "DEBUG OBJECT key": ok, "debug segfault": cmd,
	})
	// A later rule on the command drops its exceptions.
	expectChecks(t, newTestUser(t, "newuser", "-@all", "+select|0", "-select"), map[string]denial{"select 0": cmd})
	expectChecks(t, newTestUser(t, "newuser", "-@all", "+select|0", "-@connection"), map[string]denial{"select 0": cmd})
	expectChecks(t, newTestUser(t, "newuser", "-@all", "+select|0", "+@all", "-select"), map[string]denial{"select 0": cmd})
	// Containers as a whole, and their subcommands.
	expectChecks(t, newTestUser(t, "bob", "+memory|doctor"), map[string]denial{
		"memory doctor": ok, "memory stats": cmd,
	})
	expectChecks(t, newTestUser(t, "bob", "+memory|doctor", "+memory"), map[string]denial{
		"memory doctor": ok, "memory stats": ok,
	})
	expectChecks(t, newTestUser(t, "alice", "+@all", "-memory|doctor"), map[string]denial{
		"memory doctor": cmd, "memory stats": ok,
	})
	expectChecks(t, newTestUser(t, "alice", "+@all", "-memory"), map[string]denial{
		"memory doctor": cmd, "memory stats": cmd,
	})
	// A container in a category brings all its subcommands, as in Redis.
	expectChecks(t, newTestUser(t, "u", "-@all", "+@slow"), map[string]denial{
		"client id": ok, "memory doctor": ok, "get k": cmd,
	})
	expectChecks(t, newTestUser(t, "u", "+@all", "-@slow"), map[string]denial{
		"client id": cmd, "get k": {DeniedKey, 1},
	})
	// Scripting needs its own permission (acl.tcl's EVAL_RO test shape).
	expectChecks(t, newTestUser(t, "scripter", "on", "nopass", "+@read", "~*"), map[string]denial{
		"get k": ok, "eval x 0": cmd,
	})
}

func TestCheckUnknownCommand(t *testing.T) {
	a := args("future k")
	if r, _ := newTestUser(t, "u", "-@all", "+get").Check(NoCommand, a, nil); r != DeniedCommand {
		t.Fatal("unknown command allowed")
	}
	if r, _ := newTestUser(t, "u", "+@all").Check(NoCommand, a, nil); r != Allowed {
		t.Fatal("+@all denies an unknown command")
	}
	if r, _ := newTestUser(t, "u", "+@all", "-get").Check(NoCommand, a, nil); r != DeniedCommand {
		t.Fatal("an unknown command is allowed once the bitset matters")
	}
	if r, _ := newTestUser(t, "u", "+@all", "~*").Check(NoCommand, a, []KeyRef{{1, needRO}, {9, needRO}}); r != Allowed {
		t.Fatal("out-of-range key positions must be ignored")
	}
}

func TestCheckSelectors(t *testing.T) {
	u := newTestUser(t, "selector-1", "on", "-@all", "resetkeys", "nopass", "(+@write ~write::*)", "(+@read ~read::*)")
	expectChecks(t, u, map[string]denial{
		"ping":             {DeniedCommand, 0},
		"set write::foo b": ok,
		"get read::foo":    ok,
		"get write::foo":   {DeniedKey, 1},
		"set read::foo b":  {DeniedKey, 1},
	})

	// acl-v2.tcl: the command is reported only when no selector allows it,
	// otherwise the last key no selector could match.
	u = newTestUser(t, "acl-log-test-selector", "on", "nopass", "+mget", "~key", "(+mget ~key ~otherkey)")
	expectChecks(t, u, map[string]denial{
		"get key":                        {DeniedCommand, 0},
		"mget otherkey someotherkey":     {DeniedKey, 2},
		"mget key otherkey someotherkey": {DeniedKey, 3},
		"mget key otherkey":              ok,
	})

	// A channel denial outranks a key denial, whatever the positions.
	u = newTestUser(t, "u", "+@all", "allchannels", "resetkeys", "~a", "(+@all allkeys resetchannels)")
	a := args("publish ch msg")
	r, pos := u.Check(idOf(t, a), a, []KeyRef{{2, needRO}})
	if r != DeniedChannel || pos != 1 {
		t.Fatalf("got %v at %d", r, pos)
	}
}

func TestCheckKeyPermissions(t *testing.T) {
	expectChecks(t, newTestUser(t, "key-permission-R", "on", "nopass", "%R~read*", "+@all"), map[string]denial{
		"ping": ok, "get readstr": ok, "set readstr bar": {DeniedKey, 1}, "get notread": {DeniedKey, 1},
	})
	expectChecks(t, newTestUser(t, "key-permission-W", "on", "nopass", "%W~write*", "+@all"), map[string]denial{
		"lpush writelist 10": ok, "get writestr": {DeniedKey, 1}, "lpush notwrite 10": {DeniedKey, 1},
	})
	expectChecks(t, newTestUser(t, "key-permission-RW", "on", "nopass", "%R~read*", "%W~write*", "+@all"), map[string]denial{
		"copy read write": ok, "copy write read": {DeniedKey, 1},
	})
	// Read and write permissions on different selectors do not add up.
	expectChecks(t, newTestUser(t, "key-permission-RW-selector", "on", "nopass", "(%R~read* +@all)", "(%W~write* +@all)"), map[string]denial{
		"lpush writelist 10": ok, "get writestr": {DeniedKey, 1}, "lpush notwrite 10": {DeniedKey, 1},
		"get readstr": ok, "set readstr bar": {DeniedKey, 1}, "get notread": {DeniedKey, 1},
		"copy read write": {DeniedKey, 2}, "copy write read": {DeniedKey, 1},
	})
	expectChecks(t, newTestUser(t, "set-key-permission-RW", "on", "%RW~readwrite*", "+@all"), map[string]denial{
		"set readwrite_str bar": ok, "get readwrite_str": ok,
	})
	// Keys whose spec has no access/insert/update/delete flag (existence
	// tests, metadata) pass on a read or a write pattern.
	u := newTestUser(t, "command-test", "+@all", "%R~read*", "%W~write*", "%RW~rw*")
	expectChecks(t, u, map[string]denial{
		"exists read": ok, "exists write": ok, "exists rw": ok, "exists nothing": {DeniedKey, 1},
		"memory usage read": ok, "memory usage write": ok, "memory usage nothing": {DeniedKey, 2},
		"get read": ok, "get write": {DeniedKey, 1}, "get rw": ok,
		"sort read store write": ok, "sort read store read": {DeniedKey, 3}, "sort write store write": {DeniedKey, 1},
	})
	// Key patterns are Redis globs.
	expectChecks(t, newTestUser(t, "glob", "+@all", `~user:[0-9]?`, `~lit\*`, `~x[^a]y`), map[string]denial{
		"get user:1a": ok, "get user:12": ok, "get user:a1": {DeniedKey, 1}, "get user:1": {DeniedKey, 1},
		"get lit*": ok, "get litx": {DeniedKey, 1}, "get xby": ok, "get xay": {DeniedKey, 1},
	})
}

func TestKeyAccessFromFlags(t *testing.T) {
	for _, tc := range []struct {
		flags []string
		want  KeyAccess
	}{
		{nil, 0},
		{[]string{"RO"}, 0},
		{[]string{"RO", "access"}, KeyRead},
		{[]string{"RW", "access", "update"}, KeyReadWrite},
		{[]string{"RW", "insert"}, KeyWrite},
		{[]string{"OW", "update"}, KeyWrite},
		{[]string{"RM", "delete"}, KeyWrite},
		{[]string{"RW", "ACCESS", "Delete"}, KeyReadWrite},
		{[]string{"not_key", "incomplete"}, 0},
	} {
		if got := KeyAccessFromFlags(tc.flags); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.flags, got, tc.want)
		}
	}
}

func TestCheckChannels(t *testing.T) {
	ch := func(pos int) denial { return denial{DeniedChannel, pos} }
	psuser := newTestUser(t, "psuser", "on", ">pspass", "+acl", "+client", "+@pubsub")
	expectChecks(t, psuser, map[string]denial{
		"publish foo bar": ch(1), "spublish foo bar": ch(1), "subscribe foo": ch(1),
		"ssubscribe foo": ch(1), "psubscribe bar*": ch(1),
		"unsubscribe foo": ok, "unsubscribe": ok,
	})
	u := newTestUser(t, "psuser", "+@all", "resetchannels", "&foo:1", "&bar:*")
	expectChecks(t, u, map[string]denial{
		"publish foo:1 m": ok, "publish bar:2 m": ok, "publish zap:3 m": ch(1),
		"spublish bar:2 m": ok, "spublish zap:3 m": ch(1),
		"subscribe foo:1 bar:2": ok, "subscribe foo:1 zap:3 bar:x": ch(2),
		"ssubscribe foo:1 zap:3": ch(2),
		// PSUBSCRIBE patterns must be ACL patterns literally.
		"psubscribe foo:1": ok, "psubscribe bar:*": ok, "psubscribe bar:baz": ch(1), "psubscribe bar:* foo:*": ch(2),
		"subscribe": ok,
	})
	// Default user and allchannels users reach every channel.
	expectChecks(t, NewDefaultUser(testCS, ResetChannels), map[string]denial{
		"publish hello world": ok, "psubscribe bar*": ok, "subscribe foo": ok,
	})
	expectChecks(t, newTestUser(t, "u", "+@all", "allchannels"), map[string]denial{"psubscribe *": ok})
	// "hpuser on nopass resetchannels &foo +@all".
	expectChecks(t, newTestUser(t, "hpuser", "on", "nopass", "resetchannels", "&foo", "+@all"), map[string]denial{
		"publish foo bar": ok, "publish bar game": ch(1),
	})
	// acl-v2.tcl's sharded channel permissions.
	expectChecks(t, newTestUser(t, "test-channels", "+@all", "resetchannels", "&channel"), map[string]denial{
		"spublish channel foo": ok, "ssubscribe channel": ok, "spublish otherchannel foo": ch(1),
		"ssubscribe otherchannel foo": ch(1),
	})
}

func TestSingleChecks(t *testing.T) {
	u := newTestUser(t, "u", "%R~r*", "resetchannels", "&news.*", "(~w* &sport)")
	for _, tc := range []struct {
		key  string
		need KeyAccess
		want bool
	}{
		{"r1", KeyRead, true}, {"r1", KeyWrite, false}, {"r1", 0, true},
		{"w1", KeyReadWrite, true}, {"x", 0, false},
	} {
		if got := u.CheckKey([]byte(tc.key), tc.need); got != tc.want {
			t.Errorf("CheckKey(%s, %v) = %v", tc.key, tc.need, got)
		}
	}
	for _, tc := range []struct {
		ch      string
		pattern bool
		want    bool
	}{
		{"news.a", false, true}, {"news.*", true, true}, {"news.a*", true, false},
		{"sport", false, true}, {"sport", true, true}, {"other", false, false},
	} {
		if got := u.CheckChannel([]byte(tc.ch), tc.pattern); got != tc.want {
			t.Errorf("CheckChannel(%s, %v) = %v", tc.ch, tc.pattern, got)
		}
	}
	if !newTestUser(t, "u", "allkeys").CheckKey([]byte("any"), KeyReadWrite) {
		t.Fatal("allkeys")
	}
	if !newTestUser(t, "u", "allchannels").CheckChannel([]byte("any*"), true) {
		t.Fatal("allchannels")
	}
}

// TestCheckUnrestrictedKeys is acl-v2.tcl's SORT BY/GET test.
func TestCheckUnrestrictedKeys(t *testing.T) {
	a := args("sort mylist by v*")
	id := idOf(t, a)
	keys := keysOf(a)
	for rules, want := range map[string]bool{
		"(+sort ~mylist)":            false,
		"(+sort ~mylist ~v*)":        false,
		"(+sort ~mylist %W~*)":       false,
		"(+sort ~mylist %R~*)":       true,
		"(+sort allkeys)":            true,
		"(+get allkeys)":             false, // the selector must allow the command too
		"+sort ~mylist (%R~* +@all)": true,
	} {
		u := newTestUser(t, "test-sort-acl", append([]string{"on", "nopass"}, strings.Fields(rules)...)...)
		if got := u.CheckUnrestrictedKeys(id, a, keys, KeyRead); got != want {
			t.Errorf("%s: %v", rules, got)
		}
	}
}

// TestPubSubRevoked follows acl.tcl's subscriber-killing tests.
func TestPubSubRevoked(t *testing.T) {
	for _, tc := range []struct {
		old, updated []string
		want         bool
	}{
		{[]string{"resetchannels", "&foo:1"}, []string{"resetchannels"}, true},
		{[]string{"resetchannels", "&bar:*"}, []string{"resetchannels"}, true},
		{[]string{"allchannels"}, []string{"resetchannels"}, true},
		{[]string{"allchannels"}, []string{"resetchannels", "&*x"}, true},
		{[]string{"resetchannels", "&foo:1", "&bar:*", "&orders"}, []string{"resetchannels", "&foo:1", "&bar:*", "&orders", "&baz:qaz", "&zoo:*"}, false},
		{[]string{"resetchannels", "&foo:1"}, []string{"allchannels"}, false},
		{[]string{"resetchannels", "&foo:1"}, []string{"resetchannels", "(&foo:1)"}, false},
		{[]string{"resetchannels", "&foo:1"}, []string{"resetchannels", "(allchannels)"}, false},
		{[]string{"resetchannels", "(&a)"}, []string{"resetchannels", "clearselectors"}, true},
	} {
		old := newTestUser(t, "psuser", tc.old...)
		updated := old.Clone(ResetChannels)
		if err := updated.SetRules(tc.updated...); err != nil {
			t.Fatal(err)
		}
		if got := PubSubRevoked(old, updated); got != tc.want {
			t.Errorf("%q → %q: %v", tc.old, tc.updated, got)
		}
	}
}

func TestCheckAllocs(t *testing.T) {
	u := newTestUser(t, "u", "-@all", "+@read", "+@write", "~user:*", "%R~cache:*", "resetchannels", "&news.*",
		"(+@all ~other:*)", "+select|0")
	lines := []string{"get user:1", "get cache:1", "set cache:1 v", "mget user:1 cache:2 nope", "publish news.a m",
		"select 0", "select 1", "ping", "set other:1 v"}
	type call struct {
		id   CommandID
		a    [][]byte
		keys []KeyRef
	}
	var calls []call
	for _, l := range lines {
		a := args(l)
		calls = append(calls, call{idOf(t, a), a, keysOf(a)})
	}
	cmd := testCS.Command(calls[0].id)
	n := testing.AllocsPerRun(100, func() {
		for _, c := range calls {
			u.Check(c.id, c.a, c.keys)
		}
		u.CheckCommand(cmd, calls[0].a, calls[0].keys)
	})
	if n != 0 {
		t.Fatalf("Check allocates: %v allocs per run", n)
	}
}
