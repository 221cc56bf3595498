package rdb

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
)

// Kind is the data type an object decodes to, whatever its encoding.
type Kind uint8

// The kinds of values.
const (
	KindString Kind = iota
	KindList
	KindSet
	KindZSet
	KindHash
	KindStream
)

// ZEntry is one sorted set member.
type ZEntry struct {
	Member []byte
	Score  float64
}

// HashField is one hash field; ExpireAt is its expiry in Unix ms, 0 for none.
type HashField struct {
	Field, Value []byte
	ExpireAt     int64
}

// StreamID is a stream entry ID.
type StreamID struct{ Ms, Seq uint64 }

// Less orders IDs.
func (a StreamID) Less(b StreamID) bool { return a.Ms < b.Ms || a.Ms == b.Ms && a.Seq < b.Seq }

// StreamEntry is one live stream entry.
type StreamEntry struct {
	ID     StreamID
	Fields [][]byte // field, value, field, value…
}

// StreamNACK is a pending entry of a consumer group.
type StreamNACK struct {
	ID            StreamID
	DeliveryTime  int64
	DeliveryCount uint64
}

// StreamConsumer is a consumer and the IDs of its pending entries.
type StreamConsumer struct {
	Name       []byte
	SeenTime   int64
	ActiveTime int64
	PEL        []StreamID
}

// StreamGroup is a consumer group. EntriesRead is -1 when unknown.
type StreamGroup struct {
	Name        []byte
	LastID      StreamID
	EntriesRead int64
	PEL         []StreamNACK
	Consumers   []StreamConsumer
}

// Stream is a decoded stream.
type Stream struct {
	Entries      []StreamEntry
	Length       uint64
	LastID       StreamID
	FirstID      StreamID
	MaxDeletedID StreamID
	EntriesAdded uint64
	Groups       []StreamGroup
	// Legacy: written before Redis 7 (STREAM_LISTPACKS), which kept no
	// read counters; the loader estimates the groups' from their last IDs.
	Legacy bool
}

// Object is a decoded value. Which fields are set depends on Kind.
type Object struct {
	Type byte // the RDB type it was read as
	Kind Kind

	Str []byte // KindString

	// KindList: the elements, and how many nodes (quicklist) the payload
	// had (Redis only converts a one-node list back to a listpack).
	List      [][]byte
	ListNodes int

	// KindSet: the members. Ints holds them instead when the payload was
	// an intset.
	Set  [][]byte
	Ints []int64

	ZSet []ZEntry // KindZSet, in payload order

	Hash    []HashField // KindHash
	HashTTL bool        // the payload type carries field expiries

	Stream *Stream // KindStream
}

// Len returns the number of elements of a collection.
func (o *Object) Len() int {
	switch o.Kind {
	case KindList:
		return len(o.List)
	case KindSet:
		return len(o.Set) + len(o.Ints)
	case KindZSet:
		return len(o.ZSet)
	case KindHash:
		return len(o.Hash)
	case KindStream:
		return len(o.Stream.Entries)
	}
	return 1
}

// ErrEmpty is returned for a collection with no elements: a key that
// cannot exist. Old Redis versions could write one to a file, so a file
// loader skips it and goes on (Load's Loader.EmptyKey), as Redis's does;
// RESTORE refuses it as bad data. ReadObject returns it only once the
// whole value has been read, so the reader is at the next opcode. It
// wraps ErrCorrupt.
var ErrEmpty = corrupt("empty key")

// maxPrealloc caps capacity hints taken from untrusted lengths.
const maxPrealloc = 1 << 16

