package config

import (
	"strings"
	"testing"
)

// setGet sets one directive with CONFIG SET semantics and returns the value
// CONFIG GET reports afterwards, or the error text.
func setGet(t *testing.T, c *Config, name, value string) string {
	t.Helper()
	if err := c.Set([][2]string{{name, value}}); err != nil {
		return "error: " + err.Error()
	}
	return getOne(t, c, name)
}

func getOne(t *testing.T, c *Config, name string) string {
	t.Helper()
	res := c.Get([]string{name})
	if len(res) != 1 {
		t.Fatalf("Get(%q) returned %v", name, res)
	}
	return res[0].Value
}

func failedMsg(name, reason string) string {
	return "error: ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + reason
}

type setCase struct {
	name, value, want string
}

func runSetCases(t *testing.T, cases []setCase) {
	t.Helper()
	for _, tc := range cases {
		c := New()
		if got := setGet(t, c, tc.name, tc.value); got != tc.want {
			t.Errorf("CONFIG SET %s %q: got %q, want %q", tc.name, tc.value, got, tc.want)
		}
	}
}

func TestSetBool(t *testing.T) {
	runSetCases(t, []setCase{
		{"protected-mode", "no", "no"},
		{"protected-mode", "NO", "no"},
		{"protected-mode", "Yes", "yes"},
		{"activerehashing", "1", failedMsg("activerehashing", "argument must be 'yes' or 'no'")},
		{"activerehashing", "", failedMsg("activerehashing", "argument must be 'yes' or 'no'")},
		{"slave-read-only", "no", "no"},
		{"daemonize", "yes", failedMsg("daemonize", "can't set immutable config")},
	})
}

func TestSetInt(t *testing.T) {
	runSetCases(t, []setCase{
		{"port", "7000", "7000"},
		{"port", "0", "0"},
		{"port", "65535", "65535"},
		{"port", "65536", failedMsg("port", "argument must be between 0 and 65535 inclusive")},
		{"port", "-1", failedMsg("port", "argument must be between 0 and 65535 inclusive")},
		{"port", "abc", failedMsg("port", "argument couldn't be parsed into an integer")},
		{"port", "07000", failedMsg("port", "argument couldn't be parsed into an integer")},
		{"port", " 7000", failedMsg("port", "argument couldn't be parsed into an integer")},
		{"port", "+7000", failedMsg("port", "argument couldn't be parsed into an integer")},
		{"port", "1k", failedMsg("port", "argument couldn't be parsed into an integer")},
		{"port", "", failedMsg("port", "argument couldn't be parsed into an integer")},
		{"timeout", "2147483647", "2147483647"},
		{"timeout", "2147483648", failedMsg("timeout", "argument must be between 0 and 2147483647 inclusive")},
		{"list-max-listpack-size", "-5", "-5"},
		{"list-max-ziplist-size", "-2147483648", "-2147483648"},
		{"slowlog-log-slower-than", "-1", "-1"},
		{"slowlog-log-slower-than", "-2", failedMsg("slowlog-log-slower-than", "argument must be between -1 and 9223372036854775807 inclusive")},
		{"slowlog-log-slower-than", "9223372036854775808", failedMsg("slowlog-log-slower-than", "argument couldn't be parsed into an integer")},
		// unsigned C types compare bounds as unsigned
		{"maxclients", "-1", failedMsg("maxclients", "argument must be between 1 and 4294967295 inclusive")},
		{"maxclients", "0", failedMsg("maxclients", "argument must be between 1 and 4294967295 inclusive")},
		{"maxclients", "4294967295", "4294967295"},
		{"hash-max-listpack-entries", "-1", failedMsg("hash-max-listpack-entries", "argument must be between 0 and 9223372036854775807 inclusive")},
		{"hash-max-ziplist-entries", "1000", "1000"},
		// unsigned long is checked as signed in Redis 7.2
		{"slowlog-max-len", "-1", failedMsg("slowlog-max-len", "argument must be between 0 and 9223372036854775807 inclusive")},
		{"lua-time-limit", "100", "100"},
		{"active-expire-effort", "11", failedMsg("active-expire-effort", "argument must be between 1 and 10 inclusive")},
		{"databases", "4", failedMsg("databases", "can't set immutable config")},
	})
}

