package stream

import (
	"encoding/binary"
	"sort"

	"github.com/corvid-db/corvid/internal/ds/slab"
)

// Entry flags, stored in the first byte of every entry.
const (
	flagDeleted   = 1
	flagSameField = 2
)

// node holds consecutive entries in one byte string:
//
//	header: uvarint nMaster, nMaster × (uvarint len, field)
//	entry:  flags byte, uvarint msDelta, uvarint seq,
//	        [uvarint nFields] (absent with flagSameField),
//	        nFields × ([uvarint len, field] (absent with flagSameField), uvarint len, value)
//
// seq is the delta from the master sequence when msDelta is 0 (IDs only
// grow, so it is never negative) and the sequence itself otherwise.
type node struct {
	master ID // ID of the first entry ever added to the node
	last   ID // ID of the last entry, tombstone or not
	live   int32
	dead   int32
	ref    slab.Ref // off-heap location of data once sealed (0: on the heap)
	hdr    int32    // length of the header
	nf     int32    // number of master fields
	data   []byte
}

// Stream is one stream value.
type Stream struct {
	h            *holder // the nodes, sorted by ID
	length       uint64
	lastID       ID
	firstID      ID
	maxDeletedID ID
	entriesAdded uint64
	groups       []*Group // sorted by name
}

// New returns an empty stream.
func New() *Stream {
	s := &Stream{}
	s.h = newHolder(s)
	return s
}

// Len is the number of live entries.
func (s *Stream) Len() uint64 { return s.length }

// LastID is the last generated ID (0-0 if none).
func (s *Stream) LastID() ID { return s.lastID }

// FirstID is the recorded first entry ID (0-0 when empty).
func (s *Stream) FirstID() ID { return s.firstID }

// MaxDeletedID is the largest ID XDEL removed.
func (s *Stream) MaxDeletedID() ID { return s.maxDeletedID }

// EntriesAdded counts every entry ever added.
func (s *Stream) EntriesAdded() uint64 { return s.entriesAdded }

// SetLastID, SetEntriesAdded and SetMaxDeletedID are XSETID's.
func (s *Stream) SetLastID(id ID) { s.lastID = id }

// SetEntriesAdded sets the all-time added counter (XSETID ENTRIESADDED).
func (s *Stream) SetEntriesAdded(n uint64) { s.entriesAdded = n }

// SetMaxDeletedID sets the maximal tombstone (XSETID MAXDELETEDID).
func (s *Stream) SetMaxDeletedID(id ID) { s.maxDeletedID = id }

// Nodes is the number of nodes (XINFO's radix-tree-keys).
func (s *Stream) Nodes() int { return len(s.h.nodes) }

// Encoding is what OBJECT ENCODING reports.
func (s *Stream) Encoding() string { return "stream" }

// NextID is the ID an auto-generated XADD gets at time nowMs; ok is false
// when the stream has used up every ID.
func (s *Stream) NextID(nowMs uint64) (ID, bool) {
	if nowMs > s.lastID.Ms {
		return ID{nowMs, 0}, true
	}
	return s.lastID.Incr()
}

func putUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func getUvarint(b []byte, off int) (uint64, int) {
	v, n := binary.Uvarint(b[off:])
	return v, off + n
}

// Append adds an entry with the given ID (which the caller has checked is
// greater than LastID) and field-value pairs fv. A new node starts when the
// tail node has maxEntries entries (live or deleted; 0 = no limit) or would
// pass maxBytes (0 = no limit), as Redis's stream-node-max-entries/-bytes.
func (s *Stream) Append(id ID, fv [][]byte, maxEntries, maxBytes int) {
	total := 0
	for _, b := range fv {
		total += len(b)
	}
	var n *node
	if len(s.h.nodes) > 0 {
		n = s.h.nodes[len(s.h.nodes)-1]
		if maxBytes <= 0 || maxBytes > 1<<30 {
			maxBytes = 1 << 30
		}
		if len(n.data)+total >= maxBytes || (maxEntries > 0 && int(n.live+n.dead) >= maxEntries) {
			n.seal()
			n = nil
		}
	}
	nf := len(fv) / 2
	same := false
	if n == nil {
		n = &node{master: id}
		size := 8 + total + 2*len(fv)
		for i := 0; i < nf; i++ {
			size += len(fv[2*i]) + 1
		}
		n.data = make([]byte, 0, size+size/2)
		n.data = putUvarint(n.data, uint64(nf))
		for i := 0; i < nf; i++ {
			n.data = putUvarint(n.data, uint64(len(fv[2*i])))
			n.data = append(n.data, fv[2*i]...)
		}
		n.hdr = int32(len(n.data))
		n.nf = int32(nf)
		s.h.nodes = append(s.h.nodes, n)
		same = true
	} else {
		same = n.sameFields(fv)
	}
	flags := byte(0)
	if same {
		flags = flagSameField
	}
	d := append(n.data, flags)
	d = putUvarint(d, id.Ms-n.master.Ms)
	if id.Ms == n.master.Ms {
		d = putUvarint(d, id.Seq-n.master.Seq)
	} else {
		d = putUvarint(d, id.Seq)
	}
	if !same {
		d = putUvarint(d, uint64(nf))
	}
	for i := 0; i < nf; i++ {
		if !same {
			d = putUvarint(d, uint64(len(fv[2*i])))
			d = append(d, fv[2*i]...)
		}
		d = putUvarint(d, uint64(len(fv[2*i+1])))
		d = append(d, fv[2*i+1]...)
	}
	n.data = d
	n.live++
	n.last = id
	s.length++
	s.entriesAdded++
	s.lastID = id
	if s.length == 1 {
		s.firstID = id
	}
}

