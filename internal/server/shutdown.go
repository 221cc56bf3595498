package server

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/corvid-db/corvid/internal/config"
)

// Shutting down on a signal, as Redis does: the signal only schedules the
// shutdown (shutdown_asap), which the cron carries out, so SHUTDOWN ABORT
// can still cancel it (while DEBUG PAUSE-CRON holds the cron, say), and a
// shutdown that cannot save, or that would lose the AOF being written for
// the first time, logs why and leaves the server running. A second SIGINT
// while the shutdown is under way exits at once, deleting the temporary
// RDB file of the save in progress.

// Signal handles SIGINT or SIGTERM (the embedding program relays them).
// It reports true when the process must exit now, unclean (a second
// SIGINT); otherwise the shutdown is scheduled and ShutdownRequested is
// closed once it is done.
func (s *Server) Signal(sig os.Signal) (exitNow bool) {
	if s.shutdownAsap.Load() && sig == syscall.SIGINT {
		s.Log.Warningf("You insist... exiting now.")
		_ = os.Remove(s.foregroundTempRDB())
		return true
	}
	switch {
	case s.load.active.Load():
		s.Log.Warningf("Received shutdown signal during loading, scheduling shutdown.")
	case sig == syscall.SIGINT:
		s.Log.Warningf("Received SIGINT scheduling shutdown...")
	case sig == syscall.SIGTERM:
		s.Log.Warningf("Received SIGTERM scheduling shutdown...")
	default:
		s.Log.Warningf("Received shutdown signal, scheduling shutdown...")
	}
	s.lastSignal.Store(int32(sigNumber(sig)))
	s.shutdownAsap.Store(true)
	return false
}

func sigNumber(sig os.Signal) int {
	if n, ok := sig.(syscall.Signal); ok {
		return int(n)
	}
	return 0
}

// shutdownCron carries out a shutdown a signal scheduled (cron, which
// DEBUG PAUSE-CRON stops).
func (s *Server) shutdownCron() {
	if !s.shutdownAsap.Load() {
		return
	}
	flags := s.Config.Int("shutdown-on-sigterm")
	if syscall.Signal(s.lastSignal.Load()) == syscall.SIGINT {
		flags = s.Config.Int("shutdown-on-sigint")
	}
	if err := s.prepareSignalShutdown(flags); err != nil {
		s.Log.Warningf("SIGTERM received but errors trying to shut down the server, check the logs for more information")
		s.shutdownAsap.Store(false)
		return
	}
	s.RequestShutdown()
}

// prepareSignalShutdown does what must be done before exiting on a
// signal, with the shutdown-on-sig* flags: refuse while the first AOF is
// being written, and save when save points are set (or SAVE is among the
// flags), unless NOSAVE; FORCE goes on despite both.
func (s *Server) prepareSignalShutdown(flags int64) error {
	force := flags&config.ShutdownForce != 0
	if s.aof.pendingStart.Load() || s.initialRewrite() {
		if !force {
			s.Log.Warningf("Writing initial AOF, can't exit.")
			return fmt.Errorf("writing initial AOF")
		}
		s.Log.Warningf("Writing initial AOF. Exit anyway.")
	}
	if flags&config.ShutdownNoSave != 0 {
		s.shutdownSaved.Store(true)
		return nil
	}
	if err := s.saveOnShutdown(flags&config.ShutdownSave != 0, nil); err != nil {
		if !force {
			s.Log.Warningf("Error trying to save the DB, can't exit.")
			return err
		}
		s.Log.Warningf("Error trying to save the DB. Exit anyway.")
	}
	s.shutdownSaved.Store(true)
	return nil
}

// initialRewrite reports whether the rewrite that turns appendonly on is
// running: until it ends there is no AOF to restart from.
func (s *Server) initialRewrite() bool {
	a := &s.aof
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.waitRewrite
}

// abortShutdown is SHUTDOWN ABORT: it cancels a shutdown a signal
// scheduled.
func (s *Server) abortShutdown() bool {
	if !s.shutdownAsap.CompareAndSwap(true, false) {
		return false
	}
	s.Log.Noticef("Shutdown manually aborted.")
	return true
}

// foregroundTempRDB is the temporary file of a foreground save (SAVE,
// the save at shutdown), named as Redis names it.
func (s *Server) foregroundTempRDB() string {
	return filepath.Join(s.Config.Dir(), fmt.Sprintf("temp-%d.rdb", os.Getpid()))
}
