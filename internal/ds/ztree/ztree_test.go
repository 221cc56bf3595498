package ztree

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/corvid-db/corvid/internal/ds/slab"
)

// model is the naive reference: a sorted slice plus a member→score map.
type model struct {
	ents  []Entry
	score map[string]float64
}

func newModel() *model { return &model{score: map[string]float64{}} }

func (m *model) pos(s float64, member string) int {
	return sort.Search(len(m.ents), func(i int) bool { return !less(m.ents[i].Score, m.ents[i].Member, s, member) })
}

// add mirrors Tree.Add, including that a numerically equal score (0 and
// -0) leaves the stored one alone.
func (m *model) add(member string, s float64) bool {
	old, ok := m.score[member]
	if ok {
		if old == s {
			return false
		}
		m.remove(member)
	}
	i := m.pos(s, member)
	m.ents = slices.Insert(m.ents, i, Entry{s, member})
	m.score[member] = s
	return !ok
}

func (m *model) remove(member string) bool {
	s, ok := m.score[member]
	if !ok {
		return false
	}
	i := m.pos(s, member)
	m.ents = slices.Delete(m.ents, i, i+1)
	delete(m.score, member)
	return true
}

func (m *model) deleteRange(a, b int) {
	for _, e := range m.ents[a : b+1] {
		delete(m.score, e.Member)
	}
	m.ents = slices.Delete(m.ents, a, b+1)
}