func TestSetHzIsClamped(t *testing.T) {
	runSetCases(t, []setCase{
		{"hz", "100", "100"},
		{"hz", "1000", "500"},
		{"hz", "0", "1"},
		{"hz", "-1", failedMsg("hz", "argument must be between 0 and 2147483647 inclusive")},
	})
}

func TestSetMemory(t *testing.T) {
	runSetCases(t, []setCase{
		{"maxmemory", "1gb", "1073741824"},
		{"maxmemory", "1GB", "1073741824"},
		{"maxmemory", "1Gb", "1073741824"},
		{"maxmemory", "1g", "1000000000"},
		{"maxmemory", "100mb", "104857600"},
		{"maxmemory", "100m", "100000000"},
		{"maxmemory", "1kb", "1024"},
		{"maxmemory", "1k", "1000"},
		{"maxmemory", "7b", "7"},
		{"maxmemory", "12345", "12345"},
		{"maxmemory", "", "0"},   // memtoull: no digits means 0
		{"maxmemory", "mb", "0"}, // ...
		{"maxmemory", "18446744073709551615", "18446744073709551615"},
		{"maxmemory", "-1", failedMsg("maxmemory", "argument must be a memory value")},
		{"maxmemory", "1.5gb", failedMsg("maxmemory", "argument must be a memory value")},
		{"maxmemory", "1 gb", failedMsg("maxmemory", "argument must be a memory value")},
		{"maxmemory", "1tb", failedMsg("maxmemory", "argument must be a memory value")},
		{"maxmemory", "foo", failedMsg("maxmemory", "argument must be a memory value")},
		{"proto-max-bulk-len", "1k", failedMsg("proto-max-bulk-len", "argument must be between 1048576 and 9223372036854775807 inclusive")},
		{"proto-max-bulk-len", "2mb", "2097152"},
		{"proto-max-bulk-len", "18446744073709551615", failedMsg("proto-max-bulk-len", "argument must be between 1048576 and 9223372036854775807 inclusive")},
		{"hash-max-ziplist-value", "1kb", "1024"},
		{"client-query-buffer-limit", "invalid", failedMsg("client-query-buffer-limit", "argument must be a memory value")},
	})
}

func TestSetMemoryPercent(t *testing.T) {
	runSetCases(t, []setCase{
		{"maxmemory-clients", "10%", "10%"},
		{"maxmemory-clients", "100%", "100%"},
		{"maxmemory-clients", "0%", "0"},
		{"maxmemory-clients", "101%", failedMsg("maxmemory-clients", "percentage argument must be less or equal to 100")},
		{"maxmemory-clients", "200%", failedMsg("maxmemory-clients", "percentage argument must be less or equal to 100")},
		{"maxmemory-clients", "1mb", "1048576"},
		{"maxmemory-clients", "-5%", failedMsg("maxmemory-clients", "argument must be a memory or percent value")},
		{"maxmemory-clients", "%", failedMsg("maxmemory-clients", "argument must be a memory or percent value")},
		{"maxmemory-clients", "abc", failedMsg("maxmemory-clients", "argument must be a memory or percent value")},
	})
	c := New()
	if err := c.Set([][2]string{{"maxmemory-clients", "10%"}}); err != nil {
		t.Fatal(err)
	}
	if got := c.Int("maxmemory-clients"); got != -10 {
		t.Errorf("Int(maxmemory-clients) = %d, want -10", got)
	}
}

func TestOctal(t *testing.T) {
	tests := []struct{ line, want string }{
		{"unixsocketperm 700", "700"},
		{"unixsocketperm 0777", "777"},
		{"unixsocketperm 0", "0"},
		{"unixsocketperm 800", "error: argument couldn't be parsed as an octal number"},
		{"unixsocketperm 1000", "error: argument must be between 0 and 777 inclusive"},
		{"unixsocketperm -1", "error: argument must be between 0 and 777 inclusive"},
	}
	for _, tt := range tests {
		c := New()
		got := ""
		if err := c.LoadString(tt.line); err != nil {
			got = "error: " + err.(*LoadError).Reason
		} else {
			got = getOne(t, c, "unixsocketperm")
		}
		if got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.line, got, tt.want)
		}
	}
	c := New()
	if err := c.LoadString("unixsocketperm 755"); err != nil {
		t.Fatal(err)
	}
	if c.Int("unixsocketperm") != 0o755 {
		t.Errorf("Int(unixsocketperm) = %o", c.Int("unixsocketperm"))
	}
	if got := setGet(t, c, "unixsocketperm", "700"); got != failedMsg("unixsocketperm", "can't set immutable config") {
		t.Errorf("got %q", got)
	}
}

