package server

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
)

// adminCommands are the server commands: CONFIG, INFO, COMMAND, DEBUG,
// SLOWLOG, LATENCY, SHUTDOWN, TIME, LASTSAVE, FUNCTION. Flags, arities, ACL
// categories and tips are Redis 7.2's (COMMAND INFO); all of them are
// NoKeyspace except DEBUG, whose OBJECT-style subcommands name a key (see
// debugKeys), and FUNCTION FLUSH, which is keyless. INFO and DEBUG lock the
// keyspace themselves, briefly, when a section or subcommand needs it.
func (s *Server) adminCommands() []*command.Command {
	s.initAdmin()
	const (
		adminF = command.Admin | command.NoScript | command.Loading | command.Stale | command.NoKeyspace
		helpF  = command.Loading | command.Stale | command.NoKeyspace
		cmdF   = command.Loading | command.Stale | command.NoKeyspace
	)
	conn := command.CatConnection
	dangerous := command.CatAdmin | command.CatDangerous | command.CatSlow
	allNodes := []string{"request_policy:all_nodes", "response_policy:all_succeeded"}
	special := []string{"nondeterministic_output", "request_policy:all_nodes", "response_policy:special"}
	sub := func(name string, arity int, flags command.Flags, acl uint64, since, summary string, tips []string, h func(*command.Ctx)) *command.Command {
		return &command.Command{Name: name, Arity: arity, Flags: flags, ACL: acl, Group: "server",
			Since: since, Summary: summary, Tips: tips, Handler: h}
	}
	return []*command.Command{
		{Name: "config", Arity: -2, ACL: command.CatSlow, Group: "server", Since: "2.0.0",
			Summary: "A container for server configuration commands.",
			Subcommands: []*command.Command{
				sub("config|get", -3, adminF, dangerous, "2.0.0", "Returns the effective values of configuration parameters.", nil, s.configGetCommand),
				sub("config|set", -4, adminF, dangerous, "2.0.0", "Sets configuration parameters in-flight.", allNodes, s.configSetCommand),
				sub("config|resetstat", 2, adminF, dangerous, "2.0.0", "Resets the server's statistics.", allNodes, s.configResetStatCommand),
				sub("config|rewrite", 2, adminF, dangerous, "2.8.0", "Persists the effective configuration to file.", allNodes, s.configRewriteCommand),
				sub("config|help", 2, helpF, command.CatSlow, "5.0.0", "Returns helpful text about the different subcommands.", nil, configHelpCommand),
			}},
		{Name: "info", Arity: -1, Flags: cmdF | command.Sentinel, ACL: command.CatDangerous | command.CatSlow, Group: "server", Since: "1.0.0",
			Summary: "Returns information and statistics about the server.",
			Tips:    []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
			Handler: s.infoCommand},
		{Name: "command", Arity: -1, Flags: cmdF | command.Sentinel, ACL: conn | command.CatSlow, Group: "server", Since: "2.8.13",
			Summary: "Returns detailed information about all commands.",
			Tips:    []string{"nondeterministic_output_order"}, Handler: s.commandCommand,
			Subcommands: []*command.Command{
				sub("command|count", 2, cmdF|command.Sentinel, conn|command.CatSlow, "2.8.13", "Returns a count of commands.", nil, s.commandCountCommand),
				sub("command|info", -2, cmdF|command.Sentinel, conn|command.CatSlow, "2.8.13", "Returns information about one, multiple or all commands.", []string{"nondeterministic_output_order"}, s.commandInfoCommand),
				sub("command|docs", -2, cmdF|command.Sentinel, conn|command.CatSlow, "7.0.0", "Returns documentary information about one, multiple or all commands.", []string{"nondeterministic_output_order"}, s.commandDocsCommand),
				sub("command|getkeys", -3, cmdF|command.Sentinel, conn|command.CatSlow, "2.8.13", "Extracts the key names from an arbitrary command.", nil, s.commandGetKeysCommand),
				sub("command|getkeysandflags", -3, cmdF|command.Sentinel, conn|command.CatSlow, "7.0.0", "Extracts the key names and access flags for an arbitrary command.", nil, s.commandGetKeysAndFlagsCommand),
				sub("command|list", -2, cmdF|command.Sentinel, conn|command.CatSlow, "7.0.0", "Returns a list of command names.", []string{"nondeterministic_output_order"}, s.commandListCommand),
				sub("command|help", 2, cmdF|command.Sentinel, conn|command.CatSlow, "5.0.0", "Returns helpful text about the different subcommands.", nil, commandHelpCommand),
			}},
		{Name: "debug", Arity: -2, Flags: command.Admin | command.NoScript | command.Loading | command.Stale | command.Protected,
			ACL: dangerous, Group: "server", Since: "1.0.0", Summary: "A container for debugging commands.",
			Keys: debugKeys, Handler: s.debugCommand},
		{Name: "slowlog", Arity: -2, ACL: command.CatSlow, Group: "server", Since: "2.2.12",
			Summary: "A container for slow log commands.",
			Subcommands: []*command.Command{
				sub("slowlog|get", -2, command.Admin|command.Loading|command.Stale|command.NoKeyspace, dangerous, "2.2.12", "Returns the slow log's entries.", []string{"request_policy:all_nodes", "nondeterministic_output"}, s.slowlogGetCommand),
				sub("slowlog|len", 2, command.Admin|command.Loading|command.Stale|command.NoKeyspace, dangerous, "2.2.12", "Returns the number of entries in the slow log.", []string{"request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"}, s.slowlogLenCommand),
				sub("slowlog|reset", 2, command.Admin|command.Loading|command.Stale|command.NoKeyspace, dangerous, "2.2.12", "Clears all entries from the slow log.", allNodes, s.slowlogResetCommand),
				sub("slowlog|help", 2, helpF, command.CatSlow, "6.2.0", "Show helpful text about the different subcommands", nil, slowlogHelpCommand),
			}},
		{Name: "latency", Arity: -2, ACL: command.CatSlow, Group: "server", Since: "2.8.13",
			Summary: "A container for latency diagnostics commands.",
			Subcommands: []*command.Command{
				sub("latency|latest", 2, adminF, dangerous, "2.8.13", "Returns the latest latency samples for all events.", special, s.latencyLatestCommand),
				sub("latency|history", 3, adminF, dangerous, "2.8.13", "Returns timestamp-latency samples for an event.", special, s.latencyHistoryCommand),
				sub("latency|reset", -2, adminF, dangerous, "2.8.13", "Resets the latency data for one or more events.", []string{"request_policy:all_nodes", "response_policy:agg_sum"}, s.latencyResetCommand),
				sub("latency|doctor", 2, adminF, dangerous, "2.8.13", "Returns a human-readable latency analysis report.", special, s.latencyDoctorCommand),
				sub("latency|graph", 3, adminF, dangerous, "2.8.13", "Returns a latency graph for an event.", special, s.latencyGraphCommand),
				sub("latency|histogram", -2, adminF, dangerous, "7.0.0", "Returns the cumulative distribution of latencies of a subset or all commands.", special, s.latencyHistogramCommand),
				sub("latency|help", 2, helpF, command.CatSlow, "2.8.13", "Returns helpful text about the different subcommands.", nil, latencyHelpCommand),
			}},
		{Name: "shutdown", Arity: -1, Flags: adminF | command.NoMulti | command.AllowBusy | command.OwnGoroutine | command.Sentinel, ACL: dangerous,
			Group: "server", Since: "1.0.0", Summary: "Synchronously saves the database(s) to disk and shuts down the Redis server.",
			Handler: s.shutdownCommand},
		{Name: "time", Arity: 1, Flags: command.Loading | command.Stale | command.Fast | command.NoKeyspace, ACL: command.CatFast,
			Group: "server", Since: "2.6.0", Summary: "Returns the server time.", Tips: []string{"nondeterministic_output"},
			Handler: timeCommand},
		{Name: "lastsave", Arity: 1, Flags: command.Loading | command.Stale | command.Fast | command.NoKeyspace,
			ACL: command.CatAdmin | command.CatDangerous | command.CatFast, Group: "server", Since: "1.0.0",
			Summary: "Returns the Unix timestamp of the last successful save to disk.", Tips: []string{"nondeterministic_output"},
			Handler: s.lastsaveCommand},
	}
}

