package quicklist

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"

	"github.com/corvid-db/corvid/internal/ds/listpack"
)

// checkModel compares l with the model through every access path, and
// checks that every node respects its limit (unless it holds one element).
func checkModel(t *testing.T, step int, l *List, model [][]byte) {
	t.Helper()
	if l.Len() != len(model) {
		t.Fatalf("step %d: Len=%d want %d", step, l.Len(), len(model))
	}
	total := 0
	for k, lp := range l.nodes {
		n := listpack.Len(lp)
		if n == 0 {
			t.Fatalf("step %d: empty node %d", step, k)
		}
		total += n
		if n > 1 && ExceedsLimit(l.fill, len(lp), n) {
			t.Fatalf("step %d: node %d over limit: %d bytes %d elements", step, k, len(lp), n)
		}
	}
	if total != len(model) {
		t.Fatalf("step %d: nodes hold %d elements, want %d", step, total, len(model))
	}
	it := l.Iter(0, false)
	for i := range model {
		e, ok := it.Next()
		if !ok || !bytes.Equal(e, model[i]) {
			t.Fatalf("step %d: forward element %d = %q, want %q", step, i, e, model[i])
		}
	}
	if _, ok := it.Next(); ok {
		t.Fatalf("step %d: forward iterator did not stop", step)
	}
	it = l.Iter(len(model)-1, true)
	for i := len(model) - 1; i >= 0; i-- {
		e, ok := it.Next()
		if !ok || !bytes.Equal(e, model[i]) {
			t.Fatalf("step %d: backward element %d = %q, want %q", step, i, e, model[i])
		}
	}
	if _, ok := it.Next(); ok {
		t.Fatalf("step %d: backward iterator did not stop", step)
	}
	for i := range model {
		if !bytes.Equal(l.Index(i), model[i]) {
			t.Fatalf("step %d: Index(%d) = %q, want %q", step, i, l.Index(i), model[i])
		}
	}
}

func TestModel(t *testing.T) {
	for _, fill := range []int{-1, -2, 1, 3, 0, 128} {
		t.Run(fmt.Sprint(fill), func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(fill) + 10))
			l := New(fill)
			var model [][]byte
			elem := func() []byte {
				n := rng.Intn(30)
				if rng.Intn(30) == 0 {
					n = 100 + rng.Intn(6000)
				}
				b := make([]byte, n)
				for i := range b {
					b[i] = byte('a' + rng.Intn(4))
				}
				return b
			}
			for step := 0; step < 4000; step++ {
				op := rng.Intn(10)
				if len(model) == 0 {
					op = rng.Intn(3)
				}
				switch op {
				case 0:
					e := elem()
					l.PushFront(e)
					model = append([][]byte{e}, model...)
				case 1:
					e := elem()
					l.PushBack(e)
					model = append(model, e)
				case 2:
					i := rng.Intn(len(model) + 1)
					e := elem()
					l.Insert(i, e)
					model = append(model[:i], append([][]byte{e}, model[i:]...)...)
				case 3:
					if !bytes.Equal(l.Front(), model[0]) {
						t.Fatalf("Front")
					}
					l.PopFront()
					model = model[1:]
				case 4:
					if !bytes.Equal(l.Back(), model[len(model)-1]) {
						t.Fatalf("Back")
					}
					l.PopBack()
					model = model[:len(model)-1]
				case 5:
					i := rng.Intn(len(model))
					e := elem()
					l.Set(i, e)
					model[i] = e
				case 6:
					i := rng.Intn(len(model))
					n := rng.Intn(len(model) - i + 1)
					if rng.Intn(4) != 0 {
						n = min(n, 5)
					}
					l.DeleteRange(i, n)
					model = append(model[:i], model[i+n:]...)
				case 7:
					e := model[rng.Intn(len(model))]
					e = append([]byte(nil), e...)
					limit := rng.Intn(3)
					fromTail := rng.Intn(2) == 0
					want := 0
					var nm [][]byte
					if fromTail {
						for i := len(model) - 1; i >= 0; i-- {
							if bytes.Equal(model[i], e) && (limit == 0 || want < limit) {
								want++
								continue
							}
							nm = append([][]byte{model[i]}, nm...)
						}
					} else {
						for _, m := range model {
							if bytes.Equal(m, e) && (limit == 0 || want < limit) {
								want++
								continue
							}
							nm = append(nm, m)
						}
					}
					if got := l.RemoveMatches(e, limit, fromTail); got != want {
						t.Fatalf("step %d: RemoveMatches=%d want %d", step, got, want)
					}
					model = nm
				default:
					for range 5 {
						e := elem()
						l.PushBack(e)
						model = append(model, e)
					}
				}
				checkModel(t, step, l, model)
			}
			c := l.Copy().(*List)
			if len(model) > 0 {
				l.Set(0, []byte("changed"))
				model2 := append([][]byte(nil), model...)
				checkModel(t, -1, c, model2)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	cases := []struct{ fill, size, count int }{
		{-1, 4096, -1}, {-2, 8192, -1}, {-5, 65536, -1}, {-9, 65536, -1}, {0, -1, 1}, {7, -1, 7},
	}
	for _, c := range cases {
		if s, n := Limits(c.fill); s != c.size || n != c.count {
			t.Errorf("Limits(%d) = %d,%d want %d,%d", c.fill, s, n, c.size, c.count)
		}
	}
	if !ExceedsLimit(3, 10, 4) || ExceedsLimit(3, 10, 3) || !ExceedsLimit(3, 9000, 2) {
		t.Error("count limits")
	}
	if !ExceedsLimit(-1, 4097, 1) || ExceedsLimit(-1, 4096, 1000) {
		t.Error("size limits")
	}
}

func TestFromListpackAndIter(t *testing.T) {
	lp := listpack.Append(listpack.New(), []byte("a"), []byte("b"), []byte("c"))
	it := ListpackIter(lp, 2, true)
	var got []string
	for e, ok := it.Next(); ok; e, ok = it.Next() {
		got = append(got, string(e))
	}
	if fmt.Sprint(got) != "[c b a]" {
		t.Fatalf("got %v", got)
	}
	l := FromListpack(lp, -2)
	if l.Len() != 3 || l.Nodes() != 1 || l.Encoding() != "quicklist" {
		t.Fatal("FromListpack")
	}
	if FromListpack(listpack.New(), -2).Nodes() != 0 {
		t.Fatal("empty FromListpack must have no nodes")
	}
	if it := l.Iter(5, false); func() bool { _, ok := it.Next(); return ok }() {
		t.Fatal("out of range iterator")
	}
}

func BenchmarkPushPop(b *testing.B) {
	l := New(-2)
	e := []byte("xxx")
	for range 100000 {
		l.PushBack(e)
	}
	b.ReportAllocs()
	for b.Loop() {
		l.PushFront(e)
		l.PopBack()
	}
}
