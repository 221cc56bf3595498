package server

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/acl"
	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/keyspace"
)

// Blocking commands (BLPOP, BLMOVE, BZPOPMIN…), the way Redis's blocking.c
// serves them. A blocking command that finds nothing to pop asks, through
// command.Ctx.BlockOn, to wait; the dispatcher registers the client on its
// keys while the keys' shards are still locked, so a push cannot slip in
// between the empty check and the registration. Every write command notes
// the keys it wrote when someone is waiting; once it (or the whole
// MULTI/EXEC) has finished and released its locks, the writer's goroutine
// serves the clients waiting on those keys in arrival order, running each
// one's command again under that command's own locks, its reply going to
// the waiting client. Blocking commands run on a goroutine of their own
// (command.OwnGoroutine), which parks until served, timed out, unblocked by
// CLIENT UNBLOCK, or the client goes away.

// blockKey names a key in a database.
type blockKey struct {
	db  int
	key string
}

// Waiter states.
const (
	waitPreparing = iota // registered; the client is still writing earlier replies
	waitWaiting
	waitServed
	waitTimedOut
	waitUnblocked
	waitGone
)

// waiter is a client blocked on keys.
type waiter struct {
	c         *Client
	cmd       *command.Command
	args      [][]byte // copies: the query buffer moves on while the client waits
	db        int
	typ       keyspace.Type
	keys      []blockKey
	deadline  int64 // Unix ms, 0 = for ever
	anyChange bool  // command.BlockRequest.WakeOnAnyChange

	// mu guards state and, while the state is waitWaiting, the client's
	// reply buffer: whoever resolves the wait writes the reply under mu.
	mu    sync.Mutex
	state int
	done  chan struct{} // closed when another goroutine resolves the wait
	// settled is closed once the blocked command's statistics are
	// recorded, so that CLIENT UNBLOCK returns with them in place, as
	// Redis accounts the command within the unblocking call.
	settled chan struct{}
	// failed says CLIENT UNBLOCK ended the wait with its error: the
	// command then counts as failed in commandstats, as in Redis. Written
	// under mu before done is closed.
	failed bool
	// rejected: the ACLs refused it when it was woken (counted as a
	// rejected call, not a call).
	rejected bool
}

// blockRegistry is the server's table of waiting clients by key; each
// key's waiters are kept in arrival order.
type blockRegistry struct {
	mu      sync.Mutex
	byKey   map[blockKey][]*waiter
	clients atomic.Int64 // registered waiters: writers note keys only when > 0
	nokey   atomic.Int64 // keys with a WakeOnAnyChange waiter (total_blocking_keys_on_nokey)
	waiting atomic.Int64 // waiters past preparation (INFO blocked_clients)
	nkeys   atomic.Int64
}

func (r *blockRegistry) add(w *waiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byKey == nil {
		r.byKey = map[blockKey][]*waiter{}
	}
	for i, k := range w.keys {
		if dupKey(w.keys[:i], k) {
			continue
		}
		r.byKey[k] = append(r.byKey[k], w)
	}
	r.clients.Add(1)
	r.nkeys.Store(int64(len(r.byKey)))
	r.countNokey()
}

// countNokey recounts the keys some WakeOnAnyChange waiter waits on; r.mu
// is held.
func (r *blockRegistry) countNokey() {
	n := int64(0)
	for _, ws := range r.byKey {
		for _, w := range ws {
			if w.anyChange {
				n++
				break
			}
		}
	}
	r.nokey.Store(n)
}

func dupKey(keys []blockKey, k blockKey) bool {
	for _, o := range keys {
		if o == k {
			return true
		}
	}
	return false
}

// remove forgets w; it is called once, by whoever resolved the wait.
func (r *blockRegistry) remove(w *waiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, k := range w.keys {
		if dupKey(w.keys[:i], k) {
			continue
		}
		ws := r.byKey[k]
		for j, o := range ws {
			if o == w {
				ws = append(ws[:j:j], ws[j+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(r.byKey, k)
		} else {
			r.byKey[k] = ws
		}
	}
	r.clients.Add(-1)
	r.nkeys.Store(int64(len(r.byKey)))
	r.countNokey()
}

// waitersOn returns, in arrival order, the clients waiting on k.
func (r *blockRegistry) waitersOn(k blockKey) []*waiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*waiter(nil), r.byKey[k]...)
}

// allKeys returns every key someone waits on (after SWAPDB, FLUSHALL, MOVE).
func (r *blockRegistry) allKeys() []blockKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	ks := make([]blockKey, 0, len(r.byKey))
	for k := range r.byKey {
		ks = append(ks, k)
	}
	return ks
}

