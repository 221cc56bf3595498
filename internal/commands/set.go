package commands

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync/atomic"
	"unsafe"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/ds/dict"
	"github.com/corvid-db/corvid/internal/ds/intset"
	"github.com/corvid-db/corvid/internal/ds/listpack"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// Errors only the set commands reply with.
const (
	errSetNumkeys      = "ERR numkeys should be greater than 0"
	errSetNumkeysArgs  = "ERR Number of keys can't be greater than number of args"
	errSetLimitNegativ = "ERR LIMIT can't be negative"
	errSetRandRange    = "ERR value is out of range, must be between -9223372036854775807 and 9223372036854775807"
)

// setCommands are Redis's set group.
func setCommands() []*command.Command {
	const (
		read  = command.CatRead
		write = command.CatWrite
		set   = command.CatSet
		fast  = command.CatFast
		slow  = command.CatSlow
	)
	one := func(flags ...string) []command.KeySpec { return []command.KeySpec{keyRange(1, 0, flags...)} }
	all := []command.KeySpec{keyRange(1, -1, "RO", "access")}
	store := func(flag string) []command.KeySpec {
		return []command.KeySpec{keyRange(1, 0, flag, "update"), keyRange(2, -1, "RO", "access")}
	}
	nondet := []string{"nondeterministic_output"}
	unordered := []string{"nondeterministic_output_order"}
	ro := command.ReadOnly
	return []*command.Command{
		{Name: "sadd", Arity: -3, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | set | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "insert"),
			Group: "set", Since: "1.0.0", Summary: "Adds members to a set, creating it if needed.", Handler: ev(command.NotifySet, "sadd", saddCommand)},
		{Name: "srem", Arity: -3, Flags: command.Write | command.Fast, ACL: write | set | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "delete"),
			Group: "set", Since: "1.0.0", Summary: "Removes members from a set, deleting it when it becomes empty.", Handler: ev(command.NotifySet, "srem", sremCommand)},
		{Name: "smembers", Arity: 2, Flags: ro, ACL: read | set | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO", "access"), Tips: unordered,
			Group: "set", Since: "1.0.0", Summary: "Returns every member of a set.", Handler: smembersCommand},
		{Name: "sismember", Arity: 3, Flags: ro | command.Fast, ACL: read | set | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO"),
			Group: "set", Since: "1.0.0", Summary: "Tells whether a value is a member of a set.", Handler: sismemberCommand},
		{Name: "smismember", Arity: -3, Flags: ro | command.Fast, ACL: read | set | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO", "access"),
			Group: "set", Since: "6.2.0", Summary: "Tells, for each of several values, whether it is a member of a set.", Handler: smismemberCommand},
		{Name: "scard", Arity: 2, Flags: ro | command.Fast, ACL: read | set | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO"),
			Group: "set", Since: "1.0.0", Summary: "Returns the number of members of a set.", Handler: scardCommand},
		{Name: "spop", Arity: -2, Flags: command.Write | command.Fast, ACL: write | set | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "access", "delete"), Tips: nondet,
			Group: "set", Since: "1.0.0", Summary: "Removes and returns random members of a set.", Handler: ev(command.NotifySet, "spop", spopCommand)},
		{Name: "srandmember", Arity: -2, Flags: ro, ACL: read | set | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO", "access"), Tips: nondet,
			Group: "set", Since: "1.0.0", Summary: "Returns random members of a set, distinct or (negative count) with repetitions.", Handler: srandmemberCommand},
		{Name: "smove", Arity: 4, Flags: command.Write | command.Fast, ACL: write | set | fast,
			FirstKey: 1, LastKey: 2, Step: 1,
			KeySpecs: []command.KeySpec{keyRange(1, 0, "RW", "access", "delete"), keyRange(2, 0, "RW", "insert")},
			Group:    "set", Since: "1.0.0", Summary: "Moves a member from one set to another.", Handler: smoveCommand},
		{Name: "sinter", Arity: -2, Flags: ro, ACL: read | set | slow,
			FirstKey: 1, LastKey: -1, Step: 1, KeySpecs: all, Tips: unordered,
			Group: "set", Since: "1.0.0", Summary: "Returns the intersection of sets.", Handler: sinterCommand},
		{Name: "sintercard", Arity: -3, Flags: ro | command.MovableKeys, ACL: read | set | slow,
			KeySpecs: []command.KeySpec{{Flags: []string{"RO", "access"}, BeginIndex: 1, KeyNumIdx: 1, FirstKey: 2, Step: 1}},
			Group:    "set", Since: "7.0.0", Summary: "Counts the members of the intersection of sets, optionally stopping at a limit.", Handler: sintercardCommand},
		{Name: "sunion", Arity: -2, Flags: ro, ACL: read | set | slow,
			FirstKey: 1, LastKey: -1, Step: 1, KeySpecs: all, Tips: unordered,
			Group: "set", Since: "1.0.0", Summary: "Returns the union of sets.", Handler: sunionCommand},
		{Name: "sdiff", Arity: -2, Flags: ro, ACL: read | set | slow,
			FirstKey: 1, LastKey: -1, Step: 1, KeySpecs: all, Tips: unordered,
			Group: "set", Since: "1.0.0", Summary: "Returns the members of the first set that are in none of the others.", Handler: sdiffCommand},
		{Name: "sinterstore", Arity: -3, Flags: command.Write | command.DenyOOM, ACL: write | set | slow,
			FirstKey: 1, LastKey: -1, Step: 1, KeySpecs: store("RW"),
			Group: "set", Since: "1.0.0", Summary: "Stores the intersection of sets under a key.", Handler: evStore(command.NotifySet, "sinterstore", 1, sinterstoreCommand)},
		{Name: "sunionstore", Arity: -3, Flags: command.Write | command.DenyOOM, ACL: write | set | slow,
			FirstKey: 1, LastKey: -1, Step: 1, KeySpecs: store("OW"),
			Group: "set", Since: "1.0.0", Summary: "Stores the union of sets under a key.", Handler: evStore(command.NotifySet, "sunionstore", 1, sunionstoreCommand)},
		{Name: "sdiffstore", Arity: -3, Flags: command.Write | command.DenyOOM, ACL: write | set | slow,
			FirstKey: 1, LastKey: -1, Step: 1, KeySpecs: store("OW"),
			Group: "set", Since: "1.0.0", Summary: "Stores the difference of sets under a key.", Handler: evStore(command.NotifySet, "sdiffstore", 1, sdiffstoreCommand)},
		{Name: "sscan", Arity: -3, Flags: ro, ACL: read | set | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO", "access"), Tips: nondet,
			Group: "set", Since: "2.8.0", Summary: "Iterates over the members of a set.", Handler: sscanCommand},
	}
}

