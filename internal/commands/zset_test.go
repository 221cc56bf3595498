package commands_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// zErr is an error reply as zDo returns it.
type zErr string

func zDo(t testing.TB, c *redis.Client, args ...any) any {
	t.Helper()
	v, err := c.Do(kCtx, args...).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return zErr(err.Error())
	}
	return v
}

type zCase struct {
	args []any
	want any
}

func zRun(t *testing.T, c *redis.Client, cases []zCase) {
	t.Helper()
	for _, tc := range cases {
		got := zDo(t, c, tc.args...)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: got %#v, want %#v", tc.args, got, tc.want)
		}
	}
}

func zl(v ...any) []any {
	if v == nil {
		return []any{}
	}
	return v
}

// zEncodings runs f against a server whose sorted sets are small
// (listpack) and one where every sorted set is big (skiplist).
func zEncodings(t *testing.T, f func(t *testing.T, c *redis.Client, enc string)) {
	for _, enc := range []string{"listpack", "skiplist"} {
		t.Run(enc, func(t *testing.T) {
			entries := "128"
			if enc == "skiplist" {
				entries = "0"
			}
			srv := testutil.Start(t, "zset-max-listpack-entries", entries)
			f(t, srv.Client(t), enc)
		})
	}
}

func TestZsetBasics(t *testing.T) {
	zEncodings(t, func(t *testing.T, c *redis.Client, enc string) {
		zRun(t, c, []zCase{
			{zl("zadd", "z", "1", "a", "2", "b", "3", "c"), int64(3)},
			{zl("object", "encoding", "z"), enc},
			{zl("zadd", "z", "1.5", "a", "4", "d"), int64(1)},
			{zl("zadd", "z", "ch", "1.5", "a", "5", "d", "9", "e"), int64(2)},
			{zl("zcard", "z"), int64(5)},
			{zl("zrange", "z", "0", "-1", "withscores"), zl("a", "1.5", "b", "2", "c", "3", "d", "5", "e", "9")},
			{zl("zscore", "z", "a"), "1.5"},
			{zl("zscore", "z", "nope"), nil},
			{zl("zmscore", "z", "a", "nope", "e"), zl("1.5", nil, "9")},
			{zl("zmscore", "missing", "a"), zl(nil)},
			{zl("zrank", "z", "c"), int64(2)},
			{zl("zrevrank", "z", "c"), int64(2)},
			{zl("zrank", "z", "e", "withscore"), zl(int64(4), "9")},
			{zl("zrevrank", "z", "e", "WITHSCORE"), zl(int64(0), "9")},
			{zl("zrank", "z", "nope", "withscore"), nil},
			{zl("zrank", "z", "a", "bad"), zErr("ERR syntax error")},
			{zl("zrank", "z", "a", "withscore", "x"), zErr("ERR wrong number of arguments for 'zrank' command")},
			{zl("zincrby", "z", "10", "a"), "11.5"},
			{zl("zincrby", "z", "1", "new"), "1"},
			{zl("zrem", "z", "new", "nope"), int64(1)},
			{zl("zcount", "z", "(2", "+inf"), int64(4)},
			{zl("zcount", "z", "-inf", "(2"), int64(0)},
			{zl("zcount", "z", "x", "1"), zErr("ERR min or max is not a float")},
			{zl("zrem", "z", "a", "b", "c", "d", "e"), int64(5)},
			{zl("exists", "z"), int64(0)},
		})
	})
}

