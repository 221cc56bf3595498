package commands

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/ds/dict"
	"github.com/corvid-db/corvid/internal/ds/listpack"
	"github.com/corvid-db/corvid/internal/ds/ttlindex"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// Hash field expiry (Redis 7.4's HEXPIRE family, Redis 8.0's HGETEX,
// HSETEX and HGETDEL).
//
// Storage. A plain hash is untouched by all this. The first time a field
// of a small hash gets a TTL, the hash becomes a listpackex: an inline
// listpack of field, value, expiry triples (keyspace.EncListpackEx), the
// expiry an empty element for "none" or 6 little-endian bytes of Unix ms.
// As in Redis, triples with a TTL come first, ordered by expiry, so finding
// what is due looks at the front only. A large hash with TTLs is a
// *hashTTLMap: the usual *dict.Map plus a ttlindex of its fields' expiries.
//
// Expiry is lazy (every hash command reclaims the key's due fields before
// it looks, and deletes the key when none remain) and active: every store
// of a hash with TTLs registers the key with its earliest expiry in the
// keyspace's per-table registry, and ExpireHashFields, called by the cron,
// pops the keys that are due.

// Errors only the hash field expiry commands reply with.
const (
	errHFEFieldsMissing  = "ERR Mandatory argument FIELDS is missing or not at the right position"
	errHFENumFieldsExp   = "ERR Parameter `numFields` should be greater than 0"
	errHFENumFields      = "ERR Number of fields must be a positive integer"
	errHFENumMismatch    = "ERR The `numfields` parameter must match the number of arguments"
	errHFENegative       = "ERR invalid expire time, must be >= 0"
	errHFEInvalidFields  = "ERR invalid number of fields"
	errHFEMissingExpire  = "ERR missing expire time"
	errHFEOneCondition   = "ERR Only one of FXX or FNX arguments can be specified"
	errHFEOneExpireSet   = "ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified"
	errHFEUnknownArgPref = "ERR unknown argument: "
)

// hfeMaxAbs is the largest field expiry accepted, in Unix ms (Redis's
// HFE_MAX_ABS_TIME_MSEC: the 48-bit expiry space divided by 4).
const hfeMaxAbs = (1<<48 - 1) >> 2

// Per-field replies.
const (
	hfeNoField      = -2
	hfeNoTTL        = -1
	hfeNoCondition  = 0
	hfeOK           = 1
	hfeDeletedField = 2
)

// Conditions of the HEXPIRE family.
const (
	hfeCondNone = iota
	hfeCondNX
	hfeCondXX
	hfeCondGT
	hfeCondLT
)

