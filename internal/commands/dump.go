package commands

import (
	"errors"
	"math"
	"slices"
	"strconv"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/ds/dict"
	"github.com/corvid-db/corvid/internal/ds/intset"
	"github.com/corvid-db/corvid/internal/ds/listpack"
	"github.com/corvid-db/corvid/internal/ds/quicklist"
	"github.com/corvid-db/corvid/internal/ds/stream"
	"github.com/corvid-db/corvid/internal/ds/ztree"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/rdb"
	"github.com/corvid-db/corvid/internal/resp"
)

// DUMP and RESTORE, and the glue between keyspace values and RDB objects
// (internal/rdb) that SAVE and replication share: DumpValue writes a
// value in the layout Redis 7.2 would for the same encoding, or an older
// one that reloads identically (see the rdb package doc), and
// restoring builds the value in the encoding Redis's loader would pick
// under the current thresholds, so OBJECT ENCODING agrees with Redis after
// a RESTORE.

// Errors only DUMP and RESTORE reply with.
const (
	errBusyKey        = "BUSYKEY Target key name already exists."
	errRestoreTTL     = "ERR Invalid TTL value, must be >= 0"
	errRestorePayload = "ERR DUMP payload version or checksum are wrong"
	errRestoreFormat  = "ERR Bad data format"
	errRestoreIdle    = "ERR Invalid IDLETIME value, must be >= 0"
	errRestoreFreq    = "ERR Invalid FREQ value, must be >= 0 and <= 255"
)

// dumpCommands are DUMP, RESTORE and MIGRATE (migrate.go), which moves
// keys to another server as DUMP payloads that it RESTOREs.
func dumpCommands() []*command.Command {
	return []*command.Command{
		{Name: "dump", Arity: 2, Flags: command.ReadOnly, ACL: command.CatKeyspace | command.CatRead | command.CatSlow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "RO", "access")},
			Group: "generic", Since: "2.6.0", Summary: "Returns a serialized representation of the value of a key, which RESTORE accepts.",
			Tips: []string{"nondeterministic_output"}, Handler: dumpCommand},
		{Name: "restore", Arity: -4, Flags: command.Write | command.DenyOOM, ACL: command.CatKeyspace | command.CatWrite | command.CatSlow | command.CatDangerous,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "OW", "update")},
			Group: "generic", Since: "2.6.0", Summary: "Creates a key from the serialized value DUMP produced.",
			Handler: restoreCommand},
		// The key at argument 3, or with KEYS every argument after it:
		// migrateKeys finds them as Redis does (key specs, then its
		// getkeys function when the KEYS spec matches). OwnGoroutine: the
		// network round trips must not stall an event loop's other clients.
		{Name: "migrate", Arity: -6, Flags: command.Write | command.MovableKeys | command.OwnGoroutine,
			ACL:      command.CatKeyspace | command.CatWrite | command.CatSlow | command.CatDangerous,
			FirstKey: 3, LastKey: 3, Step: 1, Keys: migrateKeys, KeyFlags: migrateKeyFlags,
			KeySpecs: []command.KeySpec{keyRange(3, 0, "RW", "access", "delete"),
				{Flags: []string{"RW", "access", "delete", "incomplete"}, Keyword: "KEYS", KeywordStart: -2, LastKey: -1, Step: 1}},
			Group: "generic", Since: "2.6.0", Summary: "Moves keys to another server, which restores them from their DUMP serialization.",
			Tips: []string{"nondeterministic_output"}, Handler: migrateCommand},
	}
}

func dumpCommand(c *command.Ctx) {
	e, ok := c.DB.LookupRead(c.Args[1])
	if !ok {
		c.W.Null()
		return
	}
	p, ok := dumpPayload(c.Scratch, e, c.DB.Now(), dumpLimitsOf(c))
	if ok {
		c.W.Bulk(p)
	} else {
		c.W.Null() // a hash whose every field has expired: gone, if not yet reclaimed
	}
	if cap(p) <= 64<<10 {
		c.Scratch = p[:0]
	}
}

