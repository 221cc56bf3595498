package server

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// slowlog keeps the most recent commands slower than slowlog-log-slower-than.
type slowlog struct {
	mu      sync.Mutex
	entries []slowEntry // newest last; guarded by mu
	nextID  int64       // guarded by mu
	maxLen  atomic.Int64
	slower  atomic.Int64 // microseconds; <0 disables, 0 logs everything
}

type slowEntry struct {
	id       int64
	time     int64
	duration int64
	args     []string
	addr     string
	name     string
}

// Redis keeps at most 32 arguments of at most 128 bytes each per entry.
const (
	slowlogMaxArgc   = 32
	slowlogMaxArgLen = 128
)

func (l *slowlog) maybeAdd(c *Client, args [][]byte, us int64) {
	th := l.slower.Load()
	if th < 0 || us < th {
		return
	}
	e := slowEntry{time: time.Now().Unix(), duration: us, addr: c.addr, name: c.Name()}
	// Secrets are hidden as in MONITOR (AUTH, HELLO AUTH, MIGRATE AUTH);
	// CONFIG SET replaces sensitive values in args itself.
	var redact uint64
	if c.ctx.Cmd != nil {
		redact = redactedArgs(c.ctx.Cmd, args)
	}
	argc := min(len(args), slowlogMaxArgc)
	for i := 0; i < argc; i++ {
		if argc != len(args) && i == argc-1 {
			e.args = append(e.args, fmt.Sprintf("... (%d more arguments)", len(args)-argc+1))
			break
		}
		if i < 64 && redact&(1<<i) != 0 {
			e.args = append(e.args, "(redacted)")
			continue
		}
		a := args[i]
		if len(a) > slowlogMaxArgLen {
			e.args = append(e.args, fmt.Sprintf("%s... (%d more bytes)", a[:slowlogMaxArgLen], len(a)-slowlogMaxArgLen))
		} else {
			e.args = append(e.args, string(a))
		}
	}
	l.mu.Lock()
	e.id = l.nextID
	l.nextID++
	l.entries = append(l.entries, e)
	l.trimLocked()
	l.mu.Unlock()
}

func (l *slowlog) trim() {
	l.mu.Lock()
	l.trimLocked()
	l.mu.Unlock()
}

func (l *slowlog) trimLocked() {
	max := int(l.maxLen.Load())
	if max < 0 {
		max = 0
	}
	if over := len(l.entries) - max; over > 0 {
		l.entries = append(l.entries[:0], l.entries[over:]...)
	}
}
