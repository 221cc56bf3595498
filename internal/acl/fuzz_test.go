package acl

import (
	"strings"
	"testing"
)

// FuzzSetUser applies random rule lists. Whatever they are, nothing may
// panic, a failed SetRules must leave the user as it was, the recorded
// command rules must rebuild the command bitset, and the ACL LIST
// description must parse back (through the aclfile path, as ACL SAVE and
// ACL LOAD do) into a user with the same description, except where Redis's
// own syntax cannot carry the user (see roundTrips).
func FuzzSetUser(f *testing.F) {
	for _, seed := range []string{
		"on nopass ~* &* +@all",
		"on >pass #34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4e6 %R~r* %W~w* ~rw* resetchannels &news.* -@all +get +@hash",
		"+@all -client +client|id +client|setname -@slow +hget",
		"-@all +select|0 +debug|object +config -config|set (+@write ~write::*) (+@read ~read::*)",
		"(~key5 +get ) ( ~key6 +get ) reset (+PING (+SELECT",
		"allkeys ~foo %RW~* ~bar allchannels &x resetchannels &x &y* nocommands allcommands -@dangerous",
		"%R %wr~x <nope !abc +config|get|x +get|a|b + - +@ +@nosuch ( ) () (\"x) clearselectors skip-sanitize-payload",
		"on ON off OFF resetpass >a <a >b nopass",
		"-@all +client|list +client|list +config|get +config +acl|list -acl +memory|doctor +memory",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		rules := strings.Fields(input)
		u := NewUser(testCS, "fuzz", ResetChannels)
		_ = u.SetRules("on", "~start", "+get")
		before := u.Describe()
		if err := u.SetRules(rules...); err != nil {
			if u.Describe() != before {
				t.Fatalf("failed SetRules changed the user: %v", err)
			}
			// Rule by rule, which may fail half way, must not panic either.
			p := NewUser(testCS, "fuzz", AllChannels)
			for _, r := range rules {
				_ = p.ApplyRule(r)
			}
			checkInvariants(t, p)
			return
		}
		checkInvariants(t, u)
		for _, line := range []string{"get start", "set k v", "select 0", "config get x", "publish news.a m", "psubscribe x*", "ping"} {
			a := args(line)
			u.Check(idOf(t, a), a, keysOf(a))
		}
		desc := u.Describe()
		if !roundTrips(u) {
			return
		}
		users, err := ParseACLFile(testCS, ResetChannels, "fuzz.acl", []byte(u.ListLine()))
		if err != nil {
			t.Fatalf("description %q does not load: %v", desc, err)
		}
		if got := users[0].Describe(); got != desc {
			t.Fatalf("round trip:\n got %q\nwant %q", got, desc)
		}
		checkInvariants(t, users[0])
	})
}

// roundTrips reports whether u's description can parse back into u. As in
// Redis it cannot when a pattern or first argument holds characters the
// aclfile and selector syntax treat specially (parentheses, quotes, NUL),
// or when a "%RW~*" pattern, shown as "~*" (which reads back as allkeys),
// sits among other key patterns.
func roundTrips(u *User) bool {
	const special = "()\"'\x00"
	for _, s := range u.selectors {
		for _, k := range s.keys {
			if strings.ContainsAny(string(k.pattern), special) ||
				(string(k.pattern) == "*" && k.perm == KeyReadWrite && len(s.keys) > 1) {
				return false
			}
		}
		for _, ch := range s.channels {
			if strings.ContainsAny(string(ch), special) {
				return false
			}
		}
		for _, r := range s.rules {
			if strings.ContainsAny(r, special) {
				return false
			}
		}
	}
	return true
}

// FuzzParseACLFile loads random aclfiles: nothing may panic, a file is
// loaded whole or refused whole, and what loads saves (ACL SAVE's lines)
// into a file that loads back into the same users.
func FuzzParseACLFile(f *testing.F) {
	for _, seed := range []string{
		"user default on nopass ~* &* +@all\nuser alice on >p ~k* +get\n",
		"# comment\nuser bob off\n\nuser carol on #34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4e6 (+get ~x)\n",
		"user a on\nuser a off\n",
		"usr x\nuser\nuser b +nosuch\nuser c (+get\n",
		"user d on nopass\r\nuser e  on\x00user f\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		users, err := ParseACLFile(testCS, ResetChannels, "fuzz.acl", []byte(data))
		if err != nil {
			if users != nil {
				t.Fatalf("an error and users: %v", err)
			}
			return
		}
		var saved strings.Builder
		for _, u := range users {
			if !roundTrips(u) {
				return // a description Redis's own syntax cannot carry
			}
			saved.WriteString(u.ListLine() + "\n")
		}
		again, err := ParseACLFile(testCS, ResetChannels, "fuzz.acl", []byte(saved.String()))
		if err != nil {
			t.Fatalf("the saved file does not load: %v\n%s", err, saved.String())
		}
		if len(again) != len(users) {
			t.Fatalf("%d users saved, %d loaded back", len(users), len(again))
		}
		for i := range users {
			if again[i].ListLine() != users[i].ListLine() {
				t.Fatalf("user %d: %q saved, %q loaded back", i, users[i].ListLine(), again[i].ListLine())
			}
		}
	})
}
