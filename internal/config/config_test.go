package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestDirectivesRegistry(t *testing.T) {
	ds := Directives()
	if len(ds) != 183 {
		t.Errorf("%d directives, want 183 (Redis 7.2.4 without LOG_REQ_RES)", len(ds))
	}
	c := New()
	seen := map[string]bool{}
	for _, d := range ds {
		for _, n := range []string{d.Name, d.Alias} {
			if n == "" {
				continue
			}
			if seen[n] || n != strings.ToLower(n) {
				t.Errorf("bad or duplicate name %q", n)
			}
			seen[n] = true
		}
		if d.Name == "dir" {
			continue
		}
		if got := getOne(t, c, d.Name); got != d.Default {
			t.Errorf("%s: CONFIG GET %q, Directive.Default %q", d.Name, got, d.Default)
		}
		if d.Kind == KindEnum && len(d.EnumValues) == 0 {
			t.Errorf("%s: enum without values", d.Name)
		}
	}
	for _, n := range implemented {
		if d, ok := Lookup(n); !ok || d.Name != n {
			t.Errorf("implemented lists unknown or non-canonical directive %q", n)
		}
	}
	aliases := map[string]string{
		"lua-time-limit":           "busy-reply-threshold",
		"slaveof":                  "replicaof",
		"hash-max-ziplist-entries": "hash-max-listpack-entries",
		"hash-max-ziplist-value":   "hash-max-listpack-value",
		"zset-max-ziplist-entries": "zset-max-listpack-entries",
		"zset-max-ziplist-value":   "zset-max-listpack-value",
		"list-max-ziplist-size":    "list-max-listpack-size",
		"slave-read-only":          "replica-read-only",
		"min-slaves-to-write":      "min-replicas-to-write",
	}
	for alias, name := range aliases {
		if d, ok := Lookup(alias); !ok || d.Name != name || d.Alias != alias {
			t.Errorf("Lookup(%q) = %+v", alias, d)
		}
	}
	d, _ := Lookup("MAXMEMORY")
	if d.Kind != KindMemory || d.Max != 1<<64-1 || !d.Unsigned {
		t.Errorf("maxmemory = %+v", d)
	}
	d, _ = Lookup("dir")
	if d.Default != "./" || d.Flags&Protected == 0 {
		t.Errorf("dir = %+v", d)
	}
	d, _ = Lookup("requirepass")
	if d.Flags&Sensitive == 0 {
		t.Errorf("requirepass not sensitive")
	}
	d, _ = Lookup("bind")
	if d.Default != "* -::*" || d.Kind != KindSpecial || d.Flags&MultiArg == 0 {
		t.Errorf("bind = %+v", d)
	}
	if _, ok := Lookup("nope"); ok {
		t.Errorf("Lookup(nope) succeeded")
	}
}

func names(nvs []NameValue) []string {
	var out []string
	for _, nv := range nvs {
		out = append(out, nv.Name)
	}
	return out
}

func TestGet(t *testing.T) {
	c := New()
	tests := []struct {
		patterns []string
		want     []string
	}{
		{[]string{"maxmemory"}, []string{"maxmemory"}},
		{[]string{"MAXMEMORY"}, []string{"MAXMEMORY"}}, // exact lookups echo the pattern
		{[]string{"maxmemory", "MAXMEMORY", "max*ory"}, []string{"maxmemory"}},
		{[]string{"nosuchthing"}, nil},
		{[]string{"slaveof"}, []string{"slaveof"}},
		{[]string{"*of"}, []string{"replicaof", "slaveof"}},
		{[]string{"maxmemory*"}, []string{"maxmemory-policy", "maxmemory-samples", "maxmemory-eviction-tenacity", "maxmemory", "maxmemory-clients"}},
		{[]string{"MAXMEMORY-P*"}, []string{"maxmemory-policy"}},
		{[]string{"hash-max-*-entries"}, []string{"hash-max-listpack-entries", "hash-max-ziplist-entries"}},
		{[]string{"key-load-delay"}, []string{"key-load-delay"}}, // hidden: exact only
		{[]string{"key-load-*"}, nil},
		{[]string{"port", "port", "p?rt"}, []string{"port"}},
		{[]string{"tls-p[a-z]rt"}, []string{"tls-port"}},
		{[]string{"max\\memory"}, nil}, // no glob character: exact lookup
		{[]string{"bind", "*bind*"}, []string{"bind", "bind-source-addr"}},
	}
	for _, tt := range tests {
		if got := names(c.Get(tt.patterns)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Get(%q) = %q, want %q", tt.patterns, got, tt.want)
		}
	}
	all := c.Get([]string{"*"})
	hidden := 0
	for _, d := range Directives() {
		if d.Flags&Hidden != 0 {
			hidden++
		}
	}
	want := 0
	for _, d := range Directives() {
		if d.Flags&Hidden == 0 {
			want++
			if d.Alias != "" {
				want++
			}
		}
	}
	if len(all) != want || hidden != 7 {
		t.Errorf("CONFIG GET * returned %d entries, want %d (hidden %d)", len(all), want, hidden)
	}
}

