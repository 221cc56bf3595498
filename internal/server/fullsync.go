package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/savechild"
)

// Full resynchronisation of replicas, as Redis 7 does it but without a
// fork: a replica asking for one waits (state wait_bgsave) until a
// background snapshot (snapshot.go) can start for it; at the snapshot's
// instant it gets +FULLRESYNC with the stream's offset and joins the
// stream, whose bytes are held back while the RDB is sent (send_bulk);
// then they follow and the replica is online. Replicas waiting together
// share one snapshot.
//
// With repl-diskless-sync yes (the default) and replicas that announced
// REPLCONF capa eof, the RDB is streamed to their sockets as it is made,
// between $EOF:<mark> and the mark, after repl-diskless-sync-delay seconds
// (or as soon as repl-diskless-sync-max-replicas are waiting) so that
// more replicas can share it. Otherwise it is written to dbfilename (a
// save, as Redis's disk-based synchronisation is) and then sent as
// $<length>. A stream cannot be relabelled at its end, so its RDB version
// comes from a pass over the keyspace made shard by shard just before
// the instant.

// Replica states INFO replication reports.
const (
	replWaitBgsave int32 = iota
	replSendBulk
	replOnline
)

var replStateNames = [...]string{"wait_bgsave", "send_bulk", "online"}

// replSync is the primary's full-synchronisation queue.
type replSync struct {
	mu        sync.Mutex
	waiting   []*Client
	since     time.Time // when the first of them began waiting
	transfers []*Client // replicas being sent an RDB

	lastKeepAlive int64 // Unix s of the last keep-alive newline (cron only)
}

// queueFullSync makes cl a replica waiting for a snapshot and starts one
// at once when nothing delays it; no shard is held.
func (s *Server) queueFullSync(cl *Client) {
	cl.replica = &replicaState{}
	cl.replica.state.Store(replWaitBgsave)
	cl.isReplica.Store(true)
	cl.startAsync()
	cl.handOff() // replies to what the replica pipelined before SYNC go first
	cl.replyMode = replyOff
	s.replSync.mu.Lock()
	if len(s.replSync.waiting) == 0 {
		s.replSync.since = time.Now()
	}
	s.replSync.waiting = append(s.replSync.waiting, cl)
	s.replSync.mu.Unlock()
	s.Log.Noticef("Replica %s asks for synchronization", cl.replicaName())
	s.Log.Noticef("Full resync requested by replica %s", cl.replicaName())
	if s.Store.SnapshotRunning() {
		s.Log.Noticef("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC")
		return
	}
	s.fullSyncCron(time.Now())
}

// disklessSync reports whether the waiting replicas get a streamed RDB:
// repl-diskless-sync is on and every one of them announced capa eof.
func (s *Server) disklessSync() bool {
	if !s.Config.Bool("repl-diskless-sync") {
		return false
	}
	s.replSync.mu.Lock()
	defer s.replSync.mu.Unlock()
	for _, c := range s.replSync.waiting {
		if !c.replCapaEOF.Load() {
			return false
		}
	}
	return true
}

// syncDelayOver reports whether the waiting replicas have waited
// repl-diskless-sync-delay, or are as many as
// repl-diskless-sync-max-replicas.
func (s *Server) syncDelayOver(now time.Time) bool {
	s.replSync.mu.Lock()
	defer s.replSync.mu.Unlock()
	n := len(s.replSync.waiting)
	if n == 0 {
		return false
	}
	if most := s.Config.Int("repl-diskless-sync-max-replicas"); most > 0 && int64(n) >= most {
		return true
	}
	return now.Sub(s.replSync.since) >= time.Duration(s.Config.Int("repl-diskless-sync-delay"))*time.Second
}

// syncKeepAlive sends a newline to the replicas waiting for their RDB
// (wait_bgsave, or a disk-based one being written), once a second, as
// Redis does, so that their repl-timeout does not expire. It takes a
// shard lock first: a server frozen by a command holding every shard
// (DEBUG SLEEP) sends none, as a frozen Redis sends none.
func (s *Server) syncKeepAlive(now time.Time) {
	if now.Unix() == s.replSync.lastKeepAlive || now.Sub(s.replSyncSince()) < time.Second {
		return // once a second, and not before a replica waited one
	}
	s.replSync.mu.Lock()
	n := len(s.replSync.waiting) + len(s.replSync.transfers)
	s.replSync.mu.Unlock()
	if n == 0 {
		return
	}
	s.replSync.lastKeepAlive = now.Unix()
	s.Store.LockShard(0)
	s.Store.UnlockShard(0)
	s.replSync.mu.Lock()
	defer s.replSync.mu.Unlock()
	for _, cl := range s.replSync.waiting {
		cl.enqueueAsync([]byte("\n"))
	}
	for _, cl := range s.replSync.transfers {
		if cl.diskTransfer {
			cl.enqueueBulk([]byte("\n"))
		}
	}
}

