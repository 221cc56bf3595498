package server

import (
	"io"
	"os"
	"sync"
)

// heldMemLimit is how much of the stream held back behind a replica's RDB
// stays in memory; older chunks go to a file until the RDB is sent. The
// stream held grows with the write rate times the transfer's length
// (tens to hundreds of MB on a busy primary), and Redis keeps it all in
// memory, in its replication buffer. On disk it costs a sequential write
// and a sequential read, both off the command path.
const heldMemLimit = 8 << 20

// heldSpill is the older part of a held stream, written to an unlinked
// file by a goroutine of its own: chunks are handed over in order and
// written in order, so the file is always a prefix of the stream and the
// chunks still in memory its continuation.
type heldSpill struct {
	f    *os.File
	mu   sync.Mutex
	cond *sync.Cond
	// queue: chunks handed over and not yet written; written: the file's
	// length; closed: no more chunks come; err: the first write error.
	queue   [][]byte
	queued  int
	written int64
	closed  bool
	err     error
	done    chan struct{} // closed when the writer goroutine exits
	once    sync.Once
}

// newHeldSpill creates the file in dir, unlinked at once so that nothing
// is left behind, whatever happens to the process.
func newHeldSpill(dir string) (*heldSpill, error) {
	f, err := os.CreateTemp(dir, "temp-repl-held-*.buf")
	if err != nil {
		return nil, err
	}
	_ = os.Remove(f.Name())
	sp := &heldSpill{f: f, done: make(chan struct{})}
	sp.cond = sync.NewCond(&sp.mu)
	go sp.run()
	return sp, nil
}

// add hands chunks over; it reports the first write error, if any.
func (sp *heldSpill) add(chunks [][]byte, n int) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.err != nil {
		return sp.err
	}
	sp.queue = append(sp.queue, chunks...)
	sp.queued += n
	sp.cond.Signal()
	return nil
}

func (sp *heldSpill) run() {
	defer close(sp.done)
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for {
		for len(sp.queue) == 0 && !sp.closed {
			sp.cond.Wait()
		}
		if len(sp.queue) == 0 {
			return
		}
		batch := sp.queue
		sp.queue = nil
		sp.mu.Unlock()
		var err error
		var n int
		for _, c := range batch {
			if err == nil {
				_, err = sp.f.Write(c)
			}
			n += len(c)
		}
		sp.mu.Lock()
		sp.queued -= n
		if err != nil && sp.err == nil {
			sp.err = err
		}
		if sp.err == nil {
			sp.written += int64(n)
		}
	}
}

// finish says no more chunks come and waits until those handed over are
// written.
func (sp *heldSpill) finish() error {
	sp.mu.Lock()
	sp.closed = true
	sp.cond.Signal()
	sp.mu.Unlock()
	<-sp.done
	return sp.err
}

// sendTo writes the whole file to w, once every chunk is in it.
func (sp *heldSpill) sendTo(w io.Writer) (int64, error) {
	if err := sp.finish(); err != nil {
		return 0, err
	}
	n, err := io.Copy(w, io.NewSectionReader(sp.f, 0, sp.written))
	return n, err
}

// close ends the writer goroutine and closes the file (idempotent).
func (sp *heldSpill) close() {
	sp.once.Do(func() {
		_ = sp.finish()
		_ = sp.f.Close()
	})
}
