package server

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/resp"
)

// The primary side of replication: SYNC and PSYNC attach a connection to
// the write stream (propagate.go) at the instant of a background snapshot
// of the dataset (fullsync.go), which is sent first, so the replica's
// state is the snapshot plus exactly the stream. PSYNC continues from the
// backlog when it still holds the replica's offset. The replica side is
// replica.go.

// replicaState is what the primary knows about one replica connection.
type replicaState struct {
	listeningPort atomic.Int64
	ackOffset     atomic.Int64
	aofAckOffset  atomic.Int64 // the FACK of REPLCONF ACK: our stream on the replica's disk
	ackTime       atomic.Int64 // Unix s of the last REPLCONF ACK
	state         atomic.Int32 // replWaitBgsave, replSendBulk, replOnline (fullsync.go)
	// stuckSince is when (Unix s) its diskless transfer began waiting
	// for its socket to take more; 0 while it does not wait.
	stuckSince atomic.Int64
}

// initReplicationConfig follows CONFIG SET of what the stream keeps.
func (s *Server) initReplicationConfig() {
	s.backlogSize.Store(s.Config.Int("repl-backlog-size"))
	s.Config.OnChange("repl-backlog-size", func(string) error {
		s.backlogSize.Store(s.Config.Int("repl-backlog-size"))
		s.prop.resizeBacklog(s.Config.Int("repl-backlog-size"))
		return nil
	})
}

// replicationBufferMem returns INFO's mem_replication_backlog and
// mem_clients_slaves, whose sum is mem_total_replication_buffers, as
// Redis 7 splits its shared buffer: with replicas, what passes
// repl-backlog-size is theirs (they hold it back), else all of it is the
// backlog's; the replicas' own queues (their RDB) count as theirs.
func (s *Server) replicationBufferMem() (backlog, replicas int64) {
	s.prop.mu.Lock()
	total, size, withReplicas := s.prop.bufMem, s.prop.backlogSize, s.prop.hasReplicas()
	s.prop.mu.Unlock()
	if withReplicas && total > size {
		backlog, replicas = size, total-size
	} else {
		backlog = total
	}
	for _, r := range s.replicaInfo() {
		r.asyncMu.Lock()
		replicas += int64(len(r.asyncOut))
		r.asyncMu.Unlock()
	}
	return backlog, replicas
}

// replicaName is how Redis's log names a replica (replicationGetSlaveName):
// its address and the port it listens on, as REPLCONF listening-port said.
func (c *Client) replicaName() string {
	ip, _, err := net.SplitHostPort(c.addr)
	if err != nil {
		ip = c.addr
	}
	if a := c.replAnnouncedIP.Load(); a != nil {
		ip = *a
	}
	if p := c.replListeningPort.Load(); p > 0 {
		return net.JoinHostPort(ip, strconv.FormatInt(p, 10))
	}
	return ip + ":<unknown-replica-port>"
}

// dropReplica forgets a replica whose connection ended: out of the queue
// for a snapshot, with Redis's log line.
func (s *Server) dropReplica(c *Client) {
	s.replSync.mu.Lock()
	for i, w := range s.replSync.waiting {
		if w == c {
			s.replSync.waiting = append(s.replSync.waiting[:i], s.replSync.waiting[i+1:]...)
			break
		}
	}
	// As Redis's freeClient: a disk-based snapshot no replica waits for
	// any more is stopped (its child killed), unless save points make it
	// a save worth finishing.
	useless := c.diskTransfer && len(s.Config.SaveParams()) == 0
	for _, t := range s.replSync.transfers {
		if useless && t != c && t.diskTransfer && !t.killed.Load() {
			useless = false
		}
	}
	s.replSync.mu.Unlock()
	s.Log.Noticef("Connection with replica %s lost.", c.replicaName())
	if useless {
		s.Store.CancelSnapshot()
		s.cancelSaves(titleRDB)
	}
}

