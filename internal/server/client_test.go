package server_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/testutil"
)

// do runs a command on a raw connection and fails the test on I/O errors.
func do(t *testing.T, r *testutil.Raw, args ...string) any {
	t.Helper()
	v, err := r.Do(args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

// expect runs a command and compares its reply.
func expect(t *testing.T, r *testutil.Raw, want any, args ...string) {
	t.Helper()
	got := do(t, r, args...)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%q: got %#v, want %#v", args, got, want)
	}
}

// read reads one reply and fails the test on I/O errors.
func read(t *testing.T, r *testutil.Raw) any {
	t.Helper()
	v, err := r.Read()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return v
}

// expectClosed checks that the server closed the connection: reading gets
// EOF (or a reset, when the server closed with input still unread).
func expectClosed(t *testing.T, r *testutil.Raw) {
	t.Helper()
	v, err := r.Read()
	if err == nil {
		t.Fatalf("connection still open: read %#v", v)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open (read timed out)")
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("unexpected read error: %v", err)
	}
}

// infoField extracts one field of a CLIENT LIST / CLIENT INFO line.
func infoField(line, name string) string {
	for _, f := range strings.Fields(line) {
		if k, v, ok := strings.Cut(f, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// clientLine returns the CLIENT LIST line of the client with the given id.
func clientLine(t *testing.T, r *testutil.Raw, id int64) string {
	t.Helper()
	v := do(t, r, "client", "list", "id", strconv.FormatInt(id, 10))
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

// blockedCount counts the clients CLIENT LIST shows as blocked (flag b).
func blockedCount(t *testing.T, r *testutil.Raw) int {
	t.Helper()
	n := 0
	for _, l := range strings.Split(fmt.Sprint(do(t, r, "client", "list")), "\n") {
		if strings.Contains(infoField(l, "flags"), "b") {
			n++
		}
	}
	return n
}

func TestClientIDNames(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	id, ok := do(t, r, "client", "id").(int64)
	if !ok || id <= 0 {
		t.Fatalf("CLIENT ID = %v", id)
	}
	hello := do(t, r, "hello", "2").([]any)
	for i := 0; i+1 < len(hello); i += 2 {
		if hello[i] == "id" && hello[i+1] != id {
			t.Fatalf("HELLO id %v, CLIENT ID %v", hello[i+1], id)
		}
	}
	expect(t, r, nil, "client", "getname")
	expect(t, r, "OK", "client", "setname", "my-conn")
	expect(t, r, "my-conn", "client", "getname")
	const bad = "ERR Client names cannot contain spaces, newlines or special characters."
	for _, name := range []string{"a b", "a\nb", "caf\xc3\xa9", "\x7f"} {
		expect(t, r, testutil.ErrorReply(bad), "client", "setname", name)
	}
	expect(t, r, "my-conn", "client", "getname")
	if n := infoField(fmt.Sprint(do(t, r, "client", "info")), "name"); n != "my-conn" {
		t.Fatalf("CLIENT INFO name=%q", n)
	}
	expect(t, r, "OK", "client", "setname", "")
	expect(t, r, nil, "client", "getname")
	expect(t, r, testutil.ErrorReply("ERR wrong number of arguments for 'client|setname' command"), "client", "setname")
	expect(t, r, testutil.ErrorReply("ERR wrong number of arguments for 'client' command"), "client")
	expect(t, r, testutil.ErrorReply("ERR unknown subcommand 'bogus'. Try CLIENT HELP."), "client", "bogus", "x", "y")
	expect(t, r, testutil.ErrorReply("ERR wrong number of arguments for 'client|caching' command"), "client", "caching", "x", "y")
	expect(t, r, testutil.ErrorReply("ERR syntax error"), "client", "tracking", "x", "y")
}

// clientListRE is Redis 7.2's CLIENT LIST line: every field, in order.
var clientListRE = regexp.MustCompile(`^id=\d+ addr=\S+:\d+ laddr=\S+:\d+ fd=\d+ name=\S* age=\d+ idle=\d+ flags=[A-Za-z]+ db=\d+ sub=0 psub=0 ssub=0 multi=-1 qbuf=\d+ qbuf-free=\d+ argv-mem=\d+ multi-mem=0 rbs=\d+ rbp=\d+ obl=\d+ oll=\d+ omem=\d+ tot-mem=\d+ events=rw? cmd=\S+ user=default redir=-1 resp=[23] lib-name=\S* lib-ver=\S*$`)

func TestClientListAndInfo(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	other := srv.Raw(t)
	expect(t, other, "OK", "client", "setname", "other")
	expect(t, other, "OK", "select", "5")
	otherID := do(t, other, "client", "id").(int64)
	myID := do(t, r, "client", "id").(int64)

	info := fmt.Sprint(do(t, r, "client", "info"))
	if !strings.HasSuffix(info, "\n") || strings.Count(info, "\n") != 1 {
		t.Fatalf("CLIENT INFO must be one line ending in a newline: %q", info)
	}
	line := strings.TrimSuffix(info, "\n")
	if !clientListRE.MatchString(line) {
		t.Fatalf("CLIENT INFO line does not have Redis's fields:\n%s", line)
	}
	// The calling command is still in the query buffer, as in Redis:
	// *2\r\n$6\r\nclient\r\n$4\r\ninfo\r\n is 26 bytes.
	for k, want := range map[string]string{"id": strconv.FormatInt(myID, 10), "flags": "N", "cmd": "client|info",
		"qbuf": "26", "argv-mem": "10", "db": "0", "resp": "2", "name": "", "obl": "0", "oll": "0", "omem": "0", "events": "r"} {
		if got := infoField(line, k); got != want {
			t.Errorf("CLIENT INFO %s=%q, want %q", k, got, want)
		}
	}
	if addr := infoField(line, "addr"); addr != r.Conn.LocalAddr().String() {
		t.Errorf("addr=%s, want %s", addr, r.Conn.LocalAddr())
	}
	if laddr := infoField(line, "laddr"); laddr != srv.Addr {
		t.Errorf("laddr=%s, want %s", laddr, srv.Addr)
	}

	list := fmt.Sprint(do(t, r, "client", "list"))
	lines := strings.Split(strings.TrimSuffix(list, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("CLIENT LIST has %d lines, want 2:\n%s", len(lines), list)
	}
	for _, l := range lines {
		if !clientListRE.MatchString(l) {
			t.Fatalf("CLIENT LIST line does not have Redis's fields:\n%s", l)
		}
	}
	if infoField(lines[0], "id") != strconv.FormatInt(myID, 10) || infoField(lines[1], "id") != strconv.FormatInt(otherID, 10) {
		t.Fatalf("CLIENT LIST is not oldest first:\n%s", list)
	}
	for k, want := range map[string]string{"name": "other", "db": "5", "cmd": "client|id", "argv-mem": "0", "qbuf": "0"} {
		if got := infoField(lines[1], k); got != want {
			t.Errorf("other client's %s=%q, want %q", k, got, want)
		}
	}
	if infoField(lines[0], "cmd") != "client|list" {
		t.Errorf("own line cmd=%q", infoField(lines[0], "cmd"))
	}

	// Filters.
	if got := clientLine(t, r, otherID); infoField(got, "name") != "other" {
		t.Fatalf("CLIENT LIST ID: %q", got)
	}
	got := fmt.Sprint(do(t, r, "client", "list", "id", strconv.FormatInt(otherID, 10), "999999", strconv.FormatInt(myID, 10)))
	if strings.Count(got, "\n") != 2 {
		t.Fatalf("CLIENT LIST ID a b c: %q", got)
	}
	if got := fmt.Sprint(do(t, r, "client", "list", "type", "NORMAL")); strings.Count(got, "\n") != 2 {
		t.Fatalf("CLIENT LIST TYPE normal: %q", got)
	}
	for _, typ := range []string{"replica", "slave", "master", "pubsub"} {
		expect(t, r, "", "client", "list", "type", typ)
	}
	expect(t, r, testutil.ErrorReply("ERR Unknown client type 'bogus'"), "client", "list", "type", "bogus")
	expect(t, r, testutil.ErrorReply("ERR Invalid client ID"), "client", "list", "id", "12", "x")
	expect(t, r, testutil.ErrorReply("ERR Invalid client ID"), "client", "list", "id", "+1")
	for _, args := range [][]string{{"id"}, {"type"}, {"bogus"}, {"type", "normal", "x"}} {
		expect(t, r, testutil.ErrorReply("ERR syntax error"), append([]string{"client", "list"}, args...)...)
	}

	// RESP3: a verbatim string.
	r3 := srv.Raw(t)
	do(t, r3, "hello", "3")
	if err := r3.Send("client", "info"); err != nil {
		t.Fatal(err)
	}
	hdr, err := r3.R.ReadString('\n')
	if err != nil || hdr[0] != '=' {
		t.Fatalf("RESP3 CLIENT INFO header %q, %v", hdr, err)
	}
	body := make([]byte, 0, 512)
	n, _ := strconv.Atoi(strings.TrimSpace(hdr[1:]))
	body = body[:n+2]
	if _, err := io.ReadFull(r3.R, body); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(body), "txt:id=") || !strings.Contains(string(body), " resp=3 ") {
		t.Fatalf("RESP3 CLIENT INFO body %q", body)
	}
}

func TestClientSetinfo(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	expect(t, r, "OK", "client", "setinfo", "lib-name", "redis.py")
	expect(t, r, "OK", "client", "setinfo", "LIB-VER", "1.2.3")
	expect(t, r, testutil.ErrorReply("ERR wrong number of arguments for 'client|setinfo' command"), "client", "setinfo", "lib-name")
	expect(t, r, testutil.ErrorReply("ERR lib-name cannot contain spaces, newlines or special characters."), "client", "setinfo", "lib-name", "redis py")
	expect(t, r, testutil.ErrorReply("ERR LIB-NAME cannot contain spaces, newlines or special characters."), "client", "setinfo", "LIB-NAME", "redis.py\n")
	expect(t, r, testutil.ErrorReply("ERR Unrecognized option 'badger'"), "client", "setinfo", "badger", "hamster")
	line := fmt.Sprint(do(t, r, "client", "info"))
	if !strings.Contains(line, " lib-name=redis.py lib-ver=1.2.3\n") {
		t.Fatalf("CLIENT INFO after SETINFO: %q", line)
	}
	expect(t, r, "RESET", "reset")
	if line := fmt.Sprint(do(t, r, "client", "info")); !strings.Contains(line, " lib-name=redis.py ") {
		t.Fatalf("RESET must keep the library name: %q", line)
	}
	expect(t, r, "OK", "client", "setinfo", "lib-name", "")
	if line := fmt.Sprint(do(t, r, "client", "info")); !strings.Contains(line, " lib-name= lib-ver=1.2.3\n") {
		t.Fatalf("CLIENT SETINFO lib-name \"\": %q", line)
	}
}

func TestClientTrackinginfoGetredirHelp(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	expect(t, r, []any{"flags", []any{"off"}, "redirect", int64(-1), "prefixes", []any{}}, "client", "trackinginfo")
	expect(t, r, int64(-1), "client", "getredir")
	r3 := srv.Raw(t)
	do(t, r3, "hello", "3")
	got := do(t, r3, "client", "trackinginfo").(map[string]any)
	if fmt.Sprint(got["flags"]) != "[off]" || got["redirect"] != int64(-1) || fmt.Sprint(got["prefixes"]) != "[]" {
		t.Fatalf("RESP3 TRACKINGINFO %#v", got)
	}
	help := do(t, r, "client", "help").([]any)
	if help[0] != "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" ||
		help[len(help)-2] != "HELP" || help[len(help)-1] != "    Print this help." {
		t.Fatalf("CLIENT HELP: %q", help)
	}
}

func TestClientReply(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	// OFF silences everything, including errors, until ON (which replies).
	if err := r.Write([]byte("CLIENT REPLY OFF\r\nPING a\r\nBOGUS\r\nSET\r\nCLIENT REPLY ON\r\nPING b\r\n")); err != nil {
		t.Fatal(err)
	}
	expectSeq(t, r, "OK", "b")
	// SKIP silences exactly the next command, even when it is rejected.
	if err := r.Write([]byte("CLIENT REPLY SKIP\r\nPING a\r\nPING b\r\nCLIENT REPLY SKIP\r\nBOGUS\r\nPING c\r\n")); err != nil {
		t.Fatal(err)
	}
	expectSeq(t, r, "b", "c")
	// ON right after SKIP replies and clears it; SKIP under OFF does nothing.
	if err := r.Write([]byte("CLIENT REPLY SKIP\r\nCLIENT REPLY ON\r\nPING a\r\nCLIENT REPLY OFF\r\nCLIENT REPLY SKIP\r\nPING b\r\nCLIENT REPLY ON\r\nPING c\r\n")); err != nil {
		t.Fatal(err)
	}
	expectSeq(t, r, "OK", "a", "OK", "c")
	expect(t, r, testutil.ErrorReply("ERR syntax error"), "client", "reply", "maybe")
}

// expectSeq reads replies and compares them with want, in order.
func expectSeq(t *testing.T, r *testutil.Raw, want ...any) {
	t.Helper()
	for i, w := range want {
		if got := read(t, r); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Fatalf("reply %d: got %#v, want %#v", i, got, w)
		}
	}
}

func TestClientNoEvictNoTouchFlags(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	watcher := srv.Raw(t)
	id := do(t, r, "client", "id").(int64)
	expect(t, r, "OK", "client", "no-evict", "on")
	expect(t, r, "OK", "client", "no-touch", "ON")
	if f := infoField(fmt.Sprint(do(t, r, "client", "info")), "flags"); f != "eT" {
		t.Fatalf("own flags=%q, want eT", f)
	}
	if f := infoField(clientLine(t, watcher, id), "flags"); f != "eT" {
		t.Fatalf("flags seen by another client=%q, want eT", f)
	}
	expect(t, r, testutil.ErrorReply("ERR syntax error"), "client", "no-evict", "maybe")
	expect(t, r, testutil.ErrorReply("ERR syntax error"), "client", "no-touch", "maybe")
	expect(t, r, "OK", "client", "no-evict", "off")
	expect(t, r, "OK", "client", "no-touch", "off")
	if f := infoField(clientLine(t, watcher, id), "flags"); f != "N" {
		t.Fatalf("flags=%q after OFF, want N", f)
	}
}

// TestClientNoTouch checks that a NO-TOUCH client's reads leave a key's
// idle time alone while TOUCH still resets it. The LRU clock counts
// seconds, so the test waits for a key to become idle for one.
func TestClientNoTouch(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	idle := func() int64 { return do(t, r, "object", "idletime", "k").(int64) }
	expect(t, r, "OK", "set", "k", "v")
	expect(t, r, "OK", "client", "no-touch", "on")
	testutil.WaitFor(t, 5*time.Second, "key idle for a second", func() bool { return idle() >= 1 })
	expect(t, r, "v", "get", "k")
	if n := idle(); n < 1 {
		t.Fatalf("GET under NO-TOUCH reset the idle time (%d)", n)
	}
	expect(t, r, int64(1), "touch", "k")
	if n := idle(); n != 0 {
		t.Fatalf("TOUCH under NO-TOUCH must still touch (idle %d)", n)
	}
	expect(t, r, "OK", "client", "no-touch", "off")
	testutil.WaitFor(t, 5*time.Second, "key idle for a second", func() bool { return idle() >= 1 })
	expect(t, r, "v", "get", "k")
	if n := idle(); n != 0 {
		t.Fatalf("GET without NO-TOUCH must touch (idle %d)", n)
	}
}

func TestClientKill(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	victim := srv.Raw(t)
	expect(t, victim, "PONG", "ping")
	vid := do(t, victim, "client", "id").(int64)
	vaddr := victim.Conn.LocalAddr().String()

	// Argument errors, in Redis's words.
	errs := []struct {
		want string
		args []string
	}{
		{"ERR wrong number of arguments for 'client|kill' command", nil},
		{"ERR syntax error", []string{"id", "10", "wrong_arg"}},
		{"ERR client-id should be greater than 0", []string{"id", "str"}},
		{"ERR client-id should be greater than 0", []string{"id", "-1"}},
		{"ERR client-id should be greater than 0", []string{"id", "0"}},
		{"ERR Unknown client type 'wrong_type'", []string{"type", "wrong_type"}},
		{"ERR No such user 'wrong_user'", []string{"user", "wrong_user"}},
		{"ERR syntax error", []string{"skipme", "yes_or_no"}},
		{"ERR syntax error", []string{"bogus", "1"}},
		{"ERR maxage is not an integer or out of range", []string{"maxage", "x"}},
		{"ERR maxage should be greater than 0", []string{"maxage", "0"}},
		{"ERR No such client", []string{"1.2.3.4:5"}},
	}
	for _, e := range errs {
		expect(t, r, testutil.ErrorReply(e.want), append([]string{"client", "kill"}, e.args...)...)
	}
	expect(t, victim, "PONG", "ping")

	// New form with filters that match nothing, then ID.
	expect(t, r, int64(0), "client", "kill", "id", strconv.FormatInt(vid, 10), "laddr", "1.2.3.4:5")
	expect(t, r, int64(0), "client", "kill", "id", strconv.FormatInt(vid, 10), "maxage", "1000")
	expect(t, r, int64(0), "client", "kill", "type", "pubsub")
	expect(t, r, int64(1), "client", "kill", "id", strconv.FormatInt(vid, 10), "user", "default", "type", "normal")
	expectClosed(t, victim)
	if line := clientLine(t, r, vid); line != "" {
		t.Fatalf("killed client still listed: %s", line)
	}

	// Old form by address.
	v2 := srv.Raw(t)
	expect(t, v2, "PONG", "ping")
	expect(t, r, "OK", "client", "kill", v2.Conn.LocalAddr().String())
	expectClosed(t, v2)
	expect(t, r, testutil.ErrorReply("ERR No such client"), "client", "kill", vaddr)

	// ADDR and LADDR in the new form.
	v3 := srv.Raw(t)
	expect(t, v3, "PONG", "ping")
	expect(t, r, int64(1), "client", "kill", "addr", v3.Conn.LocalAddr().String(), "laddr", srv.Addr)
	expectClosed(t, v3)

	// SKIPME yes (the default) spares the caller; SKIPME no kills it after
	// its reply.
	v4, v5 := srv.Raw(t), srv.Raw(t)
	expect(t, v4, "PONG", "ping")
	expect(t, v5, "PONG", "ping")
	expect(t, r, int64(2), "client", "kill", "type", "normal")
	expectClosed(t, v4)
	expectClosed(t, v5)
	expect(t, r, "PONG", "ping")
	expect(t, r, int64(1), "client", "kill", "skipme", "no")
	expectClosed(t, r)

	// The old form can kill the caller itself, after replying.
	me := srv.Raw(t)
	if err := me.Write([]byte("CLIENT KILL " + me.Conn.LocalAddr().String() + "\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	expectSeq(t, me, "OK")
	expectClosed(t, me)

	// MAXAGE kills connections at least that old.
	old := srv.Raw(t)
	expect(t, old, "PONG", "ping")
	killer := srv.Raw(t)
	testutil.WaitFor(t, 5*time.Second, "connection one second old", func() bool {
		return infoField(clientLine(t, killer, do(t, old, "client", "id").(int64)), "age") >= "1"
	})
	young := srv.Raw(t)
	expect(t, young, "PONG", "ping")
	if n := do(t, killer, "client", "kill", "maxage", "1", "skipme", "yes").(int64); n < 1 {
		t.Fatalf("CLIENT KILL MAXAGE 1 killed %d", n)
	}
	expectClosed(t, old)
	expect(t, young, "PONG", "ping")
}
