package keyspace

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"sync/atomic"
	"unsafe"

	"github.com/corvid-db/corvid/internal/ds/slab"
)

// A table holds the keys of one database that hash to one shard.
//
// Records (header, key and, for strings up to slab.MaxSize, the value) live
// in the table's own slab arena; the index is an open-addressing array of
// uint64 slots with linear probing and backward-shift deletion (no
// tombstones). A slot packs the record's Ref (low 40 bits) with the low 24
// bits of the key's hash, which both filters probes without touching the
// record and gives the home bucket without rehashing the key while the table
// has at most 2^24 slots. Slots hold no Go pointers, so neither the index nor
// the records are ever scanned by the garbage collector; only values that are
// Go objects (collections, big strings) sit in objs, one interface each.
//
// SCAN walks home buckets in reverse-binary order, as Redis's dictScan does,
// which guarantees that a key present for the whole iteration is returned at
// least once even if the table grows or shrinks between calls: all keys of
// home bucket b of a 2^k table are in buckets b and b+2^k of the 2^(k+1)
// table, and a linear-probing cluster scanned from b until the first empty
// slot holds every key whose home is b.
//
// A record is never split, however long its key (Redis admits 512 MB): a
// key that does not fit a slab size class makes the record a large slab
// object (slab/large.go). The alternative, keeping such keys out of line
// on the Go heap behind a flag and a registry, was rejected: their bytes
// would reach used_memory only through the heap's figures, and leave it
// only at the next garbage collection, not at the DEL; the registry would
// need its own cleanup on every path that frees records (freeRecord,
// FLUSHDB's arena release, a snapshot's detached copies), and every path
// that reads a key would branch on the flag. As one object the record
// needs nothing new anywhere: rename, expiry, snapshots and flushes treat
// it as any other, and the arena counts and frees it. What a long key
// costs instead is a copy when its record is remade (a TTL added or
// removed, a value changing size class), as a short key's does.
//
// Growing rehashes the whole table at once; because the keyspace is split in
// many shards a table stays small (a million keys make ~4k-entry tables), so
// a resize costs tens of microseconds, not a latency spike.
type table struct {
	slots []uint64
	mask  uint64
	count int
	arena slab.Arena
	objs  []any    // Go-heap values referenced from records with flagObj
	free  []uint32 // free indexes in objs
	exp   []slab.Ref

	// The snapshot state (snapshot.go): the epoch new records are stamped
	// with, and while a snapshot walks the table, the snapshot, the
	// database the table was at its instant, and how many of its records
	// it has not saved yet. detached marks a table a FLUSHDB took out of
	// the keyspace while a snapshot still needed it: it belongs to the
	// snapshot, which releases it when done.
	epoch    uint16
	snap     *Snapshot
	snapDB   int
	pending  int
	detached bool
}

const (
	refMask = 1<<slab.RefBits - 1
	tagBits = 64 - slab.RefBits
	tagMask = 1<<tagBits - 1
	minSize = 8

	flagTTL = 1 // the record carries expireAt and its position in table.exp
	flagObj = 2 // the value is objs[vlen], not inline bytes
)

// header is the fixed prefix of every record. Records are 16-byte aligned.
type header struct {
	meta  uint8 // Type<<4 | Encoding
	flags uint8
	epoch uint16 // the last snapshot that has the record (snapshot.go)
	lru   uint32 // LRU clock (seconds) or LFU minutes<<8|counter
	klen  uint32
	vlen  uint32 // value length, or the objs index when flagObj is set
}

// ttlHeader is the prefix of records that carry an expiry.
type ttlHeader struct {
	header
	expireAt int64
	expPos   uint32
	_        uint32
}

const (
	hdrSize    = int(unsafe.Sizeof(header{}))
	ttlHdrSize = int(unsafe.Sizeof(ttlHeader{}))
)

func hdr(r slab.Ref) *header       { return (*header)(slab.Pointer(r)) }
func ttlHdr(r slab.Ref) *ttlHeader { return (*ttlHeader)(slab.Pointer(r)) }