// noteReady records, for a write command that just ran while clients
// wait, the keys it may have made ready; they are served once the command
// has released its locks (serveReadyKeys).
func (c *Client) noteReady(cmd *command.Command, args [][]byte) {
	if cmd.Flags&command.AllShards != 0 || cmd.Name == "move" || cmd.Name == "copy" {
		c.readyAll = true // keys moved between databases, or databases swapped
		return
	}
	c.keyIdx = cmd.KeyIndexes(c.keyIdx[:0], args)
	for _, i := range c.keyIdx {
		c.readyKeys = append(c.readyKeys, blockKey{c.db, string(args[i])})
	}
}

// serveReadyKeys serves the clients waiting on the keys this client's
// last command wrote.
func (c *Client) serveReadyKeys() {
	if len(c.readyKeys) == 0 && !c.readyAll {
		return
	}
	keys, all := c.readyKeys, c.readyAll
	c.readyKeys, c.readyAll = nil, false
	c.srv.serveBlocked(keys, all)
}

// serveBlocked serves, key by key and in arrival order, the clients
// waiting on keys. Serving one may make others ready (BLMOVE pushes onto
// its destination); those follow.
func (s *Server) serveBlocked(keys []blockKey, all bool) {
	if all {
		keys = append(keys, s.blocking.allKeys()...)
	}
	for i := 0; i < len(keys); i++ {
		for _, w := range s.blocking.waitersOn(keys[i]) {
			keys = append(keys, s.tryServe(w, keys[i])...)
		}
	}
}

// tryServe runs w's command again if key holds a value of the type w waits
// for, under the command's own shard locks. It returns the keys the
// command's own writes made ready.
func (s *Server) tryServe(w *waiter, k blockKey) []blockKey {
	var ss keyspace.ShardSet
	var idx []int
	for _, i := range w.cmd.KeyIndexes(idx, w.args) {
		ss.Add(w.args[i])
	}
	s.Store.Lock(&ss)
	defer s.Store.Unlock(&ss)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state != waitWaiting {
		return nil
	}
	now := time.Now().UnixMilli()
	e, ok := s.Store.DB(k.db).At(now).Peek([]byte(k.key))
	if (!ok || e.Type() != w.typ) && !w.anyChange {
		// A key deleted, or replaced by another type, does not wake anyone.
		return nil
	}
	c := w.c
	// As Redis reprocesses a woken command through its admission checks:
	// the user's permissions may have changed while it waited.
	if r, pos := c.aclDenied(w.cmd, w.args); r != acl.Allowed && !c.isMaster.Load() {
		c.denyACL(w.cmd, w.args, r, pos)
		w.rejected = true
		w.state = waitServed
		close(w.done)
		s.blocking.remove(w)
		return nil
	}
	mark := c.w.Len()
	c.reprocessing = true
	c.execute(w.cmd, w.args, now, false)
	c.reprocessing = false
	c.flushProp() // BLPOP served, as the LPOP it became; locks held
	more := c.readyKeys
	c.readyKeys = nil
	if c.readyAll {
		c.readyAll = false
		more = append(more, s.blocking.allKeys()...)
	}
	if c.ctx.Block != nil {
		// Still nothing to serve: keep waiting, in the same place.
		c.ctx.Block = nil
		c.w.Buf = c.w.Buf[:mark]
		return more
	}
	w.state = waitServed
	close(w.done)
	s.blocking.remove(w)
	return more
}

// startBlocking registers the client on the keys its command asked to wait
// for; the command's shards are still locked. The client parks (park) once
// the locks are released.
func (c *Client) startBlocking(cmd *command.Command, args [][]byte, req *command.BlockRequest) *waiter {
	w := &waiter{c: c, cmd: cmd, db: c.db, typ: req.Type, deadline: req.Deadline, anyChange: req.WakeOnAnyChange,
		done: make(chan struct{}), settled: make(chan struct{})}
	w.args = make([][]byte, len(args))
	for i, a := range args {
		w.args[i] = append([]byte(nil), a...)
	}
	for _, k := range req.Keys {
		w.keys = append(w.keys, blockKey{c.db, string(k)})
	}
	c.srv.blocking.add(w)
	return w
}

