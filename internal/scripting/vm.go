package scripting

import (
	"math"
	"math/rand"
	"strings"
	"time"

	"github.com/corvid-db/corvid/internal/resp"
	lua "github.com/yuin/gopher-lua"
)

// Redis's version as scripts see it.
const (
	redisVersion    = "7.2.4"
	redisVersionNum = 0x070204
)

// Replication flags of redis.set_repl, as Redis numbers them.
const (
	replNone = 0
	replAOF  = 1
	replRepl = 2
	replAll  = replAOF | replRepl
)

// vm is one Lua state set up as Redis sets up its interpreter.
type vm struct {
	L        *lua.LState
	globals  *lua.LTable // the real globals, behind env
	env      *lua.LTable // the read-only _G scripts see
	readonly map[*lua.LTable]bool
	ctx      *runCtx
	rng      *rand.Rand
	roErr    *lua.LFunction
	errFn    *lua.LFunction
	json     jsonConfig
	null     *lua.LUserData // cjson.null
	// source is the chunk name errors are located in: "@user_script" for
	// EVAL's VM, "@user_function" for the functions' VM.
	source string

	// The current run.
	host   Host
	run    *Run
	script *Script
	resp   int // the protocol inner commands reply in (redis.setresp)
	w      resp.Writer
	argBuf []byte
	argOff []int
	args   [][]byte
}

// newVM builds a sandboxed state.
func newVM() *vm {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       2000,
		MinimizeStackMemory: true,
		RegistrySize:        1024 * 8,
		RegistryMaxSize:     1024 * 1024,
	})
	v := &vm{L: L, readonly: map[*lua.LTable]bool{}, ctx: &runCtx{}, source: chunkSourceName,
		rng: rand.New(rand.NewSource(time.Now().UnixNano())), json: defaultJSONConfig()}
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	G := L.Get(lua.GlobalsIndex).(*lua.LTable)
	v.globals = G
	for _, name := range []string{"dofile", "loadfile", "print", "_printregs", "module", "require", "_GOPHER_LUA_VERSION"} {
		G.RawSetString(name, lua.LNil)
	}
	v.roErr = L.NewFunction(func(L *lua.LState) int {
		L.RaiseError(errReadonly)
		return 0
	})
	v.errFn = L.NewFunction(v.errorHandler)
	G.RawSetString("pcall", L.NewFunction(v.luaPcall))
	G.RawSetString("setmetatable", L.NewFunction(v.setMetatable))
	G.RawSetString("rawset", L.NewFunction(v.rawSet))
	G.RawSetString("loadstring", L.NewFunction(v.loadString))
	G.RawSetString("load", lua.LNil)
	G.RawSetString("error", L.NewFunction(luaError))

	mathT := G.RawGetString("math").(*lua.LTable)
	mathT.RawSetString("random", L.NewFunction(v.mathRandom))
	mathT.RawSetString("randomseed", L.NewFunction(v.mathRandomSeed))

	G.RawSetString("redis", v.redisLib())
	G.RawSetString("cjson", v.cjsonLib())
	G.RawSetString("bit", bitLib(L))
	G.RawSetString("struct", structLib(L))
	G.RawSetString("cmsgpack", cmsgpackLib(v))

	for _, name := range []string{"string", "math", "table", "coroutine", "redis", "cjson", "bit", "struct", "cmsgpack"} {
		if t, ok := G.RawGetString(name).(*lua.LTable); ok {
			G.RawSetString(name, v.roProxy(t, lua.LFalse))
		}
	}

	// Reading a missing global is an error, as in Redis.
	gmt := L.NewTable()
	gmt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", L.ToString(2))
		return 0
	}))
	L.SetMetatable(G, gmt)

	// Scripts see a read-only view of the globals.
	envMT := L.NewTable()
	envMT.RawSetString("__index", G)
	envMT.RawSetString("__newindex", v.roErr)
	env := L.NewTable()
	L.SetMetatable(env, envMT)
	envMT.RawSetString("__metatable", v.roProxy(envMT, lua.LFalse))
	v.readonly[env] = true
	v.env = env
	G.RawSetString("_G", env)
	L.SetContext(v.ctx)
	return v
}

