package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
	"github.com/corvid-db/corvid/internal/scripting"
)

// The replica side of replication: REPLICAOF host port makes the server a
// replica. A goroutine keeps a link to the primary: it connects, shakes
// hands as Redis's replicas do (PING, AUTH with masterauth, REPLCONF
// listening-port and capa, PSYNC), loads the RDB the primary sends in
// place of the whole dataset, and then serves the primary's connection as
// a client whose commands are the write stream and whose replies are
// dropped. A broken link is retried every second, with a new full
// synchronisation (no partial resync yet). While a replica, the server
// refuses writes from its clients (replica-read-only) and, with
// replica-serve-stale-data no, most commands while the link is down.

// Replication refusals, as Redis words them.
const (
	errReadOnlyReplica = "READONLY You can't write against a read only replica."
	errNoReplicas      = "NOREPLICAS Not enough good replicas to write."
	errMasterDown      = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
	errReadOnlyScript  = "READONLY Can not run script with write flag on readonly replica"
)

// replicaLink is the server's state as a replica; host == "" means it is
// a primary.
type replicaLink struct {
	mu     sync.Mutex
	host   string
	port   int
	stop   chan struct{} // closed to end the link goroutine
	done   chan struct{} // closed by the link goroutine when it ends
	conn   net.Conn      // the current connection to the primary, if any
	master *Client
	up     atomic.Bool  // the stream is flowing (master_link_status:up)
	active atomic.Bool  // host != "", for the per-command checks
	state  atomic.Int32 // where the link is (linkConnect…), for ROLE
	// primary is master's connection while the stream flows, read
	// without mu by the AOF (primaryApplied).
	primary atomic.Pointer[primaryConn]
	// downSince is when the link that was up went down (INFO's
	// master_link_down_since_seconds, Redis's repl_down_since); zero when
	// none has since the server became a replica.
	downSince time.Time
	// The snapshot being received, for INFO's master_sync_* fields: its
	// size (-1 until its header is read, 0 when it comes between EOF
	// marks), the bytes read of it, and when (Unix s) the last came.
	syncSize, syncRead, syncLastIO atomic.Int64
	// failover is a FAILOVER under way (failover.go): the primary that
	// hands its role becomes a replica of its target.
	failover failoverState
	// cached: where the last link's stream stopped, so the next one asks
	// to continue from there (PSYNC replid offset) instead of loading a
	// new snapshot (guarded by mu; reset when the primary changes).
	cached streamPosition
	// restored: cached comes from the file loaded at start (its AUX
	// replication fields), for the first link to continue from.
	restored bool
}

// The link's states, as ROLE names them: waiting to connect (before the
// first attempt and between attempts), connecting, shaking hands (PING
// to PSYNC's reply), receiving the snapshot, and serving the stream.
const (
	linkConnect int32 = iota
	linkConnecting
	linkHandshake
	linkSync
	linkConnected
)

// linkStateNames are the states' names in ROLE's reply.
var linkStateNames = [...]string{"connect", "connecting", "handshake", "sync", "connected"}

// setState records the link's state, unless the link it belongs to was
// replaced (REPLICAOF elsewhere, or NO ONE).
func (r *replicaLink) setState(stop chan struct{}, st int32) {
	r.mu.Lock()
	if r.stop == stop {
		r.state.Store(st)
	}
	r.mu.Unlock()
}

// streamPosition is a point in a primary's stream.
type streamPosition struct {
	replid string // "" when there is none to continue from
	offset int64  // the offset of the last byte applied
	db     int    // the database the stream had selected
}

// position returns the cached stream position.
func (r *replicaLink) position() streamPosition {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cached
}

// setPosition caches p, unless the link it belongs to was replaced.
func (r *replicaLink) setPosition(stop chan struct{}, p streamPosition) {
	r.mu.Lock()
	if r.stop == stop {
		r.cached = p
	}
	r.mu.Unlock()
}

// replicationRefusal is the admission check of replication state for a
// command with the given (for EXEC: the transaction's) flags.
func (s *Server) replicationRefusal(c *Client, flags command.Flags, stale bool) string {
	if c.isMaster.Load() {
		return ""
	}
	write := flags&command.Write != 0
	if !s.replica.active.Load() {
		if write {
			if n := s.minReplicas.Load(); n > 0 && int64(s.goodReplicas()) < n {
				return errNoReplicas
			}
		}
		return ""
	}
	if write && s.Config.Bool("replica-read-only") {
		return errReadOnlyReplica
	}
	if !stale && !s.replica.up.Load() && !s.Config.Bool("replica-serve-stale-data") {
		return errMasterDown
	}
	return ""
}

