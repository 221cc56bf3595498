package server

import (
	"strings"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/resp"
	"github.com/corvid-db/corvid/internal/scripting"
)

// Functions: FUNCTION LOAD|DELETE|FLUSH|LIST|STATS|KILL|DUMP|RESTORE|HELP,
// FCALL and FCALL_RO, on internal/scripting's function registry.
//
// FCALL and FCALL_RO are declared like EVAL (AllShards, OwnGoroutine):
// a function runs atomically and isolated, its redis.call goes through
// the same scriptHost, and it shares the engine's run state, so BUSY and
// the kill commands treat functions and scripts alike. The commands that
// change the libraries are AllShards too: they wait for a running
// FCALL rather than change the libraries under it, and they leave the
// event loop while a script runs.

// Errors of the function commands, worded as Redis words them.
const (
	errFunctionNotFound = "ERR Function not found"
	errBadNumKeys       = "ERR Bad number of keys provided"
	errLibNotFound      = "ERR Library not found"
	errCodeMissing      = "ERR Function code is missing"
	errRestorePolicy    = "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
	errFuncFlushOption  = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"
	errNoLibName        = "ERR library name argument was not given"
	errFunctionBusy     = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
)

// functionRegistry returns the server's function registry, or nil before
// functionCommands ran (INFO's number_of_functions, for instance).
func (s *Server) functionRegistry() *scripting.Functions { return s.functions }

// functionCommands are the function group. Arities, flags, key specs,
// tips and ACL categories are Redis 7.2's (COMMAND INFO).
func (s *Server) functionCommands() []*command.Command {
	eng := s.scriptEngine()
	if eng == nil {
		eng = scripting.New()
		s.scripts = eng
	}
	fns := scripting.NewFunctions(eng)
	s.functions = fns

	const (
		fcallF = command.NoScript | command.SkipMonitor | command.NoMandatoryKeys | command.Stale |
			command.MovableKeys | command.AllShards | command.OwnGoroutine
		acl = command.CatSlow | command.CatScripting
		// Changing the libraries waits for a running FCALL (AllShards).
		changeF = command.NoScript | command.Write | command.AllShards
	)
	rw := []command.KeySpec{{Flags: []string{"RW", "access", "update"},
		Notes:      "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE flags",
		BeginIndex: 2, KeyNumIdx: 1, FirstKey: 2, Step: 1}}
	ro := []command.KeySpec{{Flags: []string{"RO", "access"},
		Notes:      "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS flags",
		BeginIndex: 2, KeyNumIdx: 1, FirstKey: 2, Step: 1}}
	allShards := []string{"request_policy:all_shards", "response_policy:all_succeeded"}
	sub := func(name string, arity int, flags command.Flags, cats uint64, tips []string, summary string, h func(*command.Ctx)) *command.Command {
		return &command.Command{Name: "function|" + name, Arity: arity, Flags: flags, ACL: acl | cats,
			Group: "scripting", Since: "7.0.0", Summary: summary, Tips: tips, Handler: h}
	}
	container := &command.Command{Name: "function", Arity: -2, ACL: command.CatSlow, Group: "scripting", Since: "7.0.0",
		Summary: "A container for function commands.",
		Subcommands: []*command.Command{
			sub("delete", 3, changeF, command.CatWrite, allShards, "Deletes a library and its functions.",
				func(c *command.Ctx) { functionDeleteCommand(c, fns) }),
			sub("dump", 2, command.NoScript|command.NoKeyspace, 0, nil, "Dumps all libraries into a serialized binary payload.",
				func(c *command.Ctx) { c.W.Bulk(scripting.DumpPayload(fns.Dump())) }),
			sub("flush", -2, changeF, command.CatWrite, allShards, "Deletes all libraries and functions.",
				func(c *command.Ctx) { functionFlushCmd(c, fns) }),
			sub("help", 2, command.Loading|command.Stale|command.NoKeyspace, 0, nil,
				"Returns helpful text about the different subcommands.", functionHelpCmd),
			sub("kill", 2, command.NoScript|command.AllowBusy|command.NoKeyspace, 0,
				[]string{"request_policy:all_shards", "response_policy:one_succeeded"},
				"Terminates a function during execution.", func(c *command.Ctx) { functionKillCommand(c, eng) }),
			sub("list", -2, command.NoScript|command.NoKeyspace, 0, []string{"nondeterministic_output_order"},
				"Returns information about all libraries.", func(c *command.Ctx) { functionListCommand(c, fns) }),
			sub("load", -3, changeF|command.DenyOOM, command.CatWrite, allShards, "Creates a library.",
				func(c *command.Ctx) { functionLoadCommand(c, fns) }),
			sub("restore", -3, changeF|command.DenyOOM, command.CatWrite, allShards, "Restores all libraries from a payload.",
				func(c *command.Ctx) { functionRestoreCommand(c, fns) }),
			sub("stats", 2, command.NoScript|command.AllowBusy|command.NoKeyspace, 0,
				[]string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
				"Returns information about a function during execution.",
				func(c *command.Ctx) { functionStatsCommand(c, eng, fns) }),
		}}
	fcall := func(name string, flags command.Flags, specs []command.KeySpec, summary string, readOnly bool) *command.Command {
		return &command.Command{Name: name, Arity: -3, Flags: flags, ACL: acl, KeySpecs: specs,
			Group: "scripting", Since: "7.0.0", Summary: summary,
			Handler: func(c *command.Ctx) { s.fcallGeneric(c, eng, fns, readOnly) }}
	}
	cmds := []*command.Command{
		fcall("fcall", fcallF|command.MayReplicate, rw, "Invokes a function.", false),
		fcall("fcall_ro", fcallF|command.ReadOnly, ro, "Invokes a read-only function.", true),
	}
	return append(cmds, container)
}

