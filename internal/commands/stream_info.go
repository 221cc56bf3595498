package commands

import (
	"strings"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/ds/stream"
	"github.com/corvid-db/corvid/internal/resp"
)

var xinfoHelp = []string{
	"CONSUMERS <key> <groupname>",
	"    Show consumers of <groupname>.",
	"GROUPS <key>",
	"    Show the stream consumer groups.",
	"STREAM <key> [FULL [COUNT <count>]",
	"    Show information about the stream.",
}

func xinfoHelpCommand(c *command.Ctx) { replyHelpLines(c, "XINFO", xinfoHelp) }

// xinfoLookup finds XINFO's stream, replying "no such key" if missing.
func xinfoLookup(c *command.Ctx) *stream.Stream {
	s, bad := lookupStreamRead(c, c.Args[2])
	if bad {
		return nil
	}
	if s == nil {
		c.Error(command.ErrNoSuchKey)
	}
	return s
}

func xinfoConsumersCommand(c *command.Ctx) {
	s := xinfoLookup(c)
	if s == nil {
		return
	}
	g := s.Group(c.Args[3])
	if g == nil {
		c.Error("NOGROUP No such consumer group '" + string(c.Args[3]) + "' for key name '" + string(c.Args[2]) + "'")
		return
	}
	now := c.DB.Now()
	cons := g.Consumers()
	c.W.ArrayLen(len(cons))
	for _, cn := range cons {
		inactive := cn.ActiveTime
		if inactive != -1 {
			inactive = now - cn.ActiveTime
		}
		c.W.MapLen(4)
		c.W.BulkString("name")
		c.W.BulkString(cn.Name)
		c.W.BulkString("pending")
		c.W.Int(int64(cn.PEL.Len()))
		c.W.BulkString("idle")
		c.W.Int(max(now-cn.SeenTime, 0))
		c.W.BulkString("inactive")
		c.W.Int(inactive)
	}
}

// replyLag writes a group's lag, or null when it cannot be known.
func replyLag(c *command.Ctx, s *stream.Stream, g *stream.Group) {
	if lag, ok := s.Lag(g); ok {
		c.W.Int(lag)
	} else {
		c.W.Null()
	}
}

func replyEntriesRead(c *command.Ctx, g *stream.Group) {
	if g.EntriesRead != stream.InvalidEntriesRead {
		c.W.Int(g.EntriesRead)
	} else {
		c.W.Null()
	}
}

func xinfoGroupsCommand(c *command.Ctx) {
	s := xinfoLookup(c)
	if s == nil {
		return
	}
	groups := s.Groups()
	c.W.ArrayLen(len(groups))
	for _, g := range groups {
		c.W.MapLen(6)
		c.W.BulkString("name")
		c.W.BulkString(g.Name)
		c.W.BulkString("consumers")
		c.W.Int(int64(g.NumConsumers()))
		c.W.BulkString("pending")
		c.W.Int(int64(g.PEL.Len()))
		c.W.BulkString("last-delivered-id")
		replyID(c, g.LastID)
		c.W.BulkString("entries-read")
		replyEntriesRead(c, g)
		c.W.BulkString("lag")
		replyLag(c, s, g)
	}
}

