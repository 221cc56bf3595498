package acl

import (
	"fmt"
	"testing"
)

// fakeClock is a settable Unix-ms clock.
type fakeClock struct{ ms int64 }

func (c *fakeClock) now() int64 { return c.ms }

func TestLogGrouping(t *testing.T) {
	clk := &fakeClock{ms: 1_700_000_000_000}
	l := NewLog(128, clk.now)

	// acl.tcl "ACL LOG aggregates similar errors together and assigns
	// unique entry-id to new errors".
	l.Add(DeniedAuth, ContextToplevel, "AUTH", "user1", "id=1 cmd=auth")
	first := l.Entries(10)[0]
	clk.ms += 5
	for range 10 {
		l.Add(DeniedAuth, ContextToplevel, "AUTH", "user1", "id=2 cmd=auth")
	}
	e := l.Entries(10)
	if len(e) != 1 || e[0].Count != 11 || e[0].EntryID != first.EntryID || e[0].Created != first.Created ||
		e[0].Updated <= first.Updated || e[0].ClientInfo != "id=2 cmd=auth" {
		t.Fatalf("grouping: %+v", e)
	}
	l.Add(DeniedAuth, ContextToplevel, "AUTH", "user2", "")
	if e := l.Entries(10); len(e) != 2 || e[0].EntryID != first.EntryID+1 || e[0].Username != "user2" {
		t.Fatalf("new entry: %+v", e)
	}

	// Each of reason, context, object and user separates entries.
	l.Reset()
	l.Add(DeniedCommand, ContextToplevel, "get", "u", "")
	l.Add(DeniedKey, ContextToplevel, "get", "u", "")
	l.Add(DeniedCommand, ContextMulti, "get", "u", "")
	l.Add(DeniedCommand, ContextToplevel, "set", "u", "")
	l.Add(DeniedCommand, ContextToplevel, "get", "v", "")
	if l.Len() != 5 {
		t.Fatalf("%d entries", l.Len())
	}
	// A match moves to the front.
	l.Add(DeniedCommand, ContextToplevel, "get", "u", "")
	e = l.Entries(10)
	if e[0].Reason != DeniedCommand || e[0].Object != "get" || e[0].Username != "u" || e[0].Context != ContextToplevel || e[0].Count != 2 || len(e) != 5 {
		t.Fatalf("move to front: %+v", e[0])
	}
	if e[1].Username != "v" || e[4].Reason != DeniedKey {
		t.Fatalf("order after move: %+v", e)
	}

	// Only within 60 s of the entry's last update.
	l.Reset()
	l.Add(DeniedKey, ContextLua, "k", "u", "")
	clk.ms += 60_000
	l.Add(DeniedKey, ContextLua, "k", "u", "")
	clk.ms += 60_001
	l.Add(DeniedKey, ContextLua, "k", "u", "")
	if e := l.Entries(10); len(e) != 2 || e[1].Count != 2 || e[0].Count != 1 {
		t.Fatalf("time window: %+v", e)
	}

	// Only the ten newest entries are searched.
	l.Reset()
	l.Add(DeniedKey, ContextToplevel, "old", "u", "")
	for i := range 10 {
		l.Add(DeniedKey, ContextToplevel, fmt.Sprint("k", i), "u", "")
	}
	l.Add(DeniedKey, ContextToplevel, "old", "u", "")
	if e := l.Entries(100); len(e) != 12 || e[0].Count != 1 || e[0].Object != "old" {
		t.Fatalf("scan limit: %d entries, newest %+v", len(e), e[0])
	}
	l.Add(DeniedKey, ContextToplevel, "k9", "u", "")
	if e := l.Entries(100); len(e) != 12 || e[0].Object != "k9" || e[0].Count != 2 {
		t.Fatalf("grouping within the scan: %+v", e[0])
	}
}

func TestLogLimitsAndFields(t *testing.T) {
	clk := &fakeClock{ms: 10_000}
	l := NewLog(5, clk.now)
	for i := range 10 {
		l.Add(DeniedKey, ContextToplevel, fmt.Sprint("obj:", i), "antirez", "")
	}
	e := l.Entries(10)
	if len(e) != 5 || e[0].Object != "obj:9" || e[4].Object != "obj:5" || e[0].EntryID != 9 {
		t.Fatalf("max len: %+v", e)
	}
	if len(l.Entries(2)) != 2 || len(l.Entries(-1)) != 0 || len(l.Entries(100)) != 5 {
		t.Fatal("count")
	}
	clk.ms += 1500
	if age := l.Entries(1)[0].AgeSeconds; age != 1.5 {
		t.Fatalf("age %v", age)
	}
	// A smaller maximum applies at the next entry, as in Redis.
	l.SetMaxLen(2)
	if l.Len() != 5 {
		t.Fatal("SetMaxLen trimmed at once")
	}
	l.Add(DeniedChannel, ContextModule, "ch", "u", "")
	if l.Len() != 2 {
		t.Fatal("not trimmed")
	}
	l.SetMaxLen(0)
	l.Add(DeniedChannel, ContextModule, "ch2", "u", "")
	if l.Len() != 0 {
		t.Fatal("acllog-max-len 0 keeps entries")
	}
	l.SetMaxLen(10)
	l.Add(DeniedCommand, ContextToplevel, "get", "u", "")
	if e := l.Entries(10); e[0].EntryID != 12 {
		t.Fatalf("entry ids must keep counting: %d", e[0].EntryID)
	}
	l.Reset()
	if l.Len() != 0 {
		t.Fatal("Reset")
	}
	if s := l.Stats(); s != (DeniedStats{Auth: 0, Command: 1, Key: 10, Channel: 2}) {
		t.Fatalf("stats %+v", s)
	}
	// The default clock works.
	NewLog(1, nil).Add(DeniedAuth, ContextToplevel, "AUTH", "x", "")
}

func TestLogStrings(t *testing.T) {
	for v, want := range map[fmt.Stringer]string{
		Allowed: "allowed", DeniedCommand: "command", DeniedKey: "key", DeniedAuth: "auth", DeniedChannel: "channel", Reason(9): "unknown",
		ContextToplevel: "toplevel", ContextLua: "lua", ContextMulti: "multi", ContextModule: "module", LogContext(9): "unknown",
	} {
		if v.String() != want {
			t.Errorf("%v != %s", v, want)
		}
	}
	a := args("set obj:1 123")
	for _, tc := range []struct {
		r    Reason
		pos  int
		want string
	}{
		{DeniedCommand, 0, "set"}, {DeniedKey, 1, "obj:1"}, {DeniedChannel, 2, "123"}, {DeniedKey, 7, "set"},
	} {
		if got := LogObject(tc.r, "set", a, tc.pos); got != tc.want {
			t.Errorf("LogObject(%v, %d) = %q", tc.r, tc.pos, got)
		}
	}
}
