package commands_test

import (
	"math/bits"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/corvid-db/corvid/internal/testutil"
)

const (
	bErrOffset   = "ERR bit offset is not an integer or out of range"
	bErrBit      = "ERR bit is not an integer or out of range"
	bErrType     = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
	bErrBitfRO   = "ERR BITFIELD_RO only supports the GET subcommand"
	bErrBitopNot = "ERR BITOP NOT must be called with a single source key."
)

func TestSetbitGetbit(t *testing.T) {
	inst, rdb := strServer(t)
	sWant(t, rdb, int64(0), "SETBIT", "k", "7", "1")
	sWant(t, rdb, int64(1), "SETBIT", "k", "7", "1")
	sWant(t, rdb, "\x01", "GET", "k")
	sWant(t, rdb, int64(0), "SETBIT", "k", "100", "1")
	sWant(t, rdb, int64(13), "STRLEN", "k")
	if enc := sEncoding(t, rdb, "k"); enc != "raw" {
		t.Fatalf("encoding of k = %q, want raw", enc)
	}
	sWant(t, rdb, int64(1), "GETBIT", "k", "7")
	sWant(t, rdb, int64(0), "GETBIT", "k", "6")
	sWant(t, rdb, int64(1), "GETBIT", "k", "100")
	sWant(t, rdb, int64(0), "GETBIT", "k", "1000000")
	sWant(t, rdb, int64(0), "GETBIT", "missing", "3")
	sWant(t, rdb, int64(1), "SETBIT", "k", "7", "0")
	sWant(t, rdb, int64(0), "GETBIT", "k", "7")

	// Int- and embstr-encoded values are read as their string form and
	// become raw once written.
	sWant(t, rdb, "OK", "SET", "n", "12345") // '1' = 0x31 = 00110001
	sWant(t, rdb, int64(1), "GETBIT", "n", "2")
	sWant(t, rdb, int64(0), "GETBIT", "n", "4")
	sWant(t, rdb, int64(0), "SETBIT", "n", "4", "1")
	sWant(t, rdb, "92345", "GET", "n")
	if enc := sEncoding(t, rdb, "n"); enc != "raw" {
		t.Fatalf("encoding of n = %q, want raw", enc)
	}

	// Errors, checked before anything changes.
	for _, off := range []string{"-1", "x", "4294967296", "1.5", ""} {
		sWantErr(t, rdb, bErrOffset, "SETBIT", "k", off, "1")
		sWantErr(t, rdb, bErrOffset, "GETBIT", "k", off)
	}
	for _, v := range []string{"2", "-1", "x", ""} {
		sWantErr(t, rdb, bErrBit, "SETBIT", "k", "1", v)
	}
	sWant(t, rdb, int64(0), "EXISTS", "nokey")
	sWantErr(t, rdb, bErrBit, "SETBIT", "nokey", "1", "5")
	sWant(t, rdb, int64(0), "EXISTS", "nokey")
	putNonString(t, inst, rdb, "list")
	sWantErr(t, rdb, sErrWrongType, "SETBIT", "list", "1", "1")
	sWantErr(t, rdb, sErrWrongType, "GETBIT", "list", "1")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'setbit' command", "SETBIT", "k", "1")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'getbit' command", "GETBIT", "k")
}

func TestSetbitKeepsTTLAndLimit(t *testing.T) {
	_, rdb := strServer(t)
	sWant(t, rdb, "OK", "SET", "k", "abc", "EX", "1000")
	sWant(t, rdb, int64(0), "SETBIT", "k", "100", "1")
	if ttl := sDo(t, rdb, "TTL", "k").(int64); ttl <= 0 || ttl > 1000 {
		t.Fatalf("TTL after SETBIT = %d, want kept", ttl)
	}
	// The largest offset is bounded by proto-max-bulk-len (in bytes).
	sWant(t, rdb, "OK", "CONFIG", "SET", "proto-max-bulk-len", "1048576")
	sWantErr(t, rdb, bErrOffset, "SETBIT", "big", "8388608", "1")
	sWant(t, rdb, int64(0), "SETBIT", "big", "8388607", "1")
	sWant(t, rdb, int64(1048576), "STRLEN", "big")
	sWantErr(t, rdb, bErrOffset, "GETBIT", "big", "8388608")
	sWantErr(t, rdb, bErrOffset, "BITFIELD", "big", "GET", "u8", "8388608")
}