// park waits until w is resolved. The reply (the served command's, a
// timeout's, CLIENT UNBLOCK's) is in the client's reply buffer when it
// returns. While parked the client's socket is watched, so that a client
// that goes away is forgotten at once; input it pipelines meanwhile stays
// in the query buffer for later.
func (c *Client) park(w *waiter) {
	s := c.srv
	c.flush() // replies to earlier pipelined commands go out first
	c.setLastCmd(w.cmd)
	var mem int64
	for _, a := range w.args {
		mem += int64(len(a))
	}
	c.argvMem.Store(mem)
	c.blocked.Store(true)
	c.waiting.Store(w)
	w.mu.Lock()
	w.state = waitWaiting
	w.mu.Unlock()
	s.blocking.waiting.Add(1)
	defer func() {
		s.blocking.waiting.Add(-1)
		c.waiting.Store(nil)
		c.argvMem.Store(0)
		c.blocked.Store(false)
		c.lastInteraction.Store(time.Now().Unix())
	}()
	// A push may have come between the registration and now, while the
	// waiter could not be served yet.
	s.serveBlocked(w.keys, false)

	var timer <-chan time.Time
	if w.deadline > 0 {
		t := time.NewTimer(time.Until(time.UnixMilli(w.deadline)))
		defer t.Stop()
		timer = t.C
	}
	readDone := make(chan error, 1)
	reading := c.conn != nil
	if reading {
		go c.watchInput(readDone)
	}
	for {
		select {
		case <-w.done:
		case <-timer:
			c.resolve(w, waitTimedOut)
		case <-c.done:
			c.resolve(w, waitGone)
		case err := <-readDone:
			reading = false
			if err == nil {
				continue // input pipelined behind the blocked command: keep it
			}
			if errors.Is(err, os.ErrDeadlineExceeded) && !c.killed.Load() {
				_ = c.conn.SetReadDeadline(time.Time{})
				reading = true
				go c.watchInput(readDone)
				continue
			}
			c.resolve(w, waitGone)
			c.Kill()
		}
		break
	}
	if reading {
		_ = c.conn.SetReadDeadline(time.Unix(1, 0))
		if err := <-readDone; err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			c.Kill()
		}
		_ = c.conn.SetReadDeadline(time.Time{})
	}
}

// watchInput reads once into the query buffer while the client is parked.
func (c *Client) watchInput(done chan<- error) {
	n, err := c.parser.Fill(c.conn)
	if n > 0 {
		c.srv.Stats.NetInput.Add(int64(n))
		c.srv.Stats.IOReads.Add(1)
	}
	done <- err
}

// resolve ends w's wait with state unless another goroutine has served or
// unblocked it already. A timeout replies as Redis does, with a null array.
func (c *Client) resolve(w *waiter, state int) {
	w.mu.Lock()
	if w.state != waitWaiting {
		w.mu.Unlock()
		return
	}
	w.state = state
	if state == waitTimedOut {
		c.w.NullArray()
	}
	w.mu.Unlock()
	c.srv.blocking.remove(w)
}

// unblock is CLIENT UNBLOCK's side: it ends the wait of a client blocked on
// keys, replying as a timeout would or with Redis's UNBLOCKED error. It
// reports whether the client was waiting.
func (c *Client) unblock(withError bool) bool {
	msg := ""
	if withError {
		msg = errUnblocked
	}
	return c.unblockWith(msg)
}

// unblockWith ends the wait of a client blocked on keys with the error
// msg, or as a timeout would when msg is empty, and reports whether the
// client was waiting.
func (c *Client) unblockWith(msg string) bool {
	w := c.waiting.Load()
	if w == nil {
		// WAIT and WAITAOF wait for acknowledgements, not keys.
		if aw := c.ackWaiting.Load(); aw != nil && aw.claimed.CompareAndSwap(false, true) {
			aw.unblocked <- msg != ""
			return true
		}
		return false
	}
	w.mu.Lock()
	if w.state != waitWaiting {
		w.mu.Unlock()
		return false
	}
	w.state = waitUnblocked
	if msg != "" {
		c.w.Error(msg)
		c.srv.countError([]byte(msg))
		w.failed = true
	} else {
		c.w.NullArray()
	}
	close(w.done)
	w.mu.Unlock()
	c.srv.blocking.remove(w)
	// The client's own goroutine records the command; that takes no lock
	// the caller could hold, and the bound only guards against a bug.
	t := time.NewTimer(time.Second)
	select {
	case <-w.settled:
	case <-t.C:
	}
	t.Stop()
	return true
}

const errUnblocked = "UNBLOCKED client unblocked via CLIENT UNBLOCK"

// unblockWriters ends, with Redis's UNBLOCKED error, the waits of the
// clients blocked on keys in a command that writes (BLPOP, BLMOVE,
// XREADGROUP…): the server became a replica, whose dataset only its
// primary changes, as Redis's disconnectOrRedirectAllBlockedClients.
func (s *Server) unblockWriters() {
	var blocked []*Client
	s.clientsMu.Lock()
	for _, c := range s.clients {
		if w := c.waiting.Load(); w != nil && w.cmd.Flags&command.Write != 0 {
			blocked = append(blocked, c)
		}
	}
	s.clientsMu.Unlock()
	for _, c := range blocked {
		c.unblockWith(errWaitUnblockRole)
	}
}
