package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/keyspace"
)

// The append-only file, in Redis 7's multi-part layout: appenddirname
// holds a base file (an RDB snapshot), an incremental file (the write
// stream since that snapshot, as RESP commands) and a manifest naming
// them. The AOF is a consumer of the write stream (propagate.go), so it
// records exactly what replicas are sent.
//
// Durability follows appendfsync. The stream's bytes are buffered as
// commands run and written to the file before any reply is written to a
// socket (the event loops call flushForReplies before writing a batch's
// replies, a connection with a goroutine of its own before each write):
// with "always" the file is fsynced there too, so a reply is never sent
// for a write that is not on disk (a group commit per batch); "everysec"
// fsyncs from the cron once a second, "no" leaves it to the kernel.
//
// A rewrite (BGREWRITEAOF, auto-aof-rewrite-percentage, turning appendonly
// on) runs in the background, as Redis 7's does. At the snapshot's instant
// (every shard and the stream's lock held, for microseconds) the stream
// switches to a new incremental file, which the manifest lists after the
// old files at once; a crash during the rewrite thus loads the old base,
// the old increments and the new one. When the background snapshot is
// written and fsynced as the new base, the manifest switches to it and
// the new incremental file, and the old files go. Nothing of the stream is
// lost or applied twice: the new base is the dataset at the instant the
// new incremental file began.
//
// WAITAOF asks how far the file is on disk, in offsets of the write stream
// (Redis's fsynced_reploff): the AOF counts the stream bytes it is fed
// (fedOff), those written to the file (writtenOff) and those an fsync has
// covered (fsyncedOff, -1 while appending is off). On a replica the same
// question is asked in the primary's offsets, for the FACK of REPLCONF
// ACK: before the buffer is written, the primary's applied offset is read
// (primaryApplied); every command it counts has already fed its effects
// here, so the fsync that covers the buffer covers that offset too
// (fsyncedPrimary).

type aofState struct {
	active      atomic.Bool // appending: replies wait for flushForReplies
	writeFailed atomic.Bool // the last write or fsync failed (MISCONF)
	errMu       sync.Mutex
	errText     string

	mu        sync.Mutex
	file      *os.File // the incremental file
	buf       []byte   // stream bytes not yet written
	unsynced  bool     // written since the last fsync
	seq       int      // the current base/incr sequence number
	size      int64    // bytes in the incremental file
	baseSize  int64
	rewrites  int64
	lastOK    bool
	syncing   atomic.Bool
	lastFsync time.Time

	// WAITAOF's offsets (see above); fedOff, writtenOff and
	// primaryWritten are guarded by mu.
	fedOff, writtenOff int64
	primaryWritten     int64 // the primary's offset writtenOff covers; -1: not a replica
	fsyncedOff         atomic.Int64
	fsyncedPrimary     atomic.Int64
	// waiters counts WAITAOFs blocked on the local fsync, so that an
	// fsync wakes them only when there are some.
	waiters atomic.Int32
	// stopping: appending is being turned off; its last fsync does not
	// count for WAITAOF, which gets Redis's error instead.
	stopping atomic.Bool
	// ackDue: on a replica, fsyncedPrimary moved since the last REPLCONF
	// ACK; the cron sends one at once rather than at the next second.
	ackDue atomic.Bool

	// rewrite is the background rewrite running, if any (guarded by mu);
	// rewriting mirrors it for INFO; scheduled: BGREWRITEAOF waits for
	// another snapshot to end; rewriteBaseSize is the AOF's size after
	// the last rewrite, which auto-aof-rewrite-percentage grows from.
	// timestamps: aof-timestamp-enabled, "#TS:<unix s>" before the
	// stream of each new second (lastTS, guarded by mu); flushSleep: the
	// µs DEBUG AOF-FLUSH-SLEEP waits before each write of the buffer.
	timestamps atomic.Bool
	lastTS     int64
	flushSleep atomic.Int64

	rewrite         *aofRewrite
	rewriting       atomic.Bool
	scheduled       atomic.Bool
	pendingStart    atomic.Bool // appendonly yes waits for the scheduled rewrite
	rewriteBaseSize int64
	lastRewriteSecs int64
}