func TestZaddOptionsAndErrors(t *testing.T) {
	zEncodings(t, func(t *testing.T, c *redis.Client, enc string) {
		zRun(t, c, []zCase{
			{zl("zadd", "z", "xx", "1", "a"), int64(0)},
			{zl("exists", "z"), int64(0)},
			{zl("zadd", "z", "xx", "incr", "1", "a"), nil},
			{zl("zadd", "z", "nx", "1", "a"), int64(1)},
			{zl("zadd", "z", "nx", "5", "a", "2", "b"), int64(1)},
			{zl("zscore", "z", "a"), "1"},
			{zl("zadd", "z", "gt", "ch", "0", "a", "3", "b"), int64(1)},
			{zl("zadd", "z", "lt", "ch", "0", "a", "9", "b"), int64(1)},
			{zl("zrange", "z", "0", "-1", "withscores"), zl("a", "0", "b", "3")},
			{zl("zadd", "z", "gt", "incr", "-1", "a"), nil},
			{zl("zadd", "z", "incr", "2.5", "a"), "2.5"},
			{zl("zadd", "z", "nx", "xx", "1", "a"), zErr("ERR XX and NX options at the same time are not compatible")},
			{zl("zadd", "z", "gt", "lt", "1", "a"), zErr("ERR GT, LT, and/or NX options at the same time are not compatible")},
			{zl("zadd", "z", "nx", "gt", "1", "a"), zErr("ERR GT, LT, and/or NX options at the same time are not compatible")},
			{zl("zadd", "z", "incr", "1", "a", "2", "b"), zErr("ERR INCR option supports a single increment-element pair")},
			{zl("zadd", "z", "1", "a", "2"), zErr("ERR syntax error")},
			{zl("zadd", "z", "nan", "a"), zErr("ERR value is not a valid float")},
			{zl("zadd", "z", "1", "a", "x", "b"), zErr("ERR value is not a valid float")},
			{zl("zadd", "z", " 1", "a"), zErr("ERR value is not a valid float")},
			{zl("zadd", "z", "1e400", "a"), zErr("ERR value is not a valid float")},
			{zl("zadd", "z", "inf", "a"), int64(0)},
			{zl("zincrby", "z", "-inf", "a"), zErr("ERR resulting score is not a number (NaN)")},
			{zl("zadd", "z", "+inf", "p", "-inf", "m", "0x10", "h"), int64(3)},
			{zl("zrange", "z", "0", "-1", "withscores"), zl("m", "-inf", "b", "3", "h", "16", "a", "inf", "p", "inf")},
			{zl("zincrby", "z", "x", "a"), zErr("ERR value is not a valid float")},
			{zl("set", "s", "v"), "OK"},
			{zl("zadd", "s", "1", "a"), zErr("WRONGTYPE Operation against a key holding the wrong kind of value")},
			{zl("zscore", "s", "a"), zErr("WRONGTYPE Operation against a key holding the wrong kind of value")},
			{zl("zrange", "s", "0", "-1"), zErr("WRONGTYPE Operation against a key holding the wrong kind of value")},
			{zl("zadd", "z"), zErr("ERR wrong number of arguments for 'zadd' command")},
		})
	})
}

