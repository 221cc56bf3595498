package server

import (
	"fmt"
	"runtime/debug"
	"time"

	"github.com/corvid-db/corvid/internal/command"
)

// dispatch admits and runs one command. Admission checks live here and only
// here, in Redis's order (processCommand): unknown command, arity, auth,
// pause; later ACL, cluster, OOM, replica, loading and MULTI join them.
func (c *Client) dispatch(args [][]byte, now int64) {
	s := c.srv
	cmd := s.Table.Lookup(args[0])
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
		if !s.Config.ProtectedActionAllowed("enable-debug-command", c.isLocal) {
			c.rejectf(cmd, command.ErrDebugDisabled)
			return
		}
	}
	if !c.authenticated && cmd.Flags&command.NoAuth == 0 {
		c.rejectf(cmd, command.ErrNoAuth)
		return
	}
	if c.isMonitor.Load() && cmd.Flags&(command.Write|command.ReadOnly|command.MayReplicate) != 0 {
		// A monitor is a replica in Redis's eyes; replicas are not paused
		// and may not touch the keyspace.
		c.rejectf(cmd, errReplicaKeyspace)
		return
	}
	if s.pause.active() && !c.isMonitor.Load() {
		turn, ok := s.pause.wait(c, cmd, args)
		if !ok {
			return
		}
		c.call(cmd, args, time.Now().UnixMilli())
		s.pause.finish(turn)
		return
	}
	c.call(cmd, args, now)
}

// errReplicaKeyspace is Redis's refusal of keyspace commands from replicas
// and monitors.
const errReplicaKeyspace = "ERR Replica can't interact with the keyspace"

// applyReplyMode drops the reply just written from mark on, as CLIENT REPLY
// OFF|SKIP ask, and moves SKIP along: the command after CLIENT REPLY SKIP
// is silenced, then replies resume.
func (c *Client) applyReplyMode(mark int) {
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
// (rejected_calls for a known command, errorstats always).
func (c *Client) rejectf(cmd *command.Command, msg string) {
	if cmd != nil {
		cmd.Stats.Rejected.Add(1)
	}
	mark := c.w.Len()
	c.w.Error(msg)
	c.srv.countError([]byte(msg))
	c.applyReplyMode(mark)
}

// call runs an admitted command: lock its shards, run the handler, unlock,
// account. A panicking handler is a bug: it is reported to the client and the
// log, never allowed to take the server down.
func (c *Client) call(cmd *command.Command, args [][]byte, now int64) {
	s := c.srv
	ss := &c.shards
	ss.Reset()
	if cmd.Flags&command.AllShards != 0 {
		ss.SetAll()
	} else if cmd.Flags&command.NoKeyspace == 0 {
		c.keyIdx = cmd.KeyIndexes(c.keyIdx[:0], args)
		for _, i := range c.keyIdx {
			ss.Add(args[i])
		}
	}
	ctx := &c.ctx
	ctx.Args = args
	ctx.Cmd = cmd
	ctx.Dirty = 0
	ctx.DB = s.Store.DB(c.db).At(now)
	// CLIENT NO-TOUCH spares access times, except for TOUCH, whose purpose that is.
	ctx.DB.NoTouch = c.noTouch && cmd.Name != "touch"
	mark := c.w.Len()
	start := time.Now()
	if !ss.Empty() {
		s.Store.Lock(ss)
	}
	c.run(ctx)
	dur := time.Since(start)
	if ctx.Dirty != 0 {
		s.dirty.Add(ctx.Dirty)
	}
	if c.w.Len() > mark && c.w.Buf[mark] == '-' {
		cmd.Stats.Failed.Add(1)
		end := mark + 1
		for end < c.w.Len() && c.w.Buf[end] != '\r' {
			end++
		}
		s.countError(c.w.Buf[mark+1 : end])
	}
	c.applyReplyMode(mark)
	if c.async {
		c.handOff() // a monitor's own reply goes out before its feed line
	}
	// Fed after execution, as Redis does, and before the shard locks are
	// released, so commands on the same keys reach monitors in execution order.
	s.feedMonitors(c, cmd, args)
	if !ss.Empty() {
		s.Store.Unlock(ss)
	}
	us := dur.Microseconds()
	cmd.Stats.Calls.Add(1)
	cmd.Stats.Usec.Add(us)
	s.Stats.Commands.Add(1)
	if cmd.Flags&command.SkipSlowlog == 0 {
		s.slowlog.maybeAdd(c, args, us)
	}
	s.recordLatency(cmd, dur)
	c.setLastCmd(cmd)
}

func (c *Client) run(ctx *command.Ctx) {
	defer func() {
		if r := recover(); r != nil {
			c.srv.Stats.UnexpectedErrors.Add(1)
			c.srv.Log.Warningf("panic in command '%s': %v\n%s", ctx.Cmd.Name, r, debug.Stack())
			ctx.W.Error(fmt.Sprintf("ERR internal error in '%s': %v", ctx.Cmd.Name, r))
		}
	}()
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
