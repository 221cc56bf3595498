package server

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/resp"
)

// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]: a primary hands its
// role to one of its replicas without losing a write, as Redis 6.2+ does.
//
// The primary pauses writes (as CLIENT PAUSE WRITE does, under a purpose of
// its own that CLIENT UNPAUSE leaves alone: pause.go), so that its stream
// stops growing, and waits in the cron until the target (with no TO, any
// replica) has acknowledged the stream's whole offset: "waiting-for-sync".
// It then becomes a replica of the target and sends it
// PSYNC <its replid> <offset+1> FAILOVER: "failover-in-progress". The
// target, a replica of that very history, promotes itself on the extra
// argument (syncCommand) and serves the PSYNC from its backlog as any
// primary that was promoted: +CONTINUE under its new replication ID, no
// snapshot either way. The pause ends when the target answers; the writes
// it held back are admitted again then (pause.go), and refused with
// READONLY, since the server is a replica. TIMEOUT gives up waiting (the
// failover is aborted) or, with FORCE, switches to the named target
// anyway. ABORT, a target that does not accept the PSYNC and a write error
// to it abort: the server is a primary again (under a new replication ID
// when it had switched, which its replicas continue with PSYNC), and the
// writes resume.
//
// Why no acknowledged write is lost: every write acknowledged before the
// pause is in the stream the target acknowledged; every write postponed by
// the pause is refused once the server is a replica. Corvid runs commands
// on many cores, so a write can have passed the pause check just before the
// pause began and still be running: the target's offset is compared with
// the stream's holding every shard lock, so such a write finishes, and is
// counted, first (a write takes its shards before it changes anything and
// emits its effects before it lets them go). A write that passed the check
// but has not taken its shards yet at that instant is not seen; closing
// that window needs the dispatcher to count the writes it admitted.
//
// Redis's behaviour kept as is: the progress is checked from the cron; no
// REPLCONF GETACK is sent while writes are paused (it would move the
// offset: replicas acknowledge on their own every second); the
// replication PING is held back while a failover with a TIMEOUT waits;
// SYNC and PSYNC are refused while a failover is under way, and REPLICAOF
// too.
//
// Lock order: failoverState.mu before replicaLink.mu, the stream's
// (propFeed.mu) and the pause's. It is never held while taking shard
// locks: a transaction holding shards may run FAILOVER or REPLICAOF, which
// take it.

// The failover's phases, as INFO's master_failover_state names them.
const (
	noFailover int32 = iota
	failoverWaitSync
	failoverInProgress
)

var failoverPhaseNames = [...]string{"no-failover", "waiting-for-sync", "failover-in-progress"}

// failoverState is a FAILOVER under way (Redis's failover_* fields).
type failoverState struct {
	// phase is read without mu (INFO, PSYNC, the link); it changes only
	// with mu held.
	phase atomic.Int32

	mu       sync.Mutex
	host     string    // the target; "" until TO names one or one is found
	port     int64     // the port it announced (REPLCONF listening-port)
	deadline time.Time // TIMEOUT's end; zero without one
	force    bool
}

// FAILOVER's and its PSYNC's refusals, as Redis words them.
const (
	errFailoverCluster      = "ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead."
	errNoFailover           = "ERR No failover in progress."
	errFailoverTimeout      = "ERR FAILOVER timeout must be greater than 0"
	errFailoverInProgress   = "ERR FAILOVER already in progress."
	errFailoverOnReplica    = "ERR FAILOVER is not valid when server is a replica."
	errFailoverNoReplicas   = "ERR FAILOVER requires connected replicas."
	errFailoverForce        = "ERR FAILOVER with force option requires both a timeout and target HOST and IP."
	errFailoverNotReplica   = "ERR FAILOVER target HOST and PORT is not a replica."
	errFailoverNotOnline    = "ERR FAILOVER target replica is not online."
	errPsyncFailoverPrimary = "ERR PSYNC FAILOVER can't be sent to a master."
	errPsyncFailoverReplid  = "ERR PSYNC FAILOVER replid must match my replid."
	errSyncFailingOver      = "NOMASTERLINK Can't SYNC while failing over"
	errReplicaofFailingOver = "ERR REPLICAOF not allowed while failing over."
)

// failoverCommands declares FAILOVER (Redis's failover.json).
func (s *Server) failoverCommands() []*command.Command {
	return []*command.Command{
		{Name: "failover", Arity: -1, Flags: command.Admin | command.NoScript | command.Stale | command.NoKeyspace,
			ACL: command.CatAdmin | command.CatSlow | command.CatDangerous, Group: "server", Since: "6.2.0",
			Summary: "Starts a coordinated failover from a server to one of its replicas.", Handler: s.failoverCommand},
	}
}

