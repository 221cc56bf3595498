package keyspace

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/corvid-db/corvid/internal/ds/slab"
)

// Keys longer than a slab size class: records are large slab objects.

// bigKeySizes covers both sides of every boundary: the longest key whose
// record holds an int within the size classes even with a TTL (8152),
// the longest whose record fits them with a TTL (8160) or without (8176)
// and no value, the first key longer than a class, a pooled large
// object, and huge ones with a mapping of their own, past the 4 MiB a
// chunk number covers.
var bigKeySizes = []int{8152, 8153, 8160, 8161, 8176, 8177, 8193, 9000, 200 << 10, 5 << 20, 20 << 20}

func bigKey(n int, tag string) []byte {
	// bytes.Repeat, not a loop: the race detector instruments every store.
	b := bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz"), n/26+1)[:n]
	copy(b, tag)
	return b
}

func mustString(t *testing.T, db DB, key []byte, want string) {
	t.Helper()
	e, ok := db.Lookup(key)
	if !ok {
		t.Fatalf("key of %d bytes missing", len(key))
	}
	if !bytes.Equal(e.Key(), key) {
		t.Fatalf("key of %d bytes reads back as %d bytes", len(key), len(e.Key()))
	}
	if got := string(e.AppendValue(nil)); got != want {
		t.Fatalf("key of %d bytes: value %.40q, want %.40q", len(key), got, want)
	}
}

func TestBigKeyStringsAndTypes(t *testing.T) {
	s, db := lockedDB(t)
	base := s.UsedMemory()
	for _, n := range bigKeySizes {
		k := bigKey(n, "str:")
		db.SetString(k, []byte("v"), EncEmbstr, 0)
		mustString(t, db, k, "v")
		if used := s.UsedMemory() - base; used < int64(n) {
			t.Fatalf("UsedMemory grew by %d for a key of %d bytes", used, n)
		}
		e, _ := db.Lookup(k)
		if mu := e.MemoryUsage(0); mu < int64(n) {
			t.Fatalf("MemoryUsage %d for a key of %d bytes", mu, n)
		}

		// Integers stay inline beside any key, and INCR's path changes
		// them there.
		db.SetInt(k, 41, KeepTTL)
		e, _ = db.Lookup(k)
		if v, ok := e.Int(); !ok || v != 41 || e.Encoding() != "int" {
			t.Fatalf("key of %d bytes: Int()=%d,%v encoding %s", n, v, ok, e.Encoding())
		}
		if !e.ReplaceInt(42) {
			t.Fatalf("key of %d bytes: ReplaceInt refused an int", n)
		}
		mustString(t, db, k, "42")
		if db.AppendString(k, []byte("0")) != 3 {
			t.Fatal("APPEND length")
		}
		mustString(t, db, k, "420")

		// Values of every size, overwriting each other in every order.
		for _, vn := range []int{0, 5, tinyValue, tinyValue + 1, 100, 8000, 20000, 1 << 20} {
			v := string(bigKey(vn, "val"))
			db.SetString(k, []byte(v), EncRaw, 0)
			mustString(t, db, k, v)
			db.SetExpire(k, db.Now()+100000)
			mustString(t, db, k, v)
			db.SetExpire(k, 0)
			mustString(t, db, k, v)
		}
		db.SetInt(k, -7, 0)
		mustString(t, db, k, "-7")

		// Inline collections (listpacks) and Go values.
		for _, ln := range []int{10, tinyValue + 10, 9000} {
			lp := bigKey(ln, "lp")
			db.SetInline(k, TypeHash, EncListpack, lp, KeepTTL)
			e, _ = db.Lookup(k)
			if e.Type() != TypeHash || e.Encoding() != "listpack" || !bytes.Equal(e.Bytes(), lp) {
				t.Fatalf("key of %d bytes: listpack of %d bytes reads back wrong", n, ln)
			}
		}
		l := &bigList{items: []int{1, 2, 3}}
		db.SetObject(k, TypeList, l, 0)
		e, _ = db.Lookup(k)
		if e.Type() != TypeList || e.Object() != l || !bytes.Equal(e.Key(), k) {
			t.Fatalf("key of %d bytes: object value lost", n)
		}
		l2 := &bigList{items: []int{4}}
		db.SetObject(k, TypeList, l2, KeepTTL)
		if e, _ = db.Lookup(k); e.Object() != l2 {
			t.Fatal("object overwrite")
		}
		db.SetString(k, []byte("back"), EncRaw, 0)
		mustString(t, db, k, "back")

		if !db.Delete(k) || db.Exists(k) || db.Delete(k) {
			t.Fatalf("deleting a key of %d bytes", n)
		}
		if used := s.UsedMemory() - base; used > 4096 {
			t.Fatalf("UsedMemory still %d bytes over after deleting the key of %d bytes", used, n)
		}
	}
	if db.Len() != 0 {
		t.Fatalf("%d keys left", db.Len())
	}
}

