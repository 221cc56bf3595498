package ztree

import (
	"hash/maphash"
	"unsafe"

	"github.com/corvid-db/corvid/internal/ds/slab"
)

// The member index answers ZSCORE and membership in O(1) without keeping a
// second copy of the members: a slot holds only the member's 64-bit hash
// and its score, 16 bytes and no pointers, and a hit is confirmed by
// finding (score, member) in the tree, which is a descent the ordered
// operations do anyway. Every member has a slot, so a probe that reaches
// an empty slot proves the member absent without touching the tree.
// Distinct members with equal hashes each keep their own slot and are told
// apart by that confirmation.
//
// Open addressing with linear probing keeps a probe inside a cache line or
// two; deletion shifts the following run back (no tombstones), so lookups
// never slow down under churn. Arrays of largeIndex bytes or more are
// mapped outside the Go heap (the collector neither scans them nor counts
// them towards its growth target) and unmapped on resize.

type slot struct {
	h uint64 // 0: empty
	s float64
}

const (
	minSlots   = 16
	largeIndex = 64 << 10
)

var hashSeed = maphash.MakeSeed()

// testHash, when set by tests, replaces the member hash so that collisions
// can be forced.
var testHash func(m string) uint64

func hashOf(m string) uint64 {
	var h uint64
	if testHash != nil {
		h = testHash(m)
	} else {
		h = maphash.String(hashSeed, m)
	}
	if h == 0 {
		h = 1
	}
	return h
}

// slotsFor is the index size that holds n members under the 7/8 load.
func slotsFor(n int) int {
	c := minSlots
	for c*7/8 < n {
		c *= 2
	}
	return c
}

func allocSlots(n int) ([]slot, bool) {
	if n*int(unsafe.Sizeof(slot{})) >= largeIndex {
		b := slab.AllocLarge(n * int(unsafe.Sizeof(slot{})))
		return unsafe.Slice((*slot)(unsafe.Pointer(&b[0])), n), true
	}
	return make([]slot, n), false
}

func freeSlots(s []slot, large bool) {
	if large && len(s) > 0 {
		slab.FreeLarge(unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(slot{}))))
	}
}

// indexBytes is the memory the index array takes (mapped arrays are
// powers of two of at least largeIndex bytes, so whole pages).
func (h *holder) indexBytes() int64 { return int64(len(h.slots)) * int64(unsafe.Sizeof(slot{})) }

// resize moves the index to an array of n slots (a power of two).
func (t *Tree) resize(n int) {
	h := t.h
	ns, large := allocSlots(n)
	mask := n - 1
	for _, e := range h.slots {
		if e.h == 0 {
			continue
		}
		i := int(e.h) & mask
		for ns[i].h != 0 {
			i = (i + 1) & mask
		}
		ns[i] = e
	}
	old, oldLarge := h.slots, h.large
	h.slots, h.large = ns, large
	freeSlots(old, oldLarge)
}

// shrink halves the index while it is under 1/8 full.
func (t *Tree) shrink() {
	n := len(t.h.slots)
	for n > minSlots && t.n < n/8 {
		n /= 2
	}
	if n != len(t.h.slots) {
		t.resize(n)
	}
}

// find looks member m (hash h) up. On a hit it returns the member's slot
// and its place in the tree, with the descent recorded in p and, if
// wantRank, the rank of the leaf's first entry. On a miss it returns the
// empty slot where m's hash would go.
func (t *Tree) find(m string, h uint64, p *path, wantRank bool) (si int, b *block, pos, rank int, ok bool) {
	sl := t.h.slots
	mask := len(sl) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := &sl[i]
		if e.h == 0 {
			return i, nil, 0, 0, false
		}
		if e.h != h {
			continue
		}
		p.d = 0
		b, pos, rank = t.locate(e.s, m, p, wantRank)
		if st := p.st[p.d-1]; pos < st.in.cnt[st.k] && b.score(pos) == e.s && t.member(b, pos) == m {
			return i, b, pos, rank, true
		}
	}
}

// addSlot records a new member's hash in the empty slot si that find
// returned, growing the index first if it would pass 7/8 full.
func (t *Tree) addSlot(si int, h uint64, s float64) {
	sl := t.h.slots
	if (t.n+1)*8 > len(sl)*7 {
		t.resize(len(sl) * 2)
		sl = t.h.slots
		mask := len(sl) - 1
		si = int(h) & mask
		for sl[si].h != 0 {
			si = (si + 1) & mask
		}
	}
	sl[si] = slot{h, s}
}

// removeSlot empties slot i, shifting back the entries after it that
// probing would otherwise no longer reach.
func (t *Tree) removeSlot(i int) {
	sl := t.h.slots
	mask := len(sl) - 1
	j := i
	for {
		j = (j + 1) & mask
		if sl[j].h == 0 {
			break
		}
		home := int(sl[j].h) & mask
		// sl[j] may move to i only if its home is not in (i, j] cyclically.
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			sl[i] = sl[j]
			i = j
		}
	}
	sl[i] = slot{}
}

// removeSlotOf removes the slot of a member known to be in the tree with
// hash h and score s. Two members with equal hashes and equal scores have
// identical slots, so whichever is found serves.
func (t *Tree) removeSlotOf(h uint64, s float64) {
	sl := t.h.slots
	mask := len(sl) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		if sl[i].h == h && sl[i].s == s {
			t.removeSlot(i)
			return
		}
		if sl[i].h == 0 {
			panic("ztree: member missing from the index")
		}
	}
}
