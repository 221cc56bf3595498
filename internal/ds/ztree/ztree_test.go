package ztree

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"unsafe"
)

// model is the naive reference: a sorted slice.
type model []Entry

func (m model) find(member string) int {
	for i, e := range m {
		if e.Member == member {
			return i
		}
	}
	return -1
}

func (m *model) add(member string, s float64) {
	if i := m.find(member); i >= 0 {
		*m = slices.Delete(*m, i, i+1)
	}
	i := sort.Search(len(*m), func(i int) bool { return !less((*m)[i].Score, (*m)[i].Member, s, member) })
	*m = slices.Insert(*m, i, Entry{s, member})
}

func check(t *testing.T, tr *Tree, m model) {
	t.Helper()
	if tr.Len() != len(m) {
		t.Fatalf("len %d, model %d", tr.Len(), len(m))
	}
	i := 0
	for it := tr.First(); it.Valid(); it.Next() {
		if *it.Entry() != m[i] {
			t.Fatalf("rank %d: %v, model %v", i, *it.Entry(), m[i])
		}
		i++
	}
	if i != len(m) {
		t.Fatalf("iterated %d, model %d", i, len(m))
	}
	i = len(m) - 1
	for it := tr.Last(); it.Valid(); it.Prev() {
		if *it.Entry() != m[i] {
			t.Fatalf("reverse rank %d: %v, model %v", i, *it.Entry(), m[i])
		}
		i--
	}
	checkCounts(t, tr.root)
}

func checkCounts(t *testing.T, in *inner) int {
	t.Helper()
	total := 0
	for k := 0; k < in.n; k++ {
		var c int
		if in.leafKids {
			c = in.ll[k].n
			if c == 0 {
				t.Fatalf("empty leaf")
			}
		} else {
			c = checkCounts(t, in.il[k])
		}
		if c != in.cnt[k] {
			t.Fatalf("count %d, stored %d", c, in.cnt[k])
		}
		total += c
	}
	return total
}

func TestPropertyAgainstModel(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4} {
		r := rand.New(rand.NewPCG(seed, seed))
		tr := New(0)
		var m model
		universe := 3000 + int(seed)*2000
		for op := 0; op < 60000; op++ {
			member := fmt.Sprintf("m%d", r.IntN(universe))
			switch x := r.IntN(10); {
			case x < 6:
				s := float64(r.IntN(50))
				if seed == 2 {
					s = float64(op) // sequential appends
				}
				added := tr.Add([]byte(member), s)
				if added != (m.find(member) < 0) {
					t.Fatalf("add %s: added=%v", member, added)
				}
				m.add(member, s)
			case x < 9:
				ok := tr.Remove([]byte(member))
				i := m.find(member)
				if ok != (i >= 0) {
					t.Fatalf("remove %s: %v", member, ok)
				}
				if i >= 0 {
					m = slices.Delete(m, i, i+1)
				}
			default:
				if len(m) > 10 && r.IntN(20) == 0 {
					a := r.IntN(len(m))
					b := min(a+r.IntN(200), len(m)-1)
					if n := tr.DeleteRange(a, b); n != b-a+1 {
						t.Fatalf("deleterange %d", n)
					}
					m = slices.Delete(m, a, b+1)
				}
				rank, s, ok := tr.Rank([]byte(member))
				i := m.find(member)
				if ok != (i >= 0) || ok && (rank != i || s != m[i].Score) {
					t.Fatalf("rank %s: %d %v %v, model %d", member, rank, s, ok, i)
				}
				if len(m) > 0 {
					q := r.IntN(len(m))
					it := tr.At(q)
					if *it.Entry() != m[q] {
						t.Fatalf("At(%d)", q)
					}
					lim := float64(r.IntN(60))
					got := tr.Search(func(s float64, _ string) bool { return s >= lim })
					want := sort.Search(len(m), func(i int) bool { return m[i].Score >= lim })
					if got != want {
						t.Fatalf("search %v: %d want %d", lim, got, want)
					}
				}
			}
			if op%5000 == 0 {
				check(t, tr, m)
			}
		}
		check(t, tr, m)
		c := tr.Copy().(*Tree)
		check(t, c, m)
		for len(m) > 0 {
			i := r.IntN(len(m))
			if !tr.Remove([]byte(m[i].Member)) {
				t.Fatal("remove")
			}
			m = slices.Delete(m, i, i+1)
		}
		check(t, tr, m)
		tr.Add([]byte("x"), 1)
		check(t, tr, model{{1, "x"}})
	}
}

func TestNodeSizes(t *testing.T) {
	// Leaves are sized to fill a Go size class exactly.
	if s := unsafe.Sizeof(leaf{}); s != 1536 {
		t.Errorf("leaf is %d bytes", s)
	}
}

func BenchmarkAddRandom(b *testing.B) {
	tr := New(0)
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 0, 32)
	for i := 0; i < b.N; i++ {
		buf = fmt.Appendf(buf[:0], "element:%d", r.IntN(1000000))
		tr.Add(buf, float64(r.IntN(1000000)))
	}
}
