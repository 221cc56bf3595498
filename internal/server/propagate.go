package server

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/corvid-db/corvid/internal/command"
)

// The write stream: what replicas (and the append-only file, later) are
// sent so that they reach the same state, in Redis's replication-stream
// form. Each command's effects are collected by its client while it runs
// (command.Ctx's propagation API) and emitted as one unit when the
// command, the whole EXEC or the whole script ends: a unit of more than
// one command is wrapped in MULTI/EXEC, and a SELECT goes before any
// command for another database than the previous one. A unit is emitted
// while its shards are still locked, so commands on the same keys reach
// the stream in the order they ran; commands on different keys, which
// different cores run at once, commute. Keys that expire (lazily in a
// lookup, or in the cron) are sent as DEL at once, outside any unit.

// propFeed is the server's write stream and its consumers.
type propFeed struct {
	active atomic.Bool // someone consumes the stream; commands collect effects

	mu        sync.Mutex
	lastDB    int // database of the last command sent; -1: SELECT first
	consumers []propConsumer
	buf       []byte
	offset    int64 // bytes of stream produced (master_repl_offset)

	// The replication buffer (replbuf.go): the stream from start to
	// offset, in blocks from head to tail, shared by the backlog (its last
	// backlogSize bytes, so a replica whose link broke can continue from
	// where it was: PSYNC) and the replicas (what each has not been
	// sent). The backlog is made when the first replica attaches, as
	// Redis does; backlogSize is 0 until then. bufMem is the blocks'
	// memory (INFO's mem_total_replication_buffers).
	head, tail  *replBlock
	start       int64
	backlogSize int64
	bufMem      int64

	// proxy: the server is a replica. Its replicas and its backlog then
	// get its primary's stream byte for byte (emitProxy), so its offsets
	// and replication ID are its primary's, as Redis's replicas proxy the
	// stream (PSYNC across a chain and after a failover rests on it);
	// what runs here (emit, emitNow) goes only to the AOF.
	proxy bool
}

// isReplicaConsumer reports whether c is a replica connection (not the AOF).
func isReplicaConsumer(c propConsumer) bool {
	_, ok := c.(*Client)
	return ok
}

// emitProxy passes bytes of the primary's stream on to this replica's
// replicas and backlog, advancing the offset.
func (f *propFeed) emitProxy(b []byte) {
	f.mu.Lock()
	f.offset += int64(len(b))
	f.appendStream(b)
	for _, c := range f.consumers {
		if isReplicaConsumer(c) {
			c.feed(b)
		}
	}
	f.mu.Unlock()
}

// startProxy makes the feed a replica's, at offset of replication ID
// its primary gave (a full synchronisation): the backlog restarts there,
// made if there was none, as Redis's replicas keep one so that others
// can continue from them after a failover. Its own replicas were dropped
// by then.
func (f *propFeed) startProxy(offset, backlogSize int64) {
	f.mu.Lock()
	f.ensureBacklog(backlogSize)
	f.proxy = true
	f.resetStream(offset)
	f.lastDB = -1
	f.mu.Unlock()
}

// startProxyAt makes the feed a replica's from where it is (a partial
// resynchronisation: the offsets are already the primary's).
func (f *propFeed) startProxyAt(backlogSize int64) {
	f.mu.Lock()
	if !f.hasBacklog() {
		// Made now, it holds nothing before this offset.
		f.ensureBacklog(backlogSize)
		f.start = max(f.start, f.offset)
	}
	f.proxy = true
	f.mu.Unlock()
}

// stopProxy makes the feed a primary's again (REPLICAOF NO ONE): the
// stream goes on from the offset reached, and its next unit selects its
// database, whatever the primary's stream last selected.
func (f *propFeed) stopProxy() {
	f.mu.Lock()
	f.proxy = false
	f.lastDB = -1
	// The promoted replica's backlog (or its replicas) now consume its
	// own writes: without this they were left out of the stream until a
	// replica attached, so a replica continuing from the backlog after a
	// failover missed them while WAIT counted them acknowledged.
	f.active.Store(len(f.consumers) > 0 || f.hasBacklog())
	f.mu.Unlock()
}

// ensureBacklog makes the backlog, of size bytes, if there is none; f.mu
// is held.
func (f *propFeed) ensureBacklog(size int64) {
	if !f.hasBacklog() && size > 0 {
		f.backlogSize = max(size, minBacklogSize)
	}
}

