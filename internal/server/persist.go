package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/commands"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/rdb"
)

// RDB persistence: SAVE, BGSAVE, the save points, DEBUG RELOAD, saving at
// shutdown and loading dbfilename at start. BGSAVE and the save points
// write a background snapshot (snapshot.go) while commands run; SAVE and
// the saves at SHUTDOWN, after FLUSHALL and in DEBUG RELOAD hold every
// shard for the length of the save, as Redis's rdbSave blocks. The file
// is written to a temporary name, fsynced and renamed over dbfilename,
// so a crash never leaves a half-written dump.rdb, as with Redis.

// rdbState is the persistence bookkeeping INFO reports.
type rdbState struct {
	bgsaveInProgress atomic.Bool
	bgsaveStart      atomic.Int64 // Unix s
	lastBgsaveOK     atomic.Bool
	lastBgsaveSecs   atomic.Int64
	saves            atomic.Int64
	lastLoadKeys     atomic.Int64 // keys the last load stored (rdb_last_load_keys_loaded)
	lastLoadExpired  atomic.Int64 // keys it dropped as expired (rdb_last_load_keys_expired)
	saveFailed       atomic.Bool  // the last save failed (stop-writes-on-bgsave-error)
	// restoreRepl: the load at start takes the file's replication
	// position (AUX repl-id, repl-offset, repl-stream-db) as this
	// server's; loadedRepl is what it found.
	restoreRepl     bool
	loadedRepl      streamPosition
	bgsaveScheduled atomic.Bool // BGSAVE SCHEDULE waits for an AOF rewrite to end
	// bgsave is the running BGSAVE's snapshot, which FLUSHALL and
	// SHUTDOWN abort, as Redis kills its child; guarded by every shard.
	bgsave *bgSnapshot
}

const errBgsaveInProgress = "ERR Background save already in progress"

// errBgsaveBusy is Redis's refusal of BGSAVE while an AOF rewrite runs.
const errBgsaveBusy = "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible"

func (s *Server) persistenceCommands() []*command.Command {
	const flags = command.Admin | command.NoScript | command.NoAsyncLoading | command.NoMulti | command.AllShards
	cat := command.CatAdmin | command.CatSlow | command.CatDangerous
	return []*command.Command{
		{Name: "save", Arity: 1, Flags: flags, ACL: cat, Group: "server", Since: "1.0.0",
			Summary: "Synchronously saves the database(s) to disk.", Handler: s.saveCommand},
		{Name: "bgsave", Arity: -1, Flags: command.Admin | command.NoScript | command.NoAsyncLoading | command.AllShards, ACL: cat,
			Group: "server", Since: "1.0.0", Summary: "Asynchronously saves the database(s) to disk.", Handler: s.bgsaveCommand},
	}
}

// rdbPath is where dump.rdb lives: dbfilename in dir.
func (s *Server) rdbPath() string {
	return filepath.Join(s.Config.Dir(), s.Config.String("dbfilename"))
}

// saveCommand is SAVE.
func (s *Server) saveCommand(c *command.Ctx) {
	if s.rdb.bgsaveInProgress.Load() {
		c.Error(errBgsaveInProgress)
		return
	}
	if err := s.saveLocked(); err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	c.OK()
}

// bgsaveCommand is BGSAVE [SCHEDULE]: the snapshot now (under the locks the
// dispatcher holds), the file in the background.
func (s *Server) bgsaveCommand(c *command.Ctx) {
	if len(c.Args) > 2 || (len(c.Args) == 2 && !equalFoldString(c.Args[1], "schedule")) {
		c.Error(command.ErrSyntax)
		return
	}
	if s.rdb.bgsaveInProgress.Load() {
		c.Error(errBgsaveInProgress)
		return
	}
	if s.Store.SnapshotRunning() {
		// An AOF rewrite's snapshot: one at a time, as Redis's children.
		if len(c.Args) == 2 {
			s.rdb.bgsaveScheduled.Store(true)
			c.W.SimpleString("Background saving scheduled")
			return
		}
		c.Error(errBgsaveBusy)
		return
	}
	if err := s.startBgsave(); err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	c.W.SimpleString("Background saving started")
}

func equalFoldString(b []byte, s string) bool { return bytes.EqualFold(b, []byte(s)) }

