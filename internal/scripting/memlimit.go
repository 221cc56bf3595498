package scripting

import (
	"errors"
	"runtime/metrics"
	"time"
)

// The Lua VM allocates on the Go heap and gopher-lua has no allocator hook,
// so a script's memory is bounded by a watchdog instead: while a script
// runs with RunOptions.MemoryLimit set (maxmemory), a goroutine samples the
// heap every few milliseconds and stops the script, as SCRIPT KILL would,
// once the heap passes the limit. The script fails with errOutOfMemory and
// the server keeps its memory.

const errOutOfMemory = "ERR Script exceeded the memory limit (maxmemory)"

var errOOMCtx = errors.New(errOutOfMemory)

// memWatchInterval is how often the watchdog samples the heap.
const memWatchInterval = 2 * time.Millisecond

// watchMemory starts the watchdog for r; the returned function stops it.
func watchMemory(r *Run, limit int64) (stop func()) {
	if limit <= 0 {
		return func() {}
	}
	quit := make(chan struct{})
	go func() {
		t := time.NewTicker(memWatchInterval)
		defer t.Stop()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 && int64(sample[0].Value.Uint64()) > limit {
				r.oom.Store(true)
				if r.killed.CompareAndSwap(false, true) {
					close(r.done)
				}
				return
			}
		}
	}()
	return func() { close(quit) }
}
