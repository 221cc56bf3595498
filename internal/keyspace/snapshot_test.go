package keyspace

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
)

// bigList is a collection value for the tests: a slice the writers change
// in place, as handlers change collections.
type bigList struct{ items []int }

func (b *bigList) Len() int { return len(b.items) }

// collectSaver records what a snapshot saved, checking each key comes once.
type collectSaver struct {
	t       *testing.T
	mu      sync.Mutex
	got     map[string]string
	bigOver int
}

func (c *collectSaver) Save(db int, e Entry, _ bool) {
	var v string
	if o, ok := e.Object().(*bigList); ok {
		sum := 0
		for _, x := range o.items {
			sum += x
		}
		v = fmt.Sprintf("big:%d:%d", len(o.items), sum)
	} else {
		v = string(e.AppendValue(nil))
	}
	k := strconv.Itoa(db) + "/" + string(e.Key())
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.got[k]; dup {
		c.t.Errorf("key %s saved twice", k)
	}
	c.got[k] = v
}

func (c *collectSaver) Big(e Entry) bool {
	o, ok := e.Object().(*bigList)
	return ok && o.Len() > c.bigOver
}

// state reads the whole store as the saver would see it.
func state(s *Store) map[string]string {
	c := &collectSaver{got: map[string]string{}, bigOver: 1 << 30}
	for d := 0; d < s.Databases(); d++ {
		s.DB(d).ForEach(func(e Entry) { c.Save(d, e, false) })
	}
	return c.got
}

// TestSnapshotIsOneInstant takes snapshots while writers change, delete,
// create, expire and flush keys and change big values in place through
// PrepareWrite, as the dispatcher does, and checks that each snapshot
// holds exactly the dataset at its instant.
func TestSnapshotIsOneInstant(t *testing.T) {
	for round := 0; round < 4; round++ {
		s := New(2)
		now := s.Clock()
		for i := 0; i < 20000; i++ {
			k := []byte("k" + strconv.Itoa(i))
			exp := int64(0)
			if i%10 == 0 {
				exp = now + 3_600_000
			}
			s.DB(i%2).SetString(k, []byte("v"+strconv.Itoa(i)), EncRaw, exp)
		}
		for i := 0; i < 8; i++ {
			b := &bigList{}
			for j := 0; j < 5000; j++ {
				b.items = append(b.items, j)
			}
			s.DB(0).SetObject([]byte("big"+strconv.Itoa(i)), TypeList, b, 0)
		}
		s.LockAll()
		want := state(s)
		saver := &collectSaver{t: t, got: map[string]string{}, bigOver: 1000}
		sn, err := s.BeginSnapshot(now, saver)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.BeginSnapshot(now, saver); err != ErrSnapshotRunning {
			t.Fatalf("second snapshot: %v", err)
		}
		s.UnlockAll()

		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(seed, uint64(round)))
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					db := s.DB(rng.IntN(2))
					var key []byte
					if rng.IntN(20) == 0 {
						key = []byte("big" + strconv.Itoa(rng.IntN(8)))
						db = s.DB(0)
					} else {
						key = []byte("k" + strconv.Itoa(rng.IntN(25000)))
					}
					sh := ShardOf(key)
				retry:
					s.LockShard(sh)
					if wait := db.PrepareWrite(key); wait != nil {
						s.UnlockShard(sh)
						wait()
						goto retry
					}
					switch op := rng.IntN(6); {
					case key[0] == 'b':
						if e, ok := db.Lookup(key); ok {
							o := e.Object().(*bigList)
							o.items[rng.IntN(len(o.items))] += 7
							o.items = append(o.items, 1)
						}
					case op == 0:
						db.Delete(key)
					case op == 1:
						db.SetExpire(key, now+1_000_000)
					case op == 2:
						db.SetInt(key, int64(n), KeepTTL)
					default:
						db.SetString(key, []byte("w"+strconv.Itoa(n)), EncRaw, KeepTTL)
					}
					s.UnlockShard(sh)
				}
			}(uint64(w))
		}
		if round%2 == 1 {
			// A FLUSHDB in the middle: its tables go to the snapshot.
			s.LockAll()
			s.DB(1).Flush()
			s.UnlockAll()
		}
		sn.Walk(16, nil)
		close(stop)
		wg.Wait()
		<-sn.Done()
		if s.SnapshotRunning() {
			t.Fatal("snapshot still running after Walk")
		}
		if len(saver.got) != len(want) {
			t.Errorf("round %d: saved %d keys, want %d", round, len(saver.got), len(want))
		}
		for k, v := range want {
			if saver.got[k] != v {
				t.Errorf("round %d: key %s saved as %q, want %q", round, k, saver.got[k], v)
				break
			}
		}
		// Every record is now stamped: the next snapshot owes them all.
		s.LockAll()
		want = state(s)
		saver2 := &collectSaver{t: t, got: map[string]string{}, bigOver: 1 << 30}
		sn2, _ := s.BeginSnapshot(now, saver2)
		sn2.WalkLocked()
		s.UnlockAll()
		if len(saver2.got) != len(want) {
			t.Errorf("round %d: second snapshot saved %d keys, want %d", round, len(saver2.got), len(want))
		}
	}
}

// TestSnapshotAbort checks that an aborted snapshot saves nothing more,
// ends its walker, and leaves the next snapshot owing every record.
func TestSnapshotAbort(t *testing.T) {
	s := New(1)
	for i := 0; i < 5000; i++ {
		s.DB(0).SetString([]byte("k"+strconv.Itoa(i)), []byte("v"), EncRaw, 0)
	}
	saver := &collectSaver{t: t, got: map[string]string{}, bigOver: 1 << 30}
	s.LockAll()
	sn, _ := s.BeginSnapshot(s.Clock(), saver)
	s.UnlockAll()
	s.LockShard(0)
	// Change a key of shard 0 so it is saved out of turn.
	n := 0
	for i := 0; n == 0; i++ {
		k := []byte("k" + strconv.Itoa(i))
		if ShardOf(k) == 0 {
			s.DB(0).Delete(k)
			n++
		}
	}
	s.UnlockShard(0)
	s.LockAll()
	s.AbortSnapshot()
	s.UnlockAll()
	sn.Walk(16, nil)
	<-sn.Done()
	if len(saver.got) != 1 || !sn.Aborted() {
		t.Fatalf("aborted snapshot saved %d keys (aborted=%v)", len(saver.got), sn.Aborted())
	}
	saver2 := &collectSaver{t: t, got: map[string]string{}, bigOver: 1 << 30}
	s.LockAll()
	sn2, err := s.BeginSnapshot(s.Clock(), saver2)
	if err != nil {
		t.Fatal(err)
	}
	sn2.WalkLocked()
	s.UnlockAll()
	if len(saver2.got) != 4999 {
		t.Fatalf("snapshot after an abort saved %d keys, want 4999", len(saver2.got))
	}
}
