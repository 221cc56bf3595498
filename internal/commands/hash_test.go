package commands_test

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// hPairs returns field0 value0 field1 value1 … for n fields.
func hPairs(n int) []any {
	out := make([]any, 0, 2*n)
	for i := 0; i < n; i++ {
		out = append(out, "f"+strconv.Itoa(i), "v"+strconv.Itoa(i))
	}
	return out
}

func TestHashBasics(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, 2, "hset", "h", "a", "1", "b", "2")
	kExpect(t, c, 1, "hset", "h", "a", "10", "c", "3")
	sExpectEnc(t, c, "h", "listpack")
	kExpect(t, c, "10", "hget", "h", "a")
	kExpect(t, c, nil, "hget", "h", "zz")
	kExpect(t, c, nil, "hget", "missing", "a")
	kExpect(t, c, []any{"10", nil, "3"}, "hmget", "h", "a", "zz", "c")
	kExpect(t, c, []any{nil, nil}, "hmget", "missing", "a", "b")
	kExpect(t, c, "OK", "hmset", "h", "d", "4")
	kExpect(t, c, 4, "hlen", "h")
	kExpect(t, c, 0, "hlen", "missing")
	kExpect(t, c, 2, "hstrlen", "h", "a")
	kExpect(t, c, 0, "hstrlen", "h", "zz")
	kExpect(t, c, 0, "hstrlen", "missing", "a")
	kExpect(t, c, 1, "hexists", "h", "a")
	kExpect(t, c, 0, "hexists", "h", "zz")
	kExpect(t, c, 0, "hexists", "missing", "a")
	// Listpack hashes keep insertion order.
	kExpect(t, c, []any{"a", "10", "b", "2", "c", "3", "d", "4"}, "hgetall", "h")
	kExpect(t, c, []any{"a", "b", "c", "d"}, "hkeys", "h")
	kExpect(t, c, []any{"10", "2", "3", "4"}, "hvals", "h")
	kExpect(t, c, []any{}, "hgetall", "missing")
	kExpect(t, c, []any{}, "hkeys", "missing")
	kExpect(t, c, 0, "hsetnx", "h", "a", "x")
	kExpect(t, c, "10", "hget", "h", "a")
	kExpect(t, c, 1, "hsetnx", "h", "e", "5")
	kExpect(t, c, 1, "hsetnx", "new", "f", "v")
	kExpect(t, c, "v", "hget", "new", "f")

	kExpect(t, c, 2, "hdel", "h", "a", "b", "zz")
	kExpect(t, c, 0, "hdel", "missing", "a")
	kExpect(t, c, 1, "expire", "h", 100)
	kExpect(t, c, 1, "hset", "h", "x", "y")
	if ttl := kInt(t, c, "ttl", "h"); ttl <= 0 {
		t.Fatalf("HSET lost the TTL: %d", ttl)
	}
	kExpect(t, c, 4, "hdel", "h", "c", "d", "e", "x", "more")
	kExpect(t, c, 0, "exists", "h")
}

func TestHashEncodings(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	// Redis 7.2: hash-max-listpack-entries 512, -value 64.
	kExpect(t, c, 512, append(sCmd("hset", "h"), hPairs(512)...)...)
	sExpectEnc(t, c, "h", "listpack")
	kExpect(t, c, 1, "hset", "h", "one", "more")
	sExpectEnc(t, c, "h", "hashtable")
	kExpect(t, c, 513, "hlen", "h")
	kExpect(t, c, "v511", "hget", "h", "f511")
	// A field or value longer than the limit converts.
	long := strings.Repeat("x", 65)
	kExpect(t, c, 1, "hset", "v", "a", "1")
	kExpect(t, c, 1, "hset", "v", "b", long)
	sExpectEnc(t, c, "v", "hashtable")
	kExpect(t, c, long, "hget", "v", "b")
	kExpect(t, c, 1, "hset", "f", long, "1")
	sExpectEnc(t, c, "f", "hashtable")
	kExpect(t, c, 1, "hsetnx", "nx", long, "1")
	sExpectEnc(t, c, "nx", "hashtable")
	// HINCRBYFLOAT on a field too long for a listpack converts too.
	kExpect(t, c, "1.5", "hincrbyfloat", "inc", long, "1.5")
	sExpectEnc(t, c, "inc", "hashtable")
	// A new hash created with more pairs than the limit starts big.
	kExpect(t, c, "OK", "config", "set", "hash-max-listpack-entries", "4")
	kExpect(t, c, 5, append(sCmd("hset", "big"), hPairs(5)...)...)
	sExpectEnc(t, c, "big", "hashtable")
	// Deleting fields never converts back.
	kExpect(t, c, 4, "hdel", "big", "f0", "f1", "f2", "f3")
	sExpectEnc(t, c, "big", "hashtable")
	kExpect(t, c, []any{"f4", "v4"}, "hgetall", "big")
	kExpect(t, c, 1, "hdel", "big", "f4")
	kExpect(t, c, 0, "exists", "big")

	// COPY of a hashtable hash is deep.
	kExpect(t, c, 1, "copy", "h", "h2")
	kExpect(t, c, 1, "hset", "h2", "added", "1")
	kExpect(t, c, 513, "hlen", "h")
	kExpect(t, c, 514, "hlen", "h2")
	sExpectEnc(t, c, "h2", "hashtable")
}