// replSyncSince is when the longest-waiting replica began waiting (now
// when none waits).
func (s *Server) replSyncSince() time.Time {
	s.replSync.mu.Lock()
	defer s.replSync.mu.Unlock()
	if len(s.replSync.waiting) == 0 {
		return time.Time{}
	}
	return s.replSync.since
}

// fullSyncCron starts the snapshot replicas wait for, when no other runs
// and their delay is over.
func (s *Server) fullSyncCron(now time.Time) {
	s.replSync.mu.Lock()
	n := len(s.replSync.waiting)
	s.replSync.mu.Unlock()
	if n == 0 || s.Store.SnapshotRunning() {
		return
	}
	diskless := s.disklessSync()
	if diskless && !s.syncDelayOver(now) {
		return
	}
	label := -1
	if diskless {
		label = s.snapshotVersion(time.Now().UnixMilli(), true)
	}
	s.Store.LockAll()
	defer s.Store.UnlockAll()
	if !s.Store.SnapshotRunning() && s.disklessSync() == diskless {
		s.startFullSync(label)
	}
}

// startFullSync starts the snapshot for every waiting replica; every
// shard is held. label is the streamed RDB's version.
func (s *Server) startFullSync(label int) {
	diskless := s.disklessSync()
	var file *saveFile
	if !diskless || s.SaveChildren {
		var err error
		if diskless {
			file, err = s.createRelay()
		} else {
			file, err = s.createBgRDBFile()
		}
		if err != nil {
			// As Redis when its fork fails: the waiting replicas are
			// dropped (they retry), rather than kept waiting on
			// keep-alives for a save that cannot start.
			s.Log.Warningf("Can't save in background: %v", err)
			s.Log.Warningf("BGSAVE for replication failed")
			s.replSync.mu.Lock()
			group := s.replSync.waiting
			s.replSync.waiting = nil
			s.replSync.mu.Unlock()
			for _, cl := range group {
				cl.Kill()
			}
			return
		}
	}
	b, err := s.beginBgSnapshot()
	if err != nil {
		if file != nil {
			_ = file.abort(err)
		}
		return
	}
	s.replSync.mu.Lock()
	group := s.replSync.waiting
	s.replSync.waiting = nil
	s.replSync.transfers = append(s.replSync.transfers, group...)
	s.replSync.mu.Unlock()
	// The instant: each replica gets the stream's offset and joins the
	// stream, held back behind the RDB.
	s.prop.mu.Lock()
	id := s.admin().replicationID()
	s.replSync.mu.Lock()
	for _, cl := range group {
		cl.diskTransfer = !diskless
	}
	s.replSync.mu.Unlock()
	for _, cl := range group {
		if cl.psync {
			cl.enqueueAsync([]byte("+FULLRESYNC " + id + " " + strconv.FormatInt(s.prop.offset, 10) + "\r\n"))
		}
		cl.holdStream(s.prop.offset)
		// wait_bgsave until the file is sent (disk-based) or the
		// transfer ends (diskless), as Redis's WAIT_BGSAVE_END: its child
		// writes a diskless stream while they wait.
		cl.replica.state.Store(replWaitBgsave)
		s.prop.addConsumerLocked(cl)
	}
	s.prop.ensureBacklog(s.Config.Int("repl-backlog-size"))
	s.prop.mu.Unlock()
	s.lastReplPing.Store(time.Now().UnixNano()) // the first PING a period from now
	s.rdb.bgsaveInProgress.Store(true)
	s.rdb.bgsaveStart.Store(time.Now().Unix())
	start, dirty := time.Now(), s.dirty.Load()
	if diskless {
		s.Log.Noticef("Starting BGSAVE for SYNC with target: replicas sockets")
	} else {
		s.Log.Noticef("Starting BGSAVE for SYNC with target: disk")
	}
	if file != nil {
		s.Log.Noticef("Background RDB transfer started by pid %d", file.pid())
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		var err error
		switch {
		case diskless && file != nil:
			err = s.relayRDB(b, group, label, file)
		case diskless:
			err = s.streamRDB(b, group, label, b.sn)
		default:
			err = s.writeBgRDBFile(file, b)
			if sig, killed := childExitSignal(err); killed {
				// Someone killed the child: a failed save, as BGSAVE's.
				s.rdb.saveFailed.Store(true)
				s.rdb.lastBgsaveOK.Store(false)
				s.Log.Warningf("Background saving terminated by signal %d", sig)
			}
			if err == nil {
				s.savedAt(dirty, start)
				s.rdb.lastBgsaveOK.Store(true)
				err = s.sendRDBFile(group)
			}
		}
		s.rdb.bgsaveInProgress.Store(false)
		s.replSync.mu.Lock()
		for _, cl := range group {
			for i, t := range s.replSync.transfers {
				if t == cl {
					s.replSync.transfers = append(s.replSync.transfers[:i], s.replSync.transfers[i+1:]...)
					break
				}
			}
		}
		s.replSync.mu.Unlock()
		for _, cl := range group {
			if err != nil {
				s.Log.Warningf("SYNC failed. BGSAVE child returned an error: %v", err)
				cl.Kill()
				continue
			}
			if cl.killed.Load() {
				continue // gone meanwhile: its end was logged
			}
			cl.startStreaming() // after its RDB
			// As Redis's replicaPutOnline: the ack clock starts now.
			cl.replica.ackTime.Store(time.Now().Unix())
			cl.replica.state.Store(replOnline)
			s.Log.Noticef("Synchronization with replica %s succeeded", cl.replicaName())
		}
	}()
}