// goodReplicas counts replicas whose last acknowledgement is at most
// min-replicas-max-lag seconds old.
func (s *Server) goodReplicas() int {
	maxLag := s.Config.Int("min-replicas-max-lag")
	now := time.Now().Unix()
	n := 0
	for _, r := range s.replicaInfo() {
		if r.replica.state.Load() == replOnline && now-r.replica.ackTime.Load() <= maxLag {
			n++
		}
	}
	return n
}

func replicaofCommand(c *command.Ctx) {
	cl := client(c)
	s := cl.srv
	// A failover changes the role itself: REPLICAOF waits for none, and
	// none starts while it runs (failover.go).
	fo := &s.replica.failover
	fo.mu.Lock()
	defer fo.mu.Unlock()
	if fo.phase.Load() != noFailover {
		c.Error(errReplicaofFailingOver)
		return
	}
	host, portArg := string(c.Args[1]), string(c.Args[2])
	done := s.linkDone()
	if strings.EqualFold(host, "no") && strings.EqualFold(portArg, "one") {
		promoted := s.promote()
		s.awaitLinkEnd(done)
		if promoted {
			s.Log.Noticef("MASTER MODE enabled (user request from '%s')", cl.addr)
		}
		c.OK()
		return
	}
	port, ok := resp.ParseInt(c.Args[2])
	if !ok || port < 0 || port > 65535 {
		c.Error("ERR Invalid master port")
		return
	}
	s.replica.mu.Lock()
	same := s.replica.host == host && s.replica.port == int(port)
	s.replica.mu.Unlock()
	if same {
		s.Log.Noticef("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.")
		c.W.SimpleString("OK Already connected to specified master")
		return
	}
	s.stopReplication()
	s.awaitLinkEnd(done)
	s.Config.SetReplicaOf(host, int(port))
	s.startReplication(host, int(port))
	s.Log.Noticef("REPLICAOF %s:%d enabled (user request from '%s')", host, port, cl.addr)
	c.OK()
}

// promote makes a replica a primary (REPLICAOF NO ONE, a PSYNC FAILOVER
// to it, a failover aborted after its switch), as Redis's
// replicationUnsetMaster, and reports whether it was a replica.
func (s *Server) promote() bool {
	s.Config.SetReplicaOf("", 0) // CONFIG GET and REWRITE follow the role
	if !s.stopReplication() {
		return false
	}
	s.forgetReplicaKeys()
	s.prop.stopProxy()
	s.prop.mu.Lock()
	s.aof.realignOffsetsLocked(s.prop.offset)
	s.prop.mu.Unlock()
	s.newReplicationID()
	s.replica.mu.Lock()
	s.replica.downSince = time.Time{}
	s.replica.mu.Unlock()
	// As Redis: the replicas learn the new ID by reconnecting, and
	// continue (PSYNC with the old ID, now the second).
	for _, rc := range s.replicaInfo() {
		rc.Kill()
	}
	return true
}

// stopReplication ends the link, if any, and reports whether the server
// was a replica.
func (s *Server) stopReplication() bool {
	r := &s.replica
	r.mu.Lock()
	was := r.host != ""
	if was {
		if r.up.Load() {
			r.downSince = time.Now() // the link is lost, as Redis counts it
		}
		close(r.stop)
		if r.conn != nil {
			_ = r.conn.Close()
		}
		if r.master != nil {
			// Where its stream stands: a next primary sharing the
			// history continues it in that database (startReplication).
			r.cached.db = int(r.master.dbAtomic.Load())
			r.master.Kill()
		}
		r.host, r.port, r.conn, r.master, r.stop = "", 0, nil, nil, nil
		r.primary.Store(nil)
		r.up.Store(false)
		r.active.Store(false)
	}
	r.mu.Unlock()
	return was
}

// linkDone is the current link goroutine's end, to wait for after
// stopping it (awaitLinkEnd); nil when there is none.
func (s *Server) linkDone() chan struct{} {
	r := &s.replica
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.host == "" {
		return nil
	}
	return r.done
}

// awaitLinkEnd waits (briefly: the link goroutine stops at its next read
// of the closed connection) for the old link to end, a load from the old
// primary with it. In Redis that load is over before REPLICAOF can even
// be read, so what follows it (FLUSHALL, a write after promotion) never
// meets -LOADING. Only REPLICAOF waits (a failover aborted by the link
// goroutine itself must not); bounded, so that a link goroutine waiting
// for something REPLICAOF's caller holds cannot hang it.
func (s *Server) awaitLinkEnd(done chan struct{}) {
	deadline := time.Now().Add(5 * time.Second)
	if done != nil {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}
	for s.load.active.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// startReplication makes the server a replica of host:port. Its own
// replicas are dropped: they must resynchronise with the new history.
func (s *Server) startReplication(host string, port int) {
	for _, rc := range s.replicaInfo() {
		rc.Kill()
	}
	s.unblockWriters()
	r := &s.replica
	r.mu.Lock()
	r.host, r.port = host, port
	if !r.restored {
		// Another primary: another history, maybe. The database the
		// stream had selected stays: a primary that shares this history
		// (the old one, or its replica) continues the stream without a
		// SELECT, as Redis's cached master keeps its db.
		r.cached = streamPosition{db: r.cached.db}
	}
	r.restored = false
	s.aof.fsyncedPrimary.Store(0)
	r.stop = make(chan struct{})
	r.done = make(chan struct{})
	r.state.Store(linkConnect)
	r.active.Store(true)
	stop, done := r.stop, r.done
	r.mu.Unlock()
	s.signalAck() // WAIT and WAITAOF end: their replicas are gone
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		s.replicationLink(host, port, stop)
	}()
}

