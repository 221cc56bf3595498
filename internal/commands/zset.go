package commands

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// Errors only the sorted-set commands reply with.
const (
	errZaddNXXX       = "ERR XX and NX options at the same time are not compatible"
	errZaddGTLTNX     = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errZaddIncrPair   = "ERR INCR option supports a single increment-element pair"
	errZscoreNaN      = "ERR resulting score is not a number (NaN)"
	errZminMaxFloat   = "ERR min or max is not a float"
	errZminMaxLex     = "ERR min or max not valid string range item"
	errZlimitRank     = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errZwithscoresLex = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	errZweight        = "ERR weight value is not a float"
	errZlimitNeg      = "ERR LIMIT can't be negative"
	errZnumkeys       = "ERR numkeys should be greater than 0"
	errZcount         = "ERR count should be greater than 0"
	errZrandRange     = "ERR value is out of range"
	errZrandLong      = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
)

// zsetCommands are Redis's sorted-set group (without the blocking pops).
func zsetCommands() []*command.Command {
	const (
		read  = command.CatRead
		write = command.CatWrite
		zs    = command.CatSortedSet
		fast  = command.CatFast
		slow  = command.CatSlow
	)
	one := func(flags ...string) []command.KeySpec {
		return []command.KeySpec{{Flags: flags, BeginIndex: 1, LastKey: 0, Step: 1}}
	}
	numkeys := func(flags ...string) []command.KeySpec {
		return []command.KeySpec{{Flags: flags, BeginIndex: 1, KeyNumIdx: 1, FirstKey: 2, Step: 1}}
	}
	store := []command.KeySpec{
		{Flags: []string{"OW", "update"}, BeginIndex: 1, LastKey: 0, Step: 1},
		{Flags: []string{"RO", "access"}, BeginIndex: 2, KeyNumIdx: 1, FirstKey: 2, Step: 1},
	}
	ro := command.ReadOnly
	rof := command.ReadOnly | command.Fast
	k1 := func(c *command.Command) *command.Command {
		c.FirstKey, c.LastKey, c.Step = 1, 1, 1
		c.Group = "sorted_set"
		return c
	}
	mv := func(c *command.Command) *command.Command {
		c.Flags |= command.MovableKeys
		c.Group = "sorted_set"
		return c
	}
	return []*command.Command{
		k1(&command.Command{Name: "zadd", Arity: -4, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | zs | fast,
			KeySpecs: one("RW", "update"), Since: "1.2.0", Summary: "Adds members to a sorted set or updates their scores, creating the key if needed.", Handler: evZadd(zaddCommand)}),
		k1(&command.Command{Name: "zincrby", Arity: 4, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | zs | fast,
			KeySpecs: one("RW", "access", "update"), Since: "1.2.0", Summary: "Adds to a member's score, creating the member and the key if needed.", Handler: ev(command.NotifyZset, "zincr", zincrbyCommand)}),
		k1(&command.Command{Name: "zrem", Arity: -3, Flags: command.Write | command.Fast, ACL: write | zs | fast,
			KeySpecs: one("RW", "delete"), Since: "1.2.0", Summary: "Removes members from a sorted set, deleting the key when it empties.", Handler: ev(command.NotifyZset, "zrem", zremCommand)}),
		k1(&command.Command{Name: "zcard", Arity: 2, Flags: rof, ACL: read | zs | fast,
			KeySpecs: one("RO"), Since: "1.2.0", Summary: "Returns the number of members of a sorted set.", Handler: zcardCommand}),
		k1(&command.Command{Name: "zcount", Arity: 4, Flags: rof, ACL: read | zs | fast,
			KeySpecs: one("RO", "access"), Since: "2.0.0", Summary: "Counts the members whose scores fall in a range.", Handler: zcountCommand}),
		k1(&command.Command{Name: "zlexcount", Arity: 4, Flags: rof, ACL: read | zs | fast,
			KeySpecs: one("RO", "access"), Since: "2.8.9", Summary: "Counts the members that fall in a lexicographical range.", Handler: zlexcountCommand}),
		k1(&command.Command{Name: "zscore", Arity: 3, Flags: rof, ACL: read | zs | fast,
			KeySpecs: one("RO", "access"), Since: "1.2.0", Summary: "Returns a member's score.", Handler: zscoreCommand}),
		k1(&command.Command{Name: "zmscore", Arity: -3, Flags: rof, ACL: read | zs | fast,
			KeySpecs: one("RO", "access"), Since: "6.2.0", Summary: "Returns the scores of several members.", Handler: zmscoreCommand}),
		k1(&command.Command{Name: "zrank", Arity: -3, Flags: rof, ACL: read | zs | fast,
			KeySpecs: one("RO", "access"), Since: "2.0.0", Summary: "Returns a member's position in ascending score order, optionally with its score.", Handler: zrankCommand}),
		k1(&command.Command{Name: "zrevrank", Arity: -3, Flags: rof, ACL: read | zs | fast,
			KeySpecs: one("RO", "access"), Since: "2.0.0", Summary: "Returns a member's position in descending score order, optionally with its score.", Handler: zrevrankCommand}),
		k1(&command.Command{Name: "zrange", Arity: -4, Flags: ro, ACL: read | zs | slow,
			KeySpecs: one("RO", "access"), Since: "1.2.0", Summary: "Returns members in a range of ranks, scores or lexicographical order.", Handler: zrangeCommand}),
		{Name: "zrangestore", Arity: -5, Flags: command.Write | command.DenyOOM, ACL: write | zs | slow,
			FirstKey: 1, LastKey: 2, Step: 1, Group: "sorted_set",
			KeySpecs: []command.KeySpec{
				{Flags: []string{"OW", "update"}, BeginIndex: 1, LastKey: 0, Step: 1},
				{Flags: []string{"RO", "access"}, BeginIndex: 2, LastKey: 0, Step: 1},
			},
			Since: "6.2.0", Summary: "Stores a range of a sorted set in another key.", Handler: evStore(command.NotifyZset, "zrangestore", 1, zrangestoreCommand)},
		k1(&command.Command{Name: "zrevrange", Arity: -4, Flags: ro, ACL: read | zs | slow,
			KeySpecs: one("RO", "access"), Since: "1.2.0", Summary: "Returns members in a range of ranks, highest score first.", Handler: zrevrangeCommand}),
		k1(&command.Command{Name: "zrangebyscore", Arity: -4, Flags: ro, ACL: read | zs | slow,
			KeySpecs: one("RO", "access"), Since: "1.0.5", Summary: "Returns members whose scores fall in a range.", Handler: zrangebyscoreCommand}),
		k1(&command.Command{Name: "zrevrangebyscore", Arity: -4, Flags: ro, ACL: read | zs | slow,
			KeySpecs: one("RO", "access"), Since: "2.2.0", Summary: "Returns members whose scores fall in a range, highest first.", Handler: zrevrangebyscoreCommand}),
		k1(&command.Command{Name: "zrangebylex", Arity: -4, Flags: ro, ACL: read | zs | slow,
			KeySpecs: one("RO", "access"), Since: "2.8.9", Summary: "Returns members in a lexicographical range.", Handler: zrangebylexCommand}),
		k1(&command.Command{Name: "zrevrangebylex", Arity: -4, Flags: ro, ACL: read | zs | slow,
			KeySpecs: one("RO", "access"), Since: "2.8.9", Summary: "Returns members in a lexicographical range, in reverse order.", Handler: zrevrangebylexCommand}),
		k1(&command.Command{Name: "zremrangebyrank", Arity: 4, Flags: command.Write, ACL: write | zs | slow,
			KeySpecs: one("RW", "delete"), Since: "2.0.0", Summary: "Removes the members in a range of ranks.", Handler: ev(command.NotifyZset, "zremrangebyrank", zremrangebyrankCommand)}),
		k1(&command.Command{Name: "zremrangebyscore", Arity: 4, Flags: command.Write, ACL: write | zs | slow,
			KeySpecs: one("RW", "delete"), Since: "1.2.0", Summary: "Removes the members whose scores fall in a range.", Handler: ev(command.NotifyZset, "zremrangebyscore", zremrangebyscoreCommand)}),
		k1(&command.Command{Name: "zremrangebylex", Arity: 4, Flags: command.Write, ACL: write | zs | slow,
			KeySpecs: one("RW", "delete"), Since: "2.8.9", Summary: "Removes the members in a lexicographical range.", Handler: ev(command.NotifyZset, "zremrangebylex", zremrangebylexCommand)}),
		k1(&command.Command{Name: "zpopmin", Arity: -2, Flags: command.Write | command.Fast, ACL: write | zs | fast,
			KeySpecs: one("RW", "access", "delete"), Since: "5.0.0", Summary: "Removes and returns the members with the lowest scores.", Handler: zpopminCommand}),
		k1(&command.Command{Name: "zpopmax", Arity: -2, Flags: command.Write | command.Fast, ACL: write | zs | fast,
			KeySpecs: one("RW", "access", "delete"), Since: "5.0.0", Summary: "Removes and returns the members with the highest scores.", Handler: zpopmaxCommand}),
		mv(&command.Command{Name: "zmpop", Arity: -4, Flags: command.Write, ACL: write | zs | slow,
			KeySpecs: numkeys("RW", "access", "delete"), Since: "7.0.0", Summary: "Pops members with the lowest or highest scores from the first non-empty sorted set of several.", Handler: zmpopCommand}),
		k1(&command.Command{Name: "zrandmember", Arity: -2, Flags: ro, ACL: read | zs | slow,
			KeySpecs: one("RO", "access"), Since: "6.2.0", Summary: "Returns random members, optionally with their scores.",
			Tips: []string{"nondeterministic_output"}, Handler: zrandmemberCommand}),
		mv(&command.Command{Name: "zunion", Arity: -3, Flags: ro, ACL: read | zs | slow,
			KeySpecs: numkeys("RO", "access"), Since: "6.2.0", Summary: "Returns the union of sorted sets (and sets).", Handler: zunionCommand}),
		mv(&command.Command{Name: "zinter", Arity: -3, Flags: ro, ACL: read | zs | slow,
			KeySpecs: numkeys("RO", "access"), Since: "6.2.0", Summary: "Returns the intersection of sorted sets (and sets).", Handler: zinterCommand}),
		mv(&command.Command{Name: "zdiff", Arity: -3, Flags: ro, ACL: read | zs | slow,
			KeySpecs: numkeys("RO", "access"), Since: "6.2.0", Summary: "Returns the members of the first sorted set absent from the others.", Handler: zdiffCommand}),
		mv(&command.Command{Name: "zintercard", Arity: -3, Flags: ro, ACL: read | zs | slow,
			KeySpecs: numkeys("RO", "access"), Since: "7.0.0", Summary: "Counts the members of the intersection of sorted sets, optionally stopping at a limit.", Handler: zintercardCommand}),
		mv(&command.Command{Name: "zunionstore", Arity: -4, Flags: command.Write | command.DenyOOM, ACL: write | zs | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: store, Since: "2.0.0", Summary: "Stores the union of sorted sets (and sets) in a key.", Handler: evStore(command.NotifyZset, "zunionstore", 1, zunionstoreCommand)}),
		mv(&command.Command{Name: "zinterstore", Arity: -4, Flags: command.Write | command.DenyOOM, ACL: write | zs | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: store, Since: "2.0.0", Summary: "Stores the intersection of sorted sets (and sets) in a key.", Handler: evStore(command.NotifyZset, "zinterstore", 1, zinterstoreCommand)}),
		mv(&command.Command{Name: "zdiffstore", Arity: -4, Flags: command.Write | command.DenyOOM, ACL: write | zs | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: store, Since: "6.2.0", Summary: "Stores the difference of sorted sets in a key.", Handler: evStore(command.NotifyZset, "zdiffstore", 1, zdiffstoreCommand)}),
		k1(&command.Command{Name: "zscan", Arity: -3, Flags: ro, ACL: read | zs | slow,
			KeySpecs: one("RO", "access"), Since: "2.8.0", Summary: "Iterates over the members and scores of a sorted set.",
			Tips: []string{"nondeterministic_output"}, Handler: zscanCommand}),
	}
}

