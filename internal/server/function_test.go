package server_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

const fnLib = `#!lua name=counters
local function incrby(keys, args)
  return redis.call('incrby', keys[1], args[1])
end
redis.register_function('fn_incrby', incrby)
redis.register_function{function_name='fn_get', callback=function(keys) return redis.call('get', keys[1]) end,
  flags={'no-writes'}, description='reads a counter'}
`

func TestFunctionLoadCallList(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	rdb := srv.Client(t)

	if name, err := rdb.FunctionLoad(ctx, fnLib).Result(); err != nil || name != "counters" {
		t.Fatalf("load: %q %v", name, err)
	}
	if n, err := rdb.FCall(ctx, "fn_incrby", []string{"c"}, 5).Int64(); err != nil || n != 5 {
		t.Fatalf("fcall: %d %v", n, err)
	}
	// Function names match case-insensitively, as in Redis.
	if n, err := rdb.FCall(ctx, "FN_INCRBY", []string{"c"}, 2).Int64(); err != nil || n != 7 {
		t.Fatalf("fcall upper: %d %v", n, err)
	}
	if v, err := rdb.FCallRO(ctx, "fn_get", []string{"c"}).Text(); err != nil || v != "7" {
		t.Fatalf("fcall_ro: %q %v", v, err)
	}
	if err := rdb.FCallRO(ctx, "fn_incrby", []string{"c"}, 1).Err(); err == nil ||
		err.Error() != "ERR Can not execute a script with write flag using *_ro command." {
		t.Fatalf("fcall_ro of a write function: %v", err)
	}
	if err := rdb.FCall(ctx, "nope", nil).Err(); err == nil || err.Error() != "ERR Function not found" {
		t.Fatalf("unknown function: %v", err)
	}

	libs, err := rdb.FunctionList(ctx, redis.FunctionListQuery{WithCode: true}).Result()
	if err != nil || len(libs) != 1 {
		t.Fatalf("list: %v %v", libs, err)
	}
	l := libs[0]
	if l.Name != "counters" || l.Engine != "LUA" || l.Code != fnLib || len(l.Functions) != 2 {
		t.Fatalf("list: %+v", l)
	}
	if f := l.Functions[0]; f.Name != "fn_get" || f.Description != "reads a counter" || !reflect.DeepEqual(f.Flags, []string{"no-writes"}) {
		t.Fatalf("fn_get: %+v", f)
	}
	if libs, _ := rdb.FunctionList(ctx, redis.FunctionListQuery{LibraryNamePattern: "x*"}).Result(); len(libs) != 0 {
		t.Fatalf("pattern: %v", libs)
	}
	// RESP3: maps and a set of flags.
	r3 := srv.Client3(t)
	v, err := r3.Do(ctx, "function", "list").Result()
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(v); !strings.Contains(s, "library_name:counters") || !strings.Contains(s, "no-writes") {
		t.Fatalf("resp3 list: %s", s)
	}

	stats, err := rdb.Do(ctx, "function", "stats").Slice()
	if err != nil || fmt.Sprint(stats) != "[running_script <nil> engines [LUA [libraries_count 1 functions_count 2]]]" {
		t.Fatalf("stats: %v %v", stats, err)
	}

	// REPLACE, DELETE, FLUSH.
	lib2 := strings.Replace(fnLib, "return redis.call('incrby', keys[1], args[1])", "return 100", 1)
	if err := rdb.FunctionLoad(ctx, lib2).Err(); err == nil || err.Error() != "ERR Library 'counters' already exists" {
		t.Fatalf("load twice: %v", err)
	}
	if err := rdb.FunctionLoadReplace(ctx, lib2).Err(); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.FCall(ctx, "fn_incrby", []string{"c"}, 1).Int64(); n != 100 {
		t.Fatalf("replaced function returned %d", n)
	}
	if err := rdb.FunctionDelete(ctx, "nope").Err(); err == nil || err.Error() != "ERR Library not found" {
		t.Fatalf("delete unknown: %v", err)
	}
	if err := rdb.FunctionDelete(ctx, "counters").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.FCall(ctx, "fn_incrby", []string{"c"}, 1).Err(); err == nil {
		t.Fatal("function survived DELETE")
	}
	rdb.FunctionLoad(ctx, fnLib)
	if err := rdb.FunctionFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if libs, _ := rdb.FunctionList(ctx, redis.FunctionListQuery{}).Result(); len(libs) != 0 {
		t.Fatalf("after flush: %v", libs)
	}
}

