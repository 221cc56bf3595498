package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/command"
)

// pauseState implements CLIENT PAUSE as Redis 7.2 does. While a pause is in
// force, the commands it covers (all of them, or only those that write or
// may replicate) are postponed in the dispatcher; expiry stops too, so the
// dataset holds still, which is what a failover needs.
//
// Postponed commands wait in a queue in the order they arrived. When the
// pause ends (or becomes less strict) they are released one at a time, in
// that order, each only after the previous one has finished, and commands
// arriving meanwhile line up behind them: that is the order a single-threaded
// Redis gives, where unblocked clients run before new input is read. Without
// the queue, every waiting goroutine would race for the shard locks at once.
type pauseState struct {
	// on is set while a pause is in force or postponed commands remain: the
	// dispatcher's lock-free check on every command.
	on atomic.Bool
	// expiryPaused is the keyspace's switch for logical-only expiry, kept
	// equal to "a pause is in force" (a FAILOVER's included).
	expiryPaused *atomic.Bool

	mu sync.Mutex
	// shutdown: writes wait while a shutdown waits for its replicas
	// (Redis's PAUSE_DURING_SHUTDOWN), which CLIENT UNPAUSE does not end.
	shutdown bool
	// failover: writes wait while a FAILOVER is under way (Redis's
	// PAUSE_DURING_FAILOVER; failover.go), which CLIENT UNPAUSE does not
	// end either. Expiry stands still too, as with CLIENT PAUSE.
	failover bool
	all      bool      // ALL mode; otherwise WRITE
	until    time.Time // end of the pause; zero when none
	timer    *time.Timer
	queue    []*pauseWaiter // postponed commands, oldest first
	running  *pauseWaiter   // the released command executing now
}

// pauseWaiter is one postponed command.
type pauseWaiter struct {
	write bool          // writes or may replicate: covered by a WRITE pause
	ready chan struct{} // closed when the command may run
}

// active reports whether the dispatcher must consult the pause.
func (p *pauseState) active() bool { return p.on.Load() }

// Pause starts a pause of d, or merges it with the one in force as Redis
// does: the stricter mode and the later end win.
func (p *pauseState) Pause(d time.Duration, writesOnly bool) {
	p.pauseUntil(time.Now().Add(d), !writesOnly)
}

func (p *pauseState) pauseUntil(end time.Time, all bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !p.until.IsZero() && !now.Before(p.until) {
		p.until = time.Time{} // an expired pause the timer has not cleared yet
	}
	if p.until.IsZero() {
		p.all = all
	} else {
		p.all = p.all || all
	}
	if end.After(p.until) {
		p.until = end
	}
	if !p.until.After(now) {
		p.until = time.Time{} // CLIENT PAUSE 0: nothing to do
	} else {
		if p.timer != nil {
			p.timer.Stop()
		}
		p.timer = time.AfterFunc(time.Until(p.until), p.expire)
	}
	p.kickLocked()
}

// unpauseAll ends the pause (CLIENT UNPAUSE, shutdown) and releases the
// postponed commands.
func (p *pauseState) unpauseAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.until = time.Time{}
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.kickLocked()
}

// expire ends a pause whose time is up (its timer, and the cron as a backstop).
func (p *pauseState) expire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.until.IsZero() && !time.Now().Before(p.until) {
		p.until = time.Time{}
		p.kickLocked()
	}
}

