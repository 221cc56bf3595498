package server_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/acl"
	"github.com/corvid-db/corvid/internal/testutil"
)

// aclNode is one RESP reply with its type kept (testutil.Raw.Read folds
// sets into arrays and maps into Go maps, losing what these tests check:
// RESP3 sets and maps, and the order of map fields).
type aclNode struct {
	kind byte // the RESP type byte; '$' for a bulk string, '_' for any null
	s    string
	kids []aclNode
}

// String renders the reply on one line: bulk strings quoted, aggregates
// as kind[...], so that a whole reply compares as one string.
func (n aclNode) String() string {
	switch n.kind {
	case '$':
		return strconv.Quote(n.s)
	case '*', '~', '%', '>':
		parts := make([]string, len(n.kids))
		for i, k := range n.kids {
			parts[i] = k.String()
		}
		return string(n.kind) + "[" + strings.Join(parts, " ") + "]"
	case '_':
		return "null"
	}
	return string(n.kind) + n.s
}

// field returns the value of a map reply's field (RESP3 map or RESP2
// flat array), failing the test when it is absent.
func (n aclNode) field(t *testing.T, name string) aclNode {
	t.Helper()
	for i := 0; i+1 < len(n.kids); i += 2 {
		if n.kids[i].s == name {
			return n.kids[i+1]
		}
	}
	t.Fatalf("no field %q in %s", name, n)
	return aclNode{}
}

// aclRead reads one reply from r.
func aclRead(t *testing.T, r *bufio.Reader) aclNode {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	kind, body := line[0], strings.TrimSuffix(line[1:], "\r\n")
	switch kind {
	case '$':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return aclNode{kind: '_'}
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatalf("read bulk: %v", err)
		}
		return aclNode{kind: '$', s: string(buf[:n])}
	case '*', '~', '>', '%':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return aclNode{kind: '_'}
		}
		if kind == '%' {
			n *= 2
		}
		node := aclNode{kind: kind, kids: make([]aclNode, n)}
		for i := range node.kids {
			node.kids[i] = aclRead(t, r)
		}
		return node
	case '_':
		return aclNode{kind: '_'}
	}
	return aclNode{kind: kind, s: body}
}

// aclDo sends a command on a raw connection and reads its reply.
func aclDo(t *testing.T, r *testutil.Raw, args ...string) aclNode {
	t.Helper()
	if err := r.Send(args...); err != nil {
		t.Fatalf("send %v: %v", args, err)
	}
	return aclRead(t, r.R)
}

// aclExpect checks a reply's rendering.
func aclExpect(t *testing.T, r *testutil.Raw, want string, args ...string) {
	t.Helper()
	if got := aclDo(t, r, args...).String(); got != want {
		t.Fatalf("%v:\n got %s\nwant %s", args, got, want)
	}
}

// aclRawAs opens a raw connection speaking proto, authenticated as user
// when user is not empty.
func aclRawAs(t *testing.T, srv *testutil.Instance, proto int, user, pass string) *testutil.Raw {
	t.Helper()
	r := srv.Raw(t)
	if proto == 3 {
		if n := aclDo(t, r, "hello", "3"); n.kind != '%' {
			t.Fatalf("HELLO 3: %s", n)
		}
	}
	if user != "" {
		aclExpect(t, r, "+OK", "auth", user, pass)
	}
	return r
}

// aclClosed checks that the server closed r: the next command gets no
// reply.
func aclClosed(t *testing.T, r *testutil.Raw, what string) {
	t.Helper()
	_ = r.Send("ping")
	_ = r.Conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := r.R.ReadString('\n'); err == nil {
		t.Fatalf("%s: the connection is still open (%q)", what, line)
	}
}

