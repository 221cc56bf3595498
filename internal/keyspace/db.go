package keyspace

import (
	"errors"
	"math/bits"
	"math/rand/v2"

	"github.com/corvid-db/corvid/internal/ds/slab"
)

// KeepTTL as an expireAt argument keeps whatever expiry the key had.
const KeepTTL int64 = -1

// ErrWrongType is returned when a key holds a value of another type.
var ErrWrongType = errors.New("WRONGTYPE Operation against a key holding the wrong kind of value")

func trailingZeros(x uint64) int { return bits.TrailingZeros64(x) }

// DB is a handle on one database at one instant. It is a small value: the
// dispatcher makes one per command with the command's notion of "now", so
// every key a command (or a whole transaction) looks at expires against the
// same clock, as in Redis.
//
// Every method requires the shard lock of each key it is given.
type DB struct {
	s   *Store
	idx int
	now int64
	// NoTouch leaves access times alone (CLIENT NO-TOUCH, OBJECT, TYPE).
	NoTouch bool
	// On a replica, as Redis's expireIfNeeded there: KeepExpired (the
	// primary's connection) finds keys whose time to live has passed as
	// live, since the primary's clock decides and its DEL will follow;
	// HideExpired (every other client) finds them missing but leaves them
	// in place, except to store under the key.
	KeepExpired, HideExpired bool
}

// At returns the handle with its clock set to now (Unix ms).
func (db DB) At(now int64) DB { db.now = now; return db }

// Index returns the database number.
func (db DB) Index() int { return db.idx }

// Store returns the keyspace the database belongs to.
func (db DB) Store() *Store { return db.s }

// Now returns the handle's clock (Unix ms).
func (db DB) Now() int64 {
	if db.now == 0 {
		return db.s.Clock()
	}
	return db.now
}

func (db DB) table(h uint64) *table { return db.s.shards[h>>shardShift].dbs[db.idx] }

// Entry is a view of one key's record. It is valid until the next write to
// the database; handlers look a key up again after changing it.
type Entry struct {
	t *table
	r slab.Ref
}

// Type returns the value's type.
func (e Entry) Type() Type { return Type(hdr(e.r).meta >> 4) }

// Key returns the key; the bytes alias keyspace memory.
func (e Entry) Key() []byte { return recordKey(e.r) }

// ExpireAt returns the expiry in Unix ms, or 0 if the key does not expire.
func (e Entry) ExpireAt() int64 {
	if hdr(e.r).flags&flagTTL == 0 {
		return 0
	}
	return ttlHdr(e.r).expireAt
}

// LRU returns the access clock the key was last stamped with.
func (e Entry) LRU() uint32 { return hdr(e.r).lru }

// SetLRU sets the access field (RESTORE's IDLETIME and FREQ); the caller
// holds the key's shard.
func (e Entry) SetLRU(v uint32) { hdr(e.r).lru = v }

// StringEncoding returns the string encoding of a string value.
func (e Entry) StringEncoding() Encoding { return Encoding(hdr(e.r).meta & 15) }

// Encoding returns the name OBJECT ENCODING reports.
func (e Entry) Encoding() string {
	if enc, ok := e.Object().(Encoder); ok {
		return enc.Encoding()
	}
	switch e.StringEncoding() {
	case EncInt:
		return "int"
	case EncEmbstr:
		return "embstr"
	case EncListpack:
		return "listpack"
	case EncListpackEx:
		return "listpackex"
	case EncIntset:
		return "intset"
	}
	return "raw"
}

// Int returns the value of an int-encoded string.
func (e Entry) Int() (int64, bool) {
	h := hdr(e.r)
	if h.meta != uint8(TypeString)<<4|uint8(EncInt) {
		return 0, false
	}
	return getInt(recordInline(e.r)), true
}