func xinfoStreamCommand(c *command.Ctx) {
	full := false
	count := int64(10)
	opts := c.Args[3:]
	if len(opts) > 0 {
		if len(opts) != 1 && len(opts) != 3 || !strings.EqualFold(string(opts[0]), "full") {
			errSubcommandSyntax(c)
			return
		}
		if len(opts) == 3 {
			if !strings.EqualFold(string(opts[1]), "count") {
				errSubcommandSyntax(c)
				return
			}
			n, ok := resp.ParseInt(opts[2])
			if !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			if n < 0 {
				n = 10
			}
			count = n
		}
		full = true
	}
	s := xinfoLookup(c)
	if s == nil {
		return
	}
	if full {
		c.W.MapLen(9)
	} else {
		c.W.MapLen(10)
	}
	c.W.BulkString("length")
	c.W.Int(int64(s.Len()))
	c.W.BulkString("radix-tree-keys")
	c.W.Int(int64(s.Nodes()))
	c.W.BulkString("radix-tree-nodes")
	c.W.Int(int64(radixNodes(s.Nodes())))
	c.W.BulkString("last-generated-id")
	replyID(c, s.LastID())
	c.W.BulkString("max-deleted-entry-id")
	replyID(c, s.MaxDeletedID())
	c.W.BulkString("entries-added")
	c.W.Int(int64(s.EntriesAdded()))
	c.W.BulkString("recorded-first-entry-id")
	replyID(c, s.FirstID())
	if !full {
		c.W.BulkString("groups")
		c.W.Int(int64(len(s.Groups())))
		c.W.BulkString("first-entry")
		replyEdge(c, s, false)
		c.W.BulkString("last-entry")
		replyEdge(c, s, true)
		return
	}
	c.W.BulkString("entries")
	replyRange(c, s, stream.ID{}, stream.MaxID, false, count)
	c.W.BulkString("groups")
	groups := s.Groups()
	c.W.ArrayLen(len(groups))
	for _, g := range groups {
		c.W.MapLen(7)
		c.W.BulkString("name")
		c.W.BulkString(g.Name)
		c.W.BulkString("last-delivered-id")
		replyID(c, g.LastID)
		c.W.BulkString("entries-read")
		replyEntriesRead(c, g)
		c.W.BulkString("lag")
		replyLag(c, s, g)
		c.W.BulkString("pel-count")
		c.W.Int(int64(g.PEL.Len()))
		c.W.BulkString("pending")
		mark := c.W.Len()
		n := 0
		g.PEL.Ascend(stream.ID{}, func(id stream.ID, nack *stream.NACK) bool {
			if count != 0 && int64(n) >= count {
				return false
			}
			c.W.ArrayLen(4)
			replyID(c, id)
			name := ""
			if nack.Consumer != nil {
				name = nack.Consumer.Name
			}
			c.W.BulkString(name)
			c.W.Int(nack.DeliveryTime)
			c.W.Int(int64(nack.DeliveryCount))
			n++
			return true
		})
		prependArrayLen(c, mark, n)
		c.W.BulkString("consumers")
		cons := g.Consumers()
		c.W.ArrayLen(len(cons))
		for _, cn := range cons {
			c.W.MapLen(5)
			c.W.BulkString("name")
			c.W.BulkString(cn.Name)
			c.W.BulkString("seen-time")
			c.W.Int(cn.SeenTime)
			c.W.BulkString("active-time")
			c.W.Int(cn.ActiveTime)
			c.W.BulkString("pel-count")
			c.W.Int(int64(cn.PEL.Len()))
			c.W.BulkString("pending")
			mark := c.W.Len()
			n := 0
			cn.PEL.Ascend(stream.ID{}, func(id stream.ID, nack *stream.NACK) bool {
				if count != 0 && int64(n) >= count {
					return false
				}
				c.W.ArrayLen(3)
				replyID(c, id)
				c.W.Int(nack.DeliveryTime)
				c.W.Int(int64(nack.DeliveryCount))
				n++
				return true
			})
			prependArrayLen(c, mark, n)
		}
	}
}

// replyEdge writes the first (or last) entry, or null when empty.
func replyEdge(c *command.Ctx, s *stream.Stream, last bool) {
	found := false
	s.Range(stream.ID{}, stream.MaxID, last, func(id stream.ID, fv [][]byte) bool {
		replyEntry(c, id, fv)
		found = true
		return false
	})
	if !found {
		c.W.Null()
	}
}

// radixNodes approximates the node count of Redis's radix tree for keys
// 128-bit keys (XINFO's radix-tree-nodes): there is no radix tree here,
// so report what a tree of that many keys roughly has.
func radixNodes(keys int) int {
	if keys == 0 {
		return 1
	}
	return keys*2 + 1
}
