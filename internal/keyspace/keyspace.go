// Package keyspace holds Corvid's databases: keys, their values, expiry and
// the metadata OBJECT reports, split into shards that are locked
// independently so commands on different keys run on different cores.
//
// # Concurrency
//
// The keyspace is divided into NumShards shards by the top bits of the key's
// hash; each shard has one mutex and one table per database. The keyspace
// itself never locks: the dispatcher, which knows every command's keys from
// the command table, locks the shards those keys fall in (in ascending shard
// order, so two multi-key commands can never deadlock) before the handler
// runs, and keyless commands that see the whole keyspace (FLUSHALL, KEYS,
// SCAN, DBSIZE, SWAPDB …) lock every shard. The same mechanism gives
// MULTI/EXEC and scripts their isolation: lock the union of the shards their
// keys fall in, run, unlock. Plain mutexes beat RWMutexes here: lookups
// update LRU clocks and expire keys lazily, so almost every access writes.
//
// Methods of DB and Entry therefore document "the caller holds the shard
// lock of every key it passes".
//
// # Memory
//
// See table.go: records live off the Go heap in per-table slab arenas and the
// index is pointer-free, so millions of keys cost the collector nothing.
package keyspace

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// NumShards is the number of independently locked keyspace shards.
const NumShards = 256

const shardShift = 64 - 8 // log2(NumShards)

var seed = maphash.MakeSeed()

func hashKey(key []byte) uint64 { return maphash.Bytes(seed, key) }

// ShardOf returns the shard index a key belongs to.
func ShardOf(key []byte) int { return int(hashKey(key) >> shardShift) }

// Type is a value's data type, as TYPE reports it.
type Type uint8

// The value types. Their order is fixed: it is stored in records.
const (
	TypeString Type = iota
	TypeList
	TypeSet
	TypeZSet
	TypeHash
	TypeStream
	TypeNone Type = 15
)

var typeNames = [...]string{"string", "list", "set", "zset", "hash", "stream"}

// String returns the name TYPE replies with.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "none"
}

// Encoding is the internal representation OBJECT ENCODING reports for strings.
type Encoding uint8

// Encodings of values stored inline in records, as Redis names them:
// strings (raw, int, embstr) and small collections kept as one compact
// byte string (listpack, intset). Collections held as Go objects report
// their own encoding through Encoder.
const (
	EncRaw Encoding = iota
	EncInt
	EncEmbstr
	EncListpack
	EncIntset
)

// Encoder is implemented by collection values to report their encoding.
type Encoder interface{ Encoding() string }

type shard struct {
	mu  sync.Mutex
	dbs []*table
	// hits and misses of read lookups, guarded by mu; summed by INFO.
	hits, misses int64
	_            [32]byte // keep hot mutexes of neighbouring shards on separate cache lines
}

// Store is the whole keyspace: every database, in every shard.
type Store struct {
	shards [NumShards]shard
	ndb    int

	// Clock returns the current time in Unix milliseconds; tests replace it.
	Clock func() int64

	// lruClock is the coarse clock records are stamped with (seconds).
	lruClock atomic.Uint32
	// lfu, lfuLogFactor and lfuDecay select and tune LFU access fields
	// (access.go).
	lfu          atomic.Bool
	lfuLogFactor atomic.Int64
	lfuDecay     atomic.Int64

	// ExpiredKeys counts keys removed because their TTL passed.
	ExpiredKeys atomic.Int64
	// ExpiredStalePerc is the last active cycle's estimate of stale keys.
	expiredTimeCapReached atomic.Int64

	// ExpiryPaused makes expired keys invisible without deleting them, as
	// Redis does during CLIENT PAUSE so that the dataset does not change.
	ExpiryPaused atomic.Bool

	// OnDelete, if set, is called (shard lock held) when a key disappears
	// through expiry; later features hook keyspace events and WATCH here.
	OnExpire func(db int, key []byte)
	// OnNew, when set, is called with the shard locked each time a key is
	// created (keyspace notifications' "new" event).
	OnNew func(db int, key []byte)
	// snap is the snapshot being taken, if any; epoch is the last one's
	// number and abortedEpochs how many were aborted since one completed
	// (snapshot.go). epoch and abortedEpochs change with every shard held.
	snap          atomic.Pointer[Snapshot]
	epoch         uint16
	abortedEpochs atomic.Int32

	// OnFieldExpire, when set, is called (shard lock held) for each hash
	// field reclaimed because its TTL passed, lazily or actively: the
	// write stream sends it as HDEL.
	OnFieldExpire func(db int, key, field []byte)
}

// New returns an empty keyspace with ndb databases.
func New(ndb int) *Store {
	s := &Store{ndb: ndb, Clock: func() int64 { return time.Now().UnixMilli() }}
	s.lfuLogFactor.Store(10)
	s.lfuDecay.Store(1)
	for i := range s.shards {
		s.shards[i].dbs = make([]*table, ndb)
		for d := range s.shards[i].dbs {
			s.shards[i].dbs[d] = &table{}
		}
	}
	s.UpdateLRUClock()
	return s
}