// Keys that differ only past the first 8 KB, or only in length, are
// different keys.
func TestBigKeysDistinct(t *testing.T) {
	_, db := lockedDB(t)
	a := bigKey(9000, "same")
	b := bytes.Clone(a)
	b[8999] = '!'
	c := a[:8999]
	db.SetString(a, []byte("a"), EncRaw, 0)
	db.SetString(b, []byte("b"), EncRaw, 0)
	db.SetString(c, []byte("c"), EncRaw, 0)
	mustString(t, db, a, "a")
	mustString(t, db, b, "b")
	mustString(t, db, c, "c")
	if db.Len() != 3 {
		t.Fatalf("%d keys, want 3", db.Len())
	}
}

func TestBigKeyExpiry(t *testing.T) {
	s, db := lockedDB(t)
	now := int64(1_000_000)
	s.Clock = func() int64 { return now }
	db = db.At(0)
	for _, n := range bigKeySizes {
		db.SetString(bigKey(n, "lazy:"), []byte("v"), EncRaw, now+10)
		db.SetInt(bigKey(n, "active:"), 1, now+10)
		db.SetString(bigKey(n, "keep:"), []byte("v"), EncRaw, now+10)
		db.SetExpire(bigKey(n, "keep:"), 0)
		db.SetString(bigKey(n, "later:"), []byte("v"), EncRaw, 0)
		db.SetExpire(bigKey(n, "later:"), now+1_000_000)
	}
	if e, ok := db.Lookup(bigKey(9000, "later:")); !ok || e.ExpireAt() != now+1_000_000 {
		t.Fatal("expiry on a long key")
	}
	var sampled int
	db.SampleKeys(100, true, func(e Entry) {
		sampled++
		if e.ExpireAt() == 0 || len(e.Key()) < 8000 {
			t.Fatal("volatile sample")
		}
	})
	if sampled != 3*len(bigKeySizes) {
		t.Fatalf("sampled %d volatile keys", sampled)
	}
	now += 100
	for _, n := range bigKeySizes {
		if db.Exists(bigKey(n, "lazy:")) {
			t.Fatalf("expired key of %d bytes found", n)
		}
	}
	expired := map[string]bool{}
	s.OnExpire = func(_ int, key []byte) { expired[string(key)] = true }
	s.UnlockAll()
	x := NewActiveExpirer(s)
	for i := 0; i < 200 && len(expired) < len(bigKeySizes); i++ {
		x.Cycle(10, 10)
	}
	s.LockAll()
	s.OnExpire = nil
	for _, n := range bigKeySizes {
		if !expired[string(bigKey(n, "active:"))] {
			t.Fatalf("active expiry missed the key of %d bytes", n)
		}
	}
	if db.Len() != 2*len(bigKeySizes) || db.ExpiresLen() != len(bigKeySizes) {
		t.Fatalf("%d keys (%d volatile) left", db.Len(), db.ExpiresLen())
	}
	seen := map[int]bool{}
	for i := 0; i < 2000 && len(seen) < len(bigKeySizes); i++ {
		k := db.RandomKey()
		seen[len(k)] = true
		if !db.Exists(k) {
			t.Fatal("RANDOMKEY returned a missing key")
		}
	}
	if len(seen) != len(bigKeySizes) {
		t.Fatalf("RANDOMKEY found %d of %d key lengths", len(seen), len(bigKeySizes))
	}
}