func TestSetEnum(t *testing.T) {
	policies := "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
	shutdown := "argument(s) must be one of the following: default, save, nosave, now, force"
	runSetCases(t, []setCase{
		{"maxmemory-policy", "allkeys-lru", "allkeys-lru"},
		{"maxmemory-policy", "ALLKEYS-LRU", "allkeys-lru"},
		{"maxmemory-policy", "lru", failedMsg("maxmemory-policy", policies)},
		{"maxmemory-policy", "allkeys-lru volatile-lru", failedMsg("maxmemory-policy", policies)},
		{"loglevel", "warning", "warning"},
		{"loglevel", "nothing", "nothing"},
		{"appendfsync", "always", "always"},
		{"oom-score-adj", "relative", "yes"}, // first name of the value
		{"oom-score-adj", "absolute", "absolute"},
		{"acl-pubsub-default", "allchannels", "allchannels"},
		{"shutdown-on-sigint", "save now", "save now"},
		{"shutdown-on-sigint", "now save", "save now"},
		{"shutdown-on-sigint", "force nosave now", "nosave now force"},
		{"shutdown-on-sigint", "default", "default"},
		{"shutdown-on-sigint", "default save", "save"},
		{"shutdown-on-sigint", "save nosave", failedMsg("shutdown-on-sigint", "shutdown options SAVE and NOSAVE can't be used simultaneously")},
		{"shutdown-on-sigint", "", failedMsg("shutdown-on-sigint", shutdown)},
		{"shutdown-on-sigint", "save bogus", failedMsg("shutdown-on-sigint", shutdown)},
		{"enable-debug-command", "yes", failedMsg("enable-debug-command", "can't set immutable config")},
	})
	c := New()
	setGet(t, c, "maxmemory-policy", "allkeys-lfu")
	if c.Int("maxmemory-policy") != PolicyAllkeysLFU {
		t.Errorf("Int(maxmemory-policy) = %d", c.Int("maxmemory-policy"))
	}
	setGet(t, c, "shutdown-on-sigterm", "nosave now")
	if c.Int("shutdown-on-sigterm") != ShutdownNoSave|ShutdownNow {
		t.Errorf("Int(shutdown-on-sigterm) = %d", c.Int("shutdown-on-sigterm"))
	}
}

func TestSetString(t *testing.T) {
	runSetCases(t, []setCase{
		{"requirepass", "s3cr3t", "s3cr3t"},
		{"requirepass", "", ""},
		{"masterauth", "a b", "a b"},
		{"replica-announce-ip", "10.0.0.1", "10.0.0.1"},
		{"slave-announce-ip", "10.0.0.2", "10.0.0.2"},
		{"cluster-announce-hostname", "my-host.example", "my-host.example"},
		{"cluster-announce-hostname", "my_host", failedMsg("cluster-announce-hostname", "Hostnames may only contain alphanumeric characters, hyphens or dots")},
		{"cluster-announce-hostname", strings.Repeat("a", 256), failedMsg("cluster-announce-hostname", "Hostnames must be less than 256 characters")},
		{"cluster-announce-human-nodename", "node 1", "node 1"},
		{"cluster-announce-human-nodename", "node#1", failedMsg("cluster-announce-human-nodename", "Announced human node name contained invalid character")},
		{"proc-title-template", "{title} {port}", "{title} {port}"},
		{"proc-title-template", "{title} {{literal", "{title} {{literal"},
		{"proc-title-template", "{title} {bogus}", failedMsg("proc-title-template", "template format is invalid or contains unknown variables")},
		{"proc-title-template", "{title", failedMsg("proc-title-template", "template format is invalid or contains unknown variables")},
		{"proc-title-template", "{title}", failedMsg("proc-title-template", "template format is invalid or contains unknown variables")},
		{"proc-title-template", "", failedMsg("proc-title-template", "template format is invalid or contains unknown variables")},
		{"appendfilename", "x.aof", failedMsg("appendfilename", "can't set immutable config")},
		{"dbfilename", "x.rdb", failedMsg("dbfilename", "can't set protected config")},
	})
	for _, tc := range []struct{ line, reason string }{
		{`appendfilename ""`, "appendfilename can't be empty"},
		{`appendfilename a/b`, "appendfilename can't be a path, just a filename"},
		{`appenddirname ""`, "appenddirname can't be empty"},
		{`appenddirname a\b`, "appenddirname can't be a path, just a dirname"},
		{`dbfilename /tmp/x.rdb`, "dbfilename can't be a path, just a filename"},
	} {
		err := New().LoadString(tc.line)
		if le, ok := err.(*LoadError); !ok || le.Reason != tc.reason {
			t.Errorf("%s: got %v, want reason %q", tc.line, err, tc.reason)
		}
	}
}

