package acl

import (
	"slices"
	"strings"
	"testing"

	"github.com/corvid-db/corvid/internal/command"
)

// Category shorthands for the fake table.
const (
	cKeyspace = command.CatKeyspace
	cRead     = command.CatRead
	cWrite    = command.CatWrite
	cSet      = command.CatSet
	cZSet     = command.CatSortedSet
	cList     = command.CatList
	cHash     = command.CatHash
	cString   = command.CatString
	cPubSub   = command.CatPubSub
	cAdmin    = command.CatAdmin
	cFast     = command.CatFast
	cSlow     = command.CatSlow
	cBlocking = command.CatBlocking
	cDanger   = command.CatDangerous
	cConn     = command.CatConnection
	cTx       = command.CatTransaction
	cScript   = command.CatScripting
)

// fakeCommands builds a small command table shaped like Redis's: plain
// commands, containers with subcommands, pub/sub commands, a no_auth
// command. Categories are given in full (implied ones included), so the
// tests need no copy of the server's aclCategories.
func fakeCommands() []*command.Command {
	c := func(name string, flags command.Flags, cats uint64, subs ...*command.Command) *command.Command {
		cmd := &command.Command{Name: name, Flags: flags, ACL: cats, Subcommands: subs}
		for _, s := range subs {
			s.Parent = cmd
		}
		return cmd
	}
	admin := cAdmin | cSlow | cDanger
	return []*command.Command{
		c("get", command.ReadOnly|command.Fast, cRead|cString|cFast),
		c("set", command.Write, cWrite|cString|cSlow),
		c("mget", command.ReadOnly|command.Fast, cRead|cString|cFast),
		c("incr", command.Write|command.Fast, cWrite|cString|cFast),
		c("hget", command.ReadOnly|command.Fast, cRead|cHash|cFast),
		c("hset", command.Write|command.Fast, cWrite|cHash|cFast),
		c("sadd", command.Write|command.Fast, cWrite|cSet|cFast),
		c("zadd", command.Write|command.Fast, cWrite|cZSet|cFast),
		c("lpush", command.Write|command.Fast, cWrite|cList|cFast),
		c("blpop", command.Write|command.Blocking, cWrite|cList|cSlow|cBlocking),
		c("copy", command.Write, cKeyspace|cWrite|cSlow),
		c("del", command.Write, cKeyspace|cWrite|cSlow),
		c("exists", command.ReadOnly|command.Fast, cKeyspace|cRead|cFast),
		c("sort", command.Write, cWrite|cSet|cZSet|cList|cSlow|cDanger),
		c("flushdb", command.Write, cKeyspace|cWrite|cSlow|cDanger),
		c("ping", command.Fast, cConn|cFast),
		c("select", command.Fast, cConn|cFast),
		c("auth", command.NoAuth|command.Fast, cConn|cFast),
		c("multi", command.Fast, cTx|cFast),
		c("exec", 0, cTx|cSlow),
		c("eval", 0, cScript|cSlow),
		c("publish", command.PubSub|command.Fast, cPubSub|cFast),
		c("spublish", command.PubSub|command.Fast, cPubSub|cFast),
		c("subscribe", command.PubSub, cPubSub|cSlow),
		c("ssubscribe", command.PubSub, cPubSub|cSlow),
		c("psubscribe", command.PubSub, cPubSub|cSlow),
		c("unsubscribe", command.PubSub, cPubSub|cSlow),
		c("debug", command.Admin, admin),
		c("config", 0, cSlow,
			c("config|get", command.Admin, admin),
			c("config|set", command.Admin, admin),
			c("config|rewrite", command.Admin, admin)),
		c("client", 0, cSlow,
			c("client|id", 0, cConn|cSlow),
			c("client|kill", command.Admin, admin|cConn),
			c("client|setname", 0, cConn|cSlow),
			c("client|list", command.Admin, admin|cConn)),
		c("memory", 0, cSlow,
			c("memory|doctor", 0, cSlow),
			c("memory|stats", 0, cSlow),
			c("memory|usage", command.ReadOnly, cRead|cSlow)),
		c("acl", 0, cSlow,
			c("acl|list", command.Admin, admin),
			c("acl|setuser", command.Admin, admin),
			c("acl|whoami", 0, cSlow)),
		c("script", 0, cSlow,
			c("script|help", 0, cScript|cSlow)),
	}
}