// ACL SETUSER, USERS, LIST, GETUSER (RESP2 and RESP3 shapes, selectors
// included) and WHOAMI.
func TestACLCmdUsersAndGetUser(t *testing.T) {
	srv := testutil.Start(t)
	r2 := aclRawAs(t, srv, 2, "", "")
	r3 := aclRawAs(t, srv, 3, "", "")
	aclExpect(t, r2, "+OK", "acl", "setuser", "alice", "on", ">pw", "~k:*", "&ch", "+get", "(+set ~s:* %R~r:*)")
	aclExpect(t, r2, "+OK", "acl", "setuser", "bob")
	aclExpect(t, r2, `*["alice" "bob" "default"]`, "acl", "users")
	h := acl.HashPassword("pw")
	aclExpect(t, r2, `*["user alice on sanitize-payload #`+h+` ~k:* resetchannels &ch -@all +get (~s:* %R~r:* resetchannels -@all +set)" `+
		`"user bob off sanitize-payload resetchannels -@all" "user default on nopass sanitize-payload ~* &* +@all"]`, "acl", "list")

	sel := `"commands" "-@all +set" "keys" "~s:* %R~r:*" "channels" ""`
	aclExpect(t, r3, `%["flags" ~["on" "sanitize-payload"] "passwords" *["`+h+`"] "commands" "-@all +get" "keys" "~k:*" "channels" "&ch" "selectors" *[%[`+sel+`]]]`,
		"acl", "getuser", "alice")
	aclExpect(t, r2, `*["flags" *["on" "sanitize-payload"] "passwords" *["`+h+`"] "commands" "-@all +get" "keys" "~k:*" "channels" "&ch" "selectors" *[*[`+sel+`]]]`,
		"acl", "getuser", "alice")
	aclExpect(t, r3, `%["flags" ~["off" "sanitize-payload"] "passwords" *[] "commands" "-@all" "keys" "" "channels" "" "selectors" *[]]`,
		"acl", "getuser", "bob")
	aclExpect(t, r2, `*["flags" *["on" "nopass" "sanitize-payload"] "passwords" *[] "commands" "+@all" "keys" "~*" "channels" "&*" "selectors" *[]]`,
		"acl", "getuser", "default")
	aclExpect(t, r2, "null", "acl", "getuser", "nobody")
	aclExpect(t, r3, "null", "acl", "getuser", "nobody")
	aclExpect(t, r2, `-ERR wrong number of arguments for 'acl|getuser' command`, "acl", "getuser")
	aclExpect(t, r2, `-ERR wrong number of arguments for 'acl|users' command`, "acl", "users", "x")
	aclExpect(t, r2, `-ERR wrong number of arguments for 'acl' command`, "acl")
	aclExpect(t, r2, `-ERR unknown subcommand 'nope'. Try ACL HELP.`, "acl", "nope")

	aclExpect(t, r2, `"default"`, "acl", "whoami")
	a := aclRawAs(t, srv, 2, "alice", "pw")
	aclExpect(t, a, `-NOPERM User alice has no permissions to run the 'acl|whoami' command`, "acl", "whoami")
	aclExpect(t, r2, "+OK", "acl", "setuser", "alice", "+acl|whoami")
	aclExpect(t, a, `"alice"`, "acl", "whoami")
}

// ACL SETUSER applies all its rules or none, and its errors are Redis's.
// Its arguments never reach the slow log.
func TestACLCmdSetUserAtomic(t *testing.T) {
	srv := testutil.Start(t)
	r := aclRawAs(t, srv, 2, "", "")
	aclExpect(t, r, "+OK", "acl", "setuser", "u", "on", ">one", "~a:*", "+get")
	before := aclDo(t, r, "acl", "list").String()
	aclExpect(t, r, `-ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL`,
		"acl", "setuser", "u", "off", "resetpass", "~b:*", "+nosuch", "+set")
	aclExpect(t, r, `-ERR Error in ACL SETUSER modifier '<nopass': The password you are trying to remove from the user does not exist`,
		"acl", "setuser", "u", "reset", "<nopass")
	aclExpect(t, r, `-ERR Error in ACL SETUSER modifier '~x': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns`,
		"acl", "setuser", "u", "allkeys", "~x")
	aclExpect(t, r, `-ERR Unmatched parenthesis in acl selector starting at '(+get'.`, "acl", "setuser", "u", "off", "(+get", "~k")
	aclExpect(t, r, `-ERR Error in ACL SETUSER modifier '(nosuch)': Syntax error`, "acl", "setuser", "u", "off", "(nosuch)")
	if after := aclDo(t, r, "acl", "list").String(); after != before {
		t.Fatalf("a failed SETUSER changed the users:\n%s\n%s", before, after)
	}
	// A user whose creation fails is not created.
	aclExpect(t, r, `-ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL`, "acl", "setuser", "v", "on", "+nosuch")
	aclExpect(t, r, "null", "acl", "getuser", "v")
	aclExpect(t, r, `-ERR Usernames can't contain spaces or null characters`, "acl", "setuser", "a b", "on")
	aclExpect(t, r, `-ERR Usernames can't contain spaces or null characters`, "acl", "setuser", "a\x00b")
	// The password still works: nothing of the failed commands applied.
	u := aclRawAs(t, srv, 2, "u", "one")
	aclExpect(t, u, "null", "get", "a:1")

	aclExpect(t, r, "+OK", "config", "set", "slowlog-log-slower-than", "0")
	aclExpect(t, r, "+OK", "slowlog", "reset")
	aclExpect(t, r, "+OK", "acl", "setuser", "w", ">secretpw")
	log := aclDo(t, r, "slowlog", "get").String()
	if strings.Contains(log, "secretpw") || !strings.Contains(log, `"acl" "setuser" "(redacted)" "(redacted)"`) {
		t.Fatalf("SLOWLOG shows the arguments of ACL SETUSER: %s", log)
	}
}