// hashTTLCommands are the field expiry commands, registered with the hash group.
func hashTTLCommands() []*command.Command {
	const (
		read  = command.CatRead
		write = command.CatWrite
		hash  = command.CatHash
		fast  = command.CatFast
	)
	ks := func(flags ...string) []command.KeySpec { return []command.KeySpec{keyRange(1, 0, flags...)} }
	cmd := func(name string, arity int, flags command.Flags, acl uint64, spec []command.KeySpec, since, summary string, h func(*command.Ctx)) *command.Command {
		return &command.Command{Name: name, Arity: arity, Flags: flags, ACL: acl | hash | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: spec, Group: "hash", Since: since, Summary: summary, Handler: h}
	}
	wr := command.Write | command.DenyOOM | command.Fast
	ro := command.ReadOnly | command.Fast
	nondet := []string{"nondeterministic_output"}
	httl := cmd("httl", -5, ro, read, ks("RO", "access"), "7.4.0", "Returns the remaining time to live of hash fields, in seconds.", httlCommand)
	httl.Tips = nondet
	hpttl := cmd("hpttl", -5, ro, read, ks("RO", "access"), "7.4.0", "Returns the remaining time to live of hash fields, in milliseconds.", hpttlCommand)
	hpttl.Tips = nondet
	return []*command.Command{
		cmd("hexpire", -6, wr, write, ks("RW", "update"), "7.4.0", "Sets the time to live of hash fields, in seconds from now.", hexpireCommand),
		cmd("hpexpire", -6, wr, write, ks("RW", "update"), "7.4.0", "Sets the time to live of hash fields, in milliseconds from now.", hpexpireCommand),
		cmd("hexpireat", -6, wr, write, ks("RW", "update"), "7.4.0", "Sets the expiry of hash fields as a Unix time in seconds.", hexpireatCommand),
		cmd("hpexpireat", -6, wr, write, ks("RW", "update"), "7.4.0", "Sets the expiry of hash fields as a Unix time in milliseconds.", hpexpireatCommand),
		httl,
		hpttl,
		cmd("hexpiretime", -5, ro, read, ks("RO", "access"), "7.4.0", "Returns the expiry of hash fields as a Unix time in seconds.", hexpiretimeCommand),
		cmd("hpexpiretime", -5, ro, read, ks("RO", "access"), "7.4.0", "Returns the expiry of hash fields as a Unix time in milliseconds.", hpexpiretimeCommand),
		cmd("hpersist", -5, command.Write|command.Fast, write, ks("RW", "update"), "7.4.0", "Removes the time to live of hash fields.", hpersistCommand),
		cmd("hgetex", -5, command.Write|command.Fast, write, ks("RW", "access", "update"), "8.0.0", "Returns the values of hash fields and optionally sets or removes their time to live.", hgetexCommand),
		cmd("hsetex", -6, wr, write, ks("RW", "update"), "8.0.0", "Sets hash fields, optionally only if none or all exist, with an optional time to live.", hsetexCommand),
		cmd("hgetdel", -5, command.Write|command.Fast, write, ks("RW", "access", "delete"), "8.0.0", "Returns the values of hash fields and deletes them.", hgetdelCommand),
	}
}

// hashTTLMap is a large hash whose fields have (or had) TTLs: the fields
// and values in m, the expiries of those that have one in ttl.
type hashTTLMap struct {
	m   *dict.Map
	ttl ttlindex.Index
}

// Encoding reports "hashtable", as Redis does for large hashes with TTLs.
func (x *hashTTLMap) Encoding() string { return "hashtable" }

// Copy is a deep copy for COPY, field TTLs included.
func (x *hashTTLMap) Copy() any {
	return &hashTTLMap{m: x.m.Copy().(*dict.Map), ttl: *x.ttl.Clone()}
}

// MemoryUsage estimates the map and the expiry index for MEMORY USAGE.
func (x *hashTTLMap) MemoryUsage(samples int) int64 {
	var n int64
	if mu, ok := any(x.m).(keyspace.MemoryUsager); ok {
		n = mu.MemoryUsage(samples)
	} else {
		for i := 0; i < x.m.Len(); i++ {
			e := x.m.At(i)
			n += int64(len(e.Key)+len(e.Val)) + 48
		}
	}
	return n + int64(x.ttl.Len())*64
}

// lpxTTL decodes a listpackex expiry element (0: no TTL).
func lpxTTL(b []byte) int64 {
	var buf [8]byte
	copy(buf[:], b)
	return int64(binary.LittleEndian.Uint64(buf[:]))
}

// lpxTTLElem encodes an expiry element into buf.
func lpxTTLElem(buf *[8]byte, when int64) []byte {
	if when == 0 {
		return nil
	}
	binary.LittleEndian.PutUint64(buf[:], uint64(when))
	return buf[:6]
}

// ttlOf returns field f's expiry (0: none) and whether f exists.
func (h *hashVal) ttlOf(f []byte) (int64, bool) {
	if h.ht != nil {
		if _, ok := h.ht.Get(f); !ok {
			return 0, false
		}
		if h.hx != nil {
			w, _ := h.hx.ttl.Get(f)
			return w, true
		}
		return 0, true
	}
	p := h.find(f)
	if p < 0 {
		return 0, false
	}
	if !h.ex {
		return 0, true
	}
	return lpxTTL(listpack.Get(h.lp, listpack.Next(h.lp, listpack.Next(h.lp, p)))), true
}

