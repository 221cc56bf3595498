// Package scripting is Corvid's Lua engine for EVAL and its family: Lua 5.1
// on github.com/yuin/gopher-lua, sandboxed as Redis 7.2 sandboxes its
// interpreter (read-only globals and libraries, no os, io, loadfile,
// dofile, require or print), the redis.* API, the cjson, bit, struct and
// cmsgpack libraries, the conversions between RESP replies and Lua values
// in both directions and both protocols, the script cache keyed by SHA1,
// and the busy-script machinery behind SCRIPT KILL.
//
// The engine knows nothing of the server: a script's redis.call and
// redis.pcall go through a Host, which admits and runs the command and
// writes its reply in RESP; the engine parses that reply back into Lua
// values.
//
// # Why gopher-lua
//
// Redis embeds Lua 5.1 and scripts in the wild depend on its exact
// semantics (1-based tables, no integers, string patterns). gopher-lua is
// a maintained, pure-Go Lua 5.1 VM: no cgo (Corvid stays one static
// binary, and the race detector and profiler see the scripts), compiled
// prototypes can be shared, and it has a context hook for SCRIPT KILL.
package scripting

import (
	"container/list"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/resp"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Script flags from a "#!lua flags=..." shebang.
const (
	FlagNoWrites Flags = 1 << iota
	FlagAllowOOM
	FlagAllowStale
	FlagNoCluster
	FlagAllowCrossSlot
	// FlagEvalCompat marks a script without a shebang: Redis then runs it
	// in the backwards-compatible mode where the flags are not enforced.
	FlagEvalCompat
)

// Flags are a script's shebang flags.
type Flags uint32

// maxEvalScripts bounds the scripts EVAL adds to the cache: past it the
// least recently used of them is dropped (scripts from SCRIPT LOAD are
// kept until SCRIPT FLUSH), so clients that generate script bodies cannot
// grow the cache without bound.
const maxEvalScripts = 500

// Errors, worded as Redis 7.2 words them.
const (
	ErrNoScript     = "NOSCRIPT No matching script. Please use EVAL."
	errKilled       = "Script killed by user with SCRIPT KILL..."
	errReadonly     = "Attempt to modify a readonly table"
	errCompilePfx   = "ERR Error compiling script (new function): "
	errShebangEng   = "ERR Unexpected engine in script shebang: "
	errShebangOpt   = "ERR Unknown lua shebang option: "
	errShebangFlag  = "ERR Unexpected flag in script shebang: "
	errArgsType     = "Lua redis lib command arguments must be strings or integers"
	errNoArgs       = "Please specify at least one argument for this redis lib call"
	errStackLimit   = "ERR reached lua stack limit"
	chunkName       = "user_script"
	chunkSourceName = "@user_script"
)

// Script is a compiled script of the cache.
type Script struct {
	SHA   string // lower-case hex SHA1 of Body
	Body  string
	Flags Flags
	// proto is shared by every VM; fn is proto bound to the engine's VM.
	proto *lua.FunctionProto
	fn    *lua.LFunction
	fnVM  *vm
	// fromEval: added by EVAL (evictable) rather than SCRIPT LOAD.
	fromEval bool
	lru      *list.Element
}

// Host runs the commands a script calls.
type Host interface {
	// Call admits and runs one command for redis.call or redis.pcall,
	// writing its reply to w (whose Proto is the script's protocol). A
	// refusal before the command runs ("Unknown Redis command called from
	// script", "Write commands are not allowed from read-only scripts."…)
	// is returned instead, in Redis's words without an error code.
	Call(args [][]byte, w *resp.Writer) (refusal string)
	// Log writes a redis.log line at a Redis log level (0 debug … 3 warning).
	Log(level int, msg string)
	// CommandExists reports whether args name a command (redis.acl_check_cmd).
	CommandExists(args [][]byte) bool
	// ErrorCounted is called when the run's reply is an error a redis.call
	// already produced (and the error statistics already counted): the
	// script's reply must not be counted again, as Redis's
	// ignore_err_stats_update.
	ErrorCounted()
}

// RunOptions are the per-run settings of Run.
type RunOptions struct {
	// ReadOnly: EVAL_RO, EVALSHA_RO or a no-writes script; the Host
	// enforces it, the engine only records it for the Host's use.
	ReadOnly bool
	// BusyThreshold is busy-reply-threshold: past it the run is busy and
	// may be killed; 0 disables both.
	BusyThreshold time.Duration
	// Proto is the calling client's protocol, for the script's reply.
	Proto int
	// MemoryLimit (maxmemory, bytes; 0 = none) bounds the heap while the
	// script runs (see memlimit.go).
	MemoryLimit int64
	// OnSlow, when set, is called once if the run passes BusyThreshold,
	// from another goroutine, with the script's SHA1 or the function's
	// name and whether it is a function: Redis logs "Slow script
	// detected" then.
	OnSlow func(elapsed time.Duration, name string, function bool)
}

// watchSlow calls opts.OnSlow if r runs past its threshold; the returned
// function ends the watch.
func watchSlow(r *Run, opts RunOptions, name string, function bool) func() {
	if opts.OnSlow == nil || opts.BusyThreshold <= 0 {
		return func() {}
	}
	t := time.AfterFunc(opts.BusyThreshold, func() {
		select {
		case <-r.finished:
		default:
			opts.OnSlow(time.Since(r.start), name, function)
		}
	})
	return func() {
		close(r.finished)
		t.Stop()
	}
}

// Engine is one server's scripting state: the cache and the VM.
type Engine struct {
	cacheMu sync.RWMutex
	cache   map[string]*Script // guarded by cacheMu
	evalLRU list.List          // EVAL-added scripts, most recent first; guarded by cacheMu
	memory  atomic.Int64       // bytes of cached bodies

	// vmMu serialises runs: the dispatcher already runs scripts one at a
	// time (they lock every shard), this only protects the VM itself.
	vmMu sync.Mutex
	vm   *vm

	cur atomic.Pointer[Run]
}

// New returns an empty engine.
func New() *Engine {
	return &Engine{cache: map[string]*Script{}}
}

// SHA1Hex returns the lower-case hex SHA1 of s.
func SHA1Hex(s []byte) string {
	sum := sha1.Sum(s)
	return hex.EncodeToString(sum[:])
}

// Lookup finds a cached script by SHA1 (any case).
func (e *Engine) Lookup(sha []byte) *Script {
	if len(sha) != 40 {
		return nil
	}
	var buf [40]byte
	for i, b := range sha {
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		buf[i] = b
	}
	e.cacheMu.RLock()
	s := e.cache[string(buf[:])]
	e.cacheMu.RUnlock()
	return s
}

// Exists reports whether a script is cached under sha (exact, as SCRIPT
// EXISTS compares).
func (e *Engine) Exists(sha []byte) bool {
	e.cacheMu.RLock()
	_, ok := e.cache[string(sha)]
	e.cacheMu.RUnlock()
	return ok
}

// Len returns the number of cached scripts.
func (e *Engine) Len() int {
	e.cacheMu.RLock()
	defer e.cacheMu.RUnlock()
	return len(e.cache)
}

// Memory returns the bytes held by cached script bodies (INFO's
// used_memory_scripts_eval).
func (e *Engine) Memory() int64 { return e.memory.Load() }

// Load compiles body and caches it, or returns the cached script. fromEval
// marks scripts added by EVAL, which the cache may evict. The error is
// the reply to give.
func (e *Engine) Load(body []byte, fromEval bool) (*Script, string) {
	sha := SHA1Hex(body)
	e.cacheMu.Lock()
	if s := e.cache[sha]; s != nil {
		if s.lru != nil {
			e.evalLRU.MoveToFront(s.lru)
		}
		e.cacheMu.Unlock()
		return s, ""
	}
	e.cacheMu.Unlock()

	flags, skip, msg := parseShebang(body)
	if msg != "" {
		return nil, msg
	}
	src := string(body)
	// The shebang line is skipped but its line feed kept, so line numbers
	// in errors stay the user's.
	proto, err := compile(src[skip:])
	if err != nil {
		return nil, errCompilePfx + err.Error()
	}
	s := &Script{SHA: sha, Body: src, Flags: flags, proto: proto, fromEval: fromEval}

	e.cacheMu.Lock()
	defer e.cacheMu.Unlock()
	if old := e.cache[sha]; old != nil {
		return old, ""
	}
	e.cache[sha] = s
	e.memory.Add(int64(len(src) + 40))
	if fromEval {
		s.lru = e.evalLRU.PushFront(s)
		for e.evalLRU.Len() > maxEvalScripts {
			last := e.evalLRU.Back()
			old := last.Value.(*Script)
			e.evalLRU.Remove(last)
			old.lru = nil
			delete(e.cache, old.SHA)
			e.memory.Add(-int64(len(old.Body) + 40))
		}
	}
	return s, ""
}

// Flush empties the cache (SCRIPT FLUSH) and drops the VM, whose
// memory goes with it. A running script keeps its own references.
func (e *Engine) Flush() {
	e.cacheMu.Lock()
	e.cache = map[string]*Script{}
	e.evalLRU.Init()
	e.memory.Store(0)
	e.cacheMu.Unlock()
	if e.vmMu.TryLock() {
		e.vm = nil
		e.vmMu.Unlock()
	}
}

// compile parses and compiles a script body.
func compile(src string) (*lua.FunctionProto, error) { return compileAs(src, chunkName) }

// compileAs compiles src as the chunk name ("user_script" for EVAL,
// "user_function" for function libraries), which runtime errors cite.
func compileAs(src, name string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		return nil, compileError(err, name)
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, compileError(err, name)
	}
	return proto, nil
}

