package ztree

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/ds/slab"
)

// memPerMember loads n members "m:%012d" and returns the bytes each costs:
// off-heap (leaves and index) plus live Go heap. It also logs the change
// of slab.SharedInUse, which should agree, and waits for the tree's memory
// to be released so the next measurement starts clean.
func memPerMember(t *testing.T, n int, score func(r *rand.Rand, i int) float64) float64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	off := slab.SharedInUse()
	tr := New(0)
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 0, 32)
	for i := 0; i < n; i++ {
		buf = fmt.Appendf(buf[:0], "m:%012d", i)
		tr.Add(buf, score(r, i))
	}
	runtime.GC()
	runtime.ReadMemStats(&b)
	heap := float64(int64(b.HeapAlloc)-int64(a.HeapAlloc)) / float64(n)
	leaves := float64(tr.h.leaves) * leafSize / float64(n)
	index := float64(tr.h.indexBytes()) / float64(n)
	shared := float64(slab.SharedInUse()-off) / float64(n)
	t.Logf("%d members: %.1f B/member = leaves %.1f (fill %.0f%%) + index %.1f + Go heap %.2f; SharedInUse grew %.1f B/member; MemoryUsage %.1f B/member",
		n, leaves+index+heap, leaves, 100*float64(n)*float64(entrySize(14))/float64(tr.h.leaves*leafRoom), index, heap,
		shared, float64(tr.MemoryUsage(0))/float64(n))
	runtime.KeepAlive(tr)
	tr = nil
	deadline := time.Now().Add(20 * time.Second)
	for slab.SharedInUse() > off {
		if time.Now().After(deadline) {
			t.Fatalf("tree memory not released: %d bytes", slab.SharedInUse()-off)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	return leaves + index + heap
}

// TestMemPerMemberSequential is the benchmark shape: ZADD big <i>
// m:<12 digits> for ten million members.
func TestMemPerMemberSequential(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("loads 10M members")
	}
	if got := memPerMember(t, 10_000_000, func(_ *rand.Rand, i int) float64 { return float64(i) }); got > 70 {
		t.Errorf("%.1f bytes/member, want <= 70", got)
	}
}

func TestMemPerMemberRandom(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("loads 1M members")
	}
	if got := memPerMember(t, 1_000_000, func(r *rand.Rand, _ int) float64 { return r.Float64() * 1e9 }); got > 80 {
		t.Errorf("%.1f bytes/member, want <= 80", got)
	}
}