// minTTL returns the earliest field expiry, 0 if no field has one.
func (h *hashVal) minTTL() int64 {
	if h.ht != nil {
		if h.hx == nil {
			return 0
		}
		_, w, _ := h.hx.ttl.Min()
		return w
	}
	if !h.ex {
		return 0
	}
	p := listpack.First(h.lp)
	if p < 0 {
		return 0
	}
	return lpxTTL(listpack.Get(h.lp, listpack.Next(h.lp, listpack.Next(h.lp, p))))
}

// toEx makes the hash able to hold field TTLs: a listpack becomes a
// listpackex, a plain dict gets an expiry index (hashTypeSetExInit).
func (h *hashVal) toEx() {
	switch {
	case h.ht != nil:
		if h.hx == nil {
			h.hx = &hashTTLMap{m: h.ht}
			h.fresh = true
		}
	case !h.ex:
		lp := make([]byte, 0, len(h.lp)+listpack.Len(h.lp)+16)
		lp = append(lp, listpack.New()...)
		h.each(func(f, v []byte) bool {
			lp = listpack.Append(lp, f, v, nil)
			return true
		})
		h.lp, h.ex = lp, true
	}
}

// setTTL gives existing field f the expiry when (0 removes it), keeping a
// listpackex ordered by expiry. The hash must have been through toEx.
func (h *hashVal) setTTL(f []byte, when int64) {
	if h.ht != nil {
		if when == 0 {
			h.hx.ttl.Delete(f)
		} else {
			h.hx.ttl.Set(f, when)
		}
		return
	}
	p := h.find(f)
	if p < 0 {
		return
	}
	var small [128]byte
	v := listpack.Get(h.lp, listpack.Next(h.lp, p))
	tmp := append(append(small[:0], f...), v...)
	f, v = tmp[:len(f)], tmp[len(f):]
	h.lp = listpack.Delete(h.lp, p, 3)
	var tb [8]byte
	te := lpxTTLElem(&tb, when)
	// Insert before the first field that expires later or never, as Redis.
	q := listpack.First(h.lp)
	if when != 0 {
		for q >= 0 {
			t := listpack.Next(h.lp, listpack.Next(h.lp, q))
			if w := lpxTTL(listpack.Get(h.lp, t)); w == 0 || w > when {
				break
			}
			q = listpack.Next(h.lp, t)
		}
	} else {
		q = -1
	}
	if q < 0 {
		h.lp = listpack.Append(h.lp, f, v, te)
		return
	}
	h.lp = listpack.Insert(h.lp, q, te)
	h.lp = listpack.Insert(h.lp, q, v)
	h.lp = listpack.Insert(h.lp, q, f)
}

// purge removes up to budget fields whose expiry is at or before now and
// returns how many it removed; onDel, when set, hears of each.
func (h *hashVal) purge(now int64, budget int, onDel func(field []byte)) int {
	n := 0
	if h.ht != nil {
		if h.hx == nil {
			return 0
		}
		for n < budget {
			name, w, ok := h.hx.ttl.Min()
			if !ok || w > now {
				break
			}
			h.hx.ttl.PopMin()
			if onDel != nil {
				onDel([]byte(name))
			}
			h.ht.Delete(svView(name))
			n++
		}
		h.expired += n
		return n
	}
	if !h.ex {
		return 0
	}
	for p := listpack.First(h.lp); p >= 0 && n < budget; n++ {
		t := listpack.Next(h.lp, listpack.Next(h.lp, p))
		if w := lpxTTL(listpack.Get(h.lp, t)); w == 0 || w > now {
			break
		}
		if onDel != nil {
			onDel(listpack.Get(h.lp, p))
		}
		p = listpack.Next(h.lp, t)
	}
	if n > 0 {
		h.lp = listpack.Delete(h.lp, listpack.First(h.lp), 3*n)
	}
	h.expired += n
	return n
}