// svEnc is a set's representation, named as OBJECT ENCODING reports it.
type svEnc uint8

const (
	svIntset svEnc = iota
	svListpack
	svHT
)

// setVal is a set being read or changed, in whichever of Redis's three
// encodings it has. Intsets and listpacks are byte strings (aliasing the
// keyspace when read, in a scratch buffer when changed); hashtables are
// *dict.Set objects changed in place. Its methods follow t_set.c's
// conversion rules exactly, so OBJECT ENCODING agrees with Redis at every
// size.
type setVal struct {
	enc svEnc
	b   []byte
	ht  *dict.Set
	// fresh: ht is not yet the object stored under the key.
	fresh bool
}

// svLimits are the set-max-* thresholds, read once per command.
type svLimits struct{ intset, lpEntries, lpValue int }

func svLimitsOf(c *command.Ctx) svLimits {
	cfg := configOf(c)
	if cfg == nil {
		return svLimits{512, 128, 64}
	}
	h := collHandlesOf(cfg)
	return svLimits{
		// Redis caps intsets at 1G entries whatever the setting says.
		intset:    int(min(h.setIntset.Load(), 1<<30)),
		lpEntries: int(min(h.setEntries.Load(), math.MaxInt32)),
		lpValue:   int(min(h.setValue.Load(), math.MaxInt32)),
	}
}

// collHandles are the hash and set thresholds' live values. Looking them
// up by name costs a map lookup each, on every SADD and HSET; the handles
// are resolved once per configuration instead.
type collHandles struct {
	cfg                             *config.Config
	setIntset, setEntries, setValue config.IntVar
	hashEntries, hashValue          config.IntVar
}

var collHandleCache atomic.Pointer[collHandles]

func collHandlesOf(cfg *config.Config) *collHandles {
	if h := collHandleCache.Load(); h != nil && h.cfg == cfg {
		return h
	}
	h := &collHandles{
		cfg:         cfg,
		setIntset:   cfg.IntHandle("set-max-intset-entries"),
		setEntries:  cfg.IntHandle("set-max-listpack-entries"),
		setValue:    cfg.IntHandle("set-max-listpack-value"),
		hashEntries: cfg.IntHandle("hash-max-listpack-entries"),
		hashValue:   cfg.IntHandle("hash-max-listpack-value"),
	}
	collHandleCache.Store(h)
	return h
}