// aofRewrite is a background rewrite: the snapshot that becomes the new
// base, and the files the manifest listed when it began, which the new
// base replaces.
type aofRewrite struct {
	snap     *bgSnapshot
	seq      int
	oldBase  string
	oldIncrs []string
	start    time.Time
	initial  bool // appendonly is being turned on: no manifest until the base is written
}

// feed is propConsumer: buffer the stream until the next flush. The
// replication PING and REPLCONF GETACK travel in the stream for replicas
// only: they count in its offset but, as in Redis, stay out of the file
// (a GETACK replayed from it would ask a primary that is not there).
func (a *aofState) feed(b []byte) {
	a.mu.Lock()
	a.fedOff += int64(len(b))
	if !bytes.Equal(b, replPingCommand) && !bytes.Equal(b, getackCommand) {
		if a.timestamps.Load() {
			if now := time.Now().Unix(); now > a.lastTS {
				a.lastTS = now
				a.buf = append(a.buf, "#TS:"...)
				a.buf = strconv.AppendInt(a.buf, now, 10)
				a.buf = append(a.buf, "\r\n"...)
			}
		}
		a.buf = append(a.buf, b...)
	}
	a.mu.Unlock()
}

func (s *Server) aofDir() string {
	return filepath.Join(s.Config.Dir(), s.Config.String("appenddirname"))
}

func (s *Server) aofName(seq int, base bool) string {
	name := s.Config.String("appendfilename")
	if base {
		return fmt.Sprintf("%s.%d.base.rdb", name, seq)
	}
	return fmt.Sprintf("%s.%d.incr.aof", name, seq)
}

func (s *Server) aofManifest() string {
	return filepath.Join(s.aofDir(), s.Config.String("appendfilename")+".manifest")
}