func TestZrangeForms(t *testing.T) {
	zEncodings(t, func(t *testing.T, c *redis.Client, enc string) {
		zDo(t, c, "zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
		zDo(t, c, "zadd", "lex", "0", "alpha", "0", "bar", "0", "cool", "0", "down", "0", "elephant")
		zRun(t, c, []zCase{
			{zl("zrange", "z", "1", "2"), zl("b", "c")},
			{zl("zrange", "z", "-2", "100"), zl("d", "e")},
			{zl("zrange", "z", "3", "1"), zl()},
			{zl("zrange", "z", "0", "0", "rev", "withscores"), zl("e", "5")},
			{zl("zrevrange", "z", "0", "1"), zl("e", "d")},
			{zl("zrange", "z", "(1", "4", "byscore"), zl("b", "c", "d")},
			{zl("zrange", "z", "4", "(1", "byscore", "rev", "limit", "1", "2"), zl("c", "b")},
			{zl("zrange", "z", "-inf", "+inf", "byscore", "limit", "-1", "2"), zl()},
			{zl("zrange", "z", "-inf", "+inf", "byscore", "limit", "3", "-1"), zl("d", "e")},
			{zl("zrangebyscore", "z", "2", "3", "withscores"), zl("b", "2", "c", "3")},
			{zl("zrevrangebyscore", "z", "+inf", "4"), zl("e", "d")},
			{zl("zrangebyscore", "z", "(3", "(3"), zl()},
			{zl("zrangebyscore", "z", "5", "1"), zl()},
			{zl("zrangebyscore", "z", "a", "1"), zErr("ERR min or max is not a float")},
			{zl("zrangebyscore", "z", "1", "2", "rev"), zErr("ERR syntax error")},
			{zl("zrange", "z", "0", "-1", "limit", "1", "2"), zErr("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")},
			{zl("zrange", "z", "-", "+", "bylex", "withscores"), zErr("ERR syntax error, WITHSCORES not supported in combination with BYLEX")},
			{zl("zrange", "z", "0", "-1", "limit", "x", "2", "byscore"), zErr("ERR value is not an integer or out of range")},
			{zl("zrange", "z", "a", "b"), zErr("ERR value is not an integer or out of range")},
			{zl("zrevrange", "z", "0", "-1", "byscore"), zErr("ERR syntax error")},
			{zl("zrange", "missing", "0", "-1"), zl()},
			{zl("zrangebylex", "lex", "-", "[cool"), zl("alpha", "bar", "cool")},
			{zl("zrangebylex", "lex", "(bar", "+", "limit", "1", "2"), zl("down", "elephant")},
			{zl("zrevrangebylex", "lex", "[down", "(alpha"), zl("down", "cool", "bar")},
			{zl("zrange", "lex", "+", "-", "bylex", "rev", "limit", "0", "1"), zl("elephant")},
			{zl("zlexcount", "lex", "[b", "(d"), int64(2)},
			{zl("zlexcount", "lex", "+", "-"), int64(0)},
			{zl("zrangebylex", "lex", "foo", "bar"), zErr("ERR min or max not valid string range item")},
			{zl("zlexcount", "lex", "-x", "+"), zErr("ERR min or max not valid string range item")},
			{zl("zrangestore", "dst", "z", "0", "1"), int64(2)},
			{zl("zrange", "dst", "0", "-1", "withscores"), zl("a", "1", "b", "2")},
			{zl("zrangestore", "dst", "z", "5", "(3", "byscore", "rev"), int64(2)},
			{zl("zrange", "dst", "0", "-1"), zl("d", "e")},
			{zl("zrangestore", "dst", "z", "0", "-1", "withscores"), zErr("ERR syntax error")},
			{zl("zrangestore", "dst", "z", "10", "20"), int64(0)},
			{zl("exists", "dst"), int64(0)},
			{zl("zrangestore", "dst", "missing", "0", "-1"), int64(0)},
		})
	})
}

func TestZremrangeAndPop(t *testing.T) {
	zEncodings(t, func(t *testing.T, c *redis.Client, enc string) {
		load := func() {
			zDo(t, c, "del", "z")
			zDo(t, c, "zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
		}
		load()
		zRun(t, c, []zCase{
			{zl("zremrangebyrank", "z", "1", "-2"), int64(3)},
			{zl("zrange", "z", "0", "-1"), zl("a", "e")},
			{zl("zremrangebyrank", "z", "x", "1"), zErr("ERR value is not an integer or out of range")},
			{zl("zremrangebyrank", "z", "5", "10"), int64(0)},
			{zl("zremrangebyrank", "z", "0", "-1"), int64(2)},
			{zl("exists", "z"), int64(0)},
		})
		load()
		zRun(t, c, []zCase{
			{zl("zremrangebyscore", "z", "(1", "3"), int64(2)},
			{zl("zremrangebyscore", "z", "x", "3"), zErr("ERR min or max is not a float")},
			{zl("zremrangebylex", "z", "[a", "[a"), int64(1)},
			{zl("zremrangebylex", "z", "a", "[a"), zErr("ERR min or max not valid string range item")},
			{zl("zrange", "z", "0", "-1"), zl("d", "e")},
		})
		load()
		zRun(t, c, []zCase{
			{zl("zpopmin", "z"), zl("a", "1")},
			{zl("zpopmax", "z", "2"), zl("e", "5", "d", "4")},
			{zl("zpopmin", "z", "0"), zl()},
			{zl("zpopmin", "z", "-1"), zErr("ERR value is out of range, must be positive")},
			{zl("zpopmin", "z", "x"), zErr("ERR value is not an integer or out of range")},
			{zl("zpopmin", "z", "1", "2"), zErr("ERR syntax error")},
			{zl("zpopmin", "missing"), zl()},
			{zl("zmpop", "2", "missing", "z", "min", "count", "10"), zl("z", zl(zl("b", "2"), zl("c", "3")))},
			{zl("exists", "z"), int64(0)},
			{zl("zmpop", "1", "z", "max"), nil},
			{zl("zmpop", "0", "z", "max"), zErr("ERR numkeys should be greater than 0")},
			{zl("zmpop", "1", "z", "middle"), zErr("ERR syntax error")},
			{zl("zmpop", "1", "z", "min", "count", "0"), zErr("ERR count should be greater than 0")},
			{zl("zmpop", "1", "z", "min", "count", "1", "count", "1"), zErr("ERR syntax error")},
			{zl("zmpop", "5", "z", "min"), zErr("ERR syntax error")},
		})
	})
}

func TestZsetOperations(t *testing.T) {
	zEncodings(t, func(t *testing.T, c *redis.Client, enc string) {
		zDo(t, c, "zadd", "za{t}", "1", "a", "2", "b", "3", "c")
		zDo(t, c, "zadd", "zb{t}", "1", "b", "2", "c", "3", "d")
		zDo(t, c, "sadd", "s{t}", "a", "d")
		zRun(t, c, []zCase{
			{zl("zunion", "2", "za{t}", "zb{t}", "withscores"), zl("a", "1", "b", "3", "d", "3", "c", "5")},
			{zl("zunion", "2", "za{t}", "zb{t}", "weights", "2", "3", "aggregate", "max", "withscores"), zl("a", "2", "b", "4", "c", "6", "d", "9")},
			{zl("zinter", "2", "za{t}", "zb{t}", "withscores"), zl("b", "3", "c", "5")},
			{zl("zinter", "2", "za{t}", "zb{t}", "aggregate", "min", "withscores"), zl("b", "1", "c", "2")},
			{zl("zintercard", "2", "za{t}", "zb{t}"), int64(2)},
			{zl("zintercard", "2", "za{t}", "zb{t}", "limit", "1"), int64(1)},
			{zl("zintercard", "2", "za{t}", "zb{t}", "limit", "-1"), zErr("ERR LIMIT can't be negative")},
			{zl("zintercard", "1", "za{t}", "za{t}"), zErr("ERR syntax error")},
			{zl("zdiff", "2", "za{t}", "zb{t}", "withscores"), zl("a", "1")},
			{zl("zdiff", "2", "za{t}", "s{t}"), zl("b", "c")},
			{zl("zunion", "2", "za{t}", "s{t}", "withscores"), zl("d", "1", "a", "2", "b", "2", "c", "3")},
			{zl("zinter", "2", "s{t}", "zb{t}", "weights", "10", "1", "withscores"), zl("d", "13")},
			{zl("zunionstore", "dst{t}", "2", "za{t}", "zb{t}"), int64(4)},
			{zl("zrange", "dst{t}", "0", "-1", "withscores"), zl("a", "1", "b", "3", "d", "3", "c", "5")},
			{zl("zinterstore", "dst{t}", "2", "za{t}", "zb{t}", "weights", "1", "0"), int64(2)},
			{zl("zrange", "dst{t}", "0", "-1", "withscores"), zl("b", "2", "c", "3")},
			{zl("zdiffstore", "dst{t}", "2", "za{t}", "za{t}"), int64(0)},
			{zl("exists", "dst{t}"), int64(0)},
			{zl("zunionstore", "za{t}", "2", "za{t}", "zb{t}"), int64(4)},
			{zl("zunion", "0", "za{t}"), zErr("ERR at least 1 input key is needed for 'zunion' command")},
			{zl("zunionstore", "d{t}", "0", "za{t}"), zErr("ERR at least 1 input key is needed for 'zunionstore' command")},
			{zl("zunion", "3", "za{t}", "zb{t}"), zErr("ERR syntax error")},
			{zl("zunion", "x", "za{t}"), zErr("ERR value is not an integer or out of range")},
			{zl("zunion", "2", "za{t}", "zb{t}", "weights", "1", "x"), zErr("ERR weight value is not a float")},
			{zl("zunion", "2", "za{t}", "zb{t}", "aggregate", "avg"), zErr("ERR syntax error")},
			{zl("zdiff", "2", "za{t}", "zb{t}", "weights", "1", "2"), zErr("ERR syntax error")},
			{zl("zunionstore", "d{t}", "2", "za{t}", "zb{t}", "withscores"), zErr("ERR syntax error")},
			{zl("zunion", "1", "missing{t}"), zl()},
			{zl("set", "str{t}", "x"), "OK"},
			{zl("zunion", "2", "za{t}", "str{t}"), zErr("WRONGTYPE Operation against a key holding the wrong kind of value")},
		})
		zDo(t, c, "zadd", "inf{t}", "inf", "a")
		zDo(t, c, "zadd", "ninf{t}", "-inf", "a")
		zRun(t, c, []zCase{
			{zl("zunion", "2", "inf{t}", "ninf{t}", "withscores"), zl("a", "0")},
			{zl("zunion", "1", "inf{t}", "weights", "0", "withscores"), zl("a", "0")},
		})
	})
}

func TestZsetRESP3Shapes(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client3(t)
	zDo(t, c, "zadd", "z", "1", "a", "2.5", "b")
	zRun(t, c, []zCase{
		{zl("zscore", "z", "b"), 2.5},
		{zl("zrange", "z", "0", "-1", "withscores"), zl(zl("a", 1.0), zl("b", 2.5))},
		{zl("zrank", "z", "b", "withscore"), zl(int64(1), 2.5)},
		{zl("zpopmin", "z", "1"), zl(zl("a", 1.0))},
		{zl("zpopmin", "z"), zl("b", 2.5)},
		{zl("zrank", "z", "b"), nil},
	})
}

func TestZsetEncodingConversion(t *testing.T) {
	srv := testutil.Start(t, "zset-max-listpack-entries", "4", "zset-max-listpack-value", "8")
	c := srv.Client(t)
	zRun(t, c, []zCase{
		{zl("zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d"), int64(4)},
		{zl("object", "encoding", "z"), "listpack"},
		{zl("zadd", "z", "5", "e"), int64(1)},
		{zl("object", "encoding", "z"), "skiplist"},
		{zl("zadd", "long", "1", "123456789"), int64(1)},
		{zl("object", "encoding", "long"), "skiplist"},
		{zl("zadd", "short", "1", "a"), int64(1)},
		{zl("zadd", "short", "1", "123456789"), int64(1)},
		{zl("object", "encoding", "short"), "skiplist"},
		{zl("zunionstore", "u", "1", "z"), int64(5)},
		{zl("object", "encoding", "u"), "skiplist"},
		{zl("zrangestore", "r", "z", "0", "3"), int64(4)},
		{zl("object", "encoding", "r"), "listpack"},
		{zl("zrangestore", "r", "z", "0", "4", "byscore"), int64(4)},
		{zl("object", "encoding", "r"), "skiplist"},
		{zl("expire", "z", "100"), int64(1)},
		{zl("zrem", "z", "a"), int64(1)},
		{zl("ttl", "z"), int64(100)},
		{zl("copy", "z", "z2"), int64(1)},
		{zl("zrem", "z", "b"), int64(1)},
		{zl("zcard", "z2"), int64(4)},
	})
}

func TestZscanAndRandmember(t *testing.T) {
	zEncodings(t, func(t *testing.T, c *redis.Client, enc string) {
		want := map[string]string{}
		args := []any{"zadd", "z"}
		for i := 0; i < 50; i++ {
			m := "m" + strconv.Itoa(i)
			s := strconv.FormatFloat(float64(i)/4, 'f', -1, 64)
			want[m] = s
			args = append(args, s, m)
		}
		zDo(t, c, args...)
		got := map[string]string{}
		cursor := "0"
		for i := 0; ; i++ {
			r := zDo(t, c, "zscan", "z", cursor, "count", "7").([]any)
			items := r[1].([]any)
			for j := 0; j < len(items); j += 2 {
				got[items[j].(string)] = items[j+1].(string)
			}
			cursor = r[0].(string)
			if cursor == "0" || i > 100 {
				break
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("zscan: got %v", got)
		}
		r := zDo(t, c, "zscan", "z", "0", "match", "m1*", "count", "1000").([]any)
		if n := len(r[1].([]any)); n != 22 {
			t.Errorf("zscan match: %d items", n)
		}
		zRun(t, c, []zCase{
			{zl("zscan", "z", "x"), zErr("ERR invalid cursor")},
			{zl("zscan", "z", "0", "count", "0"), zErr("ERR syntax error")},
			{zl("zscan", "missing", "0"), zl("0", zl())},
			{zl("zrandmember", "missing"), nil},
			{zl("zrandmember", "missing", "5"), zl()},
			{zl("zrandmember", "z", "0"), zl()},
			{zl("zrandmember", "z", "1", "x"), zErr("ERR syntax error")},
			{zl("zrandmember", "z", "-9223372036854775808"), zErr("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")},
			{zl("zrandmember", "z", "-9223372036854770000", "withscores"), zErr("ERR value is out of range")},
		})
		for _, n := range []int{5, 20, 49, 50, 80} {
			r := zDo(t, c, "zrandmember", "z", n, "withscores").([]any)
			seen := map[string]bool{}
			for j := 0; j < len(r); j += 2 {
				m := r[j].(string)
				if seen[m] || want[m] != r[j+1].(string) {
					t.Fatalf("zrandmember %d: bad or repeated %s", n, m)
				}
				seen[m] = true
			}
			if len(seen) != min(n, 50) {
				t.Errorf("zrandmember %d: %d members", n, len(seen))
			}
		}
		if r := zDo(t, c, "zrandmember", "z", "-100").([]any); len(r) != 100 {
			t.Errorf("negative count: %d", len(r))
		}
	})
}

// TestZsetModel drives random commands against a Go model of a sorted set
// at sizes that cross the listpack threshold both ways.
func TestZsetModel(t *testing.T) {
	srv := testutil.Start(t, "zset-max-listpack-entries", "16")
	c := srv.Client(t)
	rng := rand.New(rand.NewPCG(7, 9))
	model := map[string]float64{}
	sorted := func() []string {
		ms := make([]string, 0, len(model))
		for m := range model {
			ms = append(ms, m)
		}
		sort.Slice(ms, func(i, j int) bool {
			a, b := ms[i], ms[j]
			if model[a] != model[b] {
				return model[a] < model[b]
			}
			return a < b
		})
		return ms
	}
	for op := 0; op < 3000; op++ {
		m := fmt.Sprintf("m%d", rng.IntN(60))
		s := float64(rng.IntN(20))
		switch rng.IntN(6) {
		case 0, 1, 2:
			zDo(t, c, "zadd", "z", s, m)
			model[m] = s
		case 3:
			zDo(t, c, "zrem", "z", m)
			delete(model, m)
		case 4:
			zDo(t, c, "zincrby", "z", 1, m)
			model[m]++
		case 5:
			lo, hi := rng.IntN(10), 10+rng.IntN(10)
			got := zDo(t, c, "zrangebyscore", "z", lo, "("+strconv.Itoa(hi))
			var want []any
			for _, x := range sorted() {
				if model[x] >= float64(lo) && model[x] < float64(hi) {
					want = append(want, x)
				}
			}
			if want == nil {
				want = []any{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("op %d zrangebyscore %d %d: got %v want %v", op, lo, hi, got, want)
			}
			if len(model) > 0 {
				r := rng.IntN(len(model))
				x := sorted()[r]
				if got := zDo(t, c, "zrank", "z", x); got != int64(r) {
					t.Fatalf("zrank %s: %v want %d", x, got, r)
				}
			}
		}
		if op%200 == 0 {
			var want []any
			for _, x := range sorted() {
				want = append(want, x, strconv.FormatFloat(model[x], 'f', -1, 64))
			}
			if want == nil {
				want = []any{}
			}
			got := zDo(t, c, "zrange", "z", 0, -1, "withscores")
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("op %d: got %v want %v", op, got, want)
			}
		}
	}
}