// ACL DELUSER deletes, counts, refuses "default", and closes the
// connections of the deleted users; the connection deleting its own user
// reads the reply first.
func TestACLCmdDelUser(t *testing.T) {
	srv := testutil.Start(t)
	r := aclRawAs(t, srv, 2, "", "")
	aclExpect(t, r, "+OK", "acl", "setuser", "x", "on", ">xp", "+@all", "~*")
	aclExpect(t, r, "+OK", "acl", "setuser", "y", "on", ">yp", "+@all", "~*")
	aclExpect(t, r, "+OK", "acl", "setuser", "self", "on", ">sp", "+acl", "+ping")
	x := aclRawAs(t, srv, 2, "x", "xp")
	y := aclRawAs(t, srv, 3, "y", "yp")
	aclExpect(t, r, `-ERR The 'default' user cannot be removed`, "acl", "deluser", "x", "default")
	aclExpect(t, r, `*["default" "self" "x" "y"]`, "acl", "users")
	aclExpect(t, r, ":1", "acl", "deluser", "x", "x", "nobody")
	aclClosed(t, x, "a connection authenticated as a deleted user")
	aclExpect(t, y, "+PONG", "ping")
	aclExpect(t, r, ":0", "acl", "deluser", "nobody")
	aclExpect(t, r, "+PONG", "ping")

	s := aclRawAs(t, srv, 2, "self", "sp")
	aclExpect(t, s, ":2", "acl", "deluser", "y", "self")
	aclClosed(t, s, "the connection that deleted its own user")
	aclClosed(t, y, "a connection of a user deleted by another one")
	aclExpect(t, r, `*["default"]`, "acl", "users")

	// A command pipelined after the deletion of one's own user is not run.
	aclExpect(t, r, "+OK", "acl", "setuser", "self", "on", ">sp", "+acl", "+set", "~*")
	s = aclRawAs(t, srv, 2, "self", "sp")
	if err := s.Write(append(testutil.Encode("acl", "deluser", "self"), testutil.Encode("set", "after", "1")...)); err != nil {
		t.Fatal(err)
	}
	if got := aclRead(t, s.R).String(); got != ":1" {
		t.Fatalf("ACL DELUSER self: %s", got)
	}
	aclClosed(t, s, "after ACL DELUSER of itself")
	aclExpect(t, r, ":0", "exists", "after")
}

