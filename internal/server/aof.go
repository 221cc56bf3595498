package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/rdb"
)

// The append-only file, in Redis 7's multi-part layout: appenddirname
// holds a base file (an RDB snapshot, <name>.<n>.base.rdb, or with
// aof-use-rdb-preamble no the commands that rebuild the dataset,
// <name>.<n>.base.aof), incremental files (the write stream since that
// base, as RESP commands, <name>.<n>.incr.aof) and a manifest naming them
// (aof_manifest.go has its format and Redis's rules for reading it). The
// AOF is a consumer of the write stream (propagate.go), so it records
// exactly what replicas are sent.
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
// the new incremental file, and the old files become history files,
// deleted at once unless aof-disable-auto-gc keeps them. Nothing of the
// stream is lost or applied twice: the new base is the dataset at the
// instant the new incremental file began. Base and incremental files are
// numbered apart, as Redis numbers them: a rewrite that fails leaves one
// incremental file more, and the next base number is still the next.
//
// Turning appendonly on is Redis's AOF_WAIT_REWRITE: until the first base
// is written the stream goes to a temporary incremental file
// (temp-<name>.incr) that no manifest lists, renamed into the manifest
// with the base; if the rewrite fails it is deleted and the rewrite
// retried (aofRewriteLimited spaces the retries after three failures).
//
// An AOF of Redis before 7 (one file, <name> in dir, commands with or
// without an RDB preamble) is moved into appenddirname at start and
// listed as the base, as Redis 7 upgrades it.
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
	// tempFiles numbers the temporary files of rewrites written in
	// process (aofTempRewriteName).
	tempFiles atomic.Int64

	active      atomic.Bool // appending: replies wait for flushForReplies
	writeFailed atomic.Bool // the last write or fsync failed (MISCONF)
	errMu       sync.Mutex
	errText     string

	mu       sync.Mutex
	file     *os.File // the incremental file appended to
	buf      []byte   // stream bytes not yet written
	unsynced bool     // written since the last fsync
	size     int64    // bytes in the incremental file
	baseSize int64
	rewrites int64
	lastOK   bool
	// rewriteFailed: the last background rewrite failed (INFO's
	// aof_last_bgrewrite_status, apart from aof_last_write_status).
	rewriteFailed bool
	syncing       atomic.Bool
	lastFsync     time.Time

	// man is the manifest as last persisted (Redis's aof_manifest), from
	// which new files are named; never nil once initAOF ran. waitRewrite:
	// appending goes to the temporary incremental file until the first
	// base is written (Redis's AOF_WAIT_REWRITE).
	man         *aofManifest
	waitRewrite bool
	// failures counts the background rewrites failed in a row (INFO's
	// aof_rewrites_consecutive_failures); limitDelay (minutes) and
	// limitUntil (Unix s) are aofRewriteLimited's back-off.
	failures   int64
	limitDelay int64
	limitUntil int64

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
	rewriteIDs      int64 // the last aofRewrite.id given (guarded by mu)
	rewriting       atomic.Bool
	scheduled       atomic.Bool
	pendingStart    atomic.Bool // appendonly yes waits for its first rewrite to start
	rewriteBaseSize int64
	lastRewriteSecs int64
}