// flushForReplies writes what the stream buffered and, with appendfsync
// always, fsyncs it; called before replies go out.
func (s *Server) flushForReplies() {
	a := &s.aof
	if !a.active.Load() {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s.aofWriteLocked(s.Config.Int("appendfsync") == config.FsyncAlways)
}

// aofWriteLocked writes the buffer to the incremental file; a.mu is held.
func (s *Server) aofWriteLocked(fsync bool) {
	a := &s.aof
	if a.file == nil {
		return
	}
	// Read before the buffer is taken: see the top of the file.
	a.primaryWritten = s.primaryApplied()
	a.writtenOff = a.fedOff
	if len(a.buf) > 0 {
		if d := a.flushSleep.Load(); d > 0 {
			time.Sleep(time.Duration(d) * time.Microsecond) // DEBUG AOF-FLUSH-SLEEP
		}
		n, err := a.file.Write(a.buf)
		a.size += int64(n)
		a.setWriteError(err)
		if err != nil {
			s.Log.Warningf("Error writing to the AOF file: %v", err)
			a.lastOK = false
		}
		if cap(a.buf) > 1<<20 {
			a.buf = nil
		} else {
			a.buf = a.buf[:0]
		}
		a.unsynced = true
	}
	if fsync && a.unsynced {
		err := a.file.Sync()
		a.setWriteError(err)
		if err != nil {
			s.Log.Warningf("Error fsyncing the AOF file: %v", err)
			a.lastOK = false
		}
		a.unsynced = false
		a.lastFsync = time.Now()
		if err == nil && a.lastOK {
			s.noteFsynced(a.writtenOff, a.primaryWritten)
		}
	} else if fsync && a.lastOK {
		// Nothing new to sync: what was written is on disk already, and
		// so is the primary's offset read now, if nothing came since.
		s.noteFsynced(a.writtenOff, a.primaryWritten)
	}
}

// noteFsynced records that the file holds on disk the stream up to off
// (and on a replica the primary's up to poff, when poff >= 0), and wakes
// the WAITAOFs waiting for it.
func (s *Server) noteFsynced(off, poff int64) {
	a := &s.aof
	if !a.active.Load() || a.stopping.Load() {
		return // -1 until appending starts again
	}
	moved := storeMax(&a.fsyncedOff, off)
	if poff >= 0 && storeMax(&a.fsyncedPrimary, poff) {
		a.ackDue.Store(true)
	}
	if moved && a.waiters.Load() > 0 {
		s.signalAck()
	}
}

// storeMax raises v to n and reports whether it moved.
func storeMax(v *atomic.Int64, n int64) bool {
	for {
		old := v.Load()
		if n <= old {
			return false
		}
		if v.CompareAndSwap(old, n) {
			return true
		}
	}
}

// aofRewriteCron starts the rewrites that wait: one scheduled while
// another snapshot ran, or, as Redis's serverCron, one due because the
// file grew auto-aof-rewrite-percentage past its size after the last
// rewrite (and is at least auto-aof-rewrite-min-size).
func (s *Server) aofRewriteCron() {
	a := &s.aof
	if a.rewriting.Load() || s.Store.SnapshotRunning() {
		return
	}
	start := a.scheduled.Load()
	if !start && a.active.Load() {
		if perc := s.Config.Int("auto-aof-rewrite-percentage"); perc > 0 {
			a.mu.Lock()
			size, base := a.baseSize+a.size, max(a.rewriteBaseSize, 1)
			a.mu.Unlock()
			if size >= s.Config.Int("auto-aof-rewrite-min-size") && (size*100/base)-100 >= perc {
				s.Log.Noticef("Starting automatic rewriting of AOF on %d%% growth", (size*100/base)-100)
				start = true
			}
		}
	}
	if !start {
		return
	}
	s.Store.LockAll()
	defer s.Store.UnlockAll()
	if s.Store.SnapshotRunning() {
		return
	}
	initial := a.pendingStart.Load()
	if err := s.startAOFRewrite(initial); err != nil {
		s.Log.Warningf("Can't rewrite append only file in background: %v", err)
		return
	}
	a.scheduled.Store(false)
	a.pendingStart.Store(false)
}

// aofCron writes the buffer (expiries and evictions write without a
// reply following) and, with appendfsync everysec, fsyncs once a second
// in the background.
func (s *Server) aofCron(now time.Time) {
	a := &s.aof
	s.aofRewriteCron()
	if !a.active.Load() {
		return
	}
	a.mu.Lock()
	s.aofWriteLocked(s.Config.Int("appendfsync") == config.FsyncAlways)
	due := s.Config.Int("appendfsync") == config.FsyncEverySec && a.unsynced && now.Sub(a.lastFsync) >= time.Second
	f := a.file
	off, poff, ok := a.writtenOff, a.primaryWritten, a.lastOK
	if due {
		a.unsynced = false
		a.lastFsync = now
	}
	a.mu.Unlock()
	if due && f != nil && a.syncing.CompareAndSwap(false, true) {
		go func() {
			defer a.syncing.Store(false)
			if f.Sync() == nil && ok {
				a.mu.Lock()
				if a.file == f { // not closed or replaced meanwhile
					s.noteFsynced(off, poff)
				}
				a.mu.Unlock()
				s.ackPrimaryIfDue()
			}
		}()
	}
	s.ackPrimaryIfDue()
}

// startAOF turns appending on: a background rewrite makes the base from
// the dataset as it is now, and the stream goes to the new incremental
// file from this instant. The caller holds every shard. While another
// snapshot runs, the rewrite is scheduled (the cron starts it), as Redis
// schedules its AOF child.
func (s *Server) startAOF() error {
	if s.aof.active.Load() {
		return nil
	}
	err := s.startAOFRewrite(true)
	if errors.Is(err, keyspace.ErrSnapshotRunning) {
		s.Log.Noticef("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.")
		s.aof.scheduled.Store(true)
		s.aof.pendingStart.Store(true)
		return nil
	}
	if err != nil {
		return err
	}
	if p := s.primaryApplied(); p >= 0 {
		// A replica: the base holds all the primary's stream applied.
		s.noteFsynced(-1, p)
	}
	return nil
}

// createAOFAtStart makes the first base and incremental file in the
// foreground, as Redis does when it starts with appendonly yes and no AOF
// yet (a BGREWRITEAOF right after start is then not refused as already
// in progress), and starts appending. Every shard is held.
func (s *Server) createAOFAtStart() error {
	if err := s.rewriteAOFLocked(); err != nil {
		return err
	}
	a := &s.aof
	a.mu.Lock()
	s.Log.Noticef("Creating AOF base file %s on server start", s.aofName(a.seq, true))
	s.Log.Noticef("Creating AOF incr file %s on server start", s.aofName(a.seq, false))
	a.mu.Unlock()
	s.prop.mu.Lock()
	s.prop.addConsumerLocked(a)
	a.startOffsetsLocked(s.prop.offset)
	s.prop.mu.Unlock()
	a.active.Store(true)
	return nil
}

// startOffsetsLocked starts WAITAOF's offsets at the stream's offset when
// the file starts receiving it, all of the stream before being in its
// base or loaded from it; the stream's lock is held.
func (a *aofState) startOffsetsLocked(offset int64) {
	a.mu.Lock()
	a.fedOff, a.writtenOff = offset, offset
	a.mu.Unlock()
	a.fsyncedOff.Store(offset)
}

// stopAOF turns appending off, writing and fsyncing what is pending, and
// stops a background rewrite, as Redis kills its AOF child. Every shard is
// held.
func (s *Server) stopAOF() {
	s.aof.pendingStart.Store(false)
	s.aof.scheduled.Store(false)
	s.abortAOFRewriteLocked()
	if !s.aof.active.Load() {
		return
	}
	a := &s.aof
	a.stopping.Store(true)
	defer a.stopping.Store(false)
	s.prop.removeConsumer(a)
	a.mu.Lock()
	s.aofWriteLocked(true)
	if a.file != nil {
		_ = a.file.Close()
		a.file = nil
	}
	a.active.Store(false)
	a.fsyncedOff.Store(-1)
	a.mu.Unlock()
	s.signalAck() // a WAITAOF waiting for the local fsync fails now
}

// rewriteAOFLocked writes a new base and an empty incremental file in the
// foreground and switches the manifest to them; every shard is held (a
// replica that loaded its primary's dataset). A background rewrite running
// is stopped first. The stream's lock is taken so the switch falls between
// two units of the stream.
func (s *Server) rewriteAOFLocked() error {
	s.abortAOFRewriteLocked()
	dir := s.aofDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var snap bytes.Buffer
	if err := s.writeSnapshot(&snap); err != nil {
		return err
	}
	s.prop.mu.Lock()
	defer s.prop.mu.Unlock()
	a := &s.aof
	a.mu.Lock()
	defer a.mu.Unlock()
	s.aofWriteLocked(true) // the old incremental file is complete
	oldBase, oldIncrs, mseq, _ := s.aofFiles()
	seq := max(a.seq, mseq) + 1
	base, incr := s.aofName(seq, true), s.aofName(seq, false)
	if err := writeFileSync(filepath.Join(dir, base), snap.Bytes()); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, incr), os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if err := s.writeManifest(base, incr); err != nil {
		_ = f.Close()
		return err
	}
	if a.file != nil {
		_ = a.file.Close()
	}
	a.file, a.seq, a.size, a.baseSize, a.unsynced = f, seq, 0, int64(snap.Len()), false
	a.rewrites++
	a.lastOK = true
	a.rewriteBaseSize = a.baseSize
	if a.active.Load() {
		// The new base holds everything the stream carried so far.
		s.noteFsynced(a.fedOff, -1)
	}
	s.removeAOFFiles(oldBase, oldIncrs)
	// The incremental file starts with no database selected.
	s.prop.lastDB = -1
	return nil
}