func TestBigKeyRenameMoveCopy(t *testing.T) {
	s, db := lockedDB(t)
	db1 := s.DB(1)
	small := []byte("small")
	for _, n := range bigKeySizes {
		big, big2 := bigKey(n, "big:"), bigKey(n, "big2:")
		db.SetString(small, []byte("x"), EncRaw, db.Now()+100000)
		if !db.Rename(small, big) || db.Exists(small) {
			t.Fatal("RENAME to a long key")
		}
		mustString(t, db, big, "x")
		if e, _ := db.Lookup(big); e.ExpireAt() == 0 {
			t.Fatal("RENAME lost the TTL")
		}
		db.Rename(big, big2)
		mustString(t, db, big2, "x")
		if db.Exists(big) {
			t.Fatal("RENAME left the source")
		}
		db.SetInt(big, 5, 0)
		if db.MoveTo(big, db, big2, false) {
			t.Fatal("RENAMENX over an existing key")
		}
		db.Rename(big2, small)
		mustString(t, db, small, "x")
		if !db.MoveTo(big, db, big2, false) {
			t.Fatal("RENAMENX to a free long key")
		}
		mustString(t, db, big2, "5")

		// MOVE to another database, under the same long name.
		if !db.MoveTo(big2, db1, big2, false) || db.Exists(big2) {
			t.Fatal("MOVE of a long key")
		}
		mustString(t, db1, big2, "5")

		// COPY of every kind of value.
		l := &copyList{items: []int{1}}
		db.SetObject(big, TypeList, l, 0)
		db.CopyTo(big, db1, big, true)
		if e, ok := db1.Lookup(big); !ok || e.Object() == l || e.Object().(*copyList).items[0] != 1 {
			t.Fatal("COPY of an object under a long key")
		}
		for _, v := range []string{"1234", "short", string(bigKey(300, "v")), string(bigKey(20000, "v"))} {
			if v == "1234" {
				db.SetInt(big, 1234, 0)
			} else {
				db.SetString(big, []byte(v), EncRaw, 0)
			}
			if !db.CopyTo(big, db1, big2, true) || !db1.CopyTo(big2, db1, small, true) {
				t.Fatal("COPY")
			}
			mustString(t, db1, big2, v)
			mustString(t, db1, small, v)
		}
		db.Delete(big)
		db.Delete(small)
		db1.Delete(big)
		db1.Delete(big2)
		db1.Delete(small)
	}
	if db.Len()+db1.Len() != 0 {
		t.Fatalf("%d keys left", db.Len()+db1.Len())
	}
}

type copyList struct{ items []int }

func (c *copyList) Copy() any { return &copyList{items: append([]int(nil), c.items...)} }

func TestBigKeyScan(t *testing.T) {
	_, db := lockedDB(t)
	want := map[string]bool{}
	for i := 0; i < 300; i++ {
		n := 10
		switch i % 3 {
		case 1:
			n = 8193 + i
		case 2:
			n = 100<<10 + i
		}
		k := bigKey(n, "scan"+strconv.Itoa(i)+":")
		db.SetString(k, []byte("v"), EncRaw, 0)
		want[string(k)] = true
	}
	got := map[string]bool{}
	cursor := uint64(0)
	for {
		cursor = db.Scan(cursor, 10, func(e Entry) { got[string(e.Key())] = true })
		if cursor == 0 {
			break
		}
	}
	if len(got) != len(want) {
		t.Fatalf("SCAN returned %d of %d keys", len(got), len(want))
	}
	n := 0
	db.ForEach(func(e Entry) {
		if !want[string(e.Key())] {
			t.Fatal("KEYS returned an unknown key")
		}
		n++
	})
	if n != len(want) {
		t.Fatalf("ForEach visited %d keys", n)
	}
	sampled := 0
	db.SampleKeys(20, false, func(e Entry) {
		if !want[string(e.Key())] {
			t.Fatal("eviction sample returned an unknown key")
		}
		sampled++
	})
	if sampled != 20 {
		t.Fatalf("sampled %d keys", sampled)
	}
}

