package geohash

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// human formats a coordinate as Redis's GEOPOS does (%.17Lf, trailing
// zeros trimmed), to compare with values captured from redis-server.
func human(f float64) string {
	s := strconv.FormatFloat(f, 'f', 17, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// Reference values captured from redis-server 7.0 (GEOADD, ZRANGE
// WITHSCORES, GEOPOS, GEOHASH, GEODIST).
var known = []struct {
	lon, lat       float64
	score          uint64
	posLon, posLat string
	hash           string
}{
	{13.361389, 38.115556, 3479099956230698, "13.36138933897018433", "38.11555639549629859", "sqc8b49rny0"},
	{15.087269, 37.502669, 3479447370796909, "15.08726745843887329", "37.50266842333162032", "sqdtr74hyu0"},
	{180, 85.05112878, 13510798882111488, "180", "85.0511287799999991", "bp05b5048p0"},
	{-180, -85.05112878, 0, "-179.99999731779098511", "-85.05112751263942528", "00bh0hbj200"},
	{0, 0, 3377699720527872, "0.00000268220901489", "0.00000126736058093", "s0000000000"},
}

func TestKnownPoints(t *testing.T) {
	for _, k := range known {
		s, ok := Score(k.lon, k.lat)
		if !ok || s != k.score {
			t.Fatalf("Score(%v,%v) = %d,%v want %d", k.lon, k.lat, s, ok, k.score)
		}
		lon, lat, ok := DecodeScore(float64(s))
		if !ok || human(lon) != k.posLon || human(lat) != k.posLat {
			t.Fatalf("DecodeScore(%d) = %s,%s want %s,%s", s, human(lon), human(lat), k.posLon, k.posLat)
		}
		h, ok := String(float64(s))
		if !ok || h != k.hash {
			t.Fatalf("String(%d) = %q want %q", s, h, k.hash)
		}
	}
}

func TestDistance(t *testing.T) {
	lon1, lat1, _ := DecodeScore(3479099956230698)
	lon2, lat2, _ := DecodeScore(3479447370796909)
	d := Distance(lon1, lat1, lon2, lat2)
	if got := strconv.FormatFloat(d/1000, 'f', 4, 64); got != "166.2742" {
		t.Fatalf("Palermo-Catania = %s km", got)
	}
	// Same longitude takes the meridian formula.
	if d := Distance(10, 0, 10, 1); math.Abs(d-EarthRadius*math.Pi/180) > 1e-6 {
		t.Fatalf("one degree of meridian = %v", d)
	}
	if d := Distance(3, 4, 3, 4); d != 0 {
		t.Fatalf("zero distance = %v", d)
	}
}

func TestEncodeRejects(t *testing.T) {
	for _, p := range [][2]float64{{181, 0}, {-181, 0}, {0, 86}, {0, -85.06}, {math.Inf(1), 0}} {
		if _, ok := Score(p[0], p[1]); ok {
			t.Fatalf("Score(%v) accepted", p)
		}
	}
	if _, ok := EncodeWGS84(0, 0, 0); ok {
		t.Fatal("step 0 accepted")
	}
	if _, ok := EncodeWGS84(0, 0, 33); ok {
		t.Fatal("step 33 accepted")
	}
	if _, ok := Decode(LonRange, LatRange, Bits{}); ok {
		t.Fatal("zero hash decoded")
	}
}

// TestRoundTrip: a decoded point lies inside the box it was encoded in,
// so re-encoding it gives the same score.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100000; i++ {
		lon := r.Float64()*360 - 180
		lat := r.Float64()*2*LatMax - LatMax
		s, ok := Score(lon, lat)
		if !ok {
			t.Fatalf("Score(%v,%v) failed", lon, lat)
		}
		dlon, dlat, ok := DecodeScore(float64(s))
		if !ok {
			t.Fatal("decode failed")
		}
		if math.Abs(dlon-lon) > 360.0/(1<<26) || math.Abs(dlat-lat) > 2*LatMax/(1<<26) {
			t.Fatalf("(%v,%v) decoded as (%v,%v)", lon, lat, dlon, dlat)
		}
		if s2, _ := Score(dlon, dlat); s2 != s {
			t.Fatalf("(%v,%v): score %d re-encodes as %d", lon, lat, s, s2)
		}
		// Scores stay exact as doubles.
		if uint64(float64(s)) != s {
			t.Fatalf("score %d not exact as a double", s)
		}
	}
}

