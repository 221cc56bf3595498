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
// clients is a holder of every shard: a command that sees the whole
// keyspace, a load (which holds the shards while it reads, yielding every
// loadYieldKeys keys), a snapshot's instant. So the watchdog takes every
// shard for a moment once a period, and when that has waited a period it
// logs, as Redis does, "--- WATCHDOG TIMER EXPIRED ---" and the stacks of
// the server's goroutines, once per stall. Taking every shard each
// period costs the commands of that moment a few microseconds, which is
// why it is off unless asked for, as in Redis.

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
		s.watchdogProbe(max(period, watchdogMinPeriod))
	}
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
	buf := make([]byte, watchdogStackMax)
	buf = buf[:runtime.Stack(buf, true)]
	s.Log.Warningf("--- WATCHDOG TIMER EXPIRED ---")
	for _, line := range bytes.Split(bytes.TrimRight(buf, "\n"), []byte("\n")) {
		s.Log.Warningf("%s", line)
	}
	s.Log.Warningf("--------")
	select {
	case <-had:
	case <-s.done:
	}
}
