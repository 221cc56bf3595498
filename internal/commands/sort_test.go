package commands_test

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"testing"

	"github.com/corvid-db/corvid/internal/testutil"
)

func TestSortNumericAndAlpha(t *testing.T) {
	srv := testutil.Start(t)
	c := lClient(t, srv)
	lDo(t, c, "rpush", "l", "3", "1", "2", "10", "-5", "1.5")
	lDo(t, c, "sadd", "s", "5", "3", "9", "1")
	lDo(t, c, "sadd", "sa", "b", "a", "c")
	lDo(t, c, "zadd", "z", "1", "a", "5", "b", "2", "c", "10", "d", "3", "e")
	lDo(t, c, "rpush", "ints", "2", "1", "3", "10")
	lDo(t, c, "rpush", "odd", "", " 1", "0x10", "inf", "-inf")
	lDo(t, c, "rpush", "ties", "1", "01", "1.0", "+1", "0x1")
	lRun(t, c, []lCase{
		{la("sort", "l"), []string{"-5", "1", "1.5", "2", "3", "10"}},
		{la("sort", "l", "desc"), []string{"10", "3", "2", "1.5", "1", "-5"}},
		{la("sort", "l", "alpha"), []string{"-5", "1", "1.5", "10", "2", "3"}},
		{la("sort", "l", "ALPHA", "DESC"), []string{"3", "2", "10", "1.5", "1", "-5"}},
		{la("sort", "l", "desc", "asc"), []string{"-5", "1", "1.5", "2", "3", "10"}},
		{la("sort", "ints", "alpha"), []string{"1", "10", "2", "3"}},
		{la("sort", "s"), []string{"1", "3", "5", "9"}},
		{la("sort", "s", "desc"), []string{"9", "5", "3", "1"}},
		{la("sort", "sa", "alpha"), []string{"a", "b", "c"}},
		{la("sort", "z", "alpha", "desc"), []string{"e", "d", "c", "b", "a"}},
		{la("sort_ro", "l"), []string{"-5", "1", "1.5", "2", "3", "10"}},
		// strtod's view of numbers: empty is 0, leading space, hex, infinities.
		{la("sort", "odd"), []string{"-inf", "", " 1", "0x10", "inf"}},
		// Equal scores fall back to the elements' bytes, reversed by DESC.
		{la("sort", "ties"), []string{"+1", "01", "0x1", "1", "1.0"}},
		{la("sort", "ties", "desc"), []string{"1.0", "1", "0x1", "01", "+1"}},
		{la("sort", "missing"), []string{}},
		{la("sort_ro", "missing", "alpha"), []string{}},
	})
	floats := []string{"1.1", "5.10", "3.10", "7.44", "2.1", "5.75", "6.12", "0.25", "1.15"}
	for _, f := range floats {
		lDo(t, c, "lpush", "fl", f)
	}
	want := slices.Clone(floats)
	slices.SortFunc(want, func(a, b string) int {
		x, _ := strconv.ParseFloat(a, 64)
		y, _ := strconv.ParseFloat(b, 64)
		return int(x*100) - int(y*100)
	})
	lRun(t, c, []lCase{{la("sort", "fl"), want}})
}

