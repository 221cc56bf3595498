package keyspace

// Presence reports, without expiring or touching it, whether key has a
// record in the database and whether that record's time to live has passed.
//
// WATCH needs this distinction, which Lookup erases: Redis remembers that a
// watched key was already logically expired when it was watched (so its
// later reclamation is no change), and EXEC fails when a watched key has
// expired since, even though no command has deleted it yet. Both are
// decided on the record as it is, so looking must not reclaim it.
//
// The caller holds the key's shard lock.
func (db DB) Presence(key []byte) (exists, stale bool) {
	h := hashKey(key)
	t := db.table(h)
	i := t.find(key, h)
	if i < 0 {
		return false, false
	}
	r := slotRef(t.slots[i])
	return true, hdr(r).flags&flagTTL != 0 && ttlHdr(r).expireAt <= db.Now()
}
