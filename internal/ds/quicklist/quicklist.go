// Package quicklist is the representation of large lists: a sequence of
// listpack nodes, each bounded by list-max-listpack-size, as Redis's
// quicklist is. Bounded nodes keep pushes and pops at either end cheap (they
// touch one node of at most a few kilobytes), keep per-element overhead
// close to the listpack's, and let an index lookup skip whole nodes by their
// counts instead of walking every element.
//
// The nodes live in a slice rather than a linked list: a list of a million
// short elements has only a few hundred nodes, so moving node headers when
// one is added at the front costs less than chasing pointers, and it gives
// the iterator and the index lookup a simple, cache-friendly walk.
//
// list-compress-depth is not implemented: nodes are never LZF-compressed
// (the setting is accepted and ignored), which trades some memory on very
// long lists for simpler, faster access to interior nodes.
//
// Very large elements are not given "plain" nodes of their own as in Redis;
// an element that alone exceeds the node limit simply gets a node to itself.
package quicklist

import (
	"encoding/binary"

	"github.com/corvid-db/corvid/internal/ds/listpack"
)

// optimizationLevel are the node byte limits for fill -1..-5, as Redis's.
var optimizationLevel = [...]int{4096, 8192, 16384, 32768, 65536}

// sizeSafetyLimit caps nodes limited by element count, so a node of a few
// huge elements cannot grow without bound.
const sizeSafetyLimit = 8192

// insertOverhead over-estimates the bytes an element adds to a listpack
// beyond its own length (length prefix and back-length), so a node may end
// a few bytes below its limit but never above it.
const insertOverhead = 11

// lpHeader is the listpack's element-count header (documented layout).
const lpHeader = 4

// Limits returns the node size limit in bytes and the element count limit
// for a list-max-listpack-size value; the one that does not apply is -1.
func Limits(fill int) (size, count int) {
	if fill >= 0 {
		if fill == 0 {
			return -1, 1 // every node holds at least one element
		}
		return -1, fill
	}
	off := -fill - 1
	if off >= len(optimizationLevel) {
		off = len(optimizationLevel) - 1
	}
	return optimizationLevel[off], -1
}

// ExceedsLimit reports whether a node (or a listpack-encoded list) of size
// bytes and count elements is over the limit fill sets, as Redis's
// quicklistNodeExceedsLimit.
func ExceedsLimit(fill, size, count int) bool {
	szLimit, cntLimit := Limits(fill)
	if szLimit >= 0 {
		return size > szLimit
	}
	if size > sizeSafetyLimit {
		return true
	}
	return count > cntLimit
}

// List is a quicklist. The zero value is not usable: use New or FromListpack.
type List struct {
	nodes [][]byte
	count int
	fill  int
}

// New returns an empty list whose nodes follow fill (list-max-listpack-size).
func New(fill int) *List { return &List{fill: fill} }

// FromListpack returns a list whose single node is lp (taken over, not
// copied); an empty lp gives an empty list.
func FromListpack(lp []byte, fill int) *List {
	l := &List{fill: fill}
	if n := listpack.Len(lp); n > 0 {
		l.nodes = append(l.nodes, lp)
		l.count = n
	}
	return l
}

// SetFill changes the node limit for nodes filled from now on; existing
// nodes are left as they are (as in Redis after CONFIG SET).
func (l *List) SetFill(fill int) { l.fill = fill }

// Len returns the number of elements.
func (l *List) Len() int { return l.count }

// Nodes returns the number of nodes.
func (l *List) Nodes() int { return len(l.nodes) }

// Encoding is what OBJECT ENCODING reports.
func (l *List) Encoding() string { return "quicklist" }

// Copy returns a deep copy (for COPY).
func (l *List) Copy() any {
	c := &List{count: l.count, fill: l.fill, nodes: make([][]byte, len(l.nodes))}
	for i, n := range l.nodes {
		c.nodes[i] = append(make([]byte, 0, len(n)), n...)
	}
	return c
}

// SingleNode returns the only node's listpack when the list has exactly
// one node (callers use it to turn a shrunk list back into a listpack); the
// slice aliases the list.
func (l *List) SingleNode() []byte {
	if len(l.nodes) != 1 {
		return nil
	}
	return l.nodes[0]
}

// Bytes returns the total encoded size of the nodes.
func (l *List) Bytes() int {
	n := 0
	for _, lp := range l.nodes {
		n += len(lp)
	}
	return n
}

func (l *List) allowInsert(lp []byte, sz int) bool {
	if listpack.Len(lp) == 0 {
		return true
	}
	return !ExceedsLimit(l.fill, len(lp)+sz+insertOverhead, listpack.Len(lp)+1)
}

// newNodeCap is the initial capacity of a node: a new node is usually the
// start of a run of pushes, and starting near a kilobyte saves most of the
// reallocations of growing to the 8 KB default one small step at a time.
const newNodeCap = 1024

