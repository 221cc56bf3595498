package server_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/corvid-db/corvid/internal/acl"
	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/resp"
	"github.com/corvid-db/corvid/internal/server"
)

// TestCommandKeyExtractionMatchesReference proves the allocation-free key
// extraction (COMMAND GETKEYS's extractKeys and the keys aclVerdict
// checks) finds what the extraction it replaced found, kept below as
// ref*: the same positions in the same order, the same flags, the same
// access demanded. It runs every command and subcommand of the table on
// cmdExamples's argument lists and on random ones shaped after the
// command's key specs, reusing one key buffer throughout as the client
// does.
func TestCommandKeyExtractionMatchesReference(t *testing.T) {
	srv, err := server.New(config.New())
	if err != nil {
		t.Fatal(err)
	}
	tab := srv.Table
	var all []*command.Command
	for _, c := range tab.All() {
		all = append(all, c)
		all = append(all, c.Subcommands...)
	}
	// Shapes the table does not have (yet), registered or not.
	all = append(all, oddKeyCommands()...)
	registered := command.NewTable()
	registered.Register(oddKeyCommands()...)
	all = append(all, registered.All()...)

	var buf []acl.KeyRef
	calls, withKeys := 0, 0
	check := func(cmd *command.Command, args [][]byte) {
		calls++
		want := refExtractKeys(cmd, args)
		got := server.ExtractKeysForTest(cmd, args)
		if !sameKeys(got, want) {
			t.Errorf("%s %q: extractKeys = %v, was %v", cmd.Name, args, got, want)
		}
		wantACL := refACLKeys(cmd, args)
		buf = server.ACLCheckKeysForTest(srv, cmd, args, buf)
		if !slices.Equal(buf, wantACL) {
			t.Errorf("%s %q: ACL keys = %v, were %v", cmd.Name, args, buf, wantACL)
		}
		if len(want) > 0 {
			withKeys++
		}
	}

	for _, cmd := range all {
		if got, want := server.HasKeysForTest(cmd), refHasKeys(cmd); got != want {
			t.Errorf("%s: hasKeys = %v, was %v", cmd.Name, got, want)
		}
	}

	// The documented shapes: every example line the table's commands run.
	for _, exs := range cmdExamples {
		for _, ex := range exs {
			for _, l := range parseExample(ex) {
				args := make([][]byte, len(l.args))
				for i, a := range l.args {
					args[i] = []byte(a)
				}
				if cmd := lookupCall(tab, args); cmd != nil && cmd.CheckArity(len(args)) {
					check(cmd, args)
				}
			}
		}
	}
	examples := calls

	// Random arguments, drawn from the words key extraction looks at.
	words := keyWords(all)
	perCmd := 300
	if testing.Short() {
		perCmd = 50
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, cmd := range all {
		for range perCmd {
			check(cmd, randomCall(rng, cmd, words))
		}
	}
	t.Logf("%d commands and subcommands; %d calls (%d from cmdExamples), %d with keys",
		len(all), calls, examples, withKeys)
}

// oddKeyCommands declare their keys in ways the command table does not
// today: Keys functions whose positions several specs find, or none;
// overlapping specs; not_key specs; more specs than the extraction keeps
// spans for; legacy ranges with steps and ends counted from the last
// argument.
func oddKeyCommands() []*command.Command {
	rw := []string{"RW", "update"}
	ro := []string{"RO", "access"}
	ow := []string{"OW", "update"}
	spread := func(args [][]byte) []int {
		var out []int
		for _, p := range []int{len(args) - 1, 1, 3, 3, 5, 2} {
			if p > 0 && p < len(args) {
				out = append(out, p)
			}
		}
		return out
	}
	three := []command.KeySpec{
		{Flags: rw, BeginIndex: 2, LastKey: 1, Step: 1},
		{Flags: ro, BeginIndex: 1, LastKey: 4, Step: 2},
		{Flags: ow, Keyword: "STORE", KeywordStart: 1, LastKey: 0, Step: 1},
	}
	var ten []command.KeySpec
	for i := range 10 {
		ten = append(ten, command.KeySpec{Flags: [][]string{rw, ro, ow}[i%3], BeginIndex: 10 - i, LastKey: 0, Step: 1})
	}
	return []*command.Command{
		{Name: "odd-keys-fallback", Arity: -2, Flags: command.MovableKeys, KeySpecs: three, Keys: spread},
		{Name: "odd-keys-keyflags", Arity: -2, Flags: command.MovableKeys, KeySpecs: three, Keys: spread,
			KeyFlags: func(args [][]byte, pos int) []string { return [][]string{rw, ro, ow}[(pos+len(args))%3] }},
		{Name: "odd-keys-nospecs", Arity: -2, Flags: command.MovableKeys, Keys: spread},
		{Name: "odd-keys-nomovable", Arity: -2, KeySpecs: three[2:], Keys: spread},
		{Name: "odd-keys-ten", Arity: -2, Flags: command.MovableKeys, KeySpecs: ten, Keys: spread},
		{Name: "odd-specs-overlap", Arity: -2, KeySpecs: three},
		{Name: "odd-specs-ten", Arity: -2, KeySpecs: ten},
		{Name: "odd-specs-keyflags", Arity: -2, KeySpecs: three,
			KeyFlags: func(args [][]byte, pos int) []string { return [][]string{ow, rw, ro}[(pos+len(args))%3] }},
		{Name: "odd-specs-notkey", Arity: -2, KeySpecs: []command.KeySpec{
			{Flags: []string{"RO", "not_key"}, BeginIndex: 1, LastKey: 0, Step: 1},
			{Flags: []string{"RW", "Access", "DELETE"}, BeginIndex: 1, LastKey: -1, Step: 1}}},
		{Name: "odd-specs-allnotkey", Arity: -2, KeySpecs: []command.KeySpec{
			{Flags: []string{"RO", "not_key"}, BeginIndex: 1, LastKey: -1, Step: 1}}},
		{Name: "odd-specs-numkeys", Arity: -2, KeySpecs: []command.KeySpec{
			{Flags: ro, BeginIndex: 1, KeyNumIdx: 1, FirstKey: 2, Step: 2},
			{Flags: rw, Keyword: "KEYS", KeywordStart: -2, KeyNumIdx: 1, FirstKey: 2, Step: 1}}},
		{Name: "odd-legacy-write", Arity: -2, Flags: command.Write, FirstKey: 1, LastKey: -1, Step: 2},
		{Name: "odd-legacy-read", Arity: -2, Flags: command.ReadOnly, FirstKey: 2, LastKey: -2, Step: 1},
		{Name: "odd-legacy-neither", Arity: -2, FirstKey: 1, LastKey: 3, Step: 0},
	}
}

func sameKeys(got []server.KeyWithFlags, want []refKey) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Pos != want[i].pos || !slices.Equal(got[i].Flags, want[i].flags) {
			return false
		}
	}
	return true
}

