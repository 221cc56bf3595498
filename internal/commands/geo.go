package commands

import (
	"math"
	"slices"
	"strconv"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/ds/geohash"
	"github.com/corvid-db/corvid/internal/resp"
)

// Errors only the geo commands reply with.
const (
	errGeoUnit        = "ERR unsupported unit provided. please use M, KM, FT, MI"
	errGeoRadiusNum   = "ERR need numeric radius"
	errGeoRadiusNeg   = "ERR radius cannot be negative"
	errGeoWidthNum    = "ERR need numeric width"
	errGeoHeightNum   = "ERR need numeric height"
	errGeoBoxNeg      = "ERR height or width cannot be negative"
	errGeoCount       = "ERR COUNT must be > 0"
	errGeoMember      = "ERR could not decode requested zset member"
	errGeoAnyCount    = "ERR the ANY argument requires COUNT argument"
	errGeoStoreSearch = "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
	errGeoStoreRadius = "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
)

// geoCommands are Redis's geo group. A geo index is a sorted set whose
// scores are 52-bit geohashes (internal/ds/geohash), so every command here
// reads and writes through the sorted-set helpers of zset_util.go.
func geoCommands() []*command.Command {
	const (
		read  = command.CatRead
		write = command.CatWrite
		geo   = command.CatGeo
		slow  = command.CatSlow
	)
	src := func(flags ...string) command.KeySpec {
		return command.KeySpec{Flags: flags, BeginIndex: 1, LastKey: 0, Step: 1}
	}
	// GEORADIUS[BYMEMBER] STORE/STOREDIST: the destination follows the
	// keyword, searched from the first optional argument.
	storeSpecs := func(from int) []command.KeySpec {
		return []command.KeySpec{
			src("RO", "access"),
			{Flags: []string{"OW", "update"}, Keyword: "STORE", KeywordStart: from, LastKey: 0, Step: 1},
			{Flags: []string{"OW", "update"}, Keyword: "STOREDIST", KeywordStart: from, LastKey: 0, Step: 1},
		}
	}
	k1 := func(c *command.Command) *command.Command {
		c.FirstKey, c.LastKey, c.Step = 1, 1, 1
		c.Group = "geo"
		if c.KeySpecs == nil {
			c.KeySpecs = []command.KeySpec{src("RO", "access")}
		}
		return c
	}
	wr := command.Write | command.DenyOOM
	ro := command.ReadOnly
	return []*command.Command{
		k1(&command.Command{Name: "geoadd", Arity: -5, Flags: wr, ACL: write | geo | slow,
			KeySpecs: []command.KeySpec{src("RW", "update")}, Since: "3.2.0",
			Summary: "Adds points to a geo index (a sorted set), creating the key if needed.", Handler: ev(command.NotifyZset, "zadd", geoaddCommand)}),
		k1(&command.Command{Name: "geodist", Arity: -4, Flags: ro, ACL: read | geo | slow, Since: "3.2.0",
			Summary: "Returns the distance between two members of a geo index.", Handler: geodistCommand}),
		k1(&command.Command{Name: "geohash", Arity: -2, Flags: ro, ACL: read | geo | slow, Since: "3.2.0",
			Summary: "Returns members' positions as standard geohash strings.", Handler: geohashCommand}),
		k1(&command.Command{Name: "geopos", Arity: -2, Flags: ro, ACL: read | geo | slow, Since: "3.2.0",
			Summary: "Returns the longitude and latitude of members of a geo index.", Handler: geoposCommand}),
		k1(&command.Command{Name: "geosearch", Arity: -7, Flags: ro, ACL: read | geo | slow, Since: "6.2.0",
			Summary: "Returns the members of a geo index inside a circle or a box.", Handler: geosearchCommand}),
		{Name: "geosearchstore", Arity: -8, Flags: wr, ACL: write | geo | slow, FirstKey: 1, LastKey: 2, Step: 1,
			KeySpecs: []command.KeySpec{src("OW", "update"), {Flags: []string{"RO", "access"}, BeginIndex: 2, LastKey: 0, Step: 1}},
			Group:    "geo", Since: "6.2.0",
			Summary: "Stores the members of a geo index inside a circle or a box in a sorted set.", Handler: evStore(command.NotifyZset, "geosearchstore", 1, geosearchstoreCommand)},
		k1(&command.Command{Name: "georadius", Arity: -6, Flags: wr | command.MovableKeys, ACL: write | geo | slow,
			KeySpecs: storeSpecs(6), Since: "3.2.0",
			Summary: "Returns (or stores) the members of a geo index within a radius of a point. Deprecated: use GEOSEARCH.", Handler: georadiusCommand}),
		k1(&command.Command{Name: "georadiusbymember", Arity: -5, Flags: wr | command.MovableKeys, ACL: write | geo | slow,
			KeySpecs: storeSpecs(5), Since: "3.2.0",
			Summary: "Returns (or stores) the members of a geo index within a radius of a member. Deprecated: use GEOSEARCH.", Handler: georadiusbymemberCommand}),
		k1(&command.Command{Name: "georadius_ro", Arity: -6, Flags: ro, ACL: read | geo | slow, Since: "3.2.10",
			Summary: "Returns the members of a geo index within a radius of a point. Deprecated: use GEOSEARCH.", Handler: georadiusroCommand}),
		k1(&command.Command{Name: "georadiusbymember_ro", Arity: -5, Flags: ro, ACL: read | geo | slow, Since: "3.2.10",
			Summary: "Returns the members of a geo index within a radius of a member. Deprecated: use GEOSEARCH.", Handler: georadiusbymemberroCommand}),
	}
}