func newNode(e []byte) []byte {
	lp := make([]byte, lpHeader, max(lpHeader+len(e)+insertOverhead, newNodeCap))
	return listpack.Append(lp, e)
}

// PushFront adds e at the head.
func (l *List) PushFront(e []byte) {
	if len(l.nodes) > 0 && l.allowInsert(l.nodes[0], len(e)) {
		l.nodes[0] = listpack.Prepend(l.nodes[0], e)
	} else {
		l.insertNode(0, newNode(e))
	}
	l.count++
}

// PushBack adds e at the tail.
func (l *List) PushBack(e []byte) {
	if n := len(l.nodes); n > 0 && l.allowInsert(l.nodes[n-1], len(e)) {
		l.nodes[n-1] = listpack.Append(l.nodes[n-1], e)
	} else {
		l.nodes = append(l.nodes, newNode(e))
	}
	l.count++
}

func (l *List) insertNode(at int, lp []byte) {
	l.nodes = append(l.nodes, nil)
	copy(l.nodes[at+1:], l.nodes[at:])
	l.nodes[at] = lp
}

func (l *List) removeNode(at int) {
	copy(l.nodes[at:], l.nodes[at+1:])
	l.nodes[len(l.nodes)-1] = nil
	l.nodes = l.nodes[:len(l.nodes)-1]
}

// locate returns the node holding element i (0 <= i < Len) and i's index
// inside it, walking node counts from the nearer end.
func (l *List) locate(i int) (node, local int) {
	if i < l.count/2 {
		for k, lp := range l.nodes {
			n := listpack.Len(lp)
			if i < n {
				return k, i
			}
			i -= n
		}
	} else {
		j := l.count - 1 - i // distance from the tail
		for k := len(l.nodes) - 1; k >= 0; k-- {
			n := listpack.Len(l.nodes[k])
			if j < n {
				return k, n - 1 - j
			}
			j -= n
		}
	}
	panic("quicklist: index out of range")
}

// Index returns element i (0 <= i < Len); the slice aliases the list and is
// valid until the next change.
func (l *List) Index(i int) []byte {
	k, j := l.locate(i)
	lp := l.nodes[k]
	return listpack.Get(lp, listpack.Seek(lp, j))
}

// Front returns the first element (aliasing the list); the list must not be empty.
func (l *List) Front() []byte {
	lp := l.nodes[0]
	return listpack.Get(lp, listpack.First(lp))
}

// Back returns the last element (aliasing the list); the list must not be empty.
func (l *List) Back() []byte {
	lp := l.nodes[len(l.nodes)-1]
	return listpack.Get(lp, listpack.Last(lp))
}

// PopFront removes the first element; the list must not be empty.
func (l *List) PopFront() {
	lp := listpack.Delete(l.nodes[0], listpack.First(l.nodes[0]), 1)
	if listpack.Len(lp) == 0 {
		l.removeNode(0)
	} else {
		l.nodes[0] = lp
	}
	l.count--
}

// PopBack removes the last element; the list must not be empty.
func (l *List) PopBack() {
	k := len(l.nodes) - 1
	lp := listpack.Delete(l.nodes[k], listpack.Last(l.nodes[k]), 1)
	if listpack.Len(lp) == 0 {
		l.removeNode(k)
	} else {
		l.nodes[k] = lp
	}
	l.count--
}

// Set replaces element i (0 <= i < Len) with e.
func (l *List) Set(i int, e []byte) {
	k, j := l.locate(i)
	lp := l.nodes[k]
	pos := listpack.Seek(lp, j)
	old := len(listpack.Get(lp, pos))
	if listpack.Len(lp) == 1 || !ExceedsLimit(l.fill, len(lp)-old+len(e)+insertOverhead, listpack.Len(lp)) {
		l.nodes[k] = listpack.Replace(lp, pos, e)
		return
	}
	// The new value does not fit the node: remove the old one and insert
	// the new one, which splits the node if it must.
	l.DeleteRange(i, 1)
	l.Insert(i, e)
}

// Insert puts e before element i; i == Len appends.
func (l *List) Insert(i int, e []byte) {
	switch {
	case i == 0:
		l.PushFront(e)
		return
	case i == l.count:
		l.PushBack(e)
		return
	}
	k, j := l.locate(i)
	lp := l.nodes[k]
	if l.allowInsert(lp, len(e)) {
		l.nodes[k] = listpack.Insert(lp, listpack.Seek(lp, j), e)
		l.count++
		return
	}
	// Inserting before the first element of a full node: the previous
	// node's tail may have room, otherwise e gets a node between them.
	if j == 0 {
		if l.allowInsert(l.nodes[k-1], len(e)) {
			l.nodes[k-1] = listpack.Append(l.nodes[k-1], e)
		} else {
			l.insertNode(k, newNode(e))
		}
		l.count++
		return
	}
	// Split the full node at j and put e at the end of the left half, or
	// the start of the right half, or in a node of its own between them.
	pos := listpack.Seek(lp, j)
	left := sub(lp, lpHeader, pos, j)
	right := sub(lp, pos, len(lp), listpack.Len(lp)-j)
	l.nodes[k] = left
	l.insertNode(k+1, right)
	switch {
	case l.allowInsert(left, len(e)):
		l.nodes[k] = listpack.Append(left, e)
	case l.allowInsert(right, len(e)):
		l.nodes[k+1] = listpack.Prepend(right, e)
	default:
		l.insertNode(k+1, newNode(e))
	}
	l.count++
}