// dumpPayload serialises e as DUMP does, in buf's storage (the checksum
// covers the whole slice, so nothing may precede the value). ok is false
// when nothing is left to serialise (a hash whose every field expired);
// p then still returns the storage for reuse.
func dumpPayload(buf []byte, e keyspace.Entry, now int64, lim DumpLimits) (p []byte, ok bool) {
	w := rdb.NewBufferWriter(buf[:0])
	ver := DumpValue(w, e, now, lim)
	if ver == 0 {
		return w.Bytes(), false
	}
	return rdb.AppendFooter(w.Bytes(), ver), true
}

// DumpLimits are the settings that shape how values are serialised
// (list-max-listpack-size, stream-node-max-entries and -bytes) and that
// decide whether a listpack set reloads as one from the plain set layout
// (set-max-intset-entries, set-max-listpack-entries and -value).
type DumpLimits struct {
	ListFill                        int
	StreamNodeEntries, StreamBytes  int
	SetIntset, SetEntries, SetValue int
}

// DefaultDumpLimits are Redis's defaults.
var DefaultDumpLimits = DumpLimits{ListFill: -2, StreamNodeEntries: 100, StreamBytes: 4096,
	SetIntset: 512, SetEntries: 128, SetValue: 64}

// DumpLimitsOf reads the limits from cfg (the defaults when cfg is nil).
func DumpLimitsOf(cfg *config.Config) DumpLimits {
	l := DefaultDumpLimits
	if cfg == nil {
		return l
	}
	l.ListFill = int(cfg.Int("list-max-listpack-size"))
	l.StreamNodeEntries = int(cfg.Int("stream-node-max-entries"))
	l.StreamBytes = int(cfg.Int("stream-node-max-bytes"))
	h := collHandlesOf(cfg)
	l.SetIntset = int(min(h.setIntset.Load(), 1<<30))
	l.SetEntries = int(min(h.setEntries.Load(), math.MaxInt32))
	l.SetValue = int(min(h.setValue.Load(), math.MaxInt32))
	return l
}

func dumpLimitsOf(c *command.Ctx) DumpLimits { return DumpLimitsOf(configOf(c)) }

// DumpValue writes e's value as an RDB object (type byte and body) and
// returns the RDB version the payload needs: rdb.TypeVersion of the type
// written, which is chosen as the rdb package doc describes (the oldest
// layout that reloads identically). Hash fields whose expiry is at or
// before now are left out; when that leaves nothing, DumpValue writes
// nothing and returns 0.
func DumpValue(w *rdb.Writer, e keyspace.Entry, now int64, lim DumpLimits) int {
	switch e.Type() {
	case keyspace.TypeString:
		w.WriteByte(rdb.TypeString)
		if n, ok := e.Int(); ok {
			w.WriteInt(n) // as WriteString of its decimal form, without the buffer
		} else {
			w.WriteString(e.Bytes())
		}
		return rdb.TypeVersion(rdb.TypeString)
	case keyspace.TypeList:
		w.WriteByte(rdb.TypeListQuicklist2)
		v := listOf(e)
		w.WriteQuicklist2(func(yield func([]byte) bool) {
			it := v.iter(0, false)
			for {
				el, ok := it.Next()
				if !ok || !yield(el) {
					return
				}
			}
		}, lim.ListFill)
		return rdb.TypeVersion(rdb.TypeListQuicklist2)
	case keyspace.TypeSet:
		s := svLoad(e)
		typ := setDumpType(&s, lim)
		dumpSet(w, s, typ)
		return rdb.TypeVersion(typ)
	case keyspace.TypeZSet:
		return rdb.TypeVersion(dumpZSet(w, e))
	case keyspace.TypeHash:
		h := hvLoad(e)
		typ, ok := hashDumpType(&h, now)
		if !ok {
			return 0
		}
		dumpHash(w, h, now, typ)
		return rdb.TypeVersion(typ)
	case keyspace.TypeStream:
		return rdb.TypeVersion(dumpStream(w, e.Object().(*stream.Stream), lim))
	}
	return rdb.MinVersion
}

