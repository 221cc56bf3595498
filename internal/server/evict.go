package server

import (
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/keyspace"
)

// Eviction under maxmemory. Before a command, when used memory is past
// maxmemory and maxmemory-policy is not noeviction, keys are evicted until
// it is under again: Redis's performEvictions.
//
// The LRU, LFU and TTL policies use Redis's approximation: each round
// samples maxmemory-samples keys per database (all keys, or the keys with
// a TTL for the volatile-* policies) into a pool of the 16 best candidates
// seen so far, ranked by idle time, by 255 less the decayed access counter,
// or by nearness of expiry; the best candidate still present is evicted.
// The pool outlives the round, so its later picks draw on everything
// sampled before. The random policies pick a random key.
//
// Each eviction is reported as Redis reports it: the "evicted" keyspace
// event, tracking invalidation and INFO's evicted_keys. If nothing can be
// evicted, denyoom commands get the OOM error.

// evictBatch bounds the keys one round of eviction (every shard locked)
// evicts.
const evictBatch = 256

// evictionPoolSize is Redis's EVPOOL_SIZE.
const evictionPoolSize = 16

// maxPooledKey is the longest key buffer the pool keeps for reuse (Redis
// caches 255-byte names in its pool and allocates longer ones): pooled
// buffers of keys hundreds of KB long outlived their keys.
const maxPooledKey = 1 << 10

// Eviction policies: how a victim is chosen.
const (
	policyNoEviction int32 = iota
	policyLRU
	policyLFU
	policyRandom
	policyTTL
)

// evictionPolicy maps maxmemory-policy (the config enum) to the choice of
// victim and whether only keys with a TTL qualify.
func evictionPolicy(p int64) (policy int32, volatile bool) {
	switch p {
	case config.PolicyVolatileLRU:
		return policyLRU, true
	case config.PolicyVolatileLFU:
		return policyLFU, true
	case config.PolicyVolatileRandom:
		return policyRandom, true
	case config.PolicyVolatileTTL:
		return policyTTL, true
	case config.PolicyAllkeysLRU:
		return policyLRU, false
	case config.PolicyAllkeysLFU:
		return policyLFU, false
	case config.PolicyAllkeysRandom:
		return policyRandom, false
	}
	return policyNoEviction, false
}

// evictionCandidate is a sampled key: its database, its name (a buffer
// the pool reuses) and its rank, higher evicted first.
type evictionCandidate struct {
	rank uint64
	db   int
	key  []byte
}

// evictionPool holds the best candidates seen, in ascending rank. It is
// used with every shard locked, which also serialises its users.
type evictionPool struct {
	c     []evictionCandidate
	spare [][]byte // key buffers of candidates gone, for reuse
}

// offer adds a sampled key unless the pool is full of better ones or
// already holds it.
func (p *evictionPool) offer(rank uint64, db int, key []byte) {
	if len(p.c) == evictionPoolSize && rank <= p.c[0].rank {
		return
	}
	for i := range p.c {
		if p.c[i].db == db && string(p.c[i].key) == string(key) {
			return
		}
	}
	var buf []byte
	if len(p.c) == evictionPoolSize {
		buf = p.c[0].key
		copy(p.c, p.c[1:])
		p.c = p.c[:len(p.c)-1]
	} else if n := len(p.spare); n > 0 {
		buf, p.spare = p.spare[n-1], p.spare[:n-1]
	}
	if cap(buf) > maxPooledKey {
		buf = nil // a long key's buffer is not kept for the next one
	}
	i := len(p.c)
	for i > 0 && p.c[i-1].rank > rank {
		i--
	}
	p.c = append(p.c, evictionCandidate{})
	copy(p.c[i+1:], p.c[i:])
	p.c[i] = evictionCandidate{rank: rank, db: db, key: append(buf[:0], key...)}
}

// popBest removes the best candidate; the returned key is valid until the
// next offer.
func (p *evictionPool) popBest() (db int, key []byte) {
	last := p.c[len(p.c)-1]
	p.c = p.c[:len(p.c)-1]
	if cap(last.key) <= maxPooledKey && len(p.spare) < evictionPoolSize {
		p.spare = append(p.spare, last.key)
	}
	return last.db, last.key
}

// clear forgets every candidate (FLUSHALL, a policy change).
func (p *evictionPool) clear() {
	for len(p.c) > 0 {
		p.popBest()
	}
}