// ReplaceInt overwrites the value of an int-encoded string in place (the
// INCR family's fast path: no second lookup, no allocation). It reports
// false, changing nothing, if the value is not int-encoded.
func (e Entry) ReplaceInt(n int64) bool {
	h := hdr(e.r)
	if h.meta != uint8(TypeString)<<4|uint8(EncInt) || h.flags&flagObj != 0 {
		return false
	}
	e.t.beforeChange(e.r)
	putInt(recordInline(e.r), n)
	return true
}

// Bytes returns a string value's bytes, or nil for an int-encoded string
// (use AppendValue). The slice aliases keyspace memory.
func (e Entry) Bytes() []byte {
	h := hdr(e.r)
	if h.flags&flagObj != 0 {
		if b, ok := e.t.objs[h.vlen].(*bigString); ok {
			return b.b
		}
		return nil
	}
	if h.meta&15 == uint8(EncInt) {
		return nil
	}
	return recordInline(e.r)
}

// AppendValue appends a string value (ints formatted) to dst.
func (e Entry) AppendValue(dst []byte) []byte {
	if n, ok := e.Int(); ok {
		return appendInt(dst, n)
	}
	return append(dst, e.Bytes()...)
}

// StrLen returns the length of a string value.
func (e Entry) StrLen() int {
	if n, ok := e.Int(); ok {
		return intLen(n)
	}
	return len(e.Bytes())
}

// Object returns a collection value (nil for inline strings).
func (e Entry) Object() any {
	h := hdr(e.r)
	if h.flags&flagObj == 0 {
		return nil
	}
	return e.t.objs[h.vlen]
}

// MemoryUsager is implemented by collection values that can estimate their
// own size for MEMORY USAGE; samples bounds how many elements are inspected
// (0 = all), as in Redis.
type MemoryUsager interface{ MemoryUsage(samples int) int64 }

// MemoryUsage estimates the bytes the key and its value use: the record's
// slab allocation, its index slot and, for Go-heap values, their size.
func (e Entry) MemoryUsage(samples int) int64 {
	n := int64(slab.ClassSize(recordSize(e.r))) + 8
	switch o := e.Object().(type) {
	case nil:
	case *bigString:
		n += int64(cap(o.b)) + 32
	case MemoryUsager:
		n += o.MemoryUsage(samples)
	default:
		n += 64
	}
	return n
}

// bigString holds string values too large for the slab.
type bigString struct{ b []byte }

// maxInline is the largest record that keeps a value of more than
// tinyValue bytes inline; larger values go to the heap (a bigString grows
// in place on APPEND, and a record is copied whole when it changes size).
const maxInline = slab.MaxSize

// tinyValue is the size up to which a value stays in the record whatever
// the key's length: int-encoded strings (Entry.Int reads them inline) and
// small listpacks beside a long key cost a few bytes there, and a Go
// object elsewhere.
const tinyValue = 64

// lookup finds key, expiring it if its time has passed.
func (db DB) lookup(key []byte) (*table, int, slab.Ref) {
	t, i, r, _ := db.lookupHash(key, false)
	return t, i, r
}

// lookupHash finds key and expires it if its time has passed. During a
// pause, or for a replica's client (HideExpired), an expired key is only
// hidden, unless the caller is about to store under that key (insert),
// which must never find a stale record in place; for a replica's primary
// (KeepExpired) it is live.
func (db DB) lookupHash(key []byte, insert bool) (*table, int, slab.Ref, uint64) {
	h := hashKey(key)
	t := db.table(h)
	i := t.find(key, h)
	if i < 0 {
		return t, -1, 0, h
	}
	r := slotRef(t.slots[i])
	if hdr(r).flags&flagTTL != 0 && ttlHdr(r).expireAt <= db.Now() {
		if db.KeepExpired {
			return t, i, r, h
		}
		if !insert && (db.HideExpired || db.s.ExpiryPaused.Load()) {
			return t, -1, 0, h
		}
		db.expire(t, i, r)
		return t, -1, 0, h
	}
	return t, i, r, h
}

