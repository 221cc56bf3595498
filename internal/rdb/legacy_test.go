package rdb

import (
	"encoding/binary"
	"strconv"
	"testing"
)

// testZiplist builds a ziplist the way old Redis versions wrote them
// (strings with 6-bit lengths, small integers as int16).
func testZiplist(elems ...string) []byte {
	b := make([]byte, 10)
	prev, last := 0, 10
	for _, e := range elems {
		start := len(b)
		last = start
		b = append(b, byte(prev))
		if v, err := strconv.ParseInt(e, 10, 16); err == nil && strconv.FormatInt(v, 10) == e {
			b = binary.LittleEndian.AppendUint16(append(b, 0xc0), uint16(v))
		} else {
			b = append(b, byte(len(e)))
			b = append(b, e...)
		}
		prev = len(b) - start
	}
	b = append(b, 0xff)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint32(b[4:], uint32(last))
	binary.LittleEndian.PutUint16(b[8:], uint16(len(elems)))
	return b
}

func TestLegacyEncodings(t *testing.T) {
	blob := func(b []byte) []byte { w := NewBufferWriter(nil); w.WriteRawString(b); return w.Bytes() }
	zm := []byte{2, 1, 'a', 1, 0, 'x', 2, 'b', 'b', 3, 1, 'y', 'y', 'y', 0, 0xff}
	w := NewBufferWriter(nil)
	w.WriteLen(2)
	w.WriteString([]byte("m"))
	w.WriteDouble(1.5)
	w.WriteString([]byte("n"))
	w.WriteDouble(-2)
	oldZSet := w.Bytes()
	w = NewBufferWriter(nil)
	w.WriteLen(2)
	w.WriteRawString(testZiplist("a", "1"))
	w.WriteRawString(testZiplist("b"))
	oldQuicklist := w.Bytes()
	cases := []struct {
		typ  byte
		data []byte
		want string
	}{
		{TypeListZiplist, blob(testZiplist("a", "12", "-7", "bc")), "[a 12 -7 bc]"},
		{TypeListQuicklist, oldQuicklist, "[a 1 b]"},
		{TypeHashZiplist, blob(testZiplist("f", "v", "g", "300")), "[f=v g=300]"},
		{TypeZSetZiplist, blob(testZiplist("m", "2", "n", "3.5")), "[m:2 n:3.5]"},
		{TypeHashZipmap, blob(zm), "[a=x bb=yyy]"},
		{TypeZSet, oldZSet, "[m:1.5 n:-2]"},
	}
	for _, tc := range cases {
		o, err := ReadObject(NewReader(tc.data), tc.typ)
		if err != nil {
			t.Fatalf("type %d: %v", tc.typ, err)
		}
		var got []string
		switch o.Kind {
		case KindList:
			for _, e := range o.List {
				got = append(got, string(e))
			}
		case KindHash:
			for _, f := range o.Hash {
				got = append(got, string(f.Field)+"="+string(f.Value))
			}
		case KindZSet:
			for _, z := range o.ZSet {
				got = append(got, string(z.Member)+":"+strconv.FormatFloat(z.Score, 'g', -1, 64))
			}
		}
		if s := "[" + join(got) + "]"; s != tc.want {
			t.Errorf("type %d: %s, want %s", tc.typ, s, tc.want)
		}
	}
	// Duplicates and corrupt blobs are refused.
	if _, err := ReadObject(NewReader(blob(testZiplist("f", "v", "f", "w"))), TypeHashZiplist); err == nil {
		t.Error("duplicate ziplist hash fields accepted")
	}
	bad := testZiplist("a", "b")
	bad[11]++ // a wrong string length
	if _, err := ReadObject(NewReader(blob(bad)), TypeListZiplist); err == nil {
		t.Error("corrupt ziplist accepted")
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}