// adminState is the state the admin commands keep beyond what Server
// already has: identities generated at start, memory high-water marks,
// instantaneous-metric samples, DEBUG switches and per-command latency
// histograms.
type adminState struct {
	runID     string
	startMem  int64 // used_memory measured when the server was built
	peakMem   atomic.Int64
	cronTicks atomic.Int64
	cronNanos atomic.Int64 // time spent in cron ticks (eventloop_duration_cron_sum)
	replMu    sync.Mutex
	replID    string // guarded by replMu
	replID2   string // guarded by replMu
	// secondOffset is the offset up to which replID2's history is this
	// server's too (second_repl_offset; -1: none); guarded by replMu.
	secondOffset int64
	metrics      instMetrics
	histograms   cmdHistograms

	// latencyTracking mirrors the latency-tracking directive so the
	// per-command hot path reads one atomic.
	latencyTracking atomic.Bool

	// DEBUG knobs other subsystems will read once they exist.
	quicklistPackedThreshold atomic.Int64
	disableDenyScripts       atomic.Bool
	skipChecksumValidation   atomic.Bool
	pauseCron                atomic.Bool
	replyBufKeep             atomic.Bool // DEBUG REPLYBUFFER RESIZING 0

	// qbufWake is set once a serve loop runs queryBufCron: from then on
	// the cron may wake idle clients to release their query buffers.
	qbufWake atomic.Bool
}

