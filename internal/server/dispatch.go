package server

import (
	"fmt"
	"runtime/debug"
	"time"

	"github.com/corvid-db/corvid/internal/acl"
	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/resp"
	"github.com/corvid-db/corvid/internal/scripting"
)

// dispatch admits and runs one command. Admission checks live here and only
// here, in Redis's order (processCommand): unknown command, arity, auth,
// MULTI, pause; later ACL, cluster, OOM, replica and loading join them.
// Inside MULTI an admitted command is queued instead of run (see tx.go),
// and an admission error dooms the transaction.
func (c *Client) dispatch(args [][]byte, now int64) {
	s := c.srv
	if c.primary != nil {
		// The primary's stream, byte for byte, to this replica's own
		// replicas and backlog (propagate.go: proxy), as the command is
		// applied (flushProxy): before, a snapshot taken for a replica of
		// ours between the two would count the command in its offset
		// without holding its effect, and that replica would never get it.
		c.proxyBuf = appendCommand(c.proxyBuf, args)
		defer c.flushProxy() // a command refused: no effect to wait for
	}
	// A pipeline usually repeats one command: compare with the last one
	// before paying for the table's map lookup.
	cmd := c.lastLookup
	if cmd == nil || !sameName(args[0], cmd.Name) || s.Table.Renamed() {
		cmd = s.Table.Lookup(args[0])
		c.lastLookup = cmd
	}
	if cmd == nil {
		c.rejectf(nil, command.ErrUnknownCommand(args[0], args[1:]))
		return
	}
	if cmd.HasSubcommands() && len(args) >= 2 {
		sub := cmd.Sub(args[1])
		if sub == nil {
			if !c.authenticated && cmd.Flags&command.NoAuth == 0 {
				c.rejectf(nil, command.ErrNoAuth)
				return
			}
			c.rejectf(cmd, command.ErrUnknownSubcommand(args[1], cmd.Name))
			return
		}
		cmd = sub
	}
	if !cmd.CheckArity(len(args)) {
		c.rejectf(cmd, command.ErrWrongArgs(cmd.Name))
		return
	}
	if cmd.Flags&command.Protected != 0 || (cmd.Parent != nil && cmd.Parent.Flags&command.Protected != 0) {
		// As Redis: MODULE's protected subcommands answer to
		// enable-module-command, everything else to enable-debug-command.
		directive, refusal := "enable-debug-command", command.ErrDebugDisabled
		if cmd.Parent != nil && cmd.Parent.Name == "module" {
			directive, refusal = "enable-module-command", command.ErrModuleDisabled
		}
		if !s.Config.ProtectedActionAllowed(directive, c.isLocal) {
			c.rejectf(cmd, refusal)
			return
		}
	}
	if !c.authenticated && cmd.Flags&command.NoAuth == 0 {
		c.rejectf(cmd, command.ErrNoAuth)
		return
	}
	// The ACLs (acl.go); the primary's stream and the AOF are not checked,
	// as in Redis.
	if !c.isMaster.Load() && !c.aofLoading {
		if r, pos := c.aclDenied(cmd, args); r != acl.Allowed {
			c.denyACL(cmd, args, r, pos)
			return
		}
	}
	// As Redis: -LOADING comes before BUSY, and EXEC is weighed by the
	// commands it queued.
	if s.load.active.Load() && !c.isMaster.Load() &&
		(cmd.Flags&command.Loading == 0 || (cmd == s.tx.exec && c.inMulti && c.txInvFlags&command.Loading != 0)) {
		c.rejectf(cmd, errLoading)
		return
	}
	// While a replica loads aside (swapdb), clients read the old dataset,
	// but what would change the replication or the persistence waits.
	if cmd.Flags&command.NoAsyncLoading != 0 && s.load.async.Load() && !c.isMaster.Load() {
		c.rejectf(cmd, errLoading)
		return
	}
	if cmd.Flags&command.AllowBusy == 0 {
		// A script past busy-reply-threshold: only SCRIPT KILL and the
		// like get through (one atomic load when no script runs).
		if msg := s.ScriptBusyError(); msg != "" {
			c.rejectf(cmd, msg)
			return
		}
	}
	// EXEC is weighed as the transaction it runs: the union of the queued
	// commands' flags, and for staleness whether any lacks the flag.
	flags, stale := cmd.Flags, cmd.Flags&command.Stale != 0
	if cmd == s.tx.exec && c.inMulti {
		flags |= c.txFlags
		stale = stale && c.txInvFlags&command.Stale == 0
	}
	// As Redis, eviction runs before any command once past maxmemory, so
	// that a read is not answered before the invalidations of the keys
	// that had to go; only commands that may grow memory are refused.
	if s.maxMemory.Load() > 0 && !c.isMaster.Load() && s.overMaxMemory() && flags&command.DenyOOM != 0 {
		c.rejectf(cmd, errOOM)
		return
	}
	if msg := s.replicationRefusal(c, flags, stale); msg != "" {
		c.rejectf(cmd, msg)
		return
	}
	if (flags&command.Write != 0 || cmd.Name == "ping") && !c.isMaster.Load() {
		if msg := s.diskErrorRefusal(); msg != "" {
			c.rejectf(cmd, msg)
			return
		}
	}
	if c.w.Proto == 2 && c.subscribed() && !allowedWhenSubscribed(cmd) {
		c.rejectf(cmd, errSubscribedContext(cmd.Name))
		return
	}
	if c.inMulti && cmd.Flags&command.NoMulti != 0 {
		c.rejectf(cmd, errNotAllowedInMulti)
		return
	}
	if (c.isMonitor.Load() || c.isReplica.Load()) && cmd.Flags&(command.Write|command.ReadOnly|command.MayReplicate) != 0 {
		// A monitor is a replica in Redis's eyes; replicas are not paused
		// and may not touch the keyspace.
		c.rejectf(cmd, errReplicaKeyspace)
		return
	}
	// A connection served by an event loop moves to a goroutine of its own
	// before anything that could park it: a command that asks to, a pause,
	// or shard locks a running script holds (the loop must stay free for
	// SCRIPT KILL and the BUSY replies).
	if cmd == s.tx.shutdown && s.shutdownWillWait(args) {
		c.blocked.Store(true)
	}
	if (cmd.Flags&command.OwnGoroutine != 0 || (s.pause.active() && !c.isMonitor.Load()) ||
		((cmd.Flags&command.NoKeyspace == 0 || cmd == s.tx.exec) && scripting.Running())) && c.requestGoroutine(args, now) {
		return
	}
	if scripting.Running() && (cmd.Flags&command.NoKeyspace == 0 || cmd == s.tx.exec) && !c.inMulti {
		// The script holds every shard: wait for it, but like Redis answer
		// BUSY once it runs past busy-reply-threshold.
		for scripting.Running() {
			if msg := s.ScriptBusyError(); msg != "" && cmd.Flags&command.AllowBusy == 0 {
				c.rejectf(cmd, msg)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	if s.tracking.active() {
		// tracking-table-max-keys is enforced before every command too,
		// as Redis does, so a lowered limit applies at once.
		s.limitTrackingTable(s.trackMax.Load())
	}
	var turn *pauseWaiter
	if s.pause.active() && !c.isMonitor.Load() {
		t, ok := s.pause.wait(c, c.pauseCommand(cmd, args), args)
		if !ok {
			return
		}
		turn = t
		now = time.Now().UnixMilli()
	}
	if c.inMulti && !s.tx.runsInMulti(cmd) {
		c.queue(cmd, args)
	} else if !c.call(cmd, args, now, turn == nil) {
		// A pause began while the write waited for its keys: admitted
		// again, it waits for the pause's end (and, after a FAILOVER,
		// gets READONLY), as it would have in Redis's single thread.
		c.dispatch(args, time.Now().UnixMilli())
		return
	}
	s.pause.finish(turn)
}

// errReplicaKeyspace is Redis's refusal of keyspace commands from replicas
// and monitors.
const errReplicaKeyspace = "ERR Replica can't interact with the keyspace"

// applyReplyMode drops the reply just written from mark on, as CLIENT REPLY
// OFF|SKIP ask, and moves SKIP along: the command after CLIENT REPLY SKIP
// is silenced, then replies resume.
func (c *Client) applyReplyMode(mark int) {
	// A command that handed its earlier replies to the writer goroutine
	// (SYNC, PSYNC) left fewer bytes than the mark: nothing of it is kept.
	mark = min(mark, c.w.Len())
	if c.keepPush {
		// (Un)subscribe confirmations are pushes (in RESP2 too, for
		// Redis), which CLIENT REPLY does not silence.
		c.keepPush = false
		if c.replyMode == replySkip {
			c.replyMode = replyOn
		} else if c.replyMode == replySkipNext {
			c.replyMode = replySkip
		}
		return
	}
	switch c.replyMode {
	case replyOff:
		c.w.Buf = c.w.Buf[:mark]
	case replySkip:
		c.w.Buf = c.w.Buf[:mark]
		c.replyMode = replyOn
	case replySkipNext:
		c.replyMode = replySkip
	}
}

// rejectf replies with an admission error and counts it as Redis does
// (rejected_calls for a known command, errorstats always). Inside MULTI
// the error dooms the transaction, and a refused EXEC discards it.
func (c *Client) rejectf(cmd *command.Command, msg string) {
	if cmd != nil {
		cmd.Stats.Rejected.Add(1)
	}
	if c.inMulti && cmd == c.srv.tx.exec {
		c.execAbort(msg)
		return
	}
	c.flagTransaction()
	mark := c.w.Len()
	c.w.Error(msg)
	c.srv.countError([]byte(msg))
	c.logErrorToPrimary(cmd, []byte(msg))
	c.dropIfReplicaAnswered(cmd, nil, mark)
	c.applyReplyMode(mark)
}

// dropIfReplicaAnswered disconnects a replica whose command wrote a reply
// from mark on, as Redis does: a replica's connection carries the stream,
// which the reply would corrupt.
func (c *Client) dropIfReplicaAnswered(cmd *command.Command, args [][]byte, mark int) {
	if c.replica == nil || c.w.Len() <= mark {
		return
	}
	name := "<unknown>"
	if cmd != nil {
		name = cmd.FullName()
	}
	c.srv.Log.Warningf("Replica generated a reply to command '%s', disconnecting it: %s",
		name, c.appendInfo(nil, c.selfInfo(cmd, args), time.Now()))
	c.w.Buf = c.w.Buf[:mark]
	c.Kill()
}

// logErrorToPrimary is Redis's afterErrorReply for the two clients whose
// errors nobody reads: a replica failing a command of its primary's
// stream, and the AOF being loaded. Their data may now differ from the
// source's, so it is logged as critical, with the stream that led to it.
func (c *Client) logErrorToPrimary(cmd *command.Command, msg []byte) {
	master := c.isMaster.Load()
	if !master && !c.aofLoading && c.replica == nil {
		return
	}
	s := c.srv
	from, to := "replica", "master"
	switch {
	case c.aofLoading:
		from, to = "server", "AOF-loading-client"
	case c.replica != nil:
		from, to = "master", "replica" // to one of its replicas
	}
	name := "<unknown>"
	if cmd != nil {
		name = cmd.FullName()
	}
	if len(msg) > 4096 {
		msg = msg[:4096]
	}
	s.Log.Warningf("== CRITICAL == This %s is sending an error to its %s: '%s' after processing the command '%s'", from, to, msg, name)
	if master {
		// The stream before this command, which passes on to the
		// backlog once applied (flushProxy), as Redis's.
		s.prop.mu.Lock()
		tail := s.prop.latestBacklog(256)
		s.prop.mu.Unlock()
		if len(tail) > 0 {
			s.Log.Noticef("Latest backlog is: '%s'", resp.Repr(string(tail)))
		}
	}
	s.Stats.UnexpectedErrors.Add(1)
}

// flushProxy passes the primary's commands applied so far on to this
// replica's replicas and backlog: each as it is applied, under its shard
// locks; a MULTI block whole, at its EXEC (or DISCARD), as Redis feeds
// its stream only outside a transaction, so that a snapshot never counts
// queued commands whose effect it lacks.
func (c *Client) flushProxy() {
	if c.inMulti || len(c.proxyBuf) == 0 {
		return
	}
	c.srv.prop.emitProxy(c.proxyBuf)
	c.proxyBuf = c.proxyBuf[:0]
}

// call runs an admitted command: lock its shards, execute it, unlock,
// account. EXEC inside MULTI locks the shards of its whole transaction
// here, and its handler executes the queued commands without locking.
//
// fence is set for a command admitted without a pause in force: if one
// began meanwhile (CLIENT PAUSE WRITE, a FAILOVER about to hand the
// primary's role over) and the command writes, call gives its keys back
// without running it and reports false, for the dispatcher to admit it
// again. Checked once the keys are locked, the pause then covers every
// write: FAILOVER takes every shard after pausing, so a write either ran
// before (and is in the offset it waits for) or sees the pause.
func (c *Client) call(cmd *command.Command, args [][]byte, now int64, fence bool) bool {
	s := c.srv
	ss := &c.shards
	ss.Reset()
	switch {
	case cmd == s.tx.exec && c.inMulti:
		c.execShards(ss)
	case cmd.Flags&command.AllShards != 0:
		ss.SetAll()
	case cmd.Flags&command.NoKeyspace == 0:
		c.keyIdx = cmd.KeyIndexes(c.keyIdx[:0], args)
		for _, i := range c.keyIdx {
			ss.Add(args[i])
		}
	}
	tracking := c.trackFlags.Load() != 0 || c.bcastPending
	if tracking {
		c.setExecuting(true)
	}
	if !ss.Empty() {
		s.Store.Lock(ss)
		if fence && s.pause.active() && !c.isMaster.Load() &&
			c.pauseCommand(cmd, args).Flags&(command.Write|command.MayReplicate) != 0 {
			s.Store.Unlock(ss)
			ss.Reset()
			if tracking {
				c.setExecuting(false)
			}
			return false
		}
		if cmd.Flags&command.Write != 0 && !ss.All() && s.Store.SnapshotRunning() {
			c.prepareWrites(cmd, args, now)
		}
	}
	dur := c.execute(cmd, args, now, false)
	var w *waiter
	if c.ctx.Block != nil {
		// Registered while the shards are held: no push can come between
		// the command's empty check and the registration.
		w = c.startBlocking(cmd, args, c.ctx.Block)
		c.ctx.Block = nil
	}
	if len(c.propOps) > 0 {
		// Before blocking too: what the attempt changed (XREADGROUP's new
		// consumer) is propagated, as Redis does.
		c.flushProp() // before the unlock: per-key stream order
	}
	if c.primary != nil {
		c.flushProxy() // before the unlock too: with the command's effect
	}
	if !ss.Empty() {
		s.Store.Unlock(ss)
	}
	ss.Reset()
	c.serveReadyKeys()
	if w != nil {
		c.park(w)
		args = w.args
	}
	if w == nil || !w.rejected {
		c.account(cmd, args, dur)
	}
	c.checkNormalOutputLimit()
	if w != nil {
		if w.failed {
			cmd.Stats.Failed.Add(1)
		}
		close(w.settled)
	}
	c.setLastCmd(cmd)
	if c.primary != nil && !c.inMulti {
		// Applied up to here: what is left in the parser is still to come.
		c.primary.applied.Store(c.primary.offset.Load() - int64(c.parser.Buffered()))
	}
	if tracking || c.bcastPending {
		c.trackingAfterCommand(cmd)
	}
	return true
}

// prepareWrites readies the keys of a write command for a background
// snapshot that still needs them, before the command runs. A big value
// the snapshot has not written yet is written now, by this client, with
// its shards released, so that other clients of those shards do not wait
// for it (keyspace.DB.PrepareWrite); the locks are then taken again and
// the keys checked again. The shards in c.shards are held.
func (c *Client) prepareWrites(cmd *command.Command, args [][]byte, now int64) {
	s := c.srv
	db := s.Store.DB(c.db).At(now)
	c.keyIdx = cmd.KeyIndexes(c.keyIdx[:0], args)
	for k := 0; k < len(c.keyIdx); k++ {
		if wait := db.PrepareWrite(args[c.keyIdx[k]]); wait != nil {
			s.Store.Unlock(&c.shards)
			wait()
			s.Store.Lock(&c.shards)
			k = -1
		}
	}
}

// execute runs a command whose shards are locked and does the accounting
// that must happen under those locks: the dirty counter, WATCH, error
// statistics, the reply mode and the MONITOR feed. inner marks a command
// run by EXEC: its reply is one element of EXEC's, so reply modes and
// hand-offs apply to EXEC as a whole. A panicking handler is a bug: it is
// reported to the client and the log, never allowed to take the server down.
func (c *Client) execute(cmd *command.Command, args [][]byte, now int64, inner bool) time.Duration {
	s := c.srv
	ctx := &c.ctx
	ctx.Args = args
	ctx.Cmd = cmd
	ctx.Dirty = 0
	ctx.DB = s.Store.DB(c.db).At(now)
	// CLIENT NO-TOUCH spares access times, except for TOUCH, whose purpose that is.
	ctx.DB.NoTouch = c.noTouch && cmd.Name != "touch"
	if s.replica.active.Load() {
		// A replica leaves expiry to its primary (see keyspace.DB).
		master := c.isMaster.Load()
		ctx.DB.KeepExpired, ctx.DB.HideExpired = master, !master
	}
	if c.aofLoading {
		// Nothing expires while an AOF loads, as in Redis: a PEXPIREAT
		// already past sets the time, and the key goes after the load.
		ctx.DB.KeepExpired = true
	}
	ctx.Block = nil
	ctx.NoBlock = inner || c.inExec || c.lp != nil
	ctx.Propagating = s.prop.active.Load()
	ctx.PropRewritten, ctx.PropNone, ctx.PropForce = false, false, false
	ctx.Unmodified, ctx.Grown = 0, 0
	ctx.InScript = c.inScript
	ctx.OutputLimit = 0
	if !c.inScript && !c.isMaster.Load() && c.replica == nil {
		if hard, _, _ := s.cachedNormalLimits(); hard > 0 {
			ctx.OutputLimit = int(hard) + c.outOff - c.outListLen // what is not written yet counts
		}
	}
	mark := c.w.Len()
	start := monotonic()
	var plan []watchAction
	watching := s.tx.watches.active()
	if watching && cmd.Flags&(command.AllShards|command.Write) == command.AllShards|command.Write {
		plan = s.tx.planFlush(ctx)
	}
	if cmd.Flags&command.Write != 0 && s.Store.SnapshotRunning() {
		// A background snapshot that still needs a key this command may
		// change in place saves it first (keyspace/snapshot.go).
		c.keyIdx = cmd.KeyIndexes(c.keyIdx[:0], args)
		for _, i := range c.keyIdx {
			ctx.DB.BeforeWrite(args[i])
		}
	}
	c.run(ctx)
	dur := monotonic() - start
	if ctx.Dirty != 0 && cmd.Flags&command.Write != 0 && s.replica.active.Load() && !c.isMaster.Load() {
		c.noteReplicaWrite(cmd, args, ctx.DB)
	}
	if ctx.Propagating {
		c.captureProp(cmd, args)
	}
	if s.tracking.active() {
		if cmd.Flags&command.ReadOnly != 0 && c.trackFlags.Load()&trackOn != 0 {
			s.tracking.remember(c, cmd, args, s.trackMax.Load())
		}
		c.trackWrites(ctx)
	} else if cmd.Flags&command.AllShards != 0 && (cmd.Name == "flushall" || cmd.Name == "flushdb") {
		s.invalidateAll() // the table outlives its last tracking client
	}
	if cmd.Flags&command.AllShards != 0 && (cmd.Name == "flushall" || cmd.Name == "flushdb") {
		s.reclaimSoon.Store(true)
	}
	if ctx.Dirty != 0 {
		if s.blocking.clients.Load() > 0 {
			c.noteReady(cmd, args)
		}
		s.dirty.Add(ctx.Dirty)
		if cmd.Flags&command.DenyOOM != 0 && s.maxMemory.Load() > 0 {
			s.memGrowth.Add(writeEstimate(args) + ctx.Grown)
		}
		// A watch on a key in the shards held cannot appear while they are
		// held, so the count read before running still holds.
		if watching {
			s.tx.touchWritten(ctx)
			applyPlan(plan)
		}
	}
	if cmd.Flags&command.AllShards != 0 && cmd.Name == "flushall" && !(c.w.Len() > mark && c.w.Buf[mark] == '-') {
		// As Redis: FLUSHALL stops a running BGSAVE, and with save points
		// configured saves the empty dataset at once (every shard is still
		// held), so that a restart cannot bring the flushed keys back and
		// the changes since the last save start from zero.
		s.abortBgsave()
		if len(s.Config.SaveParams()) > 0 {
			if err := s.saveLocked(); err != nil {
				s.Log.Warningf("FLUSHALL could not save the empty dataset: %v", err)
			}
		}
	}
	if c.w.Len() > mark && c.w.Buf[mark] == '-' {
		cmd.Stats.Failed.Add(1)
		end := mark + 1
		for end < c.w.Len() && c.w.Buf[end] != '\r' {
			end++
		}
		if !c.errCounted {
			s.countError(c.w.Buf[mark+1 : end])
		}
		c.logErrorToPrimary(cmd, c.w.Buf[mark+1:end])
	}
	c.errCounted = false
	if !inner {
		c.dropIfReplicaAnswered(cmd, args, mark)
	}
	if !inner {
		c.applyReplyMode(mark)
		if c.async {
			c.handOff() // a monitor's own reply goes out before its feed line
			c.flushPendingPush()
		} else if len(c.pendingPush) > 0 {
			c.flushPendingPush()
		}
	}
	// Fed after execution, as Redis does, and before the shard locks are
	// released, so commands on the same keys reach monitors in execution order.
	s.feedMonitors(c, cmd, args)
	return dur
}

// account updates the statistics of an executed command that need no
// shard lock: commandstats, the slow log and latency tracking.
func (c *Client) account(cmd *command.Command, args [][]byte, dur time.Duration) {
	s := c.srv
	us := dur.Microseconds()
	cmd.Stats.Calls.Add(1)
	cmd.Stats.Usec.Add(us)
	s.Stats.Commands.Add(1)
	if cmd.Flags&command.SkipSlowlog == 0 {
		s.slowlog.maybeAdd(c, args, us)
	}
	s.recordLatency(cmd, dur)
}

func (c *Client) run(ctx *command.Ctx) {
	defer func() {
		if r := recover(); r != nil {
			c.srv.Stats.UnexpectedErrors.Add(1)
			c.srv.Log.Warningf("panic in command '%s': %v\n%s", ctx.Cmd.Name, r, debug.Stack())
			ctx.W.Error(fmt.Sprintf("ERR internal error in '%s': %v", ctx.Cmd.Name, r))
		}
	}()
	if c.inExec && ctx.Cmd == c.srv.tx.monitor {
		// MONITOR turns the connection into a stream; a transaction needs
		// one reply per command.
		ctx.W.Error(errMonitorDenyBlocking)
		return
	}
	ctx.Cmd.Handler(ctx)
}

func (c *Client) setLastCmd(cmd *command.Command) {
	if c.lastCmdPtr == cmd {
		return
	}
	c.lastCmdPtr = cmd
	c.mu.Lock()
	c.lastCmd = cmd.Name
	c.mu.Unlock()
}

// clockBase anchors monotonic.
var clockBase = time.Now()

// monotonic returns the time since process start from the monotonic clock
// only: one vDSO call per reading instead of time.Now's two (wall and
// monotonic), which matters when every command is timed for commandstats.
func monotonic() time.Duration { return time.Since(clockBase) }

// sameName reports whether arg names the command (ASCII case-insensitive).
func sameName(arg []byte, name string) bool {
	if len(arg) != len(name) {
		return false
	}
	for i := 0; i < len(arg); i++ {
		b := arg[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if b != name[i] {
			return false
		}
	}
	return true
}

// writeEstimate is what a write that may grow memory is assumed to add
// until memory is measured again: its arguments and a record's overhead
// (and what the handler reports beyond them, command.Ctx.Grew).
func writeEstimate(args [][]byte) int64 {
	n := int64(32)
	for _, a := range args[1:] {
		n += int64(len(a))
	}
	return n
}

// checkNormalOutputLimit closes a client whose replies not yet written
// pass client-output-buffer-limit's normal class, without sending them,
// as Redis does (its limit is checked as replies are added). Subscribers,
// replicas and monitors have limits of their own, applied as their
// output is queued.
func (c *Client) checkNormalOutputLimit() {
	if c.isMaster.Load() || c.replica != nil || c.asyncOn.Load() || c.subscribed() {
		return
	}
	if n := c.unwritten(); c.overNormalLimit(n) {
		c.w.Buf, c.outOff = nil, 0 // none of it goes out, and its memory goes now
		c.dropOutList()
		c.srv.collectSoon(n)
		c.killForOutputLimit()
	}
}