// feed is propConsumer for a replica: the stream is in the replication
// buffer already (replbuf.go), where its writer goroutine reads it; feed
// applies client-output-buffer-limit replica to what the replica has not
// been sent, and wakes the writer. The stream's lock is held.
func (c *Client) feed([]byte) {
	pending := c.srv.prop.offset - c.replPos.Load()
	c.asyncMu.Lock()
	over := c.overOutputLimit(int(pending) + len(c.asyncOut))
	streaming := c.replStreaming
	c.asyncMu.Unlock()
	if over {
		c.killForOutputLimit()
		return
	}
	if streaming {
		select {
		case c.asyncSig <- struct{}{}:
		default:
		}
	}
}

func (s *Server) replicationCommands() []*command.Command {
	const (
		flags = command.Admin | command.NoScript | command.NoAsyncLoading | command.NoMulti
		cat   = command.CatAdmin | command.CatSlow | command.CatDangerous
	)
	// No shard is held for SYNC: the snapshot's instant takes them all
	// itself, for microseconds (fullsync.go).
	sync := &command.Command{Name: "sync", Arity: 1, Flags: flags | command.OwnGoroutine, ACL: cat,
		Group: "server", Since: "1.0.0", Summary: "An internal command used in replication.", Handler: syncCommand}
	psync := &command.Command{Name: "psync", Arity: -3, Flags: flags | command.OwnGoroutine, ACL: cat,
		Group: "server", Since: "2.8.0", Summary: "An internal command used in replication.", Handler: syncCommand}
	replconf := &command.Command{Name: "replconf", Arity: -1,
		Flags: command.Admin | command.NoScript | command.Loading | command.Stale | command.AllowBusy | command.NoKeyspace,
		ACL:   cat, Group: "server", Since: "3.0.0", Summary: "An internal command for configuring the replication stream.",
		Handler: replconfCommand}
	wait := &command.Command{Name: "wait", Arity: 3, Flags: command.NoKeyspace | command.OwnGoroutine,
		ACL: command.CatSlow | command.CatConnection, Group: "generic", Since: "3.0.0",
		Tips:    []string{"request_policy:all_shards", "response_policy:agg_min"},
		Summary: "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed.",
		Handler: waitCommand}
	waitaof := &command.Command{Name: "waitaof", Arity: 4, Flags: command.NoScript | command.NoKeyspace | command.OwnGoroutine,
		ACL: command.CatSlow | command.CatConnection, Group: "generic", Since: "7.2.0",
		Tips:    []string{"request_policy:all_shards", "response_policy:agg_min"},
		Summary: "Blocks until the connection's writes so far are in the append-only file on disk, here and on replicas.",
		Handler: waitaofCommand}
	return append([]*command.Command{sync, psync, replconf, wait, waitaof}, s.failoverCommands()...)
}

// WAIT's and WAITAOF's refusals, as Redis words them.
const (
	errWaitReplica     = "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated."
	errWaitaofReplica  = "ERR WAITAOF cannot be used with replica instances. Please also note that writes to replicas are just local and are not propagated."
	errWaitaofNoAOF    = "ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled."
	errWaitUnblockRole = "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"
)

// waitCommand is WAIT numreplicas timeout: the number of replicas that
// acknowledged this connection's writes, once numreplicas have or the
// timeout (ms, 0 = for ever) passed. The replicas are asked for an
// acknowledgement at once (REPLCONF GETACK in the stream). Where it may not
// block (MULTI, scripts) it answers the count now.
func waitCommand(c *command.Ctx) {
	cl := client(c)
	s := cl.srv
	if s.replica.active.Load() {
		c.Error(errWaitReplica)
		return
	}
	want, ok := resp.ParseInt(c.Args[1])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	deadline, msg := waitTimeout(c.Args[2])
	if msg != "" {
		c.Error(msg)
		return
	}
	count := s.replicasAcked(cl.woff)
	if int64(count) >= want || c.NoBlock || cl.inExec {
		c.W.Int(int64(count))
		return
	}
	switch ok, unblockErr := s.awaitAcks(cl, deadline, func() bool { return int64(s.replicasAcked(cl.woff)) >= want }); {
	case !ok:
		c.Error(errWaitUnblockRole)
	case unblockErr:
		c.Error(errUnblocked)
	default:
		c.W.Int(int64(s.replicasAcked(cl.woff)))
	}
}

