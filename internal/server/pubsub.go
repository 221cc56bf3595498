package server

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/resp"
)

// Pub/Sub: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, their UNSUBSCRIBE forms,
// PUBLISH, SPUBLISH and PUBSUB. A subscriber stays in its event loop:
// messages published from any goroutine go to its inbox (Client.push) and
// the loop appends them to its output between commands, so they follow
// its replies in order and are written with the loop's other replies. A
// subscriber with a goroutine of its own (CORVID_IO=goroutines, or one
// that left the loop to block) gets them through the writer goroutine a
// monitor uses (startAsync). A subscriber that does not read is cut off
// at client-output-buffer-limit pubsub.

// subscriptions is one namespace of subscriptions: channel (or pattern) to
// its subscribers.
type subscriptions map[string]map[*Client]struct{}

func (m subscriptions) add(name string, c *Client) bool {
	set := m[name]
	if set == nil {
		set = map[*Client]struct{}{}
		m[name] = set
	}
	if _, ok := set[c]; ok {
		return false
	}
	set[c] = struct{}{}
	return true
}

func (m subscriptions) remove(name string, c *Client) bool {
	set := m[name]
	if _, ok := set[c]; !ok {
		return false
	}
	delete(set, c)
	if len(set) == 0 {
		delete(m, name)
	}
	return true
}

// pubsubState is the server's subscription table.
type pubsubState struct {
	mu       sync.RWMutex
	channels subscriptions
	patterns subscriptions
	shard    subscriptions
}

func (p *pubsubState) init() {
	p.channels, p.patterns, p.shard = subscriptions{}, subscriptions{}, subscriptions{}
}

// clientSubs are one client's subscriptions (owner goroutine; the counts
// are mirrored in atomics for CLIENT LIST).
type clientSubs struct {
	channels map[string]struct{}
	patterns map[string]struct{}
	shard    map[string]struct{}
}

// pubsub kinds: the reply words and the namespace of each.
type subKind struct {
	sub, unsub, msg string
	table           func(*pubsubState) subscriptions
	mine            func(*Client) *map[string]struct{}
}

var (
	kindChannel = &subKind{"subscribe", "unsubscribe", "message",
		func(p *pubsubState) subscriptions { return p.channels }, func(c *Client) *map[string]struct{} { return &c.subs.channels }}
	kindPattern = &subKind{"psubscribe", "punsubscribe", "pmessage",
		func(p *pubsubState) subscriptions { return p.patterns }, func(c *Client) *map[string]struct{} { return &c.subs.patterns }}
	kindShard = &subKind{"ssubscribe", "sunsubscribe", "smessage",
		func(p *pubsubState) subscriptions { return p.shard }, func(c *Client) *map[string]struct{} { return &c.subs.shard }}
)

// subCount is the count Redis reports in (un)subscribe replies: channels
// and patterns together, shard channels on their own.
func (c *Client) subCount(k *subKind) int {
	if k == kindShard {
		return len(c.subs.shard)
	}
	return len(c.subs.channels) + len(c.subs.patterns)
}

// subscribed reports whether the client is in Redis's pub/sub context.
func (c *Client) subscribed() bool {
	return len(c.subs.channels)+len(c.subs.patterns)+len(c.subs.shard) > 0
}

func (c *Client) syncSubCounts() {
	c.nsub.Store(int32(len(c.subs.channels)))
	c.npsub.Store(int32(len(c.subs.patterns)))
	c.nssub.Store(int32(len(c.subs.shard)))
}

// subscribeGeneric subscribes the client to the names in args, replying
// once per name.
func subscribeGeneric(c *command.Ctx, k *subKind) {
	cl := client(c)
	if cl.lp == nil {
		// A connection with a goroutine of its own blocks in read, so
		// messages need the writer goroutine; one in an event loop gets
		// them through its inbox (Client.push), written with the loop's
		// other replies.
		cl.startAsync()
	}
	cl.keepPush = true
	s := cl.srv
	mine := k.mine(cl)
	if *mine == nil {
		*mine = map[string]struct{}{}
	}
	for _, a := range c.Args[1:] {
		name := string(a)
		if _, ok := (*mine)[name]; !ok {
			(*mine)[name] = struct{}{}
			s.ps.mu.Lock()
			k.table(&s.ps).add(name, cl)
			s.ps.mu.Unlock()
		}
		c.W.PushLen(3)
		c.W.BulkString(k.sub)
		c.W.Bulk(a)
		c.W.Int(int64(cl.subCount(k)))
	}
	cl.syncSubCounts()
}