func TestFunctionLoadErrors(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	rdb := srv.Client(t)
	rdb.FunctionLoad(ctx, "#!lua name=a\nredis.register_function('f1', function() return 1 end)")
	for code, want := range map[string]string{
		"return 1": "ERR Missing library metadata",
		"#!lua name=bad-name\nredis.register_function('f', function() return 1 end)": "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
		"#!lua name=b\nreturn 1": "ERR No functions registered",
		"#!lua name=b\nredis.register_function('f1', function() return 1 end)":                                       "ERR Function f1 already exists",
		"#!lua name=b\nredis.register_function('f2', 'x')":                                                           "ERR Error registering functions: ERR second argument to redis.register_function must be a function",
		"#!lua name=b\nredis.register_function{function_name='f2', callback=function() end, flags={'bad'}}":          "ERR Error registering functions: ERR unknown flag given",
		"#!lua name=b\nredis.register_function('f2', function() end)\nredis.register_function('f2', function() end)": "ERR Error registering functions: ERR Function already exists in the library",
		"#!lua name=b\nredis.register_function('bad name', function() end)":                                          "ERR Error registering functions: ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
		"#!lua name=b\nlocal x = math.random()":                                                                      "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'math'",
		"#!lua name=b\nlocal a = 1 while true do a = a + 1 end":                                                      "ERR Error registering functions: ERR FUNCTION LOAD timeout",
	} {
		if err := rdb.FunctionLoad(ctx, code).Err(); err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %q", code, err, want)
		}
	}
	// A runtime error names the function and its line.
	rdb.FunctionLoad(ctx, "#!lua name=c\nredis.register_function('boom', function()\n  error('bang')\nend)")
	if err := rdb.FCall(ctx, "boom", nil).Err(); err == nil || err.Error() != "ERR user_function:3: bang script: boom, on @user_function:3." {
		t.Fatalf("runtime error: %v", err)
	}
	// register_function is gone at call time.
	rdb.FunctionLoad(ctx, "#!lua name=d\nredis.register_function('reg', function() redis.register_function('x', function() end) end)")
	if err := rdb.FCall(ctx, "reg", nil).Err(); err == nil || !strings.Contains(err.Error(), "attempt to call") {
		t.Fatalf("register at call time: %v", err)
	}
}

func TestFunctionDumpRestore(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	rdb := srv.Client(t)
	rdb.FunctionLoad(ctx, fnLib)
	rdb.FunctionLoad(ctx, "#!lua name=other\nredis.register_function('other_f', function() return 'o' end)")
	payload, err := rdb.FunctionDump(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.FunctionRestore(ctx, payload).Err(); err == nil || err.Error() != "ERR Library counters already exists" {
		t.Fatalf("append over existing: %v", err)
	}
	rdb.FunctionFlush(ctx)
	if err := rdb.FunctionRestore(ctx, payload).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.FCall(ctx, "other_f", nil).Text(); err != nil || v != "o" {
		t.Fatalf("restored function: %q %v", v, err)
	}
	if err := rdb.Do(ctx, "function", "restore", payload, "replace").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Do(ctx, "function", "restore", payload, "flush").Err(); err != nil {
		t.Fatal(err)
	}
	if libs, _ := rdb.FunctionList(ctx, redis.FunctionListQuery{}).Result(); len(libs) != 2 {
		t.Fatalf("after restore: %v", libs)
	}
	if err := rdb.FunctionRestore(ctx, "bad_payload").Err(); err == nil || err.Error() != "ERR DUMP payload version or checksum are wrong" {
		t.Fatalf("bad payload: %v", err)
	}
	if err := rdb.Do(ctx, "function", "restore", payload, "bogus").Err(); err == nil ||
		err.Error() != "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE." {
		t.Fatalf("bad policy: %v", err)
	}
}

func TestFunctionRace(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	// A read-modify-write that is only correct if the function is atomic.
	const lib = `#!lua name=race
redis.register_function('bump', function(keys, args)
  local v = tonumber(redis.call('get', keys[1]) or '0')
  redis.call('set', keys[1], v + 1)
  return redis.call('rpush', keys[2], args[1])
end)`
	if err := srv.Client(t).FunctionLoad(ctx, lib).Err(); err != nil {
		t.Fatal(err)
	}
	const clients, rounds = 20, 100
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rdb := srv.Client(t)
			for r := 0; r < rounds; r++ {
				if err := rdb.FCall(ctx, "bump", []string{"n", "log"}, fmt.Sprint(i)).Err(); err != nil {
					t.Error(err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	rdb := srv.Client(t)
	if n, _ := rdb.Get(ctx, "n").Int(); n != clients*rounds {
		t.Fatalf("n = %d, want %d", n, clients*rounds)
	}
	if n, _ := rdb.LLen(ctx, "log").Result(); n != clients*rounds {
		t.Fatalf("log has %d entries", n)
	}
}

func TestFunctionKillAndStats(t *testing.T) {
	srv := testutil.Start(t, "busy-reply-threshold", "50")
	ctx := context.Background()
	rdb := srv.Client(t)
	rdb.FunctionLoad(ctx, "#!lua name=spin\nredis.register_function('spin', function() local a = 1 while true do a = a + 1 end end)")
	if err := rdb.Do(ctx, "function", "kill").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOTBUSY") {
		t.Fatalf("kill with nothing running: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Client(t).FCall(ctx, "spin", nil).Err() }()
	admin := srv.Client(t)
	testutil.WaitFor(t, 5*time.Second, "function busy", func() bool {
		err := admin.Ping(ctx).Err()
		return err != nil && strings.HasPrefix(err.Error(), "BUSY")
	})
	stats, err := admin.Do(ctx, "function", "stats").Slice()
	if err != nil {
		t.Fatal(err)
	}
	running, _ := stats[1].([]any)
	if len(running) != 6 || running[1] != "spin" || fmt.Sprint(running[3]) != "[fcall spin 0]" {
		t.Fatalf("stats: %v", stats)
	}
	if err := admin.Do(ctx, "script", "kill").Err(); err == nil {
		t.Fatal("SCRIPT KILL stopped a function")
	}
	if err := admin.Do(ctx, "function", "kill").Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "Script killed by user") {
			t.Fatalf("killed function replied %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("function not killed")
	}
	if err := admin.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
}
