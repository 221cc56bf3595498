package commands

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/ds/dict"
	"github.com/corvid-db/corvid/internal/ds/listpack"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// Errors only the hash commands reply with.
const (
	errHashNotInt    = "ERR hash value is not an integer"
	errHashNotFloat  = "ERR hash value is not a float"
	errHashIncrNaN   = "ERR value is NaN or Infinity"
	errHashRandRange = "ERR value is out of range"
)

// hashCommands are Redis 7.2's hash group, with the field expiry commands
// of Redis 7.4 and 8.0.
func hashCommands() []*command.Command {
	const (
		read  = command.CatRead
		write = command.CatWrite
		hash  = command.CatHash
		fast  = command.CatFast
		slow  = command.CatSlow
	)
	one := func(flags ...string) []command.KeySpec { return []command.KeySpec{keyRange(1, 0, flags...)} }
	ro := command.ReadOnly
	wr := command.Write | command.DenyOOM | command.Fast
	unordered := []string{"nondeterministic_output_order"}
	nondet := []string{"nondeterministic_output"}
	cmd := func(name string, arity int, flags command.Flags, acl uint64, ks []command.KeySpec, since, summary string, h func(*command.Ctx)) *command.Command {
		return &command.Command{Name: name, Arity: arity, Flags: flags, ACL: acl | hash,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: ks, Group: "hash", Since: since, Summary: summary, Handler: h}
	}
	withTips := func(c *command.Command, tips []string) *command.Command { c.Tips = tips; return c }
	return append([]*command.Command{
		cmd("hset", -4, wr, write|fast, one("RW", "update"), "2.0.0", "Sets fields of a hash, creating it if needed; returns how many fields are new.", ev(command.NotifyHash, "hset", hsetCommand)),
		cmd("hsetnx", 4, wr, write|fast, one("RW", "insert"), "2.0.0", "Sets a field of a hash only if it does not exist yet.", ev(command.NotifyHash, "hset", hsetnxCommand)),
		cmd("hmset", -4, wr, write|fast, one("RW", "update"), "2.0.0", "Sets fields of a hash (the old form of HSET, replying OK).", ev(command.NotifyHash, "hset", hsetCommand)),
		cmd("hget", 3, ro|command.Fast, read|fast, one("RO", "access"), "2.0.0", "Returns the value of a field of a hash.", hgetCommand),
		cmd("hmget", -3, ro|command.Fast, read|fast, one("RO", "access"), "2.0.0", "Returns the values of several fields of a hash.", hmgetCommand),
		withTips(cmd("hgetall", 2, ro, read|slow, one("RO", "access"), "2.0.0", "Returns every field and value of a hash.", hgetallCommand), unordered),
		withTips(cmd("hkeys", 2, ro, read|slow, one("RO", "access"), "2.0.0", "Returns every field name of a hash.", hkeysCommand), unordered),
		withTips(cmd("hvals", 2, ro, read|slow, one("RO", "access"), "2.0.0", "Returns every value of a hash.", hvalsCommand), unordered),
		cmd("hdel", -3, command.Write|command.Fast, write|fast, one("RW", "delete"), "2.0.0", "Deletes fields of a hash, deleting the key when it becomes empty.", ev(command.NotifyHash, "hdel", hdelCommand)),
		cmd("hlen", 2, ro|command.Fast, read|fast, one("RO"), "2.0.0", "Returns the number of fields of a hash.", hlenCommand),
		cmd("hstrlen", 3, ro|command.Fast, read|fast, one("RO"), "3.2.0", "Returns the length of the value of a field of a hash.", hstrlenCommand),
		cmd("hexists", 3, ro|command.Fast, read|fast, one("RO"), "2.0.0", "Tells whether a field exists in a hash.", hexistsCommand),
		cmd("hincrby", 4, wr, write|fast, one("RW", "access", "update"), "2.0.0", "Adds an integer to the integer value of a field of a hash (a missing field counts as 0).", ev(command.NotifyHash, "hincrby", hincrbyCommand)),
		cmd("hincrbyfloat", 4, wr, write|fast, one("RW", "access", "update"), "2.6.0", "Adds a floating point number to the numeric value of a field of a hash (a missing field counts as 0).", ev(command.NotifyHash, "hincrbyfloat", hincrbyfloatCommand)),
		withTips(cmd("hrandfield", -2, ro, read|slow, one("RO", "access"), "6.2.0", "Returns random fields of a hash, optionally with their values.", hrandfieldCommand), nondet),
		withTips(cmd("hscan", -3, ro, read|slow, one("RO", "access"), "2.8.0", "Iterates over the fields and values of a hash.", hscanCommand), nondet),
	}, hashTTLCommands()...)
}