// streamRDB writes the snapshot to the replicas' sockets between EOF
// marks (the diskless transfer), in process. When every replica is gone
// the snapshot sn (when set) is cancelled.
func (s *Server) streamRDB(b *bgSnapshot, group []*Client, label int, sn *keyspace.Snapshot) error {
	out := &replicaFanout{clients: group, snap: sn}
	if err := s.encodeTransfer(b, out, label); err != nil {
		return err
	}
	s.Log.Noticef("Streamed RDB transfer with replica(s) succeeded (socket)")
	return nil
}

// encodeTransfer writes the snapshot to out between EOF marks.
func (s *Server) encodeTransfer(b *bgSnapshot, out io.Writer, label int) error {
	var raw [20]byte
	_, _ = rand.Read(raw[:])
	mark := []byte(hex.EncodeToString(raw[:]))
	if _, err := out.Write(append([]byte("$EOF:"), append(mark, '\r', '\n')...)); err != nil {
		// Nobody to send it to: the walk only stamps the records.
		b.sn.Cancel()
		b.sn.Walk(snapshotBatch, nil)
		b.restoreGC()
		return err
	}
	if err := b.write(s, out, label); err != nil {
		return err
	}
	_, err := out.Write(mark)
	return err
}

// createRelay starts the child of a diskless transfer (Redis's
// redis-rdb-to-slaves): the snapshot is written to it, and what it
// passes back is written to the replicas (relayRDB).
func (s *Server) createRelay() (*saveFile, error) {
	began := time.Now()
	c, err := savechild.StartRelay(titleRelay)
	if err != nil {
		return nil, err
	}
	s.spawnUsec.Store(time.Since(began).Microseconds())
	return s.saveFiles.add(&saveFile{srv: s, title: titleRDB, child: c, gone: c.Exited(), w: c}), nil
}

// relayRDB is the diskless transfer through its child t: the snapshot is
// encoded into the child while a reader passes what comes back to the
// replicas, as Redis's rdbPipeReadHandler. When the last replica drops
// the child is killed and the snapshot stopped; when the child dies, the
// replicas are dropped (they reconnect) and the snapshot stopped.
func (s *Server) relayRDB(b *bgSnapshot, group []*Client, label int, t *saveFile) error {
	relayed := make(chan error, 1)
	go func() { relayed <- s.relayToReplicas(t, group, b) }()
	end := t.watch(func() {
		b.stop()
		for _, cl := range group {
			cl.Kill() // a reader stuck on a replica that does not read
		}
	})
	err := s.encodeTransfer(b, t.w, label)
	end()
	if err != nil {
		err = t.abort(err)
	} else {
		t.forget()
		if err = t.child.Commit(); err != nil {
			for _, cl := range group {
				cl.Kill()
			}
		}
	}
	rerr := <-relayed
	_ = t.child.Out.Close()
	switch {
	case err == nil && rerr == nil:
		s.Log.Noticef("Background RDB transfer terminated with success")
	case isAbortedChild(err) && rerr != nil:
		err = rerr // it was killed because the replicas were gone
	default:
		if sig, ok := childExitSignal(err); ok {
			s.Log.Warningf("Background transfer terminated by signal %d", sig)
		} else if err == nil {
			err = rerr
		} else if !isAbortedChild(err) {
			s.Log.Warningf("Background transfer error")
		}
	}
	return err
}