// svView is a read-only view of a stored member: the strings of the large
// encodings are immutable, and views never outlive the command.
func svView(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// svNew is Redis's setTypeCreate: the encoding a new set starts in, given
// its first member and how many members are about to be added. Compact
// encodings are built in buf.
func svNew(buf []byte, first []byte, hint int, lim svLimits) setVal {
	if _, ok := resp.ParseInt(first); ok && hint <= lim.intset {
		return setVal{enc: svIntset, b: append(buf[:0], intset.New()...)}
	}
	if hint <= lim.lpEntries {
		return setVal{enc: svListpack, b: append(buf[:0], listpack.New()...)}
	}
	return setVal{enc: svHT, ht: dict.NewSet(hint), fresh: true}
}

// svLoad views a stored set without copying.
func svLoad(e keyspace.Entry) setVal {
	if ht, ok := e.Object().(*dict.Set); ok {
		return setVal{enc: svHT, ht: ht}
	}
	if e.StringEncoding() == keyspace.EncIntset {
		return setVal{enc: svIntset, b: e.Bytes()}
	}
	return setVal{enc: svListpack, b: e.Bytes()}
}

// svLoadMut is svLoad with compact encodings copied into buf, ready to change.
func svLoadMut(e keyspace.Entry, buf []byte) setVal {
	s := svLoad(e)
	if s.enc != svHT {
		s.b = append(buf[:0], s.b...)
	}
	return s
}

func (s *setVal) len() int {
	switch s.enc {
	case svIntset:
		return intset.Len(s.b)
	case svListpack:
		return listpack.Len(s.b)
	}
	return s.ht.Len()
}

func (s *setVal) has(m []byte) bool {
	switch s.enc {
	case svIntset:
		v, ok := resp.ParseInt(m)
		return ok && intset.Contains(s.b, v)
	case svListpack:
		return listpack.Find(s.b, listpack.First(s.b), m, 1) >= 0
	}
	return s.ht.Has(m)
}

// add is setTypeAdd: it inserts m, converting the encoding when a
// threshold is crossed, and reports whether m was new.
func (s *setVal) add(m []byte, lim svLimits) bool {
	switch s.enc {
	case svHT:
		return s.ht.Add(m)
	case svListpack:
		if listpack.Find(s.b, listpack.First(s.b), m, 1) >= 0 {
			return false
		}
		if listpack.Len(s.b) < lim.lpEntries && len(m) <= lim.lpValue {
			s.b = listpack.Append(s.b, m)
			return true
		}
		s.toHT(listpack.Len(s.b) + 1)
		return s.ht.Add(m)
	}
	if v, ok := resp.ParseInt(m); ok {
		var added bool
		s.b, added = intset.Add(s.b, v)
		if added && intset.Len(s.b) > lim.intset {
			s.toHT(intset.Len(s.b))
		}
		return added
	}
	// A non-integer: a listpack if every member (at its longest printed
	// length) would fit one, a hashtable otherwise.
	n := intset.Len(s.b)
	maxLen := 0
	if n > 0 {
		maxLen = max(svIntLen(intset.Min(s.b)), svIntLen(intset.Max(s.b)))
	}
	if n < lim.lpEntries && len(m) <= lim.lpValue && maxLen <= lim.lpValue {
		s.toListpack()
		s.b = listpack.Append(s.b, m)
		return true
	}
	s.toHT(n + 1)
	return s.ht.Add(m)
}

func svIntLen(v int64) int {
	var b [20]byte
	return len(strconv.AppendInt(b[:0], v, 10))
}

// remove deletes m and reports whether it was a member. Encodings never
// shrink back, as in Redis.
func (s *setVal) remove(m []byte) bool {
	switch s.enc {
	case svIntset:
		v, ok := resp.ParseInt(m)
		if !ok {
			return false
		}
		s.b, ok = intset.Remove(s.b, v)
		return ok
	case svListpack:
		p := listpack.Find(s.b, listpack.First(s.b), m, 1)
		if p < 0 {
			return false
		}
		s.b = listpack.Delete(s.b, p, 1)
		return true
	}
	return s.ht.Remove(m)
}

// maybeConvert is setTypeMaybeConvert: a big SADD goes to a hashtable
// before adding anything.
func (s *setVal) maybeConvert(hint int, lim svLimits) {
	if (s.enc == svListpack && hint > lim.lpEntries) || (s.enc == svIntset && hint > lim.intset) {
		s.toHT(hint)
	}
}

func (s *setVal) toHT(hint int) {
	ht := dict.NewSet(max(hint, s.len()))
	s.each(func(m []byte) bool { ht.Add(m); return true })
	*s = setVal{enc: svHT, ht: ht, fresh: true}
}

// toListpack converts an intset into a new buffer.
func (s *setVal) toListpack() {
	lp := make([]byte, 0, len(s.b)*2+16)
	lp = append(lp, listpack.New()...)
	var tmp [20]byte
	for i, n := 0, intset.Len(s.b); i < n; i++ {
		lp = listpack.Append(lp, strconv.AppendInt(tmp[:0], intset.Get(s.b, i), 10))
	}
	s.enc, s.b = svListpack, lp
}

// toIntset is maybeConvertToIntset, for results known to be all integers.
func (s *setVal) toIntset(lim svLimits) {
	if s.enc == svIntset || s.len() > lim.intset {
		return
	}
	is := intset.New()
	s.each(func(m []byte) bool {
		v, _ := resp.ParseInt(m)
		is, _ = intset.Add(is, v)
		return true
	})
	*s = setVal{enc: svIntset, b: is}
}

// each calls fn with every member in the encoding's order (ascending for
// intsets, insertion order for listpacks) until fn returns false. The
// slices are views valid during the call.
func (s *setVal) each(fn func(m []byte) bool) {
	switch s.enc {
	case svIntset:
		var tmp [20]byte
		for i, n := 0, intset.Len(s.b); i < n; i++ {
			if !fn(strconv.AppendInt(tmp[:0], intset.Get(s.b, i), 10)) {
				return
			}
		}
	case svListpack:
		for p := listpack.First(s.b); p >= 0; p = listpack.Next(s.b, p) {
			if !fn(listpack.Get(s.b, p)) {
				return
			}
		}
	default:
		for i, n := 0, s.ht.Len(); i < n; i++ {
			if !fn(svView(s.ht.At(i))) {
				return
			}
		}
	}
}

// at returns the member at position i of an intset or hashtable (their
// positions are O(1) to reach), formatting integers into tmp.
func (s *setVal) at(i int, tmp []byte) []byte {
	if s.enc == svIntset {
		return strconv.AppendInt(tmp[:0], intset.Get(s.b, i), 10)
	}
	if s.enc == svListpack {
		return listpack.Get(s.b, listpack.Seek(s.b, i))
	}
	return svView(s.ht.At(i))
}

// random returns a uniformly chosen member.
func (s *setVal) random(tmp []byte) []byte { return s.at(rand.IntN(s.len()), tmp) }

// store writes the set back under key (expireAt as for SetInline), or
// deletes the key when the set is empty.
func svStore(c *command.Ctx, key []byte, s *setVal, expireAt int64) {
	switch {
	case s.len() == 0:
		c.DB.Delete(key)
	case s.enc == svIntset:
		c.DB.SetInline(key, keyspace.TypeSet, keyspace.EncIntset, s.b, expireAt)
	case s.enc == svListpack:
		c.DB.SetInline(key, keyspace.TypeSet, keyspace.EncListpack, s.b, expireAt)
	case s.fresh || expireAt != keyspace.KeepTTL:
		c.DB.SetObject(key, keyspace.TypeSet, s.ht, expireAt)
		s.fresh = false
	}
}

// svRecycle hands a compact set's buffer back as the scratch buffer once
// the keyspace holds its own copy.
func svRecycle(c *command.Ctx, s *setVal) {
	if s.enc != svHT && cap(s.b) <= 64<<10 {
		c.Scratch = s.b[:0]
	}
}

// svLookup finds a set for a write; ok is false (and the reply sent) on a
// type error.
func svLookup(c *command.Ctx, key []byte) (keyspace.Entry, bool, bool) {
	e, found, err := c.DB.LookupType(key, keyspace.TypeSet)
	if err != nil {
		c.Error(command.ErrWrongType)
		return e, false, false
	}
	return e, found, true
}

// svLookupRead is svLookup for reads (counting keyspace hits and misses).
func svLookupRead(c *command.Ctx, key []byte) (keyspace.Entry, bool, bool) {
	e, found, err := c.DB.LookupReadType(key, keyspace.TypeSet)
	if err != nil {
		c.Error(command.ErrWrongType)
		return e, false, false
	}
	return e, found, true
}

func saddCommand(c *command.Ctx) {
	key := c.Args[1]
	e, found, ok := svLookup(c, key)
	if !ok {
		return
	}
	lim := svLimitsOf(c)
	members := c.Args[2:]
	var s setVal
	exp := keyspace.KeepTTL
	if found {
		// Nothing to write when every member is already there: the common
		// case of re-adding, answered without copying the set.
		s = svLoad(e)
		if !(s.enc == svIntset && len(members) > lim.intset) && !(s.enc == svListpack && len(members) > lim.lpEntries) {
			all := true
			for _, m := range members {
				if !s.has(m) {
					all = false
					break
				}
			}
			if all {
				c.W.Int(0)
				return
			}
		}
		s = svLoadMut(e, c.Scratch)
		s.maybeConvert(len(members), lim)
	} else {
		s = svNew(c.Scratch, members[0], len(members), lim)
		exp = 0
	}
	added := 0
	for _, m := range members {
		if s.add(m, lim) {
			added++
		}
	}
	svStore(c, key, &s, exp)
	svRecycle(c, &s)
	c.Dirty += int64(added)
	c.W.Int(int64(added))
}

func sremCommand(c *command.Ctx) {
	key := c.Args[1]
	e, found, ok := svLookup(c, key)
	if !ok {
		return
	}
	if !found {
		c.W.Int(0)
		return
	}
	s := svLoadMut(e, c.Scratch)
	deleted := 0
	for _, m := range c.Args[2:] {
		if s.remove(m) {
			deleted++
			if s.len() == 0 {
				break
			}
		}
	}
	if deleted > 0 {
		svStore(c, key, &s, keyspace.KeepTTL)
	}
	svRecycle(c, &s)
	c.Dirty += int64(deleted)
	c.W.Int(int64(deleted))
}

// svReply writes a whole set as a set reply.
func svReply(c *command.Ctx, s *setVal) {
	c.W.SetLen(s.len())
	s.each(func(m []byte) bool { c.W.Bulk(m); return true })
}

func smembersCommand(c *command.Ctx) {
	e, found, ok := svLookupRead(c, c.Args[1])
	if !ok {
		return
	}
	if !found {
		c.W.SetLen(0)
		return
	}
	s := svLoad(e)
	svReply(c, &s)
}

func sismemberCommand(c *command.Ctx) {
	e, found, ok := svLookupRead(c, c.Args[1])
	if !ok {
		return
	}
	if !found {
		c.W.Int(0)
		return
	}
	s := svLoad(e)
	c.W.Int(svBool(s.has(c.Args[2])))
}

func svBool(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func smismemberCommand(c *command.Ctx) {
	e, found, ok := svLookupRead(c, c.Args[1])
	if !ok {
		return
	}
	var s setVal
	if found {
		s = svLoad(e)
	}
	c.W.ArrayLen(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		c.W.Int(svBool(found && s.has(m)))
	}
}

func scardCommand(c *command.Ctx) {
	e, found, ok := svLookupRead(c, c.Args[1])
	if !ok {
		return
	}
	if !found {
		c.W.Int(0)
		return
	}
	s := svLoad(e)
	c.W.Int(int64(s.len()))
}

// spopMoveStrategyMul is Redis's SPOP_MOVE_STRATEGY_MUL: past this ratio
// of popped to remaining members, SPOP builds the remainder as a new set
// instead of removing members one by one.
const spopMoveStrategyMul = 5

func spopCommand(c *command.Ctx) {
	if len(c.Args) > 3 {
		c.Error(command.ErrSyntax)
		return
	}
	if len(c.Args) == 3 {
		spopCount(c)
		return
	}
	key := c.Args[1]
	e, found, ok := svLookup(c, key)
	if !ok {
		return
	}
	if !found {
		c.W.Null()
		return
	}
	s := svLoadMut(e, c.Scratch)
	var tmp [20]byte
	m := s.random(tmp[:0])
	c.W.Bulk(m)
	if c.Propagating {
		c.PropagateAs(argSREM, key, append([]byte(nil), m...))
	}
	s.remove(m)
	svStore(c, key, &s, keyspace.KeepTTL)
	svRecycle(c, &s)
	c.Dirty++
}

// spopCount is SPOP with a count: the whole set when count reaches its
// size, otherwise count distinct random members.
func spopCount(c *command.Ctx) {
	n, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	if n < 0 {
		c.Error(command.ErrNotInRange)
		return
	}
	key := c.Args[1]
	e, found, ok := svLookup(c, key)
	if !ok {
		return
	}
	if !found || n == 0 {
		c.W.SetLen(0)
		return
	}
	lim := svLimitsOf(c)
	src := svLoad(e)
	size := src.len()
	if uint64(n) >= uint64(size) {
		// Redis answers with the SUNION of the one set, then deletes it.
		u := svUnionOf([]setVal{src}, lim)
		svReply(c, &u)
		c.DB.Delete(key)
		c.Dirty += int64(size)
		if c.Propagating {
			c.PropagateAs(deletionName(c, "lazyfree-lazy-server-del"), key)
		}
		return
	}
	count := int(n)
	remaining := size - count
	c.Dirty += int64(count)
	c.W.SetLen(count)
	// Replicas get the members removed, as SREMs (SPOP's random choice
	// would differ there).
	pp := spopPropagator{c: c, key: key}
	defer pp.done()
	s := svLoadMut(e, c.Scratch)
	var tmp [20]byte
	switch {
	case remaining*spopMoveStrategyMul > count && s.enc == svListpack:
		// Pick count positions in one ordered pass, reply, then delete.
		lp := s.b
		out := listpack.New()
		need := count
		i := 0
		for p := listpack.First(lp); p >= 0; p = listpack.Next(lp, p) {
			if rand.IntN(size-i) < need {
				pp.reply(listpack.Get(lp, p))
				need--
			} else {
				out = listpack.Append(out, listpack.Get(lp, p))
			}
			i++
		}
		s.b = append(s.b[:0], out...)
	case remaining*spopMoveStrategyMul > count:
		for k := 0; k < count; k++ {
			if s.enc == svHT {
				pp.reply([]byte(s.ht.PopRandom()))
				continue
			}
			i := rand.IntN(intset.Len(s.b))
			pp.reply(strconv.AppendInt(tmp[:0], intset.Get(s.b, i), 10))
			s.b = intset.RemoveAt(s.b, i)
		}
	default:
		// Keep `remaining` random members in a new set; reply the rest.
		var keep setVal
		if s.enc == svListpack {
			keep = setVal{enc: svListpack, b: listpack.New()}
			lp := s.b
			rest := listpack.New()
			need := remaining
			i := 0
			for p := listpack.First(lp); p >= 0; p = listpack.Next(lp, p) {
				if rand.IntN(size-i) < need {
					keep.add(listpack.Get(lp, p), lim)
					need--
				} else {
					rest = listpack.Append(rest, listpack.Get(lp, p))
				}
				i++
			}
			s.b = rest
		} else {
			if s.enc == svHT {
				keep = setVal{enc: svListpack, b: listpack.New()}
			} else {
				keep = setVal{enc: svIntset, b: intset.New()}
			}
			for k := 0; k < remaining; k++ {
				m := append([]byte(nil), s.random(tmp[:0])...)
				keep.add(m, lim)
				s.remove(m)
			}
		}
		s.each(func(m []byte) bool { pp.reply(m); return true })
		keep.fresh = true
		svStore(c, key, &keep, keyspace.KeepTTL)
		return
	}
	svStore(c, key, &s, keyspace.KeepTTL)
	svRecycle(c, &s)
}

// spopPropagator replies SPOP's members and, when the write stream is
// consumed, queues them as SREMs of up to spopPropagateBatch members, as
// Redis does.
type spopPropagator struct {
	c    *command.Ctx
	key  []byte
	args [][]byte
}

const spopPropagateBatch = 1024

func (p *spopPropagator) reply(m []byte) {
	p.c.W.Bulk(m)
	if !p.c.Propagating {
		return
	}
	if p.args == nil {
		p.args = append(make([][]byte, 0, 2+min(spopPropagateBatch, 64)), argSREM, p.key)
	}
	p.args = append(p.args, append([]byte(nil), m...))
	if len(p.args)-2 == spopPropagateBatch {
		p.flush()
	}
}

func (p *spopPropagator) flush() {
	if len(p.args) > 2 {
		p.c.AlsoPropagate(p.args...)
	}
	p.args = p.args[:2]
}

func (p *spopPropagator) done() {
	if p.c.Propagating {
		p.flush()
		p.c.PreventPropagation()
	}
}

// srandmemberSubStrategyMul is Redis's SRANDMEMBER_SUB_STRATEGY_MUL: when
// the set is at most this many times the count, copy it and drop random
// members rather than drawing and de-duplicating.
const srandmemberSubStrategyMul = 3

func srandmemberCommand(c *command.Ctx) {
	if len(c.Args) > 3 {
		c.Error(command.ErrSyntax)
		return
	}
	if len(c.Args) == 2 {
		e, found, ok := svLookupRead(c, c.Args[1])
		if !ok {
			return
		}
		if !found {
			c.W.Null()
			return
		}
		s := svLoad(e)
		var tmp [20]byte
		c.W.Bulk(s.random(tmp[:0]))
		return
	}
	l, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	if l == math.MinInt64 {
		c.Error(errSetRandRange)
		return
	}
	e, found, ok := svLookupRead(c, c.Args[1])
	if !ok {
		return
	}
	if !found || l == 0 {
		c.W.ArrayLen(0)
		return
	}
	s := svLoad(e)
	var tmp [20]byte
	if l < 0 || l == 1 {
		count := l
		if count < 0 {
			count = -count
		}
		c.W.ArrayLen(int(count))
		for ; count > 0 && !c.OutputFull(); count-- {
			c.W.Bulk(s.random(tmp[:0]))
		}
		return
	}
	size := s.len()
	if l >= int64(size) {
		c.W.ArrayLen(size)
		s.each(func(m []byte) bool { c.W.Bulk(m); return true })
		return
	}
	count := int(l)
	c.W.ArrayLen(count)
	if s.enc == svListpack {
		need, i := count, 0
		for p := listpack.First(s.b); p >= 0 && need > 0; p = listpack.Next(s.b, p) {
			if rand.IntN(size-i) < need {
				c.W.Bulk(listpack.Get(s.b, p))
				need--
			}
			i++
		}
		return
	}
	for _, i := range collRandomDistinct(size, count) {
		c.W.Bulk(s.at(i, tmp[:0]))
	}
}

// collRandomDistinct returns count distinct random positions in [0, size),
// count < size: a partial shuffle when count is a large fraction of size,
// rejection sampling otherwise (Redis's CASE 3 and CASE 4).
func collRandomDistinct(size, count int) []int {
	if count*srandmemberSubStrategyMul > size {
		perm := make([]int, size)
		for i := range perm {
			perm[i] = i
		}
		for i := 0; i < count; i++ {
			j := i + rand.IntN(size-i)
			perm[i], perm[j] = perm[j], perm[i]
		}
		return perm[:count]
	}
	seen := make(map[int]struct{}, count)
	out := make([]int, 0, count)
	for len(out) < count {
		i := rand.IntN(size)
		if _, dup := seen[i]; dup {
			continue
		}
		seen[i] = struct{}{}
		out = append(out, i)
	}
	return out
}

func smoveCommand(c *command.Ctx) {
	srcKey, dstKey, m := c.Args[1], c.Args[2], c.Args[3]
	se, srcFound := c.DB.Lookup(srcKey)
	de, dstFound := c.DB.Lookup(dstKey)
	if !srcFound {
		c.W.Int(0)
		return
	}
	if se.Type() != keyspace.TypeSet || (dstFound && de.Type() != keyspace.TypeSet) {
		c.Error(command.ErrWrongType)
		return
	}
	if string(srcKey) == string(dstKey) {
		s := svLoad(se)
		c.W.Int(svBool(s.has(m)))
		return
	}
	lim := svLimitsOf(c)
	src := svLoadMut(se, c.Scratch)
	if !src.remove(m) {
		c.W.Int(0)
		return
	}
	svStore(c, srcKey, &src, keyspace.KeepTTL)
	c.Dirty++
	notifyChange(c, command.NotifySet, "srem", srcKey)
	// The write may have moved records: look the destination up again.
	var dst setVal
	exp := keyspace.KeepTTL
	if de, dstFound = c.DB.Lookup(dstKey); dstFound {
		dst = svLoadMut(de, nil)
	} else {
		dst = svNew(nil, m, 1, lim)
		exp = 0
	}
	if dst.add(m, lim) {
		svStore(c, dstKey, &dst, exp)
		c.Dirty++
		c.Notify(command.NotifySet, "sadd", dstKey)
	} else {
		c.KeyUnmodified(2)
	}
	svRecycle(c, &src)
	c.W.Int(1)
}

// svLoadAll looks up keys for SINTER/SUNION/SDIFF: missing keys are empty
// (found false); ok is false after a type error reply.
func svLoadAll(c *command.Ctx, keys [][]byte) (sets []setVal, found []bool, ok bool) {
	sets = make([]setVal, len(keys))
	found = make([]bool, len(keys))
	for i, k := range keys {
		e, f, err := c.DB.LookupReadType(k, keyspace.TypeSet)
		if err != nil {
			c.Error(command.ErrWrongType)
			return nil, nil, false
		}
		if f {
			sets[i], found[i] = svLoad(e), true
		}
	}
	return sets, found, true
}

func sinterCommand(c *command.Ctx) { sinterGeneric(c, c.Args[1:], nil, false, 0) }

func sinterstoreCommand(c *command.Ctx) { sinterGeneric(c, c.Args[2:], c.Args[1], false, 0) }

func sintercardCommand(c *command.Ctx) {
	numkeys, ok := resp.ParseInt(c.Args[1])
	if !ok || numkeys < 1 {
		c.Error(errSetNumkeys)
		return
	}
	if numkeys > int64(len(c.Args)-2) {
		c.Error(errSetNumkeysArgs)
		return
	}
	limit := int64(0)
	for j := 2 + int(numkeys); j < len(c.Args); j++ {
		if equalFold(c.Args[j], "limit") && j+1 < len(c.Args) {
			j++
			l, ok := resp.ParseInt(c.Args[j])
			if !ok || l < 0 {
				c.Error(errSetLimitNegativ)
				return
			}
			limit = l
			continue
		}
		c.Error(command.ErrSyntax)
		return
	}
	sinterGeneric(c, c.Args[2:2+numkeys], nil, true, limit)
}

// svDelStore deletes a *STORE destination for an empty result and replies 0.
func svDelStore(c *command.Ctx, dst []byte) {
	if c.DB.Delete(dst) {
		c.Dirty++
	}
	c.W.Int(0)
}

// sinterGeneric is SINTER, SINTERSTORE (dst != nil) and SINTERCARD
// (cardOnly, stopping at limit when it is not 0).
func sinterGeneric(c *command.Ctx, keys [][]byte, dst []byte, cardOnly bool, limit int64) {
	sets, found, ok := svLoadAll(c, keys)
	if !ok {
		return
	}
	for _, f := range found {
		if !f {
			switch {
			case dst != nil:
				svDelStore(c, dst)
			case cardOnly:
				c.W.Int(0)
			default:
				c.W.SetLen(0)
			}
			return
		}
	}
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].len() < sets[j].len() })
	lim := svLimitsOf(c)
	var out setVal
	if dst != nil {
		// Redis starts an intset when the smallest set is one, a listpack
		// otherwise, and converts as members arrive.
		if sets[0].enc == svIntset {
			out = setVal{enc: svIntset, b: intset.New()}
		} else {
			out = setVal{enc: svListpack, b: listpack.New()}
		}
	}
	var card int64
	onlyInts := true
	var buf []byte
	var ends []int
	sets[0].each(func(m []byte) bool {
		for j := 1; j < len(sets); j++ {
			if !sets[j].has(m) {
				return true
			}
		}
		card++
		switch {
		case cardOnly:
			return limit == 0 || card < limit
		case dst == nil:
			buf = append(buf, m...)
			ends = append(ends, len(buf))
		default:
			if onlyInts {
				if _, isInt := resp.ParseInt(m); !isInt {
					onlyInts = false
				}
			}
			out.add(m, lim)
		}
		return true
	})
	switch {
	case cardOnly:
		c.W.Int(card)
	case dst == nil:
		c.W.SetLen(len(ends))
		start := 0
		for _, end := range ends {
			c.W.Bulk(buf[start:end])
			start = end
		}
	case out.len() == 0:
		svDelStore(c, dst)
	default:
		if onlyInts {
			out.toIntset(lim)
		}
		out.fresh = true
		svStore(c, dst, &out, 0)
		c.Dirty++
		c.W.Int(int64(out.len()))
	}
}