// A denied command gets -NOPERM and an ACL LOG entry (reason, context,
// object, username), also inside MULTI, at EXEC when the rules changed
// since the command was queued, and in a script. ACL LOG has Redis's
// shapes in RESP2 and RESP3, groups repeated denials, takes a count, and
// RESET empties it.
func TestACLCmdDenialsAndLog(t *testing.T) {
	srv := testutil.Start(t)
	admin := aclRawAs(t, srv, 2, "", "")
	admin3 := aclRawAs(t, srv, 3, "", "")
	aclExpect(t, admin, "+OK", "acl", "setuser", "lim", "on", ">lp", "~k:*", "&news", "+get", "+set", "+publish", "+multi", "+exec", "+eval", "+client|setname")
	lim := aclRawAs(t, srv, 2, "lim", "lp")
	aclExpect(t, lim, "+OK", "client", "setname", "limconn")

	aclExpect(t, lim, "-NOPERM User lim has no permissions to run the 'del' command", "del", "k:1")
	aclExpect(t, lim, "-NOPERM No permissions to access a key", "get", "other")
	aclExpect(t, lim, "-NOPERM No permissions to access a channel", "publish", "sports", "m")
	aclExpect(t, lim, "-NOPERM No permissions to access a key", "get", "other")

	log := aclDo(t, admin3, "acl", "log")
	if log.kind != '*' || len(log.kids) != 3 {
		t.Fatalf("ACL LOG: %s", log)
	}
	fields := []string{"count", "reason", "context", "object", "username", "age-seconds", "client-info", "entry-id", "timestamp-created", "timestamp-last-updated"}
	kinds := []byte{':', '$', '$', '$', '$', ',', '$', ':', ':', ':'}
	for _, e := range log.kids {
		if e.kind != '%' || len(e.kids) != 20 {
			t.Fatalf("ACL LOG entry in RESP3: %s", e)
		}
		for i, f := range fields {
			if e.kids[2*i].s != f || e.kids[2*i+1].kind != kinds[i] {
				t.Fatalf("ACL LOG entry field %d: want %s of type %c in %s", i, f, kinds[i], e)
			}
		}
	}
	// Newest first: the channel, the key (counted twice), the command.
	type want struct{ count, reason, ctx, object string }
	check := func(e aclNode, w want) {
		t.Helper()
		got := want{e.field(t, "count").s, e.field(t, "reason").s, e.field(t, "context").s, e.field(t, "object").s}
		if got != w || e.field(t, "username").s != "lim" {
			t.Fatalf("ACL LOG entry %s, want %+v", e, w)
		}
		if ci := e.field(t, "client-info").s; !strings.Contains(ci, "name=limconn") || !strings.Contains(ci, "user=lim") {
			t.Fatalf("client-info %q", ci)
		}
	}
	check(log.kids[0], want{"2", "key", "toplevel", "other"})
	check(log.kids[1], want{"1", "channel", "toplevel", "sports"})
	check(log.kids[2], want{"1", "command", "toplevel", "del"})
	first := log.kids[0]
	if first.field(t, "entry-id").s != "1" || log.kids[1].field(t, "entry-id").s != "2" || log.kids[2].field(t, "entry-id").s != "0" {
		t.Fatalf("entry ids: %s", log)
	}
	created, _ := strconv.ParseInt(first.field(t, "timestamp-created").s, 10, 64)
	updated, _ := strconv.ParseInt(first.field(t, "timestamp-last-updated").s, 10, 64)
	if now := time.Now().UnixMilli(); created > updated || updated > now || now-created > 60000 {
		t.Fatalf("timestamps %d %d (now %d)", created, updated, now)
	}
	age, err := strconv.ParseFloat(first.field(t, "age-seconds").s, 64)
	if err != nil || age < 0 || age > 60 {
		t.Fatalf("age-seconds %q", first.field(t, "age-seconds").s)
	}

	// RESP2: the same entries as flat arrays, the age a bulk string.
	log2 := aclDo(t, admin, "acl", "log", "1")
	if log2.kind != '*' || len(log2.kids) != 1 || log2.kids[0].kind != '*' || len(log2.kids[0].kids) != 20 {
		t.Fatalf("ACL LOG 1 in RESP2: %s", log2)
	}
	if a := log2.kids[0].field(t, "age-seconds"); a.kind != '$' {
		t.Fatalf("age-seconds in RESP2: %s", a)
	}
	check(log2.kids[0], want{"2", "key", "toplevel", "other"})
	aclExpect(t, admin, "*[]", "acl", "log", "0")
	aclExpect(t, admin, "*[]", "acl", "log", "-5")
	if n := aclDo(t, admin, "acl", "log", "100"); len(n.kids) != 3 {
		t.Fatalf("ACL LOG 100: %s", n)
	}
	aclExpect(t, admin, "-ERR value is not an integer or out of range", "acl", "log", "ten")
	aclExpect(t, admin, "-ERR unknown subcommand or wrong number of arguments for 'log'. Try ACL HELP.", "acl", "log", "1", "2")
	aclExpect(t, admin, "+OK", "acl", "log", "RESET")
	aclExpect(t, admin, "*[]", "acl", "log")

	// MULTI: the denial at queue time is logged with context "multi"; a
	// command the rules no longer allow at EXEC gets EXEC's error.
	aclExpect(t, lim, "+OK", "multi")
	aclExpect(t, lim, "-NOPERM No permissions to access a key", "set", "other", "v")
	aclExpect(t, lim, "-EXECABORT Transaction discarded because of previous errors.", "exec")
	aclExpect(t, lim, "+OK", "multi")
	aclExpect(t, lim, "+QUEUED", "set", "k:1", "v")
	aclExpect(t, lim, "+QUEUED", "get", "k:1")
	aclExpect(t, admin, "+OK", "acl", "setuser", "lim", "-set")
	aclExpect(t, lim, `*[-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand null]`, "exec")
	aclExpect(t, lim, "+OK", "multi")
	aclExpect(t, lim, "+QUEUED", "get", "k:1")
	aclExpect(t, admin, "+OK", "acl", "setuser", "lim", "resetkeys", "~k:3")
	aclExpect(t, lim, `*[-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to touch the specified keys]`, "exec")
	aclExpect(t, admin, "+OK", "acl", "setuser", "lim", "resetkeys", "~k:*")

	// A script's redis.call is checked against the caller's user.
	n := aclDo(t, lim, "eval", "return redis.call('get', 'other')", "0")
	if n.kind != '-' || !strings.Contains(n.s, "ACL failure in script: No permissions to access a key") {
		t.Fatalf("script: %s", n)
	}
	n = aclDo(t, lim, "eval", "return redis.call('del', 'k:1')", "0")
	if n.kind != '-' || !strings.Contains(n.s, "ACL failure in script: User lim has no permissions to run the 'del' command") {
		t.Fatalf("script: %s", n)
	}

	log = aclDo(t, admin, "acl", "log")
	if len(log.kids) != 5 {
		t.Fatalf("ACL LOG after MULTI, EXEC and scripts: %s", log)
	}
	check(log.kids[0], want{"1", "command", "lua", "del"})
	check(log.kids[1], want{"1", "key", "lua", "other"})
	check(log.kids[2], want{"1", "key", "multi", "k:1"})
	check(log.kids[3], want{"1", "command", "multi", "set"})
	check(log.kids[4], want{"1", "key", "multi", "other"})
}