// unsubscribeGeneric unsubscribes from the names in args, or from all of
// this kind when there are none.
func unsubscribeGeneric(c *command.Ctx, k *subKind) {
	cl := client(c)
	cl.keepPush = true
	names := c.Args[1:]
	if len(names) == 0 {
		cl.unsubscribeAll(k, c.W)
		return
	}
	for _, a := range names {
		cl.unsubscribeOne(k, string(a))
		c.W.PushLen(3)
		c.W.BulkString(k.unsub)
		c.W.Bulk(a)
		c.W.Int(int64(cl.subCount(k)))
	}
	cl.syncSubCounts()
}

func (c *Client) unsubscribeOne(k *subKind, name string) {
	mine := k.mine(c)
	if _, ok := (*mine)[name]; !ok {
		return
	}
	delete(*mine, name)
	s := c.srv
	s.ps.mu.Lock()
	k.table(&s.ps).remove(name, c)
	s.ps.mu.Unlock()
}

// unsubscribeAll drops every subscription of kind k, replying for each
// (w nil: silently, as a closing connection does).
func (c *Client) unsubscribeAll(k *subKind, w *resp.Writer) {
	mine := k.mine(c)
	if len(*mine) == 0 {
		if w != nil {
			w.PushLen(3)
			w.BulkString(k.unsub)
			w.Null()
			w.Int(int64(c.subCount(k)))
		}
		return
	}
	for name := range *mine {
		c.unsubscribeOne(k, name)
		if w != nil {
			w.PushLen(3)
			w.BulkString(k.unsub)
			w.BulkString(name)
			w.Int(int64(c.subCount(k)))
		}
	}
	c.syncSubCounts()
}

// dropSubscriptions forgets every subscription (RESET, disconnection).
func (c *Client) dropSubscriptions() {
	if !c.subscribed() {
		return
	}
	c.unsubscribeAll(kindChannel, nil)
	c.unsubscribeAll(kindPattern, nil)
	c.unsubscribeAll(kindShard, nil)
	c.syncSubCounts()
}

// publish delivers msg to the subscribers of channel (and, for plain
// channels, of the matching patterns) and returns how many got it.
func (s *Server) publish(k *subKind, channel, msg []byte) int64 {
	return s.publishFrom(nil, k, channel, msg)
}

// publishFrom is publish by the client from; a message to from itself
// waits until the reply to the command running has been queued (Redis's
// pending push messages).
func (s *Server) publishFrom(from *Client, k *subKind, channel, msg []byte) int64 {
	var enc [2][]byte // the message as RESP2 and as RESP3, built once
	s.ps.mu.RLock()
	defer s.ps.mu.RUnlock()
	n := int64(0)
	for c := range k.table(&s.ps)[string(channel)] {
		if c == from {
			from.deferPush(&enc, k.msg, nil, channel, msg)
		} else {
			c.deliver(&enc, k.msg, nil, channel, msg)
		}
		n++
	}
	if k == kindChannel && len(s.ps.patterns) > 0 {
		var penc [2][]byte
		for pat, set := range s.ps.patterns {
			if !config.GlobMatch([]byte(pat), channel, false) {
				continue
			}
			penc = [2][]byte{}
			for c := range set {
				if c == from {
					from.deferPush(&penc, "pmessage", []byte(pat), channel, msg)
				} else {
					c.deliver(&penc, "pmessage", []byte(pat), channel, msg)
				}
				n++
			}
		}
	}
	return n
}

// deferPush is deliver for a message the client publishes to itself: it is
// held until the reply to the command running (PUBLISH, or the EXEC or
// EVAL around it) has gone to the writer (flushPendingPush), as Redis 7.2
// orders them.
func (c *Client) deferPush(enc *[2][]byte, kind string, pattern, channel, msg []byte) {
	held := c.pendingPush
	c.pendingPush = nil
	c.deliverTo(enc, kind, pattern, channel, msg, func(b []byte) { held = append(held, b...) })
	c.pendingPush = held
}

// flushPendingPush sends the messages deferPush held.
func (c *Client) flushPendingPush() {
	if len(c.pendingPush) > 0 {
		if c.async {
			c.enqueueAsync(c.pendingPush)
		} else {
			c.w.Buf = append(c.w.Buf, c.pendingPush...)
		}
		c.pendingPush = nil
	}
}

