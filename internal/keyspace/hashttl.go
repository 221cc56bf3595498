package keyspace

import (
	"runtime"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/corvid-db/corvid/internal/ds/ttlindex"
)

// EncListpackEx is the inline encoding of a small hash whose fields have
// (or once had) their own expiry: field, value, expiry triples, which Redis
// calls "listpackex". A separate encoding leaves plain hashes byte for byte
// as they were, so sessions without field TTLs pay nothing.
const EncListpackEx Encoding = 5

// fieldExpiry is a Store's registry of the keys whose hash fields expire,
// with (a lower bound of) each key's earliest field expiry, so the cron
// reclaims fields nobody reads without scanning the keyspace.
//
// Registries are kept per table, not per database number: SWAPDB swaps
// tables, and a registry keyed by table follows its keys. Each shard's
// registries are guarded by that shard's mutex; counts are atomic so the
// cron skips empty shards without locking them. An entry may be stale (its
// key deleted, renamed, or no longer holding TTLs): entries are only hints,
// checked when they come due or are sampled, which bounds how long a stale
// one lives.
type fieldExpiry struct {
	shards [NumShards]fieldExpiryShard
	total  atomic.Int64
	cursor atomic.Int32
	// expired counts fields removed because their TTL passed.
	expired atomic.Int64
}

type fieldExpiryShard struct {
	regs map[*table]*ttlindex.Index
	n    atomic.Int64
}

// fieldExpiries holds each Store's registry; weak keys let a Store that is
// no longer used (tests start many) be collected with its registry.
var fieldExpiries sync.Map // weak.Pointer[Store] → *fieldExpiry

func (s *Store) fieldExpiry(create bool) *fieldExpiry {
	wp := weak.Make(s)
	if v, ok := fieldExpiries.Load(wp); ok {
		return v.(*fieldExpiry)
	}
	if !create {
		return nil
	}
	v, loaded := fieldExpiries.LoadOrStore(wp, &fieldExpiry{})
	if !loaded {
		runtime.AddCleanup(s, func(wp weak.Pointer[Store]) { fieldExpiries.Delete(wp) }, wp)
	}
	return v.(*fieldExpiry)
}

// NoteFieldExpiry records that key holds a hash with a field expiring at
// when (Unix ms), keeping the earlier deadline if one is registered. Hash
// commands call it whenever they store a hash with field TTLs. The caller
// holds the key's shard lock.
func (db DB) NoteFieldExpiry(key []byte, when int64) {
	h := hashKey(key)
	shard := int(h >> shardShift)
	t := db.s.shards[shard].dbs[db.idx]
	fe := db.s.fieldExpiry(true)
	sh := &fe.shards[shard]
	idx := sh.regs[t]
	if idx == nil {
		if sh.regs == nil {
			sh.regs = make(map[*table]*ttlindex.Index)
		}
		idx = &ttlindex.Index{}
		sh.regs[t] = idx
	}
	before := idx.Len()
	idx.SetEarlier(key, when)
	if d := int64(idx.Len() - before); d != 0 {
		sh.n.Add(d)
		fe.total.Add(d)
	}
}

// FieldExpiryKeys returns how many keys are registered as having expiring
// hash fields (stale entries included); INFO-style statistics and tests use it.
func (s *Store) FieldExpiryKeys() int64 {
	if fe := s.fieldExpiry(false); fe != nil {
		return fe.total.Load()
	}
	return 0
}

// AddExpiredFields counts n hash fields removed because their TTL passed
// (lazily, actively, or set in the past), for INFO's expired_subkeys.
func (s *Store) AddExpiredFields(n int) {
	if n > 0 {
		s.fieldExpiry(true).expired.Add(int64(n))
	}
}

// ExpiredFields returns INFO's expired_subkeys.
func (s *Store) ExpiredFields() int64 {
	if fe := s.fieldExpiry(false); fe != nil {
		return fe.expired.Load()
	}
	return 0
}

// ResetExpiredFields zeroes expired_subkeys (CONFIG RESETSTAT).
func (s *Store) ResetExpiredFields() {
	if fe := s.fieldExpiry(false); fe != nil {
		fe.expired.Store(0)
	}
}

// ReclaimFunc reclaims the expired fields of the hash at key (looked up in
// db, whose clock is the cycle's), at most budget of them, and returns how
// many it reclaimed. The entry for key has been removed from the registry
// before the call: the function registers the key again (NoteFieldExpiry)
// if the hash still has fields with a TTL. It runs with the shard locked.
type ReclaimFunc func(db DB, key []byte, budget int) int

// fieldExpirySamples is how many registry entries per table and cycle are
// revisited even though not due, so entries of deleted keys go away.
const fieldExpirySamples = 2

// ExpireFields runs one active field-expiry cycle: it visits the shards that
// have registered keys, round robin from where the last cycle stopped,
// locking one shard at a time, and calls reclaim for every key whose
// earliest field expiry is at or before now, until budget fields have been
// reclaimed. It returns the number of fields reclaimed. Nothing is
// reclaimed while expiry is paused (CLIENT PAUSE).
func (s *Store) ExpireFields(now int64, budget int, reclaim ReclaimFunc) int {
	fe := s.fieldExpiry(false)
	if fe == nil || fe.total.Load() == 0 || budget <= 0 || s.ExpiryPaused.Load() {
		return 0
	}
	reclaimed := 0
	// Visits bound the work of a cycle even when reclaim finds nothing to do.
	visits := 2*budget + 64
	start := int(fe.cursor.Load())
	for n := 0; n < NumShards && reclaimed < budget && visits > 0; n++ {
		shard := (start + n) % NumShards
		sh := &fe.shards[shard]
		if sh.n.Load() == 0 {
			continue
		}
		fe.cursor.Store(int32(shard))
		s.shards[shard].mu.Lock()
		drop := func(k int) {
			sh.n.Add(int64(-k))
			fe.total.Add(int64(-k))
		}
		for t, idx := range sh.regs {
			dbIdx := -1
			for i, dt := range s.shards[shard].dbs {
				if dt == t {
					dbIdx = i
				}
			}
			if dbIdx < 0 || t.count == 0 {
				drop(idx.Len())
				delete(sh.regs, t)
				continue
			}
			db := s.DB(dbIdx).At(now)
			db.NoTouch = true
			visit := func(name string) {
				drop(1)
				visits--
				reclaimed += reclaim(db, []byte(name), budget-reclaimed)
			}
			for reclaimed < budget && visits > 0 {
				name, when, ok := idx.Min()
				if !ok || when > now {
					break
				}
				idx.PopMin()
				visit(name)
			}
			for k := 0; k < fieldExpirySamples && visits > 0; k++ {
				name, _, ok := idx.Any()
				if !ok {
					break
				}
				idx.Delete([]byte(name))
				visit(name)
			}
			if idx.Len() == 0 {
				delete(sh.regs, t)
			}
			if reclaimed >= budget || visits <= 0 {
				break
			}
		}
		s.shards[shard].mu.Unlock()
	}
	return reclaimed
}
