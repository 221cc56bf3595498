package server

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/resp"
)

// Client-side caching (CLIENT TRACKING), as Redis's tracking.c does it. In
// the default mode the server remembers which clients read which keys
// (read-only commands) and, when a key is written, expires or is flushed,
// sends those clients one "invalidate" message and forgets them for that
// key. In BCAST mode clients subscribe to key prefixes instead and get
// every change under them, batched per command. Messages are RESP3 pushes
// on the tracking connection itself, or, with REDIRECT, Pub/Sub messages
// on __redis__:invalidate to another connection (RESP2) or pushes to it
// (RESP3). A tracking connection has its own writer goroutine (as
// subscribers do), so invalidations from any core queue behind its
// replies in order.

// Tracking flags of a client (Client.trackFlags).
const (
	trackOn uint32 = 1 << iota
	trackBcast
	trackOptin
	trackOptout
	trackCaching // CLIENT CACHING yes|no, for the next command only
	trackNoloop
	trackBrokenRedir
)

// trackingState is the server's tracking table and prefix table.
type trackingState struct {
	mu       sync.Mutex
	table    map[string]map[int64]struct{} // key -> IDs of clients that read it
	items    int64                         // IDs across the table
	prefixes map[string]*bcastState
	clients  atomic.Int64 // clients with tracking on
	nkeys    atomic.Int64 // len(table), read without mu before every command
	// pendingBcast: expiry noted BCAST keys with no client command to
	// broadcast them after; the cron does.
	pendingBcast atomic.Bool
}

type bcastState struct {
	keys    map[string]*Client // changed since the last broadcast -> last writer
	clients map[*Client]struct{}
}

const trackingChannel = "__redis__:invalidate"

func (t *trackingState) active() bool { return t.clients.Load() > 0 }

