package rdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

func TestCRC64ShiftAndCombine(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		a := make([]byte, rng.IntN(100))
		b := make([]byte, rng.IntN(3000))
		for j := range a {
			a[j] = byte(rng.Uint32())
		}
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		if i%5 == 0 {
			clear(b) // the zero extension ShiftCRC64 stands for
			if got, want := ShiftCRC64(CRC64(a), int64(len(b))), CRC64(append(slices.Clone(a), b...)); got != want {
				t.Fatalf("shift by %d: %#x, want %#x", len(b), got, want)
			}
		}
		if got, want := CombineCRC64(CRC64(a), CRC64(b), int64(len(b))), CRC64(append(slices.Clone(a), b...)); got != want {
			t.Fatalf("combine %d+%d: %#x, want %#x", len(a), len(b), got, want)
		}
	}
	// Long zero runs go through many squarings: check one against the
	// byte-at-a-time CRC.
	zeros := make([]byte, 5<<20)
	if got, want := ShiftCRC64(CRC64([]byte("abc")), int64(len(zeros))), UpdateCRC64(CRC64([]byte("abc")), zeros); got != want {
		t.Fatalf("5 MiB shift: %#x, want %#x", got, want)
	}
}

func TestTypeVersion(t *testing.T) {
	for typ := range byte(26) {
		want := Version70
		switch {
		case typ >= 22:
			want = VersionHashTTL
		case typ >= 20:
			want = Version72
		}
		if got := TypeVersion(typ); got != want {
			t.Errorf("type %d: version %d, want %d", typ, got, want)
		}
	}
}

// unpatchable hides a buffer's type, so the FileWriter cannot rewrite
// what it flushed (as a socket).
type unpatchable struct{ b *bytes.Buffer }

func (u unpatchable) Write(p []byte) (int, error) { return u.b.Write(p) }

// testFile writes a file with a big string (flushing the header past
// the writer's buffer when big is set) and then a key of each type in
// types, and returns the bytes and Finish's error.
func testFile(t *testing.T, out interface {
	Write([]byte) (int, error)
}, label int, big bool, types ...byte) error {
	t.Helper()
	fw := NewFileWriter(out, label, true)
	fw.Aux("redis-ver", "7.2.4")
	fw.SelectDB(0, uint64(len(types)+1), 0)
	fw.Key([]byte("filler"), KeyMeta{Idle: -1, Freq: -1}, TypeString)
	n := 10
	if big {
		n = 200 << 10
	}
	fill := make([]byte, n)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range fill {
		fill[i] = byte(rng.Uint32()) // incompressible: LZF leaves it as long as it is
	}
	fw.WriteString(fill)
	for i, typ := range types {
		fw.Key([]byte("key-number-"+strconv.Itoa(i)), KeyMeta{Idle: -1, Freq: -1}, typ)
		writeSample(fw.Writer, typ)
	}
	return fw.Finish()
}

// writeSample writes a small valid value of type typ.
func writeSample(w *Writer, typ byte) {
	switch typ {
	case TypeString:
		w.WriteString([]byte("v"))
	case TypeSet:
		w.WriteLen(1)
		w.WriteString([]byte("m"))
	case TypeSetListpack:
		w.WriteListpack(slices.Values([][]byte{[]byte("1"), []byte("2")}))
	case TypeHashListpack:
		w.WriteListpack(slices.Values([][]byte{[]byte("f"), []byte("v")}))
	case TypeHash:
		w.WriteLen(1)
		w.WriteString([]byte("f"))
		w.WriteString([]byte("v"))
	case TypeHashMetadata:
		w.WriteMillis(4102444800000) // the earliest expiry, then relative ones
		w.WriteLen(2)
		w.WriteLen(1)
		w.WriteString([]byte("f"))
		w.WriteString([]byte("v"))
		w.WriteLen(0)
		w.WriteString([]byte("g"))
		w.WriteString([]byte("w"))
	case TypeHashListpackEx:
		w.WriteMillis(4102444800000)
		w.WriteListpack(slices.Values([][]byte{[]byte("f"), []byte("v"), []byte("4102444800000")}))
	default:
		panic("no sample for type " + strconv.Itoa(int(typ)))
	}
}

