package server_test

import (
	"context"
	"crypto/sha1"
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

const redlockRelease = `if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end`

func TestScriptRedlockRace(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	const clients, rounds = 20, 100
	setup := srv.Client(t)
	for r := 0; r < rounds; r++ {
		setup.Set(ctx, fmt.Sprintf("lock:%d", r), fmt.Sprintf("token-%d", r%clients), 0)
	}
	var wg sync.WaitGroup
	released := make([]int, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rdb := srv.Client(t)
			token := fmt.Sprintf("token-%d", i)
			for r := 0; r < rounds; r++ {
				n, err := rdb.Eval(ctx, redlockRelease, []string{fmt.Sprintf("lock:%d", r)}, token).Int64()
				if err != nil {
					t.Error(err)
					return
				}
				released[i] += int(n)
			}
		}(i)
	}
	wg.Wait()
	for i, n := range released {
		if n != rounds/clients {
			t.Errorf("client %d released %d locks, want %d", i, n, rounds/clients)
		}
	}
	if n, _ := setup.DBSize(ctx).Result(); n != 0 {
		t.Fatalf("%d locks left", n)
	}
}

const tokenBucket = `
local tokens = tonumber(redis.call('get', KEYS[1]) or ARGV[1])
if tokens >= tonumber(ARGV[2]) then
  redis.call('set', KEYS[1], tokens - ARGV[2])
  redis.call('incr', KEYS[2])
  return 1
end
redis.call('set', KEYS[1], tokens)
return 0`