// hashVal is a hash being read or changed: a listpack of field, value
// pairs (aliasing the keyspace when read, in a scratch buffer when
// changed) or, past the thresholds, a *dict.Map changed in place. As in
// Redis, a hash never goes back to a listpack.
//
// A hash whose fields have (or had) their own TTL is a listpackex (ex set:
// field, value, expiry triples, see hash_ttl.go) or, when large, a
// *hashTTLMap: the same *dict.Map plus an index of field expiries.
type hashVal struct {
	lp []byte
	ht *dict.Map
	// fresh: ht (or hx) is not yet the object stored under the key.
	fresh bool
	// ex: lp holds field, value, expiry triples (EncListpackEx).
	ex bool
	// hx holds ht's field TTLs when the hash has them (hx.m == ht).
	hx *hashTTLMap
	// expired counts fields removed because their TTL passed, added to
	// the keyspace's statistics when the hash is stored.
	expired int
}

// hvLimits are hash-max-listpack-entries and -value.
type hvLimits struct{ entries, value int }

func hvLimitsOf(c *command.Ctx) hvLimits {
	cfg := configOf(c)
	if cfg == nil {
		return hvLimits{512, 64}
	}
	h := collHandlesOf(cfg)
	return hvLimits{
		entries: int(min(h.hashEntries.Load(), math.MaxInt32)),
		value:   int(min(h.hashValue.Load(), math.MaxInt32)),
	}
}

func hvLoad(e keyspace.Entry) hashVal {
	switch o := e.Object().(type) {
	case *dict.Map:
		return hashVal{ht: o}
	case *hashTTLMap:
		return hashVal{ht: o.m, hx: o}
	}
	return hashVal{lp: e.Bytes(), ex: e.StringEncoding() == keyspace.EncListpackEx}
}

// hvLoadMut is hvLoad with a listpack copied into buf, ready to change.
func hvLoadMut(e keyspace.Entry, buf []byte) hashVal {
	h := hvLoad(e)
	if h.ht == nil {
		h.lp = append(buf[:0], h.lp...)
	}
	return h
}

// stride is the number of listpack elements per field.
func (h *hashVal) stride() int {
	if h.ex {
		return 3
	}
	return 2
}

func (h *hashVal) len() int {
	if h.ht != nil {
		return h.ht.Len()
	}
	return listpack.Len(h.lp) / h.stride()
}

// find returns the listpack position of field f, or -1.
func (h *hashVal) find(f []byte) int {
	return listpack.Find(h.lp, listpack.First(h.lp), f, h.stride())
}

// get returns the value of field f (a view valid until the hash changes).
func (h *hashVal) get(f []byte) ([]byte, bool) {
	if h.ht != nil {
		v, ok := h.ht.Get(f)
		return svView(v), ok
	}
	p := h.find(f)
	if p < 0 {
		return nil, false
	}
	return listpack.Get(h.lp, listpack.Next(h.lp, p)), true
}

// set is hashTypeSet: it stores f = v and reports whether f is new,
// converting to a hashtable past the thresholds. Like HSET, it drops the
// field's TTL.
func (h *hashVal) set(f, v []byte, lim hvLimits) bool { return h.setx(f, v, lim, false) }

// setKeepTTL is set keeping the field's TTL (HINCRBY, HINCRBYFLOAT).
func (h *hashVal) setKeepTTL(f, v []byte, lim hvLimits) bool { return h.setx(f, v, lim, true) }