func TestSave(t *testing.T) {
	runSetCases(t, []setCase{
		{"save", "", ""},
		{"save", "3600 1 300 100 60 10000", "3600 1 300 100 60 10000"},
		{"save", "100 10", "100 10"},
		{"save", "100", failedMsg("save", "Invalid save parameters")},
		{"save", "0 10", failedMsg("save", "Invalid save parameters")},
		{"save", "10 -1", failedMsg("save", "Invalid save parameters")},
		{"save", "10 x", failedMsg("save", "Invalid save parameters")},
		{"save", "10  1", failedMsg("save", "Invalid save parameters")}, // double space: empty argument
		{"save", "10 0", "10 0"},
	})
	tests := []struct{ conf, want string }{
		{"", "3600 1 300 100 60 10000"},
		{"save 900 1", "900 1"},
		{"save 900 1\nsave 300 10\n", "900 1 300 10"},
		{"save 900 1 300 10", "900 1 300 10"},
		{`save ""`, ""},
		{"save 900 1\nsave \"\"", ""},
		{"save \"\"\nsave 60 5", "60 5"},
		{`save "900 1 300 10"`, "900 1 300 10"}, // single argument is split again
	}
	for _, tt := range tests {
		c := New()
		if err := c.LoadString(tt.conf); err != nil {
			t.Fatalf("%q: %v", tt.conf, err)
		}
		if got := getOne(t, c, "save"); got != tt.want {
			t.Errorf("%q: save = %q, want %q", tt.conf, got, tt.want)
		}
	}
	c := New()
	if err := c.LoadString("save 900 1\nsave 300 10"); err != nil {
		t.Fatal(err)
	}
	want := []SaveParam{{900, 1}, {300, 10}}
	if got := c.SaveParams(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("SaveParams = %v", got)
	}
	// CONFIG SET replaces rather than appends.
	if got := setGet(t, c, "save", "60 1"); got != "60 1" {
		t.Errorf("got %q", got)
	}
}

func TestBind(t *testing.T) {
	runSetCases(t, []setCase{
		{"bind", "0.0.0.0", "0.0.0.0"},
		{"bind", "1.2.3.4 ::1", "1.2.3.4 ::1"},
		{"bind", "", ""},
		{"bind", strings.TrimSpace(strings.Repeat("1.1.1.1 ", 16)), strings.TrimSpace(strings.Repeat("1.1.1.1 ", 16))},
		{"bind", strings.TrimSpace(strings.Repeat("1.1.1.1 ", 17)), failedMsg("bind", "Too many bind addresses specified.")},
	})
	c := New()
	if got := c.Strings("bind"); len(got) != 2 || got[0] != "*" || got[1] != "-::*" {
		t.Errorf("default bind = %q", got)
	}
	if err := c.LoadString("bind * -::*"); err != nil {
		t.Fatal(err)
	}
	if got := c.Strings("bind"); len(got) != 2 || got[0] != "*" || got[1] != "-::*" {
		t.Errorf("bind = %q", got)
	}
}