func TestHashIncr(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, 5, "hincrby", "h", "n", 5)
	kExpect(t, c, 2, "hincrby", "h", "n", -3)
	kExpect(t, c, 1, "hset", "h", "s", "abc")
	kExpect(t, c, kErr("ERR hash value is not an integer"), "hincrby", "h", "s", 1)
	kExpect(t, c, kErr("ERR value is not an integer or out of range"), "hincrby", "h", "n", "x")
	kExpect(t, c, kErr("ERR value is not an integer or out of range"), "hincrby", "h", "n", "1.5")
	kExpect(t, c, 1, "hset", "h", "max", "9223372036854775807")
	kExpect(t, c, kErr("ERR increment or decrement would overflow"), "hincrby", "h", "max", 1)
	kExpect(t, c, 1, "hset", "h", "min", "-9223372036854775808")
	kExpect(t, c, kErr("ERR increment or decrement would overflow"), "hincrby", "h", "min", -1)
	kExpect(t, c, 1, "hset", "h", "sp", " 1")
	kExpect(t, c, kErr("ERR hash value is not an integer"), "hincrby", "h", "sp", 1)

	kExpect(t, c, "10.5", "hincrbyfloat", "h", "f", "10.5")
	kExpect(t, c, "10.6", "hincrbyfloat", "h", "f", "0.1")
	kExpect(t, c, "3.5", "hincrbyfloat", "h", "n", "1.5")
	kExpect(t, c, "3.5", "hget", "h", "n")
	kExpect(t, c, kErr("ERR hash value is not a float"), "hincrbyfloat", "h", "s", "1")
	kExpect(t, c, kErr("ERR value is not a valid float"), "hincrbyfloat", "h", "f", "x")
	kExpect(t, c, kErr("ERR value is not a valid float"), "hincrbyfloat", "h", "f", "nan")
	kExpect(t, c, kErr("ERR value is NaN or Infinity"), "hincrbyfloat", "h", "f", "inf")
	kExpect(t, c, 1, "hset", "h", "huge", "1e4932")
	kExpect(t, c, kErr("ERR increment would produce NaN or Infinity"), "hincrbyfloat", "h", "huge", "1e4932")
	kExpect(t, c, "10.6", "hget", "h", "f")
	kExpect(t, c, "-1", "hincrbyfloat", "neg", "f", "-1")
}