// evictIfNeeded runs eviction when memory is past maxmemory. Each round
// locks every shard, so it frees a little more than the excess (evictSlack)
// rather than one key per write as Redis does; what each key freed is
// estimated (MEMORY USAGE's figure) instead of measured per round, and the
// next sample corrects the estimate.
func (s *Server) evictIfNeeded() {
	mm := s.maxMemory.Load()
	if mm <= 0 || s.noEviction.Load() || s.usedMem.Load() <= mm {
		return
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	for {
		excess := s.usedMem.Load() - mm
		if excess <= 0 || !time.Now().Before(deadline) {
			return
		}
		n, freed := s.evictSome(excess + evictSlack(mm))
		if n == 0 {
			return // nothing left to evict: denyoom commands get OOM
		}
		s.usedMem.Add(-freed)
	}
}

// evictSlack is how far below maxmemory a round of eviction aims: 1% of
// it, at most 64 KiB.
func evictSlack(maxmemory int64) int64 { return min(maxmemory/100, 64<<10) }

// evictSome evicts keys, every shard locked, until about want bytes are
// freed or evictBatch keys went; it returns how many keys went and the
// bytes they are estimated to have freed.
func (s *Server) evictSome(want int64) (n int, freed int64) {
	var ss keyspace.ShardSet
	ss.SetAll()
	s.Store.Lock(&ss)
	defer s.Store.Unlock(&ss)
	policy, volatile := s.evictPolicy.Load(), s.volatilePolicy.Load()
	if s.evictPoolStale.Swap(false) {
		s.evictPool.clear() // ranked under another policy
	}
	now := time.Now().UnixMilli()
	// The databases with keys to choose from: eviction only empties them.
	var dbs []int
	for i := range s.Store.Databases() {
		db := s.Store.DB(i)
		if db.Len() > 0 && (!volatile || db.ExpiresLen() > 0) {
			dbs = append(dbs, i)
		}
	}
	var victim []byte
	for n < evictBatch && freed < want && len(dbs) > 0 {
		var db int
		var key []byte
		if policy == policyRandom {
			db, key = s.randomVictim(now, dbs, volatile)
		} else {
			db, key = s.pooledVictim(now, dbs, policy, volatile)
		}
		if key == nil {
			break
		}
		victim = append(victim[:0], key...)
		key = victim
		h := s.Store.DB(db).At(now)
		e, ok := h.Peek(key)
		if !ok {
			continue
		}
		size := e.MemoryUsage(5)
		if !h.Delete(key) {
			continue
		}
		n++
		freed += size
		s.Stats.EvictedKeys.Add(1)
		s.notify(command.NotifyEvicted, "evicted", key, db)
		if s.prop.active.Load() {
			s.prop.emitNow(db, s.deletionName("lazyfree-lazy-eviction"), key)
		}
		if s.tracking.active() {
			s.invalidateKey(nil, key, true)
		}
	}
	return n, freed
}

// randomVictim picks a random key (with a TTL when volatile), visiting the
// databases in turn as Redis's random policies do.
func (s *Server) randomVictim(now int64, dbs []int, volatile bool) (int, []byte) {
	for range 2 * len(dbs) {
		i := dbs[s.evictNextDB%len(dbs)]
		s.evictNextDB++
		var key []byte
		s.Store.DB(i).At(now).SampleKeys(1, volatile, func(e keyspace.Entry) { key = append(key[:0], e.Key()...) })
		if key != nil {
			return i, key
		}
	}
	return 0, nil
}

// pooledVictim samples the databases into the pool and returns its best
// candidate that still exists (with a TTL when volatile), or nil when no
// database has a key left to sample.
func (s *Server) pooledVictim(now int64, dbs []int, policy int32, volatile bool) (int, []byte) {
	pool := &s.evictPool
	samples := int(max(s.evictSamples.Load(), 1))
	byTTL := policy == policyTTL
	for range 16 {
		total := 0
		for _, i := range dbs {
			total += s.Store.DB(i).At(now).SampleKeys(samples, volatile, func(e keyspace.Entry) {
				pool.offer(e.EvictionRank(s.Store, byTTL), i, e.Key())
			})
		}
		if total == 0 {
			return 0, nil
		}
		for len(pool.c) > 0 {
			i, key := pool.popBest()
			e, ok := s.Store.DB(i).At(now).Peek(key)
			if ok && (!volatile || e.ExpireAt() != 0) {
				return i, key
			}
		}
	}
	return 0, nil
}
