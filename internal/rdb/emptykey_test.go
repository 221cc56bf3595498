package rdb

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// emptyValue is a collection with no elements in one type and encoding,
// as bugs of older Redis versions could leave in a file.
type emptyValue struct {
	name string
	typ  byte
	val  []byte
}

// emptyValues returns one empty collection per type and encoding Redis's
// loader skips.
func emptyValues() []emptyValue {
	w := func(fn func(w *Writer)) []byte { b := NewBufferWriter(nil); fn(b); return b.Bytes() }
	zero := w(func(w *Writer) { w.WriteLen(0) })
	emptyZiplist := w(func(w *Writer) { w.WriteRawString(testZiplist()) })
	emptyLP := NewListpackBuilder().Bytes()
	lp := w(func(w *Writer) { w.WriteRawString(emptyLP) })
	return []emptyValue{
		{"set", TypeSet, zero},
		{"set_listpack", TypeSetListpack, lp},
		{"list", TypeList, zero},
		{"list_ziplist", TypeListZiplist, emptyZiplist},
		{"list_quicklist", TypeListQuicklist, zero},
		{"list_quicklist_empty_ziplist", TypeListQuicklist, w(func(w *Writer) {
			w.WriteLen(2)
			w.WriteRawString(testZiplist())
			w.WriteRawString(testZiplist())
		})},
		{"list_quicklist2", TypeListQuicklist2, zero},
		{"list_quicklist2_empty_listpack", TypeListQuicklist2, w(func(w *Writer) {
			w.WriteLen(1)
			w.WriteLen(containerPacked)
			w.WriteRawString(emptyLP)
		})},
		{"hash", TypeHash, zero},
		{"hash_ziplist", TypeHashZiplist, emptyZiplist},
		{"hash_listpack", TypeHashListpack, lp},
		{"hash_metadata", TypeHashMetadata, w(func(w *Writer) { w.WriteMillis(0); w.WriteLen(0) })},
		{"hash_metadata_pre_ga", TypeHashMetadataPreGA, zero},
		{"hash_listpack_ex", TypeHashListpackEx, w(func(w *Writer) { w.WriteMillis(0); w.WriteRawString(emptyLP) })},
		{"hash_listpack_ex_pre_ga", TypeHashListpackExPreGA, lp},
		{"zset", TypeZSet, zero},
		{"zset2", TypeZSet2, zero},
		{"zset_ziplist", TypeZSetZiplist, emptyZiplist},
		{"zset_listpack", TypeZSetListpack, lp},
	}
}

// TestLoadSkipsEmptyKeys loads a file holding an empty collection of every
// type and encoding between ordinary keys: Load skips each (reporting it
// to EmptyKey) and goes on, as Redis 7.2's loader does, while ReadObject
// alone (RESTORE) still refuses them.
func TestLoadSkipsEmptyKeys(t *testing.T) {
	empties := emptyValues()
	for _, e := range empties {
		r := NewReader(e.val)
		_, err := ReadObject(r, e.typ)
		if !errors.Is(err, ErrEmpty) || !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: ReadObject error %v, want ErrEmpty (a corrupt payload)", e.name, err)
		}
		if r.Remaining() != 0 {
			t.Errorf("%s: %d bytes left unread", e.name, r.Remaining())
		}
	}
	// An empty intset or zipmap is not an empty key but a corrupt blob,
	// which Redis's integrity checks refuse whatever the caller.
	for typ, blob := range map[byte][]byte{TypeSetIntset: {2, 0, 0, 0, 0, 0, 0, 0}, TypeHashZipmap: {0, 0xff}} {
		b := NewBufferWriter(nil)
		b.WriteRawString(blob)
		if _, err := ReadObject(NewReader(b.Bytes()), typ); err == nil || errors.Is(err, ErrEmpty) {
			t.Errorf("empty blob of type %d: %v, want a corrupt payload", typ, err)
		}
	}

	var buf bytes.Buffer
	fw := NewFileWriter(&buf, 0, true)
	fw.Aux("redis-ver", "6.0.0")
	fw.SelectDB(0, uint64(len(empties)+2), 1)
	fw.Key([]byte("first"), KeyMeta{Idle: -1, Freq: -1}, TypeString)
	fw.WriteString([]byte("v"))
	for i, e := range empties {
		// An expiry and LFU counter on an empty key must not stick to the
		// key that follows it.
		fw.Key([]byte(e.name), KeyMeta{ExpireAt: 1 << 40, Idle: -1, Freq: 5}, e.typ)
		fw.WriteRaw(e.val)
		if i%2 == 0 {
			fw.Key([]byte("after_"+e.name), KeyMeta{Idle: -1, Freq: -1}, TypeList)
			fw.WriteLen(1)
			fw.WriteString([]byte("x"))
		}
	}
	fw.SelectDB(1, 1, 0)
	fw.Key([]byte("last"), KeyMeta{Idle: -1, Freq: -1}, TypeString)
	fw.WriteString([]byte("w"))
	if err := fw.Finish(); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()

	var loaded, skipped, want, wantSkipped []string
	want = append(want, "0:first")
	for i, e := range empties {
		wantSkipped = append(wantSkipped, e.name)
		if i%2 == 0 {
			want = append(want, "0:after_"+e.name)
		}
	}
	want = append(want, "1:last")
	l := &Loader{
		Key: func(k KeyInfo, r *Reader) error {
			o, err := ReadObject(r, k.Type)
			if err != nil {
				return err
			}
			if k.ExpireAt != 0 || k.Freq != -1 || o.Len() != 1 {
				t.Errorf("key %s: expiry %d, freq %d, %d elements", k.Key, k.ExpireAt, k.Freq, o.Len())
			}
			loaded = append(loaded, string(rune('0'+k.DB))+":"+string(k.Key))
			return nil
		},
		EmptyKey: func(k KeyInfo) error {
			skipped = append(skipped, string(k.Key))
			return nil
		},
	}
	if _, err := Load(bytes.NewReader(file), l); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !slices.Equal(loaded, want) || !slices.Equal(skipped, wantSkipped) {
		t.Fatalf("loaded %v\nwant %v\nskipped %v\nwant %v", loaded, want, skipped, wantSkipped)
	}

	// Without callbacks the empty keys are skipped silently.
	if _, err := Load(bytes.NewReader(file), &Loader{}); err != nil {
		t.Fatalf("Load without callbacks: %v", err)
	}
	// EmptyKey can refuse them.
	refuse := errors.New("refused")
	l.EmptyKey = func(KeyInfo) error { return refuse }
	if _, err := Load(bytes.NewReader(file), l); !errors.Is(err, refuse) {
		t.Fatalf("Load with a refusing EmptyKey: %v", err)
	}
}