func headerLen(flags uint8) int {
	if flags&flagTTL != 0 {
		return ttlHdrSize
	}
	return hdrSize
}

// recordSize is the allocation size of the record at r.
func recordSize(r slab.Ref) int {
	h := hdr(r)
	n := headerLen(h.flags) + int(h.klen)
	if h.flags&flagObj == 0 {
		n += int(h.vlen)
	}
	return n
}

// recBytes returns the n bytes at off in the record at r. The offset goes
// on the address, not on r: a record of more than 4 MiB (a key that long)
// runs past the chunk r's number covers, so r+off could name another.
func recBytes(r slab.Ref, off, n int) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(slab.Pointer(r), off)), n)
}

func recordKey(r slab.Ref) []byte {
	h := hdr(r)
	return recBytes(r, headerLen(h.flags), int(h.klen))
}

func recordInline(r slab.Ref) []byte {
	h := hdr(r)
	return recBytes(r, headerLen(h.flags)+int(h.klen), int(h.vlen))
}

func slotRef(s uint64) slab.Ref { return slab.Ref(s & refMask) }

func (t *table) home(s uint64) uint64 {
	if t.mask <= tagMask {
		return (s >> slab.RefBits) & t.mask
	}
	return hashKey(recordKey(slotRef(s))) & t.mask
}

func keyEqual(r slab.Ref, key []byte) bool {
	h := hdr(r)
	if int(h.klen) != len(key) {
		return false
	}
	return string(recordKey(r)) == string(key)
}

// find returns the slot index holding key, or -1.
func (t *table) find(key []byte, h uint64) int {
	if t.count == 0 {
		return -1
	}
	tag := (h & tagMask) << slab.RefBits
	i := h & t.mask
	for {
		s := t.slots[i]
		if s == 0 {
			return -1
		}
		if s&^refMask == tag && keyEqual(slotRef(s), key) {
			return int(i)
		}
		i = (i + 1) & t.mask
	}
}

// insertSlot places a new record's slot; the key must not be present.
func (t *table) insertSlot(r slab.Ref, h uint64) int {
	if (t.count+1)*4 > len(t.slots)*3 {
		t.resize(max(minSize, len(t.slots)*2))
	}
	i := h & t.mask
	for t.slots[i] != 0 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = uint64(r) | (h&tagMask)<<slab.RefBits
	t.count++
	return int(i)
}

func (t *table) resize(n int) {
	old := t.slots
	t.slots = make([]uint64, n)
	t.mask = uint64(n - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		r := slotRef(s)
		h := hashKey(recordKey(r))
		i := h & t.mask
		for t.slots[i] != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = uint64(r) | (h&tagMask)<<slab.RefBits
	}
}

// removeSlot deletes slot i with backward-shift deletion, keeping every
// probe run contiguous from its home bucket.
func (t *table) removeSlot(i int) {
	mask := t.mask
	hole := uint64(i)
	j := hole
	for {
		j = (j + 1) & mask
		s := t.slots[j]
		if s == 0 {
			break
		}
		k := t.home(s)
		// Move s into the hole if its home is not cyclically in (hole, j].
		if (j > hole && (k <= hole || k > j)) || (j < hole && (k <= hole && k > j)) {
			t.slots[hole] = s
			hole = j
		}
	}
	t.slots[hole] = 0
	t.count--
	if len(t.slots) > minSize && t.count*10 < len(t.slots) {
		t.resize(max(minSize, 1<<bits.Len(uint(t.count*2))))
	}
}

