package server

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/corvid-db/corvid/internal/acl"
	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// Reply modes set by CLIENT REPLY.
const (
	replyOn = iota
	replyOff
	replySkip
	replySkipNext // SKIP was just issued; the next command is skipped
)

// flushThreshold is how much reply data a batch may accumulate before it is
// written out mid-batch, so a huge pipeline of big replies streams instead of
// growing the buffer without bound.
const flushThreshold = 64 << 10

// Client is one connection. Its fields are owned by its goroutine except
// where a comment says otherwise; CLIENT LIST and KILL from other
// connections read the atomics and the fields under mu.
type Client struct {
	srv *Server
	ID  int64

	// The socket: conn while the client has a goroutine of its own, sysfd
	// while an event loop (lp) serves it. Other goroutines (Kill, CLIENT
	// LIST) read them under fdMu; the owner changes them under it.
	fdMu    sync.Mutex
	conn    net.Conn
	sysfd   int
	lp      *eventLoop
	inLoop  atomic.Bool // lp != nil, for other goroutines
	outOff  int         // event loop: how much of w.Buf is already written
	outWait bool        // event loop: output waits for the socket (outList, or w.Buf past outOff)
	// outList: an event loop client's earlier replies still waiting for
	// its socket, in the order they go out, before w.Buf (Redis's reply
	// list). A batch's replies that the socket did not take move here
	// whole, so that a client that reads slowly grows a list instead of
	// one buffer copied at every growth; outListLen is their size.
	outList    [][]byte
	outListLen int
	// Blocking commands (blocking.go): the keys this client's writes may
	// have made ready, and the wait it is parked in.
	readyKeys []blockKey
	readyAll  bool
	waiting   atomic.Pointer[waiter]
	// ackWaiting: the client waits in WAIT or WAITAOF (replication.go).
	ackWaiting atomic.Pointer[ackWait]

	// Pub/Sub (pubsub.go): the subscriptions, owned by the client's
	// goroutine, their counts for CLIENT LIST, and since when (Unix s) the
	// output queue has been over the soft limit (guarded by asyncMu).
	subs               clientSubs
	nsub, npsub, nssub atomic.Int32
	softSince          int64
	keepPush           bool // the reply just written is a push: CLIENT REPLY leaves it
	// pendingPush: messages the client published to itself inside EXEC or
	// a script, sent once that command's reply is queued (pubsub.go).
	pendingPush []byte

	// Client-side caching (tracking.go): flags and redirect for other
	// goroutines, the owner's prefixes, invalidations about its own writes
	// to send after its reply, and whether it changed BCAST-tracked keys.
	trackFlags    atomic.Uint32
	trackRedir    atomic.Int64
	trackPrefixes []string
	trackMu       sync.Mutex // guards trackPending and executing
	trackPending  [][]byte
	executing     bool
	trackIdx      []int
	bcastPending  bool
	// asyncOn mirrors async for other goroutines.
	asyncOn atomic.Bool
	// inbox holds pushes other goroutines sent to a client without a
	// writer goroutine (guarded by asyncMu); its owner, woken, moves them
	// into its replies between commands (see push).
	inbox      inbox
	inboxBytes atomic.Int64              // inbox.size(), for the loop's lock-free check
	loopRef    atomic.Pointer[eventLoop] // the loop serving the client, for wake-ups
	// wakePending: the client is on its loop's woken list already, so
	// more pushes before the loop drains the inbox need no wake-up.
	wakePending atomic.Bool
	// outQueued: bytes of w.Buf the loop has not written yet, for the
	// output limit checks of pushers on other goroutines.
	outQueued atomic.Int64

	// writeQueued: the loop will write w.Buf after the current batch.
	writeQueued bool

	// migrating: a command asked for a goroutine of its own (see
	// requestGoroutine); the loop hands the connection over and the new
	// goroutine runs migrateArgs first.
	migrating   bool
	migrateArgs [][]byte
	migrateNow  int64

	// replica: set once the connection ran SYNC/PSYNC (replication.go);
	// isReplica mirrors it for other goroutines.
	replica           *replicaState
	isReplica         atomic.Bool
	replListeningPort atomic.Int64
	replAnnouncedIP   atomic.Pointer[string] // REPLCONF ip-address (replica-announce-ip), nil: none
	replCapaEOF       atomic.Bool            // REPLCONF capa eof: can take a streamed RDB
	psync             bool                   // asked with PSYNC (gets +FULLRESYNC), not SYNC
	diskTransfer      bool                   // its RDB is being written to disk (keep-alive newlines meanwhile); guarded by replSync.mu
	proxyBuf          []byte                 // the primary's command being passed on (a replica's master client)
	// isMaster: this is our primary's connection, when we are a replica
	// (replica.go): its commands are the write stream, it may write where
	// others may not, and it gets no replies.
	isMaster atomic.Bool
	primary  *primaryConn
	// aofLoading: the client replays an AOF; what it runs is not
	// propagated again.
	aofLoading bool

	// The write stream (propagate.go): commands collected for the unit
	// (command, EXEC or script) running, encoded in propBuf.
	propOps []propOp
	propBuf []byte
	woff    int64 // the stream offset after this client's last write (WAIT)

	parser resp.Parser
	w      resp.Writer
	ctx    command.Ctx
	keyIdx []int
	shards keyspace.ShardSet

	db            int
	authenticated bool
	// aclAccount is the user the connection is authenticated as (the
	// default user until AUTH); read by ACL changes from other goroutines.
	aclAccount atomic.Pointer[acl.Account]
	aclKeys    []acl.KeyRef // the keys of the command being checked (owner goroutine)
	replyMode  int
	closeAfter bool // QUIT: close once the reply is written
	// leaving is closeAfter as other goroutines see it: a client that asked
	// to be closed is gone for lookups by ID (a tracking redirection among
	// them) from the moment its last reply is made, as in Redis, where it
	// is freed before the next command runs.
	leaving    atomic.Bool
	noTouch    bool
	noEvict    bool
	lastCmdPtr *command.Command
	lastLookup *command.Command // last top-level command looked up (dispatch's cache)

	mu      sync.Mutex // guards the fields below
	name    string
	libName string
	libVer  string
	lastCmd string
	addr    string
	laddr   string

	proto           atomic.Int32
	dbAtomic        atomic.Int32
	created         time.Time
	lastInteraction atomic.Int64 // Unix seconds
	killed          atomic.Bool
	isMonitor       atomic.Bool
	blocked         atomic.Bool
	isLocal         bool
	argvMem         atomic.Int64
	qbufLen         atomic.Int64 // qbuf: bytes read not yet parsed into arguments
	qbufFree        atomic.Int64 // qbuf-free: room left in the read buffer

	// asyncMu guards asyncOut, replies other goroutines queue for this
	// client (MONITOR feed); the owner goroutine or a flusher writes them.
	asyncMu  sync.Mutex
	asyncOut []byte
	// asyncBytes: what asyncOut holds plus what the writer is writing,
	// for client eviction (clientmem.go) without the lock.
	asyncBytes atomic.Int64
	// A replica's stream is not queued here: its writer reads it from the
	// replication buffer (replbuf.go) from replPos, the offset of the next
	// byte to send, once replStreaming (guarded by asyncMu) says its
	// synchronisation reply and RDB are queued; replBlk is the writer's
	// place in the buffer.
	replPos       atomic.Int64
	replStreaming bool
	replBlk       *replBlock
	asyncSig      chan struct{}
	// async (owner goroutine only) is set once the client has become a
	// monitor: from then on all its output, replies included, goes through
	// asyncOut and one writer goroutine, so they never interleave with the
	// feed. See monitor.go.
	async          bool
	monitorPending bool          // MONITOR ran; it is registered once its +OK is queued
	asyncStop      chan struct{} // closed by the owner: the writer drains and exits
	asyncDone      chan struct{} // closed by the writer when it exits

	// done is closed by Kill, so that a goroutine waiting on the client's
	// behalf (a command postponed by CLIENT PAUSE) gives up at once.
	done chan struct{}
	// listFlags mirrors, for CLIENT LIST and KILL in other goroutines, the
	// owner's plain fields (noEvict, noTouch…); see client_list.go.
	listFlags atomic.Uint32

	// MULTI/EXEC and WATCH (tx.go), owned by the client's goroutine except
	// the atomics.
	inMulti bool
	inExec  bool // EXEC is running the queue
	// inScript is set while a script's redis.call runs a command on the
	// client's behalf: MONITOR shows it as from "lua". reprocessing is set
	// while a blocked command is run again to serve it: MONITOR showed it
	// when it blocked, and does not again.
	inScript     bool
	reprocessing bool
	// errCounted: the error the command replied with was counted in the
	// error statistics already (a script's failed redis.call).
	errCounted  bool
	txDirtyExec bool // an admission error inside MULTI: EXEC aborts
	txQueue     []queuedCmd
	txFlags     command.Flags // union of the queued commands' flags
	txInvFlags  command.Flags // union of their complements: flags some command lacks
	txAlloc     int           // Redis's queue allocation, for multi-mem
	txArgvMem   int64
	watched     []*watchedKey
	// dirtyCAS is set by writers of a watched key, under its shard lock:
	// EXEC will fail.
	dirtyCAS atomic.Bool
	txList   atomic.Int64 // queued count + 1 while in MULTI, else 0 (CLIENT LIST)
	txMem    atomic.Int64 // multi-mem (CLIENT LIST)

	// Client eviction (clientmem.go): what the owner last measured of
	// its own memory (a plain copy, so that the steady state writes
	// nothing shared), that figure for other goroutines, and the share
	// of the server's total this client has added.
	memOwnedLocal int64
	memOwned      atomic.Int64
	memCounted    atomic.Int64
}

