package commands

import (
	"math"
	"strings"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/ds/stream"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// xreadKeys finds XREAD/XREADGROUP's stream keys the way Redis's
// xreadGetKeys does: skip the options (their arguments too, so a group
// named "streams" is not taken for the keyword), then the first half of
// what follows STREAMS.
func xreadKeys(args [][]byte) []int {
	pos := -1
	for i := 1; i < len(args); i++ {
		a := string(args[i])
		switch {
		case strings.EqualFold(a, "block"), strings.EqualFold(a, "count"):
			i++
			continue
		case strings.EqualFold(a, "group"):
			i += 2
			continue
		case strings.EqualFold(a, "noack"):
			continue
		case strings.EqualFold(a, "streams"):
			pos = i
		}
		break
	}
	if pos < 0 {
		return nil
	}
	n := len(args) - pos - 1
	if n == 0 || n%2 != 0 {
		return nil
	}
	out := make([]int, 0, n/2)
	for i := 0; i < n/2; i++ {
		out = append(out, pos+1+i)
	}
	return out
}

func xreadCommand(c *command.Ctx)      { xreadGeneric(c, false) }
func xreadgroupCommand(c *command.Ctx) { xreadGeneric(c, true) }

// xreadGeneric is XREAD and XREADGROUP (Redis's xreadCommand).
func xreadGeneric(c *command.Ctx, group bool) {
	if group {
		c.PreventPropagation() // its effects go as XCLAIM and XGROUP commands
	}
	timeout := int64(-1)
	count := int64(0)
	streamsArg := 0
	nstreams := 0
	noack := false
	var groupName, consumerName []byte
	name := "xread"
	if group {
		name = "xreadgroup"
	}
	for i := 1; i < len(c.Args); i++ {
		more := len(c.Args) - i - 1
		o := string(c.Args[i])
		switch {
		case strings.EqualFold(o, "block") && more > 0:
			if c.InScript {
				// Redis refuses it outright from scripts, not as a timeout.
				c.Error("ERR " + string(c.Args[0]) + " command is not allowed with BLOCK option from scripts")
				return
			}
			i++
			t, ok := resp.ParseInt(c.Args[i])
			if !ok {
				c.Error(errStreamTimeoutInt)
				return
			}
			if t < 0 {
				c.Error(command.ErrTimeoutNegative)
				return
			}
			if t > 0 {
				now := c.DB.Now()
				if t > math.MaxInt64-now {
					c.Error(command.ErrTimeoutOutOfRange)
					return
				}
				t += now
			}
			timeout = t
		case strings.EqualFold(o, "count") && more > 0:
			i++
			n, ok := resp.ParseInt(c.Args[i])
			if !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			count = max(n, 0)
		case strings.EqualFold(o, "streams") && more > 0:
			streamsArg = i + 1
			nstreams = len(c.Args) - streamsArg
			if nstreams%2 != 0 {
				sym := "$"
				if group {
					sym = ">"
				}
				c.Error("ERR Unbalanced '" + name + "' list of streams: for each stream key an ID or '" + sym + "' must be specified.")
				return
			}
			nstreams /= 2
			i = len(c.Args)
		case strings.EqualFold(o, "group") && more >= 2:
			if !group {
				c.Error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
				return
			}
			groupName, consumerName = c.Args[i+1], c.Args[i+2]
			i += 2
		case strings.EqualFold(o, "noack"):
			if !group {
				c.Error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
				return
			}
			noack = true
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	if streamsArg == 0 {
		c.Error(command.ErrSyntax)
		return
	}
	if group {
		for i := range nstreams {
			groupStateOnly(c, streamsArg+i) // delivery changes groups, not entries
		}
	}
	if group && groupName == nil {
		c.Error("ERR Missing GROUP option for XREADGROUP")
		return
	}

	type req struct {
		s     *stream.Stream
		g     *stream.Group
		after stream.ID // serve IDs greater than this
		newer bool      // XREADGROUP ">"
		last  bool      // XREAD "+"
	}
	reqs := make([]req, nstreams)
	for k := 0; k < nstreams; k++ {
		key := c.Args[streamsArg+k]
		arg := c.Args[streamsArg+nstreams+k]
		s, bad := lookupStreamRead(c, key)
		if bad {
			return
		}
		r := &reqs[k]
		r.s = s
		if group {
			if s != nil {
				r.g = s.Group(groupName)
			}
			if r.g == nil {
				c.Error("NOGROUP No such key '" + string(key) + "' or consumer group '" + string(groupName) + "' in XREADGROUP with GROUP option")
				return
			}
		}
		switch string(arg) {
		case "$":
			if group {
				c.Error("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")
				return
			}
			if s != nil {
				r.after = s.LastID()
			}
			continue
		case ">":
			if !group {
				c.Error("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
				return
			}
			r.newer = true
			continue
		case "+":
			if group {
				c.Error("ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set.")
				return
			}
			r.last = true
			if s != nil {
				r.after = s.LastID()
			}
			continue
		}
		id, ok := parseStrictID(c, arg, 0)
		if !ok {
			return
		}
		r.after = id
	}

	now := c.DB.Now()
	mark := c.W.Len()
	served := 0
	for k := range reqs {
		r := &reqs[k]
		if r.s == nil {
			continue
		}
		key := c.Args[streamsArg+k]
		s := r.s
		sync, history := false, false
		var consumer *stream.Consumer
		if group {
			if !r.newer {
				sync, history = true, true
			} else if s.Len() > 0 {
				if maxid, _ := s.LastLiveID(); maxid.Compare(r.g.LastID) > 0 {
					sync = true
					r.after = r.g.LastID
				}
			}
			consumer = r.g.Consumer(consumerName)
			if consumer == nil {
				consumer = r.g.CreateConsumer(consumerName, now)
				c.Dirty++
				c.Notify(command.NotifyStream, "xgroup-createconsumer", key)
				if noack {
					propagateConsumerCreation(c, key, groupName, consumerName)
				}
			}
			consumer.SeenTime = now
		} else if s.Len() > 0 {
			maxid, _ := s.LastLiveID()
			if r.last {
				sync = true
				r.after, _ = maxid.Decr()
			} else if maxid.Compare(r.after) > 0 {
				sync = true
			}
		}
		if !sync {
			continue
		}
		served++
		if c.W.Proto < 3 {
			c.W.ArrayLen(2)
		}
		c.W.Bulk(key)
		start, ok := r.after.Incr()
		if !ok {
			c.W.ArrayLen(0)
			continue
		}
		switch {
		case history:
			replyConsumerHistory(c, s, consumer, start, count, now)
		case group:
			bodyMark := c.W.Len()
			var n int64
			lastBefore := r.g.LastID
			s.Range(start, stream.MaxID, false, func(id stream.ID, fv [][]byte) bool {
				s.Delivered(r.g, id)
				replyEntry(c, id, fv)
				if !noack {
					r.g.Deliver(id, consumer, now)
					consumer.ActiveTime = now
					if c.Propagating {
						propagateXclaim(c, key, groupName, r.g, id, r.g.PEL.Get(id))
					}
				}
				n++
				return count == 0 || n < count
			})
			if noack && r.g.LastID != lastBefore {
				propagateGroupID(c, key, groupName, r.g)
			}
			prependArrayLen(c, bodyMark, int(n))
		case r.last:
			replyRange(c, s, start, stream.MaxID, false, 1)
		default:
			replyRange(c, s, start, stream.MaxID, false, count)
		}
		if group {
			c.Dirty++
		}
	}
	if served > 0 {
		body := append(c.Scratch[:0], c.W.Buf[mark:]...)
		c.W.Buf = c.W.Buf[:mark]
		if c.W.Proto >= 3 {
			c.W.MapLen(served)
		} else {
			c.W.ArrayLen(served)
		}
		c.W.Buf = append(c.W.Buf, body...)
		c.Scratch = body[:0]
		return
	}
	c.W.Buf = c.W.Buf[:mark]
	if timeout == -1 {
		c.W.NullArray()
		return
	}
	// Block: "$" and "+" become the current last IDs, so the run that
	// follows a write serves only entries added after this one.
	for k := range reqs {
		i := streamsArg + nstreams + k
		if a := string(c.Args[i]); a == "$" || a == "+" {
			c.Args[i] = reqs[k].after.Append(nil)
		}
	}
	c.BlockOn(timeout, keyspace.TypeStream, c.Args[streamsArg:streamsArg+nstreams])
	if group && c.Block != nil {
		// Redis's unblock_on_nokey: a deleted stream or group wakes the
		// reader, whose run then replies NOGROUP (or WRONGTYPE).
		c.Block.WakeOnAnyChange = true
	}
}

// replyConsumerHistory writes a consumer's own pending entries from start
// (XREADGROUP with an ID other than ">"), as
// streamReplyWithRangeFromConsumerPEL: entries deleted since are given
// with a null body; each one served counts as a new delivery.
func replyConsumerHistory(c *command.Ctx, s *stream.Stream, consumer *stream.Consumer, start stream.ID, count, now int64) {
	mark := c.W.Len()
	var n int64
	consumer.PEL.Ascend(start, func(id stream.ID, nack *stream.NACK) bool {
		if count != 0 && n >= count {
			return false
		}
		if fv, ok := s.Get(id); ok {
			replyEntry(c, id, fv)
			nack.DeliveryTime = now
			nack.DeliveryCount++
		} else {
			c.W.ArrayLen(2)
			replyID(c, id)
			c.W.NullArray()
		}
		n++
		return true
	})
	prependArrayLen(c, mark, int(n))
}