func (h *hashVal) setx(f, v []byte, lim hvLimits, keepTTL bool) bool {
	if h.ht == nil && (len(f) > lim.value || len(v) > lim.value) {
		h.toHT(0)
	}
	if h.ht != nil {
		created := h.ht.Set(f, v)
		if !created && !keepTTL && h.hx != nil {
			h.hx.ttl.Delete(f)
		}
		return created
	}
	if p := h.find(f); p >= 0 {
		vp := listpack.Next(h.lp, p)
		h.lp = listpack.Replace(h.lp, vp, v)
		if h.ex && !keepTTL && lpxTTL(listpack.Get(h.lp, listpack.Next(h.lp, vp))) != 0 {
			// Redis moves a field that loses its TTL behind the ones that keep theirs.
			h.lp = listpack.Delete(h.lp, p, 3)
			h.lp = listpack.Append(h.lp, f, v, nil)
		}
		return false
	}
	if h.ex {
		h.lp = listpack.Append(h.lp, f, v, nil)
	} else {
		h.lp = listpack.Append(h.lp, f, v)
	}
	if h.len() > lim.entries {
		h.toHT(0)
	}
	return true
}

// tryConversion is hashTypeTryConversion: before a multi-field write,
// go to a hashtable if the arguments alone cross a threshold.
func (h *hashVal) tryConversion(args [][]byte, lim hvLimits) {
	if h.ht != nil {
		return
	}
	if n := len(args) / 2; n > lim.entries {
		h.toHT(n)
		return
	}
	for _, a := range args {
		if len(a) > lim.value {
			h.toHT(0)
			return
		}
	}
}

func (h *hashVal) del(f []byte) bool {
	if h.ht != nil {
		if h.hx != nil {
			h.hx.ttl.Delete(f)
		}
		return h.ht.Delete(f)
	}
	p := h.find(f)
	if p < 0 {
		return false
	}
	h.lp = listpack.Delete(h.lp, p, h.stride())
	return true
}

func (h *hashVal) toHT(hint int) {
	ht := dict.NewMap(max(hint, h.len()))
	var hx *hashTTLMap
	if h.ex {
		hx = &hashTTLMap{m: ht}
		for p := listpack.First(h.lp); p >= 0; {
			v := listpack.Next(h.lp, p)
			t := listpack.Next(h.lp, v)
			f := listpack.Get(h.lp, p)
			ht.Set(f, listpack.Get(h.lp, v))
			if when := lpxTTL(listpack.Get(h.lp, t)); when != 0 {
				hx.ttl.Set(f, when)
			}
			p = listpack.Next(h.lp, t)
		}
	} else {
		h.each(func(f, v []byte) bool { ht.Set(f, v); return true })
	}
	*h = hashVal{ht: ht, hx: hx, fresh: true, expired: h.expired}
}

// each calls fn with every field and value (views valid during the call)
// until it returns false.
func (h *hashVal) each(fn func(f, v []byte) bool) {
	if h.ht != nil {
		for i, n := 0, h.ht.Len(); i < n; i++ {
			e := h.ht.At(i)
			if !fn(svView(e.Key), svView(e.Val)) {
				return
			}
		}
		return
	}
	for p := listpack.First(h.lp); p >= 0; {
		q := listpack.Next(h.lp, p)
		if !fn(listpack.Get(h.lp, p), listpack.Get(h.lp, q)) {
			return
		}
		p = listpack.Next(h.lp, q)
		if h.ex {
			p = listpack.Next(h.lp, p)
		}
	}
}

// at returns the field and value at position i.
func (h *hashVal) at(i int) ([]byte, []byte) {
	if h.ht != nil {
		e := h.ht.At(i)
		return svView(e.Key), svView(e.Val)
	}
	p := listpack.Seek(h.lp, h.stride()*i)
	return listpack.Get(h.lp, p), listpack.Get(h.lp, listpack.Next(h.lp, p))
}

// hvStore writes the hash back under key, or deletes the key when empty.
func hvStore(c *command.Ctx, key []byte, h *hashVal, expireAt int64) {
	hvStoreDB(c.DB, key, h, expireAt)
	if h.ht == nil && cap(h.lp) <= 64<<10 {
		c.Scratch = h.lp[:0]
	}
}

