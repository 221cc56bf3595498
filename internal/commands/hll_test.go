package commands_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// The expected bytes, digests and counts below were captured from
// redis-server 7.0, whose HyperLogLog format is the same as 7.2's.

func hllElems(prefix string, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func TestPFAddAndCount(t *testing.T) {
	t.Parallel()
	_, c := kStart(t)
	expect := func(want any, args ...any) { t.Helper(); kExpect(t, c, want, args...) }
	expect(1, "pfadd", "hll")
	expect(1, "exists", "hll")
	expect("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff", "get", "hll")
	expect(0, "pfcount", "hll")
	// PFCOUNT stores the cardinality it computed: the stale bit is gone.
	expect("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff", "get", "hll")
	expect(1, "pfadd", "hll", "a", "b", "c")
	expect("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80`\xf3\x80P\xb1\x84K\xfb\x80BZ", "get", "hll")
	expect(0, "pfadd", "hll", "a", "b", "c")
	expect(3, "pfcount", "hll")
	expect("HYLL\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00`\xf3\x80P\xb1\x84K\xfb\x80BZ", "get", "hll")
	expect(0, "pfadd", "hll", "a")
	expect("\x00", "getrange", "hll", "15", "15")
	expect(1, "pfadd", "hll", "1", "2", "3")
	expect("\x80", "getrange", "hll", "15", "15")
	expect(1, "pfadd", "hll", "")
	expect(0, "pfcount", "nokey")

	// A sparse sketch of 200 elements, byte for byte.
	expect(1, append([]any{"pfadd", "s"}, hllElems("e", 200)...)...)
	expect(200, "pfcount", "s")
	want, _ := hex.DecodeString("48594c4c01000000c800000000000000368421801980409f8408a40e88409084406c9c0190018812883884409480411c8817884055800080407a80411d8812804075800d842a8040638440768c404684414880098040d5800980409480407e9040738040628440a280408384405d84148040cb8407840d8040f080405e80068427844081803c844047840780404e80408f84039404844043840c842684406e80407380404084409d84198019802a8441028c088441298010801c884060801080404b8c4052881b8040b080406e8040bc802b8c40f58040618c1a840380407e80408080404580088440fd80405a80406684409f8040468c108c018401841e8811802384407d8440de84406280308812844065840784198040de84404684408b8814802988008402800a8840578041a79011842e844070801f840180189440f98440848c168421813c881d801380368410804089844044804147800380228040b88440bb88404684168040c684404980048440e680404380388c405c80405584409980268005800380405480409e88404c882e8840448040b080198408841f880380405b841b803f804044804055800d88128440d380405988408b800290407e800784407b801d841d8040af8418840f844045803384404f80288440a78440768040578419844048800e9022840a80406a840d8039801380409a8828804046844044")
	expect(string(want), "get", "s")
	expect("sparse", "pfdebug", "encoding", "s")

	// A dense one, by digest.
	expect(1, append([]any{"pfadd", "d"}, hllElems("e", 20000)...)...)
	expect("dense", "pfdebug", "encoding", "d")
	expect(19901, "pfcount", "d")
	v := kDo(t, c, "get", "d").(string)
	if sum := sha256.Sum256([]byte(v)); hex.EncodeToString(sum[:]) != "e0b65a9f0a68fd6067a893468cad7c12075492b4a9ebafeece2765c5d950fac3" || len(v) != 12304 {
		t.Errorf("dense value differs from redis-server's (%d bytes)", len(v))
	}
	expect(1, append([]any{"pfadd", "d2"}, hllElems("f", 1000)...)...)
	expect(20835, "pfcount", "d", "d2", "s")
	expect(20835, "pfcount", "d", "d2", "s", "nokey")

	// A value written by redis-server and SET here counts the same.
	expect("OK", "set", "copy", string(want))
	expect(200, "pfcount", "copy")
	expect("OK", "set", "copy", v)
	expect(19901, "pfcount", "copy")

	// PFADD keeps the key's TTL.
	expect(1, "expire", "s", "1000")
	expect(1, "pfadd", "s", "new-element")
	expect(1000, "ttl", "s")
}

func TestPFErrors(t *testing.T) {
	t.Parallel()
	_, c := kStart(t)
	expect := func(want any, args ...any) { t.Helper(); kExpect(t, c, want, args...) }
	const notHLL = kErr("WRONGTYPE Key is not a valid HyperLogLog string value.")
	const wrongType = kErr("WRONGTYPE Operation against a key holding the wrong kind of value")
	const corrupt = kErr("INVALIDOBJ Corrupted HLL object detected")
	expect(kErr("ERR wrong number of arguments for 'pfadd' command"), "pfadd")
	expect(kErr("ERR wrong number of arguments for 'pfcount' command"), "pfcount")
	expect(kErr("ERR wrong number of arguments for 'pfmerge' command"), "pfmerge")
	expect(kErr("ERR wrong number of arguments for 'pfdebug' command"), "pfdebug", "getreg")
	expect(kErr("ERR wrong number of arguments for 'pfdebug' command"), "pfdebug", "getreg", "a", "b")
	expect(kErr("ERR wrong number of arguments for 'pfselftest' command"), "pfselftest", "x")

	expect(1, "lpush", "list", "a")
	expect(wrongType, "pfadd", "list", "a")
	expect(wrongType, "pfcount", "list")
	expect(wrongType, "pfcount", "nokey", "list")
	expect(wrongType, "pfmerge", "list")
	expect(wrongType, "pfmerge", "dest", "list")
	expect(0, "exists", "dest")
	expect(wrongType, "pfdebug", "encoding", "list")

	expect("OK", "set", "str", "bar")
	expect("OK", "set", "int", "12345")
	for _, k := range []string{"str", "int"} {
		expect(notHLL, "pfadd", k, "a")
		expect(notHLL, "pfcount", k)
		expect(notHLL, "pfcount", k, "nokey")
		expect(notHLL, "pfmerge", k)
		expect(notHLL, "pfmerge", "dest", k)
		expect(notHLL, "pfdebug", "getreg", k)
	}
	expect("bar", "get", "str")

	// Broken magic, unknown encoding, dense with a sparse length.
	expect(1, "pfadd", "h", "a", "b", "c")
	expect(int64(27), "setrange", "h", "0", "0123")
	expect(notHLL, "pfcount", "h")
	expect("OK", "set", "h", "HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff")
	expect(notHLL, "pfcount", "h")
	expect("OK", "set", "h", "HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff")
	expect(notHLL, "pfcount", "h")

	// A sparse value with trailing bytes is detected when decoded.
	expect("OK", "set", "h", "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80`\xf3\x80P\xb1\x84K\xfb\x80BZhello")
	expect(corrupt, "pfcount", "h")
	expect(corrupt, "pfcount", "h", "nokey")
	expect(corrupt, "pfmerge", "dest", "h")
	expect(0, "exists", "dest")
	expect(corrupt, "pfdebug", "getreg", "h")
	expect(corrupt, "pfdebug", "todense", "h")
	expect("sparse", "pfdebug", "encoding", "h")

	expect(kErr("ERR The specified key does not exist"), "pfdebug", "encoding", "nokey")
	expect(1, "pfadd", "ok", "x")
	expect(kErr("ERR Unknown PFDEBUG subcommand 'foo'"), "pfdebug", "foo", "ok")
}

func TestPFMerge(t *testing.T) {
	t.Parallel()
	_, c := kStart(t)
	expect := func(want any, args ...any) { t.Helper(); kExpect(t, c, want, args...) }
	expect(1, "pfadd", "h1", "a", "b", "c")
	expect(1, "pfadd", "h2", "b", "c", "d")
	expect(1, "pfadd", "h3", "c", "d", "e")
	expect("OK", "pfmerge", "h", "h1", "h2", "h3")
	expect(5, "pfcount", "h")
	expect(5, "pfcount", "h1", "h2", "h3")
	expect("sparse", "pfdebug", "encoding", "h")

	// Missing sources give an empty destination.
	expect("OK", "pfmerge", "empty", "missing1", "missing2")
	expect("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff", "get", "empty")
	expect(0, "pfcount", "empty")
	expect("OK", "pfmerge", "alone")
	expect(1, "exists", "alone")

	// The destination is one of the sources.
	expect(1, "pfadd", "self", "a", "b", "c")
	expect("OK", "pfmerge", "self")
	expect(3, "pfcount", "self")

	// Any dense input makes the destination dense.
	expect(1, "pfdebug", "todense", "h3")
	expect(0, "pfdebug", "todense", "h3")
	expect("OK", "pfmerge", "dm", "h1", "h3")
	expect("dense", "pfdebug", "encoding", "dm")
	expect(5, "pfcount", "dm")

	// The merged bytes equal redis-server's.
	expect(1, append([]any{"pfadd", "s"}, hllElems("e", 200)...)...)
	expect(1, append([]any{"pfadd", "d2"}, hllElems("f", 1000)...)...)
	expect("OK", "pfmerge", "m", "s", "d2")
	expect("sparse", "pfdebug", "encoding", "m")
	expect(1210, "pfcount", "m")
	v := kDo(t, c, "get", "m").(string)
	if sum := sha256.Sum256([]byte(v)); hex.EncodeToString(sum[:]) != "58dd5f9c970df64d6fa31ba2d48a71e11bb597829c7e83d66beabbfd20a580da" {
		t.Errorf("merged value differs from redis-server's: %q", v)
	}
}

func TestPFDebugAndPromotion(t *testing.T) {
	t.Parallel()
	_, c := kStart(t)
	expect := func(want any, args ...any) { t.Helper(); kExpect(t, c, want, args...) }
	expect(1, "pfadd", "h", "", "foo", "bar", "12345")
	expect("Z:5938 v:2,1 Z:1409 v:5,1 Z:2658 v:1,1 Z:4696 v:1,1 Z:1679", "pfdebug", "decode", "h")
	regs, ok := kDo(t, c, "pfdebug", "getreg", "h").([]any)
	if !ok || len(regs) != 16384 {
		t.Fatalf("GETREG: %d registers", len(regs))
	}
	want := map[int]int64{5938: 2, 7348: 5, 10007: 1, 14704: 1}
	for i, r := range regs {
		if r.(int64) != want[i] {
			t.Errorf("register %d = %v, want %d", i, r, want[i])
		}
	}
	// GETREG converts the value to dense, as in Redis.
	expect("dense", "pfdebug", "encoding", "h")
	expect(kErr("ERR HLL encoding is not sparse"), "pfdebug", "decode", "h")
	expect(int64(12304), "strlen", "h")
	expect(4, "pfcount", "h")

	// Lowering hll-sparse-max-bytes promotes on the next growth.
	expect("OK", "config", "set", "hll-sparse-max-bytes", "3000")
	expect(1, "pfadd", "p", "a", "b", "c", "d", "e", "d", "g", "h", "i", "j", "k")
	expect("sparse", "pfdebug", "encoding", "p")
	expect("OK", "config", "set", "hll-sparse-max-bytes", "30")
	expect(1, "pfadd", "p", "new_element")
	expect("dense", "pfdebug", "encoding", "p")
	expect("OK", "config", "set", "hll-sparse-max-bytes", "3000")

	// Promotion at the default limit happens between 1000 and 10000.
	n := 0
	for n < 20000 {
		expect(1, append([]any{"pfadd", "grow"}, hllElems(fmt.Sprint("g", n, "-"), 100)...)...)
		n += 100
		enc := kDo(t, c, "pfdebug", "encoding", "grow")
		if n < 1000 && enc != "sparse" || n > 10000 && enc != "dense" {
			t.Fatalf("%d elements: %v", n, enc)
		}
		if ln := kInt(t, c, "strlen", "grow"); enc == "sparse" && ln > 3000 {
			t.Fatalf("sparse value of %d bytes", ln)
		}
	}
	card := kInt(t, c, "pfcount", "grow")
	if d := card - int64(n); d > int64(n)/20 || d < -int64(n)/20 {
		t.Fatalf("estimate %d for %d", card, n)
	}
}

func TestPFCommandInfo(t *testing.T) {
	t.Parallel()
	_, c := kStart(t)
	info := kDo(t, c, "command", "info", "pfcount", "pfadd")
	got := fmt.Sprint(info)
	for _, w := range []string{"pfcount -2 [readonly] 1 -1 1", "pfadd -2 [write denyoom fast] 1 1 1"} {
		if !strings.Contains(got, w) {
			t.Errorf("COMMAND INFO lacks %q: %s", w, got)
		}
	}
}

func TestPFSelfTest(t *testing.T) {
	if testing.Short() {
		t.Skip("adds 10,000,000 elements")
	}
	t.Parallel()
	inst := testutil.Start(t)
	// Ten million additions take seconds, minutes under the race detector.
	c := inst.ClientWith(t, &redis.Options{Protocol: 2, ReadTimeout: 10 * time.Minute})
	kExpect(t, c, "OK", "pfselftest")
}