// minBacklogSize is the smallest backlog, as Redis's
// CONFIG_REPL_BACKLOG_MIN_SIZE.
const minBacklogSize = 16 << 10

// resizeBacklog gives an existing backlog a new size (CONFIG SET
// repl-backlog-size): a smaller one drops its oldest bytes (those no
// replica still needs), a bigger one keeps what comes from now on.
func (f *propFeed) resizeBacklog(size int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.hasBacklog() {
		return
	}
	f.backlogSize = max(size, minBacklogSize)
	f.trim()
}

// canContinue reports whether the buffer holds the stream from offset on
// (the offset of its first byte, 1-based as PSYNC counts): the backlog,
// and beyond it whatever a slow replica keeps; f.mu is held.
func (f *propFeed) canContinue(offset int64) bool {
	return f.hasBacklog() && offset >= f.start+1 && offset <= f.offset+1
}

// backlogInfo reports the backlog for INFO: active, first byte's offset,
// bytes held (more than repl-backlog-size while a replica is behind).
func (f *propFeed) backlogInfo() (active bool, first, histlen int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.hasBacklog() {
		return false, 0, 0
	}
	return true, f.start + 1, f.offset - f.start
}

// propConsumer receives the encoded stream.
type propConsumer interface {
	feed(b []byte)
}

// propOp is one collected command: its database and its arguments,
// encoded as a RESP array in the client's propBuf at [start, end).
type propOp struct {
	db         int
	start, end int
}

// addConsumer starts feeding c; the next unit begins with a SELECT, as a
// new replica's stream does.
func (f *propFeed) addConsumer(c propConsumer) {
	f.mu.Lock()
	f.addConsumerLocked(c)
	f.mu.Unlock()
}

// addConsumerLocked is addConsumer with f.mu held.
func (f *propFeed) addConsumerLocked(c propConsumer) {
	f.consumers = append(f.consumers, c)
	f.lastDB = -1
	f.active.Store(true)
}

// removeConsumer stops feeding c.
func (f *propFeed) removeConsumer(c propConsumer) {
	f.mu.Lock()
	for i, x := range f.consumers {
		if x == c {
			f.consumers = append(f.consumers[:i], f.consumers[i+1:]...)
			break
		}
	}
	// With a backlog the stream goes on without replicas, so one whose
	// link broke can continue from it. What only c kept goes.
	f.active.Store(len(f.consumers) > 0 || f.hasBacklog())
	f.trim()
	f.mu.Unlock()
}

var (
	delArg    = []byte("DEL")
	unlinkArg = []byte("UNLINK")
	respMulti = []byte("*1\r\n$5\r\nMULTI\r\n")
	respExec  = []byte("*1\r\n$4\r\nEXEC\r\n")
)