// fcallGeneric runs FCALL and FCALL_RO, with every shard locked.
func (s *Server) fcallGeneric(c *command.Ctx, eng *scripting.Engine, fns *scripting.Functions, readOnly bool) {
	// Shown to MONITOR before the commands the function runs.
	s.feedMonitorsAlways(client(c), c.Cmd, c.Args)
	fn := fns.Lookup(c.Args[1])
	if fn == nil {
		c.Error(errFunctionNotFound)
		return
	}
	numkeys, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(errBadNumKeys)
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
	noWrites := fn.Flags&scripting.FlagNoWrites != 0
	if readOnly && !noWrites {
		c.Error(errROWithWriteFlag)
		return
	}
	s.runScript(c, eng, fn.Flags, false, readOnly || noWrites, int(numkeys),
		func(keys, argv [][]byte, h *scriptHost, opts scripting.RunOptions) {
			fns.Call(fn, keys, argv, h, opts, c.Args, c.W)
		})
}

func functionLoadCommand(c *command.Ctx, fns *scripting.Functions) {
	replace := false
	pos := 2
	for ; pos < len(c.Args)-1; pos++ {
		if !strings.EqualFold(string(c.Args[pos]), "replace") {
			c.Error("ERR Unknown option given: " + string(c.Args[pos]))
			return
		}
		replace = true
	}
	if pos >= len(c.Args) {
		c.Error(errCodeMissing)
		return
	}
	name, msg := fns.Load(c.Args[pos], replace)
	if msg != "" {
		c.Error("ERR " + msg)
		return
	}
	c.Dirty++ // as Redis: counts as a change, and replicas load it too
	c.W.BulkString(name)
}

func functionDeleteCommand(c *command.Ctx, fns *scripting.Functions) {
	if !fns.Delete(c.Args[2]) {
		c.Error(errLibNotFound)
		return
	}
	c.Dirty++
	c.OK()
}

func functionFlushCmd(c *command.Ctx, fns *scripting.Functions) {
	if len(c.Args) > 3 {
		subcommandSyntaxError(c)
		return
	}
	if len(c.Args) == 3 {
		mode := strings.ToLower(string(c.Args[2]))
		if mode != "sync" && mode != "async" {
			c.Error(errFuncFlushOption)
			return
		}
	}
	fns.Flush()
	c.Dirty++
	c.OK()
}

func functionRestoreCommand(c *command.Ctx, fns *scripting.Functions) {
	if len(c.Args) > 4 {
		subcommandSyntaxError(c)
		return
	}
	policy := scripting.RestoreAppend
	if len(c.Args) == 4 {
		switch strings.ToLower(string(c.Args[3])) {
		case "append":
		case "replace":
			policy = scripting.RestoreReplace
		case "flush":
			policy = scripting.RestoreFlush
		default:
			c.Error(errRestorePolicy)
			return
		}
	}
	payload := c.Args[2]
	if !scripting.VerifyPayload(payload) {
		c.Error(scripting.ErrPayload)
		return
	}
	codes, msg := scripting.ParsePayload(payload)
	if msg == "" {
		msg = fns.Restore(codes, policy)
	}
	if msg != "" {
		c.Error("ERR " + msg)
		return
	}
	c.Dirty++
	c.OK()
}