// checkFile loads data, checking its checksum, and returns its version.
func checkFile(t *testing.T, data []byte) int {
	t.Helper()
	if want := CRC64(data[:len(data)-8]); binary.LittleEndian.Uint64(data[len(data)-8:]) != want {
		t.Fatalf("trailing CRC64 is not the file's")
	}
	ver, err := Load(bytes.NewReader(data), &Loader{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if hv, _ := strconv.Atoi(string(data[5:9])); hv != ver {
		t.Fatalf("Load says %d, header %q", ver, data[:9])
	}
	return ver
}

// TestFileVersionLabel: a file says the oldest version that defines its
// types (Redis 7.0's 10 at least), whether the header is still buffered
// or already flushed (patched in place, CRC corrected).
func TestFileVersionLabel(t *testing.T) {
	cases := []struct {
		types []byte
		want  int
	}{
		{nil, Version70},
		{[]byte{TypeSet, TypeHashListpack, TypeHash}, Version70},
		{[]byte{TypeSetListpack, TypeString}, Version72},
		{[]byte{TypeString, TypeHashListpackEx, TypeSetListpack}, VersionHashTTL},
		{[]byte{TypeHashMetadata}, VersionHashTTL},
	}
	for _, tc := range cases {
		for _, big := range []bool{false, true} {
			for _, label := range []int{0, Version72, VersionHashTTL} {
				var buf bytes.Buffer
				buf.WriteString("preceding bytes are not the file's")
				skip := buf.Len()
				if err := testFile(t, &buf, label, big, tc.types...); err != nil {
					t.Fatal(err)
				}
				if got := checkFile(t, buf.Bytes()[skip:]); got != tc.want {
					t.Errorf("types %v (big %v, provisional %d): version %d, want %d", tc.types, big, label, got, tc.want)
				}
			}
		}
	}
}

func TestFileVersionLabelOnFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !CanRelabel(f) {
		t.Fatal("a file cannot be relabelled")
	}
	if err := testFile(t, f, 0, true, TypeSetListpack); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if got := checkFile(t, data); got != Version72 {
		t.Fatalf("version %d, want %d", got, Version72)
	}
}

// TestFileVersionUnpatchable: on an output that cannot be rewritten the
// header is corrected while still buffered; past that a type beyond the
// label fails the writer, and a label above what is needed stays.
func TestFileVersionUnpatchable(t *testing.T) {
	var buf bytes.Buffer
	if CanRelabel(unpatchable{&buf}) {
		t.Fatal("unpatchable reported patchable")
	}
	if err := testFile(t, unpatchable{&buf}, 0, false, TypeHashListpackEx); err != nil {
		t.Fatal(err)
	}
	if got := checkFile(t, buf.Bytes()); got != VersionHashTTL {
		t.Fatalf("small file: version %d", got)
	}
	buf.Reset()
	if err := testFile(t, unpatchable{&buf}, VersionHashTTL, false, TypeString); err != nil {
		t.Fatal(err)
	}
	if got := checkFile(t, buf.Bytes()); got != Version70 {
		t.Fatalf("small file, label lowered while buffered: version %d", got)
	}
	buf.Reset()
	if err := testFile(t, unpatchable{&buf}, VersionHashTTL, true, TypeString); err != nil {
		t.Fatal(err)
	}
	if got := checkFile(t, buf.Bytes()); got != VersionHashTTL {
		t.Fatalf("big file with an upper bound: version %d", got)
	}
	buf.Reset()
	err := testFile(t, unpatchable{&buf}, 0, true, TypeString, TypeHashListpackEx)
	if err == nil {
		t.Fatal("a type-25 key went into a file labelled 10 that could not be corrected")
	}
	if bytes.Contains(buf.Bytes(), []byte("key-number-1")) {
		t.Fatal("the key the label does not cover was written")
	}
}

// TestLoadVersions: every version up to 12 loads; 13 is refused with
// Redis's message before anything else is read.
func TestLoadVersions(t *testing.T) {
	for v := 1; v <= MaxVersion+1; v++ {
		b := []byte("REDIS" + strconv.Itoa(10000 + v)[1:])
		b = append(b, OpSelectDB, 0, TypeString, 1, 'k', 1, 'v', OpEOF)
		if v >= 5 {
			b = binary.LittleEndian.AppendUint64(b, CRC64(b))
		}
		got, err := Load(bytes.NewReader(b), &Loader{})
		if v > MaxVersion {
			var ve *VersionError
			if !errors.As(err, &ve) || !errors.Is(err, ErrVersion) || err.Error() != "Can't handle RDB format version 13" {
				t.Fatalf("version %d: %v", v, err)
			}
			continue
		}
		if err != nil || got != v {
			t.Fatalf("version %d: %d, %v", v, got, err)
		}
	}
	if _, err := Load(bytes.NewReader([]byte("REDIS00x1")), &Loader{}); err == nil || err.Error() != "Can't handle RDB format version 0" {
		t.Fatalf("non-numeric version: %v", err)
	}
}

// TestStreamType: a stream whose consumers' active times equal their
// seen times (or that has none) is Redis 7.0's type 19, and reads back
// the same; one with a differing active time is 21.
func TestStreamType(t *testing.T) {
	entries := func(yield func(StreamID, [][]byte) bool) {
		yield(StreamID{1, 1}, [][]byte{[]byte("a"), []byte("b")})
	}
	for _, tc := range []struct {
		active int64
		want   byte
	}{{5, TypeStreamListpacks2}, {-1, TypeStreamListpacks3}} {
		s := &Stream{Length: 1, LastID: StreamID{1, 1}, FirstID: StreamID{1, 1}, EntriesAdded: 1,
			Groups: []StreamGroup{{Name: []byte("g"), LastID: StreamID{1, 1}, EntriesRead: 1,
				PEL:       []StreamNACK{{StreamID{1, 1}, 7, 1}},
				Consumers: []StreamConsumer{{Name: []byte("c"), SeenTime: 5, ActiveTime: tc.active, PEL: []StreamID{{1, 1}}}}}}}
		if got := s.RDBType(); got != tc.want {
			t.Fatalf("active %d: type %d, want %d", tc.active, got, tc.want)
		}
		w := NewBufferWriter(nil)
		w.WriteStream(s, entries, 100, 4096)
		o, err := ReadObject(NewReader(w.Bytes()), tc.want)
		if err != nil {
			t.Fatal(err)
		}
		c := o.Stream.Groups[0].Consumers[0]
		if c.SeenTime != 5 || c.ActiveTime != tc.active || o.Stream.EntriesAdded != 1 {
			t.Fatalf("read back %+v", c)
		}
	}
	if (&Stream{}).RDBType() != TypeStreamListpacks2 {
		t.Fatal("a stream with no groups is not type 19")
	}
}