// DumpVersion returns what DumpValue would return for e, without
// encoding anything: the version a snapshot needs for it, for a snapshot
// whose header cannot be corrected afterwards.
func DumpVersion(e keyspace.Entry, now int64, lim DumpLimits) int {
	switch e.Type() {
	case keyspace.TypeSet:
		s := svLoad(e)
		return rdb.TypeVersion(setDumpType(&s, lim))
	case keyspace.TypeHash:
		h := hvLoad(e)
		typ, ok := hashDumpType(&h, now)
		if !ok {
			return 0
		}
		return rdb.TypeVersion(typ)
	case keyspace.TypeStream:
		if streamHasActiveTime(e.Object().(*stream.Stream)) {
			return rdb.TypeVersion(rdb.TypeStreamListpacks3)
		}
	}
	return rdb.MinVersion
}

// setDumpType picks a set's layout. A listpack set is written as a plain
// set (RDB_TYPE_SET, which Redis 7.0 reads) when a loader following
// Redis's rules rebuilds a listpack from it under lim: it starts from an
// intset and switches to a listpack at the first member that is not an
// integer, provided the size and every member length allow. Otherwise it
// keeps SET_LISTPACK, which needs Redis 7.2.
func setDumpType(s *setVal, lim DumpLimits) byte {
	switch s.enc {
	case svIntset:
		return rdb.TypeSetIntset
	case svHT:
		return rdb.TypeSet
	}
	n := s.len()
	if n > lim.SetIntset || n > lim.SetEntries {
		return rdb.TypeSetListpack
	}
	other, fits := false, true
	s.each(func(m []byte) bool {
		if len(m) > lim.SetValue {
			fits = false
			return false
		}
		if !other {
			_, isInt := resp.ParseInt(m)
			other = !isInt
		}
		return true
	})
	if fits && other {
		return rdb.TypeSet
	}
	return rdb.TypeSetListpack
}

// hashDumpType picks a hash's layout: with a live field TTL, Redis 7.4's
// HASH_LISTPACK_EX or HASH_METADATA; otherwise the plain HASH_LISTPACK or
// HASH, whatever TTLs the hash had. ok is false when every field has
// expired.
func hashDumpType(h *hashVal, now int64) (typ byte, ok bool) {
	switch {
	case h.ht == nil && !h.ex:
		return rdb.TypeHashListpack, true
	case h.ht != nil && h.hx == nil:
		return rdb.TypeHash, true
	}
	live, ttl := 0, false
	if h.ht == nil {
		for p := listpack.First(h.lp); p >= 0; {
			t := listpack.Next(h.lp, listpack.Next(h.lp, p))
			if when := lpxTTL(listpack.Get(h.lp, t)); when == 0 || when > now {
				live++
				ttl = ttl || when != 0
			}
			p = listpack.Next(h.lp, t)
		}
		typ = rdb.TypeHashListpack
		if ttl {
			typ = rdb.TypeHashListpackEx
		}
		return typ, live > 0
	}
	live = h.ht.Len()
	h.hx.ttl.Each(func(_ string, when int64) bool {
		if when > now {
			ttl = true
		} else {
			live--
		}
		return true
	})
	typ = rdb.TypeHash
	if ttl {
		typ = rdb.TypeHashMetadata
	}
	return typ, live > 0
}

// dumpSet writes s as typ (setDumpType's choice).
func dumpSet(w *rdb.Writer, s setVal, typ byte) {
	w.WriteByte(typ)
	switch typ {
	case rdb.TypeSetIntset:
		w.WriteIntset(intset.Append(make([]int64, 0, intset.Len(s.b)), s.b))
	case rdb.TypeSetListpack:
		w.WriteListpack(func(yield func([]byte) bool) {
			s.each(func(m []byte) bool { return yield(m) })
		})
	default:
		w.WriteLen(uint64(s.len()))
		s.each(func(m []byte) bool { w.WriteString(m); return true })
	}
}

// appendScore formats a listpack score as Redis's d2string does: integral
// values as integers (which the listpack then stores as such), inf as
// "inf", anything else in the shortest form that reads back exactly.
func appendScore(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case f == math.Trunc(f) && math.Abs(f) < 1<<53 && !(f == 0 && math.Signbit(f)):
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}