// ReadObject reads a value of RDB type typ. Duplicate set members, hash
// fields and sorted set members, NaN scores, empty collections (ErrEmpty)
// and malformed blobs are errors, as in Redis with sanitize-dump-payload
// yes.
func ReadObject(r *Reader, typ byte) (*Object, error) {
	o := &Object{Type: typ}
	var err error
	switch typ {
	case TypeString:
		o.Kind = KindString
		o.Str, err = r.ReadString()
	case TypeList:
		o.Kind = KindList
		err = readListPlain(r, o)
	case TypeListZiplist:
		o.Kind = KindList
		err = readListZiplist(r, o)
	case TypeListQuicklist, TypeListQuicklist2:
		o.Kind = KindList
		err = readQuicklist(r, o, typ == TypeListQuicklist2)
	case TypeSet:
		o.Kind = KindSet
		err = readSetPlain(r, o)
	case TypeSetIntset:
		o.Kind = KindSet
		var b []byte
		if b, err = r.ReadString(); err == nil {
			o.Ints, err = ParseIntset(b)
		}
	case TypeSetListpack:
		o.Kind = KindSet
		err = readSetListpack(r, o)
	case TypeZSet, TypeZSet2:
		o.Kind = KindZSet
		err = readZSetPlain(r, o, typ == TypeZSet2)
	case TypeZSetZiplist, TypeZSetListpack:
		o.Kind = KindZSet
		err = readZSetPacked(r, o, typ == TypeZSetZiplist)
	case TypeHash:
		o.Kind = KindHash
		err = readHashPlain(r, o, false, false)
	case TypeHashMetadata, TypeHashMetadataPreGA:
		o.Kind = KindHash
		o.HashTTL = true
		err = readHashPlain(r, o, true, typ == TypeHashMetadata)
	case TypeHashZipmap, TypeHashZiplist, TypeHashListpack:
		o.Kind = KindHash
		err = readHashPacked(r, o, typ, false)
	case TypeHashListpackEx, TypeHashListpackExPreGA:
		o.Kind = KindHash
		o.HashTTL = true
		if typ == TypeHashListpackEx {
			if _, err = r.ReadMillis(); err != nil {
				return nil, err
			}
		}
		err = readHashPacked(r, o, typ, true)
	case TypeStreamListpacks, TypeStreamListpacks2, TypeStreamListpacks3:
		o.Kind = KindStream
		o.Stream, err = readStream(r, typ)
	case TypeModulePreGA, TypeModule2:
		return nil, corrupt("module values are not supported")
	default:
		return nil, corrupt("unknown object type %d", typ)
	}
	if err != nil {
		return nil, err
	}
	if o.Kind != KindString && o.Kind != KindStream && o.Len() == 0 {
		return nil, ErrEmpty
	}
	return o, nil
}

// readCount reads a collection length, refusing ones that cannot fit in
// what a slice Reader has left (each element takes at least one byte).
func readCount(r *Reader) (int, error) {
	n, err := r.ReadPlainLen()
	if err != nil {
		return 0, err
	}
	if n > math.MaxInt32 || (r.src == nil && n > uint64(r.Remaining())) {
		return 0, corrupt("collection length %d", n)
	}
	return int(n), nil
}

func readListPlain(r *Reader, o *Object) error {
	n, err := readCount(r)
	if err != nil {
		return err
	}
	o.List = make([][]byte, 0, min(n, maxPrealloc))
	for range n {
		s, err := r.ReadString()
		if err != nil {
			return err
		}
		o.List = append(o.List, s)
	}
	o.ListNodes = -1 // unknown: a plain list is re-chunked by the loader
	return nil
}

func readListZiplist(r *Reader, o *Object) error {
	b, err := r.ReadString()
	if err != nil {
		return err
	}
	els, err := ParseZiplist(b)
	if err != nil {
		return err
	}
	for _, e := range els {
		o.List = append(o.List, e.Bytes())
	}
	o.ListNodes = 2 // Redis loads these as a quicklist and never converts them
	return nil
}