// newReplicationID starts a new history, as a promoted replica does.
func (s *Server) newReplicationID() {
	s.shiftReplicationID(randomHex40())
}

// shiftReplicationID makes id the replication ID, keeping the current one
// as the second, valid up to the stream's offset now, as Redis's
// shiftReplicationId: a replica of the old history can still PSYNC here
// (a promoted replica, or one whose primary's ID changed).
func (s *Server) shiftReplicationID(id string) {
	off := s.prop.Offset()
	a := s.admin()
	a.replMu.Lock()
	a.replID2 = a.replID
	a.secondOffset = off + 1
	a.replID = id
	a.replMu.Unlock()
}

// restoreReplication takes the replication position of the file loaded
// at start, as Redis's loadDataFromDisk: a replica takes it as its
// primary's (its first PSYNC continues from it); a primary keeps the ID
// as its second, valid up to the offset, under a new ID, so that its
// replicas continue after its restart. The backlog starts there, and the
// keys the load drops as expired go into it as DELs.
func (s *Server) restoreReplication(p streamPosition) {
	s.prop.mu.Lock()
	s.prop.ensureBacklog(s.Config.Int("repl-backlog-size"))
	s.prop.resetStream(p.offset)
	s.prop.lastDB = -1
	s.prop.mu.Unlock()
	if _, _, replica := s.Config.ReplicaOf(); replica {
		s.adoptReplicationID(p.replid)
		s.replica.mu.Lock()
		s.replica.cached, s.replica.restored = p, true
		s.replica.mu.Unlock()
		return
	}
	a := s.admin()
	a.replMu.Lock()
	a.replID2 = p.replid
	a.secondOffset = p.offset + 1
	a.replID = randomHex40()
	a.replMu.Unlock()
}

// adoptReplicationID makes the primary's ID this replica's, with no
// second one, after a full synchronisation (Redis's replicas take their
// primary's ID and offset).
func (s *Server) adoptReplicationID(id string) {
	a := s.admin()
	a.replMu.Lock()
	a.replID = id
	a.replID2 = strings.Repeat("0", 40)
	a.secondOffset = -1
	a.replMu.Unlock()
}

// replicationLink connects, synchronises and serves the primary's stream
// until stop is closed, retrying every second.
func (s *Server) replicationLink(host string, port int, stop chan struct{}) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	for {
		select {
		case <-stop:
			return
		case <-s.done:
			return
		default:
		}
		s.Log.Noticef("Connecting to MASTER %s", addr)
		s.replica.setState(stop, linkConnecting)
		err := s.syncWithPrimary(addr, stop)
		s.replica.mu.Lock()
		if s.replica.stop == stop {
			// Only the current link: one replaced by REPLICAOF ends
			// after its successor may have come up.
			if s.replica.up.Load() {
				s.replica.downSince = time.Now()
			}
			s.replica.up.Store(false)
			s.replica.state.Store(linkConnect)
		}
		s.replica.mu.Unlock()
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			s.Log.Warningf("Timeout connecting to the MASTER...")
		case errors.Is(err, errLoggedHandshake):
		case err != nil:
			s.Log.Warningf("Error condition on socket for SYNC: %v", err)
		}
		select {
		case <-stop:
			return
		case <-s.done:
			return
		case <-time.After(time.Second):
		}
	}
}

// errLoggedHandshake ends a handshake whose failure was logged in
// Redis's words already.
var errLoggedHandshake = errors.New("replication handshake failed")

