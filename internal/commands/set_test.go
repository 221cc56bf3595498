package commands_test

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// sRange returns the decimal strings lo..hi as command arguments.
func sRange(lo, hi int) []any {
	out := make([]any, 0, hi-lo+1)
	for i := lo; i <= hi; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func sCmd(args ...any) []any { return args }

// sStart starts a server and a client that never retries: a retried write
// would run twice and break exact reply checks on a loaded machine.
func sStart(t *testing.T, directives ...string) (*testutil.Instance, *redis.Client) {
	t.Helper()
	inst := testutil.Start(t, directives...)
	return inst, inst.ClientWith(t, &redis.Options{Protocol: 2, MaxRetries: -1, ReadTimeout: time.Minute, WriteTimeout: time.Minute})
}

// sMembers returns a set's members sorted.
func sMembers(t testing.TB, c *redis.Client, key string) []string {
	t.Helper()
	return kSorted(t, kDo(t, c, "smembers", key))
}

func sExpectEnc(t testing.TB, c *redis.Client, key, enc string) {
	t.Helper()
	if got := kDo(t, c, "object", "encoding", key); got != enc {
		t.Fatalf("OBJECT ENCODING %s = %v, want %s", key, got, enc)
	}
}

// sHeader sends a command on a raw connection and returns the first byte of
// the reply (its RESP type) and the decoded reply.
func sHeader(t testing.TB, r *testutil.Raw, args ...string) (byte, any) {
	t.Helper()
	if err := r.Send(args...); err != nil {
		t.Fatal(err)
	}
	b, err := r.R.Peek(1)
	if err != nil {
		t.Fatal(err)
	}
	kind := b[0]
	v, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	return kind, v
}

func TestSetBasicsAndEncodings(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)

	kExpect(t, c, 3, "sadd", "is", "1", "2", "3")
	kExpect(t, c, 1, "sadd", "is", "-5", "2")
	sExpectEnc(t, c, "is", "intset")
	// Intsets answer in ascending order.
	kExpect(t, c, []any{"-5", "1", "2", "3"}, "smembers", "is")
	kExpect(t, c, 4, "scard", "is")
	kExpect(t, c, 1, "sismember", "is", "-5")
	kExpect(t, c, 0, "sismember", "is", "-05")
	kExpect(t, c, []any{int64(1), int64(0), int64(1)}, "smismember", "is", "1", "x", "3")
	kExpect(t, c, []any{int64(0), int64(0)}, "smismember", "missing", "1", "2")
	kExpect(t, c, 0, "scard", "missing")
	kExpect(t, c, 0, "sismember", "missing", "a")
	kExpect(t, c, []any{}, "smembers", "missing")

	// A non-integer turns a small intset into a listpack.
	kExpect(t, c, 1, "sadd", "is", "a")
	sExpectEnc(t, c, "is", "listpack")
	// An integer beyond 64 bits is a string.
	kExpect(t, c, 1, "sadd", "big", "17179869184")
	sExpectEnc(t, c, "big", "intset")
	kExpect(t, c, 1, "sadd", "s64", "18446744073709551616")
	sExpectEnc(t, c, "s64", "listpack")

	// More than set-max-intset-entries integers: hashtable.
	kExpect(t, c, 512, append(sCmd("sadd", "many"), sRange(1, 512)...)...)
	sExpectEnc(t, c, "many", "intset")
	kExpect(t, c, 1, "sadd", "many", "513")
	sExpectEnc(t, c, "many", "hashtable")
	// A non-integer against a large intset goes straight to a hashtable.
	kExpect(t, c, 200, append(sCmd("sadd", "large"), sRange(1, 200)...)...)
	sExpectEnc(t, c, "large", "intset")
	kExpect(t, c, 1, "sadd", "large", "x")
	sExpectEnc(t, c, "large", "hashtable")

	// Listpack limits: entries and value length.
	kExpect(t, c, 128, append(sCmd("sadd", "lp"), sPrefixed("m", 128)...)...)
	sExpectEnc(t, c, "lp", "listpack")
	kExpect(t, c, 1, "sadd", "lp", "one-more")
	sExpectEnc(t, c, "lp", "hashtable")
	kExpect(t, c, 1, "sadd", "long", "a")
	kExpect(t, c, 1, "sadd", "long", fmt.Sprintf("%065d", 1)+"x")
	sExpectEnc(t, c, "long", "hashtable")
	// A variadic SADD beyond the limits converts first (Redis's size hint).
	kExpect(t, c, 2, "sadd", "hint", "a", "b")
	kExpect(t, c, "OK", "config", "set", "set-max-listpack-entries", "2")
	kExpect(t, c, 1, "sadd", "hint", "a", "b", "c")
	sExpectEnc(t, c, "hint", "hashtable")
	kExpect(t, c, "OK", "config", "set", "set-max-listpack-entries", "128")
	// A new set created with more members than the limits starts big.
	kExpect(t, c, 600, append(sCmd("sadd", "created"), sPrefixed("x", 600)...)...)
	sExpectEnc(t, c, "created", "hashtable")
	kExpect(t, c, 600, "scard", "created")
	kExpect(t, c, 1, "sismember", "created", "x599")

	// SREM: across encodings, deleting the key when the last member goes.
	kExpect(t, c, 2, "srem", "many", "1", "2", "nope")
	kExpect(t, c, 511, "scard", "many")
	sExpectEnc(t, c, "many", "hashtable") // never converts back
	kExpect(t, c, 0, "srem", "missing", "a")
	kExpect(t, c, 1, "sadd", "gone", "x")
	kExpect(t, c, "OK", "set", "ignored", "v")
	kExpect(t, c, 1, "srem", "gone", "x", "x", "y")
	kExpect(t, c, 0, "exists", "gone")
	kExpect(t, c, 2, "srem", "is", "a", "-5")
	kExpect(t, c, []any{"1", "2", "3"}, "smembers", "is")
}

