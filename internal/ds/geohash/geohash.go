// Package geohash is the arithmetic behind the GEO commands: points are
// turned into 52-bit interleaved geohashes (26 bits of latitude on the even
// bits, 26 of longitude on the odd ones) which a sorted set stores as
// scores, exactly as Redis does, so that ZRANGE over a geo key shows the
// same scores as redis-server and a dump from one reads correctly in the
// other. Searches cover the query shape with the geohash box of the centre
// plus its eight neighbours, each box being one contiguous score range.
//
// Every formula follows Redis's floating-point steps in the same order
// (offsets, scale, midpoint, haversine), because replies print coordinates
// with 17 decimals and distances with 4: a different but "equivalent"
// expression would print different digits.
package geohash

import "math"

// Redis's coordinate limits. Latitudes beyond ±85.05112878 cannot be
// projected (EPSG:900913), so they cannot be indexed either.
const (
	LatMin = -85.05112878
	LatMax = 85.05112878
	LonMin = -180.0
	LonMax = 180.0

	// StepMax is the precision of stored points: 26 steps, 52 bits.
	StepMax = 26

	// EarthRadius is the radius (metres) Redis's haversine uses.
	EarthRadius = 6372797.560856

	// mercatorMax bounds the step estimate for a search radius.
	mercatorMax = 20037726.37
)

// degToRad is computed at run time, as C computes M_PI/180.0 in double
// precision; a Go constant expression would be exact and could round to
// a different double.
var degToRad = func() float64 { pi := math.Pi; return pi / 180.0 }()

func degRad(a float64) float64 { return a * degToRad }
func radDeg(a float64) float64 { return a / degToRad }

// Range is an interval of one coordinate.
type Range struct{ Min, Max float64 }

// Standard ranges: Redis indexes with the Mercator latitude limits, while
// the textual geohash (GEOHASH) uses the usual ±90.
var (
	LonRange    = Range{LonMin, LonMax}
	LatRange    = Range{LatMin, LatMax}
	LatRange90  = Range{-90, 90}
	zeroRange   = Range{}
	textAlphabe = "0123456789bcdefghjkmnpqrstuvwxyz"
)

// Bits is a geohash of Step steps (2*Step significant bits).
type Bits struct {
	Bits uint64
	Step uint8
}

// IsZero reports an unset hash (a neighbour excluded from a search).
func (h Bits) IsZero() bool { return h.Bits == 0 && h.Step == 0 }

// Area is the box a hash covers.
type Area struct {
	Hash     Bits
	Lon, Lat Range
}

// interleave puts x on the even bits and y on the odd bits.
func interleave(x, y uint32) uint64 {
	return spread(x) | spread(y)<<1
}

// spread moves the 32 bits of v to the even bit positions.
func spread(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000FFFF0000FFFF
	x = (x | x<<8) & 0x00FF00FF00FF00FF
	x = (x | x<<4) & 0x0F0F0F0F0F0F0F0F
	x = (x | x<<2) & 0x3333333333333333
	x = (x | x<<1) & 0x5555555555555555
	return x
}

// squash is spread's inverse: the even bits of v, packed.
func squash(v uint64) uint32 {
	x := v & 0x5555555555555555
	x = (x | x>>1) & 0x3333333333333333
	x = (x | x>>2) & 0x0F0F0F0F0F0F0F0F
	x = (x | x>>4) & 0x00FF00FF00FF00FF
	x = (x | x>>8) & 0x0000FFFF0000FFFF
	x = (x | x>>16) & 0x00000000FFFFFFFF
	return uint32(x)
}

