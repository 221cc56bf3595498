package acl

import (
	"errors"
	"strings"
	"testing"

	"github.com/corvid-db/corvid/internal/command"
)

func TestCommandSet(t *testing.T) {
	cs := testCS
	if got, want := cs.Len(), 0; got <= want {
		t.Fatal("empty set")
	}
	// IDs are dense, a command then its subcommands.
	cfg := cs.Lookup("config")
	if cs.Lookup("config|get") != cfg+1 || cs.Lookup("config|set") != cfg+2 {
		t.Fatal("subcommands not numbered after their container")
	}
	for name, want := range map[string]bool{
		"get": true, "GET": true, "Config|Get": true, "config|get": true,
		"config|": false, "|get": false, "": false, "config|get|x": false,
		"nosuch": false, "select|0": false, "\u212aeys": false,
	} {
		if got := cs.Lookup(name) != NoCommand; got != want {
			t.Errorf("Lookup(%q) found = %v, want %v", name, got, want)
		}
	}
	if c := cs.Command(cs.Lookup("client|kill")); c == nil || c.Name != "client|kill" || c.Parent.Name != "client" {
		t.Fatalf("Command(client|kill) = %+v", c)
	}
	if cs.Command(NoCommand) != nil {
		t.Fatal("Command(NoCommand) != nil")
	}
	cmds := fakeCommands()
	set := NewCommandSet(cmds, nil)
	if set.ID(cmds[0]) != 0 || set.ID(&command.Command{Name: "get"}) != NoCommand {
		t.Fatal("ID by pointer")
	}

	// ACL CAT.
	names, ok := cs.CategoryCommands("CONNECTION")
	if !ok || strings.Join(names, " ") != "ping select auth client|id client|kill client|setname client|list" {
		t.Fatalf("CategoryCommands(connection) = %q, %v", names, ok)
	}
	names, ok = cs.CategoryCommands("geo")
	if !ok || names == nil || len(names) != 0 {
		t.Fatalf("empty category = %q, %v", names, ok)
	}
	if _, ok := cs.CategoryCommands("all"); ok {
		t.Fatal("'all' is not a category for ACL CAT")
	}
	if got := strings.Join(Categories(), " "); !strings.HasPrefix(got, "keyspace read write set sortedset list hash string") || !strings.HasSuffix(got, "connection transaction scripting") {
		t.Fatalf("Categories() = %q", got)
	}

	// The categories function is what counts, not the ACL field alone.
	implied := NewCommandSet(fakeCommands(), func(c *command.Command) uint64 {
		m := c.ACL
		if c.Flags&command.Write != 0 {
			m |= command.CatGeo // nonsense, but visible
		}
		return m
	})
	names, _ = implied.CategoryCommands("geo")
	if !strings.Contains(strings.Join(names, " "), "set") || strings.Contains(strings.Join(names, " "), "get") {
		t.Fatalf("categories func ignored: %q", names)
	}
}

func TestCommandSetDuplicatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	NewCommandSet([]*command.Command{{Name: "get"}, {Name: "GET"}}, nil)
}

