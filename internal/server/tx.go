package server

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/corvid-db/corvid/internal/acl"
	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
	"github.com/corvid-db/corvid/internal/scripting"
)

// Transactions: MULTI, EXEC, DISCARD, WATCH and UNWATCH with Redis 7.2's
// semantics (multi.c).
//
// # Isolation
//
// Commands issued after MULTI are admitted as usual (an admission error
// dooms the transaction, as in Redis), copied and queued. EXEC is the only
// command whose shards the dispatcher computes from something else than its
// own arguments: it locks, once and in ascending order, the union of the
// shards of every queued command's keys and of the client's watched keys,
// checks the watches, runs every queued handler through the same accounting
// as a top-level command without locking again, and unlocks. A transaction
// is therefore atomic and isolated on any number of cores, while
// transactions and commands on other shards keep running. A queued command
// that sees the whole keyspace (AllShards), or that may lock it itself
// (lockAllShards: INFO, CONFIG RESETSTAT, DEBUG…), makes EXEC lock every
// shard, since shard locks are not reentrant.
//
// # WATCH
//
// The registry maps (db, key) to the clients watching it. It is split like
// the keyspace, one map per shard, and each map is guarded by that
// keyspace shard's lock, which every writer of the key already holds: a
// write never takes another lock to signal its watchers. A global count of
// watched keys lets every write skip the registry with one atomic load
// when nobody watches anything. Writes are detected where Redis signals
// them, where dirty is incremented: after a command that reported a change
// (Ctx.Dirty > 0), the keys of its key specs that are not read-only are
// touched (MOVE and COPY … DB, which write into another database, and
// FLUSHDB, FLUSHALL and SWAPDB, which touch every watched key that
// existed, are handled by name). Keys reclaimed by expiry touch their
// watchers through Store.OnExpire.

// Errors of the transaction commands, worded as Redis words them.
const (
	errNestedMulti          = "ERR MULTI calls can not be nested"
	errExecWithoutMulti     = "ERR EXEC without MULTI"
	errDiscardWithoutMulti  = "ERR DISCARD without MULTI"
	errWatchInsideMulti     = "ERR WATCH inside MULTI is not allowed"
	errNotAllowedInMulti    = "ERR Command not allowed inside a transaction"
	errExecAbortPrevious    = "EXECABORT Transaction discarded because of previous errors."
	errExecAbortBecauseOf   = "EXECABORT Transaction discarded because of: "
	redisMultiCmdSize       = 24 // sizeof(multiCmd) in Redis, for multi-mem
	redisWatchedKeyOverhead = 80 // sizeof(listNode)+sizeof(watchedKey) in Redis
)

// txState is the server-wide part of transactions.
type txState struct {
	// The commands the dispatcher runs at once inside MULTI instead of
	// queuing them (Redis's processCommand list), and MONITOR, which EXEC
	// refuses.
	multi, exec, discard, watch, quit, reset, monitor, shutdown *command.Command
	// execWrite stands for an EXEC whose queue writes, in the pause check:
	// a transaction is postponed by CLIENT PAUSE WRITE as a whole, at EXEC.
	execWrite *command.Command
	// readOnly stands for a script declared no-writes, in the pause check.
	readOnly *command.Command

	watches watchRegistry

	// writeSpecs caches, per command with read-only key specs, a command
	// holding only its other specs: the keys a write may have modified.
	writeSpecs sync.Map // *command.Command → *command.Command
}

// queuedCmd is one command waiting for EXEC; args are the client's own copy.
type queuedCmd struct {
	cmd  *command.Command
	args [][]byte
}

