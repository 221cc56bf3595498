package keyspace

import (
	"fmt"
	"testing"
)

func TestSampleKeys(t *testing.T) {
	_, db := lockedDB(t)
	db = db.At(1000)
	if n := db.SampleKeys(5, false, func(Entry) { t.Fatal("visited an entry of an empty database") }); n != 0 {
		t.Fatalf("empty: %d", n)
	}
	for i := range 100 {
		exp := int64(0)
		if i%10 == 0 {
			exp = 1_000_000
		}
		db.SetString(fmt.Appendf(nil, "k%d", i), []byte("v"), EncEmbstr, exp)
	}
	db.SetString([]byte("gone"), []byte("v"), EncEmbstr, 500) // already expired
	for range 200 {
		seen := map[string]bool{}
		n := db.SampleKeys(5, false, func(e Entry) {
			if string(e.Key()) == "gone" {
				t.Fatal("sampled an expired key")
			}
			seen[string(e.Key())] = true
		})
		if n != 5 || len(seen) != 5 {
			t.Fatalf("sampled %d (%d distinct), want 5", n, len(seen))
		}
		n = db.SampleKeys(20, true, func(e Entry) {
			if e.ExpireAt() != 1_000_000 {
				t.Fatalf("volatile sample %s has expiry %d", e.Key(), e.ExpireAt())
			}
		})
		if n != 10 {
			t.Fatalf("volatile: sampled %d of the 10 keys with a TTL", n)
		}
	}
}

func TestLFUAccessField(t *testing.T) {
	s, db := lockedDB(t)
	minutes := int64(100)
	s.Clock = func() int64 { return minutes * 60_000 }
	s.UpdateLRUClock()
	s.SetAccessPolicy(true, 0, 1)
	db.SetString([]byte("k"), []byte("v"), EncEmbstr, 0)
	e, _ := db.Peek([]byte("k"))
	if c := s.LFUCounter(e.LRU()); c != lfuInitVal {
		t.Fatalf("new key: counter %d", c)
	}
	for range 3 {
		db.Lookup([]byte("k"))
	}
	if c := s.LFUCounter(e.LRU()); c != lfuInitVal+3 {
		t.Fatalf("after 3 accesses: counter %d", c)
	}
	minutes += 2 // two decay periods of one minute
	s.UpdateLRUClock()
	if c := s.LFUCounter(e.LRU()); c != lfuInitVal+1 {
		t.Fatalf("after two idle minutes: counter %d", c)
	}
	if r := e.EvictionRank(s, false); r != 255-(lfuInitVal+1) {
		t.Fatalf("rank %d", r)
	}
	s.SetAccessPolicy(false, 0, 1)
	db.Lookup([]byte("k"))
	minutes += 1
	s.UpdateLRUClock()
	if idle := s.IdleSeconds(e.LRU()); idle != 60 {
		t.Fatalf("LRU idle %d, want 60", idle)
	}
}