func TestRuleErrors(t *testing.T) {
	hash := HashPassword("x")
	for _, tc := range []struct {
		rules []string // the last one fails
		want  error
	}{
		{[]string{"foo"}, ErrSyntax},
		{[]string{"@all"}, ErrSyntax},
		{[]string{"("}, ErrSyntax},
		{[]string{")"}, ErrSyntax},
		{[]string{" () "}, ErrSyntax},
		{[]string{"(this-is-invalid)"}, ErrSyntax},
		{[]string{"(+get \"\")"}, ErrSyntax}, // an empty rule inside a selector
		{[]string{"((+get))"}, ErrSyntax},
		{[]string{"+nosuch"}, ErrUnknownCommand},
		{[]string{"-nosuch"}, ErrUnknownCommand},
		{[]string{"+"}, ErrUnknownCommand},
		{[]string{"-"}, ErrUnknownCommand},
		{[]string{"+@"}, ErrUnknownCommand},
		{[]string{"+@nosuch"}, ErrUnknownCommand},
		{[]string{"-@nosuch"}, ErrUnknownCommand},
		{[]string{"+config|asdf"}, ErrUnknownCommand},
		{[]string{"-config|asdf"}, ErrUnknownCommand},
		{[]string{"+get|key1|key2"}, ErrUnknownCommand},
		{[]string{"-get|key1|key2"}, ErrUnknownCommand},
		{[]string{"-select|0"}, ErrUnknownCommand},
		{[]string{"+nosuch|x"}, ErrUnknownCommand},
		{[]string{"+config|get|appendonly"}, ErrFirstArgOfSubcommand},
		{[]string{"+select|"}, ErrSyntax},
		{[]string{"+config|"}, ErrSyntax},
		{[]string{"allkeys", "~foo"}, ErrKeyPatternAfterAll},
		{[]string{"~*", "%R~foo"}, ErrKeyPatternAfterAll},
		{[]string{"allkeys", "%X~foo"}, ErrKeyPatternAfterAll}, // checked before the syntax
		{[]string{"allchannels", "&foo"}, ErrChannelPatternAfterAll},
		{[]string{"(&* &fail)"}, ErrChannelPatternAfterAll},
		{[]string{"~a b"}, ErrSyntax},
		{[]string{"~a\x00"}, ErrSyntax},
		{[]string{"&a\tb"}, ErrSyntax},
		{[]string{"%X~foo"}, ErrSyntax},
		{[]string{"%RR~foo"}, ErrSyntax},
		{[]string{"%~foo"}, ErrSyntax},
		{[]string{"%"}, ErrSyntax},
		{[]string{"%R~a b"}, ErrSyntax},
		{[]string{"<nosuch"}, ErrNoSuchPassword},
		{[]string{">a", "<b"}, ErrNoSuchPassword},
		{[]string{"!" + hash}, ErrNoSuchPassword},
		{[]string{"#abc"}, ErrBadPasswordHash},
		{[]string{"#" + hash[:63]}, ErrBadPasswordHash},
		{[]string{"#" + hash + "0"}, ErrBadPasswordHash},
		{[]string{"#" + strings.ToUpper(hash)}, ErrBadPasswordHash},
		{[]string{"#" + hash[:63] + "q"}, ErrBadPasswordHash},
		{[]string{"!abc"}, ErrBadPasswordHash},
	} {
		u := NewUser(testCS, "u", ResetChannels)
		var err error
		for _, r := range tc.rules {
			if err = u.ApplyRule(r); err != nil {
				break
			}
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%q: got %v, want %v", tc.rules, err, tc.want)
		}
	}
}

func TestRulesAccepted(t *testing.T) {
	// Odd rules Redis 7.2 accepts.
	for _, rules := range [][]string{
		{""},                    // a no-op
		{"ON", "OFF", "NoPass"}, // keywords ignore case
		{"ALLKEYS", "RESETKEYS", "AllChannels", "ResetChannels", "AllCommands", "NoCommands"},
		{"+@ALL", "-@ALL", "+@Read"},
		{"%R"},             // no '~': an empty read pattern, shown "%R~"
		{"%wr~x", "%rW~y"}, // flags in any order and case
		{"()"},             // an empty selector
		{"(\"unbalanced)"}, // unsplittable text: an empty selector
		{"~", "&"},         // empty patterns
		{">", "<"},         // the empty password
		{"+select|0", "+SELECT|0", "+select|1"},
	} {
		newTestUser(t, "u", rules...)
	}
	u := newTestUser(t, "u", "%R")
	if got := u.Root().Keys(); got != "%R~" {
		t.Fatalf("%%R keys = %q", got)
	}
	u = newTestUser(t, "u", "(\"unbalanced)")
	if len(u.Selectors()) != 1 || u.Selectors()[0].Describe() != "resetchannels -@all" {
		t.Fatalf("unbalanced selector = %q", u.Describe())
	}
}

