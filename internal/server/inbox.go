package server

// inbox is the output other goroutines push to a client that has no writer
// goroutine: Pub/Sub messages and tracking invalidations for a connection
// an event loop serves. It is a queue of chunks, not one buffer, because a
// subscriber that reads slower than messages arrive can hold megabytes
// here (up to its output limit): one growing buffer would copy all of it
// at every doubling and stall the loop that appends it, where chunks copy
// each message once. The loop moves a bounded amount into the reply buffer
// at a time, once the socket has taken what was there before.
//
// An inbox is guarded by its client's asyncMu.
type inbox struct {
	chunks [][]byte
	n      int    // bytes queued
	spare  []byte // one drained chunk kept for reuse
}

// inboxChunk is the size of a chunk; bigger pushes get a chunk of their own.
const inboxChunk = 16 << 10

// drainBatch is how much the loop moves into a client's reply buffer at a
// time: enough for one write to fill a socket buffer.
const drainBatch = 256 << 10

// add queues b (copied).
func (q *inbox) add(b []byte) {
	k := len(q.chunks) - 1
	if k < 0 || cap(q.chunks[k])-len(q.chunks[k]) < len(b) {
		var c []byte
		if q.spare != nil && len(b) <= cap(q.spare) {
			c, q.spare = q.spare[:0], nil
		} else {
			c = make([]byte, 0, max(inboxChunk, len(b)))
		}
		q.chunks = append(q.chunks, c)
		k++
	}
	q.chunks[k] = append(q.chunks[k], b...)
	q.n += len(b)
}

// moveTo appends whole chunks to dst until at least limit bytes moved (or
// the queue is empty) and returns dst.
func (q *inbox) moveTo(dst []byte, limit int) []byte {
	moved, i := 0, 0
	for ; i < len(q.chunks) && moved < limit; i++ {
		c := q.chunks[i]
		dst = append(dst, c...)
		moved += len(c)
		q.chunks[i] = nil
		if cap(c) == inboxChunk {
			q.spare = c
		}
	}
	q.chunks = q.chunks[:copy(q.chunks, q.chunks[i:])]
	q.n -= moved
	if len(q.chunks) == 0 && cap(q.chunks) > 64 {
		q.chunks = nil
	}
	return dst
}

// size reports the bytes queued.
func (q *inbox) size() int { return q.n }