// writeManifest makes the manifest name base (if any) and incrs, in
// order, atomically: a temporary file, fsynced and renamed, then the
// directory fsynced.
func (s *Server) writeManifest(base string, incrs ...string) error {
	seqOf := func(name string) string {
		f := strings.Split(strings.TrimPrefix(name, s.Config.String("appendfilename")+"."), ".")
		return f[0]
	}
	var b strings.Builder
	if base != "" {
		fmt.Fprintf(&b, "file %s seq %s type b\n", base, seqOf(base))
	}
	for _, name := range incrs {
		fmt.Fprintf(&b, "file %s seq %s type i\n", name, seqOf(name))
	}
	tmp := s.aofManifest() + ".tmp"
	if err := writeFileSync(tmp, []byte(b.String())); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.aofManifest()); err != nil {
		return err
	}
	syncDir(s.aofDir())
	return nil
}

// removeAOFFiles deletes files a new base made history.
func (s *Server) removeAOFFiles(base string, incrs []string) {
	dir := s.aofDir()
	if base != "" {
		_ = os.Remove(filepath.Join(dir, base))
	}
	for _, name := range incrs {
		_ = os.Remove(filepath.Join(dir, name))
	}
}

// errRewriteInProgress is Redis's refusal of a second BGREWRITEAOF.
const errRewriteInProgress = "ERR Background append only file rewriting already in progress"