// syncWithPrimary runs one link: handshake, full synchronisation, stream.
func (s *Server) syncWithPrimary(addr string, stop chan struct{}) error {
	timeout := time.Duration(s.Config.Int("repl-timeout")) * time.Second
	d := net.Dialer{Timeout: timeout}
	if src := s.Config.String("bind-source-addr"); src != "" {
		// The address the link leaves from, as Redis's bind-source-addr.
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	conn = s.dialPrimary(conn)
	s.replica.mu.Lock()
	if s.replica.stop != stop {
		s.replica.mu.Unlock()
		_ = conn.Close()
		return nil
	}
	s.replica.conn = conn
	s.replica.state.Store(linkHandshake)
	s.replica.mu.Unlock()
	defer conn.Close()
	// Closing the server ends the link at once, whatever it waits for
	// (a primary silent in the handshake, a snapshot that stalls): its
	// goroutine is one Close waits for.
	linkDone := make(chan struct{})
	defer close(linkDone)
	go func() {
		select {
		case <-s.done:
			_ = conn.Close()
		case <-linkDone:
		}
	}()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	br := bufio.NewReaderSize(conn, 64<<10)
	send := func(args ...string) error {
		bs := make([][]byte, len(args))
		for i, a := range args {
			bs[i] = []byte(a)
		}
		_, err := conn.Write(appendCommand(nil, bs))
		return err
	}
	ask := func(args ...string) (string, error) {
		if err := send(args...); err != nil {
			return "", err
		}
		// Against repl-timeout as it is while the answer is awaited, as
		// Redis's cron checks it: CONFIG SET may shorten it meanwhile.
		return s.readLineWatched(conn, br)
	}
	if l, err := ask("PING"); err != nil {
		return err
	} else if strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "-NOAUTH") {
		return fmt.Errorf("error reply to PING from master: '%s'", l[1:])
	}
	if pass := s.Config.String("masterauth"); pass != "" {
		args := []string{"AUTH", pass}
		if user := s.Config.String("masteruser"); user != "" {
			args = []string{"AUTH", user, pass}
		}
		if l, err := ask(args...); err != nil {
			return err
		} else if strings.HasPrefix(l, "-") {
			s.Log.Warningf("Unable to AUTH to MASTER: %s", l)
			return errLoggedHandshake
		}
	}
	// The port the primary (and a FAILOVER's TO) knows this replica by,
	// as Redis announces it: replica-announce-port, else the port its own
	// replicas would use.
	port := s.tcpPort()
	if tp := s.Config.Int("tls-port"); tp != 0 && s.Config.Bool("tls-replication") {
		port = tp
	}
	if ap := s.Config.Int("replica-announce-port"); ap != 0 {
		port = ap
	}
	if _, err := ask("REPLCONF", "listening-port", strconv.FormatInt(port, 10)); err != nil {
		return err
	}
	if ip := s.Config.String("replica-announce-ip"); ip != "" {
		if _, err := ask("REPLCONF", "ip-address", ip); err != nil {
			return err
		}
	}
	if _, err := ask("REPLCONF", "capa", "eof", "capa", "psync2"); err != nil {
		return err
	}
	cached := s.replica.position()
	if cached.replid == "" {
		// No link before: this server's own history, which the new
		// primary may share (it was this one's replica), as Redis's
		// replicas PSYNC with their own ID and offset.
		cached = streamPosition{replid: s.admin().replicationID(), offset: s.prop.Offset(), db: cached.db}
	}
	psync := []string{"PSYNC", cached.replid, strconv.FormatInt(cached.offset+1, 10)}
	// A primary handing its role over (failover.go) asks its target to
	// take it with this PSYNC: the target promotes itself first.
	failingOver := s.failingOver()
	if failingOver {
		psync = append(psync, "FAILOVER")
	}
	if err := send(psync...); err != nil {
		if failingOver {
			s.Log.Warningf("Unable to send PSYNC to master: %v", err)
			s.failoverPsyncAnswered(false, "Write error to failover target")
		}
		return err
	}
	l, err := s.readLineWatched(conn, br)
	for err == nil && l == "" {
		// Newlines are keep-alives while the primary prepares: each one
		// renews repl-timeout, read anew (it may have been changed).
		l, err = s.readLineWatched(conn, br)
	}
	if failingOver {
		// As Redis: a partial or a full resynchronisation completes the
		// failover (its pause ends; the writes it held get READONLY);
		// no answer or any other aborts it, and the server is a primary
		// again.
		f := strings.Fields(l)
		accepted := err == nil && len(f) > 0 && (f[0] == "+CONTINUE" || f[0] == "+FULLRESYNC")
		s.failoverPsyncAnswered(accepted, "Failover target rejected psync request")
		if !accepted {
			if err == nil {
				err = fmt.Errorf("unexpected reply to PSYNC FAILOVER from master: %s", l)
			}
			return err
		}
		select {
		case <-stop:
			return nil // aborted meanwhile: a primary again
		default:
		}
	}
	if err != nil {
		return err
	}
	var offset int64
	switch f := strings.Fields(l); {
	case len(f) >= 1 && f[0] == "+CONTINUE" && cached.replid != "":
		if len(f) == 2 && f[1] != cached.replid {
			// The primary's history goes on under a new ID (it was
			// promoted): so does this replica's, the old kept second.
			cached.replid = f[1]
			s.shiftReplicationID(f[1])
			s.Log.Noticef("Master replication ID changed to %s", f[1])
			for _, rc := range s.replicaInfo() {
				rc.Kill() // they continue under the new ID too
			}
		}
		s.prop.startProxyAt(s.Config.Int("repl-backlog-size"))
		s.replica.setPosition(stop, cached)
		s.Log.Noticef("Successful partial resynchronization with master.")
		_ = conn.SetDeadline(time.Time{})
		return s.serveStream(conn, br, cached, stop)
	case len(f) == 3 && f[0] == "+FULLRESYNC":
		offset, _ = strconv.ParseInt(f[2], 10, 64)
		s.Log.Noticef("Full resync from master: %s:%s", f[1], f[2])
	case strings.HasPrefix(l, "-NOMASTERLINK") || strings.HasPrefix(l, "-LOADING"):
		// As Redis: a transient refusal; the history this replica has
		// stays its own, for the next PSYNC.
		s.Log.Noticef("Master is currently unable to PSYNC but should be in the future: %s", l)
		return errors.New("the master cannot PSYNC yet")
	default:
		s.replica.setPosition(stop, streamPosition{})
		return fmt.Errorf("unexpected reply to PSYNC from master: %s", l)
	}
	s.replica.setPosition(stop, streamPosition{}) // until the new snapshot is in
	s.replica.syncSize.Store(-1)
	s.replica.syncRead.Store(0)
	s.replica.syncLastIO.Store(time.Now().Unix())
	s.replica.setState(stop, linkSync)
	replid := strings.Fields(l)[1]
	// The RDB: "$<len>\r\n<bytes>", or "$EOF:<40-byte mark>\r\n<bytes><mark>"
	// from a primary that streams it (repl-diskless-sync).
	var head string
	for {
		if head, err = s.readLineWatched(conn, br); err != nil {
			return err
		}
		if head != "" { // newlines are keep-alives while the primary prepares
			break
		}
	}
	if !strings.HasPrefix(head, "$") {
		return fmt.Errorf("bad protocol from MASTER, the first byte is not '$': %q", head)
	}
	// Either way the RDB goes to the loader as it arrives ("to parser",
	// in Redis's words); Redis writes it to disk first unless
	// repl-diskless-load says otherwise.
	var payload io.Reader
	if mark, ok := strings.CutPrefix(head, "$EOF:"); ok && len(mark) == 40 {
		payload = &eofMarkReader{br: br, mark: []byte(mark), conn: conn,
			timeout: time.Duration(s.Config.Int("repl-timeout")) * time.Second}
		s.replica.syncSize.Store(0)
		s.Log.Noticef("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to parser")
	} else {
		n, err := strconv.ParseInt(head[1:], 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("bad RDB length from MASTER: %q", head)
		}
		_ = conn.SetDeadline(time.Time{})
		payload = io.LimitReader(br, n)
		s.replica.syncSize.Store(n)
		s.Log.Noticef("MASTER <-> REPLICA sync: receiving %d bytes from master to parser", n)
	}
	payload = &syncProgress{r: payload, link: &s.replica}
	if err := s.loadPrimarySnapshot(payload, offset, replid); err != nil {
		// Redis's lines, which its tests and operators look for.
		s.Log.Warningf("Internal error in RDB reading offset 0, function at rdb.c:0 -> %v", err)
		s.Log.Warningf("Failed trying to load the MASTER synchronization DB from socket, check server logs.")
		if s.Config.Int("repl-diskless-load") == config.ReplDisklessLoadSwapDB {
			s.Log.Noticef("MASTER <-> REPLICA sync: Discarding temporary DB in background")
		}
		return fmt.Errorf("failed to load the RDB from MASTER: %w", err)
	}
	// Up to the end of the payload (the closing mark, for a stream): the
	// loader stops at the RDB's checksum.
	if _, err := io.Copy(io.Discard, payload); err != nil {
		return fmt.Errorf("failed to read the RDB from MASTER: %w", err)
	}
	_ = conn.SetDeadline(time.Time{})
	// The primary's history is this replica's now: its replicas (which
	// followed the old one) go and resynchronise, and the stream it
	// passes on continues the primary's offsets.
	for _, rc := range s.replicaInfo() {
		rc.Kill()
	}
	s.prop.startProxy(offset, s.Config.Int("repl-backlog-size"))
	s.adoptReplicationID(replid)
	s.Log.Noticef("MASTER <-> REPLICA sync: Finished with success")
	pos := streamPosition{replid: replid, offset: offset}
	s.replica.setPosition(stop, pos)
	return s.serveStream(conn, br, pos, stop)
}