// FLUSHDB and FLUSHALL give every long key's memory back: the store's
// count returns to where it was, and the huge keys' mappings are unmapped.
func TestBigKeyFlushReleases(t *testing.T) {
	s, db := lockedDB(t)
	base := s.UsedMemory()
	reserved := slab.ReservedBytes()
	fill := func() {
		for d := 0; d < 2; d++ {
			for i, n := range bigKeySizes {
				s.DB(d).SetString(bigKey(n, fmt.Sprint("f", i, ":")), []byte("v"), EncRaw, 0)
				s.DB(d).SetInt(bigKey(n, fmt.Sprint("g", i, ":")), int64(i), db.Now()+100000)
			}
		}
	}
	total := 0
	for _, n := range bigKeySizes {
		total += 4 * n
	}
	for round := 0; round < 3; round++ {
		fill()
		if used := s.UsedMemory() - base; used < int64(total) {
			t.Fatalf("UsedMemory counts %d bytes for %d bytes of keys", used, total)
		}
		if round == 0 {
			s.DB(0).Flush()
			s.DB(1).Flush()
		} else {
			s.FlushAll()
		}
		if got := s.UsedMemory(); got != base {
			t.Fatalf("round %d: UsedMemory %d after flushing, was %d", round, got, base)
		}
		// Huge keys' mappings are gone; pooled ones wait for reuse,
		// so the reservation may have grown by their chunks only.
		if grown := slab.ReservedBytes() - reserved; grown > 64<<20 {
			t.Fatalf("round %d: %d bytes still reserved after flushing", round, grown)
		}
	}
}

// TestBigKeyModel drives long and short keys with random operations
// against a map.
func TestBigKeyModel(t *testing.T) {
	s, db := lockedDB(t)
	now := int64(1_000_000)
	s.Clock = func() int64 { return now }
	type val struct {
		v   string
		exp int64
	}
	model := map[string]val{}
	rng := rand.New(rand.NewPCG(7, 7))
	keys := make([]string, 45)
	for i := range keys {
		n := []int{3, 100, 8150, 8170, 9000, 70 << 10, 3, 8161, 3 << 19}[i%9]
		keys[i] = string(bigKey(n, "m"+strconv.Itoa(i)+":"))
	}
	keyOf := func(i int) string { return keys[i] }
	live := func(k string) (val, bool) {
		m, ok := model[k]
		if ok && m.exp != 0 && m.exp <= now {
			delete(model, k)
			return val{}, false
		}
		return m, ok
	}
	for step := 0; step < 5000; step++ {
		k := keyOf(rng.IntN(45))
		switch op := rng.IntN(12); {
		case op < 4:
			v := string(bigKey([]int{0, 8, 60, 65, 300, 9000}[rng.IntN(6)], "v"))
			exp := int64(0)
			if rng.IntN(3) == 0 {
				exp = now + int64(rng.IntN(50))
			}
			db.SetString([]byte(k), []byte(v), EncRaw, exp)
			model[k] = val{v, exp}
		case op < 5:
			n := rng.Int64N(1000)
			db.SetInt([]byte(k), n, KeepTTL)
			m, _ := live(k)
			model[k] = val{strconv.FormatInt(n, 10), m.exp}
		case op < 6:
			db.Delete([]byte(k))
			delete(model, k)
		case op < 7:
			m, ok := live(k)
			exp := now + int64(rng.IntN(50))
			if rng.IntN(3) == 0 {
				exp = 0
			}
			if db.SetExpire([]byte(k), exp) != ok {
				t.Fatalf("step %d: SetExpire disagrees with the model", step)
			}
			if ok {
				model[k] = val{m.v, exp}
			}
		case op < 8:
			dst := keyOf(rng.IntN(45))
			m, ok := live(k)
			if ok != db.Exists([]byte(k)) {
				t.Fatalf("step %d: Exists disagrees with the model", step)
			}
			live(dst)
			if ok {
				db.Rename([]byte(k), []byte(dst))
				delete(model, k)
				model[dst] = m
			}
		case op < 9:
			now += int64(rng.IntN(5))
		default:
			m, ok := live(k)
			e, found := db.Lookup([]byte(k))
			if found != ok {
				t.Fatalf("step %d: Lookup=%v want %v", step, found, ok)
			}
			if ok && (string(e.AppendValue(nil)) != m.v || e.ExpireAt() != m.exp || !bytes.Equal(e.Key(), []byte(k))) {
				t.Fatalf("step %d: key of %d bytes disagrees with the model", step, len(k))
			}
		}
	}
	for k := range model {
		live(k)
	}
	if db.Len() < len(model) {
		t.Fatalf("%d keys, model has %d", db.Len(), len(model))
	}
}