// hvDue reports whether the hash in e has a field whose expiry has come.
func hvDue(e keyspace.Entry, now int64) bool {
	if x, ok := e.Object().(*hashTTLMap); ok {
		_, w, ok := x.ttl.Min()
		return ok && w <= now
	}
	if e.StringEncoding() != keyspace.EncListpackEx {
		return false
	}
	h := hashVal{lp: e.Bytes(), ex: true}
	w := h.minTTL()
	return w != 0 && w <= now
}

// hvExpireFields reclaims the due fields of the hash in e (lazy expiry) and
// returns the entry again, found false if the key went with its last field.
func hvExpireFields(c *command.Ctx, key []byte, e keyspace.Entry) (keyspace.Entry, bool) {
	if !hvDue(e, c.DB.Now()) {
		return e, true
	}
	_, c.Scratch = hvReclaim(c.DB, key, e, c.Scratch, math.MaxInt)
	return c.DB.Lookup(key)
}

// hvReclaim removes up to budget due fields of the hash in e, storing it
// back (deleting the key when empty) and registering it again for active
// expiry if fields with a TTL remain. It returns the number removed and
// the scratch buffer to reuse.
func hvReclaim(db keyspace.DB, key []byte, e keyspace.Entry, buf []byte, budget int) (int, []byte) {
	db.BeforeWrite(key) // a snapshot that still needs the hash saves it first
	h := hvLoadMut(e, buf)
	var onDel func([]byte)
	if hook := db.Store().OnFieldExpire; hook != nil {
		onDel = func(f []byte) { hook(db.Index(), key, f) }
	}
	n := h.purge(db.Now(), budget, onDel)
	if n > 0 {
		hvStoreDB(db, key, &h, keyspace.KeepTTL)
	} else if w := h.minTTL(); w != 0 {
		db.NoteFieldExpiry(key, w)
	}
	if h.ht == nil && cap(h.lp) <= 64<<10 {
		buf = h.lp[:0]
	}
	return n, buf
}

// ExpireHashFields is the active half of hash field expiry, for the
// server's cron: it reclaims up to budget expired fields of hashes nobody
// has touched, visiting only keys registered as having due fields (never
// scanning the keyspace), and deletes hashes whose last field expired. It
// locks each shard it visits itself, one at a time, so it must be called
// without any shard lock held. now is the cycle's clock in Unix ms. It
// returns the number of fields reclaimed.
func ExpireHashFields(st *keyspace.Store, now int64, budget int) int {
	var buf []byte
	return st.ExpireFields(now, budget, func(db keyspace.DB, key []byte, budget int) int {
		e, ok := db.Lookup(key)
		if !ok || e.Type() != keyspace.TypeHash {
			return 0
		}
		n := 0
		n, buf = hvReclaim(db, key, e, buf, budget)
		return n
	})
}

// trackHashFieldTTLs registers key for active field expiry if it holds a
// hash with field TTLs. Commands that move a value under a new name
// (RENAME, MOVE, COPY, RESTORE) call it for the destination: the registry
// is by key name, and a hash that is never touched again would otherwise
// only lose its fields lazily. The caller holds key's shard lock.
func trackHashFieldTTLs(db keyspace.DB, key []byte) {
	e, ok := db.Lookup(key)
	if !ok || e.Type() != keyspace.TypeHash {
		return
	}
	h := hvLoad(e)
	if w := h.minTTL(); w != 0 {
		db.NoteFieldExpiry(key, w)
	}
}

// hfeParseTime is Redis's parseExpireTime for field expiries: a
// non-negative integer in seconds (unitSec) or ms, plus base, within
// hfeMaxAbs. It replies with the error and reports false when invalid.
func hfeParseTime(c *command.Ctx, arg []byte, unitSec bool, base int64) (int64, bool) {
	v, ok := resp.ParseInt(arg)
	if !ok {
		c.Error(command.ErrNotInteger)
		return 0, false
	}
	if v < 0 {
		c.Error(errHFENegative)
		return 0, false
	}
	if unitSec {
		if v > hfeMaxAbs/1000 {
			c.Error("ERR invalid expire time in '" + c.Cmd.Name + "' command")
			return 0, false
		}
		v *= 1000
	}
	if v > hfeMaxAbs-base {
		c.Error("ERR invalid expire time in '" + c.Cmd.Name + "' command")
		return 0, false
	}
	return v + base, true
}

