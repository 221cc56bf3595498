// Package ztree is the ordered index of a large sorted set: members ordered
// by (score, member bytes), with O(log N) insert, delete, rank, access by
// rank and range starts, plus a member index for O(1) ZSCORE and
// membership tests.
//
// Why it lives off the Go heap: a sorted set of ten million members kept as
// Go strings, a map[string]float64 and arrays of string headers is tens of
// millions of pointers the collector must trace on every cycle, and the
// heap it grows to before collecting is twice the live data, so resident
// memory was half again Redis's and the collector's work showed in the
// tail latency of every command. Here the members and scores sit in 4 KiB
// slotted leaves allocated from slab's shared arena (see leaf.go), and the
// member index is an open-addressing table of (hash, score) slots with no
// pointers (see index.go), mapped outside the heap once it is large. What
// stays on the Go heap is one inner node (3 KB) per few dozen leaves.
//
// The tree is a counted B+tree: inner nodes keep, per child, its element
// count (which gives ranks and access by rank) and a lower-bound
// separator. Separators are the shortest keys that divide two leaves when
// they are made — usually a bare score — so they cost almost nothing even for
// long members. Appends at the right end (increasing scores) start a new
// leaf instead of splitting, so sequential loads leave full leaves; other
// inserts into a full leaf first move entries to a sibling with room and
// split only when neither has any, so random loads leave leaves over 80%
// full. A leaf or inner node that falls under a quarter full is merged into
// a neighbour when the two fit in one, which keeps the tree compact under
// deletes without thrashing on alternating insert/delete at a boundary.
//
// The price of keeping no second copy of the members is that a member
// lookup (ZSCORE) confirms its index hit with a descent of the tree, a few
// cache misses more than a hash map; ZRANK and every update needed that
// descent anyway.
//
// Memory is given back when the Tree becomes unreachable (the key is
// deleted, overwritten or flushed): a cleanup attached to it frees every
// leaf and the index.
package ztree

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"unsafe"

	"github.com/corvid-db/corvid/internal/ds/slab"
)

const (
	innerCap = 64
	maxDepth = 24
	// scratchKeep is the largest member buffer a tree keeps between calls.
	scratchKeep = 4096
)

// Entry is one member of the set with its score. From Iter.Entry and
// Random, Member aliases the tree's memory: it is valid only until the
// tree next changes.
type Entry struct {
	Score  float64
	Member string
}

// less orders entries by score, then by member bytes, as Redis does.
func less(as float64, am string, bs float64, bm string) bool {
	return as < bs || (as == bs && am < bm)
}

// inner is a node above the leaves. Separator k (k >= 1) is <= every entry
// of child k and > every entry of child k-1; separator 0 is unused.
type inner struct {
	n        int
	leafKids bool
	cnt      [innerCap]int
	sepS     [innerCap]float64
	sepM     [innerCap]string
	kids     [innerCap]*inner
	leaves   [innerCap]slab.Ref
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
		if less(s, m, in.sepS[mid], in.sepM[mid]) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo - 1
}

// holder owns what the tree's cleanup frees; it must not point back at
// the Tree, or the Tree would never become unreachable.
type holder struct {
	head   slab.Ref // first leaf; the leaves are chained from it
	leaves int
	slots  []slot
	large  bool // slots was mapped by slab.AllocLarge
}

func freeHolder(h *holder) {
	for r := h.head; r != 0; {
		next := leafAt(r).next()
		slab.SharedFree(r, leafSize)
		r = next
	}
	h.head, h.leaves = 0, 0
	freeSlots(h.slots, h.large)
	h.slots = nil
}

// Tree is a sorted set's big representation. The zero value is not
// usable; call New. A Tree is not safe for concurrent use.
type Tree struct {
	root *inner
	h    *holder
	tail slab.Ref
	n    int
	// big holds members longer than maxInline; bigFree lists its unused
	// indexes.
	big      [][]byte
	bigFree  []uint32
	bigBytes int64
	// scratch holds the member argument of a mutating call: it may alias
	// the tree's own memory, which the mutation moves.
	scratch []byte
}

