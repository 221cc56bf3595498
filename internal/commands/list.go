package commands

import (
	"math"
	"strconv"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/ds/listpack"
	"github.com/corvid-db/corvid/internal/ds/quicklist"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// Errors only the list commands reply with.
const (
	errListIndexRange = "ERR index out of range"
	errLposRankZero   = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	errLposRankRange  = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	errLposCount      = "ERR COUNT can't be negative"
	errLposMaxlen     = "ERR MAXLEN can't be negative"
	errNumkeys        = "ERR numkeys should be greater than 0"
	errMpopCount      = "ERR count should be greater than 0"
)

// listCommands are Redis's list group, without the blocking commands
// (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP), which need the dispatcher to
// park clients.
func listCommands() []*command.Command {
	const (
		read  = command.CatRead
		write = command.CatWrite
		list  = command.CatList
		fast  = command.CatFast
		slow  = command.CatSlow
	)
	one := func(flags ...string) []command.KeySpec {
		return []command.KeySpec{{Flags: flags, BeginIndex: 1, LastKey: 0, Step: 1}}
	}
	srcDst := []command.KeySpec{
		{Flags: []string{"RW", "access", "delete"}, BeginIndex: 1, LastKey: 0, Step: 1},
		{Flags: []string{"RW", "insert"}, BeginIndex: 2, LastKey: 0, Step: 1},
	}
	return []*command.Command{
		{Name: "lpush", Arity: -3, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | list | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "insert"),
			Group: "list", Since: "1.0.0", Summary: "Prepends elements to a list, creating it if needed.", Handler: ev(command.NotifyList, "lpush", lpushCommand)},
		{Name: "rpush", Arity: -3, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | list | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "insert"),
			Group: "list", Since: "1.0.0", Summary: "Appends elements to a list, creating it if needed.", Handler: ev(command.NotifyList, "rpush", rpushCommand)},
		{Name: "lpushx", Arity: -3, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | list | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "insert"),
			Group: "list", Since: "2.2.0", Summary: "Prepends elements to a list only when the list exists.", Handler: ev(command.NotifyList, "lpush", lpushxCommand)},
		{Name: "rpushx", Arity: -3, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | list | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "insert"),
			Group: "list", Since: "2.2.0", Summary: "Appends elements to a list only when the list exists.", Handler: ev(command.NotifyList, "rpush", rpushxCommand)},
		{Name: "lpop", Arity: -2, Flags: command.Write | command.Fast, ACL: write | list | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "access", "delete"),
			Group: "list", Since: "1.0.0", Summary: "Removes and returns the first elements of a list, deleting it when it empties.", Handler: lpopCommand},
		{Name: "rpop", Arity: -2, Flags: command.Write | command.Fast, ACL: write | list | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "access", "delete"),
			Group: "list", Since: "1.0.0", Summary: "Removes and returns the last elements of a list, deleting it when it empties.", Handler: rpopCommand},
		{Name: "llen", Arity: 2, Flags: command.ReadOnly | command.Fast, ACL: read | list | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO"),
			Group: "list", Since: "1.0.0", Summary: "Returns the length of a list.", Handler: llenCommand},
		{Name: "lindex", Arity: 3, Flags: command.ReadOnly, ACL: read | list | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO", "access"),
			Group: "list", Since: "1.0.0", Summary: "Returns the element of a list at an index.", Handler: lindexCommand},
		{Name: "lset", Arity: 4, Flags: command.Write | command.DenyOOM, ACL: write | list | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "update"),
			Group: "list", Since: "1.0.0", Summary: "Replaces the element of a list at an index.", Handler: ev(command.NotifyList, "lset", lsetCommand)},
		{Name: "lrange", Arity: 4, Flags: command.ReadOnly, ACL: read | list | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO", "access"),
			Group: "list", Since: "1.0.0", Summary: "Returns a range of elements of a list.", Handler: lrangeCommand},
		{Name: "ltrim", Arity: 4, Flags: command.Write, ACL: write | list | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "delete"),
			Group: "list", Since: "1.0.0", Summary: "Keeps only a range of elements of a list, deleting it if nothing is left.", Handler: ev(command.NotifyList, "ltrim", ltrimCommand)},
		{Name: "lrem", Arity: 4, Flags: command.Write, ACL: write | list | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "delete"),
			Group: "list", Since: "1.0.0", Summary: "Removes occurrences of an element from a list, from either end.", Handler: ev(command.NotifyList, "lrem", lremCommand)},
		{Name: "linsert", Arity: 5, Flags: command.Write | command.DenyOOM, ACL: write | list | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "insert"),
			Group: "list", Since: "2.2.0", Summary: "Inserts an element before or after the first occurrence of another.", Handler: ev(command.NotifyList, "linsert", linsertCommand)},
		{Name: "lpos", Arity: -3, Flags: command.ReadOnly, ACL: read | list | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO", "access"),
			Group: "list", Since: "6.0.6", Summary: "Returns the indexes of the elements of a list equal to a value.", Handler: lposCommand},
		{Name: "lmove", Arity: 5, Flags: command.Write | command.DenyOOM, ACL: write | list | slow,
			FirstKey: 1, LastKey: 2, Step: 1, KeySpecs: srcDst,
			Group: "list", Since: "6.2.0", Summary: "Pops an element from one end of a list and pushes it onto an end of another, returning it.", Handler: lmoveCommand},
		{Name: "rpoplpush", Arity: 3, Flags: command.Write | command.DenyOOM, ACL: write | list | slow,
			FirstKey: 1, LastKey: 2, Step: 1, KeySpecs: srcDst,
			Group: "list", Since: "1.2.0", Summary: "Pops the last element of a list and pushes it at the head of another, returning it.", Handler: rpoplpushCommand},
		{Name: "lmpop", Arity: -4, Flags: command.Write | command.MovableKeys, ACL: write | list | slow,
			KeySpecs: []command.KeySpec{{Flags: []string{"RW", "access", "delete"}, BeginIndex: 1, KeyNumIdx: 1, FirstKey: 2, Step: 1}},
			Group:    "list", Since: "7.0.0", Summary: "Pops elements from the first non-empty list of several, from either end.", Handler: lmpopCommand},
	}
}