// serveStream serves the primary's stream from offset (the offset of the
// last byte already applied) until the link breaks, keeping in cached
// where it stopped.
func (s *Server) serveStream(conn net.Conn, br *bufio.Reader, pos streamPosition, stop chan struct{}) error {
	// The primary's connection becomes a client of ours. It reads first
	// what the handshake's reader took ahead, and counts what it reads for
	// REPLCONF ACK and what it applied for the next PSYNC.
	pc := &primaryConn{Conn: conn, r: br}
	pc.offset.Store(pos.offset)
	pc.applied.Store(pos.offset)
	mc := s.newClient(pc)
	mc.selectDB(pos.db)
	mc.isMaster.Store(true)
	mc.primary = pc
	mc.authenticated = true
	mc.parser.Unauthenticated = false
	mc.replyMode = replyOff
	s.replica.mu.Lock()
	if s.replica.stop != stop {
		s.replica.mu.Unlock()
		mc.Kill()
		mc.unregister()
		return nil
	}
	s.replica.master = mc
	s.replica.primary.Store(pc)
	s.replica.up.Store(true)
	s.replica.state.Store(linkConnected)
	s.replica.mu.Unlock()
	done := make(chan struct{})
	go s.ackLoop(mc, done)
	mc.serve()
	close(done)
	s.replica.primary.CompareAndSwap(pc, nil)
	pos.offset, pos.db = pc.applied.Load(), mc.db
	s.replica.setPosition(stop, pos)
	return errors.New("connection with master lost")
}

