package server

import (
	"slices"
	"strings"
	"testing"

	"github.com/corvid-db/corvid/internal/acl"
	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
)

// aclBenchCalls are the calls whose permission check for a restricted
// user must not allocate: one per way of finding keys (a fixed position,
// a variable flag, a range, a count, a keyword, a Keys function).
var aclBenchCalls = []struct {
	name string
	args []string
}{
	{"GET", []string{"GET", "app:k"}},
	{"SET", []string{"SET", "app:k", "v"}},
	{"MSET", []string{"MSET", "app:a", "1", "app:b", "2", "app:c", "3"}},
	{"ZUNIONSTORE", []string{"ZUNIONSTORE", "app:d", "3", "app:a", "app:b", "app:c", "WEIGHTS", "1", "2", "3"}},
	{"XREAD", []string{"XREAD", "COUNT", "10", "STREAMS", "app:s1", "app:s2", "0", "0"}},
	{"EVAL", []string{"EVAL", "return 1", "2", "app:a", "app:b", "x"}},
	{"SORT", []string{"SORT", "app:l", "BY", "app:w_*", "GET", "app:o_*", "GET", "#", "STORE", "app:dst"}},
	{"MIGRATE", []string{"MIGRATE", "127.0.0.1", "6379", "", "0", "5000", "COPY", "REPLACE", "KEYS", "app:a", "app:b"}},
}

// restrictedBenchUser returns a server and a user whose keys are checked
// (not Unrestricted) and who may run every call of aclBenchCalls.
func restrictedBenchUser(tb testing.TB) (*Server, *acl.User) {
	tb.Helper()
	s, err := New(config.New())
	if err != nil {
		tb.Fatal(err)
	}
	if _, _, err := s.acl.SetUser("bench", "on", "nopass", "+@all", "~app:*", "&*"); err != nil {
		tb.Fatal(err)
	}
	u := s.acl.Lookup("bench").User()
	if u.Unrestricted() {
		tb.Fatal("the bench user is unrestricted: its keys would not be checked")
	}
	return s, u
}

// lookupCall finds the command (or subcommand) args call, as the
// dispatcher does.
func lookupCall(tb testing.TB, s *Server, args [][]byte) *command.Command {
	tb.Helper()
	cmd := s.Table.Lookup(args[0])
	if cmd != nil && cmd.HasSubcommands() && len(args) > 1 {
		cmd = cmd.Sub(args[1])
	}
	if cmd == nil {
		tb.Fatalf("no command for %q", args)
	}
	return cmd
}

func byteArgs(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// BenchmarkACLVerdictRestricted is the dispatcher's permission check
// (aclVerdict, reusing the client's key buffer) for a restricted user.
func BenchmarkACLVerdictRestricted(b *testing.B) {
	s, u := restrictedBenchUser(b)
	for _, call := range aclBenchCalls {
		args := byteArgs(call.args)
		cmd := lookupCall(b, s, args)
		b.Run(call.name, func(b *testing.B) {
			var keys []acl.KeyRef
			b.ReportAllocs()
			for b.Loop() {
				var r acl.Reason
				r, _, keys = aclVerdict(u, cmd, args, keys)
				if r != acl.Allowed {
					b.Fatalf("%s: denied (%v)", call.name, r)
				}
			}
		})
	}
}

// TestACLVerdictAllocs checks that a restricted user's permission check
// allocates nothing once the client's key buffer has grown, beyond what
// the command's own Keys and KeyFlags functions allocate (SORT, MIGRATE,
// XREAD and SET have such functions, which return new slices).
func TestACLVerdictAllocs(t *testing.T) {
	s, u := restrictedBenchUser(t)
	for _, call := range aclBenchCalls {
		args := byteArgs(call.args)
		cmd := lookupCall(t, s, args)
		var keys []acl.KeyRef
		got := testing.AllocsPerRun(100, func() {
			_, _, keys = aclVerdict(u, cmd, args, keys)
		})
		found := extractKeys(cmd, args)
		own := testing.AllocsPerRun(100, func() {
			if cmd.Keys != nil {
				keyFuncSink = cmd.Keys(args)
			}
			if cmd.KeyFlags != nil {
				for _, k := range found {
					flagFuncSink = cmd.KeyFlags(args, k.pos)
				}
			}
		})
		t.Logf("%-12s %d keys: %v allocs, %v of them in the command's Keys/KeyFlags", call.name, len(keys), got, own)
		if got != own {
			t.Errorf("%s: the check allocates %v times, its command's key functions %v", call.name, got, own)
		}
	}
}

var (
	keyFuncSink  []int
	flagFuncSink []string
)

// TestKeyAccessMatchesACL checks keyAccess and the not_key test on parsed
// flags against what acl.KeyAccessFromFlags and the flag names say, for
// every combination of key-spec flags, in Redis's case and in others.
func TestKeyAccessMatchesACL(t *testing.T) {
	for bits := range 1 << len(keySpecFlagOrder) {
		var flags []string
		for i, f := range keySpecFlagOrder {
			if bits&(1<<i) != 0 {
				flags = append(flags, f)
			}
		}
		upper := make([]string, len(flags))
		for i, f := range flags {
			upper[i] = strings.ToUpper(f)
		}
		for _, fl := range [][]string{flags, upper} {
			parsed := command.ParseKeySpecFlags(fl)
			if got, want := keyAccess(parsed), acl.KeyAccessFromFlags(fl); got != want {
				t.Errorf("%v: keyAccess = %v, KeyAccessFromFlags = %v", fl, got, want)
			}
			if got, want := parsed&command.KeyNotKey != 0, slices.Contains(flags, "not_key"); got != want {
				t.Errorf("%v: not_key = %v, want %v", fl, got, want)
			}
		}
	}
}