func TestScriptTokenBucketRace(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	const capacity, clients, tries = 500, 20, 40
	sha, err := srv.Client(t).ScriptLoad(ctx, tokenBucket).Result()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	granted := 0
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rdb := srv.Client(t)
			for j := 0; j < tries; j++ {
				n, err := rdb.EvalSha(ctx, sha, []string{"bucket{x}", "granted{x}"}, capacity, 1).Int64()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				granted += int(n)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	rdb := srv.Client(t)
	if granted != capacity {
		t.Fatalf("granted %d, want %d", granted, capacity)
	}
	if v, _ := rdb.Get(ctx, "granted{x}").Int(); v != capacity {
		t.Fatalf("counter %d, want %d", v, capacity)
	}
	if v, _ := rdb.Get(ctx, "bucket{x}").Int(); v != 0 {
		t.Fatalf("bucket %d, want 0", v)
	}
}

func TestScriptConversions(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	rdb := srv.Client(t)
	rdb.Set(ctx, "str", "x", 0)
	cases := []struct {
		script string
		keys   []string
		want   any
	}{
		{`return 'hello'`, nil, "hello"},
		{`return 100.5`, nil, int64(100)},
		{`return -3.99`, nil, int64(-3)},
		{`return true`, nil, int64(1)},
		{`return {1,2,3,'ciao',{1,2}}`, nil, []any{int64(1), int64(2), int64(3), "ciao", []any{int64(1), int64(2)}}},
		{`return {1,2,nil,4}`, nil, []any{int64(1), int64(2)}},
		{`return {ok='fine'}`, nil, "fine"},
		{`return redis.status_reply('PONG')`, nil, "PONG"},
		{`local t = redis.pcall('incr', KEYS[1]); return {type(t), t['err']}`, []string{"str"}, []any{"table", "ERR value is not an integer or out of range"}},
		{`local t = redis.pcall('lpush', KEYS[1], 'a'); return t['err']`, []string{"str"}, "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{`local t = redis.pcall('get', 'nosuch'); return {type(t), tostring(t)}`, nil, []any{"boolean", "false"}},
		{`local t = redis.call('set', 'k', 'v'); return t['ok']`, nil, "OK"},
		{`return redis.sha1hex('Pizza & Mandolino')`, nil, "74822d82031af7493c20eefa13bd07ec4fada82f"},
		{`return {KEYS[1], ARGV[1]}`, []string{"a"}, []any{"a", "b"}},
		{`return redis.REDIS_VERSION_NUM`, nil, int64(0x070204)},
		{`return redis.call('set', 'n', 9007199254740991) and redis.call('get', 'n')`, nil, "9007199254740991"},
		{`return bit.bor(1,2,4,8,16,32,64,128)`, nil, int64(255)},
		{`return bit.tohex(-1, -4)`, nil, "FFFF"},
		{`return struct.unpack('>I2', struct.pack('>I2', 513))`, nil, int64(513)},
	}
	for _, c := range cases {
		args := []any{}
		if strings.Contains(c.script, "ARGV") {
			args = append(args, "b")
		}
		got, err := rdb.Eval(ctx, c.script, c.keys, args...).Result()
		if err != nil {
			t.Errorf("%s: %v", c.script, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.script, got, c.want)
		}
	}
	// false is a null reply.
	if err := rdb.Eval(ctx, `return false`, nil).Err(); err != redis.Nil {
		t.Errorf("false: %v, want nil reply", err)
	}
}

func TestScriptErrors(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	rdb := srv.Client(t)
	rdb.Set(ctx, "str", "x", 0)
	cases := []struct{ script, want string }{
		{`return {err='ERR this is an error'}`, "ERR this is an error"},
		{`return redis.error_reply('MY_CODE custom')`, "MY_CODE custom"},
		{`os.exit()`, "ERR user_script:1: Script attempted to access nonexistent global variable 'os' script: "},
		{`return io.open('/etc/passwd')`, "ERR user_script:1: Script attempted to access nonexistent global variable 'io' script: "},
		{`a = 10`, "ERR user_script:1: Attempt to modify a readonly table script: "},
		{`redis.call = function() end`, "ERR user_script:1: Attempt to modify a readonly table"},
		{`cjson.encode = 1`, "ERR user_script:1: Attempt to modify a readonly table"},
		{`setmetatable(_G, {})`, "ERR user_script:1: Attempt to modify a readonly table"},
		{`return print('x')`, "ERR user_script:1: Script attempted to access nonexistent global variable 'print'"},
		{`return loadfile('x')`, "ERR user_script:1: Script attempted to access nonexistent global variable 'loadfile'"},
		{`redis.call('lpush', KEYS[1], 'a')`, "WRONGTYPE Operation against a key holding the wrong kind of value script: "},
		{`redis.call('nosuchcommand')`, "ERR Unknown Redis command called from script script: "},
		{`redis.call('get','a','b')`, "ERR Wrong number of args calling Redis command from script script: "},
		{`redis.call('multi')`, "ERR This Redis command is not allowed from script script: "},
		{`redis.call('ping', {})`, "ERR Lua redis lib command arguments must be strings or integers script: "},
		{`local x = `, "ERR Error compiling script (new function): user_script"},
		{"#!lua flags=what?\nreturn 1", "ERR Unexpected flag in script shebang: what?"},
		{"#!not-lua\nreturn 1", "ERR Unexpected engine in script shebang"},
	}
	for _, c := range cases {
		err := rdb.Eval(ctx, c.script, []string{"str"}).Err()
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: got %v, want prefix %q", c.script, err, c.want)
		}
	}
	if err := rdb.Eval(ctx, `return 1`, nil, "x").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Do(ctx, "eval", "return 1", "-1").Err(); err == nil || err.Error() != "ERR Number of keys can't be negative" {
		t.Errorf("negative numkeys: %v", err)
	}
	if err := rdb.Do(ctx, "eval", "return 1", "2", "a").Err(); err == nil || err.Error() != "ERR Number of keys can't be greater than number of args" {
		t.Errorf("numkeys too big: %v", err)
	}
	if err := rdb.EvalRO(ctx, `return redis.call('del', KEYS[1])`, []string{"str"}).Err(); err == nil ||
		!strings.HasPrefix(err.Error(), "ERR Write commands are not allowed from read-only scripts.") {
		t.Errorf("eval_ro write: %v", err)
	}
	if err := rdb.Eval(ctx, "#!lua flags=no-writes\nreturn redis.call('set', 'a', 1)", nil).Err(); err == nil ||
		!strings.HasPrefix(err.Error(), "ERR Write commands are not allowed from read-only scripts.") {
		t.Errorf("no-writes: %v", err)
	}
}

func TestScriptCache(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	rdb := srv.Client(t)
	sha, err := rdb.ScriptLoad(ctx, "return 'loaded'").Result()
	if err != nil || sha != "b534286061d4b9e4026607613b95c06c06015ae8" {
		t.Fatalf("SCRIPT LOAD: %q %v", sha, err)
	}
	if v, err := rdb.EvalSha(ctx, strings.ToUpper(sha), nil).Result(); err != nil || v != "loaded" {
		t.Fatalf("EVALSHA upper case: %v %v", v, err)
	}
	if v, err := rdb.EvalShaRO(ctx, sha, nil).Result(); err != nil || v != "loaded" {
		t.Fatalf("EVALSHA_RO: %v %v", v, err)
	}
	rdb.Eval(ctx, "return 1+1", nil)
	ex, err := rdb.ScriptExists(ctx, "a27e7e8a43702b7046d4f6a7ccf5b60cef6b9bd9", "a27e7e8a43702b7046d4f6a7ccf5b60cef6b9bda").Result()
	if err != nil || !reflect.DeepEqual(ex, []bool{true, false}) {
		t.Fatalf("SCRIPT EXISTS: %v %v", ex, err)
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{sha, "NotValidShaSUM"} {
		if err := rdb.EvalSha(ctx, s, nil).Err(); err == nil || err.Error() != "NOSCRIPT No matching script. Please use EVAL." {
			t.Fatalf("after flush: %v", err)
		}
	}
	if err := rdb.Do(ctx, "script", "flush", "async").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Do(ctx, "script", "flush", "bad").Err(); err == nil {
		t.Fatal("SCRIPT FLUSH bad: no error")
	}
}

func TestScriptCJSON(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	rdb := srv.Client(t)
	cases := []struct{ script, want string }{
		{`return cjson.encode({1,2,3,nil,5})`, `[1,2,3,null,5]`},
		{`return cjson.encode({[1]=1,[10]=2})`, `[1,null,null,null,null,null,null,null,null,2]`},
		{`return cjson.encode({a=0.1})`, `{"a":0.1}`},
		{`return cjson.encode({a=123456789012345678})`, `{"a":1.2345678901235e+17}`},
		{`return cjson.encode('a/b"c')`, `"a\/b\"c"`},
		{`return cjson.encode(cjson.decode('[1,null,{"a":[]}]'))`, `[1,null,{"a":{}}]`},
		{`return table.concat(cjson.decode("[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]"), " ")`, `0 -5000 -1 0.0003 1023.2 0`},
		{`local d = cjson.decode('{"keya": "a", "keyb": "b"}'); return d.keya .. d.keyb`, `ab`},
		{`return cjson.decode([["\u00e9"]])`, "é"},
		{`local ok = pcall(cjson.encode, {[1]=1,[100]=2}); return tostring(ok)`, "false"},
		{`local ok = pcall(cjson.encode, {num=0/0}); return tostring(ok)`, "false"},
		{`local ok = pcall(cjson.decode, '{"a":'); return tostring(ok)`, "false"},
	}
	for _, c := range cases {
		got, err := rdb.Eval(ctx, c.script, nil).Text()
		if err != nil || got != c.want {
			t.Errorf("%s: got %q (%v), want %q", c.script, got, err, c.want)
		}
	}
	// A round trip through a key.
	doc := `{"name":"corvid","tags":["a","b"],"n":42}`
	rdb.Set(ctx, "doc", doc, 0)
	got, err := rdb.Eval(ctx, `local d = cjson.decode(redis.call('get', KEYS[1])); return {d.name, d.tags[2], d.n}`, []string{"doc"}).Result()
	if err != nil || !reflect.DeepEqual(got, []any{"corvid", "b", int64(42)}) {
		t.Fatalf("round trip: %v %v", got, err)
	}
}

func TestScriptRESP3(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	r3 := srv.Client3(t)
	r2 := srv.Client(t)
	r3.HSet(ctx, "h", "field", "value")
	got, err := r3.Eval(ctx, `redis.setresp(3); return redis.call('hgetall', KEYS[1])`, []string{"h"}).Result()
	if err != nil || !reflect.DeepEqual(got, map[any]any{"field": "value"}) {
		t.Fatalf("RESP3 map: %#v %v", got, err)
	}
	got, err = r2.Eval(ctx, `redis.setresp(3); return redis.call('hgetall', KEYS[1])`, []string{"h"}).Result()
	if err != nil || !reflect.DeepEqual(got, []any{"field", "value"}) {
		t.Fatalf("RESP2 client, RESP3 script: %#v %v", got, err)
	}
	got, err = r3.Eval(ctx, `local m = redis.setresp(3) or redis.call('hgetall', KEYS[1]); return m.map.field`, []string{"h"}).Result()
	if err != nil || got != "value" {
		t.Fatalf("map table: %#v %v", got, err)
	}
	got, err = r3.Eval(ctx, `return {double=3.5}`, nil).Result()
	if err != nil || got != 3.5 {
		t.Fatalf("double: %#v %v", got, err)
	}
	got, err = r3.Eval(ctx, `redis.setresp(3); return true`, nil).Result()
	if err != nil || got != true {
		t.Fatalf("bool: %#v %v", got, err)
	}
	got, err = r3.Eval(ctx, `return {map={a=1}}`, nil).Result()
	if err != nil || !reflect.DeepEqual(got, map[any]any{"a": int64(1)}) {
		t.Fatalf("map reply: %#v %v", got, err)
	}
	got, err = r3.Eval(ctx, `redis.setresp(3); local v = redis.call('get', 'missing'); return type(v)`, nil).Result()
	if err != nil || got != "nil" {
		t.Fatalf("RESP3 null: %#v %v", got, err)
	}
}

func TestScriptSelectDoesNotLeak(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	rdb := srv.Client(t)
	rdb.Set(ctx, "k", "db0", 0)
	if err := rdb.Eval(ctx, `redis.call('select', 9); redis.call('set', 'k', 'db9')`, nil).Err(); err != redis.Nil {
		t.Fatal(err)
	}
	if v, _ := rdb.Get(ctx, "k").Result(); v != "db0" {
		t.Fatalf("caller database changed: %q", v)
	}
}

func TestScriptBusyAndKill(t *testing.T) {
	srv := testutil.Start(t, "busy-reply-threshold", "10")
	ctx := context.Background()
	rdb := srv.Client(t)
	other := srv.Client(t)
	if err := other.Do(ctx, "script", "kill").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOTBUSY") {
		t.Fatalf("SCRIPT KILL idle: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- rdb.Eval(ctx, `while true do end`, nil).Err() }()
	testutil.WaitFor(t, 5*time.Second, "script busy", func() bool { return srv.Srv.ScriptBusyError() != "" })
	if err := other.Do(ctx, "script", "kill").Err(); err != nil {
		t.Fatalf("SCRIPT KILL: %v", err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "Script killed by user with SCRIPT KILL") {
			t.Fatalf("killed script: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("script not killed")
	}
	if v, err := rdb.Ping(ctx).Result(); err != nil || v != "PONG" {
		t.Fatalf("after kill: %v %v", v, err)
	}

	// pcall cannot catch the kill.
	go func() {
		done <- rdb.Eval(ctx, `local f = function() while 1 do redis.call('ping') end end while 1 do pcall(f) end`, nil).Err()
	}()
	testutil.WaitFor(t, 5*time.Second, "script busy", func() bool { return srv.Srv.ScriptBusyError() != "" })
	other.Do(ctx, "script", "kill")
	if err := <-done; err == nil || !strings.Contains(err.Error(), "killed by user") {
		t.Fatalf("killed pcall script: %v", err)
	}

	// A script that wrote cannot be killed.
	go func() {
		done <- rdb.Eval(ctx, `redis.call('set', KEYS[1], 'y'); local i = 0; while i < 1e6 do i = i + 1 end return 1`, []string{"x"}).Err()
	}()
	testutil.WaitFor(t, 5*time.Second, "script busy", func() bool { return srv.Srv.ScriptBusyError() != "" })
	if err := other.Do(ctx, "script", "kill").Err(); err == nil || !strings.HasPrefix(err.Error(), "UNKILLABLE") {
		t.Fatalf("SCRIPT KILL after write: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("unkillable script: %v", err)
	}
}

// TestScriptKillWhileLoopClientWaits: a keyed command from an event-loop
// connection during a long script must not stall its loop, so SCRIPT KILL
// (from a connection that may share the loop) still gets through.
func TestScriptKillWhileLoopClientWaits(t *testing.T) {
	srv := testutil.Start(t, "busy-reply-threshold", "100")
	long := srv.Raw(t)
	if err := long.Send("eval", "while true do end", "0"); err != nil {
		t.Fatal(err)
	}
	waiter := srv.Raw(t)
	time.Sleep(20 * time.Millisecond) // the script is running, not yet busy
	if err := waiter.Send("get", "k"); err != nil {
		t.Fatal(err)
	}
	// Past busy-reply-threshold the waiting GET is answered BUSY, as Redis
	// does; read it before the kill, which would otherwise race with it.
	if v, err := waiter.Read(); err != nil || !strings.HasPrefix(fmt.Sprint(v), "BUSY") {
		t.Fatalf("GET during the script: %v, %v", v, err)
	}
	admin := srv.Raw(t)
	testutil.WaitFor(t, 5*time.Second, "script killed", func() bool {
		v, err := admin.Do("script", "kill")
		return err == nil && v == "OK"
	})
	if v, err := long.Read(); err != nil || !strings.Contains(fmt.Sprint(v), "Script killed") {
		t.Fatalf("killed script replied %v, %v", v, err)
	}
}

// TestScriptMemoryLimit: a script allocating without bound is stopped at
// maxmemory, and the server carries on.
func TestScriptMemoryLimit(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	limit := int64(ms.HeapAlloc) + 64<<20
	if v, err := r.Do("config", "set", "maxmemory", strconv.FormatInt(limit, 10)); err != nil || v != "OK" {
		t.Fatalf("CONFIG SET maxmemory: %v %v", v, err)
	}
	v, err := r.Do("eval", "local t = {} for i = 1, 100000000 do t[i] = string.rep('x', 64) .. i end return #t", "0")
	if err != nil || !strings.Contains(fmt.Sprint(v), "Script exceeded the memory limit") {
		t.Fatalf("runaway script: %v, %v", v, err)
	}
	if v, err := r.Do("config", "set", "maxmemory", "0"); err != nil || v != "OK" {
		t.Fatalf("CONFIG SET maxmemory 0: %v %v", v, err)
	}
	if v, err := r.Do("eval", "return 1", "0"); err != nil || v != int64(1) {
		t.Fatalf("after the limit: %v, %v", v, err)
	}
}

// What a command does differently when a script runs it, as in Redis: TIME
// stands still, SORT BY a constant orders a set's members, XREAD BLOCK is
// refused; and a failed redis.call is counted once in the error statistics,
// not again as EVAL's error.
func TestScriptCommandContext(t *testing.T) {
	srv := testutil.Start(t, "enable-debug-command", "yes")
	c := srv.Client(t)
	ctx := context.Background()
	c.Do(ctx, "debug", "set-disable-deny-scripts", "1") // DEBUG SLEEP from the script
	times, err := c.Eval(ctx, `local a = redis.call('time'); redis.call('debug', 'sleep', '0.01'); local b = redis.call('time'); return {a[1], a[2], b[1], b[2]}`, nil).StringSlice()
	if err != nil || len(times) != 4 || times[0] != times[2] || times[1] != times[3] {
		t.Fatalf("TIME twice in a script: %v %v", times, err)
	}
	c.SAdd(ctx, "myset", "b", "aa", "a", "c")
	if got := c.Eval(ctx, `return redis.call('sort', KEYS[1], 'by', '_')`, []string{"myset"}).Val(); fmt.Sprint(got) != "[a aa b c]" {
		t.Fatalf("SORT BY constant in a script: %v", got)
	}
	if err := c.Eval(ctx, `return redis.pcall('xread', 'BLOCK', 0, 'STREAMS', 's', '$')`, []string{"s"}).Err(); err == nil ||
		err.Error() != "ERR xread command is not allowed with BLOCK option from scripts" {
		t.Fatalf("XREAD BLOCK in a script: %v", err)
	}

	c.ConfigResetStat(ctx)
	if err := c.Eval(ctx, `return redis.call('select', 99)`, nil).Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR DB index is out of range") {
		t.Fatalf("failing redis.call: %v", err)
	}
	stats := c.Info(ctx, "stats", "errorstats", "commandstats").Val()
	for _, want := range []string{"total_error_replies:1\r", "errorstat_ERR:count=1\r", "cmdstat_eval:calls=1,"} {
		if !strings.Contains(stats, want) {
			t.Fatalf("after a failed redis.call, INFO lacks %q:\n%s", want, stats)
		}
	}
	if !strings.Contains(stats, "cmdstat_eval:") || !strings.Contains(stats[strings.Index(stats, "cmdstat_eval:"):], "failed_calls=1") {
		t.Fatalf("EVAL's failure not counted:\n%s", stats)
	}
}

// DEBUG OBJECT finds a key whose TTL has passed but that was not reclaimed
// yet, as Redis's dbFind does; a lookup then reclaims it.
func TestDebugObjectSeesUnreclaimedKey(t *testing.T) {
	srv := testutil.Start(t, "enable-debug-command", "yes")
	c := srv.Client(t)
	ctx := context.Background()
	c.Do(ctx, "debug", "set-active-expire", "0")
	c.Set(ctx, "key", "value", time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	if err := c.Do(ctx, "debug", "object", "key").Err(); err != nil {
		t.Fatalf("DEBUG OBJECT of an expired, unreclaimed key: %v", err)
	}
	if n := c.Exists(ctx, "key").Val(); n != 0 {
		t.Fatalf("EXISTS: %d", n)
	}
	if err := c.Do(ctx, "debug", "object", "key").Err(); err == nil || err.Error() != "ERR no such key" {
		t.Fatalf("DEBUG OBJECT after the lookup: %v", err)
	}
}

// TestSlowScriptLogged: a script or function running past
// busy-reply-threshold is logged once, in Redis's words, which operators
// grep for and Redis's tests wait for; a quick one is not.
func TestSlowScriptLogged(t *testing.T) {
	srv, log := startLogged(t, t.TempDir(), "busy-reply-threshold", "10")
	c := redis.NewClient(&redis.Options{Addr: srv.Addr().String()})
	defer c.Close()
	ctx := context.Background()
	// Time stands still inside a script (TIME answers its start), so the
	// script counts instead: tens of milliseconds at least.
	slow := "local i = 0; while i < 3000000 do i = i + 1 end; return 1"
	if err := c.Eval(ctx, "return 1", nil).Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "Slow script") {
		t.Fatalf("a quick script was logged:\n%s", log)
	}
	if err := c.Eval(ctx, slow, nil).Err(); err != nil {
		t.Fatal(err)
	}
	sha := fmt.Sprintf("%x", sha1.Sum([]byte(slow)))
	want := regexp.MustCompile(`# Slow script detected: still in execution after [0-9]+ milliseconds\. You can try killing the script using the SCRIPT KILL command\. Script name is: f_` + sha + `\.\n`)
	if n := len(want.FindAllString(log.String(), -1)); n != 1 {
		t.Fatalf("the slow script was logged %d times, want once:\n%s", n, log)
	}
	lib := "#!lua name=slowlib\nredis.register_function('slowfn', function() " + slow + " end)"
	if err := c.Do(ctx, "function", "load", lib).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "fcall", "slowfn", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "using the FUNCTION KILL command. Script name is: slowfn.") {
		t.Fatalf("the slow function was not logged:\n%s", log)
	}
}