// sPrefixed returns prefix0..prefix(n-1).
func sPrefixed(prefix string, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

func TestSetErrors(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, "OK", "set", "str", "v")
	wrong := kErr("WRONGTYPE Operation against a key holding the wrong kind of value")
	for _, cmd := range [][]any{
		{"sadd", "str", "a"}, {"srem", "str", "a"}, {"smembers", "str"}, {"sismember", "str", "a"},
		{"smismember", "str", "a"}, {"scard", "str"}, {"spop", "str"}, {"spop", "str", "2"},
		{"srandmember", "str"}, {"srandmember", "str", "2"}, {"sinter", "str"}, {"sunion", "str"},
		{"sdiff", "str"}, {"sintercard", "1", "str"}, {"sinterstore", "d", "str"}, {"sunionstore", "d", "str"},
		{"sdiffstore", "d", "str"}, {"sscan", "str", "0"}, {"smove", "str", "d", "a"},
	} {
		kExpect(t, c, wrong, cmd...)
	}
	kExpect(t, c, 1, "sadd", "s", "a")
	kExpect(t, c, wrong, "smove", "s", "str", "a")
	// A missing source answers 0 before the destination's type is checked.
	kExpect(t, c, 0, "smove", "nosrc", "str", "a")
	// A wrong type wins over a missing key in multi-key commands.
	kExpect(t, c, wrong, "sinter", "missing", "str")
	kExpect(t, c, wrong, "sdiff", "missing", "str")

	for _, name := range []string{"sadd", "srem", "smismember", "sismember", "smove", "sinterstore", "sintercard"} {
		kExpect(t, c, kErr("ERR wrong number of arguments for '"+name+"' command"), name, "k")
	}
	kExpect(t, c, kErr("ERR syntax error"), "spop", "s", "1", "2")
	kExpect(t, c, kErr("ERR syntax error"), "srandmember", "s", "1", "2")
	kExpect(t, c, kErr("ERR value is not an integer or out of range"), "spop", "s", "x")
	kExpect(t, c, kErr("ERR value is out of range, must be positive"), "spop", "s", "-1")
	kExpect(t, c, kErr("ERR value is not an integer or out of range"), "srandmember", "s", "x")
	kExpect(t, c, kErr("ERR value is out of range, must be between -9223372036854775807 and 9223372036854775807"),
		"srandmember", "s", "-9223372036854775808")

	kExpect(t, c, kErr("ERR numkeys should be greater than 0"), "sintercard", "0", "s")
	kExpect(t, c, kErr("ERR numkeys should be greater than 0"), "sintercard", "x", "s")
	kExpect(t, c, kErr("ERR Number of keys can't be greater than number of args"), "sintercard", "2", "s")
	kExpect(t, c, kErr("ERR syntax error"), "sintercard", "1", "s", "bar")
	kExpect(t, c, kErr("ERR syntax error"), "sintercard", "1", "s", "limit")
	kExpect(t, c, kErr("ERR LIMIT can't be negative"), "sintercard", "1", "s", "limit", "-1")
	kExpect(t, c, kErr("ERR LIMIT can't be negative"), "sintercard", "1", "s", "limit", "x")

	kExpect(t, c, kErr("ERR invalid cursor"), "sscan", "s", "x")
	kExpect(t, c, kErr("ERR syntax error"), "sscan", "s", "0", "count", "0")
	kExpect(t, c, kErr("ERR value is not an integer or out of range"), "sscan", "s", "0", "count", "x")
	kExpect(t, c, kErr("ERR syntax error"), "sscan", "s", "0", "type", "string")
	kExpect(t, c, kErr("ERR syntax error"), "sscan", "s", "0", "match")
}