// compileError rewords gopher-lua's syntax errors closer to Lua's
// "user_script:1: message" form.
func compileError(err error, name string) error {
	msg := strings.TrimSpace(err.Error())
	// gopher-lua: "user_script line:1(column:9) near 'x':   syntax error"
	if rest, ok := strings.CutPrefix(msg, name+" line:"); ok {
		line := rest
		if i := strings.IndexByte(rest, '('); i >= 0 {
			line = rest[:i]
		}
		detail := rest
		if i := strings.Index(rest, "near"); i >= 0 {
			detail = rest[i:]
		}
		parts := strings.SplitN(detail, ":", 2)
		if len(parts) == 2 {
			detail = strings.TrimSpace(parts[1]) + " " + strings.TrimSpace(parts[0])
		}
		return errors.New(name + ":" + line + ": " + strings.Join(strings.Fields(detail), " "))
	}
	return errors.New(strings.Join(strings.Fields(msg), " "))
}

// parseShebang reads a "#!lua flags=a,b" first line: the flags, how many
// bytes to skip (the line without its line feed) and an error reply.
// Without a shebang the script runs in the compatible mode.
func parseShebang(body []byte) (Flags, int, string) {
	if len(body) < 2 || body[0] != '#' || body[1] != '!' {
		return FlagEvalCompat, 0, ""
	}
	end := len(body)
	for i, b := range body {
		if b == '\n' {
			end = i
			break
		}
	}
	parts := strings.Fields(string(body[2:end]))
	if len(parts) == 0 || parts[0] != "lua" {
		eng := ""
		if len(parts) > 0 {
			eng = parts[0]
		}
		return 0, 0, errShebangEng + eng
	}
	var flags Flags
	for _, p := range parts[1:] {
		v, ok := strings.CutPrefix(p, "flags=")
		if !ok {
			return 0, 0, errShebangOpt + p
		}
		for _, f := range strings.Split(v, ",") {
			switch f {
			case "":
			case "no-writes":
				flags |= FlagNoWrites
			case "allow-oom":
				flags |= FlagAllowOOM
			case "allow-stale":
				flags |= FlagAllowStale
			case "no-cluster":
				flags |= FlagNoCluster
			case "allow-cross-slot-keys":
				flags |= FlagAllowCrossSlot
			default:
				return 0, 0, errShebangFlag + f
			}
		}
	}
	return flags, end, ""
}