// svUnionOf builds the union of sets the way Redis does, starting from an
// intset, so the result's encoding and order match Redis's.
func svUnionOf(sets []setVal, lim svLimits) setVal {
	out := setVal{enc: svIntset, b: intset.New()}
	for i := range sets {
		if sets[i].enc == svIntset && sets[i].b == nil {
			continue // a missing key
		}
		sets[i].each(func(m []byte) bool { out.add(m, lim); return true })
	}
	return out
}

func sunionCommand(c *command.Ctx)      { sunionDiffGeneric(c, c.Args[1:], nil, false) }
func sunionstoreCommand(c *command.Ctx) { sunionDiffGeneric(c, c.Args[2:], c.Args[1], false) }
func sdiffCommand(c *command.Ctx)       { sunionDiffGeneric(c, c.Args[1:], nil, true) }
func sdiffstoreCommand(c *command.Ctx)  { sunionDiffGeneric(c, c.Args[2:], c.Args[1], true) }

// sunionDiffGeneric is SUNION, SDIFF and their *STORE forms (dst != nil).
func sunionDiffGeneric(c *command.Ctx, keys [][]byte, dst []byte, diff bool) {
	sets, found, ok := svLoadAll(c, keys)
	if !ok {
		return
	}
	lim := svLimitsOf(c)
	// Missing keys are empty sets; a nil intset marks them for svUnionOf.
	sameSet := false
	for j := 1; j < len(keys); j++ {
		if found[0] && found[j] && string(keys[j]) == string(keys[0]) {
			sameSet = true
		}
	}
	var out setVal
	switch {
	case !diff:
		out = svUnionOf(sets, lim)
	case sameSet || !found[0]:
		out = setVal{enc: svIntset, b: intset.New()}
	default:
		out = svDiff(sets, found, lim)
	}
	if dst == nil {
		svReply(c, &out)
		return
	}
	if out.len() == 0 {
		svDelStore(c, dst)
		return
	}
	out.fresh = true
	svStore(c, dst, &out, 0)
	c.Dirty++
	c.W.Int(int64(out.len()))
}