// emptyListpack is the listpack with no elements, copied into scratch
// buffers to start a new list without allocating.
var emptyListpack = listpack.New()

// listFill returns list-max-listpack-size, which bounds both a
// listpack-encoded list and each quicklist node.
func listFill(c *command.Ctx) int {
	if cfg := configOf(c); cfg != nil {
		return int(cfg.Int("list-max-listpack-size"))
	}
	return -2
}

// listVal is a looked-up list in either encoding: ql for a quicklist,
// otherwise lp, the listpack bytes (aliasing keyspace memory).
type listVal struct {
	ql *quicklist.List
	lp []byte
}

func listOf(e keyspace.Entry) listVal {
	if ql, ok := e.Object().(*quicklist.List); ok {
		return listVal{ql: ql}
	}
	return listVal{lp: e.Bytes()}
}

func (v listVal) len() int {
	if v.ql != nil {
		return v.ql.Len()
	}
	return listpack.Len(v.lp)
}

func (v listVal) iter(i int, reverse bool) quicklist.Iter {
	if v.ql != nil {
		return v.ql.Iter(i, reverse)
	}
	return quicklist.ListpackIter(v.lp, i, reverse)
}

// index returns element i (0 <= i < len), aliasing the list.
func (v listVal) index(i int) []byte {
	if v.ql != nil {
		return v.ql.Index(i)
	}
	return listpack.Get(v.lp, listpack.Seek(v.lp, i))
}

// lookupList finds key as a list for a write command. It replies
// WRONGTYPE itself and then returns bad.
func lookupList(c *command.Ctx, key []byte) (v listVal, found, bad bool) {
	e, ok, err := c.DB.LookupType(key, keyspace.TypeList)
	if err != nil {
		c.Error(command.ErrWrongType)
		return listVal{}, false, true
	}
	if !ok {
		return listVal{}, false, false
	}
	return listOf(e), true, false
}

// lookupListRead is lookupList for read commands (counts hits and misses).
func lookupListRead(c *command.Ctx, key []byte) (v listVal, found, bad bool) {
	e, ok, err := c.DB.LookupReadType(key, keyspace.TypeList)
	if err != nil {
		c.Error(command.ErrWrongType)
		return listVal{}, false, true
	}
	if !ok {
		return listVal{}, false, false
	}
	return listOf(e), true, false
}

// storeListpack stores a listpack-encoded list (copying lp into the
// record), or deletes the key when the list is empty.
func storeListpack(c *command.Ctx, key, lp []byte) {
	if listpack.Len(lp) == 0 {
		c.DB.Delete(key)
		return
	}
	c.DB.SetInline(key, keyspace.TypeList, keyspace.EncListpack, lp, keyspace.KeepTTL)
}