// Run is one script execution in progress; SCRIPT KILL and the
// dispatcher's busy check look at it from other goroutines.
type Run struct {
	start     time.Time
	threshold time.Duration
	finished  chan struct{} // closed when the run ends (watchSlow)
	dirty     atomic.Bool   // a write command ran: the script can no longer be killed
	killed    atomic.Bool
	oom       atomic.Bool   // stopped by the memory watchdog, not SCRIPT KILL
	done      chan struct{} // closed by Kill
	sha       string
	// function is the name of the function FCALL runs ("" for EVAL), and
	// command the caller's arguments (copied), for FUNCTION STATS.
	function string
	command  [][]byte
}

// Function returns the name of the function the run executes, or "" for
// an EVAL script.
func (r *Run) Function() string { return r.function }

// Command returns the arguments of the command that started the run
// (FCALL runs only).
func (r *Run) Command() [][]byte { return r.command }

// Duration is how long the run has been going.
func (r *Run) Duration() time.Duration { return time.Since(r.start) }

// MarkDirty records that the running script wrote to the dataset. The
// Host calls it before running a write command.
func (r *Run) MarkDirty() { r.dirty.Store(true) }

// Killed reports whether SCRIPT KILL stopped the run.
func (r *Run) Killed() bool { return r.killed.Load() }

