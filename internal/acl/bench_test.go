package acl

import "testing"

func benchCheck(b *testing.B, u *User, line string) {
	a := args(line)
	id, keys := idOf(b, a), keysOf(a)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r, _ := u.Check(id, a, keys); r != Allowed {
			b.Fatal(r)
		}
	}
}

// BenchmarkCheckDefault is the common case: the default user, whose root
// selector allows everything.
func BenchmarkCheckDefault(b *testing.B) {
	benchCheck(b, NewDefaultUser(testCS, ResetChannels), "set user:1 v")
}

// BenchmarkCheckPatterns is a restricted user matching key patterns.
func BenchmarkCheckPatterns(b *testing.B) {
	u := newTestUser(b, "u", "on", "-@all", "+@read", "+@write", "%R~cache:*", "~session:*", "~user:*")
	benchCheck(b, u, "mget user:1 user:2 user:3")
}

// BenchmarkCheckSelectors falls through the root selector to a second one.
func BenchmarkCheckSelectors(b *testing.B) {
	u := newTestUser(b, "u", "on", "+get", "~a:*", "(+@write ~write::*)", "(+@read ~read::*)")
	benchCheck(b, u, "get read::foo")
}

// BenchmarkCheckChannels checks a PUBLISH against channel patterns.
func BenchmarkCheckChannels(b *testing.B) {
	u := newTestUser(b, "u", "on", "+@pubsub", "resetchannels", "&orders.*", "&news.*")
	benchCheck(b, u, "publish news.sport hello")
}

// BenchmarkCheckCommand looks the ID up by pointer first.
func BenchmarkCheckCommand(b *testing.B) {
	u := newTestUser(b, "u", "on", "-@all", "+@read", "~user:*")
	a := args("get user:1")
	cmd, keys := testCS.Command(idOf(b, a)), keysOf(a)
	b.ReportAllocs()
	for b.Loop() {
		if r, _ := u.CheckCommand(cmd, a, keys); r != Allowed {
			b.Fatal(r)
		}
	}
}