func (db DB) expire(t *table, i int, r slab.Ref) {
	if db.s.OnExpire != nil {
		db.s.OnExpire(db.idx, recordKey(r))
	}
	t.freeRecord(r, false)
	t.removeSlot(i)
	db.s.ExpiredKeys.Add(1)
}

// Peek returns key's entry if it exists and has not expired, changing
// nothing: an expired key is neither deleted nor reported, and the access
// time is left alone. A blocked client's readiness check uses it, as Redis
// checks without expiring (the expiry is propagated when a command meets
// the key, not when a wake-up attempt does).
func (db DB) Peek(key []byte) (Entry, bool) {
	e, ok := db.Find(key)
	if ok && e.ExpireAt() != 0 && e.ExpireAt() <= db.Now() {
		return Entry{}, false
	}
	return e, ok
}

// Find returns key's record whether or not its time to live has passed,
// changing nothing, as Redis's dbFind (DEBUG OBJECT shows a key that has
// expired but was not reclaimed yet).
func (db DB) Find(key []byte) (Entry, bool) {
	h := hashKey(key)
	t := db.table(h)
	i := t.find(key, h)
	if i < 0 {
		return Entry{}, false
	}
	return Entry{t, slotRef(t.slots[i])}, true
}

// Lookup returns key's entry, stamping its access time unless NoTouch.
func (db DB) Lookup(key []byte) (Entry, bool) {
	t, i, r := db.lookup(key)
	if i < 0 {
		return Entry{}, false
	}
	if !db.NoTouch {
		hdr(r).lru = db.s.touched(hdr(r).lru)
	}
	return Entry{t, r}, true
}

// LookupRead is Lookup for read commands: it also counts a keyspace hit or
// miss for INFO, as Redis's lookupKeyRead does.
func (db DB) LookupRead(key []byte) (Entry, bool) {
	t, i, r, h := db.lookupHash(key, false)
	sh := &db.s.shards[h>>shardShift]
	if i < 0 {
		sh.misses++
		return Entry{}, false
	}
	sh.hits++
	if !db.NoTouch {
		hdr(r).lru = db.s.touched(hdr(r).lru)
	}
	return Entry{t, r}, true
}

// LookupReadType is LookupRead with LookupType's type check.
func (db DB) LookupReadType(key []byte, typ Type) (Entry, bool, error) {
	e, ok := db.LookupRead(key)
	if !ok {
		return e, false, nil
	}
	if e.Type() != typ {
		return Entry{}, false, ErrWrongType
	}
	return e, true, nil
}

// LookupType is Lookup that fails with ErrWrongType if the value is not of type typ.
func (db DB) LookupType(key []byte, typ Type) (Entry, bool, error) {
	e, ok := db.Lookup(key)
	if !ok {
		return e, false, nil
	}
	if e.Type() != typ {
		return Entry{}, false, ErrWrongType
	}
	return e, true, nil
}

// Exists reports whether key exists, without touching its access time.
func (db DB) Exists(key []byte) bool {
	_, i, _ := db.lookup(key)
	return i >= 0
}

// Delete removes key and reports whether it existed.
func (db DB) Delete(key []byte) bool {
	t, i, r := db.lookup(key)
	if i < 0 {
		return false
	}
	t.freeRecord(r, false)
	t.removeSlot(i)
	return true
}

// resolveExpiry turns KeepTTL into the key's current expiry.
func resolveExpiry(r slab.Ref, expireAt int64) int64 {
	if expireAt != KeepTTL {
		return expireAt
	}
	if r != 0 && hdr(r).flags&flagTTL != 0 {
		return ttlHdr(r).expireAt
	}
	return 0
}

