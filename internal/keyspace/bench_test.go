package keyspace

import (
	"bytes"
	"fmt"
	"testing"
)

func benchKeys(n, size int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = bigKey(size, fmt.Sprintf("key:%012d", i))
	}
	return keys
}

// BenchmarkSetRealloc overwrites keys with values of alternating size
// classes, so that every SET makes a new record and frees the old one.
func BenchmarkSetRealloc(b *testing.B) {
	_, db := lockedDB(b)
	keys := benchKeys(100000, 16)
	vals := [][]byte{bytes.Repeat([]byte("x"), 40), bytes.Repeat([]byte("y"), 300)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		k := keys[i%len(keys)]
		db.SetString(k, vals[i/len(keys)%2], EncRaw, 0)
		db.Lookup(k)
	}
}

// BenchmarkSetDelete creates and deletes keys: insertion, allocation,
// freeing and backward-shift deletion.
func BenchmarkSetDelete(b *testing.B) {
	_, db := lockedDB(b)
	keys := benchKeys(100000, 16)
	val := bytes.Repeat([]byte("x"), 100)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		k := keys[i%len(keys)]
		db.SetString(k, val, EncRaw, 0)
		db.Delete(k)
	}
}

// BenchmarkSetGetBigKey is BenchmarkSetGet with 9000-byte keys (large
// slab objects), alternating value sizes so records are remade.
func BenchmarkSetGetBigKey(b *testing.B) {
	_, db := lockedDB(b)
	keys := benchKeys(1000, 9000)
	vals := [][]byte{[]byte("v"), bytes.Repeat([]byte("y"), 60)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		k := keys[i%len(keys)]
		db.SetString(k, vals[i/len(keys)%2], EncRaw, 0)
		db.Lookup(k)
	}
}