func (n *node) sameFields(fv [][]byte) bool {
	cnt, off := getUvarint(n.data, 0)
	if int(cnt) != len(fv)/2 {
		return false
	}
	for i := 0; i < int(cnt); i++ {
		var l uint64
		l, off = getUvarint(n.data, off)
		if string(n.data[off:off+int(l)]) != string(fv[2*i]) {
			return false
		}
		off += int(l)
	}
	return true
}

// masterFields appends the node's master field names to dst.
func (n *node) masterFields(dst [][]byte) [][]byte {
	cnt, off := getUvarint(n.data, 0)
	for i := 0; i < int(cnt); i++ {
		var l uint64
		l, off = getUvarint(n.data, off)
		dst = append(dst, n.data[off:off+int(l):off+int(l)])
		off += int(l)
	}
	return dst
}

// entry decodes the entry at off: its flags position, ID, fields and
// values into fv (reset), and the offset of the next entry.
func (n *node) entry(off int, master [][]byte, fv [][]byte, wantFields bool) (flagsAt int, id ID, out [][]byte, next int) {
	flagsAt = off
	flags := n.data[off]
	off++
	var msd, seq uint64
	msd, off = getUvarint(n.data, off)
	seq, off = getUvarint(n.data, off)
	id.Ms = n.master.Ms + msd
	if msd == 0 {
		id.Seq = n.master.Seq + seq
	} else {
		id.Seq = seq
	}
	out = fv[:0]
	if flags&flagSameField != 0 {
		for i := 0; i < int(n.nf); i++ {
			var l uint64
			l, off = getUvarint(n.data, off)
			if wantFields {
				out = append(out, master[i], n.data[off:off+int(l):off+int(l)])
			}
			off += int(l)
		}
		return flagsAt, id, out, off
	}
	var cnt uint64
	cnt, off = getUvarint(n.data, off)
	for i := 0; i < int(2*cnt); i++ {
		var l uint64
		l, off = getUvarint(n.data, off)
		if wantFields {
			out = append(out, n.data[off:off+int(l):off+int(l)])
		}
		off += int(l)
	}
	return flagsAt, id, out, off
}

// findNode returns the index of the last node whose master ID is <= id
// (0 when id is before every node).
func (s *Stream) findNode(id ID) int {
	i := sort.Search(len(s.h.nodes), func(i int) bool { return id.Less(s.h.nodes[i].master) })
	if i > 0 {
		i--
	}
	return i
}

// Range calls fn for the live entries with start <= ID <= end, in ID order
// (or reversed), until fn returns false. fv holds field, value, field,
// value… and aliases the stream: it is valid only during the call, and fn
// must not change the stream.
func (s *Stream) Range(start, end ID, rev bool, fn func(id ID, fv [][]byte) bool) {
	if len(s.h.nodes) == 0 || end.Less(start) {
		return
	}
	var master, fv [][]byte
	if !rev {
		for ni := s.findNode(start); ni < len(s.h.nodes); ni++ {
			n := s.h.nodes[ni]
			if end.Less(n.master) {
				return
			}
			if n.last.Less(start) {
				continue
			}
			master = n.masterFields(master[:0])
			for off := int(n.hdr); off < len(n.data); {
				var id ID
				var at int
				at, id, fv, off = n.entry(off, master, fv, true)
				if id.Less(start) || n.data[at]&flagDeleted != 0 {
					continue
				}
				if end.Less(id) {
					return
				}
				if !fn(id, fv) {
					return
				}
			}
		}
		return
	}
	var offs []int
	for ni := s.findNode(end); ni >= 0; ni-- {
		n := s.h.nodes[ni]
		if n.last.Less(start) {
			return
		}
		offs = offs[:0]
		for off := int(n.hdr); off < len(n.data); {
			offs = append(offs, off)
			_, _, _, off = n.entry(off, nil, nil, false)
		}
		master = n.masterFields(master[:0])
		for k := len(offs) - 1; k >= 0; k-- {
			at, id, f, _ := n.entry(offs[k], master, fv, true)
			fv = f
			if end.Less(id) || n.data[at]&flagDeleted != 0 {
				continue
			}
			if id.Less(start) {
				return
			}
			if !fn(id, fv) {
				return
			}
		}
	}
}

