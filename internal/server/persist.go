package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/rdb"
)

// RDB persistence: SAVE, BGSAVE, the save points, DEBUG RELOAD, saving at
// shutdown and loading dbfilename at start. The snapshot is taken under
// every shard lock (writeSnapshot: no fork in Go), so SAVE and BGSAVE both
// stall the server while the dataset is serialised; BGSAVE then writes and
// fsyncs the file in the background. The file is written to a temporary
// name, fsynced and renamed over dbfilename, so a crash never leaves a
// half-written dump.rdb, as with Redis.

// rdbState is the persistence bookkeeping INFO reports.
type rdbState struct {
	bgsaveInProgress atomic.Bool
	bgsaveStart      atomic.Int64 // Unix s
	lastBgsaveOK     atomic.Bool
	lastBgsaveSecs   atomic.Int64
	saves            atomic.Int64
	lastLoadKeys     atomic.Int64
	saveFailed       atomic.Bool // the last save failed (stop-writes-on-bgsave-error)
}

const errBgsaveInProgress = "ERR Background save already in progress"

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
		if len(c.Args) == 2 {
			c.W.SimpleString("Background saving scheduled")
			return
		}
		c.Error(errBgsaveInProgress)
		return
	}
	s.startBgsave()
	c.W.SimpleString("Background saving started")
}

func equalFoldString(b []byte, s string) bool { return bytes.EqualFold(b, []byte(s)) }

// saveLocked writes the snapshot to dbfilename; every shard is held.
func (s *Server) saveLocked() error {
	start := time.Now()
	var buf bytes.Buffer
	if err := s.writeSnapshot(&buf); err != nil {
		return err
	}
	dirty := s.dirty.Load()
	if err := s.writeRDBFile(buf.Bytes()); err != nil {
		s.rdb.saveFailed.Store(true)
		s.Log.Warningf("Failed opening the temp RDB file for saving: %v", err)
		return err
	}
	s.savedAt(dirty, start)
	s.Log.Noticef("DB saved on disk")
	return nil
}

// startBgsave serialises the dataset now (every shard is held) and writes
// the file from a goroutine.
func (s *Server) startBgsave() {
	start := time.Now()
	var buf bytes.Buffer
	if err := s.writeSnapshot(&buf); err != nil {
		s.Log.Warningf("Background saving error: %v", err)
		s.rdb.lastBgsaveOK.Store(false)
		return
	}
	dirty := s.dirty.Load()
	s.rdb.bgsaveInProgress.Store(true)
	s.rdb.bgsaveStart.Store(start.Unix())
	s.Log.Noticef("Background saving started")
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.rdb.bgsaveInProgress.Store(false)
		if err := s.writeRDBFile(buf.Bytes()); err != nil {
			s.rdb.saveFailed.Store(true)
			s.rdb.lastBgsaveOK.Store(false)
			s.Log.Warningf("Background saving error: %v", err)
			return
		}
		s.rdb.lastBgsaveOK.Store(true)
		s.rdb.lastBgsaveSecs.Store(int64(time.Since(start).Seconds()))
		s.savedAt(dirty, start)
		s.Log.Noticef("Background saving terminated with success")
	}()
}

// savedAt records a successful save of the dataset as it was when dirty
// changes had been made.
func (s *Server) savedAt(dirty int64, start time.Time) {
	s.dirty.Add(-dirty)
	s.lastSave.Store(start.Unix())
	s.rdb.saves.Add(1)
	s.rdb.saveFailed.Store(false)
}

// writeRDBFile writes data to a temporary file in dir, fsyncs it and
// renames it over dbfilename, then fsyncs the directory.
func (s *Server) writeRDBFile(data []byte) error {
	dir := s.Config.Dir()
	tmp := filepath.Join(dir, fmt.Sprintf("temp-%d-%d.rdb", os.Getpid(), time.Now().UnixNano()))
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	_, err = w.Write(data)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.rdbPath())
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// loadRDBFile loads dbfilename, if it exists, in place of the dataset;
// every shard is held (or the server is not serving yet).
func (s *Server) loadRDBFile(mode loadMode) (bool, error) {
	f, err := os.Open(s.rdbPath())
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	start := time.Now()
	n, err := s.loadSnapshotLocked(bufio.NewReaderSize(f, 1<<20), mode)
	if err != nil {
		return true, err
	}
	s.rdb.lastLoadKeys.Store(int64(n))
	s.Log.Noticef("DB loaded from disk: %.3f seconds", time.Since(start).Seconds())
	return true, nil
}

// loadAtStart loads dbfilename when the server starts (before it serves).
func (s *Server) loadAtStart() error {
	s.Store.LockAll()
	defer s.Store.UnlockAll()
	_, err := s.loadRDBFile(loadReplace)
	if err != nil {
		if errors.Is(err, rdb.ErrVersion) {
			// As Redis: the loader's own reason, then the fatal notice.
			s.Log.Warningf("%v", err)
			return errors.New("Fatal error loading the DB, check server logs. Exiting.")
		}
		return fmt.Errorf("Short read or OOM loading DB. Unrecoverable error, aborting now. (%v)", err)
	}
	return nil
}

// saveCron starts a BGSAVE when a save point is due: at least Changes
// writes and Seconds seconds since the last save, as Redis's serverCron.
func (s *Server) saveCron(now time.Time) {
	if s.rdb.bgsaveInProgress.Load() {
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
			s.startBgsave()
			s.Store.UnlockAll()
			return
		}
	}
}

// saveOnShutdown saves when SHUTDOWN SAVE asks, or when save points are
// configured and neither NOSAVE nor a replica role says otherwise.
// c is the SHUTDOWN command's context (nil for a signal), whose shards
// may be held already.
func (s *Server) saveOnShutdown(force bool, c *command.Ctx) error {
	if !force && len(s.Config.SaveParams()) == 0 {
		return nil
	}
	s.Log.Noticef("Saving the final RDB snapshot before exiting.")
	unlock := s.lockAllShards(c)
	defer unlock()
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
