package geohash

import "math"

// Redis computes distances with the C library's sin, cos and asin, which
// on glibc are (all but) correctly rounded. Go's math versions are
// accurate to about one ulp and differ from glibc's in the last bit for a
// third of the distances Redis stores with STOREDIST. These versions
// evaluate in double-double arithmetic (about 106 bits) and round once, so
// they give the correctly rounded result and hence glibc's digits.

// dd is an unevaluated sum hi+lo with |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func quickTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func twoProd(a, b float64) dd {
	p := a * b
	return dd{p, math.FMA(a, b, -p)}
}

func (a dd) add(b dd) dd {
	s := twoSum(a.hi, b.hi)
	t := twoSum(a.lo, b.lo)
	s.lo += t.hi
	s = quickTwoSum(s.hi, s.lo)
	s.lo += t.lo
	return quickTwoSum(s.hi, s.lo)
}

func (a dd) mul(b dd) dd {
	p := twoProd(a.hi, b.hi)
	p.lo += a.hi*b.lo + a.lo*b.hi
	return quickTwoSum(p.hi, p.lo)
}

func (a dd) mulF(b float64) dd {
	p := twoProd(a.hi, b)
	p.lo += a.lo * b
	return quickTwoSum(p.hi, p.lo)
}

func (a dd) div(b dd) dd {
	q1 := a.hi / b.hi
	r := a.add(b.mulF(-q1))
	q2 := r.hi / b.hi
	r = r.add(b.mulF(-q2))
	q3 := r.hi / b.hi
	q := quickTwoSum(q1, q2)
	return q.add(dd{q3, 0})
}

func (a dd) neg() dd { return dd{-a.hi, -a.lo} }

// π/2 split into three doubles (Cody-Waite), enough for |x| < 2^20.
const (
	pio2a = 1.5707963267948966
	pio2b = 6.123233995736766e-17
	pio2c = -1.4973849048591698e-33
)

// invFact[i] is 1/i! in double-double.
var invFact = func() [28]dd {
	var f [28]dd
	f[0] = dd{1, 0}
	for i := 1; i < len(f); i++ {
		f[i] = f[i-1].div(dd{float64(i), 0})
	}
	return f
}()

// sinCosReduced returns sin(r), cos(r) for |r| <= π/4, by Taylor series.
func sinCosReduced(r dd) (dd, dd) {
	// sin: r - r^3/3! + …, cos: 1 - r^2/2! + …
	s, c := dd{}, dd{}
	term := dd{1, 0} // r^k
	for k := 0; k < len(invFact); k++ {
		t := term.mul(invFact[k])
		switch k % 4 {
		case 0:
			c = c.add(t)
		case 1:
			s = s.add(t)
		case 2:
			c = c.add(t.neg())
		case 3:
			s = s.add(t.neg())
		}
		// Stop once the terms no longer reach the 106th bit of a result
		// (cos is about 1 here, sin about r).
		if math.Abs(t.hi) < 1e-34*math.Abs(r.hi) {
			break
		}
		term = term.mul(r)
	}
	return s, c
}

// sinCosDD returns sin(x) and cos(x) in double-double.
func sinCosDD(x float64) (dd, dd) {
	k := math.RoundToEven(x / pio2a)
	r := dd{x, 0}.add(twoProd(k, pio2a).neg())
	r = r.add(twoProd(k, pio2b).neg())
	r = r.add(dd{-k * pio2c, 0})
	s, c := sinCosReduced(r)
	switch int64(k) & 3 {
	case 1:
		s, c = c, s.neg()
	case 2:
		s, c = s.neg(), c.neg()
	case 3:
		s, c = c.neg(), s
	}
	return s, c
}

// sinCR is sin rounded correctly (but for the rarest hard cases).
func sinCR(x float64) float64 {
	if x == 0 || math.IsInf(x, 0) || math.IsNaN(x) || math.Abs(x) > 1<<20 {
		return math.Sin(x)
	}
	s, _ := sinCosDD(x)
	return s.hi + s.lo
}

// cosCR is cos rounded correctly (but for the rarest hard cases).
func cosCR(x float64) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) || math.Abs(x) > 1<<20 {
		return math.Cos(x)
	}
	_, c := sinCosDD(x)
	return c.hi + c.lo
}

// asinCR is asin rounded correctly (but for the rarest hard cases): one
// Newton step in double-double from Go's estimate.
func asinCR(x float64) float64 {
	y := math.Asin(x)
	if x == 0 || math.Abs(x) >= 1 || math.IsNaN(x) {
		return y
	}
	s, c := sinCosDD(y)
	// y' = y + (x - sin y) / cos y
	corr := dd{x, 0}.add(s.neg()).div(c)
	r := dd{y, 0}.add(corr)
	return r.hi + r.lo
}