// saveLocked writes the snapshot to dbfilename in the foreground; every
// shard is held.
func (s *Server) saveLocked() error {
	start := time.Now()
	dirty := s.dirty.Load()
	if err := s.writeRDBFile(s.writeSnapshot); err != nil {
		// As Redis's rdbSave: a failed foreground save leaves
		// rdb_last_bgsave_status (and MISCONF) to the background ones.
		s.Log.Warningf("Failed opening the temp RDB file for saving: %v", err)
		return err
	}
	s.savedAt(dirty, start)
	s.Log.Noticef("DB saved on disk")
	return nil
}

// startBgsave starts a background save (every shard is held): the
// snapshot's instant is now, and a goroutine writes the file while
// commands run.
func (s *Server) startBgsave() error {
	t, err := s.createBgRDBFile()
	if err != nil {
		return err
	}
	b, err := s.beginBgSnapshot()
	if err != nil {
		_ = t.abort(err)
		return err
	}
	start := time.Now()
	dirty := s.dirty.Load()
	s.rdb.bgsave = b
	s.rdb.bgsaveInProgress.Store(true)
	s.rdb.bgsaveStart.Store(start.Unix())
	s.Log.Noticef("Background saving started by pid %d", t.pid())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := s.writeBgRDBFile(t, b)
		s.finishBgsave(b, err, dirty, start)
	}()
	return nil
}

// finishBgsave records how a background save ended, as Redis's
// backgroundSaveDoneHandler: an aborted one (FLUSHALL, SHUTDOWN) is not
// a failure; a save child killed by anyone else is.
func (s *Server) finishBgsave(b *bgSnapshot, err error, dirty int64, start time.Time) {
	s.Store.LockAll()
	if s.rdb.bgsave == b {
		s.rdb.bgsave = nil
	}
	s.Store.UnlockAll()
	// Not in progress only once its outcome is recorded.
	defer s.rdb.bgsaveInProgress.Store(false)
	sig, killed := childExitSignal(err)
	switch {
	case errors.Is(err, errSnapshotAborted) || isAbortedChild(err):
		s.Log.Warningf("Background saving terminated by signal 10")
	case killed:
		s.rdb.saveFailed.Store(true)
		s.rdb.lastBgsaveOK.Store(false)
		s.Log.Warningf("Background saving terminated by signal %d", sig)
	case err != nil:
		s.rdb.saveFailed.Store(true)
		s.rdb.lastBgsaveOK.Store(false)
		s.Log.Warningf("Background saving error: %v", err)
	default:
		s.rdb.lastBgsaveOK.Store(true)
		s.rdb.lastBgsaveSecs.Store(int64(time.Since(start).Seconds()))
		s.savedAt(dirty, start)
		s.Log.Noticef("DB saved on disk")
		s.Log.Noticef("Background saving terminated with success")
	}
}

// abortBgsave stops a running BGSAVE, as Redis's killRDBChild; every
// shard is held.
func (s *Server) abortBgsave() {
	if b := s.rdb.bgsave; b != nil && !b.sn.Aborted() {
		s.Store.AbortSnapshot()
		b.sink.abort()
	}
	// Its file (or a disk-based synchronisation's) may be complete and
	// about to be renamed: it must not replace the one saved next.
	s.cancelSaves(titleRDB)
}

// savedAt records a successful save of the dataset as it was when dirty
// changes had been made.
func (s *Server) savedAt(dirty int64, start time.Time) {
	if s.dirty.Add(-dirty) < 0 {
		// Reset meanwhile (DEBUG LOADAOF, FLUSHALL's save): none left.
		s.dirty.Store(0)
	}
	s.lastSave.Store(start.Unix())
	s.rdb.saves.Add(1)
	s.rdb.saveFailed.Store(false)
}

// writeRDBFile writes an RDB file in the foreground with write: to
// temp-<pid>.rdb, as Redis names it (a second SIGINT deletes it),
// fsynced and renamed over dbfilename, then the directory fsynced.
func (s *Server) writeRDBFile(write func(io.Writer) error) error {
	tmp := s.foregroundTempRDB()
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	t := &saveFile{srv: s, title: titleRDB, path: tmp, f: f, w: f}
	if err := write(f); err != nil {
		return t.abort(err)
	}
	return s.installRDBFile(t)
}

// createBgRDBFile starts a background save's temporary RDB file: a save
// child's temp-<its pid>.rdb, or the server's own temp-<pid>-bg.rdb (a
// foreground save's temp-<pid>.rdb may be written beside it).
func (s *Server) createBgRDBFile() (*saveFile, error) {
	return s.createSaveFile(titleRDB, s.Config.Dir(), "temp-%d.rdb", fmt.Sprintf("temp-%d-bg.rdb", os.Getpid()))
}