// TestSetbitLargeString grows a value that lives on the Go heap bit by bit
// and checks every bit against a model.
func TestSetbitLargeString(t *testing.T) {
	_, rdb := strServer(t)
	rng := rand.New(rand.NewSource(1))
	model := make([]byte, 0)
	set := func(off int, v int) {
		for len(model) <= off/8 {
			model = append(model, 0)
		}
		if v == 1 {
			model[off/8] |= 1 << (7 - off%8)
		} else {
			model[off/8] &^= 1 << (7 - off%8)
		}
	}
	pipe := rdb.Pipeline()
	for off := 0; off < 200000; off += 1 + rng.Intn(300) {
		v := rng.Intn(2)
		set(off, v)
		pipe.Do(bgCtx, "SETBIT", "big", off, v)
	}
	if _, err := pipe.Exec(bgCtx); err != nil {
		t.Fatal(err)
	}
	sWant(t, rdb, string(model), "GET", "big")
	if enc := sEncoding(t, rdb, "big"); enc != "raw" {
		t.Fatalf("encoding of big = %q, want raw", enc)
	}
	for range 300 {
		off := rng.Intn(len(model) * 8)
		want := int64(model[off/8] >> (7 - off%8) & 1)
		sWant(t, rdb, want, "GETBIT", "big", off)
	}
}

func TestBitcount(t *testing.T) {
	inst, rdb := strServer(t)
	sWant(t, rdb, int64(0), "BITCOUNT", "missing")
	sWant(t, rdb, int64(0), "BITCOUNT", "missing", "0") // Redis 7.2 looks the key up first
	sWant(t, rdb, "OK", "SET", "s", "foobar")
	sWant(t, rdb, int64(26), "BITCOUNT", "s")
	sWant(t, rdb, int64(26), "BITCOUNT", "s", "0", "-1")
	sWant(t, rdb, int64(4), "BITCOUNT", "s", "0", "0")
	sWant(t, rdb, int64(6), "BITCOUNT", "s", "1", "1")
	sWant(t, rdb, int64(18), "BITCOUNT", "s", "1", "-2")
	sWant(t, rdb, int64(0), "BITCOUNT", "s", "-2", "1")
	sWant(t, rdb, int64(0), "BITCOUNT", "s", "-1", "-2", "nonsense") // reversed negatives answer 0 first
	sWant(t, rdb, int64(26), "BITCOUNT", "s", "0", "1000")
	sWant(t, rdb, int64(26), "BITCOUNT", "s", "0", "4294967296")
	sWant(t, rdb, int64(17), "BITCOUNT", "s", "5", "30", "bit")
	sWant(t, rdb, int64(4), "BITCOUNT", "s", "5", "30", "BYTE")
	sWant(t, rdb, int64(26), "BITCOUNT", "s", "0", "-1", "BIT")
	sWant(t, rdb, int64(4), "BITCOUNT", "s", "10", "14", "bit")
	sWant(t, rdb, int64(0), "BITCOUNT", "s", "-2", "1", "bit")
	sWant(t, rdb, "OK", "SET", "n", "7")
	sWant(t, rdb, int64(5), "BITCOUNT", "n") // "7" = 0x37 = 00110111
	sWantErr(t, rdb, sErrSyntax, "BITCOUNT", "s", "0")
	sWantErr(t, rdb, sErrSyntax, "BITCOUNT", "s", "0", "1", "hello")
	sWantErr(t, rdb, sErrSyntax, "BITCOUNT", "s", "0", "1", "bit", "extra")
	sWantErr(t, rdb, sErrNotInt, "BITCOUNT", "s", "a", "1")
	sWantErr(t, rdb, sErrNotInt, "BITCOUNT", "s", "0", "b")
	putNonString(t, inst, rdb, "list")
	sWantErr(t, rdb, sErrWrongType, "BITCOUNT", "list")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'bitcount' command", "BITCOUNT")
}

