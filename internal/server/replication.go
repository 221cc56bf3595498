package server

import (
	"bytes"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/resp"
)

// The primary side of replication: SYNC and PSYNC attach a connection to
// the write stream (propagate.go) after sending it an RDB snapshot of the
// dataset, taken under every shard lock in the same instant the stream
// starts, so the replica's state is the snapshot plus exactly the stream.
// Partial resynchronisation (a backlog to resume from) is not kept yet:
// every PSYNC is answered with a full resynchronisation, which Redis's
// replicas and tools accept. The replica side (REPLICAOF) does not exist
// yet either.

// replicaState is what the primary knows about one replica connection.
type replicaState struct {
	listeningPort atomic.Int64
	ackOffset     atomic.Int64
	ackTime       atomic.Int64 // Unix s of the last REPLCONF ACK
}

// feed is propConsumer: the stream goes out through the writer goroutine,
// cut off past client-output-buffer-limit replica.
func (c *Client) feed(b []byte) { c.enqueueAsync(b) }

func (s *Server) replicationCommands() []*command.Command {
	const (
		flags = command.Admin | command.NoScript | command.NoAsyncLoading | command.NoMulti
		cat   = command.CatAdmin | command.CatSlow | command.CatDangerous
	)
	sync := &command.Command{Name: "sync", Arity: 1, Flags: flags | command.AllShards | command.OwnGoroutine, ACL: cat,
		Group: "server", Since: "1.0.0", Summary: "An internal command used in replication.", Handler: syncCommand}
	psync := &command.Command{Name: "psync", Arity: -3, Flags: flags | command.AllShards | command.OwnGoroutine, ACL: cat,
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
	return []*command.Command{sync, psync, replconf, wait}
}

// waitCommand is WAIT numreplicas timeout: the number of replicas that
// acknowledged this connection's writes, once numreplicas have or the
// timeout (ms, 0 = for ever) passed. The replicas are asked for an
// acknowledgement at once (REPLCONF GETACK in the stream). Where it may not
// block (MULTI, scripts) it answers the count now.
func waitCommand(c *command.Ctx) {
	cl := client(c)
	s := cl.srv
	if s.replica.active.Load() {
		c.Error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
		return
	}
	want, ok := resp.ParseInt(c.Args[1])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	timeout, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error("ERR timeout is not an integer or out of range")
		return
	}
	if timeout < 0 {
		c.Error("ERR timeout is negative")
		return
	}
	count := s.replicasAcked(cl.woff)
	if int64(count) >= want || c.NoBlock || cl.inExec {
		c.W.Int(int64(count))
		return
	}
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Millisecond)
		defer t.Stop()
		deadline = t.C
	}
	s.prop.emitRaw(getackCommand)
	for {
		ch := s.ackSignal()
		if count = s.replicasAcked(cl.woff); int64(count) >= want {
			break
		}
		select {
		case <-ch:
			continue
		case <-deadline:
		case <-cl.done:
		case <-s.done:
		}
		count = s.replicasAcked(cl.woff)
		break
	}
	c.W.Int(int64(count))
}

var getackCommand = []byte("*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n")

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

// syncCommand is SYNC and PSYNC. The dispatcher holds every shard (the
// AllShards flag); holding the stream's lock as well while the snapshot is
// queued and the replica registered means no write lands in neither or
// both.
func syncCommand(c *command.Ctx) {
	cl := client(c)
	s := cl.srv
	if cl.replica != nil {
		return // already a replica: Redis ignores it
	}
	if cl.ctx.Cmd.Name == "psync" {
		if s.continueReplica(cl, c.Args[1], c.Args[2]) {
			s.syncPartialOK.Add(1)
			return
		}
		if string(c.Args[1]) != "?" {
			s.syncPartialErr.Add(1)
		}
	}
	s.syncFull.Add(1)
	var snap bytes.Buffer
	if err := s.writeSnapshot(&snap); err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	s.prop.mu.Lock()
	var head []byte
	if cl.ctx.Cmd.Name == "psync" {
		head = append(head, "+FULLRESYNC "...)
		head = append(head, s.admin().replicationID()...)
		head = append(head, ' ')
		head = strconv.AppendInt(head, s.prop.offset, 10)
		head = append(head, "\r\n"...)
	}
	head = append(head, '$')
	head = strconv.AppendInt(head, int64(snap.Len()), 10)
	head = append(head, "\r\n"...)
	cl.becomeReplica(append(head, snap.Bytes()...)) // no CRLF after the payload, as Redis sends it
	s.prop.ensureBacklog(s.Config.Int("repl-backlog-size"))
	s.prop.addConsumerLocked(cl)
	s.prop.mu.Unlock()
	s.lastReplPing.Store(time.Now().UnixNano()) // the first PING a period from now
	s.Log.Noticef("Replica %s asks for synchronization", cl.addr)
	s.Log.Noticef("Synchronization with replica %s succeeded", cl.addr)
}

// becomeReplica makes cl a replica connection: its output goes through the
// writer goroutine, starting with head (the synchronisation reply), and it
// gets no replies from now on (Redis drops them), only the stream. The
// stream's lock is held.
func (cl *Client) becomeReplica(head []byte) {
	cl.startAsync()
	cl.enqueueAsync(head)
	cl.replica = &replicaState{}
	cl.isReplica.Store(true)
	cl.replyMode = replyOff
}

// continueReplica serves PSYNC <replid> <offset> from the backlog when it
// can (Redis's partial resynchronisation): +CONTINUE, the stream from that
// offset, and the connection joins the stream, all under the stream's
// lock. It reports false when a full resynchronisation is needed.
func (s *Server) continueReplica(cl *Client, replid, offsetArg []byte) bool {
	id := s.admin().replicationID()
	offset, ok := resp.ParseInt(offsetArg)
	if !ok || string(replid) != id {
		return false
	}
	s.prop.mu.Lock()
	defer s.prop.mu.Unlock()
	tail, ok := s.prop.backlogFrom(offset)
	if !ok {
		return false
	}
	head := append([]byte("+CONTINUE "), id...)
	cl.becomeReplica(append(append(head, "\r\n"...), tail...))
	// Appended to the running stream: no SELECT may be forced on the other
	// replicas, and this one's database is the one it had.
	s.prop.consumers = append(s.prop.consumers, cl)
	s.prop.active.Store(true)
	s.Log.Noticef("Partial resynchronization request from %s accepted. Sending %d bytes of backlog starting from offset %d.", cl.addr, len(tail), offset)
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
		case "ip-address", "capa", "rdb-only", "rdb-filter-only":
		case "ack", "fack":
			// An acknowledgement: no reply, ever.
			if cl.replica != nil {
				if n, ok := resp.ParseInt(val); ok && opt == "ack" {
					cl.replica.ackOffset.Store(n)
					cl.replica.ackTime.Store(time.Now().Unix())
					s := cl.srv
					s.signalAck()
				}
			}
			return
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
	if !s.prop.active.Load() {
		return
	}
	period := time.Duration(s.Config.Int("repl-ping-replica-period")) * time.Second
	last := time.Unix(0, s.lastReplPing.Load())
	if now.Sub(last) < period {
		return
	}
	s.lastReplPing.Store(now.UnixNano())
	s.prop.emitRaw([]byte("*1\r\n$4\r\nPING\r\n"))
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
	return out
}

// replicationID returns master_replid.
func (a *adminState) replicationID() string {
	a.replMu.Lock()
	defer a.replMu.Unlock()
	return a.replID
}