// appendCommand appends args as a RESP array of bulk strings.
func appendCommand(b []byte, args [][]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// appendSelect writes a SELECT to db into f.buf when the stream is on
// another database; f.mu is held.
func (f *propFeed) appendSelect(db int) {
	if db == f.lastDB {
		return
	}
	var num [20]byte
	n := strconv.AppendInt(num[:0], int64(db), 10)
	f.buf = appendCommand(f.buf, [][]byte{[]byte("SELECT"), n})
	f.lastDB = db
}

// emit sends one unit of collected commands and returns the stream's
// offset after it.
func (f *propFeed) emit(ops []propOp, data []byte) int64 {
	if len(ops) == 0 {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf = f.buf[:0]
	if len(ops) > 1 {
		f.buf = append(f.buf, respMulti...)
	}
	for _, op := range ops {
		f.appendSelect(op.db)
		f.buf = append(f.buf, data[op.start:op.end]...)
	}
	if len(ops) > 1 {
		f.buf = append(f.buf, respExec...)
	}
	f.send()
	return f.offset
}

// emitNow sends a single command on its own (an expired key's DEL).
func (f *propFeed) emitNow(db int, args ...[]byte) {
	f.mu.Lock()
	if len(f.consumers) > 0 || f.hasBacklog() {
		f.buf = f.buf[:0]
		f.appendSelect(db)
		f.buf = appendCommand(f.buf, args)
		f.send()
	}
	f.mu.Unlock()
}

// emitToReplicas sends a command, with no SELECT, to the replicas and the
// backlog only, not the AOF (DEBUG REPLICATE, as Redis's
// replicationFeedSlaves with no database).
func (f *propFeed) emitToReplicas(args ...[]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.proxy || (len(f.consumers) == 0 && !f.hasBacklog()) {
		return
	}
	f.buf = appendCommand(f.buf[:0], args)
	f.offset += int64(len(f.buf))
	f.appendStream(f.buf)
	for _, c := range f.consumers {
		if isReplicaConsumer(c) {
			c.feed(f.buf)
		}
	}
}

// latestBacklog returns the backlog's last n bytes at most; f.mu is held.
func (f *propFeed) latestBacklog(n int) []byte {
	n = int(min(int64(n), f.offset-f.start))
	if !f.hasBacklog() || n <= 0 {
		return nil
	}
	return f.copyStream(f.offset - int64(n))
}

// emitRaw sends b as is, with no SELECT (the replication PING).
func (f *propFeed) emitRaw(b []byte) {
	f.mu.Lock()
	f.buf = append(f.buf[:0], b...)
	f.send()
	f.mu.Unlock()
}

// send hands f.buf to every consumer; f.mu is held. A replica's feed
// (proxy) hands it to the AOF only: its replicas get the primary's bytes.
func (f *propFeed) send() {
	if f.proxy {
		for _, c := range f.consumers {
			if !isReplicaConsumer(c) {
				c.feed(f.buf)
			}
		}
		return
	}
	f.offset += int64(len(f.buf))
	f.appendStream(f.buf)
	for _, c := range f.consumers {
		c.feed(f.buf)
	}
	if cap(f.buf) > 1<<20 {
		f.buf = nil
	}
}

// Offset reports how many bytes of stream have been produced.
func (f *propFeed) Offset() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.offset
}

// deletionName is what a deletion the server makes (expiry, eviction)
// propagates as: UNLINK when its lazyfree setting is on, as in Redis.
func (s *Server) deletionName(lazyfreeSetting string) []byte {
	if s.Config.Bool(lazyfreeSetting) {
		return unlinkArg
	}
	return delArg
}

// ---- collection by the client ----

// propAlso is the client's Ctx.PropAlso: an extra command for the unit.
func (c *Client) propAlso(args [][]byte) {
	c.addProp(c.ctx.DB.Index(), args)
}

// addProp appends one command to the unit being collected.
func (c *Client) addProp(db int, args [][]byte) {
	start := len(c.propBuf)
	c.propBuf = appendCommand(c.propBuf, args)
	c.propOps = append(c.propOps, propOp{db, start, len(c.propBuf)})
}

// captureProp records what the command just run propagates.
func (c *Client) captureProp(cmd *command.Command, args [][]byte) {
	ctx := &c.ctx
	if ctx.PropNone || c.aofLoading || c.srv.noSelfProp(cmd) || (ctx.Dirty == 0 && !ctx.PropForce) {
		return
	}
	if ctx.PropRewritten {
		args = ctx.PropArgs
	}
	c.addProp(ctx.DB.Index(), args)
}

// flushProp emits the unit collected (a command, an EXEC, a script); the
// shards it wrote are still locked.
func (c *Client) flushProp() {
	if len(c.propOps) == 0 {
		return
	}
	c.woff = c.srv.prop.emit(c.propOps, c.propBuf)
	c.propOps = c.propOps[:0]
	if cap(c.propBuf) > 64<<10 {
		c.propBuf = nil
	} else {
		c.propBuf = c.propBuf[:0]
	}
}

// noSelfProp reports commands that never propagate themselves: EXEC
// (its commands go, wrapped) and scripts (the commands they ran go:
// effects replication, Redis's only mode since 7.0).
func (s *Server) noSelfProp(cmd *command.Command) bool {
	switch cmd.Name {
	case "exec", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		return true
	}
	return false
}

var hdelArg = []byte("HDEL")

// initPropagation hooks the keyspace events the stream carries that no
// command makes: hash fields reclaimed by their TTL go as HDEL, at once.
// (Expired and evicted keys are sent from the expiry and eviction hooks.)
func (s *Server) initPropagation() {
	s.Store.OnFieldExpire = func(db int, key, field []byte) {
		if s.prop.active.Load() {
			s.prop.emitNow(db, hdelArg, key, field)
		}
	}
}