// startAOFRewrite starts a background rewrite; every shard is held.
// initial says appendonly is being turned on: the AOF consumes the stream
// from the instant on, and the manifest is written only when the base is.
// It fails with keyspace.ErrSnapshotRunning while another snapshot runs.
func (s *Server) startAOFRewrite(initial bool) error {
	dir := s.aofDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := s.beginBgSnapshot()
	if err != nil {
		return err
	}
	s.prop.mu.Lock()
	defer s.prop.mu.Unlock()
	a := &s.aof
	a.mu.Lock()
	defer a.mu.Unlock()
	s.aofWriteLocked(true) // the old incremental file is complete
	rw := &aofRewrite{snap: b, start: time.Now(), initial: initial}
	var mseq int
	if !initial {
		rw.oldBase, rw.oldIncrs, mseq, _ = s.aofFiles()
	}
	rw.seq = max(a.seq, mseq) + 1
	incr := s.aofName(rw.seq, false)
	f, err := os.OpenFile(filepath.Join(dir, incr), os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o644)
	if err == nil && !initial {
		// A crash from now on loads the old files and the new increment.
		err = s.writeManifest(rw.oldBase, append(slices.Clone(rw.oldIncrs), incr)...)
	}
	if err != nil {
		if f != nil {
			_ = f.Close()
		}
		s.Store.AbortSnapshot()
		return err
	}
	if a.active.Load() || initial {
		if a.file != nil {
			_ = a.file.Close()
		}
		a.file, a.size, a.unsynced = f, 0, false
		s.prop.lastDB = -1 // the incremental file starts with no database selected
	} else {
		_ = f.Close() // appendonly is off: the files are made, nothing appends
	}
	a.seq = rw.seq
	if initial {
		s.prop.addConsumerLocked(a)
		a.fedOff, a.writtenOff = s.prop.offset, s.prop.offset
		a.fsyncedOff.Store(-1) // nothing is durable until the manifest exists
		a.lastOK = true
		a.active.Store(true)
	}
	a.rewrite = rw
	a.rewriting.Store(true)
	s.Log.Noticef("Background append only file rewriting started by pid %d", os.Getpid())
	s.wg.Add(1)
	go s.finishAOFRewrite(rw)
	return nil
}

// finishAOFRewrite writes a background rewrite's base and switches the
// manifest to it, as Redis's backgroundRewriteDoneHandler.
func (s *Server) finishAOFRewrite(rw *aofRewrite) {
	defer s.wg.Done()
	dir := s.aofDir()
	base := s.aofName(rw.seq, true)
	tmp := filepath.Join(dir, fmt.Sprintf("temp-rewriteaof-bg-%d.aof", os.Getpid()))
	var size int64
	err := func() error {
		f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		err = rw.snap.write(s, f, 0)
		if err == nil {
			err = f.Sync()
		}
		if st, serr := f.Stat(); serr == nil {
			size = st.Size()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp, filepath.Join(dir, base))
		}
		return err
	}()
	a := &s.aof
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rewrite != rw {
		_ = os.Remove(tmp)
		return // stopped meanwhile (appendonly no, a foreground rewrite)
	}
	a.rewrite = nil
	a.rewriting.Store(false)
	if err == nil {
		err = s.writeManifest(base, s.aofName(rw.seq, false))
	}
	if err != nil {
		_ = os.Remove(tmp)
		a.lastOK = false
		if errors.Is(err, errSnapshotAborted) {
			s.Log.Warningf("Background AOF rewrite terminated by signal 10")
		} else {
			s.Log.Warningf("Background AOF rewrite terminated with error: %v", err)
		}
		if rw.initial {
			a.scheduled.Store(true) // Redis retries turning appendonly on
		}
		return
	}
	s.Log.Noticef("Background AOF rewrite terminated with success")
	s.Log.Noticef("Successfully renamed the temporary AOF base file %s into %s", filepath.Base(tmp), base)
	s.removeAOFFiles(rw.oldBase, rw.oldIncrs)
	a.baseSize = size
	a.rewrites++
	a.lastOK = true
	a.rewriteBaseSize = a.baseSize + a.size
	a.lastRewriteSecs = int64(time.Since(rw.start).Seconds())
	if rw.initial && a.active.Load() {
		// The base and the manifest exist: what the increment holds is as
		// durable as its fsyncs say.
		s.aofWriteLocked(true)
		s.noteFsynced(a.writtenOff, -1)
	}
	s.Log.Noticef("Background AOF rewrite finished successfully")
}