func TestSetRulesErrorsAndAtomicity(t *testing.T) {
	for _, tc := range []struct {
		rules []string
		want  string
	}{
		{[]string{"on", "(this-is-invalid)"}, "ERR Error in ACL SETUSER modifier '(this-is-invalid)': Syntax error"},
		{[]string{"on", "(&*", "&fail)"}, "ERR Error in ACL SETUSER modifier '(&* &fail)': Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"},
		{[]string{"on", "(+PING", "(+SELECT", "(+DEL"}, "ERR Unmatched parenthesis in acl selector starting at '(+PING'."},
		{[]string{"on", "(+PING", "(+SELECT", "(+DEL", ")", ")", ")", ""}, "ERR Error in ACL SETUSER modifier '(+PING (+SELECT (+DEL )': Syntax error"},
		{[]string{"on", "(+PING", "(+SELECT", "(+DEL", ")", ""}, "ERR Error in ACL SETUSER modifier '(+PING (+SELECT (+DEL )': Syntax error"},
		{[]string{"("}, "ERR Unmatched parenthesis in acl selector starting at '('."},
		{[]string{")"}, "ERR Error in ACL SETUSER modifier ')': Syntax error"},
		{[]string{"+@all", "allkeys", "~foo"}, "ERR Error in ACL SETUSER modifier '~foo': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"},
		{[]string{"+@all", "+config|asdf"}, "ERR Error in ACL SETUSER modifier '+config|asdf': Unknown command or category name in ACL"},
		{[]string{"+config|get|appendonly"}, "ERR Error in ACL SETUSER modifier '+config|get|appendonly': Allowing first-arg of a subcommand is not supported"},
		{[]string{"#abc"}, "ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"},
		{[]string{"<nope"}, "ERR Error in ACL SETUSER modifier '<nope': The password you are trying to remove from the user does not exist"},
		{[]string{"bad\nrule"}, "ERR Error in ACL SETUSER modifier 'bad rule': Syntax error"},
	} {
		u := newTestUser(t, "u", "on", ">pw", "~k", "+get", "(+set ~s)")
		before := u.Describe()
		err := u.SetRules(tc.rules...)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: got %v\nwant %s", tc.rules, err, tc.want)
		}
		if u.Describe() != before {
			t.Errorf("%q: user changed by a failed SetRules: %s", tc.rules, u.Describe())
		}
	}
	var se *SetUserError
	if err := newTestUser(t, "u").SetRules("+nosuch"); !errors.As(err, &se) || !errors.Is(err, ErrUnknownCommand) || se.Modifier != "+nosuch" {
		t.Fatalf("SetUserError: %#v", err)
	}
	var pe *UnmatchedParenError
	if err := newTestUser(t, "u").SetRules("(~a"); !errors.As(err, &pe) || pe.Arg != "(~a" {
		t.Fatalf("UnmatchedParenError: %#v", err)
	}
}

func TestFlexibleSelectors(t *testing.T) {
	u := newTestUser(t, "selector-2", "(~key1 +get )", "( ~key2 +get )", "( ~key3 +get)", "(~key4 +get)",
		"(~key5", "+get", ")", "(", "~key6", "+get", ")", "(", "~key7", "+get)", "(~key8", "+get)")
	sel := u.Selectors()
	if len(sel) != 8 {
		t.Fatalf("%d selectors: %s", len(sel), u.Describe())
	}
	for i, s := range sel {
		if want := "~key" + string(rune('1'+i)); s.Keys() != want || s.Commands() != "-@all +get" {
			t.Errorf("selector %d: keys %q commands %q", i, s.Keys(), s.Commands())
		}
	}
	u = newTestUser(t, "u", "on", "(~added-selector)")
	if len(u.Selectors()) != 1 || u.Info().Selectors[0].Keys != "~added-selector" {
		t.Fatal(u.Describe())
	}
	if err := u.SetRules("clearselectors"); err != nil || len(u.Selectors()) != 0 {
		t.Fatal("clearselectors", err)
	}
}