func TestSetErrors(t *testing.T) {
	tests := []struct {
		pairs [][2]string
		want  string
	}{
		{[][2]string{{"foo", "1"}}, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
		{[][2]string{{"maxmemory", "1"}, {"Foo", "1"}}, "ERR Unknown option or number of arguments for CONFIG SET - 'Foo'"},
		{[][2]string{{"maxmemory", "1"}, {"maxmemory", "2"}}, "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter"},
		{[][2]string{{"maxmemory", "1"}, {"MAXMEMORY", "2"}}, "ERR CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter"},
		{[][2]string{{"DAEMONIZE", "yes"}}, "ERR CONFIG SET failed (possibly related to argument 'DAEMONIZE') - can't set immutable config"},
		// the first problem wins
		{[][2]string{{"daemonize", "yes"}, {"foo", "1"}}, "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"},
		{[][2]string{{"foo", "1"}, {"daemonize", "yes"}}, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
		// name errors are reported before value errors
		{[][2]string{{"maxmemory", "bad"}, {"foo", "1"}}, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
		// value errors name the directive as registered (lower case, alias kept)
		{[][2]string{{"MAXMEMORY", "bad"}}, "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{[][2]string{{"Hash-Max-Ziplist-Entries", "x"}}, "ERR CONFIG SET failed (possibly related to argument 'hash-max-ziplist-entries') - argument couldn't be parsed into an integer"},
		// the Redis test "CONFIG SET rollback on set error"
		{[][2]string{{"maxmemory", "10000001"}, {"maxmemory-clients", "200%"}, {"client-query-buffer-limit", "invalid"}},
			"ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100"},
	}
	for _, tt := range tests {
		c := New()
		before := c.Get([]string{"*"})
		err := c.Set(tt.pairs)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Set(%q) = %v, want %q", tt.pairs, err, tt.want)
		}
		if after := c.Get([]string{"*"}); !reflect.DeepEqual(before, after) {
			t.Errorf("Set(%q) failed but changed the configuration", tt.pairs)
		}
	}
	// A directive and its alias are not duplicates; the last one wins.
	c := New()
	if err := c.Set([][2]string{{"hash-max-listpack-entries", "1"}, {"hash-max-ziplist-entries", "2"}}); err != nil {
		t.Fatal(err)
	}
	if c.Int("hash-max-listpack-entries") != 2 {
		t.Errorf("alias did not win")
	}
	if err := c.Set(nil); err != nil {
		t.Errorf("empty Set: %v", err)
	}
}

func TestSetMultiple(t *testing.T) {
	c := New()
	if err := c.Set([][2]string{{"maxmemory", "10000001"}, {"repl-backlog-size", "10000002"}, {"save", "3000 5"}}); err != nil {
		t.Fatal(err)
	}
	got := c.Get([]string{"maxmemory", "repl-backlog-size", "save"})
	want := []NameValue{{"maxmemory", "10000001"}, {"repl-backlog-size", "10000002"}, {"save", "3000 5"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v", got)
	}
}

func TestHooksAndRollback(t *testing.T) {
	c := New()
	var log []string
	record := func(name string) error {
		log = append(log, fmt.Sprintf("%s=%s", name, c.String(name)))
		return nil
	}
	c.OnChange("maxmemory", record)
	c.OnChange("hz", record)
	c.OnChange("busy-reply-threshold", record)
	failPort := true
	c.OnChange("port", func(name string) error {
		log = append(log, fmt.Sprintf("port=%d", c.Int("port")))
		if failPort && c.Int("port") == 7000 {
			return errors.New("Unable to listen on this port. Check server logs.")
		}
		return nil
	})

	// Hooks run once per changed directive, in argument order, after all
	// values are stored.
	if err := c.Set([][2]string{{"hz", "1000"}, {"maxmemory", "1mb"}, {"timeout", "5"}}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"hz=500", "maxmemory=1048576"}; !reflect.DeepEqual(log, want) {
		t.Errorf("hooks ran %q, want %q", log, want)
	}
	// Unchanged values do not run hooks; aliases reach the same hook.
	log = nil
	if err := c.Set([][2]string{{"maxmemory", "1048576"}, {"lua-time-limit", "10"}}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"busy-reply-threshold=10"}; !reflect.DeepEqual(log, want) {
		t.Errorf("hooks ran %q, want %q", log, want)
	}

	// A failing hook restores everything and re-runs the hooks that ran.
	log = nil
	err := c.Set([][2]string{{"maxmemory", "2mb"}, {"port", "7000"}, {"hz", "20"}})
	want := "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs."
	if err == nil || err.Error() != want {
		t.Fatalf("got %v", err)
	}
	if c.Int("maxmemory") != 1<<20 || c.Int("port") != 6379 || c.Int("hz") != 500 {
		t.Errorf("not rolled back: maxmemory=%d port=%d hz=%d", c.Int("maxmemory"), c.Int("port"), c.Int("hz"))
	}
	wantLog := []string{"maxmemory=2097152", "port=7000", "maxmemory=1048576", "port=6379"}
	if !reflect.DeepEqual(log, wantLog) {
		t.Errorf("hooks ran %q, want %q", log, wantLog)
	}

	// Hook error without a message.
	c.OnChange("timeout", func(string) error { return errors.New("") })
	if err := c.Set([][2]string{{"timeout", "1"}}); err == nil || err.Error() != "ERR CONFIG SET failed (possibly related to argument 'timeout')" {
		t.Errorf("got %v", err)
	}
}

func TestVolatileAndSpecialAlwaysChange(t *testing.T) {
	c := New()
	n := map[string]int{}
	for _, name := range []string{"tls-cert-file", "tls-protocols", "save", "oom-score-adj-values", "bind"} {
		c.OnChange(name, func(name string) error { n[name]++; return nil })
	}
	pairs := [][2]string{{"tls-cert-file", ""}, {"tls-protocols", ""}, {"save", "3600 1 300 100 60 10000"}, {"oom-score-adj-values", "0 200 800"}, {"bind", "127.0.0.1 -::1"}}
	if err := c.Set(pairs); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"tls-cert-file": 1, "save": 1, "bind": 1}
	if !reflect.DeepEqual(n, want) {
		t.Errorf("hooks = %v, want %v", n, want)
	}
}

func TestAccessorsAndHandles(t *testing.T) {
	c := New()
	port := c.IntHandle("port")
	prot := c.BoolHandle("protected-mode")
	pass := c.StringHandle("requirepass")
	mm := c.IntHandle("maxmemory")
	if port.Load() != 6379 || !prot.Load() || pass.Load() != "" {
		t.Fatal("bad defaults")
	}
	if err := c.Set([][2]string{{"port", "7001"}, {"protected-mode", "no"}, {"requirepass", "pw"}, {"maxmemory", "18446744073709551615"}}); err != nil {
		t.Fatal(err)
	}
	if port.Load() != 7001 || prot.Load() || pass.Load() != "pw" || mm.LoadUint() != 1<<64-1 {
		t.Errorf("handles did not follow")
	}
	if c.Uint("maxmemory") != 1<<64-1 || c.String("maxmemory") != "18446744073709551615" {
		t.Errorf("maxmemory accessors")
	}
	if c.String("maxmemory-policy") != "noeviction" || c.Int("maxmemory-policy") != PolicyNoEviction {
		t.Errorf("enum accessors")
	}
	if got := c.Strings("save"); !reflect.DeepEqual(got, []string{"3600", "1", "300", "100", "60", "10000"}) {
		t.Errorf("Strings(save) = %q", got)
	}
	if c.Int("loglevel") != LogNotice || c.Int("appendfsync") != FsyncEverySec {
		t.Errorf("enum values")
	}
	if got := c.OOMScoreAdjValues(); got != [3]int{0, 200, 800} {
		t.Errorf("oom values %v", got)
	}
	if got := c.LatencyTrackingInfoPercentiles(); !reflect.DeepEqual(got, []float64{50, 99, 99.9}) {
		t.Errorf("percentiles %v", got)
	}
	for _, f := range []func(){
		func() { c.Int("nope") },
		func() { c.Int("protected-mode") },
		func() { c.Bool("port") },
		func() { c.IntHandle("requirepass") },
		func() { c.BoolHandle("port") },
		func() { c.StringHandle("port") },
		func() { c.OnChange("nope", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			f()
		}()
	}
}

// TestConcurrentReadersAndSet is meaningful under -race.
func TestConcurrentReadersAndSet(t *testing.T) {
	c := New()
	hz := c.IntHandle("hz")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if v := hz.Load(); v < 1 || v > 500 {
					t.Errorf("hz = %d", v)
					return
				}
				_ = c.Get([]string{"*"})
				_ = c.SaveParams()
				_ = c.Strings("bind")
				_ = c.String("requirepass")
			}
		}()
	}
	for i := 0; i < 300; i++ {
		pairs := [][2]string{
			{"hz", fmt.Sprint(1 + i%100)},
			{"save", fmt.Sprintf("%d 1", 1+i)},
			{"bind", fmt.Sprintf("10.0.0.%d", i%250)},
			{"requirepass", fmt.Sprint(i)},
		}
		if err := c.Set(pairs); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}

// Given tells a directive the user set from its default, even when the
// value is the default's.
func TestGiven(t *testing.T) {
	c := New()
	if c.Given("dir") || c.Given("port") {
		t.Fatal("defaults reported as given")
	}
	if err := c.LoadArgs([]string{"--port", "6379"}); err != nil {
		t.Fatal(err)
	}
	if !c.Given("port") || c.Given("dir") {
		t.Fatalf("port given %v, dir given %v", c.Given("port"), c.Given("dir"))
	}
	if err := c.LoadString("dir " + t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if !c.Given("dir") {
		t.Fatal("dir from a config string not given")
	}
}