// hvStoreDB is hvStore on a database handle. A hash with field TTLs is
// (re)registered for active expiry.
func hvStoreDB(db keyspace.DB, key []byte, h *hashVal, expireAt int64) {
	if h.expired > 0 {
		db.Store().AddExpiredFields(h.expired)
		h.expired = 0
	}
	switch {
	case h.len() == 0:
		db.Delete(key)
		return
	case h.ht == nil && h.ex:
		db.SetInline(key, keyspace.TypeHash, keyspace.EncListpackEx, h.lp, expireAt)
	case h.ht == nil:
		db.SetInline(key, keyspace.TypeHash, keyspace.EncListpack, h.lp, expireAt)
		return
	case h.fresh || expireAt != keyspace.KeepTTL:
		var obj any = h.ht
		if h.hx != nil {
			obj = h.hx
		}
		db.SetObject(key, keyspace.TypeHash, obj, expireAt)
		h.fresh = false
	}
	if when := h.minTTL(); when != 0 {
		db.NoteFieldExpiry(key, when)
	}
}

// hvLookupWrite is hashTypeLookupWriteOrCreate: the hash at key ready to
// change (an empty listpack when missing), with the expiry to store it
// with. Expired fields are reclaimed first. ok is false after a type error
// reply.
func hvLookupWrite(c *command.Ctx, key []byte) (h hashVal, exp int64, ok bool) {
	e, found, err := c.DB.LookupType(key, keyspace.TypeHash)
	if err != nil {
		c.Error(command.ErrWrongType)
		return h, 0, false
	}
	if found {
		e, found = hvExpireFields(c, key, e)
	}
	if !found {
		return hashVal{lp: append(c.Scratch[:0], listpack.New()...)}, 0, true
	}
	return hvLoadMut(e, c.Scratch), keyspace.KeepTTL, true
}

// hvLookupRead finds a hash for reading, expired fields reclaimed; ok is
// false after a type error reply.
func hvLookupRead(c *command.Ctx, key []byte) (h hashVal, found, ok bool) {
	e, found, err := c.DB.LookupReadType(key, keyspace.TypeHash)
	if err != nil {
		c.Error(command.ErrWrongType)
		return h, false, false
	}
	if found {
		e, found = hvExpireFields(c, key, e)
	}
	if found {
		h = hvLoad(e)
	}
	return h, found, true
}

func hsetCommand(c *command.Ctx) {
	if len(c.Args)%2 == 1 {
		c.Error(command.ErrWrongArgs(c.Cmd.Name))
		return
	}
	key := c.Args[1]
	h, exp, ok := hvLookupWrite(c, key)
	if !ok {
		return
	}
	lim := hvLimitsOf(c)
	h.tryConversion(c.Args[2:], lim)
	created := 0
	for i := 2; i < len(c.Args); i += 2 {
		if h.set(c.Args[i], c.Args[i+1], lim) {
			created++
		}
	}
	hvStore(c, key, &h, exp)
	c.Dirty += int64(len(c.Args)-2) / 2
	if c.Cmd.Name == "hmset" {
		c.OK()
		return
	}
	c.W.Int(int64(created))
}

func hsetnxCommand(c *command.Ctx) {
	key := c.Args[1]
	h, exp, ok := hvLookupWrite(c, key)
	if !ok {
		return
	}
	if _, exists := h.get(c.Args[2]); exists {
		c.W.Int(0)
		return
	}
	lim := hvLimitsOf(c)
	h.tryConversion(c.Args[2:4], lim)
	h.set(c.Args[2], c.Args[3], lim)
	hvStore(c, key, &h, exp)
	c.Dirty++
	c.W.Int(1)
}

func hgetCommand(c *command.Ctx) {
	h, found, ok := hvLookupRead(c, c.Args[1])
	if !ok {
		return
	}
	if found {
		if v, ok := h.get(c.Args[2]); ok {
			c.W.Bulk(v)
			return
		}
	}
	c.W.Null()
}

