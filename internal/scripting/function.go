package scripting

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/corvid-db/corvid/internal/resp"
	lua "github.com/yuin/gopher-lua"
)

// Functions (FUNCTION LOAD, FCALL) on the same Lua machinery as EVAL.
//
// A library is Lua code whose first line is "#!lua name=<lib>". FUNCTION
// LOAD runs it once, in a restricted environment where the only global
// is a small redis table (register_function, log, the log levels and the
// version), and the callbacks it registers become the functions FCALL
// calls with two arguments, the keys and the arguments.
//
// As in Redis, functions live in a Lua state of their own, apart from
// EVAL's (SCRIPT FLUSH does not touch them), and its globals table is
// the same during the load and the calls: only what it reads through
// changes, so that a callback created at load time sees the full API
// when it runs. Runs share the Engine's run state, so BUSY, SCRIPT KILL,
// FUNCTION KILL and FUNCTION STATS see EVAL scripts and functions alike.

// loadTimeout bounds the run of a library's code at FUNCTION LOAD, as
// Redis's LOAD_TIMEOUT_MS does.
const loadTimeout = 500 * time.Millisecond

// functionSourceName is the chunk name errors in functions cite.
const (
	functionChunkName  = "user_function"
	functionSourceName = "@user_function"
)

// Errors of the function registry, without their "ERR " code (the
// commands add it, as Redis's addReplyErrorSds does).
const (
	errBadName          = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
	errMissingMeta      = "Missing library metadata"
	errInvalidMeta      = "Invalid library metadata"
	errNameTwice        = "Invalid metadata value, name argument was given multiple times"
	errNoLibName        = "Library name was not given"
	errNoFunctions      = "No functions registered"
	errFuncInLib        = "Function already exists in the library"
	errRegisterOutside  = "redis.register_function can only be called on FUNCTION LOAD command"
	errLoadTimeout      = "FUNCTION LOAD timeout"
	errRegisterArgCount = "wrong number of arguments to redis.register_function"
)

// FunctionFlagNames are the function flags in Redis's order (the order
// FUNCTION LIST reports them in).
var FunctionFlagNames = []struct {
	Flag Flags
	Name string
}{
	{FlagNoWrites, "no-writes"},
	{FlagAllowOOM, "allow-oom"},
	{FlagAllowStale, "allow-stale"},
	{FlagNoCluster, "no-cluster"},
	{FlagAllowCrossSlot, "allow-cross-slot-keys"},
}

// Library is one loaded library.
type Library struct {
	Name string
	// Code is the full source, shebang included (what DUMP saves and
	// FUNCTION LIST WITHCODE shows).
	Code string
	// Functions are the library's functions, sorted by name.
	Functions []*Function
}

// Engine returns the library's engine name, as FUNCTION LIST shows it.
func (l *Library) Engine() string { return "LUA" }

// Function is one registered function.
type Function struct {
	Name        string
	Description string
	HasDesc     bool // a description was given (FUNCTION LIST shows nil otherwise)
	Flags       Flags
	Library     *Library
	fn          *lua.LFunction
}

// libSet is a set of libraries and the index of their functions: the
// current one, or one being built by FUNCTION RESTORE.
type libSet struct {
	libs  map[string]*Library  // by exact name, as Redis's library dict
	funcs map[string]*Function // by lower-case name: Redis matches function names case-insensitively
}

func newLibSet() *libSet {
	return &libSet{libs: map[string]*Library{}, funcs: map[string]*Function{}}
}

func (s *libSet) link(l *Library) {
	s.libs[l.Name] = l
	for _, f := range l.Functions {
		s.funcs[strings.ToLower(f.Name)] = f
	}
}

func (s *libSet) unlink(l *Library) {
	delete(s.libs, l.Name)
	for _, f := range l.Functions {
		delete(s.funcs, strings.ToLower(f.Name))
	}
}

