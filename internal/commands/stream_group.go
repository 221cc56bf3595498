package commands

import (
	"math"
	"strconv"
	"strings"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/ds/stream"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

const errXgroupNoKey = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."

var xgroupHelp = []string{
	"CREATE <key> <groupname> <id|$> [option]",
	"    Create a new consumer group. Options are:",
	"    * MKSTREAM",
	"      Create the empty stream if it does not exist.",
	"    * ENTRIESREAD entries_read",
	"      Set the group's entries_read counter (internal use).",
	"CREATECONSUMER <key> <groupname> <consumer>",
	"    Create a new consumer in the specified group.",
	"DELCONSUMER <key> <groupname> <consumer>",
	"    Remove the specified consumer.",
	"DESTROY <key> <groupname>",
	"    Remove the specified group.",
	"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
	"    Set the current group ID and entries_read counter.",
}

func xgroupHelpCommand(c *command.Ctx) { replyHelpLines(c, "XGROUP", xgroupHelp) }

// xgroupPrologue is the part of Redis's xgroupCommand shared by the
// subcommands: the CREATE/SETID options, the key (which must exist unless
// MKSTREAM) and, for the subcommands that need it, the group.
func xgroupPrologue(c *command.Ctx, sub string) (s *stream.Stream, g *stream.Group, mkstream bool, entriesRead int64, ok bool) {
	entriesRead = stream.InvalidEntriesRead
	create, setid := sub == "create", sub == "setid"
	for i := 5; i < len(c.Args); {
		a := string(c.Args[i])
		switch {
		case create && strings.EqualFold(a, "mkstream"):
			mkstream = true
			i++
		case (create || setid) && strings.EqualFold(a, "entriesread") && i+1 < len(c.Args):
			n, okn := resp.ParseInt(c.Args[i+1])
			if !okn {
				c.Error(command.ErrNotInteger)
				return
			}
			if n < 0 && n != stream.InvalidEntriesRead {
				c.Error("ERR value for ENTRIESREAD must be positive or -1")
				return
			}
			entriesRead = n
			i += 2
		default:
			errSubcommandSyntax(c)
			return
		}
	}
	s, bad := lookupStream(c, c.Args[2])
	if bad {
		return
	}
	if !mkstream {
		if s == nil {
			c.Error(errXgroupNoKey)
			return
		}
		g = s.Group(c.Args[3])
		if g == nil && (setid || sub == "createconsumer" || sub == "delconsumer") {
			c.Error("NOGROUP No such consumer group '" + string(c.Args[3]) + "' for key name '" + string(c.Args[2]) + "'")
			return
		}
	}
	return s, g, mkstream, entriesRead, true
}

func xgroupCreateCommand(c *command.Ctx) {
	s, _, _, entriesRead, ok := xgroupPrologue(c, "create")
	if !ok {
		return
	}
	if len(c.Args) > 8 {
		errSubcommandSyntax(c)
		return
	}
	var id stream.ID
	if string(c.Args[4]) == "$" {
		if s != nil {
			id = s.LastID()
		}
	} else if id, ok = parseStrictID(c, c.Args[4], 0); !ok {
		return
	}
	key := c.Args[2]
	if s == nil {
		s = stream.New()
		c.DB.SetObject(key, keyspace.TypeStream, s, 0)
		c.Dirty++ // the new key (Redis signals it as modified)
	} else {
		groupStateOnly(c, 2)
	}
	if s.CreateGroup(c.Args[3], id, entriesRead) == nil {
		c.Error("BUSYGROUP Consumer Group name already exists")
		return
	}
	c.OK()
	c.Dirty++
	c.Notify(command.NotifyStream, "xgroup-create", key)
}

func xgroupSetidCommand(c *command.Ctx) {
	s, g, _, entriesRead, ok := xgroupPrologue(c, "setid")
	if !ok {
		return
	}
	groupStateOnly(c, 2)
	if len(c.Args) != 5 && len(c.Args) != 7 {
		errSubcommandSyntax(c)
		return
	}
	var id stream.ID
	if string(c.Args[4]) == "$" {
		id = s.LastID()
	} else {
		var okid bool
		if id, _, okid = stream.ParseID(c.Args[4], 0, false, false); !okid {
			c.Error(errStreamID)
			return
		}
	}
	g.LastID = id
	g.EntriesRead = entriesRead
	c.OK()
	c.Dirty++
	c.Notify(command.NotifyStream, "xgroup-setid", c.Args[2])
}

func xgroupDestroyCommand(c *command.Ctx) {
	s, g, _, _, ok := xgroupPrologue(c, "destroy")
	if !ok {
		return
	}
	groupStateOnly(c, 2)
	if g == nil {
		c.W.Int(0)
		return
	}
	s.DestroyGroup(c.Args[3])
	c.W.Int(1)
	// Dirty also wakes XREADGROUP clients blocked on the key: their run
	// again replies NOGROUP, as Redis unblocks them.
	c.Dirty++
	c.Notify(command.NotifyStream, "xgroup-destroy", c.Args[2])
}

func xgroupCreateconsumerCommand(c *command.Ctx) {
	_, g, _, _, ok := xgroupPrologue(c, "createconsumer")
	if !ok {
		return
	}
	groupStateOnly(c, 2)
	if g.CreateConsumer(c.Args[4], c.DB.Now()) == nil {
		c.W.Int(0)
		return
	}
	c.Dirty++
	c.Notify(command.NotifyStream, "xgroup-createconsumer", c.Args[2])
	c.W.Int(1)
}

func xgroupDelconsumerCommand(c *command.Ctx) {
	_, g, _, _, ok := xgroupPrologue(c, "delconsumer")
	if !ok {
		return
	}
	groupStateOnly(c, 2)
	cons := g.Consumer(c.Args[4])
	if cons == nil {
		c.W.Int(0)
		return
	}
	pending := g.DeleteConsumer(cons)
	c.Dirty++
	c.Notify(command.NotifyStream, "xgroup-delconsumer", c.Args[2])
	c.W.Int(int64(pending))
}

func xackCommand(c *command.Ctx) {
	groupStateOnly(c, 1)
	s, bad := lookupStream(c, c.Args[1])
	if bad {
		return
	}
	var g *stream.Group
	if s != nil {
		g = s.Group(c.Args[2])
	}
	if g == nil {
		c.W.Int(0)
		return
	}
	ids := make([]stream.ID, 0, len(c.Args)-3)
	for _, a := range c.Args[3:] {
		id, ok := parseStrictID(c, a, 0)
		if !ok {
			return
		}
		ids = append(ids, id)
	}
	acked := 0
	for _, id := range ids {
		if g.Ack(id) {
			acked++
		}
	}
	c.Dirty += int64(acked)
	c.W.Int(int64(acked))
}

// groupStateOnly marks the stream key at argument i as unchanged for WATCH
// and client tracking: the command changes consumer-group state (groups,
// consumers, pending entries, last-delivered IDs), which Redis does not
// signal as a modification of the key. Only a change of the entries (XADD,
// XDEL, XTRIM) or the creation of the key (MKSTREAM) does, so a WATCH on a
// stream survives XREADGROUP, XACK, XCLAIM, XAUTOCLAIM, XSETID and the
// XGROUP subcommands there as here.
func groupStateOnly(c *command.Ctx, i int) { c.KeyUnmodified(i) }

func noGroupErr(c *command.Ctx) {
	c.Error("NOGROUP No such key '" + string(c.Args[1]) + "' or consumer group '" + string(c.Args[2]) + "'")
}

func xpendingCommand(c *command.Ctx) {
	argc := len(c.Args)
	justInfo := argc == 3
	if argc != 3 && (argc < 6 || argc > 9) {
		c.Error(command.ErrSyntax)
		return
	}
	var start, end stream.ID
	var count, minIdle int64
	var consumerName []byte
	if argc >= 6 {
		si := 3
		if strings.EqualFold(string(c.Args[3]), "idle") {
			n, ok := resp.ParseInt(c.Args[4])
			if !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			minIdle = n
			if argc < 8 {
				c.Error(command.ErrSyntax)
				return
			}
			si += 2
		}
		n, ok := resp.ParseInt(c.Args[si+2])
		if !ok {
			c.Error(command.ErrNotInteger)
			return
		}
		count = max(n, 0)
		var ex bool
		if start, ex, ok = parseIntervalID(c, c.Args[si], 0); !ok {
			return
		}
		if ex {
			if start, ok = start.Incr(); !ok {
				c.Error(errStreamStartID)
				return
			}
		}
		if end, ex, ok = parseIntervalID(c, c.Args[si+1], math.MaxUint64); !ok {
			return
		}
		if ex {
			if end, ok = end.Decr(); !ok {
				c.Error(errStreamEndID)
				return
			}
		}
		if si+3 < argc {
			consumerName = c.Args[si+3]
		}
	}
	s, bad := lookupStreamRead(c, c.Args[1])
	if bad {
		return
	}
	var g *stream.Group
	if s != nil {
		g = s.Group(c.Args[2])
	}
	if g == nil {
		noGroupErr(c)
		return
	}
	if justInfo {
		c.W.ArrayLen(4)
		c.W.Int(int64(g.PEL.Len()))
		if g.PEL.Len() == 0 {
			c.W.Null()
			c.W.Null()
			c.W.NullArray()
			return
		}
		first, _ := g.PEL.First()
		last, _ := g.PEL.Last()
		replyID(c, first)
		replyID(c, last)
		var withPending []*stream.Consumer
		for _, cons := range g.Consumers() {
			if cons.PEL.Len() > 0 {
				withPending = append(withPending, cons)
			}
		}
		c.W.ArrayLen(len(withPending))
		for _, cons := range withPending {
			c.W.ArrayLen(2)
			c.W.BulkString(cons.Name)
			c.W.BulkInt(int64(cons.PEL.Len()))
		}
		return
	}
	pel := &g.PEL
	if consumerName != nil {
		cons := g.Consumer(consumerName)
		if cons == nil {
			c.W.ArrayLen(0)
			return
		}
		pel = &cons.PEL
	}
	now := c.DB.Now()
	mark := c.W.Len()
	n := 0
	pel.Ascend(start, func(id stream.ID, nack *stream.NACK) bool {
		if count == 0 || end.Less(id) {
			return false
		}
		if minIdle != 0 && now-nack.DeliveryTime < minIdle {
			return true
		}
		n++
		count--
		c.W.ArrayLen(4)
		replyID(c, id)
		c.W.BulkString(nack.Consumer.Name)
		c.W.Int(max(now-nack.DeliveryTime, 0))
		c.W.Int(int64(nack.DeliveryCount))
		return true
	})
	prependArrayLen(c, mark, n)
}

// claimConsumer finds or creates the claiming consumer, marking it seen.
func claimConsumer(c *command.Ctx, g *stream.Group, name []byte, now int64) *stream.Consumer {
	cons := g.Consumer(name)
	if cons == nil {
		cons = g.CreateConsumer(name, now)
		c.Dirty++
		c.Notify(command.NotifyStream, "xgroup-createconsumer", c.Args[1])
	}
	cons.SeenTime = now
	return cons
}

func xclaimCommand(c *command.Ctx) {
	groupStateOnly(c, 1)
	s, bad := lookupStream(c, c.Args[1])
	if bad {
		return
	}
	var g *stream.Group
	if s != nil {
		g = s.Group(c.Args[2])
	}
	if g == nil {
		noGroupErr(c)
		return
	}
	minIdle, ok := resp.ParseInt(c.Args[4])
	if !ok {
		c.Error("ERR Invalid min-idle-time argument for XCLAIM")
		return
	}
	minIdle = max(minIdle, 0)
	var ids []stream.ID
	j := 5
	for ; j < len(c.Args); j++ {
		id, _, okid := stream.ParseID(c.Args[j], 0, true, false)
		if !okid {
			break
		}
		ids = append(ids, id)
	}
	now := c.DB.Now()
	retry := int64(-1)
	delivery := int64(-1)
	force, justID := false, false
	var lastID stream.ID
	for ; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		opt := string(c.Args[j])
		switch {
		case strings.EqualFold(opt, "force"):
			force = true
		case strings.EqualFold(opt, "justid"):
			justID = true
		case strings.EqualFold(opt, "idle") && more > 0:
			j++
			n, okn := resp.ParseInt(c.Args[j])
			if !okn {
				c.Error("ERR Invalid IDLE option argument for XCLAIM")
				return
			}
			delivery = now - n
		case strings.EqualFold(opt, "time") && more > 0:
			j++
			n, okn := resp.ParseInt(c.Args[j])
			if !okn {
				c.Error("ERR Invalid TIME option argument for XCLAIM")
				return
			}
			delivery = n
		case strings.EqualFold(opt, "retrycount") && more > 0:
			j++
			n, okn := resp.ParseInt(c.Args[j])
			if !okn {
				c.Error("ERR Invalid RETRYCOUNT option argument for XCLAIM")
				return
			}
			retry = n
		case strings.EqualFold(opt, "lastid") && more > 0:
			j++
			if lastID, ok = parseStrictID(c, c.Args[j], 0); !ok {
				return
			}
		default:
			c.Error("ERR Unrecognized XCLAIM option '" + opt + "'")
			return
		}
	}
	propagateLastID := false
	if lastID.Compare(g.LastID) > 0 {
		g.LastID = lastID
		c.Dirty++
		propagateLastID = true
	}
	c.PreventPropagation()
	if delivery != -1 {
		if delivery < 0 || delivery > now {
			delivery = now
		}
	} else {
		delivery = now
	}
	cons := claimConsumer(c, g, c.Args[3], now)
	mark := c.W.Len()
	n := 0
	for _, id := range ids {
		nack := g.PEL.Get(id)
		fv, exists := s.Get(id)
		if !exists {
			if nack != nil {
				propagateXclaim(c, c.Args[1], c.Args[2], g, id, nack)
				propagateLastID = false // the XCLAIM carries LASTID
				g.Ack(id)
				c.Dirty++
			}
			continue
		}
		if force && nack == nil {
			nack = &stream.NACK{}
			g.PEL.Insert(id, nack)
		}
		if nack == nil {
			continue
		}
		if nack.Consumer != nil && minIdle != 0 && now-nack.DeliveryTime < minIdle {
			continue
		}
		nack.DeliveryTime = delivery
		if retry >= 0 {
			nack.DeliveryCount = uint64(retry)
		} else if !justID {
			nack.DeliveryCount++
		}
		g.Claim(id, nack, cons)
		if justID {
			replyID(c, id)
		} else {
			replyEntry(c, id, fv)
		}
		n++
		cons.ActiveTime = now
		c.Dirty++
		propagateXclaim(c, c.Args[1], c.Args[2], g, id, nack)
		propagateLastID = false
	}
	if propagateLastID {
		propagateGroupID(c, c.Args[1], c.Args[2], g)
	}
	prependArrayLen(c, mark, n)
}

