package commands

import (
	"testing"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// zsetHot are the sorted-set calls redis-benchmark and leaderboards make
// most: once the member exists they must not allocate, small or big.
var zsetHot = [][]string{
	{"ZADD", "small", "1", "element:1"},
	{"ZADD", "big", "7", "m3"},
	{"ZINCRBY", "big", "0", "m5"},
	{"ZSCORE", "big", "m9"},
	{"ZRANK", "big", "m9"},
	{"ZREVRANK", "small", "element:1"},
	{"ZRANGE", "big", "0", "9", "WITHSCORES"},
	{"ZREVRANGE", "small", "0", "9"},
	{"ZCARD", "big"},
	{"ZCOUNT", "big", "(1", "+inf"},
}

func zsetDirect(tb testing.TB) (*command.Ctx, *command.Table) {
	tb.Helper()
	t := command.NewTable()
	t.Register(zsetCommands()...)
	st := keyspace.New(1)
	c := &command.Ctx{W: &resp.Writer{}, DB: st.DB(0)}
	args := []string{"ZADD", "big"}
	for i := range 300 {
		args = append(args, "1", "m"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	args = append(args, "1", "m3", "1", "m5", "1", "m9")
	runDirect(c, t, toArgs(args))
	return c, t
}

func TestZsetHotPathAllocations(t *testing.T) {
	c, tab := zsetDirect(t)
	for _, cmd := range zsetHot {
		args := toArgs(cmd)
		for range 3 {
			runDirect(c, tab, args)
		}
		if c.W.Len() > 0 && c.W.Buf[0] == '-' {
			t.Fatalf("%v: %s", cmd, c.W.Buf)
		}
		if n := testing.AllocsPerRun(200, func() { runDirect(c, tab, args) }); n != 0 {
			t.Errorf("%v: %.1f allocations per call, want 0", cmd, n)
		}
	}
}

func BenchmarkZsetHotPath(b *testing.B) {
	for _, cmd := range zsetHot {
		b.Run(cmd[0]+"_"+cmd[1], func(b *testing.B) {
			c, tab := zsetDirect(b)
			args := toArgs(cmd)
			runDirect(c, tab, args)
			b.ReportAllocs()
			for b.Loop() {
				runDirect(c, tab, args)
			}
		})
	}
}