func newTree(slots int) *Tree {
	t := &Tree{root: &inner{leafKids: true}, h: &holder{}}
	t.h.slots, t.h.large = allocSlots(slots)
	runtime.AddCleanup(t, freeHolder, t.h)
	return t
}

// New returns an empty tree, its member index sized for hint members.
func New(hint int) *Tree { return newTree(slotsFor(hint)) }

// Encoding is the name OBJECT ENCODING reports: Redis calls its big sorted
// sets "skiplist", and clients and tests look for that name.
func (t *Tree) Encoding() string { return "skiplist" }

// Copy returns a deep copy (COPY): leaves are copied block for block and
// the index slot for slot, with no re-sorting or re-hashing.
func (t *Tree) Copy() any {
	c := newTree(len(t.h.slots))
	copy(c.h.slots, t.h.slots)
	c.n = t.n
	c.big = make([][]byte, len(t.big))
	// Out-of-line members are never written after they are stored, so the
	// copies can share them.
	copy(c.big, t.big)
	c.bigFree = append([]uint32(nil), t.bigFree...)
	c.bigBytes = t.bigBytes
	var prev slab.Ref
	c.root = c.copyInner(t.root, &prev)
	c.tail = prev
	runtime.KeepAlive(t)
	return c
}

func (t *Tree) copyInner(in *inner, prev *slab.Ref) *inner {
	ni := new(inner)
	*ni = *in
	for k := 0; k < in.n; k++ {
		if !in.leafKids {
			ni.kids[k] = t.copyInner(in.kids[k], prev)
			continue
		}
		r := t.newLeaf()
		b := leafAt(r)
		*b = *leafAt(in.leaves[k])
		b.setPrev(*prev)
		b.setNext(0)
		if *prev != 0 {
			leafAt(*prev).setNext(r)
		} else {
			t.h.head = r
		}
		*prev = r
		ni.leaves[k] = r
	}
	return ni
}

func (t *Tree) newLeaf() slab.Ref {
	r := slab.SharedAlloc(leafSize)
	leafAt(r).init()
	t.h.leaves++
	return r
}

func (t *Tree) freeLeaf(r slab.Ref) {
	slab.SharedFree(r, leafSize)
	t.h.leaves--
}

// Len returns the number of members.
func (t *Tree) Len() int { return t.n }

// MemoryUsage estimates the bytes the set uses (keyspace.MemoryUsager):
// leaves, index, inner nodes and out-of-line members. samples is ignored;
// the count is exact and cheap.
func (t *Tree) MemoryUsage(samples int) int64 {
	n := int64(unsafe.Sizeof(Tree{})+unsafe.Sizeof(holder{})) +
		int64(t.h.leaves)*leafSize + t.h.indexBytes() +
		t.bigBytes + int64(cap(t.big))*24 + int64(cap(t.bigFree))*4 + int64(cap(t.scratch))
	var walk func(in *inner)
	walk = func(in *inner) {
		n += int64(unsafe.Sizeof(inner{}))
		for k := 0; k < in.n; k++ {
			n += int64(len(in.sepM[k]))
			if !in.leafKids {
				walk(in.kids[k])
			}
		}
	}
	walk(t.root)
	return n
}

// own copies a mutating call's member argument into the tree's scratch,
// since it may alias memory the call is about to move.
func (t *Tree) own(member []byte) string {
	if len(member) == 0 {
		return ""
	}
	t.scratch = append(t.scratch[:0], member...)
	return unsafe.String(&t.scratch[0], len(t.scratch))
}

func (t *Tree) dropScratch() {
	if cap(t.scratch) > scratchKeep {
		t.scratch = nil
	}
}

// Score returns member's score.
func (t *Tree) Score(member []byte) (float64, bool) {
	var p path
	m := unsafeString(member)
	_, b, pos, _, ok := t.find(m, hashOf(m), &p, false)
	if !ok {
		return 0, false
	}
	s := b.score(pos)
	runtime.KeepAlive(t) // the leaf is t's until t's cleanup runs
	return s, true
}