// sub builds a new listpack from the n encoded elements lp[from:to].
func sub(lp []byte, from, to, n int) []byte {
	b := make([]byte, lpHeader+to-from, lpHeader+to-from+64)
	binary.LittleEndian.PutUint32(b, uint32(n))
	copy(b[lpHeader:], lp[from:to])
	return b
}

// DeleteRange removes n elements starting at index start (0 <= start,
// start+n <= Len).
func (l *List) DeleteRange(start, n int) {
	if n <= 0 {
		return
	}
	k, j := l.locate(start)
	for n > 0 && k < len(l.nodes) {
		lp := l.nodes[k]
		cnt := listpack.Len(lp)
		del := min(n, cnt-j)
		if del == cnt {
			l.removeNode(k)
		} else {
			l.nodes[k] = listpack.Delete(lp, listpack.Seek(lp, j), del)
			k++
		}
		n -= del
		l.count -= del
		j = 0
	}
}

// RemoveMatches deletes up to limit elements equal to e (0 = all), scanning
// from the head, or from the tail when fromTail is set, and returns how many
// it removed (LREM).
func (l *List) RemoveMatches(e []byte, limit int, fromTail bool) int {
	removed := 0
	done := func() bool { return limit > 0 && removed == limit }
	if !fromTail {
		for k := 0; k < len(l.nodes) && !done(); {
			lp := l.nodes[k]
			for p := listpack.First(lp); p >= 0 && p < len(lp) && !done(); {
				if string(listpack.Get(lp, p)) == string(e) {
					lp = listpack.Delete(lp, p, 1)
					removed++
					if p >= len(lp) {
						break
					}
				} else {
					p = listpack.Next(lp, p)
				}
			}
			if listpack.Len(lp) == 0 {
				l.removeNode(k)
			} else {
				l.nodes[k] = lp
				k++
			}
		}
	} else {
		for k := len(l.nodes) - 1; k >= 0 && !done(); k-- {
			lp := l.nodes[k]
			for p := listpack.Last(lp); p >= 0 && !done(); {
				prev := listpack.Prev(lp, p)
				if string(listpack.Get(lp, p)) == string(e) {
					lp = listpack.Delete(lp, p, 1)
					removed++
				}
				p = prev
			}
			if listpack.Len(lp) == 0 {
				l.removeNode(k)
			} else {
				l.nodes[k] = lp
			}
		}
	}
	l.count -= removed
	return removed
}

// Iter walks a list, or a bare listpack, from a starting index in either
// direction.
type Iter struct {
	nodes   [][]byte // nil when walking a bare listpack
	lp      []byte
	node    int
	pos     int
	reverse bool
}

// Iter returns an iterator positioned at element i (0 <= i < Len, or an
// exhausted iterator otherwise), moving towards the tail, or towards the
// head when reverse is set.
func (l *List) Iter(i int, reverse bool) Iter {
	if i < 0 || i >= l.count {
		return Iter{pos: -1}
	}
	k, j := l.locate(i)
	lp := l.nodes[k]
	return Iter{nodes: l.nodes, lp: lp, node: k, pos: listpack.Seek(lp, j), reverse: reverse}
}

// ListpackIter is Iter over a listpack-encoded list.
func ListpackIter(lp []byte, i int, reverse bool) Iter {
	return Iter{lp: lp, pos: listpack.Seek(lp, i), reverse: reverse}
}

// Next returns the current element (aliasing the list) and advances; ok is
// false past the end.
func (it *Iter) Next() (e []byte, ok bool) {
	if it.pos < 0 {
		return nil, false
	}
	e = listpack.Get(it.lp, it.pos)
	if it.reverse {
		it.pos = listpack.Prev(it.lp, it.pos)
		if it.pos < 0 && it.node > 0 && it.nodes != nil {
			it.node--
			it.lp = it.nodes[it.node]
			it.pos = listpack.Last(it.lp)
		}
	} else {
		it.pos = listpack.Next(it.lp, it.pos)
		if it.pos < 0 && it.node+1 < len(it.nodes) {
			it.node++
			it.lp = it.nodes[it.node]
			it.pos = listpack.First(it.lp)
		}
	}
	return e, true
}
