package server

import (
	"bytes"
	"runtime"
	"time"
)

// The watchdog (watchdog-period, in ms; 0 is off), Redis's debugging aid
// for finding what stalls the server: Redis arms an alarm from its cron
// and logs its main thread's stack when the alarm fires before the cron
// runs again. Corvid has no main thread to be stalled; what stalls its
// clients is a holder of every shard (a command that sees the whole
// keyspace, a snapshot's instant) and a load, during which they are
// answered -LOADING (Redis's main thread is in the load, and its alarm
// fires a period into it). So the watchdog takes every shard for a moment
// once a period, and when that has waited a period, or a load has run
// for one, it logs, as Redis does, "--- WATCHDOG TIMER EXPIRED ---" and
// the stacks of the server's goroutines, once per stall or load. Taking
// every shard each period costs the commands of that moment a few
// microseconds, which is why it is off unless asked for, as in Redis.

// watchdogMinPeriod bounds the period from below as Redis does (twice its
// cron's period at the default hz).
const watchdogMinPeriod = 200 * time.Millisecond

// watchdogStackMax bounds the stacks logged for one stall.
const watchdogStackMax = 256 << 10

// watchdog runs until the server closes.
func (s *Server) watchdog() {
	defer s.wg.Done()
	idle := time.NewTicker(100 * time.Millisecond)
	defer idle.Stop()
	var reported int64 // the load last reported (its startNs)
	for {
		select {
		case <-s.done:
			return
		case <-idle.C:
		}
		period := time.Duration(s.Config.Int("watchdog-period")) * time.Millisecond
		if period <= 0 {
			continue
		}
		period = max(period, watchdogMinPeriod)
		if s.load.active.Load() {
			if began := s.load.startNs.Load(); began != reported && time.Since(time.Unix(0, began)) >= period {
				reported = began
				s.watchdogReport()
			}
			continue
		}
		s.watchdogProbe(period)
	}
}

// watchdogReport logs the stall with the goroutines' stacks.
func (s *Server) watchdogReport() {
	buf := make([]byte, watchdogStackMax)
	buf = buf[:runtime.Stack(buf, true)]
	s.Log.Warningf("--- WATCHDOG TIMER EXPIRED ---")
	for _, line := range bytes.Split(bytes.TrimRight(buf, "\n"), []byte("\n")) {
		s.Log.Warningf("%s", line)
	}
	s.Log.Warningf("--------")
}

// watchdogProbe takes every shard, and logs the stall when that waits
// longer than period; it returns once the shards were had (or the
// server closes).
func (s *Server) watchdogProbe(period time.Duration) {
	had := make(chan struct{})
	go func() {
		s.Store.LockAll()
		s.Store.UnlockAll()
		close(had)
	}()
	timer := time.NewTimer(period)
	defer timer.Stop()
	select {
	case <-had:
		return
	case <-s.done:
		return
	case <-timer.C:
	}
	s.watchdogReport()
	select {
	case <-had:
	case <-s.done:
	}
}
