package server

import (
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/keyspace"
)

// Eviction under maxmemory. Before a command, when used memory is past
// maxmemory and maxmemory-policy is not noeviction, keys are evicted until
// it is under again: Redis's performEvictions. Corvid approximates every
// policy by random sampling (the allkeys-* policies pick among all keys, the
// volatile-* ones among keys with a TTL); LRU/LFU ordering is not kept yet.
// Each eviction is reported as Redis reports it: the "evicted" keyspace
// event, tracking invalidation and INFO's evicted_keys. If nothing can be
// evicted, denyoom commands get the OOM error.

// evictBatch is how many keys are evicted between two memory samples
// (sampling locks every shard, so it is not done per key).
const evictBatch = 64

// evictIfNeeded runs eviction when memory is past maxmemory.
func (s *Server) evictIfNeeded() {
	mm := s.maxMemory.Load()
	if mm <= 0 || s.noEviction.Load() || s.usedMem.Load() <= mm {
		return
	}
	volatile := s.volatilePolicy.Load()
	deadline := time.Now().Add(50 * time.Millisecond)
	for s.usedMem.Load() > mm && time.Now().Before(deadline) {
		if s.evictSome(volatile) == 0 {
			return // nothing left to evict: denyoom commands get OOM
		}
		s.usedMem.Store(s.usedMemory().used)
	}
}

// evictSome evicts up to evictBatch keys, every shard locked, and returns
// how many went.
func (s *Server) evictSome(volatile bool) int {
	var ss keyspace.ShardSet
	ss.SetAll()
	s.Store.Lock(&ss)
	defer s.Store.Unlock(&ss)
	now := time.Now().UnixMilli()
	n := 0
	for tries := 0; n < evictBatch && tries < 4*evictBatch; tries++ {
		found := false
		for i := 0; i < s.Store.Databases() && n < evictBatch; i++ {
			db := s.Store.DB(i).At(now)
			if db.Len() == 0 || (volatile && db.ExpiresLen() == 0) {
				continue
			}
			found = true
			key := db.RandomKey()
			if key == nil {
				continue
			}
			if volatile {
				if e, ok := db.Lookup(key); !ok || e.ExpireAt() == 0 {
					continue
				}
			}
			key = append([]byte(nil), key...)
			if db.Delete(key) {
				n++
				s.Stats.EvictedKeys.Add(1)
				s.notify(command.NotifyEvicted, "evicted", key, i)
				if s.prop.active.Load() {
					s.prop.emitNow(i, s.deletionName("lazyfree-lazy-eviction"), key)
				}
				if s.tracking.active() {
					s.invalidateKey(nil, key, true)
				}
			}
		}
		if !found {
			break
		}
	}
	return n
}