func readQuicklist(r *Reader, o *Object, v2 bool) error {
	n, err := readCount(r)
	if err != nil {
		return err
	}
	for range n {
		container := uint64(containerPacked)
		if v2 {
			if container, err = r.ReadPlainLen(); err != nil {
				return err
			}
			if container != containerPacked && container != containerPlain {
				return corrupt("quicklist container %d", container)
			}
		}
		b, err := r.ReadString()
		if err != nil {
			return err
		}
		if len(b) == 0 {
			return corrupt("empty quicklist node")
		}
		if container == containerPlain {
			o.List = append(o.List, b)
			o.ListNodes++
			continue
		}
		var els []LPElem
		if v2 {
			els, err = ParseListpack(b)
		} else {
			els, err = ParseZiplist(b)
		}
		if err != nil {
			return err
		}
		if len(els) == 0 {
			continue // Redis skips empty nodes silently
		}
		o.ListNodes++
		for _, e := range els {
			o.List = append(o.List, e.Bytes())
		}
	}
	return nil
}

// dupChecker finds repeated strings.
type dupChecker map[string]struct{}

func (d dupChecker) add(s []byte) bool {
	if _, ok := d[string(s)]; ok {
		return false
	}
	d[string(s)] = struct{}{}
	return true
}

func readSetPlain(r *Reader, o *Object) error {
	n, err := readCount(r)
	if err != nil {
		return err
	}
	seen := make(dupChecker, min(n, maxPrealloc))
	o.Set = make([][]byte, 0, min(n, maxPrealloc))
	for range n {
		s, err := r.ReadString()
		if err != nil {
			return err
		}
		if !seen.add(s) {
			return corrupt("duplicate set members")
		}
		o.Set = append(o.Set, s)
	}
	return nil
}

func readSetListpack(r *Reader, o *Object) error {
	b, err := r.ReadString()
	if err != nil {
		return err
	}
	els, err := ParseListpack(b)
	if err != nil {
		return err
	}
	seen := make(dupChecker, len(els))
	for _, e := range els {
		s := e.Bytes()
		if !seen.add(s) {
			return corrupt("duplicate set members")
		}
		o.Set = append(o.Set, s)
	}
	return nil
}

func readZSetPlain(r *Reader, o *Object, binary bool) error {
	n, err := readCount(r)
	if err != nil {
		return err
	}
	seen := make(dupChecker, min(n, maxPrealloc))
	o.ZSet = make([]ZEntry, 0, min(n, maxPrealloc))
	for range n {
		m, err := r.ReadString()
		if err != nil {
			return err
		}
		var s float64
		if binary {
			s, err = r.ReadBinaryDouble()
		} else {
			s, err = r.ReadDouble()
		}
		if err != nil {
			return err
		}
		if math.IsNaN(s) {
			return corrupt("zset with NaN score")
		}
		if !seen.add(m) {
			return corrupt("duplicate zset members")
		}
		o.ZSet = append(o.ZSet, ZEntry{m, s})
	}
	return nil
}

// parseScore parses a listpack score element as zzlGetScore does.
func parseScore(e LPElem) (float64, error) {
	if !e.IsStr {
		return float64(e.I), nil
	}
	f, err := strconv.ParseFloat(string(e.S), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, corrupt("bad zset score %q", e.S)
		}
	}
	if math.IsNaN(f) {
		return 0, corrupt("zset with NaN score")
	}
	return f, nil
}

func readPacked(r *Reader, ziplist bool) ([]LPElem, error) {
	b, err := r.ReadString()
	if err != nil {
		return nil, err
	}
	if ziplist {
		return ParseZiplist(b)
	}
	return ParseListpack(b)
}

func readZSetPacked(r *Reader, o *Object, ziplist bool) error {
	els, err := readPacked(r, ziplist)
	if err != nil {
		return err
	}
	if len(els)%2 != 0 {
		return corrupt("zset listpack with an odd number of elements")
	}
	seen := make(dupChecker, len(els)/2)
	for i := 0; i < len(els); i += 2 {
		m := els[i].Bytes()
		s, err := parseScore(els[i+1])
		if err != nil {
			return err
		}
		if !seen.add(m) {
			return corrupt("duplicate zset members")
		}
		o.ZSet = append(o.ZSet, ZEntry{m, s})
	}
	return nil
}

