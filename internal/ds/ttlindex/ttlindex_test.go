package ttlindex

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestBasics(t *testing.T) {
	var x Index
	if _, _, ok := x.Min(); ok {
		t.Fatal("empty index has a minimum")
	}
	x.Set([]byte("a"), 30)
	x.Set([]byte("b"), 10)
	x.Set([]byte("c"), 20)
	if n, w, _ := x.Min(); n != "b" || w != 10 {
		t.Fatalf("Min = %s %d", n, w)
	}
	x.Set([]byte("b"), 40)
	if n, w, _ := x.Min(); n != "c" || w != 20 {
		t.Fatalf("Min after raise = %s %d", n, w)
	}
	x.SetEarlier([]byte("a"), 50) // later: ignored
	x.SetEarlier([]byte("a"), 5)
	if n, w, _ := x.PopMin(); n != "a" || w != 5 {
		t.Fatalf("PopMin = %s %d", n, w)
	}
	if !x.Delete([]byte("c")) || x.Delete([]byte("c")) {
		t.Fatal("Delete")
	}
	if w, ok := x.Get([]byte("b")); !ok || w != 40 || x.Len() != 1 {
		t.Fatalf("Get b = %d %v, Len %d", w, ok, x.Len())
	}
	c := x.Clone()
	x.PopMin()
	if c.Len() != 1 || x.Len() != 0 {
		t.Fatal("Clone shares state")
	}
}

// TestModel compares random operations against a plain map.
func TestModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var x Index
	model := map[string]int64{}
	for step := 0; step < 200000; step++ {
		name := strconv.Itoa(r.IntN(300))
		switch op := r.IntN(10); {
		case op < 4:
			w := int64(r.IntN(1000))
			x.Set([]byte(name), w)
			model[name] = w
		case op < 5:
			w := int64(r.IntN(1000))
			x.SetEarlier([]byte(name), w)
			if old, ok := model[name]; !ok || w < old {
				model[name] = w
			}
		case op < 7:
			_, ok := model[name]
			if x.Delete([]byte(name)) != ok {
				t.Fatalf("step %d: Delete(%s) disagrees", step, name)
			}
			delete(model, name)
		case op < 8:
			n, w, ok := x.PopMin()
			if ok != (len(model) > 0) {
				t.Fatalf("step %d: PopMin ok=%v with %d names", step, ok, len(model))
			}
			if ok {
				for _, mw := range model {
					if mw < w {
						t.Fatalf("step %d: PopMin %d but %d exists", step, w, mw)
					}
				}
				if model[n] != w {
					t.Fatalf("step %d: PopMin %s=%d, model %d", step, n, w, model[n])
				}
				delete(model, n)
			}
		default:
			w, ok := x.Get([]byte(name))
			if mw, mok := model[name]; ok != mok || w != mw {
				t.Fatalf("step %d: Get(%s) = %d %v, want %d %v", step, name, w, ok, mw, mok)
			}
		}
		if x.Len() != len(model) {
			t.Fatalf("step %d: Len %d, want %d", step, x.Len(), len(model))
		}
		if len(x.heap) > 2*len(x.when)+33 {
			t.Fatalf("step %d: heap %d items for %d names", step, len(x.heap), len(x.when))
		}
	}
}