// Functions is a server's function libraries and the Lua state they run
// in.
type Functions struct {
	eng *Engine

	mu  sync.RWMutex
	set *libSet // guarded by mu

	// vmMu serialises use of the VM: loads, and calls (which the
	// dispatcher already serialises with every other script).
	vmMu sync.Mutex
	vm   *vm
	// Built with the VM: the globals as the library code sees them, the
	// metatable of the globals scripts see (whose __index is switched to
	// loadGlobals during a load) and the current load, if any.
	loadGlobals *lua.LTable
	envMT       *lua.LTable
	loading     *loadState
}

// loadState collects what a library's code registers.
type loadState struct {
	lib   *Library
	funcs map[string]*Function // by exact name, as Redis's per-library dict
}

// NewFunctions returns an empty function registry whose runs share e's
// run state (busy, kill).
func NewFunctions(e *Engine) *Functions {
	return &Functions{eng: e, set: newLibSet()}
}

// Lookup finds a function by name, case-insensitively.
func (f *Functions) Lookup(name []byte) *Function {
	var buf [64]byte
	key := ""
	if len(name) <= len(buf) {
		b := buf[:0]
		for _, c := range name {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
		f.mu.RLock()
		fn := f.set.funcs[string(b)]
		f.mu.RUnlock()
		return fn
	}
	key = strings.ToLower(string(name))
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.set.funcs[key]
}

// Libraries returns the loaded libraries sorted by name.
func (f *Functions) Libraries() []*Library {
	f.mu.RLock()
	out := make([]*Library, 0, len(f.set.libs))
	for _, l := range f.set.libs {
		out = append(out, l)
	}
	f.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Counts returns the numbers of libraries and functions (FUNCTION STATS,
// INFO's number_of_functions).
func (f *Functions) Counts() (libs, funcs int) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.set.libs), len(f.set.funcs)
}

// Memory approximates the bytes the libraries hold (INFO's
// used_memory_functions): their code and names.
func (f *Functions) Memory() int64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var n int64
	for _, l := range f.set.libs {
		n += int64(len(l.Code) + len(l.Name) + 64)
		for _, fn := range l.Functions {
			n += int64(len(fn.Name) + len(fn.Description) + 64)
		}
	}
	return n
}

// Load is FUNCTION LOAD [REPLACE]: it runs the library's code and links
// the library, returning its name, or the error message (without "ERR ").
func (f *Functions) Load(code []byte, replace bool) (string, string) {
	f.vmMu.Lock()
	defer f.vmMu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	lib, msg := f.create(f.set, string(code), replace, loadTimeout)
	if msg != "" {
		return "", msg
	}
	return lib.Name, ""
}

// Delete is FUNCTION DELETE: it reports whether the library existed.
func (f *Functions) Delete(name []byte) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.set.libs[string(name)]
	if l == nil {
		return false
	}
	f.set.unlink(l)
	return true
}

// Flush is FUNCTION FLUSH: every library goes.
func (f *Functions) Flush() {
	f.mu.Lock()
	f.set = newLibSet()
	f.mu.Unlock()
}

// RestorePolicy is FUNCTION RESTORE's policy for existing libraries.
type RestorePolicy int

// Restore policies.
const (
	RestoreAppend RestorePolicy = iota
	RestoreReplace
	RestoreFlush
)