// blocksExpiry reports whether active expiry (and eviction) must stand still.
func (p *pauseState) blocksExpiry() bool {
	if !p.on.Load() {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return (!p.until.IsZero() && time.Now().Before(p.until)) || p.failover
}

// pausesReplicaTraffic reports whether writes are paused, for any reason:
// then, as Redis (PAUSE_ACTION_REPLICA), nothing of the server's own, such
// as a REPLCONF GETACK, goes into the stream, whose offset a failover or a
// shutdown waits for its replicas to reach.
func (p *pauseState) pausesReplicaTraffic() bool {
	if !p.on.Load() {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return (!p.until.IsZero() && time.Now().Before(p.until)) || p.shutdown || p.failover
}

// coveredLocked reports whether a command (write says whether it writes or
// may replicate) must wait under the pause in force.
func (p *pauseState) coveredLocked(write bool) bool {
	return (!p.until.IsZero() && (p.all || write)) || ((p.shutdown || p.failover) && write)
}

// pauseForShutdown holds writes back, or lets them go again, for a
// shutdown waiting for its replicas.
func (p *pauseState) pauseForShutdown(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shutdown = on
	p.kickLocked()
}

// pauseForFailover holds writes back, or lets them go again, for a
// FAILOVER (failover.go).
func (p *pauseState) pauseForFailover(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failover = on
	p.kickLocked()
}

// kickLocked releases the oldest postponed command the pause no longer
// covers, if none is running; commands still covered keep their place.
func (p *pauseState) kickLocked() {
	if p.running == nil {
		for i, w := range p.queue {
			if !p.coveredLocked(w.write) {
				copy(p.queue[i:], p.queue[i+1:])
				p.queue[len(p.queue)-1] = nil
				p.queue = p.queue[:len(p.queue)-1]
				p.running = w
				close(w.ready)
				break
			}
		}
	}
	p.on.Store(!p.until.IsZero() || p.shutdown || p.failover || len(p.queue) > 0 || p.running != nil)
	if p.expiryPaused != nil {
		// Keys expire only logically while a pause is in force (Redis's
		// checkClientPauseTimeoutAndReturnIfPaused): the dataset stays still.
		p.expiryPaused.Store(!p.until.IsZero() || p.failover)
	}
}

// hasRunnableLocked reports whether some postponed command is free to run.
func (p *pauseState) hasRunnableLocked() bool {
	for _, w := range p.queue {
		if !p.coveredLocked(w.write) {
			return true
		}
	}
	return false
}

// wait postpones the client's command while the pause covers it, or while
// earlier postponed commands still have to run. It returns the command's
// turn, to be passed to finish once the command has run (nil when it did not
// have to wait), and false if the client was killed while waiting or is
// refused once released (readmit): then the command must not run.
func (p *pauseState) wait(c *Client, cmd *command.Command, args [][]byte) (*pauseWaiter, bool) {
	write := cmd.Flags&(command.Write|command.MayReplicate) != 0
	p.mu.Lock()
	if !p.coveredLocked(write) && p.running == nil && !p.hasRunnableLocked() {
		p.mu.Unlock()
		return nil, true
	}
	w := &pauseWaiter{write: write, ready: make(chan struct{})}
	p.queue = append(p.queue, w)
	p.kickLocked()
	p.mu.Unlock()

	select {
	case <-w.ready:
		return p.readmit(c, cmd, w)
	default:
	}
	c.flush() // replies to earlier pipelined commands go out first
	// While postponed the client shows as blocked on its command (flag b,
	// cmd=, argv-mem=), and the idle timeout leaves it alone.
	c.setLastCmd(cmd)
	var mem int64
	for _, a := range args {
		mem += int64(len(a))
	}
	c.argvMem.Store(mem)
	c.blocked.Store(true)
	defer func() {
		c.argvMem.Store(0)
		c.lastInteraction.Store(time.Now().Unix())
		c.blocked.Store(false)
	}()
	select {
	case <-w.ready:
		return p.readmit(c, cmd, w)
	case <-c.done:
		p.abandon(w)
		return nil, false
	}
}

// readmit checks a released command's admission again, as Redis processes
// a postponed command from the start: the server's role may have changed
// while it waited. A write postponed on a primary that became a replica
// meanwhile (REPLICAOF, FAILOVER) is refused with READONLY, as in Redis,
// instead of running on the replica, where it would be lost. A refused
// command gives up its turn and the refusal is its reply (false: it must
// not run). cmd is the pause's stand-in for a transaction's EXEC
// (pauseCommand); a script declared no-writes stands in as a read, which
// nothing about the role refuses.
func (p *pauseState) readmit(c *Client, cmd *command.Command, w *pauseWaiter) (*pauseWaiter, bool) {
	s := c.srv
	if cmd == s.tx.readOnly {
		return w, true
	}
	orig, flags, stale := cmd, cmd.Flags, cmd.Flags&command.Stale != 0
	if cmd == s.tx.execWrite {
		orig = s.tx.exec
		flags = orig.Flags | c.txFlags
		stale = orig.Flags&command.Stale != 0 && c.txInvFlags&command.Stale == 0
	}
	if msg := s.replicationRefusal(c, flags, stale); msg != "" {
		p.finish(w)
		c.rejectf(orig, msg)
		return nil, false
	}
	return w, true
}

// abandon gives up the turn of a client killed while waiting.
func (p *pauseState) abandon(w *pauseWaiter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running == w {
		p.running = nil
	} else {
		for i, q := range p.queue {
			if q == w {
				p.queue = append(p.queue[:i], p.queue[i+1:]...)
				break
			}
		}
	}
	p.kickLocked()
}

// finish ends a released command's turn and releases the next one.
func (p *pauseState) finish(w *pauseWaiter) {
	if w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running == w {
		p.running = nil
	}
	p.kickLocked()
}
