package stream

import (
	"fmt"
	"math/rand"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/ds/slab"
)

type modelEntry struct {
	id ID
	fv []string
}

func collect(s *Stream, start, end ID, rev bool) []modelEntry {
	var out []modelEntry
	s.Range(start, end, rev, func(id ID, fv [][]byte) bool {
		e := modelEntry{id: id}
		for _, b := range fv {
			e.fv = append(e.fv, string(b))
		}
		out = append(out, e)
		return true
	})
	return out
}

func modelRange(m []modelEntry, start, end ID, rev bool) []modelEntry {
	var out []modelEntry
	for _, e := range m {
		if !e.id.Less(start) && !end.Less(e.id) {
			out = append(out, e)
		}
	}
	if rev {
		slices.Reverse(out)
	}
	return out
}

func equalEntries(a, b []modelEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].id != b[i].id || !slices.Equal(a[i].fv, b[i].fv) {
			return false
		}
	}
	return true
}

// TestAgainstModel drives random appends, deletes, trims and ranges
// against a plain sorted slice.
func TestAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 20; round++ {
		s := New()
		var m []modelEntry
		maxEntries := 1 + rng.Intn(20)
		last := ID{}
		for op := 0; op < 2000; op++ {
			switch r := rng.Intn(10); {
			case r < 6:
				id := ID{last.Ms + uint64(rng.Intn(3)), uint64(rng.Intn(1000))}
				if !last.Less(id) {
					id, _ = last.Incr()
				}
				var fv []string
				if rng.Intn(2) == 0 {
					fv = []string{"f", fmt.Sprint(op)}
				} else {
					for k := 0; k < 1+rng.Intn(3); k++ {
						fv = append(fv, fmt.Sprint("k", rng.Intn(3)), fmt.Sprint(rng.Intn(100000)))
					}
				}
				b := make([][]byte, len(fv))
				for i := range fv {
					b[i] = []byte(fv[i])
				}
				s.Append(id, b, maxEntries, 0)
				m = append(m, modelEntry{id, fv})
				last = id
			case r < 8:
				if len(m) == 0 {
					continue
				}
				k := rng.Intn(len(m))
				if !s.Delete(m[k].id) {
					t.Fatalf("delete %v failed", m[k].id)
				}
				if s.Delete(m[k].id) {
					t.Fatalf("double delete %v", m[k].id)
				}
				m = append(m[:k], m[k+1:]...)
			case r < 9:
				maxlen := int64(rng.Intn(len(m) + 5))
				del := s.Trim(TrimArgs{Strategy: TrimMaxLen, MaxLen: maxlen})
				want := max(int64(len(m))-maxlen, 0)
				if del != want {
					t.Fatalf("trim to %d deleted %d, want %d", maxlen, del, want)
				}
				m = m[want:]
			default:
				if len(m) == 0 {
					continue
				}
				a, b := m[rng.Intn(len(m))].id, m[rng.Intn(len(m))].id
				if b.Less(a) {
					a, b = b, a
				}
				for _, rev := range []bool{false, true} {
					if got, want := collect(s, a, b, rev), modelRange(m, a, b, rev); !equalEntries(got, want) {
						t.Fatalf("range %v..%v rev=%v: got %d entries, want %d", a, b, rev, len(got), len(want))
					}
				}
			}
			if s.Len() != uint64(len(m)) {
				t.Fatalf("len %d, model %d", s.Len(), len(m))
			}
			if len(m) > 0 && s.FirstID() != m[0].id {
				t.Fatalf("first %v, model %v", s.FirstID(), m[0].id)
			}
		}
		if got := collect(s, ID{}, MaxID, false); !equalEntries(got, m) {
			t.Fatal("full range differs from the model")
		}
		cp := s.Copy().(*Stream)
		if got := collect(cp, ID{}, MaxID, true); !equalEntries(got, modelRange(m, ID{}, MaxID, true)) {
			t.Fatal("copy differs")
		}
	}
}

func TestApproxTrimWholeNodes(t *testing.T) {
	s := New()
	for i := 1; i <= 100; i++ {
		s.Append(ID{uint64(i), 0}, [][]byte{[]byte("f"), []byte("v")}, 10, 0)
	}
	if n := s.Trim(TrimArgs{Strategy: TrimMaxLen, MaxLen: 55, Approx: true}); n != 40 {
		t.Fatalf("approx trim removed %d, want 40", n)
	}
	if n := s.Trim(TrimArgs{Strategy: TrimMinID, MinID: ID{75, 0}}); n != 34 {
		t.Fatalf("minid trim removed %d, want 34", n)
	}
	if s.FirstID() != (ID{75, 0}) {
		t.Fatalf("first id %v", s.FirstID())
	}
}

