package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/command"
)

// latencyMonitor records events slower than latency-monitor-threshold, per
// event name, as Redis's LATENCY LATEST/HISTORY report them: the last 160
// samples (one per second at most) plus the all-time maximum.
type latencyMonitor struct {
	threshold atomic.Int64 // ms; 0 disables
	mu        sync.Mutex
	events    map[string]*latencyEvent // guarded by mu
}

type latencySample struct {
	time int64 // Unix seconds
	ms   int64
}

type latencyEvent struct {
	samples []latencySample // oldest first, at most latencyHistoryLen
	max     int64
}

const latencyHistoryLen = 160

func (m *latencyMonitor) add(event string, d time.Duration) {
	th := m.threshold.Load()
	ms := d.Milliseconds()
	if th <= 0 || ms < th {
		return
	}
	now := time.Now().Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events == nil {
		m.events = map[string]*latencyEvent{}
	}
	ev := m.events[event]
	if ev == nil {
		ev = &latencyEvent{}
		m.events[event] = ev
	}
	if ms > ev.max {
		ev.max = ms
	}
	if n := len(ev.samples); n > 0 && ev.samples[n-1].time == now {
		if ms > ev.samples[n-1].ms {
			ev.samples[n-1].ms = ms
		}
		return
	}
	ev.samples = append(ev.samples, latencySample{now, ms})
	if len(ev.samples) > latencyHistoryLen {
		ev.samples = ev.samples[1:]
	}
}

// addCommand records a command's duration in its latency histogram (when
// latency-tracking is on) and files it under the "command" event or, for
// commands flagged fast, "fast-command".
func (s *Server) recordLatency(cmd *command.Command, d time.Duration) {
	if a := s.admin(); a.latencyTracking.Load() {
		a.histograms.record(cmd, d)
	}
	m := &s.latency
	if m.threshold.Load() <= 0 {
		return
	}
	if cmd.Flags&command.Fast != 0 {
		m.add("fast-command", d)
	} else {
		m.add("command", d)
	}
}