func functionListCommand(c *command.Ctx, fns *scripting.Functions) {
	withCode := false
	var pattern []byte
	hasPattern := false
	for i := 2; i < len(c.Args); i++ {
		a := c.Args[i]
		if !withCode && strings.EqualFold(string(a), "withcode") {
			withCode = true
			continue
		}
		if !hasPattern && strings.EqualFold(string(a), "libraryname") {
			if i >= len(c.Args)-1 {
				c.Error(errNoLibName)
				return
			}
			i++
			pattern, hasPattern = c.Args[i], true
			continue
		}
		c.Error("ERR Unknown argument " + string(a))
		return
	}
	libs := fns.Libraries()
	if hasPattern {
		kept := libs[:0]
		for _, l := range libs {
			if config.GlobMatch(pattern, []byte(l.Name), true) {
				kept = append(kept, l)
			}
		}
		libs = kept
	}
	w := c.W
	w.ArrayLen(len(libs))
	for _, l := range libs {
		if withCode {
			w.MapLen(4)
		} else {
			w.MapLen(3)
		}
		w.BulkString("library_name")
		w.BulkString(l.Name)
		w.BulkString("engine")
		w.BulkString(l.Engine())
		w.BulkString("functions")
		w.ArrayLen(len(l.Functions))
		for _, fn := range l.Functions {
			w.MapLen(3)
			w.BulkString("name")
			w.BulkString(fn.Name)
			w.BulkString("description")
			if fn.HasDesc {
				w.BulkString(fn.Description)
			} else {
				w.Null()
			}
			w.BulkString("flags")
			n := 0
			for _, f := range scripting.FunctionFlagNames {
				if fn.Flags&f.Flag != 0 {
					n++
				}
			}
			w.SetLen(n)
			for _, f := range scripting.FunctionFlagNames {
				if fn.Flags&f.Flag != 0 {
					w.SimpleString(f.Name)
				}
			}
		}
		if withCode {
			w.BulkString("library_code")
			w.BulkString(l.Code)
		}
	}
}

func functionStatsCommand(c *command.Ctx, eng *scripting.Engine, fns *scripting.Functions) {
	r := eng.Current()
	if r != nil && r.Function() == "" {
		c.Error(errScriptBusy)
		return
	}
	w := c.W
	w.MapLen(2)
	w.BulkString("running_script")
	if r == nil {
		w.Null()
	} else {
		w.MapLen(3)
		w.BulkString("name")
		w.BulkString(r.Function())
		w.BulkString("command")
		cmd := r.Command()
		w.ArrayLen(len(cmd))
		for _, a := range cmd {
			w.Bulk(a)
		}
		w.BulkString("duration_ms")
		w.Int(r.Duration().Milliseconds())
	}
	libs, funcs := fns.Counts()
	w.BulkString("engines")
	w.MapLen(1)
	w.BulkString("LUA")
	w.MapLen(2)
	w.BulkString("libraries_count")
	w.Int(int64(libs))
	w.BulkString("functions_count")
	w.Int(int64(funcs))
}

func functionKillCommand(c *command.Ctx, eng *scripting.Engine) {
	switch eng.KillRun(true) {
	case scripting.KillNotBusy:
		c.Error(errNotBusy)
	case scripting.KillUnkillable:
		c.Error(errUnkillable)
	case scripting.KillWrongKind:
		c.Error(errScriptBusy)
	default:
		c.OK()
	}
}

func functionHelpCmd(c *command.Ctx) {
	replyHelp(c, []string{
		"LOAD [REPLACE] <FUNCTION CODE>",
		"    Create a new library with the given library name and code.",
		"DELETE <LIBRARY NAME>",
		"    Delete the given library.",
		"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
		"    Return general information on all the libraries:",
		"    * Library name",
		"    * The engine used to run the Library",
		"    * Library description",
		"    * Functions list",
		"    * Library code (if WITHCODE is given)",
		"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
		"STATS",
		"    Return information about the current function running:",
		"    * Function name",
		"    * Command used to run the function",
		"    * Duration in MS that the function is running",
		"    If no function is running, return nil",
		"    In addition, returns a list of available engines.",
		"KILL",
		"    Kill the current running function.",
		"FLUSH [ASYNC|SYNC]",
		"    Delete all the libraries.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the libraries.",
		"    * SYNC: Synchronously flush the libraries.",
		"DUMP",
		"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
		"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
		"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
		"    control how to handle existing libraries (default APPEND):",
		"    * FLUSH: delete all existing libraries.",
		"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
		"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
		"      libraries with the new libraries (notice that even on this option there is a chance of failure",
		"      in case of functions name collision with another library).",
	})
}