var testCS = NewCommandSet(fakeCommands(), nil)

// newTestUser returns a fresh user of the fake table with rules applied.
func newTestUser(t testing.TB, name string, rules ...string) *User {
	t.Helper()
	u := NewUser(testCS, name, ResetChannels)
	if err := u.SetRules(rules...); err != nil {
		t.Fatalf("SetRules(%q): %v", rules, err)
	}
	checkInvariants(t, u)
	return u
}

// args splits a command line on spaces ("set k v").
func args(line string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(line) {
		out = append(out, []byte(f))
	}
	return out
}

// idOf returns the ID of a command line's command (or subcommand).
func idOf(t testing.TB, a [][]byte) CommandID {
	t.Helper()
	name := strings.ToLower(string(a[0]))
	id := testCS.Lookup(name)
	if id == NoCommand {
		t.Fatalf("no command %q", name)
	}
	if len(testCS.subs[id]) > 0 && len(a) > 1 {
		id = testCS.Lookup(name + "|" + strings.ToLower(string(a[1])))
	}
	return id
}

// Key-spec accesses of the fake commands' keys, as the dispatcher would
// derive them from Redis's key specs.
var (
	needRO = KeyAccessFromFlags([]string{"RO", "access"})           // GET, MGET, COPY's source
	needRW = KeyAccessFromFlags([]string{"RW", "access", "update"}) // SET (with GET), INCR
	needIN = KeyAccessFromFlags([]string{"RW", "insert"})           // LPUSH, SADD
	needOW = KeyAccessFromFlags([]string{"OW", "update"})           // COPY's destination
	needNA = KeyAccessFromFlags([]string{"RO"})                     // EXISTS: no access flag
)

// keysOf returns the keys of a fake command line, positions and accesses
// as Redis's key specs give them.
func keysOf(a [][]byte) []KeyRef {
	switch strings.ToLower(string(a[0])) {
	case "get", "hget":
		return []KeyRef{{1, needRO}}
	case "set", "incr", "hset":
		return []KeyRef{{1, needRW}}
	case "lpush", "sadd", "zadd":
		return []KeyRef{{1, needIN}}
	case "mget":
		var k []KeyRef
		for i := 1; i < len(a); i++ {
			k = append(k, KeyRef{i, needRO})
		}
		return k
	case "exists":
		var k []KeyRef
		for i := 1; i < len(a); i++ {
			k = append(k, KeyRef{i, needNA})
		}
		return k
	case "copy":
		return []KeyRef{{1, needRO}, {2, needOW}}
	case "sort":
		k := []KeyRef{{1, needRO}}
		for i := 2; i+1 < len(a); i++ {
			if strings.EqualFold(string(a[i]), "store") {
				k = append(k, KeyRef{i + 1, needOW})
			}
		}
		return k
	case "memory":
		if len(a) > 2 && strings.EqualFold(string(a[1]), "usage") {
			return []KeyRef{{2, needNA}}
		}
	}
	return nil
}

// check runs a command line through u.Check.
func check(t testing.TB, u *User, line string) (Reason, int) {
	t.Helper()
	a := args(line)
	return u.Check(idOf(t, a), a, keysOf(a))
}

// checkInvariants verifies what Redis asserts when it describes a user:
// replaying a selector's recorded command rules on an empty selector
// rebuilds its command bitset exactly.
func checkInvariants(t testing.TB, u *User) {
	t.Helper()
	for i, s := range u.selectors {
		fake := newSelector(u.cs, ResetChannels)
		start := "-@all"
		if s.future {
			start = "+@all"
		}
		if err := fake.apply(u.cs, start); err != nil {
			t.Fatal(err)
		}
		for _, r := range s.rules {
			if err := fake.apply(u.cs, r); err != nil {
				t.Fatalf("selector %d: replaying %q of %q: %v", i, r, s.rules, err)
			}
		}
		if !slices.Equal(fake.allowed, s.allowed) {
			t.Fatalf("selector %d: rules %q rebuild %x, selector has %x", i, s.Commands(), fake.allowed, s.allowed)
		}
	}
	r := u.selectors[0]
	if u.open != (r.allCommands && r.allKeys && r.allChannels) {
		t.Fatalf("open flag stale")
	}
}