// svDiff computes sets[0] minus the others with whichever of Redis's two
// algorithms it would pick; they can leave the result in different
// encodings, so the choice is Redis's too.
func svDiff(sets []setVal, found []bool, lim svLimits) setVal {
	out := setVal{enc: svIntset, b: intset.New()}
	work1, work2 := 0, 0
	for j := range sets {
		if found[j] {
			work1 += sets[0].len()
			work2 += sets[j].len()
		}
	}
	work1 /= 2
	if work1 <= work2 {
		// Algorithm 1: test each member of the first set against the
		// others, largest first.
		others := make([]setVal, 0, len(sets)-1)
		for j := 1; j < len(sets); j++ {
			if found[j] {
				others = append(others, sets[j])
			}
		}
		sort.SliceStable(others, func(a, b int) bool { return others[a].len() > others[b].len() })
		sets[0].each(func(m []byte) bool {
			for k := range others {
				if others[k].has(m) {
					return true
				}
			}
			out.add(m, lim)
			return true
		})
		return out
	}
	// Algorithm 2: copy the first set, then remove the others' members.
	sets[0].each(func(m []byte) bool { out.add(m, lim); return true })
	for j := 1; j < len(sets) && out.len() > 0; j++ {
		if found[j] {
			sets[j].each(func(m []byte) bool { out.remove(m); return true })
		}
	}
	return out
}