func TestSetPopAndRandom(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	for _, enc := range []string{"intset", "listpack", "hashtable"} {
		key := "s-" + enc
		var members []any
		switch enc {
		case "intset":
			members = sRange(1, 50)
		case "listpack":
			members = sPrefixed("m", 50)
		default:
			members = sPrefixed("m", 1000)
		}
		kExpect(t, c, len(members), append(sCmd("sadd", key), members...)...)
		sExpectEnc(t, c, key, enc)
		all := map[string]bool{}
		for _, m := range members {
			all[m.(string)] = true
		}

		// SRANDMEMBER: distinct members for positive counts, repetitions
		// for negative ones, the whole set when count exceeds it.
		for _, n := range []int{1, 5, 20, 40, len(members) - 1} {
			got := kSorted(t, kDo(t, c, "srandmember", key, n))
			if len(got) != n {
				t.Fatalf("%s: srandmember %d returned %d", enc, n, len(got))
			}
			for i, m := range got {
				if !all[m] || (i > 0 && got[i-1] == m) {
					t.Fatalf("%s: srandmember %d returned %v", enc, n, got)
				}
			}
		}
		if got := kSorted(t, kDo(t, c, "srandmember", key, len(members)+10)); len(got) != len(members) {
			t.Fatalf("%s: srandmember beyond size returned %d", enc, len(got))
		}
		got := kDo(t, c, "srandmember", key, -200).([]any)
		if len(got) != 200 {
			t.Fatalf("%s: srandmember -200 returned %d", enc, len(got))
		}
		for _, m := range got {
			if !all[m.(string)] {
				t.Fatalf("%s: srandmember returned non-member %v", enc, m)
			}
		}
		if m := kDo(t, c, "srandmember", key); !all[m.(string)] {
			t.Fatalf("%s: srandmember returned %v", enc, m)
		}
		kExpect(t, c, []any{}, "srandmember", key, 0)

		// SPOP with a small count, then with a count near the size (Redis's
		// other strategy), then the rest.
		popped := map[string]bool{}
		take := func(v any) {
			for _, m := range v.([]any) {
				s := m.(string)
				if !all[s] || popped[s] {
					t.Fatalf("%s: spop returned %q twice or a non-member", enc, s)
				}
				popped[s] = true
			}
		}
		take(kDo(t, c, "spop", key, 3))
		left := len(members) - 3
		kExpect(t, c, left, "scard", key)
		take(kDo(t, c, "spop", key, left-2))
		kExpect(t, c, 2, "scard", key)
		one := kDo(t, c, "spop", key).(string)
		take([]any{one})
		take(kDo(t, c, "spop", key, 10))
		if len(popped) != len(members) {
			t.Fatalf("%s: popped %d of %d", enc, len(popped), len(members))
		}
		kExpect(t, c, 0, "exists", key)
	}
	kExpect(t, c, nil, "spop", "missing")
	kExpect(t, c, []any{}, "spop", "missing", 3)
	kExpect(t, c, nil, "srandmember", "missing")
	kExpect(t, c, []any{}, "srandmember", "missing", 3)
	kExpect(t, c, 1, "sadd", "z", "a")
	kExpect(t, c, []any{}, "spop", "z", 0)
	kExpect(t, c, 1, "exists", "z")

	// SPOP's "keep the rest" strategy rebuilds the remainder like Redis:
	// a hashtable of integers leaves a listpack (the strings were not
	// parsed back), an intset stays an intset.
	kExpect(t, c, 600, append(sCmd("sadd", "ints"), sRange(1, 600)...)...)
	sExpectEnc(t, c, "ints", "hashtable")
	if n := len(kDo(t, c, "spop", "ints", 590).([]any)); n != 590 {
		t.Fatalf("spop 590 returned %d", n)
	}
	sExpectEnc(t, c, "ints", "listpack")
	kExpect(t, c, 10, "scard", "ints")
	kExpect(t, c, 100, append(sCmd("sadd", "small"), sRange(1, 100)...)...)
	kDo(t, c, "spop", "small", 95)
	sExpectEnc(t, c, "small", "intset")

	// TTLs survive pops.
	kExpect(t, c, 3, "sadd", "ttl", "a", "b", "c")
	kExpect(t, c, 1, "expire", "ttl", 100)
	kDo(t, c, "spop", "ttl")
	if ttl := kInt(t, c, "ttl", "ttl"); ttl <= 0 {
		t.Fatalf("ttl lost after SPOP: %d", ttl)
	}
}