// Add inserts member with score, or moves it to score if it is present.
// It reports whether the member is new.
func (t *Tree) Add(member []byte, score float64) bool {
	m := t.own(member)
	defer t.dropScratch()
	h := hashOf(m)
	var p path
	si, b, pos, _, ok := t.find(m, h, &p, false)
	if !ok {
		big := -1
		if len(m) > maxInline {
			big = t.addBig(m)
		}
		t.insert(score, m, big)
		t.addSlot(si, h, score)
		t.n++
		return true
	}
	old := b.score(pos)
	if old == score {
		return false
	}
	t.h.slots[si].s = score
	// A move that keeps the entry between the same two neighbours of one
	// leaf (a small ZINCRBY, say) is a rewrite of its score in place.
	if pos > 0 && pos < b.n()-1 &&
		less(b.score(pos-1), t.member(b, pos-1), score, m) &&
		less(score, m, b.score(pos+1), t.member(b, pos+1)) {
		b.setScore(pos, score)
		return false
	}
	big := b.bigIndex(pos)
	t.removeAt(&p, b, pos, 1)
	t.insert(score, m, big)
	return false
}

// Remove deletes member and reports whether it was present.
func (t *Tree) Remove(member []byte) bool {
	m := t.own(member)
	defer t.dropScratch()
	var p path
	si, b, pos, _, ok := t.find(m, hashOf(m), &p, false)
	if !ok {
		return false
	}
	big := b.bigIndex(pos)
	t.removeAt(&p, b, pos, 1)
	t.freeBig(big)
	t.removeSlot(si)
	t.n--
	t.shrink()
	return true
}

// Rank returns member's 0-based rank in ascending order and its score.
func (t *Tree) Rank(member []byte) (int, float64, bool) {
	var p path
	m := unsafeString(member)
	_, b, pos, rank, ok := t.find(m, hashOf(m), &p, true)
	if !ok {
		return 0, 0, false
	}
	s := b.score(pos)
	runtime.KeepAlive(t)
	return rank + pos, s, true
}

func (t *Tree) addBig(m string) int {
	t.bigBytes += int64(len(m))
	if n := len(t.bigFree); n > 0 {
		i := t.bigFree[n-1]
		t.bigFree = t.bigFree[:n-1]
		t.big[i] = []byte(m)
		return int(i)
	}
	t.big = append(t.big, []byte(m))
	return len(t.big) - 1
}

func (t *Tree) freeBig(i int) {
	if i < 0 {
		return
	}
	t.bigBytes -= int64(len(t.big[i]))
	t.big[i] = nil
	t.bigFree = append(t.bigFree, uint32(i))
	if len(t.bigFree) == len(t.big) {
		t.big, t.bigFree = nil, nil
	}
}

type step struct {
	in *inner
	k  int
}

// path is the descent from the root to a leaf.
type path struct {
	st [maxDepth]step
	d  int
}

// locate descends to the leaf that holds (or would hold) (s, m), recording
// the way in p, and returns it with the index of its first entry >= (s, m)
// and, if wantRank, the rank of the leaf's first entry. The tree must not
// be empty, and the path's counts must be those of the leaves.
func (t *Tree) locate(s float64, m string, p *path, wantRank bool) (*block, int, int) {
	in := t.root
	rank := 0
	for {
		k := in.child(s, m)
		if wantRank {
			for i := 0; i < k; i++ {
				rank += in.cnt[i]
			}
		}
		p.st[p.d] = step{in, k}
		p.d++
		if in.leafKids {
			b := leafAt(in.leaves[k])
			return b, t.lsearch(b, in.cnt[k], s, m), rank
		}
		in = in.kids[k]
	}
}

