package server_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

func TestCommandInfoShape(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	want := map[string]string{
		"get": "[[get 2 [readonly fast] 1 1 1 [@read @string @fast] [] [map[begin_search:map[spec:map[index:1] type:index] " +
			"find_keys:map[spec:map[keystep:1 lastkey:0 limit:0] type:range] flags:[RO access]]] []]]",
		"set": "[[set -3 [write denyoom] 1 1 1 [@write @string @slow] [] [map[begin_search:map[spec:map[index:1] type:index] " +
			"find_keys:map[spec:map[keystep:1 lastkey:0 limit:0] type:range] flags:[RW access update variable_flags] notes:RW and ACCESS for the value GET may return]] []]]",
		"mset": "[[mset -3 [write denyoom] 1 -1 2 [@write @string @slow] [request_policy:multi_shard response_policy:all_succeeded] " +
			"[map[begin_search:map[spec:map[index:1] type:index] find_keys:map[spec:map[keystep:2 lastkey:-1 limit:0] type:range] flags:[OW update]]] []]]",
		"config|get": "[[config|get -3 [admin noscript loading stale] 0 0 0 [@admin @slow @dangerous] [] [] []]]",
		"nosuch":     "[<nil>]",
		"get|x":      "[<nil>]",
	}
	admDo(t, r, "hello", "3") // maps print as maps in RESP3
	for name, w := range want {
		admExpect(t, r, w, "command", "info", name)
	}
	// A container lists its subcommands' info.
	v := admDo(t, r, "command", "info", "CONFIG").([]any)[0].([]any)
	if v[0] != "config" || v[1] != int64(-2) || fmt.Sprint(v[2]) != "[]" || fmt.Sprint(v[6]) != "[@slow]" {
		t.Fatalf("CONFIG info: %v", v)
	}
	var subs []string
	for _, s := range v[9].([]any) {
		subs = append(subs, s.([]any)[0].(string))
	}
	sort.Strings(subs)
	if strings.Join(subs, " ") != "config|get config|help config|resetstat config|rewrite config|set" {
		t.Fatalf("CONFIG subcommands: %v", subs)
	}

	// RESP2: the same data as flat arrays; nil for unknown commands.
	r2 := srv.Raw(t)
	admExpect(t, r2, "[[get 2 [readonly fast] 1 1 1 [@read @string @fast] [] [[flags [RO access] begin_search [type index spec [index 1]] "+
		"find_keys [type range spec [lastkey 0 keystep 1 limit 0]]]] []] <nil>]", "command", "info", "get", "nosuch")

	all := admDo(t, r2, "command").([]any)
	count := admDo(t, r2, "command", "count").(int64)
	if int64(len(all)) != count || count < 20 {
		t.Fatalf("COMMAND has %d entries, COMMAND COUNT %d", len(all), count)
	}
	if n := len(admDo(t, r2, "command", "info").([]any)); int64(n) != count {
		t.Fatalf("COMMAND INFO without names: %d entries", n)
	}
}