// alias views a tree member as bytes without copying, as the commands
// package's zbytes does.
func alias(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func sameEntry(a, b Entry) bool {
	return math.Float64bits(a.Score) == math.Float64bits(b.Score) && a.Member == b.Member
}

func short(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%q…(%d bytes)", s[:40], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// check compares tr with the model every way the API allows and verifies
// the structure's invariants.
func check(t *testing.T, tr *Tree, m *model) {
	t.Helper()
	if tr.Len() != len(m.ents) {
		t.Fatalf("len %d, model %d", tr.Len(), len(m.ents))
	}
	i := 0
	for it := tr.First(); it.Valid(); it.Next() {
		if e := it.Entry(); !sameEntry(e, m.ents[i]) {
			t.Fatalf("rank %d: %v %s, model %v %s", i, e.Score, short(e.Member), m.ents[i].Score, short(m.ents[i].Member))
		}
		i++
	}
	if i != len(m.ents) {
		t.Fatalf("iterated %d, model %d", i, len(m.ents))
	}
	i = len(m.ents) - 1
	for it := tr.Last(); it.Valid(); it.Prev() {
		if e := it.Entry(); !sameEntry(e, m.ents[i]) {
			t.Fatalf("reverse rank %d: %v %s, model %v %s", i, e.Score, short(e.Member), m.ents[i].Score, short(m.ents[i].Member))
		}
		i--
	}
	if i != -1 {
		t.Fatalf("reverse iteration stopped at %d", i)
	}
	for r, e := range m.ents {
		s, ok := tr.Score([]byte(e.Member))
		if !ok || math.Float64bits(s) != math.Float64bits(e.Score) {
			t.Fatalf("score %s: %v %v, model %v", short(e.Member), s, ok, e.Score)
		}
		rank, s, ok := tr.Rank([]byte(e.Member))
		if !ok || rank != r || math.Float64bits(s) != math.Float64bits(e.Score) {
			t.Fatalf("rank %s: %d %v %v, model %d %v", short(e.Member), rank, s, ok, r, e.Score)
		}
	}
	checkStructure(t, tr)
}

// checkStructure verifies counts, separators, the leaf chain, the leaf
// block bookkeeping and the index.
func checkStructure(t *testing.T, tr *Tree) {
	t.Helper()
	var leaves []*block
	var walk func(in *inner, depth int) (int, *Entry, *Entry)
	leafDepth := -1
	walk = func(in *inner, depth int) (total int, lo, hi *Entry) {
		if in != tr.root && in.n == 0 {
			t.Fatalf("empty inner node")
		}
		for k := 0; k < in.n; k++ {
			var c int
			var first, last *Entry
			if in.leafKids {
				if leafDepth < 0 {
					leafDepth = depth
				} else if leafDepth != depth {
					t.Fatalf("leaves at depths %d and %d", leafDepth, depth)
				}
				b := leafAt(in.leaves[k])
				leaves = append(leaves, b)
				checkLeaf(t, tr, b)
				c = b.n()
				first = &Entry{b.score(0), tr.member(b, 0)}
				last = &Entry{b.score(c - 1), tr.member(b, c-1)}
			} else {
				c, first, last = walk(in.kids[k], depth+1)
			}
			if c != in.cnt[k] {
				t.Fatalf("count %d, stored %d", c, in.cnt[k])
			}
			if k > 0 {
				if less(first.Score, first.Member, in.sepS[k], in.sepM[k]) {
					t.Fatalf("separator %v %s above child's first %v %s", in.sepS[k], short(in.sepM[k]), first.Score, short(first.Member))
				}
				if !less(hi.Score, hi.Member, in.sepS[k], in.sepM[k]) {
					t.Fatalf("separator %v %s not above previous child's last %v %s", in.sepS[k], short(in.sepM[k]), hi.Score, short(hi.Member))
				}
			}
			if lo == nil {
				lo = first
			}
			hi = last
			total += c
		}
		return total, lo, hi
	}
	total, _, _ := walk(tr.root, 0)
	if total != tr.Len() {
		t.Fatalf("tree holds %d, Len %d", total, tr.Len())
	}
	if len(leaves) != tr.h.leaves {
		t.Fatalf("%d leaves, holder counts %d", len(leaves), tr.h.leaves)
	}
	// The chain links the leaves in tree order.
	var prev slab.Ref
	r := tr.h.head
	for i, b := range leaves {
		if r == 0 || leafAt(r) != b {
			t.Fatalf("leaf chain diverges at leaf %d", i)
		}
		if b.prev() != prev {
			t.Fatalf("leaf %d: bad prev link", i)
		}
		prev, r = r, b.next()
	}
	if r != 0 || tr.tail != prev {
		t.Fatalf("leaf chain does not end at the tail")
	}
	checkIndex(t, tr)
}

func checkLeaf(t *testing.T, tr *Tree, b *block) {
	t.Helper()
	n := b.n()
	if n == 0 {
		t.Fatalf("empty leaf")
	}
	if b.free() < 0 {
		t.Fatalf("slots overlap data")
	}
	type span struct{ off, size int }
	spans := make([]span, n)
	used := 0
	for i := 0; i < n; i++ {
		spans[i] = span{b.dataOff(i), b.dataSize(i)}
		used += spans[i].size
		if i > 0 && !less(b.score(i-1), tr.member(b, i-1), b.score(i), tr.member(b, i)) {
			t.Fatalf("leaf out of order at %d", i)
		}
		if big := b.bigIndex(i); big >= 0 && len(tr.big[big]) <= maxInline {
			t.Fatalf("short member stored out of line")
		} else if big < 0 && b.dataSize(i) > 2+maxInline {
			t.Fatalf("long member stored inline")
		}
	}
	if used+b.garbage() != leafSize-b.start() {
		t.Fatalf("data %d + garbage %d != %d", used, b.garbage(), leafSize-b.start())
	}
	slices.SortFunc(spans, func(a, b span) int { return a.off - b.off })
	for i, s := range spans {
		if s.off < b.start() || s.off+s.size > leafSize || i > 0 && spans[i-1].off+spans[i-1].size > s.off {
			t.Fatalf("data entries overlap or stray")
		}
	}
}

func checkIndex(t *testing.T, tr *Tree) {
	t.Helper()
	sl := tr.h.slots
	mask := len(sl) - 1
	used := 0
	for i, e := range sl {
		if e.h == 0 {
			continue
		}
		used++
		// Every slot is reachable from its home without crossing a hole.
		for j := int(e.h) & mask; j != i; j = (j + 1) & mask {
			if sl[j].h == 0 {
				t.Fatalf("slot %d unreachable from its home %d", i, int(e.h)&mask)
			}
		}
	}
	if used != tr.Len() {
		t.Fatalf("index holds %d, Len %d", used, tr.Len())
	}
	if tr.Len()*8 > len(sl)*7 {
		t.Fatalf("index over 7/8 full: %d in %d", tr.Len(), len(sl))
	}
	if len(sl) > minSlots && tr.Len() < len(sl)/8 {
		t.Fatalf("index under 1/8 full: %d in %d", tr.Len(), len(sl))
	}
	if tr.h.large != (len(sl)*16 >= largeIndex) {
		t.Fatalf("index of %d slots: large=%v", len(sl), tr.h.large)
	}
}

// genMember draws members of every shape the tree treats differently:
// short, empty, with NUL bytes, long enough to go out of line, and rarely
// 100 KB; a shared prefix makes separators between equal scores long.
func genMember(r *rand.Rand, universe int) string {
	id := r.IntN(universe)
	switch id % 23 {
	case 0:
		return ""
	case 1, 2:
		return fmt.Sprintf("nul\x00%d\x00", id)
	case 3:
		return strings.Repeat("L", 500+id%40) + fmt.Sprint(id) // around maxInline
	case 4:
		return strings.Repeat("x", 600+id%1500) + fmt.Sprint(id)
	case 5:
		if id%5 == 0 {
			return strings.Repeat("H", 100<<10) + fmt.Sprint(id)
		}
	case 6, 7:
		return "prefix-shared-by-many-members-to-make-separators-long:" + fmt.Sprint(id)
	}
	return fmt.Sprintf("m%d", id)
}

var specialScores = []float64{math.Inf(-1), math.Inf(1), 0, math.Copysign(0, -1), -1.5, 1e300, -1e-300}

func genScore(r *rand.Rand) float64 {
	if r.IntN(10) == 0 {
		return specialScores[r.IntN(len(specialScores))]
	}
	return float64(r.IntN(50))
}

type opMix struct {
	seed     uint64
	ops      int
	universe int
	scores   func(r *rand.Rand, op int) float64
	wide     bool // members of 505 bytes
}

func runModel(t *testing.T, mix opMix) {
	r := rand.New(rand.NewPCG(mix.seed, mix.seed))
	tr := New(0)
	maxDepth := 0
	m := newModel()
	for op := 0; op < mix.ops; op++ {
		member := genMember(r, mix.universe)
		if mix.wide {
			member = fmt.Sprintf("%0505d", r.IntN(mix.universe))
		}
		switch x := r.IntN(100); {
		case x < 55:
			s := mix.scores(r, op)
			if tr.Add([]byte(member), s) != m.add(member, s) {
				t.Fatalf("op %d: add %s: result differs", op, short(member))
			}
		case x < 75:
			if tr.Remove([]byte(member)) != m.remove(member) {
				t.Fatalf("op %d: remove %s: result differs", op, short(member))
			}
		case x < 80 && len(m.ents) > 0:
			// ZPOPMIN/ZINCRBY style: the argument aliases the tree.
			q := r.IntN(len(m.ents))
			at := tr.At(q)
			e := at.Entry()
			if r.IntN(2) == 0 {
				want := m.ents[q].Member
				if !tr.Remove(alias(e.Member)) {
					t.Fatalf("op %d: remove by alias failed", op)
				}
				m.remove(want)
			} else {
				s := mix.scores(r, op)
				want := m.ents[q].Member
				if tr.Add(alias(e.Member), s) {
					t.Fatalf("op %d: add by alias reported new", op)
				}
				m.add(want, s)
			}
		case x < 81 && len(m.ents) > 0 && r.IntN(3) == 0:
			a := r.IntN(len(m.ents))
			b := min(a+r.IntN(60), len(m.ents)-1)
			if r.IntN(50) == 0 {
				b = min(a+r.IntN(3000), len(m.ents)-1)
			}
			if n := tr.DeleteRange(a, b); n != b-a+1 {
				t.Fatalf("op %d: deleterange %d", op, n)
			}
			m.deleteRange(a, b)
		default:
			rank, s, ok := tr.Rank([]byte(member))
			ms, mok := m.score[member]
			if ok != mok || ok && (rank != m.pos(ms, member) || math.Float64bits(s) != math.Float64bits(ms)) {
				t.Fatalf("op %d: rank %s: %d %v %v", op, short(member), rank, s, ok)
			}
			if len(m.ents) == 0 {
				a, f, l := tr.At(0), tr.First(), tr.Last()
				if a.Valid() || f.Valid() || l.Valid() {
					t.Fatal("iterator valid on an empty tree")
				}
				break
			}
			q := r.IntN(len(m.ents))
			it := tr.At(q)
			for k := 0; k < 5 && it.Valid(); k++ {
				if !sameEntry(it.Entry(), m.ents[q-k]) {
					t.Fatalf("op %d: At(%d) prev %d", op, q, k)
				}
				it.Prev()
			}
			if a, b := tr.At(len(m.ents)), tr.At(-1); a.Valid() || b.Valid() {
				t.Fatal("At out of range is valid")
			}
			lim := mix.scores(r, op)
			got := tr.Search(func(s float64, _ string) bool { return s >= lim })
			want := sort.Search(len(m.ents), func(i int) bool { return m.ents[i].Score >= lim })
			if got != want {
				t.Fatalf("op %d: search score >= %v: %d want %d", op, lim, got, want)
			}
			lex := genMember(r, mix.universe)
			got = tr.Search(func(s float64, mem string) bool { return s > lim || s == lim && mem >= lex })
			want = m.pos(lim, lex)
			if got != want {
				t.Fatalf("op %d: search >= (%v, %s): %d want %d", op, lim, short(lex), got, want)
			}
			e := tr.Random()
			if ms, ok := m.score[e.Member]; !ok || math.Float64bits(ms) != math.Float64bits(e.Score) {
				t.Fatalf("op %d: Random returned %s, not a member", op, short(e.Member))
			}
		}
		if op%10000 == 0 {
			check(t, tr, m)
		}
		maxDepth = max(maxDepth, depth(tr))
	}
	t.Logf("max depth %d, %d members at the end", maxDepth, len(m.ents))
	check(t, tr, m)
	c := tr.Copy().(*Tree)
	check(t, c, m)
	// The copy shares nothing mutable: emptying the original leaves it whole.
	saved := slices.Clone(m.ents)
	for len(m.ents) > 0 {
		i := r.IntN(len(m.ents))
		if !tr.Remove([]byte(m.ents[i].Member)) {
			t.Fatal("remove")
		}
		m.remove(m.ents[i].Member)
	}
	check(t, tr, m)
	cm := newModel()
	for _, e := range saved {
		cm.ents = append(cm.ents, e)
		cm.score[e.Member] = e.Score
	}
	check(t, c, cm)
	tr.Add([]byte("x"), 1)
	m.add("x", 1)
	check(t, tr, m)
}

func TestPropertyAgainstModel(t *testing.T) {
	random := func(r *rand.Rand, _ int) float64 { return genScore(r) }
	mixes := []opMix{
		{seed: 1, ops: 60000, universe: 3000, scores: random},
		{seed: 2, ops: 40000, universe: 20000, scores: func(_ *rand.Rand, op int) float64 { return float64(op) }},
		{seed: 3, ops: 30000, universe: 20000, scores: func(_ *rand.Rand, op int) float64 { return -float64(op) }},
		{seed: 4, ops: 40000, universe: 8000, scores: func(*rand.Rand, int) float64 { return 7 }},
		{seed: 5, ops: 40000, universe: 60000, scores: func(r *rand.Rand, _ int) float64 { return r.Float64() }},
		// Wide members (7 a leaf) grow a tree three inner levels deep.
		{seed: 6, ops: 150000, universe: 30000, wide: true, scores: random},
	}
	if testing.Short() || raceEnabled {
		for i := range mixes {
			mixes[i].ops /= 3
		}
	}
	for _, mix := range mixes {
		t.Run(fmt.Sprint("seed", mix.seed), func(t *testing.T) { runModel(t, mix) })
	}
}

// depth is the number of inner levels.
func depth(tr *Tree) int {
	d := 1
	for in := tr.root; !in.leafKids; in = in.kids[0] {
		d++
	}
	return d
}

// TestHashCollisions forces many members onto few hashes (and hash 0):
// lookups must tell them apart through the tree.
func TestHashCollisions(t *testing.T) {
	for _, hf := range []func(string) uint64{
		func(m string) uint64 { return uint64(len(m) % 4) },                    // includes 0
		func(m string) uint64 { return 0x9e3779b97f4a7c15 * uint64(len(m)%7) }, // same home, distinct hashes
	} {
		testHash = hf
		runModel(t, opMix{seed: 9, ops: 6000, universe: 600, scores: func(r *rand.Rand, _ int) float64 { return float64(r.IntN(3)) }})
		testHash = nil
	}
}

func TestIndexGrowsAndShrinks(t *testing.T) {
	tr := New(0)
	const n = 100000
	for i := 0; i < n; i++ {
		tr.Add([]byte(fmt.Sprint("k", i)), float64(i%1000))
	}
	if !tr.h.large || len(tr.h.slots) != slotsFor(n) {
		t.Fatalf("index: %d slots large=%v", len(tr.h.slots), tr.h.large)
	}
	checkStructure(t, tr)
	tr.DeleteRange(10, n-11)
	checkStructure(t, tr)
	for i := 0; i < n; i++ {
		tr.Remove([]byte(fmt.Sprint("k", i)))
	}
	if tr.Len() != 0 || len(tr.h.slots) != minSlots || tr.h.large || tr.h.leaves != 0 || tr.h.head != 0 || tr.tail != 0 {
		t.Fatalf("empty tree keeps %d slots, %d leaves", len(tr.h.slots), tr.h.leaves)
	}
	if New(1000).h.slots == nil || len(New(1000).h.slots) != 2048 {
		t.Fatal("hint not honoured")
	}
}

func TestSequentialLoadFillsLeaves(t *testing.T) {
	tr := New(0)
	for i := 0; i < 100000; i++ {
		tr.Add(fmt.Appendf(nil, "m:%012d", i), float64(i))
	}
	// 26 bytes per entry: 156 fit in a leaf.
	if want := (100000 + 155) / 156; tr.h.leaves != want {
		t.Fatalf("%d leaves, want %d", tr.h.leaves, want)
	}
	checkStructure(t, tr)
}

// TestMemoryReleased checks that a dropped tree gives its leaves and its
// mapped index back.
func TestMemoryReleased(t *testing.T) {
	runtime.GC()
	before := slab.SharedInUse()
	tr := New(0)
	for i := 0; i < 200000; i++ {
		tr.Add(fmt.Appendf(nil, "member:%d", i), float64(i%977))
	}
	c := tr.Copy().(*Tree)
	if slab.SharedInUse()-before < 2*200000*30 {
		t.Fatalf("only %d bytes off the heap", slab.SharedInUse()-before)
	}
	if mu := tr.MemoryUsage(0); mu < 200000*30 || mu > 200000*100 {
		t.Fatalf("MemoryUsage %d", mu)
	}
	runtime.KeepAlive(tr)
	runtime.KeepAlive(c)
	tr, c = nil, nil
	deadline := time.Now().Add(10 * time.Second)
	for slab.SharedInUse() > before {
		if time.Now().After(deadline) {
			t.Fatalf("shared arena holds %d bytes more than before", slab.SharedInUse()-before)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