// dumpZSet writes a sorted set and returns the type written.
func dumpZSet(w *rdb.Writer, e keyspace.Entry) byte {
	z := &zval{}
	z.load(e)
	n := z.Len()
	if z.tree == nil {
		w.WriteByte(rdb.TypeZSetListpack)
		var sb [32]byte
		w.WriteListpack(func(yield func([]byte) bool) {
			for _, ze := range z.ents {
				if !yield(ze.m) || !yield(appendScore(sb[:0], ze.s)) {
					return
				}
			}
		})
		return rdb.TypeZSetListpack
	}
	// Redis writes skiplists from the tail so that loading inserts at the head.
	w.WriteByte(rdb.TypeZSet2)
	w.WriteLen(uint64(n))
	z.walk(n-1, n, true, func(m []byte, s float64) {
		w.WriteString(m)
		w.WriteBinaryDouble(s)
	})
	return rdb.TypeZSet2
}

// dumpHash writes h as typ (hashDumpType's choice), leaving out the
// fields whose expiry is at or before now.
func dumpHash(w *rdb.Writer, h hashVal, now int64, typ byte) {
	w.WriteByte(typ)
	if typ == rdb.TypeHashListpack && !h.ex || typ == rdb.TypeHash && h.hx == nil {
		// No TTL, nor ever had one: every field as it is.
		if typ == rdb.TypeHashListpack {
			w.WriteListpack(func(yield func([]byte) bool) {
				h.each(func(f, v []byte) bool { return yield(f) && yield(v) })
			})
			return
		}
		w.WriteLen(uint64(h.len()))
		h.each(func(f, v []byte) bool { w.WriteString(f); w.WriteString(v); return true })
		return
	}
	type fv struct {
		f, v []byte
		when int64
	}
	var fields []fv
	var minTTL int64
	keep := func(f, v []byte, when int64) {
		if when == 0 || when > now {
			fields = append(fields, fv{f, v, when})
			if when != 0 && (minTTL == 0 || when < minTTL) {
				minTTL = when
			}
		}
	}
	if h.ht == nil {
		for p := listpack.First(h.lp); p >= 0; {
			v := listpack.Next(h.lp, p)
			t := listpack.Next(h.lp, v)
			keep(listpack.Get(h.lp, p), listpack.Get(h.lp, v), lpxTTL(listpack.Get(h.lp, t)))
			p = listpack.Next(h.lp, t)
		}
	} else {
		h.each(func(f, v []byte) bool {
			when, _ := h.ttlOf(f)
			keep(f, v, when)
			return true
		})
	}
	switch typ {
	case rdb.TypeHashListpack:
		// A listpackex with no TTL left: the plain layout Redis 7.0 reads.
		w.WriteListpack(func(yield func([]byte) bool) {
			for _, x := range fields {
				if !yield(x.f) || !yield(x.v) {
					return
				}
			}
		})
	case rdb.TypeHash:
		w.WriteLen(uint64(len(fields)))
		for _, x := range fields {
			w.WriteString(x.f)
			w.WriteString(x.v)
		}
	case rdb.TypeHashListpackEx:
		w.WriteMillis(minTTL)
		var tb [24]byte
		w.WriteListpack(func(yield func([]byte) bool) {
			for _, x := range fields {
				if !yield(x.f) || !yield(x.v) || !yield(strconv.AppendInt(tb[:0], x.when, 10)) {
					return
				}
			}
		})
	case rdb.TypeHashMetadata:
		// Redis 7.4's layout: the earliest expiry, then each field's
		// expiry relative to it (plus one; 0 = none).
		w.WriteMillis(minTTL)
		w.WriteLen(uint64(len(fields)))
		for _, x := range fields {
			rel := uint64(0)
			if x.when != 0 {
				rel = uint64(x.when-minTTL) + 1
			}
			w.WriteLen(rel)
			w.WriteString(x.f)
			w.WriteString(x.v)
		}
	}
}

func rdbID(id stream.ID) rdb.StreamID { return rdb.StreamID{Ms: id.Ms, Seq: id.Seq} }