func hmgetCommand(c *command.Ctx) {
	h, found, ok := hvLookupRead(c, c.Args[1])
	if !ok {
		return
	}
	c.W.ArrayLen(len(c.Args) - 2)
	for _, f := range c.Args[2:] {
		if found {
			if v, ok := h.get(f); ok {
				c.W.Bulk(v)
				continue
			}
		}
		c.W.Null()
	}
}

func hdelCommand(c *command.Ctx) {
	key := c.Args[1]
	e, found, err := c.DB.LookupType(key, keyspace.TypeHash)
	if err != nil {
		c.Error(command.ErrWrongType)
		return
	}
	if found {
		e, found = hvExpireFields(c, key, e)
	}
	if !found {
		c.W.Int(0)
		return
	}
	h := hvLoadMut(e, c.Scratch)
	deleted := 0
	for _, f := range c.Args[2:] {
		if h.del(f) {
			deleted++
			if h.len() == 0 {
				break
			}
		}
	}
	if deleted > 0 {
		hvStore(c, key, &h, keyspace.KeepTTL)
	}
	c.Dirty += int64(deleted)
	c.W.Int(int64(deleted))
}

func hlenCommand(c *command.Ctx) {
	h, found, ok := hvLookupRead(c, c.Args[1])
	if !ok {
		return
	}
	if !found {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(h.len()))
}

func hstrlenCommand(c *command.Ctx) {
	h, found, ok := hvLookupRead(c, c.Args[1])
	if !ok {
		return
	}
	n := 0
	if found {
		v, _ := h.get(c.Args[2])
		n = len(v)
	}
	c.W.Int(int64(n))
}

func hexistsCommand(c *command.Ctx) {
	h, found, ok := hvLookupRead(c, c.Args[1])
	if !ok {
		return
	}
	exists := false
	if found {
		_, exists = h.get(c.Args[2])
	}
	c.W.Int(svBool(exists))
}

func hgetallCommand(c *command.Ctx) { hgetallGeneric(c, true, true) }
func hkeysCommand(c *command.Ctx)   { hgetallGeneric(c, true, false) }
func hvalsCommand(c *command.Ctx)   { hgetallGeneric(c, false, true) }

// hgetallGeneric replies with fields and/or values: a map when both are
// asked for (RESP3), a flat array otherwise.
func hgetallGeneric(c *command.Ctx, keys, vals bool) {
	h, found, ok := hvLookupRead(c, c.Args[1])
	if !ok {
		return
	}
	n := 0
	if found {
		n = h.len()
	}
	if keys && vals {
		c.W.MapLen(n)
	} else {
		c.W.ArrayLen(n)
	}
	if !found {
		return
	}
	h.each(func(f, v []byte) bool {
		if keys {
			c.W.Bulk(f)
		}
		if vals {
			c.W.Bulk(v)
		}
		return true
	})
}

func hincrbyCommand(c *command.Ctx) {
	incr, ok := resp.ParseInt(c.Args[3])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	key, field := c.Args[1], c.Args[2]
	h, exp, ok := hvLookupWrite(c, key)
	if !ok {
		return
	}
	var cur int64
	if v, exists := h.get(field); exists {
		if cur, ok = resp.ParseInt(v); !ok {
			c.Error(errHashNotInt)
			return
		}
	}
	if (incr < 0 && cur < 0 && incr < math.MinInt64-cur) || (incr > 0 && cur > 0 && incr > math.MaxInt64-cur) {
		c.Error(command.ErrOverflow)
		return
	}
	cur += incr
	var tmp [20]byte
	h.setKeepTTL(field, strconv.AppendInt(tmp[:0], cur, 10), hvLimitsOf(c))
	hvStore(c, key, &h, exp)
	c.Dirty++
	c.W.Int(cur)
}