// ---- argument helpers ----

// geoFormatF formats like C's "%f" (six decimals, "inf"), for the
// invalid-pair error.
func geoFormatF(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	return strconv.AppendFloat(dst, f, 'f', 6, 64)
}

// geoLonLat parses a longitude and a latitude argument and checks them
// against the indexable range, replying with Redis's error if needed.
func geoLonLat(c *command.Ctx, lonArg, latArg []byte) (lon, lat float64, ok bool) {
	if lon, ok = zparseFloat(lonArg); !ok {
		c.Error(command.ErrNotFloat)
		return 0, 0, false
	}
	if lat, ok = zparseFloat(latArg); !ok {
		c.Error(command.ErrNotFloat)
		return 0, 0, false
	}
	if lon < geohash.LonMin || lon > geohash.LonMax || lat < geohash.LatMin || lat > geohash.LatMax {
		msg := []byte("ERR invalid longitude,latitude pair ")
		msg = geoFormatF(msg, lon)
		msg = append(msg, ',')
		msg = geoFormatF(msg, lat)
		c.Error(string(msg))
		return 0, 0, false
	}
	return lon, lat, true
}

// geoUnit returns how many metres one unit is, or replies with the error.
func geoUnit(c *command.Ctx, u []byte) (float64, bool) {
	switch {
	case strKW(u, "M"):
		return 1, true
	case strKW(u, "KM"):
		return 1000, true
	case strKW(u, "FT"):
		return 0.3048, true
	case strKW(u, "MI"):
		return 1609.34, true
	}
	c.Error(errGeoUnit)
	return 0, false
}

// geoRadius parses "<radius> <unit>".
func geoRadius(c *command.Ctx, args [][]byte, s *geohash.Shape) bool {
	r, ok := zparseFloat(args[0])
	if !ok {
		c.Error(errGeoRadiusNum)
		return false
	}
	if r < 0 {
		c.Error(errGeoRadiusNeg)
		return false
	}
	conv, ok := geoUnit(c, args[1])
	if !ok {
		return false
	}
	s.Box, s.Radius, s.Conversion = false, r, conv
	return true
}

// geoBox parses "<width> <height> <unit>".
func geoBox(c *command.Ctx, args [][]byte, s *geohash.Shape) bool {
	w, ok := zparseFloat(args[0])
	if !ok {
		c.Error(errGeoWidthNum)
		return false
	}
	h, ok := zparseFloat(args[1])
	if !ok {
		c.Error(errGeoHeightNum)
		return false
	}
	if h < 0 || w < 0 {
		c.Error(errGeoBoxNeg)
		return false
	}
	conv, ok := geoUnit(c, args[2])
	if !ok {
		return false
	}
	s.Box, s.Width, s.Height, s.Conversion = true, w, h, conv
	return true
}