func TestClientOutputBufferLimit(t *testing.T) {
	def := "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
	wrongNum := "Wrong number of arguments in buffer limit configuration."
	badClass := "Invalid client class specified in buffer limit configuration."
	badVal := "Error in hard, soft or soft_seconds setting in buffer limit configuration."
	runSetCases(t, []setCase{
		{"client-output-buffer-limit", "normal 1mb 2mb 3", "normal 1048576 2097152 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60"},
		{"client-output-buffer-limit", "replica 1gb 0 0", "normal 0 0 0 slave 1073741824 0 0 pubsub 33554432 8388608 60"},
		{"client-output-buffer-limit", "SLAVE 1 2 3 pubsub 4 5 6", "normal 0 0 0 slave 1 2 3 pubsub 4 5 6"},
		{"client-output-buffer-limit", "", def},
		{"client-output-buffer-limit", "normal 1 2", failedMsg("client-output-buffer-limit", wrongNum)},
		{"client-output-buffer-limit", "master 0 0 0", failedMsg("client-output-buffer-limit", badClass)},
		{"client-output-buffer-limit", "normal x 0 0", failedMsg("client-output-buffer-limit", badVal)},
		{"client-output-buffer-limit", "normal 0 0 -1", failedMsg("client-output-buffer-limit", badVal)},
		{"client-output-buffer-limit", "normal 0 0 1s", failedMsg("client-output-buffer-limit", badVal)},
		// atomic: an error in the second class leaves the first unchanged
		{"client-output-buffer-limit", "normal 1 1 1 pubsub 0 0 x", failedMsg("client-output-buffer-limit", badVal)},
	})
	c := New()
	if err := c.LoadString("client-output-buffer-limit pubsub 64mb 16mb 90"); err != nil {
		t.Fatal(err)
	}
	got := c.ClientOutputBufferLimits()[ClientPubSub]
	if got != (ClientBufferLimit{64 << 20, 16 << 20, 90}) {
		t.Errorf("pubsub limits = %+v", got)
	}
}

func TestOOMScoreAdjValues(t *testing.T) {
	bad := "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
	runSetCases(t, []setCase{
		{"oom-score-adj-values", "0 200 800", "0 200 800"},
		{"oom-score-adj-values", "-2000 0 2000", "-2000 0 2000"},
		{"oom-score-adj-values", "1 1 1", "1 1 1"},
		{"oom-score-adj-values", "0 200", failedMsg("oom-score-adj-values", "wrong number of arguments")},
		{"oom-score-adj-values", "", failedMsg("oom-score-adj-values", "wrong number of arguments")},
		{"oom-score-adj-values", "0 200 2001", failedMsg("oom-score-adj-values", bad)},
		{"oom-score-adj-values", "0 x 1", failedMsg("oom-score-adj-values", bad)},
	})
	var warnings []string
	c := New()
	c.SetLogger(func(m string) { warnings = append(warnings, m) })
	setGet(t, c, "oom-score-adj-values", "800 200 0")
	if len(warnings) != 1 {
		t.Errorf("warnings = %q", warnings)
	}
}

func TestNotifyKeyspaceEvents(t *testing.T) {
	invalid := failedMsg("notify-keyspace-events", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
	runSetCases(t, []setCase{
		{"notify-keyspace-events", "KEA", "AKE"},
		{"notify-keyspace-events", "AKE", "AKE"},
		{"notify-keyspace-events", "Ex", "xE"},
		{"notify-keyspace-events", "mK$", "$Km"},
		{"notify-keyspace-events", "Kg$lshzxetd", "AK"},
		{"notify-keyspace-events", "Elg", "glE"},
		{"notify-keyspace-events", "nE", "nE"},
		{"notify-keyspace-events", "An", "A"}, // like Redis, n is not shown next to A
		{"notify-keyspace-events", "KK", "K"},
		{"notify-keyspace-events", "", ""},
		{"notify-keyspace-events", "Q", invalid},
		{"notify-keyspace-events", "K E", invalid},
	})
	c := New()
	h := c.IntHandle("notify-keyspace-events")
	setGet(t, c, "notify-keyspace-events", "Kx")
	if h.Load() != NotifyKeyspace|NotifyExpired || c.NotifyKeyspaceEvents() != h.Load() {
		t.Errorf("flags = %b", h.Load())
	}
}

func TestReplicaOf(t *testing.T) {
	tests := []struct{ conf, want string }{
		{"replicaof 10.0.0.1 6380", "10.0.0.1 6380"},
		{"slaveof 10.0.0.1 6380", "10.0.0.1 6380"},
		{"replicaof 10.0.0.1 6380\nreplicaof no one", ""},
		{"replicaof 10.0.0.1 70000", "error: Invalid master port"},
		{"replicaof 10.0.0.1 x", "error: Invalid master port"},
		{"replicaof 10.0.0.1", "error: wrong number of arguments"},
		{"replicaof 10.0.0.1 6379\ncluster-enabled yes", "error: replicaof directive not allowed in cluster mode"},
	}
	for _, tt := range tests {
		c := New()
		got := ""
		if err := c.LoadString(tt.conf); err != nil {
			got = "error: " + err.(*LoadError).Reason
		} else {
			got = getOne(t, c, "replicaof")
			if alias := getOne(t, c, "slaveof"); alias != got {
				t.Errorf("slaveof = %q, replicaof = %q", alias, got)
			}
		}
		if got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.conf, got, tt.want)
		}
	}
	c := New()
	if got := setGet(t, c, "replicaof", "1.2.3.4 5"); got != failedMsg("replicaof", "can't set immutable config") {
		t.Errorf("got %q", got)
	}
	c.SetReplicaOf("1.2.3.4", 5)
	if h, p, ok := c.ReplicaOf(); !ok || h != "1.2.3.4" || p != 5 {
		t.Errorf("ReplicaOf = %q %d %v", h, p, ok)
	}
	c.SetReplicaOf("", 0)
	if _, _, ok := c.ReplicaOf(); ok {
		t.Errorf("still a replica")
	}
}