// hfeMaxExpire is the largest field expiry Redis accepts (EB_EXPIRE_TIME_MAX).
const hfeMaxExpire = (1<<48 - 1)

func readHashPlain(r *Reader, o *Object, ttl, relative bool) error {
	var minExpire uint64
	if relative {
		m, err := r.ReadMillis()
		if err != nil {
			return err
		}
		minExpire = uint64(m)
	}
	n, err := readCount(r)
	if err != nil {
		return err
	}
	seen := make(dupChecker, min(n, maxPrealloc))
	o.Hash = make([]HashField, 0, min(n, maxPrealloc))
	for range n {
		var when uint64
		if ttl {
			t, err := r.ReadPlainLen()
			if err != nil {
				return err
			}
			when = t
			if relative && t != 0 {
				when = t + minExpire - 1
			}
			if when > hfeMaxExpire {
				return corrupt("invalid field expiry %d", when)
			}
		}
		f, err := r.ReadString()
		if err != nil {
			return err
		}
		v, err := r.ReadString()
		if err != nil {
			return err
		}
		if !seen.add(f) {
			return corrupt("duplicate hash fields")
		}
		o.Hash = append(o.Hash, HashField{f, v, int64(when)})
	}
	return nil
}

func readHashPacked(r *Reader, o *Object, typ byte, ttl bool) error {
	var flat [][]byte
	var ttls []int64
	switch typ {
	case TypeHashZipmap:
		b, err := r.ReadString()
		if err != nil {
			return err
		}
		if flat, err = ParseZipmap(b); err != nil {
			return err
		}
	default:
		els, err := readPacked(r, typ == TypeHashZiplist)
		if err != nil {
			return err
		}
		stride := 2
		if ttl {
			stride = 3
		}
		if len(els)%stride != 0 {
			return corrupt("hash listpack with a partial tuple")
		}
		for i := 0; i < len(els); i += stride {
			flat = append(flat, els[i].Bytes(), els[i+1].Bytes())
			if ttl {
				t, ok := els[i+2].Int()
				if !ok || t < 0 || t > hfeMaxExpire {
					return corrupt("bad hash field expiry")
				}
				ttls = append(ttls, t)
			}
		}
	}
	seen := make(dupChecker, len(flat)/2)
	for i := 0; i < len(flat); i += 2 {
		if !seen.add(flat[i]) {
			return corrupt("duplicate hash fields")
		}
		hf := HashField{Field: flat[i], Value: flat[i+1]}
		if ttls != nil {
			hf.ExpireAt = ttls[i/2]
		}
		o.Hash = append(o.Hash, hf)
	}
	return nil
}

// Stream entry flags inside node listpacks.
const (
	streamFlagDeleted   = 1
	streamFlagSameField = 2
)

func readID(r *Reader) (StreamID, error) {
	ms, err := r.ReadPlainLen()
	if err != nil {
		return StreamID{}, err
	}
	seq, err := r.ReadPlainLen()
	return StreamID{ms, seq}, err
}

func readRawID(r *Reader) (StreamID, error) {
	p, err := r.readView(16)
	if err != nil {
		return StreamID{}, err
	}
	return StreamID{binary.BigEndian.Uint64(p), binary.BigEndian.Uint64(p[8:])}, nil
}