func (s *Server) newClient(conn net.Conn) *Client {
	c := &Client{
		srv:     s,
		ID:      s.nextID.Add(1),
		conn:    conn,
		sysfd:   -1,
		done:    make(chan struct{}),
		created: time.Now(),
		addr:    conn.RemoteAddr().String(),
		laddr:   conn.LocalAddr().String(),
	}
	if _, ok := conn.(*net.UnixConn); ok {
		c.isLocal = true
		c.addr = "/unixsocket:0"
	} else if ta, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		c.isLocal = ta.IP.IsLoopback()
	}
	c.w.Proto = 2
	c.proto.Store(2)
	c.aclAccount.Store(s.acl.Default())
	c.authenticated = !s.authRequired()
	c.lastInteraction.Store(time.Now().Unix())
	c.parser.MaxBulkLen = s.Config.Int("proto-max-bulk-len")
	c.parser.MaxQueryBuf = s.Config.Int("client-query-buffer-limit")
	c.parser.Unauthenticated = !c.authenticated
	c.ctx.W = &c.w
	c.ctx.Conn = c
	c.ctx.Notifier = s.notify
	c.ctx.PropAlso = c.propAlso
	c.ctx.NotifyMask = &s.notifyFlags
	c.accountMemory()
	s.clientsMu.Lock()
	s.clients[c.ID] = c
	s.clientsMu.Unlock()
	s.nclients.Add(1)
	return c
}

