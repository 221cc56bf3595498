package intset

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestModel runs random adds and removes against a sorted []int64, with
// values drawn from every width so upgrades happen at random moments.
func TestModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	val := func() int64 {
		switch rng.IntN(4) {
		case 0:
			return int64(rng.IntN(200)) - 100
		case 1:
			return int64(int16(rng.Uint32()))
		case 2:
			return int64(int32(rng.Uint32()))
		}
		return int64(rng.Uint64())
	}
	for round := 0; round < 50; round++ {
		is := New()
		var model []int64
		for step := 0; step < 400; step++ {
			v := val()
			if rng.IntN(3) == 0 && len(model) > 0 {
				if rng.IntN(2) == 0 {
					v = model[rng.IntN(len(model))]
				}
				var ok bool
				is, ok = Remove(is, v)
				i, want := slices.BinarySearch(model, v)
				if ok != want {
					t.Fatalf("Remove(%d)=%v want %v", v, ok, want)
				}
				if want {
					model = slices.Delete(model, i, i+1)
				}
			} else {
				var ok bool
				is, ok = Add(is, v)
				i, found := slices.BinarySearch(model, v)
				if ok == found {
					t.Fatalf("Add(%d)=%v, already present %v", v, ok, found)
				}
				if !found {
					model = slices.Insert(model, i, v)
				}
			}
			if got := Append(nil, is); !slices.Equal(got, model) && !(len(got) == 0 && len(model) == 0) {
				t.Fatalf("round %d step %d: got %v want %v", round, step, got, model)
			}
			if len(is) != HeaderSize+Len(is)*Width(is) {
				t.Fatalf("blob length %d for %d elements of width %d", len(is), Len(is), Width(is))
			}
			for _, m := range model {
				if !Contains(is, m) {
					t.Fatalf("Contains(%d) false", m)
				}
			}
		}
	}
}

func TestWidths(t *testing.T) {
	is := New()
	is, _ = Add(is, 5)
	if Width(is) != 2 {
		t.Fatalf("width %d", Width(is))
	}
	is, _ = Add(is, math.MaxInt16+1)
	if Width(is) != 4 {
		t.Fatalf("width %d", Width(is))
	}
	is, _ = Add(is, math.MinInt64)
	if Width(is) != 8 || Min(is) != math.MinInt64 || Max(is) != math.MaxInt16+1 {
		t.Fatalf("width %d min %d max %d", Width(is), Min(is), Max(is))
	}
	// Never narrows.
	is, _ = Remove(is, math.MinInt64)
	if Width(is) != 8 || Len(is) != 2 {
		t.Fatalf("after remove: width %d len %d", Width(is), Len(is))
	}
	if Contains(is, math.MaxInt64) {
		t.Fatal("contains a value never added")
	}
}

func TestRandomCoversAll(t *testing.T) {
	is := New()
	for i := int64(0); i < 10; i++ {
		is, _ = Add(is, i*1000)
	}
	seen := map[int64]bool{}
	for i := 0; i < 1000; i++ {
		seen[Random(is)] = true
	}
	if len(seen) != 10 {
		t.Fatalf("Random saw %d of 10 values", len(seen))
	}
}