// newRecord allocates and fills a record. val is the inline value (ignored
// when obj >= 0, in which case the value is objs[obj]). The allocation
// comes first: if it fails (it panics), the table is as it was.
func (t *table) newRecord(key []byte, meta uint8, val []byte, obj int, expireAt int64, lru uint32) slab.Ref {
	if uint64(len(key)) > math.MaxUint32 {
		panic(errKeyTooLong) // klen would wrap and the record would lie
	}
	var flags uint8
	if expireAt != 0 {
		flags |= flagTTL
	}
	vlen := uint32(len(val))
	if obj >= 0 {
		flags |= flagObj
		vlen = uint32(obj)
		val = nil
	}
	hl := headerLen(flags)
	r := t.arena.Alloc(hl + len(key) + len(val))
	h := hdr(r)
	*h = header{meta: meta, flags: flags, epoch: t.epoch, lru: lru, klen: uint32(len(key)), vlen: vlen}
	if flags&flagTTL != 0 {
		th := ttlHdr(r)
		th.expireAt = expireAt
		th.expPos = uint32(len(t.exp))
		t.exp = append(t.exp, r)
	}
	copy(recBytes(r, hl, len(key)), key)
	if len(val) > 0 {
		copy(recBytes(r, hl+len(key), len(val)), val)
	}
	return r
}

// errKeyTooLong is what storing a key of 4 GiB or more panics with: the
// record's header has 32 bits for its length. Redis's own limit
// (proto-max-bulk-len, 512 MB by default) keeps clients well under it.
var errKeyTooLong = errors.New("key too long: 4 GiB or more")

// freeRecord releases a record and, unless keepObj, its Go object. The
// callers that change a record hand it to a running snapshot first
// (beforeChange); the call here is the net under them, so that no record
// ever leaves a table unsaved.
func (t *table) freeRecord(r slab.Ref, keepObj bool) {
	t.beforeChange(r)
	h := hdr(r)
	if h.flags&flagTTL != 0 {
		t.expRemove(r)
	}
	if h.flags&flagObj != 0 && !keepObj {
		t.releaseObj(int(h.vlen))
	}
	t.arena.Free(r, recordSize(r))
}

func (t *table) expRemove(r slab.Ref) {
	pos := ttlHdr(r).expPos
	last := len(t.exp) - 1
	if int(pos) != last {
		moved := t.exp[last]
		t.exp[pos] = moved
		ttlHdr(moved).expPos = pos
	}
	t.exp[last] = 0
	t.exp = t.exp[:last]
}

func (t *table) storeObj(o any) int {
	if n := len(t.free); n > 0 {
		i := t.free[n-1]
		t.free = t.free[:n-1]
		t.objs[i] = o
		return int(i)
	}
	t.objs = append(t.objs, o)
	return len(t.objs) - 1
}

func (t *table) releaseObj(i int) {
	t.objs[i] = nil
	t.free = append(t.free, uint32(i))
	releasedObjects.Add(1)
}

// releasedObjects counts collection values that left a keyspace (deleted,
// overwritten, moved), process-wide: a hint that off-heap memory may be
// waiting for a garbage collection to be freed.
var releasedObjects atomic.Int64

// ReleasedObjects returns how many collection values have left a keyspace.
func ReleasedObjects() int64 { return releasedObjects.Load() }

// replace swaps the record in slot i for r (same key).
func (t *table) replace(i int, r slab.Ref) {
	t.slots[i] = t.slots[i]&^refMask | uint64(r)
}

// scan calls fn for every record whose home bucket is the one cursor names
// (reverse-binary order) and returns the next cursor, 0 when done.
func (t *table) scan(cursor uint64, fn func(r slab.Ref)) uint64 {
	if t.count == 0 {
		return 0
	}
	m := t.mask
	b := cursor & m
	for i := b; ; i = (i + 1) & m {
		s := t.slots[i]
		if s == 0 {
			break
		}
		if t.home(s) == b {
			fn(slotRef(s))
		}
	}
	v := cursor | ^m
	v = bits.Reverse64(v)
	v++
	return bits.Reverse64(v)
}

// release frees every record and the arena's pages at once. The epoch
// stays: records made later must not look saved by a past snapshot.
func (t *table) release() {
	t.arena.Release()
	*t = table{epoch: t.epoch}
}

// int64 values of int-encoded strings are stored as 8 inline bytes.
func putInt(b []byte, n int64) { binary.LittleEndian.PutUint64(b, uint64(n)) }
func getInt(b []byte) int64    { return int64(binary.LittleEndian.Uint64(b)) }
