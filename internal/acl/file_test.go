package acl

import (
	"errors"
	"strings"
	"testing"
)

// userACL is Redis's tests/assets/user.acl.
const userACL = "user alice on allcommands allkeys &* >alice\nuser bob on -@all +@set +acl ~set* &* >bob\nuser default on nopass ~* &* +@all\n"

func TestLoadACL(t *testing.T) {
	r := NewRegistry(testCS, AllChannels)
	if _, _, err := r.SetUser("eve", "on"); err != nil {
		t.Fatal(err)
	}
	eve, def := r.Lookup("eve"), r.Default()
	gone, err := r.LoadACL("user.acl", []byte(userACL))
	if err != nil {
		t.Fatal(err)
	}
	if len(gone) != 1 || gone[0] != eve || !eve.Removed() || r.Lookup("eve") != nil {
		t.Fatal("old users must be removed")
	}
	if r.Default() != def || def.Removed() {
		t.Fatal("the default account must survive ACL LOAD")
	}
	want := []string{
		"user alice on sanitize-payload #" + HashPassword("alice") + " ~* &* +@all",
		"user bob on sanitize-payload #" + HashPassword("bob") + " ~set* &* -@all +@set +acl",
		"user default on nopass sanitize-payload ~* &* +@all",
	}
	if got := r.List(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("List:\n%s", strings.Join(got, "\n"))
	}
	if r.Authenticate("alice", []byte("alice")) == nil || r.Authenticate("bob", []byte("bob")) == nil {
		t.Fatal("passwords")
	}
	bob := r.Lookup("bob").User()
	expectChecks(t, bob, map[string]denial{"sadd set 1 2 3": ok, "set key value": {DeniedCommand, 0}})

	// ACL SAVE then ACL LOAD gives the same users (and new accounts).
	if _, _, err := r.SetUser("eve", "+get", "allkeys", ">eve", "on", "(+set %W~w*)"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.SetUser("harry", "on", "nopass", "resetchannels", "&test", "+@all", "~*"); err != nil {
		t.Fatal(err)
	}
	saved := r.SaveACL()
	if !strings.HasSuffix(string(saved), "\n") || strings.Count(string(saved), "\n") != 5 {
		t.Fatalf("SaveACL:\n%s", saved)
	}
	before := r.List()
	alice := r.Lookup("alice")
	if _, err := r.LoadACL("user.acl", saved); err != nil {
		t.Fatal(err)
	}
	if strings.Join(r.List(), "\n") != strings.Join(before, "\n") || !alice.Removed() {
		t.Fatalf("save/load round trip:\n%s\n---\n%s", strings.Join(before, "\n"), strings.Join(r.List(), "\n"))
	}
	expectChecks(t, r.Lookup("harry").User(), map[string]denial{"publish test bar": ok, "publish test1 bar": {DeniedChannel, 1}})
}

func TestLoadACLErrors(t *testing.T) {
	const prefix = "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
	badHash := "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	for _, tc := range []struct {
		file string
		want string
	}{
		{userACL + "\nuser alice on nopass ~* -@all\n", "WARNING: Duplicate user 'alice' found on line 5. "},
		{userACL + "\nuser default on nopass ~* -@all\n", "WARNING: Duplicate user 'default' found on line 5. "},
		{"user alice on +nosuch +get +nosuch2 ~x\n",
			"users.acl:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. " +
				"users.acl:1: Error in applying operation '+nosuch2': Unknown command or category name in ACL. "},
		// Only the first other error of a line, and never the rule itself.
		{"user bob on >secret #bad %X~y\n", "users.acl:1: " + badHash + ". "},
		{"# a comment\n", "users.acl:1 should start with user keyword followed by the username. "},
		{"\n\nuser\n", "users.acl:3 should start with user keyword followed by the username. "},
		{"USER alice on\n", "users.acl:1 should start with user keyword followed by the username. "},
		{"user a\tb on\n", "'users.acl:1: username 'a\tb' contains invalid characters. "},
		{"user carol on (+get\n", "users.acl:1: Unmatched parenthesis in selector definition."},
		// Split on single spaces: the user is "" and "alice" a rule.
		{"user  alice on\n", "users.acl:1: Syntax error. "},
		{"user a on\nuser b (~* ~x) +nosuch\n",
			"users.acl:2: Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns. " +
				"users.acl:2: Error in applying operation '+nosuch': Unknown command or category name in ACL. "},
	} {
		r := NewRegistry(testCS, ResetChannels)
		if _, _, err := r.SetUser("keep", "on"); err != nil {
			t.Fatal(err)
		}
		before := strings.Join(r.List(), "\n")
		keep := r.Lookup("keep")
		gone, err := r.LoadACL("users.acl", []byte(tc.file))
		var le *LoadError
		if !errors.As(err, &le) || le.Error() != tc.want+prefix {
			t.Errorf("%q:\n got %v\nwant %s", tc.file, err, tc.want+prefix)
		}
		if gone != nil || keep.Removed() || strings.Join(r.List(), "\n") != before {
			t.Errorf("%q: a failed load changed the users", tc.file)
		}
	}
	if got := OpenFileError("users.acl", "No such file or directory").Error(); got != "Error loading ACLs, opening file 'users.acl': No such file or directory" {
		t.Fatal(got)
	}
}