// afterShrink runs after elements left a quicklist: it deletes the key
// when the list is empty, and turns a list of one node back into a
// listpack once it is under half the limits, as Redis's
// listTypeTryConvertQuicklist does (half, so a list near the limit does
// not flip encodings on every push and pop).
func afterShrink(c *command.Ctx, key []byte, ql *quicklist.List, fill int) {
	if ql.Len() == 0 {
		c.DB.Delete(key)
		return
	}
	lp := ql.SingleNode()
	if lp == nil {
		return
	}
	szLimit, cntLimit := quicklist.Limits(fill)
	if szLimit >= 0 && len(lp) > szLimit/2 || cntLimit >= 0 && ql.Len() > cntLimit/2 {
		return
	}
	c.DB.SetInline(key, keyspace.TypeList, keyspace.EncListpack, lp, keyspace.KeepTTL)
}

// toQuicklist turns a listpack-encoded list into a quicklist stored under
// key (lp is copied), for when an addition would take it past the limits.
func toQuicklist(c *command.Ctx, key, lp []byte, fill int) *quicklist.List {
	var own []byte
	if lp != nil {
		own = append(make([]byte, 0, len(lp)), lp...)
	} else {
		own = listpack.New()
	}
	ql := quicklist.FromListpack(own, fill)
	c.DB.SetObject(key, keyspace.TypeList, ql, keyspace.KeepTTL)
	return ql
}

// listpackGrows reports whether adding elements of addBytes bytes in total
// to the listpack lp (nil: an empty list) would take it past the limits,
// which is when Redis converts to a quicklist.
func listpackGrows(lp []byte, fill, addBytes, addCount int) bool {
	size, n := len(emptyListpack), 0
	if lp != nil {
		size, n = len(lp), listpack.Len(lp)
	}
	return quicklist.ExceedsLimit(fill, size+addBytes, n+addCount)
}

func lpushCommand(c *command.Ctx)  { pushGeneric(c, true, false) }
func rpushCommand(c *command.Ctx)  { pushGeneric(c, false, false) }
func lpushxCommand(c *command.Ctx) { pushGeneric(c, true, true) }
func rpushxCommand(c *command.Ctx) { pushGeneric(c, false, true) }

// pushGeneric is LPUSH/RPUSH, and with xx LPUSHX/RPUSHX.
func pushGeneric(c *command.Ctx, head, xx bool) {
	key, elems := c.Args[1], c.Args[2:]
	v, found, bad := lookupList(c, key)
	if bad {
		return
	}
	if !found && xx {
		c.W.Int(0)
		return
	}
	fill := listFill(c)
	c.Dirty += int64(len(elems))
	ql := v.ql
	if ql == nil {
		add := 0
		for _, e := range elems {
			add += len(e)
		}
		if !listpackGrows(v.lp, fill, add, len(elems)) {
			lp := c.Scratch[:0]
			if found {
				lp = append(lp, v.lp...)
			} else {
				lp = append(lp, emptyListpack...)
			}
			for _, e := range elems {
				if head {
					lp = listpack.Prepend(lp, e)
				} else {
					lp = listpack.Append(lp, e)
				}
			}
			c.DB.SetInline(key, keyspace.TypeList, keyspace.EncListpack, lp, keyspace.KeepTTL)
			c.W.Int(int64(listpack.Len(lp)))
			c.Scratch = lp[:0]
			return
		}
		ql = toQuicklist(c, key, v.lp, fill)
	}
	ql.SetFill(fill)
	for _, e := range elems {
		if head {
			ql.PushFront(e)
		} else {
			ql.PushBack(e)
		}
	}
	c.W.Int(int64(ql.Len()))
}

func lpopCommand(c *command.Ctx) { popGeneric(c, true) }
func rpopCommand(c *command.Ctx) { popGeneric(c, false) }

