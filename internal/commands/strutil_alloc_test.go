package commands

import (
	"testing"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// hotCommands are the benchmark's hot path: in the steady state (the reply
// buffer and the keyspace records already sized) they must not allocate.
var hotCommands = [][]string{
	{"GET", "k"},
	{"GET", "n"},
	{"GET", "missing"},
	{"SET", "k", "value"},
	{"SET", "n", "12345"},
	{"SET", "k", "value", "EX", "100", "XX"},
	{"SET", "k", "value", "KEEPTTL", "GET"},
	{"INCR", "c"},
	{"INCRBY", "c", "2"},
	{"DECR", "c"},
	{"MGET", "k", "n", "missing"},
	{"MSET", "k", "value", "n", "12345"},
	{"STRLEN", "k"},
	{"DELIFEQ", "missing", "x"},
}

// directCtx returns a context on a fresh keyspace and the command table of
// this group, to call handlers without a server.
func directCtx(tb testing.TB) (*command.Ctx, *command.Table) {
	tb.Helper()
	t := command.NewTable()
	t.Register(stringCommands()...)
	st := keyspace.New(1)
	return &command.Ctx{W: &resp.Writer{}, DB: st.DB(0)}, t
}

func runDirect(c *command.Ctx, t *command.Table, args [][]byte) {
	c.Args = args
	c.Cmd = t.Lookup(args[0])
	c.W.Reset()
	c.Cmd.Handler(c)
}

func toArgs(s []string) [][]byte {
	out := make([][]byte, len(s))
	for i, a := range s {
		out[i] = []byte(a)
	}
	return out
}

func TestHotPathAllocations(t *testing.T) {
	c, tab := directCtx(t)
	for _, cmd := range hotCommands {
		args := toArgs(cmd)
		for range 3 { // warm up: create the records, size the reply buffer
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

func BenchmarkHotPath(b *testing.B) {
	for _, cmd := range hotCommands {
		b.Run(cmd[0]+"_"+cmd[1], func(b *testing.B) {
			c, tab := directCtx(b)
			args := toArgs(cmd)
			runDirect(c, tab, args)
			b.ReportAllocs()
			for b.Loop() {
				runDirect(c, tab, args)
			}
		})
	}
}
