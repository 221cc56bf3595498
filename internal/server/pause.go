package server

import (
	"sync"
	"time"

	"github.com/corvid-db/corvid/internal/command"
)

// pauseState implements CLIENT PAUSE: while a pause is in force, commands it
// covers (all, or only writes) wait in the dispatcher until it ends. Expiry
// and eviction stop too, so the dataset stays still, as in Redis.
type pauseState struct {
	mu      sync.Mutex
	writes  bool      // pause covers only write commands
	until   time.Time // zero when no pause
	release chan struct{}
}

func (p *pauseState) active() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.until.IsZero()
}

// Pause starts (or extends) a pause. A pause in force can only be changed to
// a stricter mode or a later end, as Redis does.
func (p *pauseState) Pause(d time.Duration, writesOnly bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	end := time.Now().Add(d)
	if p.until.IsZero() {
		p.release = make(chan struct{})
		p.writes = writesOnly
		p.until = end
		return
	}
	if !writesOnly {
		p.writes = false
	}
	if end.After(p.until) {
		p.until = end
	}
}

func (p *pauseState) unpauseAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.until.IsZero() {
		p.until = time.Time{}
		close(p.release)
	}
}

// expire ends a pause whose time is up (called from cron).
func (p *pauseState) expire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.until.IsZero() && !time.Now().Before(p.until) {
		p.until = time.Time{}
		close(p.release)
	}
}

func (p *pauseState) blocksExpiry() bool { return p.active() }

// covers reports whether cmd must wait under the current pause.
func (p *pauseState) covers(cmd *command.Command) (bool, chan struct{}, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.until.IsZero() {
		return false, nil, time.Time{}
	}
	if p.writes && cmd.Flags&(command.Write|command.MayReplicate) == 0 {
		return false, nil, time.Time{}
	}
	return true, p.release, p.until
}

// wait blocks the client until the pause ends or its time runs out, and
// returns the fresh command time.
func (p *pauseState) wait(c *Client, cmd *command.Command, now int64) int64 {
	for {
		ok, ch, until := p.covers(cmd)
		if !ok {
			return time.Now().UnixMilli()
		}
		c.flush() // replies to earlier pipelined commands go out first
		c.blocked.Store(true)
		t := time.NewTimer(time.Until(until))
		select {
		case <-ch:
		case <-t.C:
			p.expire()
		}
		t.Stop()
		c.blocked.Store(false)
		if c.killed.Load() {
			return now
		}
	}
}