// Restore is FUNCTION RESTORE of the libraries' codes decoded from a
// payload: every library is loaded apart first, then joined to the
// current ones by the policy, all or nothing. The error has no "ERR ".
func (f *Functions) Restore(codes []string, policy RestorePolicy) string {
	f.vmMu.Lock()
	defer f.vmMu.Unlock()
	src := newLibSet()
	for _, code := range codes {
		if _, msg := f.create(src, code, false, 0); msg != "" {
			return msg
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if policy == RestoreFlush {
		f.set = src
		return ""
	}
	dst := f.set
	var replaced []*Library
	revert := func() {
		for _, l := range replaced {
			dst.link(l)
		}
	}
	names := make([]string, 0, len(src.libs))
	for name := range src.libs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if old := dst.libs[name]; old != nil {
			if policy != RestoreReplace {
				revert()
				return "Library " + name + " already exists"
			}
			dst.unlink(old)
			replaced = append(replaced, old)
		}
	}
	for _, name := range names {
		for _, fn := range src.libs[name].Functions {
			if dst.funcs[strings.ToLower(fn.Name)] != nil {
				revert()
				return "Function " + fn.Name + " already exists"
			}
		}
	}
	for _, name := range names {
		dst.link(src.libs[name])
	}
	return ""
}

// Dump returns the codes of the libraries, sorted by name, for DUMP.
func (f *Functions) Dump() []string {
	libs := f.Libraries()
	out := make([]string, len(libs))
	for i, l := range libs {
		out[i] = l.Code
	}
	return out
}

// create loads one library's code into set (Redis's
// functionsCreateWithLibraryCtx); timeout 0 means none. The caller holds
// vmMu and whatever guards set.
func (f *Functions) create(set *libSet, code string, replace bool, timeout time.Duration) (*Library, string) {
	name, body, msg := parseLibraryMeta(code)
	if msg != "" {
		return nil, msg
	}
	old := set.libs[name]
	if old != nil && !replace {
		return nil, "Library '" + name + "' already exists"
	}
	if old != nil {
		set.unlink(old)
	}
	fail := func(msg string) (*Library, string) {
		if old != nil {
			set.link(old)
		}
		return nil, msg
	}
	lib := &Library{Name: name, Code: code}
	if msg := f.runLibrary(lib, body, timeout); msg != "" {
		return fail(msg)
	}
	if len(lib.Functions) == 0 {
		return fail(errNoFunctions)
	}
	for _, fn := range lib.Functions {
		if set.funcs[strings.ToLower(fn.Name)] != nil {
			return fail("Function " + fn.Name + " already exists")
		}
	}
	set.link(lib)
	return lib, ""
}

// parseLibraryMeta reads the "#!<engine> name=<lib>" first line: the
// library name, the code to compile (from the line feed on, so line
// numbers stay the user's) and an error.
func parseLibraryMeta(code string) (name, body, msg string) {
	if !strings.HasPrefix(code, "#!") {
		return "", "", errMissingMeta
	}
	nl := strings.IndexByte(code, '\n')
	if nl < 0 {
		return "", "", errInvalidMeta
	}
	// Split as sdssplitargs splits, quotes and all: name="foo" names foo.
	args, err := resp.SplitArgs([]byte(code[:nl]))
	if err != nil || len(args) == 0 {
		return "", "", errInvalidMeta
	}
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = string(a)
	}
	engine := parts[0][2:]
	found := false
	for _, p := range parts[1:] {
		if len(p) >= 5 && strings.EqualFold(p[:5], "name=") {
			if found {
				return "", "", errNameTwice
			}
			name, found = p[5:], true
			continue
		}
		return "", "", "Invalid metadata value given: " + p
	}
	if !found {
		return "", "", errNoLibName
	}
	if !validName(name) {
		return "", "", errBadName
	}
	if !strings.EqualFold(engine, "lua") {
		return "", "", "Engine '" + engine + "' not found"
	}
	return name, code[nl:], ""
}

// validName: letters, digits and underscores, at least one.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// loadCtx stops a library's code past the load timeout, with Redis's
// message.
type loadCtx struct{ context.Context }

var errLoadTimeoutCtx = errors.New(errLoadTimeout)

func (c loadCtx) Err() error {
	if c.Context.Err() != nil {
		return errLoadTimeoutCtx
	}
	return nil
}