func TestSetMove(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, 3, "sadd", "src", "1", "2", "3")
	kExpect(t, c, 2, "sadd", "dst", "a", "b")
	kExpect(t, c, 1, "smove", "src", "dst", "2")
	kExpect(t, c, 0, "smove", "src", "dst", "9")
	if got := sMembers(t, c, "src"); !reflect.DeepEqual(got, []string{"1", "3"}) {
		t.Fatalf("src after smove: %v", got)
	}
	if got := sMembers(t, c, "dst"); !reflect.DeepEqual(got, []string{"2", "a", "b"}) {
		t.Fatalf("dst after smove: %v", got)
	}
	// Same source and destination: membership only.
	kExpect(t, c, 1, "smove", "src", "src", "1")
	kExpect(t, c, 0, "smove", "src", "src", "9")
	// To a missing destination: created with Redis's encoding for the member.
	kExpect(t, c, 1, "smove", "src", "new", "1")
	sExpectEnc(t, c, "new", "intset")
	kExpect(t, c, 1, "smove", "dst", "new2", "a")
	sExpectEnc(t, c, "new2", "listpack")
	// Moving the last member deletes the source.
	kExpect(t, c, 1, "smove", "src", "new", "3")
	kExpect(t, c, 0, "exists", "src")
	kExpect(t, c, []any{"1", "3"}, "smembers", "new")
	// Already in the destination: removed from the source, reply 1.
	kExpect(t, c, 1, "sadd", "x", "1")
	kExpect(t, c, 1, "smove", "x", "new", "1")
	kExpect(t, c, 0, "exists", "x")
	kExpect(t, c, 2, "scard", "new")
	// An intset destination receiving a string becomes a listpack.
	kExpect(t, c, 1, "sadd", "y", "str")
	kExpect(t, c, 1, "smove", "y", "new", "str")
	sExpectEnc(t, c, "new", "listpack")
}

