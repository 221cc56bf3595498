package stream

import "sort"

// NACK is a pending (delivered, not acknowledged) entry of a group.
type NACK struct {
	DeliveryTime  int64 // Unix ms of the last delivery
	DeliveryCount uint64
	Consumer      *Consumer // nil only transiently (XCLAIM FORCE)
}

// Consumer is one consumer of a group.
type Consumer struct {
	Name       string
	SeenTime   int64 // last attempted interaction, Unix ms
	ActiveTime int64 // last successful interaction, -1 if never
	PEL        PEL   // its own pending entries (sharing the group's NACKs)
}

// Group is a consumer group.
type Group struct {
	Name        string
	LastID      ID
	EntriesRead int64 // -1 = unknown
	PEL         PEL
	consumers   map[string]*Consumer
}

// InvalidEntriesRead is the EntriesRead value meaning "unknown".
const InvalidEntriesRead = invalidEntriesRead

// Groups returns the groups sorted by name.
func (s *Stream) Groups() []*Group { return s.groups }

// Group finds a group by name.
func (s *Stream) Group(name []byte) *Group {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].Name >= string(name) })
	if i < len(s.groups) && s.groups[i].Name == string(name) {
		return s.groups[i]
	}
	return nil
}

// CreateGroup adds a group; it returns nil if the name is taken.
func (s *Stream) CreateGroup(name []byte, last ID, entriesRead int64) *Group {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].Name >= string(name) })
	if i < len(s.groups) && s.groups[i].Name == string(name) {
		return nil
	}
	g := &Group{Name: string(name), LastID: last, EntriesRead: entriesRead, consumers: map[string]*Consumer{}}
	s.groups = append(s.groups, nil)
	copy(s.groups[i+1:], s.groups[i:])
	s.groups[i] = g
	return g
}

// DestroyGroup removes a group and reports whether it existed.
func (s *Stream) DestroyGroup(name []byte) bool {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].Name >= string(name) })
	if i < len(s.groups) && s.groups[i].Name == string(name) {
		s.groups = append(s.groups[:i], s.groups[i+1:]...)
		return true
	}
	return false
}

// Consumer finds a consumer by name.
func (g *Group) Consumer(name []byte) *Consumer { return g.consumers[string(name)] }

// CreateConsumer adds a consumer seen at now; it returns nil if it exists.
func (g *Group) CreateConsumer(name []byte, now int64) *Consumer {
	if _, ok := g.consumers[string(name)]; ok {
		return nil
	}
	c := &Consumer{Name: string(name), SeenTime: now, ActiveTime: -1}
	g.consumers[c.Name] = c
	return c
}

// NumConsumers is the number of consumers.
func (g *Group) NumConsumers() int { return len(g.consumers) }