// clientTrackingCommand is CLIENT TRACKING ON|OFF [REDIRECT id]
// [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP].
func clientTrackingCommand(c *command.Ctx) {
	cl := client(c)
	s := cl.srv
	var redir int64
	var opts uint32
	var prefixes []string
	for j := 3; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		a := c.Args[j]
		switch {
		case strings.EqualFold(string(a), "redirect") && more > 0:
			j++
			if redir != 0 {
				c.Error("ERR A client can only redirect to a single other client")
				return
			}
			id, ok := resp.ParseInt(c.Args[j])
			if !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			s.clientsMu.Lock()
			_, exists := s.clients[id]
			s.clientsMu.Unlock()
			if !exists {
				c.Error("ERR The client ID you want redirect to does not exist")
				return
			}
			redir = id
		case strings.EqualFold(string(a), "bcast"):
			opts |= trackBcast
		case strings.EqualFold(string(a), "optin"):
			opts |= trackOptin
		case strings.EqualFold(string(a), "optout"):
			opts |= trackOptout
		case strings.EqualFold(string(a), "noloop"):
			opts |= trackNoloop
		case strings.EqualFold(string(a), "prefix") && more > 0:
			j++
			prefixes = append(prefixes, string(c.Args[j]))
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	cur := cl.trackFlags.Load()
	switch {
	case strings.EqualFold(string(c.Args[2]), "on"):
		switch {
		case opts&trackBcast == 0 && len(prefixes) > 0:
			c.Error("ERR PREFIX option requires BCAST mode to be enabled")
			return
		case cur&trackOn != 0 && (cur&trackBcast != 0) != (opts&trackBcast != 0):
			c.Error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
			return
		case opts&trackBcast != 0 && opts&(trackOptin|trackOptout) != 0:
			c.Error("ERR OPTIN and OPTOUT are not compatible with BCAST")
			return
		case opts&trackOptin != 0 && opts&trackOptout != 0:
			c.Error("ERR You can't specify both OPTIN mode and OPTOUT mode")
			return
		case opts&trackOptin != 0 && cur&trackOptout != 0, opts&trackOptout != 0 && cur&trackOptin != 0:
			c.Error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
			return
		}
		if opts&trackBcast != 0 {
			if msg := prefixCollision(cl.trackPrefixes, prefixes); msg != "" {
				c.Error(msg)
				return
			}
		}
		cl.startAsync()
		s.tracking.enable(cl, redir, opts, prefixes)
	case strings.EqualFold(string(c.Args[2]), "off"):
		s.tracking.disable(cl)
	default:
		c.Error(command.ErrSyntax)
		return
	}
	c.OK()
}

// prefixCollision reports, as Redis words it, a new prefix overlapping an
// existing one or another new one.
func prefixCollision(existing, add []string) string {
	overlap := func(a, b string) bool {
		n := min(len(a), len(b))
		return a[:n] == b[:n]
	}
	for i, p := range add {
		for _, e := range existing {
			if overlap(e, p) {
				return "ERR Prefix '" + p + "' overlaps with an existing prefix '" + e + "'. Prefixes for a single client must not overlap."
			}
		}
		for _, q := range add[i+1:] {
			if overlap(p, q) {
				return "ERR Prefix '" + p + "' overlaps with another provided prefix '" + q + "'. Prefixes for a single client must not overlap."
			}
		}
	}
	return ""
}

func (t *trackingState) enable(c *Client, redir int64, opts uint32, prefixes []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := c.trackFlags.Load()
	if old&trackOn == 0 {
		t.clients.Add(1)
	}
	if t.table == nil {
		t.table = map[string]map[int64]struct{}{}
		t.prefixes = map[string]*bcastState{}
	}
	c.trackRedir.Store(redir)
	flags := trackOn | opts&(trackBcast|trackOptin|trackOptout|trackNoloop) | old&trackCaching
	if opts&trackBcast != 0 {
		if len(prefixes) == 0 {
			prefixes = []string{""}
		}
		for _, p := range prefixes {
			bs := t.prefixes[p]
			if bs == nil {
				bs = &bcastState{keys: map[string]*Client{}, clients: map[*Client]struct{}{}}
				t.prefixes[p] = bs
			}
			if _, ok := bs.clients[c]; !ok {
				bs.clients[c] = struct{}{}
				c.trackPrefixes = append(c.trackPrefixes, p)
			}
		}
	}
	c.trackFlags.Store(flags)
}

// disable turns tracking off (CLIENT TRACKING OFF, RESET, disconnection).
// The IDs the table holds for the client are dropped lazily.
func (t *trackingState) disable(c *Client) {
	if c.trackFlags.Load()&trackOn == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range c.trackPrefixes {
		if bs := t.prefixes[p]; bs != nil {
			delete(bs.clients, c)
			if len(bs.clients) == 0 {
				delete(t.prefixes, p)
			}
		}
	}
	c.trackPrefixes = nil
	c.trackFlags.Store(0)
	c.trackRedir.Store(0)
	t.clients.Add(-1)
}

// remember records the keys a tracking client just read (default mode),
// honouring OPTIN/OPTOUT and CLIENT CACHING.
func (t *trackingState) remember(c *Client, cmd *command.Command, args [][]byte, maxKeys int64) {
	f := c.trackFlags.Load()
	if f&trackOn == 0 || f&trackBcast != 0 || cmd.Flags&command.PubSub != 0 {
		return
	}
	switch cmd.Name {
	case "eval_ro", "evalsha_ro", "fcall_ro":
		return // a read-only script tracks the keys its commands read, not its KEYS
	}
	caching := f&trackCaching != 0
	if (f&trackOptin != 0 && !caching) || (f&trackOptout != 0 && caching) {
		return
	}
	c.keyIdx = cmd.KeyIndexes(c.keyIdx[:0], args)
	if len(c.keyIdx) == 0 {
		return
	}
	t.mu.Lock()
	for _, i := range c.keyIdx {
		ids := t.table[string(args[i])]
		if ids == nil {
			ids = map[int64]struct{}{}
			t.table[string(args[i])] = ids
			t.nkeys.Store(int64(len(t.table)))
		}
		if _, ok := ids[c.ID]; !ok {
			ids[c.ID] = struct{}{}
			t.items++
		}
	}
	var evict []string
	if maxKeys > 0 && int64(len(t.table)) > maxKeys {
		// tracking-table-max-keys: invalidate keys until under the limit
		// (map order is random, as Redis's random walk).
		for k := range t.table {
			if int64(len(t.table)-len(evict)) <= maxKeys {
				break
			}
			evict = append(evict, k)
		}
	}
	t.mu.Unlock()
	for _, k := range evict {
		c.srv.invalidateKey(nil, []byte(k), false)
	}
}

// invalidateKey tells the clients that read key that it changed, and
// notes it for the BCAST subscribers of its prefixes. writer is the
// client whose command changed it (nil for expiry and eviction).
func (s *Server) invalidateKey(writer *Client, key []byte, bcast bool) {
	t := &s.tracking
	t.mu.Lock()
	if bcast && len(t.prefixes) > 0 {
		for p, bs := range t.prefixes {
			if len(p) <= len(key) && string(key[:len(p)]) == p {
				bs.keys[string(key)] = writer
				if writer != nil {
					writer.bcastPending = true
				} else {
					t.pendingBcast.Store(true)
				}
			}
		}
	}
	ids := t.table[string(key)]
	if ids != nil {
		delete(t.table, string(key))
		t.nkeys.Store(int64(len(t.table)))
		t.items -= int64(len(ids))
	}
	t.mu.Unlock()
	for id := range ids {
		s.clientsMu.Lock()
		target := s.clients[id]
		s.clientsMu.Unlock()
		if target == nil {
			continue
		}
		f := target.trackFlags.Load()
		if f&trackOn == 0 || f&trackBcast != 0 {
			continue
		}
		if target == writer && f&trackNoloop != 0 {
			continue
		}
		s.sendOrDefer(target, keysArray([][]byte{key}))
	}
}

// sendOrDefer sends an invalidation to c now or, while c is running a
// command (a key it changed, or one its read found expired), after that
// command's reply, as Redis orders them.
func (s *Server) sendOrDefer(c *Client, msg []byte) {
	c.trackMu.Lock()
	if c.executing {
		c.trackPending = append(c.trackPending, msg)
		c.trackMu.Unlock()
		return
	}
	c.trackMu.Unlock()
	s.sendTracking(c, msg)
}

// setExecuting marks the client as running a top-level command (on) or
// done with it (off); done, it sends the invalidations deferred meanwhile.
func (c *Client) setExecuting(on bool) {
	c.trackMu.Lock()
	c.executing = on
	var pending [][]byte
	if !on && !c.inMulti {
		pending, c.trackPending = c.trackPending, nil
	}
	c.trackMu.Unlock()
	for _, m := range pending {
		c.srv.sendTracking(c, m)
	}
}

// keysArray encodes the array of keys an invalidation carries.
func keysArray(keys [][]byte) []byte {
	var w resp.Writer
	w.Proto = 2
	w.ArrayLen(len(keys))
	for _, k := range keys {
		w.Bulk(k)
	}
	return w.Buf
}

// sendTracking delivers an invalidation (payload: an encoded array of
// keys, or a null for a flush) to c or the client it redirects to.
func (s *Server) sendTracking(c *Client, payload []byte) {
	dst := c
	redirected := false
	if id := c.trackRedir.Load(); id != 0 {
		s.clientsMu.Lock()
		dst = s.clients[id]
		s.clientsMu.Unlock()
		if dst != nil && (dst.leaving.Load() || dst.killed.Load()) {
			dst = nil // closing: gone, as Redis has freed it by now
		}
		if dst == nil {
			for {
				f := c.trackFlags.Load()
				if c.trackFlags.CompareAndSwap(f, f|trackBrokenRedir) {
					break
				}
			}
			if c.proto.Load() >= 3 {
				var w resp.Writer
				w.Proto = 3
				w.PushLen(2)
				w.BulkString("tracking-redir-broken")
				w.Int(id)
				c.push(w.Buf)
			}
			return
		}
		redirected = true
	}
	var w resp.Writer
	switch {
	case dst.proto.Load() >= 3:
		w.Proto = 3
		w.PushLen(2)
		w.BulkString("invalidate")
	case redirected && dst.nsub.Load() > 0:
		w.Proto = 2
		w.ArrayLen(3)
		w.BulkString("message")
		w.BulkString(trackingChannel)
	default:
		return // RESP2 without redirection cannot receive pushes
	}
	w.Buf = append(w.Buf, payload...)
	dst.push(w.Buf)
}

// afterCommand runs after each top-level command of a client: it sends the
// invalidations about keys the client changed itself (after its reply),
// broadcasts the BCAST batches, and clears CLIENT CACHING's one-shot flag.
func (c *Client) trackingAfterCommand(cmd *command.Command) {
	s := c.srv
	c.setExecuting(false)
	if c.bcastPending || s.tracking.pendingBcast.Load() {
		c.bcastPending = false
		s.broadcastInvalidations()
	}
	if f := c.trackFlags.Load(); f&trackCaching != 0 && !c.inMulti && cmd.Name != "client|caching" {
		c.trackFlags.Store(f &^ trackCaching)
	}
}

// broadcastInvalidations sends each prefix's changed keys to its BCAST
// clients (NOLOOP clients without the keys they changed themselves).
func (s *Server) broadcastInvalidations() {
	type delivery struct {
		c   *Client
		msg []byte
	}
	var out []delivery
	t := &s.tracking
	t.mu.Lock()
	t.pendingBcast.Store(false)
	for _, bs := range t.prefixes {
		if len(bs.keys) == 0 {
			continue
		}
		all := make([][]byte, 0, len(bs.keys))
		for k := range bs.keys {
			all = append(all, []byte(k))
		}
		common := keysArray(all)
		for c := range bs.clients {
			if c.trackFlags.Load()&trackNoloop == 0 {
				out = append(out, delivery{c, common})
				continue
			}
			var mine [][]byte
			for k, w := range bs.keys {
				if w != c {
					mine = append(mine, []byte(k))
				}
			}
			if len(mine) > 0 {
				out = append(out, delivery{c, keysArray(mine)})
			}
		}
		bs.keys = map[string]*Client{}
	}
	t.mu.Unlock()
	for _, d := range out {
		s.sendTracking(d.c, d.msg)
	}
}

// invalidateAll is a flush: every tracking client gets a null
// invalidation, and the table is emptied.
func (s *Server) invalidateAll() {
	t := &s.tracking
	t.mu.Lock()
	if t.table != nil {
		t.table = map[string]map[int64]struct{}{}
		t.nkeys.Store(0)
	}
	t.items = 0
	t.mu.Unlock()
	if !t.active() {
		return
	}
	s.clientsMu.Lock()
	var targets []*Client
	for _, c := range s.clients {
		if c.trackFlags.Load()&trackOn != 0 {
			targets = append(targets, c)
		}
	}
	s.clientsMu.Unlock()
	for _, c := range targets {
		null := []byte("*-1\r\n")
		if c.proto.Load() >= 3 || s.redirProto(c) >= 3 {
			null = []byte("_\r\n")
		}
		s.sendOrDefer(c, null)
	}
}

func (s *Server) redirProto(c *Client) int32 {
	id := c.trackRedir.Load()
	if id == 0 {
		return 0
	}
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	if d := s.clients[id]; d != nil {
		return d.proto.Load()
	}
	return 0
}

// trackWrites invalidates the keys a write command changed (called under
// its shard locks, where WATCH is touched).
func (c *Client) trackWrites(ctx *command.Ctx) {
	s := c.srv
	cmd := ctx.Cmd
	switch cmd.Name {
	case "flushall", "flushdb":
		s.invalidateAll()
		return
	}
	if ctx.Dirty == 0 {
		return
	}
	if cmd.Flags&command.AllShards != 0 && cmd.Keys == nil && cmd.FirstKey == 0 {
		return
	}
	idx := s.tx.writeKeysOf(cmd).KeyIndexes(c.trackIdx[:0], ctx.Args)
	if cmd.Keys != nil {
		idx = withoutReadOnlyKeys(cmd, ctx.Args, idx)
	}
	c.trackIdx = idx
	for _, i := range idx {
		if ctx.KeyModified(i) {
			s.invalidateKey(c, ctx.Args[i], true)
		}
	}
}

func clientCachingCommand(c *command.Ctx) {
	cl := client(c)
	f := cl.trackFlags.Load()
	if f&trackOn == 0 {
		c.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	switch {
	case strings.EqualFold(string(c.Args[2]), "yes"):
		if f&trackOptin == 0 {
			c.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
	case strings.EqualFold(string(c.Args[2]), "no"):
		if f&trackOptout == 0 {
			c.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
	default:
		c.Error(command.ErrSyntax)
		return
	}
	cl.trackFlags.Store(f | trackCaching)
	c.OK()
}

// clientTrackinginfoCommand is CLIENT TRACKINGINFO.
func clientTrackinginfoCommand(c *command.Ctx) {
	cl := client(c)
	f := cl.trackFlags.Load()
	w := c.W
	w.MapLen(3)
	w.BulkString("flags")
	var flags []string
	if f&trackOn == 0 {
		flags = append(flags, "off")
	} else {
		flags = append(flags, "on")
	}
	if f&trackBcast != 0 {
		flags = append(flags, "bcast")
	}
	if f&trackOptin != 0 {
		flags = append(flags, "optin")
		if f&trackCaching != 0 {
			flags = append(flags, "caching-yes")
		}
	}
	if f&trackOptout != 0 {
		flags = append(flags, "optout")
		if f&trackCaching != 0 {
			flags = append(flags, "caching-no")
		}
	}
	if f&trackNoloop != 0 {
		flags = append(flags, "noloop")
	}
	if f&trackBrokenRedir != 0 {
		flags = append(flags, "broken_redirect")
	}
	w.SetLen(len(flags))
	for _, s := range flags {
		w.BulkString(s)
	}
	w.BulkString("redirect")
	if f&trackOn != 0 {
		w.Int(cl.trackRedir.Load())
	} else {
		w.Int(-1)
	}
	w.BulkString("prefixes")
	w.ArrayLen(len(cl.trackPrefixes))
	for _, p := range cl.trackPrefixes {
		w.BulkString(p)
	}
}

// clientGetredirCommand is CLIENT GETREDIR: the redirect target, 0 for
// none, -1 when tracking is off.
func clientGetredirCommand(c *command.Ctx) {
	cl := client(c)
	if cl.trackFlags.Load()&trackOn == 0 {
		c.W.Int(-1)
		return
	}
	c.W.Int(cl.trackRedir.Load())
}

// trackingFigures are INFO's tracking_total_keys, _items and _prefixes.
func (t *trackingState) figures() (keys, items, prefixes int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return int64(len(t.table)), t.items, int64(len(t.prefixes))
}

// limit enforces tracking-table-max-keys from the cron: keys past the limit
// are invalidated as if they had changed.
func (s *Server) limitTrackingTable(maxKeys int64) {
	t := &s.tracking
	if maxKeys <= 0 || t.nkeys.Load() <= maxKeys {
		return
	}
	t.mu.Lock()
	var evict []string
	for k := range t.table {
		if int64(len(t.table)-len(evict)) <= maxKeys {
			break
		}
		evict = append(evict, k)
	}
	t.mu.Unlock()
	for _, k := range evict {
		s.invalidateKey(nil, []byte(k), false)
	}
}
