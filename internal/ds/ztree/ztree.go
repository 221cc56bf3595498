// Package ztree is the ordered index of a large sorted set: members ordered
// by (score, member bytes), with O(log N) insert, delete, rank, access by
// rank and range starts, plus a member→score map for O(1) ZSCORE and
// membership tests.
//
// Why a counted B+tree and not Redis's skiplist: a skiplist node in Go is a
// separate heap object with a forward pointer and a span per level, a back
// pointer and a string header — about 80 bytes plus allocator rounding per
// member before the member bytes and the map entry, and every node is one
// more object for the garbage collector to trace. Here members live in
// leaves of up to 63 (score, member) pairs held in one array, so the
// ordering costs about 24 bytes per member at full leaves (~34 at the 70%
// fill of random inserts) and one GC object per 63 members; internal nodes
// keep, per child, its element count (which gives ranks) and a lower-bound
// separator key. Appends at the right end (increasing scores) split leaves
// unevenly so sequential loads leave full leaves behind. The member string
// is allocated once and shared by the leaf entry and the map key.
//
// Nodes are never merged eagerly: a node that falls below a quarter of its
// capacity is merged into a neighbour when the two fit in one node, which
// keeps the tree compact under deletes without thrashing on alternating
// insert/delete at a boundary.
package ztree

import (
	"math/rand/v2"
	"unsafe"
)

const (
	leafCap  = 63
	innerCap = 64
	maxDepth = 24
)

// Entry is one member of the set with its score.
type Entry struct {
	Score  float64
	Member string
}

// less orders entries by score, then by member bytes, as Redis does.
func less(as float64, am string, bs float64, bm string) bool {
	return as < bs || (as == bs && am < bm)
}

type leaf struct {
	n          int
	prev, next *leaf
	ents       [leafCap]Entry
}

type inner struct {
	n        int
	leafKids bool
	cnt      [innerCap]int
	sep      [innerCap]Entry
	il       [innerCap]*inner
	ll       [innerCap]*leaf
}

func (in *inner) total() int {
	s := 0
	for i := 0; i < in.n; i++ {
		s += in.cnt[i]
	}
	return s
}

// child returns the index of the child that holds (or would hold) the key:
// the last child whose separator is <= key, or 0.
func (in *inner) child(s float64, m string) int {
	lo, hi := 1, in.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		e := &in.sep[mid]
		if less(s, m, e.Score, e.Member) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo - 1
}

// Tree is a sorted set's big representation. The zero value is not
// usable; call New.
type Tree struct {
	root       *inner
	head, tail *leaf
	dict       map[string]float64
}

// New returns an empty tree, its map sized for hint members.
func New(hint int) *Tree {
	return &Tree{root: &inner{leafKids: true}, dict: make(map[string]float64, hint)}
}

// Encoding is the name OBJECT ENCODING reports: Redis calls its big sorted
// sets "skiplist", and clients and tests look for that name.
func (t *Tree) Encoding() string { return "skiplist" }

// Copy returns a deep copy (COPY).
func (t *Tree) Copy() any {
	c := New(len(t.dict))
	for it := t.First(); it.Valid(); it.Next() {
		e := it.Entry()
		c.insert(e.Score, e.Member)
		c.dict[e.Member] = e.Score
	}
	return c
}

// Len returns the number of members.
func (t *Tree) Len() int { return len(t.dict) }

// Score returns member's score.
func (t *Tree) Score(member []byte) (float64, bool) {
	s, ok := t.dict[string(member)]
	return s, ok
}

// Add inserts member with score, or moves it to score if it is present.
// It reports whether the member is new.
func (t *Tree) Add(member []byte, score float64) bool {
	old, ok := t.dict[string(member)]
	if ok {
		if old != score {
			m := t.delete(old, unsafeString(member))
			t.insert(score, m)
			t.dict[m] = score
		}
		return false
	}
	m := string(member)
	t.insert(score, m)
	t.dict[m] = score
	return true
}

// Remove deletes member and reports whether it was present.
func (t *Tree) Remove(member []byte) bool {
	s, ok := t.dict[string(member)]
	if !ok {
		return false
	}
	m := t.delete(s, unsafeString(member))
	delete(t.dict, m)
	return true
}