// writeBgRDBFile writes background snapshot b to t and puts it in place
// of dbfilename. A save child that dies stops the snapshot.
func (s *Server) writeBgRDBFile(t *saveFile, b *bgSnapshot) error {
	end := t.watch(b.stop)
	err := b.write(s, t.w, 0)
	end()
	if err != nil {
		return t.abort(err)
	}
	return s.installRDBFile(t)
}

// installRDBFile completes t and renames it over dbfilename, then fsyncs
// the directory.
func (s *Server) installRDBFile(t *saveFile) error {
	if _, err := t.commit(); err != nil {
		return err
	}
	if err := t.install(s.rdbPath()); err != nil {
		return err
	}
	syncDir(s.Config.Dir())
	return nil
}

// loadRDBFile loads dbfilename, if it exists, in place of the dataset
// (DEBUG RELOAD); every shard is held. A primary drops the keys already
// expired, as Redis's loader does when it is not a replica.
func (s *Server) loadRDBFile(mode loadMode) (bool, error) {
	return s.loadRDBFileAs(mode, !s.replica.active.Load())
}

// loadRDBFileAs is loadRDBFile, told whether expired keys are dropped.
func (s *Server) loadRDBFileAs(mode loadMode, dropExpired bool) (bool, error) {
	f, err := os.Open(s.rdbPath())
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = s.loadRDBLocked(bufio.NewReaderSize(s.loadingCounted(f), 1<<20), mode, dropExpired)
	return true, err
}

// loadAtStart loads dbfilename when the server starts (before it serves).
// A server configured as a replica (replicaof) keeps expired keys for its
// primary's DEL, as Redis, which checks for a primary before loading.
func (s *Server) loadAtStart() error {
	if st, err := os.Stat(s.rdbPath()); err == nil {
		s.beginLoading(st.Size()) // Start ends it
	}
	s.Store.LockAll()
	defer s.Store.UnlockAll()
	start := time.Now()
	_, _, replica := s.Config.ReplicaOf()
	s.rdb.restoreRepl = true
	found, err := s.loadRDBFileAs(loadReplace, !replica)
	s.rdb.restoreRepl = false
	if err != nil {
		if errors.Is(err, rdb.ErrVersion) {
			// As Redis: the loader's own reason, then the fatal notice.
			s.Log.Warningf("%v", err)
			return errors.New("Fatal error loading the DB, check server logs. Exiting.")
		}
		var crc *rdb.ChecksumError
		if errors.As(err, &crc) {
			// Redis's words, which operators and its tests look for.
			s.Log.Warningf("Wrong RDB checksum expected: (%x) but got (%x). Aborting now.", crc.Want, crc.Got)
			s.Log.Warningf("Internal error in RDB reading offset 0, function at rdb.c:0 -> RDB CRC error")
			return errors.New("Terminating server after rdb file reading failure.")
		}
		return fmt.Errorf("Short read or OOM loading DB. Unrecoverable error, aborting now. (%v)", err)
	}
	if found {
		s.Log.Noticef("DB loaded from disk: %.3f seconds", time.Since(start).Seconds())
	}
	return nil
}

// maxEmptyKeysLogged is how many skipped empty keys a load names in the
// log, as Redis, which counts the rest only.
const maxEmptyKeysLogged = 10

// loadRDBLocked reads an RDB stream into the dataset, every shard held,
// and returns the number of keys stored. It is Redis's rdbLoadRio for
// every caller (the file at start and DEBUG RELOAD, a primary's full
// synchronisation, an AOF's base), and logs what Redis's does, at the
// same levels and in the same words, since operators and Redis's test
// harness read them: the producer's version, the file's age and the
// memory it came from (AUX fields), each empty key skipped, and the
// counts at the end.
//
// An empty collection (which older Redis versions could leave in a file)
// is skipped, not refused: Redis 7.2 skips it rather than refuse to start
// on a file that held one. dropExpired drops the keys whose expiry has
// passed and counts them, as a primary loading a file does (Redis's
// loader checks iAmMaster); a replica keeps them for its primary's DEL
// and an AOF base for the commands that follow it. The expired keys a
// primary drops are not propagated: Redis feeds a DEL per key to its
// backlog at start for replicas that continue from the file's stream
// position, but Corvid starts with a new replication ID (the file's
// repl-id is not restored), so its replicas synchronise in full.
func (s *Server) loadRDBLocked(r io.Reader, mode loadMode, dropExpired bool) (int, error) {
	keys, codes, err := s.loadRDBInto(s.Store, r, mode, dropExpired)
	if err != nil {
		return keys, err
	}
	if msg := s.functions.Restore(codes, mode.functionPolicy()); msg != "" {
		return keys, errors.New(msg)
	}
	return keys, nil
}