// descendRank descends to the leaf holding the entry of rank r (which must
// exist), recording the way in p, and returns it with r's index in it.
func (t *Tree) descendRank(r int, p *path) (*block, int) {
	in := t.root
	for {
		k := 0
		for r >= in.cnt[k] {
			r -= in.cnt[k]
			k++
		}
		if p != nil {
			p.st[p.d] = step{in, k}
			p.d++
		}
		if in.leafKids {
			return leafAt(in.leaves[k]), r
		}
		in = in.kids[k]
	}
}

// Search returns the rank of the first entry for which pred is true
// (Len() if none). pred must be monotone over the order of all (score,
// member) pairs, present or not: it is also asked about separators.
func (t *Tree) Search(pred func(score float64, member string) bool) int {
	if t.n == 0 {
		return 0
	}
	rank := 0
	in := t.root
	for {
		// The first child whose separator satisfies pred holds only
		// entries that do; the answer is in the child before it, or is
		// that child's first entry.
		lo, hi := 1, in.n
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if pred(in.sepS[mid], in.sepM[mid]) {
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
			b := leafAt(in.leaves[k])
			lo, hi := 0, in.cnt[k]
			for lo < hi {
				mid := int(uint(lo+hi) >> 1)
				if pred(b.score(mid), t.member(b, mid)) {
					hi = mid
				} else {
					lo = mid + 1
				}
			}
			return rank + lo
		}
		in = in.kids[k]
	}
}

// Iter is a position in the tree; it is invalidated by any change.
type Iter struct {
	t *Tree
	b *block
	i int
}

// Valid reports whether the iterator is on an entry.
func (it *Iter) Valid() bool { return it.b != nil }

// Entry returns the current entry; its Member is valid until the tree
// changes.
func (it *Iter) Entry() Entry {
	return Entry{it.b.score(it.i), it.t.member(it.b, it.i)}
}

// Next moves to the following entry.
func (it *Iter) Next() {
	it.i++
	if it.i >= it.b.n() {
		it.i = 0
		if r := it.b.next(); r != 0 {
			it.b = leafAt(r)
		} else {
			it.b = nil
		}
	}
}

// Prev moves to the preceding entry.
func (it *Iter) Prev() {
	it.i--
	if it.i < 0 {
		if r := it.b.prev(); r != 0 {
			it.b = leafAt(r)
			it.i = it.b.n() - 1
		} else {
			it.b = nil
		}
	}
}

// First returns an iterator on the lowest entry.
func (t *Tree) First() Iter {
	if t.n == 0 {
		return Iter{}
	}
	return Iter{t, leafAt(t.h.head), 0}
}

// Last returns an iterator on the highest entry.
func (t *Tree) Last() Iter {
	if t.n == 0 {
		return Iter{}
	}
	b := leafAt(t.tail)
	return Iter{t, b, b.n() - 1}
}

// At returns an iterator on the entry of the given rank (invalid if out of range).
func (t *Tree) At(rank int) Iter {
	if rank < 0 || rank >= t.n {
		return Iter{}
	}
	b, i := t.descendRank(rank, nil)
	return Iter{t, b, i}
}

// Random returns a uniformly chosen entry; the tree must not be empty.
func (t *Tree) Random() Entry {
	it := t.At(rand.IntN(t.n))
	return it.Entry()
}

// DeleteRange removes the entries of ranks start..end (inclusive, within
// range) and returns how many it removed. It works a leaf at a time.
func (t *Tree) DeleteRange(start, end int) int {
	n := end - start + 1
	for left := n; left > 0; {
		var p path
		b, pos := t.descendRank(start, &p)
		c := min(left, b.n()-pos)
		for i := pos; i < pos+c; i++ {
			t.removeSlotOf(hashOf(t.member(b, i)), b.score(i))
			t.freeBig(b.bigIndex(i))
		}
		t.removeAt(&p, b, pos, c)
		t.n -= c
		left -= c
	}
	t.shrink()
	return n
}