// roProxy returns an empty table reading through to t whose writes fail
// with Redis's read-only table error; getmetatable on it gives meta.
func (v *vm) roProxy(t *lua.LTable, meta lua.LValue) *lua.LTable {
	L := v.L
	mt := L.NewTable()
	mt.RawSetString("__index", t)
	mt.RawSetString("__newindex", v.roErr)
	mt.RawSetString("__metatable", meta)
	p := L.NewTable()
	L.SetMetatable(p, mt)
	v.readonly[p] = true
	return p
}

func (v *vm) setMetatable(L *lua.LState) int {
	if t, ok := L.Get(1).(*lua.LTable); ok && v.readonly[t] {
		L.RaiseError(errReadonly)
	}
	t := L.CheckTable(1)
	mt := L.Get(2)
	if _, ok := mt.(*lua.LTable); !ok && mt != lua.LNil {
		L.ArgError(2, "nil or table expected")
	}
	if cur, ok := L.GetMetatable(t).(*lua.LTable); ok && cur.RawGetString("__metatable") != lua.LNil {
		L.RaiseError("cannot change a protected metatable")
	}
	L.SetMetatable(t, mt)
	L.SetTop(1)
	return 1
}

func (v *vm) rawSet(L *lua.LState) int {
	t := L.CheckTable(1)
	if v.readonly[t] {
		L.RaiseError(errReadonly)
	}
	t.RawSet(L.CheckAny(2), L.CheckAny(3))
	L.SetTop(1)
	return 1
}

// loadString compiles source text only: precompiled (binary) chunks are
// refused, as Redis refuses them.
func (v *vm) loadString(L *lua.LState) int {
	src := L.CheckString(1)
	if strings.HasPrefix(src, "\x1bLua") {
		L.Push(lua.LNil)
		L.Push(lua.LString("binary chunks are not allowed"))
		return 2
	}
	fn, err := L.Load(strings.NewReader(src), L.OptString(2, src))
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	fn.Env = v.env
	L.Push(fn)
	return 1
}

// luaError is Lua 5.1's error: strings and numbers get the position of
// the given level (1 by default), other values are raised as they are.
func luaError(L *lua.LState) int {
	obj := L.Get(1)
	level := L.OptInt(2, 1)
	switch x := obj.(type) {
	case lua.LString, lua.LNumber:
		if level > 0 {
			L.Error(lua.LString(x.String()), level)
		}
		L.Error(lua.LString(x.String()), 0)
	}
	L.Error(obj, 0)
	return 0
}

// luaPcall is Redis's pcall: an error table raised by redis.call comes
// back as its message.
func (v *vm) luaPcall(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		L.ArgError(1, "value expected")
	}
	err := L.PCall(n-1, lua.MultRet, nil)
	if err == nil {
		L.Insert(lua.LTrue, 1)
		return L.GetTop()
	}
	obj := lua.LValue(lua.LString(err.Error()))
	if ae, ok := err.(*lua.ApiError); ok {
		obj = ae.Object
	}
	if t, ok := obj.(*lua.LTable); ok {
		if s, ok := t.RawGetString("err").(lua.LString); ok {
			obj = s
		}
	}
	L.SetTop(0)
	L.Push(lua.LFalse)
	L.Push(obj)
	return 2
}

func (v *vm) mathRandom(L *lua.LState) int {
	r := v.rng.Float64()
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(r))
	case 1:
		u := int(L.CheckNumber(1))
		if u < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u)) + 1))
	default:
		l, u := int(L.CheckNumber(1)), int(L.CheckNumber(2))
		if l > u {
			L.ArgError(2, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u-l+1)) + float64(l)))
	}
	return 1
}

func (v *vm) mathRandomSeed(L *lua.LState) int {
	v.rng.Seed(int64(L.CheckNumber(1)))
	return 0
}

// errorHandler turns the error of a failed run into Redis's error table
// {err=…, source=…, line=…}, locating the Lua code that raised it.
func (v *vm) errorHandler(L *lua.LState) int {
	e := L.Get(1)
	t, ok := e.(*lua.LTable)
	if !ok {
		msg := "nil"
		if e != lua.LNil {
			msg = L.ToStringMeta(e).String()
		}
		t = L.NewTable()
		t.RawSetString("err", lua.LString("ERR "+msg))
	}
	if t.RawGetString("line") == lua.LNil {
		if line := v.currentLine(0); line > 0 {
			t.RawSetString("source", lua.LString(v.source))
			t.RawSetString("line", lua.LNumber(line))
		}
	}
	L.Push(t)
	return 1
}

