package server

import (
	"strings"
	"time"

	"github.com/corvid-db/corvid/internal/acl"
	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/resp"
	"github.com/corvid-db/corvid/internal/scripting"
)

// Scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, on the Lua
// engine of internal/scripting.
//
// # Atomicity
//
// EVAL and its family are AllShards commands: the dispatcher locks every
// shard before the handler runs, so a script is atomic and isolated like
// a transaction, whatever keys it touches, declared or not. The script's
// redis.call runs commands the way EXEC runs its queue: admitted here
// (lookup, arity, noscript, read-only scripts), then executed without
// locking through the client's execute, their replies written to a
// separate buffer which the engine parses back into Lua values.
//
// # Busy scripts
//
// Past busy-reply-threshold a running script is busy: ScriptBusyError
// gives the BUSY reply the dispatcher must answer other clients with
// (commands flagged allow_busy excepted), and SCRIPT KILL, which takes no
// lock, stops it if it has not written. EVAL's connection leaves its
// event loop first (OwnGoroutine), so that a long script never stalls the
// other connections of a loop, among which the one sending SCRIPT KILL.

// Errors of the scripting commands, worded as Redis words them.
const (
	errNumKeysGreater  = "ERR Number of keys can't be greater than number of args"
	errNumKeysNegative = "ERR Number of keys can't be negative"
	errROWithWriteFlag = "ERR Can not execute a script with write flag using *_ro command."
	errNotBusy         = "NOTBUSY No scripts in execution right now."
	errUnkillable      = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	errScriptBusy      = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	errFlushOption     = "ERR SCRIPT FLUSH only support SYNC|ASYNC option"
	errDebugOption     = "ERR Use SCRIPT DEBUG YES/SYNC/NO"
	errDebugUnsupport  = "ERR SCRIPT DEBUG is not supported"

	scriptUnknownCmd = "Unknown Redis command called from script"
	scriptWrongArity = "Wrong number of args calling Redis command from script"
	scriptNoScript   = "This Redis command is not allowed from script"
	scriptReadOnly   = "Write commands are not allowed from read-only scripts."
)

// scriptEngine returns the server's scripting engine, or nil before
// scriptCommands ran.
func (s *Server) scriptEngine() *scripting.Engine { return s.scripts }

// ScriptBusyError returns the BUSY reply other clients get while a
// script runs past busy-reply-threshold, or "" (one atomic load when no
// script runs). The dispatcher calls it for commands without allow_busy.
func (s *Server) ScriptBusyError() string {
	if !scripting.Running() {
		return ""
	}
	if e := s.scriptEngine(); e != nil && e.Busy() {
		return errScriptBusy
	}
	return ""
}

