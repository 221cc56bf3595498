package rdb

import (
	"encoding/binary"
	"iter"
)

// Encoders of the collection layouts Redis 7.2 writes (and Redis 7.0's
// stream layout when it loses nothing). The caller writes the type byte
// first (Writer.WriteByte) and picks the layout by the value's encoding,
// as rdbSaveObject does.

// quicklistLimits mirrors quicklist's node limits for list-max-listpack-size.
func quicklistLimits(fill int) (size, count int) {
	if fill >= 0 {
		return 8192, max(fill, 1) // a count limit, with the size safety limit
	}
	levels := [...]int{4096, 8192, 16384, 32768, 65536}
	return levels[min(-fill-1, len(levels)-1)], 1 << 30
}

// WriteQuicklist2 writes a list as RDB_TYPE_LIST_QUICKLIST_2 (type byte
// not included): packed listpack nodes bounded by fill (the value of
// list-max-listpack-size), as Redis's quicklist would hold them.
func (w *Writer) WriteQuicklist2(elems iter.Seq[[]byte], fill int) {
	size, count := quicklistLimits(fill)
	var nodes [][]byte
	lb := NewListpackBuilder()
	for e := range elems {
		if lb.Len() > 0 && (lb.Len() >= count || lb.Size()+len(e)+11 > size) {
			nodes = append(nodes, lb.Bytes())
			lb = NewListpackBuilder()
		}
		lb.Append(e)
	}
	if lb.Len() > 0 {
		nodes = append(nodes, lb.Bytes())
	}
	w.WriteLen(uint64(len(nodes)))
	for _, n := range nodes {
		w.WriteLen(containerPacked)
		w.WriteRawString(n)
	}
}

// WriteListpack writes elems as one listpack blob (SET_LISTPACK,
// HASH_LISTPACK, ZSET_LISTPACK, HASH_LISTPACK_EX bodies).
func (w *Writer) WriteListpack(elems iter.Seq[[]byte]) {
	lb := NewListpackBuilder()
	for e := range elems {
		lb.Append(e)
	}
	w.WriteRawString(lb.Bytes())
}

// WriteIntset writes sorted distinct integers as an intset blob.
func (w *Writer) WriteIntset(vals []int64) { w.WriteRawString(BuildIntset(vals)) }

// RDBType returns the type a stream is written as: STREAM_LISTPACKS_2
// (Redis 7.0's) when no consumer's active time differs from its seen
// time, since a loader sets the one to the other for that type and it is
// otherwise the same layout; STREAM_LISTPACKS_3 (Redis 7.2's) when one
// does.
func (s *Stream) RDBType() byte {
	for _, g := range s.Groups {
		for _, c := range g.Consumers {
			if c.ActiveTime != c.SeenTime {
				return TypeStreamListpacks3
			}
		}
	}
	return TypeStreamListpacks2
}

// WriteStream writes a stream in the layout of s.RDBType(), which the
// caller writes first as the type byte. s gives the metadata and groups
// (its Entries are ignored); entries yields the live entries in ID order.
// Nodes hold at most maxEntries entries and about maxBytes bytes
// (stream-node-max-*).
func (w *Writer) WriteStream(s *Stream, entries iter.Seq2[StreamID, [][]byte], maxEntries, maxBytes int) {
	if maxEntries <= 0 {
		maxEntries = 1 << 30
	}
	if maxBytes <= 0 {
		maxBytes = 1 << 30
	}
	type node struct {
		master StreamID
		lp     []byte
	}
	var nodes []node
	var cur *ListpackBuilder
	var master StreamID
	var masterFields [][]byte
	var body *ListpackBuilder // the current node's entries, after its header
	n := 0
	finish := func() {
		if cur == nil {
			return
		}
		// Header: count, deleted, master fields, 0; then the entries.
		lb := NewListpackBuilder()
		lb.AppendInt(int64(n))
		lb.AppendInt(0)
		lb.AppendInt(int64(len(masterFields)))
		for _, f := range masterFields {
			lb.Append(f)
		}
		lb.AppendInt(0)
		b := lb.b
		b = append(b, body.b[lpHeaderSize:]...)
		lb.b, lb.n = b, lb.n+body.n
		nodes = append(nodes, node{master, lb.Bytes()})
		cur, body = nil, nil
	}
	for id, fv := range entries {
		if cur != nil && (n >= maxEntries || body.Size() >= maxBytes) {
			finish()
		}
		if cur == nil {
			cur, body = NewListpackBuilder(), NewListpackBuilder()
			master, n = id, 0
			masterFields = masterFields[:0]
			for i := 0; i+1 < len(fv); i += 2 {
				masterFields = append(masterFields, append([]byte(nil), fv[i]...))
			}
		}
		same := sameFields(fv, masterFields)
		flags := int64(0)
		if same {
			flags = streamFlagSameField
		}
		body.AppendInt(flags)
		body.AppendInt(int64(id.Ms - master.Ms))
		body.AppendInt(int64(id.Seq - master.Seq))
		nf := int64(len(fv) / 2)
		if same {
			for i := 1; i < len(fv); i += 2 {
				body.Append(fv[i])
			}
			body.AppendInt(nf + 3)
		} else {
			body.AppendInt(nf)
			for i := 0; i+1 < len(fv); i += 2 {
				body.Append(fv[i])
				body.Append(fv[i+1])
			}
			body.AppendInt(2*nf + 4)
		}
		n++
	}
	finish()
	w.WriteLen(uint64(len(nodes)))
	var key [16]byte
	for _, nd := range nodes {
		binary.BigEndian.PutUint64(key[:], nd.master.Ms)
		binary.BigEndian.PutUint64(key[8:], nd.master.Seq)
		w.WriteRawString(key[:])
		w.WriteRawString(nd.lp)
	}
	w.WriteLen(s.Length)
	w.writeID(s.LastID)
	w.writeID(s.FirstID)
	w.writeID(s.MaxDeletedID)
	w.WriteLen(s.EntriesAdded)
	w.WriteLen(uint64(len(s.Groups)))
	v3 := s.RDBType() == TypeStreamListpacks3
	for _, g := range s.Groups {
		w.WriteString(g.Name)
		w.writeID(g.LastID)
		w.WriteLen(uint64(g.EntriesRead)) // -1 (unknown) wraps as Redis's does
		w.WriteLen(uint64(len(g.PEL)))
		for _, nk := range g.PEL {
			w.writeRawID(nk.ID)
			w.WriteMillis(nk.DeliveryTime)
			w.WriteLen(nk.DeliveryCount)
		}
		w.WriteLen(uint64(len(g.Consumers)))
		for _, c := range g.Consumers {
			w.WriteString(c.Name)
			w.WriteMillis(c.SeenTime)
			if v3 {
				w.WriteMillis(c.ActiveTime)
			}
			w.WriteLen(uint64(len(c.PEL)))
			for _, id := range c.PEL {
				w.writeRawID(id)
			}
		}
	}
}

func (w *Writer) writeID(id StreamID) {
	w.WriteLen(id.Ms)
	w.WriteLen(id.Seq)
}

func (w *Writer) writeRawID(id StreamID) {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], id.Ms)
	binary.BigEndian.PutUint64(b[8:], id.Seq)
	w.writeSmall(b[:])
}
