// Package ttlindex maps names to deadlines and finds the earliest deadline
// quickly. Corvid uses it twice for hash-field expiry: inside a large hash
// (field → when the field expires) and per keyspace table (key → when the
// key's earliest field expires), so that active expiry pops what is due
// instead of scanning.
//
// It is a map plus a binary min-heap with lazy deletion: Set and Delete only
// touch the map and push a heap item; heap items whose deadline no longer
// matches the map are dropped when they reach the top. The heap is rebuilt
// from the map when stale items outnumber live ones, so memory stays within
// a constant factor of Len. Every operation is O(log n) amortised.
package ttlindex

// Index maps names to deadlines (any int64, typically Unix ms).
type Index struct {
	when map[string]int64
	heap []item
}

type item struct {
	when int64
	name string
}

// Len returns the number of names.
func (x *Index) Len() int { return len(x.when) }

// Get returns name's deadline.
func (x *Index) Get(name []byte) (int64, bool) {
	w, ok := x.when[string(name)]
	return w, ok
}

// Set gives name the deadline when (replacing any previous one).
func (x *Index) Set(name []byte, when int64) {
	if x.when == nil {
		x.when = make(map[string]int64)
	}
	if old, ok := x.when[string(name)]; ok && old == when {
		return
	}
	s := string(name)
	x.when[s] = when
	x.push(item{when, s})
	x.maybeCompact()
}

// SetEarlier is Set unless name already has a deadline at or before when.
func (x *Index) SetEarlier(name []byte, when int64) {
	if old, ok := x.when[string(name)]; ok && old <= when {
		return
	}
	x.Set(name, when)
}

// Delete removes name and reports whether it was present.
func (x *Index) Delete(name []byte) bool {
	if _, ok := x.when[string(name)]; !ok {
		return false
	}
	delete(x.when, string(name))
	x.maybeCompact()
	return true
}

// Min returns the name with the earliest deadline (ties in no fixed order).
func (x *Index) Min() (name string, when int64, ok bool) {
	for len(x.heap) > 0 {
		top := x.heap[0]
		if w, live := x.when[top.name]; live && w == top.when {
			return top.name, top.when, true
		}
		x.pop()
	}
	return "", 0, false
}

// PopMin removes and returns the name with the earliest deadline.
func (x *Index) PopMin() (name string, when int64, ok bool) {
	name, when, ok = x.Min()
	if ok {
		delete(x.when, name)
		x.pop()
		x.maybeCompact()
	}
	return
}

// Any returns some name (Go's map order: effectively random), for sampling.
func (x *Index) Any() (name string, when int64, ok bool) {
	for k, w := range x.when {
		return k, w, true
	}
	return "", 0, false
}

// Each calls fn for every name until it returns false.
func (x *Index) Each(fn func(name string, when int64) bool) {
	for k, w := range x.when {
		if !fn(k, w) {
			return
		}
	}
}

// Clone returns an independent copy.
func (x *Index) Clone() *Index {
	c := &Index{when: make(map[string]int64, len(x.when)), heap: make([]item, 0, len(x.when))}
	for k, w := range x.when {
		c.when[k] = w
		c.heap = append(c.heap, item{w, k})
	}
	c.heapify()
	return c
}

// maybeCompact rebuilds the heap from the map once stale items dominate.
func (x *Index) maybeCompact() {
	if len(x.heap) <= 2*len(x.when)+32 {
		return
	}
	x.heap = x.heap[:0]
	for k, w := range x.when {
		x.heap = append(x.heap, item{w, k})
	}
	x.heapify()
}

func (x *Index) heapify() {
	for i := len(x.heap)/2 - 1; i >= 0; i-- {
		x.down(i)
	}
}

func (x *Index) push(it item) {
	x.heap = append(x.heap, it)
	i := len(x.heap) - 1
	for i > 0 {
		p := (i - 1) / 2
		if x.heap[p].when <= x.heap[i].when {
			break
		}
		x.heap[p], x.heap[i] = x.heap[i], x.heap[p]
		i = p
	}
}

func (x *Index) pop() {
	last := len(x.heap) - 1
	x.heap[0] = x.heap[last]
	x.heap[last] = item{}
	x.heap = x.heap[:last]
	if last > 0 {
		x.down(0)
	}
}

func (x *Index) down(i int) {
	n := len(x.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && x.heap[r].when < x.heap[l].when {
			m = r
		}
		if x.heap[i].when <= x.heap[m].when {
			return
		}
		x.heap[i], x.heap[m] = x.heap[m], x.heap[i]
		i = m
	}
}