// scriptCommands are the scripting group. Arities, flags, key specs and
// ACL categories are Redis 7.2's (COMMAND INFO).
func (s *Server) scriptCommands() []*command.Command {
	eng := scripting.New()
	s.scripts = eng
	const (
		evalF = command.NoScript | command.SkipMonitor | command.NoMandatoryKeys | command.Stale |
			command.MovableKeys | command.AllShards | command.OwnGoroutine
		acl = command.CatSlow | command.CatScripting
	)
	rw := []command.KeySpec{{Flags: []string{"RW", "access", "update"},
		Notes:      "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE flags",
		BeginIndex: 2, KeyNumIdx: 1, FirstKey: 2, Step: 1}}
	ro := []command.KeySpec{{Flags: []string{"RO", "access"},
		Notes:      "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS flags",
		BeginIndex: 2, KeyNumIdx: 1, FirstKey: 2, Step: 1}}
	eval := func(name string, flags command.Flags, specs []command.KeySpec, since, summary string, sha, readOnly bool) *command.Command {
		if sha {
			// Redis notes the worst-case flags on EVAL's spec only.
			specs = []command.KeySpec{specs[0]}
			specs[0].Notes = ""
		}
		return &command.Command{Name: name, Arity: -3, Flags: flags, ACL: acl, KeySpecs: specs,
			Group: "scripting", Since: since, Summary: summary,
			Handler: func(c *command.Ctx) { s.evalGeneric(c, eng, sha, readOnly) }}
	}
	scriptF := command.NoScript | command.NoKeyspace
	sub := func(name string, arity int, flags command.Flags, tips []string, summary string, h func(*command.Ctx)) *command.Command {
		return &command.Command{Name: name, Arity: arity, Flags: flags, ACL: acl, Group: "scripting",
			Since: "2.6.0", Summary: summary, Tips: tips, Handler: h}
	}
	return []*command.Command{
		eval("eval", evalF|command.MayReplicate, rw, "2.6.0", "Executes a server-side Lua script.", false, false),
		eval("evalsha", evalF|command.MayReplicate, rw, "2.6.0", "Executes a server-side Lua script by SHA1 digest.", true, false),
		eval("eval_ro", evalF|command.ReadOnly, ro, "7.0.0", "Executes a read-only server-side Lua script.", false, true),
		eval("evalsha_ro", evalF|command.ReadOnly, ro, "7.0.0", "Executes a read-only server-side Lua script by SHA1 digest.", true, true),
		{Name: "script", Arity: -2, ACL: command.CatSlow, Group: "scripting", Since: "2.6.0",
			Summary: "A container for Lua scripts management commands.",
			Subcommands: []*command.Command{
				sub("script|debug", 3, scriptF, nil, "Sets the debug mode of server-side Lua scripts.", scriptDebugCommand),
				sub("script|exists", -3, scriptF, []string{"request_policy:all_shards", "response_policy:agg_logical_and"},
					"Determines whether server-side Lua scripts exist in the script cache.",
					func(c *command.Ctx) { scriptExistsCommand(c, eng) }),
				sub("script|flush", -2, scriptF, []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
					"Removes all server-side Lua scripts from the script cache.",
					func(c *command.Ctx) { s.scriptFlushCommand(c, eng) }),
				sub("script|help", 2, command.Loading|command.Stale|command.NoKeyspace, nil,
					"Returns helpful text about the different subcommands.", scriptHelpCommand),
				sub("script|kill", 2, scriptF|command.AllowBusy, []string{"request_policy:all_shards", "response_policy:one_succeeded"},
					"Terminates a server-side Lua script during execution.",
					func(c *command.Ctx) { scriptKillCommand(c, eng) }),
				sub("script|load", 3, scriptF|command.Stale, []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
					"Loads a server-side Lua script to the script cache.",
					func(c *command.Ctx) { scriptLoadCommand(c, eng) }),
			}},
	}
}

// evalGeneric runs EVAL, EVALSHA and their _RO variants, with every shard
// locked.
func (s *Server) evalGeneric(c *command.Ctx, eng *scripting.Engine, bySHA, readOnly bool) {
	// Shown to MONITOR before the commands the script runs.
	s.feedMonitorsAlways(client(c), c.Cmd, c.Args)
	numkeys, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	if numkeys > int64(len(c.Args)-3) {
		c.Error(errNumKeysGreater)
		return
	}
	if numkeys < 0 {
		c.Error(errNumKeysNegative)
		return
	}
	var sc *scripting.Script
	if bySHA {
		if sc = eng.Lookup(c.Args[1]); sc == nil {
			c.Error(scripting.ErrNoScript)
			return
		}
	} else {
		var msg string
		if sc, msg = eng.Load(c.Args[1], true); sc == nil {
			c.Error(msg)
			return
		}
	}
	compat := sc.Flags&scripting.FlagEvalCompat != 0
	noWrites := !compat && sc.Flags&scripting.FlagNoWrites != 0
	if readOnly && !compat && !noWrites {
		c.Error(errROWithWriteFlag)
		return
	}
	s.runScript(c, eng, sc.Flags, compat, readOnly || noWrites, int(numkeys),
		func(keys, argv [][]byte, h *scriptHost, opts scripting.RunOptions) {
			eng.Run(sc, keys, argv, h, opts, c.W)
		})
}