// Get returns the fields and values of the live entry id (aliasing the
// stream) and whether it exists.
func (s *Stream) Get(id ID) ([][]byte, bool) {
	var out [][]byte
	found := false
	s.Range(id, id, false, func(_ ID, fv [][]byte) bool {
		out = fv
		found = true
		return false
	})
	return out, found
}

// Exists reports whether a live entry has this ID.
func (s *Stream) Exists(id ID) bool {
	_, ok := s.Get(id)
	return ok
}

// edge returns the first (or last) live entry ID; ok is false when empty.
func (s *Stream) edge(first bool) (id ID, ok bool) {
	s.Range(ID{}, MaxID, !first, func(i ID, _ [][]byte) bool {
		id, ok = i, true
		return false
	})
	return id, ok
}

// LastLiveID is the ID of the last live entry (Redis's streamLastValidID);
// ok is false when the stream is empty.
func (s *Stream) LastLiveID() (ID, bool) { return s.edge(false) }

// FirstLiveID is the ID of the first live entry.
func (s *Stream) FirstLiveID() (ID, bool) { return s.edge(true) }

// Delete removes the live entry id (leaving a tombstone, or dropping its
// node when it was the node's last live entry) and reports whether it
// existed. It keeps FirstID and MaxDeletedID as XDEL does.
func (s *Stream) Delete(id ID) bool {
	if len(s.h.nodes) == 0 {
		return false
	}
	ni := s.findNode(id)
	n := s.h.nodes[ni]
	if id.Less(n.master) || n.last.Less(id) {
		return false
	}
	for off := int(n.hdr); off < len(n.data); {
		at, eid, _, next := n.entry(off, nil, nil, false)
		off = next
		if eid != id {
			if id.Less(eid) {
				return false
			}
			continue
		}
		if n.data[at]&flagDeleted != 0 {
			return false
		}
		if n.live == 1 {
			s.h.nodes = append(s.h.nodes[:ni], s.h.nodes[ni+1:]...)
			s.h.nodes[len(s.h.nodes):cap(s.h.nodes)][0] = nil
			n.free()
		} else {
			n.data[at] |= flagDeleted
			n.live--
			n.dead++
		}
		s.length--
		if id.Compare(s.maxDeletedID) > 0 {
			s.maxDeletedID = id
		}
		if s.length == 0 {
			s.firstID = ID{}
		} else if id == s.firstID {
			s.firstID, _ = s.FirstLiveID()
		}
		return true
	}
	return false
}

// Trim strategies.
const (
	TrimNone = iota
	TrimMaxLen
	TrimMinID
)

// TrimArgs are XADD/XTRIM's trimming options.
type TrimArgs struct {
	Strategy int
	MaxLen   int64
	MinID    ID
	Approx   bool
	Limit    int64 // most entries to remove; 0 = no limit
}

// Trim removes entries from the head as Redis's streamTrim does: whole
// nodes while they fit, then (unless Approx) single entries of the next
// node, never more than Limit. It returns the number removed.
func (s *Stream) Trim(a TrimArgs) int64 {
	if a.Strategy == TrimNone {
		return 0
	}
	var deleted int64
	for len(s.h.nodes) > 0 {
		if a.Strategy == TrimMaxLen && int64(s.length) <= a.MaxLen {
			break
		}
		n := s.h.nodes[0]
		entries := int64(n.live)
		if a.Limit != 0 && deleted+entries > a.Limit {
			break
		}
		var remove bool
		if a.Strategy == TrimMaxLen {
			remove = int64(s.length)-entries >= a.MaxLen
		} else {
			remove = n.last.Less(a.MinID)
		}
		if remove {
			s.h.nodes[0] = nil
			n.free()
			s.h.nodes = s.h.nodes[1:]
			s.length -= uint64(entries)
			deleted += entries
			continue
		}
		if a.Approx {
			break
		}
		for off := int(n.hdr); off < len(n.data); {
			at, id, _, next := n.entry(off, nil, nil, false)
			off = next
			var stop bool
			if a.Strategy == TrimMaxLen {
				stop = int64(s.length) <= a.MaxLen
			} else {
				stop = id.Compare(a.MinID) >= 0
			}
			if stop {
				break
			}
			if n.data[at]&flagDeleted == 0 {
				n.data[at] |= flagDeleted
				n.live--
				n.dead++
				s.length--
				deleted++
			}
		}
		break
	}
	if len(s.h.nodes) > 0 && cap(s.h.nodes) > 64 && len(s.h.nodes) < cap(s.h.nodes)/4 {
		s.h.nodes = append([]*node(nil), s.h.nodes...)
	}
	if s.length == 0 {
		s.firstID = ID{}
	} else if deleted > 0 {
		s.firstID, _ = s.FirstLiveID()
	}
	return deleted
}