// popGeneric is LPOP/RPOP [count].
func popGeneric(c *command.Ctx, head bool) {
	if len(c.Args) > 3 {
		c.Error(command.ErrWrongArgs(c.Cmd.Name))
		return
	}
	hasCount := len(c.Args) == 3
	count := int64(1)
	if hasCount {
		n, ok := resp.ParseInt(c.Args[2])
		if !ok || n < 0 {
			c.Error(command.ErrNotInRange)
			return
		}
		count = n
	}
	key := c.Args[1]
	v, found, bad := lookupList(c, key)
	if bad {
		return
	}
	if !found {
		if hasCount {
			c.W.NullArray()
		} else {
			c.W.Null()
		}
		return
	}
	if hasCount && count == 0 {
		c.W.ArrayLen(0)
		return
	}
	if !hasCount {
		popReply(c, key, v, head, 1, false)
		return
	}
	popReply(c, key, v, head, int(min(count, int64(v.len()))), true)
}

// popReply removes n elements (1 <= n <= length) from one end of the list
// at key, replying with them as an array (or, without asArray, the single
// element as a bulk string), and stores or deletes what remains.
func popReply(c *command.Ctx, key []byte, v listVal, head bool, n int, asArray bool) {
	c.Dirty += int64(n)
	if c.Notifies(command.NotifyList | command.NotifyGeneric) {
		defer notifyChange(c, command.NotifyList, popEvent(head), key)
	}
	if asArray {
		c.W.ArrayLen(n)
	}
	if ql := v.ql; ql != nil {
		for range n {
			if head {
				c.W.Bulk(ql.Front())
				ql.PopFront()
			} else {
				c.W.Bulk(ql.Back())
				ql.PopBack()
			}
		}
		afterShrink(c, key, ql, listFill(c))
		return
	}
	total := listpack.Len(v.lp)
	if n == total {
		// Everything goes: reply straight from the record, then delete it.
		it := quicklist.ListpackIter(v.lp, 0, false)
		if !head {
			it = quicklist.ListpackIter(v.lp, total-1, true)
		}
		for e, ok := it.Next(); ok; e, ok = it.Next() {
			c.W.Bulk(e)
		}
		c.DB.Delete(key)
		return
	}
	lp := append(c.Scratch[:0], v.lp...)
	if head {
		p := listpack.First(lp)
		for range n {
			c.W.Bulk(listpack.Get(lp, p))
			p = listpack.Next(lp, p)
		}
		lp = listpack.Delete(lp, listpack.First(lp), n)
	} else {
		p := listpack.Last(lp)
		last := p
		for range n {
			c.W.Bulk(listpack.Get(lp, p))
			last = p
			p = listpack.Prev(lp, p)
		}
		lp = listpack.Delete(lp, last, n)
	}
	storeListpack(c, key, lp)
	c.Scratch = lp[:0]
}

func llenCommand(c *command.Ctx) {
	v, found, bad := lookupListRead(c, c.Args[1])
	if bad {
		return
	}
	if !found {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(v.len()))
}

func lindexCommand(c *command.Ctx) {
	v, found, bad := lookupListRead(c, c.Args[1])
	if bad {
		return
	}
	if !found {
		c.W.Null()
		return
	}
	idx, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	n := int64(v.len())
	if idx < 0 {
		idx += n
	}
	if idx < 0 || idx >= n {
		c.W.Null()
		return
	}
	c.W.Bulk(v.index(int(idx)))
}

func lsetCommand(c *command.Ctx) {
	key, val := c.Args[1], c.Args[3]
	v, found, bad := lookupList(c, key)
	if bad {
		return
	}
	if !found {
		c.Error(command.ErrNoSuchKey)
		return
	}
	idx, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	// Like Redis, a value too big for a listpack converts the list even
	// when the index then turns out to be out of range.
	fill := listFill(c)
	if v.ql == nil && listpackGrows(v.lp, fill, len(val), 1) {
		v = listVal{ql: toQuicklist(c, key, v.lp, fill)}
	}
	n := int64(v.len())
	if idx < 0 {
		idx += n
	}
	if idx < 0 || idx >= n {
		c.Error(errListIndexRange)
		return
	}
	c.Dirty++
	ql := v.ql
	if ql == nil {
		lp := append(c.Scratch[:0], v.lp...)
		lp = listpack.Replace(lp, listpack.Seek(lp, int(idx)), val)
		storeListpack(c, key, lp)
		c.Scratch = lp[:0]
		c.OK()
		return
	}
	ql.SetFill(fill)
	ql.Set(int(idx), val)
	c.OK()
	afterShrink(c, key, ql, fill)
}

// listRange normalises LRANGE/LTRIM style start and stop against a list of
// n elements; ok is false for an empty range.
func listRange(start, stop, n int64) (from, to int64, ok bool) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= n {
		return 0, 0, false
	}
	if stop >= n {
		stop = n - 1
	}
	return start, stop, true
}

