package server_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/testutil"
)

func TestDebugRefusedByDefault(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	admExpect(t, r, command.ErrDebugDisabled, "debug", "sleep", "0")
	admExpect(t, r, command.ErrDebugDisabled, "debug", "help")
	// Local connections may use it when the option says local.
	local := testutil.Start(t, "enable-debug-command", "local")
	admExpect(t, local.Raw(t), "OK", "debug", "sleep", "0")
}

func TestDebugSubcommands(t *testing.T) {
	srv := testutil.Start(t, "enable-debug-command", "yes")
	c := srv.Client(t)
	ctx := context.Background()
	r := srv.Raw(t)

	admExpect(t, r, "ERR unknown subcommand or wrong number of arguments for 'nosuch'. Try DEBUG HELP.", "debug", "nosuch")
	admExpect(t, r, "ERR unknown subcommand or wrong number of arguments for 'object'. Try DEBUG HELP.", "debug", "object")
	admExpect(t, r, "ERR wrong number of arguments for 'debug' command", "debug")
	help := admDo(t, r, "debug", "help").([]any)
	if help[0] != "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" || help[len(help)-2] != "HELP" {
		t.Fatalf("DEBUG HELP: %q", help)
	}

	// DIGEST: zeros when empty, stable for equal data, order-independent.
	zero := strings.Repeat("0", 40)
	admExpect(t, r, zero, "debug", "digest")
	c.Set(ctx, "a", "1", 0)
	c.Set(ctx, "b", "hello", 0)
	d1 := admDo(t, r, "debug", "digest").(string)
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(d1) || d1 == zero {
		t.Fatalf("digest %q", d1)
	}
	c.FlushAll(ctx)
	c.Set(ctx, "b", "hello", 0)
	c.Set(ctx, "a", "1", 0)
	admExpect(t, r, d1, "debug", "digest")
	c.Set(ctx, "b", "hellO", 0)
	if admDo(t, r, "debug", "digest") == d1 {
		t.Fatal("digest did not change with the data")
	}
	c.Expire(ctx, "a", time.Hour)
	vals := admDo(t, r, "debug", "digest-value", "a", "nosuch").([]any)
	if len(vals) != 2 || vals[1] != zero || vals[0] == zero {
		t.Fatalf("DIGEST-VALUE: %v", vals)
	}

	// OBJECT.
	c.Set(ctx, "s", "hello", 0)
	c.Set(ctx, "n", "20000", 0)
	obj := admDo(t, r, "debug", "object", "s").(string)
	re := regexp.MustCompile(`^Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:6 lru:\d+ lru_seconds_idle:\d+$`)
	if !re.MatchString(obj) {
		t.Fatalf("DEBUG OBJECT s: %q", obj)
	}
	obj1 := admDo(t, r, "debug", "object", "n").(string)
	if !strings.Contains(obj1, "encoding:int serializedlength:3 ") {
		t.Fatalf("DEBUG OBJECT n: %q", obj1)
	}
	c.Incr(ctx, "n")
	obj2 := admDo(t, r, "debug", "object", "n").(string)
	if strings.Fields(obj1)[1] != strings.Fields(obj2)[1] {
		t.Fatalf("address changed by INCR: %q %q", obj1, obj2)
	}
	admExpect(t, r, "ERR no such key", "debug", "object", "nosuch")

	// POPULATE.
	c.FlushAll(ctx)
	c.Set(ctx, "key:1", "mine", 0)
	admExpect(t, r, "OK", "debug", "populate", "3")
	admExpect(t, r, "3", "dbsize")
	admExpect(t, r, "value:0", "get", "key:0")
	admExpect(t, r, "mine", "get", "key:1")
	admExpect(t, r, "OK", "debug", "populate", "2", "p", "10")
	admExpect(t, r, "value:1\x00\x00\x00", "get", "p:1")
	admExpect(t, r, "OK", "debug", "populate", "1", "q", "3")
	admExpect(t, r, "val", "get", "q:0")
	admExpect(t, r, "ERR value is out of range, must be positive", "debug", "populate", "-1")
	admExpect(t, r, "ERR value is not an integer or out of range", "debug", "populate", "x")

	// Switches.
	admExpect(t, r, "OK", "debug", "set-active-expire", "0")
	c.Set(ctx, "short", "x", 50*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // several expire cycles, which must not run
	if n := infoOf(t, srv, "keyspace").fields["keyspace"]["db0"]; !strings.Contains(n, "expires=1") {
		t.Fatalf("active expiry ran while disabled: %s", n)
	}
	admExpect(t, r, "OK", "debug", "set-active-expire", "1")
	testutil.WaitFor(t, 5*time.Second, "active expiry", func() bool {
		return !strings.Contains(infoOf(t, srv, "keyspace").fields["keyspace"]["db0"], "expires=1")
	})
	admExpect(t, r, "OK", "debug", "quicklist-packed-threshold", "100")
	admExpect(t, r, "OK", "debug", "quicklist-packed-threshold", "1mb")
	admExpect(t, r, "ERR argument must be a memory value bigger than 1 and smaller than 4gb", "debug", "quicklist-packed-threshold", "5gb")
	admExpect(t, r, "ERR argument must be a memory value bigger than 1 and smaller than 4gb", "debug", "quicklist-packed-threshold", "x")
	admExpect(t, r, "OK", "debug", "set-disable-deny-scripts", "1")
	admExpect(t, r, "OK", "debug", "set-skip-checksum-validation", "1")
	admExpect(t, r, "OK", "debug", "log", "hello log")
	admExpect(t, r, "MYERR something bad", "debug", "error", "MYERR something bad")

	// CHANGE-REPL-ID.
	id1, _ := infoOf(t, srv, "replication").get("replication", "master_replid")
	admExpect(t, r, "OK", "debug", "change-repl-id")
	if id2, _ := infoOf(t, srv, "replication").get("replication", "master_replid"); id2 == id1 || len(id2) != 40 {
		t.Fatalf("replid %s -> %s", id1, id2)
	}

	// HTSTATS.
	if s := admDo(t, r, "debug", "htstats", "0").(string); !strings.Contains(s, "[Dictionary HT]") || !strings.Contains(s, "number of elements:") {
		t.Fatalf("HTSTATS: %q", s)
	}
	admExpect(t, r, "ERR Out of range database", "debug", "htstats", "99")
	admExpect(t, r, "Apparently Redis did not crash: test passed", "debug", "stringmatch-test")
}

func TestDebugSleepAndProtocol(t *testing.T) {
	srv := testutil.Start(t, "enable-debug-command", "yes")
	r := srv.Raw(t)
	start := time.Now()
	admExpect(t, r, "OK", "debug", "sleep", "0.05")
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("DEBUG SLEEP 0.05 took %v", d)
	}
	admExpect(t, r, "OK", "debug", "sleep", "abc") // strtod: 0

	// RESP2 forms.
	for typ, want := range map[string]string{
		"string": "Hello World", "integer": "12345", "double": "3.141", "bignum": "1234567999999999999999999999999999999",
		"null": "<nil>", "array": "[0 1 2]", "set": "[0 1 2]", "map": "[0 0 1 1 2 0]", "true": "1", "false": "0",
		"attrib": "Some real reply following the attribute", "verbatim": "This is a verbatim\nstring",
		"push":   "ERR RESP2 is not supported by this command",
		"nosuch": "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
	} {
		admExpect(t, r, want, "debug", "protocol", typ)
	}

	// RESP3 wire format.
	admDo(t, r, "hello", "3")
	for typ, want := range map[string]string{
		"double":   ",3.141\r\n",
		"bignum":   "(1234567999999999999999999999999999999\r\n",
		"null":     "_\r\n",
		"true":     "#t\r\n",
		"false":    "#f\r\n",
		"set":      "~3\r\n:0\r\n:1\r\n:2\r\n",
		"map":      "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n",
		"verbatim": "=29\r\ntxt:This is a verbatim\nstring\r\n",
		"attrib":   "|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n",
		"push":     ">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n",
	} {
		if err := r.Send("debug", "protocol", typ); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, len(want))
		for n := 0; n < len(buf); {
			m, err := r.R.Read(buf[n:])
			if err != nil {
				t.Fatal(err)
			}
			n += m
		}
		if string(buf) != want {
			t.Fatalf("DEBUG PROTOCOL %s: %q, want %q", typ, buf, want)
		}
	}
	admExpect(t, r, "PONG", "ping") // nothing left over
}

