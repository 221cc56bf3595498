package commands

import (
	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/keyspace"
)

// blockingCommands are the blocking list and sorted-set pops. Each runs
// like its non-blocking form when a key has something to pop; otherwise it
// asks the dispatcher to park the client (command.Ctx.BlockOn), and runs
// again from the start when one of its keys is written.
func blockingCommands() []*command.Command {
	const (
		write = command.CatWrite
		list  = command.CatList
		zs    = command.CatSortedSet
		fast  = command.CatFast
		slow  = command.CatSlow
		blk   = command.CatBlocking
		flags = command.Write | command.Blocking | command.OwnGoroutine
	)
	allButLast := []command.KeySpec{{Flags: []string{"RW", "access", "delete"}, BeginIndex: 1, LastKey: -2, Step: 1}}
	srcDst := []command.KeySpec{
		{Flags: []string{"RW", "access", "delete"}, BeginIndex: 1, LastKey: 0, Step: 1},
		{Flags: []string{"RW", "insert"}, BeginIndex: 2, LastKey: 0, Step: 1},
	}
	numkeysAt2 := []command.KeySpec{{Flags: []string{"RW", "access", "delete"}, BeginIndex: 2, KeyNumIdx: 1, FirstKey: 2, Step: 1}}
	return []*command.Command{
		{Name: "blpop", Arity: -3, Flags: flags, ACL: write | list | slow | blk,
			FirstKey: 1, LastKey: -2, Step: 1, KeySpecs: allButLast,
			Group: "list", Since: "2.0.0", Summary: "Removes and returns the first element of the first non-empty list of several, or blocks until one is available.", Handler: blpopCommand},
		{Name: "brpop", Arity: -3, Flags: flags, ACL: write | list | slow | blk,
			FirstKey: 1, LastKey: -2, Step: 1, KeySpecs: allButLast,
			Group: "list", Since: "2.0.0", Summary: "Removes and returns the last element of the first non-empty list of several, or blocks until one is available.", Handler: brpopCommand},
		{Name: "brpoplpush", Arity: 4, Flags: flags | command.DenyOOM, ACL: write | list | slow | blk,
			FirstKey: 1, LastKey: 2, Step: 1, KeySpecs: srcDst,
			Group: "list", Since: "2.2.0", Summary: "Pops the last element of a list, pushes it onto another and returns it; blocks until an element is available.", Handler: brpoplpushCommand},
		{Name: "blmove", Arity: 6, Flags: flags | command.DenyOOM, ACL: write | list | slow | blk,
			FirstKey: 1, LastKey: 2, Step: 1, KeySpecs: srcDst,
			Group: "list", Since: "6.2.0", Summary: "Pops an element from one end of a list, pushes it onto an end of another and returns it; blocks until an element is available.", Handler: blmoveCommand},
		{Name: "blmpop", Arity: -5, Flags: flags | command.MovableKeys, ACL: write | list | slow | blk,
			KeySpecs: numkeysAt2,
			Group:    "list", Since: "7.0.0", Summary: "Pops elements from the first non-empty list of several, or blocks until one is available.", Handler: blmpopCommand},
		{Name: "bzpopmin", Arity: -3, Flags: flags | command.Fast, ACL: write | zs | fast | blk,
			FirstKey: 1, LastKey: -2, Step: 1, KeySpecs: allButLast,
			Group: "sorted_set", Since: "5.0.0", Summary: "Removes and returns the member with the lowest score from the first non-empty sorted set of several, or blocks until one is available.", Handler: bzpopminCommand},
		{Name: "bzpopmax", Arity: -3, Flags: flags | command.Fast, ACL: write | zs | fast | blk,
			FirstKey: 1, LastKey: -2, Step: 1, KeySpecs: allButLast,
			Group: "sorted_set", Since: "5.0.0", Summary: "Removes and returns the member with the highest score from the first non-empty sorted set of several, or blocks until one is available.", Handler: bzpopmaxCommand},
		{Name: "bzmpop", Arity: -5, Flags: flags | command.MovableKeys, ACL: write | zs | slow | blk,
			KeySpecs: numkeysAt2,
			Group:    "sorted_set", Since: "7.0.0", Summary: "Pops members with the lowest or highest scores from the first non-empty sorted set of several, or blocks until one is available.", Handler: bzmpopCommand},
	}
}