// Encode hashes a point with step steps within the given ranges. It fails
// for a step outside 1..32, an empty range, or a point outside Redis's
// limits or the ranges.
func Encode(lon, lat Range, longitude, latitude float64, step uint8) (Bits, bool) {
	if step > 32 || step == 0 || lat == zeroRange || lon == zeroRange {
		return Bits{}, false
	}
	if longitude > LonMax || longitude < LonMin || latitude > LatMax || latitude < LatMin {
		return Bits{}, false
	}
	if latitude < lat.Min || latitude > lat.Max || longitude < lon.Min || longitude > lon.Max {
		return Bits{}, false
	}
	latOff := (latitude - lat.Min) / (lat.Max - lat.Min)
	lonOff := (longitude - lon.Min) / (lon.Max - lon.Min)
	latOff *= float64(uint64(1) << step)
	lonOff *= float64(uint64(1) << step)
	return Bits{Bits: interleave(uint32(latOff), uint32(lonOff)), Step: step}, true
}

// EncodeWGS84 hashes a point with Redis's indexing ranges.
func EncodeWGS84(longitude, latitude float64, step uint8) (Bits, bool) {
	return Encode(LonRange, LatRange, longitude, latitude, step)
}

// Decode returns the box covered by h within the given ranges.
func Decode(lon, lat Range, h Bits) (Area, bool) {
	if h.IsZero() || lat == zeroRange || lon == zeroRange {
		return Area{}, false
	}
	ilat := uint64(squash(h.Bits))
	ilon := uint64(squash(h.Bits >> 1))
	div := float64(uint64(1) << h.Step)
	latScale := lat.Max - lat.Min
	lonScale := lon.Max - lon.Min
	a := Area{Hash: h}
	a.Lat.Min = lat.Min + (float64(ilat)*1.0/div)*latScale
	a.Lat.Max = lat.Min + (float64(ilat+1)*1.0/div)*latScale
	a.Lon.Min = lon.Min + (float64(ilon)*1.0/div)*lonScale
	a.Lon.Max = lon.Min + (float64(ilon+1)*1.0/div)*lonScale
	return a, true
}

// Center returns the middle of the area, clamped to Redis's limits.
func (a Area) Center() (lon, lat float64) {
	lon = (a.Lon.Min + a.Lon.Max) / 2
	lon = min(max(lon, LonMin), LonMax)
	lat = (a.Lat.Min + a.Lat.Max) / 2
	lat = min(max(lat, LatMin), LatMax)
	return lon, lat
}

// DecodeScore returns the point a sorted-set score stands for (the centre
// of its 52-bit box). Like Redis, the score is truncated to an integer.
func DecodeScore(score float64) (lon, lat float64, ok bool) {
	a, ok := Decode(LonRange, LatRange, Bits{Bits: uint64(score), Step: StepMax})
	if !ok {
		return 0, 0, false
	}
	lon, lat = a.Center()
	return lon, lat, true
}

// Align52 left-aligns h to 52 bits, the form stored as a score.
func Align52(h Bits) uint64 { return h.Bits << (52 - uint(h.Step)*2) }

// Score returns the sorted-set score of a point (which must be within
// Redis's limits).
func Score(longitude, latitude float64) (uint64, bool) {
	h, ok := EncodeWGS84(longitude, latitude, StepMax)
	if !ok {
		return 0, false
	}
	return Align52(h), true
}

// String returns the 11-character textual geohash of a stored score, as
// GEOHASH prints it: the point re-encoded with the standard ±90 latitude
// range, the last character always '0' since only 52 bits exist.
func String(score float64) (string, bool) {
	lon, lat, ok := DecodeScore(score)
	if !ok {
		return "", false
	}
	h, _ := Encode(LonRange, LatRange90, lon, lat, StepMax)
	var buf [11]byte
	for i := 0; i < 11; i++ {
		idx := 0
		if i < 10 {
			idx = int(h.Bits>>(52-(i+1)*5)) & 0x1f
		}
		buf[i] = textAlphabe[idx]
	}
	return string(buf[:]), true
}

// Neighbors are the eight boxes around one, at the same step.
type Neighbors struct {
	North, East, West, South                   Bits
	NorthEast, SouthEast, NorthWest, SouthWest Bits
}

