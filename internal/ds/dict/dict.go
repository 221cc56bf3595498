// Package dict holds the large encodings of hashes and sets: Go maps
// paired with a dense slice of their entries.
//
// The slice gives what Redis gets from picking random buckets: O(1)
// uniform random members for SRANDMEMBER, SPOP and HRANDFIELD. It also
// gives a SCAN cursor with Redis's guarantee. Deletion moves the last
// entry into the hole, so a cursor that walks positions from the top down
// never misses an entry that was present for the whole iteration: the
// only entry that moves is the last one, and it moves to a lower position,
// from the visited part or within the unvisited part. Entries added during
// a scan land at the top and may or may not be seen, as Redis allows.
//
// The types report Redis's "hashtable" encoding and deep-copy for COPY.
package dict

import "math/rand/v2"

// Set is a set of byte strings.
type Set struct {
	idx  map[string]uint32
	keys []string
}

// NewSet returns an empty set sized for hint members.
func NewSet(hint int) *Set {
	return &Set{idx: make(map[string]uint32, hint), keys: make([]string, 0, hint)}
}

// Encoding reports the name OBJECT ENCODING uses.
func (s *Set) Encoding() string { return "hashtable" }

// Copy returns a deep copy (the strings are immutable and shared).
func (s *Set) Copy() any {
	c := NewSet(len(s.keys))
	for _, k := range s.keys {
		c.idx[k] = uint32(len(c.keys))
		c.keys = append(c.keys, k)
	}
	return c
}

// Len returns the number of members.
func (s *Set) Len() int { return len(s.keys) }

// Has reports whether m is a member; it does not allocate.
func (s *Set) Has(m []byte) bool {
	_, ok := s.idx[string(m)]
	return ok
}

// Add inserts m (copied) and reports whether it was new.
func (s *Set) Add(m []byte) bool {
	if _, ok := s.idx[string(m)]; ok {
		return false
	}
	k := string(m)
	s.idx[k] = uint32(len(s.keys))
	s.keys = append(s.keys, k)
	return true
}

// AddString inserts m and reports whether it was new.
func (s *Set) AddString(m string) bool {
	if _, ok := s.idx[m]; ok {
		return false
	}
	s.idx[m] = uint32(len(s.keys))
	s.keys = append(s.keys, m)
	return true
}

// Remove deletes m and reports whether it was a member.
func (s *Set) Remove(m []byte) bool {
	i, ok := s.idx[string(m)]
	if !ok {
		return false
	}
	s.removeAt(int(i))
	return true
}

func (s *Set) removeAt(i int) {
	delete(s.idx, s.keys[i])
	last := len(s.keys) - 1
	if i != last {
		s.keys[i] = s.keys[last]
		s.idx[s.keys[i]] = uint32(i)
	}
	s.keys[last] = ""
	s.keys = s.keys[:last]
	s.shrink()
}

// shrink releases the slice's spare room once it is mostly empty, as
// Redis resizes its tables after deletions.
func (s *Set) shrink() {
	if cap(s.keys) > 64 && len(s.keys) < cap(s.keys)/4 {
		s.keys = append(make([]string, 0, len(s.keys)*2), s.keys...)
	}
}

// At returns the member at position i (0 ≤ i < Len).
func (s *Set) At(i int) string { return s.keys[i] }

// Random returns a uniformly chosen member; the set must not be empty.
func (s *Set) Random() string { return s.keys[rand.IntN(len(s.keys))] }

// PopRandom removes and returns a uniformly chosen member.
func (s *Set) PopRandom() string {
	i := rand.IntN(len(s.keys))
	k := s.keys[i]
	s.removeAt(i)
	return k
}

// Scan visits up to count members from cursor (0 starts) and returns the
// next cursor, 0 when done. fn must not change the set.
func (s *Set) Scan(cursor uint64, count int, fn func(m string)) uint64 {
	i := scanStart(cursor, len(s.keys))
	for ; i >= 0 && count > 0; i-- {
		fn(s.keys[i])
		count--
	}
	return uint64(i + 1)
}

// scanStart is the position a cursor resumes at: the top for a new scan,
// clamped when the collection shrank since.
func scanStart(cursor uint64, n int) int {
	if cursor == 0 || cursor > uint64(n) {
		return n - 1
	}
	return int(cursor) - 1
}

// Map is a map of byte-string fields to byte-string values.
type Map struct {
	idx  map[string]uint32
	ents []Entry
}

// Entry is one field and its value.
type Entry struct{ Key, Val string }

// NewMap returns an empty map sized for hint fields.
func NewMap(hint int) *Map {
	return &Map{idx: make(map[string]uint32, hint), ents: make([]Entry, 0, hint)}
}

// Encoding reports the name OBJECT ENCODING uses.
func (m *Map) Encoding() string { return "hashtable" }

// Copy returns a deep copy (the strings are immutable and shared).
func (m *Map) Copy() any {
	c := NewMap(len(m.ents))
	for _, e := range m.ents {
		c.idx[e.Key] = uint32(len(c.ents))
		c.ents = append(c.ents, e)
	}
	return c
}

// Len returns the number of fields.
func (m *Map) Len() int { return len(m.ents) }

// Get returns the value of field f; it does not allocate.
func (m *Map) Get(f []byte) (string, bool) {
	i, ok := m.idx[string(f)]
	if !ok {
		return "", false
	}
	return m.ents[i].Val, true
}

// Set stores field f with value v (both copied) and reports whether the
// field is new.
func (m *Map) Set(f, v []byte) bool {
	if i, ok := m.idx[string(f)]; ok {
		if m.ents[i].Val != string(v) {
			m.ents[i].Val = string(v)
		}
		return false
	}
	k := string(f)
	m.idx[k] = uint32(len(m.ents))
	m.ents = append(m.ents, Entry{k, string(v)})
	return true
}

// Delete removes field f and reports whether it existed.
func (m *Map) Delete(f []byte) bool {
	i, ok := m.idx[string(f)]
	if !ok {
		return false
	}
	delete(m.idx, m.ents[i].Key)
	last := len(m.ents) - 1
	if int(i) != last {
		m.ents[i] = m.ents[last]
		m.idx[m.ents[i].Key] = i
	}
	m.ents[last] = Entry{}
	m.ents = m.ents[:last]
	if cap(m.ents) > 64 && len(m.ents) < cap(m.ents)/4 {
		m.ents = append(make([]Entry, 0, len(m.ents)*2), m.ents...)
	}
	return true
}

// At returns the entry at position i (0 ≤ i < Len).
func (m *Map) At(i int) Entry { return m.ents[i] }

// Random returns a uniformly chosen entry; the map must not be empty.
func (m *Map) Random() Entry { return m.ents[rand.IntN(len(m.ents))] }

// Scan visits up to count entries from cursor (0 starts) and returns the
// next cursor, 0 when done. fn must not change the map.
func (m *Map) Scan(cursor uint64, count int, fn func(e Entry)) uint64 {
	i := scanStart(cursor, len(m.ents))
	for ; i >= 0 && count > 0; i-- {
		fn(m.ents[i])
		count--
	}
	return uint64(i + 1)
}