func TestHashRandField(t *testing.T) {
	t.Parallel()
	inst, c := sStart(t)
	for _, tc := range []struct {
		key string
		n   int
		enc string
	}{{"small", 20, "listpack"}, {"large", 600, "hashtable"}} {
		kExpect(t, c, tc.n, append(sCmd("hset", tc.key), hPairs(tc.n)...)...)
		sExpectEnc(t, c, tc.key, tc.enc)
		valid := func(f, v string) bool {
			i, err := strconv.Atoi(strings.TrimPrefix(f, "f"))
			return err == nil && i < tc.n && v == "v"+strconv.Itoa(i)
		}
		if f := kDo(t, c, "hrandfield", tc.key).(string); !valid(f, "v"+f[1:]) {
			t.Fatalf("%s: hrandfield returned %q", tc.enc, f)
		}
		for _, count := range []int{1, 3, tc.n / 2, tc.n - 1, tc.n, tc.n + 5} {
			got := kDo(t, c, "hrandfield", tc.key, count, "withvalues").([]any)
			want := min(count, tc.n)
			if len(got) != 2*want {
				t.Fatalf("%s: hrandfield %d withvalues: %d items", tc.enc, count, len(got))
			}
			seen := map[string]bool{}
			for i := 0; i < len(got); i += 2 {
				f, v := got[i].(string), got[i+1].(string)
				if !valid(f, v) || seen[f] {
					t.Fatalf("%s: hrandfield %d: bad or repeated pair %s=%s", tc.enc, count, f, v)
				}
				seen[f] = true
			}
			if fields := kDo(t, c, "hrandfield", tc.key, count).([]any); len(fields) != want {
				t.Fatalf("%s: hrandfield %d: %d fields", tc.enc, count, len(fields))
			}
		}
		got := kDo(t, c, "hrandfield", tc.key, -1000, "withvalues").([]any)
		if len(got) != 2000 {
			t.Fatalf("%s: negative count gave %d items", tc.enc, len(got))
		}
		for i := 0; i < len(got); i += 2 {
			if !valid(got[i].(string), got[i+1].(string)) {
				t.Fatalf("%s: bad pair %v=%v", tc.enc, got[i], got[i+1])
			}
		}
	}
	kExpect(t, c, nil, "hrandfield", "missing")
	kExpect(t, c, []any{}, "hrandfield", "missing", 5)
	kExpect(t, c, []any{}, "hrandfield", "small", 0)
	kExpect(t, c, kErr("ERR syntax error"), "hrandfield", "small", 1, "withscores")
	kExpect(t, c, kErr("ERR syntax error"), "hrandfield", "small", 1, "withvalues", "x")
	kExpect(t, c, kErr("ERR value is not an integer or out of range"), "hrandfield", "small", "x")
	kExpect(t, c, kErr("ERR value is out of range"), "hrandfield", "small", "-9223372036854770000", "withvalues")
	kExpect(t, c, kErr("ERR value is out of range, must be between -9223372036854775807 and 9223372036854775807"),
		"hrandfield", "small", "-9223372036854775808")

	// RESP3: WITHVALUES nests pairs; HGETALL is a map.
	r := inst.Raw(t)
	if _, err := r.Do("HELLO", "3"); err != nil {
		t.Fatal(err)
	}
	kind, v := sHeader(t, r, "hrandfield", "small", "3", "withvalues")
	if arr := v.([]any); kind != '*' || len(arr) != 3 || len(arr[0].([]any)) != 2 {
		t.Fatalf("RESP3 hrandfield withvalues: %q %v", kind, v)
	}
	kind, v = sHeader(t, r, "hrandfield", "small", "-3", "withvalues")
	if arr := v.([]any); kind != '*' || len(arr) != 3 || len(arr[0].([]any)) != 2 {
		t.Fatalf("RESP3 hrandfield -3 withvalues: %q %v", kind, v)
	}
	if kind, v = sHeader(t, r, "hgetall", "small"); kind != '%' || len(v.(map[string]any)) != 20 {
		t.Fatalf("RESP3 hgetall: %q %v", kind, v)
	}
	if kind, _ = sHeader(t, r, "hgetall", "missing"); kind != '%' {
		t.Fatalf("RESP3 hgetall of a missing key: %q", kind)
	}
	if kind, _ = sHeader(t, r, "hkeys", "small"); kind != '*' {
		t.Fatalf("RESP3 hkeys: %q", kind)
	}
}

func TestHashScan(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, 3, "hset", "small", "a", "1", "b", "2", "ab", "3")
	kExpect(t, c, []any{"0", []any{"a", "1", "b", "2", "ab", "3"}}, "hscan", "small", "0")
	kExpect(t, c, []any{"0", []any{"a", "1", "ab", "3"}}, "hscan", "small", "0", "match", "a*", "count", 1)
	kExpect(t, c, []any{"0", []any{}}, "hscan", "missing", "0")
	kExpect(t, c, kErr("ERR invalid cursor"), "hscan", "small", "abc")
	kExpect(t, c, kErr("ERR syntax error"), "hscan", "small", "0", "count", "0")

	kExpect(t, c, 1000, append(sCmd("hset", "big"), hPairs(1000)...)...)
	got := map[string]string{}
	cursor := "0"
	for calls := 0; ; calls++ {
		v := kDo(t, c, "hscan", "big", cursor, "count", 50).([]any)
		cursor = v[0].(string)
		items := v[1].([]any)
		for i := 0; i < len(items); i += 2 {
			got[items[i].(string)] = items[i+1].(string)
		}
		if cursor == "0" {
			if calls < 10 {
				t.Fatalf("hscan finished in %d calls", calls+1)
			}
			break
		}
	}
	if len(got) != 1000 || got["f999"] != "v999" {
		t.Fatalf("hscan returned %d fields", len(got))
	}
}

