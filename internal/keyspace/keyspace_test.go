package keyspace

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"
)

// lockedDB returns database 0 of a new store with every shard locked.
func lockedDB(t testing.TB) (*Store, DB) {
	s := New(16)
	s.LockAll()
	t.Cleanup(s.UnlockAll)
	return s, s.DB(0)
}

// TestModel drives the keyspace and a map with the same random operations.
func TestModel(t *testing.T) {
	s, db := lockedDB(t)
	now := int64(1_000_000)
	s.Clock = func() int64 { return now }
	type val struct {
		v   string
		exp int64
	}
	model := map[string]val{}
	rng := rand.New(rand.NewSource(7))
	for step := 0; step < 300000; step++ {
		k := fmt.Sprintf("k%d", rng.Intn(5000))
		switch op := rng.Intn(10); {
		case op < 4:
			n := rng.Intn(300)
			if rng.Intn(100) == 0 {
				n = 9000 + rng.Intn(3000) // heap-backed big value
			}
			v := string(bytes.Repeat([]byte{byte('a' + rng.Intn(26))}, n))
			exp := int64(0)
			if rng.Intn(3) == 0 {
				exp = now + int64(rng.Intn(50))
			}
			db.SetString([]byte(k), []byte(v), EncRaw, exp)
			model[k] = val{v, exp}
		case op < 5:
			db.Delete([]byte(k))
			delete(model, k)
		case op < 6:
			m, ok := model[k]
			if ok && m.exp != 0 && m.exp <= now {
				ok = false
				delete(model, k)
			}
			exp := now + int64(rng.Intn(50))
			if db.SetExpire([]byte(k), exp) != ok {
				t.Fatalf("step %d: SetExpire(%s) disagrees with the model", step, k)
			}
			if ok {
				model[k] = val{m.v, exp}
			}
		case op < 7:
			now += int64(rng.Intn(5))
		default:
			m, ok := model[k]
			if ok && m.exp != 0 && m.exp <= now {
				ok = false
				delete(model, k)
			}
			e, found := db.Lookup([]byte(k))
			if found != ok {
				t.Fatalf("step %d: Lookup(%s)=%v want %v", step, k, found, ok)
			}
			if ok && string(e.Bytes()) != m.v {
				t.Fatalf("step %d: value mismatch for %s", step, k)
			}
		}
	}
}

func TestScanGuarantee(t *testing.T) {
	_, db := lockedDB(t)
	for i := 0; i < 2000; i++ {
		db.SetString([]byte(fmt.Sprintf("stable%d", i)), []byte("v"), EncRaw, 0)
	}
	seen := map[string]bool{}
	cursor := uint64(0)
	i := 0
	for {
		cursor = db.Scan(cursor, 10, func(e Entry) { seen[string(e.Key())] = true })
		// grow and shrink the table between calls
		for j := 0; j < 50; j++ {
			db.SetString([]byte(fmt.Sprintf("tmp%d", i)), []byte("v"), EncRaw, 0)
			if i > 3000 {
				db.Delete([]byte(fmt.Sprintf("tmp%d", i-3000)))
			}
			i++
		}
		if cursor == 0 {
			break
		}
	}
	for i := 0; i < 2000; i++ {
		if !seen[fmt.Sprintf("stable%d", i)] {
			t.Fatalf("stable%d never returned", i)
		}
	}
}

func TestIntAndRename(t *testing.T) {
	_, db := lockedDB(t)
	db.SetInt([]byte("n"), -42, 0)
	e, _ := db.Lookup([]byte("n"))
	if n, ok := e.Int(); !ok || n != -42 || e.Encoding() != "int" || string(e.AppendValue(nil)) != "-42" {
		t.Fatalf("int encoding broken")
	}
	db.SetExpire([]byte("n"), db.Now()+10000)
	db.Rename([]byte("n"), []byte("m"))
	e, ok := db.Lookup([]byte("m"))
	if !ok || e.ExpireAt() == 0 || db.Exists([]byte("n")) {
		t.Fatalf("rename lost ttl or key")
	}
}

func TestActiveExpire(t *testing.T) {
	s := New(2)
	now := int64(1000)
	s.Clock = func() int64 { return now }
	s.LockAll()
	db := s.DB(1)
	for i := 0; i < 10000; i++ {
		db.SetString([]byte(fmt.Sprintf("k%d", i)), []byte("v"), EncRaw, now+10)
	}
	s.UnlockAll()
	now += 100
	x := NewActiveExpirer(s)
	total := 0
	for i := 0; i < 100 && total < 10000; i++ {
		total += x.Cycle(10, 1)
	}
	if total != 10000 {
		t.Fatalf("reclaimed %d of 10000", total)
	}
}

func BenchmarkSetGet(b *testing.B) {
	_, db := lockedDB(b)
	keys := make([][]byte, 100000)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key:%012d", i))
	}
	val := bytes.Repeat([]byte("x"), 100)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		k := keys[i%len(keys)]
		db.SetString(k, val, EncRaw, 0)
		db.Lookup(k)
	}
}

// A small keyspace is covered by one SCAN call with the default COUNT, as
// a small Redis table is, however its keys spread over the shards.
func TestScanSmallKeyspaceInOneCall(t *testing.T) {
	_, db := lockedDB(t)
	for i := range 8 {
		db.SetString(fmt.Appendf(nil, "key:%d", i), []byte("v"), EncEmbstr, 0)
	}
	seen := 0
	if next := db.Scan(0, 10, func(Entry) { seen++ }); next != 0 || seen != 8 {
		t.Fatalf("SCAN 0 COUNT 10 over 8 keys: %d keys, next cursor %d", seen, next)
	}
}

// A replica's handles: the primary's finds an expired key live, the
// others find it missing and leave it, unless they store under it.
func TestReplicaExpiryHandles(t *testing.T) {
	s, db := lockedDB(t)
	now := int64(1_000_000)
	s.Clock = func() int64 { return now }
	db = db.At(now)
	db.SetString([]byte("k"), []byte("v"), EncEmbstr, now+10)
	db = db.At(now + 20)
	primary, client := db, db
	primary.KeepExpired, client.HideExpired = true, true
	if _, ok := client.Lookup([]byte("k")); ok {
		t.Fatal("a replica's client found the expired key")
	}
	if db.Len() != 1 {
		t.Fatal("a replica's client reclaimed the expired key")
	}
	if e, ok := primary.Lookup([]byte("k")); !ok || string(e.Bytes()) != "v" {
		t.Fatal("the primary's connection did not find the key its clock still keeps")
	}
	client.SetString([]byte("k"), []byte("w"), EncEmbstr, 0)
	if e, ok := client.Lookup([]byte("k")); !ok || string(e.Bytes()) != "w" || db.Len() != 1 {
		t.Fatal("storing under an expired key on a replica")
	}
	db.SetString([]byte("k2"), []byte("v"), EncEmbstr, now+10)
	if _, ok := db.Lookup([]byte("k2")); ok || db.Len() != 1 {
		t.Fatal("a primary's own lookup did not reclaim the expired key")
	}
}