// admin returns the admin state. It lives inside the latency monitor only
// because that is a struct this file's owner may extend; it belongs in
// Server (one field) and this accessor is the only thing to change then.
func (s *Server) admin() *adminState { return &s.adminSt }

// initAdmin fills the admin state; adminCommands calls it once while the
// server is built, before it serves anything.
func (s *Server) initAdmin() {
	a := s.admin()
	a.runID = randomHex40()
	a.replID = randomHex40()
	a.replID2 = strings.Repeat("0", 40)
	a.secondOffset = -1
	a.quicklistPackedThreshold.Store(1 << 30)
	a.latencyTracking.Store(s.Config.Bool("latency-tracking"))
	s.Config.OnChange("latency-tracking", func(string) error {
		a.latencyTracking.Store(s.Config.Bool("latency-tracking"))
		return nil
	})
	a.startMem = s.usedMemory().used
	a.peakMem.Store(a.startMem)
}

// adminCron is the admin part of serverCron: it counts ticks and samples
// the instantaneous metrics (at most every 100ms). The server's cron
// should call it every tick; INFO also samples, so the figures move even
// before it is wired.
func (s *Server) adminCron() {
	a := s.admin()
	a.cronTicks.Add(1)
	a.metrics.sample(s)
	s.wakeIdleClients()
}

// lockAllShards locks every keyspace shard for a command that is declared
// NoKeyspace but needs a still keyspace for a moment (INFO, CONFIG
// RESETSTAT, some DEBUG subcommands), and returns the unlock. When the
// caller already holds every shard (an AllShards dispatch, or a transaction
// that locked everything; c may be nil outside commands) it does nothing,
// since shard locks are not reentrant.
func (s *Server) lockAllShards(c *command.Ctx) (unlock func()) {
	if c != nil {
		if cl, ok := c.Conn.(*Client); ok && cl.shards.All() {
			return func() {}
		}
	}
	s.Store.LockAll()
	return s.Store.UnlockAll
}

// randomHex40 returns 40 random hex characters, like Redis's run and
// replication IDs.
func randomHex40() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// replyHelp writes a subcommand help reply: Redis's header line, the
// given lines, then the HELP entry every container has.
func replyHelp(c *command.Ctx, lines []string) {
	w := c.W
	w.ArrayLen(len(lines) + 3)
	w.SimpleString(strings.ToUpper(string(c.Args[0])) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		w.SimpleString(l)
	}
	w.SimpleString("HELP")
	w.SimpleString("    Print this help.")
}

