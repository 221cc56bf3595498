package server

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/corvid-db/corvid/internal/command"
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

// shutdownWait is Redis 7's wait for lagging replicas before shutting
// down (shutdown-timeout): writes are held back, the replicas are asked
// for their offsets, and the shutdown goes on once every replica has
// acknowledged the whole stream or the time is up. SHUTDOWN ABORT cancels
// it; a shutdown that then fails (a save, the first AOF still being
// written) is cancelled too, and the clients blocked in SHUTDOWN get
// Redis's error.
type shutdownWait struct {
	mu       sync.Mutex
	deadline time.Time // zero: no shutdown initiated
	flags    int64     // the SHUTDOWN's, or the signal's shutdown-on-* flags
	round    *shutdownRound
}

// shutdownRound is one wait, as the clients blocked in it see it.
type shutdownRound struct {
	done   chan struct{} // closed when the wait is over, either way
	failed bool          // set before done is closed: the shutdown did not happen
}

// errShutdownFailed is what the clients blocked in SHUTDOWN get when it
// does not happen.
const errShutdownFailed = "ERR Errors trying to SHUTDOWN. Check logs."

// replicasInSync reports whether every replica has acknowledged the whole
// stream (Redis's isReadyToShutdown).
func (s *Server) replicasInSync() bool {
	off := s.prop.Offset()
	for _, r := range s.replicaInfo() {
		if r.replica.ackOffset.Load() != off {
			return false
		}
	}
	return true
}

// shutdownMustWait reports whether a shutdown with flags waits for its
// replicas first.
func (s *Server) shutdownMustWait(flags int64) bool {
	return flags&config.ShutdownNow == 0 && s.Config.Int("shutdown-timeout") != 0 &&
		!s.replica.active.Load() && !s.replicasInSync()
}

// beginShutdownWait starts the wait, or joins the one in progress, and
// returns the channel closed when it is over.
func (s *Server) beginShutdownWait(flags int64) *shutdownRound {
	w := &s.shutWait
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.deadline.IsZero() {
		return w.round
	}
	w.deadline = time.Now().Add(time.Duration(s.Config.Int("shutdown-timeout")) * time.Second)
	w.flags, w.round = flags, &shutdownRound{done: make(chan struct{})}
	s.prop.emitRaw(getackCommand)
	s.pause.pauseForShutdown(true)
	s.Log.Noticef("Waiting for replicas before shutting down.")
	return w.round
}

// shutdownInMilliseconds is INFO's shutdown_in_milliseconds, and whether a
// shutdown is waiting at all.
func (s *Server) shutdownInMilliseconds() (int64, bool) {
	w := &s.shutWait
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.deadline.IsZero() {
		return 0, false
	}
	return time.Until(w.deadline).Milliseconds(), true
}

// endShutdownWait ends the wait: failed, the writes go on and the blocked
// clients get their error.
func (s *Server) endShutdownWait(failed bool) {
	w := &s.shutWait
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.deadline.IsZero() {
		return
	}
	w.deadline = time.Time{}
	w.round.failed = failed
	close(w.round.done)
	w.round = nil
	if failed {
		s.pause.pauseForShutdown(false)
	}
}

// shutdownCron carries out a shutdown a signal scheduled, and finishes one
// waiting for its replicas once they are in sync or the time is up (cron,
// which DEBUG PAUSE-CRON stops).
func (s *Server) shutdownCron() {
	w := &s.shutWait
	w.mu.Lock()
	waiting, deadline, flags := !w.deadline.IsZero(), w.deadline, w.flags
	w.mu.Unlock()
	if waiting {
		if !s.replicasInSync() && time.Now().Before(deadline) {
			return
		}
		if err := s.finishShutdown(flags, nil); err != nil {
			s.Log.Warningf("Errors trying to shut down the server. Check the logs for more information.")
			s.shutdownAsap.Store(false)
			s.endShutdownWait(true)
			return
		}
		s.stopServing() // before the waiting clients are let go
		s.endShutdownWait(false)
		s.RequestShutdown()
		return
	}
	if !s.shutdownAsap.Load() {
		return
	}
	flags = s.Config.Int("shutdown-on-sigterm")
	if syscall.Signal(s.lastSignal.Load()) == syscall.SIGINT {
		flags = s.Config.Int("shutdown-on-sigint")
	}
	if s.shutdownMustWait(flags) {
		s.beginShutdownWait(flags)
		return
	}
	if err := s.finishShutdown(flags, nil); err != nil {
		s.Log.Warningf("SIGTERM received but errors trying to shut down the server, check the logs for more information")
		s.shutdownAsap.Store(false)
		return
	}
	s.RequestShutdown()
}