// TestSetStoreOps covers SINTER/SUNION/SDIFF, their STORE forms and
// SINTERCARD, including the result encodings Redis produces.
func TestSetStoreOps(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, 5, "sadd", "a", "1", "2", "3", "4", "5")
	kExpect(t, c, 4, "sadd", "b", "3", "4", "5", "x")
	kExpect(t, c, 3, "sadd", "c", "4", "5", "6")

	kExpect(t, c, []any{"3", "4", "5"}, "sinter", "a", "b")
	kExpect(t, c, []any{"4", "5"}, "sinter", "a", "b", "c")
	kExpect(t, c, []any{}, "sinter", "a", "missing")
	kExpect(t, c, 3, "sintercard", "2", "a", "b")
	kExpect(t, c, 2, "sintercard", "2", "a", "b", "limit", "2")
	kExpect(t, c, 3, "sintercard", "2", "a", "b", "limit", "0")
	kExpect(t, c, 0, "sintercard", "2", "a", "missing")

	kExpect(t, c, 2, "sinterstore", "dst", "a", "b", "c")
	kExpect(t, c, []any{"4", "5"}, "smembers", "dst")
	sExpectEnc(t, c, "dst", "intset")
	// Two listpacks whose intersection is all integers give an intset.
	kExpect(t, c, 2, "sinterstore", "dst", "b", "c")
	sExpectEnc(t, c, "dst", "intset")
	kExpect(t, c, 0, "sinterstore", "dst", "a", "missing")
	kExpect(t, c, 0, "exists", "dst")

	if got := kSorted(t, kDo(t, c, "sunion", "a", "b", "c", "missing")); !reflect.DeepEqual(got, []string{"1", "2", "3", "4", "5", "6", "x"}) {
		t.Fatalf("sunion: %v", got)
	}
	kExpect(t, c, 7, "sunionstore", "u", "a", "b", "c")
	sExpectEnc(t, c, "u", "listpack")
	kExpect(t, c, 5, "sunionstore", "u", "a", "missing")
	sExpectEnc(t, c, "u", "intset")
	kExpect(t, c, 0, "sunionstore", "u", "missing")
	kExpect(t, c, 0, "exists", "u")

	kExpect(t, c, []any{"1", "2"}, "sdiff", "a", "b")
	kExpect(t, c, []any{"1", "2", "3"}, "sdiff", "a", "c")
	kExpect(t, c, []any{"1", "2"}, "sdiff", "a", "b", "c", "missing")
	kExpect(t, c, []any{}, "sdiff", "missing", "a")
	kExpect(t, c, []any{}, "sdiff", "a", "a")
	kExpect(t, c, 2, "sdiffstore", "d", "a", "b")
	kExpect(t, c, []any{"1", "2"}, "smembers", "d")
	kExpect(t, c, "OK", "set", "d2", "string")
	kExpect(t, c, 1, "expire", "d2", 100)
	kExpect(t, c, 0, "sdiffstore", "d2", "a", "a")
	kExpect(t, c, 0, "exists", "d2")
	// STORE replaces any type and clears the TTL.
	kExpect(t, c, "OK", "set", "d3", "string")
	kExpect(t, c, 1, "expire", "d3", 100)
	kExpect(t, c, 5, "sunionstore", "d3", "a")
	kExpect(t, c, -1, "ttl", "d3")

	// Hashtable sources.
	kExpect(t, c, 300, append(sCmd("sadd", "h1"), sPrefixed("e", 300)...)...)
	kExpect(t, c, 150, append(sCmd("sadd", "h2"), sPrefixed("e", 150)...)...)
	kExpect(t, c, 150, "sinterstore", "hi", "h1", "h2")
	sExpectEnc(t, c, "hi", "hashtable")
	kExpect(t, c, 150, "sdiffstore", "hd", "h1", "h2")
	kExpect(t, c, 0, "sismember", "hd", "e0")
	kExpect(t, c, 1, "sismember", "hd", "e299")
}

func TestSetScan(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, 3, "sadd", "small", "a", "b", "c")
	kExpect(t, c, []any{"0", []any{"a", "b", "c"}}, "sscan", "small", "0")
	kExpect(t, c, []any{"0", []any{"b"}}, "sscan", "small", "0", "match", "b*")
	kExpect(t, c, []any{"0", []any{}}, "sscan", "missing", "0")
	kExpect(t, c, []any{"0", []any{}}, "sscan", "missing", "0", "bad", "opts")
	kExpect(t, c, 3, "sadd", "ints", "10", "20", "30")
	kExpect(t, c, []any{"0", []any{"10", "20", "30"}}, "sscan", "ints", "0", "count", "1")

	kExpect(t, c, 1000, append(sCmd("sadd", "big"), sPrefixed("m", 1000)...)...)
	seen := map[string]bool{}
	cursor := "0"
	calls := 0
	for {
		v := kDo(t, c, "sscan", "big", cursor, "count", 37).([]any)
		cursor = v[0].(string)
		for _, m := range v[1].([]any) {
			seen[m.(string)] = true
		}
		calls++
		// Deleting members mid-scan must not hide members that stay.
		if calls == 3 {
			kDo(t, c, "srem", "big", "m999", "m998", "m1")
		}
		if cursor == "0" {
			break
		}
	}
	for i := 0; i < 1000; i++ {
		m := "m" + strconv.Itoa(i)
		if !seen[m] && m != "m999" && m != "m998" && m != "m1" {
			t.Fatalf("sscan missed %s", m)
		}
	}
	if calls < 20 {
		t.Fatalf("sscan of a hashtable took %d calls; COUNT ignored?", calls)
	}
	v := kDo(t, c, "sscan", "big", "0", "match", "m5?", "count", 2000).([]any)
	if got := kSorted(t, v[1]); len(got) != 10 || v[0] != "0" {
		t.Fatalf("sscan match: %v", v)
	}
}