func xautoclaimCommand(c *command.Ctx) {
	groupStateOnly(c, 1)
	minIdle, ok := resp.ParseInt(c.Args[4])
	if !ok {
		c.Error("ERR Invalid min-idle-time argument for XAUTOCLAIM")
		return
	}
	minIdle = max(minIdle, 0)
	start, ex, ok := parseIntervalID(c, c.Args[5], 0)
	if !ok {
		return
	}
	if ex {
		if start, ok = start.Incr(); !ok {
			c.Error(errStreamStartID)
			return
		}
	}
	count := int64(100)
	justID := false
	for j := 6; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		opt := string(c.Args[j])
		switch {
		case strings.EqualFold(opt, "count") && more > 0:
			n, okn := resp.ParseInt(c.Args[j+1])
			if !okn || n < 1 || n > math.MaxInt64/16 {
				c.Error("ERR COUNT must be > 0")
				return
			}
			count = n
			j++
		case strings.EqualFold(opt, "justid"):
			justID = true
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	s, bad := lookupStream(c, c.Args[1])
	if bad {
		return
	}
	var g *stream.Group
	if s != nil {
		g = s.Group(c.Args[2])
	}
	if g == nil {
		noGroupErr(c)
		return
	}
	now := c.DB.Now()
	cons := claimConsumer(c, g, c.Args[3], now)
	attempts := count * 10
	c.W.ArrayLen(3)
	var deleted []stream.ID
	var claimed []stream.ID
	mark := c.W.Len()
	next := stream.ID{}
	g.PEL.Ascend(start, func(id stream.ID, nack *stream.NACK) bool {
		if attempts == 0 || count == 0 {
			next = id
			return false
		}
		attempts--
		fv, exists := s.Get(id)
		if !exists {
			propagateXclaim(c, c.Args[1], c.Args[2], g, id, nack)
			g.Ack(id)
			c.Dirty++
			deleted = append(deleted, id)
			count--
			return true
		}
		if minIdle != 0 && now-nack.DeliveryTime < minIdle {
			return true
		}
		g.Claim(id, nack, cons)
		nack.DeliveryTime = now
		if !justID {
			nack.DeliveryCount++
		}
		if justID {
			replyID(c, id)
		} else {
			replyEntry(c, id, fv)
		}
		claimed = append(claimed, id)
		count--
		cons.ActiveTime = now
		c.Dirty++
		propagateXclaim(c, c.Args[1], c.Args[2], g, id, nack)
		return true
	})
	c.PreventPropagation()
	body := append([]byte(nil), c.W.Buf[mark:]...)
	c.W.Buf = c.W.Buf[:mark]
	replyID(c, next)
	c.W.ArrayLen(len(claimed))
	c.W.Buf = append(c.W.Buf, body...)
	c.W.ArrayLen(len(deleted))
	for _, id := range deleted {
		replyID(c, id)
	}
}

// Stream group changes reach replicas as the commands that recreate them
// (Redis's streamPropagateXCLAIM, streamPropagateGroupID and
// streamPropagateConsumerCreation): XREADGROUP, XCLAIM and XAUTOCLAIM
// never propagate themselves.
var (
	argXCLAIM         = []byte("XCLAIM")
	argXGROUP         = []byte("XGROUP")
	argSETID          = []byte("SETID")
	argCREATECONSUMER = []byte("CREATECONSUMER")
	argENTRIESREAD    = []byte("ENTRIESREAD")
	argTIME           = []byte("TIME")
	argRETRYCOUNT     = []byte("RETRYCOUNT")
	argFORCE          = []byte("FORCE")
	argJUSTID         = []byte("JUSTID")
	argLASTID         = []byte("LASTID")
	argZero           = []byte("0")
)

// propagateXclaim queues the XCLAIM that gives a replica's group the
// pending entry id as this one holds it; for an entry gone from the stream
// it makes the replica drop the entry from its PEL.
func propagateXclaim(c *command.Ctx, key, group []byte, g *stream.Group, id stream.ID, nack *stream.NACK) {
	if !c.Propagating {
		return
	}
	var consumer []byte
	if nack.Consumer != nil {
		consumer = []byte(nack.Consumer.Name)
	}
	c.AlsoPropagate(argXCLAIM, key, group, consumer, argZero, id.Append(nil),
		argTIME, strconv.AppendInt(nil, nack.DeliveryTime, 10),
		argRETRYCOUNT, strconv.AppendUint(nil, nack.DeliveryCount, 10),
		argFORCE, argJUSTID, argLASTID, g.LastID.Append(nil))
}

// propagateGroupID queues XGROUP SETID with the group's last ID and read
// counter.
func propagateGroupID(c *command.Ctx, key, group []byte, g *stream.Group) {
	if c.Propagating {
		c.AlsoPropagate(argXGROUP, argSETID, key, group, g.LastID.Append(nil),
			argENTRIESREAD, strconv.AppendInt(nil, g.EntriesRead, 10))
	}
}

// propagateConsumerCreation queues XGROUP CREATECONSUMER.
func propagateConsumerCreation(c *command.Ctx, key, group, consumer []byte) {
	if c.Propagating {
		c.AlsoPropagate(argXGROUP, argCREATECONSUMER, key, group, consumer)
	}
}