// abortAOFRewriteLocked stops a background rewrite, as Redis kills its
// child: its snapshot is aborted and the files it began stay listed (the
// new increment holds the stream since). Every shard is held.
func (s *Server) abortAOFRewriteLocked() {
	a := &s.aof
	a.mu.Lock()
	rw := a.rewrite
	a.rewrite = nil
	a.rewriting.Store(false)
	a.mu.Unlock()
	if rw == nil {
		return
	}
	s.Log.Noticef("Killing running AOF rewrite child: %d", os.Getpid())
	if !rw.snap.sn.Aborted() {
		s.Store.AbortSnapshot()
		rw.snap.sink.abort()
	}
}

// writeFileSync writes data to path and fsyncs it.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// aofFiles reads the manifest: the base file and the incremental files,
// in order, and the sequence number in use.
func (s *Server) aofFiles() (base string, incrs []string, seq int, err error) {
	b, err := os.ReadFile(s.aofManifest())
	if err != nil {
		return "", nil, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(line, "#") {
			continue
		}
		kv := map[string]string{}
		for i := 0; i+1 < len(f); i += 2 {
			kv[f[i]] = f[i+1]
		}
		name, typ := kv["file"], kv["type"]
		if name == "" || typ == "" || strings.ContainsAny(name, "/\\") {
			return "", nil, 0, fmt.Errorf("invalid AOF manifest line: %q", line)
		}
		if n, err := strconv.Atoi(kv["seq"]); err == nil && n > seq {
			seq = n
		}
		switch typ {
		case "b":
			base = name
		case "i":
			incrs = append(incrs, name)
		}
	}
	return base, incrs, seq, nil
}

// loadAOF replaces the dataset with the AOF's: the base (an RDB snapshot,
// or commands when Redis wrote it with aof-use-rdb-preamble no), then the
// incremental files' commands, run by a client whose commands are applied
// as written and propagated nowhere. A command cut short at the end of the
// last file (a crash mid-write) is dropped, as aof-load-truncated does.
func (s *Server) loadAOF() error {
	base, incrs, seq, err := s.aofFiles()
	if err != nil {
		return err
	}
	dir := s.aofDir()
	s.Store.LockAll()
	var baseCmds io.Reader // a base of commands (aof-use-rdb-preamble no)
	if base != "" {
		f, err := os.Open(filepath.Join(dir, base))
		if err != nil {
			s.Store.UnlockAll()
			return err
		}
		defer f.Close()
		br := bufio.NewReaderSize(s.loadingCounted(f), 1<<20)
		// As Redis tells them: an RDB file starts with its signature;
		// anything else (an empty file included) is commands.
		if sig, _ := br.Peek(5); string(sig) == "REDIS" {
			_, err = s.loadSnapshotLocked(br, loadReplace)
		} else {
			s.Store.FlushAll()
			baseCmds = br
		}
		if err != nil {
			s.Store.UnlockAll()
			return fmt.Errorf("bad base file %s: %w", base, err)
		}
	} else {
		s.Store.FlushAll()
	}
	s.Store.UnlockAll()
	if baseCmds != nil {
		if err := s.replayAOFFrom(baseCmds, filepath.Join(dir, base), len(incrs) == 0); err != nil {
			return err
		}
	}
	for i, name := range incrs {
		if err := s.replayAOF(filepath.Join(dir, name), i == len(incrs)-1); err != nil {
			return err
		}
	}
	s.aof.mu.Lock()
	s.aof.seq = seq
	s.aof.mu.Unlock()
	return nil
}