func TestSetResp3(t *testing.T) {
	t.Parallel()
	inst, c := sStart(t)
	kExpect(t, c, 3, "sadd", "s", "a", "b", "c")
	r := inst.Raw(t)
	if v, _ := r.Do("HELLO", "3"); v == nil {
		t.Fatal("HELLO 3 failed")
	}
	for _, tc := range []struct {
		args []string
		kind byte
	}{
		{[]string{"smembers", "s"}, '~'},
		{[]string{"smembers", "missing"}, '~'},
		{[]string{"sinter", "s", "s"}, '~'},
		{[]string{"sunion", "s"}, '~'},
		{[]string{"sdiff", "s"}, '~'},
		{[]string{"srandmember", "s", "2"}, '*'},
		{[]string{"srandmember", "missing", "2"}, '*'},
		{[]string{"spop", "missing", "2"}, '~'},
		{[]string{"spop", "s", "1"}, '~'},
		{[]string{"smismember", "s", "a"}, '*'},
		{[]string{"spop", "missing"}, '_'},
	} {
		if kind, _ := sHeader(t, r, tc.args...); kind != tc.kind {
			t.Errorf("%v: reply type %q, want %q", tc.args, kind, tc.kind)
		}
	}
}

func TestSetCopyIsDeep(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, 600, append(sCmd("sadd", "src"), sPrefixed("x", 600)...)...)
	kExpect(t, c, 1, "copy", "src", "dst")
	kExpect(t, c, 1, "sadd", "dst", "extra")
	kExpect(t, c, 600, "scard", "src")
	kExpect(t, c, 601, "scard", "dst")
	sExpectEnc(t, c, "dst", "hashtable")
	kExpect(t, c, 2, "sadd", "small", "1", "2")
	kExpect(t, c, 1, "copy", "small", "small2")
	sExpectEnc(t, c, "small2", "intset")
	if got := sMembers(t, c, "small2"); !reflect.DeepEqual(got, []string{"1", "2"}) {
		t.Fatalf("copied intset: %v", got)
	}
}

// TestSetModel runs random set commands against a map model.
func TestSetModel(t *testing.T) {
	t.Parallel()
	_, c := sStart(t, "set-max-intset-entries", "20", "set-max-listpack-entries", "16")
	model := map[string]map[string]bool{}
	keys := []string{"k1", "k2", "k3"}
	rnd := uint64(12345)
	next := func(n int) int {
		rnd = rnd*6364136223846793005 + 1442695040888963407
		return int((rnd >> 33) % uint64(n))
	}
	member := func() string {
		if next(3) == 0 {
			return "s" + strconv.Itoa(next(40))
		}
		return strconv.Itoa(next(40) - 5)
	}
	get := func(k string) map[string]bool {
		if model[k] == nil {
			model[k] = map[string]bool{}
		}
		return model[k]
	}
	sorted := func(m map[string]bool) []string {
		out := []string{}
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	for step := 0; step < 1500; step++ {
		k := keys[next(3)]
		switch next(5) {
		case 0, 1:
			m := member()
			want := 0
			if !get(k)[m] {
				want = 1
			}
			get(k)[m] = true
			kExpect(t, c, want, "sadd", k, m)
		case 2:
			m := member()
			want := 0
			if get(k)[m] {
				want = 1
			}
			delete(get(k), m)
			kExpect(t, c, want, "srem", k, m)
		case 3:
			k2 := keys[next(3)]
			dst := keys[next(3)]
			inter := map[string]bool{}
			for m := range get(k) {
				if get(k2)[m] {
					inter[m] = true
				}
			}
			kExpect(t, c, len(inter), "sinterstore", dst, k, k2)
			model[dst] = inter
		default:
			if got := sMembers(t, c, k); !reflect.DeepEqual(got, sorted(get(k))) {
				t.Fatalf("step %d: %s = %v, want %v", step, k, got, sorted(get(k)))
			}
		}
	}
}