func TestCommandGoRedisParses(t *testing.T) {
	srv := testutil.Start(t)
	for _, c := range []*redis.Client{srv.Client(t), srv.Client3(t)} {
		cmds, err := c.Command(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		get := cmds["get"]
		if get == nil || !get.ReadOnly || get.FirstKeyPos != 1 || get.LastKeyPos != 1 || get.StepCount != 1 || get.Arity != 2 {
			t.Fatalf("go-redis COMMAND get: %+v", get)
		}
		if set := cmds["set"]; set == nil || set.ReadOnly {
			t.Fatalf("go-redis COMMAND set: %+v", set)
		}
		if _, ok := cmds["config"]; !ok {
			t.Fatal("go-redis COMMAND: no config")
		}
	}
}

func TestCommandGetKeys(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	keys, err := c.CommandGetKeys(ctx, "mset", "a", "1", "b", "2").Result()
	if err != nil || strings.Join(keys, ",") != "a,b" {
		t.Fatalf("GETKEYS MSET: %v %v", keys, err)
	}
	keys, err = c.CommandGetKeys(ctx, "set", "k", "v", "ex", "10").Result()
	if err != nil || strings.Join(keys, ",") != "k" {
		t.Fatalf("GETKEYS SET: %v %v", keys, err)
	}
	r := srv.Raw(t)
	admExpect(t, r, "[[k [OW update]]]", "command", "getkeysandflags", "set", "k", "v")
	admExpect(t, r, "[[k [RW access update]]]", "command", "getkeysandflags", "set", "k", "v", "get")
	admExpect(t, r, "[[a [OW update]] [b [OW update]]]", "command", "getkeysandflags", "mset", "a", "1", "b", "2")
	admExpect(t, r, "ERR Invalid command specified", "command", "getkeys", "nosuch", "a")
	admExpect(t, r, "ERR Invalid command specified", "command", "getkeys", "config", "nosuch")
	admExpect(t, r, "ERR The command has no key arguments", "command", "getkeys", "ping", "a")
	admExpect(t, r, "ERR The command has no key arguments", "command", "getkeys", "config", "get", "x")
	admExpect(t, r, "ERR Invalid number of arguments specified for command", "command", "getkeys", "get")
	admExpect(t, r, "ERR Invalid number of arguments specified for command", "command", "getkeys", "get", "a", "b")
	admExpect(t, r, "ERR wrong number of arguments for 'command|getkeys' command", "command", "getkeys")
}

func TestCommandDocsListHelp(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	admExpect(t, r, "[get [summary Returns the string value of a key. since 1.0.0 group string]]", "command", "docs", "get", "nosuch")
	docs := admDo(t, r, "command", "docs", "slowlog").([]any)
	if docs[0] != "slowlog" || !strings.Contains(fmt.Sprint(docs[1]), "subcommands [slowlog|get [summary") {
		t.Fatalf("COMMAND DOCS slowlog: %v", docs)
	}
	all := admDo(t, r, "command", "docs").([]any)
	if int64(len(all)/2) != admDo(t, r, "command", "count").(int64) {
		t.Fatalf("COMMAND DOCS without names: %d entries", len(all)/2)
	}

	list := admDo(t, r, "command", "list").([]any)
	names := map[string]bool{}
	for _, n := range list {
		names[n.(string)] = true
	}
	for _, n := range []string{"get", "config", "config|get", "latency|histogram", "command|docs"} {
		if !names[n] {
			t.Fatalf("COMMAND LIST lacks %s", n)
		}
	}
	admExpect(t, r, "[config|get config|set config|resetstat config|rewrite config|help]", "command", "list", "filterby", "pattern", "CONFIG|*")
	admExpect(t, r, "[]", "command", "list", "filterby", "aclcat", "nosuchcat")
	admExpect(t, r, "[]", "command", "list", "filterby", "module", "m")
	for _, n := range admDo(t, r, "command", "list", "filterby", "aclcat", "string").([]any) {
		if n == "config|get" {
			t.Fatal("config|get listed under @string")
		}
	}
	adm := fmt.Sprint(admDo(t, r, "command", "list", "filterby", "aclcat", "ADMIN"))
	if !strings.Contains(adm, "config|set") || strings.Contains(adm, " get ") {
		t.Fatalf("FILTERBY ACLCAT admin: %s", adm)
	}
	admExpect(t, r, "ERR syntax error", "command", "list", "filterby", "pattern")
	admExpect(t, r, "ERR syntax error", "command", "list", "filterby", "color", "x")
	admExpect(t, r, "ERR syntax error", "command", "list", "x")
	help := admDo(t, r, "command", "help").([]any)
	if help[0] != "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" || help[len(help)-1] != "    Print this help." {
		t.Fatalf("COMMAND HELP: %q", help)
	}
}