func TestDescribe(t *testing.T) {
	h := HashPassword
	for _, tc := range []struct {
		def   ChannelDefault
		rules []string
		want  string
	}{
		{ResetChannels, nil, "off sanitize-payload resetchannels -@all"},
		{AllChannels, nil, "off sanitize-payload &* -@all"},
		{ResetChannels, []string{"reset"}, "off sanitize-payload resetchannels -@all"},
		{AllChannels, []string{"resetchannels", "reset"}, "off sanitize-payload &* -@all"},
		{ResetChannels, []string{"on", "nopass", "resetchannels", "&foo", "+@all"}, "on nopass sanitize-payload resetchannels &foo +@all"},
		{ResetChannels, []string{"on", "nopass", "~*", "&*", "+@all"}, "on nopass sanitize-payload ~* &* +@all"},
		{ResetChannels, []string{"off", "+@all", "-set"}, "off sanitize-payload resetchannels +@all -set"},
		{ResetChannels, []string{">alice", ">bob", ">alice"}, "off sanitize-payload #" + h("alice") + " #" + h("bob") + " resetchannels -@all"},
		{ResetChannels, []string{"skip-sanitize-payload"}, "off skip-sanitize-payload resetchannels -@all"},
		{ResetChannels, []string{"skip-sanitize-payload", "sanitize-payload"}, "off sanitize-payload resetchannels -@all"},
		{ResetChannels, []string{"%R~foo", "%W~bar", "~baz", "%RW~qux"}, "off sanitize-payload %R~foo %W~bar ~baz ~qux resetchannels -@all"},
		{ResetChannels, []string{"%R~foo", "%W~foo", "%RW~bar"}, "off sanitize-payload ~foo ~bar resetchannels -@all"},
		{ResetChannels, []string{"~a", "~b", "allkeys"}, "off sanitize-payload ~* resetchannels -@all"},
		{ResetChannels, []string{"~a", "resetkeys", "~b"}, "off sanitize-payload ~b resetchannels -@all"},
		{ResetChannels, []string{"&a", "&b", "&a"}, "off sanitize-payload resetchannels &a &b -@all"},
		{ResetChannels, []string{"on", "-@all", "+get", "(~foo +set)", "(%R~bar &c +@read)"},
			"on sanitize-payload resetchannels -@all +get (~foo resetchannels -@all +set) (%R~bar resetchannels &c -@all +@read)"},
		{AllChannels, []string{"(+get)"}, "off sanitize-payload &* -@all (&* -@all +get)"},
		{ResetChannels, []string{"on", ">x", "~k", "(+get)", "reset"}, "off sanitize-payload resetchannels -@all"},
	} {
		u := NewUser(testCS, "u", tc.def)
		if err := u.SetRules(tc.rules...); err != nil {
			t.Fatalf("%q: %v", tc.rules, err)
		}
		want := tc.want
		if got := u.Describe(); got != want {
			t.Errorf("%q:\n got %s\nwant %s", tc.rules, got, want)
		}
		if got := u.ListLine(); got != "user u "+want {
			t.Errorf("ListLine = %q", got)
		}
		checkInvariants(t, u)
	}
	if got := NewDefaultUser(testCS, ResetChannels).ListLine(); got != "user default on nopass sanitize-payload ~* &* +@all" {
		t.Fatalf("default user: %s", got)
	}
	if got := NewDefaultUser(testCS, AllChannels).ListLine(); got != "user default on nopass sanitize-payload ~* &* +@all" {
		t.Fatalf("default user: %s", got)
	}
}

// TestResetIsNewUser is acl.tcl's "ACL SETUSER RESET reverting to default
// newly created user".
func TestResetIsNewUser(t *testing.T) {
	for _, def := range []ChannelDefault{ResetChannels, AllChannels} {
		fresh := NewUser(testCS, "example", def).Describe()
		u := NewUser(testCS, "example", def)
		if err := u.SetRules("on", "skip-sanitize-payload", ">p", "~*", "resetchannels", "&x", "+@all", "(+get)", "reset"); err != nil {
			t.Fatal(err)
		}
		if u.Describe() != fresh {
			t.Fatalf("reset: %q, new: %q", u.Describe(), fresh)
		}
	}
}