// aofTotalSize is the bytes of the files the manifest lists.
func (s *Server) aofTotalSize() int64 {
	base, incrs, _, err := s.aofFiles()
	if err != nil {
		return 0
	}
	var n int64
	for _, name := range append(incrs, base) {
		if st, err := os.Stat(filepath.Join(s.aofDir(), name)); err == nil && name != "" {
			n += st.Size()
		}
	}
	return n
}

// replayAOF runs the commands of one file of the AOF; last says it is
// the last the manifest lists, the one a crash can have cut short.
func (s *Server) replayAOF(path string, last bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return s.replayAOFFrom(s.loadingCounted(f), path, last)
}

// replayAOFFrom runs the commands read from f, the file at path, as
// Redis's loadSingleAppendOnlyFile: the errors it returns are Redis's
// words (the server exits with them as its last log line). A command cut
// short at the end, or a MULTI without its EXEC, is dropped when the file
// is the last one and aof-load-truncated is on, and the file truncated
// after the last whole command (or before the MULTI), so that what is
// appended next follows a whole command.
func (s *Server) replayAOFFrom(f io.Reader, path string, last bool) error {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := s.newClient(a)
	c.unregister()
	c.isMaster.Store(true) // applied as written, no admission checks
	c.aofLoading = true
	c.authenticated = true
	c.parser.Unauthenticated = false
	c.replyMode = replyOff
	now := time.Now().UnixMilli()
	name := filepath.Base(path)
	var filled, valid, beforeMulti int64 // bytes read; whole commands; before the open MULTI
	for {
		args, err := c.parser.Next()
		if err != nil {
			return fmt.Errorf("Bad file format reading the append only file %s: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>", name)
		}
		if args != nil {
			if len(args[0]) > 0 && args[0][0] == '#' {
				valid = filled - int64(c.parser.Buffered())
				continue // an annotation line (aof-timestamp-enabled's "#TS:..."), skipped as Redis does
			}
			if s.Table.Lookup(args[0]) == nil {
				return fmt.Errorf("Unknown command '%s' reading the append only file %s", cString(args[0]), name)
			}
			if !c.inMulti {
				beforeMulti = valid
			}
			c.dispatch(args, now)
			c.w.Reset()
			valid = filled - int64(c.parser.Buffered())
			continue
		}
		n, rerr := c.parser.Fill(f)
		filled += int64(n)
		if n == 0 && rerr != nil {
			if !errors.Is(rerr, io.EOF) {
				return rerr
			}
			short := c.parser.Buffered() > 0
			if !short && !c.inMulti {
				return nil
			}
			if short {
				s.Log.Warningf("!!! Warning: short read while loading the AOF file %s!!!", name)
			}
			if c.inMulti {
				s.Log.Warningf("Revert incomplete MULTI/EXEC transaction in AOF file %s", name)
				c.discardTx()
				valid = beforeMulti
			}
			if !last || !s.Config.Bool("aof-load-truncated") {
				return fmt.Errorf("Unexpected end of file reading the append only file %s. You can: "+
					"1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. "+
					"2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.", name)
			}
			s.Log.Warningf("!!! Truncating the AOF %s at offset %d !!!", name, valid)
			if err := os.Truncate(path, valid); err != nil {
				return fmt.Errorf("Error truncating the AOF file %s: %v", name, err)
			}
			s.Log.Warningf("AOF %s loaded anyway because aof-load-truncated is enabled", name)
			return nil
		}
	}
}

// aofCommands are BGREWRITEAOF.
func (s *Server) aofCommands() []*command.Command {
	return []*command.Command{
		{Name: "bgrewriteaof", Arity: 1, Flags: command.Admin | command.NoScript | command.NoAsyncLoading | command.AllShards,
			ACL: command.CatAdmin | command.CatSlow | command.CatDangerous, Group: "server", Since: "1.0.0",
			Summary: "Asynchronously rewrites the append-only file to disk.", Handler: s.bgrewriteaofCommand},
	}
}

