package dict

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestSetModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	s := NewSet(0)
	model := map[string]bool{}
	for step := 0; step < 20000; step++ {
		m := fmt.Sprint(rng.IntN(500))
		switch rng.IntN(4) {
		case 0, 1:
			if s.Add([]byte(m)) == model[m] {
				t.Fatalf("Add(%s) disagrees", m)
			}
			model[m] = true
		case 2:
			if s.Remove([]byte(m)) != model[m] {
				t.Fatalf("Remove(%s) disagrees", m)
			}
			delete(model, m)
		default:
			if s.Len() > 0 {
				p := s.PopRandom()
				if !model[p] {
					t.Fatalf("PopRandom returned non-member %s", p)
				}
				delete(model, p)
			}
		}
		if s.Len() != len(model) {
			t.Fatalf("Len %d want %d", s.Len(), len(model))
		}
	}
	for m := range model {
		if !s.Has([]byte(m)) {
			t.Fatalf("missing %s", m)
		}
	}
	c := s.Copy().(*Set)
	c.Add([]byte("new"))
	if s.Has([]byte("new")) || c.Len() != s.Len()+1 {
		t.Fatal("Copy shares state")
	}
}

func TestMapModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	m := NewMap(0)
	model := map[string]string{}
	for step := 0; step < 20000; step++ {
		f := fmt.Sprint(rng.IntN(300))
		if rng.IntN(3) == 0 {
			_, had := model[f]
			if m.Delete([]byte(f)) != had {
				t.Fatalf("Delete(%s) disagrees", f)
			}
			delete(model, f)
			continue
		}
		v := fmt.Sprint(rng.Uint32())
		_, had := model[f]
		if m.Set([]byte(f), []byte(v)) == had {
			t.Fatalf("Set(%s) disagrees", f)
		}
		model[f] = v
	}
	if m.Len() != len(model) {
		t.Fatalf("Len %d want %d", m.Len(), len(model))
	}
	for f, v := range model {
		if got, ok := m.Get([]byte(f)); !ok || got != v {
			t.Fatalf("Get(%s)=%q,%v want %q", f, got, ok, v)
		}
	}
}

// TestScanGuarantee removes and adds members between scan calls and checks
// that every member present from start to end was returned.
func TestScanGuarantee(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for round := 0; round < 100; round++ {
		s := NewSet(0)
		for i := 0; i < 1000; i++ {
			s.Add([]byte(fmt.Sprint(i)))
		}
		removed := map[string]bool{}
		seen := map[string]bool{}
		cursor := uint64(0)
		for {
			cursor = s.Scan(cursor, 1+rng.IntN(20), func(m string) { seen[m] = true })
			for k := 0; k < 5; k++ {
				if rng.IntN(2) == 0 && s.Len() > 0 {
					removed[s.PopRandom()] = true
				} else {
					s.Add([]byte(fmt.Sprint("new", rng.IntN(1000))))
				}
			}
			if cursor == 0 {
				break
			}
		}
		for i := 0; i < 1000; i++ {
			m := fmt.Sprint(i)
			if !removed[m] && !seen[m] {
				t.Fatalf("round %d: member %s present throughout was not returned", round, m)
			}
		}
	}
}
