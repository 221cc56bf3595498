//go:build race

package keyspace

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// Lock-order assertions, compiled into race-enabled builds (the test
// suite's) only. Shard mutexes are not reentrant, and every locker takes
// them in ascending order once, so a goroutine that asks for shard locks
// of a store while it already holds some is a deadlock waiting for the
// right keys: MEMORY STATS once hung every keyspace command this way. The
// check panics at the second request instead, with both call sites, so a
// test fails with a diagnosis rather than a hang. Keyed by goroutine, as
// Go's mutexes may be released by another goroutine than the one that
// locked them: none of Corvid's lockers does that, and the check would
// report it as a missing unlock.

// lockOwner is a goroutine's hold on one store's shards.
type lockOwner struct {
	s *Store
	g uint64
}

// lockHolders maps each lockOwner to the call stack of its acquisition.
var lockHolders sync.Map

// lockChecksEnabled reports whether lock-order assertions are compiled in.
const lockChecksEnabled = true

func (s *Store) noteLocked() {
	pcs := make([]uintptr, 24)
	pcs = pcs[:runtime.Callers(3, pcs)]
	if prev, loaded := lockHolders.LoadOrStore(lockOwner{s, goroutineID()}, pcs); loaded {
		panic(fmt.Sprintf("keyspace: shard locks requested by a goroutine that already holds some; "+
			"they are not reentrant, so this would deadlock\n-- held since:\n%s-- requested at:\n%s",
			formatFrames(prev.([]uintptr)), formatFrames(pcs)))
	}
}

func (s *Store) noteUnlocked() { lockHolders.Delete(lockOwner{s, goroutineID()}) }

// HoldsLocks reports whether the calling goroutine holds shard locks of s
// (always false outside race-enabled builds).
func (s *Store) HoldsLocks() bool {
	_, ok := lockHolders.Load(lockOwner{s, goroutineID()})
	return ok
}

// goroutineID reads the calling goroutine's id from its stack header
// ("goroutine 42 [running]:"): slow, but only race builds pay for it.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

func formatFrames(pcs []uintptr) string {
	var sb strings.Builder
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		fmt.Fprintf(&sb, "    %s\n        %s:%d\n", f.Function, f.File, f.Line)
		if !more {
			break
		}
	}
	return sb.String()
}