func TestBitpos(t *testing.T) {
	inst, rdb := strServer(t)
	sWant(t, rdb, int64(0), "BITPOS", "missing", "0")
	sWant(t, rdb, int64(-1), "BITPOS", "missing", "1")
	sWant(t, rdb, "OK", "SET", "p", "\xff\xf0\x00")
	sWant(t, rdb, int64(12), "BITPOS", "p", "0")
	sWant(t, rdb, int64(0), "BITPOS", "p", "1")
	sWant(t, rdb, int64(12), "BITPOS", "p", "0", "0", "-1")
	sWant(t, rdb, int64(16), "BITPOS", "p", "0", "2")
	sWant(t, rdb, int64(-1), "BITPOS", "p", "1", "2")
	sWant(t, rdb, int64(1), "BITPOS", "p", "1", "1", "-1", "bit")
	sWant(t, rdb, int64(-1), "BITPOS", "p", "0", "0", "11", "bit")
	sWant(t, rdb, int64(12), "BITPOS", "p", "0", "0", "12", "BIT")
	sWant(t, rdb, int64(12), "BITPOS", "p", "0", "1", "1", "byte")
	sWant(t, rdb, int64(-1), "BITPOS", "p", "0", "2", "1")
	sWant(t, rdb, "OK", "SET", "ones", "\xff\xff")
	// Without an end the string counts as zero-padded on the right; with
	// one, a clear bit past the range is not found.
	sWant(t, rdb, int64(16), "BITPOS", "ones", "0")
	sWant(t, rdb, int64(16), "BITPOS", "ones", "0", "0")
	sWant(t, rdb, int64(-1), "BITPOS", "ones", "0", "0", "-1")
	sWant(t, rdb, "OK", "SET", "empty", "")
	sWant(t, rdb, int64(-1), "BITPOS", "empty", "0")
	sWantErr(t, rdb, "ERR The bit argument must be 1 or 0.", "BITPOS", "p", "2")
	sWantErr(t, rdb, "ERR The bit argument must be 1 or 0.", "BITPOS", "missing", "-1")
	sWantErr(t, rdb, sErrNotInt, "BITPOS", "p", "x")
	sWantErr(t, rdb, sErrNotInt, "BITPOS", "p", "0", "x")
	sWantErr(t, rdb, sErrNotInt, "BITPOS", "p", "0", "0", "x")
	sWantErr(t, rdb, sErrSyntax, "BITPOS", "p", "0", "0", "1", "foo")
	sWantErr(t, rdb, sErrSyntax, "BITPOS", "p", "0", "0", "1", "bit", "x")
	putNonString(t, inst, rdb, "list")
	sWantErr(t, rdb, sErrWrongType, "BITPOS", "list", "1")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'bitpos' command", "BITPOS", "p")
}