// hfeFields checks "FIELDS numfields field..." with FIELDS at c.Args[at-1]
// and numfields at c.Args[at], and returns the fields. numErr is the
// command's wording for a bad count.
func hfeFields(c *command.Ctx, at int, numErr string) ([][]byte, bool) {
	if at >= len(c.Args) {
		c.Error(command.ErrWrongArgs(c.Cmd.Name))
		return nil, false
	}
	if !equalFold(c.Args[at-1], "fields") {
		c.Error(errHFEFieldsMissing)
		return nil, false
	}
	n, ok := resp.ParseInt(c.Args[at])
	if !ok || n < 1 {
		c.Error(numErr)
		return nil, false
	}
	if n != int64(len(c.Args)-at-1) {
		c.Error(errHFENumMismatch)
		return nil, false
	}
	return c.Args[at+1:], true
}

// hfeLookup looks up a hash for a field-expiry command, counting a keyspace
// hit or miss when read. ok is false after a type error reply; found is
// false when the key is missing. Due fields are not reclaimed yet: callers
// validate their arguments first, then call hvExpireFields.
func hfeLookup(c *command.Ctx, key []byte, read bool) (e keyspace.Entry, found, ok bool) {
	var err error
	if read {
		e, found, err = c.DB.LookupReadType(key, keyspace.TypeHash)
	} else {
		e, found, err = c.DB.LookupType(key, keyspace.TypeHash)
	}
	if err != nil {
		c.Error(command.ErrWrongType)
		return e, false, false
	}
	return e, found, true
}

func hexpireCommand(c *command.Ctx)    { hexpireGeneric(c, true, false) }
func hpexpireCommand(c *command.Ctx)   { hexpireGeneric(c, false, false) }
func hexpireatCommand(c *command.Ctx)  { hexpireGeneric(c, true, true) }
func hpexpireatCommand(c *command.Ctx) { hexpireGeneric(c, false, true) }

// hexpireGeneric is HEXPIRE, HPEXPIRE, HEXPIREAT and HPEXPIREAT.
func hexpireGeneric(c *command.Ctx, unitSec, absolute bool) {
	key := c.Args[1]
	e, found, ok := hfeLookup(c, key, false)
	if !ok {
		return
	}
	var base int64
	if !absolute {
		base = c.DB.Now()
	}
	when, ok := hfeParseTime(c, c.Args[2], unitSec, base)
	if !ok {
		return
	}
	cond, at := hfeCondNone, 4
	switch {
	case equalFold(c.Args[3], "nx"):
		cond = hfeCondNX
	case equalFold(c.Args[3], "xx"):
		cond = hfeCondXX
	case equalFold(c.Args[3], "gt"):
		cond = hfeCondGT
	case equalFold(c.Args[3], "lt"):
		cond = hfeCondLT
	}
	if cond != hfeCondNone {
		at++
	}
	fields, ok := hfeFields(c, at, errHFENumFieldsExp)
	if !ok {
		return
	}
	if found {
		e, found = hvExpireFields(c, key, e)
	}
	c.W.ArrayLen(len(fields))
	if !found {
		for range fields {
			c.W.Int(hfeNoField)
		}
		return
	}
	h := hvLoadMut(e, c.Scratch)
	h.toEx()
	now := c.DB.Now()
	var updated [][]byte // propagated as HPEXPIREAT; fields deleted as HDEL
	for _, f := range fields {
		r := h.expireField(f, when, cond, now)
		if r == hfeOK || r == hfeDeletedField {
			c.Dirty++
		}
		if c.Propagating {
			switch r {
			case hfeOK:
				updated = append(updated, f)
			case hfeDeletedField:
				c.AlsoPropagate(argHDEL, key, f)
			}
		}
		c.W.Int(r)
	}
	hvStore(c, key, &h, keyspace.KeepTTL)
	if c.Propagating {
		// As Redis 7.4: HPEXPIREAT with the absolute time and only the
		// fields it changed, or nothing when none was.
		if len(updated) == 0 {
			c.PreventPropagation()
			return
		}
		args := [][]byte{argHPEXPIREAT, key, strconv.AppendInt(nil, when, 10)}
		if at == 5 {
			args = append(args, c.Args[3])
		}
		args = append(args, argFIELDS, strconv.AppendInt(nil, int64(len(updated)), 10))
		c.PropagateAs(append(args, updated...)...)
	}
}