func TestUserInfo(t *testing.T) {
	// acl-v2.tcl "Test ACL GETUSER response information".
	u := newTestUser(t, "selector-info", "-@all", "+get", "resetchannels", "&channel1", "%R~foo1", "%W~bar1", "~baz1",
		"(-@all +set resetchannels &channel2 %R~foo2 %W~bar2 ~baz2)")
	info := u.Info()
	if info.Root != (SelectorInfo{Commands: "-@all +get", Keys: "%R~foo1 %W~bar1 ~baz1", Channels: "&channel1"}) {
		t.Fatalf("root: %+v", info.Root)
	}
	if len(info.Selectors) != 1 || info.Selectors[0] != (SelectorInfo{Commands: "-@all +set", Keys: "%R~foo2 %W~bar2 ~baz2", Channels: "&channel2"}) {
		t.Fatalf("selectors: %+v", info.Selectors)
	}
	if strings.Join(info.Flags, " ") != "off sanitize-payload" || len(info.Passwords) != 0 {
		t.Fatalf("flags %q passwords %q", info.Flags, info.Passwords)
	}
	d := NewDefaultUser(testCS, ResetChannels).Info()
	if strings.Join(d.Flags, " ") != "on nopass sanitize-payload" || d.Root != (SelectorInfo{"+@all", "~*", "&*"}) || d.Selectors == nil || len(d.Selectors) != 0 {
		t.Fatalf("default: %+v", d)
	}
	// "Test ACL selectors by default have no permissions".
	e := newTestUser(t, "selector-default", "reset", "()").Info()
	if len(e.Selectors) != 1 || e.Selectors[0] != (SelectorInfo{"-@all", "", ""}) {
		t.Fatalf("empty selector: %+v", e.Selectors)
	}
	// acl.tcl's GETUSER of passwords shows hashes, not passwords.
	p := newTestUser(t, "u", ">passwd4").Info()
	if len(p.Passwords) != 1 || p.Passwords[0] != "34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4e6" {
		t.Fatalf("passwords: %q", p.Passwords)
	}
}

// TestCommandRules checks ACL GETUSER's "commands" against acl.tcl.
func TestCommandRules(t *testing.T) {
	steps := func(t *testing.T, u *User, rules string, want string) {
		t.Helper()
		if err := u.SetRules(strings.Fields(rules)...); err != nil {
			t.Fatalf("%s: %v", rules, err)
		}
		checkInvariants(t, u)
		if got := u.Root().Commands(); got != want {
			t.Errorf("after %q: commands %q, want %q", rules, got, want)
		}
	}
	t.Run("acl.tcl", func(t *testing.T) {
		u := newTestUser(t, "newuser")
		steps(t, u, "+@all -client", "+@all -client")
		steps(t, u, "+client|id +client|setname", "+@all -client +client|id +client|setname")
		steps(t, u, "+@all -client|kill", "+@all -client|kill")
		steps(t, u, "-@all +acl +config -config|set", "-@all +acl +config -config|set")
		steps(t, u, "+@all -config|get", "+@all -config|get")
		steps(t, u, "-@all +acl +select|0", "-@all +acl +select|0")
		steps(t, u, "-@all +acl +del +incr +debug|object", "-@all +acl +del +incr +debug|object")

		bob := newTestUser(t, "bob")
		steps(t, bob, "+memory|doctor", "-@all +memory|doctor")
		steps(t, bob, "+memory", "-@all +memory")
		steps(t, bob, "+@all +client|id", "+@all +client|id")

		alice := newTestUser(t, "alice")
		steps(t, alice, "+@all -memory|doctor", "+@all -memory|doctor")
		steps(t, alice, "+@all -memory", "+@all -memory")
		steps(t, alice, "-@all", "-@all")

		steps(t, u, "reset +@all ~* -@string +incr -debug +debug|digest", "+@all -@string +incr -debug +debug|digest")
		steps(t, u, "reset +@string -incr +acl +debug|digest +debug|segfault", "-@all +@string -incr +acl +debug|digest +debug|segfault")
		steps(t, u, "reset -debug +debug|a +debug|b +debug|c", "-@all -debug +debug|a +debug|b +debug|c")
		steps(t, u, "-debug", "-@all -debug")
	})
	t.Run("lossless compaction", func(t *testing.T) {
		u := newTestUser(t, "adv-test")
		steps(t, u, "+@all -@hash -@slow +hget", "+@all -@hash -@slow +hget")
		steps(t, u, "-@hash", "+@all -@slow +hget -@hash")
		steps(t, u, "+@hash", "+@all -@slow +hget +@hash")
		steps(t, u, "-@all", "-@all")
		steps(t, u, "-@string -@slow +@all", "+@all")
		steps(t, u, "-@all +@HASH +@hash +@HaSh", "-@all +@hash")
		steps(t, u, "-@all +HGET +hget +hGeT", "-@all +hget")
		steps(t, u, "-@all +@hash +@slow +@set +@set +@slow +@hash", "-@all +@set +@slow +@hash")
		steps(t, u, "-@all +hget -hset +hset -hget", "-@all +hset -hget")
		steps(t, u, "-@all +client|list +client|list +config|get +config +acl|list -acl", "-@all +client|list +config -acl")
		steps(t, u, "-@all +select|0 +select|0 +debug|segfault +debug", "-@all +select|0 +debug")
		steps(t, u, "-@all -@dangerous", "-@all -@dangerous")
		steps(t, u, "-@all +config +config|get -config|set +config", "-@all +config")
		steps(t, u, "allcommands -get nocommands +GET", "-@all +get")
		steps(t, u, "-@all +CONFIG|GET +Select|DB0", "-@all +config|get +select|db0")
	})
	t.Run("every category", func(t *testing.T) {
		for _, cat := range Categories() {
			u := newTestUser(t, "additive", "reset", "+@all", "-@"+cat)
			if got := u.Root().Commands(); got != "+@all -@"+cat {
				t.Errorf("%s: %q", cat, got)
			}
			u = newTestUser(t, "restrictive", "reset", "-@all", "+@"+cat)
			if got := u.Root().Commands(); got != "-@all +@"+cat {
				t.Errorf("%s: %q", cat, got)
			}
		}
	})
}

