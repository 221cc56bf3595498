// Package stream is the representation of Redis streams: an append-only
// log of entries with 128-bit IDs, plus consumer groups with their pending
// entries lists.
//
// Entries live in nodes, each one compact []byte holding up to
// stream-node-max-entries entries (or stream-node-max-bytes), as Redis keeps
// listpacks in a radix tree: a node stores its "master" field names once,
// entries whose fields match them store only their values, and entry IDs
// are deltas from the node's first ID, so a small entry costs a few bytes
// beyond its values. The nodes are a slice sorted by ID (a stream only grows
// at its tail), so a seek is a binary search over nodes and a short scan
// inside one. Deleted entries are flagged in place (tombstones) and a node
// goes away when its last live entry does, exactly as in Redis, which keeps
// approximate trimming (whole nodes) behaving the same.
package stream

import (
	"math"
	"strconv"
)

// ID is a stream entry ID: milliseconds and a sequence number.
type ID struct{ Ms, Seq uint64 }

// MaxID is the largest representable ID ("+").
var MaxID = ID{math.MaxUint64, math.MaxUint64}

// Compare returns -1, 0 or 1 as a is less than, equal to or greater than b.
func (a ID) Compare(b ID) int {
	switch {
	case a.Ms < b.Ms:
		return -1
	case a.Ms > b.Ms:
		return 1
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

// Less reports a < b.
func (a ID) Less(b ID) bool { return a.Compare(b) < 0 }

// IsZero reports whether the ID is 0-0.
func (a ID) IsZero() bool { return a.Ms == 0 && a.Seq == 0 }

// Incr returns the next ID; ok is false when a is MaxID.
func (a ID) Incr() (ID, bool) {
	if a.Seq == math.MaxUint64 {
		if a.Ms == math.MaxUint64 {
			return ID{}, false
		}
		return ID{a.Ms + 1, 0}, true
	}
	return ID{a.Ms, a.Seq + 1}, true
}

// Decr returns the previous ID; ok is false when a is 0-0.
func (a ID) Decr() (ID, bool) {
	if a.Seq == 0 {
		if a.Ms == 0 {
			return ID{}, false
		}
		return ID{a.Ms - 1, math.MaxUint64}, true
	}
	return ID{a.Ms, a.Seq - 1}, true
}

// Append appends the "ms-seq" form of the ID to dst.
func (a ID) Append(dst []byte) []byte {
	dst = strconv.AppendUint(dst, a.Ms, 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, a.Seq, 10)
}

// String is the "ms-seq" form.
func (a ID) String() string { return string(a.Append(nil)) }

// ParseID parses a stream ID argument as Redis's streamGenericParseIDOrReply:
// "<ms>-<seq>" or "<ms>" (the sequence is then missingSeq), "-" and "+"
// for the smallest and largest IDs unless strict, and, when allowSeqStar,
// "<ms>-*" (seqGiven is then false).
func ParseID(b []byte, missingSeq uint64, strict, allowSeqStar bool) (id ID, seqGiven bool, ok bool) {
	if len(b) > 127 {
		return ID{}, false, false
	}
	if len(b) == 1 && (b[0] == '-' || b[0] == '+') {
		if strict {
			return ID{}, false, false
		}
		if b[0] == '-' {
			return ID{}, true, true
		}
		return MaxID, true, true
	}
	dash := -1
	for i, c := range b {
		if c == '-' {
			dash = i
			break
		}
	}
	msPart := b
	if dash >= 0 {
		msPart = b[:dash]
	}
	ms, ok := parseUint(msPart)
	if !ok {
		return ID{}, false, false
	}
	if dash < 0 {
		return ID{ms, missingSeq}, true, true
	}
	seqPart := b[dash+1:]
	if allowSeqStar && len(seqPart) == 1 && seqPart[0] == '*' {
		return ID{ms, 0}, false, true
	}
	seq, ok := parseUint(seqPart)
	if !ok {
		return ID{}, false, false
	}
	return ID{ms, seq}, true, true
}

// parseUint is Redis's string2ull: a strict decimal, or what strtoull
// accepts in full (leading blanks, a '+' sign) without a negative value.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	if i < len(b) && b[i] == '+' {
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var n uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}