// currentLine is the line of the innermost running Lua function of the
// script from stack level from on, or 0.
func (v *vm) currentLine(from int) int {
	L := v.L
	for lvl := from; lvl < 64; lvl++ {
		dbg, ok := L.GetStack(lvl)
		if !ok {
			return 0
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			continue
		}
		if dbg.What != "G" && dbg.CurrentLine > 0 {
			return dbg.CurrentLine
		}
	}
	return 0
}

// ignoreErrStats marks an error table that comes from a command redis.call
// ran (or refused), whose error the statistics counted then: Redis's field
// of the same name, which keeps the script's error reply from being
// counted twice.
const ignoreErrStats = "ignore_err_stats_update"

// errTable builds {err=msg}, the form redis.pcall returns errors in.
func (v *vm) errTable(msg string) *lua.LTable {
	t := v.L.CreateTable(0, 3)
	t.RawSetString("err", lua.LString(msg))
	return t
}

// raise throws an error table at the caller's line, as Redis's luaError
// does with the table luaPushError built.
func (v *vm) raise(t *lua.LTable) {
	if line := v.currentLine(1); line > 0 {
		t.RawSetString("source", lua.LString(v.source))
		t.RawSetString("line", lua.LNumber(line))
	}
	v.L.Error(t, 0)
}

// errMsg formats an error for redis lib functions: "ERR msg" unless msg
// carries its own code after a '-'.
func errMsg(msg string) string {
	if strings.HasPrefix(msg, "-") {
		code, rest, ok := strings.Cut(msg[1:], " ")
		if !ok {
			return "ERR " + strings.Trim(code, "\r\n")
		}
		return code + " " + strings.Trim(rest, "\r\n")
	}
	return "ERR " + strings.Trim(msg, "\r\n")
}

func (v *vm) redisLib() *lua.LTable {
	L := v.L
	t := L.NewTable()
	fns := map[string]lua.LGFunction{
		"call":               func(L *lua.LState) int { return v.redisCall(L, true) },
		"pcall":              func(L *lua.LState) int { return v.redisCall(L, false) },
		"log":                v.redisLog,
		"setresp":            v.redisSetResp,
		"sha1hex":            v.redisSHA1Hex,
		"error_reply":        v.redisErrorReply,
		"status_reply":       v.redisStatusReply,
		"set_repl":           v.redisSetRepl,
		"replicate_commands": func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
		"breakpoint":         func(L *lua.LState) int { L.Push(lua.LFalse); return 1 },
		"debug":              func(L *lua.LState) int { return 0 },
		"acl_check_cmd":      v.redisACLCheck,
	}
	L.SetFuncs(t, fns)
	for k, n := range map[string]int{
		"LOG_DEBUG": 0, "LOG_VERBOSE": 1, "LOG_NOTICE": 2, "LOG_WARNING": 3,
		"REPL_NONE": replNone, "REPL_AOF": replAOF, "REPL_SLAVE": replRepl, "REPL_REPLICA": replRepl, "REPL_ALL": replAll,
		"REDIS_VERSION_NUM": redisVersionNum,
	} {
		t.RawSetString(k, lua.LNumber(n))
	}
	t.RawSetString("REDIS_VERSION", lua.LString(redisVersion))
	return t
}

// fail fails a redis lib function: raised as a Lua error, as Redis's
// luaPushError plus luaError do.
func (v *vm) fail(msg string) int {
	v.raise(v.errTable(errMsg(msg)))
	return 0
}