// Kill closes the connection; its goroutine or event loop notices and
// cleans up. A loop's socket is shut down rather than closed, so that its
// descriptor cannot be reused under the loop's feet.
func (c *Client) Kill() {
	if c.killed.CompareAndSwap(false, true) {
		c.closeSocket()
		close(c.done)
	}
}

func (c *Client) closeSocket() {
	c.fdMu.Lock()
	defer c.fdMu.Unlock()
	if c.conn != nil {
		_ = c.conn.Close()
	} else if c.sysfd >= 0 {
		_ = syscall.Shutdown(c.sysfd, syscall.SHUT_RDWR)
	}
}

func (c *Client) unregister() {
	s := c.srv
	if c.isReplica.Load() {
		s.prop.removeConsumer(c)
		s.dropReplica(c)
	}
	c.dropSubscriptions()
	s.tracking.disable(c)
	s.clientsMu.Lock()
	delete(s.clients, c.ID)
	if c.isMonitor.Load() {
		for i, m := range s.monitors {
			if m == c {
				s.monitors = append(s.monitors[:i], s.monitors[i+1:]...)
				s.nmonitors.Store(int32(len(s.monitors)))
				break
			}
		}
	}
	s.clientsMu.Unlock()
	s.uncountClient(c)
	s.nclients.Add(-1)
}

// serve is the read-execute-write loop of a connection with a goroutine of
// its own.
func (c *Client) serve() {
	defer c.endGoroutine()
	c.serveLoop()
}

// endGoroutine cleans up after serve or serveMigrated.
func (c *Client) endGoroutine() {
	if c.async {
		c.drainAsync()
	}
	c.Kill()
	c.closeSocket() // Kill does not, when the client was killed before it migrated
	c.discardTx()
	c.unregister()
}

// serveMigrated continues, on a goroutine of its own, a connection an
// event loop served: the replies the loop could not write yet go first,
// then the command that asked to migrate runs, then the usual loop.
func (c *Client) serveMigrated() {
	defer c.endGoroutine()
	if c.outWait {
		for _, b := range c.outList {
			if _, err := c.conn.Write(b); err != nil {
				return
			}
		}
		c.dropOutList()
		c.w.Buf = c.w.Buf[c.outOff:]
		c.outOff, c.outWait = 0, false
	}
	if !c.flush() {
		return
	}
	if c.subscribed() {
		// Messages must keep coming while the goroutine blocks in read
		// or parks; startAsync also moves what the inbox holds.
		c.startAsync()
	}
	args, now := c.migrateArgs, c.migrateNow
	c.migrating, c.migrateArgs = false, nil
	c.dispatch(args, now)
	c.serveLoop()
}