var (
	argHDEL       = []byte("HDEL")
	argHPEXPIREAT = []byte("HPEXPIREAT")
	argFIELDS     = []byte("FIELDS")
)

// expireField is hashTypeSetEx: it sets field f's expiry to when under
// condition cond (a field without a TTL counts as expiring never: XX and
// GT fail, LT passes), deleting the field when the time has already come.
func (h *hashVal) expireField(f []byte, when int64, cond int, now int64) int64 {
	prev, exists := h.ttlOf(f)
	if !exists {
		return hfeNoField
	}
	if prev == 0 {
		if cond == hfeCondXX || cond == hfeCondGT {
			return hfeNoCondition
		}
	} else if cond == hfeCondNX || (cond == hfeCondGT && prev >= when) || (cond == hfeCondLT && prev <= when) {
		return hfeNoCondition
	}
	if when <= now {
		h.del(f)
		h.expired++
		return hfeDeletedField
	}
	h.setTTL(f, when)
	return hfeOK
}

func httlCommand(c *command.Ctx)        { httlGeneric(c, false, true) }
func hpttlCommand(c *command.Ctx)       { httlGeneric(c, false, false) }
func hexpiretimeCommand(c *command.Ctx) { httlGeneric(c, true, true) }
func hpexpiretimeCommand(c *command.Ctx) {
	httlGeneric(c, true, false)
}

// httlGeneric is HTTL, HPTTL, HEXPIRETIME and HPEXPIRETIME. Seconds are
// rounded up, as Redis does.
func httlGeneric(c *command.Ctx, absolute, unitSec bool) {
	key := c.Args[1]
	e, found, ok := hfeLookup(c, key, true)
	if !ok {
		return
	}
	fields, ok := hfeFields(c, 3, errHFENumFields)
	if !ok {
		return
	}
	if found {
		e, found = hvExpireFields(c, key, e)
	}
	c.W.ArrayLen(len(fields))
	if !found {
		for range fields {
			c.W.Int(hfeNoField)
		}
		return
	}
	h := hvLoad(e)
	now := c.DB.Now()
	var base int64
	if !absolute {
		base = now
	}
	for _, f := range fields {
		w, exists := h.ttlOf(f)
		switch {
		case !exists || (w != 0 && w <= now):
			c.W.Int(hfeNoField)
		case w == 0:
			c.W.Int(hfeNoTTL)
		case unitSec:
			c.W.Int((w + 999 - base) / 1000)
		default:
			c.W.Int(w - base)
		}
	}
}

func hpersistCommand(c *command.Ctx) {
	key := c.Args[1]
	e, found, ok := hfeLookup(c, key, false)
	if !ok {
		return
	}
	fields, ok := hfeFields(c, 3, errHFENumFields)
	if !ok {
		return
	}
	if found {
		e, found = hvExpireFields(c, key, e)
	}
	c.W.ArrayLen(len(fields))
	if !found {
		for range fields {
			c.W.Int(hfeNoField)
		}
		return
	}
	h := hvLoadMut(e, c.Scratch)
	changed := false
	for _, f := range fields {
		w, exists := h.ttlOf(f)
		switch {
		case !exists:
			c.W.Int(hfeNoField)
		case w == 0:
			c.W.Int(hfeNoTTL)
		default:
			h.setTTL(f, 0)
			changed = true
			c.Dirty++
			c.W.Int(hfeOK)
		}
	}
	if changed {
		hvStore(c, key, &h, keyspace.KeepTTL)
	}
}