// streamHasActiveTime reports whether a consumer's active time differs
// from its seen time, which only STREAM_LISTPACKS_3 can carry (the
// predicate of rdb.Stream.RDBType, without building the rdb.Stream).
func streamHasActiveTime(s *stream.Stream) bool {
	for _, g := range s.Groups() {
		for _, cons := range g.Consumers() {
			if cons.ActiveTime != cons.SeenTime {
				return true
			}
		}
	}
	return false
}

// dumpStream writes a stream (type byte included) and returns its type.
func dumpStream(w *rdb.Writer, s *stream.Stream, lim DumpLimits) byte {
	meta := &rdb.Stream{
		Length:       s.Len(),
		LastID:       rdbID(s.LastID()),
		FirstID:      rdbID(s.FirstID()),
		MaxDeletedID: rdbID(s.MaxDeletedID()),
		EntriesAdded: s.EntriesAdded(),
	}
	for _, g := range s.Groups() {
		rg := rdb.StreamGroup{Name: []byte(g.Name), LastID: rdbID(g.LastID), EntriesRead: g.EntriesRead}
		g.PEL.Ascend(stream.ID{}, func(id stream.ID, n *stream.NACK) bool {
			rg.PEL = append(rg.PEL, rdb.StreamNACK{ID: rdbID(id), DeliveryTime: n.DeliveryTime, DeliveryCount: n.DeliveryCount})
			return true
		})
		for _, cons := range g.Consumers() {
			rc := rdb.StreamConsumer{Name: []byte(cons.Name), SeenTime: cons.SeenTime, ActiveTime: cons.ActiveTime}
			cons.PEL.Ascend(stream.ID{}, func(id stream.ID, _ *stream.NACK) bool {
				rc.PEL = append(rc.PEL, rdbID(id))
				return true
			})
			rg.Consumers = append(rg.Consumers, rc)
		}
		meta.Groups = append(meta.Groups, rg)
	}
	typ := meta.RDBType()
	w.WriteByte(typ)
	w.WriteStream(meta, func(yield func(rdb.StreamID, [][]byte) bool) {
		s.Range(stream.ID{}, stream.MaxID, false, func(id stream.ID, fv [][]byte) bool {
			return yield(rdbID(id), fv)
		})
	}, lim.StreamNodeEntries, lim.StreamBytes)
	return typ
}

var argABSTTL = []byte("ABSTTL")

// restoreNothing answers a RESTORE that stores no key (its TTL already
// past, or nothing left in the value): a key REPLACE deleted counts as a
// deletion.
func restoreNothing(c *command.Ctx, key []byte, deleted bool) {
	if deleted {
		c.Dirty++
		c.Notify(command.NotifyGeneric, "del", key)
		if c.Propagating {
			c.PropagateAs(deletionName(c, "lazyfree-lazy-server-del"), key)
		}
	}
	c.OK()
}

// lruSetter is implemented by keyspace entries that can have their access
// field set (RESTORE's IDLETIME and FREQ).
type lruSetter interface{ SetLRU(v uint32) }