// bgrewriteaofCommand is BGREWRITEAOF: a background rewrite (every shard
// is held for its instant), with Redis's replies. Redis rewrites with
// appendonly off too: the files are made, and stay until appendonly is
// turned on (which rewrites again).
func (s *Server) bgrewriteaofCommand(c *command.Ctx) {
	if s.aof.rewriting.Load() {
		c.Error(errRewriteInProgress)
		return
	}
	if s.Store.SnapshotRunning() {
		s.aof.scheduled.Store(true)
		c.W.SimpleString("Background append only file rewriting scheduled")
		return
	}
	if err := s.startAOFRewrite(false); err != nil {
		s.aof.mu.Lock()
		s.aof.lastOK = false
		s.aof.mu.Unlock()
		c.Error("ERR Background append only file rewriting error: " + err.Error())
		return
	}
	c.W.SimpleString("Background append only file rewriting started")
}

// debugLoadAOF is DEBUG LOADAOF: write and fsync what is pending, then
// load the AOF in place of the dataset.
//
// As Redis, it loads the files with appendonly off too (a BGREWRITEAOF
// makes them then); with no manifest at all the dataset is left alone.
func (s *Server) debugLoadAOF(c *command.Ctx) {
	if s.aof.active.Load() {
		s.flushForReplies()
		s.aof.mu.Lock()
		s.aofWriteLocked(true)
		s.aof.mu.Unlock()
	} else if _, err := os.Stat(s.aofManifest()); err != nil {
		c.OK()
		return
	}
	if err := s.loadAOF(); err != nil {
		s.Log.Warningf("DEBUG LOADAOF: %v", err)
		c.Error("ERR Error loading the AOF file, check server logs.")
		return
	}
	s.Log.Noticef("Append Only File loaded by DEBUG LOADAOF")
	c.OK()
}

// initAOF opens the AOF at start when appendonly is on (loading it, or
// making it from the dataset loaded from dump.rdb), and follows CONFIG SET
// appendonly.
func (s *Server) initAOF() error {
	s.aof.fsyncedOff.Store(-1)
	s.aof.timestamps.Store(s.Config.Bool("aof-timestamp-enabled"))
	s.Config.OnChange("aof-timestamp-enabled", func(string) error {
		s.aof.timestamps.Store(s.Config.Bool("aof-timestamp-enabled"))
		return nil
	})
	s.aof.primaryWritten = -1
	s.Config.OnChange("appendonly", func(string) error {
		if !s.configSetHoldsShards() {
			s.Store.LockAll()
			defer s.Store.UnlockAll()
		}
		if s.Config.Bool("appendonly") {
			return s.startAOF()
		}
		s.stopAOF()
		return nil
	})
	if !s.Config.Bool("appendonly") {
		return s.loadAtStart()
	}
	if _, err := os.Stat(s.aofManifest()); err != nil {
		// No AOF yet: the dataset comes from dump.rdb, if any, and becomes
		// the first base.
		if err := s.loadAtStart(); err != nil {
			return err
		}
		s.Store.LockAll()
		defer s.Store.UnlockAll()
		return s.createAOFAtStart()
	}
	start := time.Now()
	s.beginLoading(s.aofTotalSize()) // Start ends it
	if err := s.loadAOF(); err != nil {
		return err
	}
	s.Log.Noticef("DB loaded from append only file: %.3f seconds", time.Since(start).Seconds())
	// Go on appending to the last incremental file.
	_, incrs, _, err := s.aofFiles()
	if err != nil || len(incrs) == 0 {
		s.Store.LockAll()
		defer s.Store.UnlockAll()
		return s.createAOFAtStart()
	}
	f, err := os.OpenFile(filepath.Join(s.aofDir(), incrs[len(incrs)-1]), os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	st, _ := f.Stat()
	a := &s.aof
	a.mu.Lock()
	a.file, a.lastOK = f, true
	if st != nil {
		a.size = st.Size()
	}
	a.mu.Unlock()
	s.prop.mu.Lock()
	s.prop.addConsumerLocked(a)
	a.startOffsetsLocked(s.prop.offset)
	s.prop.mu.Unlock()
	a.active.Store(true)
	return nil
}

// setWriteError records the outcome of the last write or fsync.
func (a *aofState) setWriteError(err error) {
	if err == nil {
		if a.writeFailed.Load() {
			a.writeFailed.Store(false)
		}
		return
	}
	a.errMu.Lock()
	a.errText = err.Error()
	a.errMu.Unlock()
	a.writeFailed.Store(true)
}

// lastError is the text of the last write error.
func (a *aofState) lastError() string {
	a.errMu.Lock()
	defer a.errMu.Unlock()
	return a.errText
}
