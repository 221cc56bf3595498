package server

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Client eviction (maxmemory-clients), as Redis 7 has it: the memory of
// normal and pub/sub connections (their query and reply buffers, pending
// output, transaction queue, watched keys, subscriptions, tracking
// prefixes) is summed, and when the sum passes the limit the largest
// evictable connections are closed until it is back under.
//
// The sum is kept incrementally so that checking it costs two atomic loads:
// each connection's owner (its event loop or goroutine) measures what it
// owns after every command, read and write and publishes a change only
// when there is one (in the steady state the buffers keep their sizes and
// nothing shared is written); pushes from other goroutines (messages,
// invalidations) add what they queue. Eviction itself, rare, walks the
// clients and closes the largest first (Redis groups them in power-of-two
// buckets to avoid the sort; with the candidates collected only when the
// limit is passed, an exact order costs no more).

// Per-item overheads of what a client holds besides its buffers. They are
// estimates of the structures involved, as Redis's own (it counts list
// nodes and pointers, not the strings).
const (
	clientStructMem   = int64(unsafe.Sizeof(Client{}))
	watchedKeyMem     = int64(unsafe.Sizeof(watchedKey{})) + 8 + 48 // the client's pointer and the registry's entry
	subscriptionMem   = 64                                          // an entry in the client's set and one in the server's
	trackingPrefixMem = 64                                          // the prefix's string and its place in the table
)

// minClientEvictLimit is Redis's floor on maxmemory-clients: a smaller
// limit would leave no room to talk to the server at all.
const minClientEvictLimit = 128 << 10

// clientMemState is the server's side of client eviction.
type clientMemState struct {
	// limit is maxmemory-clients in bytes (a percentage resolved against
	// maxmemory), 0 when client eviction is off.
	limit atomic.Int64
	// total is the sum of the counted connections' memory.
	total atomic.Int64
	// evicted counts the connections closed for it (INFO evicted_clients).
	evicted atomic.Int64
	// lastGC (Unix ns): the last collection collectSoon started.
	lastGC atomic.Int64
	// The largest query buffer and pending output seen in each of the
	// last peakSlots seconds (Redis's ClientsPeakMemInput/Output, for
	// INFO's client_recent_max_input_buffer and _output_buffer), written
	// by the clients cron.
	peakMu   sync.Mutex
	peakIn   [peakSlots]int64
	peakOut  [peakSlots]int64
	peakSecs [peakSlots]int64

	// stuckUntil (Unix ns): the last eviction could not get under the
	// limit (what is left is not evictable); until then commands do not
	// try again, the cron does.
	stuckUntil  atomic.Int64
	mu          sync.Mutex // serialises evictions; guards the fields below
	cands       []evictCandidate
	stuckLogged bool
}

type evictCandidate struct {
	c   *Client
	mem int64
}

// applyClientEvictLimit resolves maxmemory-clients (negative values are a
// percentage of maxmemory, as the config table stores them) and evicts at
// once if the new limit is passed, as Redis's CONFIG SET does.
func (s *Server) applyClientEvictLimit() {
	v := s.Config.Int("maxmemory-clients")
	var limit int64
	switch {
	case v < 0:
		if mm := s.Config.Int("maxmemory"); mm > 0 {
			limit = int64(float64(mm) * float64(-v) / 100)
		}
	case v > 0:
		limit = v
	}
	if limit > 0 && limit < minClientEvictLimit {
		limit = minClientEvictLimit
	}
	s.clientMem.limit.Store(limit)
	s.clientMem.stuckUntil.Store(0)
	if limit > 0 {
		s.recountAllClients()
		s.evictClients(true)
	}
}

// ownedMemory is what the connection's own goroutine holds for it, as
// Redis's getClientMemoryUsage counts it between commands: the query
// buffer, the reply buffer (pending output included), the transaction
// queue, and the overheads of watched keys, subscriptions and tracking
// prefixes. Called by the owner only.
func (c *Client) ownedMemory() int64 {
	m := clientStructMem + int64(c.parser.Cap()) + int64(cap(c.w.Buf)) + int64(c.outListLen) + c.txMem.Load()
	m += int64(len(c.watched)) * watchedKeyMem
	m += int64(c.nsub.Load()+c.npsub.Load()+c.nssub.Load()) * subscriptionMem
	m += int64(len(c.trackPrefixes)) * trackingPrefixMem
	return m
}

// accountMemory is the owner's update after a command, a read or a write:
// it publishes the connection's memory when it changed.
func (c *Client) accountMemory() {
	if m := c.ownedMemory(); m != c.memOwnedLocal {
		c.memOwnedLocal = m
		c.memOwned.Store(m)
		c.srv.recountClient(c)
	}
}

// checkClientMemory is accountMemory followed by the eviction check, where
// Redis checks: after a read, and before each command. It reports whether
// the connection is still open (it may have been the one evicted).
func (c *Client) checkClientMemory() bool {
	c.accountMemory()
	if c.srv.clientsOverLimit() {
		c.srv.evictClients(false)
	}
	return !c.killed.Load()
}

// countsForClientMemory: replicas and our primary's connection have
// budgets of their own (the replication buffer), as in Redis, whose sum
// counts the normal and pub/sub classes only.
func (c *Client) countsForClientMemory() bool {
	return !c.killed.Load() && !c.isReplica.Load() && !c.isMaster.Load()
}

// evictable: counted, and not exempted by CLIENT NO-EVICT.
func (c *Client) evictable() bool {
	return c.countsForClientMemory() && c.listFlags.Load()&listNoEvict == 0
}