func (c *Client) serveLoop() {
	s := c.srv
	for !c.killed.Load() {
		c.drainInbox()
		if !c.runBuffered(time.Now().UnixMilli()) || c.closeAfter {
			return
		}
		c.queryBufCron()
		c.accountMemory()
		n, err := c.parser.Fill(c.conn)
		if n > 0 {
			s.Stats.NetInput.Add(int64(n))
			s.Stats.IOReads.Add(1)
			c.lastInteraction.Store(time.Now().Unix())
			if !c.checkClientMemory() {
				return
			}
		}
		if err != nil {
			if c.queryBufWoken(err) {
				continue
			}
			c.logReadError(err)
			return
		}
	}
}

// logReadError logs why a connection's input ended, as Redis does.
func (c *Client) logReadError(err error) {
	s := c.srv
	if errors.Is(err, resp.ErrQueryBufferLimit) {
		s.Log.Warningf("Closing client that reached max query buffer length: id=%d addr=%s", c.ID, c.addr)
	} else if err != io.EOF && !c.killed.Load() {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && s.timeout.Load() > 0 {
			s.Log.Verbosef("Closing idle client")
		}
	}
}

// runBuffered runs the complete commands in the query buffer and writes
// their replies. It stops early when the connection must migrate or, under
// an event loop, when the socket takes no more output. It returns false
// when the connection must close.
func (c *Client) runBuffered(now int64) bool {
	s := c.srv
	// An event loop's client goes on while its socket has not taken the
	// previous replies (outPending), as Redis's clients do: what it is
	// owed is bounded by the output limits and maxmemory-clients, not by
	// leaving its commands unread.
	for !c.closeAfter && !c.killed.Load() && !c.migrating {
		args, perr := c.parser.Next()
		if perr != nil {
			var pe *resp.ProtocolError
			if errors.As(perr, &pe) {
				c.w.Error(pe.Error())
				s.countError([]byte(pe.Error()))
				s.Log.Verbosef("Protocol error (%s) from client: id=%d addr=%s", pe.Error(), c.ID, c.addr)
			}
			c.flush()
			return false
		}
		if args == nil {
			break
		}
		if s.clientsOverLimit() {
			s.evictClients(false)
			if c.killed.Load() {
				break
			}
		}
		c.dispatch(args, now)
		c.accountMemory()
		// A goroutine writes a long batch's replies as they pile up; an
		// event loop writes them after the batch, as Redis does before
		// it sleeps (the normal output limit sees the whole batch's).
		if c.lp == nil && c.w.Len() >= flushThreshold {
			if !c.flush() {
				return false
			}
		}
	}
	if c.migrating || c.lp != nil {
		// The new goroutine, or the event loop once it has run the
		// whole batch of ready connections, writes what is pending.
		return true
	}
	return c.flush()
}

// outPending reports replies an event loop could not write yet.
func (c *Client) outPending() bool { return c.outWait }

// requestGoroutine asks, from dispatch, for the connection to leave its
// event loop before args run: it reports false when the client already has
// a goroutine of its own (run the command now), true when the command is
// deferred to the new goroutine.
func (c *Client) requestGoroutine(args [][]byte, now int64) bool {
	if c.lp == nil {
		return false
	}
	c.migrating = true
	c.migrateArgs = args
	c.migrateNow = now
	return true
}

// flush writes the pending replies with one write.
func (c *Client) flush() bool {
	if c.w.Len() == 0 {
		return true
	}
	c.srv.flushForReplies()
	if c.lp != nil {
		return c.flushNonBlocking()
	}
	if c.async {
		c.handOff()
		return !c.killed.Load()
	}
	n, err := c.conn.Write(c.w.Buf)
	if n > 0 {
		c.lastInteraction.Store(time.Now().Unix()) // as Redis: writing is interaction too
	}
	c.srv.Stats.NetOutput.Add(int64(n))
	c.srv.Stats.IOWrites.Add(1)
	if cap(c.w.Buf) > 1<<20 && !c.srv.admin().replyBufKeep.Load() {
		c.w.Buf = nil
	}
	c.w.Reset()
	return err == nil
}

// Name returns the client name.
func (c *Client) Name() string { c.mu.Lock(); defer c.mu.Unlock(); return c.name }

// DB returns the selected database index.
func (c *Client) DB() int { return c.db }

