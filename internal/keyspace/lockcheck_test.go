package keyspace

import (
	"strings"
	"testing"
)

// Under the race detector, asking for shard locks while holding some
// panics with both call sites instead of deadlocking.
func TestLockOrderAssertion(t *testing.T) {
	if !lockChecksEnabled {
		t.Skip("lock-order assertions are compiled into race-enabled builds only")
	}
	s := New(1)
	var ss ShardSet
	ss.Add([]byte("k"))
	s.Lock(&ss)
	if !s.HoldsLocks() {
		t.Fatal("HoldsLocks false while holding a shard")
	}
	func() {
		defer func() {
			r := recover()
			msg, _ := r.(string)
			if !strings.Contains(msg, "not reentrant") || !strings.Contains(msg, "held since") ||
				!strings.Contains(msg, "TestLockOrderAssertion") {
				t.Fatalf("recovered %v", r)
			}
		}()
		s.LockAll() // would deadlock on the shard of "k"
		t.Fatal("LockAll while holding a shard did not panic")
	}()
	s.Unlock(&ss)
	if s.HoldsLocks() {
		t.Fatal("HoldsLocks true after Unlock")
	}
	// Taking and releasing in sequence is fine, and so is another goroutine
	// waiting for the same shards.
	s.LockAll()
	done := make(chan struct{})
	go func() { s.Lock(&ss); s.Unlock(&ss); close(done) }()
	s.UnlockAll()
	<-done
}