func readStream(r *Reader, typ byte) (*Stream, error) {
	s := &Stream{}
	nodes, err := readCount(r)
	if err != nil {
		return nil, err
	}
	var prev, prevNode StreamID
	havePrev := false
	for i := range nodes {
		key, err := r.ReadString()
		if err != nil {
			return nil, err
		}
		if len(key) != 16 {
			return nil, corrupt("stream node key is not an ID")
		}
		master := StreamID{binary.BigEndian.Uint64(key), binary.BigEndian.Uint64(key[8:])}
		if i > 0 && !prevNode.Less(master) {
			return nil, corrupt("stream nodes out of order")
		}
		prevNode = master
		lp, err := r.ReadString()
		if err != nil {
			return nil, err
		}
		n0 := len(s.Entries)
		if s.Entries, err = parseStreamNode(lp, master, s.Entries); err != nil {
			return nil, err
		}
		for _, e := range s.Entries[n0:] {
			if havePrev && !prev.Less(e.ID) {
				return nil, corrupt("stream entries out of order")
			}
			prev, havePrev = e.ID, true
		}
	}
	if s.Length, err = r.ReadPlainLen(); err != nil {
		return nil, err
	}
	if s.LastID, err = readID(r); err != nil {
		return nil, err
	}
	if typ >= TypeStreamListpacks2 {
		if s.FirstID, err = readID(r); err != nil {
			return nil, err
		}
		if s.MaxDeletedID, err = readID(r); err != nil {
			return nil, err
		}
		if s.EntriesAdded, err = r.ReadPlainLen(); err != nil {
			return nil, err
		}
	} else {
		s.Legacy = true
		s.EntriesAdded = s.Length
		if len(s.Entries) > 0 {
			s.FirstID = s.Entries[0].ID
		}
	}
	if s.Length != uint64(len(s.Entries)) {
		return nil, corrupt("stream length inconsistent with its entries")
	}
	if len(s.Entries) > 0 && s.LastID.Less(s.Entries[len(s.Entries)-1].ID) {
		return nil, corrupt("stream last ID before its last entry")
	}
	ngroups, err := readCount(r)
	if err != nil {
		return nil, err
	}
	names := dupChecker{}
	for range ngroups {
		var g StreamGroup
		if g.Name, err = r.ReadString(); err != nil {
			return nil, err
		}
		if !names.add(g.Name) {
			return nil, corrupt("duplicate consumer group")
		}
		if g.LastID, err = readID(r); err != nil {
			return nil, err
		}
		g.EntriesRead = -1
		if typ >= TypeStreamListpacks2 {
			er, err := r.ReadPlainLen()
			if err != nil {
				return nil, err
			}
			g.EntriesRead = int64(er)
		}
		npel, err := readCount(r)
		if err != nil {
			return nil, err
		}
		owner := make(map[StreamID]bool, min(npel, maxPrealloc))
		for range npel {
			var nk StreamNACK
			if nk.ID, err = readRawID(r); err != nil {
				return nil, err
			}
			if nk.DeliveryTime, err = r.ReadMillis(); err != nil {
				return nil, err
			}
			if nk.DeliveryCount, err = r.ReadPlainLen(); err != nil {
				return nil, err
			}
			if _, dup := owner[nk.ID]; dup {
				return nil, corrupt("duplicate group PEL entry")
			}
			owner[nk.ID] = false
			g.PEL = append(g.PEL, nk)
		}
		ncons, err := readCount(r)
		if err != nil {
			return nil, err
		}
		cnames := dupChecker{}
		for range ncons {
			var c StreamConsumer
			if c.Name, err = r.ReadString(); err != nil {
				return nil, err
			}
			if !cnames.add(c.Name) {
				return nil, corrupt("duplicate stream consumer")
			}
			if c.SeenTime, err = r.ReadMillis(); err != nil {
				return nil, err
			}
			c.ActiveTime = c.SeenTime
			if typ >= TypeStreamListpacks3 {
				if c.ActiveTime, err = r.ReadMillis(); err != nil {
					return nil, err
				}
			}
			n, err := readCount(r)
			if err != nil {
				return nil, err
			}
			for range n {
				id, err := readRawID(r)
				if err != nil {
					return nil, err
				}
				taken, ok := owner[id]
				if !ok {
					return nil, corrupt("consumer PEL entry not in the group PEL")
				}
				if taken {
					return nil, corrupt("PEL entry owned twice")
				}
				owner[id] = true
				c.PEL = append(c.PEL, id)
			}
			g.Consumers = append(g.Consumers, c)
		}
		for _, taken := range owner {
			if !taken {
				return nil, corrupt("stream group PEL entry without consumer")
			}
		}
		s.Groups = append(s.Groups, g)
	}
	return s, nil
}