// parseTwoInts parses c.Args[i] and c.Args[i+1], replying on failure.
func parseTwoInts(c *command.Ctx, i int) (a, b int64, ok bool) {
	a, ok1 := resp.ParseInt(c.Args[i])
	b, ok2 := resp.ParseInt(c.Args[i+1])
	if !ok1 || !ok2 {
		c.Error(command.ErrNotInteger)
		return 0, 0, false
	}
	return a, b, true
}

func lrangeCommand(c *command.Ctx) {
	start, stop, ok := parseTwoInts(c, 2)
	if !ok {
		return
	}
	v, found, bad := lookupListRead(c, c.Args[1])
	if bad {
		return
	}
	if !found {
		c.W.ArrayLen(0)
		return
	}
	from, to, ok := listRange(start, stop, int64(v.len()))
	if !ok {
		c.W.ArrayLen(0)
		return
	}
	c.W.ArrayLen(int(to - from + 1))
	it := v.iter(int(from), false)
	for i := from; i <= to; i++ {
		e, _ := it.Next()
		c.W.Bulk(e)
	}
}

func ltrimCommand(c *command.Ctx) {
	start, stop, ok := parseTwoInts(c, 2)
	if !ok {
		return
	}
	key := c.Args[1]
	v, found, bad := lookupList(c, key)
	if bad {
		return
	}
	if !found {
		c.OK()
		return
	}
	n := int64(v.len())
	ltrim, rtrim := n, int64(0)
	if from, to, ok := listRange(start, stop, n); ok {
		ltrim, rtrim = from, n-to-1
	}
	c.Dirty += ltrim + rtrim
	if ql := v.ql; ql != nil {
		ql.DeleteRange(int(n-rtrim), int(rtrim))
		ql.DeleteRange(0, int(min(ltrim, n-rtrim)))
		afterShrink(c, key, ql, listFill(c))
		c.OK()
		return
	}
	if ltrim+rtrim == 0 {
		c.OK()
		return
	}
	if ltrim+rtrim >= n {
		c.DB.Delete(key)
		c.OK()
		return
	}
	lp := append(c.Scratch[:0], v.lp...)
	if rtrim > 0 {
		lp = listpack.Delete(lp, listpack.Seek(lp, int(n-rtrim)), int(rtrim))
	}
	if ltrim > 0 {
		lp = listpack.Delete(lp, listpack.First(lp), int(ltrim))
	}
	storeListpack(c, key, lp)
	c.Scratch = lp[:0]
	c.OK()
}

func lremCommand(c *command.Ctx) {
	key, elem := c.Args[1], c.Args[3]
	toRemove, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	v, found, bad := lookupList(c, key)
	if bad {
		return
	}
	if !found {
		c.W.Int(0)
		return
	}
	fromTail := toRemove < 0
	limit := toRemove
	if fromTail {
		limit = -limit // math.MinInt64 stays negative: no limit, like Redis's wrap
		if limit < 0 {
			limit = 0
		}
	}
	var removed int
	if ql := v.ql; ql != nil {
		removed = ql.RemoveMatches(elem, int(limit), fromTail)
		if removed > 0 {
			afterShrink(c, key, ql, listFill(c))
		}
	} else {
		// Work on a private copy as a one-node quicklist, so there is one
		// implementation of the scan.
		tmp := quicklist.FromListpack(append(c.Scratch[:0], v.lp...), listFill(c))
		removed = tmp.RemoveMatches(elem, int(limit), fromTail)
		if removed > 0 {
			lp := tmp.SingleNode()
			if lp == nil {
				c.DB.Delete(key)
			} else {
				storeListpack(c, key, lp)
				c.Scratch = lp[:0]
			}
		}
	}
	c.Dirty += int64(removed)
	c.W.Int(int64(removed))
}

