//go:build !race

package keyspace

// Outside race-enabled builds the lock-order assertions of
// lockcheck_race.go compile to nothing.

const lockChecksEnabled = false

func (s *Store) noteLocked()   {}
func (s *Store) noteUnlocked() {}

// HoldsLocks reports whether the calling goroutine holds shard locks of s;
// it is only tracked in race-enabled builds and is always false here.
func (s *Store) HoldsLocks() bool { return false }