// RecordedFirstID returns the first entry's ID including tombstones, as
// streamGetEdgeID(s,1,0) does (what an approximate MINID trim propagates).
func (s *Stream) RecordedFirstID() ID {
	if len(s.h.nodes) == 0 {
		return MaxID
	}
	n := s.h.nodes[0]
	_, id, _, _ := n.entry(int(n.hdr), nil, nil, false)
	return id
}

// MemoryUsage estimates the bytes the stream uses (MEMORY USAGE).
func (s *Stream) MemoryUsage(samples int) int64 {
	size := int64(96 + 8*cap(s.h.nodes))
	for _, n := range s.h.nodes {
		size += 80 + int64(cap(n.data))
	}
	for _, g := range s.groups {
		size += g.memory()
	}
	return size
}

// Copy is a deep copy (COPY), consumer groups included.
func (s *Stream) Copy() any {
	c := *s
	c.h = newHolder(&c)
	c.h.nodes = make([]*node, len(s.h.nodes))
	for i, n := range s.h.nodes {
		nn := *n
		nn.ref = 0
		nn.data = append([]byte(nil), n.data...)
		if i < len(s.h.nodes)-1 {
			nn.seal()
		}
		c.h.nodes[i] = &nn
	}
	c.groups = make([]*Group, len(s.groups))
	for i, g := range s.groups {
		c.groups[i] = g.copy()
	}
	return &c
}

// RangeHasTombstones is Redis's streamRangeHasTombstones for [start, +inf].
func (s *Stream) rangeHasTombstones(start ID) bool {
	if s.length == 0 || s.maxDeletedID.IsZero() {
		return false
	}
	if s.firstID.Compare(s.maxDeletedID) > 0 {
		return false
	}
	return start.Compare(s.maxDeletedID) <= 0
}

// invalidEntriesRead marks an unknown entries-read counter.
const invalidEntriesRead = -1

// EstimateDistance is streamEstimateDistanceFromFirstEverEntry: the
// logical read counter of id, or -1 when it cannot be known.
func (s *Stream) EstimateDistance(id ID) int64 {
	if s.entriesAdded == 0 {
		return 0
	}
	if s.length == 0 && id.Compare(s.lastID) < 1 {
		return int64(s.entriesAdded)
	}
	cmpLast := id.Compare(s.lastID)
	if cmpLast == 0 {
		return int64(s.entriesAdded)
	} else if cmpLast > 0 {
		return invalidEntriesRead
	}
	cmpFirst := id.Compare(s.firstID)
	if s.maxDeletedID.IsZero() || s.maxDeletedID.Less(s.firstID) {
		if cmpFirst < 0 {
			return int64(s.entriesAdded - s.length)
		} else if cmpFirst == 0 {
			return int64(s.entriesAdded - s.length + 1)
		}
	}
	return invalidEntriesRead
}

// Lag is a group's lag as XINFO reports it; ok is false when it is not
// known (a null reply).
func (s *Stream) Lag(g *Group) (int64, bool) {
	if s.entriesAdded == 0 {
		return 0, true
	}
	if g.EntriesRead != invalidEntriesRead && !s.rangeHasTombstones(g.LastID) {
		return int64(s.entriesAdded) - g.EntriesRead, true
	}
	if er := s.EstimateDistance(g.LastID); er != invalidEntriesRead {
		return int64(s.entriesAdded) - er, true
	}
	return 0, false
}

// Delivered updates g's last delivered ID and read counter for an entry
// id served to it, as streamReplyWithRange does.
func (s *Stream) Delivered(g *Group, id ID) {
	if id.Compare(g.LastID) <= 0 {
		return
	}
	if g.EntriesRead != invalidEntriesRead && !s.rangeHasTombstones(id) {
		g.EntriesRead++
	} else if s.entriesAdded != 0 {
		g.EntriesRead = s.EstimateDistance(id)
	}
	g.LastID = id
}