// runScript is what EVAL and FCALL share once the script or function is
// found: the OOM refusal of a script that may write, the host for its
// redis.call, the run options, and afterwards the caller's context and
// database back (the script's commands reused the context, and a SELECT
// inside a script does not change the caller's database).
func (s *Server) runScript(c *command.Ctx, eng *scripting.Engine, flags scripting.Flags, compat, readOnly bool, numkeys int,
	run func(keys, argv [][]byte, h *scriptHost, opts scripting.RunOptions)) {
	allowOOM := flags&scripting.FlagAllowOOM != 0
	if !compat && !readOnly && !allowOOM && s.pastMaxMemory() {
		// A script that may write is refused up front past maxmemory.
		c.Error(errOOM)
		return
	}
	cl := client(c)
	if !compat && !readOnly {
		// READONLY and NOREPLICAS too refuse a script that may write up front.
		if msg := s.replicationRefusal(cl, command.Write, true); msg != "" {
			if msg == errReadOnlyReplica {
				msg = errReadOnlyScript
			}
			c.Error(msg)
			return
		}
		// So does a failed save or AOF write (MISCONF), as Redis's
		// scriptPrepareForRun.
		if msg := s.diskErrorRefusal(); msg != "" && !cl.isMaster.Load() {
			c.Error(msg)
			return
		}
	}
	start := time.Now()
	h := &scriptHost{s: s, cl: cl, eng: eng, readOnly: readOnly, allowOOM: allowOOM, now: c.DB.Now(), start: start,
		callerCmd: c.Cmd, callerArgs: c.Args}
	outer := *c
	db := cl.db
	opts := scripting.RunOptions{
		ReadOnly:      readOnly,
		BusyThreshold: time.Duration(s.Config.Int("busy-reply-threshold")) * time.Millisecond,
		MemoryLimit:   s.maxMemory.Load(),
		Proto:         c.W.Proto,
		OnSlow:        s.logSlowScript,
	}
	run(c.Args[3:3+numkeys], c.Args[3+numkeys:], h, opts)
	outer.Scratch = c.Scratch
	*c = outer
	if cl.db != db {
		cl.selectDB(db)
	}
}

// logSlowScript is Redis's warning for a script past busy-reply-threshold
// (scriptInterrupt), which Redis's tests wait for.
func (s *Server) logSlowScript(elapsed time.Duration, name string, function bool) {
	kill := "FUNCTION KILL"
	if !function {
		kill, name = "SCRIPT KILL", "f_"+name
	}
	s.Log.Warningf("Slow script detected: still in execution after %d milliseconds. You can try killing the script using the %s command. Script name is: %s.",
		elapsed.Milliseconds(), kill, name)
}

// scriptHost runs a script's redis.call on behalf of a client.
type scriptHost struct {
	s        *Server
	cl       *Client
	eng      *scripting.Engine
	readOnly bool
	allowOOM bool // the allow-oom flag: denyoom commands run past maxmemory
	now      int64
	start    time.Time // when the script started: its commands' TIME

	// The EVAL or FCALL that runs the script: the ACL LOG's client info.
	callerCmd  *command.Command
	callerArgs [][]byte
}

// lookup resolves a command and its subcommand for a script.
func (h *scriptHost) lookup(args [][]byte) *command.Command {
	cmd := h.s.Table.Lookup(args[0])
	if cmd != nil && cmd.HasSubcommands() && len(args) >= 2 {
		cmd = cmd.Sub(args[1])
	}
	return cmd
}

// Call implements scripting.Host: Redis's scriptCall checks, then the
// command runs as a queued command of EXEC does.
func (h *scriptHost) Call(args [][]byte, w *resp.Writer) string {
	s, cl := h.s, h.cl
	cmd := h.lookup(args)
	refuse := func(msg string) string {
		if cmd != nil {
			cmd.Stats.Rejected.Add(1)
		}
		if code, ok := strings.CutPrefix(msg, "-"); ok {
			s.countError([]byte(code)) // the refusal carries its own code (OOM…)
		} else {
			s.countError([]byte("ERR " + msg))
		}
		return msg
	}
	if cmd == nil {
		return refuse(scriptUnknownCmd)
	}
	if !cmd.CheckArity(len(args)) {
		return refuse(scriptWrongArity)
	}
	if cmd.Flags&command.NoScript != 0 && !s.admin().disableDenyScripts.Load() {
		return refuse(scriptNoScript)
	}
	// The caller's ACLs (not the primary's stream or the AOF, as in Redis).
	if !cl.isMaster.Load() && !cl.aofLoading {
		if r, pos := cl.aclDenied(cmd, args); r != acl.Allowed {
			name := cl.aclAccount.Load().Name()
			s.logACLDenialAs(cl, r, acl.ContextLua, cmd, args, pos, name, h.callerCmd, h.callerArgs)
			return refuse(acl.ScriptNoPermError(r, name, cmd.FullName(), args[pos]))
		}
	}
	if h.readOnly && cmd.Flags&(command.Write|command.MayReplicate) != 0 {
		return refuse(scriptReadOnly)
	}
	if cmd.Flags&command.DenyOOM != 0 && !h.allowOOM && s.pastMaxMemory() {
		return refuse("-" + errOOM)
	}
	if cmd.Flags&command.Write != 0 {
		if msg := s.replicationRefusal(cl, cmd.Flags, true); msg != "" {
			return refuse("-" + msg)
		}
		if msg := s.diskErrorRefusal(); msg != "" && !cl.isMaster.Load() {
			return refuse("-" + msg)
		}
	}
	if cmd.Flags&command.Write != 0 {
		if r := h.eng.Current(); r != nil {
			r.MarkDirty()
		}
	}
	saved := cl.w
	cl.w = resp.Writer{Buf: w.Buf[:0], Proto: w.Proto}
	cl.inScript = true
	cl.ctx.ScriptStart = h.start
	dur := cl.execute(cmd, args, h.now, true)
	cl.inScript = false
	w.Buf = cl.w.Buf
	cl.w = saved
	cl.account(cmd, args, dur)
	return ""
}