// waitaofCommand is WAITAOF numlocal numreplicas timeout (Redis 7.2):
// [1 if this server's AOF has this connection's writes on disk, else 0;
// the number of replicas whose AOF has], once numlocal (0 or 1) and
// numreplicas are reached or the timeout (ms, 0 = for ever) passed. The
// local figure follows fsyncs (see aof.go: never with appendfsync no, but
// for a rewrite); the replicas' follows the FACK of their REPLCONF ACKs,
// which they send at once when asked (GETACK) and after each fsync. It
// blocks as WAIT does, and where it may not block (MULTI) it answers now.
func waitaofCommand(c *command.Ctx) {
	cl := client(c)
	s := cl.srv
	numlocal, ok := resp.ParseInt(c.Args[1])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	if numlocal < 0 || numlocal > 1 {
		c.Error(command.ErrValueBetween(0, 1))
		return
	}
	numreplicas, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	if numreplicas < 0 {
		c.Error(command.ErrNotInRange)
		return
	}
	deadline, msg := waitTimeout(c.Args[3])
	if msg != "" {
		c.Error(msg)
		return
	}
	if s.replica.active.Load() {
		c.Error(errWaitaofReplica)
		return
	}
	// appendonly as configured, as Redis's aof_enabled: an AOF whose
	// first rewrite is still postponed (a save child runs) is on already,
	// and the wait ends once that rewrite has put it on disk.
	aofOn := func() bool { return s.Config.Bool("appendonly") }
	if numlocal > 0 && !aofOn() {
		c.Error(errWaitaofNoAOF)
		return
	}
	counts := func() (local, replicas int64) {
		if s.aof.fsyncedOff.Load() >= cl.woff {
			local = 1
		}
		return local, int64(s.replicasAOFAcked(cl.woff))
	}
	local, replicas := counts()
	if (local >= numlocal && replicas >= numreplicas) || c.NoBlock || cl.inExec {
		c.W.ArrayLen(2)
		c.W.Int(local)
		c.W.Int(replicas)
		return
	}
	if numlocal > 0 {
		s.aof.waiters.Add(1)
		defer s.aof.waiters.Add(-1)
	}
	ok, unblockErr := s.awaitAcks(cl, deadline, func() bool {
		if numlocal > 0 && !aofOn() {
			return true // turned off meanwhile: the error below
		}
		l, r := counts()
		return l >= numlocal && r >= numreplicas
	})
	switch {
	case !ok:
		c.Error(errWaitUnblockRole)
	case unblockErr:
		c.Error(errUnblocked)
	case numlocal > 0 && !aofOn():
		c.Error(errWaitaofNoAOF)
	default:
		local, replicas = counts()
		c.W.ArrayLen(2)
		c.W.Int(local)
		c.W.Int(replicas)
	}
}

// waitTimeout parses WAIT's and WAITAOF's timeout, whole milliseconds, 0
// for ever, into a deadline (Unix ms, 0 = none), with Redis's errors
// (getTimeoutFromObjectOrReply): msg is the error reply when it fails.
func waitTimeout(arg []byte) (deadline int64, msg string) {
	ms, ok := resp.ParseInt(arg)
	if !ok {
		return 0, command.ErrTimeoutNotInteger
	}
	if ms < 0 {
		return 0, command.ErrTimeoutNegative
	}
	if ms == 0 {
		return 0, ""
	}
	now := time.Now().UnixMilli()
	if ms > math.MaxInt64-now {
		return 0, command.ErrTimeoutOutOfRange
	}
	return now + ms, ""
}

