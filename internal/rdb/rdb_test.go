package rdb

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

func TestLZFRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		n := rng.IntN(5000) + 21
		in := make([]byte, n)
		alpha := rng.IntN(255) + 1
		for j := range in {
			in[j] = byte(rng.IntN(alpha))
		}
		if i%3 == 0 {
			copy(in[n/2:], in[:n/2])
		}
		c := lzfCompress(nil, in, n-4)
		if c == nil {
			continue
		}
		out, err := lzfDecompress(c, n)
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("round trip %d failed: %v", i, err)
		}
	}
	if c := lzfCompress(nil, bytes.Repeat([]byte("abc"), 1000), 2996); c == nil || len(c) > 100 {
		t.Fatalf("repetitive input compressed to %d bytes", len(c))
	}
}

func TestStringEncodings(t *testing.T) {
	cases := []string{"", "0", "-1", "127", "-128", "128", "32767", "-32769", "2147483647", "-2147483648",
		"2147483648", "007", "+1", "1 ", "hello", string(bytes.Repeat([]byte("xy"), 100)), "12345678901234567890"}
	for _, s := range cases {
		w := NewBufferWriter(nil)
		w.WriteString([]byte(s))
		r := NewReader(w.Bytes())
		got, err := r.ReadString()
		if err != nil || string(got) != s || r.Remaining() != 0 {
			t.Fatalf("%q: got %q, %v", s, got, err)
		}
	}
	// Integer encodings are used for canonical 32-bit integers only.
	w := NewBufferWriter(nil)
	w.WriteString([]byte("-2147483648"))
	if len(w.Bytes()) != 5 {
		t.Fatalf("INT32 not used: % x", w.Bytes())
	}
}

func TestLengths(t *testing.T) {
	for _, n := range []uint64{0, 63, 64, 16383, 16384, math.MaxUint32, math.MaxUint32 + 1, math.MaxUint64} {
		b := AppendLen(nil, n)
		got, enc, err := NewReader(b).ReadLen()
		if err != nil || enc || got != n {
			t.Fatalf("%d: %d %v %v", n, got, enc, err)
		}
	}
}

func TestDoubles(t *testing.T) {
	for _, f := range []float64{0, 1.5, -3.25e100, math.Inf(1), math.Inf(-1), math.SmallestNonzeroFloat64, 0.1} {
		w := NewBufferWriter(nil)
		w.WriteDouble(f)
		w.WriteBinaryDouble(f)
		r := NewReader(w.Bytes())
		a, err1 := r.ReadDouble()
		b, err2 := r.ReadBinaryDouble()
		if err1 != nil || err2 != nil || a != f || b != f {
			t.Fatalf("%v: %v %v %v %v", f, a, b, err1, err2)
		}
	}
	w := NewBufferWriter(nil)
	w.WriteDouble(math.NaN())
	if f, _ := NewReader(w.Bytes()).ReadDouble(); !math.IsNaN(f) {
		t.Fatal("NaN")
	}
}

func TestListpack(t *testing.T) {
	lb := NewListpackBuilder()
	vals := []string{"0", "127", "128", "-1", "-4096", "4095", "4096", "-32768", "32768", "8388607", "-8388609",
		"2147483648", "-9223372036854775808", "9223372036854775807", "abc", "", string(bytes.Repeat([]byte("z"), 70)),
		string(bytes.Repeat([]byte("q"), 5000)), "01", "1.5"}
	for _, v := range vals {
		lb.Append([]byte(v))
	}
	lp := lb.Bytes()
	els, err := ParseListpack(lp)
	if err != nil || len(els) != len(vals) {
		t.Fatalf("%v %d", err, len(els))
	}
	for i, e := range els {
		if string(e.Bytes()) != vals[i] {
			t.Fatalf("%d: %q want %q", i, e.Bytes(), vals[i])
		}
	}
	for i := range lp {
		bad := slices.Clone(lp)
		bad[i] ^= 0x5a
		ParseListpack(bad) // must not panic
		if _, err := ParseListpack(lp[:i]); err == nil {
			t.Fatalf("truncated at %d accepted", i)
		}
	}
}

func TestIntset(t *testing.T) {
	for _, vals := range [][]int64{{1, 2, 3}, {-40000, 5, 70000}, {math.MinInt64, 0, math.MaxInt64}} {
		got, err := ParseIntset(BuildIntset(vals))
		if err != nil || !slices.Equal(got, vals) {
			t.Fatalf("%v: %v %v", vals, got, err)
		}
	}
	if _, err := ParseIntset(BuildIntset([]int64{3, 2})); err == nil {
		t.Fatal("unsorted intset accepted")
	}
}