// propagateAbsoluteTTL propagates HGETEX or HSETEX with the expiry option
// at argument i (EX, PX or EXAT, and its value) rewritten as PXAT with the
// absolute time: a replica, or an AOF replayed later, must not restart the
// clock. It runs when the command is done; a command that changed nothing
// is not propagated anyway.
func propagateAbsoluteTTL(c *command.Ctx, i int, when int64) {
	if !c.Propagating || c.Dirty == 0 || equalFold(c.Args[i], "pxat") {
		return
	}
	args := append([][]byte(nil), c.Args...)
	args[i], args[i+1] = argPXAT, strconv.AppendInt(nil, when, 10)
	c.PropagateAs(args...)
}

// HGETEX options.
const (
	hgetexNone = iota
	hgetexExpire
	hgetexPersist
)

func hgetexCommand(c *command.Ctx) {
	key := c.Args[1]
	e, found, ok := hfeLookup(c, key, false)
	if !ok {
		return
	}
	op, at := hgetexNone, 3
	var when int64
	switch a := c.Args[2]; {
	case equalFold(a, "ex"), equalFold(a, "px"), equalFold(a, "exat"), equalFold(a, "pxat"):
		op, at = hgetexExpire, 5
		unitSec := equalFold(a, "ex") || equalFold(a, "exat")
		var base int64
		if equalFold(a, "ex") || equalFold(a, "px") {
			base = c.DB.Now()
		}
		if when, ok = hfeParseTime(c, c.Args[3], unitSec, base); !ok {
			return
		}
		defer propagateAbsoluteTTL(c, 2, when)
	case equalFold(a, "persist"):
		op, at = hgetexPersist, 4
	}
	fields, ok := hfeFields(c, at, errHFENumFields)
	if !ok {
		return
	}
	if found {
		e, found = hvExpireFields(c, key, e)
	}
	c.W.ArrayLen(len(fields))
	if !found {
		for range fields {
			c.W.Null()
		}
		return
	}
	if op == hgetexNone {
		h := hvLoad(e)
		for _, f := range fields {
			if v, ok := h.get(f); ok {
				c.W.Bulk(v)
			} else {
				c.W.Null()
			}
		}
		return
	}
	h := hvLoadMut(e, c.Scratch)
	h.toEx()
	now := c.DB.Now()
	for _, f := range fields {
		v, ok := h.get(f)
		if !ok {
			c.W.Null()
			continue
		}
		c.W.Bulk(v)
		if op == hgetexPersist {
			if w, _ := h.ttlOf(f); w != 0 {
				h.setTTL(f, 0)
				c.Dirty++
			}
			continue
		}
		h.expireField(f, when, hfeCondNone, now)
		c.Dirty++
	}
	hvStore(c, key, &h, keyspace.KeepTTL)
}

func hgetdelCommand(c *command.Ctx) {
	key := c.Args[1]
	e, found, ok := hfeLookup(c, key, false)
	if !ok {
		return
	}
	fields, ok := hfeFields(c, 3, errHFENumFields)
	if !ok {
		return
	}
	if found {
		e, found = hvExpireFields(c, key, e)
	}
	c.W.ArrayLen(len(fields))
	if !found {
		for range fields {
			c.W.Null()
		}
		return
	}
	h := hvLoadMut(e, c.Scratch)
	deleted := 0
	for _, f := range fields {
		v, ok := h.get(f)
		if !ok {
			c.W.Null()
			continue
		}
		c.W.Bulk(v)
		h.del(f)
		deleted++
	}
	if deleted > 0 {
		c.Dirty += int64(deleted)
		hvStore(c, key, &h, keyspace.KeepTTL)
	}
}

