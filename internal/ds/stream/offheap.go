package stream

import (
	"runtime"

	"github.com/corvid-db/corvid/internal/ds/slab"
)

// Sealed nodes (every node but a stream's tail) live off the Go heap, in
// slab's shared arena for collection internals: a million-entry stream
// is then a few tens of kilobytes of Go heap (the node headers), so the
// collector neither scans its data nor lets the heap grow to twice its size
// before collecting, which is what keeps a large stream's resident memory
// close to Redis's. The tail node, which grows with every XADD, stays on
// the heap until it is full.

// holder owns a stream's nodes; it is what the stream's cleanup frees, so
// it must never be shared between two streams.
type holder struct{ nodes []*node }

// newHolder returns the node holder of s, freeing its off-heap nodes once s
// is unreachable (the key was deleted, overwritten or flushed).
func newHolder(s *Stream) *holder {
	h := &holder{}
	runtime.AddCleanup(s, freeAll, h)
	return h
}

func freeAll(h *holder) {
	for _, n := range h.nodes {
		n.free()
	}
	h.nodes = nil
}

// seal drops the spare capacity of a node that will not grow any more,
// moving its bytes off the heap when they fit a slab object.
func (n *node) seal() {
	if n.ref != 0 {
		return
	}
	size := len(n.data)
	if size == 0 || size > slab.MaxSize {
		if cap(n.data)-size > 16 {
			n.data = append([]byte(nil), n.data...)
		}
		return
	}
	r := slab.SharedAlloc(size)
	b := slab.Bytes(r, size)
	copy(b, n.data)
	n.data, n.ref = b, r
}

// free releases a node's off-heap bytes; the node must not be used after.
func (n *node) free() {
	if n.ref == 0 {
		return
	}
	slab.SharedFree(n.ref, len(n.data))
	n.ref, n.data = 0, nil
}