// runCtx is the context gopher-lua polls between instructions: Done is
// closed by SCRIPT KILL, and Err then gives the message scripts see.
type runCtx struct{ r atomic.Pointer[Run] }

var errKilledCtx = errors.New(errKilled)
var neverDone = make(chan struct{})

func (c *runCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *runCtx) Done() <-chan struct{} {
	if r := c.r.Load(); r != nil {
		return r.done
	}
	return neverDone
}
func (c *runCtx) Err() error {
	if r := c.r.Load(); r != nil && r.killed.Load() {
		if r.oom.Load() {
			return errOOMCtx
		}
		return errKilledCtx
	}
	return nil
}
func (c *runCtx) Value(any) any { return nil }

var _ context.Context = (*runCtx)(nil)

// running counts the scripts running in every engine of the process, so
// that the dispatcher's busy check costs one atomic load when none runs.
var running atomic.Int32

// Busy reports whether a script has been running for longer than its
// busy threshold: other clients then get BUSY.
func (e *Engine) Busy() bool {
	if running.Load() == 0 {
		return false
	}
	r := e.cur.Load()
	return r != nil && r.threshold > 0 && time.Since(r.start) >= r.threshold
}

// Current returns the run in progress, or nil.
func (e *Engine) Current() *Run { return e.cur.Load() }

// KillResult is the outcome of Kill.
type KillResult int

// Kill outcomes.
const (
	KillOK KillResult = iota
	KillNotBusy
	KillUnkillable
)

// KillWrongKind: SCRIPT KILL while a function runs, or FUNCTION KILL
// while an EVAL script runs; Redis answers BUSY, naming the right command.
const KillWrongKind KillResult = 100

// Kill stops the running script unless it wrote (SCRIPT KILL). Only a
// busy script can be killed, as in Redis, where SCRIPT KILL is served
// only while a script is past the threshold. A running function is not
// killed (KillNotBusy; KillRun tells KillWrongKind apart).
func (e *Engine) Kill() KillResult {
	res := e.KillRun(false)
	if res == KillWrongKind {
		return KillNotBusy
	}
	return res
}

// KillRun is SCRIPT KILL (function false) and FUNCTION KILL (true): each
// stops only its own kind of run, in Redis's order of checks.
func (e *Engine) KillRun(function bool) KillResult {
	r := e.cur.Load()
	if r == nil || r.threshold <= 0 || time.Since(r.start) < r.threshold {
		return KillNotBusy
	}
	if r.dirty.Load() {
		return KillUnkillable
	}
	if (r.function != "") != function {
		return KillWrongKind
	}
	if r.killed.CompareAndSwap(false, true) {
		close(r.done)
	}
	return KillOK
}

// Running reports whether a script is running in any engine of the
// process: the dispatcher's busy check starts with this one atomic load.
func Running() bool { return running.Load() != 0 }

// ShebangFlags returns the flags a script body declares in its shebang
// (FlagEvalCompat without one), for decisions taken before it runs, such
// as whether CLIENT PAUSE WRITE holds it back.
func ShebangFlags(body []byte) Flags {
	f, _, _ := parseShebang(body)
	return f
}