// HSETEX flags.
const (
	hsetexFNX = 1 << iota
	hsetexFXX
	hsetexExpire
	hsetexKeepTTL
)

func hsetexCommand(c *command.Ctx) {
	flags := 0
	var when int64
	var pairs [][]byte
	for i := 2; i < len(c.Args) && pairs == nil; i++ {
		a := c.Args[i]
		switch {
		case equalFold(a, "fields"):
			if i >= len(c.Args)-3 {
				c.Error(command.ErrWrongArgs(c.Cmd.Name))
				return
			}
			n, ok := resp.ParseInt(c.Args[i+1])
			if !ok || n < 1 || n > math.MaxInt32 {
				c.Error(errHFEInvalidFields)
				return
			}
			rest := len(c.Args) - i - 2
			if rest%2 != 0 || n != int64(rest/2) {
				c.Error(command.ErrWrongArgs(c.Cmd.Name))
				return
			}
			pairs = c.Args[i+2:]
		case equalFold(a, "ex"), equalFold(a, "px"), equalFold(a, "exat"), equalFold(a, "pxat"):
			if flags&(hsetexExpire|hsetexKeepTTL) != 0 {
				c.Error(errHFEOneExpireSet)
				return
			}
			if i >= len(c.Args)-1 {
				c.Error(errHFEMissingExpire)
				return
			}
			flags |= hsetexExpire
			var base int64
			if equalFold(a, "ex") || equalFold(a, "px") {
				base = c.DB.Now()
			}
			i++
			var ok bool
			if when, ok = hfeParseTime(c, c.Args[i], equalFold(a, "ex") || equalFold(a, "exat"), base); !ok {
				return
			}
			defer propagateAbsoluteTTL(c, i-1, when)
		case equalFold(a, "keepttl"):
			if flags&(hsetexExpire|hsetexKeepTTL) != 0 {
				c.Error(errHFEOneExpireSet)
				return
			}
			flags |= hsetexKeepTTL
		case equalFold(a, "fxx"), equalFold(a, "fnx"):
			if flags&(hsetexFNX|hsetexFXX) != 0 {
				c.Error(errHFEOneCondition)
				return
			}
			if equalFold(a, "fxx") {
				flags |= hsetexFXX
			} else {
				flags |= hsetexFNX
			}
		default:
			c.Error(errHFEUnknownArgPref + string(a))
			return
		}
	}
	if pairs == nil {
		c.Error(errHFEFieldsMissing)
		return
	}
	key := c.Args[1]
	e, found, ok := hfeLookup(c, key, false)
	if !ok {
		return
	}
	if found {
		e, found = hvExpireFields(c, key, e)
	}
	if !found && flags&hsetexFXX != 0 {
		c.W.Int(0)
		return
	}
	var h hashVal
	exp := keyspace.KeepTTL
	if found {
		h = hvLoadMut(e, c.Scratch)
	} else {
		h, exp = hashVal{lp: append(c.Scratch[:0], listpack.New()...)}, 0
	}
	if flags&(hsetexFNX|hsetexFXX) != 0 {
		for i := 0; i < len(pairs); i += 2 {
			_, exists := h.get(pairs[i])
			if (flags&hsetexFXX != 0 && !exists) || (flags&hsetexFNX != 0 && exists) {
				c.W.Int(0)
				return
			}
		}
	}
	lim := hvLimitsOf(c)
	h.tryConversion(pairs, lim)
	if flags&hsetexExpire != 0 {
		h.toEx()
	}
	now := c.DB.Now()
	for i := 0; i < len(pairs); i += 2 {
		f := pairs[i]
		h.setx(f, pairs[i+1], lim, flags&(hsetexExpire|hsetexKeepTTL) != 0)
		if flags&hsetexExpire != 0 {
			h.expireField(f, when, hfeCondNone, now)
		}
	}
	hvStore(c, key, &h, exp)
	c.Dirty += int64(len(pairs) / 2)
	c.W.Int(1)
}