// Consumers returns the consumers sorted by name.
func (g *Group) Consumers() []*Consumer {
	out := make([]*Consumer, 0, len(g.consumers))
	for _, c := range g.consumers {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// DeleteConsumer removes a consumer and its pending entries from the
// group's PEL; it returns how many entries it had pending.
func (g *Group) DeleteConsumer(c *Consumer) int {
	n := c.PEL.Len()
	c.PEL.Ascend(ID{}, func(id ID, _ *NACK) bool {
		g.PEL.Delete(id)
		return true
	})
	delete(g.consumers, c.Name)
	return n
}

// Ack removes id from the PELs; it reports whether it was pending.
func (g *Group) Ack(id ID) bool {
	nack := g.PEL.Get(id)
	if nack == nil {
		return false
	}
	g.PEL.Delete(id)
	if nack.Consumer != nil {
		nack.Consumer.PEL.Delete(id)
	}
	return true
}

// Deliver records the delivery of id to consumer c at now, as
// streamReplyWithRange does: a new NACK, or an existing one moved to c
// with its count reset.
func (g *Group) Deliver(id ID, c *Consumer, now int64) {
	if nack := g.PEL.Get(id); nack != nil {
		if nack.Consumer != nil {
			nack.Consumer.PEL.Delete(id)
		}
		nack.Consumer = c
		nack.DeliveryTime = now
		nack.DeliveryCount = 1
		c.PEL.Insert(id, nack)
		return
	}
	nack := &NACK{DeliveryTime: now, DeliveryCount: 1, Consumer: c}
	g.PEL.Insert(id, nack)
	c.PEL.Insert(id, nack)
}

// Claim makes c the owner of id's NACK (which the caller found or created
// in the group PEL).
func (g *Group) Claim(id ID, nack *NACK, c *Consumer) {
	if nack.Consumer == c {
		return
	}
	if nack.Consumer != nil {
		nack.Consumer.PEL.Delete(id)
	}
	nack.Consumer = c
	c.PEL.Insert(id, nack)
}

func (g *Group) memory() int64 {
	n := int64(128 + len(g.Name))
	n += int64(g.PEL.Len()) * 80
	for _, c := range g.consumers {
		n += 96 + int64(len(c.Name)) + int64(c.PEL.Len())*24
	}
	return n
}

func (g *Group) copy() *Group {
	ng := &Group{Name: g.Name, LastID: g.LastID, EntriesRead: g.EntriesRead, consumers: make(map[string]*Consumer, len(g.consumers))}
	byOld := make(map[*Consumer]*Consumer, len(g.consumers))
	for name, c := range g.consumers {
		nc := &Consumer{Name: c.Name, SeenTime: c.SeenTime, ActiveTime: c.ActiveTime}
		ng.consumers[name] = nc
		byOld[c] = nc
	}
	g.PEL.Ascend(ID{}, func(id ID, nack *NACK) bool {
		nn := &NACK{DeliveryTime: nack.DeliveryTime, DeliveryCount: nack.DeliveryCount, Consumer: byOld[nack.Consumer]}
		ng.PEL.Insert(id, nn)
		if nn.Consumer != nil {
			nn.Consumer.PEL.Insert(id, nn)
		}
		return true
	})
	return ng
}

// PEL is an ordered map from IDs to NACKs: a sorted list of bounded
// chunks, so inserts at the tail (the common case), deletes anywhere and
// seeks cost O(log n + chunk size).
type PEL struct {
	chunks []*pelChunk
	n      int
}

type pelChunk struct {
	ids   []ID
	nacks []*NACK
}

const pelChunkMax = 128

// Len is the number of entries.
func (p *PEL) Len() int { return p.n }

// chunkFor returns the index of the chunk that holds (or would hold) id.
func (p *PEL) chunkFor(id ID) int {
	i := sort.Search(len(p.chunks), func(i int) bool { return id.Less(p.chunks[i].ids[0]) })
	if i > 0 {
		i--
	}
	return i
}

// Get returns id's NACK or nil.
func (p *PEL) Get(id ID) *NACK {
	if p.n == 0 {
		return nil
	}
	c := p.chunks[p.chunkFor(id)]
	j := sort.Search(len(c.ids), func(j int) bool { return !c.ids[j].Less(id) })
	if j < len(c.ids) && c.ids[j] == id {
		return c.nacks[j]
	}
	return nil
}

// Insert adds or replaces id's NACK.
func (p *PEL) Insert(id ID, nack *NACK) {
	if p.n == 0 {
		p.chunks = append(p.chunks[:0], &pelChunk{ids: []ID{id}, nacks: []*NACK{nack}})
		p.n = 1
		return
	}
	ci := p.chunkFor(id)
	c := p.chunks[ci]
	j := sort.Search(len(c.ids), func(j int) bool { return !c.ids[j].Less(id) })
	if j < len(c.ids) && c.ids[j] == id {
		c.nacks[j] = nack
		return
	}
	c.ids = append(c.ids, ID{})
	copy(c.ids[j+1:], c.ids[j:])
	c.ids[j] = id
	c.nacks = append(c.nacks, nil)
	copy(c.nacks[j+1:], c.nacks[j:])
	c.nacks[j] = nack
	p.n++
	if len(c.ids) > pelChunkMax {
		h := len(c.ids) / 2
		if j == len(c.ids)-1 && ci == len(p.chunks)-1 {
			h = len(c.ids) - 1 // appending at the tail: keep full chunks behind
		}
		nc := &pelChunk{ids: append([]ID(nil), c.ids[h:]...), nacks: append([]*NACK(nil), c.nacks[h:]...)}
		c.ids = append([]ID(nil), c.ids[:h]...)
		c.nacks = append([]*NACK(nil), c.nacks[:h]...)
		p.chunks = append(p.chunks, nil)
		copy(p.chunks[ci+2:], p.chunks[ci+1:])
		p.chunks[ci+1] = nc
	}
}

// Delete removes id and reports whether it was there.
func (p *PEL) Delete(id ID) bool {
	if p.n == 0 {
		return false
	}
	ci := p.chunkFor(id)
	c := p.chunks[ci]
	j := sort.Search(len(c.ids), func(j int) bool { return !c.ids[j].Less(id) })
	if j >= len(c.ids) || c.ids[j] != id {
		return false
	}
	copy(c.ids[j:], c.ids[j+1:])
	c.ids = c.ids[:len(c.ids)-1]
	copy(c.nacks[j:], c.nacks[j+1:])
	c.nacks[len(c.nacks)-1] = nil
	c.nacks = c.nacks[:len(c.nacks)-1]
	p.n--
	if len(c.ids) == 0 {
		copy(p.chunks[ci:], p.chunks[ci+1:])
		p.chunks[len(p.chunks)-1] = nil
		p.chunks = p.chunks[:len(p.chunks)-1]
	}
	return true
}

// Ascend calls fn for the entries with ID >= from in order until it
// returns false. fn may delete the entry it is given, nothing else.
func (p *PEL) Ascend(from ID, fn func(id ID, nack *NACK) bool) {
	if p.n == 0 {
		return
	}
	ci := p.chunkFor(from)
	c := p.chunks[ci]
	j := sort.Search(len(c.ids), func(j int) bool { return !c.ids[j].Less(from) })
	for ci < len(p.chunks) {
		c = p.chunks[ci]
		if j >= len(c.ids) {
			ci++
			j = 0
			continue
		}
		id, nack := c.ids[j], c.nacks[j]
		before := p.n
		if !fn(id, nack) {
			return
		}
		if p.n < before {
			// The entry was deleted: find the position after it again.
			if p.n == 0 {
				return
			}
			next, ok := id.Incr()
			if !ok {
				return
			}
			ci = p.chunkFor(next)
			c = p.chunks[ci]
			j = sort.Search(len(c.ids), func(j int) bool { return !c.ids[j].Less(next) })
			continue
		}
		j++
	}
}

// First and Last return the smallest and largest IDs (ok false if empty).
func (p *PEL) First() (ID, bool) {
	if p.n == 0 {
		return ID{}, false
	}
	return p.chunks[0].ids[0], true
}

// Last returns the largest pending ID.
func (p *PEL) Last() (ID, bool) {
	if p.n == 0 {
		return ID{}, false
	}
	c := p.chunks[len(p.chunks)-1]
	return c.ids[len(c.ids)-1], true
}