// geoMemberPos returns the position of a member of z.
func geoMemberPos(z *zval, m []byte) (lon, lat float64, ok bool) {
	score, ok := z.score(m)
	if !ok {
		return 0, 0, false
	}
	return geohash.DecodeScore(score)
}

// ---- reply helpers ----

// geoAppendHuman formats a coordinate as Redis's addReplyHumanLongDouble:
// 17 decimals, trailing zeros and a trailing dot removed, "-0" as "0".
func geoAppendHuman(dst []byte, f float64) []byte {
	start := len(dst)
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		return append(dst, "nan"...)
	}
	dst = strconv.AppendFloat(dst, f, 'f', 17, 64)
	for dst[len(dst)-1] == '0' {
		dst = dst[:len(dst)-1]
	}
	if dst[len(dst)-1] == '.' {
		dst = dst[:len(dst)-1]
	}
	if string(dst[start:]) == "-0" {
		dst = append(dst[:start], '0')
	}
	return dst
}

// geoReplyHuman replies with a coordinate: a bulk string in RESP2, a
// double in RESP3, both with the human formatting.
func geoReplyHuman(c *command.Ctx, f float64) {
	var tmp [48]byte
	s := geoAppendHuman(tmp[:0], f)
	if c.W.Proto >= 3 {
		c.W.RawString(",")
		c.W.Raw(s)
		c.W.RawString("\r\n")
		return
	}
	c.W.Bulk(s)
}

// geoAppendDistance formats a distance with four decimals, rounding as
// Redis's fixedpoint_d2string (llrint of the value times 10^4).
func geoAppendDistance(dst []byte, d float64) []byte {
	v := int64(math.RoundToEven(d * 10000))
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	dst = strconv.AppendInt(dst, v/10000, 10)
	frac := v % 10000
	return append(dst, '.', byte('0'+frac/1000), byte('0'+frac/100%10), byte('0'+frac/10%10), byte('0'+frac%10))
}

// geoReplyDistance replies with a distance as a bulk string (in RESP3
// too, as Redis does).
func geoReplyDistance(c *command.Ctx, d float64) {
	var tmp [48]byte
	c.W.Bulk(geoAppendDistance(tmp[:0], d))
}

// ---- GEOADD, GEOPOS, GEODIST, GEOHASH ----

// geoaddCommand turns the points into 52-bit scores and hands the result
// to ZADD, as Redis does, so that NX/XX/CH and encoding conversions behave
// exactly like ZADD's.
func geoaddCommand(c *command.Ctx) {
	args := c.Args
	idx := 2
	var nx, xx bool
	for ; idx < len(args); idx++ {
		switch a := args[idx]; {
		case strKW(a, "NX"):
			nx = true
		case strKW(a, "XX"):
			xx = true
		case strKW(a, "CH"):
		default:
			goto parsed
		}
	}
parsed:
	if (len(args)-idx)%3 != 0 || (xx && nx) {
		c.Error(command.ErrSyntax)
		return
	}
	elements := (len(args) - idx) / 3
	zargs := make([][]byte, idx+2*elements)
	zargs[0] = []byte("zadd")
	copy(zargs[1:idx], args[1:idx])
	scores := make([]byte, 0, elements*17)
	for i := 0; i < elements; i++ {
		p := idx + 3*i
		lon, lat, ok := geoLonLat(c, args[p], args[p+1])
		if !ok {
			return
		}
		score, _ := geohash.Score(lon, lat)
		start := len(scores)
		scores = strconv.AppendUint(scores, score, 10)
		zargs[idx+2*i] = scores[start:len(scores):len(scores)]
		zargs[idx+2*i+1] = args[p+2]
	}
	saved := c.Args
	c.Args = zargs
	zaddGeneric(c, false)
	c.Args = saved
}