func (s *Server) failoverCommand(c *command.Ctx) {
	if s.Config.Bool("cluster-enabled") {
		c.Error(errFailoverCluster)
		return
	}
	fo := &s.replica.failover
	if len(c.Args) == 2 && strings.EqualFold(string(c.Args[1]), "abort") {
		fo.mu.Lock()
		defer fo.mu.Unlock()
		if fo.phase.Load() == noFailover {
			c.Error(errNoFailover)
			return
		}
		s.abortFailoverLocked("Failover manually aborted")
		c.OK()
		return
	}
	// Each option once, as Redis parses them: a second TIMEOUT, TO or
	// FORCE, or ABORT among others, is a syntax error.
	var (
		timeout   int64
		force     bool
		host      string
		hostGiven bool
		port      int64
	)
	for j := 1; j < len(c.Args); j++ {
		switch opt := string(c.Args[j]); {
		case strings.EqualFold(opt, "timeout") && j+1 < len(c.Args) && timeout == 0:
			n, ok := resp.ParseInt(c.Args[j+1])
			if !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			if n <= 0 {
				c.Error(errFailoverTimeout)
				return
			}
			timeout = n
			j++
		case strings.EqualFold(opt, "to") && j+2 < len(c.Args) && !hostGiven:
			n, ok := resp.ParseInt(c.Args[j+2])
			if !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			host, hostGiven, port = string(c.Args[j+1]), true, n
			j += 2
		case strings.EqualFold(opt, "force") && !force:
			force = true
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}

	// Under mu: REPLICAOF, a PSYNC FAILOVER to this server and the cron
	// cannot change the role or the failover meanwhile.
	fo.mu.Lock()
	defer fo.mu.Unlock()
	if fo.phase.Load() != noFailover {
		c.Error(errFailoverInProgress)
		return
	}
	if s.replica.active.Load() {
		c.Error(errFailoverOnReplica)
		return
	}
	if len(s.replicaInfo()) == 0 {
		c.Error(errFailoverNoReplicas)
		return
	}
	if force && (timeout == 0 || !hostGiven) {
		c.Error(errFailoverForce)
		return
	}
	if hostGiven {
		r := s.findReplica(host, port)
		if r == nil {
			c.Error(errFailoverNotReplica)
			return
		}
		if r.replica.state.Load() != replOnline {
			c.Error(errFailoverNotOnline)
			return
		}
		fo.host, fo.port = host, port
		s.Log.Noticef("FAILOVER requested to %s:%d.", host, port)
	} else {
		s.Log.Noticef("FAILOVER requested to any replica.")
	}
	if timeout > 0 {
		fo.deadline = time.Now().Add(time.Duration(timeout) * time.Millisecond)
	}
	fo.force = force
	fo.phase.Store(failoverWaitSync)
	s.pause.pauseForFailover(true)
	c.OK()
}

// findReplica returns the replica connection announced as host:port: the
// address it connected from and the port it gave in REPLCONF
// listening-port, as Redis's findReplica matches them.
func (s *Server) findReplica(host string, port int64) *Client {
	for _, r := range s.replicaInfo() {
		if strings.EqualFold(host, replicaIP(r)) && port == r.replListeningPort.Load() {
			return r
		}
	}
	return nil
}

// failoverCron moves a failover waiting for its target on (Redis's
// updateFailoverStatus, from the cron): aborted or forced when TIMEOUT has
// passed, else switched to the target once it has acknowledged the whole
// stream (with no TO, to the first replica that has).
func (s *Server) failoverCron(now time.Time) {
	fo := &s.replica.failover
	if fo.phase.Load() != failoverWaitSync {
		return
	}
	fo.mu.Lock()
	if fo.phase.Load() != failoverWaitSync {
		fo.mu.Unlock()
		return
	}
	if !fo.deadline.IsZero() && !now.Before(fo.deadline) {
		if fo.force {
			s.Log.Noticef("FAILOVER to %s:%d time out exceeded, failing over.", fo.host, fo.port)
			s.failoverSwitchLocked()
		} else {
			s.abortFailoverLocked("Replica never caught up before timeout")
		}
		fo.mu.Unlock()
		return
	}
	host, port := fo.host, fo.port
	fo.mu.Unlock()

	var target *Client
	if host != "" {
		target = s.findReplica(host, port)
	} else {
		offset := s.prop.Offset()
		for _, r := range s.replicaInfo() {
			if r.replica.ackOffset.Load() == offset {
				target = r
				break
			}
		}
	}
	if target == nil {
		return
	}
	// The comparison holds every shard: a write still running from before
	// the pause has then emitted its effects, and moved the offset. (Not
	// under mu: a transaction holding shards may run REPLICAOF or
	// FAILOVER, which take mu.)
	s.Store.LockAll()
	synced := target.replica.ackOffset.Load() == s.prop.Offset()
	s.Store.UnlockAll()
	if !synced {
		return
	}
	fo.mu.Lock()
	defer fo.mu.Unlock()
	if fo.phase.Load() != failoverWaitSync || fo.host != host || fo.port != port {
		return // aborted (or replaced) meanwhile
	}
	if host == "" {
		fo.host, fo.port = replicaIP(target), target.replListeningPort.Load()
	}
	s.Log.Noticef("Failover target %s:%d is synced, failing over.", fo.host, fo.port)
	s.failoverSwitchLocked()
}

// failoverSwitchLocked makes the server a replica of the target, whose
// link sends the PSYNC with FAILOVER (replica.go). The pause stays until
// the target answers. fo.mu is held.
func (s *Server) failoverSwitchLocked() {
	fo := &s.replica.failover
	fo.phase.Store(failoverInProgress)
	s.Config.SetReplicaOf(fo.host, int(fo.port)) // CONFIG REWRITE follows the role
	s.startReplication(fo.host, int(fo.port))
}

// abortFailoverLocked ends the failover with Redis's log line: a server
// that had switched is a primary again. fo.mu is held.
func (s *Server) abortFailoverLocked(reason string) {
	fo := &s.replica.failover
	phase := fo.phase.Load()
	if phase == noFailover {
		return
	}
	if fo.host != "" {
		s.Log.Noticef("FAILOVER to %s:%d aborted: %s", fo.host, fo.port, reason)
	} else {
		s.Log.Noticef("FAILOVER to any replica aborted: %s", reason)
	}
	if phase == failoverInProgress {
		s.promote()
	}
	s.clearFailoverLocked()
}

// clearFailoverLocked forgets the failover and lifts its pause (Redis's
// clearFailoverState). fo.mu is held.
func (s *Server) clearFailoverLocked() {
	fo := &s.replica.failover
	fo.host, fo.port, fo.deadline, fo.force = "", 0, time.Time{}, false
	fo.phase.Store(noFailover)
	s.pause.pauseForFailover(false)
}

// failingOver reports whether the link is the one a failover made: its
// PSYNC carries FAILOVER.
func (s *Server) failingOver() bool {
	return s.replica.failover.phase.Load() == failoverInProgress
}

// failoverPsyncAnswered ends a failover with the target's answer to the
// PSYNC: accepted (a partial or a full resynchronisation), the failover is
// done; anything else aborts it, with reason.
func (s *Server) failoverPsyncAnswered(accepted bool, reason string) {
	fo := &s.replica.failover
	fo.mu.Lock()
	defer fo.mu.Unlock()
	if fo.phase.Load() != failoverInProgress {
		return // aborted meanwhile
	}
	if accepted {
		s.clearFailoverLocked()
		return
	}
	s.abortFailoverLocked(reason)
}

// failoverPausesPing reports whether the replication PING is held back:
// while a failover with a TIMEOUT has writes paused, as Redis does (the
// PING would move the offset the target has to reach).
func (s *Server) failoverPausesPing() bool {
	fo := &s.replica.failover
	if fo.phase.Load() == noFailover {
		return false
	}
	fo.mu.Lock()
	defer fo.mu.Unlock()
	return !fo.deadline.IsZero() && s.pause.pausesReplicaTraffic()
}

// acceptFailoverRequest is the target's side of PSYNC <replid> <offset>
// FAILOVER (Redis's syncCommand): a replica whose history is replid
// becomes a primary, and the PSYNC then goes on as any other. It returns
// the error to reply, or "".
func (s *Server) acceptFailoverRequest(cl *Client, replid []byte) string {
	s.Log.Noticef("Failover request received for replid %s.", replid)
	fo := &s.replica.failover
	fo.mu.Lock()
	defer fo.mu.Unlock()
	if !s.replica.active.Load() {
		return errPsyncFailoverPrimary
	}
	if !strings.EqualFold(string(replid), s.admin().replicationID()) {
		return errPsyncFailoverReplid
	}
	s.promote()
	info := cl.appendInfo(nil, cl.selfInfo(cl.ctx.Cmd, cl.ctx.Args), time.Now())
	s.Log.Noticef("MASTER MODE enabled (failover request from '%s')", info)
	return ""
}
