package commands

import (
	"strconv"
	"strings"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/ds/stream"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// streamCommands are the stream commands (Redis's t_stream.c). A stream is
// a Go object (*stream.Stream) stored with SetObject; handlers change it in
// place under the key's shard lock.
func streamCommands() []*command.Command {
	const (
		read  = command.CatRead
		write = command.CatWrite
		st    = command.CatStream
		fast  = command.CatFast
		slow  = command.CatSlow
		blk   = command.CatBlocking
	)
	nondet := []string{"nondeterministic_output"}
	key1 := func(flags ...string) []command.KeySpec { return []command.KeySpec{keyRange(1, 0, flags...)} }
	key2 := func(flags ...string) []command.KeySpec { return []command.KeySpec{keyRange(2, 0, flags...)} }
	streamsSpec := func(flags ...string) []command.KeySpec {
		return []command.KeySpec{{Flags: flags, Keyword: "STREAMS", KeywordStart: 1, LastKey: -1, Step: 1, Limit: 2}}
	}
	return []*command.Command{
		{Name: "xadd", Arity: -5, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | st | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: []command.KeySpec{{Flags: []string{"RW", "update"}, Notes: "UPDATE instead of INSERT because of the optional trimming feature", BeginIndex: 1, Step: 1}},
			Group: "stream", Since: "5.0.0", Summary: "Appends a new entry to a stream, creating it if needed.", Tips: nondet, Handler: xaddCommand},
		{Name: "xlen", Arity: 2, Flags: command.ReadOnly | command.Fast, ACL: read | st | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: key1("RO"),
			Group: "stream", Since: "5.0.0", Summary: "Returns the number of entries in a stream.", Handler: xlenCommand},
		{Name: "xrange", Arity: -4, Flags: command.ReadOnly, ACL: read | st | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: key1("RO", "access"),
			Group: "stream", Since: "5.0.0", Summary: "Returns the entries of a stream within a range of IDs.", Handler: xrangeCommand},
		{Name: "xrevrange", Arity: -4, Flags: command.ReadOnly, ACL: read | st | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: key1("RO", "access"),
			Group: "stream", Since: "5.0.0", Summary: "Returns the entries of a stream within a range of IDs, newest first.", Handler: xrevrangeCommand},
		{Name: "xdel", Arity: -3, Flags: command.Write | command.Fast, ACL: write | st | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: key1("RW", "delete"),
			Group: "stream", Since: "5.0.0", Summary: "Deletes entries from a stream and returns how many were removed.", Handler: xdelCommand},
		{Name: "xtrim", Arity: -4, Flags: command.Write, ACL: write | st | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: key1("RW", "delete"),
			Group: "stream", Since: "5.0.0", Summary: "Removes the oldest entries of a stream by length or by ID.", Tips: nondet, Handler: xtrimCommand},
		{Name: "xsetid", Arity: -3, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | st | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: key1("RW", "update"),
			Group: "stream", Since: "5.0.0", Summary: "Sets a stream's last generated ID and related counters.", Handler: xsetidCommand},
		{Name: "xread", Arity: -4, Flags: command.ReadOnly | command.Blocking | command.MovableKeys | command.OwnGoroutine, ACL: read | st | slow | blk,
			KeySpecs: streamsSpec("RO", "access"), Keys: xreadKeys,
			Group: "stream", Since: "5.0.0", Summary: "Returns entries newer than given IDs from one or more streams, optionally waiting for them.", Handler: xreadCommand},
		{Name: "xreadgroup", Arity: -7, Flags: command.Write | command.Blocking | command.MovableKeys | command.OwnGoroutine, ACL: write | st | slow | blk,
			// RO as in Redis: delivery changes the groups, not the entries.
			KeySpecs: []command.KeySpec{{Flags: []string{"RO", "access"}, Keyword: "STREAMS", KeywordStart: 4, LastKey: -1, Step: 1, Limit: 2}}, Keys: xreadKeys,
			Group: "stream", Since: "5.0.0", Summary: "Reads entries for a consumer of a group, optionally waiting for new ones.", Handler: xreadgroupCommand},
		{Name: "xack", Arity: -4, Flags: command.Write | command.Fast, ACL: write | st | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: key1("RW", "update"),
			Group: "stream", Since: "5.0.0", Summary: "Acknowledges entries of a consumer group and returns how many were pending.", Handler: xackCommand},
		{Name: "xpending", Arity: -3, Flags: command.ReadOnly, ACL: read | st | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: key1("RO", "access"),
			Group: "stream", Since: "5.0.0", Summary: "Reports the pending entries of a consumer group.", Tips: nondet, Handler: xpendingCommand},
		{Name: "xclaim", Arity: -6, Flags: command.Write | command.Fast, ACL: write | st | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: key1("RW", "update"),
			Group: "stream", Since: "5.0.0", Summary: "Changes the owner of pending entries of a consumer group.", Tips: nondet, Handler: xclaimCommand},
		{Name: "xautoclaim", Arity: -6, Flags: command.Write | command.Fast, ACL: write | st | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: key1("RW", "delete"),
			Group: "stream", Since: "6.2.0", Summary: "Claims the pending entries idle for long enough, scanning the group's PEL like a cursor.", Tips: nondet, Handler: xautoclaimCommand},
		{Name: "xgroup", Arity: -2, ACL: slow,
			Group: "stream", Since: "5.0.0", Summary: "A container for consumer group commands.",
			Subcommands: []*command.Command{
				{Name: "xgroup|create", Arity: -5, Flags: command.Write | command.DenyOOM, ACL: write | st | slow,
					FirstKey: 2, LastKey: 2, Step: 1, KeySpecs: key2("RW", "insert"),
					Group: "stream", Since: "5.0.0", Summary: "Creates a consumer group.", Handler: xgroupCreateCommand},
				{Name: "xgroup|createconsumer", Arity: 5, Flags: command.Write | command.DenyOOM, ACL: write | st | slow,
					FirstKey: 2, LastKey: 2, Step: 1, KeySpecs: key2("RW", "insert"),
					Group: "stream", Since: "6.2.0", Summary: "Creates a consumer in a consumer group.", Handler: xgroupCreateconsumerCommand},
				{Name: "xgroup|delconsumer", Arity: 5, Flags: command.Write, ACL: write | st | slow,
					FirstKey: 2, LastKey: 2, Step: 1, KeySpecs: key2("RW", "delete"),
					Group: "stream", Since: "5.0.0", Summary: "Deletes a consumer from a consumer group.", Handler: xgroupDelconsumerCommand},
				{Name: "xgroup|destroy", Arity: 4, Flags: command.Write, ACL: write | st | slow,
					FirstKey: 2, LastKey: 2, Step: 1, KeySpecs: key2("RW", "delete"),
					Group: "stream", Since: "5.0.0", Summary: "Destroys a consumer group.", Handler: xgroupDestroyCommand},
				{Name: "xgroup|help", Arity: 2, Flags: command.Loading | command.Stale | command.NoKeyspace, ACL: st | slow,
					Group: "stream", Since: "5.0.0", Summary: "Lists the XGROUP subcommands.", Handler: xgroupHelpCommand},
				{Name: "xgroup|setid", Arity: -5, Flags: command.Write, ACL: write | st | slow,
					FirstKey: 2, LastKey: 2, Step: 1, KeySpecs: key2("RW", "update"),
					Group: "stream", Since: "5.0.0", Summary: "Sets the last delivered ID of a consumer group.", Handler: xgroupSetidCommand},
			}},
		{Name: "xinfo", Arity: -2, ACL: slow,
			Group: "stream", Since: "5.0.0", Summary: "A container for stream introspection commands.",
			Subcommands: []*command.Command{
				{Name: "xinfo|consumers", Arity: 4, Flags: command.ReadOnly, ACL: read | st | slow,
					FirstKey: 2, LastKey: 2, Step: 1, KeySpecs: key2("RO", "access"),
					Group: "stream", Since: "5.0.0", Summary: "Lists the consumers of a consumer group.", Tips: nondet, Handler: xinfoConsumersCommand},
				{Name: "xinfo|groups", Arity: 3, Flags: command.ReadOnly, ACL: read | st | slow,
					FirstKey: 2, LastKey: 2, Step: 1, KeySpecs: key2("RO", "access"),
					Group: "stream", Since: "5.0.0", Summary: "Lists the consumer groups of a stream.", Handler: xinfoGroupsCommand},
				{Name: "xinfo|help", Arity: 2, Flags: command.Loading | command.Stale | command.NoKeyspace, ACL: st | slow,
					Group: "stream", Since: "5.0.0", Summary: "Lists the XINFO subcommands.", Handler: xinfoHelpCommand},
				{Name: "xinfo|stream", Arity: -3, Flags: command.ReadOnly, ACL: read | st | slow,
					FirstKey: 2, LastKey: 2, Step: 1, KeySpecs: key2("RO", "access"),
					Group: "stream", Since: "5.0.0", Summary: "Returns information about a stream.", Handler: xinfoStreamCommand},
			}},
	}
}

// Stream error replies, as t_stream.c words them.
const (
	errStreamID          = "ERR Invalid stream ID specified as stream command argument"
	errStreamIDZero      = "ERR The ID specified in XADD must be greater than 0-0"
	errStreamIDSmall     = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
	errStreamExhausted   = "ERR The stream has exhausted the last possible ID, unable to add more items"
	errStreamStartID     = "ERR invalid start ID for the interval"
	errStreamEndID       = "ERR invalid end ID for the interval"
	errStreamTrimBoth    = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
	errStreamMaxLenNeg   = "ERR The MAXLEN argument must be >= 0."
	errStreamLimitNeg    = "ERR The LIMIT argument must be >= 0."
	errStreamLimitNoTrim = "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
	errStreamXtrimNoTrim = "ERR syntax error, XTRIM must be called with a trimming strategy"
	errStreamLimitNoApx  = "ERR syntax error, LIMIT cannot be used without the special ~ option"
	errStreamTimeoutInt  = "ERR timeout is not an integer or out of range"
)

// streamConfig returns stream-node-max-entries and stream-node-max-bytes.
func streamConfig(c *command.Ctx) (int, int) {
	if cfg := configOf(c); cfg != nil {
		return int(cfg.Int("stream-node-max-entries")), int(cfg.Int("stream-node-max-bytes"))
	}
	return 100, 4096
}

// lookupStream finds key's stream for a write command; bad means a
// WRONGTYPE reply was given.
func lookupStream(c *command.Ctx, key []byte) (s *stream.Stream, bad bool) {
	e, ok, err := c.DB.LookupType(key, keyspace.TypeStream)
	if err != nil {
		c.Error(command.ErrWrongType)
		return nil, true
	}
	if !ok {
		return nil, false
	}
	return e.Object().(*stream.Stream), false
}

// lookupStreamRead is lookupStream for read commands (keyspace hits/misses).
func lookupStreamRead(c *command.Ctx, key []byte) (s *stream.Stream, bad bool) {
	e, ok, err := c.DB.LookupReadType(key, keyspace.TypeStream)
	if err != nil {
		c.Error(command.ErrWrongType)
		return nil, true
	}
	if !ok {
		return nil, false
	}
	return e.Object().(*stream.Stream), false
}

// parseStrictID parses an ID where "-" and "+" are not allowed, replying
// on error.
func parseStrictID(c *command.Ctx, arg []byte, missingSeq uint64) (stream.ID, bool) {
	id, _, ok := stream.ParseID(arg, missingSeq, true, false)
	if !ok {
		c.Error(errStreamID)
	}
	return id, ok
}

// parseIntervalID parses a range bound: "-", "+", an ID, or "(ID" for an
// exclusive bound (returned in excl), replying on error.
func parseIntervalID(c *command.Ctx, arg []byte, missingSeq uint64) (id stream.ID, excl, ok bool) {
	if len(arg) > 1 && arg[0] == '(' {
		id, _, ok = stream.ParseID(arg[1:], missingSeq, true, false)
		excl = true
	} else {
		id, _, ok = stream.ParseID(arg, missingSeq, false, false)
	}
	if !ok {
		c.Error(errStreamID)
	}
	return id, excl, ok
}

// replyID writes an ID as a bulk string.
func replyID(c *command.Ctx, id stream.ID) {
	c.Scratch = id.Append(c.Scratch[:0])
	c.W.Bulk(c.Scratch)
}

// replyEntry writes one entry: [id, [field, value, …]].
func replyEntry(c *command.Ctx, id stream.ID, fv [][]byte) {
	c.W.ArrayLen(2)
	replyID(c, id)
	c.W.ArrayLen(len(fv))
	for _, b := range fv {
		c.W.Bulk(b)
	}
}

// replyRange writes the entries of [start, end] (at most count, 0 = all)
// as an array and returns how many there were.
func replyRange(c *command.Ctx, s *stream.Stream, start, end stream.ID, rev bool, count int64) int64 {
	// The count is only known at the end: collect the IDs first when the
	// range is bounded, else write into a side buffer.
	mark := c.W.Len()
	var n int64
	s.Range(start, end, rev, func(id stream.ID, fv [][]byte) bool {
		replyEntry(c, id, fv)
		n++
		return count == 0 || n < count
	})
	prependArrayLen(c, mark, int(n))
	return n
}

// prependArrayLen inserts an array header for n elements at mark, before
// the elements already written there.
func prependArrayLen(c *command.Ctx, mark, n int) {
	body := append(c.Scratch[:0], c.W.Buf[mark:]...)
	c.W.Buf = c.W.Buf[:mark]
	c.W.ArrayLen(n)
	c.W.Buf = append(c.W.Buf, body...)
	c.Scratch = body[:0]
}

// trimParse is XADD/XTRIM's option parser (streamParseAddOrTrimArgsOrReply).
type trimParse struct {
	args       stream.TrimArgs
	id         stream.ID
	idGiven    bool
	seqGiven   bool
	noMkstream bool
	idPos      int
	// approxPos and valPos locate "~" and the threshold, which
	// propagation rewrites (streamPropagate).
	approxPos, valPos int
}

func parseAddOrTrim(c *command.Ctx, xadd bool) (p trimParse, ok bool) {
	limitGiven := false
	i := 2
	for ; i < len(c.Args); i++ {
		more := len(c.Args) - 1 - i
		opt := c.Args[i]
		switch {
		case xadd && len(opt) == 1 && opt[0] == '*':
			p.idPos = i
			goto done
		case strings.EqualFold(string(opt), "maxlen") && more > 0, strings.EqualFold(string(opt), "minid") && more > 0:
			if p.args.Strategy != stream.TrimNone {
				c.Error(errStreamTrimBoth)
				return p, false
			}
			p.args.Approx = false
			next := c.Args[i+1]
			if more >= 2 && len(next) == 1 && next[0] == '~' {
				p.args.Approx = true
				i++
				p.approxPos = i
			} else if more >= 2 && len(next) == 1 && next[0] == '=' {
				i++
			}
			p.valPos = i + 1
			if opt[1] == 'a' || opt[1] == 'A' {
				n, okn := resp.ParseInt(c.Args[i+1])
				if !okn {
					c.Error(command.ErrNotInteger)
					return p, false
				}
				if n < 0 {
					c.Error(errStreamMaxLenNeg)
					return p, false
				}
				p.args.MaxLen = n
				p.args.Strategy = stream.TrimMaxLen
			} else {
				id, okid := parseStrictID(c, c.Args[i+1], 0)
				if !okid {
					return p, false
				}
				p.args.MinID = id
				p.args.Strategy = stream.TrimMinID
			}
			i++
		case strings.EqualFold(string(opt), "limit") && more > 0:
			n, okn := resp.ParseInt(c.Args[i+1])
			if !okn {
				c.Error(command.ErrNotInteger)
				return p, false
			}
			if n < 0 {
				c.Error(errStreamLimitNeg)
				return p, false
			}
			p.args.Limit = n
			limitGiven = true
			i++
		case xadd && strings.EqualFold(string(opt), "nomkstream"):
			p.noMkstream = true
		case xadd:
			id, seqGiven, okid := stream.ParseID(opt, 0, true, true)
			if !okid {
				c.Error(errStreamID)
				return p, false
			}
			p.id, p.seqGiven, p.idGiven, p.idPos = id, seqGiven, true, i
			goto done
		default:
			c.Error(command.ErrSyntax)
			return p, false
		}
	}
	p.idPos = i
done:
	if p.args.Limit != 0 && p.args.Strategy == stream.TrimNone {
		c.Error(errStreamLimitNoTrim)
		return p, false
	}
	if !xadd && p.args.Strategy == stream.TrimNone {
		c.Error(errStreamXtrimNoTrim)
		return p, false
	}
	if mustObey(c) {
		// From our primary (or an AOF): the trim was rewritten to exact
		// ("=", and LIMIT kept), so it is applied as it is, without a limit.
		p.args.Limit = 0
		return p, true
	}
	if limitGiven {
		if !p.args.Approx {
			c.Error(errStreamLimitNoApx)
			return p, false
		}
	} else if p.args.Approx {
		maxEntries, _ := streamConfig(c)
		p.args.Limit = 100 * int64(maxEntries)
		if p.args.Limit <= 0 {
			p.args.Limit = 10000
		}
		if p.args.Limit > 1000000 {
			p.args.Limit = 1000000
		}
	} else {
		p.args.Limit = 0
	}
	return p, true
}

func xaddCommand(c *command.Ctx) {
	p, ok := parseAddOrTrim(c, true)
	if !ok {
		return
	}
	fieldPos := p.idPos + 1
	if n := len(c.Args) - fieldPos; n < 2 || n%2 == 1 {
		c.Error(command.ErrWrongArgs("xadd"))
		return
	}
	if p.idGiven && p.seqGiven && p.id.IsZero() {
		c.Error(errStreamIDZero)
		return
	}
	key := c.Args[1]
	s, bad := lookupStream(c, key)
	if bad {
		return
	}
	created := false
	if s == nil {
		if p.noMkstream {
			c.W.Null()
			return
		}
		s = stream.New()
		created = true
	}
	if s.LastID() == stream.MaxID {
		c.Error(errStreamExhausted)
		return
	}
	var id stream.ID
	if !p.idGiven {
		var okid bool
		id, okid = s.NextID(uint64(c.DB.Now()))
		if !okid {
			c.Error(errStreamExhausted)
			return
		}
	} else if p.seqGiven {
		id = p.id
	} else {
		last := s.LastID()
		if last.Ms == p.id.Ms {
			if last.Seq == ^uint64(0) {
				c.Error(errStreamIDSmall)
				return
			}
			id = stream.ID{Ms: last.Ms, Seq: last.Seq + 1}
		} else {
			id = p.id
		}
	}
	if id.Compare(s.LastID()) <= 0 {
		c.Error(errStreamIDSmall)
		return
	}
	maxEntries, maxBytes := streamConfig(c)
	s.Append(id, c.Args[fieldPos:], maxEntries, maxBytes)
	if created {
		c.DB.SetObject(key, keyspace.TypeStream, s, 0)
	}
	replyID(c, id)
	c.Dirty++
	c.Notify(command.NotifyStream, "xadd", key)
	if p.args.Strategy != stream.TrimNone {
		if s.Trim(p.args) > 0 {
			c.Notify(command.NotifyStream, "xtrim", key)
		}
	}
	if c.Propagating {
		streamPropagate(c, s, &p, id, !(p.idGiven && p.seqGiven))
	}
}

func xlenCommand(c *command.Ctx) {
	s, bad := lookupStreamRead(c, c.Args[1])
	if bad {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(s.Len()))
}

func xrangeCommand(c *command.Ctx)    { xrangeGeneric(c, false) }
func xrevrangeCommand(c *command.Ctx) { xrangeGeneric(c, true) }

func xrangeGeneric(c *command.Ctx, rev bool) {
	startArg, endArg := c.Args[2], c.Args[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	start, startEx, ok := parseIntervalID(c, startArg, 0)
	if !ok {
		return
	}
	if startEx {
		if start, ok = start.Incr(); !ok {
			c.Error(errStreamStartID)
			return
		}
	}
	end, endEx, ok := parseIntervalID(c, endArg, ^uint64(0))
	if !ok {
		return
	}
	if endEx {
		if end, ok = end.Decr(); !ok {
			c.Error(errStreamEndID)
			return
		}
	}
	count := int64(-1)
	for j := 4; j < len(c.Args); j++ {
		if strings.EqualFold(string(c.Args[j]), "count") && j+1 < len(c.Args) {
			n, okn := resp.ParseInt(c.Args[j+1])
			if !okn {
				c.Error(command.ErrNotInteger)
				return
			}
			count = max(n, 0)
			j++
		} else {
			c.Error(command.ErrSyntax)
			return
		}
	}
	s, bad := lookupStreamRead(c, c.Args[1])
	if bad {
		return
	}
	if s == nil {
		c.W.ArrayLen(0)
		return
	}
	if count == 0 {
		c.W.NullArray()
		return
	}
	replyRange(c, s, start, end, rev, max(count, 0))
}

func xdelCommand(c *command.Ctx) {
	s, bad := lookupStream(c, c.Args[1])
	if bad {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	ids := make([]stream.ID, 0, len(c.Args)-2)
	for _, a := range c.Args[2:] {
		id, ok := parseStrictID(c, a, 0)
		if !ok {
			return
		}
		ids = append(ids, id)
	}
	deleted := 0
	for _, id := range ids {
		if s.Delete(id) {
			deleted++
		}
	}
	if deleted > 0 {
		c.Notify(command.NotifyStream, "xdel", c.Args[1])
		c.Dirty += int64(deleted)
	}
	c.W.Int(int64(deleted))
}

func xtrimCommand(c *command.Ctx) {
	p, ok := parseAddOrTrim(c, false)
	if !ok {
		return
	}
	s, bad := lookupStream(c, c.Args[1])
	if bad {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	deleted := s.Trim(p.args)
	if deleted > 0 {
		c.Notify(command.NotifyStream, "xtrim", c.Args[1])
		c.Dirty += deleted
		if c.Propagating {
			streamPropagate(c, s, &p, stream.ID{}, false)
		}
	}
	c.W.Int(deleted)
}

// streamPropagate makes XADD and XTRIM deterministic on replicas, as
// Redis does: the ID generated replaces "*" or "ms-*", and an approximate
// trim ("~", maybe with LIMIT) becomes an exact one to where this stream
// was cut: MAXLEN = its length, or MINID = its first entry.
func streamPropagate(c *command.Ctx, s *stream.Stream, p *trimParse, id stream.ID, rewriteID bool) {
	approx := p.args.Approx && p.args.Strategy != stream.TrimNone
	if !approx && !rewriteID {
		return
	}
	args := append([][]byte(nil), c.Args...)
	if approx {
		args[p.approxPos] = []byte("=")
		if p.args.Strategy == stream.TrimMaxLen {
			args[p.valPos] = strconv.AppendUint(nil, s.Len(), 10)
		} else {
			first, ok := s.FirstLiveID()
			if !ok {
				first = stream.MaxID // empty: every entry went
			}
			args[p.valPos] = first.Append(nil)
		}
	}
	if rewriteID {
		args[p.idPos] = id.Append(nil)
	}
	c.PropagateAs(args...)
}

func xsetidCommand(c *command.Ctx) {
	groupStateOnly(c, 1) // the last ID and counters, not the entries
	id, ok := parseStrictID(c, c.Args[2], 0)
	if !ok {
		return
	}
	entriesAdded := int64(-1)
	var maxDel stream.ID
	for i := 3; i < len(c.Args); i++ {
		more := len(c.Args) - 1 - i
		opt := string(c.Args[i])
		switch {
		case strings.EqualFold(opt, "entriesadded") && more > 0:
			n, okn := resp.ParseInt(c.Args[i+1])
			if !okn {
				c.Error(command.ErrNotInteger)
				return
			}
			if n < 0 {
				c.Error("ERR entries_added must be positive")
				return
			}
			entriesAdded = n
			i++
		case strings.EqualFold(opt, "maxdeletedid") && more > 0:
			if maxDel, ok = parseStrictID(c, c.Args[i+1], 0); !ok {
				return
			}
			if id.Less(maxDel) {
				c.Error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
				return
			}
			i++
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	s, bad := lookupStream(c, c.Args[1])
	if bad {
		return
	}
	if s == nil {
		c.Error(command.ErrNoSuchKey)
		return
	}
	if id.Less(s.MaxDeletedID()) {
		c.Error("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id")
		return
	}
	if s.Len() > 0 {
		maxid, _ := s.LastLiveID()
		if id.Less(maxid) {
			c.Error("ERR The ID specified in XSETID is smaller than the target stream top item")
			return
		}
		if entriesAdded != -1 && s.Len() > uint64(entriesAdded) {
			c.Error("ERR The entries_added specified in XSETID is smaller than the target stream length")
			return
		}
	}
	s.SetLastID(id)
	if entriesAdded != -1 {
		s.SetEntriesAdded(uint64(entriesAdded))
	}
	if !maxDel.IsZero() {
		s.SetMaxDeletedID(maxDel)
	}
	c.OK()
	c.Dirty++
	c.Notify(command.NotifyStream, "xsetid", c.Args[1])
}

// replyHelpLines writes a container's HELP as Redis's addReplyHelp does.
func replyHelpLines(c *command.Ctx, name string, lines []string) {
	c.W.ArrayLen(len(lines) + 3)
	c.W.SimpleString(name + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.W.SimpleString(l)
	}
	c.W.SimpleString("HELP")
	c.W.SimpleString("    Print this help.")
}

// errSubcommandSyntax is addReplySubcommandSyntaxError's reply.
func errSubcommandSyntax(c *command.Ctx) {
	sub := c.Args[1]
	if len(sub) > 128 {
		sub = sub[:128]
	}
	c.Error("ERR unknown subcommand or wrong number of arguments for '" + string(sub) + "'. Try " + strings.ToUpper(string(c.Args[0])) + " HELP.")
}