// TestBitcountBitposModel checks BITCOUNT and BITPOS over random strings
// (short ones in the slab, long ones on the heap) against a bit-by-bit
// model of Redis 7.2's semantics.
func TestBitcountBitposModel(t *testing.T) {
	_, rdb := strServer(t)
	rng := rand.New(rand.NewSource(7))
	bit := func(s []byte, i int64) int { return int(s[i/8] >> (7 - i%8) & 1) }
	norm := func(start, end, total int64) (int64, int64) {
		if start < 0 {
			start += total
		}
		if end < 0 {
			end += total
		}
		start, end = max(start, 0), max(end, 0)
		return start, min(end, total-1)
	}
	for round := range 60 {
		n := []int{0, 1, 3, 8, 17, 100, 9000, 20000}[round%8]
		s := make([]byte, n)
		for i := range s {
			switch rng.Intn(3) {
			case 0:
				s[i] = 0
			case 1:
				s[i] = 0xff
			default:
				s[i] = byte(rng.Intn(256))
			}
		}
		sWant(t, rdb, "OK", "SET", "s", string(s))
		total := 0
		for _, b := range s {
			total += bits.OnesCount8(b)
		}
		sWant(t, rdb, int64(total), "BITCOUNT", "s")
		for range 20 {
			unitBit := rng.Intn(2) == 0
			scale := int64(n)
			if unitBit {
				scale *= 8
			}
			start := rng.Int63n(2*scale+3) - scale - 1
			end := rng.Int63n(2*scale+3) - scale - 1
			unit := "byte"
			if unitBit {
				unit = "bit"
			}
			// BITCOUNT model.
			want := int64(0)
			if !(start < 0 && end < 0 && start > end) {
				s0, e0 := norm(start, end, scale)
				if !unitBit {
					s0, e0 = s0*8, e0*8+7
				}
				for i := s0; i <= e0; i++ {
					want += int64(bit(s, i))
				}
			}
			sWant(t, rdb, want, "BITCOUNT", "s", start, end, unit)
			// BITPOS model (with an explicit end).
			for b := range 2 {
				pos := int64(-1)
				s0, e0 := norm(start, end, scale)
				if !unitBit {
					s0, e0 = s0*8, e0*8+7
				}
				for i := s0; i <= e0 && n > 0; i++ {
					if bit(s, i) == b {
						pos = i
						break
					}
				}
				sWant(t, rdb, pos, "BITPOS", "s", b, start, end, unit)
			}
		}
		// BITPOS without an end in byte units: zero padding to the right.
		for b := range 2 {
			start := rng.Int63n(int64(n)+2) - 1
			s0, _ := norm(start, -1, int64(n))
			pos := int64(-1)
			if n > 0 {
				for i := s0 * 8; i < int64(n)*8; i++ {
					if bit(s, i) == b {
						pos = i
						break
					}
				}
				if pos == -1 && b == 0 && s0 < int64(n) {
					pos = int64(n) * 8
				}
			}
			sWant(t, rdb, pos, "BITPOS", "s", b, start)
		}
	}
}

func TestBitop(t *testing.T) {
	inst, rdb := strServer(t)
	sWant(t, rdb, "OK", "SET", "a", "abc")
	sWant(t, rdb, "OK", "SET", "b", "xyzzy")
	sWant(t, rdb, int64(5), "BITOP", "AND", "d", "a", "b")
	sWant(t, rdb, "``b\x00\x00", "GET", "d")
	sWant(t, rdb, int64(5), "BITOP", "or", "d", "a", "b")
	sWant(t, rdb, "y{{zy", "GET", "d")
	sWant(t, rdb, int64(5), "BITOP", "Xor", "d", "a", "b")
	sWant(t, rdb, "\x19\x1b\x19zy", "GET", "d")
	sWant(t, rdb, int64(3), "BITOP", "NOT", "d", "a")
	sWant(t, rdb, "\x9e\x9d\x9c", "GET", "d")
	if enc := sEncoding(t, rdb, "d"); enc != "raw" {
		t.Fatalf("encoding of d = %q, want raw", enc)
	}
	// A missing source is an empty string; the destination loses its TTL.
	sWant(t, rdb, "OK", "SET", "d", "x", "EX", "100")
	sWant(t, rdb, int64(3), "BITOP", "OR", "d", "a", "missing")
	sWant(t, rdb, "abc", "GET", "d")
	sWant(t, rdb, int64(-1), "TTL", "d")
	sWant(t, rdb, int64(3), "BITOP", "AND", "d", "a", "missing")
	sWant(t, rdb, "\x00\x00\x00", "GET", "d")
	// The destination may be a source.
	sWant(t, rdb, int64(5), "BITOP", "XOR", "a", "a", "b")
	sWant(t, rdb, "\x19\x1b\x19zy", "GET", "a")
	// Integer-encoded sources are their decimal strings.
	sWant(t, rdb, "OK", "SET", "n", "12")
	sWant(t, rdb, int64(2), "BITOP", "NOT", "d", "n")
	sWant(t, rdb, "\xce\xcd", "GET", "d")
	// An empty result deletes the destination.
	sWant(t, rdb, int64(0), "BITOP", "AND", "d", "missing1", "missing2")
	sWant(t, rdb, int64(0), "EXISTS", "d")
	sWant(t, rdb, int64(0), "BITOP", "NOT", "d", "missing")
	sWantErr(t, rdb, bErrBitopNot, "BITOP", "NOT", "d", "a", "b")
	sWantErr(t, rdb, sErrSyntax, "BITOP", "NAND", "d", "a", "b")
	putNonString(t, inst, rdb, "list")
	sWantErr(t, rdb, sErrWrongType, "BITOP", "AND", "d", "a", "list")
	sWant(t, rdb, int64(0), "EXISTS", "d")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'bitop' command", "BITOP", "AND", "d")
	// Key positions: the destination and every source.
	sWant(t, rdb, []any{"d", "a", "b"}, "COMMAND", "GETKEYS", "BITOP", "AND", "d", "a", "b")
}