// Log implements scripting.Host: redis.log writes to the server log.
func (h *scriptHost) Log(level int, msg string) {
	switch level {
	case 0:
		h.s.Log.Debugf("%s", msg)
	case 1:
		h.s.Log.Verbosef("%s", msg)
	case 2:
		h.s.Log.Noticef("%s", msg)
	default:
		h.s.Log.Warningf("%s", msg)
	}
}

// CommandExists implements scripting.Host.
func (h *scriptHost) CommandExists(args [][]byte) bool { return h.lookup(args) != nil }

// ErrorCounted implements scripting.Host: the script's error reply was
// counted when its redis.call failed, so EVAL's is not counted again.
func (h *scriptHost) ErrorCounted() { h.cl.errCounted = true }

func scriptExistsCommand(c *command.Ctx, eng *scripting.Engine) {
	c.W.ArrayLen(len(c.Args) - 2)
	for _, sha := range c.Args[2:] {
		if eng.Exists(sha) {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

func (s *Server) scriptFlushCommand(c *command.Ctx, eng *scripting.Engine) {
	switch {
	case len(c.Args) == 2:
	case len(c.Args) == 3 && (strings.EqualFold(string(c.Args[2]), "sync") || strings.EqualFold(string(c.Args[2]), "async")):
	default:
		c.Error(errFlushOption)
		return
	}
	eng.Flush()
	c.OK()
}

func scriptLoadCommand(c *command.Ctx, eng *scripting.Engine) {
	sc, msg := eng.Load(c.Args[2], false)
	if sc == nil {
		c.Error(msg)
		return
	}
	c.W.BulkString(sc.SHA)
}

func scriptKillCommand(c *command.Ctx, eng *scripting.Engine) {
	switch eng.KillRun(false) {
	case scripting.KillNotBusy:
		c.Error(errNotBusy)
	case scripting.KillWrongKind:
		c.Error(errFunctionBusy)
	case scripting.KillUnkillable:
		c.Error(errUnkillable)
	default:
		c.OK()
	}
}

// scriptDebugCommand: the Lua debugger (LDB) is not implemented; NO, the
// default, is accepted.
func scriptDebugCommand(c *command.Ctx) {
	switch strings.ToLower(string(c.Args[2])) {
	case "no":
		c.OK()
	case "yes", "sync":
		c.Error(errDebugUnsupport)
	default:
		c.Error(errDebugOption)
	}
}

func scriptHelpCommand(c *command.Ctx) {
	replyHelp(c, []string{
		"DEBUG (YES|SYNC|NO)",
		"    Set the debug mode for subsequent scripts executed.",
		"EXISTS <sha1> [<sha1> ...]",
		"    Return information about the existence of the scripts in the script cache.",
		"FLUSH [ASYNC|SYNC]",
		"    Flush the Lua scripts cache. Very dangerous on replicas.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the scripts cache.",
		"    * SYNC: Synchronously flush the scripts cache.",
		"KILL",
		"    Kill the currently executing Lua script.",
		"LOAD <script>",
		"    Load a script into the scripts cache without executing it.",
	})
}