// TestDebugDigestAsRedis: DEBUG DIGEST-VALUE and DIGEST fingerprint each
// type's contents as Redis does (the digests were taken from
// redis-server for the same data), so a value that changes changes its
// digest and equal data gives equal digests across the two servers.
func TestDebugDigestAsRedis(t *testing.T) {
	srv := testutil.Start(t, "enable-debug-command", "yes")
	r := srv.Raw(t)
	loadFixture(t, srv.Addr)
	want := map[string]string{
		"str":    "36b23a1456b2dce2c3ed252c456761301dba8060",
		"num":    "311acb99ec6c2ffc303176a787ecb8f8d91586ec",
		"list":   "8bf72d812571eea9b927f3c11beb0c4165a6ff89",
		"hash":   "fc076e867f7dbf566ea58172a151d82d78b8f845",
		"set":    "593c2414786d75446e97f4ea5d4b731f3313da72",
		"iset":   "2a462a3f51a1db89738ebbeef0c47ce1bbc85246",
		"zset":   "9767dd7466426098574d2ccde98092be7ea01296",
		"stream": "41c11abde10b6e2ceddd44275319aaf3a243fd8f",
		"ttlkey": "311b17018163335616e089f6b951c82c477335ac",
	}
	for key, w := range want {
		admExpect(t, r, "["+w+"]", "debug", "digest-value", key)
	}
	admExpect(t, r, "7bb15515f772e113896f84e364a8a9e53a46629e", "debug", "digest")
	// A changed element changes the digest.
	admDo(t, r, "lset", "list", "1", "x")
	if got := admDo(t, r, "debug", "digest-value", "list").([]any)[0]; got == want["list"] {
		t.Fatal("DEBUG DIGEST-VALUE ignores a list's elements")
	}
}