// redisCall is redis.call (raise) and redis.pcall.
func (v *vm) redisCall(L *lua.LState, raise bool) int {
	if v.host == nil {
		return v.fail("redis.call can only be used inside a script invocation")
	}
	n := L.GetTop()
	if n == 0 {
		return v.callFailed(raise, errNoArgs)
	}
	v.argBuf = v.argBuf[:0]
	v.argOff = v.argOff[:0]
	for i := 1; i <= n; i++ {
		switch a := L.Get(i).(type) {
		case lua.LString:
			v.argBuf = append(v.argBuf, a...)
		case lua.LNumber:
			v.argBuf = appendLuaNumber(v.argBuf, float64(a))
		default:
			return v.callFailed(raise, errArgsType)
		}
		v.argOff = append(v.argOff, len(v.argBuf))
	}
	v.args = v.args[:0]
	start := 0
	for _, end := range v.argOff {
		v.args = append(v.args, v.argBuf[start:end:end])
		start = end
	}
	if v.run != nil && v.run.killed.Load() {
		v.raise(v.errTable("ERR " + errKilled))
	}
	v.w.Buf = v.w.Buf[:0]
	v.w.Proto = v.resp
	if refusal := v.host.Call(v.args, &v.w); refusal != "" {
		t := v.errTable(errMsg(refusal))
		t.RawSetString(ignoreErrStats, lua.LTrue)
		if raise {
			v.raise(t)
		}
		L.SetTop(0)
		L.Push(t)
		return 1
	}
	val, isErr := v.parseReply(v.w.Buf)
	if cap(v.w.Buf) > 1<<20 {
		v.w.Buf = nil
	}
	L.SetTop(0)
	if isErr {
		t := val.(*lua.LTable)
		t.RawSetString(ignoreErrStats, lua.LTrue)
		if raise {
			v.raise(t)
		}
	}
	L.Push(val)
	return 1
}

func (v *vm) callFailed(raise bool, msg string) int {
	t := v.errTable(errMsg(msg))
	if raise {
		v.raise(t)
	}
	v.L.SetTop(0)
	v.L.Push(t)
	return 1
}

func (v *vm) redisLog(L *lua.LState) int {
	n := L.GetTop()
	if n < 2 {
		return v.fail("redis.log() requires two arguments or more.")
	}
	lv, ok := L.Get(1).(lua.LNumber)
	if !ok {
		return v.fail("First argument must be a number.")
	}
	level := int(lv)
	if level < 0 || level > 3 {
		return v.fail("Invalid debug level.")
	}
	var b strings.Builder
	for i := 2; i <= n; i++ {
		s, ok := luaToString(L.Get(i))
		if !ok {
			continue
		}
		if i > 2 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	if v.host != nil {
		v.host.Log(level, b.String())
	}
	return 0
}

func (v *vm) redisSetResp(L *lua.LState) int {
	if L.GetTop() != 1 {
		return v.fail("redis.setresp() requires one argument.")
	}
	n, ok := L.Get(1).(lua.LNumber)
	if !ok || (n != 2 && n != 3) {
		return v.fail("RESP version must be 2 or 3.")
	}
	v.resp = int(n)
	return 0
}

func (v *vm) redisSHA1Hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		return v.fail("wrong number of arguments")
	}
	s, _ := luaToString(L.Get(1))
	L.Push(lua.LString(SHA1Hex([]byte(s))))
	return 1
}

func (v *vm) redisErrorReply(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		return v.fail("wrong number or type of arguments")
	}
	msg := string(s)
	if !strings.HasPrefix(msg, "-") {
		msg = "-" + msg
	}
	L.Push(v.errTable(errMsg(msg)))
	return 1
}

func (v *vm) redisStatusReply(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		return v.fail("wrong number or type of arguments")
	}
	t := L.CreateTable(0, 1)
	t.RawSetString("ok", s)
	L.Push(t)
	return 1
}

func (v *vm) redisSetRepl(L *lua.LState) int {
	if L.GetTop() != 1 {
		return v.fail("redis.set_repl() requires one argument.")
	}
	n, ok := L.Get(1).(lua.LNumber)
	if !ok || int64(n)&^replAll != 0 {
		return v.fail("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
	}
	return 0
}

func (v *vm) redisACLCheck(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		return v.fail(errNoArgs)
	}
	args := make([][]byte, 0, n)
	for i := 1; i <= n; i++ {
		s, ok := luaToString(L.Get(i))
		if !ok {
			return v.fail(errArgsType)
		}
		args = append(args, []byte(s))
	}
	if v.host == nil || !v.host.CommandExists(args) {
		return v.fail("Invalid command passed to redis.acl_check_cmd()")
	}
	// Only the default user exists: every command and key is allowed.
	L.Push(lua.LTrue)
	return 1
}

// luaToString converts strings and numbers as lua_tostring does.
func luaToString(lv lua.LValue) (string, bool) {
	switch x := lv.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return x.String(), true
	}
	return "", false
}

// appendLuaNumber formats a number argument of redis.call as Redis does
// (fpconv_dtoa: the shortest round-tripping form, "%.17g"-like layout),
// so that 9007199254740991 stays exact.
func appendLuaNumber(dst []byte, f float64) []byte { return resp.AppendFpconv(dst, f) }