func TestFrozenUserPanics(t *testing.T) {
	r := NewRegistry(testCS, ResetChannels)
	for _, f := range []func(u *User){
		func(u *User) { _ = u.ApplyRule("on") },
		func(u *User) { _ = u.SetRules("on") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("editing a published user did not panic")
				}
			}()
			f(r.Default().User())
		}()
	}
	// A clone may be edited.
	c := r.Default().User().Clone(ResetChannels)
	if err := c.SetRules("off"); err != nil || !r.Default().User().Enabled() {
		t.Fatal("clone shares state with the published user")
	}
}

func TestPasswords(t *testing.T) {
	u := newTestUser(t, "newuser", ">passwd1")
	if u.CheckPassword([]byte("passwd1")) {
		t.Fatal("new users start disabled")
	}
	if err := u.SetRules("on", ">passwd2"); err != nil {
		t.Fatal(err)
	}
	for pw, want := range map[string]bool{"passwd1": true, "passwd2": true, "passwd3": false, "": false} {
		if u.CheckPassword([]byte(pw)) != want {
			t.Errorf("CheckPassword(%q) != %v", pw, want)
		}
	}
	if err := u.SetRules("<passwd1"); err != nil || u.CheckPassword([]byte("passwd1")) {
		t.Fatal("<passwd1", err)
	}
	const h4 = "34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4e6"
	if err := u.SetRules("#" + h4); err != nil || !u.CheckPassword([]byte("passwd4")) {
		t.Fatal("#hash", err)
	}
	if err := u.SetRules("!" + h4); err != nil || u.CheckPassword([]byte("passwd4")) || strings.Contains(strings.Join(u.PasswordHashes(), " "), h4) {
		t.Fatal("!hash", err)
	}
	if err := u.SetRules("nopass"); err != nil || !u.CheckPassword([]byte("zipzapblabla")) || len(u.PasswordHashes()) != 0 || !u.NoPass() {
		t.Fatal("nopass", err)
	}
	if err := u.SetRules(">again"); err != nil || u.NoPass() || u.CheckPassword([]byte("other")) {
		t.Fatal("a password clears nopass", err)
	}
	if err := u.SetRules("resetpass"); err != nil || u.CheckPassword([]byte("again")) || u.NoPass() {
		t.Fatal("resetpass", err)
	}
	if err := u.SetRules("nopass", "off"); err != nil || u.CheckPassword(nil) {
		t.Fatal("off users cannot authenticate even with nopass", err)
	}
}