// relayToReplicas reads t's child's output to its end and writes it to
// the replicas of group.
func (s *Server) relayToReplicas(t *saveFile, group []*Client, b *bgSnapshot) error {
	out := &replicaFanout{clients: group}
	buf := make([]byte, 64<<10)
	for {
		n, err := t.child.Out.Read(buf)
		if n > 0 {
			if _, werr := out.Write(buf[:n]); werr != nil {
				s.Log.Warningf("Diskless rdb transfer, last replica dropped, killing fork child.")
				b.stop()
				t.child.Abort()
				return werr
			}
		}
		if err == io.EOF {
			up := 0
			for _, cl := range group {
				if !cl.killed.Load() {
					up++
				}
			}
			s.Log.Noticef("Diskless rdb transfer, done reading from pipe, %d replicas still up.", up)
			return nil
		}
		if err != nil {
			s.Log.Warningf("Diskless rdb transfer, read error sending DB to replicas: %v", err)
			for _, cl := range group {
				cl.Kill()
			}
			t.child.Abort()
			return err
		}
	}
}

// sendRDBFile sends dbfilename to the replicas as $<length> and the bytes
// (the disk-based transfer).
func (s *Server) sendRDBFile(group []*Client) error {
	s.replSync.mu.Lock()
	for _, cl := range group {
		cl.diskTransfer = false // no keep-alive inside the payload
		cl.replica.state.Store(replSendBulk)
	}
	s.replSync.mu.Unlock()
	f, err := os.Open(s.rdbPath())
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	out := &replicaFanout{clients: group}
	if _, err := out.Write([]byte("$" + strconv.FormatInt(st.Size(), 10) + "\r\n")); err != nil {
		return err
	}
	_, err = io.CopyBuffer(struct{ io.Writer }{out}, f, make([]byte, 1<<20))
	return err
}

// errReplicasGone fails a transfer whose every replica disconnected.
var errReplicasGone = errors.New("every replica of the transfer disconnected")

// replicaFanout writes an RDB transfer to each replica of a group, past
// their output limits (the RDB is not buffered output) but at the pace of
// the slowest: a replica whose queue is full is waited for.
type replicaFanout struct {
	clients []*Client
	snap    *keyspace.Snapshot
}

func (f *replicaFanout) Write(p []byte) (int, error) {
	live := 0
	for _, cl := range f.clients {
		if cl.enqueueBulk(p) {
			live++
		}
	}
	if live == 0 {
		if f.snap != nil {
			f.snap.Cancel()
		}
		return 0, errReplicasGone
	}
	return len(p), nil
}

// bulkQueueLimit is how many bytes of an RDB transfer may wait in a
// replica's output queue before the transfer waits for its socket.
const bulkQueueLimit = 4 << 20

// enqueueBulk queues part of an RDB transfer for the writer goroutine,
// ahead of the stream held back behind it, and waits while the queue is
// over bulkQueueLimit. It reports false once the client is gone.
func (c *Client) enqueueBulk(b []byte) bool {
	for {
		if c.killed.Load() {
			return false
		}
		c.asyncMu.Lock()
		if len(c.asyncOut) < bulkQueueLimit {
			c.asyncOut = append(c.asyncOut, b...)
			c.asyncBytes.Add(int64(len(b)))
			c.asyncMu.Unlock()
			if c.replica != nil {
				c.replica.stuckSince.Store(0)
			}
			select {
			case c.asyncSig <- struct{}{}:
			default:
			}
			return true
		}
		c.asyncMu.Unlock()
		if c.replica != nil {
			c.replica.stuckSince.CompareAndSwap(0, time.Now().Unix())
		}
		select {
		case <-c.done:
			return false
		case <-time.After(time.Millisecond):
		}
	}
}

// holdStream makes c a reader of the stream from offset on (the
// snapshot's instant), held back behind its RDB: the replication buffer
// keeps what c has not been sent (replbuf.go). The stream's lock is held.
func (c *Client) holdStream(offset int64) {
	c.replPos.Store(offset)
	c.asyncMu.Lock()
	c.replStreaming = false
	c.asyncMu.Unlock()
}

// startStreaming lets c's writer send the stream from c.replPos on, after
// what is queued for it.
func (c *Client) startStreaming() {
	c.asyncMu.Lock()
	c.replStreaming = true
	c.asyncMu.Unlock()
	select {
	case c.asyncSig <- struct{}{}:
	default:
	}
}

// abortFullSyncs drops the replicas waiting for a snapshot or receiving
// one, as Redis does when its RDB child is killed; they reconnect.
func (s *Server) abortFullSyncs() {
	s.replSync.mu.Lock()
	all := append(append([]*Client(nil), s.replSync.waiting...), s.replSync.transfers...)
	s.replSync.waiting = nil
	s.replSync.mu.Unlock()
	for _, cl := range all {
		cl.Kill()
	}
}