func linsertCommand(c *command.Ctx) {
	key, pivot, val := c.Args[1], c.Args[3], c.Args[4]
	var after bool
	switch {
	case equalFold(c.Args[2], "after"):
		after = true
	case equalFold(c.Args[2], "before"):
	default:
		c.Error(command.ErrSyntax)
		return
	}
	v, found, bad := lookupList(c, key)
	if bad {
		return
	}
	if !found {
		c.W.Int(0)
		return
	}
	// Like Redis, convert before looking for the pivot: a value too big
	// for a listpack converts the list even if the pivot is missing.
	fill := listFill(c)
	if v.ql == nil && listpackGrows(v.lp, fill, len(val), 1) {
		v = listVal{ql: toQuicklist(c, key, v.lp, fill)}
	}
	idx := -1
	it := v.iter(0, false)
	for i := 0; ; i++ {
		e, ok := it.Next()
		if !ok {
			break
		}
		if string(e) == string(pivot) {
			idx = i
			break
		}
	}
	if idx < 0 {
		c.W.Int(-1)
		return
	}
	if after {
		idx++
	}
	c.Dirty++
	if ql := v.ql; ql != nil {
		ql.SetFill(fill)
		ql.Insert(idx, val)
		c.W.Int(int64(ql.Len()))
		return
	}
	lp := append(c.Scratch[:0], v.lp...)
	pos := len(lp)
	if idx < listpack.Len(lp) {
		pos = listpack.Seek(lp, idx)
	}
	lp = listpack.Insert(lp, pos, val)
	storeListpack(c, key, lp)
	c.W.Int(int64(listpack.Len(lp)))
	c.Scratch = lp[:0]
}