func lookupCall(tab *command.Table, args [][]byte) *command.Command {
	if len(args) == 0 {
		return nil
	}
	cmd := tab.Lookup(args[0])
	if cmd != nil && cmd.HasSubcommands() && len(args) > 1 {
		cmd = cmd.Sub(args[1])
	}
	return cmd
}

// keyWords are the arguments random calls are made of: the keywords key
// specs and Keys functions look for (in several cases, and with Unicode
// letters that fold to theirs), counts, and keys short and long.
func keyWords(cmds []*command.Command) []string {
	words := []string{"BY", "GET", "LIMIT", "STORE", "STOREDIST", "BLOCK", "COUNT", "GROUP",
		"NOACK", "STREAMS", "KEYS", "AUTH", "AUTH2", "COPY", "REPLACE", "WEIGHTS", "#",
		"OVERFLOW", "SET", "INCRBY", "u8", "object", "digest-value", "sdslen", "quicklist",
		"ſtreams", "\u212Aeys", "", "k1", "k2", "key:with:colons",
		strings.Repeat("long-key-", 6), "0", "1", "2", "3", "5", "-1", "1.5", "x"}
	for _, c := range cmds {
		for _, ks := range c.KeySpecs {
			if ks.Keyword != "" {
				words = append(words, ks.Keyword, strings.ToLower(ks.Keyword))
			}
		}
	}
	return words
}

// randomCall returns arguments for cmd that pass its arity check, often
// shaped after one of its key specs: a count where a numkeys spec reads
// one, a keyword where a keyword spec searches.
func randomCall(rng *rand.Rand, cmd *command.Command, words []string) [][]byte {
	var head []string
	if cmd.Parent != nil {
		head = []string{cmd.Parent.Name, cmd.Name[strings.IndexByte(cmd.Name, '|')+1:]}
	} else {
		head = []string{strings.ToUpper(cmd.Name)}
	}
	n := cmd.Arity
	if n < 0 {
		n = -n + rng.IntN(12)
	}
	n = max(n, len(head))
	args := make([][]byte, n)
	for i := range args {
		if i < len(head) {
			args[i] = []byte(head[i])
		} else {
			args[i] = []byte(words[rng.IntN(len(words))])
		}
	}
	specs := cmd.KeySpecs
	if len(specs) > 0 && rng.IntN(2) == 0 {
		ks := specs[rng.IntN(len(specs))]
		switch {
		case ks.Keyword != "" && n > len(head):
			args[len(head)+rng.IntN(n-len(head))] = []byte(ks.Keyword)
		case ks.KeyNumIdx > 0:
			if ni := ks.BeginIndex + ks.KeyNumIdx - 1; ni >= len(head) && ni < n {
				args[ni] = []byte(strconv.Itoa(rng.IntN(n - ni + 2)))
			}
		}
	}
	return args
}

