package keyspace

import (
	"math/rand/v2"
	"time"
)

// ActiveExpirer reclaims expired keys nobody reads, in the spirit of Redis's
// activeExpireCycle: each tick it walks tables round-robin, samples keys that
// carry a TTL, deletes the expired ones, and keeps sampling a table while
// more than an acceptable share of its sample was stale, all within a CPU
// time budget so the cycle never starves clients. It locks one shard at a
// time, so clients on other shards are never held up.
type ActiveExpirer struct {
	s      *Store
	shard  int
	db     int
	Cycles int64
}

// NewActiveExpirer returns an expirer for s.
func NewActiveExpirer(s *Store) *ActiveExpirer { return &ActiveExpirer{s: s} }

// Cycle runs one expiry cycle. hz is the server's cron frequency and effort
// is active-expire-effort (1..10). It returns the number of keys reclaimed.
func (x *ActiveExpirer) Cycle(hz, effort int) int {
	if hz <= 0 {
		hz = 10
	}
	effort = min(max(effort, 1), 10) - 1
	keysPerLoop := 20 + 20/4*effort
	acceptableStale := 10 - effort
	// Redis spends at most 25% (+2% per effort step) of each cron period.
	budget := time.Duration((25+2*effort)*10) * time.Millisecond / time.Duration(hz) / 10
	start := time.Now()
	x.Cycles++
	reclaimed := 0
	tables := NumShards * x.s.ndb
	for n := 0; n < tables; n++ {
		sh := &x.s.shards[x.shard]
		sh.mu.Lock()
		t := sh.dbs[x.db]
		for len(t.exp) > 0 {
			now := x.s.Clock()
			sampled, expired := 0, 0
			for k := 0; k < keysPerLoop && len(t.exp) > 0; k++ {
				r := t.exp[rand.IntN(len(t.exp))]
				sampled++
				if ttlHdr(r).expireAt <= now {
					key := recordKey(r)
					i := t.find(key, hashKey(key))
					db := x.s.DB(x.db).At(now)
					db.expire(t, i, r)
					expired++
				}
			}
			reclaimed += expired
			if sampled == 0 || expired*100/sampled <= acceptableStale {
				break
			}
			if time.Since(start) > budget {
				break
			}
		}
		sh.mu.Unlock()
		x.shard++
		if x.shard == NumShards {
			x.shard = 0
			x.db = (x.db + 1) % x.s.ndb
		}
		if time.Since(start) > budget {
			x.s.expiredTimeCapReached.Add(1)
			break
		}
	}
	return reclaimed
}

// ExpiredTimeCapReached counts cycles that stopped at their time budget.
func (s *Store) ExpiredTimeCapReached() int64 { return s.expiredTimeCapReached.Load() }
