package ztree

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

func TestMemPerMember(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	tr := New(0)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1000000; i++ {
		tr.Add([]byte(fmt.Sprintf("member:%d", i)), r.Float64()*1e6)
	}
	runtime.GC()
	runtime.ReadMemStats(&b)
	t.Logf("bytes/member: %.1f", float64(b.HeapAlloc-a.HeapAlloc)/1e6)
	runtime.KeepAlive(tr)
}

func TestFill(t *testing.T) {
	tr := New(0)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		tr.Add([]byte(fmt.Sprintf("member:%d", i)), r.Float64()*1e6)
	}
	leaves := 0
	for l := tr.head; l != nil; l = l.next {
		leaves++
	}
	var inners func(in *inner) int
	inners = func(in *inner) int {
		n := 1
		if !in.leafKids {
			for k := 0; k < in.n; k++ {
				n += inners(in.il[k])
			}
		}
		return n
	}
	t.Logf("leaves %d fill %.2f inners %d", leaves, float64(tr.Len())/float64(leaves*leafCap), inners(tr.root))
}

func TestMemParts(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	keys := make([]string, 1000000)
	for i := range keys {
		keys[i] = fmt.Sprintf("member:%d", i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	tr := New(0)
	for _, k := range keys {
		tr.insert(r.Float64()*1e6, k)
	}
	runtime.GC()
	runtime.ReadMemStats(&b)
	t.Logf("tree only bytes/member: %.1f", float64(b.HeapAlloc-a.HeapAlloc)/1e6)
	runtime.KeepAlive(tr)
}

func TestMemTreeMap(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	keys := make([][]byte, 1000000)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("member:%d", i))
	}
	r := rand.New(rand.NewPCG(1, 2))
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	tr := New(0)
	for _, k := range keys {
		tr.Add(k, r.Float64()*1e6)
	}
	runtime.GC()
	runtime.ReadMemStats(&b)
	t.Logf("tree+map+strings bytes/member: %.1f", float64(b.HeapAlloc-a.HeapAlloc)/1e6)
	runtime.KeepAlive(tr)
	runtime.KeepAlive(keys)
}