// insert adds (s, m), which must not be present; big >= 0 is m's index in
// t.big when m is stored out of line.
func (t *Tree) insert(s float64, m string, big int) {
	if t.root.n == 0 {
		r := t.newLeaf()
		t.root.leaves[0], t.root.n, t.root.cnt[0] = r, 1, 0
		t.h.head, t.tail = r, r
	}
	var p path
	b, pos, _ := t.locate(s, m, &p, false)
	rightmost := true
	for d := 0; d < p.d; d++ {
		st := p.st[d]
		st.in.cnt[st.k]++
		if st.k != st.in.n-1 {
			rightmost = false
		}
	}
	if b.insertAt(pos, s, m, big) {
		return
	}
	top := p.st[p.d-1]
	if !(rightmost && pos == b.n()) && t.shift(top.in, top.k, b, pos, s, m, big) {
		return
	}
	// Split the leaf.
	r := top.in.leaves[top.k]
	nr := t.newLeaf()
	nb := leafAt(nr)
	if rightmost && pos == b.n() {
		// Appending at the right end: start a fresh leaf, keep this one full.
		nb.insertAt(0, s, m, big)
	} else {
		h := b.splitPoint()
		var tmp block
		tmp = *b
		b.rebuildFrom(&tmp, 0, h)
		nb.rebuildFrom(&tmp, h, tmp.n())
		if pos <= h {
			b.insertAt(pos, s, m, big)
		} else {
			nb.insertAt(pos-h, s, m, big)
		}
	}
	nb.setPrev(r)
	nb.setNext(b.next())
	if nx := b.next(); nx != 0 {
		leafAt(nx).setPrev(nr)
	} else {
		t.tail = nr
	}
	b.setNext(nr)
	top.in.cnt[top.k] = b.n()
	sepS, sepM := t.separator(b, nb)
	t.addKid(&p, rightmost, nil, nr, sepS, sepM, nb.n())
}

// shift makes room in the full leaf b (child k of par) by moving entries
// to the sibling with more room, about evening out the two, and inserts
// (s, m) at b's position pos in whichever leaf it then belongs to. It
// reports false, changing nothing, if neither sibling has room enough to
// be worth it. Deferring splits this way, as a B*-tree does, lifts the fill
// of randomly loaded leaves from about 70% to over 80%, which is most of
// the memory per member.
func (t *Tree) shift(par *inner, k int, b *block, pos int, s float64, m string, big int) bool {
	need := entrySize(len(m))
	n := b.n()
	var left, right *block
	lroom, rroom := 0, 0
	if k > 0 {
		left = leafAt(par.leaves[k-1])
		lroom = leafRoom - left.live()
	}
	if k+1 < par.n {
		right = leafAt(par.leaves[k+1])
		rroom = leafRoom - right.live()
	}
	if max(lroom, rroom) < need+leafRoom/8 {
		return false
	}
	if lroom >= rroom {
		// Move b's first j entries to the end of left.
		target := (left.live() + b.live() + need) / 2
		j, moved := 0, 0
		for j < n-1 {
			sz := slotSize + b.dataSize(j)
			if left.live()+moved+sz > target {
				break
			}
			moved += sz
			j++
		}
		intoLeft := pos < j
		if j == 0 || intoLeft && left.live()+moved+need > leafRoom ||
			!intoLeft && b.live()-moved+need > leafRoom {
			return false
		}
		if left.free() < moved {
			left.compact()
		}
		ln := left.n()
		left.appendFrom(b, 0, j)
		b.removeRange(0, j)
		if intoLeft {
			left.insertAt(ln+pos, s, m, big)
		} else {
			b.insertAt(pos-j, s, m, big)
		}
		par.cnt[k-1], par.cnt[k] = left.n(), b.n()
		par.sepS[k], par.sepM[k] = t.separator(left, b)
		return true
	}
	// Move b's entries from j on to the front of right.
	target := (right.live() + b.live() + need) / 2
	j, moved := n, 0
	for j > 1 {
		sz := slotSize + b.dataSize(j-1)
		if right.live()+moved+sz > target {
			break
		}
		moved += sz
		j--
	}
	intoRight := pos > j
	if j == n || intoRight && right.live()+moved+need > leafRoom ||
		!intoRight && b.live()-moved+need > leafRoom {
		return false
	}
	var tmp block
	tmp = *right
	right.rebuildFrom(b, j, n)
	right.appendFrom(&tmp, 0, tmp.n())
	b.removeRange(j, n-j)
	if intoRight {
		right.insertAt(pos-j, s, m, big)
	} else {
		b.insertAt(pos, s, m, big)
	}
	par.cnt[k], par.cnt[k+1] = b.n(), right.n()
	par.sepS[k+1], par.sepM[k+1] = t.separator(b, right)
	return true
}