// loadRDBInto is loadRDBLocked's loader for any keyspace (a replica's
// swapdb load fills one of its own): it returns the keys stored and the
// function libraries read, for the caller to restore. st's shards are
// held, or st is the caller's alone.
func (s *Server) loadRDBInto(st *keyspace.Store, r io.Reader, mode loadMode, dropExpired bool) (int, []string, error) {
	if mode == loadReplace {
		st.FlushAll()
	}
	var keys, expired, empty int64
	var codes []string
	keyDelay := s.Config.Int("key-load-delay") // µs per key (negative: ns), for Redis's tests
	db := 0
	now := time.Now().UnixMilli()
	ctx := command.Ctx{Conn: configHolder{s.Config}}
	_, err := rdb.Load(r, &rdb.Loader{
		Aux:      func(k, v []byte) error { s.logRDBAux(string(k), string(v)); return nil },
		Function: func(code []byte) error { codes = append(codes, string(code)); return nil },
		SelectDB: func(d int) error {
			if d < 0 || d >= st.Databases() {
				return fmt.Errorf("database %d out of range", d)
			}
			db = d
			return nil
		},
		Key: func(k rdb.KeyInfo, rr *rdb.Reader) error {
			obj, err := rdb.ReadObject(rr, k.Type)
			if err != nil {
				return err // ErrEmpty included: Load calls EmptyKey
			}
			if dropExpired && k.ExpireAt != 0 && k.ExpireAt < now {
				expired++
				if st == s.Store && s.rdb.restoreRepl && s.rdb.loadedRepl.replid != "" {
					// The replicas continuing from the file's position
					// must delete it too, as Redis feeds its backlog.
					s.prop.emitNow(db, s.deletionName("lazyfree-lazy-expire"), k.Key)
				}
				return nil
			}
			ctx.DB = st.DB(db).At(now)
			if mode == loadKeep && ctx.DB.Exists(k.Key) {
				return fmt.Errorf("duplicated key %q in DB %d", k.Key, db)
			}
			if !commands.RestoreValue(&ctx, k.Key, obj, k.ExpireAt) {
				expired++ // a hash whose every field had expired
				return nil
			}
			keys++
			if st == s.Store {
				s.loadYield(keys)
			}
			if keyDelay != 0 {
				debugDelay(keyDelay)
			}
			return nil
		},
		EmptyKey: func(k rdb.KeyInfo) error {
			if empty < maxEmptyKeysLogged {
				s.Log.Noticef("rdbLoadObject skipping empty key: %s", cString(k.Key))
			}
			empty++
			return nil
		},
	})
	if err != nil {
		return int(keys), nil, err
	}
	s.rdb.lastLoadKeys.Store(keys)
	s.rdb.lastLoadExpired.Store(expired)
	if empty > 0 {
		s.Log.Noticef("Done loading RDB, keys loaded: %d, keys expired: %d, empty keys skipped: %d.", keys, expired, empty)
	} else {
		s.Log.Noticef("Done loading RDB, keys loaded: %d, keys expired: %d.", keys, expired)
	}
	return int(keys), codes, nil
}

// logRDBAux logs an AUX field of a file being loaded as Redis does: the
// fields it knows, in its words, and any whose name starts with '%' as
// they are (Redis's convention for informational fields).
func (s *Server) logRDBAux(k, v string) {
	if s.rdb.restoreRepl {
		switch {
		case strings.EqualFold(k, "repl-id") && len(v) == 40:
			s.rdb.loadedRepl.replid = v
		case strings.EqualFold(k, "repl-offset"):
			s.rdb.loadedRepl.offset = leadingInt(v)
		case strings.EqualFold(k, "repl-stream-db"):
			s.rdb.loadedRepl.db = int(leadingInt(v))
		}
		if s.rdb.loadedRepl.replid != "" && strings.EqualFold(k, "repl-offset") {
			s.restoreReplication(s.rdb.loadedRepl)
		}
	}
	switch {
	case strings.HasPrefix(k, "%"):
		s.Log.Noticef("RDB '%s': %s", k, v)
	case strings.EqualFold(k, "redis-ver"):
		s.Log.Noticef("Loading RDB produced by version %s", v)
	case strings.EqualFold(k, "ctime"):
		s.Log.Noticef("RDB age %d seconds", max(time.Now().Unix()-leadingInt(v), 0))
	case strings.EqualFold(k, "used-mem"):
		s.load.usedMem.Store(leadingInt(v))
		s.Log.Noticef("RDB memory usage when created %.2f Mb", float64(leadingInt(v))/(1024*1024))
	case strings.EqualFold(k, "aof-preamble"):
		if leadingInt(v) != 0 {
			s.Log.Noticef("RDB has an AOF tail")
		}
	case strings.EqualFold(k, "aof-base"):
		if leadingInt(v) != 0 {
			s.Log.Noticef("RDB is base AOF")
		}
	case strings.EqualFold(k, "repl-stream-db"), strings.EqualFold(k, "repl-id"),
		strings.EqualFold(k, "repl-offset"), strings.EqualFold(k, "lua"), strings.EqualFold(k, "redis-bits"):
	default:
		s.Log.Debugf("Unrecognized RDB AUX field: '%s'", k)
	}
}