// ACL DRYRUN answers what running the command would: for each command,
// its verdict is compared with the reply and the ACL LOG entry of the
// real command. DRYRUN itself logs nothing.
func TestACLCmdDryRun(t *testing.T) {
	srv := testutil.Start(t)
	admin := aclRawAs(t, srv, 2, "", "")
	aclExpect(t, admin, "+OK", "acl", "setuser", "dry", "on", "nopass", "%R~r:*", "%W~w:*", "~rw:*", "&chan.*",
		"+@read", "+@write", "+@pubsub", "-@dangerous", "-lpush", "+eval", "+select|0", "(+lpush ~sel:*)")
	dry := aclRawAs(t, srv, 2, "dry", "x")
	cases := [][]string{
		{"get", "r:1"},
		{"get", "w:1"},
		{"get", "rw:1"},
		{"set", "w:1", "v"},
		{"set", "r:1", "v"},
		{"mset", "w:1", "a", "rw:1", "b", "r:1", "c"},
		{"copy", "r:1", "w:2"},
		{"copy", "w:1", "r:2"},
		{"exists", "r:1", "w:1"},
		{"flushall"},
		{"publish", "chan.x", "m"},
		{"publish", "other", "m"},
		{"lpush", "sel:1", "x"},
		{"lpush", "rw:1", "x"},
		{"eval", "return 1", "1", "rw:1"},
		{"eval", "return 1", "1", "w:1"},
		{"config", "get", "port"},
		{"select", "0"},
		{"select", "1"},
		{"sort", "r:1", "store", "w:3"},
		{"sort", "w:1", "store", "w:3"},
	}
	aclExpect(t, admin, "+OK", "acl", "log", "reset")
	verdicts := make([]string, len(cases))
	for i, cmd := range cases {
		n := aclDo(t, admin, append([]string{"acl", "dryrun", "dry"}, cmd...)...)
		if n.kind == '+' && n.s == "OK" {
			continue
		}
		if n.kind != '$' {
			t.Fatalf("DRYRUN %v: %s", cmd, n)
		}
		verdicts[i] = n.s
	}
	aclExpect(t, admin, "*[]", "acl", "log")
	denied := 0
	for i, cmd := range cases {
		n := aclDo(t, dry, cmd...)
		v := verdicts[i]
		if n.kind != '-' || !strings.HasPrefix(n.s, "NOPERM") {
			if v != "" {
				t.Errorf("%v: DRYRUN says %q, the command got %s", cmd, v, n)
			}
			continue
		}
		denied++
		e := aclDo(t, admin, "acl", "log", "1").kids[0]
		var want string
		switch reason, object := e.field(t, "reason").s, e.field(t, "object").s; reason {
		case "command":
			want = "User dry has no permissions to run the '" + object + "' command"
		case "key", "channel":
			want = "User dry has no permissions to access the '" + object + "' " + reason
		}
		if v != want {
			t.Errorf("%v: DRYRUN says %q, the command got %s (%q expected)", cmd, v, n, want)
		}
		aclExpect(t, admin, "+OK", "acl", "log", "reset")
	}
	if denied < 10 {
		t.Fatalf("only %d of the cases were denied", denied)
	}
	// A few verdicts spelled out.
	for _, c := range []struct {
		want string
		args []string
	}{
		{`+OK`, []string{"get", "r:1"}},
		{`"User dry has no permissions to access the 'w:1' key"`, []string{"get", "w:1"}},
		{`"User dry has no permissions to access the 'r:1' key"`, []string{"mset", "w:1", "a", "rw:1", "b", "r:1", "c"}},
		{`"User dry has no permissions to run the 'flushall' command"`, []string{"flushall"}},
		{`"User dry has no permissions to run the 'config|get' command"`, []string{"config", "get", "port"}},
		{`"User dry has no permissions to access the 'other' channel"`, []string{"publish", "other", "m"}},
		{`"User dry has no permissions to access the 'rw:1' key"`, []string{"lpush", "rw:1", "x"}},
		{`+OK`, []string{"lpush", "sel:1", "x"}},
		{`+OK`, []string{"AUTH", "a", "b"}}, // no_auth commands need no permission
		{`-ERR User 'nobody' not found`, []string{"@user:nobody", "get", "x"}},
		{`-ERR Command 'nosuch' not found`, []string{"nosuch", "x"}},
		{`-ERR Command 'config' not found`, []string{"config", "nosuch"}},
		{`-ERR wrong number of arguments for 'get' command`, []string{"get"}},
		{`-ERR wrong number of arguments for 'config|get' command`, []string{"config", "get"}},
		{`-ERR wrong number of arguments for 'config' command`, []string{"config"}},
	} {
		user := "dry"
		args := c.args
		if u, ok := strings.CutPrefix(args[0], "@user:"); ok {
			user, args = u, args[1:]
		}
		aclExpect(t, admin, c.want, append([]string{"acl", "dryrun", user}, args...)...)
	}
	aclExpect(t, admin, `-ERR wrong number of arguments for 'acl|dryrun' command`, "acl", "dryrun", "dry")
}