// awaitAcks parks the calling connection (WAIT and WAITAOF run on a
// goroutine of their own: OwnGoroutine) until done holds, re-checked at
// each replica acknowledgement and local fsync (ackSignal), or until the
// deadline (Unix ms, 0 = none) passes or the connection or the server
// closes, or CLIENT UNBLOCK ends it (unblockErr: with its ERROR reason).
// Replicas are asked for an acknowledgement first. ok is false when the
// server became a replica meanwhile: then, as Redis, the wait ends in an
// UNBLOCKED error, since the acknowledgements it counts will never come.
func (s *Server) awaitAcks(cl *Client, deadline int64, done func() bool) (ok, unblockErr bool) {
	var timeout <-chan time.Time
	if deadline > 0 {
		t := time.NewTimer(time.Until(time.UnixMilli(deadline)))
		defer t.Stop()
		timeout = t.C
	}
	aw := &ackWait{unblocked: make(chan bool, 1)}
	cl.ackWaiting.Store(aw)
	defer cl.ackWaiting.Store(nil)
	// A blocked client, as Redis counts WAIT's (INFO blocked_clients,
	// CLIENT LIST's b flag).
	cl.blocked.Store(true)
	defer cl.blocked.Store(false)
	if !s.pause.pausesReplicaTraffic() {
		// Not while writes are paused, as Redis: the GETACK would move
		// the offset a failover or a shutdown waits for the replicas to
		// reach. Their own acknowledgement, every second, comes anyway.
		s.prop.emitRaw(getackCommand)
	}
	for {
		ch := s.ackSignal()
		if s.replica.active.Load() {
			return false, false
		}
		if done() {
			return true, false
		}
		select {
		case <-ch:
			continue
		case withErr := <-aw.unblocked:
			return !s.replica.active.Load(), withErr
		case <-timeout:
		case <-cl.done:
		case <-s.done:
		}
		return !s.replica.active.Load(), false
	}
}

// ackWait is a client waiting in WAIT or WAITAOF, for CLIENT UNBLOCK:
// claimed once, it is sent whether the unblock asked for an error.
type ackWait struct {
	claimed   atomic.Bool
	unblocked chan bool
}

var (
	getackCommand   = []byte("*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n")
	replPingCommand = []byte("*1\r\n$4\r\nPING\r\n")
)

// replicasAcked counts the replicas that acknowledged offset.
func (s *Server) replicasAcked(offset int64) int {
	n := 0
	for _, r := range s.replicaInfo() {
		if r.replica.ackOffset.Load() >= offset {
			n++
		}
	}
	return n
}

// replicasAOFAcked counts the replicas whose AOF holds offset on disk, as
// their FACKs say; a replica that never sent one counts only for offset
// 0, as in Redis.
func (s *Server) replicasAOFAcked(offset int64) int {
	n := 0
	for _, r := range s.replicaInfo() {
		if r.replica.aofAckOffset.Load() >= offset {
			n++
		}
	}
	return n
}

// ackSignal returns a channel closed at the next REPLCONF ACK.
func (s *Server) ackSignal() <-chan struct{} {
	s.ackMu.Lock()
	defer s.ackMu.Unlock()
	if s.ackCh == nil {
		s.ackCh = make(chan struct{})
	}
	return s.ackCh
}

// signalAck wakes the WAITs.
func (s *Server) signalAck() {
	s.ackMu.Lock()
	if s.ackCh != nil {
		close(s.ackCh)
		s.ackCh = nil
	}
	s.ackMu.Unlock()
}