// Rank returns member's 0-based rank in ascending order and its score.
func (t *Tree) Rank(member []byte) (int, float64, bool) {
	s, ok := t.dict[string(member)]
	if !ok {
		return 0, 0, false
	}
	m := unsafeString(member)
	rank := 0
	in := t.root
	for {
		k := in.child(s, m)
		for i := 0; i < k; i++ {
			rank += in.cnt[i]
		}
		if in.leafKids {
			l := in.ll[k]
			return rank + l.search(s, m), s, true
		}
		in = in.il[k]
	}
}

// search returns the index of the first entry >= (s, m).
func (l *leaf) search(s float64, m string) int {
	lo, hi := 0, l.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		e := &l.ents[mid]
		if less(e.Score, e.Member, s, m) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// Search returns the rank of the first entry for which pred is true
// (Len() if none). pred must be monotone over the order: false for a
// prefix of the entries and true for the rest.
func (t *Tree) Search(pred func(score float64, member string) bool) int {
	rank := 0
	in := t.root
	if in.n == 0 {
		return 0
	}
	for {
		// The last child whose separator fails pred; if even the first
		// separator satisfies it, every entry below does.
		if pred(in.sep[0].Score, in.sep[0].Member) {
			return rank
		}
		lo, hi := 1, in.n
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if pred(in.sep[mid].Score, in.sep[mid].Member) {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		k := lo - 1
		for i := 0; i < k; i++ {
			rank += in.cnt[i]
		}
		if in.leafKids {
			l := in.ll[k]
			lo, hi := 0, l.n
			for lo < hi {
				mid := int(uint(lo+hi) >> 1)
				if pred(l.ents[mid].Score, l.ents[mid].Member) {
					hi = mid
				} else {
					lo = mid + 1
				}
			}
			return rank + lo
		}
		in = in.il[k]
	}
}

// Iter is a position in the tree; it is invalidated by any change.
type Iter struct {
	l *leaf
	i int
}

// Valid reports whether the iterator is on an entry.
func (it *Iter) Valid() bool { return it.l != nil }

// Entry returns the current entry.
func (it *Iter) Entry() *Entry { return &it.l.ents[it.i] }

// Next moves to the following entry.
func (it *Iter) Next() {
	it.i++
	if it.i >= it.l.n {
		it.l, it.i = it.l.next, 0
	}
}

// Prev moves to the preceding entry.
func (it *Iter) Prev() {
	it.i--
	if it.i < 0 {
		it.l = it.l.prev
		if it.l != nil {
			it.i = it.l.n - 1
		}
	}
}

// First returns an iterator on the lowest entry.
func (t *Tree) First() Iter {
	if len(t.dict) == 0 {
		return Iter{}
	}
	return Iter{t.head, 0}
}

// Last returns an iterator on the highest entry.
func (t *Tree) Last() Iter {
	if len(t.dict) == 0 {
		return Iter{}
	}
	return Iter{t.tail, t.tail.n - 1}
}

// At returns an iterator on the entry of the given rank (invalid if out of range).
func (t *Tree) At(rank int) Iter {
	if rank < 0 || rank >= len(t.dict) {
		return Iter{}
	}
	in := t.root
	for {
		k := 0
		for rank >= in.cnt[k] {
			rank -= in.cnt[k]
			k++
		}
		if in.leafKids {
			return Iter{in.ll[k], rank}
		}
		in = in.il[k]
	}
}

// Random returns a uniformly chosen entry; the tree must not be empty.
func (t *Tree) Random() *Entry {
	it := t.At(rand.IntN(len(t.dict)))
	return it.Entry()
}

// DeleteRange removes the entries of ranks start..end (inclusive, within
// range) and returns how many it removed.
func (t *Tree) DeleteRange(start, end int) int {
	n := end - start + 1
	for i := 0; i < n; i++ {
		it := t.At(start)
		e := it.Entry()
		m := t.delete(e.Score, e.Member)
		delete(t.dict, m)
	}
	return n
}

type step struct {
	in *inner
	k  int
}

// insert adds (s, m), which must not be present.
func (t *Tree) insert(s float64, m string) {
	var path [maxDepth]step
	depth := 0
	in := t.root
	rightmost := true
	if in.n == 0 {
		l := &leaf{}
		in.ll[0], in.n = l, 1
		in.sep[0] = Entry{s, m}
		t.head, t.tail = l, l
	}
	for {
		k := in.child(s, m)
		if k == 0 && less(s, m, in.sep[0].Score, in.sep[0].Member) {
			in.sep[0] = Entry{s, m}
		}
		in.cnt[k]++
		if k != in.n-1 {
			rightmost = false
		}
		path[depth] = step{in, k}
		depth++
		if in.leafKids {
			break
		}
		in = in.il[k]
	}
	top := path[depth-1]
	l := top.in.ll[top.k]
	pos := l.search(s, m)
	if l.n < leafCap {
		l.insertAt(pos, s, m)
		return
	}
	// Full: hand one entry to a sibling with room before splitting (as a
	// B*-tree does), which lifts the fill of random loads from ~69% to
	// ~80% and so the memory per member.
	p, k := top.in, top.k
	if !(rightmost && pos == leafCap) {
		if k > 0 && p.ll[k-1].n < leafCap {
			left := p.ll[k-1]
			if pos == 0 {
				left.ents[left.n] = Entry{s, m}
			} else {
				left.ents[left.n] = l.ents[0]
				copy(l.ents[:pos-1], l.ents[1:pos])
				l.ents[pos-1] = Entry{s, m}
			}
			left.n++
			p.cnt[k-1]++
			p.cnt[k]--
			p.sep[k] = l.ents[0]
			return
		}
		if k+1 < p.n && p.ll[k+1].n < leafCap {
			right := p.ll[k+1]
			copy(right.ents[1:right.n+1], right.ents[:right.n])
			if pos == leafCap {
				right.ents[0] = Entry{s, m}
			} else {
				right.ents[0] = l.ents[leafCap-1]
				copy(l.ents[pos+1:], l.ents[pos:leafCap-1])
				l.ents[pos] = Entry{s, m}
			}
			right.n++
			p.cnt[k+1]++
			p.cnt[k]--
			p.sep[k+1] = right.ents[0]
			return
		}
	}
	// Split the leaf.
	nl := &leaf{}
	if rightmost && pos == leafCap {
		// Appending at the right end: start a fresh leaf, keep this one full.
		nl.ents[0] = Entry{s, m}
		nl.n = 1
	} else {
		h := leafCap / 2
		copy(nl.ents[:], l.ents[h:l.n])
		nl.n = l.n - h
		clear(l.ents[h:l.n])
		l.n = h
		if pos <= h {
			l.insertAt(pos, s, m)
		} else {
			nl.insertAt(pos-h, s, m)
		}
	}
	nl.prev, nl.next = l, l.next
	if l.next != nil {
		l.next.prev = nl
	} else {
		t.tail = nl
	}
	l.next = nl
	top.in.cnt[top.k] = l.n
	// Insert the new child into the parents, splitting them as needed.
	var newKid any = nl
	sep := nl.ents[0]
	cnt := nl.n
	for d := depth - 1; d >= 0; d-- {
		p := path[d].in
		k := path[d].k
		if p.n < innerCap {
			p.insertKid(k+1, newKid, sep, cnt)
			return
		}
		np := &inner{leafKids: p.leafKids}
		if rightmost && k == p.n-1 {
			np.insertKid(0, newKid, sep, cnt)
		} else {
			h := innerCap / 2
			np.n = p.n - h
			copy(np.cnt[:], p.cnt[h:p.n])
			copy(np.sep[:], p.sep[h:p.n])
			copy(np.il[:], p.il[h:p.n])
			copy(np.ll[:], p.ll[h:p.n])
			clear(p.sep[h:p.n])
			clear(p.il[h:p.n])
			clear(p.ll[h:p.n])
			clear(p.cnt[h:p.n])
			p.n = h
			if k+1 <= h {
				p.insertKid(k+1, newKid, sep, cnt)
			} else {
				np.insertKid(k+1-h, newKid, sep, cnt)
			}
		}
		if d > 0 {
			path[d-1].in.cnt[path[d-1].k] = p.total()
		}
		newKid, sep, cnt = np, np.sep[0], np.total()
		if d == 0 {
			// The root split: grow a level.
			r := &inner{n: 2}
			r.il[0], r.il[1] = p, np
			r.sep[0], r.sep[1] = p.sep[0], sep
			r.cnt[0], r.cnt[1] = p.total(), cnt
			t.root = r
		}
	}
}

func (l *leaf) insertAt(pos int, s float64, m string) {
	copy(l.ents[pos+1:l.n+1], l.ents[pos:l.n])
	l.ents[pos] = Entry{s, m}
	l.n++
}

func (in *inner) insertKid(pos int, kid any, sep Entry, cnt int) {
	copy(in.cnt[pos+1:in.n+1], in.cnt[pos:in.n])
	copy(in.sep[pos+1:in.n+1], in.sep[pos:in.n])
	if in.leafKids {
		copy(in.ll[pos+1:in.n+1], in.ll[pos:in.n])
		in.ll[pos] = kid.(*leaf)
	} else {
		copy(in.il[pos+1:in.n+1], in.il[pos:in.n])
		in.il[pos] = kid.(*inner)
	}
	in.cnt[pos], in.sep[pos] = cnt, sep
	in.n++
}

func (in *inner) removeKid(pos int) {
	copy(in.cnt[pos:], in.cnt[pos+1:in.n])
	copy(in.sep[pos:], in.sep[pos+1:in.n])
	copy(in.il[pos:], in.il[pos+1:in.n])
	copy(in.ll[pos:], in.ll[pos+1:in.n])
	in.n--
	in.cnt[in.n], in.sep[in.n], in.il[in.n], in.ll[in.n] = 0, Entry{}, nil, nil
}

// delete removes (s, m), which must be present, and returns the stored
// member string (so callers can reuse it without allocating).
func (t *Tree) delete(s float64, m string) string {
	var path [maxDepth]step
	depth := 0
	in := t.root
	for {
		k := in.child(s, m)
		in.cnt[k]--
		path[depth] = step{in, k}
		depth++
		if in.leafKids {
			break
		}
		in = in.il[k]
	}
	top := path[depth-1]
	l := top.in.ll[top.k]
	pos := l.search(s, m)
	stored := l.ents[pos].Member
	copy(l.ents[pos:], l.ents[pos+1:l.n])
	l.n--
	l.ents[l.n] = Entry{}

	// Rebalance bottom-up: drop empty nodes, merge sparse ones into a neighbour.
	p, k := top.in, top.k
	switch {
	case l.n == 0:
		t.unlinkLeaf(l)
		p.removeKid(k)
	case l.n < leafCap/4:
		if k > 0 && p.ll[k-1].n+l.n <= leafCap {
			t.mergeLeaves(p, k-1)
		} else if k+1 < p.n && p.ll[k+1].n+l.n <= leafCap {
			t.mergeLeaves(p, k)
		}
	}
	for d := depth - 1; d > 0; d-- {
		c := path[d].in
		p, k := path[d-1].in, path[d-1].k
		switch {
		case c.n == 0:
			p.removeKid(k)
		case c.n < innerCap/4:
			if k > 0 && p.il[k-1].n+c.n <= innerCap {
				mergeInners(p, k-1)
			} else if k+1 < p.n && p.il[k+1].n+c.n <= innerCap {
				mergeInners(p, k)
			}
		}
	}
	for !t.root.leafKids && t.root.n == 1 {
		t.root = t.root.il[0]
	}
	if t.root.n == 0 {
		t.root = &inner{leafKids: true}
	}
	return stored
}

func (t *Tree) unlinkLeaf(l *leaf) {
	if l.prev != nil {
		l.prev.next = l.next
	} else {
		t.head = l.next
	}
	if l.next != nil {
		l.next.prev = l.prev
	} else {
		t.tail = l.prev
	}
}

// mergeLeaves moves child k+1's entries into child k and drops k+1.
func (t *Tree) mergeLeaves(p *inner, k int) {
	a, b := p.ll[k], p.ll[k+1]
	copy(a.ents[a.n:], b.ents[:b.n])
	a.n += b.n
	p.cnt[k] += p.cnt[k+1]
	t.unlinkLeaf(b)
	p.removeKid(k + 1)
}

// mergeInners moves child k+1's children into child k and drops k+1.
func mergeInners(p *inner, k int) {
	a, b := p.il[k], p.il[k+1]
	copy(a.cnt[a.n:], b.cnt[:b.n])
	copy(a.sep[a.n:], b.sep[:b.n])
	copy(a.il[a.n:], b.il[:b.n])
	copy(a.ll[a.n:], b.ll[:b.n])
	a.n += b.n
	p.cnt[k] += p.cnt[k+1]
	p.removeKid(k + 1)
}

// unsafeString views b as a string for lookups that do not keep it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