// ackLoop sends REPLCONF ACK <offset> every second, as Redis's replicas do.
func (s *Server) ackLoop(mc *Client, done chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			mc.sendAck()
		}
	}
}

// primaryConn is the connection to the primary as its client reads it.
type primaryConn struct {
	net.Conn
	r       *bufio.Reader
	offset  atomic.Int64 // the primary's replication offset we have read up to
	applied atomic.Int64 // ... and applied (not counting an open MULTI)
}

func (p *primaryConn) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.offset.Add(int64(n))
	return n, err
}

// sendAck writes REPLCONF ACK straight to the primary: the master client's
// replies are otherwise dropped. With an AOF it adds FACK and the offset
// of the primary's stream on disk here (WAITAOF's replica count), having
// first written what the AOF buffered (and fsynced it, with appendfsync
// always), so the answer to a GETACK is as fresh as it can be.
func (c *Client) sendAck() {
	if c.primary == nil {
		return // the client replaying the AOF: no primary to answer
	}
	s := c.srv
	args := [][]byte{[]byte("REPLCONF"), []byte("ACK"), nil}
	if s.aof.active.Load() {
		s.flushForReplies()
		fack := strconv.AppendInt(nil, s.aof.fsyncedPrimary.Load(), 10)
		args = append(args, []byte("FACK"), fack)
	}
	args[2] = strconv.AppendInt(nil, c.primary.applied.Load(), 10)
	b := appendCommand(nil, args)
	c.fdMu.Lock()
	conn := c.conn
	c.fdMu.Unlock()
	if conn != nil {
		_, _ = conn.Write(b)
	}
}

// primaryApplied is the offset of the primary's stream applied so far, or
// -1 when the stream is not flowing.
func (s *Server) primaryApplied() int64 {
	if pc := s.replica.primary.Load(); pc != nil {
		return pc.applied.Load()
	}
	return -1
}

// ackPrimaryIfDue sends REPLCONF ACK now if the AOF's fsynced offset moved
// since the last one, so a WAITAOF on the primary need not wait for the
// next second's.
func (s *Server) ackPrimaryIfDue() {
	if !s.aof.ackDue.Load() {
		return
	}
	s.replica.mu.Lock()
	mc := s.replica.master
	s.replica.mu.Unlock()
	if mc != nil && s.aof.ackDue.Swap(false) { // else kept for the link to come
		mc.sendAck()
	}
}

// readLineWatched reads a line from the primary while it prepares the
// RDB, checking every second against repl-timeout as it is now (CONFIG
// SET may shorten it meanwhile, as Redis's cron reads it anew): a primary
// that sends nothing, not even a keep-alive newline, for that long has
// timed out.
func (s *Server) readLineWatched(conn net.Conn, br *bufio.Reader) (string, error) {
	start := time.Now()
	var acc string
	for {
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		part, err := br.ReadString('\n')
		acc += part
		if err == nil {
			_ = conn.SetReadDeadline(time.Time{})
			return strings.TrimRight(acc, "\r\n"), nil
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			return "", err
		}
		if time.Since(start) >= time.Duration(s.Config.Int("repl-timeout"))*time.Second {
			return "", err
		}
	}
}