func TestSortLimit(t *testing.T) {
	srv := testutil.Start(t)
	c := lClient(t, srv)
	lDo(t, c, "rpush", "l", "5", "3", "4", "1", "2")
	lDo(t, c, "zadd", "z", "1", "a", "5", "b", "2", "c", "10", "d", "3", "e")
	lRun(t, c, []lCase{
		{la("sort", "l", "limit", "1", "2"), []string{"2", "3"}},
		{la("sort", "l", "limit", "0", "0"), []string{}},
		{la("sort", "l", "limit", "-10", "2"), []string{"1", "2"}},
		{la("sort", "l", "limit", "3", "-1"), []string{"4", "5"}},
		{la("sort", "l", "limit", "3", "100"), []string{"4", "5"}},
		{la("sort", "l", "limit", "5", "1"), []string{}},
		{la("sort", "l", "limit", "100", "100"), []string{}},
		{la("sort", "l", "limit", "9223372036854775807", "9223372036854775807"), []string{}},
		{la("sort", "l", "limit", "-9223372036854775808", "9223372036854775807"), []string{"1", "2", "3", "4", "5"}},
		{la("sort", "l", "limit", "0", "1", "limit", "1", "1"), []string{"2"}},
		{la("sort", "l", "desc", "limit", "0", "2"), []string{"5", "4"}},
		// BY nosort keeps the list order, ranges it, and DESC walks from the tail.
		{la("sort", "l", "by", "nosort"), []string{"5", "3", "4", "1", "2"}},
		{la("sort", "l", "by", "nosort", "desc"), []string{"2", "1", "4", "3", "5"}},
		{la("sort", "l", "by", "nosort", "limit", "1", "2"), []string{"3", "4"}},
		{la("sort", "l", "by", "nosort", "desc", "limit", "1", "2"), []string{"1", "4"}},
		{la("sort", "l", "by", "nosort", "limit", "4", "10"), []string{"2"}},
		{la("sort", "l", "by", "nosort", "limit", "5", "10"), []string{}},
		// A sorted set BY nosort comes in score order.
		{la("sort", "z", "by", "nosort"), []string{"a", "c", "e", "b", "d"}},
		{la("sort", "z", "by", "nosort", "desc"), []string{"d", "b", "e", "c", "a"}},
		{la("sort", "z", "by", "nosort", "asc", "limit", "0", "2"), []string{"a", "c"}},
		{la("sort", "z", "by", "nosort", "desc", "limit", "0", "2"), []string{"d", "b"}},
		{la("sort", "z", "by", "nosort", "desc", "limit", "1", "2"), []string{"b", "e"}},
		{la("sort", "z", "by", "nosort", "limit", "5", "10"), []string{}},
		{la("sort", "z", "by", "nosort", "limit", "-10", "100"), []string{"a", "c", "e", "b", "d"}},
	})
}

func TestSortByAndGet(t *testing.T) {
	srv := testutil.Start(t)
	c := lClient(t, srv)
	lDo(t, c, "rpush", "l", "3", "1", "2", "10")
	lDo(t, c, "mset", "w_3", "30", "w_1", "10", "w_2", "20", "w_10", "5")
	lDo(t, c, "hset", "h_1", "f", "7")
	lDo(t, c, "hset", "h_3", "f", "1")
	lDo(t, c, "hset", "h_10", "f", "3", "g", "x")
	lDo(t, c, "rpush", "eq", "b", "a", "c", "d")
	lDo(t, c, "mset", "q_a", "1", "q_b", "1", "q_c", "1", "n:a", "x", "n:b", "y")
	lDo(t, c, "rpush", "lk", "1") // a list: neither a weight nor a GET value
	lDo(t, c, "set", "x:a->", "100")
	lDo(t, c, "rpush", "la", "a")
	lRun(t, c, []lCase{
		{la("sort", "l", "by", "w_*"), []string{"10", "1", "2", "3"}},
		{la("sort", "l", "by", "w_*", "desc"), []string{"3", "2", "1", "10"}},
		{la("sort", "l", "by", "w_*", "alpha"), []string{"1", "2", "3", "10"}},
		{la("sort", "l", "by", "w_*", "limit", "1", "2"), []string{"1", "2"}},
		// Missing hash fields weigh 0 (numeric) and come first (ALPHA).
		{la("sort", "l", "by", "h_*->f"), []string{"2", "3", "10", "1"}},
		{la("sort", "l", "by", "h_*->f", "alpha"), []string{"2", "3", "10", "1"}},
		{la("sort", "l", "by", "h_*->f", "get", "h_*->f", "get", "#"),
			[]any{nil, "2", "1", "3", "3", "10", "7", "1"}},
		{la("sort", "l", "get", "#", "get", "w_*", "get", "h_*->g"),
			[]any{"1", "10", nil, "2", "20", nil, "3", "30", nil, "10", "5", "x"}},
		// GET of a constant, a wrong type or a missing key is null.
		{la("sort", "l", "get", "foo"), []any{nil, nil, nil, nil}},
		{la("sort", "l", "by", "nosort", "get", "lk*"), []any{nil, nil, nil, nil}},
		{la("sort_ro", "l", "by", "nosort", "get", "w_*"), []any{"30", "10", "20", "5"}},
		// Equal numeric weights sort by the element; in ALPHA mode they keep
		// their order, and a missing weight sorts first.
		{la("sort", "eq", "by", "q_*"), []string{"d", "a", "b", "c"}},
		{la("sort", "eq", "by", "q_*", "desc"), []string{"c", "b", "a", "d"}},
		{la("sort", "eq", "by", "q_*", "alpha"), []string{"d", "b", "a", "c"}},
		{la("sort", "eq", "by", "q_*", "alpha", "desc"), []string{"b", "a", "c", "d"}},
		{la("sort", "eq", "by", "n:*", "alpha", "desc"), []string{"b", "a", "c", "d"}},
		{la("sort", "eq", "by", "lk*"), []string{"a", "b", "c", "d"}},
		// "->" with nothing after it is part of the key name.
		{la("sort", "la", "by", "num", "get", "x:*->"), []any{"100"}},
		{la("sort_ro", "la", "by", "nosort", "get", "x:*->"), []any{"100"}},
		// The first '*' is the one replaced.
		{la("sort", "la", "by", "nosort", "get", "*->*"), []any{nil}},
		// A BY without '*' turns sorting off even when a later BY has one.
		{la("sort", "l", "by", "nosort", "by", "w_*"), []string{"3", "1", "2", "10"}},
	})
}