// runLibrary compiles and runs a library's code with the load-time
// globals, collecting the functions it registers into lib.
func (f *Functions) runLibrary(lib *Library, body string, timeout time.Duration) string {
	proto, err := compileAs(body, functionChunkName)
	if err != nil {
		return "Error compiling function: " + err.Error()
	}
	v := f.machine()
	L := v.L
	fn := L.NewFunctionFromProto(proto)
	fn.Env = v.env

	st := &loadState{lib: lib, funcs: map[string]*Function{}}
	f.loading = st
	f.envMT.RawSetString("__index", f.loadGlobals)
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	L.SetContext(loadCtx{ctx})
	defer func() {
		cancel()
		L.SetContext(v.ctx)
		f.envMT.RawSetString("__index", v.globals)
		f.loading = nil
		L.SetTop(0)
	}()
	L.SetTop(0)
	L.Push(fn)
	if err := L.PCall(0, 0, nil); err != nil {
		return "Error registering functions: " + loadErrorMessage(err)
	}
	names := make([]string, 0, len(st.funcs))
	for name := range st.funcs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		lib.Functions = append(lib.Functions, st.funcs[name])
	}
	return ""
}

// loadErrorMessage is the message of an error raised by a library's
// code (Redis's luaExtractErrorInformation): an error table's err, or
// "ERR " and the string.
func loadErrorMessage(err error) string {
	var obj lua.LValue = lua.LString(err.Error())
	if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
		obj = ae.Object
	}
	if t, ok := obj.(*lua.LTable); ok {
		return lua.LVAsString(t.RawGetString("err"))
	}
	if s, ok := obj.(lua.LString); ok && strings.Contains(string(s), errLoadTimeout) {
		return "ERR " + errLoadTimeout
	}
	return "ERR " + lua.LVAsString(obj)
}

// machine returns the functions' VM, building it on first use. The
// caller holds vmMu.
func (f *Functions) machine() *vm {
	if f.vm != nil {
		return f.vm
	}
	v := newVM()
	v.source = functionSourceName
	L := v.L
	f.envMT = v.env.Metatable.(*lua.LTable)

	missing := L.NewTable()
	missing.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", L.ToString(2))
		return 0
	}))

	api := L.NewTable()
	L.SetFuncs(api, map[string]lua.LGFunction{
		"register_function": f.registerFunction,
		"log":               v.redisLog,
	})
	for k, n := range map[string]int{"LOG_DEBUG": 0, "LOG_VERBOSE": 1, "LOG_NOTICE": 2, "LOG_WARNING": 3,
		"REDIS_VERSION_NUM": redisVersionNum} {
		api.RawSetString(k, lua.LNumber(n))
	}
	api.RawSetString("REDIS_VERSION", lua.LString(redisVersion))
	L.SetMetatable(api, missing)

	globals := L.NewTable()
	globals.RawSetString("redis", v.roProxy(api, lua.LFalse))
	L.SetMetatable(globals, missing)
	f.loadGlobals = globals
	f.vm = v
	return v
}

// registerFunction is redis.register_function(name, callback) or
// redis.register_function{function_name=, callback=, flags=,
// description=}, callable only while a library loads.
func (f *Functions) registerFunction(L *lua.LState) int {
	v := f.vm
	st := f.loading
	if st == nil {
		return v.fail(errRegisterOutside)
	}
	var fn Function
	switch L.GetTop() {
	case 1:
		if msg := readNamedArgs(L, &fn); msg != "" {
			return v.fail(msg)
		}
	case 2:
		name, ok := L.Get(1).(lua.LString)
		if !ok {
			if n, isNum := L.Get(1).(lua.LNumber); isNum {
				name, ok = lua.LString(n.String()), true
			}
		}
		if !ok {
			return v.fail("first argument to redis.register_function must be a string")
		}
		cb, ok := L.Get(2).(*lua.LFunction)
		if !ok {
			return v.fail("second argument to redis.register_function must be a function")
		}
		fn.Name, fn.fn = string(name), cb
	default:
		return v.fail(errRegisterArgCount)
	}
	if !validName(fn.Name) {
		return v.fail(errBadName)
	}
	if st.funcs[fn.Name] != nil {
		return v.fail(errFuncInLib)
	}
	fn.Library = st.lib
	st.funcs[fn.Name] = &fn
	return 0
}