// syncCommand is SYNC and PSYNC: a partial resynchronisation from the
// backlog when PSYNC can have one, else a full one (fullsync.go).
func syncCommand(c *command.Ctx) {
	cl := client(c)
	s := cl.srv
	if cl.replica != nil {
		return // already a replica: Redis ignores it
	}
	// PSYNC <replid> <offset> FAILOVER: a primary hands its role to this
	// replica (failover.go), which becomes a primary first when the
	// history is its own; the PSYNC then goes on as any other.
	if cl.ctx.Cmd.Name == "psync" && len(c.Args) > 3 && strings.EqualFold(string(c.Args[3]), "failover") {
		if msg := s.acceptFailoverRequest(cl, c.Args[1]); msg != "" {
			c.Error(msg)
			return
		}
	}
	if s.replica.failover.phase.Load() != noFailover {
		c.Error(errSyncFailingOver) // its history is about to change hands
		return
	}
	if s.replica.active.Load() && !s.replica.up.Load() {
		// As Redis: a replica serves its own replicas only while its
		// primary's stream flows; before (or while it loads its own
		// snapshot) it has no history to give them.
		c.Error("NOMASTERLINK Can't SYNC while not connected with my master")
		return
	}
	cl.psync = cl.ctx.Cmd.Name == "psync"
	if cl.psync {
		if _, ok := resp.ParseInt(c.Args[2]); !ok {
			// Refused before anything starts, as Redis (it once began a
			// full synchronisation and replied with the error as well).
			s.Log.Warningf("Replica %s asks for synchronization but with a wrong offset", cl.replicaName())
			c.Error(command.ErrNotInteger)
			return
		}
		if s.continueReplica(cl, c.Args[1], c.Args[2]) {
			s.Stats.SyncPartialOK.Add(1)
			return
		}
		if string(c.Args[1]) != "?" {
			s.Stats.SyncPartialErr.Add(1)
		}
	}
	s.Stats.SyncFull.Add(1)
	s.queueFullSync(cl)
}

// becomeReplica makes cl a replica connection: its output goes through the
// writer goroutine, starting with head (the synchronisation reply), and it
// gets no replies from now on (Redis drops them), only the stream. The
// stream's lock is held.
func (cl *Client) becomeReplica(head []byte) {
	cl.startAsync()
	cl.handOff() // replies to what the replica pipelined before PSYNC go first
	cl.enqueueAsync(head)
	cl.replica = &replicaState{}
	cl.replica.state.Store(replOnline)
	cl.replica.ackTime.Store(time.Now().Unix())
	cl.isReplica.Store(true)
	cl.replyMode = replyOff
}

// continueReplica serves PSYNC <replid> <offset> from the backlog when it
// can (Redis's partial resynchronisation): +CONTINUE, the stream from that
// offset, and the connection joins the stream, all under the stream's
// lock. It reports false when a full resynchronisation is needed.
func (s *Server) continueReplica(cl *Client, replid, offsetArg []byte) bool {
	a := s.admin()
	a.replMu.Lock()
	id, id2, second := a.replID, a.replID2, a.secondOffset
	a.replMu.Unlock()
	offset, ok := resp.ParseInt(offsetArg)
	// The current history, or the one before it up to where they part
	// (a replica of the primary this server was promoted from).
	if !ok || (string(replid) != id && (string(replid) != id2 || offset > second)) {
		return false
	}
	s.prop.mu.Lock()
	defer s.prop.mu.Unlock()
	if !s.prop.canContinue(offset) {
		return false
	}
	head := append([]byte("+CONTINUE "), id...)
	cl.becomeReplica(append(head, "\r\n"...))
	// It reads the stream from offset on, from the buffer; appended to
	// the running stream, no SELECT may be forced on the other replicas,
	// and this one's database is the one it had.
	cl.replPos.Store(offset - 1)
	s.prop.consumers = append(s.prop.consumers, cl)
	s.prop.active.Store(true)
	cl.startStreaming()
	s.Log.Noticef("Partial resynchronization request from %s accepted. Sending %d bytes of backlog starting from offset %d.", cl.replicaName(), s.prop.offset+1-offset, offset)
	return true
}

