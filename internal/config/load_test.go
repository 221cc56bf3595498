package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadErrorFormat(t *testing.T) {
	e := &LoadError{Line: 3, Text: "port abc", Reason: "argument couldn't be parsed into an integer"}
	want := "*** FATAL CONFIG FILE ERROR (Redis 7.2.4) ***\n" +
		"Reading the configuration file, at line 3\n" +
		">>> 'port abc'\n" +
		"argument couldn't be parsed into an integer"
	if e.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", e.Error(), want)
	}
	e = &LoadError{Reason: "Can't open the log file: Permission denied"}
	if e.Error() != "*** FATAL CONFIG FILE ERROR (Redis 7.2.4) ***\nCan't open the log file: Permission denied" {
		t.Errorf("got %q", e.Error())
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		conf   string
		line   int
		text   string
		reason string
	}{
		{"# comment\n\nport abc\n", 3, "port abc", "argument couldn't be parsed into an integer"},
		{"port 7000\n  nosuch directive  \n", 2, "nosuch directive", "Bad directive or wrong number of arguments"},
		{"port\n", 1, "port", "wrong number of arguments"},
		{"port 1 2\n", 1, "port 1 2", "wrong number of arguments"},
		{"\r\n\t\n  # indented comment\nmaxmemory 1xb\r\n", 4, "maxmemory 1xb", "argument must be a memory value"},
		{"appendonly maybe", 1, "appendonly maybe", "argument must be 'yes' or 'no'"},
		{"save 10", 1, "save 10", "Invalid save parameters"},
		{"requirepass \"unterminated", 1, "requirepass \"unterminated", "Unbalanced quotes in configuration line"},
		{"loglevel loud", 1, "loglevel loud", "argument(s) must be one of the following: debug, verbose, notice, warning, nothing"},
		{"include", 1, "include", "Bad directive or wrong number of arguments"},
		{"rename-command FLUSHALL", 1, "rename-command FLUSHALL", "Bad directive or wrong number of arguments"},
		{"loadmodule /x.so", 1, "loadmodule /x.so", "loadmodule is not supported by this server"},
		{"mymod.opt", 1, "mymod.opt", "Module config specified without value"},
		{"mymod.opt 1", 1, "mymod.opt 1", "Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting"},
		{"sentinel monitor m 1.2.3.4 6379 2", 1, "sentinel monitor m 1.2.3.4 6379 2", "sentinel directive while not in sentinel mode"},
		{"list-max-ziplist-entries 1 2", 1, "list-max-ziplist-entries 1 2", "Bad directive or wrong number of arguments"},
		{"notify-keyspace-events KEX?", 1, "notify-keyspace-events KEX?", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."},
		{"logfile /nonexistent-dir-xyz/redis.log", 0, "", "Can't open the log file: No such file or directory"},
	}
	for _, tt := range tests {
		err := New().LoadString(tt.conf)
		var le *LoadError
		if !errors.As(err, &le) {
			t.Errorf("%q: got %v", tt.conf, err)
			continue
		}
		if le.Line != tt.line || le.Text != tt.text || le.Reason != tt.reason {
			t.Errorf("%q: got line %d %q %q, want line %d %q %q", tt.conf, le.Line, le.Text, le.Reason, tt.line, tt.text, tt.reason)
		}
	}
}

func TestLoadAccepts(t *testing.T) {
	conf := strings.Join([]string{
		"# a comment",
		"PORT 7000",
		"Maxmemory 2GB",
		`requirepass "p a\x41ss"`,
		"slaveof 127.0.0.1 6380",
		"list-max-ziplist-entries 512", // deprecated, ignored
		"list-max-ziplist-value 64",
		"lua-replicate-commands yes",
		"sentinel",
		"hz 0",
		"bind 127.0.0.1 ::1",
		"   ",
		`shutdown-on-sigint "nosave now"`,
	}, "\n")
	c := New()
	if err := c.LoadString(conf); err != nil {
		t.Fatal(err)
	}
	got := c.Get([]string{"port", "maxmemory", "requirepass", "replicaof", "hz", "bind", "shutdown-on-sigint"})
	want := []string{"7000", "2147483648", "p aAss", "127.0.0.1 6380", "1", "127.0.0.1 ::1", "nosave now"}
	for i, nv := range got {
		if nv.Value != want[i] {
			t.Errorf("%s = %q, want %q", nv.Name, nv.Value, want[i])
		}
	}
	// Immutable directives can be set from files.
	if err := c.LoadString("databases 4\ndaemonize yes"); err != nil || c.Int("databases") != 4 {
		t.Errorf("immutable from file: %v", err)
	}
	// cluster mode forces a single database
	if err := c.LoadString("replicaof no one\ncluster-enabled yes"); err != nil || c.Int("databases") != 1 {
		t.Errorf("cluster databases: %v %d", err, c.Int("databases"))
	}
}

