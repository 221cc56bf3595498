package keyspace

import (
	"math"
	"math/rand/v2"
)

// Access times. Every record keeps 32 bits of access history, which
// maxmemory eviction ranks keys by, as Redis keeps 24 bits in each object:
//
//   - under an LRU (or any non-LFU) policy, the LRU clock in seconds at the
//     last access;
//   - under an LFU policy, the minutes clock (16 bits) at the last access
//     and a logarithmic access counter (8 bits), minutes<<8 | counter,
//     with Redis's probabilistic increment (lfu-log-factor) and its decay
//     of one per lfu-decay-time minutes without access.
//
// A record's field is stamped when it is created and each time it is
// looked up (unless the handle is NoTouch). Switching policy leaves the
// fields as they are, as Redis does: they read as nonsense until touched.

// lfuInitVal is the counter a new key starts with, so that it is not the
// first candidate for eviction before it had a chance to be read.
const lfuInitVal = 5

// SetAccessPolicy selects what access fields hold: LFU counters when lfu
// is set, LRU times otherwise. logFactor and decayMinutes are
// lfu-log-factor and lfu-decay-time.
func (s *Store) SetAccessPolicy(lfu bool, logFactor, decayMinutes int64) {
	s.lfuLogFactor.Store(logFactor)
	s.lfuDecay.Store(decayMinutes)
	s.lfu.Store(lfu)
}

// LFUPolicy reports whether access fields hold LFU counters.
func (s *Store) LFUPolicy() bool { return s.lfu.Load() }

// lfuMinutes is Redis's LFUGetTimeInMinutes: the clock in minutes, 16 bits.
func (s *Store) lfuMinutes() uint32 { return s.lruClock.Load() / 60 & 0xffff }

// newAccess is the access field of a record being created.
func (s *Store) newAccess() uint32 {
	if s.lfu.Load() {
		return s.lfuMinutes()<<8 | lfuInitVal
	}
	return s.lruClock.Load()
}

// touched is the access field of a record after an access.
func (s *Store) touched(field uint32) uint32 {
	if !s.lfu.Load() {
		return s.lruClock.Load()
	}
	counter := s.LFUCounter(field)
	if counter < 255 {
		base := float64(counter - lfuInitVal)
		if base < 0 {
			base = 0
		}
		if rand.Float64() < 1/(base*float64(s.lfuLogFactor.Load())+1) {
			counter++
		}
	}
	return s.lfuMinutes()<<8 | uint32(counter)
}

// LFUCounter decodes an LFU access field and returns its counter less
// one for every lfu-decay-time minutes elapsed since the access, as
// Redis's LFUDecrAndReturn (OBJECT FREQ shows it).
func (s *Store) LFUCounter(field uint32) int64 {
	last := int64(field>>8) & 0xffff
	counter := int64(field & 0xff)
	now := int64(s.lfuMinutes())
	elapsed := now - last
	if now < last {
		elapsed = 0xffff - last + now
	}
	if decay := s.lfuDecay.Load(); decay > 0 {
		counter = max(counter-elapsed/decay, 0)
	}
	return counter
}

// LFUField encodes an access field holding counter, accessed now
// (RESTORE … FREQ).
func (s *Store) LFUField(counter int64) uint32 {
	return s.lfuMinutes()<<8 | uint32(min(max(counter, 0), 255))
}

// IdleSeconds returns how long ago an LRU access field was stamped.
func (s *Store) IdleSeconds(field uint32) int64 {
	now := s.lruClock.Load()
	if now <= field {
		return 0
	}
	return int64(now - field)
}

// EvictionRank orders keys for eviction, higher first: idle seconds
// under LRU, 255 less the decayed counter under LFU, and the nearness of
// the expiry for volatile-ttl (byTTL).
func (e Entry) EvictionRank(s *Store, byTTL bool) uint64 {
	switch {
	case byTTL:
		return math.MaxUint64 - uint64(e.ExpireAt())
	case s.lfu.Load():
		return uint64(255 - s.LFUCounter(e.LRU()))
	default:
		return uint64(s.IdleSeconds(e.LRU()))
	}
}

// SampleKeys visits up to n entries of the database taken at random, among
// all keys or (volatile) among keys with an expiry. As Redis's
// dictGetSomeKeys, the sample is a run of neighbouring slots from a random
// place in a random shard (continuing into the next shards when that one
// has too few): cheap, and random enough to rank by. Expired keys are skipped, not reclaimed. It
// returns how many entries were visited. The caller holds every shard.
func (db DB) SampleKeys(n int, volatile bool, visit func(Entry)) int {
	seen := 0
	first := rand.IntN(NumShards)
	for i := 0; i < NumShards && seen < n; i++ {
		t := db.s.shards[(first+i)%NumShards].dbs[db.idx]
		if volatile {
			if len(t.exp) == 0 {
				continue
			}
			start := rand.IntN(len(t.exp))
			for k := 0; k < len(t.exp) && seen < n; k++ {
				r := t.exp[(start+k)%len(t.exp)]
				if ttlHdr(r).expireAt <= db.Now() {
					continue
				}
				visit(Entry{t, r})
				seen++
			}
			continue
		}
		if t.count == 0 {
			continue
		}
		j := rand.Uint64() & t.mask
		for k := uint64(0); k <= t.mask && seen < n; k++ {
			slot := t.slots[(j+k)&t.mask]
			if slot == 0 {
				continue
			}
			r := slotRef(slot)
			if hdr(r).flags&flagTTL != 0 && ttlHdr(r).expireAt <= db.Now() {
				continue
			}
			visit(Entry{t, r})
			seen++
		}
	}
	return seen
}