// replconfCommand is REPLCONF: a replica's settings and acknowledgements.
func replconfCommand(c *command.Ctx) {
	cl := client(c)
	if len(c.Args)%2 == 0 {
		c.Error(command.ErrSyntax)
		return
	}
	for i := 1; i+1 < len(c.Args); i += 2 {
		opt := strings.ToLower(string(c.Args[i]))
		val := c.Args[i+1]
		switch opt {
		case "listening-port":
			n, ok := resp.ParseInt(val)
			if !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			cl.replListeningPort.Store(n)
		case "capa":
			if strings.EqualFold(string(val), "eof") {
				cl.replCapaEOF.Store(true)
			}
		case "ip-address":
			// replica-announce-ip: the address the replica is reached at
			// (behind NAT or in a container), shown and matched in place
			// of the connection's, as Redis's slave_addr.
			if len(val) >= 256 {
				c.Error(fmt.Sprintf("ERR REPLCONF ip-address provided by replica instance is too long: %d bytes", len(val)))
				return
			}
			ip := string(val)
			cl.replAnnouncedIP.Store(&ip)
		case "rdb-only", "rdb-filter-only":
		case "ack":
			// ACK <offset> [FACK <aofoffset>]: an acknowledgement, with
			// the offset on the replica's disk when it has an AOF. No
			// reply, ever; offsets only move forward.
			if r := cl.replica; r != nil {
				n, ok := resp.ParseInt(val)
				if !ok {
					return
				}
				storeMax(&r.ackOffset, n)
				if i+3 < len(c.Args) && strings.EqualFold(string(c.Args[i+2]), "fack") {
					if f, ok := resp.ParseInt(c.Args[i+3]); ok {
						storeMax(&r.aofAckOffset, f)
					}
				}
				r.ackTime.Store(time.Now().Unix())
				cl.srv.signalAck()
			}
			return
		case "fack":
			return // only meaningful after ACK
		case "getack":
			if cl.isMaster.Load() {
				cl.sendAck() // the one reply a primary gets from us
			}
			return
		default:
			c.Error("ERR Unrecognized REPLCONF option: " + string(c.Args[i]))
			return
		}
	}
	c.OK()
}

// replicationCron sends replicas a PING every repl-ping-replica-period
// seconds, as Redis does, so an idle link is seen alive.
func (s *Server) replicationCron(now time.Time) {
	s.failoverCron(now) // first, as Redis: it may make the server a replica
	// Only with replicas to keep alive: as in Redis, no PING moves the
	// offset of a stream that only the AOF or the backlog consumes.
	replicas := s.replicaInfo()
	if !s.prop.active.Load() || len(replicas) == 0 {
		return
	}
	s.dropTimedoutReplicas(replicas, now)
	period := time.Duration(s.Config.Int("repl-ping-replica-period")) * time.Second
	last := time.Unix(0, s.lastReplPing.Load())
	if now.Sub(last) < period {
		return
	}
	s.lastReplPing.Store(now.UnixNano())
	if s.failoverPausesPing() {
		return // the PING's turn passes, as in Redis
	}
	s.prop.emitRaw(replPingCommand)
}

// dropTimedoutReplicas disconnects, as Redis's replicationCron, the
// online replicas that sent no REPLCONF ACK for repl-timeout (not those
// that never can: SYNC's), and those of a diskless transfer whose socket
// took nothing for repl-timeout: the transfer waits for the slowest.
func (s *Server) dropTimedoutReplicas(replicas []*Client, now time.Time) {
	timeout := s.Config.Int("repl-timeout")
	for _, cl := range replicas {
		if cl.killed.Load() {
			continue
		}
		switch cl.replica.state.Load() {
		case replOnline:
			if cl.psync && now.Unix()-cl.replica.ackTime.Load() > timeout {
				s.Log.Warningf("Disconnecting timedout replica (streaming sync): %s", cl.replicaName())
				cl.Kill()
			}
		case replWaitBgsave:
			if since := cl.replica.stuckSince.Load(); since != 0 && now.Unix()-since > timeout {
				s.Log.Warningf("Disconnecting timedout replica (full sync): %s", cl.replicaName())
				cl.Kill()
			}
		}
	}
}

// replicaInfo lists the replicas for INFO replication.
func (s *Server) replicaInfo() []*Client {
	s.prop.mu.Lock()
	defer s.prop.mu.Unlock()
	var out []*Client
	for _, x := range s.prop.consumers {
		if c, ok := x.(*Client); ok {
			out = append(out, c)
		}
	}
	s.replSync.mu.Lock()
	out = append(out, s.replSync.waiting...)
	s.replSync.mu.Unlock()
	return out
}

// replicationID returns master_replid.
func (a *adminState) replicationID() string {
	a.replMu.Lock()
	defer a.replMu.Unlock()
	return a.replID
}