func TestDirectiveHandlers(t *testing.T) {
	c := New()
	var renames [][]string
	c.HandleDirective("rename-command", func(args []string) error {
		if args[0] == "NOSUCH" {
			return errors.New("No such command in rename-command")
		}
		renames = append(renames, args)
		return nil
	})
	if err := c.LoadString("rename-command FLUSHALL \"\"\nrename-command CONFIG cfg"); err != nil {
		t.Fatal(err)
	}
	if len(renames) != 2 || renames[0][0] != "FLUSHALL" || renames[0][1] != "" || renames[1][1] != "cfg" {
		t.Errorf("renames = %q", renames)
	}
	err := c.LoadString("\nrename-command NOSUCH x")
	var le *LoadError
	if !errors.As(err, &le) || le.Line != 2 || le.Reason != "No such command in rename-command" {
		t.Errorf("got %v", err)
	}
}

func TestLoadFileAndInclude(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "inc.conf"), []byte("maxmemory 1mb\n"), 0o644))
	must(t, os.Mkdir(filepath.Join(dir, "conf.d"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "conf.d", "a.conf"), []byte("hz 20\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "conf.d", "b.conf"), []byte("hz 30\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "bad.conf"), []byte("\n\nhz x\n"), 0o644))
	main := filepath.Join(dir, "main.conf")
	must(t, os.WriteFile(main, []byte("port 7000\ninclude "+filepath.Join(dir, "inc.conf")+
		"\ninclude "+filepath.Join(dir, "conf.d", "*.conf")+"\ninclude "+filepath.Join(dir, "empty.d", "*.conf")+"\n"), 0o644))
	c := New()
	if err := c.LoadFile(main); err != nil {
		t.Fatal(err)
	}
	if c.Int("port") != 7000 || c.Int("maxmemory") != 1<<20 || c.Int("hz") != 30 {
		t.Errorf("port=%d maxmemory=%d hz=%d", c.Int("port"), c.Int("maxmemory"), c.Int("hz"))
	}
	if c.ConfigFile() != main {
		t.Errorf("ConfigFile = %q", c.ConfigFile())
	}
	// Errors in included files report the included file's line numbers.
	err := New().LoadString("include " + filepath.Join(dir, "bad.conf"))
	var le *LoadError
	if !errors.As(err, &le) || le.Line != 3 || le.Text != "hz x" {
		t.Errorf("got %v", err)
	}
	// Relative includes are relative to dir.
	c = New()
	if err := c.LoadString("enable-protected-configs yes\ndir " + dir + "\ninclude inc.conf"); err != nil || c.Int("maxmemory") != 1<<20 {
		t.Errorf("relative include: %v", err)
	}
	// Missing files.
	err = New().LoadFile(filepath.Join(dir, "missing.conf"))
	if err == nil || err.Error() != "Fatal error, can't open config file '"+filepath.Join(dir, "missing.conf")+"': No such file or directory" {
		t.Errorf("got %v", err)
	}
	// Self-inclusion is bounded.
	loop := filepath.Join(dir, "loop.conf")
	must(t, os.WriteFile(loop, []byte("include "+loop+"\n"), 0o644))
	if err := New().LoadFile(loop); err == nil || !strings.Contains(err.Error(), "include nesting too deep") {
		t.Errorf("got %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestParseCommandLine(t *testing.T) {
	tests := []struct {
		args    []string
		file    bool
		stdin   bool
		options string
	}{
		{nil, false, false, ""},
		{[]string{"/etc/redis.conf"}, true, false, ""},
		{[]string{"--port", "7000"}, false, false, `port "7000" `},
		{[]string{"/etc/redis.conf", "--port", "7000", "--save", ""}, true, false, "port \"7000\" \nsave \"\" "},
		{[]string{"--save", "--loglevel", "verbose"}, false, false, "save \"\"\nloglevel \"verbose\" "},
		{[]string{"--loglevel", "verbose", "--save"}, false, false, "loglevel \"verbose\" \nsave \"\""},
		{[]string{"--port", "--bla", "--loglevel", "verbose"}, false, false, "port \"--bla\" \nloglevel \"verbose\" "},
		{[]string{"--maxmemory 700mb", "--maxmemory-policy volatile-lru"}, false, false, "maxmemory 700mb \nmaxmemory-policy volatile-lru "},
		{[]string{"-", "--port", "1"}, false, true, `port "1" `},
		{[]string{"/c.conf", "-"}, true, true, ""},
		{[]string{"--port", "1", "-", "2"}, false, false, `port "1" "-" "2" `},
		{[]string{"--sentinel", "--port", "1"}, false, false, "sentinel \nport \"1\" "},
		{[]string{"--requirepass", "a b\"c\n"}, false, false, `requirepass "a b\"c\n" `},
	}
	for _, tt := range tests {
		cl, err := ParseCommandLine(tt.args)
		if err != nil {
			t.Fatal(err)
		}
		if (cl.ConfigFile != "") != tt.file || cl.Stdin != tt.stdin || cl.Options != tt.options {
			t.Errorf("ParseCommandLine(%q) = %+v, want file %v stdin %v options %q", tt.args, cl, tt.file, tt.stdin, tt.options)
		}
	}
}

// TestLoadArgs replays the redis-server command line tests of Redis 7.2's
// introspection.tcl.
func TestLoadArgs(t *testing.T) {
	errCases := []struct {
		args []string
		want string // glob on the error text
	}{
		{[]string{"--invalid"}, "*Bad directive or wrong number of arguments*"},
		{[]string{"--port"}, "*'port'*wrong number of arguments*"},
		{[]string{"--port", "6380", "--loglevel"}, "*'loglevel'*wrong number of arguments*"},
		{[]string{"--port", "6379", "6380"}, `*'port "6379" "6380"'*wrong number of arguments*`},
		{[]string{"--port", "--loglevel", "verbose"}, `*'port "--loglevel" "verbose"'*wrong number of arguments*`},
		{[]string{"--port", "--bla", "--loglevel", "verbose"}, `*'port "--bla"'*argument couldn't be parsed into an integer*`},
		{[]string{"--logfile", "--my--log--file", "--loglevel", "--bla"}, `*'loglevel "--bla"'*argument(s) must be one of the following*`},
		{[]string{"--shutdown-on-sigint"}, "*'shutdown-on-sigint'*argument(s) must be one of the following*"},
		{[]string{"--shutdown-on-sigint", "now force", "--shutdown-on-sigterm"}, "*'shutdown-on-sigterm'*argument(s) must be one of the following*"},
		{[]string{"--replicaof", "127.0.0.1", "abc"}, `*'replicaof "127.0.0.1" "abc"'*Invalid master port*`},
		{[]string{"--replicaof", "--127.0.0.1", "abc"}, `*'replicaof "--127.0.0.1" "abc"'*Invalid master port*`},
		{[]string{"--replicaof", "--127.0.0.1", "--abc"}, `*'replicaof "--127.0.0.1"'*wrong number of arguments*`},
	}
	dir := t.TempDir()
	for _, tc := range errCases {
		// logfile points into the temp dir so that it can be created.
		c := New()
		must(t, c.LoadString("enable-protected-configs yes\ndir "+dir))
		err := c.LoadArgs(tc.args)
		if err == nil || !GlobMatchString(tc.want, err.Error(), false) {
			t.Errorf("LoadArgs(%q) = %v, want %s", tc.args, err, tc.want)
		}
	}

	okCases := []struct {
		args []string
		want map[string]string
	}{
		{[]string{"--maxmemory 700mb", "--maxmemory-policy volatile-lru"}, map[string]string{"maxmemory": "734003200", "maxmemory-policy": "volatile-lru"}},
		{[]string{"--proc-title-template", "--my--title--template", "--loglevel", "verbose"}, map[string]string{"proc-title-template": "--my--title--template", "loglevel": "verbose"}},
		{[]string{"--proc-title-template --my--title--template", "--loglevel verbose"}, map[string]string{"proc-title-template": "--my--title--template", "loglevel": "verbose"}},
		{[]string{"--save", "--loglevel", "verbose"}, map[string]string{"save": "", "loglevel": "verbose"}},
		{[]string{"--loglevel", "verbose", "--save"}, map[string]string{"save": "", "loglevel": "verbose"}},
		{[]string{"--save", "", "--loglevel", "verbose"}, map[string]string{"save": "", "loglevel": "verbose"}},
		{[]string{"--loglevel", "verbose", "--save", ""}, map[string]string{"save": "", "loglevel": "verbose"}},
		{[]string{"--proc-title-template", "--save", "--save", "", "--loglevel", "verbose"}, map[string]string{"proc-title-template": "--save", "save": "", "loglevel": "verbose"}},
		{[]string{"--shutdown-on-sigint", "nosave", "force", "now", "--shutdown-on-sigterm", "nosave force"}, map[string]string{"shutdown-on-sigint": "nosave now force", "shutdown-on-sigterm": "nosave force"}},
		{[]string{"--save", "60 10 300 100"}, map[string]string{"save": "60 10 300 100"}},
	}
	for _, tc := range okCases {
		c := New()
		if err := c.LoadArgs(tc.args); err != nil {
			t.Errorf("LoadArgs(%q): %v", tc.args, err)
			continue
		}
		for k, v := range tc.want {
			if got := getOne(t, c, k); got != v {
				t.Errorf("LoadArgs(%q): %s = %q, want %q", tc.args, k, got, v)
			}
		}
	}

	// "wrong usage that we support anyway": words after the file before any
	// --option become a line of their own.
	conf := filepath.Join(dir, "default.conf")
	must(t, os.WriteFile(conf, []byte("port 7777\n"), 0o644))
	c := New()
	if err := c.LoadArgs([]string{conf, "loglevel", "verbose", "--maxmemory '700mb'", "--maxmemory-policy 'volatile-lru'"}); err != nil {
		t.Fatal(err)
	}
	if c.String("loglevel") != "verbose" || c.Int("maxmemory") != 734003200 || c.String("maxmemory-policy") != "volatile-lru" || c.Int("port") != 7777 {
		t.Errorf("got loglevel=%s maxmemory=%d policy=%s", c.String("loglevel"), c.Int("maxmemory"), c.String("maxmemory-policy"))
	}
	if c.ConfigFile() != conf {
		t.Errorf("ConfigFile = %q", c.ConfigFile())
	}
	// Options override the file; line numbers continue after the file
	// (plus the separating newline).
	err := New().LoadArgs([]string{conf, "--port", "x"})
	var le *LoadError
	if !errors.As(err, &le) || le.Line != 3 || le.Text != `port "x"` {
		t.Errorf("got %v", err)
	}
}

func TestLoadSourcesStdin(t *testing.T) {
	c := New()
	opts := "hz 50"
	if err := c.LoadSources("", strings.NewReader("port 1234\nhz 40\n"), &opts); err != nil {
		t.Fatal(err)
	}
	if c.Int("port") != 1234 || c.Int("hz") != 50 || c.ConfigFile() != "" {
		t.Errorf("port=%d hz=%d", c.Int("port"), c.Int("hz"))
	}
}

// Without a handler, rename-command directives are recorded in order,
// with where they were read, for the server to apply.
func TestRenamedCommandsRecorded(t *testing.T) {
	c := New()
	if err := c.LoadString("port 1\nrename-command FLUSHALL \"\"\nrename-command config cfg"); err != nil {
		t.Fatal(err)
	}
	got := c.RenamedCommands()
	if len(got) != 2 || got[0].From != "FLUSHALL" || got[0].To != "" || got[1].To != "cfg" ||
		got[0].At.Line != 2 || got[1].At.Text != "rename-command config cfg" {
		t.Fatalf("%+v", got)
	}
}

// Without a handler, "user" directives are recorded in order, with where
// they were read, for the server to create the users.
func TestUserDirectivesRecorded(t *testing.T) {
	c := New()
	if err := c.LoadString("port 1\nuser alice on >pw ~* +@all\nuser default off"); err != nil {
		t.Fatal(err)
	}
	got := c.UserDirectives()
	if len(got) != 2 || strings.Join(got[0].Args, " ") != "alice on >pw ~* +@all" || got[0].At.Line != 2 ||
		got[1].At.Text != "user default off" {
		t.Fatalf("%+v", got)
	}
}