func TestInterleave(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 10000; i++ {
		x, y := r.Uint32(), r.Uint32()
		v := interleave(x, y)
		if squash(v) != x || squash(v>>1) != y {
			t.Fatalf("interleave(%x,%x) = %x does not round-trip", x, y, v)
		}
		// Naive model: bit i of x goes to 2i, of y to 2i+1.
		var want uint64
		for b := 0; b < 32; b++ {
			want |= uint64(x>>b&1) << (2 * b)
			want |= uint64(y>>b&1) << (2*b + 1)
		}
		if v != want {
			t.Fatalf("interleave(%x,%x) = %x want %x", x, y, v, want)
		}
	}
}

// TestNeighbors checks the neighbours against encoding the points one box
// away from the centre of a box.
func TestNeighbors(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 2000; i++ {
		step := uint8(2 + r.IntN(24))
		lon := r.Float64()*300 - 150
		lat := r.Float64()*140 - 70
		h, _ := EncodeWGS84(lon, lat, step)
		a, _ := Decode(LonRange, LatRange, h)
		clon, clat := (a.Lon.Min+a.Lon.Max)/2, (a.Lat.Min+a.Lat.Max)/2
		dlon, dlat := a.Lon.Max-a.Lon.Min, a.Lat.Max-a.Lat.Min
		at := func(dx, dy float64) Bits {
			b, ok := EncodeWGS84(clon+dx*dlon, clat+dy*dlat, step)
			if !ok {
				t.Skip("edge")
			}
			return b
		}
		n := NeighborsOf(h)
		checks := []struct {
			got    Bits
			dx, dy float64
		}{
			{n.East, 1, 0}, {n.West, -1, 0}, {n.North, 0, 1}, {n.South, 0, -1},
			{n.NorthEast, 1, 1}, {n.NorthWest, -1, 1}, {n.SouthEast, 1, -1}, {n.SouthWest, -1, -1},
		}
		for j, c := range checks {
			if w := at(c.dx, c.dy); w != c.got {
				t.Fatalf("step %d (%v,%v) neighbour %d = %+v want %+v", step, lon, lat, j, c.got, w)
			}
		}
	}
}

func TestEstimateSteps(t *testing.T) {
	cases := []struct {
		r, lat float64
		want   uint8
	}{
		{0, 0, 26}, {1, 0, 24}, {1000, 0, 14}, {200000, 0, 6}, {200000, 70, 5}, {200000, 85, 4},
		{1e8, 0, 1},
	}
	for _, c := range cases {
		if got := EstimateSteps(c.r, c.lat); got != c.want {
			t.Errorf("EstimateSteps(%v,%v) = %d want %d", c.r, c.lat, got, c.want)
		}
	}
}