// separator returns the shortest key that is > every entry of a and <=
// every entry of b, its right neighbour: b's first score alone when the
// scores differ, else the shortest prefix of b's first member that sorts
// after a's last.
func (t *Tree) separator(a, b *block) (float64, string) {
	as, am := a.score(a.n()-1), t.member(a, a.n()-1)
	bs, bm := b.score(0), t.member(b, 0)
	if as < bs {
		return bs, ""
	}
	c := 0
	for c < len(am) && am[c] == bm[c] {
		c++
	}
	return bs, strings.Clone(bm[:c+1])
}

// addKid inserts a new child (kid or leaf) right after the path's child at
// the bottom level, splitting inner nodes up the path as needed.
func (t *Tree) addKid(p *path, rightmost bool, kid *inner, leaf slab.Ref, sepS float64, sepM string, cnt int) {
	for d := p.d - 1; d >= 0; d-- {
		par, k := p.st[d].in, p.st[d].k
		if par.n < innerCap {
			par.insertKid(k+1, kid, leaf, sepS, sepM, cnt)
			return
		}
		np := &inner{leafKids: par.leafKids}
		if rightmost && k == par.n-1 {
			np.insertKid(0, kid, leaf, sepS, sepM, cnt)
		} else {
			h := innerCap / 2
			np.n = par.n - h
			copy(np.cnt[:], par.cnt[h:par.n])
			copy(np.sepS[:], par.sepS[h:par.n])
			copy(np.sepM[:], par.sepM[h:par.n])
			copy(np.kids[:], par.kids[h:par.n])
			copy(np.leaves[:], par.leaves[h:par.n])
			clear(par.cnt[h:par.n])
			clear(par.sepS[h:par.n])
			clear(par.sepM[h:par.n])
			clear(par.kids[h:par.n])
			clear(par.leaves[h:par.n])
			par.n = h
			if k+1 <= h {
				par.insertKid(k+1, kid, leaf, sepS, sepM, cnt)
			} else {
				np.insertKid(k+1-h, kid, leaf, sepS, sepM, cnt)
			}
		}
		if d > 0 {
			p.st[d-1].in.cnt[p.st[d-1].k] = par.total()
		}
		kid, leaf, sepS, sepM, cnt = np, 0, np.sepS[0], np.sepM[0], np.total()
		np.sepS[0], np.sepM[0] = 0, ""
		if d == 0 {
			// The root split: grow a level.
			r := &inner{n: 2}
			r.kids[0], r.kids[1] = par, np
			r.sepS[1], r.sepM[1] = sepS, sepM
			r.cnt[0], r.cnt[1] = par.total(), cnt
			t.root = r
		}
	}
}

func (in *inner) insertKid(pos int, kid *inner, leaf slab.Ref, sepS float64, sepM string, cnt int) {
	copy(in.cnt[pos+1:in.n+1], in.cnt[pos:in.n])
	copy(in.sepS[pos+1:in.n+1], in.sepS[pos:in.n])
	copy(in.sepM[pos+1:in.n+1], in.sepM[pos:in.n])
	if in.leafKids {
		copy(in.leaves[pos+1:in.n+1], in.leaves[pos:in.n])
		in.leaves[pos] = leaf
	} else {
		copy(in.kids[pos+1:in.n+1], in.kids[pos:in.n])
		in.kids[pos] = kid
	}
	in.cnt[pos], in.sepS[pos], in.sepM[pos] = cnt, sepS, sepM
	in.n++
}