func TestParseID(t *testing.T) {
	cases := []struct {
		in       string
		strict   bool
		star     bool
		id       ID
		seqGiven bool
		ok       bool
	}{
		{"1-2", true, false, ID{1, 2}, true, true},
		{"5", true, false, ID{5, 0}, true, true},
		{"-", false, false, ID{}, true, true},
		{"+", false, false, MaxID, true, true},
		{"+", true, false, ID{}, false, false},
		{"7-*", true, true, ID{7, 0}, false, true},
		{"7-*", true, false, ID{}, false, false},
		{"18446744073709551615-18446744073709551615", true, false, MaxID, true, true},
		{"18446744073709551616", true, false, ID{}, false, false},
		{"abc", true, false, ID{}, false, false},
		{"1-", true, false, ID{}, false, false},
		{"-1", true, false, ID{}, false, false},
	}
	for _, c := range cases {
		id, sg, ok := ParseID([]byte(c.in), 0, c.strict, c.star)
		if ok != c.ok || (ok && (id != c.id || sg != c.seqGiven)) {
			t.Errorf("ParseID(%q) = %v %v %v", c.in, id, sg, ok)
		}
	}
}

func TestPELOrder(t *testing.T) {
	var p PEL
	rng := rand.New(rand.NewSource(2))
	model := map[ID]bool{}
	for i := 0; i < 5000; i++ {
		id := ID{uint64(rng.Intn(3000)), 0}
		if rng.Intn(3) == 0 {
			if p.Delete(id) != model[id] {
				t.Fatalf("delete %v disagrees", id)
			}
			delete(model, id)
		} else {
			p.Insert(id, &NACK{})
			model[id] = true
		}
		if p.Len() != len(model) {
			t.Fatalf("len %d, model %d", p.Len(), len(model))
		}
	}
	var prev ID
	n := 0
	p.Ascend(ID{}, func(id ID, _ *NACK) bool {
		if n > 0 && !prev.Less(id) {
			t.Fatalf("out of order: %v after %v", id, prev)
		}
		if !model[id] {
			t.Fatalf("unexpected %v", id)
		}
		prev = id
		n++
		return true
	})
	if n != len(model) {
		t.Fatalf("ascend saw %d, want %d", n, len(model))
	}
	// Deleting while ascending visits every entry once.
	seen := 0
	p.Ascend(ID{}, func(id ID, _ *NACK) bool {
		p.Delete(id)
		seen++
		return true
	})
	if seen != n || p.Len() != 0 {
		t.Fatalf("delete-while-ascending saw %d of %d, %d left", seen, n, p.Len())
	}
}

func TestLagAndEntriesRead(t *testing.T) {
	s := New()
	g := s.CreateGroup([]byte("g"), ID{}, 0)
	if lag, ok := s.Lag(g); !ok || lag != 0 {
		t.Fatalf("empty lag %d %v", lag, ok)
	}
	for i := 1; i <= 5; i++ {
		s.Append(ID{uint64(i), 0}, [][]byte{[]byte("f"), []byte("v")}, 100, 0)
	}
	if lag, ok := s.Lag(g); !ok || lag != 5 {
		t.Fatalf("lag %d %v, want 5", lag, ok)
	}
	s.Delivered(g, ID{1, 0})
	s.Delivered(g, ID{2, 0})
	if g.EntriesRead != 2 {
		t.Fatalf("entries read %d", g.EntriesRead)
	}
	s.Delete(ID{4, 0})
	if _, ok := s.Lag(g); ok {
		t.Fatal("lag should be unknown with a tombstone ahead")
	}
}

// TestOffHeapReleased checks that sealed nodes go back to the arena when a
// stream is trimmed, and when it becomes unreachable.
func TestOffHeapReleased(t *testing.T) {
	inUse := slab.SharedInUse
	before := inUse()
	s := New()
	for i := 1; i <= 1000; i++ {
		s.Append(ID{uint64(i), 0}, [][]byte{[]byte("f"), []byte("value")}, 10, 0)
	}
	cp := s.Copy().(*Stream)
	if inUse() <= before {
		t.Fatal("sealed nodes are not off the heap")
	}
	s.Trim(TrimArgs{Strategy: TrimMaxLen, MaxLen: 0})
	if s.Len() != 0 || cp.Len() != 1000 {
		t.Fatalf("lengths %d %d", s.Len(), cp.Len())
	}
	if got := collect(cp, ID{}, MaxID, false); len(got) != 1000 || got[999].fv[1] != "value" {
		t.Fatal("copy lost entries")
	}
	cp = nil
	deadline := time.Now().Add(5 * time.Second)
	for inUse() > before {
		if time.Now().After(deadline) {
			t.Fatalf("arena still holds %d bytes (was %d)", inUse(), before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