// leadingInt reads an AUX value as C's strtoll: leading blanks, a sign and
// the digits that follow, 0 when there are none, saturated on overflow.
func leadingInt(v string) int64 {
	v = strings.TrimLeft(v, " \t\n\v\f\r")
	end := 0
	if end < len(v) && (v[end] == '+' || v[end] == '-') {
		end++
	}
	digits := end
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	if end == digits {
		return 0
	}
	n, err := strconv.ParseInt(v[:end], 10, 64)
	if err != nil && v[0] == '-' {
		return math.MinInt64
	} else if err != nil {
		return math.MaxInt64
	}
	return n
}

// cString is how C's %s prints a binary-safe string: up to its first NUL.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// saveCron starts a BGSAVE when a save point is due: at least Changes
// writes and Seconds seconds since the last save, as Redis's serverCron.
func (s *Server) saveCron(now time.Time) {
	if s.rdb.bgsaveInProgress.Load() || s.Store.SnapshotRunning() {
		return
	}
	if s.rdb.bgsaveScheduled.Load() {
		s.Store.LockAll()
		if !s.Store.SnapshotRunning() && s.startBgsave() == nil {
			s.rdb.bgsaveScheduled.Store(false)
		}
		s.Store.UnlockAll()
		return
	}
	dirty := s.dirty.Load()
	if dirty == 0 {
		return
	}
	elapsed := now.Unix() - s.lastSave.Load()
	for _, p := range s.Config.SaveParams() {
		if dirty >= int64(p.Changes) && elapsed >= p.Seconds {
			s.Log.Noticef("%d changes in %d seconds. Saving...", p.Changes, p.Seconds)
			s.Store.LockAll()
			if err := s.startBgsave(); err != nil {
				s.Log.Warningf("Can't save in background: %v", err)
			}
			s.Store.UnlockAll()
			return
		}
	}
}

// saveOnShutdown saves when SHUTDOWN SAVE asks, or when save points are
// configured and NOSAVE does not say otherwise. A replica saves too, as
// Redis's: the file keeps its primary's replication ID and offset, from
// which it continues with a partial resync after the restart.
// c is the SHUTDOWN command's context (nil for a signal), whose shards
// may be held already.
func (s *Server) saveOnShutdown(force bool, c *command.Ctx) error {
	if s.SentinelMode() {
		return nil // a sentinel saves nothing, SHUTDOWN SAVE included, as Redis's
	}
	if !force && len(s.Config.SaveParams()) == 0 {
		return nil
	}
	unlock := s.lockAllShards(c)
	defer unlock()
	if s.rdb.bgsave != nil {
		s.Log.Warningf("There is a child saving an .rdb. Killing it!")
		s.abortBgsave()
	}
	s.Log.Noticef("Saving the final RDB snapshot before exiting.")
	return s.saveLocked()
}

// errMisconfRDB is Redis's refusal of writes after a failed RDB save.
const errMisconfRDB = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."

// diskErrorRefusal is Redis's writeCommandsDeniedByDiskError: after a
// failed save, with save points and stop-writes-on-bgsave-error set,
// writes (and PING) are refused until a save succeeds; after a failed AOF
// write, until one succeeds.
func (s *Server) diskErrorRefusal() string {
	if s.rdb.saveFailed.Load() && s.Config.Bool("stop-writes-on-bgsave-error") && len(s.Config.SaveParams()) > 0 {
		return errMisconfRDB
	}
	if s.aof.active.Load() && s.aof.writeFailed.Load() {
		return "MISCONF Errors writing to the AOF file: " + s.aof.lastError()
	}
	return ""
}