func (in *inner) removeKid(pos int) {
	copy(in.cnt[pos:], in.cnt[pos+1:in.n])
	copy(in.sepS[pos:], in.sepS[pos+1:in.n])
	copy(in.sepM[pos:], in.sepM[pos+1:in.n])
	copy(in.kids[pos:], in.kids[pos+1:in.n])
	copy(in.leaves[pos:], in.leaves[pos+1:in.n])
	in.n--
	in.cnt[in.n], in.sepS[in.n], in.sepM[in.n], in.kids[in.n], in.leaves[in.n] = 0, 0, "", nil, 0
}

// removeAt removes c entries from position pos of leaf b, the end of path
// p, and rebalances: empty nodes go, sparse ones merge into a neighbour.
// The index and t.n are the caller's to update.
func (t *Tree) removeAt(p *path, b *block, pos, c int) {
	for d := 0; d < p.d; d++ {
		p.st[d].in.cnt[p.st[d].k] -= c
	}
	b.removeRange(pos, c)
	top := p.st[p.d-1]
	par, k := top.in, top.k
	switch {
	case b.n() == 0:
		r := par.leaves[k]
		t.unlinkLeaf(r, b)
		t.freeLeaf(r)
		par.removeKid(k)
	case b.live() < leafRoom/4:
		if k > 0 && leafAt(par.leaves[k-1]).live()+b.live() <= leafRoom {
			t.mergeLeaves(par, k-1)
		} else if k+1 < par.n && leafAt(par.leaves[k+1]).live()+b.live() <= leafRoom {
			t.mergeLeaves(par, k)
		}
	}
	for d := p.d - 1; d > 0; d-- {
		in := p.st[d].in
		par, k := p.st[d-1].in, p.st[d-1].k
		switch {
		case in.n == 0:
			par.removeKid(k)
		case in.n < innerCap/4:
			if k > 0 && par.kids[k-1].n+in.n <= innerCap {
				mergeInners(par, k-1)
			} else if k+1 < par.n && par.kids[k+1].n+in.n <= innerCap {
				mergeInners(par, k)
			}
		}
	}
	for !t.root.leafKids && t.root.n == 1 {
		t.root = t.root.kids[0]
	}
	if t.root.n == 0 {
		t.root = &inner{leafKids: true}
	}
}

func (t *Tree) unlinkLeaf(r slab.Ref, b *block) {
	prev, next := b.prev(), b.next()
	if prev != 0 {
		leafAt(prev).setNext(next)
	} else {
		t.h.head = next
	}
	if next != 0 {
		leafAt(next).setPrev(prev)
	} else {
		t.tail = prev
	}
}

// mergeLeaves moves child k+1's entries into child k and drops k+1.
func (t *Tree) mergeLeaves(par *inner, k int) {
	a, rb := leafAt(par.leaves[k]), par.leaves[k+1]
	b := leafAt(rb)
	if a.free() < b.live() {
		a.compact()
	}
	a.appendFrom(b, 0, b.n())
	par.cnt[k] += par.cnt[k+1]
	t.unlinkLeaf(rb, b)
	t.freeLeaf(rb)
	par.removeKid(k + 1)
}

// mergeInners moves child k+1's children into child k and drops k+1. The
// parent's separator for k+1 becomes the separator of its first child.
func mergeInners(par *inner, k int) {
	a, b := par.kids[k], par.kids[k+1]
	copy(a.cnt[a.n:], b.cnt[:b.n])
	copy(a.sepS[a.n:], b.sepS[:b.n])
	copy(a.sepM[a.n:], b.sepM[:b.n])
	copy(a.kids[a.n:], b.kids[:b.n])
	copy(a.leaves[a.n:], b.leaves[:b.n])
	a.sepS[a.n], a.sepM[a.n] = par.sepS[k+1], par.sepM[k+1]
	a.n += b.n
	par.cnt[k] += par.cnt[k+1]
	par.removeKid(k + 1)
}

// unsafeString views b as a string for lookups that do not keep it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