// Proto returns the RESP version the client speaks.
func (c *Client) Proto() int { return int(c.proto.Load()) }

// Config returns the server configuration, for handlers outside this
// package that need a setting (they see the client only as command.Ctx.Conn).
func (c *Client) Config() *config.Config { return c.srv.Config }

// push delivers out-of-band output (a tracking invalidation) from another
// goroutine. A client with a writer goroutine queues it there; any other
// gets it in its inbox and its owner is woken: its event loop, or its
// goroutine, whose read is interrupted by a deadline in the past.
func (c *Client) push(b []byte) {
	c.asyncMu.Lock()
	if c.asyncOn.Load() {
		// Decided under asyncMu: startAsync switches under it too.
		c.asyncMu.Unlock()
		c.enqueueAsync(b)
		return
	}
	if c.overOutputLimit(c.inbox.size() + int(c.outQueued.Load()) + len(b)) {
		c.asyncMu.Unlock()
		c.killForOutputLimit()
		return
	}
	c.inbox.add(b)
	c.inboxBytes.Store(int64(c.inbox.size()))
	c.asyncMu.Unlock()
	if c.srv.clientMem.limit.Load() > 0 {
		// Counted at once (the next command anywhere evicts on it), as
		// Redis updates a subscriber's bucket as it publishes to it.
		c.srv.recountClient(c)
	}
	if l := c.loopRef.Load(); l != nil {
		l.wakeClient(c)
		return
	}
	c.fdMu.Lock()
	if c.conn != nil {
		_ = c.conn.SetReadDeadline(time.Unix(1, 0))
	}
	c.fdMu.Unlock()
}

// drainInbox moves pushes from other goroutines into the reply buffer: all
// of them for a connection with a goroutine of its own, at most about
// drainBatch bytes for one in an event loop, and nothing while the socket
// has not taken the previous replies yet (the loop drains again when it
// has; see flushNonBlocking). The inbox, not the reply buffer, holds a slow
// subscriber's backlog.
func (c *Client) drainInbox() {
	c.asyncMu.Lock()
	if c.inbox.size() > 0 {
		switch {
		case c.lp == nil:
			c.w.Buf = c.inbox.moveTo(c.w.Buf, c.inbox.size())
		case !c.outWait:
			c.w.Buf = c.inbox.moveTo(c.w.Buf, drainBatch)
		}
		c.inboxBytes.Store(int64(c.inbox.size()))
	}
	c.asyncMu.Unlock()
}

// drainWholeInbox moves every push waiting in the inbox into the reply
// buffer, behind output the socket has not taken yet.
func (c *Client) drainWholeInbox() {
	c.asyncMu.Lock()
	c.w.Buf = c.inbox.moveTo(c.w.Buf, c.inbox.size())
	c.inboxBytes.Store(int64(c.inbox.size()))
	c.asyncMu.Unlock()
	c.outQueued.Store(int64(c.outListLen + len(c.w.Buf) - c.outOff))
}

// unwritten is what the client's replies not yet written amount to.
func (c *Client) unwritten() int { return c.outListLen + len(c.w.Buf) - c.outOff }

// parkOutput moves, between commands, the replies an event loop client's
// socket did not take from w.Buf to the pending list once they are a
// sizeable amount, leaving w.Buf to the next batch: a client that keeps
// sending while it reads slowly then costs a list of its batches' replies
// instead of one buffer reallocated (and copied) as it grows.
func (c *Client) parkOutput() {
	if !c.outWait || len(c.w.Buf)-c.outOff < parkOutputMin {
		return
	}
	b := c.w.Buf[c.outOff:]
	if c.outOff > len(b) {
		// Most of the buffer went out: keep only the rest, not the array.
		b = append([]byte(nil), b...)
	}
	c.outList = append(c.outList, b)
	c.outListLen += len(b)
	c.w.Buf, c.outOff = nil, 0
}

// parkOutputMin: below this, what waits stays in w.Buf.
const parkOutputMin = 64 << 10

// dropOutList forgets the pending list (written, or never to be).
func (c *Client) dropOutList() {
	clear(c.outList)
	c.outList, c.outListLen = c.outList[:0], 0
}

// inboxPending reports whether pushes wait in the inbox, without a lock:
// the loop asks after every write.
func (c *Client) inboxPending() bool { return c.inboxBytes.Load() > 0 }

// closeAfterReply closes the connection once the reply being made is
// written, and hides the client from lookups by ID at once.
func (c *Client) closeAfterReply() {
	c.closeAfter = true
	c.leaving.Store(true)
}