// parseStreamNode validates one node listpack (streamValidateListpackIntegrity)
// and appends its live entries to out.
func parseStreamNode(lp []byte, master StreamID, out []StreamEntry) ([]StreamEntry, error) {
	els, err := ParseListpack(lp)
	if err != nil {
		return nil, err
	}
	p := 0
	next := func() (LPElem, error) {
		if p >= len(els) {
			return LPElem{}, corrupt("stream node truncated")
		}
		p++
		return els[p-1], nil
	}
	nextInt := func() (int64, error) {
		e, err := next()
		if err != nil {
			return 0, err
		}
		v, ok := e.Int()
		if !ok {
			return 0, corrupt("stream node: integer expected")
		}
		return v, nil
	}
	if len(els) == 0 {
		return nil, corrupt("empty stream node")
	}
	count, err := nextInt()
	if err != nil {
		return nil, err
	}
	deleted, err := nextInt()
	if err != nil {
		return nil, err
	}
	nmaster, err := nextInt()
	if err != nil {
		return nil, err
	}
	if count < 0 || deleted < 0 || nmaster < 0 || nmaster > int64(len(els)) || count+deleted > int64(len(els)) {
		return nil, corrupt("stream node header")
	}
	fields := make([][]byte, nmaster)
	for i := range fields {
		e, err := next()
		if err != nil {
			return nil, err
		}
		fields[i] = e.Bytes()
	}
	if z, err := nextInt(); err != nil || z != 0 {
		return nil, corrupt("stream node master terminator")
	}
	live := int64(0)
	for k := count + deleted; k > 0; k-- {
		flags, err := nextInt()
		if err != nil {
			return nil, err
		}
		msd, err := nextInt()
		if err != nil {
			return nil, err
		}
		seqd, err := nextInt()
		if err != nil {
			return nil, err
		}
		// Both parts are deltas from the master ID (the sequence one may
		// be negative; unsigned wrap-around gives the right ID).
		id := StreamID{master.Ms + uint64(msd), master.Seq + uint64(seqd)}
		nf := nmaster
		extra := int64(3)
		var names [][]byte
		if flags&streamFlagSameField == 0 {
			if nf, err = nextInt(); err != nil {
				return nil, err
			}
			if nf < 0 || nf > int64(len(els)) {
				return nil, corrupt("stream entry field count")
			}
			extra += nf + 1
		} else {
			names = fields
		}
		fv := make([][]byte, 0, 2*nf)
		for j := int64(0); j < nf; j++ {
			if names == nil {
				f, err := next()
				if err != nil {
					return nil, err
				}
				v, err := next()
				if err != nil {
					return nil, err
				}
				fv = append(fv, f.Bytes(), v.Bytes())
			} else {
				v, err := next()
				if err != nil {
					return nil, err
				}
				fv = append(fv, names[j], v.Bytes())
			}
		}
		lpc, err := nextInt()
		if err != nil {
			return nil, err
		}
		if lpc != nf+extra {
			return nil, corrupt("stream entry lp-count")
		}
		if flags&streamFlagDeleted == 0 {
			out = append(out, StreamEntry{ID: id, Fields: fv})
			live++
		}
	}
	if p != len(els) {
		return nil, corrupt("stream node has trailing elements")
	}
	if live != count {
		return nil, corrupt("stream node live count")
	}
	return out, nil
}

// sameFields reports whether fv has exactly the field names of master.
func sameFields(fv [][]byte, master [][]byte) bool {
	if len(fv) != 2*len(master) {
		return false
	}
	for i, f := range master {
		if !bytes.Equal(fv[2*i], f) {
			return false
		}
	}
	return true
}