// recountClient brings the client's share of the total up to date; any
// goroutine may call it. The swap makes concurrent recounts add up: each
// adds the difference from the value the previous one left.
func (s *Server) recountClient(c *Client) {
	var v int64
	if c.countsForClientMemory() {
		v = c.memOwned.Load() + c.inboxBytes.Load() + c.asyncBytes.Load()
	}
	if old := c.memCounted.Swap(v); old != v {
		s.clientMem.total.Add(v - old)
	}
}

// uncountClient removes a closing connection from the total.
func (s *Server) uncountClient(c *Client) {
	if old := c.memCounted.Swap(0); old != 0 {
		s.clientMem.total.Add(-old)
	}
}

// recountAllClients refreshes every connection's share (the cron, and a
// new limit): pushes queued while eviction was off were not counted.
func (s *Server) recountAllClients() {
	s.clientsMu.Lock()
	for _, c := range s.clients {
		s.recountClient(c)
	}
	s.clientsMu.Unlock()
}

// clientsOverLimit is the check made before every command: two atomic
// loads while client eviction is on, one while it is off.
func (s *Server) clientsOverLimit() bool {
	limit := s.clientMem.limit.Load()
	if limit == 0 || s.clientMem.total.Load() <= limit {
		return false
	}
	until := s.clientMem.stuckUntil.Load()
	return until == 0 || time.Now().UnixNano() >= until
}

// evictClients closes the largest evictable connections until the total
// is within the limit (Redis's evictClients, logging each as it does).
// When what is left cannot be evicted it says so and lets commands stop
// trying for a while; force (a new limit, the cron) tries regardless.
func (s *Server) evictClients(force bool) {
	cm := &s.clientMem
	limit := cm.limit.Load()
	if limit == 0 {
		return
	}
	cm.mu.Lock()
	defer cm.mu.Unlock()
	if cm.total.Load() <= limit {
		return
	}
	if until := cm.stuckUntil.Load(); !force && until != 0 && time.Now().UnixNano() < until {
		return
	}
	cands := cm.cands[:0]
	s.clientsMu.Lock()
	for _, c := range s.clients {
		if c.evictable() {
			cands = append(cands, evictCandidate{c, c.memCounted.Load()})
		}
	}
	s.clientsMu.Unlock()
	slices.SortFunc(cands, func(a, b evictCandidate) int {
		switch {
		case a.mem > b.mem:
			return -1
		case a.mem < b.mem:
			return 1
		}
		return 0
	})
	now := time.Now()
	for _, e := range cands {
		if cm.total.Load() <= limit {
			break
		}
		if !e.c.evictable() {
			continue
		}
		s.Log.Noticef("Evicting client: %s", e.c.appendInfo(nil, e.c.otherInfo(), now))
		e.c.Kill()
		s.uncountClient(e.c)
		cm.evicted.Add(1)
	}
	clear(cands)
	cm.cands = cands[:0]
	if cm.total.Load() > limit {
		if !cm.stuckLogged {
			// Once per episode: Redis says it at every attempt, which
			// here would be every command.
			s.Log.Warningf("Over client maxmemory after evicting all evictable clients")
			cm.stuckLogged = true
		}
		cm.stuckUntil.Store(now.Add(100 * time.Millisecond).UnixNano())
	} else {
		cm.stuckUntil.Store(0)
		cm.stuckLogged = false
	}
}

// collectSoon starts a garbage collection after n bytes of a client's
// buffers were dropped, at most once a second: used_memory counts the Go
// heap's objects, garbage included, and would otherwise keep the dropped
// buffer (so maxmemory would evict keys for it) until the collector's own
// pace gets to it.
func (s *Server) collectSoon(n int) {
	if n < 64<<10 {
		return
	}
	now := time.Now().UnixNano()
	last := s.clientMem.lastGC.Load()
	if now-last < int64(time.Second) || !s.clientMem.lastGC.CompareAndSwap(last, now) {
		return
	}
	go runtime.GC()
}

// peakSlots: client_recent_max_*_buffer cover the last 8 seconds.
const peakSlots = 8

// bufferUsage is what client_recent_max_input_buffer and
// client_recent_max_output_buffer measure of a client, from any goroutine:
// its query buffer's size, and the replies and pushes it has not been sent.
func (c *Client) bufferUsage() (in, out int64) {
	return int64(c.parser.Cap()), c.outQueued.Load() + c.inboxBytes.Load()
}

// notePeaks records a client's buffer sizes in the current second's slot.
func (cm *clientMemState) notePeaks(now int64, in, out int64) {
	i := now % peakSlots
	cm.peakMu.Lock()
	if cm.peakSecs[i] != now {
		cm.peakSecs[i], cm.peakIn[i], cm.peakOut[i] = now, 0, 0
	}
	cm.peakIn[i] = max(cm.peakIn[i], in)
	cm.peakOut[i] = max(cm.peakOut[i], out)
	cm.peakMu.Unlock()
}

// recentPeaks is the largest query buffer and pending output of the last
// peakSlots seconds.
func (cm *clientMemState) recentPeaks() (in, out int64) {
	now := time.Now().Unix()
	cm.peakMu.Lock()
	defer cm.peakMu.Unlock()
	for i := range cm.peakSecs {
		if now-cm.peakSecs[i] < peakSlots {
			in, out = max(in, cm.peakIn[i]), max(out, cm.peakOut[i])
		}
	}
	return in, out
}