func hincrbyfloatCommand(c *command.Ctx) {
	incr, ok := ldParse(c.Args[3])
	if !ok {
		c.Error(command.ErrNotFloat)
		return
	}
	if incr.inf != 0 {
		c.Error(errHashIncrNaN)
		return
	}
	key, field := c.Args[1], c.Args[2]
	h, exp, ok := hvLookupWrite(c, key)
	if !ok {
		return
	}
	cur := ldFromInt(0)
	if v, exists := h.get(field); exists {
		if cur, ok = ldParse(v); !ok {
			c.Error(errHashNotFloat)
			return
		}
	}
	sum, ok := ldAdd(cur, incr)
	if !ok {
		c.Error(command.ErrIncrFloatNaN)
		return
	}
	out := ldFormatHuman(nil, sum)
	h.setKeepTTL(field, out, hvLimitsOf(c))
	hvStore(c, key, &h, exp)
	c.Dirty++
	c.PropagateAs(argHSET, key, field, out) // the sum as stored
	c.W.Bulk(out)
}

func hrandfieldCommand(c *command.Ctx) {
	if len(c.Args) == 2 {
		h, found, ok := hvLookupRead(c, c.Args[1])
		if !ok {
			return
		}
		if !found {
			c.W.Null()
			return
		}
		f, _ := h.at(rand.IntN(h.len()))
		c.W.Bulk(f)
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
	withValues := false
	if len(c.Args) > 4 || (len(c.Args) == 4 && !equalFold(c.Args[3], "withvalues")) {
		c.Error(command.ErrSyntax)
		return
	}
	if len(c.Args) == 4 {
		withValues = true
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			c.Error(errHashRandRange)
			return
		}
	}
	h, found, ok := hvLookupRead(c, c.Args[1])
	if !ok {
		return
	}
	if !found || l == 0 {
		c.W.ArrayLen(0)
		return
	}
	resp3 := c.W.Proto >= 3
	// RESP3 nests each field, value pair; RESP2 flattens them.
	header := func(n int) {
		if withValues && !resp3 {
			c.W.ArrayLen(2 * n)
		} else {
			c.W.ArrayLen(n)
		}
	}
	emit := func(f, v []byte) {
		if withValues && resp3 {
			c.W.ArrayLen(2)
		}
		c.W.Bulk(f)
		if withValues {
			c.W.Bulk(v)
		}
	}
	size := h.len()
	if l < 0 || l == 1 {
		count := l
		if count < 0 {
			count = -count
		}
		header(int(count))
		for ; count > 0 && !c.OutputFull(); count-- {
			emit(h.at(rand.IntN(size)))
		}
		return
	}
	if l >= int64(size) {
		header(size)
		h.each(func(f, v []byte) bool { emit(f, v); return true })
		return
	}
	count := int(l)
	header(count)
	if h.ht == nil {
		// One ordered pass over the listpack, as Redis's lpRandomPairsUnique.
		need, i := count, 0
		h.each(func(f, v []byte) bool {
			if rand.IntN(size-i) < need {
				emit(f, v)
				need--
			}
			i++
			return need > 0
		})
		return
	}
	for _, i := range collRandomDistinct(size, count) {
		emit(h.at(i))
	}
}

func hscanCommand(c *command.Ctx) {
	cursor, ok := parseCursor(c.Args[2])
	if !ok {
		c.Error(errInvalidCursor)
		return
	}
	h, found, ok := hvLookupRead(c, c.Args[1])
	if !ok {
		return
	}
	if !found {
		collScanReply(c, 0, nil, nil)
		return
	}
	count, pattern, noValues, ok := collScanArgsNoValues(c, 3, true)
	if !ok {
		return
	}
	buf := c.Scratch[:0]
	var ends []int
	keep := func(f, v []byte) {
		if pattern == nil || config.GlobMatch(pattern, f, false) {
			buf = append(buf, f...)
			ends = append(ends, len(buf))
			if !noValues {
				buf = append(buf, v...)
				ends = append(ends, len(buf))
			}
		}
	}
	next := uint64(0)
	if h.ht != nil {
		next = h.ht.Scan(cursor, count, func(e dict.Entry) { keep(svView(e.Key), svView(e.Val)) })
	} else {
		h.each(func(f, v []byte) bool { keep(f, v); return true })
	}
	collScanReply(c, next, buf, ends)
	c.Scratch = buf[:0]
}
