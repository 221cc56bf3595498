package listpack

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"
)

// TestModel checks every operation against a [][]byte model, walking the
// result forwards and backwards after each step.
func TestModel(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	lp := New()
	var model [][]byte
	elem := func() []byte {
		n := rng.Intn(40)
		if rng.Intn(20) == 0 {
			n = 100 + rng.Intn(20000) // multi-byte lengths and backlens
		}
		b := make([]byte, n)
		rng.Read(b) // any bytes: binary values must walk both ways
		return b
	}
	for step := 0; step < 5000; step++ {
		switch op := rng.Intn(6); {
		case op == 0 || len(model) == 0:
			e := elem()
			lp = Append(lp, e)
			model = append(model, e)
		case op == 1:
			e := elem()
			lp = Prepend(lp, e)
			model = append([][]byte{e}, model...)
		case op == 2:
			i := rng.Intn(len(model))
			e := elem()
			lp = Insert(lp, Seek(lp, i), e)
			model = append(model[:i], append([][]byte{e}, model[i:]...)...)
		case op == 3:
			i := rng.Intn(len(model))
			n := 1 + rng.Intn(3)
			if i+n > len(model) {
				n = len(model) - i
			}
			lp = Delete(lp, Seek(lp, i), n)
			model = append(model[:i], model[i+n:]...)
		default:
			i := rng.Intn(len(model))
			e := elem()
			lp = Replace(lp, Seek(lp, -len(model)+i), e)
			model[i] = e
		}
		check(t, step, lp, model)
	}
}

func check(t *testing.T, step int, lp []byte, model [][]byte) {
	t.Helper()
	if Len(lp) != len(model) {
		t.Fatalf("step %d: Len=%d want %d", step, Len(lp), len(model))
	}
	i := 0
	for p := First(lp); p >= 0; p = Next(lp, p) {
		if !bytes.Equal(Get(lp, p), model[i]) {
			t.Fatalf("step %d: forward element %d differs", step, i)
		}
		i++
	}
	if i != len(model) {
		t.Fatalf("step %d: forward walk saw %d elements", step, i)
	}
	for p := Last(lp); p >= 0; p = Prev(lp, p) {
		i--
		if !bytes.Equal(Get(lp, p), model[i]) {
			t.Fatalf("step %d: backward element %d differs", step, i)
		}
	}
	if i != 0 {
		t.Fatalf("step %d: backward walk stopped at %d", step, i)
	}
}

func TestFindStride(t *testing.T) {
	lp := New()
	for i := 0; i < 10; i++ {
		lp = Append(lp, []byte(fmt.Sprint("f", i)), []byte(fmt.Sprint("f", i+1)))
	}
	// with stride 2 only fields (even positions) match
	p := Find(lp, First(lp), []byte("f3"), 2)
	if p < 0 || string(Get(lp, Next(lp, p))) != "f4" {
		t.Fatalf("Find with stride 2 matched a value")
	}
}