func restoreCommand(c *command.Ctx) {
	key := c.Args[1]
	replace, absTTL := false, false
	idle, freq := int64(-1), int64(-1)
	for j := 4; j < len(c.Args); j++ {
		a := c.Args[j]
		more := len(c.Args) - j - 1
		switch {
		case equalFold(a, "replace"):
			replace = true
		case equalFold(a, "absttl"):
			absTTL = true
		case equalFold(a, "idletime") && more >= 1 && freq == -1:
			v, ok := resp.ParseInt(c.Args[j+1])
			if !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			if v < 0 {
				c.Error(errRestoreIdle)
				return
			}
			idle = v
			j++
		case equalFold(a, "freq") && more >= 1 && idle == -1:
			v, ok := resp.ParseInt(c.Args[j+1])
			if !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			if v < 0 || v > 255 {
				c.Error(errRestoreFreq)
				return
			}
			freq = v
			j++
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	if !replace && c.DB.Exists(key) {
		c.Error(errBusyKey)
		return
	}
	ttl, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	if ttl < 0 {
		c.Error(errRestoreTTL)
		return
	}
	body, _, ok := rdb.VerifyFooter(c.Args[3])
	if !ok {
		c.Error(errRestorePayload)
		return
	}
	r := rdb.NewReader(body)
	typ, err := r.ReadByte()
	if err != nil || !rdb.IsObjectType(typ) {
		c.Error(errRestoreFormat)
		return
	}
	obj, err := rdb.ReadObject(r, typ)
	if err != nil {
		c.Error(errRestoreFormat)
		return
	}
	now := c.DB.Now()
	deleted := replace && c.DB.Delete(key)
	if ttl != 0 && !absTTL {
		if ttl > math.MaxInt64-now {
			ttl = math.MaxInt64
		} else {
			ttl += now
		}
	}
	if ttl != 0 && ttl <= now {
		restoreNothing(c, key, deleted)
		return
	}
	if !RestoreValue(c, key, obj, ttl) {
		// Nothing left to store (every hash field had expired).
		restoreNothing(c, key, deleted)
		return
	}
	if c.Propagating && ttl != 0 && !absTTL {
		// Replicas get the absolute time, as in Redis: TTL rewritten, ABSTTL added.
		args := append([][]byte(nil), c.Args...)
		args[2] = strconv.AppendInt(nil, ttl, 10)
		c.PropagateAs(append(args, argABSTTL)...)
	}
	if idle >= 0 || freq >= 0 {
		restoreLRU(c, key, idle, freq)
	}
	c.Notify(command.NotifyGeneric, "restore", key)
	c.Dirty++
	c.OK()
}

// restoreLRU applies IDLETIME or FREQ as Redis's objectSetLRUOrLFU: FREQ
// under an LFU policy, IDLETIME under any other.
func restoreLRU(c *command.Ctx, key []byte, idle, freq int64) {
	e, ok := c.DB.Lookup(key)
	if !ok {
		return
	}
	s, ok := any(e).(lruSetter)
	if !ok {
		return
	}
	p, _ := policy(c)
	switch {
	case isLFU(p) && freq >= 0:
		s.SetLRU(c.DB.Store().LFUField(freq))
	case !isLFU(p) && idle >= 0:
		s.SetLRU(c.DB.Store().LRUClock() - uint32(min(idle, math.MaxUint32)))
	}
}

// errRestoreEmpty reports a value with nothing left to store.
var errRestoreEmpty = errors.New("empty value")

// RestoreValue stores obj under key (replacing whatever is there) with
// the expiry expireAt (Unix ms, 0 for none), in the encoding Redis's RDB
// loader would give it under the current thresholds. It reports false,
// storing nothing, when nothing is left of the value (a hash whose
// fields had all expired).
func RestoreValue(c *command.Ctx, key []byte, obj *rdb.Object, expireAt int64) bool {
	switch obj.Kind {
	case rdb.KindString:
		strStore(c.DB, key, obj.Str, expireAt)
	case rdb.KindList:
		restoreList(c, key, obj, expireAt)
	case rdb.KindSet:
		restoreSet(c, key, obj, expireAt)
	case rdb.KindZSet:
		restoreZSet(c, key, obj, expireAt)
	case rdb.KindHash:
		return restoreHash(c, key, obj, expireAt) == nil
	case rdb.KindStream:
		restoreStream(c, key, obj.Stream, expireAt)
	}
	return true
}

func restoreList(c *command.Ctx, key []byte, o *rdb.Object, expireAt int64) {
	fill := listFill(c)
	if o.ListNodes <= 1 {
		// A lower bound of the listpack's size (an integer-like element
		// may take 2 bytes) rules out building one that cannot fit; the
		// listpack built is then checked, as Redis checks the node loaded.
		size := len(emptyListpack)
		for _, e := range o.List {
			if len(e) > 20 {
				size += len(e) + 2
			} else {
				size += 2
			}
		}
		if !quicklist.ExceedsLimit(fill, size, len(o.List)) {
			lp := append(c.Scratch[:0], emptyListpack...)
			lp = listpack.Append(lp, o.List...)
			if quicklist.ExceedsLimit(fill, len(lp), len(o.List)) {
				ql := quicklist.FromListpack(append([]byte(nil), lp...), fill)
				c.DB.SetObject(key, keyspace.TypeList, ql, expireAt)
				return
			}
			c.DB.SetInline(key, keyspace.TypeList, keyspace.EncListpack, lp, expireAt)
			if cap(lp) <= 64<<10 {
				c.Scratch = lp[:0]
			}
			return
		}
	}
	ql := quicklist.New(fill)
	for _, e := range o.List {
		ql.PushBack(e)
	}
	c.DB.SetObject(key, keyspace.TypeList, ql, expireAt)
}

func restoreSet(c *command.Ctx, key []byte, o *rdb.Object, expireAt int64) {
	lim := svLimitsOf(c)
	var s setVal
	switch {
	case o.Ints != nil:
		if len(o.Ints) > lim.intset {
			s = setVal{enc: svHT, ht: dict.NewSet(len(o.Ints)), fresh: true}
			var tmp [20]byte
			for _, v := range o.Ints {
				s.ht.Add(strconv.AppendInt(tmp[:0], v, 10))
			}
		} else {
			is := intset.New()
			for _, v := range o.Ints {
				is, _ = intset.Add(is, v)
			}
			s = setVal{enc: svIntset, b: is}
		}
	case o.Type == rdb.TypeSetListpack:
		if len(o.Set) > lim.lpEntries {
			s = setVal{enc: svHT, ht: dict.NewSet(len(o.Set)), fresh: true}
			for _, m := range o.Set {
				s.ht.Add(m)
			}
		} else {
			lp := listpack.New()
			lp = listpack.Append(lp, o.Set...)
			s = setVal{enc: svListpack, b: lp}
		}
	default:
		// RDB_TYPE_SET: Redis adds member by member, starting from an
		// intset when the count allows and converting as members demand.
		if len(o.Set) > lim.intset {
			s = setVal{enc: svHT, ht: dict.NewSet(len(o.Set)), fresh: true}
		} else {
			s = setVal{enc: svIntset, b: intset.New()}
		}
		maxLen := 0
		for _, m := range o.Set {
			maxLen = max(maxLen, len(m))
			if s.enc == svIntset {
				if v, ok := resp.ParseInt(m); ok {
					s.b, _ = intset.Add(s.b, v)
					continue
				}
				if s.len() < lim.lpEntries && maxLen <= lim.lpValue {
					s.toListpack()
				} else {
					s.toHT(len(o.Set))
				}
			}
			if s.enc == svListpack {
				if s.len() < lim.lpEntries && len(m) <= lim.lpValue {
					s.b = listpack.Append(s.b, m)
					continue
				}
				s.toHT(len(o.Set))
			}
			s.ht.Add(m)
		}
	}
	svStore(c, key, &s, expireAt)
}

func restoreZSet(c *command.Ctx, key []byte, o *rdb.Object, expireAt int64) {
	maxEntries, maxValue := zlimits(c)
	small := len(o.ZSet) <= maxEntries
	if o.Type == rdb.TypeZSet || o.Type == rdb.TypeZSet2 {
		for _, e := range o.ZSet {
			if len(e.Member) > maxValue {
				small = false
				break
			}
		}
	}
	if !small {
		t := ztree.New(len(o.ZSet))
		for _, e := range o.ZSet {
			t.Add(e.Member, e.Score)
		}
		c.DB.SetObject(key, keyspace.TypeZSet, t, expireAt)
		return
	}
	ents := make([]zent, len(o.ZSet))
	for i, e := range o.ZSet {
		ents[i] = zent{e.Member, e.Score}
	}
	slices.SortFunc(ents, func(a, b zent) int {
		switch {
		case zless(a.s, a.m, b.s, b.m):
			return -1
		case zless(b.s, b.m, a.s, a.m):
			return 1
		}
		return 0
	})
	lp := zencode(c.Scratch, ents)
	c.DB.SetInline(key, keyspace.TypeZSet, keyspace.EncListpack, lp, expireAt)
	if cap(lp) <= 64<<10 {
		c.Scratch = lp[:0]
	}
}

func restoreHash(c *command.Ctx, key []byte, o *rdb.Object, expireAt int64) error {
	lim := hvLimitsOf(c)
	now := c.DB.Now()
	fields := o.Hash
	if o.HashTTL {
		// Fields already expired are not restored.
		fields = slices.DeleteFunc(slices.Clone(fields), func(f rdb.HashField) bool {
			return f.ExpireAt != 0 && f.ExpireAt <= now
		})
		if len(fields) == 0 {
			return errRestoreEmpty
		}
	}
	big := len(fields) > lim.entries
	switch o.Type {
	case rdb.TypeHash, rdb.TypeHashZipmap, rdb.TypeHashMetadata, rdb.TypeHashMetadataPreGA:
		// Loaded field by field (or, for zipmaps, checked as a whole):
		// a long field or value makes a hashtable too.
		for _, f := range fields {
			if len(f.Field) > lim.value || len(f.Value) > lim.value {
				big = true
				break
			}
		}
	}
	var h hashVal
	if big {
		h = hashVal{ht: dict.NewMap(len(fields)), fresh: true}
		for _, f := range fields {
			h.ht.Set(f.Field, f.Value)
		}
	} else {
		lp := listpack.New()
		for _, f := range fields {
			lp = listpack.Append(lp, f.Field, f.Value)
		}
		h = hashVal{lp: lp}
	}
	if o.HashTTL {
		h.toEx()
		for _, f := range fields {
			if f.ExpireAt != 0 {
				h.setTTL(f.Field, f.ExpireAt)
			}
		}
	}
	hvStoreDB(c.DB, key, &h, expireAt)
	return nil
}

func restoreStream(c *command.Ctx, key []byte, rs *rdb.Stream, expireAt int64) {
	maxEntries, maxBytes := DefaultDumpLimits.StreamNodeEntries, DefaultDumpLimits.StreamBytes
	if configOf(c) != nil {
		maxEntries, maxBytes = streamConfig(c)
	}
	s := stream.New()
	for _, e := range rs.Entries {
		s.Append(stream.ID{Ms: e.ID.Ms, Seq: e.ID.Seq}, e.Fields, maxEntries, maxBytes)
	}
	s.SetLastID(stream.ID{Ms: rs.LastID.Ms, Seq: rs.LastID.Seq})
	s.SetEntriesAdded(rs.EntriesAdded)
	s.SetMaxDeletedID(stream.ID{Ms: rs.MaxDeletedID.Ms, Seq: rs.MaxDeletedID.Seq})
	for _, g := range rs.Groups {
		last := stream.ID{Ms: g.LastID.Ms, Seq: g.LastID.Seq}
		read := g.EntriesRead
		if rs.Legacy {
			read = s.EstimateDistance(last) // as Redis's loader does
		}
		sg := s.CreateGroup(g.Name, last, read)
		if sg == nil {
			continue // duplicates were refused by the decoder
		}
		for _, n := range g.PEL {
			sg.PEL.Insert(stream.ID{Ms: n.ID.Ms, Seq: n.ID.Seq}, &stream.NACK{DeliveryTime: n.DeliveryTime, DeliveryCount: n.DeliveryCount})
		}
		for _, rc := range g.Consumers {
			cons := sg.CreateConsumer(rc.Name, rc.SeenTime)
			if cons == nil {
				continue
			}
			cons.SeenTime, cons.ActiveTime = rc.SeenTime, rc.ActiveTime
			for _, id := range rc.PEL {
				sid := stream.ID{Ms: id.Ms, Seq: id.Seq}
				if nack := sg.PEL.Get(sid); nack != nil {
					nack.Consumer = cons
					cons.PEL.Insert(sid, nack)
				}
			}
		}
	}
	c.DB.SetObject(key, keyspace.TypeStream, s, expireAt)
}

// migrateKeyFlags gives every key MIGRATE moves Redis's flags for it (the
// KEYS spec's "incomplete" describes the spec, not a key found).
func migrateKeyFlags(_ [][]byte, _ int) []string { return flagsRWAccessDelete }

// Shared key flags for KeyFlags functions (read only by their callers).
var (
	flagsRWAccessUpdate = []string{"RW", "access", "update"}
	flagsOWUpdate       = []string{"OW", "update"}
	flagsROAccess       = []string{"RO", "access"}
	flagsRWAccessDelete = []string{"RW", "access", "delete"}
)