// deliver queues one message for the subscriber, encoded for its protocol.
func (c *Client) deliver(enc *[2][]byte, kind string, pattern, channel, msg []byte) {
	c.deliverTo(enc, kind, pattern, channel, msg, c.push)
}

func (c *Client) deliverTo(enc *[2][]byte, kind string, pattern, channel, msg []byte, put func([]byte)) {
	p := 0
	if c.proto.Load() >= 3 {
		p = 1
	}
	if enc[p] == nil {
		w := resp.Writer{Proto: 2 + p}
		if pattern != nil {
			w.PushLen(4)
			w.BulkString(kind)
			w.Bulk(pattern)
		} else {
			w.PushLen(3)
			w.BulkString(kind)
		}
		w.Bulk(channel)
		w.Bulk(msg)
		enc[p] = w.Buf
	}
	put(enc[p])
}

func subscribeCommand(c *command.Ctx)    { subscribeGeneric(c, kindChannel) }
func psubscribeCommand(c *command.Ctx)   { subscribeGeneric(c, kindPattern) }
func ssubscribeCommand(c *command.Ctx)   { subscribeGeneric(c, kindShard) }
func unsubscribeCommand(c *command.Ctx)  { unsubscribeGeneric(c, kindChannel) }
func punsubscribeCommand(c *command.Ctx) { unsubscribeGeneric(c, kindPattern) }
func sunsubscribeCommand(c *command.Ctx) { unsubscribeGeneric(c, kindShard) }

func publishCommand(c *command.Ctx) {
	cl := client(c)
	c.W.Int(cl.srv.publishFrom(cl, kindChannel, c.Args[1], c.Args[2]))
	c.ForcePropagation() // replicas' subscribers get it too
}

func spublishCommand(c *command.Ctx) {
	cl := client(c)
	c.W.Int(cl.srv.publishFrom(cl, kindShard, c.Args[1], c.Args[2]))
	c.ForcePropagation()
}