// txCommands are the transactions group. Flags, arities and ACL categories
// are Redis 7.2's (COMMAND INFO).
func (s *Server) txCommands() []*command.Command {
	const (
		f   = command.NoScript | command.Loading | command.Stale | command.Fast | command.AllowBusy
		acl = command.CatFast | command.CatTransaction
	)
	t := &s.tx
	t.multi = &command.Command{Name: "multi", Arity: 1, Flags: f | command.NoKeyspace, ACL: acl,
		Group: "transactions", Since: "1.2.0", Summary: "Starts a transaction.", Handler: multiCommand}
	t.exec = &command.Command{Name: "exec", Arity: 1,
		Flags: command.NoScript | command.Loading | command.Stale | command.SkipSlowlog | command.NoKeyspace,
		ACL:   command.CatSlow | command.CatTransaction, Group: "transactions", Since: "1.2.0",
		Summary: "Executes all commands in a transaction.", Handler: s.execCommand}
	t.discard = &command.Command{Name: "discard", Arity: 1, Flags: f | command.NoKeyspace, ACL: acl,
		Group: "transactions", Since: "2.0.0", Summary: "Discards a transaction.", Handler: discardCommand}
	t.watch = &command.Command{Name: "watch", Arity: -2, Flags: f, ACL: acl,
		FirstKey: 1, LastKey: -1, Step: 1,
		KeySpecs: []command.KeySpec{{Flags: []string{"RO"}, BeginIndex: 1, LastKey: -1, Step: 1}},
		Group:    "transactions", Since: "2.2.0",
		Summary: "Monitors changes to keys to determine the execution of a transaction.", Handler: s.watchCommand}
	unwatch := &command.Command{Name: "unwatch", Arity: 1, Flags: f | command.NoKeyspace, ACL: acl,
		Group: "transactions", Since: "2.2.0", Summary: "Forgets about watched keys of a transaction.",
		Handler: unwatchCommand}
	t.execWrite = &command.Command{Name: "exec", Flags: command.Write}
	t.readOnly = &command.Command{Name: "script", Flags: command.ReadOnly}
	return []*command.Command{t.multi, t.exec, t.discard, t.watch, unwatch}
}

// initTx finds the other commands transactions treat specially and hooks
// expiry into WATCH. It runs once every command is registered, before the
// server serves (the active expirer reads OnExpire without a lock).
func (s *Server) initTx() {
	t := &s.tx
	t.quit = s.Table.Lookup([]byte("quit"))
	t.reset = s.Table.Lookup([]byte("reset"))
	t.monitor = s.Table.Lookup([]byte("monitor"))
	t.shutdown = s.Table.Lookup([]byte("shutdown"))
	s.Store.OnExpire = t.watches.expired
}

// runsInMulti reports whether cmd executes at once inside MULTI rather
// than being queued.
func (t *txState) runsInMulti(cmd *command.Command) bool {
	return cmd == t.exec || cmd == t.discard || cmd == t.multi || cmd == t.watch ||
		cmd == t.quit || cmd == t.reset
}

// pauseCommand is the command the pause check weighs: for EXEC, the
// queued commands as a whole.
func (c *Client) pauseCommand(cmd *command.Command, args [][]byte) *command.Command {
	if cmd == c.srv.tx.exec && c.inMulti && c.txFlags&(command.Write|command.MayReplicate) != 0 {
		return c.srv.tx.execWrite
	}
	if len(args) > 1 && c.scriptDeclaresNoWrites(cmd, args[1]) {
		// A script or function flagged no-writes is a read for the pause.
		return c.srv.tx.readOnly
	}
	return cmd
}

// scriptDeclaresNoWrites reports whether EVAL's body, EVALSHA's cached
// script or FCALL's function carries the no-writes flag.
func (c *Client) scriptDeclaresNoWrites(cmd *command.Command, arg []byte) bool {
	var f scripting.Flags
	switch cmd.Name {
	case "eval":
		f = scripting.ShebangFlags(arg)
	case "evalsha":
		if e := c.srv.scriptEngine(); e != nil {
			if sc := e.Lookup(arg); sc != nil {
				f = sc.Flags
			}
		}
	case "fcall":
		if fns := c.srv.functionRegistry(); fns != nil {
			if fn := fns.Lookup(arg); fn != nil {
				f = fn.Flags
			}
		}
	default:
		return false
	}
	return f&scripting.FlagNoWrites != 0
}

