package command

import (
	"reflect"
	"strings"
	"testing"
)

func byteArgs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// A count no argument list can hold finds no key, however it overflows
// first+(count-1)*step; it used to wrap around and have the spec append
// billions of positions (ZUNIONSTORE d 9223372036854775807 k ran the
// server out of memory while locking its keys).
func TestSpanHugeCount(t *testing.T) {
	for _, step := range []int{1, 2, 3} {
		for _, count := range []string{"9223372036854775807", "9223372036854775806",
			"4611686018427387905", "3074457345618258603", "2147483648", "4"} {
			ks := KeySpec{BeginIndex: 2, KeyNumIdx: 1, FirstKey: 1, Step: step}
			args := byteArgs("zunionstore", "d", count, "k")
			if first, end, _ := ks.Span(args); first < end {
				t.Errorf("step %d, count %s: keys %d..%d", step, count, first, end)
			}
			c := &Command{KeySpecs: []KeySpec{ks}}
			if got := c.KeyIndexes(nil, args); len(got) != 0 {
				t.Errorf("step %d, count %s: KeyIndexes = %v", step, count, got)
			}
		}
	}
	// The largest count that fits still finds every key.
	ks := KeySpec{BeginIndex: 2, KeyNumIdx: 1, FirstKey: 2, Step: 2}
	c := &Command{KeySpecs: []KeySpec{ks}}
	if got, want := c.KeyIndexes(nil, byteArgs("x", "y", "3", "k1", "v", "k2", "v", "k3")), []int{3, 5, 7}; !reflect.DeepEqual(got, want) {
		t.Errorf("KeyIndexes = %v, want %v", got, want)
	}
	if got := c.KeyIndexes(nil, byteArgs("x", "y", "4", "k1", "v", "k2", "v", "k3")); len(got) != 0 {
		t.Errorf("one key too many: KeyIndexes = %v", got)
	}
}

// Finding keys allocates nothing, also when the keyword search passes
// arguments longer than a string conversion's stack buffer.
func TestSpanNoAllocs(t *testing.T) {
	long := strings.Repeat("a-long-key-name-", 4)
	fwd := KeySpec{Flags: []string{"RO", "access"}, Keyword: "STREAMS", KeywordStart: 1, LastKey: -1, Step: 1}
	back := KeySpec{Flags: []string{"RW", "access", "delete"}, Keyword: "KEYS", KeywordStart: -2, LastKey: -1, Step: 1}
	fargs := byteArgs("xread", long, long, "streams", long, "0")
	bargs := byteArgs("migrate", "h", "1", "", "0", "5", "keys", long, long, long)
	buf := make([]int, 0, 8)
	n := testing.AllocsPerRun(100, func() {
		if first, end, _ := fwd.Span(fargs); end-first != 2 {
			t.Fatalf("forward search: %d..%d", first, end)
		}
		if first, end, _ := back.Span(bargs); end-first != 3 {
			t.Fatalf("backward search: %d..%d", first, end)
		}
		buf = back.appendKeys(buf[:0], bargs)
		if fwd.FlagBits() != KeyRO|KeyAccess {
			t.Fatal("flag bits")
		}
	})
	if n != 0 {
		t.Errorf("%v allocs", n)
	}
}

func TestParseKeySpecFlags(t *testing.T) {
	for _, tc := range []struct {
		flags []string
		want  KeySpecFlag
	}{
		{nil, 0},
		{[]string{"RO", "access"}, KeyRO | KeyAccess},
		{[]string{"rw", "ACCESS", "Update", "variable_flags"}, KeyRW | KeyAccess | KeyUpdate | KeyVariableFlags},
		{[]string{"OW", "RM", "insert", "delete", "not_key", "incomplete"}, KeyOW | KeyRM | KeyInsert | KeyDelete | KeyNotKey | KeyIncomplete},
		{[]string{"nonsense", "RO"}, KeyRO},
		// ASCII case only, as acl.KeyAccessFromFlags: the Kelvin sign is
		// not a k.
		{[]string{"not_\u212Aey"}, 0},
	} {
		if got := ParseKeySpecFlags(tc.flags); got != tc.want {
			t.Errorf("%q: %b, want %b", tc.flags, got, tc.want)
		}
	}
}

// Register works out each command's effective key specs once, parsed,
// without touching the specs the command declared (other commands and
// tables may share them); an unregistered command gets the same answer.
func TestRegisterResolvesKeySpecs(t *testing.T) {
	shared := []KeySpec{{Flags: []string{"OW", "update"}, BeginIndex: 1, LastKey: 0, Step: 1}}
	build := func() []*Command {
		return []*Command{
			{Name: "specs", Arity: -2, KeySpecs: shared},
			{Name: "legacy-w", Arity: -2, Flags: Write, FirstKey: 1, LastKey: -1, Step: 2},
			{Name: "legacy-r", Arity: -2, Flags: ReadOnly, FirstKey: 2, LastKey: 3},
			{Name: "legacy-none", Arity: -2, FirstKey: 1, LastKey: 1, Step: 1},
			{Name: "nokeys", Arity: 1},
			{Name: "box", Arity: -2, Subcommands: []*Command{{Name: "box|sub", Arity: -3, Flags: Write, FirstKey: 2, LastKey: 2, Step: 1}}},
		}
	}
	want := map[string][]KeySpec{
		"specs":       shared,
		"legacy-w":    {{Flags: []string{"RW", "update"}, BeginIndex: 1, LastKey: -1, Step: 2}},
		"legacy-r":    {{Flags: []string{"RO", "access"}, BeginIndex: 2, LastKey: 1, Step: 1}},
		"legacy-none": {{Flags: []string{"RO"}, BeginIndex: 1, LastKey: 0, Step: 1}},
		"nokeys":      nil,
		"box":         nil,
		"box|sub":     {{Flags: []string{"RW", "update"}, BeginIndex: 2, LastKey: 0, Step: 1}},
	}
	registered := build()
	NewTable().Register(registered...)
	for i, unregistered := range build() {
		for j, c := range []*Command{registered[i], unregistered} {
			cmds := append([]*Command{c}, c.Subcommands...)
			for _, c := range cmds {
				got := c.EffectiveKeySpecs()
				if len(got) != len(want[c.Name]) {
					t.Fatalf("%s: %d specs, want %d", c.Name, len(got), len(want[c.Name]))
				}
				for k := range got {
					g, w := got[k], want[c.Name][k]
					if !reflect.DeepEqual(g.Flags, w.Flags) || g.BeginIndex != w.BeginIndex || g.LastKey != w.LastKey || g.Step != w.Step {
						t.Errorf("%s: spec %+v, want %+v", c.Name, g, w)
					}
					if g.FlagBits() != ParseKeySpecFlags(w.Flags) {
						t.Errorf("%s: flag bits %b", c.Name, g.FlagBits())
					}
					if registered := j == 0; g.parsed != registered {
						t.Errorf("%s: parsed = %v, registered = %v", c.Name, g.parsed, registered)
					}
				}
			}
		}
	}
	if shared[0].parsed {
		t.Error("Register wrote into the command's own KeySpecs")
	}
}