func TestLatencyTrackingInfoPercentiles(t *testing.T) {
	runSetCases(t, []setCase{
		{"latency-tracking-info-percentiles", "50 99.9", "50 99.9"},
		{"latency-tracking-info-percentiles", "0 100 12.5", "0 100 12.5"},
		{"latency-tracking-info-percentiles", "", ""},
		{"latency-tracking-info-percentiles", "101", failedMsg("latency-tracking-info-percentiles", "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")},
		{"latency-tracking-info-percentiles", "abc", failedMsg("latency-tracking-info-percentiles", "Invalid latency-tracking-info-percentiles parameters")},
	})
}

func TestDir(t *testing.T) {
	c := New()
	dir := tempDir(t)
	if got := setGet(t, c, "dir", dir); got != failedMsg("dir", "can't set protected config") {
		t.Fatalf("got %q", got)
	}
	if err := c.LoadString("enable-protected-configs yes"); err != nil {
		t.Fatal(err)
	}
	if got := setGet(t, c, "dir", dir); got != dir {
		t.Errorf("dir = %q, want %q", got, dir)
	}
	if err := c.LoadString("dir sub"); err == nil || err.(*LoadError).Reason != "No such file or directory" {
		t.Errorf("missing dir: %v", err)
	}
	if err := mkdir(dir + "/sub"); err != nil {
		t.Fatal(err)
	}
	if got := setGet(t, c, "dir", "sub"); got != dir+"/sub" {
		t.Errorf("relative dir = %q", got)
	}
	if got := setGet(t, c, "dir", ".."); got != dir || c.Dir() != dir {
		t.Errorf("dir .. = %q", got)
	}
	if err := writeFile(dir+"/f", ""); err != nil {
		t.Fatal(err)
	}
	if got := setGet(t, c, "dir", "f"); got != failedMsg("dir", "Not a directory") {
		t.Errorf("file as dir: %q", got)
	}
	if got := setGet(t, c, "dir", ""); got != failedMsg("dir", "No such file or directory") {
		t.Errorf("empty dir: %q", got)
	}
}

func TestProtectedLocal(t *testing.T) {
	c := New()
	if err := c.LoadString("enable-protected-configs local"); err != nil {
		t.Fatal(err)
	}
	err := c.SetWithOptions([][2]string{{"dbfilename", "x.rdb"}}, SetOptions{})
	if err == nil || !strings.Contains(err.Error(), "can't set protected config") {
		t.Errorf("remote client: %v", err)
	}
	if err := c.SetWithOptions([][2]string{{"dbfilename", "x.rdb"}}, SetOptions{LocalClient: true}); err != nil {
		t.Errorf("local client: %v", err)
	}
	if c.ProtectedActionAllowed("enable-debug-command", true) {
		t.Errorf("debug command allowed by default")
	}
}

func TestSetWhileLoading(t *testing.T) {
	c := New()
	err := c.SetWithOptions([][2]string{{"maxmemory", "1"}, {"appendonly", "yes"}}, SetOptions{Loading: true})
	if err != ErrLoading {
		t.Fatalf("got %v", err)
	}
	if err := c.SetWithOptions([][2]string{{"maxmemory", "1"}}, SetOptions{Loading: true}); err != nil {
		t.Fatal(err)
	}
}