// TestBitopModel compares BITOP on long strings of different lengths with
// a byte-by-byte model.
func TestBitopModel(t *testing.T) {
	_, rdb := strServer(t)
	rng := rand.New(rand.NewSource(3))
	srcs := make([][]byte, 4)
	for i := range srcs {
		srcs[i] = make([]byte, []int{0, 37, 9000, 20011}[i])
		rng.Read(srcs[i])
		sWant(t, rdb, "OK", "SET", "s"+string(rune('0'+i)), string(srcs[i]))
	}
	maxLen := 20011
	at := func(s []byte, i int) byte {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	for _, op := range []string{"AND", "OR", "XOR"} {
		for _, set := range [][]int{{1, 2}, {3, 2, 1}, {0, 3}, {2, 3, 2}} {
			args := []any{"BITOP", op, "dst"}
			ml := 0
			for _, i := range set {
				args = append(args, "s"+string(rune('0'+i)))
				ml = max(ml, len(srcs[i]))
			}
			want := make([]byte, ml)
			for j := range want {
				v := at(srcs[set[0]], j)
				for _, i := range set[1:] {
					switch op {
					case "AND":
						v &= at(srcs[i], j)
					case "OR":
						v |= at(srcs[i], j)
					case "XOR":
						v ^= at(srcs[i], j)
					}
				}
				want[j] = v
			}
			sWant(t, rdb, int64(ml), args...)
			sWant(t, rdb, string(want), "GET", "dst")
		}
	}
	sWant(t, rdb, int64(maxLen), "BITOP", "NOT", "dst", "s3")
	want := make([]byte, maxLen)
	for j := range want {
		want[j] = ^srcs[3][j]
	}
	sWant(t, rdb, string(want), "GET", "dst")
}

func TestBitfield(t *testing.T) {
	inst, rdb := strServer(t)
	sWant(t, rdb, []any{int64(0), int64(9)}, "BITFIELD", "bf", "SET", "i8", "0", "-100", "GET", "u4", "0")
	sWant(t, rdb, "\x9c", "GET", "bf")
	sWant(t, rdb, []any{int64(-100), int64(156)}, "BITFIELD", "bf", "GET", "i8", "0", "GET", "u8", "0")
	sWant(t, rdb, []any{int64(1), int64(3)}, "BITFIELD", "bf", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "5")
	// Fields past the end read as zeros; a GET-only BITFIELD creates nothing.
	sWant(t, rdb, []any{int64(0)}, "BITFIELD", "none", "GET", "i64", "1000")
	sWant(t, rdb, int64(0), "EXISTS", "none")
	sWant(t, rdb, []any{}, "BITFIELD", "none")
	// #N offsets are multiplied by the width.
	sWant(t, rdb, []any{int64(0), int64(12)}, "BITFIELD", "h", "SET", "i8", "#1", "12", "GET", "i8", "8")
	sWant(t, rdb, []any{int64(12)}, "BITFIELD", "h", "GET", "u8", "#1")

	// Overflow behaviours.
	sWant(t, rdb, []any{int64(0), int64(-56)}, "BITFIELD", "o", "SET", "i8", "0", "100", "INCRBY", "i8", "0", "100")
	sWant(t, rdb, []any{int64(-56), int64(127)}, "BITFIELD", "o", "OVERFLOW", "SAT", "SET", "i8", "0", "127", "INCRBY", "i8", "0", "1")
	sWant(t, rdb, []any{nil, int64(127)}, "BITFIELD", "o", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "1", "GET", "i8", "0")
	sWant(t, rdb, []any{int64(127), int64(-128)}, "BITFIELD", "o", "OVERFLOW", "sat", "SET", "i8", "0", "-1000", "GET", "i8", "0")
	sWant(t, rdb, []any{int64(0), int64(255)}, "BITFIELD", "u", "OVERFLOW", "SAT", "SET", "u8", "0", "1000", "GET", "u8", "0")
	sWant(t, rdb, []any{int64(4)}, "BITFIELD", "u", "OVERFLOW", "WRAP", "INCRBY", "u8", "0", "5")
	sWant(t, rdb, []any{int64(0)}, "BITFIELD", "u", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "-300")
	sWant(t, rdb, []any{nil}, "BITFIELD", "u", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "-1")
	sWant(t, rdb, []any{int64(0), int64(-9223372036854775808)}, "BITFIELD", "w64", "SET", "i64", "0", "-9223372036854775808", "GET", "i64", "0")
	sWant(t, rdb, []any{int64(0), int64(9223372036854775807)}, "BITFIELD", "u63", "SET", "u63", "0", "-1", "GET", "u63", "0")
	// A failing write still creates the key, as Redis does.
	sWant(t, rdb, []any{nil}, "BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300")
	sWant(t, rdb, "\x00", "GET", "f")
	// The key's TTL is kept.
	sWant(t, rdb, "OK", "SET", "t", "x", "EX", "100")
	sWant(t, rdb, []any{int64(0)}, "BITFIELD", "t", "SET", "u8", "100", "1")
	if ttl := sDo(t, rdb, "TTL", "t").(int64); ttl <= 0 {
		t.Fatalf("TTL after BITFIELD = %d", ttl)
	}

	// Errors: nothing runs when any operation is invalid.
	for _, typ := range []string{"u64", "i65", "i0", "u0", "x8", "i", "", "i8x"} {
		sWantErr(t, rdb, bErrType, "BITFIELD", "e", "GET", typ, "0")
	}
	sWantErr(t, rdb, bErrOffset, "BITFIELD", "e", "GET", "i8", "-1")
	sWantErr(t, rdb, bErrOffset, "BITFIELD", "e", "GET", "i8", "#-1")
	sWantErr(t, rdb, bErrOffset, "BITFIELD", "e", "GET", "i8", "x")
	sWantErr(t, rdb, "ERR Invalid OVERFLOW type specified", "BITFIELD", "e", "OVERFLOW", "foo", "GET", "i8", "0")
	sWantErr(t, rdb, sErrSyntax, "BITFIELD", "e", "foo")
	sWantErr(t, rdb, sErrSyntax, "BITFIELD", "e", "GET", "i8")
	sWantErr(t, rdb, sErrSyntax, "BITFIELD", "e", "SET", "i8", "0")
	sWantErr(t, rdb, sErrNotInt, "BITFIELD", "e", "SET", "i8", "0", "x")
	sWantErr(t, rdb, sErrNotInt, "BITFIELD", "e", "SET", "i8", "0", "1", "INCRBY", "i8", "0", "1.5")
	sWant(t, rdb, int64(0), "EXISTS", "e")
	putNonString(t, inst, rdb, "list")
	sWantErr(t, rdb, sErrWrongType, "BITFIELD", "list", "GET", "i8", "0")
	sWantErr(t, rdb, sErrWrongType, "BITFIELD", "list", "SET", "i8", "0", "1")
	sWantErr(t, rdb, sErrWrongType, "BITFIELD", "list")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'bitfield' command", "BITFIELD")
}

func TestBitfieldWrapExact(t *testing.T) {
	_, rdb := strServer(t)
	sWant(t, rdb, []any{int64(9223372036854775807), int64(-2), int64(-2)}, "BITFIELD", "w", "OVERFLOW", "WRAP",
		"INCRBY", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "0")
	sWant(t, rdb, []any{int64(9223372036854775807), nil}, "BITFIELD", "s", "OVERFLOW", "SAT",
		"INCRBY", "i64", "0", "9223372036854775807", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "1")
	sWant(t, rdb, []any{int64(-9223372036854775808)}, "BITFIELD", "s", "OVERFLOW", "WRAP", "INCRBY", "i64", "0", "1")
	sWant(t, rdb, []any{int64(3), int64(-4)}, "BITFIELD", "x", "OVERFLOW", "WRAP", "INCRBY", "i3", "5", "3", "INCRBY", "i3", "5", "1")
}

func TestBitfieldRO(t *testing.T) {
	inst, rdb := strServer(t)
	sWant(t, rdb, []any{int64(0)}, "BITFIELD", "k", "SET", "u8", "0", "200")
	sWant(t, rdb, []any{int64(200), int64(-56)}, "BITFIELD_RO", "k", "GET", "u8", "0", "get", "i8", "0")
	sWant(t, rdb, []any{}, "BITFIELD_RO", "k")
	sWant(t, rdb, []any{int64(0)}, "BITFIELD_RO", "missing", "GET", "u8", "0")
	sWantErr(t, rdb, bErrBitfRO, "BITFIELD_RO", "k", "GET", "u8", "0", "SET", "u8", "0", "1")
	sWantErr(t, rdb, bErrBitfRO, "BITFIELD_RO", "k", "INCRBY", "u8", "0", "1")
	sWantErr(t, rdb, bErrBitfRO, "BITFIELD_RO", "missing", "INCRBY", "u8", "0", "1")
	// Parse errors come first.
	sWantErr(t, rdb, bErrType, "BITFIELD_RO", "k", "SET", "u8", "0", "1", "GET", "u64", "0")
	sWantErr(t, rdb, sErrSyntax, "BITFIELD_RO", "k", "GET")
	sWant(t, rdb, []any{int64(200)}, "BITFIELD_RO", "k", "OVERFLOW", "FAIL", "GET", "u8", "0")
	putNonString(t, inst, rdb, "list")
	sWantErr(t, rdb, sErrWrongType, "BITFIELD_RO", "list", "GET", "i8", "0")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'bitfield_ro' command", "BITFIELD_RO")
}

// TestBitmapCommandInfo checks the table entries against Redis 7.2's
// COMMAND INFO (arity, flags, key positions, ACL categories).
func TestBitmapCommandInfo(t *testing.T) {
	_, rdb := strServer(t)
	want := map[string]string{
		"setbit":      "4 [write denyoom] 1 1 1 [@write @bitmap @slow]",
		"getbit":      "3 [readonly fast] 1 1 1 [@read @bitmap @fast]",
		"bitcount":    "-2 [readonly] 1 1 1 [@read @bitmap @slow]",
		"bitpos":      "-3 [readonly] 1 1 1 [@read @bitmap @slow]",
		"bitop":       "-4 [write denyoom] 2 -1 1 [@write @bitmap @slow]",
		"bitfield":    "-2 [write denyoom] 1 1 1 [@write @bitmap @slow]",
		"bitfield_ro": "-2 [readonly fast] 1 1 1 [@read @bitmap @fast]",
	}
	for name, exp := range want {
		v := sDo(t, rdb, "COMMAND", "INFO", name).([]any)[0].([]any)
		got := strings.TrimSpace(strings.Join([]string{
			fmtAny(v[1]), fmtAny(v[2]), fmtAny(v[3]), fmtAny(v[4]), fmtAny(v[5]), fmtAny(v[6]),
		}, " "))
		if got != exp {
			t.Errorf("COMMAND INFO %s = %s, want %s", name, got, exp)
		}
	}
}

func fmtAny(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmtAny(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		return x
	}
	return "?"
}

// TestBitmapRESP3 checks BITFIELD's null for a FAIL overflow in RESP3.
func TestBitmapRESP3(t *testing.T) {
	inst := testutil.Start(t)
	rdb := inst.Client3(t)
	v, err := rdb.Do(bgCtx, "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "7", "GET", "u2", "0").Result()
	if err != nil {
		t.Fatal(err)
	}
	got := v.([]any)
	if len(got) != 2 || got[0] != nil || got[1] != int64(0) {
		t.Fatalf("got %#v", got)
	}
}
