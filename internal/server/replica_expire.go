package server

import (
	"sync"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/keyspace"
)

// replicaTTLKeys is Redis's slaveKeysWithExpire: the keys a client (not
// the primary) gave a time to live on a writable replica. A replica
// leaves expiry to its primary, whose DELs it applies, but the primary
// knows nothing of these keys: the replica expires them itself, from its
// cron, or they would stay forever.
type replicaTTLKeys struct {
	mu   sync.Mutex
	keys map[int]map[string]struct{} // database → keys
}

// noteReplicaWrite remembers the keys of a write command a client ran on
// a replica that now have a time to live; their shards are held.
func (c *Client) noteReplicaWrite(cmd *command.Command, args [][]byte, db keyspace.DB) {
	s := c.srv
	c.keyIdx = cmd.KeyIndexes(c.keyIdx[:0], args)
	for _, i := range c.keyIdx {
		e, ok := db.Peek(args[i])
		if !ok || e.ExpireAt() <= 0 {
			continue
		}
		k := &s.replicaTTL
		k.mu.Lock()
		if k.keys == nil {
			k.keys = map[int]map[string]struct{}{}
		}
		m := k.keys[c.db]
		if m == nil {
			m = map[string]struct{}{}
			k.keys[c.db] = m
		}
		m[string(args[i])] = struct{}{}
		k.mu.Unlock()
	}
}

// expireReplicaKeys deletes the remembered keys whose time has come (and
// forgets those gone or made persistent), as Redis's expireSlaveKeys does
// at every cron tick, within a time budget.
func (s *Server) expireReplicaKeys(budget time.Duration) {
	k := &s.replicaTTL
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.keys) == 0 {
		return
	}
	start := time.Now()
	for dbi, m := range k.keys {
		for key := range m {
			b := []byte(key)
			sh := keyspace.ShardOf(b)
			s.Store.LockShard(sh)
			// Looked up as a client of a primary would: an expired key is
			// deleted, its DEL propagated.
			db := s.Store.DB(dbi).At(time.Now().UnixMilli())
			e, ok := db.Lookup(b)
			if !ok || e.ExpireAt() <= 0 {
				delete(m, key)
			}
			s.Store.UnlockShard(sh)
			if time.Since(start) > budget {
				return
			}
		}
		if len(m) == 0 {
			delete(k.keys, dbi)
		}
	}
}

// forgetReplicaKeys drops the list when the server stops being a replica:
// its own active expiry covers every key from then on.
func (s *Server) forgetReplicaKeys() {
	k := &s.replicaTTL
	k.mu.Lock()
	k.keys = nil
	k.mu.Unlock()
}