// put stores a record for key, replacing any value of any type.
func (db DB) put(key []byte, meta uint8, val []byte, obj any, expireAt int64) {
	t, i, old, h := db.lookupHash(key, true)
	if old != 0 {
		t.beforeChange(old)
	}
	expireAt = resolveExpiry(old, expireAt)
	if obj == nil && len(key)+len(val)+ttlHdrSize > maxInline && len(val) > tinyValue {
		obj = &bigString{b: append([]byte(nil), val...)}
		val = nil
	}
	lru := db.s.newAccess()
	if old != 0 && db.s.lfu.Load() {
		lru = hdr(old).lru // an overwrite keeps the key's frequency, as in Redis
	}
	// An overwrite that keeps the record's size class rewrites it in place:
	// no allocation, and a long key is not copied again.
	if old != 0 {
		oh := hdr(old)
		hasTTL := expireAt != 0
		if (oh.flags&flagTTL != 0) == hasTTL {
			inPlace := false
			switch {
			case obj != nil && oh.flags&flagObj != 0:
				t.objs[oh.vlen] = obj
				inPlace = true
			case obj == nil && oh.flags&flagObj == 0 &&
				slab.ClassSize(recordSize(old)) == slab.ClassSize(headerLen(oh.flags)+len(key)+len(val)):
				oh.vlen = uint32(len(val))
				copy(recordInline(old), val)
				inPlace = true
			}
			if inPlace {
				oh.meta, oh.lru = meta, lru
				if hasTTL {
					ttlHdr(old).expireAt = expireAt
				}
				return
			}
		}
	}
	oi := -1
	if obj != nil {
		oi = 0 // set below, once the record's allocation has succeeded
	}
	r := t.newRecord(key, meta, val, oi, expireAt, lru)
	reuse := obj != nil && old != 0 && hdr(old).flags&flagObj != 0
	if obj != nil {
		if reuse {
			oi = int(hdr(old).vlen)
			t.objs[oi] = obj
		} else {
			oi = t.storeObj(obj)
		}
		hdr(r).vlen = uint32(oi)
	}
	if old != 0 {
		t.freeRecord(old, reuse)
		t.replace(i, r)
		return
	}
	t.insertSlot(r, h)
	if db.s.OnNew != nil {
		db.s.OnNew(db.idx, key)
	}
}

// SetString stores a string value with the given encoding (EncRaw or
// EncEmbstr; use SetInt for integers). expireAt is Unix ms, 0 for none, or KeepTTL.
func (db DB) SetString(key, val []byte, enc Encoding, expireAt int64) {
	db.put(key, uint8(TypeString)<<4|uint8(enc), val, nil, expireAt)
}

// SetInt stores an int-encoded string.
func (db DB) SetInt(key []byte, n int64, expireAt int64) {
	var b [8]byte
	putInt(b[:], n)
	db.put(key, uint8(TypeString)<<4|uint8(EncInt), b[:], nil, expireAt)
}

// SetInline stores a collection in its compact encoding (EncListpack,
// EncIntset): val is copied into the record, off the Go heap. Handlers
// that change such a value build the new bytes in a scratch buffer (never
// in place: Bytes aliases the record) and store them again with KeepTTL.
func (db DB) SetInline(key []byte, typ Type, enc Encoding, val []byte, expireAt int64) {
	db.put(key, uint8(typ)<<4|uint8(enc), val, nil, expireAt)
}

// SetObject stores a collection value of type typ.
func (db DB) SetObject(key []byte, typ Type, obj any, expireAt int64) {
	db.put(key, uint8(typ)<<4, nil, obj, expireAt)
}

// AppendString appends suffix to a string value (creating it), keeping its
// TTL, and returns the new length. Large values grow in place on the heap so
// repeated appends are amortised O(1) as with Redis's sds.
func (db DB) AppendString(key, suffix []byte) int {
	// The caller's lookup was the access: this one does not count again.
	if t, i, r := db.lookup(key); i >= 0 {
		e := Entry{t, r}
		t.beforeChange(r)
		if big, ok := e.Object().(*bigString); ok {
			big.b = append(big.b, suffix...)
			hdr(e.r).meta = uint8(TypeString)<<4 | uint8(EncRaw)
			return len(big.b)
		}
		var buf []byte
		buf = e.AppendValue(buf)
		buf = append(buf, suffix...)
		db.SetString(key, buf, EncRaw, KeepTTL)
		return len(buf)
	}
	db.SetString(key, suffix, EncRaw, 0)
	return len(suffix)
}