// timeoutArg parses the timeout at argument i, replying on error.
func timeoutArg(c *command.Ctx, i int) (int64, bool) {
	deadline, msg := command.ParseTimeout(c.Args[i], c.DB.Now())
	if msg != "" {
		c.Error(msg)
		return 0, false
	}
	return deadline, true
}

func blpopCommand(c *command.Ctx) { blockingPop(c, true) }
func brpopCommand(c *command.Ctx) { blockingPop(c, false) }

// blockingPop is BLPOP/BRPOP: the first non-empty list among the keys
// gives one element, replied with its key.
func blockingPop(c *command.Ctx, head bool) {
	deadline, ok := timeoutArg(c, len(c.Args)-1)
	if !ok {
		return
	}
	keys := c.Args[1 : len(c.Args)-1]
	for _, key := range keys {
		v, found, bad := lookupList(c, key)
		if bad {
			return
		}
		if found && v.len() > 0 {
			c.W.ArrayLen(2)
			c.W.Bulk(key)
			popReply(c, key, v, head, 1, false)
			c.PropagateAs(popName(head), key)
			return
		}
	}
	c.BlockOn(deadline, keyspace.TypeList, keys)
}

func brpoplpushCommand(c *command.Ctx) {
	deadline, ok := timeoutArg(c, 3)
	if !ok {
		return
	}
	blockingMove(c, false, true, deadline)
}

func blmoveCommand(c *command.Ctx) {
	from, ok := parseWhere(c, c.Args[3])
	if !ok {
		return
	}
	to, ok := parseWhere(c, c.Args[4])
	if !ok {
		return
	}
	deadline, ok := timeoutArg(c, 5)
	if !ok {
		return
	}
	blockingMove(c, from, to, deadline)
}

// blockingMove is LMOVE once the source has an element. A destination of
// the wrong type is found only then, as in Redis: the client waits first.
func blockingMove(c *command.Ctx, fromHead, toHead bool, deadline int64) {
	_, found, bad := lookupList(c, c.Args[1])
	if bad {
		return
	}
	if !found {
		c.BlockOn(deadline, keyspace.TypeList, c.Args[1:2])
		return
	}
	lmoveGeneric(c, fromHead, toHead)
	if c.Propagating {
		if c.Cmd.Name == "brpoplpush" {
			c.PropagateAs(argRPOPLPUSH, c.Args[1], c.Args[2])
		} else {
			c.PropagateAs(argLMOVE, c.Args[1], c.Args[2], c.Args[3], c.Args[4])
		}
	}
}

// Names the blocking commands propagate as.
var (
	argLPOP      = []byte("LPOP")
	argRPOP      = []byte("RPOP")
	argLMOVE     = []byte("LMOVE")
	argRPOPLPUSH = []byte("RPOPLPUSH")
	argZPOPMIN   = []byte("ZPOPMIN")
	argZPOPMAX   = []byte("ZPOPMAX")
	argSREM      = []byte("SREM")
	argHSET      = []byte("HSET")
)

// popName is the list pop from the given end.
func popName(head bool) []byte {
	if head {
		return argLPOP
	}
	return argRPOP
}

func blmpopCommand(c *command.Ctx) {
	deadline, ok := timeoutArg(c, 1)
	if !ok {
		return
	}
	lmpopGeneric(c, 2, deadline, true)
}

func bzpopminCommand(c *command.Ctx) { blockingZpop(c, false) }
func bzpopmaxCommand(c *command.Ctx) { blockingZpop(c, true) }

// blockingZpop is BZPOPMIN/BZPOPMAX: key, member and score from the first
// non-empty sorted set among the keys.
func blockingZpop(c *command.Ctx, popMax bool) {
	deadline, ok := timeoutArg(c, len(c.Args)-1)
	if !ok {
		return
	}
	keys := c.Args[1 : len(c.Args)-1]
	found, ok := zanyReady(c, keys)
	if !ok {
		return
	}
	if !found {
		c.BlockOn(deadline, keyspace.TypeZSet, keys)
		return
	}
	zpopGeneric(c, keys, popMax, true, -1, false, true)
}

func bzmpopCommand(c *command.Ctx) {
	deadline, ok := timeoutArg(c, 1)
	if !ok {
		return
	}
	zmpopGeneric(c, 2, deadline, true)
}