// moveX steps h one box east (d > 0) or west (d < 0), wrapping around.
func moveX(h Bits, d int) Bits {
	if d == 0 {
		return h
	}
	x := h.Bits & 0xaaaaaaaaaaaaaaaa
	y := h.Bits & 0x5555555555555555
	zz := uint64(0x5555555555555555) >> (64 - uint(h.Step)*2)
	if d > 0 {
		x += zz + 1
	} else {
		x |= zz
		x -= zz + 1
	}
	x &= 0xaaaaaaaaaaaaaaaa >> (64 - uint(h.Step)*2)
	h.Bits = x | y
	return h
}

// moveY steps h one box north (d > 0) or south (d < 0), wrapping around.
func moveY(h Bits, d int) Bits {
	if d == 0 {
		return h
	}
	x := h.Bits & 0xaaaaaaaaaaaaaaaa
	y := h.Bits & 0x5555555555555555
	zz := uint64(0xaaaaaaaaaaaaaaaa) >> (64 - uint(h.Step)*2)
	if d > 0 {
		y += zz + 1
	} else {
		y |= zz
		y -= zz + 1
	}
	y &= 0x5555555555555555 >> (64 - uint(h.Step)*2)
	h.Bits = x | y
	return h
}

// NeighborsOf returns the eight boxes around h.
func NeighborsOf(h Bits) Neighbors {
	return Neighbors{
		East:      moveX(h, 1),
		West:      moveX(h, -1),
		South:     moveY(h, -1),
		North:     moveY(h, 1),
		NorthWest: moveY(moveX(h, -1), 1),
		NorthEast: moveY(moveX(h, 1), 1),
		SouthEast: moveY(moveX(h, 1), -1),
		SouthWest: moveY(moveX(h, -1), -1),
	}
}