// collScanArgs parses the MATCH and COUNT options of SSCAN and HSCAN from
// argument from on, replying with Redis's error when they are invalid.
func collScanArgs(c *command.Ctx, from int) (count int, pattern []byte, ok bool) {
	count, pattern, _, ok = collScanArgsNoValues(c, from, false)
	return count, pattern, ok
}

// collScanArgsNoValues is collScanArgs that, when allowed (HSCAN), also
// takes Redis 7.4's NOVALUES flag: fields without their values.
func collScanArgsNoValues(c *command.Ctx, from int, allowNoValues bool) (count int, pattern []byte, noValues, ok bool) {
	count = 10
	for i := from; i < len(c.Args); i += 2 {
		if allowNoValues && equalFold(c.Args[i], "novalues") {
			noValues = true
			i-- // a flag: one argument, not two
			continue
		}
		if i+1 >= len(c.Args) {
			c.Error(command.ErrSyntax)
			return 0, nil, false, false
		}
		switch opt := c.Args[i]; {
		case equalFold(opt, "count"):
			n, ok := resp.ParseInt(c.Args[i+1])
			if !ok {
				c.Error(command.ErrNotInteger)
				return 0, nil, false, false
			}
			if n < 1 {
				c.Error(command.ErrSyntax)
				return 0, nil, false, false
			}
			count = int(min(n, maxScanCount))
		case equalFold(opt, "match"):
			pattern = c.Args[i+1]
			if len(pattern) == 1 && pattern[0] == '*' {
				pattern = nil
			}
		default:
			c.Error(command.ErrSyntax)
			return 0, nil, false, false
		}
	}
	return count, pattern, noValues, true
}