// eofMarkReader streams an RDB a primary sends between EOF marks (the
// diskless transfer) up to the closing 40-byte mark, which it consumes,
// and no further: the replication stream that follows stays in br. The
// loader reads it as it arrives, as Redis's diskless load does (INFO
// loading:1 during the transfer), instead of the whole payload being
// held in memory first.
type eofMarkReader struct {
	br   *bufio.Reader
	mark []byte
	done bool
	// conn and timeout (repl-timeout): a primary silent for that long
	// while it sends is given up, as Redis's replicas do.
	conn    net.Conn
	timeout time.Duration
}

// fill waits for at least n buffered bytes.
func (e *eofMarkReader) fill(n int) error {
	if e.conn != nil && e.timeout > 0 {
		_ = e.conn.SetReadDeadline(time.Now().Add(e.timeout))
	}
	_, err := e.br.Peek(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF // the connection ended before the mark
	}
	return err
}

func (e *eofMarkReader) Read(p []byte) (int, error) {
	if e.done {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n := e.br.Buffered()
		if n < len(e.mark) {
			if err := e.fill(len(e.mark)); err != nil {
				return 0, err
			}
			n = e.br.Buffered()
		}
		buf, _ := e.br.Peek(n)
		if i := bytes.Index(buf, e.mark); i >= 0 {
			if i == 0 {
				_, _ = e.br.Discard(len(e.mark))
				e.done = true
				return 0, io.EOF
			}
			k := copy(p, buf[:i])
			_, _ = e.br.Discard(k)
			return k, nil
		}
		// No mark here: all but its length less one byte is payload.
		if safe := n - (len(e.mark) - 1); safe > 0 {
			k := copy(p, buf[:safe])
			_, _ = e.br.Discard(k)
			return k, nil
		}
		if err := e.fill(n + 1); err != nil {
			return 0, err
		}
	}
}

// loadPrimarySnapshot replaces the dataset with the RDB a primary sent,
// under every shard lock: function libraries and keys, expired ones
// included (a replica waits for its primary's DEL). With an AOF, the file
// is rewritten from the new dataset before the locks go, as Redis restarts
// its AOF after a full synchronisation: no command wrote that dataset, so
// the incremental file alone would not hold it. The primary's stream is
// then on disk up to offset, the snapshot's.
//
// With repl-diskless-load swapdb the RDB is loaded into a keyspace of its
// own while clients go on reading the old dataset (INFO async_loading:1),
// and the two are swapped, with the function libraries, in one instant at
// the end; a load that fails leaves the old dataset in place. Otherwise
// the load holds the dataset and clients get -LOADING meanwhile. As in
// Redis, reads go on only when the new dataset continues the history the
// replica had (the same replication ID); from another primary it loads
// aside all the same, so that a failed load leaves the old dataset, but
// clients get -LOADING.
func (s *Server) loadPrimarySnapshot(r io.Reader, offset int64, replid string) error {
	var ss keyspace.ShardSet
	ss.SetAll()
	if s.Config.Int("repl-diskless-load") == config.ReplDisklessLoadSwapDB {
		async := replid == s.admin().replicationID()
		tmp := s.Store.NewEmptyLike()
		s.Log.Noticef("MASTER <-> REPLICA sync: Loading DB in memory")
		if async {
			s.load.async.Store(true)
			r = s.loadingCountedAsync(r)
		} else {
			s.beginLoading(0)
			r = s.loadingCounted(r)
		}
		_, codes, err := s.loadRDBInto(tmp, r, loadReplace, false)
		s.load.async.Store(false)
		s.endLoading()
		if err != nil {
			tmp.FlushAll()
			return err
		}
		s.Store.Lock(&ss)
		defer s.Store.Unlock(&ss)
		s.Store.AbortSnapshot() // as Redis kills its child before the swap
		s.Log.Noticef("MASTER <-> REPLICA sync: Swapping active DB with loaded DB")
		s.Store.SwapContents(tmp)
		s.Log.Noticef("MASTER <-> REPLICA sync: Discarding old DB in background")
		tmp.FlushAll() // the old dataset's memory goes now
		if msg := s.functions.Restore(codes, loadReplace.functionPolicy()); msg != "" {
			return errors.New(msg)
		}
		s.invalidateAll()
		s.reclaimSoon.Store(true)
	} else {
		s.beginLoading(0)
		r = s.loadingCounted(r)
		s.Store.Lock(&ss)
		defer s.Store.Unlock(&ss)
		s.Log.Noticef("MASTER <-> REPLICA sync: Flushing old data")
		s.Log.Noticef("MASTER <-> REPLICA sync: Loading DB in memory")
		_, err := s.loadSnapshotLocked(r, loadReplace)
		// The load ends here, before the AOF below is rewritten: Redis
		// does that in a background child, with the replica serving.
		// Commands wait for the shards meanwhile rather than get
		// -LOADING.
		s.endLoading()
		if err != nil {
			return err
		}
	}
	if s.aof.active.Load() {
		if err := s.rewriteAOFLocked(); err != nil {
			s.Log.Warningf("Failed to rewrite the AOF after the synchronization with the master: %v", err)
			return nil
		}
		s.aof.fsyncedPrimary.Store(offset)
		s.aof.ackDue.Store(true)
	}
	return nil
}