// ACL SAVE writes the users to the aclfile, atomically, and ACL LOAD
// reads them back, closing the connections of the users it replaces (the
// caller's after its reply). A malformed file changes nothing and the
// reply lists its problems. Without an aclfile both refuse; a SAVE that
// cannot write fails with Redis's error and a log line.
func TestACLCmdSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.acl")
	if err := os.WriteFile(path, []byte("user default on nopass ~* &* +@all\nuser bob on >bobpw ~b:* +get\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := testutil.Start(t, "aclfile", path)
	admin := aclRawAs(t, srv, 2, "", "")
	aclExpect(t, admin, `*["bob" "default"]`, "acl", "users")
	aclExpect(t, admin, "+OK", "acl", "setuser", "carol", "on", ">cp", "+@all", "~*", "(+get ~c:*)")
	aclExpect(t, admin, "+OK", "acl", "save")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, n := range aclDo(t, admin, "acl", "list").kids {
		lines = append(lines, n.s)
	}
	if string(data) != strings.Join(lines, "\n")+"\n" {
		t.Fatalf("saved file:\n%s\nACL LIST:\n%s", data, strings.Join(lines, "\n"))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("aclfile mode: %v %v", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("files left in the aclfile's directory: %v", ents)
	}

	// LOAD replaces every user but default: their connections go, the
	// default user's stay.
	aclExpect(t, admin, "+OK", "acl", "setuser", "dave", "on", "nopass")
	bob := aclRawAs(t, srv, 2, "bob", "bobpw")
	carol := aclRawAs(t, srv, 3, "carol", "cp")
	aclExpect(t, carol, "+OK", "acl", "load")
	aclClosed(t, carol, "the connection whose ACL LOAD replaced its user")
	aclClosed(t, bob, "a connection of a user ACL LOAD replaced")
	aclExpect(t, admin, `*["bob" "carol" "default"]`, "acl", "users")
	want := aclDo(t, admin, "acl", "list").String()
	if want != "*["+strings.Join(quoteAll(lines), " ")+"]" {
		t.Fatalf("users after LOAD: %s, saved %q", want, lines)
	}
	bob = aclRawAs(t, srv, 2, "bob", "bobpw")
	aclExpect(t, bob, "-NOPERM User bob has no permissions to run the 'set' command", "set", "b:1", "v")

	// A malformed file: every problem reported, nothing changed.
	bad := "user default on nopass ~* &* +@all\nuser eve on +nosuch\nnonsense\nuser bob on\nuser bob off\n"
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	aclExpect(t, admin, "-ERR "+path+":2: Error in applying operation '+nosuch': Unknown command or category name in ACL. "+
		path+":3 should start with user keyword followed by the username. "+
		"WARNING: Duplicate user 'bob' found on line 5. "+
		"WARNING: ACL errors detected, no change to the previously active ACL rules was performed", "acl", "load")
	if got := aclDo(t, admin, "acl", "list").String(); got != want {
		t.Fatalf("a failed LOAD changed the users: %s", got)
	}
	aclExpect(t, bob, "null", "get", "b:1")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	aclExpect(t, admin, "-ERR Error loading ACLs, opening file '"+path+"': No such file or directory", "acl", "load")

	// SAVE recreates it.
	aclExpect(t, admin, "+OK", "acl", "save")
	aclExpect(t, admin, "+OK", "acl", "load")
	if got := aclDo(t, admin, "acl", "list").String(); got != want {
		t.Fatalf("SAVE then LOAD: %s, want %s", got, want)
	}

	// No aclfile.
	plain := aclRawAs(t, testutil.Start(t), 2, "", "")
	noFile := "-ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."
	aclExpect(t, plain, noFile, "acl", "load")
	aclExpect(t, plain, noFile, "acl", "save")
	aclExpect(t, plain, "-ERR wrong number of arguments for 'acl|save' command", "acl", "save", "x")

	// A SAVE that cannot write its temporary file.
	gone := filepath.Join(t.TempDir(), "sub")
	if err := os.Mkdir(gone, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(gone, "users.acl")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, logBuf := startLogged(t, t.TempDir(), "aclfile", file)
	failing := aclRawAs(t, &testutil.Instance{Addr: s.Addr().String(), Srv: s}, 2, "", "")
	if err := os.RemoveAll(gone); err != nil {
		t.Fatal(err)
	}
	aclExpect(t, failing, "-ERR There was an error trying to save the ACLs. Please check the server logs for more information", "acl", "save")
	testutil.WaitFor(t, 5*time.Second, "the log line of the failed ACL SAVE", func() bool {
		return strings.Contains(logBuf.String(), "Opening temp ACL file for ACL SAVE: No such file or directory")
	})
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// ACL CAT, GENPASS and HELP, and the subcommands' flags as COMMAND INFO
// reports them (Redis 7.2's: CAT, GENPASS and WHOAMI are not admin).
func TestACLCmdCatGenPassHelpInfo(t *testing.T) {
	srv := testutil.Start(t)
	r := aclRawAs(t, srv, 2, "", "")
	aclExpect(t, r, `*["keyspace" "read" "write" "set" "sortedset" "list" "hash" "string" "bitmap" "hyperloglog" "geo" "stream" "pubsub" "admin" "fast" "slow" "blocking" "dangerous" "connection" "transaction" "scripting"]`, "acl", "cat")
	names := func(cat string) []string {
		var out []string
		for _, n := range aclDo(t, r, "acl", "cat", cat).kids {
			out = append(out, n.s)
		}
		return out
	}
	dangerous := names("dangerous")
	for _, n := range []string{"flushall", "acl|setuser", "acl|log", "config|get", "keys"} {
		if !slices.Contains(dangerous, n) {
			t.Errorf("ACL CAT dangerous lacks %s: %v", n, dangerous)
		}
	}
	for _, n := range []string{"get", "acl|cat", "acl|whoami", "acl|genpass", "acl"} {
		if slices.Contains(dangerous, n) {
			t.Errorf("ACL CAT dangerous has %s", n)
		}
	}
	if str := names("STRING"); !slices.Contains(str, "get") || !slices.Contains(str, "setrange") || slices.Contains(str, "hget") {
		t.Errorf("ACL CAT STRING: %v", str)
	}
	if slow := names("slow"); !slices.Contains(slow, "acl") || !slices.Contains(slow, "acl|whoami") {
		t.Errorf("ACL CAT slow lacks the ACL container or WHOAMI")
	}
	aclExpect(t, r, `-ERR Unknown category 'nope'`, "acl", "cat", "nope")
	aclExpect(t, r, `-ERR unknown subcommand or wrong number of arguments for 'cat'. Try ACL HELP.`, "acl", "cat", "a", "b")

	for bits, chars := range map[string]int{"": 64, "1": 1, "4": 1, "5": 2, "255": 64, "4096": 1024} {
		args := []string{"acl", "genpass"}
		if bits != "" {
			args = append(args, bits)
		}
		n := aclDo(t, r, args...)
		if n.kind != '$' || len(n.s) != chars || strings.Trim(n.s, "0123456789abcdef") != "" {
			t.Errorf("ACL GENPASS %s: %s", bits, n)
		}
	}
	if a, b := aclDo(t, r, "acl", "genpass").s, aclDo(t, r, "acl", "genpass").s; a == b {
		t.Errorf("two passwords alike: %s", a)
	}
	genErr := "-ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"
	aclExpect(t, r, genErr, "acl", "genpass", "0")
	aclExpect(t, r, genErr, "acl", "genpass", "-236")
	aclExpect(t, r, genErr, "acl", "genpass", "5000")
	aclExpect(t, r, "-ERR value is not an integer or out of range", "acl", "genpass", "x")
	aclExpect(t, r, `-ERR unknown subcommand or wrong number of arguments for 'genpass'. Try ACL HELP.`, "acl", "genpass", "1", "2")

	help := aclDo(t, r, "acl", "help")
	if len(help.kids) != 29 || help.kids[0].s != "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" ||
		help.kids[6].s != "DRYRUN <username> <command> [<arg> ...]" || help.kids[28].s != "    Print this help." {
		t.Fatalf("ACL HELP: %s", help)
	}
	aclExpect(t, r, `-ERR wrong number of arguments for 'acl|help' command`, "acl", "help", "xxx")

	for sub, want := range map[string]string{
		"setuser": `*[*["acl|setuser" :-3 *[+admin +noscript +loading +stale] :0 :0 :0 *[+@admin +@slow +@dangerous] *["request_policy:all_nodes" "response_policy:all_succeeded"] *[] *[]]]`,
		"whoami":  `*[*["acl|whoami" :2 *[+noscript +loading +stale] :0 :0 :0 *[+@slow] *[] *[] *[]]]`,
		"cat":     `*[*["acl|cat" :-2 *[+noscript +loading +stale] :0 :0 :0 *[+@slow] *[] *[] *[]]]`,
		"genpass": `*[*["acl|genpass" :-2 *[+noscript +loading +stale] :0 :0 :0 *[+@slow] *[] *[] *[]]]`,
		"help":    `*[*["acl|help" :2 *[+loading +stale] :0 :0 :0 *[+@slow] *[] *[] *[]]]`,
		"dryrun":  `*[*["acl|dryrun" :-4 *[+admin +noscript +loading +stale] :0 :0 :0 *[+@admin +@slow +@dangerous] *[] *[] *[]]]`,
		"log":     `*[*["acl|log" :-2 *[+admin +noscript +loading +stale] :0 :0 :0 *[+@admin +@slow +@dangerous] *[] *[] *[]]]`,
	} {
		aclExpect(t, r, want, "command", "info", "acl|"+sub)
	}
	info := aclDo(t, r, "command", "info", "acl").kids[0]
	if info.kids[1].s != "-2" || len(info.kids[9].kids) != 13 {
		t.Fatalf("COMMAND INFO acl: %s", info)
	}
}

// go-redis's own ACL helpers parse the replies, over RESP2 and RESP3.
func TestACLCmdGoRedisHelpers(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := srv.ClientWith(t, &redis.Options{Protocol: proto})
		if err := c.ACLLogReset(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.ACLSetUser(ctx, "gr", "reset", "on", ">grpw", "~g:*", "+get").Err(); err != nil {
			t.Fatal(err)
		}
		if v, err := c.ACLUsers(ctx).Result(); err != nil || !slices.Equal(v, []string{"default", "gr"}) {
			t.Fatalf("ACLUsers: %v %v", v, err)
		}
		if v, err := c.ACLList(ctx).Result(); err != nil || len(v) != 2 || !strings.HasPrefix(v[0], "user default on") {
			t.Fatalf("ACLList: %v %v", v, err)
		}
		if v, err := c.ACLWhoAmI(ctx).Result(); err != nil || v != "default" {
			t.Fatalf("ACLWhoAmI: %v %v", v, err)
		}
		if v, err := c.ACLCat(ctx).Result(); err != nil || len(v) != 21 {
			t.Fatalf("ACLCat: %v %v", v, err)
		}
		if v, err := c.ACLCatArgs(ctx, &redis.ACLCatArgs{Category: "geo"}).Result(); err != nil || !slices.Contains(v, "geoadd") {
			t.Fatalf("ACLCatArgs: %v %v", v, err)
		}
		if v, err := c.ACLGenPass(ctx, 128).Result(); err != nil || len(v) != 32 {
			t.Fatalf("ACLGenPass: %v %v", v, err)
		}
		if v, err := c.ACLDryRun(ctx, "gr", "get", "g:1").Result(); err != nil || v != "OK" {
			t.Fatalf("ACLDryRun allowed: %v %v", v, err)
		}
		if v, err := c.ACLDryRun(ctx, "gr", "get", "x").Result(); err != nil || v != "User gr has no permissions to access the 'x' key" {
			t.Fatalf("ACLDryRun denied: %v %v", v, err)
		}
		gr := srv.ClientWith(t, &redis.Options{Protocol: proto, Username: "gr", Password: "grpw", MaxRetries: -1})
		if err := gr.Set(ctx, "g:1", "v", 0).Err(); err == nil || err.Error() != "NOPERM User gr has no permissions to run the 'set' command" {
			t.Fatalf("SET as gr: %v", err)
		}
		// go-redis's CLIENT SETINFO at connection is denied too: the SET
		// is the newest entry.
		entries, err := c.ACLLog(ctx, 10).Result()
		if err != nil || len(entries) != 2 || entries[1].Object != "client|setinfo" {
			t.Fatalf("ACLLog (RESP%d): %v %v", proto, entries, err)
		}
		e := entries[0]
		if e.Count != 1 || e.Reason != "command" || e.Context != "toplevel" || e.Object != "set" || e.Username != "gr" ||
			e.ClientInfo == nil || e.ClientInfo.User != "gr" || e.TimestampCreated == 0 || e.TimestampLastUpdated < e.TimestampCreated {
			t.Fatalf("ACLLog entry: %+v (client %+v)", e, e.ClientInfo)
		}
		if n, err := c.ACLDelUser(ctx, "gr").Result(); err != nil || n != 1 {
			t.Fatalf("ACLDelUser: %v %v", n, err)
		}
	}
}