func TestSortRandomWeights(t *testing.T) {
	srv := testutil.Start(t)
	c := lClient(t, srv)
	ctx := context.Background()
	for _, n := range []int{16, 600} {
		for _, push := range []string{"rpush", "sadd"} {
			c.FlushAll(ctx)
			type iw struct {
				i int
				w float64
			}
			var items []iw
			seen := map[float64]bool{}
			pipe := c.Pipeline()
			for i := range n {
				w := rand.Float64()
				for seen[w] {
					w = rand.Float64()
				}
				seen[w] = true
				items = append(items, iw{i, w})
				pipe.Do(ctx, push, "tosort", i)
				pipe.Set(ctx, fmt.Sprintf("weight_%d", i), w, 0)
				pipe.HSet(ctx, fmt.Sprintf("wobj_%d", i), "weight", w)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(items, func(a, b iw) int {
				if a.w < b.w {
					return -1
				}
				return 1
			})
			want := make([]string, n)
			for k, it := range items {
				want[k] = strconv.Itoa(it.i)
			}
			lRun(t, c, []lCase{
				{la("sort", "tosort", "by", "weight_*"), want},
				{la("sort", "tosort", "by", "wobj_*->weight"), want},
				{la("sort", "tosort", "by", "weight_*", "limit", "5", "5"), want[5:10]},
				{la("sort", "tosort", "by", "wobj_*->weight", "limit", "5", "5"), want[5:10]},
			})
		}
	}
}

func TestSortStore(t *testing.T) {
	srv := testutil.Start(t, "list-max-listpack-size", "16")
	c := lClient(t, srv)
	lDo(t, c, "rpush", "l", "5", "3", "4", "1", "2")
	lDo(t, c, "sadd", "s", "m", "a", "z", "c")
	lDo(t, c, "mset", "w_1", "x")
	lDo(t, c, "set", "dst", "old")
	lDo(t, c, "expire", "dst", "100")
	lRun(t, c, []lCase{
		{la("sort", "l", "store", "dst"), 5},
		{la("ttl", "dst"), -1}, // a new value: the old TTL goes
		{la("lrange", "dst", "0", "-1"), []string{"1", "2", "3", "4", "5"}},
		{la("object", "encoding", "dst"), "listpack"},
		{la("sort", "l", "desc", "limit", "1", "2", "store", "dst"), 2},
		{la("lrange", "dst", "0", "-1"), []string{"4", "3"}},
		{la("sort", "l", "by", "nosort", "limit", "0", "3", "store", "dst"), 3},
		{la("lrange", "dst", "0", "-1"), []string{"5", "3", "4"}},
		// Missing GET values are stored as empty strings.
		{la("sort", "l", "get", "#", "get", "w_*", "limit", "0", "2", "store", "dst"), 4},
		{la("lrange", "dst", "0", "-1"), []string{"1", "x", "2", ""}},
		// A set is sorted even BY nosort when stored, so replicas agree.
		{la("sort", "s", "by", "nosort", "store", "dst"), 4},
		{la("lrange", "dst", "0", "-1"), []string{"a", "c", "m", "z"}},
		// Sorting a key onto itself.
		{la("sort", "l", "store", "l"), 5},
		{la("lrange", "l", "0", "-1"), []string{"1", "2", "3", "4", "5"}},
		// An empty result deletes the destination and creates nothing.
		{la("sort", "missing", "store", "dst"), 0},
		{la("exists", "dst"), 0},
		{la("sort", "l", "limit", "10", "10", "store", "dst"), 0},
		{la("exists", "dst"), 0},
		// The last STORE wins.
		{la("sort", "l", "store", "a", "store", "b"), 5},
		{la("exists", "a", "b"), 1},
		{la("lrange", "b", "0", "-1"), []string{"1", "2", "3", "4", "5"}},
	})
	// Past list-max-listpack-size the result is a quicklist.
	args := []any{"rpush", "big"}
	for i := range 17 {
		args = append(args, i)
	}
	lDo(t, c, args...)
	lRun(t, c, []lCase{
		{la("sort", "big", "limit", "0", "16", "store", "dst"), 16},
		{la("object", "encoding", "dst"), "listpack"},
		{la("sort", "big", "store", "dst"), 17},
		{la("object", "encoding", "dst"), "quicklist"},
		{la("llen", "dst"), 17},
	})
}

func TestSortErrors(t *testing.T) {
	srv := testutil.Start(t)
	c := lClient(t, srv)
	lDo(t, c, "rpush", "l", "1", "2")
	lDo(t, c, "set", "str", "x")
	lDo(t, c, "hset", "h", "f", "v")
	lDo(t, c, "sadd", "bad", "1", "2", "not-a-double")
	lDo(t, c, "sadd", "s", "1", "2")
	lDo(t, c, "mset", "score:1", "10", "score:2", "no")
	lDo(t, c, "rpush", "nan", "nan")
	lDo(t, c, "rpush", "big", "1e400")
	lDo(t, c, "set", "dst", "keep")
	const syntax = "!ERR syntax error"
	const notInt = "!ERR value is not an integer or out of range"
	const notDouble = "!ERR One or more scores can't be converted into double"
	lRun(t, c, []lCase{
		{la("sort", "str"), "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{la("sort", "h", "alpha"), "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{la("sort", "str", "blah"), syntax}, // options are checked first
		{la("sort", "l", "foo"), syntax},
		{la("sort", "l", "limit", "1"), syntax},
		{la("sort", "l", "limit", "a", "1"), notInt},
		{la("sort", "l", "limit", "1", "1.5"), notInt},
		{la("sort", "l", "by"), syntax},
		{la("sort", "l", "get"), syntax},
		{la("sort", "l", "store"), syntax},
		{la("sort_ro", "l", "store", "dst"), syntax},
		{la("sort", "bad"), notDouble},
		{la("sort", "s", "by", "score:*"), notDouble},
		{la("sort", "nan"), notDouble},
		{la("sort", "big"), notDouble},
		{la("sort", "bad", "store", "dst"), notDouble},
		{la("get", "dst"), "keep"}, // a failed SORT stores nothing
		{la("sort", "bad", "alpha"), []string{"1", "2", "not-a-double"}},
	})
}

func TestSortCommandInfo(t *testing.T) {
	srv := testutil.Start(t)
	c := lClient(t, srv)
	lRun(t, c, []lCase{
		{la("command", "getkeys", "sort", "abc", "store", "def"), []string{"abc", "def"}},
		{la("command", "getkeys", "sort", "abc", "store", "invalid", "store", "stillbad", "store", "def"), []string{"abc", "def"}},
		{la("command", "getkeys", "sort", "abc", "get", "store", "by", "store", "limit", "store", "store"), []string{"abc"}},
		{la("command", "getkeys", "sort_ro", "abc"), []string{"abc"}},
	})
	info := lDo(t, c, "command", "info", "sort", "sort_ro").([]any)
	for i, want := range []struct {
		name  string
		arity int64
		flags []any
	}{
		{"sort", -2, []any{"write", "denyoom", "movablekeys"}},
		{"sort_ro", -2, []any{"readonly", "movablekeys"}},
	} {
		e := info[i].([]any)
		if e[0] != want.name || e[1] != want.arity || !slices.Equal(e[2].([]any), want.flags) ||
			e[3] != int64(1) || e[4] != int64(1) || e[5] != int64(1) {
			t.Errorf("COMMAND INFO %s: %v", want.name, e[:6])
		}
	}
}

func TestSortStoreWakesBlockedPop(t *testing.T) {
	srv := testutil.Start(t)
	c := lClient(t, srv)
	lDo(t, c, "rpush", "src", "3", "1", "2")
	for _, tc := range []struct {
		args []any
		want any
	}{
		{la("blpop", "dst", "0"), []any{"dst", "1"}},
		{la("blmpop", "0", "1", "dst", "left"), []any{"dst", []any{"1"}}},
	} {
		lDo(t, c, "del", "dst")
		ch := async(t, srv, tc.args...)
		waitBlocked(t, c, 1)
		lRun(t, c, []lCase{{la("sort", "src", "store", "dst"), 3}})
		expectReply(t, recv(t, ch), tc.want)
		lRun(t, c, []lCase{{la("lrange", "dst", "0", "-1"), []string{"2", "3"}}})
	}
}
