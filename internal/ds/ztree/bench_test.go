package ztree

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

const benchN = 1000000

// benchSink keeps the compiler from dropping the loads a benchmark makes.
var benchSink int

// benchTree is built once: loading a million members takes longer than
// most of the benchmarks that read it.
var benchTree *Tree

func benchMembers() [][]byte {
	ms := make([][]byte, benchN)
	for i := range ms {
		ms[i] = []byte(fmt.Sprintf("member:%d", i))
	}
	return ms
}

func loadBench(b *testing.B) (*Tree, [][]byte) {
	ms := benchMembers()
	if benchTree == nil {
		r := rand.New(rand.NewPCG(1, 2))
		benchTree = New(0)
		for _, m := range ms {
			benchTree.Add(m, float64(r.IntN(benchN)))
		}
	}
	// Settle the collector so the timed loop does not share the CPU with
	// the marking of the member slices just built.
	runtime.GC()
	b.ResetTimer()
	return benchTree, ms
}

// BenchmarkAddRandom1M updates random members of a 1M set to random scores
// (a ZADD that moves the member).
func BenchmarkAddRandom1M(b *testing.B) {
	tr, ms := loadBench(b)
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < b.N; i++ {
		tr.Add(ms[r.IntN(benchN)], float64(r.IntN(benchN)))
	}
}

// BenchmarkLoadRandom1M builds a 1M set from empty with random scores; ns/op
// is per member.
func BenchmarkLoadRandom1M(b *testing.B) {
	ms := benchMembers()
	r := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	var tr *Tree
	for i := 0; i < b.N; i++ {
		if i%benchN == 0 {
			tr = New(0)
		}
		tr.Add(ms[i%benchN], float64(r.IntN(benchN)))
	}
}

func BenchmarkScore1M(b *testing.B) {
	tr, ms := loadBench(b)
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < b.N; i++ {
		if _, ok := tr.Score(ms[r.IntN(benchN)]); !ok {
			b.Fatal("missing")
		}
	}
}

func BenchmarkRank1M(b *testing.B) {
	tr, ms := loadBench(b)
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < b.N; i++ {
		if _, _, ok := tr.Rank(ms[r.IntN(benchN)]); !ok {
			b.Fatal("missing")
		}
	}
}

// BenchmarkAtPrev10 is ZREVRANGE's access pattern: seek by rank, then walk
// ten entries backwards reading each score and member (a reply copies the
// member's bytes, so the benchmark touches them).
func BenchmarkAtPrev10(b *testing.B) {
	tr, _ := loadBench(b)
	r := rand.New(rand.NewPCG(3, 4))
	n := 0
	for i := 0; i < b.N; i++ {
		it := tr.At(10 + r.IntN(benchN-10))
		for k := 0; k < 10 && it.Valid(); k++ {
			e := it.Entry()
			n += int(e.Member[len(e.Member)-1]) + int(e.Score)
			it.Prev()
		}
	}
	benchSink = n
}