// The extraction as it was before it stopped allocating: each spec's keys
// found through a one-spec command, a map of the first spec's flags per
// position.

type refKey struct {
	pos   int
	flags []string
}

func refKeySpecs(cmd *command.Command) []command.KeySpec {
	if len(cmd.KeySpecs) > 0 {
		return cmd.KeySpecs
	}
	if cmd.FirstKey <= 0 {
		return nil
	}
	last := cmd.LastKey
	if last >= 0 {
		last -= cmd.FirstKey
	}
	var flags []string
	switch {
	case cmd.Flags&command.Write != 0:
		flags = []string{"RW", "update"}
	case cmd.Flags&command.ReadOnly != 0:
		flags = []string{"RO", "access"}
	default:
		flags = []string{"RO"}
	}
	return []command.KeySpec{{Flags: flags, BeginIndex: cmd.FirstKey, LastKey: last, Step: max(cmd.Step, 1)}}
}

func refExtractKeys(cmd *command.Command, args [][]byte) []refKey {
	specs := refKeySpecs(cmd)
	flagsAt := map[int][]string{}
	var bySpec []refKey
	for i := range specs {
		for _, p := range refSpecKeys(&specs[i], nil, args) {
			if _, dup := flagsAt[p]; !dup {
				flagsAt[p] = specs[i].Flags
			}
			bySpec = append(bySpec, refKey{p, specs[i].Flags})
		}
	}
	if cmd.KeyFlags != nil {
		for i := range bySpec {
			bySpec[i].flags = cmd.KeyFlags(args, bySpec[i].pos)
		}
	}
	if cmd.Keys == nil {
		return bySpec
	}
	var out []refKey
	for _, p := range cmd.Keys(args) {
		f, ok := flagsAt[p]
		switch {
		case cmd.KeyFlags != nil:
			f = cmd.KeyFlags(args, p)
		case !ok && len(specs) > 0:
			f = specs[0].Flags
		}
		out = append(out, refKey{p, f})
	}
	return out
}

func refHasKeys(cmd *command.Command) bool {
	if cmd.Keys != nil && cmd.Flags&command.MovableKeys != 0 {
		return true
	}
	for _, ks := range refKeySpecs(cmd) {
		if !slices.Contains(ks.Flags, "not_key") {
			return true
		}
	}
	return false
}

func refACLKeys(cmd *command.Command, args [][]byte) []acl.KeyRef {
	var keys []acl.KeyRef
	if refHasKeys(cmd) {
		for _, k := range refExtractKeys(cmd, args) {
			if slices.Contains(k.flags, "not_key") {
				continue
			}
			keys = append(keys, acl.KeyRef{Pos: k.pos, Need: acl.KeyAccessFromFlags(k.flags)})
		}
	}
	return keys
}

// refSpecKeys is KeySpec's key search as it was.
func refSpecKeys(ks *command.KeySpec, dst []int, args [][]byte) []int {
	if ks.Unknown {
		return dst
	}
	begin := ks.BeginIndex
	if ks.Keyword != "" {
		begin = -1
		if ks.KeywordStart >= 0 {
			for i := ks.KeywordStart; i < len(args); i++ {
				if strings.EqualFold(string(args[i]), ks.Keyword) {
					begin = i + 1
					break
				}
			}
		} else {
			for i := len(args) + ks.KeywordStart; i > 0; i-- {
				if strings.EqualFold(string(args[i]), ks.Keyword) {
					begin = i + 1
					break
				}
			}
		}
		if begin < 0 {
			return dst
		}
	}
	if begin >= len(args) {
		return dst
	}
	if ks.KeyNumIdx > 0 {
		ni := begin + ks.KeyNumIdx - 1
		if ni >= len(args) {
			return dst
		}
		n, ok := resp.ParseInt(args[ni])
		if !ok || n < 0 {
			return dst
		}
		step := max(ks.Step, 1)
		first := begin + ks.FirstKey - 1
		if n > 0 && int64(first)+(n-1)*int64(step) >= int64(len(args)) {
			return dst
		}
		for i := 0; i < int(n); i++ {
			dst = append(dst, first+i*step)
		}
		return dst
	}
	last := ks.LastKey
	var end int
	if last < 0 {
		end = len(args) + last
	} else {
		end = begin + last
	}
	step := max(ks.Step, 1)
	for i := begin; i <= end && i < len(args); i += step {
		dst = append(dst, i)
	}
	return dst
}

func (k refKey) String() string { return fmt.Sprintf("{%d %v}", k.pos, k.flags) }