// collScanReply writes [cursor, [items…]] from items packed in buf.
func collScanReply(c *command.Ctx, cursor uint64, buf []byte, ends []int) {
	c.W.ArrayLen(2)
	var tmp [20]byte
	c.W.Bulk(strconv.AppendUint(tmp[:0], cursor, 10))
	c.W.ArrayLen(len(ends))
	start := 0
	for _, end := range ends {
		c.W.Bulk(buf[start:end])
		start = end
	}
}

func sscanCommand(c *command.Ctx) {
	cursor, ok := parseCursor(c.Args[2])
	if !ok {
		c.Error(errInvalidCursor)
		return
	}
	e, found, ok := svLookupRead(c, c.Args[1])
	if !ok {
		return
	}
	if !found {
		collScanReply(c, 0, nil, nil)
		return
	}
	count, pattern, ok := collScanArgs(c, 3)
	if !ok {
		return
	}
	s := svLoad(e)
	buf := c.Scratch[:0]
	var ends []int
	keep := func(m []byte) {
		if pattern == nil || config.GlobMatch(pattern, m, false) {
			buf = append(buf, m...)
			ends = append(ends, len(buf))
		}
	}
	next := uint64(0)
	if s.enc == svHT {
		next = s.ht.Scan(cursor, count, func(m string) { keep(svView(m)) })
	} else {
		s.each(func(m []byte) bool { keep(m); return true })
	}
	collScanReply(c, next, buf, ends)
	c.Scratch = buf[:0]
}