// pubsubChannels is PUBSUB CHANNELS and SHARDCHANNELS [pattern].
func pubsubChannels(c *command.Ctx, k *subKind) {
	s := client(c).srv
	var pat []byte
	if len(c.Args) == 3 {
		pat = c.Args[2]
	}
	s.ps.mu.RLock()
	var names []string
	for name := range k.table(&s.ps) {
		if pat == nil || config.GlobMatch(pat, []byte(name), false) {
			names = append(names, name)
		}
	}
	s.ps.mu.RUnlock()
	c.W.ArrayLen(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

// pubsubNumsub is PUBSUB NUMSUB and SHARDNUMSUB [channel ...]. The reply
// is a flat array of channel, count pairs under RESP3 too, not a map: Redis
// answers so in every protocol version, and clients (redis-py's RESP3
// parser among them) expect the flat array.
func pubsubNumsub(c *command.Ctx, k *subKind) {
	s := client(c).srv
	names := c.Args[2:]
	c.W.ArrayLen(2 * len(names))
	s.ps.mu.RLock()
	defer s.ps.mu.RUnlock()
	for _, n := range names {
		c.W.Bulk(n)
		c.W.Int(int64(len(k.table(&s.ps)[string(n)])))
	}
}

func pubsubNumpat(c *command.Ctx) {
	s := client(c).srv
	s.ps.mu.RLock()
	n := len(s.ps.patterns)
	s.ps.mu.RUnlock()
	c.W.Int(int64(n))
}

var pubsubHelp = []string{
	"CHANNELS [<pattern>]",
	"    Return the currently active channels matching a <pattern> (default: '*').",
	"NUMPAT",
	"    Return number of subscriptions to patterns.",
	"NUMSUB [<channel> ...]",
	"    Return the number of subscribers for the specified channels, excluding",
	"    pattern subscriptions(default: no channels).",
	"SHARDCHANNELS [<pattern>]",
	"    Return the currently active shard level channels matching a <pattern> (default: '*').",
	"SHARDNUMSUB [<shardchannel> ...]",
	"    Return the number of subscribers for the specified shard level channel(s)",
}

func pubsubHelpCommand(c *command.Ctx) {
	w := c.W
	w.ArrayLen(len(pubsubHelp) + 3)
	w.SimpleString(strings.ToUpper(string(c.Args[0])) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range pubsubHelp {
		w.SimpleString(l)
	}
	w.SimpleString("HELP")
	w.SimpleString("    Print this help.")
}

// allowedWhenSubscribed lists what a RESP2 client in the pub/sub context
// may still run.
func allowedWhenSubscribed(cmd *command.Command) bool {
	switch cmd.Name {
	case "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe", "ping", "quit", "reset":
		return true
	}
	return false
}

func errSubscribedContext(name string) string {
	return "ERR Can't execute '" + name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
}

// loadPubsubLimits caches client-output-buffer-limit's pubsub class: hard
// bytes, soft bytes and soft seconds (0 = none).
func (s *Server) loadPubsubLimits() {
	// pubsub's, then the replica class's, then normal's (Redis's defaults
	// until given).
	l := [9]int64{32 << 20, 8 << 20, 60, 256 << 20, 64 << 20, 60, 0, 0, 0}
	f := strings.Fields(s.Config.String("client-output-buffer-limit"))
	for i := 0; i+3 < len(f); i += 4 {
		at := -1
		switch f[i] {
		case "pubsub":
			at = 0
		case "replica", "slave":
			at = 3
		case "normal":
			at = 6
		}
		for j := 0; at >= 0 && j < 3; j++ {
			l[at+j], _ = strconv.ParseInt(f[i+1+j], 10, 64)
		}
	}
	s.psLimits.Store(&l)
}

func (s *Server) cachedPubsubLimits() (hard, soft, secs int64) {
	l := s.psLimits.Load()
	if l == nil {
		return 32 << 20, 8 << 20, 60
	}
	return l[0], l[1], l[2]
}

// cachedReplicaLimits is client-output-buffer-limit's replica class: a
// replica's stream may queue that much (while its RDB is sent, say).
func (s *Server) cachedReplicaLimits() (hard, soft, secs int64) {
	l := s.psLimits.Load()
	if l == nil {
		return 256 << 20, 64 << 20, 60
	}
	return l[3], l[4], l[5]
}

// cachedNormalLimits is client-output-buffer-limit's normal class (none
// by default): what replies waiting for a client's socket may amount to.
func (s *Server) cachedNormalLimits() (hard, soft, secs int64) {
	l := s.psLimits.Load()
	if l == nil {
		return 0, 0, 0
	}
	return l[6], l[7], l[8]
}

// overOutputLimit applies the output buffer limits to a subscriber whose
// queue holds n bytes; asyncMu is held.
func (c *Client) overOutputLimit(n int) bool {
	var hard, soft, secs int64
	switch {
	case c.isReplica.Load():
		hard, soft, secs = c.srv.cachedReplicaLimits()
		// As Redis: a hard limit below repl-backlog-size would let a
		// replica continue (PSYNC) from the backlog and then drop it for
		// what it was sent; the backlog's size is the limit then.
		if backlog := c.srv.backlogSize.Load(); hard > 0 && hard < backlog {
			hard = backlog
		}
	case c.nsub.Load()+c.npsub.Load()+c.nssub.Load() == 0:
		return n > asyncOutLimit
	default:
		hard, soft, secs = c.srv.cachedPubsubLimits()
	}
	return c.overLimits(n, hard, soft, secs)
}

// overNormalLimit applies client-output-buffer-limit's normal class to a
// client whose replies not yet written amount to n bytes (after each
// command, as Redis checks as it adds a reply).
func (c *Client) overNormalLimit(n int) bool {
	hard, soft, secs := c.srv.cachedNormalLimits()
	if hard == 0 && soft == 0 {
		return false
	}
	return c.overLimits(n, hard, soft, secs)
}

// overLimits reports whether n bytes pass the hard limit, or the soft one
// for secs seconds running (0 is no limit).
func (c *Client) overLimits(n int, hard, soft, secs int64) bool {
	if hard > 0 && int64(n) > hard {
		return true
	}
	if soft > 0 && int64(n) > soft {
		now := time.Now().Unix()
		if c.softSince == 0 {
			c.softSince = now
		} else if now-c.softSince > secs {
			return true // over for more than secs seconds, as Redis counts
		}
	} else {
		c.softSince = 0
	}
	return false
}

func (s *Server) pubsubCommands() []*command.Command {
	const (
		ps    = command.PubSub | command.Loading | command.Stale | command.NoKeyspace
		subF  = ps | command.NoScript
		cat   = command.CatPubSub
		catS  = cat | command.CatSlow
		catF  = cat | command.CatFast
		unsub = ps | command.NoScript
	)
	notKey := func(last int) []command.KeySpec {
		return []command.KeySpec{{Flags: []string{"not_key"}, BeginIndex: 1, LastKey: last, Step: 1}}
	}
	sub := func(name string, arity int, h func(*command.Ctx)) *command.Command {
		return &command.Command{Name: "pubsub|" + name, Arity: arity, Flags: ps, ACL: catS, Group: "pubsub", Since: "2.8.0", Handler: h}
	}
	channels := sub("channels", -2, func(c *command.Ctx) { pubsubChannels(c, kindChannel) })
	channels.Summary = "Returns the active channels."
	numpat := sub("numpat", 2, pubsubNumpat)
	numpat.Summary = "Returns a count of unique pattern subscriptions."
	numsub := sub("numsub", -2, func(c *command.Ctx) { pubsubNumsub(c, kindChannel) })
	numsub.Summary = "Returns a count of subscribers to channels."
	shardch := sub("shardchannels", -2, func(c *command.Ctx) { pubsubChannels(c, kindShard) })
	shardch.Since, shardch.Summary = "7.0.0", "Returns the active shard channels."
	shardnum := sub("shardnumsub", -2, func(c *command.Ctx) { pubsubNumsub(c, kindShard) })
	shardnum.Since, shardnum.Summary = "7.0.0", "Returns the count of subscribers of shard channels."
	help := sub("help", 2, pubsubHelpCommand)
	help.Flags = command.Loading | command.Stale | command.NoKeyspace
	help.ACL = command.CatSlow
	help.Since, help.Summary = "6.2.0", "Returns helpful text about the different subcommands."
	return []*command.Command{
		{Name: "subscribe", Arity: -2, Flags: subF | command.Sentinel, ACL: catS, Group: "pubsub", Since: "2.0.0",
			Summary: "Listens for messages published to channels.", Handler: subscribeCommand},
		{Name: "unsubscribe", Arity: -1, Flags: unsub | command.Sentinel, ACL: catS, Group: "pubsub", Since: "2.0.0",
			Summary: "Stops listening to messages posted to channels.", Handler: unsubscribeCommand},
		{Name: "psubscribe", Arity: -2, Flags: subF | command.Sentinel, ACL: catS, Group: "pubsub", Since: "2.0.0",
			Summary: "Listens for messages published to channels that match one or more patterns.", Handler: psubscribeCommand},
		{Name: "punsubscribe", Arity: -1, Flags: unsub | command.Sentinel, ACL: catS, Group: "pubsub", Since: "2.0.0",
			Summary: "Stops listening to messages published to channels that match one or more patterns.", Handler: punsubscribeCommand},
		{Name: "publish", Arity: 3, Flags: ps | command.Fast | command.MayReplicate | command.Sentinel, ACL: catF, Group: "pubsub", Since: "2.0.0",
			Summary: "Posts a message to a channel.", Handler: publishCommand},
		{Name: "ssubscribe", Arity: -2, Flags: subF, ACL: catS, Group: "pubsub", Since: "7.0.0",
			FirstKey: 1, LastKey: -1, Step: 1, KeySpecs: notKey(-1),
			Summary: "Listens for messages published to shard channels.", Handler: ssubscribeCommand},
		{Name: "sunsubscribe", Arity: -1, Flags: unsub, ACL: catS, Group: "pubsub", Since: "7.0.0",
			FirstKey: 1, LastKey: -1, Step: 1, KeySpecs: notKey(-1),
			Summary: "Stops listening to messages posted to shard channels.", Handler: sunsubscribeCommand},
		{Name: "spublish", Arity: 3, Flags: ps | command.Fast | command.MayReplicate, ACL: catF, Group: "pubsub", Since: "7.0.0",
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: notKey(0),
			Summary: "Post a message to a shard channel", Handler: spublishCommand},
		{Name: "pubsub", Arity: -2, ACL: command.CatSlow, Group: "pubsub", Since: "2.8.0",
			Summary:     "A container for Pub/Sub commands.",
			Subcommands: []*command.Command{channels, help, numpat, numsub, shardch, shardnum}},
	}
}