// queue stores an admitted command for EXEC and replies +QUEUED. As in
// Redis, a transaction already doomed (an admission error, a touched
// watched key) keeps answering +QUEUED without storing anything.
func (c *Client) queue(cmd *command.Command, args [][]byte) {
	c.setLastCmd(cmd)
	if !c.txDirtyExec && !c.dirtyCAS.Load() {
		n := 0
		for _, a := range args {
			n += len(a)
		}
		// One allocation for the bytes and one for the slice headers: the
		// arguments alias the read buffer, which the next read reuses.
		buf := make([]byte, 0, n)
		cp := make([][]byte, len(args))
		for i, a := range args {
			buf = append(buf, a...)
			cp[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
		}
		if len(c.txQueue) == c.txAlloc {
			c.txAlloc = max(2, c.txAlloc*2)
		}
		c.txQueue = append(c.txQueue, queuedCmd{cmd: cmd, args: cp})
		c.txFlags |= cmd.Flags
		c.txInvFlags |= ^cmd.Flags
		c.txArgvMem += int64(n + 8*len(args))
		c.publishTx()
	}
	mark := c.w.Len()
	c.w.SimpleString("QUEUED")
	c.applyReplyMode(mark)
}

// publishTx mirrors the transaction's size for CLIENT LIST in other
// goroutines (multi=, multi-mem=).
func (c *Client) publishTx() {
	if c.inMulti {
		c.txList.Store(int64(len(c.txQueue)) + 1)
	} else {
		c.txList.Store(0)
	}
	c.txMem.Store(c.txArgvMem + int64(c.txAlloc)*redisMultiCmdSize + int64(len(c.watched))*redisWatchedKeyOverhead)
}

// multiCount is CLIENT LIST's multi field: the queued commands, or -1
// outside MULTI.
func (c *Client) multiCount() int64 { return c.txList.Load() - 1 }

// multiMem is CLIENT LIST's multi-mem field.
func (c *Client) multiMem() int64 { return c.txMem.Load() }

// flagTransaction dooms the transaction after an admission error.
func (c *Client) flagTransaction() {
	if c.inMulti {
		c.txDirtyExec = true
	}
}

// execAbort answers an EXEC refused at admission: the transaction is
// discarded and the reason reported, as Redis's execCommandAbort does,
// including the EXEC line monitors see to close the MULTI they were shown.
func (c *Client) execAbort(msg string) {
	c.discardTx()
	msg = errExecAbortBecauseOf + strings.TrimPrefix(msg, "ERR ")
	mark := c.w.Len()
	c.w.Error(msg)
	c.srv.countError([]byte(msg))
	c.applyReplyMode(mark)
	c.srv.feedMonitors(c, c.srv.tx.exec, [][]byte{[]byte("exec")})
}

// discardTx leaves MULTI and forgets the watched keys (DISCARD, RESET, a
// closing connection). The caller holds no shard lock.
func (c *Client) discardTx() {
	c.unwatchAll(false)
	c.endTx()
}

// endTx clears the MULTI state; the watched keys are already forgotten.
func (c *Client) endTx() {
	clear(c.txQueue)
	if cap(c.txQueue) > 64 {
		c.txQueue = nil
	} else {
		c.txQueue = c.txQueue[:0]
	}
	c.inMulti, c.txDirtyExec, c.txFlags, c.txInvFlags, c.txAlloc, c.txArgvMem = false, false, 0, 0, 0, 0
	c.dirtyCAS.Store(false)
	c.publishTx()
}

// execShards adds to ss the shards EXEC locks: those of every queued
// command's keys and of the watched keys, or every shard.
func (c *Client) execShards(ss *keyspace.ShardSet) {
	for _, q := range c.txQueue {
		f := q.cmd.Flags
		switch {
		case f&command.AllShards != 0, f&command.Admin != 0, f&command.NoKeyspace != 0 && f&command.Fast == 0:
			// Keyless commands that are not fast may lock the whole
			// keyspace themselves (lockAllShards), which would deadlock on
			// shards already held unless EXEC holds them all.
			ss.SetAll()
			return
		case f&command.NoKeyspace != 0:
		default:
			c.keyIdx = q.cmd.KeyIndexes(c.keyIdx[:0], q.args)
			for _, i := range c.keyIdx {
				ss.Add(q.args[i])
			}
		}
	}
	for _, wk := range c.watched {
		ss.AddShard(wk.shard)
	}
}

func multiCommand(c *command.Ctx) {
	cl := client(c)
	if cl.inMulti {
		c.Error(errNestedMulti)
		return
	}
	cl.inMulti = true
	cl.publishTx()
	c.OK()
}

func discardCommand(c *command.Ctx) {
	cl := client(c)
	if !cl.inMulti {
		c.Error(errDiscardWithoutMulti)
		return
	}
	cl.discardTx()
	c.OK()
}

func unwatchCommand(c *command.Ctx) {
	cl := client(c)
	cl.unwatchAll(false)
	cl.dirtyCAS.Store(false)
	cl.publishTx()
	c.OK()
}

// execCommand runs with the shards of execShards locked (see call).
func (s *Server) execCommand(c *command.Ctx) {
	cl := client(c)
	if !cl.inMulti {
		c.Error(errExecWithoutMulti)
		return
	}
	if cl.watchedKeyExpired(c.DB.Now()) {
		cl.dirtyCAS.Store(true)
	}
	if cl.txDirtyExec {
		c.Error(errExecAbortPrevious)
		cl.unwatchAll(true)
		cl.endTx()
		return
	}
	if cl.dirtyCAS.Load() {
		c.W.NullArray()
		cl.unwatchAll(true)
		cl.endTx()
		return
	}
	cl.unwatchAll(true)
	now := c.DB.Now()
	queue := cl.txQueue
	cl.inExec = true
	c.W.ArrayLen(len(queue))
	outer := *c
	checkACL := !cl.isMaster.Load() && !cl.aofLoading
	for _, q := range queue {
		// The ACLs again, as Redis checks them at EXEC too: the user's
		// rules may have changed since the command was queued.
		if checkACL {
			if r, pos := cl.aclDenied(q.cmd, q.args); r != acl.Allowed {
				s.logACLDenial(cl, r, acl.ContextMulti, q.cmd, q.args, pos, cl.aclAccount.Load().Name())
				c.W.Error(acl.ExecNoPermError(r))
				continue
			}
		}
		dur := cl.execute(q.cmd, q.args, now, true)
		cl.account(q.cmd, q.args, dur)
		outer.Scratch = c.Scratch
		*c = outer
	}
	cl.inExec = false
	cl.endTx()
}

// DenyBlocking reports whether the client must get a reply to every
// command at once, as inside EXEC: blocking commands then behave as if
// their timeout had expired, and MONITOR is refused (Redis's
// CLIENT_DENY_BLOCKING).
func (c *Client) DenyBlocking() bool { return c.inExec }

// watchCommand runs with the shards of its keys locked.
func (s *Server) watchCommand(c *command.Ctx) {
	cl := client(c)
	if cl.inMulti {
		c.Error(errWatchInsideMulti)
		return
	}
	// No point in watching more once a watched key has been touched.
	if !cl.dirtyCAS.Load() {
		for _, key := range c.Args[1:] {
			cl.watchKey(c.DB, key)
		}
		cl.publishTx()
	}
	c.OK()
}

// watchID names a watched key: WATCH is per database.
type watchID struct {
	db  int
	key string
}

// watchedKey is one client's watch of one key. It sits both in the
// client's list and in the registry's shard map.
type watchedKey struct {
	id    watchID
	c     *Client
	shard int
	// expired records that the key was already logically expired when it
	// was watched, so that its reclamation is no change (Redis 7.0's rule).
	// Guarded by the shard lock.
	expired bool
}

// watchRegistry maps watched keys to their watchers.
type watchRegistry struct {
	// n counts watchedKey entries; writes look at nothing else when it is 0.
	n      atomic.Int64
	shards [keyspace.NumShards]map[watchID][]*watchedKey // guarded by the keyspace shard locks
}

// watchKey adds key of db to the client's watches. The caller holds the
// key's shard lock.
func (c *Client) watchKey(db keyspace.DB, key []byte) {
	for _, wk := range c.watched {
		if wk.id.db == db.Index() && wk.id.key == string(key) {
			return
		}
	}
	_, stale := db.Presence(key)
	wk := &watchedKey{id: watchID{db.Index(), string(key)}, c: c, shard: keyspace.ShardOf(key), expired: stale}
	r := &c.srv.tx.watches
	m := r.shards[wk.shard]
	if m == nil {
		m = map[watchID][]*watchedKey{}
		r.shards[wk.shard] = m
	}
	m[wk.id] = append(m[wk.id], wk)
	r.n.Add(1)
	c.watched = append(c.watched, wk)
}

// unwatchAll forgets every watched key. locked says the caller already
// holds the shards of all of them (EXEC); otherwise they are locked here.
func (c *Client) unwatchAll(locked bool) {
	if len(c.watched) == 0 {
		return
	}
	s := c.srv
	var ss keyspace.ShardSet
	if !locked {
		for _, wk := range c.watched {
			ss.AddShard(wk.shard)
		}
		s.Store.Lock(&ss)
	}
	r := &s.tx.watches
	for _, wk := range c.watched {
		m := r.shards[wk.shard]
		list := m[wk.id]
		for i, o := range list {
			if o == wk {
				list[i] = list[len(list)-1]
				list[len(list)-1] = nil
				list = list[:len(list)-1]
				break
			}
		}
		if len(list) == 0 {
			delete(m, wk.id)
		} else {
			m[wk.id] = list
		}
	}
	r.n.Add(-int64(len(c.watched)))
	if !locked {
		s.Store.Unlock(&ss)
	}
	clear(c.watched)
	c.watched = c.watched[:0]
}

// watchedKeyExpired reports whether a watched key that was alive when
// watched has expired since, even if nothing has reclaimed it yet (Redis's
// isWatchedKeyExpired). The caller holds the watched keys' shards.
func (c *Client) watchedKeyExpired(now int64) bool {
	for _, wk := range c.watched {
		if wk.expired {
			continue
		}
		if _, stale := c.srv.Store.DB(wk.id.db).At(now).Presence([]byte(wk.id.key)); stale {
			return true
		}
	}
	return false
}

// active reports whether any key is watched; writes check it first.
func (r *watchRegistry) active() bool { return r.n.Load() > 0 }

// touch marks the watchers of key in db as dirty, so their EXEC fails
// (Redis's touchWatchedKey). The caller holds the key's shard lock.
func (r *watchRegistry) touch(db keyspace.DB, key []byte) {
	m := r.shards[keyspace.ShardOf(key)]
	if len(m) == 0 {
		return
	}
	for _, wk := range m[watchID{db.Index(), string(key)}] {
		if wk.expired {
			if exists, _ := db.Presence(key); !exists {
				// The stale key watched has been deleted: logically no
				// change, and it no longer counts as expired.
				wk.expired = false
				continue
			}
		}
		wk.c.dirtyCAS.Store(true)
	}
}

// expired is Store.OnExpire: a key is being reclaimed because its time to
// live passed. The caller holds its shard lock.
func (r *watchRegistry) expired(db int, key []byte) {
	if !r.active() {
		return
	}
	m := r.shards[keyspace.ShardOf(key)]
	for _, wk := range m[watchID{db, string(key)}] {
		if wk.expired {
			wk.expired = false
		} else {
			wk.c.dirtyCAS.Store(true)
		}
	}
}

// touchWritten touches the keys a command that changed the keyspace may
// have written. The caller holds the command's shards.
func (t *txState) touchWritten(ctx *command.Ctx) {
	r := &t.watches
	args := ctx.Args
	switch ctx.Cmd.Name {
	case "move":
		r.touch(ctx.DB, args[1])
		if idx, ok := resp.ParseInt(args[2]); ok {
			r.touch(ctx.DB.Store().DB(int(idx)).At(ctx.DB.Now()), args[1])
		}
		return
	case "copy":
		dst := ctx.DB
		for j := 3; j+1 < len(args); j++ {
			if strings.EqualFold(string(args[j]), "db") {
				if idx, ok := resp.ParseInt(args[j+1]); ok {
					dst = ctx.DB.Store().DB(int(idx)).At(ctx.DB.Now())
				}
				j++
			}
		}
		r.touch(dst, args[2])
		return
	case "flushdb", "flushall", "swapdb":
		return // see planFlush
	}
	var buf [8]int
	idx := t.writeKeysOf(ctx.Cmd).KeyIndexes(buf[:0], args)
	if ctx.Cmd.Keys != nil {
		idx = withoutReadOnlyKeys(ctx.Cmd, args, idx)
	}
	for _, i := range idx {
		if ctx.KeyModified(i) {
			r.touch(ctx.DB, args[i])
		}
	}
}

// withoutReadOnlyKeys drops from idx the positions only read-only key specs
// name (SORT's source when it STOREs elsewhere), for commands whose keys
// a function finds.
func withoutReadOnlyKeys(cmd *command.Command, args [][]byte, idx []int) []int {
	var ro []int
	for i := range cmd.KeySpecs {
		for _, f := range cmd.KeySpecs[i].Flags {
			if f == "RO" {
				one := command.Command{KeySpecs: cmd.KeySpecs[i : i+1]}
				ro = one.KeyIndexes(ro, args)
			}
		}
	}
	if len(ro) == 0 {
		return idx
	}
	kept := idx[:0]
	for _, i := range idx {
		if !slices.Contains(ro, i) {
			kept = append(kept, i)
		}
	}
	return kept
}

// writeKeysOf returns cmd, or a stand-in without cmd's read-only key specs.
func (t *txState) writeKeysOf(cmd *command.Command) *command.Command {
	if cmd.Keys != nil || len(cmd.KeySpecs) == 0 {
		return cmd
	}
	if w, ok := t.writeSpecs.Load(cmd); ok {
		return w.(*command.Command)
	}
	var kept []command.KeySpec
	for _, ks := range cmd.KeySpecs {
		ro := false
		for _, f := range ks.Flags {
			if f == "RO" {
				ro = true
			}
		}
		if !ro {
			kept = append(kept, ks)
		}
	}
	w := cmd
	if len(kept) < len(cmd.KeySpecs) {
		w = &command.Command{Name: cmd.Name, KeySpecs: kept}
		if len(kept) == 0 {
			w.KeySpecs = []command.KeySpec{} // no keys at all, not the legacy range
		}
	}
	t.writeSpecs.Store(cmd, w)
	return w
}

// watchOp is what a keyspace-wide command does to one watch.
type watchOp uint8

const (
	opDirty watchOp = iota
	opClearExpired
	opSetExpired
)

type watchAction struct {
	wk *watchedKey
	op watchOp
}

// planFlush decides, before FLUSHDB, FLUSHALL or SWAPDB runs (every shard
// locked), what it does to the watches, following Redis's
// touchAllWatchedKeysInDb; the plan is applied if the command succeeds.
// Deciding first is necessary because the rules look at which keys
// existed before.
func (t *txState) planFlush(ctx *command.Ctx) []watchAction {
	st := ctx.DB.Store()
	now := ctx.DB.Now()
	var plan []watchAction
	switch ctx.Cmd.Name {
	case "flushdb":
		plan = t.watches.planEmpty(plan, ctx.DB, nil)
	case "flushall":
		for d := 0; d < st.Databases(); d++ {
			plan = t.watches.planEmpty(plan, st.DB(d).At(now), nil)
		}
	case "swapdb":
		if len(ctx.Args) != 3 {
			return nil
		}
		a, ok1 := resp.ParseInt(ctx.Args[1])
		b, ok2 := resp.ParseInt(ctx.Args[2])
		n := int64(st.Databases())
		if !ok1 || !ok2 || a < 0 || b < 0 || a >= n || b >= n || a == b {
			return nil
		}
		da, db := st.DB(int(a)).At(now), st.DB(int(b)).At(now)
		plan = t.watches.planEmpty(plan, da, &db)
		plan = t.watches.planEmpty(plan, db, &da)
	}
	return plan
}

// planEmpty plans the effect on the watches of emptying db, or of
// replacing its contents with those of with (SWAPDB).
func (r *watchRegistry) planEmpty(plan []watchAction, db keyspace.DB, with *keyspace.DB) []watchAction {
	for i := range r.shards {
		for id, list := range r.shards[i] {
			if id.db != db.Index() {
				continue
			}
			key := []byte(id.key)
			exists, _ := db.Presence(key)
			var withExists, withStale bool
			if with != nil {
				withExists, withStale = with.Presence(key)
			}
			if !exists && !withExists {
				continue
			}
			for _, wk := range list {
				switch {
				case wk.expired && !withExists:
					// A stale key deleted: no logical change.
					plan = append(plan, watchAction{wk, opClearExpired})
				case wk.expired && withStale:
					// Stale before, stale after.
				case !wk.expired && !exists && withStale:
					// A missing key replaced by a stale one: no change,
					// but it now counts as watched while expired.
					plan = append(plan, watchAction{wk, opSetExpired})
				default:
					plan = append(plan, watchAction{wk, opDirty})
				}
			}
		}
	}
	return plan
}

// applyPlan carries out planFlush's decisions once the command succeeded.
func applyPlan(plan []watchAction) {
	for _, a := range plan {
		switch a.op {
		case opDirty:
			a.wk.c.dirtyCAS.Store(true)
		case opClearExpired:
			a.wk.expired = false
		case opSetExpired:
			a.wk.expired = true
		}
	}
}

// execArgs is EXEC as CLIENT INFO describes a client running a transaction.
var execArgs = [][]byte{[]byte("exec")}