// SetExpire sets key's expiry (Unix ms; 0 removes it). It reports whether the key exists.
func (db DB) SetExpire(key []byte, expireAt int64) bool {
	t, i, r := db.lookup(key)
	if i < 0 {
		return false
	}
	t.beforeChange(r)
	h := hdr(r)
	has := h.flags&flagTTL != 0
	switch {
	case has && expireAt != 0:
		ttlHdr(r).expireAt = expireAt
	case !has && expireAt == 0:
	default:
		// The header size changes: rebuild the record.
		var val []byte
		oi := -1
		if h.flags&flagObj != 0 {
			oi = int(h.vlen)
		} else {
			val = recordInline(r)
		}
		nr := t.newRecord(recordKey(r), h.meta, val, oi, expireAt, h.lru)
		t.freeRecord(r, true)
		t.replace(i, nr)
	}
	return true
}

// Rename moves src's value to dst (replacing dst), with src's expiry.
// The caller has checked src exists.
func (db DB) Rename(src, dst []byte) bool { return db.MoveTo(src, db, dst, true) }

// MoveTo moves key's value into database to under name dst. If replace is
// false and dst exists, nothing happens and false is returned.
func (db DB) MoveTo(key []byte, to DB, dst []byte, replace bool) bool {
	t, i, r, hash := db.lookupHash(key, false)
	if i < 0 {
		return false
	}
	if !replace && to.Exists(dst) {
		return false
	}
	if db.idx == to.idx && string(key) == string(dst) {
		return true
	}
	h := hdr(r)
	exp := int64(0)
	if h.flags&flagTTL != 0 {
		exp = ttlHdr(r).expireAt
	}
	var obj any
	var val []byte
	if h.flags&flagObj != 0 {
		obj = t.objs[h.vlen]
	} else {
		val = append([]byte(nil), recordInline(r)...)
	}
	meta, lru := h.meta, h.lru
	// dst is stored before key goes, so that a failed allocation (a long
	// dst and no memory left) loses nothing. Storing may resize a table
	// key shares, which moves its slot but not its record.
	to.put(dst, meta, val, obj, exp)
	i = t.find(key, hash)
	t.freeRecord(r, false)
	t.removeSlot(i)
	if e, ok := to.Lookup(dst); ok {
		hdr(e.r).lru = lru
	}
	return true
}

// Copier is implemented by collection values that COPY can duplicate.
type Copier interface{ Copy() any }

// CopyTo copies key's value to dst in database to (replacing it if replace).
// It reports false when key is missing or dst exists and !replace.
func (db DB) CopyTo(key []byte, to DB, dst []byte, replace bool) bool {
	e, ok := db.Lookup(key)
	if !ok {
		return false
	}
	if !replace && to.Exists(dst) {
		return false
	}
	exp := e.ExpireAt()
	h := hdr(e.r)
	meta := h.meta
	if o := e.Object(); o != nil {
		var cp any
		switch v := o.(type) {
		case *bigString:
			cp = &bigString{b: append([]byte(nil), v.b...)}
		case Copier:
			cp = v.Copy()
		default:
			return false
		}
		to.put(dst, meta, nil, cp, exp)
		return true
	}
	val := append([]byte(nil), recordInline(e.r)...)
	to.put(dst, meta, val, nil, exp)
	return true
}

// Len returns the number of keys (including expired ones not yet reclaimed).
// Caller holds every shard.
func (db DB) Len() int {
	n := 0
	for i := range db.s.shards {
		n += db.s.shards[i].dbs[db.idx].count
	}
	return n
}