// logLaggingReplicas is the first step of Redis's finishShutdown: a line
// per replica behind the stream, and how many are in sync.
func (s *Server) logLaggingReplicas() {
	off := s.prop.Offset()
	replicas := s.replicaInfo()
	lagging := 0
	now := time.Now().Unix()
	for _, r := range replicas {
		ack := r.replica.ackOffset.Load()
		if ack == off {
			continue
		}
		lagging++
		state := r.replica.state.Load()
		var lag int64
		if state == replOnline {
			lag = now - r.replica.ackTime.Load()
		}
		s.Log.Noticef("Lagging replica %s reported offset %d behind master, lag=%d, state=%s.",
			r.replicaName(), off-ack, lag, replStateNames[state])
	}
	if len(replicas) > 0 {
		s.Log.Noticef("%d of %d replicas are in sync when shutting down.", len(replicas)-lagging, len(replicas))
	}
}

// finishShutdown does what must be done before exiting (Redis's
// finishShutdown), with SHUTDOWN's flags or the shutdown-on-sig* ones:
// refuse while the first AOF is being written, and save when save points
// are set (or SAVE is among the flags), unless NOSAVE; FORCE goes on
// despite both. c is the SHUTDOWN command's context, nil from the cron.
func (s *Server) finishShutdown(flags int64, c *command.Ctx) error {
	s.logLaggingReplicas()
	force := flags&config.ShutdownForce != 0
	if s.aof.pendingStart.Load() || s.initialRewrite() {
		if !force {
			s.Log.Warningf("Writing initial AOF, can't exit.")
			return fmt.Errorf("writing initial AOF")
		}
		s.Log.Warningf("Writing initial AOF. Exit anyway.")
	}
	if flags&config.ShutdownNoSave != 0 || s.loadingDataset() {
		// As Redis: NOSAVE is implied while a dataset is being loaded (a
		// save would write it half loaded).
		s.shutdownSaved.Store(true)
		return nil
	}
	if err := s.saveOnShutdown(flags&config.ShutdownSave != 0, c); err != nil {
		if !force {
			s.Log.Warningf("Error trying to save the DB, can't exit.")
			return err
		}
		s.Log.Warningf("Error trying to save the DB. Exit anyway.")
	}
	s.shutdownSaved.Store(true)
	return nil
}

// loadingDataset reports whether a dataset is being loaded (INFO loading
// or async_loading).
func (s *Server) loadingDataset() bool { return s.load.active.Load() || s.load.async.Load() }

// initialRewrite reports whether the rewrite that turns appendonly on is
// running: until it ends there is no AOF to restart from.
func (s *Server) initialRewrite() bool {
	a := &s.aof
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.waitRewrite
}

// abortShutdown is SHUTDOWN ABORT: it cancels a shutdown waiting for its
// replicas, or one a signal scheduled.
func (s *Server) abortShutdown() bool {
	_, waiting := s.shutdownInMilliseconds()
	asap := s.shutdownAsap.Swap(false)
	if !waiting && !asap {
		return false
	}
	s.endShutdownWait(true)
	s.Log.Noticef("Shutdown manually aborted.")
	return true
}

// foregroundTempRDB is the temporary file of a foreground save (SAVE,
// the save at shutdown), named as Redis names it.
func (s *Server) foregroundTempRDB() string {
	return filepath.Join(s.Config.Dir(), fmt.Sprintf("temp-%d.rdb", os.Getpid()))
}