// resp3 reports whether the client speaks RESP3.
func zresp3(c *command.Ctx) bool { return c.W.Proto >= 3 }

// ---- ZADD / ZINCRBY ----

func zaddCommand(c *command.Ctx)    { zaddGeneric(c, false) }
func zincrbyCommand(c *command.Ctx) { zaddGeneric(c, true) }

func zaddGeneric(c *command.Ctx, incr bool) {
	args := c.Args
	key := args[1]
	var nx, xx, gt, lt, ch bool
	idx := 2
opts:
	for ; idx < len(args); idx++ {
		a := args[idx]
		switch {
		case strKW(a, "NX"):
			nx = true
		case strKW(a, "XX"):
			xx = true
		case strKW(a, "CH"):
			ch = true
		case strKW(a, "INCR"):
			incr = true
		case strKW(a, "GT"):
			gt = true
		case strKW(a, "LT"):
			lt = true
		default:
			break opts
		}
	}
	elements := len(args) - idx
	if elements%2 != 0 || elements == 0 {
		c.Error(command.ErrSyntax)
		return
	}
	elements /= 2
	if nx && xx {
		c.Error(errZaddNXXX)
		return
	}
	if (gt && nx) || (lt && nx) || (gt && lt) {
		c.Error(errZaddGTLTNX)
		return
	}
	if incr && elements > 1 {
		c.Error(errZaddIncrPair)
		return
	}
	var one [1]float64
	scores := one[:0]
	if elements > 1 {
		scores = make([]float64, 0, elements)
	}
	for j := 0; j < elements; j++ {
		s, ok := zparseFloat(args[idx+2*j])
		if !ok {
			c.Error(command.ErrNotFloat)
			return
		}
		scores = append(scores, s)
	}
	z, ok := zget(c, key, false)
	if !ok {
		return
	}
	if z == nil {
		if xx {
			if incr {
				c.W.Null()
			} else {
				c.W.Int(0)
			}
			return
		}
		z = zresult(c, elements, len(args[idx+1]))
	} else if z.tree == nil && elements > z.maxEntries {
		z.toTree(elements)
	}
	defer z.release()

	added, updated, processed := 0, 0, 0
	var score float64
	for j := 0; j < elements; j++ {
		s := scores[j]
		m := args[idx+2*j+1]
		cur, exists := z.score(m)
		if exists {
			if nx {
				continue
			}
			if incr {
				s += cur
				if math.IsNaN(s) {
					z.save(c, key)
					c.Dirty += int64(added + updated)
					c.Error(errZscoreNaN)
					return
				}
			}
			if (lt && s >= cur) || (gt && s <= cur) {
				continue
			}
			score = s
			processed++
			if s != cur {
				z.setScore(m, s)
				updated++
			}
		} else if !xx {
			z.insert(m, s)
			score = s
			added++
			processed++
		}
	}
	z.save(c, key)
	c.Dirty += int64(added + updated)
	if incr {
		if processed > 0 {
			c.W.Double(score)
		} else {
			c.W.Null()
		}
		return
	}
	if ch {
		c.W.Int(int64(added + updated))
	} else {
		c.W.Int(int64(added))
	}
}

