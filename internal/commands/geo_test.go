package commands_test

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/ds/geohash"
	"github.com/corvid-db/corvid/internal/testutil"
)

// The expected replies below were captured from redis-server.

func gSicily(t *testing.T) (*testutil.Instance, func(want any, args ...any)) {
	t.Helper()
	inst, c := kStart(t)
	expect := func(want any, args ...any) { t.Helper(); kExpect(t, c, want, args...) }
	expect(2, "geoadd", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")
	return inst, expect
}

func TestGeoAddAndScores(t *testing.T) {
	t.Parallel()
	_, expect := gSicily(t)
	// Scores are Redis's 52-bit geohashes.
	expect([]any{"Palermo", "3479099956230698", "Catania", "3479447370796909"}, "zrange", "Sicily", "0", "-1", "withscores")
	expect(0, "geoadd", "Sicily", "13.361389", "38.115556", "Palermo")
	expect(1, "geoadd", "Sicily", "ch", "13.361389", "38.115556", "Palermo", "15", "37", "Catania")
	expect(0, "geoadd", "Sicily", "nx", "1", "1", "Palermo")
	expect(0, "geoadd", "Sicily", "xx", "1", "1", "New")
	expect(1, "geoadd", "Sicily", "xx", "ch", "15.087269", "37.502669", "Catania")
	expect(2, "zcard", "Sicily")
	expect(kErr("ERR syntax error"), "geoadd", "Sicily", "xx", "nx", "1", "1", "a")
	expect(kErr("ERR syntax error"), "geoadd", "Sicily", "1", "1", "a", "2")
	expect(kErr("ERR syntax error"), "geoadd", "Sicily", "nx", "ch", "xx")
	expect(kErr("ERR wrong number of arguments for 'geoadd' command"), "geoadd", "Sicily", "1", "2")
	expect(kErr("ERR invalid longitude,latitude pair 1.000000,100.000000"), "geoadd", "Sicily", "1", "100", "a")
	expect(kErr("ERR invalid longitude,latitude pair -180.500000,0.000000"), "geoadd", "Sicily", "-180.5", "0", "a")
	expect(kErr("ERR invalid longitude,latitude pair 1.000000,inf"), "geoadd", "Sicily", "1", "inf", "a")
	expect(kErr("ERR value is not a valid float"), "geoadd", "Sicily", "1", "abc", "a")
	// A bad pair anywhere adds nothing.
	expect(kErr("ERR invalid longitude,latitude pair 0.000000,90.000000"), "geoadd", "Sicily", "1", "1", "x", "0", "90", "y")
	expect(2, "zcard", "Sicily")
	expect("OK", "set", "str", "x")
	expect(kErr("WRONGTYPE Operation against a key holding the wrong kind of value"), "geoadd", "str", "1", "1", "a")
	// The extremes of the indexable area.
	expect(3, "geoadd", "edge", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw", "0", "0", "zero")
	expect([]any{"sw", "0", "zero", "3377699720527872", "ne", "13510798882111488"}, "zrange", "edge", "0", "-1", "withscores")
	expect([]any{
		[]any{"180", "85.0511287799999991"},
		[]any{"-179.99999731779098511", "-85.05112751263942528"},
		[]any{"0.00000268220901489", "0.00000126736058093"},
	}, "geopos", "edge", "ne", "sw", "zero")
	expect([]any{"bp05b5048p0", "00bh0hbj200", "s0000000000"}, "geohash", "edge", "ne", "sw", "zero")
}

func TestGeoPosDistHash(t *testing.T) {
	t.Parallel()
	_, expect := gSicily(t)
	expect([]any{
		[]any{"13.36138933897018433", "38.11555639549629859"},
		[]any{"15.08726745843887329", "37.50266842333162032"},
		nil,
	}, "geopos", "Sicily", "Palermo", "Catania", "nope")
	expect([]any{nil, nil}, "geopos", "nokey", "a", "b")
	expect([]any{}, "geopos", "Sicily")
	expect("166274.1516", "geodist", "Sicily", "Palermo", "Catania")
	expect("166274.1516", "geodist", "Sicily", "Palermo", "Catania", "M")
	expect("166.2742", "geodist", "Sicily", "Palermo", "Catania", "km")
	expect("103.3182", "geodist", "Sicily", "Palermo", "Catania", "mi")
	expect("545518.8700", "geodist", "Sicily", "Palermo", "Catania", "FT")
	expect("0.0000", "geodist", "Sicily", "Palermo", "Palermo")
	expect(nil, "geodist", "Sicily", "Palermo", "nope")
	expect(nil, "geodist", "nokey", "a", "b")
	expect(kErr("ERR unsupported unit provided. please use M, KM, FT, MI"), "geodist", "Sicily", "Palermo", "Catania", "yd")
	expect(kErr("ERR unsupported unit provided. please use M, KM, FT, MI"), "geodist", "nokey", "a", "b", "yd")
	expect(kErr("ERR syntax error"), "geodist", "Sicily", "Palermo", "Catania", "km", "x")
	expect(kErr("ERR wrong number of arguments for 'geodist' command"), "geodist", "Sicily", "Palermo")
	expect([]any{"sqc8b49rny0", "sqdtr74hyu0", nil}, "geohash", "Sicily", "Palermo", "Catania", "nope")
	expect([]any{nil}, "geohash", "nokey", "a")
	expect("OK", "set", "str", "x")
	wt := kErr("WRONGTYPE Operation against a key holding the wrong kind of value")
	expect(wt, "geopos", "str", "a")
	expect(wt, "geohash", "str", "a")
	expect(wt, "geodist", "str", "a", "b")
	expect(wt, "geosearch", "str", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km")
	expect(wt, "georadius", "str", "0", "0", "1", "km")
}

func TestGeoRadius(t *testing.T) {
	t.Parallel()
	_, expect := gSicily(t)
	expect(1, "geoadd", "Sicily", "ch", "15", "37", "Catania")
	expect([]any{
		[]any{"Catania", "0.0001", int64(3476504601741708), []any{"14.99999910593032837", "37.00000026605963654"}},
		[]any{"Palermo", "190.4424", int64(3479099956230698), []any{"13.36138933897018433", "38.11555639549629859"}},
	}, "georadius", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH", "ASC")
	expect([]any{[]any{"Palermo", "190.4424"}, []any{"Catania", "0.0001"}}, "georadius", "Sicily", "15", "37", "200", "km", "withdist", "desc")
	expect([]any{"Catania"}, "georadius", "Sicily", "15", "37", "200", "km", "COUNT", "1")
	expect([]any{"Palermo"}, "georadius", "Sicily", "15", "37", "200", "km", "COUNT", "1", "DESC")
	expect([]any{"Catania"}, "georadius", "Sicily", "15", "37", "100", "km")
	expect([]any{}, "georadius", "Sicily", "0", "0", "100", "km")
	expect([]any{}, "georadius", "nokey", "0", "0", "100", "km")
	expect([]any{[]any{"Palermo", "0.0000"}}, "georadiusbymember", "Sicily", "Palermo", "100", "km", "WITHDIST")
	expect([]any{"Palermo"}, "georadiusbymember_ro", "Sicily", "Palermo", "100", "km")
	expect([]any{"Catania"}, "georadius_ro", "Sicily", "15", "37", "100", "km")

	// Errors, in Redis's order.
	expect(kErr("ERR COUNT must be > 0"), "georadius", "Sicily", "15", "37", "200", "km", "COUNT", "0")
	expect(kErr("ERR value is not an integer or out of range"), "georadius", "Sicily", "15", "37", "200", "km", "COUNT", "x")
	expect(kErr("ERR syntax error"), "georadius", "Sicily", "15", "37", "200", "km", "COUNT")
	expect(kErr("ERR the ANY argument requires COUNT argument"), "georadius", "Sicily", "15", "37", "200", "km", "ANY")
	expect(kErr("ERR radius cannot be negative"), "georadius", "Sicily", "15", "37", "-200", "km")
	expect(kErr("ERR need numeric radius"), "georadius", "Sicily", "15", "37", "abc", "km")
	expect(kErr("ERR unsupported unit provided. please use M, KM, FT, MI"), "georadius", "Sicily", "15", "37", "200", "yd")
	expect(kErr("ERR invalid longitude,latitude pair 200.000000,37.000000"), "georadius", "Sicily", "200", "37", "200", "km")
	expect(kErr("ERR could not decode requested zset member"), "georadiusbymember", "Sicily", "nope", "200", "km")
	// A missing key skips the member and radius checks.
	expect([]any{}, "georadiusbymember", "nokey", "nope", "-200", "km")
	expect(kErr("ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"),
		"georadius", "Sicily", "15", "37", "200", "km", "STORE", "dst", "WITHDIST")
	expect(kErr("ERR syntax error"), "georadius_ro", "Sicily", "15", "37", "200", "km", "STORE", "dst")
	expect(kErr("ERR syntax error"), "georadiusbymember_ro", "Sicily", "Palermo", "200", "km", "STOREDIST", "dst")
	expect(kErr("ERR wrong number of arguments for 'georadius' command"), "georadius", "Sicily", "15", "37", "200")

	// STORE keeps the geohash scores, STOREDIST the distances in the unit.
	expect(2, "georadius", "Sicily", "15", "37", "200", "km", "STORE", "dst")
	expect([]any{"Catania", "3476504601741708", "Palermo", "3479099956230698"}, "zrange", "dst", "0", "-1", "withscores")
	expect(1, "georadius", "Sicily", "15", "37", "200", "km", "STOREDIST", "dst", "COUNT", "1")
	expect([]any{"Catania"}, "zrange", "dst", "0", "-1")
	expect("190.4424", "geodist", "Sicily", "Catania", "Palermo", "km")
	expect(0, "georadius", "Sicily", "0", "0", "1", "km", "STORE", "dst")
	expect(0, "exists", "dst")
	expect("OK", "set", "dst", "x")
	expect(0, "georadiusbymember", "nokey", "x", "1", "km", "STORE", "dst")
	expect(0, "exists", "dst")
}

func TestGeoSearch(t *testing.T) {
	t.Parallel()
	_, expect := gSicily(t)
	expect([]any{"Catania", "Palermo"}, "geosearch", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC")
	expect([]any{
		[]any{"Catania", "56.4413", []any{"15.08726745843887329", "37.50266842333162032"}},
		[]any{"Palermo", "190.4424", []any{"13.36138933897018433", "38.11555639549629859"}},
	}, "geosearch", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC", "WITHCOORD", "WITHDIST")
	expect([]any{[]any{"Catania", int64(3479447370796909)}, []any{"Palermo", int64(3479099956230698)}},
		"geosearch", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km", "DESC", "WITHHASH")
	// A narrow box: Catania is 166 km away, 150 km east and 68 km south.
	expect([]any{"Palermo"}, "geosearch", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "400", "100", "km")
	expect([]any{"Palermo", "Catania"}, "geosearch", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "400", "140", "km", "ASC")
	expect([]any{"Palermo"}, "geosearch", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "500", "km", "COUNT", "1", "ANY")

	name := "GeoSearch"
	expect(kErr("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for "+name), name, "Sicily", "BYBOX", "1", "1", "km", "ASC")
	expect(kErr("ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch"), "geosearch", "Sicily", "FROMMEMBER", "Palermo", "ASC", "WITHDIST", "WITHHASH")
	expect(kErr("ERR syntax error"), "geosearch", "Sicily", "FROMMEMBER", "Palermo", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "km")
	expect(kErr("ERR syntax error"), "geosearch", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "BYBOX", "1", "1", "km")
	expect(kErr("ERR syntax error"), "geosearch", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "STORE", "x")
	expect(kErr("ERR syntax error"), "geosearch", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "STOREDIST")
	expect(kErr("ERR height or width cannot be negative"), "geosearch", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "-1", "1", "km")
	expect(kErr("ERR need numeric width"), "geosearch", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "a", "1", "km")
	expect(kErr("ERR need numeric height"), "geosearch", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "1", "a", "km")
	expect(kErr("ERR unsupported unit provided. please use M, KM, FT, MI"), "geosearch", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "1", "1", "yd")
	expect(kErr("ERR could not decode requested zset member"), "geosearch", "Sicily", "FROMMEMBER", "nope", "BYBOX", "1", "1", "km")
	expect(kErr("ERR the ANY argument requires COUNT argument"), "geosearch", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "10", "km", "ANY")
	expect([]any{}, "geosearch", "nokey", "FROMMEMBER", "nope", "BYBOX", "1", "1", "km")
	expect(kErr("ERR wrong number of arguments for 'geosearch' command"), "geosearch", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1")

	expect(2, "geosearchstore", "dst", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km", "STOREDIST")
	expect([]any{"Palermo", "0", "Catania", "166.27415156960032"}, "zrange", "dst", "0", "-1", "withscores")
	expect(1, "geosearchstore", "dst", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km", "COUNT", "1")
	expect([]any{"Palermo", "3479099956230698"}, "zrange", "dst", "0", "-1", "withscores")
	expect(kErr("ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"),
		"geosearchstore", "dst", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km", "WITHDIST")
	expect(0, "geosearchstore", "dst", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km")
	expect(0, "exists", "dst")
	expect("OK", "set", "dst", "x")
	expect(0, "geosearchstore", "dst", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km")
	expect(0, "exists", "dst")
	// Source and destination may be the same key.
	expect(1, "geosearchstore", "Sicily", "Sicily", "FROMMEMBER", "Catania", "BYRADIUS", "10", "km")
	expect([]any{"Catania"}, "zrange", "Sicily", "0", "-1")
}

// TestGeoCommandKeys checks the movable STORE key of GEORADIUS.
func TestGeoCommandKeys(t *testing.T) {
	t.Parallel()
	_, c := kStart(t)
	kExpect(t, c, []any{"src", "dst"}, "command", "getkeys", "georadius", "src", "1", "1", "1", "km", "STORE", "dst")
	kExpect(t, c, []any{"src", "dst"}, "command", "getkeys", "georadiusbymember", "src", "m", "1", "km", "storedist", "dst")
	kExpect(t, c, []any{"dst", "src"}, "command", "getkeys", "geosearchstore", "dst", "src", "FROMMEMBER", "m", "BYRADIUS", "1", "km")
	info := kDo(t, c, "command", "info", "georadius").([]any)[0].([]any)
	if !slices.Contains(info[2].([]any), any("movablekeys")) {
		t.Errorf("georadius flags %v lack movablekeys", info[2])
	}
}

// TestGeoRESP3 checks the wire format: coordinates are doubles, distances
// stay bulk strings.
func TestGeoRESP3(t *testing.T) {
	t.Parallel()
	inst, c := kStart(t)
	kExpect(t, c, 1, "geoadd", "k", "13.361389", "38.115556", "Palermo")
	r := inst.Raw(t)
	if _, err := r.Do("HELLO", "3"); err != nil {
		t.Fatal(err)
	}
	read := func(cmd ...string) string {
		t.Helper()
		if err := r.Send(cmd...); err != nil {
			t.Fatal(err)
		}
		// Replies here are small; read until the connection is quiet.
		var b strings.Builder
		_ = r.Conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		br := bufio.NewReader(r.R)
		for {
			line, err := br.ReadString('\n')
			b.WriteString(line)
			if err != nil {
				break
			}
		}
		return b.String()
	}
	if got, want := read("GEOPOS", "k", "Palermo", "x"), "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"; got != want {
		t.Errorf("GEOPOS RESP3 = %q want %q", got, want)
	}
	if got, want := read("GEOSEARCH", "k", "FROMLONLAT", "13", "38", "BYRADIUS", "100", "km", "WITHDIST"), "*1\r\n*2\r\n$7\r\nPalermo\r\n$7\r\n34.1601\r\n"; got != want {
		t.Errorf("GEOSEARCH RESP3 = %q want %q", got, want)
	}
}

// TestGeoSearchModel compares GEOSEARCH with a brute-force scan over
// random points, in both encodings.
func TestGeoSearchModel(t *testing.T) {
	t.Parallel()
	_, c := kStart(t)
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{50, 1000} {
		key := "pts" + strconv.Itoa(n)
		type pt struct {
			name     string
			lon, lat float64
		}
		var pts []pt
		args := []any{"geoadd", key}
		clon, clat := r.Float64()*300-150, r.Float64()*140-70
		for i := 0; i < n; i++ {
			p := pt{fmt.Sprintf("p%d", i), clon + (r.Float64()*2-1)*3, clat + (r.Float64()*2-1)*3}
			p.lat = max(min(p.lat, 85), -85)
			pts = append(pts, p)
			args = append(args, strconv.FormatFloat(p.lon, 'f', -1, 64), strconv.FormatFloat(p.lat, 'f', -1, 64), p.name)
		}
		kExpect(t, c, n, args...)
		for q := 0; q < 40; q++ {
			radius := r.Float64() * 300
			shape := geohash.Shape{Lon: clon + (r.Float64()*2-1)*2, Lat: clat + (r.Float64()*2-1)*2, Conversion: 1000}
			var cmd []any
			lonS, latS := strconv.FormatFloat(shape.Lon, 'f', -1, 64), strconv.FormatFloat(shape.Lat, 'f', -1, 64)
			if q%2 == 0 {
				shape.Radius = radius
				cmd = []any{"geosearch", key, "FROMLONLAT", lonS, latS, "BYRADIUS", strconv.FormatFloat(radius, 'f', -1, 64), "km", "ASC"}
			} else {
				shape.Box, shape.Width, shape.Height = true, radius*2, radius
				cmd = []any{"geosearch", key, "FROMLONLAT", lonS, latS, "BYBOX",
					strconv.FormatFloat(radius*2, 'f', -1, 64), strconv.FormatFloat(radius, 'f', -1, 64), "km", "ASC"}
			}
			type hit struct {
				name string
				d    float64
			}
			var want []hit
			for _, p := range pts {
				sc, _ := geohash.Score(p.lon, p.lat)
				plon, plat, _ := geohash.DecodeScore(float64(sc))
				if d, in := shape.Within(plon, plat); in {
					want = append(want, hit{p.name, d})
				}
			}
			slices.SortStableFunc(want, func(a, b hit) int {
				if a.d != b.d {
					if a.d < b.d {
						return -1
					}
					return 1
				}
				return 0
			})
			got := kDo(t, c, cmd...).([]any)
			if len(got) != len(want) {
				t.Fatalf("%v: %d results, want %d", cmd, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i].name && math.Abs(want[i].d-want[max(i-1, 0)].d) > 1e-9 {
					t.Fatalf("%v: result %d = %v want %v", cmd, i, got[i], want[i].name)
				}
			}
		}
	}
}