func TestStreamRoundTrip(t *testing.T) {
	meta := &Stream{Length: 250, LastID: StreamID{1000, 5}, FirstID: StreamID{1, 0}, MaxDeletedID: StreamID{3, 3}, EntriesAdded: 260,
		Groups: []StreamGroup{{Name: []byte("g"), LastID: StreamID{2, 0}, EntriesRead: -1,
			PEL:       []StreamNACK{{StreamID{1, 0}, 12345, 2}, {StreamID{2, 0}, 99, 1}},
			Consumers: []StreamConsumer{{Name: []byte("alice"), SeenTime: 5, ActiveTime: 6, PEL: []StreamID{{1, 0}, {2, 0}}}}}}}
	var entries []StreamEntry
	for i := range 250 {
		fv := [][]byte{[]byte("f"), []byte(strconv.Itoa(i))}
		if i%7 == 0 {
			fv = append(fv, []byte("extra"), []byte("x"))
		}
		entries = append(entries, StreamEntry{StreamID{uint64(i + 1), uint64(i % 3)}, fv})
	}
	w := NewBufferWriter(nil)
	w.WriteStream(meta, func(yield func(StreamID, [][]byte) bool) {
		for _, e := range entries {
			if !yield(e.ID, e.Fields) {
				return
			}
		}
	}, 100, 4096)
	o, err := ReadObject(NewReader(w.Bytes()), TypeStreamListpacks3)
	if err != nil {
		t.Fatal(err)
	}
	s := o.Stream
	if len(s.Entries) != 250 || s.LastID != meta.LastID || s.EntriesAdded != 260 || s.MaxDeletedID != meta.MaxDeletedID {
		t.Fatalf("metadata: %+v", s)
	}
	for i, e := range s.Entries {
		if e.ID != entries[i].ID || len(e.Fields) != len(entries[i].Fields) || string(e.Fields[1]) != strconv.Itoa(i) {
			t.Fatalf("entry %d: %+v", i, e)
		}
	}
	g := s.Groups[0]
	if string(g.Name) != "g" || g.EntriesRead != -1 || len(g.PEL) != 2 || g.PEL[0].DeliveryTime != 12345 ||
		string(g.Consumers[0].Name) != "alice" || g.Consumers[0].ActiveTime != 6 || len(g.Consumers[0].PEL) != 2 {
		t.Fatalf("group: %+v", g)
	}
}

func TestFileRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	fw := NewFileWriter(&buf, Version, true)
	fw.Aux("redis-ver", "7.2.4")
	fw.AuxInt("redis-bits", 64)
	fw.Function([]byte("#!lua name=lib\nredis.register_function('f', function() return 1 end)"))
	fw.SelectDB(0, 2, 1)
	fw.Key([]byte("k1"), KeyMeta{ExpireAt: 1700000000000, Idle: -1, Freq: -1}, TypeString)
	fw.WriteString([]byte("v1"))
	fw.SelectDB(3, 1, 0)
	fw.Key([]byte("k2"), KeyMeta{Idle: 10, Freq: -1}, TypeSetIntset)
	fw.WriteIntset([]int64{1, 2})
	if err := fw.Finish(); err != nil {
		t.Fatal(err)
	}
	var keys []KeyInfo
	var aux, funcs int
	l := &Loader{
		Aux:      func(k, v []byte) error { aux++; return nil },
		Function: func(code []byte) error { funcs++; return nil },
		Key: func(k KeyInfo, r *Reader) error {
			_, err := ReadObject(r, k.Type)
			keys = append(keys, k)
			return err
		},
	}
	data := buf.Bytes()
	if _, err := Load(bytes.NewReader(data), l); err != nil {
		t.Fatal(err)
	}
	if aux != 2 || funcs != 1 || len(keys) != 2 || keys[0].ExpireAt != 1700000000000 || keys[1].DB != 3 || keys[1].Idle != 10 {
		t.Fatalf("aux %d funcs %d keys %+v", aux, funcs, keys)
	}
	bad := slices.Clone(data)
	bad[12] ^= 1
	if _, err := Load(bytes.NewReader(bad), &Loader{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupted file: %v", err)
	}
	for i := range data {
		Load(bytes.NewReader(data[:i]), &Loader{}) // must not panic
	}
}

// FuzzReadObject feeds arbitrary payloads to the decoder: it may refuse
// them but must never panic or hang.
func FuzzReadObject(f *testing.F) {
	w := NewBufferWriter(nil)
	w.WriteQuicklist2(slices.Values([][]byte{[]byte("a"), []byte("12")}), -2)
	f.Add(byte(TypeListQuicklist2), w.Bytes())
	w = NewBufferWriter(nil)
	w.WriteListpack(slices.Values([][]byte{[]byte("m"), []byte("1.5")}))
	f.Add(byte(TypeZSetListpack), w.Bytes())
	f.Add(byte(TypeSetIntset), append([]byte{16}, BuildIntset([]int64{1, 5})...))
	w = NewBufferWriter(nil)
	w.WriteStream(&Stream{Length: 1, LastID: StreamID{1, 1}}, func(yield func(StreamID, [][]byte) bool) {
		yield(StreamID{1, 1}, [][]byte{[]byte("a"), []byte("b")})
	}, 100, 4096)
	f.Add(byte(TypeStreamListpacks3), w.Bytes())
	f.Add(byte(TypeString), []byte{0xc3, 0x05, 0x10, 0x01, 'a', 'b'})
	f.Fuzz(func(t *testing.T, typ byte, data []byte) {
		ReadObject(NewReader(data), typ)
		ReadObject(NewStreamReader(bytes.NewReader(data)), typ)
		ParseZiplist(data)
		ParseZipmap(data)
	})
}

func TestCRC64Vector(t *testing.T) {
	// Redis's crc64.c self-test vector.
	if got := CRC64([]byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64 = %#x", got)
	}
}

func TestLZFBackReference(t *testing.T) {
	// "aaaaaaaaaa": one literal 'a', then a back reference of 9 bytes at distance 1.
	in := []byte{0, 'a', 7 << 5, 0, 0}
	out, err := lzfDecompress(in, 1+7+0+2)
	if err != nil || string(out) != "aaaaaaaaaa" {
		t.Fatalf("lzf: %q %v", out, err)
	}
}