func lposCommand(c *command.Ctx) {
	elem := c.Args[2]
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for j := 3; j < len(c.Args); j++ {
		more := j+1 < len(c.Args)
		switch opt := c.Args[j]; {
		case more && equalFold(opt, "rank"):
			j++
			n, ok := resp.ParseInt(c.Args[j])
			if !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			if n == math.MinInt64 {
				c.Error(errLposRankRange)
				return
			}
			if n == 0 {
				c.Error(errLposRankZero)
				return
			}
			rank = n
		case more && equalFold(opt, "count"):
			j++
			n, ok := resp.ParseInt(c.Args[j])
			if !ok || n < 0 {
				c.Error(errLposCount)
				return
			}
			count = n
		case more && equalFold(opt, "maxlen"):
			j++
			n, ok := resp.ParseInt(c.Args[j])
			if !ok || n < 0 {
				c.Error(errLposMaxlen)
				return
			}
			maxlen = n
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	reverse := rank < 0
	if reverse {
		rank = -rank
	}
	v, found, bad := lookupListRead(c, c.Args[1])
	if bad {
		return
	}
	if !found {
		if count != -1 {
			c.W.ArrayLen(0)
		} else {
			c.W.Null()
		}
		return
	}
	n := int64(v.len())
	it := v.iter(0, false)
	if reverse {
		it = v.iter(int(n-1), true)
	}
	var matches int64
	var found1 int64 = -1
	var idxs []int64
	for i := int64(0); maxlen == 0 || i < maxlen; i++ {
		e, ok := it.Next()
		if !ok {
			break
		}
		if string(e) != string(elem) {
			continue
		}
		matches++
		if matches < rank {
			continue
		}
		at := i
		if reverse {
			at = n - 1 - i
		}
		if count == -1 {
			found1 = at
			break
		}
		idxs = append(idxs, at)
		if count > 0 && int64(len(idxs)) >= count {
			break
		}
	}
	if count != -1 {
		c.W.ArrayLen(len(idxs))
		for _, x := range idxs {
			c.W.Int(x)
		}
		return
	}
	if found1 < 0 {
		c.W.Null()
		return
	}
	c.W.Int(found1)
}

// parseWhere parses LEFT/RIGHT, replying a syntax error otherwise.
func parseWhere(c *command.Ctx, arg []byte) (head, ok bool) {
	switch {
	case equalFold(arg, "left"):
		return true, true
	case equalFold(arg, "right"):
		return false, true
	}
	c.Error(command.ErrSyntax)
	return false, false
}

func lmoveCommand(c *command.Ctx) {
	from, ok := parseWhere(c, c.Args[3])
	if !ok {
		return
	}
	to, ok := parseWhere(c, c.Args[4])
	if !ok {
		return
	}
	lmoveGeneric(c, from, to)
}

func rpoplpushCommand(c *command.Ctx) { lmoveGeneric(c, false, true) }

// lmoveGeneric pops from one end of the source and pushes onto one end of
// the destination (possibly the same list), replying with the element.
func lmoveGeneric(c *command.Ctx, fromHead, toHead bool) {
	src, dst := c.Args[1], c.Args[2]
	sv, found, bad := lookupList(c, src)
	if bad {
		return
	}
	if !found {
		c.W.Null()
		return
	}
	if _, _, bad := lookupList(c, dst); bad {
		return
	}
	// Copy the element out: popping changes the source, and the push may
	// rewrite the record it lives in.
	var elem []byte
	if fromHead {
		elem = append(elem, sv.index(0)...)
	} else {
		elem = append(elem, sv.index(sv.len()-1)...)
	}
	fill := listFill(c)
	if ql := sv.ql; ql != nil {
		if fromHead {
			ql.PopFront()
		} else {
			ql.PopBack()
		}
		afterShrink(c, src, ql, fill)
	} else {
		lp := append(c.Scratch[:0], sv.lp...)
		if fromHead {
			lp = listpack.Delete(lp, listpack.First(lp), 1)
		} else {
			lp = listpack.Delete(lp, listpack.Last(lp), 1)
		}
		storeListpack(c, src, lp)
		c.Scratch = lp[:0]
	}
	pushOne(c, dst, elem, toHead, fill)
	c.Dirty++ // one change, as Redis counts LMOVE
	if c.Notifies(command.NotifyList | command.NotifyGeneric) {
		notifyChange(c, command.NotifyList, popEvent(fromHead), src)
		push := "rpush"
		if toHead {
			push = "lpush"
		}
		c.Notify(command.NotifyList, push, dst)
	}
	c.W.Bulk(elem)
}

// pushOne pushes e onto the list at key (creating it), converting the
// encoding as pushGeneric does. The key must not hold another type.
func pushOne(c *command.Ctx, key, e []byte, head bool, fill int) {
	v, found, _ := lookupList(c, key)
	ql := v.ql
	if ql == nil {
		if !listpackGrows(v.lp, fill, len(e), 1) {
			lp := c.Scratch[:0]
			if found {
				lp = append(lp, v.lp...)
			} else {
				lp = append(lp, emptyListpack...)
			}
			if head {
				lp = listpack.Prepend(lp, e)
			} else {
				lp = listpack.Append(lp, e)
			}
			c.DB.SetInline(key, keyspace.TypeList, keyspace.EncListpack, lp, keyspace.KeepTTL)
			c.Scratch = lp[:0]
			return
		}
		ql = toQuicklist(c, key, v.lp, fill)
	}
	ql.SetFill(fill)
	if head {
		ql.PushFront(e)
	} else {
		ql.PushBack(e)
	}
}

func lmpopCommand(c *command.Ctx) { lmpopGeneric(c, 1, 0, false) }

// lmpopGeneric is LMPOP and, with block, BLMPOP: numkeys is at argument
// base, and the keys follow it.
func lmpopGeneric(c *command.Ctx, base int, deadline int64, block bool) {
	numkeys, ok := resp.ParseInt(c.Args[base])
	if !ok || numkeys < 1 {
		c.Error(errNumkeys)
		return
	}
	whereIdx := int64(base) + 1 + numkeys
	if whereIdx >= int64(len(c.Args)) || whereIdx < 0 {
		c.Error(command.ErrSyntax)
		return
	}
	head, ok := parseWhere(c, c.Args[whereIdx])
	if !ok {
		return
	}
	count := int64(-1)
	for j := int(whereIdx) + 1; j < len(c.Args); j++ {
		if count == -1 && j+1 < len(c.Args) && equalFold(c.Args[j], "count") {
			j++
			n, ok := resp.ParseInt(c.Args[j])
			if !ok || n < 1 {
				c.Error(errMpopCount)
				return
			}
			count = n
			continue
		}
		c.Error(command.ErrSyntax)
		return
	}
	if count == -1 {
		count = 1
	}
	keys := c.Args[base+1 : whereIdx]
	for _, key := range keys {
		v, found, bad := lookupList(c, key)
		if bad {
			return
		}
		if !found || v.len() == 0 {
			continue
		}
		n := int(min(count, int64(v.len())))
		c.W.ArrayLen(2)
		c.W.Bulk(key)
		popReply(c, key, v, head, n, true)
		if c.Propagating {
			c.PropagateAs(popName(head), key, strconv.AppendInt(nil, int64(n), 10))
		}
		return
	}
	if block {
		c.BlockOn(deadline, keyspace.TypeList, keys)
		return
	}
	c.W.NullArray()
}

// popEvent names a pop's keyspace event.
func popEvent(head bool) string {
	if head {
		return "lpop"
	}
	return "rpop"
}
