package server

import (
	"bytes"
	"fmt"
	"testing"
)

// appendTo writes n commands to f's stream as send does and returns all
// the stream's bytes so far.
func appendTo(f *propFeed, all []byte, n int) []byte {
	for i := 0; i < n; i++ {
		b := []byte(fmt.Sprintf("cmd-%d-%s;", len(all), bytes.Repeat([]byte("x"), i%300)))
		all = append(all, b...)
		f.mu.Lock()
		f.offset += int64(len(b))
		f.appendStream(b)
		f.mu.Unlock()
	}
	return all
}

// The backlog keeps its last repl-backlog-size bytes (resized either way,
// never under 16 KiB); a replica behind keeps what it has not been sent,
// so the buffer outgrows the backlog and a PSYNC may continue from any of
// it; what is read back from any position is the stream as it was
// appended; the blocks go once neither needs them.
func TestReplicationBufferSharedAndTrimmed(t *testing.T) {
	var f propFeed
	f.mu.Lock()
	f.ensureBacklog(20000)
	f.mu.Unlock()
	all := appendTo(&f, nil, 3000)
	check := func(what string, wantHist int64) {
		t.Helper()
		f.mu.Lock()
		defer f.mu.Unlock()
		if hist := f.offset - f.start; hist != wantHist {
			t.Fatalf("%s: histlen %d, want %d", what, hist, wantHist)
		}
		if got := f.copyStream(f.start); !bytes.Equal(got, all[f.start:]) {
			t.Fatalf("%s: the buffer does not hold the newest %d bytes as appended", what, f.offset-f.start)
		}
		if !f.canContinue(f.start+1) || f.canContinue(f.start) || !f.canContinue(f.offset+1) {
			t.Fatalf("%s: canContinue disagrees with the buffer [%d, %d]", what, f.start+1, f.offset)
		}
		if mem := f.bufMem; mem > (f.offset-f.start)+2*replBlockSize {
			t.Fatalf("%s: %d bytes of blocks for %d of stream", what, mem, f.offset-f.start)
		}
	}
	check("20000", 20000)
	// Smaller, it drops its oldest bytes; bigger, it keeps what comes
	// from now on; never under 16 KiB.
	for _, size := range []int64{1, 50000, 17000, 16384} {
		f.resizeBacklog(size)
		check(fmt.Sprint("resized to ", size), minBacklogSize)
	}

	// A replica 1000 bytes back holds the stream from there on.
	r := &Client{}
	f.mu.Lock()
	r.replPos.Store(f.offset - 1000)
	f.consumers = append(f.consumers, r)
	pos := r.replPos.Load()
	f.mu.Unlock()
	all = appendTo(&f, all, 5000)
	f.mu.Lock()
	hist := f.offset - pos
	f.mu.Unlock()
	if hist < 100000 {
		t.Fatalf("only %d bytes past the replica's position: the test writes too little", hist)
	}
	check("a replica behind", hist)
	// It reads the stream from its position, block by block.
	var got []byte
	var blk *replBlock
	for {
		f.mu.Lock()
		seg, b := f.readStream(blk, pos)
		f.mu.Unlock()
		if seg == nil {
			break
		}
		blk = b
		got = append(got, seg...)
		pos += int64(len(seg))
		r.replPos.Store(pos)
	}
	if !bytes.Equal(got, all[len(all)-len(got):]) || int64(len(got)) != hist {
		t.Fatalf("the replica read %d bytes, not the %d of the stream from its position", len(got), hist)
	}
	// Once it has everything, or is gone, the buffer is the backlog again.
	all = appendTo(&f, all, 1)
	f.mu.Lock()
	f.consumers = nil
	f.trim()
	f.mu.Unlock()
	check("the replica gone", 16384)
}