func TestHashErrors(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, "OK", "set", "str", "v")
	wrong := kErr("WRONGTYPE Operation against a key holding the wrong kind of value")
	for _, cmd := range [][]any{
		{"hset", "str", "a", "1"}, {"hsetnx", "str", "a", "1"}, {"hmset", "str", "a", "1"}, {"hget", "str", "a"},
		{"hmget", "str", "a"}, {"hgetall", "str"}, {"hkeys", "str"}, {"hvals", "str"}, {"hdel", "str", "a"},
		{"hlen", "str"}, {"hstrlen", "str", "a"}, {"hexists", "str", "a"}, {"hincrby", "str", "a", 1},
		{"hincrbyfloat", "str", "a", 1}, {"hrandfield", "str"}, {"hrandfield", "str", 2}, {"hscan", "str", 0},
	} {
		kExpect(t, c, wrong, cmd...)
	}
	kExpect(t, c, kErr("ERR wrong number of arguments for 'hset' command"), "hset", "h", "a", "1", "b")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'hmset' command"), "hmset", "h", "a", "1", "b")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'hset' command"), "hset", "h", "a")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'hget' command"), "hget", "h")
	kExpect(t, c, kErr("ERR wrong number of arguments for 'hincrby' command"), "hincrby", "h", "a")
	kExpect(t, c, 0, "exists", "h")
}

// TestHashModel runs random hash commands against a map model with small
// thresholds so conversions happen often.
func TestHashModel(t *testing.T) {
	t.Parallel()
	_, c := sStart(t, "hash-max-listpack-entries", "8", "hash-max-listpack-value", "6")
	model := map[string]string{}
	rnd := uint64(99)
	next := func(n int) int {
		rnd = rnd*6364136223846793005 + 1442695040888963407
		return int((rnd >> 33) % uint64(n))
	}
	for step := 0; step < 1500; step++ {
		f := "f" + strconv.Itoa(next(14))
		switch next(4) {
		case 0, 1:
			v := strings.Repeat("v", 1+next(8))
			_, had := model[f]
			model[f] = v
			kExpect(t, c, 1-hB2i(had), "hset", "h", f, v)
		case 2:
			_, had := model[f]
			delete(model, f)
			kExpect(t, c, hB2i(had), "hdel", "h", f)
		default:
			got := kDo(t, c, "hgetall", "h").([]any)
			m := map[string]string{}
			for i := 0; i < len(got); i += 2 {
				m[got[i].(string)] = got[i+1].(string)
			}
			if !reflect.DeepEqual(m, model) {
				t.Fatalf("step %d: hgetall %v, want %v", step, m, model)
			}
		}
	}
}

func hB2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// HSCAN NOVALUES (Redis 7.4, which redis-py's helpers send) returns the
// fields alone, in both encodings; the other SCANs refuse it as Redis 7.2.
func TestHscanNoValues(t *testing.T) {
	t.Parallel()
	_, c := sStart(t)
	kExpect(t, c, 2, "hset", "small", "a", "1", "b", "2")
	kExpect(t, c, []any{"0", []any{"a", "b"}}, "hscan", "small", "0", "novalues")
	kExpect(t, c, []any{"0", []any{"a"}}, "hscan", "small", "0", "match", "a", "NOVALUES", "count", "5")
	kExpect(t, c, []any{"0", []any{}}, "hscan", "missing", "0", "novalues")
	kExpect(t, c, 300, append([]any{"hset", "big"}, hPairs(300)...)...)
	ctx := t.Context()
	keys, cursor := []string{}, uint64(0)
	for {
		page, next, err := c.HScanNoValues(ctx, "big", cursor, "", 50).Result()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, page...)
		if cursor = next; cursor == 0 {
			break
		}
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, "f") {
			t.Fatalf("HSCAN NOVALUES returned a value: %q", k)
		}
		seen[k] = true
	}
	if len(seen) != 300 {
		t.Fatalf("HSCAN NOVALUES saw %d fields of 300", len(seen))
	}
	if err := c.Do(ctx, "sscan", "small", "0", "novalues").Err(); err == nil {
		t.Fatal("SSCAN NOVALUES accepted")
	}
	if err := c.Do(ctx, "hscan", "small", "0", "count").Err(); err == nil || err.Error() != "ERR syntax error" {
		t.Fatalf("HSCAN with COUNT and no value: %v", err)
	}
}