// aofRewrite is a background rewrite: the snapshot that becomes the new
// base, and how it is written.
type aofRewrite struct {
	id    int64 // names its temporary file
	snap  *bgSnapshot
	file  *saveFile // the new base, until it is put in place
	start time.Time
	// wait: it began while appendonly waited for its first base, so the
	// stream goes to the temporary incremental file meanwhile.
	wait bool
	// rdbFormat is aof-use-rdb-preamble when it began (an RDB base, else
	// commands), timestamps aof-timestamp-enabled (a "#TS:" head line in a
	// command base).
	rdbFormat, timestamps bool
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

// aofDir is appenddirname's path.
func (s *Server) aofDir() string {
	return filepath.Join(s.Config.Dir(), s.Config.String("appenddirname"))
}

// aofFilename is appendfilename, which every AOF file's name starts with.
func (s *Server) aofFilename() string { return s.Config.String("appendfilename") }

// aofPath is the path of the AOF file name in appenddirname.
func (s *Server) aofPath(name string) string { return filepath.Join(s.aofDir(), name) }

// aofManifest is the manifest's path.
func (s *Server) aofManifest() string {
	return s.aofPath(s.aofFilename() + ".manifest")
}

// aofTempIncrName is the temporary incremental file appending goes to
// until the first base is written (Redis's getTempIncrAofName).
func (s *Server) aofTempIncrName() string { return "temp-" + s.aofFilename() + ".incr" }

// aofTempRewriteName is the file a background rewrite writes its base to
// before it is renamed into place, named as Redis's child names it but
// for the rewrite's number n: Redis's child has a pid of its own, and a
// rewrite stopped here may still be writing its file when the next one
// starts (appendonly yes during a BGREWRITEAOF stops one and starts
// another).
func aofTempRewriteName(n int64) string {
	return fmt.Sprintf("temp-rewriteaof-bg-%d-%d.aof", os.Getpid(), n)
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
// the WAITAOFs waiting for it. While appendonly waits for its first base
// the stream's offset does not move: the temporary incremental file is in
// no manifest, and a crash would lose it (Redis's fsynced_reploff is 0
// until that rewrite is done). Callers passing off >= 0 hold a.mu.
func (s *Server) noteFsynced(off, poff int64) {
	a := &s.aof
	if !a.active.Load() || a.stopping.Load() {
		return // -1 until appending starts again
	}
	moved := off >= 0 && !a.waitRewrite && storeMax(&a.fsyncedOff, off)
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

// aofRewriteLimitThreshold and aofRewriteLimitMaxMinutes are Redis's
// AOF_REWRITE_LIMITE_THRESHOLD and AOF_REWRITE_LIMITE_MAX_MINUTES.
const (
	aofRewriteLimitThreshold  = 3
	aofRewriteLimitMaxMinutes = 60
)

// aofRewriteLimitedLocked is Redis's aofRewriteLimited: after three
// failed rewrites in a row, the ones the cron would start wait 1 minute,
// then 2, 4... up to an hour, so that a rewrite failing over and over
// does not leave an incremental file per attempt. BGREWRITEAOF is not
// held back. a.mu is held.
func (s *Server) aofRewriteLimitedLocked() bool {
	a := &s.aof
	if a.failures < aofRewriteLimitThreshold {
		a.limitDelay, a.limitUntil = 0, 0
		return false
	}
	now := time.Now().Unix()
	if a.limitUntil != 0 {
		if now < a.limitUntil {
			return true
		}
		a.limitUntil = 0
		return false
	}
	if a.limitDelay == 0 {
		a.limitDelay = 1
	} else {
		a.limitDelay = min(a.limitDelay*2, aofRewriteLimitMaxMinutes)
	}
	a.limitUntil = now + a.limitDelay*60
	s.Log.Warningf("Background AOF rewrite has repeatedly failed and triggered the limit, will retry in %d minutes", a.limitDelay)
	return true
}

// aofRewriteCron starts the rewrites that wait: one scheduled while
// another snapshot ran (or to retry the first base of an AOF being turned
// on), or, as Redis's serverCron, one due because the file grew
// auto-aof-rewrite-percentage past its size after the last rewrite (and
// is at least auto-aof-rewrite-min-size).
func (s *Server) aofRewriteCron() {
	a := &s.aof
	if a.rewriting.Load() || s.Store.SnapshotRunning() {
		return
	}
	start := false
	if a.scheduled.Load() {
		a.mu.Lock()
		start = !s.aofRewriteLimitedLocked()
		a.mu.Unlock()
	}
	if !start && a.active.Load() {
		if perc := s.Config.Int("auto-aof-rewrite-percentage"); perc > 0 {
			a.mu.Lock()
			size, base := a.baseSize+a.size, max(a.rewriteBaseSize, 1)
			if growth := (size * 100 / base) - 100; !a.waitRewrite && size >= s.Config.Int("auto-aof-rewrite-min-size") &&
				growth >= perc && !s.aofRewriteLimitedLocked() {
				s.Log.Noticef("Starting automatic rewriting of AOF on %d%% growth", growth)
				start = true
			}
			a.mu.Unlock()
		}
	}
	if !start {
		return
	}
	s.Store.LockAll()
	defer s.Store.UnlockAll()
	if s.Store.SnapshotRunning() || a.rewriting.Load() {
		return
	}
	if err := s.startAOFRewrite(); err != nil {
		s.Log.Warningf("Can't rewrite append only file in background: %v", err)
	}
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

// startAOF turns appending on (Redis's startAppendOnly): a background
// rewrite makes the base from the dataset as it is now, and the stream
// goes to the temporary incremental file from this instant. The caller
// holds every shard. While another snapshot runs, the rewrite is
// scheduled (the cron starts it), as Redis schedules its AOF child; a
// rewrite already running (BGREWRITEAOF with appendonly off) is stopped
// and a new one started, since it did not collect the stream.
func (s *Server) startAOF() error {
	a := &s.aof
	if a.active.Load() {
		return nil
	}
	a.pendingStart.Store(true)
	if a.rewriting.Load() {
		s.Log.Noticef("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.")
		s.abortAOFRewriteLocked()
	}
	err := s.startAOFRewrite()
	if errors.Is(err, keyspace.ErrSnapshotRunning) {
		s.Log.Noticef("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.")
		a.scheduled.Store(true)
		return nil
	}
	if err != nil {
		a.pendingStart.Store(false)
		s.Log.Warningf("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.")
		return err
	}
	if p := s.primaryApplied(); p >= 0 {
		// A replica: the base holds all the primary's stream applied.
		s.noteFsynced(-1, p)
	}
	return nil
}

// writeBaseLocked writes the dataset as a base file at path in the
// foreground, every shard held (as Redis's rewriteAppendOnlyFile blocks):
// an RDB file, or its commands with aof-use-rdb-preamble no. It goes
// through a temporary file renamed into place, so that a crash never
// leaves half a base under a base's name. It returns the file's size.
func (s *Server) writeBaseLocked(path string) (int64, error) {
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf("temp-rewriteaof-%d.aof", os.Getpid()))
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		s.Log.Warningf("Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): %s", strerror(err))
		return 0, err
	}
	if s.Config.Bool("aof-use-rdb-preamble") {
		// To the file itself, whose version label is corrected in place.
		err = s.writeSnapshot(f)
	} else {
		bw := bufio.NewWriterSize(f, 1<<20)
		if err = s.writeCommandBase(bw, s.aof.timestamps.Load()); err == nil {
			err = bw.Flush()
		}
	}
	if err == nil {
		err = f.Sync()
	}
	var size int64
	if st, serr := f.Stat(); serr == nil {
		size = st.Size()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.Log.Warningf("Write error writing append only file on disk: %s", strerror(err))
		_ = os.Remove(tmp)
		return 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		s.Log.Warningf("Error moving temp append only file on the final destination: %s", strerror(err))
		_ = os.Remove(tmp)
		return 0, err
	}
	return size, nil
}

// openAOFAtStart starts appending at start once the AOF is loaded, as
// Redis's aofOpenIfNeededOnServerStart: with no file listed, a base is
// made from the dataset in the foreground (a BGREWRITEAOF right after
// start is then not refused as already in progress); the last
// incremental file is opened for appending, or a new one made; the
// manifest is persisted if that changed it, and history files go. Every
// shard is held.
func (s *Server) openAOFAtStart() error {
	dir := s.aofDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("Can't open or create append-only dir %s: %s", dir, strerror(err))
	}
	a := &s.aof
	a.mu.Lock()
	m := a.man.clone()
	a.mu.Unlock()
	dirty := false
	hadIncr := len(m.incrs) > 0
	var baseSize int64
	if m.empty() {
		base := m.newBase(s.aofFilename(), s.Config.Bool("aof-use-rdb-preamble"))
		size, err := s.writeBaseLocked(s.aofPath(base))
		if err != nil {
			return err
		}
		baseSize, dirty = size, true
		s.Log.Noticef("Creating AOF base file %s on server start", base)
	} else if m.base != nil {
		if st, err := os.Stat(s.aofPath(m.base.name)); err == nil {
			baseSize = st.Size()
		}
	}
	name := m.lastIncr()
	if name == "" {
		name, dirty = m.newIncr(s.aofFilename()), true
	}
	f, err := os.OpenFile(s.aofPath(name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("Can't open the append-only file %s: %s", name, strerror(err))
	}
	if dirty {
		if err := s.persistManifest(m); err != nil {
			_ = f.Close()
			return err
		}
	}
	st, _ := f.Stat()
	a.mu.Lock()
	a.man = m
	a.file, a.lastOK = f, true
	a.size = 0
	if st != nil {
		a.size = st.Size()
	}
	a.baseSize, a.rewriteBaseSize = baseSize, baseSize
	if hadIncr {
		s.Log.Noticef("Opening AOF incr file %s on server start", name)
	} else {
		s.Log.Noticef("Creating AOF incr file %s on server start", name)
	}
	_ = s.deleteAOFHistoryLocked()
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

// realignOffsetsLocked moves WAITAOF's offsets into the stream's when a
// replica is promoted: a replica's file is fed its own encoding of what
// it applies, whose byte count is not the primary's stream it proxied, so
// after promotion the offsets its clients' writes get (the stream's)
// would never be reached. Everything keeps its distance from the end, so
// what was not fsynced still is not. The stream's lock is held.
func (a *aofState) realignOffsetsLocked(offset int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	d := offset - a.fedOff
	a.fedOff += d
	a.writtenOff += d
	if a.primaryWritten >= 0 {
		a.primaryWritten = -1 // no primary any more
	}
	if fs := a.fsyncedOff.Load(); fs >= 0 {
		a.fsyncedOff.Store(fs + d)
	}
}

// stopAOF turns appending off, writing and fsyncing what is pending, and
// stops a background rewrite, as Redis kills its AOF child. Every shard is
// held. The files stay, as in Redis (DEBUG LOADAOF still loads them); the
// temporary incremental file of an AOF that never got its base goes.
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
	if a.waitRewrite {
		a.waitRewrite = false
		bgUnlink(s.aofPath(s.aofTempIncrName()))
	}
	a.size = 0
	a.active.Store(false)
	a.fsyncedOff.Store(-1)
	a.mu.Unlock()
	s.signalAck() // a WAITAOF waiting for the local fsync fails now
}

// rewriteAOFLocked writes a new base and an empty incremental file in the
// foreground and switches the manifest to them, the old files becoming
// history; every shard is held (a replica that loaded its primary's
// dataset, where Redis turns appending off and on again: the same files
// in the end, with no window in which the AOF lacks the new dataset). A
// background rewrite running is stopped first. The stream's lock is taken
// so the switch falls between two units of the stream.
func (s *Server) rewriteAOFLocked() error {
	s.abortAOFRewriteLocked()
	dir := s.aofDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	a := &s.aof
	a.mu.Lock()
	m := a.man.clone()
	a.mu.Unlock()
	base := m.newBase(s.aofFilename(), s.Config.Bool("aof-use-rdb-preamble"))
	size, err := s.writeBaseLocked(s.aofPath(base))
	if err != nil {
		return err
	}
	s.prop.mu.Lock()
	defer s.prop.mu.Unlock()
	a.mu.Lock()
	defer a.mu.Unlock()
	s.aofWriteLocked(true) // the old incremental file is complete
	m.markIncrsHistory(false)
	incr := m.newIncr(s.aofFilename())
	f, err := os.OpenFile(s.aofPath(incr), os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o644)
	if err == nil {
		if err = s.persistManifest(m); err != nil {
			_ = f.Close()
		}
	}
	if err != nil {
		_ = os.Remove(s.aofPath(base))
		return err
	}
	if a.file != nil {
		_ = a.file.Close()
	}
	if a.waitRewrite {
		a.waitRewrite = false
		bgUnlink(s.aofPath(s.aofTempIncrName()))
	}
	a.man = m
	a.file, a.size, a.baseSize, a.unsynced = f, 0, size, false
	a.rewrites++
	a.lastOK, a.rewriteFailed = true, false
	a.failures = 0
	a.rewriteBaseSize = a.baseSize
	if a.active.Load() {
		// The new base holds everything the stream carried so far.
		s.noteFsynced(a.fedOff, -1)
	}
	_ = s.deleteAOFHistoryLocked()
	// The incremental file starts with no database selected.
	s.prop.lastDB = -1
	return nil
}

// errRewriteInProgress is Redis's refusal of a second BGREWRITEAOF.
const errRewriteInProgress = "ERR Background append only file rewriting already in progress"

// startAOFRewrite starts a background rewrite (Redis's
// rewriteAppendOnlyFileBackground and openNewIncrAofForAppend); every
// shard is held. While appending, a new incremental file takes the
// stream from the snapshot's instant and is listed in the manifest at
// once; while appendonly waits for its first base (turning on, or a
// retry after that rewrite failed) the temporary incremental file does,
// unlisted; with appendonly off nothing changes until the base is
// written. It fails with keyspace.ErrSnapshotRunning while another
// snapshot runs.
func (s *Server) startAOFRewrite() error {
	dir := s.aofDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.Log.Warningf("Can't open or create append-only dir %s: %s", dir, strerror(err))
		return err
	}
	file, err := s.createSaveFile(titleAOF, dir, "temp-rewriteaof-bg-%d.aof", aofTempRewriteName(s.aof.tempFiles.Add(1)))
	if err != nil {
		s.Log.Warningf("Can't rewrite append only file in background: %v", err)
		return err
	}
	b, err := s.beginBgSnapshot()
	if err != nil {
		_ = file.abort(err)
		return err
	}
	b.lastCOW = &s.lastAOFCOW
	s.prop.mu.Lock()
	defer s.prop.mu.Unlock()
	a := &s.aof
	a.mu.Lock()
	defer a.mu.Unlock()
	s.aofWriteLocked(true) // the old incremental file is complete
	wait := a.waitRewrite || a.pendingStart.Load()
	a.rewriteIDs++
	rw := &aofRewrite{id: a.rewriteIDs, snap: b, file: file, start: time.Now(), wait: wait,
		rdbFormat: s.Config.Bool("aof-use-rdb-preamble"), timestamps: a.timestamps.Load()}
	var m *aofManifest
	var name string
	var f *os.File
	switch {
	case wait:
		name = s.aofTempIncrName()
	case a.active.Load():
		m = a.man.clone()
		name = m.newIncr(s.aofFilename())
	}
	if name != "" {
		f, err = os.OpenFile(s.aofPath(name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o644)
		if err != nil {
			s.Log.Warningf("Can't open the append-only file %s: %s", name, strerror(err))
		} else if m != nil {
			// A crash from now on loads the old files and the new increment.
			if err = s.persistManifest(m); err != nil {
				_ = f.Close()
			}
		}
		if err != nil {
			s.Store.AbortSnapshot()
			s.runningSnap.CompareAndSwap(b, nil)
			b.restoreGC()
			_ = file.abort(err)
			return err
		}
		s.Log.Noticef("Creating AOF incr file %s on background rewrite", name)
		if a.file != nil {
			_ = a.file.Close()
		}
		a.file, a.size, a.unsynced = f, 0, false
		s.prop.lastDB = -1 // the incremental file starts with no database selected
	}
	if m != nil {
		a.man = m
	}
	if wait && !a.active.Load() {
		s.prop.addConsumerLocked(a)
		a.fedOff, a.writtenOff = s.prop.offset, s.prop.offset
		a.fsyncedOff.Store(-1) // nothing is durable until the manifest lists the file
		a.lastOK = true
		a.active.Store(true)
	}
	a.waitRewrite = wait
	a.pendingStart.Store(false)
	a.rewrite = rw
	// In progress before no longer scheduled: INFO, which reads them the
	// other way round, never sees a rewrite that is neither.
	a.rewriting.Store(true)
	a.scheduled.Store(false)
	s.Log.Noticef("Background append only file rewriting started by pid %d", file.pid())
	s.wg.Add(1)
	go s.finishAOFRewrite(rw)
	return nil
}

// writeRewriteBase writes a background rewrite's base to f: the
// snapshot as RDB, or as commands, converted from the RDB stream as the
// walker produces it (rdbToCommands), so that a command base is made in
// the background too, with nothing held. A writer that fails stops the
// other: a failed conversion closes the pipe, which fails the snapshot's
// writer, which stops its walker. f is the file itself (or its save
// child), not a buffer over it: an RDB file's version label is corrected
// at the end, in place.
func (s *Server) writeRewriteBase(rw *aofRewrite, f io.Writer) error {
	if rw.rdbFormat {
		return rw.snap.write(s, f, 0)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		// A pipe cannot be relabelled: the newest version the reader
		// takes is as good as any.
		err := rw.snap.write(s, pw, rdb.MaxVersion)
		_ = pw.CloseWithError(err)
		done <- err
	}()
	var ts int64
	if rw.timestamps {
		ts = rw.start.Unix()
	}
	cerr := rdbToCommands(pr, f, ts)
	if cerr != nil {
		_ = pr.CloseWithError(cerr)
	} else {
		_, _ = io.Copy(io.Discard, pr) // nothing should follow the RDB; let the writer end
	}
	if werr := <-done; werr != nil {
		return werr
	}
	return cerr
}

// finishAOFRewrite writes a background rewrite's base and switches the
// manifest to it, as Redis's backgroundRewriteDoneHandler: the new base
// takes the next base number and the previous base becomes history; the
// temporary incremental file of an AOF being turned on is renamed to the
// next incremental number; the incremental files the base covers (all
// but the one appended to, or all with appendonly off) become history;
// the manifest is persisted and the history files go.
func (s *Server) finishAOFRewrite(rw *aofRewrite) {
	defer s.wg.Done()
	tmp := rw.file.path
	tmpName := filepath.Base(tmp)
	var size int64
	err := func() error {
		end := rw.file.watch(rw.snap.stop)
		err := s.writeRewriteBase(rw, rw.file.w)
		end()
		if err != nil {
			return rw.file.abort(err)
		}
		size, err = rw.file.commit()
		rw.file.forget() // put in place under the rewrite's own lock (a.rewrite)
		return err
	}()
	a := &s.aof
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rewrite != rw {
		_ = os.Remove(tmp)
		return // stopped meanwhile (appendonly no, a foreground rewrite)
	}
	defer func() {
		// Only now, with the manifest persisted: INFO's
		// aof_rewrite_in_progress 0 means the files are in place.
		a.rewrite = nil
		a.rewriting.Store(false)
	}()
	a.lastRewriteSecs = int64(time.Since(rw.start).Seconds())
	if err != nil {
		_ = os.Remove(tmp)
		sig, killed := childExitSignal(err)
		switch {
		case errors.Is(err, errSnapshotAborted) || isAbortedChild(err):
			// Redis's SIGUSR1, which stops a rewrite without counting as
			// a failure.
			s.Log.Warningf("Background AOF rewrite terminated by signal 10")
		case killed:
			s.Log.Warningf("Background AOF rewrite terminated by signal %d", sig)
			a.rewriteFailed = true // its writes to the AOF went on
			a.failures++
		default:
			s.Log.Warningf("Write error writing append only file on disk: %v", err)
			s.Log.Warningf("Background AOF rewrite terminated with error")
			a.lastOK, a.rewriteFailed = false, true
			a.failures++
		}
		s.aofRewriteFailedLocked()
		return
	}
	s.Log.Noticef("Background AOF rewrite terminated with success")
	if !s.installRewriteLocked(rw, tmpName, size) {
		_ = os.Remove(tmp)
		a.lastOK, a.rewriteFailed = false, true
		a.failures++
		s.aofRewriteFailedLocked()
		return
	}
	s.Log.Noticef("Background AOF rewrite finished successfully")
}

// installRewriteLocked puts a written base in place (see
// finishAOFRewrite) and reports whether it could, having logged why not
// in Redis's words; a.mu is held.
func (s *Server) installRewriteLocked(rw *aofRewrite, tmpName string, size int64) bool {
	a := &s.aof
	m := a.man.clone()
	base := m.newBase(s.aofFilename(), rw.rdbFormat)
	if err := os.Rename(s.aofPath(tmpName), s.aofPath(base)); err != nil {
		s.Log.Warningf("Error trying to rename the temporary AOF base file %s into %s: %s", tmpName, base, strerror(err))
		return false
	}
	s.Log.Noticef("Successfully renamed the temporary AOF base file %s into %s", tmpName, base)
	var incr string
	if a.waitRewrite {
		tempIncr := s.aofTempIncrName()
		incr = m.newIncr(s.aofFilename())
		if err := os.Rename(s.aofPath(tempIncr), s.aofPath(incr)); err != nil {
			s.Log.Warningf("Error trying to rename the temporary AOF incr file %s into %s: %s", tempIncr, incr, strerror(err))
			bgUnlink(s.aofPath(base))
			return false
		}
		s.Log.Noticef("Successfully renamed the temporary AOF incr file %s into %s", tempIncr, incr)
	}
	m.markIncrsHistory(a.active.Load())
	if err := s.persistManifest(m); err != nil {
		bgUnlink(s.aofPath(base))
		if incr != "" {
			// Back to the temporary name, which the retry truncates.
			_ = os.Rename(s.aofPath(incr), s.aofPath(s.aofTempIncrName()))
		}
		return false
	}
	a.man = m
	a.baseSize = size
	a.rewrites++
	a.lastOK, a.rewriteFailed = true, false
	a.failures = 0
	a.rewriteBaseSize = a.baseSize + a.size
	_ = s.deleteAOFHistoryLocked()
	if a.waitRewrite {
		a.waitRewrite = false
		if a.active.Load() {
			// The base and the manifest exist: what the increment holds
			// is as durable as its fsyncs say.
			s.aofWriteLocked(true)
			s.noteFsynced(a.writtenOff, -1)
		}
	}
	return true
}

// aofRewriteFailedLocked is what follows a failed rewrite of an AOF
// waiting for its first base, as in Redis: the temporary incremental file
// goes (the next rewrite's snapshot holds what it had) and a new rewrite
// is scheduled. a.mu is held.
func (s *Server) aofRewriteFailedLocked() {
	a := &s.aof
	if !a.waitRewrite {
		return
	}
	name := s.aofTempIncrName()
	s.Log.Noticef("Removing the temp incr aof file %s in the background", name)
	bgUnlink(s.aofPath(name))
	a.scheduled.Store(true)
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
	s.Log.Noticef("Killing running AOF rewrite child: %d", rw.file.pid())
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

// syncDir fsyncs a directory, so that the names made or moved in it
// (a renamed manifest or base) survive a crash.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// aofLoadResult is what loading the AOF found, as Redis's AOF_NOT_EXIST,
// AOF_EMPTY and AOF_OK.
type aofLoadResult int

const (
	aofLoaded aofLoadResult = iota
	aofNotExist
	aofEmpty
)

// loadAOFFiles replaces the dataset with the files m lists, as Redis's
// loadAppendOnlyFiles (past its upgrade step): every file's size is taken
// first, a missing one failing the whole load in Redis's words; then the
// base and the incremental files are loaded in order, each as
// loadAOFFile, the last one being the one a crash can have cut short.
// atStart: the load is the server's at start, which Start ends.
func (s *Server) loadAOFFiles(m *aofManifest, atStart bool) (aofLoadResult, error) {
	if m.empty() {
		return aofNotExist, nil
	}
	files := m.loadable()
	var total, baseSize int64
	for i, ai := range files {
		st, err := os.Stat(s.aofPath(ai.name))
		if err != nil {
			return 0, fmt.Errorf("Unable to obtain the AOF file %s length. stat: %s", ai.name, strerror(err))
		}
		total += st.Size()
		if i == 0 && m.base != nil {
			baseSize = st.Size()
		}
	}
	s.Store.LockAll()
	s.Store.FlushAll()
	s.Store.UnlockAll()
	if total == 0 {
		return aofEmpty, nil
	}
	// Clients are answered -LOADING meanwhile, DEBUG LOADAOF's too.
	s.beginLoading(total)
	if !atStart {
		defer s.endLoading() // at start, Start ends it
	}
	for i, ai := range files {
		isBase := i == 0 && m.base != nil
		start := time.Now()
		loaded, err := s.loadAOFFile(ai.name, i == 0, i == len(files)-1)
		if err != nil {
			return 0, err
		}
		if loaded {
			kind := "incr"
			if isBase {
				kind = "base"
			}
			s.Log.Noticef("DB loaded from %s file %s: %.3f seconds", kind, ai.name, time.Since(start).Seconds())
		}
	}
	a := &s.aof
	a.mu.Lock()
	a.baseSize, a.rewriteBaseSize = baseSize, baseSize
	a.mu.Unlock()
	return aofLoaded, nil
}

// loadAOFFile loads one file of the AOF, as Redis's
// loadSingleAppendOnlyFile: an empty file is skipped; one that starts
// with an RDB signature is loaded as an RDB file (a base, or the
// preamble of an AOF of Redis before 7, whose commands follow), and the
// commands after it are replayed; a file of commands is replayed from the
// start. first: the dataset is empty (nothing to collide with); last: it
// is the last file listed. loaded is false for an empty or missing file.
func (s *Server) loadAOFFile(name string, first, last bool) (loaded bool, err error) {
	path := s.aofPath(name)
	f, err := os.Open(path)
	if err != nil {
		if _, serr := os.Stat(path); serr == nil || !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("Fatal error: can't open the append log file %s for reading: %s", name, strerror(err))
		}
		s.Log.Warningf("The append log file %s doesn't exist: %s", name, strerror(err))
		return false, nil
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		return false, nil
	}
	br := bufio.NewReaderSize(s.loadingCounted(f), 1<<20)
	if sig, _ := br.Peek(5); string(sig) != "REDIS" {
		return true, s.replayAOFFrom(br, path, last, 0)
	}
	oldStyle := name == s.aofFilename()
	if oldStyle {
		s.Log.Noticef("Reading RDB preamble from AOF file...")
	} else {
		s.Log.Noticef("Reading RDB base file on AOF loading...")
	}
	// A base Redis 7 or Corvid wrote as <name>.<n>.base.rdb is an RDB
	// file and nothing more. Anything else may go on with commands (an
	// old AOF's tail): the rdb loader reads ahead, so it is handed one
	// byte per read to stop exactly at the RDB's end, and the commands
	// are replayed from there.
	var src io.Reader = br
	var exact *exactReader
	if !strings.HasSuffix(name, ".rdb") {
		exact = &exactReader{r: br}
		src = exact
	}
	mode := loadKeep
	if first {
		mode = loadReplace
	}
	s.Store.LockAll()
	_, err = s.loadSnapshotLocked(src, mode)
	s.Store.UnlockAll()
	if err != nil {
		s.Log.Warningf("%v", err)
		if oldStyle {
			return false, fmt.Errorf("Error reading the RDB preamble of the AOF file %s, AOF loading aborted", name)
		}
		return false, fmt.Errorf("Error reading the RDB base file %s, AOF loading aborted", name)
	}
	if exact == nil {
		return true, nil
	}
	if oldStyle {
		s.Log.Noticef("Reading the remaining AOF tail...")
	}
	return true, s.replayAOFFrom(br, path, last, exact.n)
}

// exactReader hands its reader's bytes out one per Read, so that a
// reader reading ahead stops exactly where it has what it needs; n counts
// them.
type exactReader struct {
	r *bufio.Reader
	n int64
}

// Read reads one byte.
func (e *exactReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c, err := e.r.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = c
	e.n++
	return 1, nil
}

// loadAOF replaces the dataset with the AOF's (DEBUG LOADAOF), as Redis's
// debug command does: the manifest is read again from disk (so the names
// of the next files follow it), history files go, an old-style AOF is
// upgraded, and the files are loaded (loadAOFFiles). Commands run by a
// client whose commands are applied as written and propagated nowhere.
func (s *Server) loadAOF() error {
	m, err := s.loadManifestFromDisk()
	if err != nil {
		return err
	}
	a := &s.aof
	a.mu.Lock()
	a.man = m
	_ = s.deleteAOFHistoryLocked()
	m = a.man
	a.mu.Unlock()
	if m, err = s.upgradeOldAOF(m); err != nil {
		return err
	}
	a.mu.Lock()
	a.man = m
	a.mu.Unlock()
	_, err = s.loadAOFFiles(m, false)
	return err
}

// replayAOFFrom runs the commands read from f, the file at path from
// offset start on (after an RDB preamble, or 0), as
// Redis's loadSingleAppendOnlyFile: the errors it returns are Redis's
// words (the server exits with them as its last log line). A command cut
// short at the end, or a MULTI without its EXEC, is dropped when the file
// is the last one and aof-load-truncated is on, and the file truncated
// after the last whole command (or before the MULTI), so that what is
// appended next follows a whole command.
func (s *Server) replayAOFFrom(f io.Reader, path string, last bool, start int64) error {
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
		if b, ok := c.parser.NextByte(); ok && b != '*' && b != '#' {
			// Redis reads only multibulk commands and "#" annotations
			// from an AOF: an inline command is a format error there.
			return fmt.Errorf("Bad file format reading the append only file %s: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>", name)
		}
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
			s.Log.Warningf("!!! Truncating the AOF %s at offset %d !!!", name, start+valid)
			if err := os.Truncate(path, start+valid); err != nil {
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
// appendonly off too: the base is made and the incremental files become
// history. Scheduling one clears the failure count, so that the cron's
// back-off does not hold back what was asked for.
func (s *Server) bgrewriteaofCommand(c *command.Ctx) {
	a := &s.aof
	if a.rewriting.Load() {
		c.Error(errRewriteInProgress)
		return
	}
	if s.Store.SnapshotRunning() {
		a.scheduled.Store(true)
		a.mu.Lock()
		a.failures = 0
		a.mu.Unlock()
		c.W.SimpleString("Background append only file rewriting scheduled")
		return
	}
	if err := s.startAOFRewrite(); err != nil {
		a.mu.Lock()
		a.lastOK = false
		a.mu.Unlock()
		s.Log.Warningf("Can't rewrite append only file in background: %v", err)
		c.Error("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
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
	s.dirty.Store(0) // as Redis: the dataset is the file's, nothing to save
	s.Log.Noticef("Append Only File loaded by DEBUG LOADAOF")
	c.OK()
}

// initAOF opens the AOF at start when appendonly is on, as Redis's
// start: the manifest is read (a bad one stops the server, in Redis's
// words), an old-style AOF is upgraded, the files are loaded, and
// appending starts (openAOFAtStart). With no AOF yet the dataset comes
// from dump.rdb, if any, and becomes the first base: Redis would start
// empty there, losing the data of a server switched to appendonly yes
// in its configuration file. It also follows CONFIG SET appendonly and
// aof-disable-auto-gc.
func (s *Server) initAOF() error {
	a := &s.aof
	a.fsyncedOff.Store(-1)
	a.man = &aofManifest{}
	a.timestamps.Store(s.Config.Bool("aof-timestamp-enabled"))
	s.Config.OnChange("aof-timestamp-enabled", func(string) error {
		a.timestamps.Store(s.Config.Bool("aof-timestamp-enabled"))
		return nil
	})
	a.primaryWritten = -1
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
	s.Config.OnChange("aof-disable-auto-gc", func(string) error {
		// Turning the collection back on deletes what it kept, as Redis's
		// updateAofAutoGCEnabled.
		a.mu.Lock()
		defer a.mu.Unlock()
		return s.deleteAOFHistoryLocked()
	})
	if !s.Config.Bool("appendonly") {
		return s.loadAtStart()
	}
	m, err := s.loadManifestFromDisk()
	if err != nil {
		return err
	}
	if m, err = s.upgradeOldAOF(m); err != nil {
		return err
	}
	a.mu.Lock()
	a.man = m
	a.mu.Unlock()
	if m.empty() {
		if err := s.loadAtStart(); err != nil {
			return err
		}
	} else {
		start := time.Now()
		res, err := s.loadAOFFiles(m, true)
		if err != nil {
			return err
		}
		if res != aofNotExist {
			s.Log.Noticef("DB loaded from append only file: %.3f seconds", time.Since(start).Seconds())
		}
	}
	s.Store.LockAll()
	defer s.Store.UnlockAll()
	return s.openAOFAtStart()
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