// EstimateSteps picks the box size for a search of the given radius
// around latitude lat: the largest boxes for which the 3x3 block around
// the centre still covers the radius, a little coarser near the poles.
func EstimateSteps(rangeMeters, lat float64) uint8 {
	if rangeMeters == 0 {
		return 26
	}
	step := 1
	for rangeMeters < mercatorMax {
		rangeMeters *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	step = min(max(step, 1), 26)
	return uint8(step)
}

// Shape is a search area: a circle of Radius or a Width x Height box
// around (Lon, Lat), the sizes in a unit that is Conversion metres.
type Shape struct {
	Lon, Lat      float64
	Box           bool
	Radius        float64
	Width, Height float64
	Conversion    float64
}

// BoundingBox returns min lon, min lat, max lon, max lat of the shape.
func (s *Shape) BoundingBox() [4]float64 {
	var height, width float64
	if s.Box {
		height, width = s.Conversion*(s.Height/2), s.Conversion*(s.Width/2)
	} else {
		height, width = s.Conversion*s.Radius, s.Conversion*s.Radius
	}
	latDelta := radDeg(height / EarthRadius)
	lonDeltaTop := radDeg(width / EarthRadius / cosCR(degRad(s.Lat+latDelta)))
	lonDeltaBottom := radDeg(width / EarthRadius / cosCR(degRad(s.Lat-latDelta)))
	// In the southern hemisphere the bottom edge is the wider one.
	var b [4]float64
	if s.Lat < 0 {
		b[0], b[2] = s.Lon-lonDeltaBottom, s.Lon+lonDeltaBottom
	} else {
		b[0], b[2] = s.Lon-lonDeltaTop, s.Lon+lonDeltaTop
	}
	b[1], b[3] = s.Lat-latDelta, s.Lat+latDelta
	return b
}

// Search is the set of up to nine boxes that cover a shape.
type Search struct {
	Hash      Bits
	Neighbors Neighbors
	Area      Area
}

// Boxes returns the centre box then the neighbours, in the order Redis
// scans them (which decides which members COUNT ANY returns).
func (r *Search) Boxes() [9]Bits {
	n := &r.Neighbors
	return [9]Bits{r.Hash, n.North, n.South, n.East, n.West, n.NorthEast, n.NorthWest, n.SouthEast, n.SouthWest}
}

// Cover computes the boxes to scan for shape s.
func Cover(s *Shape) Search {
	b := s.BoundingBox()
	minLon, minLat, maxLon, maxLat := b[0], b[1], b[2], b[3]
	var radius float64
	if s.Box {
		radius = math.Sqrt((s.Width/2)*(s.Width/2) + (s.Height/2)*(s.Height/2))
	} else {
		radius = s.Radius
	}
	radius *= s.Conversion

	steps := EstimateSteps(radius, s.Lat)
	hash, _ := Encode(LonRange, LatRange, s.Lon, s.Lat, steps)
	nb := NeighborsOf(hash)
	area, _ := Decode(LonRange, LatRange, hash)

	// The estimate can be too coarse when the shape sits near an edge of
	// its box: a neighbour then fails to reach the shape's far side.
	north, _ := Decode(LonRange, LatRange, nb.North)
	south, _ := Decode(LonRange, LatRange, nb.South)
	east, _ := Decode(LonRange, LatRange, nb.East)
	west, _ := Decode(LonRange, LatRange, nb.West)
	decrease := north.Lat.Max < maxLat || south.Lat.Min > minLat ||
		east.Lon.Max < maxLon || west.Lon.Min > minLon
	if steps > 1 && decrease {
		steps--
		hash, _ = Encode(LonRange, LatRange, s.Lon, s.Lat, steps)
		nb = NeighborsOf(hash)
		area, _ = Decode(LonRange, LatRange, hash)
	}

	// Drop the neighbours the shape cannot reach.
	if steps >= 2 {
		if area.Lat.Min < minLat {
			nb.South, nb.SouthWest, nb.SouthEast = Bits{}, Bits{}, Bits{}
		}
		if area.Lat.Max > maxLat {
			nb.North, nb.NorthEast, nb.NorthWest = Bits{}, Bits{}, Bits{}
		}
		if area.Lon.Min < minLon {
			nb.West, nb.SouthWest, nb.NorthWest = Bits{}, Bits{}, Bits{}
		}
		if area.Lon.Max > maxLon {
			nb.East, nb.SouthEast, nb.NorthEast = Bits{}, Bits{}, Bits{}
		}
	}
	return Search{Hash: hash, Neighbors: nb, Area: area}
}

// ScoreRange returns the scores [min, max) of the points inside box h.
func ScoreRange(h Bits) (lo, hi uint64) {
	lo = Align52(h)
	h.Bits++
	hi = Align52(h)
	return lo, hi
}

// LatDistance is the distance (metres) between two latitudes on one
// meridian.
func LatDistance(lat1, lat2 float64) float64 {
	return EarthRadius * math.Abs(degRad(lat2)-degRad(lat1))
}

// Distance is Redis's haversine great-circle distance in metres.
func Distance(lon1, lat1, lon2, lat2 float64) float64 {
	lon1r := degRad(lon1)
	lon2r := degRad(lon2)
	v := sinCR((lon2r - lon1r) / 2)
	// Same longitude: the cheap formula, as Redis takes it.
	if v == 0 {
		return LatDistance(lat1, lat2)
	}
	lat1r := degRad(lat1)
	lat2r := degRad(lat2)
	u := sinCR((lat2r - lat1r) / 2)
	// Explicit conversions keep each product rounded, as C computes it
	// (no fused multiply-add).
	a := float64(u*u) + float64(float64(float64(cosCR(lat1r)*cosCR(lat2r))*v)*v)
	return 2.0 * EarthRadius * asinCR(math.Sqrt(a))
}

// Within reports whether the point (lon, lat) is inside the shape and its
// distance in metres from the shape's centre.
func (s *Shape) Within(lon, lat float64) (float64, bool) {
	if !s.Box {
		d := Distance(s.Lon, s.Lat, lon, lat)
		return d, d <= s.Radius*s.Conversion
	}
	w, h := s.Width*s.Conversion, s.Height*s.Conversion
	// Latitude first: it is the cheaper test.
	if LatDistance(lat, s.Lat) > h/2 {
		return 0, false
	}
	if Distance(lon, lat, s.Lon, lat) > w/2 {
		return 0, false
	}
	return Distance(s.Lon, s.Lat, lon, lat), true
}