// subcommandSyntaxError is Redis's reply when a subcommand is unknown or
// has the wrong number of arguments in commands that parse their own
// subcommands (DEBUG).
func subcommandSyntaxError(c *command.Ctx) {
	sub := c.Args[1]
	if len(sub) > 128 {
		sub = sub[:128]
	}
	c.Error("ERR unknown subcommand or wrong number of arguments for '" + string(sub) + "'. Try " +
		strings.ToUpper(string(c.Args[0])) + " HELP.")
}

func timeCommand(c *command.Ctx) {
	now := time.Now()
	if c.InScript {
		now = c.ScriptStart // the clock stands still while a script runs
	}
	c.W.ArrayLen(2)
	c.W.BulkInt(now.Unix())
	c.W.BulkInt(int64(now.Nanosecond() / 1000))
}

func (s *Server) lastsaveCommand(c *command.Ctx) { c.W.Int(s.lastSave.Load()) }

// shutdownWillWait reports, for the dispatcher, whether SHUTDOWN with
// these arguments is about to wait for replicas: the client counts as
// blocked from the moment it is handed to its goroutine, as in Redis,
// where nothing runs between reading the command and blocking it.
func (s *Server) shutdownWillWait(args [][]byte) bool {
	flags, abort, ok := parseShutdownArgs(args)
	return ok && !abort && s.shutdownMustWait(flags)
}

// parseShutdownArgs reads SHUTDOWN's options as Redis does: the
// shutdown-on-sig* flag bits, or ABORT alone; ok is false on a syntax
// error (an unknown word, ABORT with another option, SAVE with NOSAVE).
func parseShutdownArgs(args [][]byte) (flags int64, abort, ok bool) {
	for _, a := range args[1:] {
		switch strings.ToLower(string(a)) {
		case "nosave":
			flags |= config.ShutdownNoSave
		case "save":
			flags |= config.ShutdownSave
		case "now":
			flags |= config.ShutdownNow
		case "force":
			flags |= config.ShutdownForce
		case "abort":
			abort = true
		default:
			return 0, false, false
		}
	}
	both := config.ShutdownNoSave | config.ShutdownSave
	return flags, abort, !(abort && flags != 0) && flags&both != both
}

// shutdownCommand validates the options as Redis does and asks the
// embedding program to exit. On success Redis exits without replying, so
// the caller sees its connection close; the connection is closed here for
// the case where the embedding program keeps running (tests).
func (s *Server) shutdownCommand(c *command.Ctx) {
	flags, abort, ok := parseShutdownArgs(c.Args)
	if !ok {
		c.Error(command.ErrSyntax)
		return
	}
	if abort {
		// A shutdown waiting for its replicas, or one a signal scheduled:
		// SHUTDOWN itself is otherwise done by the time it would reply.
		if s.abortShutdown() {
			c.OK()
			return
		}
		c.Error("ERR No shutdown in progress.")
		return
	}
	cl := client(c)
	defer cl.blocked.Store(false) // set by the dispatcher when it had to wait
	if s.shutdownMustWait(flags) {
		// Blocked until the replicas are in sync or the time is up; the
		// cron then finishes the shutdown (or fails it, or SHUTDOWN ABORT
		// cancels it) for every client waiting here.
		round := s.beginShutdownWait(flags)
		cl.blocked.Store(true)
		select {
		case <-round.done:
		case <-cl.done:
		}
		cl.blocked.Store(false)
		if round.failed {
			c.Error(errShutdownFailed)
			return
		}
		cl.closeAfterReply()
		return
	}
	if err := s.finishShutdown(flags, c); err != nil {
		c.Error(errShutdownFailed)
		return
	}
	s.stopServing()
	cl.closeAfterReply()
	s.RequestShutdown()
}