// TestCoverFindsAll: every point inside a random shape lies in one of
// the boxes Cover returns (the property the searches rely on).
func TestCoverFindsAll(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 300; i++ {
		s := Shape{Lon: r.Float64()*340 - 170, Lat: r.Float64()*140 - 70, Conversion: 1}
		if i%2 == 0 {
			s.Radius = r.Float64() * 500000
		} else {
			s.Box = true
			s.Width, s.Height = r.Float64()*800000, r.Float64()*800000
		}
		cov := Cover(&s)
		boxes := cov.Boxes()
		for j := 0; j < 300; j++ {
			lon := s.Lon + (r.Float64()*2-1)*10
			lat := s.Lat + (r.Float64()*2-1)*6
			sc, ok := Score(lon, lat)
			if !ok {
				continue
			}
			plon, plat, _ := DecodeScore(float64(sc))
			if _, in := s.Within(plon, plat); !in {
				continue
			}
			found := false
			for _, b := range boxes {
				if b.IsZero() {
					continue
				}
				lo, hi := ScoreRange(b)
				if sc >= lo && sc < hi {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("shape %+v: point (%v,%v) inside but in no box", s, plon, plat)
			}
		}
	}
}

func TestWithinBox(t *testing.T) {
	s := Shape{Lon: 0, Lat: 0, Box: true, Width: 200, Height: 100, Conversion: 1000}
	if _, in := s.Within(0.8, 0.4); !in {
		t.Fatal("(0.8,0.4) should be inside a 200x100 km box")
	}
	if _, in := s.Within(0, 0.5); in {
		t.Fatal("(0,0.5) is 55 km north: outside")
	}
	if _, in := s.Within(1, 0); in {
		t.Fatal("(1,0) is 111 km east: outside")
	}
	c := Shape{Lon: 0, Lat: 0, Radius: 112, Conversion: 1000}
	if d, in := c.Within(1, 0); !in || d < 111000 || d > 112000 {
		t.Fatalf("(1,0) within 112 km: %v %v", d, in)
	}
}

// bigSinCos computes sin and cos of x with 300-bit Taylor series.
func bigSinCos(x float64) (float64, float64) {
	const prec = 300
	bx := new(big.Float).SetPrec(prec).SetFloat64(x)
	x2 := new(big.Float).SetPrec(prec).Mul(bx, bx)
	s := new(big.Float).SetPrec(prec)
	c := new(big.Float).SetPrec(prec)
	ts := new(big.Float).SetPrec(prec).Set(bx)       // x^(2k+1)/(2k+1)!
	tc := new(big.Float).SetPrec(prec).SetFloat64(1) // x^(2k)/(2k)!
	for k := 0; k < 60; k++ {
		if k%2 == 0 {
			s.Add(s, ts)
			c.Add(c, tc)
		} else {
			s.Sub(s, ts)
			c.Sub(c, tc)
		}
		ts.Mul(ts, x2)
		ts.Quo(ts, new(big.Float).SetInt64(int64((2*k+2)*(2*k+3))))
		tc.Mul(tc, x2)
		tc.Quo(tc, new(big.Float).SetInt64(int64((2*k+1)*(2*k+2))))
	}
	sf, _ := s.Float64()
	cf, _ := c.Float64()
	return sf, cf
}

// TestTrigCorrectlyRounded: the double-double sin/cos/asin agree with a
// 300-bit reference rounded once.
func TestTrigCorrectlyRounded(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for i := 0; i < 1000; i++ {
		x := (r.Float64()*2 - 1) * 3.3
		ws, wc := bigSinCos(x)
		if got := sinCR(x); got != ws {
			t.Fatalf("sin(%v) = %v want %v", x, got, ws)
		}
		if got := cosCR(x); got != wc {
			t.Fatalf("cos(%v) = %v want %v", x, got, wc)
		}
		// asin: y = asinCR(v) must be the double nearest the true value,
		// i.e. sin of it (exactly) is nearer v than sin of its neighbours.
		v := r.Float64()
		y := asinCR(v)
		d := func(y float64) float64 { s, _ := bigSinCos(y); return math.Abs(s - v) }
		if d(y) > d(math.Nextafter(y, 0)) || d(y) > d(math.Nextafter(y, 2)) {
			t.Fatalf("asin(%v) = %v is not the nearest", v, y)
		}
	}
}

func BenchmarkDistance(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Distance(13.361389, 38.115556, 15.087269+float64(i&7), 37.502669)
	}
}