// ---- ZREM, ZCARD, ZCOUNT, ZLEXCOUNT, ZSCORE, ZMSCORE, ZRANK ----

func zremCommand(c *command.Ctx) {
	key := c.Args[1]
	z, ok := zget(c, key, false)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	deleted := 0
	for _, m := range c.Args[2:] {
		if z.remove(m) {
			deleted++
		}
		if z.Len() == 0 {
			break
		}
	}
	z.save(c, key)
	z.release()
	c.Dirty += int64(deleted)
	c.W.Int(int64(deleted))
}

func zcardCommand(c *command.Ctx) {
	z, ok := zget(c, c.Args[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(z.Len()))
	z.release()
}

func zcountCommand(c *command.Ctx) {
	r, ok := zparseRange(c.Args[2], c.Args[3])
	if !ok {
		c.Error(errZminMaxFloat)
		return
	}
	z, ok := zget(c, c.Args[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	lo, hi := z.scoreBounds(&r)
	z.release()
	c.W.Int(int64(hi - lo))
}

func zlexcountCommand(c *command.Ctx) {
	r, ok := zparseLex(c.Args[2], c.Args[3])
	if !ok {
		c.Error(errZminMaxLex)
		return
	}
	z, ok := zget(c, c.Args[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	lo, hi := z.lexBounds(&r)
	z.release()
	c.W.Int(int64(hi - lo))
}

func zscoreCommand(c *command.Ctx) {
	z, ok := zget(c, c.Args[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.W.Null()
		return
	}
	if s, ok := z.score(c.Args[2]); ok {
		c.W.Double(s)
	} else {
		c.W.Null()
	}
	z.release()
}

func zmscoreCommand(c *command.Ctx) {
	z, ok := zget(c, c.Args[1], true)
	if !ok {
		return
	}
	c.W.ArrayLen(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		if z == nil {
			c.W.Null()
		} else if s, ok := z.score(m); ok {
			c.W.Double(s)
		} else {
			c.W.Null()
		}
	}
	if z != nil {
		z.release()
	}
}

func zrankCommand(c *command.Ctx)    { zrankGeneric(c, false) }
func zrevrankCommand(c *command.Ctx) { zrankGeneric(c, true) }

func zrankGeneric(c *command.Ctx, rev bool) {
	if len(c.Args) > 4 {
		c.Error(command.ErrWrongArgs(c.Cmd.Name))
		return
	}
	withScore := false
	if len(c.Args) == 4 {
		if !strKW(c.Args[3], "WITHSCORE") {
			c.Error(command.ErrSyntax)
			return
		}
		withScore = true
	}
	z, ok := zget(c, c.Args[1], true)
	if !ok {
		return
	}
	var rank int
	var score float64
	found := false
	if z != nil {
		rank, score, found = z.rank(c.Args[2])
		if rev {
			rank = z.Len() - 1 - rank
		}
		z.release()
	}
	switch {
	case !found && withScore:
		c.W.NullArray()
	case !found:
		c.W.Null()
	case withScore:
		c.W.ArrayLen(2)
		c.W.Int(int64(rank))
		c.W.Double(score)
	default:
		c.W.Int(int64(rank))
	}
}

// ---- ZRANGE family ----

type zrangeType int8

const (
	zrAuto zrangeType = iota
	zrRank
	zrScore
	zrLex
)

func zrangeCommand(c *command.Ctx)      { zrangeGeneric(c, 1, false, zrAuto, false, true) }
func zrangestoreCommand(c *command.Ctx) { zrangeGeneric(c, 2, true, zrAuto, false, true) }
func zrevrangeCommand(c *command.Ctx)   { zrangeGeneric(c, 1, false, zrRank, true, false) }
func zrangebyscoreCommand(c *command.Ctx) {
	zrangeGeneric(c, 1, false, zrScore, false, false)
}
func zrevrangebyscoreCommand(c *command.Ctx) {
	zrangeGeneric(c, 1, false, zrScore, true, false)
}
func zrangebylexCommand(c *command.Ctx)    { zrangeGeneric(c, 1, false, zrLex, false, false) }
func zrevrangebylexCommand(c *command.Ctx) { zrangeGeneric(c, 1, false, zrLex, true, false) }

// zrangeGeneric is Redis's zrangeGenericCommand: argStart is the source
// key's index; autoDir lets REV be given as an option (ZRANGE, ZRANGESTORE).
func zrangeGeneric(c *command.Ctx, argStart int, store bool, rtype zrangeType, rev, autoDir bool) {
	args := c.Args
	minIdx, maxIdx := argStart+1, argStart+2
	withScores := false
	var offset, limit int64 = 0, -1
	for j := argStart + 3; j < len(args); j++ {
		left := len(args) - j - 1
		a := args[j]
		switch {
		case !store && strKW(a, "WITHSCORES"):
			withScores = true
		case strKW(a, "LIMIT") && left >= 2:
			var ok1, ok2 bool
			offset, ok1 = resp.ParseInt(args[j+1])
			if ok1 {
				limit, ok2 = resp.ParseInt(args[j+2])
			}
			if !ok1 || !ok2 {
				c.Error(command.ErrNotInteger)
				return
			}
			j += 2
		case autoDir && strKW(a, "REV"):
			rev, autoDir = true, false
		case rtype == zrAuto && strKW(a, "BYLEX"):
			rtype = zrLex
		case rtype == zrAuto && strKW(a, "BYSCORE"):
			rtype = zrScore
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	if rtype == zrAuto {
		rtype = zrRank
	}
	if limit != -1 && rtype == zrRank {
		c.Error(errZlimitRank)
		return
	}
	if withScores && rtype == zrLex {
		c.Error(errZwithscoresLex)
		return
	}
	if rev && rtype != zrRank {
		minIdx, maxIdx = maxIdx, minIdx
	}
	var start, end int64
	var sr zrangeSpec
	var lr zlexSpec
	switch rtype {
	case zrRank:
		var ok1, ok2 bool
		start, ok1 = resp.ParseInt(args[minIdx])
		end, ok2 = resp.ParseInt(args[maxIdx])
		if !ok1 || !ok2 {
			c.Error(command.ErrNotInteger)
			return
		}
	case zrScore:
		var ok bool
		if sr, ok = zparseRange(args[minIdx], args[maxIdx]); !ok {
			c.Error(errZminMaxFloat)
			return
		}
	case zrLex:
		var ok bool
		if lr, ok = zparseLex(args[minIdx], args[maxIdx]); !ok {
			c.Error(errZminMaxLex)
			return
		}
	}
	z, ok := zget(c, args[argStart], true)
	if !ok {
		return
	}
	if z == nil {
		if store {
			if c.DB.Delete(args[1]) {
				c.Dirty++
			}
			c.W.Int(0)
		} else {
			c.W.ArrayLen(0)
		}
		return
	}
	defer z.release()

	// Every kind of range is a run of consecutive ranks: first, then n
	// members going up (or down when rev).
	llen := int64(z.Len())
	var first, n int64
	sizeHint := math.MaxInt // Redis sizes score/lex results as unknown: big encoding
	switch rtype {
	case zrRank:
		if start < 0 {
			start += llen
		}
		if end < 0 {
			end += llen
		}
		start = max(start, 0)
		if start > end || start >= llen {
			n = 0
		} else {
			end = min(end, llen-1)
			n = end - start + 1
			first = start
			if rev {
				first = llen - 1 - start
			}
		}
		sizeHint = int(n)
	default:
		var lo, hi int
		if rtype == zrScore {
			lo, hi = z.scoreBounds(&sr)
		} else {
			lo, hi = z.lexBounds(&lr)
		}
		avail := int64(hi - lo)
		if offset < 0 || offset >= avail {
			n = 0
		} else {
			n = avail - offset
			if limit >= 0 {
				n = min(n, limit)
			}
			first = int64(lo) + offset
			if rev {
				first = int64(hi) - 1 - offset
			}
		}
	}
	if store {
		dst := zresult(c, sizeHint, 0)
		z.walk(int(first), int(n), rev, func(m []byte, s float64) { dst.insert(m, s) })
		c.W.Int(int64(dst.storeNew(c, args[1])))
		dst.release()
		return
	}
	zreplyRun(c, z, int(first), int(n), rev, withScores)
}

// zreplyRun replies with n members from rank first, with scores as
// WITHSCORES wants them: flat in RESP2, [member, score] pairs in RESP3.
func zreplyRun(c *command.Ctx, z *zval, first, n int, rev, withScores bool) {
	r3 := zresp3(c)
	if withScores && !r3 {
		c.W.ArrayLen(2 * n)
	} else {
		c.W.ArrayLen(n)
	}
	z.walk(first, n, rev, func(m []byte, s float64) {
		if withScores && r3 {
			c.W.ArrayLen(2)
		}
		c.W.Bulk(m)
		if withScores {
			c.W.Double(s)
		}
	})
}

// ---- ZREMRANGEBY* ----

func zremrangebyrankCommand(c *command.Ctx)  { zremrangeGeneric(c, zrRank) }
func zremrangebyscoreCommand(c *command.Ctx) { zremrangeGeneric(c, zrScore) }
func zremrangebylexCommand(c *command.Ctx)   { zremrangeGeneric(c, zrLex) }

func zremrangeGeneric(c *command.Ctx, rtype zrangeType) {
	var start, end int64
	var sr zrangeSpec
	var lr zlexSpec
	switch rtype {
	case zrRank:
		var ok1, ok2 bool
		start, ok1 = resp.ParseInt(c.Args[2])
		end, ok2 = resp.ParseInt(c.Args[3])
		if !ok1 || !ok2 {
			c.Error(command.ErrNotInteger)
			return
		}
	case zrScore:
		var ok bool
		if sr, ok = zparseRange(c.Args[2], c.Args[3]); !ok {
			c.Error(errZminMaxFloat)
			return
		}
	case zrLex:
		var ok bool
		if lr, ok = zparseLex(c.Args[2], c.Args[3]); !ok {
			c.Error(errZminMaxLex)
			return
		}
	}
	key := c.Args[1]
	z, ok := zget(c, key, false)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	defer z.release()
	var lo, hi int // [lo, hi)
	switch rtype {
	case zrRank:
		llen := int64(z.Len())
		if start < 0 {
			start += llen
		}
		if end < 0 {
			end += llen
		}
		start = max(start, 0)
		if start > end || start >= llen {
			c.W.Int(0)
			return
		}
		end = min(end, llen-1)
		lo, hi = int(start), int(end)+1
	case zrScore:
		lo, hi = z.scoreBounds(&sr)
	case zrLex:
		lo, hi = z.lexBounds(&lr)
	}
	deleted := z.removeRange(lo, hi-1)
	z.save(c, key)
	c.Dirty += int64(deleted)
	c.W.Int(int64(deleted))
}

// ---- ZPOPMIN / ZPOPMAX / ZMPOP ----

func zpopminCommand(c *command.Ctx) { zpopMinMax(c, false) }
func zpopmaxCommand(c *command.Ctx) { zpopMinMax(c, true) }

func zpopMinMax(c *command.Ctx, popMax bool) {
	if len(c.Args) > 3 {
		c.Error(command.ErrSyntax)
		return
	}
	count := int64(-1)
	if len(c.Args) == 3 {
		n, ok := resp.ParseInt(c.Args[2])
		if !ok {
			c.Error(command.ErrNotInteger)
			return
		}
		if n < 0 {
			c.Error(command.ErrNotInRange)
			return
		}
		count = n
	}
	zpopGeneric(c, c.Args[1:2], popMax, false, count, zresp3(c) && count != -1, false)
}

// zpopGeneric is Redis's genericZpopCommand: pop from the first existing
// key of keys; emitKey and nested choose the reply shape.
func zpopGeneric(c *command.Ctx, keys [][]byte, popMax, emitKey bool, count int64, nested, nilWhenEmpty bool) {
	var z *zval
	var key []byte
	for _, k := range keys {
		var ok bool
		z, ok = zget(c, k, false)
		if !ok {
			return
		}
		if z != nil {
			key = k
			break
		}
	}
	if z == nil {
		if nilWhenEmpty {
			c.W.NullArray()
		} else {
			c.W.ArrayLen(0)
		}
		return
	}
	defer z.release()
	if count == 0 {
		c.W.ArrayLen(0)
		return
	}
	if count == -1 {
		count = 1
	}
	n := int(min(count, int64(z.Len())))
	switch {
	case !nested && !emitKey:
		c.W.ArrayLen(2 * n)
	case nested && !emitKey:
		c.W.ArrayLen(n)
	case !nested && emitKey:
		c.W.ArrayLen(2*n + 1)
		c.W.Bulk(key)
	default:
		c.W.ArrayLen(2)
		c.W.Bulk(key)
		c.W.ArrayLen(n)
	}
	for i := 0; i < n; i++ {
		r := 0
		if popMax {
			r = z.Len() - 1
		}
		m, s := z.get(r)
		if nested {
			c.W.ArrayLen(2)
		}
		c.W.Bulk(m)
		c.W.Double(s)
		if z.tree != nil {
			z.tree.Remove(m)
		} else {
			z.removeSmall(r)
		}
	}
	z.save(c, key)
	c.Dirty += int64(n)
	if n > 0 {
		ev := "zpopmin"
		if popMax {
			ev = "zpopmax"
		}
		notifyChange(c, command.NotifyZset, ev, key)
		if emitKey && c.Propagating {
			// BZPOPMIN, ZMPOP, BZMPOP: the plain pop of the key served.
			name := argZPOPMIN
			if popMax {
				name = argZPOPMAX
			}
			if nested {
				c.PropagateAs(name, key, strconv.AppendInt(nil, int64(n), 10))
			} else {
				c.PropagateAs(name, key)
			}
		}
	}
}

func zmpopCommand(c *command.Ctx) { zmpopGeneric(c, 1, 0, false) }

// zmpopGeneric is ZMPOP and, with block, BZMPOP: numkeys is at argument
// base, and the keys follow it.
func zmpopGeneric(c *command.Ctx, base int, deadline int64, block bool) {
	args := c.Args
	numkeys, ok := resp.ParseInt(args[base])
	if !ok || numkeys < 1 {
		c.Error(errZnumkeys)
		return
	}
	if numkeys > int64(len(args)) {
		c.Error(command.ErrSyntax)
		return
	}
	whereIdx := int(numkeys) + base + 1
	if whereIdx >= len(args) {
		c.Error(command.ErrSyntax)
		return
	}
	var popMax bool
	switch {
	case strKW(args[whereIdx], "MIN"):
	case strKW(args[whereIdx], "MAX"):
		popMax = true
	default:
		c.Error(command.ErrSyntax)
		return
	}
	count := int64(-1)
	for j := whereIdx + 1; j < len(args); j++ {
		if count == -1 && strKW(args[j], "COUNT") && j < len(args)-1 {
			j++
			n, ok := resp.ParseInt(args[j])
			if !ok || n < 1 {
				c.Error(errZcount)
				return
			}
			count = n
		} else {
			c.Error(command.ErrSyntax)
			return
		}
	}
	if count == -1 {
		count = 1
	}
	keys := args[base+1 : whereIdx]
	if block {
		found, ok := zanyReady(c, keys)
		if !ok {
			return
		}
		if !found {
			c.BlockOn(deadline, keyspace.TypeZSet, keys)
			return
		}
	}
	zpopGeneric(c, keys, popMax, true, count, true, true)
}

// zanyReady reports whether one of keys holds a sorted set, replying
// WRONGTYPE (ok false) if a key before it holds another type.
func zanyReady(c *command.Ctx, keys [][]byte) (found, ok bool) {
	for _, k := range keys {
		z, ok := zget(c, k, false)
		if !ok {
			return false, false
		}
		if z != nil {
			z.release()
			return true, true
		}
	}
	return false, true
}

// ---- ZRANDMEMBER ----

func zrandmemberCommand(c *command.Ctx) {
	args := c.Args
	if len(args) >= 3 {
		l, ok := resp.ParseInt(args[2])
		if !ok {
			c.Error(command.ErrNotInteger)
			return
		}
		if l == math.MinInt64 {
			c.Error(errZrandLong)
			return
		}
		withScores := false
		if len(args) > 4 || (len(args) == 4 && !strKW(args[3], "WITHSCORES")) {
			c.Error(command.ErrSyntax)
			return
		} else if len(args) == 4 {
			withScores = true
			if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
				c.Error(errZrandRange)
				return
			}
		}
		zrandmemberCount(c, l, withScores)
		return
	}
	z, ok := zget(c, args[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.W.Null()
		return
	}
	m, _ := z.get(rand.IntN(z.Len()))
	c.W.Bulk(m)
	z.release()
}

func zrandmemberCount(c *command.Ctx, l int64, withScores bool) {
	z, ok := zget(c, c.Args[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.W.ArrayLen(0)
		return
	}
	defer z.release()
	r3 := zresp3(c)
	emit := func(m []byte, s float64) {
		if withScores && r3 {
			c.W.ArrayLen(2)
		}
		c.W.Bulk(m)
		if withScores {
			c.W.Double(s)
		}
	}
	header := func(n int) {
		if withScores && !r3 {
			c.W.ArrayLen(2 * n)
		} else {
			c.W.ArrayLen(n)
		}
	}
	if l == 0 {
		c.W.ArrayLen(0)
		return
	}
	size := z.Len()
	if l < 0 || l == 1 {
		// Repetitions allowed: independent picks.
		count := int(-l)
		if l == 1 {
			count = 1
		}
		header(count)
		for i := 0; i < count && !c.OutputFull(); i++ {
			m, s := z.get(rand.IntN(size))
			emit(m, s)
		}
		return
	}
	count := int(min(l, int64(size)))
	header(count)
	if count == size {
		z.walk(0, size, false, emit)
		return
	}
	if z.tree == nil || count*3 > size {
		// Choose count distinct ranks by a partial shuffle; small sets
		// reply in set order, as Redis's listpack sampling does.
		idx := make([]int, size)
		for i := range idx {
			idx[i] = i
		}
		for i := 0; i < count; i++ {
			j := i + rand.IntN(size-i)
			idx[i], idx[j] = idx[j], idx[i]
		}
		pick := idx[:count]
		if z.tree == nil {
			slices.Sort(pick)
		}
		for _, r := range pick {
			m, s := z.get(r)
			emit(m, s)
		}
		return
	}
	seen := make(map[int]struct{}, count)
	for len(seen) < count {
		r := rand.IntN(size)
		if _, dup := seen[r]; dup {
			continue
		}
		seen[r] = struct{}{}
		m, s := z.get(r)
		emit(m, s)
	}
}

// ---- ZUNION / ZINTER / ZDIFF and their STORE forms, ZINTERCARD ----

type zsetOp int8

const (
	zopUnion zsetOp = iota
	zopInter
	zopDiff
)

func zunionCommand(c *command.Ctx)      { zsetOperation(c, nil, 1, zopUnion, false) }
func zinterCommand(c *command.Ctx)      { zsetOperation(c, nil, 1, zopInter, false) }
func zdiffCommand(c *command.Ctx)       { zsetOperation(c, nil, 1, zopDiff, false) }
func zintercardCommand(c *command.Ctx)  { zsetOperation(c, nil, 1, zopInter, true) }
func zunionstoreCommand(c *command.Ctx) { zsetOperation(c, c.Args[1], 2, zopUnion, false) }
func zinterstoreCommand(c *command.Ctx) { zsetOperation(c, c.Args[1], 2, zopInter, false) }
func zdiffstoreCommand(c *command.Ctx)  { zsetOperation(c, c.Args[1], 2, zopDiff, false) }

// Aggregation modes of ZUNION/ZINTER.
const (
	zaggSum = iota
	zaggMin
	zaggMax
)

func zaggregate(target *float64, v float64, agg int) {
	switch agg {
	case zaggSum:
		*target += v
		// +inf + -inf is NaN; Redis makes it 0.
		if math.IsNaN(*target) {
			*target = 0
		}
	case zaggMin:
		if v < *target {
			*target = v
		}
	case zaggMax:
		if v > *target {
			*target = v
		}
	}
}

// zsetOperation is Redis's zunionInterDiffGenericCommand.
func zsetOperation(c *command.Ctx, dst []byte, numkeysIdx int, op zsetOp, cardOnly bool) {
	args := c.Args
	setnum, ok := resp.ParseInt(args[numkeysIdx])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	if setnum < 1 {
		c.Error("ERR at least 1 input key is needed for '" + c.Cmd.Name + "' command")
		return
	}
	if setnum > int64(len(args)-(numkeysIdx+1)) {
		c.Error(command.ErrSyntax)
		return
	}
	srcs := make([]zsrc, setnum)
	defer func() {
		for i := range srcs {
			if srcs[i].z != nil {
				srcs[i].z.release()
			}
		}
	}()
	j := numkeysIdx + 1
	for i := range srcs {
		if !zloadSrc(c, args[j], &srcs[i]) {
			return
		}
		srcs[i].weight = 1
		j++
	}
	agg := zaggSum
	withScores := false
	var limit int64
	for j < len(args) {
		remaining := len(args) - j
		a := args[j]
		switch {
		case op != zopDiff && !cardOnly && remaining >= int(setnum)+1 && strKW(a, "WEIGHTS"):
			j++
			for i := range srcs {
				w, ok := zparseFloat(args[j])
				if !ok {
					c.Error(errZweight)
					return
				}
				srcs[i].weight = w
				j++
			}
		case op != zopDiff && !cardOnly && remaining >= 2 && strKW(a, "AGGREGATE"):
			switch v := args[j+1]; {
			case strKW(v, "SUM"):
				agg = zaggSum
			case strKW(v, "MIN"):
				agg = zaggMin
			case strKW(v, "MAX"):
				agg = zaggMax
			default:
				c.Error(command.ErrSyntax)
				return
			}
			j += 2
		case dst == nil && !cardOnly && strKW(a, "WITHSCORES"):
			withScores = true
			j++
		case cardOnly && remaining >= 2 && strKW(a, "LIMIT"):
			n, ok := resp.ParseInt(args[j+1])
			if !ok || n < 0 {
				c.Error(errZlimitNeg)
				return
			}
			limit = n
			j += 2
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	if op != zopDiff {
		slices.SortStableFunc(srcs, func(a, b zsrc) int { return a.n - b.n })
	}

	var out []zent
	cardinality := int64(0)
	maxLen := 0
	keep := func(m []byte, s float64) {
		out = append(out, zent{bytes.Clone(m), s})
		maxLen = max(maxLen, len(m))
	}
	switch op {
	case zopInter:
		if srcs[0].n > 0 {
			srcs[0].each(func(m []byte, sc float64) bool {
				score := srcs[0].weight * sc
				if math.IsNaN(score) {
					score = 0
				}
				k := 1
				for ; k < len(srcs); k++ {
					v, found := srcs[k].find(m)
					if !found {
						break
					}
					zaggregate(&score, v*srcs[k].weight, agg)
				}
				if k < len(srcs) {
					return true
				}
				if cardOnly {
					cardinality++
					return limit == 0 || cardinality < limit
				}
				keep(m, score)
				return true
			})
		}
	case zopUnion:
		acc := make(map[string]int, srcs[len(srcs)-1].n)
		for i := range srcs {
			w := srcs[i].weight
			srcs[i].each(func(m []byte, sc float64) bool {
				score := w * sc
				if math.IsNaN(score) {
					score = 0
				}
				if at, ok := acc[string(m)]; ok {
					zaggregate(&out[at].s, score, agg)
					return true
				}
				acc[string(m)] = len(out)
				keep(m, score)
				return true
			})
		}
	case zopDiff:
		if srcs[0].n > 0 {
			srcs[0].each(func(m []byte, sc float64) bool {
				for k := 1; k < len(srcs); k++ {
					if _, found := srcs[k].find(m); found {
						return true
					}
				}
				keep(m, sc)
				return true
			})
		}
	}
	if cardOnly {
		c.W.Int(cardinality)
		return
	}
	slices.SortFunc(out, func(a, b zent) int {
		switch {
		case a.s < b.s:
			return -1
		case a.s > b.s:
			return 1
		}
		return bytes.Compare(a.m, b.m)
	})
	if dst != nil {
		res := newZval(c)
		if len(out) > res.maxEntries || maxLen > res.maxValue {
			res.toTree(len(out))
			for _, e := range out {
				res.tree.Add(e.m, e.s)
			}
		} else {
			res.ents = append(res.ents, out...)
			res.dirty = true
		}
		c.W.Int(int64(res.storeNew(c, dst)))
		res.release()
		return
	}
	r3 := zresp3(c)
	if withScores && !r3 {
		c.W.ArrayLen(2 * len(out))
	} else {
		c.W.ArrayLen(len(out))
	}
	for _, e := range out {
		if withScores && r3 {
			c.W.ArrayLen(2)
		}
		c.W.Bulk(e.m)
		if withScores {
			c.W.Double(e.s)
		}
	}
}

// ---- ZSCAN ----

// zscanCommand walks a small sorted set in one call (cursor 0), as Redis
// does for listpacks; a big one is walked in rank order, the cursor being
// the next rank. Members added or removed below the cursor during a scan
// shift the ranks, so unlike Redis's hash-table cursor an element present
// throughout can, under concurrent deletes, be skipped; under inserts it
// may be returned twice (which Redis also allows).
func zscanCommand(c *command.Ctx) {
	cursor, ok := parseCursor(c.Args[2])
	if !ok {
		c.Error(errInvalidCursor)
		return
	}
	z, ok := zget(c, c.Args[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.W.ArrayLen(2)
		c.W.Bulk([]byte("0"))
		c.W.ArrayLen(0)
		return
	}
	defer z.release()
	count := int64(10)
	var pattern []byte
	for i := 3; i < len(c.Args); i += 2 {
		if i+1 >= len(c.Args) {
			c.Error(command.ErrSyntax)
			return
		}
		switch opt := c.Args[i]; {
		case strKW(opt, "COUNT"):
			n, ok := resp.ParseInt(c.Args[i+1])
			if !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			if n < 1 {
				c.Error(command.ErrSyntax)
				return
			}
			count = n
		case strKW(opt, "MATCH"):
			pattern = c.Args[i+1]
			if len(pattern) == 1 && pattern[0] == '*' {
				pattern = nil
			}
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	size := z.Len()
	start, n := 0, size
	next := uint64(0)
	if z.tree != nil {
		if cursor >= uint64(size) {
			start, n = size, 0
		} else {
			start = int(cursor)
			n = int(min(count, int64(size-start)))
			if start+n < size {
				next = uint64(start + n)
			}
		}
	}
	// Collect first: the reply's length depends on MATCH.
	type hit struct {
		m []byte
		s float64
	}
	var hits []hit
	z.walk(start, n, false, func(m []byte, s float64) {
		if pattern != nil && !config.GlobMatch(pattern, m, false) {
			return
		}
		hits = append(hits, hit{m, s})
	})
	c.W.ArrayLen(2)
	var tmp [32]byte
	c.W.Bulk(strconv.AppendUint(tmp[:0], next, 10))
	c.W.ArrayLen(2 * len(hits))
	for _, h := range hits {
		c.W.Bulk(h.m)
		c.W.Bulk(resp.AppendDouble(tmp[:0], h.s))
	}
}