// TestSnapshotWithBigKeys takes snapshots while writers overwrite,
// delete, expire and rename long keys, and change big values held under
// long keys (saved from a detached copy of their record, with no lock),
// and checks each snapshot holds exactly the dataset at its instant.
func TestSnapshotWithBigKeys(t *testing.T) {
	sizes := []int{10, 8176, 9000, 200 << 10, 5 << 20}
	keyOf := func(i int) []byte { return bigKey(sizes[i%len(sizes)], "k"+strconv.Itoa(i)+":") }
	bigOf := func(i int) []byte { return bigKey(sizes[1+i%(len(sizes)-1)], "big"+strconv.Itoa(i)+":") }
	for round := 0; round < 3; round++ {
		s := New(2)
		now := s.Clock()
		for i := 0; i < 40; i++ {
			exp := int64(0)
			if i%4 == 0 {
				exp = now + 3_600_000
			}
			s.DB(i%2).SetString(keyOf(i), []byte("v"+strconv.Itoa(i)), EncRaw, exp)
		}
		for i := 0; i < 4; i++ {
			b := &bigList{}
			for j := 0; j < 3000; j++ {
				b.items = append(b.items, j)
			}
			s.DB(0).SetObject(bigOf(i), TypeList, b, 0)
		}
		s.LockAll()
		want := state(s)
		saver := &collectSaver{t: t, got: map[string]string{}, bigOver: 1000}
		sn, err := s.BeginSnapshot(now, saver)
		if err != nil {
			t.Fatal(err)
		}
		s.UnlockAll()

		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 3; w++ {
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
					var ss ShardSet
					db := s.DB(rng.IntN(2))
					var key, dst []byte
					big := rng.IntN(10) == 0
					if big {
						key, db = bigOf(rng.IntN(4)), s.DB(0)
					} else {
						key, dst = keyOf(rng.IntN(50)), keyOf(rng.IntN(50))
						ss.Add(dst)
					}
					ss.Add(key)
				retry:
					s.Lock(&ss)
					for _, k := range [][]byte{key, dst} {
						if k == nil {
							continue
						}
						if wait := db.PrepareWrite(k); wait != nil {
							s.Unlock(&ss)
							wait()
							goto retry
						}
					}
					switch op := rng.IntN(6); {
					case big:
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
					case op == 3 && db.Exists(key):
						db.Rename(key, dst)
					default:
						db.SetString(key, []byte("w"+strconv.Itoa(n)), EncRaw, KeepTTL)
					}
					s.Unlock(&ss)
				}
			}(uint64(w))
		}
		if round == 1 {
			s.LockAll()
			s.DB(1).Flush()
			s.UnlockAll()
		}
		sn.Walk(4, nil)
		close(stop)
		wg.Wait()
		<-sn.Done()
		if len(saver.got) != len(want) {
			t.Errorf("round %d: saved %d keys, want %d", round, len(saver.got), len(want))
		}
		for k, v := range want {
			if saver.got[k] != v {
				t.Errorf("round %d: key of %d bytes saved as %q, want %q", round, len(k), saver.got[k], v)
				break
			}
		}
		s.LockAll()
		s.FlushAll()
		if s.UsedMemory() > 1<<20 {
			t.Errorf("round %d: UsedMemory %d after FLUSHALL", round, s.UsedMemory())
		}
		s.UnlockAll()
	}
}