// ExpiresLen returns the number of keys with an expiry. Caller holds every shard.
func (db DB) ExpiresLen() int {
	n := 0
	for i := range db.s.shards {
		n += len(db.s.shards[i].dbs[db.idx].exp)
	}
	return n
}

// Flush removes every key. Caller holds every shard. A table a running
// snapshot still needs goes to the snapshot, which frees it when done.
func (db DB) Flush() {
	for i := range db.s.shards {
		sh := &db.s.shards[i]
		t := sh.dbs[db.idx]
		if t.snap != nil && t.pending > 0 {
			t.detached = true
			sh.dbs[db.idx] = &table{epoch: t.epoch}
			continue
		}
		t.snap = nil
		t.release()
	}
}

// Scan visits keys in SCAN order from cursor and returns the next cursor (0
// when the iteration is complete). It stops after at least count keys or
// 10*count buckets. fn must not modify the database. Caller holds every shard.
func (db DB) Scan(cursor uint64, count int, fn func(e Entry)) uint64 {
	if count < 1 {
		count = 1
	}
	shard := int(cursor % NumShards)
	tc := cursor / NumShards
	emitted, visited := 0, 0
	for emitted < count && visited < count*10 {
		t := db.s.shards[shard].dbs[db.idx]
		if t.count == 0 {
			// An empty shard costs nothing to pass: a small keyspace is
			// covered in one call, as Redis's scan of a small table is.
			tc = 0
			if shard++; shard == NumShards {
				return 0
			}
			continue
		}
		tc = t.scan(tc, func(r slab.Ref) { emitted++; fn(Entry{t, r}) })
		visited++
		if tc == 0 {
			shard++
			if shard == NumShards {
				return 0
			}
		}
	}
	return tc*NumShards + uint64(shard)
}

// ForEach visits every key. fn must not modify the database. Caller holds every shard.
func (db DB) ForEach(fn func(e Entry)) {
	for i := range db.s.shards {
		t := db.s.shards[i].dbs[db.idx]
		for _, s := range t.slots {
			if s != 0 {
				fn(Entry{t, slotRef(s)})
			}
		}
	}
}

// ForEachInShard visits every key of one shard. fn must not modify the
// database. Caller holds the shard.
func (db DB) ForEachInShard(shard int, fn func(e Entry)) {
	t := db.s.shards[shard].dbs[db.idx]
	for _, s := range t.slots {
		if s != 0 {
			fn(Entry{t, slotRef(s)})
		}
	}
}

// RandomKey returns a random key that has not expired, or nil. Expired keys
// met on the way are reclaimed. Caller holds every shard.
func (db DB) RandomKey() []byte {
	for tries := 0; tries < 100; tries++ {
		total := db.Len()
		if total == 0 {
			return nil
		}
		n := rand.IntN(total)
		for i := range db.s.shards {
			t := db.s.shards[i].dbs[db.idx]
			if n >= t.count {
				n -= t.count
				continue
			}
			j := rand.Uint64() & t.mask
			for t.slots[j] == 0 {
				j = (j + 1) & t.mask
			}
			r := slotRef(t.slots[j])
			if hdr(r).flags&flagTTL != 0 && ttlHdr(r).expireAt <= db.Now() {
				db.expire(t, int(j), r)
				break
			}
			return append([]byte(nil), recordKey(r)...)
		}
	}
	return nil
}

func appendInt(dst []byte, n int64) []byte {
	var b [20]byte
	i := len(b)
	u := uint64(n)
	if n < 0 {
		u = uint64(-n)
	}
	for u >= 10 {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
	}
	i--
	b[i] = byte('0' + u)
	if n < 0 {
		dst = append(dst, '-')
	}
	return append(dst, b[i:]...)
}

func intLen(n int64) int {
	var b [21]byte
	return len(appendInt(b[:0], n))
}