// readNamedArgs reads register_function's table form, with Redis's
// checks and messages.
func readNamedArgs(L *lua.LState, fn *Function) string {
	t, ok := L.Get(1).(*lua.LTable)
	if !ok {
		return "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."
	}
	var name, desc string
	var hasName, hasDesc bool
	var cb *lua.LFunction
	var flags Flags
	msg := ""
	forEach(t, func(k, val lua.LValue) {
		if msg != "" {
			return
		}
		key, ok := luaToString(k)
		if !ok {
			msg = "named argument key given to redis.register_function is not a string"
			return
		}
		switch strings.ToLower(key) {
		case "function_name":
			if name, hasName = luaToString(val); !hasName {
				msg = "function_name argument given to redis.register_function must be a string"
			}
		case "description":
			if desc, hasDesc = luaToString(val); !hasDesc {
				msg = "description argument given to redis.register_function must be a string"
			}
		case "callback":
			if cb, ok = val.(*lua.LFunction); !ok {
				msg = "callback argument given to redis.register_function must be a function"
			}
		case "flags":
			ft, ok := val.(*lua.LTable)
			if !ok {
				msg = "flags argument to redis.register_function must be a table representing function flags"
				return
			}
			var fok bool
			if flags, fok = readFlags(ft); !fok {
				msg = "unknown flag given"
			}
		default:
			msg = "unknown argument given to redis.register_function"
		}
	})
	if msg != "" {
		return msg
	}
	if !hasName {
		return "redis.register_function must get a function name argument"
	}
	if cb == nil {
		return "redis.register_function must get a callback argument"
	}
	fn.Name, fn.Description, fn.HasDesc, fn.Flags, fn.fn = name, desc, hasDesc, flags, cb
	return ""
}

// readFlags reads a flags array: strings naming flags, case-insensitively.
func readFlags(t *lua.LTable) (Flags, bool) {
	var flags Flags
	for i := 1; ; i++ {
		lv := t.RawGetInt(i)
		if lv == lua.LNil {
			return flags, true
		}
		s, ok := luaToString(lv)
		if !ok {
			return 0, false
		}
		found := false
		for _, fl := range FunctionFlagNames {
			if strings.EqualFold(fl.Name, s) {
				flags |= fl.Flag
				found = true
				break
			}
		}
		if !found {
			return 0, false
		}
	}
}

// Call runs a function with its keys and arguments and writes its reply,
// or its error, to out, as Engine.Run does for scripts. cmd is the
// caller's command (FUNCTION STATS shows it); it is copied.
func (f *Functions) Call(fn *Function, keys, argv [][]byte, host Host, opts RunOptions, cmd [][]byte, out *resp.Writer) {
	f.vmMu.Lock()
	defer f.vmMu.Unlock()
	e := f.eng
	v := f.machine()
	L := v.L

	saved := make([][]byte, len(cmd))
	for i, a := range cmd {
		saved[i] = append([]byte(nil), a...)
	}
	r := &Run{start: time.Now(), threshold: opts.BusyThreshold, sha: fn.Name, done: make(chan struct{}),
		function: fn.Name, command: saved, finished: make(chan struct{})}
	defer watchMemory(r, opts.MemoryLimit)()
	defer watchSlow(r, opts, fn.Name, true)()
	v.run, v.host, v.resp = r, host, 2
	v.ctx.r.Store(r)
	e.cur.Store(r)
	running.Add(1)
	defer func() {
		running.Add(-1)
		e.cur.Store(nil)
		v.ctx.r.Store(nil)
		v.run, v.host = nil, nil
	}()

	L.SetTop(0)
	L.Push(fn.fn)
	L.Push(stringArray(L, keys))
	L.Push(stringArray(L, argv))
	err := L.PCall(2, 1, v.errFn)
	if err != nil {
		L.SetTop(0)
		out.Error(v.runError(err, fn.Name, r))
		return
	}
	ret := L.Get(-1)
	L.SetTop(0)
	v.writeReply(out, ret, 0)
}