// How a snapshot load treats the dataset already there (DEBUG RELOAD's
// NOFLUSH and MERGE).
type loadMode int

const (
	loadReplace loadMode = iota // flush everything first
	loadKeep                    // keep it: a key or library in both is an error
	loadMerge                   // keep it: the snapshot's version wins
)

// functionPolicy is how the snapshot's function libraries join those
// already loaded.
func (m loadMode) functionPolicy() scripting.RestorePolicy {
	switch m {
	case loadKeep:
		return scripting.RestoreAppend
	case loadMerge:
		return scripting.RestoreReplace
	}
	return scripting.RestoreFlush
}

// loadSnapshotLocked is loadSnapshot with every shard already held; it
// returns the number of keys loaded. Keys past their expiry are loaded
// too: a replica waits for its primary's DEL, and an AOF base is followed
// by the commands that expire them (loadRDBLocked says more).
func (s *Server) loadSnapshotLocked(r io.Reader, mode loadMode) (int, error) {
	return s.loadRDBLocked(r, mode, false)
}

// configHolder gives handlers run outside a connection the configuration.
type configHolder struct{ cfg *config.Config }

// Config returns the server configuration.
func (h configHolder) Config() *config.Config { return h.cfg }

func (s *Server) replicaofCommands() []*command.Command {
	cat := command.CatAdmin | command.CatSlow | command.CatDangerous
	flags := command.Admin | command.NoScript | command.Stale | command.NoAsyncLoading | command.NoKeyspace
	mk := func(name, since string) *command.Command {
		return &command.Command{Name: name, Arity: 3, Flags: flags, ACL: cat, Group: "server", Since: since,
			Summary: "Configures a server as replica of another, or promotes it to a primary.", Handler: replicaofCommand}
	}
	return []*command.Command{mk("replicaof", "5.0.0"), mk("slaveof", "1.0.0")}
}

// syncProgress counts the snapshot's bytes as the loader reads them, for
// INFO's master_sync_* fields.
type syncProgress struct {
	r    io.Reader
	link *replicaLink
}

func (p *syncProgress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.link.syncRead.Add(int64(n))
		p.link.syncLastIO.Store(time.Now().Unix())
	}
	return n, err
}

// linkStatus is the link as INFO replication reports it.
type linkStatus struct {
	host      string
	port      int
	up        bool
	lastIO    int64 // seconds since the primary last sent something; -1 with no link up
	syncing   bool  // receiving a snapshot (master_sync_in_progress)
	read      int64 // the primary's offset read (slave_read_repl_offset)
	applied   int64 // ... and applied (slave_repl_offset)
	downSince time.Time
	// The snapshot being received, while syncing: its size (-1 before
	// its header, 0 between EOF marks), bytes read, the last read's time.
	syncSize, syncRead, syncLastIO int64
}

// replicaStatus reports the link for INFO, and false when the server is a
// primary. The offsets are Redis's: the stream's while it flows, else where
// the last link stopped (Redis's cached master), else, before any link,
// the server's own history (a primary turned replica caches itself), and 1
// while a full synchronisation has discarded the history.
func (s *Server) replicaStatus() (linkStatus, bool) {
	own := s.prop.Offset() // read first: the stream's lock is not taken under r.mu
	r := &s.replica
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.host == "" {
		return linkStatus{}, false
	}
	st := linkStatus{host: r.host, port: r.port, up: r.up.Load(), lastIO: -1,
		syncing: r.state.Load() == linkSync, downSince: r.downSince}
	switch {
	case st.up && r.master != nil && r.master.primary != nil:
		st.read, st.applied = r.master.primary.offset.Load(), r.master.primary.applied.Load()
		st.lastIO = max(0, time.Now().Unix()-r.master.lastInteraction.Load())
	case r.cached.replid != "":
		st.read, st.applied = r.cached.offset, r.cached.offset
	case st.syncing:
		st.read, st.applied = 1, 1
	default:
		st.read, st.applied = own, own
	}
	if st.syncing {
		st.syncSize, st.syncRead, st.syncLastIO = r.syncSize.Load(), r.syncRead.Load(), r.syncLastIO.Load()
	}
	return st, true
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// MustObey reports whether the client's commands are a primary's stream,
// which data commands apply as written (commands.mustObey).
func (c *Client) MustObey() bool { return c.isMaster.Load() }