func geoposCommand(c *command.Ctx) {
	z, ok := zget(c, c.Args[1], true)
	if !ok {
		return
	}
	if z != nil {
		defer z.release()
	}
	c.W.ArrayLen(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		var lon, lat float64
		found := false
		if z != nil {
			lon, lat, found = geoMemberPos(z, m)
		}
		if !found {
			c.W.NullArray()
			continue
		}
		c.W.ArrayLen(2)
		geoReplyHuman(c, lon)
		geoReplyHuman(c, lat)
	}
}

func geodistCommand(c *command.Ctx) {
	toMeter := 1.0
	if len(c.Args) == 5 {
		var ok bool
		if toMeter, ok = geoUnit(c, c.Args[4]); !ok {
			return
		}
	} else if len(c.Args) > 5 {
		c.Error(command.ErrSyntax)
		return
	}
	z, ok := zget(c, c.Args[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.W.Null()
		return
	}
	defer z.release()
	lon1, lat1, ok1 := geoMemberPos(z, c.Args[2])
	lon2, lat2, ok2 := geoMemberPos(z, c.Args[3])
	if !ok1 || !ok2 {
		c.W.Null()
		return
	}
	geoReplyDistance(c, geohash.Distance(lon1, lat1, lon2, lat2)/toMeter)
}

func geohashCommand(c *command.Ctx) {
	z, ok := zget(c, c.Args[1], true)
	if !ok {
		return
	}
	if z != nil {
		defer z.release()
	}
	c.W.ArrayLen(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		if z == nil {
			c.W.Null()
			continue
		}
		score, found := z.score(m)
		if !found {
			c.W.Null()
			continue
		}
		h, ok := geohash.String(score)
		if !ok {
			c.W.Null()
			continue
		}
		c.W.BulkString(h)
	}
}

// ---- GEOSEARCH, GEOSEARCHSTORE, GEORADIUS* ----

// Variants of the search command, as Redis's georadiusGeneric flags.
const (
	geoFromCoords  = 1 << iota // GEORADIUS: centre given as lon lat
	geoFromMember              // GEORADIUSBYMEMBER: centre is a member
	geoNoStore                 // the _RO variants: no STORE/STOREDIST
	geoSearch                  // GEOSEARCH syntax (FROM…/BY… options)
	geoSearchStore             // GEOSEARCHSTORE: destination first, STOREDIST flag
)

const (
	geoSortNone = iota
	geoSortAsc
	geoSortDesc
)

func georadiusCommand(c *command.Ctx)         { geoSearchGeneric(c, 1, geoFromCoords) }
func georadiusbymemberCommand(c *command.Ctx) { geoSearchGeneric(c, 1, geoFromMember) }
func georadiusroCommand(c *command.Ctx)       { geoSearchGeneric(c, 1, geoFromCoords|geoNoStore) }
func georadiusbymemberroCommand(c *command.Ctx) {
	geoSearchGeneric(c, 1, geoFromMember|geoNoStore)
}
func geosearchCommand(c *command.Ctx) { geoSearchGeneric(c, 1, geoSearch) }
func geosearchstoreCommand(c *command.Ctx) {
	geoSearchGeneric(c, 2, geoSearch|geoSearchStore)
}

// geoPoint is one search result; its member is arena[off:off+n].
type geoPoint struct {
	lon, lat, dist, score float64
	off, n                int
}

// geoResults collects search results. Members are copied into one arena
// because a store may overwrite the source key they would otherwise alias.
type geoResults struct {
	pts   []geoPoint
	arena []byte
}

func (r *geoResults) member(p *geoPoint) []byte { return r.arena[p.off : p.off+p.n] }

// geoScanBox appends the members of z whose scores fall in box h and which
// lie inside the shape, stopping once limit results exist (0: no limit).
func geoScanBox(z *zval, h geohash.Bits, s *geohash.Shape, r *geoResults, limit int) {
	lo64, hi64 := geohash.ScoreRange(h)
	lo, hi := float64(lo64), float64(hi64)
	first := z.search(func(sc float64, _ []byte) bool { return sc >= lo })
	end := z.search(func(sc float64, _ []byte) bool { return sc >= hi })
	if end <= first {
		return
	}
	done := false
	z.walk(first, end-first, false, func(m []byte, sc float64) {
		if done {
			return
		}
		lon, lat, ok := geohash.DecodeScore(sc)
		if ok {
			if dist, in := s.Within(lon, lat); in {
				off := len(r.arena)
				r.arena = append(r.arena, m...)
				r.pts = append(r.pts, geoPoint{lon: lon, lat: lat, dist: dist, score: sc, off: off, n: len(m)})
			}
		}
		if len(r.pts) > 0 && limit > 0 && len(r.pts) >= limit {
			done = true
		}
	})
}

// geoScan searches the nine boxes covering the shape, in Redis's order,
// skipping a box equal to the one scanned just before (huge radiuses make
// neighbours coincide).
func geoScan(z *zval, s *geohash.Shape, limit int) *geoResults {
	cov := geohash.Cover(s)
	boxes := cov.Boxes()
	r := &geoResults{}
	last := 0 // as in Redis, 0 also means "none yet": the centre is never compared
	for i, b := range boxes {
		if b.IsZero() {
			continue
		}
		if last != 0 && b == boxes[last] {
			continue
		}
		if len(r.pts) > 0 && limit > 0 && len(r.pts) >= limit {
			break
		}
		geoScanBox(z, b, s, r, limit)
		last = i
	}
	return r
}

// geoSearchGeneric is Redis's georadiusGeneric: srcIdx is the source
// key's argument index. Arguments are checked in Redis's order (the key's
// type first), so that the same bad command gets the same error.
func geoSearchGeneric(c *command.Ctx, srcIdx int, flags int) {
	args := c.Args
	z, ok := zget(c, args[srcIdx], true)
	if !ok {
		return
	}
	if z != nil {
		defer z.release()
	}

	var shape geohash.Shape
	var storeKey []byte
	storeDist := false
	var base int
	switch {
	case flags&geoFromCoords != 0:
		base = 6
		if shape.Lon, shape.Lat, ok = geoLonLat(c, args[2], args[3]); !ok {
			return
		}
		if !geoRadius(c, args[4:6], &shape) {
			return
		}
	case flags&geoFromMember != 0:
		base = 5
		// A missing key still parses the options, to pick the reply.
		if z != nil {
			if shape.Lon, shape.Lat, ok = geoMemberPos(z, args[2]); !ok {
				c.Error(errGeoMember)
				return
			}
			if !geoRadius(c, args[3:5], &shape) {
				return
			}
		}
	default:
		base = 2
		if flags&geoSearchStore != 0 {
			base = 3
			storeKey = args[1]
		}
	}

	var withDist, withHash, withCoord, anyN bool
	var fromMember, fromLoc, byRadius, byBox bool
	sort := geoSortNone
	var count int64
	search := flags&geoSearch != 0
	canStore := flags&(geoNoStore|geoSearch) == 0
	for i := base; i < len(args); i++ {
		a := args[i]
		left := len(args) - i - 1 // arguments after this one
		switch {
		case strKW(a, "WITHDIST"):
			withDist = true
		case strKW(a, "WITHHASH"):
			withHash = true
		case strKW(a, "WITHCOORD"):
			withCoord = true
		case strKW(a, "ANY"):
			anyN = true
		case strKW(a, "ASC"):
			sort = geoSortAsc
		case strKW(a, "DESC"):
			sort = geoSortDesc
		case strKW(a, "COUNT") && left >= 1:
			n, ok := resp.ParseInt(args[i+1])
			if !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			if n <= 0 {
				c.Error(errGeoCount)
				return
			}
			count = n
			i++
		case strKW(a, "STORE") && left >= 1 && canStore:
			storeKey, storeDist = args[i+1], false
			i++
		case strKW(a, "STOREDIST") && left >= 1 && canStore:
			storeKey, storeDist = args[i+1], true
			i++
		case strKW(a, "STOREDIST") && flags&geoSearchStore != 0:
			storeDist = true
		case strKW(a, "FROMMEMBER") && left >= 1 && search && !fromLoc:
			if z != nil {
				if shape.Lon, shape.Lat, ok = geoMemberPos(z, args[i+1]); !ok {
					c.Error(errGeoMember)
					return
				}
			}
			fromMember = true
			i++
		case strKW(a, "FROMLONLAT") && left >= 2 && search && !fromMember:
			if shape.Lon, shape.Lat, ok = geoLonLat(c, args[i+1], args[i+2]); !ok {
				return
			}
			fromLoc = true
			i += 2
		case strKW(a, "BYRADIUS") && left >= 2 && search && !byBox:
			if !geoRadius(c, args[i+1:i+3], &shape) {
				return
			}
			byRadius = true
			i += 2
		case strKW(a, "BYBOX") && left >= 3 && search && !byRadius:
			if !geoBox(c, args[i+1:i+4], &shape) {
				return
			}
			byBox = true
			i += 3
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}

	if storeKey != nil && (withDist || withHash || withCoord) {
		if flags&geoSearchStore != 0 {
			c.Error(errGeoStoreSearch)
		} else {
			c.Error(errGeoStoreRadius)
		}
		return
	}
	if search && !(fromMember || fromLoc) {
		c.Error("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + string(args[0]))
		return
	}
	if search && !(byRadius || byBox) {
		c.Error("ERR exactly one of BYRADIUS and BYBOX can be specified for " + string(args[0]))
		return
	}
	if anyN && count == 0 {
		c.Error(errGeoAnyCount)
		return
	}

	if z == nil {
		if storeKey != nil {
			if c.DB.Delete(storeKey) {
				c.Dirty++
			}
			c.W.Int(0)
		} else {
			c.W.ArrayLen(0)
		}
		return
	}

	// COUNT means "the nearest N": sort unless ANY asked for any N.
	if count != 0 && sort == geoSortNone && !anyN {
		sort = geoSortAsc
	}
	limit := 0
	if anyN {
		limit = int(min(count, math.MaxInt32))
	}
	res := geoScan(z, &shape, limit)

	if len(res.pts) == 0 && storeKey == nil {
		c.W.ArrayLen(0)
		return
	}
	n := len(res.pts)
	if count != 0 && int64(n) > count {
		n = int(count)
	}
	switch sort {
	case geoSortAsc:
		slices.SortStableFunc(res.pts, func(a, b geoPoint) int { return geoCmpDist(a.dist, b.dist) })
	case geoSortDesc:
		slices.SortStableFunc(res.pts, func(a, b geoPoint) int { return geoCmpDist(b.dist, a.dist) })
	}
	pts := res.pts[:n]

	if storeKey == nil {
		opts := 0
		for _, b := range []bool{withDist, withCoord, withHash} {
			if b {
				opts++
			}
		}
		c.W.ArrayLen(n)
		for i := range pts {
			p := &pts[i]
			if opts > 0 {
				c.W.ArrayLen(opts + 1)
			}
			c.W.Bulk(res.member(p))
			if withDist {
				geoReplyDistance(c, p.dist/shape.Conversion)
			}
			if withHash {
				c.W.Int(int64(p.score))
			}
			if withCoord {
				c.W.ArrayLen(2)
				geoReplyHuman(c, p.lon)
				geoReplyHuman(c, p.lat)
			}
		}
		return
	}

	maxLen := 0
	for i := range pts {
		maxLen = max(maxLen, pts[i].n)
	}
	dst := zresult(c, n, maxLen)
	defer dst.release()
	for i := range pts {
		p := &pts[i]
		m := res.member(p)
		score := p.score
		if storeDist {
			score = p.dist / shape.Conversion
		}
		// The nine boxes never overlap, but a duplicate must not corrupt
		// the destination if they ever did.
		if _, dup := dst.score(m); dup {
			continue
		}
		dst.insert(m, score)
	}
	stored := dst.storeNew(c, storeKey)
	if stored > 1 {
		c.Dirty += int64(stored - 1) // Redis counts one change per member stored
	}
	c.W.Int(int64(n))
}

// geoCmpDist orders distances as Redis's sort callback does.
func geoCmpDist(a, b float64) int {
	switch {
	case a > b:
		return 1
	case a == b:
		return 0
	}
	return -1
}