// NewEmptyLike returns an empty keyspace shaped as s (databases, clock,
// access policy), whose records carry s's snapshot epoch so that they can
// move into s (SwapContents): a replica loads its primary's dataset into
// one while its clients still read the old.
func (s *Store) NewEmptyLike() *Store {
	n := New(s.ndb)
	n.Clock = s.Clock
	n.SetAccessPolicy(s.lfu.Load(), s.lfuLogFactor.Load(), s.lfuDecay.Load())
	n.epoch = s.epoch
	for i := range n.shards {
		for _, t := range n.shards[i].dbs {
			t.epoch = s.epoch
		}
	}
	return n
}

// SwapContents exchanges the databases of s and o. Both are wholly held
// (every shard of s, and o is the caller's alone), and no snapshot runs
// on s. Tables that come into s take its epoch for the records made in
// them from now on.
func (s *Store) SwapContents(o *Store) {
	for i := range s.shards {
		s.shards[i].dbs, o.shards[i].dbs = o.shards[i].dbs, s.shards[i].dbs
		for _, t := range s.shards[i].dbs {
			t.epoch = s.epoch
		}
	}
}

// Databases returns the number of databases.
func (s *Store) Databases() int { return s.ndb }

// UpdateLRUClock refreshes the clock that access times are stamped with;
// the server calls it every cron tick so lookups never read the wall clock.
func (s *Store) UpdateLRUClock() {
	s.lruClock.Store(uint32(s.Clock() / 1000))
}

// LRUClock returns the current coarse access clock in seconds.
func (s *Store) LRUClock() uint32 { return s.lruClock.Load() }

// DB returns a handle on database idx.
func (s *Store) DB(idx int) DB { return DB{s: s, idx: idx} }

// LockShard locks one shard.
func (s *Store) LockShard(i int) {
	s.noteLocked()
	s.shards[i].mu.Lock()
}

// UnlockShard unlocks one shard.
func (s *Store) UnlockShard(i int) {
	s.shards[i].mu.Unlock()
	s.noteUnlocked()
}

// LockAll locks every shard, in order.
func (s *Store) LockAll() {
	s.noteLocked()
	for i := range s.shards {
		s.shards[i].mu.Lock()
	}
}

// UnlockAll unlocks every shard.
func (s *Store) UnlockAll() {
	for i := range s.shards {
		s.shards[i].mu.Unlock()
	}
	s.noteUnlocked()
}

// ShardSet is a set of shard indexes, locked together in ascending order.
type ShardSet struct {
	words [NumShards / 64]uint64
	n     int
	all   bool
}

// Add puts the shard of key in the set.
func (ss *ShardSet) Add(key []byte) { ss.AddShard(ShardOf(key)) }

// AddShard puts shard i in the set.
func (ss *ShardSet) AddShard(i int) {
	w, b := i>>6, uint64(1)<<(i&63)
	if ss.words[w]&b == 0 {
		ss.words[w] |= b
		ss.n++
	}
}

// SetAll makes the set cover every shard.
func (ss *ShardSet) SetAll() { ss.all = true }

// All reports whether the set covers every shard.
func (ss *ShardSet) All() bool { return ss.all }

// Empty reports whether the set is empty.
func (ss *ShardSet) Empty() bool { return !ss.all && ss.n == 0 }

// Reset empties the set.
func (ss *ShardSet) Reset() { *ss = ShardSet{} }

// Lock locks every shard of the set in ascending order.
func (s *Store) Lock(ss *ShardSet) {
	if ss.all {
		s.LockAll()
		return
	}
	if ss.n > 0 {
		s.noteLocked()
	}
	for w, word := range ss.words {
		for word != 0 {
			b := trailingZeros(word)
			s.shards[w<<6+b].mu.Lock()
			word &= word - 1
		}
	}
}

// Unlock unlocks every shard of the set.
func (s *Store) Unlock(ss *ShardSet) {
	if ss.all {
		s.UnlockAll()
		return
	}
	for w, word := range ss.words {
		for word != 0 {
			b := trailingZeros(word)
			s.shards[w<<6+b].mu.Unlock()
			word &= word - 1
		}
	}
	if ss.n > 0 {
		s.noteUnlocked()
	}
}

// SwapDB exchanges the contents of two databases. Caller holds every shard.
func (s *Store) SwapDB(a, b int) {
	for i := range s.shards {
		d := s.shards[i].dbs
		d[a], d[b] = d[b], d[a]
	}
}

// FlushAll empties every database. Caller holds every shard.
func (s *Store) FlushAll() {
	for d := 0; d < s.ndb; d++ {
		s.DB(d).Flush()
	}
}

// HitsMisses returns the keyspace_hits and keyspace_misses counters.
// Caller holds every shard.
func (s *Store) HitsMisses() (hits, misses int64) {
	for i := range s.shards {
		hits += s.shards[i].hits
		misses += s.shards[i].misses
	}
	return
}

// ResetHitsMisses zeroes the counters (CONFIG RESETSTAT). Caller holds every shard.
func (s *Store) ResetHitsMisses() {
	for i := range s.shards {
		s.shards[i].hits, s.shards[i].misses = 0, 0
	}
}

// UsedMemory reports the bytes of slab memory records use. Caller holds every shard.
func (s *Store) UsedMemory() int64 {
	var n int64
	for i := range s.shards {
		for _, t := range s.shards[i].dbs {
			n += t.arena.InUse() + int64(len(t.slots))*8 + int64(cap(t.exp))*8 + int64(cap(t.objs))*16
		}
	}
	return n
}