func TestParseACLFile(t *testing.T) {
	// Blank lines, CRLF, surrounding blanks and a NUL end are fine.
	users, err := ParseACLFile(testCS, ResetChannels, "f", []byte("\r\n  user alice on nopass ~* +@all \r\n\n\tuser bob on\t\x00garbage"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, u := range users {
		lines = append(lines, u.ListLine())
	}
	// No default user in the file: a fresh one is added; alice gets no
	// channels under resetchannels (nodefaultuser.acl in acl.tcl).
	want := "user alice on nopass sanitize-payload ~* resetchannels +@all|user bob on sanitize-payload resetchannels -@all|user default on nopass sanitize-payload ~* &* +@all"
	if strings.Join(lines, "|") != want {
		t.Fatalf("got %s", strings.Join(lines, "|"))
	}
	// A default user in the file is used as written.
	users, err = ParseACLFile(testCS, ResetChannels, "f", []byte("user default on nopass ~* +@all"))
	if err != nil || len(users) != 1 || users[0].Info().Root.Channels != "" {
		t.Fatalf("default from file: %v", err)
	}
	// tests/assets/userwithselectors.acl.
	users, err = ParseACLFile(testCS, ResetChannels, "f", []byte("user alice on (+get ~rw*)\nuser bob on (+set %W~w*) (+get %R~r*)"))
	if err != nil {
		t.Fatal(err)
	}
	if s := users[0].Info().Selectors; len(s) != 1 || s[0].Commands != "-@all +get" || s[0].Keys != "~rw*" {
		t.Fatalf("alice: %+v", s)
	}
	if s := users[1].Info().Selectors; len(s) != 2 || s[0] != (SelectorInfo{"-@all +set", "%W~w*", ""}) || s[1] != (SelectorInfo{"-@all +get", "%R~r*", ""}) {
		t.Fatalf("bob: %+v", s)
	}
	// A file with only blank lines leaves just the default user.
	users, err = ParseACLFile(testCS, ResetChannels, "f", []byte("\n \n"))
	if err != nil || len(users) != 1 || users[0].Name() != "default" {
		t.Fatal("empty file")
	}
}

func TestConfigUsers(t *testing.T) {
	r := NewRegistry(testCS, ResetChannels)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Error in user declaration 'user': Syntax error"},
		{[]string{"foo", "%X~a"}, "Error in user declaration '%X~a': Syntax error"},
		{[]string{"foo", "on", "(+get", "~a"}, "Error in user declaration '(+get': Syntax error"},
		{[]string{"foo", "#abc"}, "Error in user declaration '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"},
	} {
		if err := r.AddConfigUser(tc.args); err == nil || err.Error() != tc.want {
			t.Errorf("%q: %v", tc.args, err)
		}
	}
	if r.ConfigUsers() != 0 {
		t.Fatal("invalid directives were queued")
	}
	for _, a := range [][]string{
		{"default", "on", "nopass", "~*", "+@all", "-flushdb"},
		{"alice", "on", ">pw", "(+get", "~k)"},
		{"carol"},
	} {
		if err := r.AddConfigUser(a); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.AddConfigUser([]string{"alice"}); err == nil || err.Error() != "Error in user declaration 'alice': Duplicate user found. A user can only be defined once in config files" {
		t.Fatalf("duplicate: %v", err)
	}
	if r.ConfigUsers() != 3 {
		t.Fatal("ConfigUsers")
	}
	def := r.Default()
	disabled, err := r.LoadConfigUsers()
	if err != nil || strings.Join(disabled, ",") != "carol" {
		t.Fatalf("LoadConfigUsers: %v %v", disabled, err)
	}
	if r.Default() != def || r.ConfigUsers() != 0 {
		t.Fatal("default account replaced or queue kept")
	}
	// The default user was reset first: no &* any more.
	if got := def.User().ListLine(); got != "user default on nopass sanitize-payload ~* resetchannels +@all -flushdb" {
		t.Fatalf("default: %s", got)
	}
	expectChecks(t, def.User(), map[string]denial{"flushdb": {DeniedCommand, 0}, "subscribe foo": {DeniedChannel, 1}})
	if r.Authenticate("alice", []byte("pw")) == nil || len(r.Lookup("alice").User().Selectors()) != 1 {
		t.Fatal("alice")
	}

	// Unknown commands pass the first check and fail when users are made;
	// then nothing changes.
	r = NewRegistry(testCS, ResetChannels)
	if err := r.AddConfigUser([]string{"ok", "on"}); err != nil {
		t.Fatal(err)
	}
	if err := r.AddConfigUser([]string{"u", "on", "+nosuch"}); err != nil {
		t.Fatal(err)
	}
	_, err = r.LoadConfigUsers()
	var ce *ConfigRuleError
	if !errors.As(err, &ce) || !errors.Is(err, ErrUnknownCommand) ||
		err.Error() != "Error loading ACL rule '+nosuch' for the user named 'u': Unknown command or category name in ACL" {
		t.Fatalf("unknown command: %v", err)
	}
	if r.Lookup("ok") != nil {
		t.Fatal("a failed LoadConfigUsers created users")
	}
	r = NewRegistry(testCS, ResetChannels)
	if err := r.AddConfigUser([]string{"a b", "on"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.LoadConfigUsers(); !errors.Is(err, ErrSpacesInCfgUser) {
		t.Fatalf("spaces: %v", err)
	}
}
