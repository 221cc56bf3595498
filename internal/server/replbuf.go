package server

// The replication buffer: one copy of the write stream, shared by the
// backlog and every replica, as Redis 7's replication buffer is. The
// stream is appended once, to a list of blocks; the backlog is the last
// repl-backlog-size bytes of it, and each replica a position in it (the
// next byte its writer goroutine sends, Client.replPos). A block goes
// when neither needs it: a replica that is behind (a slow one, or one
// receiving its RDB, whose stream waits meanwhile) keeps what it has not
// been sent, so the backlog outgrows its size while it does, and another
// replica may continue (PSYNC) from any of it. N replicas cost the
// stream once, not N times, and a replica that goes frees what only it
// held. Readers take propFeed.mu only to find their next slice: a block's
// bytes are never moved or changed once appended (its capacity is fixed),
// so they are written to the socket with no lock held.

// replBlockSize is a block's capacity: 16 KiB, as Redis's blocks, so
// that the backlog holds at most one block more than its size; a
// replica's writer sends up to replWriteBlocks of them per write (writev).
const replBlockSize = 16 << 10

// replWriteBlocks is how many blocks a replica's writer sends at a time.
const replWriteBlocks = 16

// replBlock is a run of the stream.
type replBlock struct {
	off  int64  // stream offset of b[0]: bytes produced before it
	b    []byte // appended under propFeed.mu, within its capacity
	next *replBlock
}

// hasBacklog reports whether the stream keeps a backlog; f.mu is held.
func (f *propFeed) hasBacklog() bool { return f.backlogSize > 0 }

// appendStream adds b, the last len(b) bytes of the stream (f.offset
// already counts them), when the backlog or a replica keeps it; f.mu is
// held.
func (f *propFeed) appendStream(b []byte) {
	if !f.hasBacklog() && !f.hasReplicas() {
		f.trim() // kept by no one
		return
	}
	off := f.offset - int64(len(b))
	for len(b) > 0 {
		t := f.tail
		if t == nil || len(t.b) == cap(t.b) {
			nb := &replBlock{off: off, b: make([]byte, 0, replBlockSize)}
			f.bufMem += replBlockSize
			if t == nil {
				f.head = nb
				f.start = min(f.start, off)
			} else {
				t.next = nb
			}
			f.tail, t = nb, nb
		}
		n := copy(t.b[len(t.b):cap(t.b)], b)
		t.b = t.b[:len(t.b)+n]
		b, off = b[n:], off+int64(n)
	}
	f.trim()
}

// hasReplicas reports whether a replica reads the stream; f.mu is held.
func (f *propFeed) hasReplicas() bool {
	for _, c := range f.consumers {
		if isReplicaConsumer(c) {
			return true
		}
	}
	return false
}

// trim drops what neither the backlog nor a replica still needs; f.mu is
// held. The backlog keeps the last backlogSize bytes; a replica, what it
// has not been sent.
func (f *propFeed) trim() {
	keep := f.offset
	if f.hasBacklog() {
		keep = max(f.offset-f.backlogSize, 0)
	}
	for _, x := range f.consumers {
		if c, ok := x.(*Client); ok {
			keep = min(keep, c.replPos.Load())
		}
	}
	f.start = max(f.start, keep)
	for f.head != nil && f.head.off+int64(len(f.head.b)) <= f.start && (f.head != f.tail || len(f.head.b) == cap(f.head.b)) {
		f.bufMem -= int64(cap(f.head.b))
		f.head = f.head.next
		if f.head == nil {
			f.tail = nil
		}
	}
}

// readStream returns the stream from pos on, as far as one block goes
// (nil when pos is the end), and that block, the hint for the next call;
// f.mu is held. pos is at least f.start: a replica's position holds
// back trimming.
func (f *propFeed) readStream(hint *replBlock, pos int64) ([]byte, *replBlock) {
	blk := hint
	if blk == nil || pos < blk.off {
		blk = f.head
	}
	for blk != nil && pos >= blk.off+int64(len(blk.b)) {
		blk = blk.next
	}
	if blk == nil || pos < blk.off {
		return nil, hint
	}
	return blk.b[pos-blk.off:], blk
}

// copyStream returns a copy of the stream's bytes [from, f.offset); f.mu
// is held and from is at least f.start.
func (f *propFeed) copyStream(from int64) []byte {
	out := make([]byte, 0, f.offset-from)
	var blk *replBlock
	for pos := from; pos < f.offset; {
		var seg []byte
		seg, blk = f.readStream(blk, pos)
		if seg == nil {
			break
		}
		out = append(out, seg...)
		pos += int64(len(seg))
	}
	return out
}

// resetStream empties the buffer and restarts the stream at offset (a
// replica's full synchronisation); f.mu is held.
func (f *propFeed) resetStream(offset int64) {
	f.head, f.tail, f.bufMem = nil, nil, 0
	f.offset, f.start = offset, offset
}
