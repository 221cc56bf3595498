package server_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/resp"
	"github.com/corvid-db/corvid/internal/server"
	"github.com/corvid-db/corvid/internal/testutil"
)

// TestEveryCommand sends every command and subcommand of the command table
// (cmdExamples holds valid argument lists for each) to one server, over
// RESP2 and over RESP3. Each command must answer within a deadline (a
// handler that deadlocks fails the test with its name and a goroutine
// dump), another connection must still get PONG within a second
// afterwards, and the connection that sent it must still answer RESET and
// PING, unless the example says the command closes it.
//
// A command of the table without an example fails the test: a new command
// gets its examples here, and so enters TestRedisDiff too.
//
// Commands that end a connection or the server run deliberately: QUIT and
// CLIENT KILL of the sender itself expect the connection closed (@closes),
// CLIENT KILL of another connection kills a victim opened for it, SYNC and
// PSYNC turn the connection into a replica (@replica), RESET runs as any
// command (and ends every example's probe), SHUTDOWN only as SHUTDOWN ABORT,
// which refuses (no shutdown is in progress), and DEBUG only with
// subcommands that neither crash nor restart the server (no SEGFAULT,
// PANIC, RESTART, CRASH-AND-RECOVER, OOM). Blocking commands get timeouts
// of 10 ms.
func TestEveryCommand(t *testing.T) {
	srv := startLeakable(t)
	names := tableCommandNames(srv.Srv.Table)
	for _, name := range names {
		if len(cmdExamples[name]) == 0 {
			t.Errorf("command %q has no example in cmdExamples (everycommand_test.go)", name)
		}
	}
	watchdog, err := dialProto(srv.Addr, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer watchdog.Close()

	examples := 0
	for _, proto := range []int{2, 3} {
		for _, name := range names {
			// Each command's examples run in order from the fixture.
			loadFixture(t, srv.Addr)
			for _, ex := range cmdExamples[name] {
				examples++
				timeout := 5 * time.Second
				if exampleSlow(ex) {
					if proto == 3 || raceEnabled() {
						continue
					}
					timeout = time.Minute
				}
				steps, conn := runExampleConn(srv.Addr, proto, ex, timeout)
				for _, st := range steps {
					if st.err != nil {
						dumpGoroutines(t)
						t.Fatalf("%s (RESP%d): %q got no reply: %v", name, proto, clipEx(st.line), st.err)
					}
					// An example's arguments are valid (it may still
					// be refused for what they ask).
					for _, v := range st.replies {
						if v.isErr() && badExampleError(v.s) && st.name == name && !st.arity {
							t.Errorf("%s (RESP%d): %q: %s", name, proto, clipEx(st.line), v.s)
						}
					}
				}
				// Another connection is served within a second.
				_ = watchdog.SetDeadline(time.Now().Add(time.Second))
				if v, err := watchdog.do("PING"); err != nil || v.String() != "+PONG" {
					dumpGoroutines(t)
					t.Fatalf("after %q (RESP%d): another connection's PING got %v %v", clipEx(ex), proto, v, err)
				}
				if conn == nil {
					continue
				}
				// The sender's connection still works.
				if err := probeConn(conn); err != nil {
					dumpGoroutines(t)
					t.Fatalf("after %q (RESP%d): the connection no longer works: %v", clipEx(ex), proto, err)
				}
				conn.Close()
			}
		}
	}
	t.Logf("%d commands and subcommands, %d examples, each over RESP2 and RESP3", len(names), examples/2)
}

// startLeakable starts a server for the examples, as testutil.Start with
// everyCommandDirectives does, but closes it at the end of the test only
// if the test passed: after a handler deadlocked, closing would wait for it
// for ever, and the test would hang instead of failing with its report.
func startLeakable(t *testing.T) *testutil.Instance {
	t.Helper()
	cfg := config.New()
	text := "bind 127.0.0.1\nport 0\ndir " + strconv.Quote(t.TempDir()) + "\n"
	for i := 0; i < len(everyCommandDirectives); i += 2 {
		text += everyCommandDirectives[i] + " " + everyCommandDirectives[i+1] + "\n"
	}
	if err := cfg.LoadString(text); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Log.SetOutput(io.Discard)
	srv.EphemeralPort = true
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			_ = srv.Close()
		}
	})
	return &testutil.Instance{Addr: srv.Addr().String(), Srv: srv}
}

// exampleSlow reports whether ex has a line marked @slow.
func exampleSlow(ex string) bool {
	for _, l := range parseExample(ex) {
		if l.slow {
			return true
		}
	}
	return false
}

// badExampleError reports whether an error reply says the example itself
// is wrong: an unknown command or subcommand, or a wrong argument count.
func badExampleError(msg string) bool {
	return strings.HasPrefix(msg, "ERR unknown command") || strings.HasPrefix(msg, "ERR unknown subcommand") ||
		strings.HasPrefix(msg, "ERR wrong number of arguments")
}

// probeConn checks a connection that ran an example: RESET (which ends
// MULTI, MONITOR, subscriptions and CLIENT REPLY OFF) answers, pushes
// still queued for it aside, and then PING does.
func probeConn(c *respConn) error {
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if err := c.send("RESET"); err != nil {
		return err
	}
	for {
		v, err := readRV(c.r)
		if err != nil {
			return fmt.Errorf("RESET: %v", err)
		}
		if v.String() == "+RESET" {
			break
		}
	}
	if v, err := c.do("PING"); err != nil || v.String() != "+PONG" {
		return fmt.Errorf("PING: %v %v", v, err)
	}
	return nil
}

func dumpGoroutines(t *testing.T) {
	var b bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
	t.Log(b.String())
}

// everyCommandDirectives start the server the examples run against: DEBUG
// and protected configs allowed, as the redis-server of TestRedisDiff.
var everyCommandDirectives = []string{"enable-debug-command", "yes", "enable-protected-configs", "yes"}

// tableCommandNames lists what the examples must cover: every command
// without subcommands, every subcommand ("client|kill"), and containers
// that also run on their own (COMMAND).
func tableCommandNames(tab *command.Table) []string {
	var out []string
	for _, c := range tab.All() {
		if !c.HasSubcommands() || c.Handler != nil {
			out = append(out, c.Name)
		}
		for _, s := range c.Subcommands {
			out = append(out, s.Name)
		}
	}
	sort.Strings(out)
	return out
}

// diffFixture is the data every example starts from: one key of each type,
// a second set and sorted set for the multi-key commands, a stream with a
// group and a pending entry, and a key with a TTL. "missing" never exists;
// "str" and "list" serve as the wrong type for the other commands.
var diffFixture = []string{
	"flushall",
	"set str hello",
	"set num 10",
	"set float 1.5",
	"rpush list a b c",
	"hset hash f1 v1 f2 2",
	"sadd set a b c",
	"sadd set2 b c d",
	"sadd iset 1 2 3",
	"zadd zset 1 a 2 b 3 c",
	"zadd zset2 1 b 5 d",
	"xadd stream 1-0 f v",
	"xadd stream 2-0 f2 v2",
	"xgroup create stream g 0",
	"xreadgroup group g alice count 1 streams stream >",
	"pfadd hll a b c",
	"geoadd geo 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
	"set ttlkey v pxat 4000000000000",
}

// loadFixture resets the server's data to diffFixture.
func loadFixture(t *testing.T, addr string) {
	t.Helper()
	c, err := dialProto(addr, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var buf []byte
	for _, line := range diffFixture {
		args, _ := resp.SplitArgs([]byte(line))
		buf = append(buf, encodeArgs(args)...)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(buf); err != nil {
		t.Fatal(err)
	}
	for _, line := range diffFixture {
		v, err := readRV(c.r)
		if err != nil || v.isErr() {
			t.Fatalf("fixture %q on %s: %v %v", line, addr, v, err)
		}
	}
}

func encodeArgs(args [][]byte) []byte {
	b := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n", len(a))
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// An example is one or more command lines separated by " ; ", run in
// order on one fresh connection. A line is split as redis-cli splits
// (quotes and \x escapes). It may start with annotations:
//
//	@N          the command answers N replies (default 1; @0 for none)
//	@exact, @unordered, @shape, @type, @none
//	            how TestRedisDiff compares its replies (default: diffModes)
//	@closes     the server closes the connection after the reply
//	@replica    the connection becomes a replica (SYNC, PSYNC): the
//	            handshake line and the RDB payload are read, then it is closed
//	@arity      the command is given a wrong number of arguments on purpose
//	@slow       the command takes seconds (PFSELFTEST: 12 s under the race
//	            detector): it runs once, over RESP2, and not at all under
//	            the race detector (its own test covers it there)
//
// {prev} stands for the previous reply (a string, or an array's first
// element), {victim} for the ID of another connection opened for the
// example (CLIENT KILL's target).
type exLine struct {
	text    string
	args    []string
	replies int
	mode    cmpMode
	closes  bool
	replica bool
	slow    bool
	arity   bool
}

func parseExample(ex string) []exLine {
	var out []exLine
	for _, text := range strings.Split(ex, " ; ") {
		l := exLine{text: text, replies: 1, mode: -1}
		parts, err := resp.SplitArgs([]byte(text))
		if err != nil {
			panic(fmt.Sprintf("example %q: %v", ex, err))
		}
		for _, p := range parts {
			s := string(p)
			switch {
			case len(l.args) > 0 || !strings.HasPrefix(s, "@"):
				l.args = append(l.args, s)
			case s == "@closes":
				l.closes = true
			case s == "@replica":
				l.replica = true
			case s == "@slow":
				l.slow = true
			case s == "@arity":
				l.arity = true
			case cmpModeNames[s[1:]] != 0 || s == "@exact":
				l.mode = cmpModeNames[s[1:]]
			default:
				n, err := strconv.Atoi(s[1:])
				if err != nil {
					panic(fmt.Sprintf("example %q: unknown annotation %s", ex, s))
				}
				l.replies = n
			}
		}
		if l.mode < 0 {
			l.mode = diffModes[lineName(l.args)]
		}
		out = append(out, l)
	}
	return out
}

// lineName is the table name of the command a line runs: "get",
// "client|kill" (for containers listed in diffModes or cmdExamples).
func lineName(args []string) string {
	name := strings.ToLower(args[0])
	if len(args) > 1 {
		sub := name + "|" + strings.ToLower(args[1])
		if _, ok := cmdExamples[sub]; ok {
			return sub
		}
	}
	return name
}

// runExample runs ex on a fresh connection to addr speaking proto; each
// reply must come within timeout.
func runExample(addr string, proto int, ex string, timeout time.Duration) []stepResult {
	steps, c := runExampleConn(addr, proto, ex, timeout)
	if c != nil {
		c.Close()
	}
	return steps
}

// runExampleConn is runExample returning the connection, still open unless
// the example closed it (or a reply did not come).
func runExampleConn(addr string, proto int, ex string, timeout time.Duration) ([]stepResult, *respConn) {
	var out []stepResult
	c, err := dialProto(addr, proto)
	if err != nil {
		return []stepResult{{line: ex, err: err}}, nil
	}
	var victim *respConn
	defer func() {
		if victim != nil {
			victim.Close()
		}
	}()
	prev := ""
	for _, l := range parseExample(ex) {
		if c == nil { // the previous line closed it
			if c, err = dialProto(addr, proto); err != nil {
				out = append(out, stepResult{line: l.text, err: err})
				return out, nil
			}
		}
		args := make([]string, len(l.args))
		for i, a := range l.args {
			if strings.Contains(a, "{victim}") && victim == nil {
				if victim, err = dialProto(addr, 2); err == nil {
					var id rv
					id, err = victim.do("CLIENT", "ID")
					prev = id.s
				}
				if err != nil {
					out = append(out, stepResult{line: l.text, err: err})
					return out, c
				}
				a = strings.ReplaceAll(a, "{victim}", prev)
			}
			args[i] = strings.ReplaceAll(a, "{prev}", prev)
		}
		st := stepResult{line: l.text, name: lineName(l.args), mode: l.mode, arity: l.arity}
		_ = c.SetDeadline(time.Now().Add(timeout))
		st.err = c.send(args...)
		for i := 0; i < l.replies && st.err == nil; i++ {
			var v rv
			if v, st.err = readRV(c.r); st.err == nil {
				st.replies = append(st.replies, v)
			}
		}
		switch {
		case st.err != nil:
		case l.replica:
			// The RDB payload: $<len> and the bytes, no CRLF after them.
			// Newlines before it keep the link alive while the RDB is made.
			var line string
			for st.err == nil && !strings.HasPrefix(line, "$") {
				line, st.err = c.r.ReadString('\n')
			}
			if st.err == nil {
				n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
				_, st.err = io.CopyN(io.Discard, c.r, int64(n))
			}
			c.Close()
			c = nil
		case l.closes:
			_ = c.SetReadDeadline(time.Now().Add(timeout))
			var ne net.Error
			if _, err := c.r.ReadByte(); err == nil || errors.As(err, &ne) && ne.Timeout() {
				st.err = fmt.Errorf("connection not closed")
			}
			c.Close()
			c = nil
		}
		if len(st.replies) > 0 {
			last := st.replies[len(st.replies)-1]
			prev = last.s
			if len(last.a) > 0 {
				prev = last.a[0].s
			}
		}
		out = append(out, st)
		if st.err != nil {
			if c != nil {
				c.Close()
			}
			return out, nil
		}
	}
	return out, c
}

// words returns n arguments: prefix1 … prefixN (a large collection).
func words(prefix string, n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s%d", prefix, i)
	}
	return b.String()
}

// cmdExamples holds, for every name of the command table, argument lists
// that exercise it: the usual case, missing keys and the wrong type where
// the command reads keys, and the variants whose replies differ in shape.
// The examples start from diffFixture. Entries for commands the table
// does not have (yet) are simply not used.
var cmdExamples = map[string][]string{
	"append":      {`append str world`, `append missing x`, `append list x`, `append hash x`, `watch str ; append str "" ; multi ; ping ; exec`},
	"auth":        {`auth pass`, `auth default pass`, `auth a b c`},
	"acl|cat":     {`acl cat`, `acl cat string`, `acl cat nosuch`},
	"acl|deluser": {`acl setuser ex1 ; acl deluser ex1 nosuch`, `acl deluser default`},
	"acl|dryrun": {`acl setuser ex1 on nopass +get ~k* ; acl dryrun ex1 get k1 ; acl dryrun ex1 get x ; acl dryrun ex1 set k1 v ; acl deluser ex1`,
		`acl dryrun nosuch get x`},
	"acl|genpass":  {`acl genpass`, `acl genpass 0`, `acl genpass x`},
	"acl|getuser":  {`acl getuser default`, `acl getuser nosuch`, `acl setuser ex1 on >p ~k* +get ; acl getuser ex1 ; acl deluser ex1`},
	"acl|help":     {`acl help`},
	"acl|list":     {`acl list`},
	"acl|users":    {`acl users`},
	"acl|whoami":   {`acl whoami`},
	"acl|load":     {`acl load`},
	"acl|save":     {`acl save`},
	"acl|log":      {`acl log`, `acl log reset`, `acl log x`},
	"acl|setuser":  {`acl setuser ex1 on >p ~k* +get ; acl deluser ex1`, `acl setuser ex1 +nosuch`},
	"readonly":     {`readonly`},
	"readwrite":    {`readwrite`},
	"bgrewriteaof": {`bgrewriteaof`},
	"bgsave":       {`bgsave schedule`},
	"bitcount":     {`bitcount str`, `bitcount str 0 -1 bit`, `bitcount str 1 1`, `bitcount missing`, `bitcount list`, `bitcount str 0 -1 byte`, `bitcount str 0`, `bitcount str a b`},
	"bitfield":     {`bitfield str get u8 0 incrby u8 8 1 overflow sat set i4 0 7`, `bitfield missing get i8 0`, `bitfield list get u8 0`, `bitfield str`, `bitfield str set u8 0 255 get u8 0 incrby u8 0 10 overflow fail incrby u8 0 300`, `watch str ; bitfield str get u8 0 ; multi ; ping ; exec`, `watch str ; bitfield str set u8 0 104 ; multi ; ping ; exec`, `bitfield str get x 0`, `bitfield str overflow x`, `bitfield str set i64 0 1`, `bitfield str get u64 0`, `bitfield str incrby u8 x 1`},
	"bitfield_ro":  {`bitfield_ro str get u8 0 get i16 4`, `bitfield_ro missing get u8 0`},
	"bitop":        {`bitop and dest str num`, `bitop not dest str`, `bitop or dest missing`, `bitop xor dest list`, `bitop xx dest str`, `bitop not dest str num`},
	"bitpos":       {`bitpos str 1`, `bitpos str 0 1 -1 bit`, `bitpos missing 0`, `bitpos list 1`, `bitpos str 1 2`, `bitpos missing 1`, `bitpos str 2`, `bitpos str 1 0 -1 bad`},
	"blmove":       {`blmove list dst left right 0.01`, `blmove missing dst left left 0.01`, `blmove str dst left left 0.01`},
	"blmpop":       {`blmpop 0.01 2 missing list left count 2`, `blmpop 0.01 1 missing right`, `blmpop 0.01 1 list left count 1`},
	"blpop":        {`blpop missing list 0.01`, `blpop missing 0.01`, `blpop str 0.01`, `blpop list -1`, `blpop list x`},
	"brpop":        {`brpop list 0.01`, `brpop missing 0.01`},
	"brpoplpush":   {`brpoplpush list dst 0.01`, `brpoplpush missing dst 0.01`, `brpoplpush str dst 0.01`},
	"bzmpop":       {`bzmpop 0.01 2 missing zset min count 2`, `bzmpop 0.01 1 missing max`},
	"bzpopmax":     {`bzpopmax zset 0.01`, `bzpopmax missing 0.01`},
	"bzpopmin":     {`bzpopmin missing zset 0.01`, `bzpopmin missing 0.01`, `bzpopmin str 0.01`, `bzpopmin zset x`},

	"client|caching":  {`client tracking on optin ; client caching yes ; get str`, `client caching yes`},
	"client|getname":  {`client getname`, `client setname foo ; client getname`},
	"client|getredir": {`client getredir`},
	"client|help":     {`client help`},
	"client|id":       {`client id`},
	"client|info":     {`client info`},
	"client|kill":     {`client kill id {victim}`, `client kill 127.0.0.1:1`, `client kill id 999999 skipme yes`, `client kill user nosuch`, `client kill maxage 100000`, `@arity client kill`, `client kill id x`, `client kill type nosuch`, `client id ; @closes client kill id {prev} skipme no`},
	"client|list":     {`client list`, `client list type pubsub`, `client list id {victim}`, `client list type normal id 999999`, `client list type x`, `client list id x`},
	"client|no-evict": {`client no-evict on`, `client no-evict off`, `client no-evict x`},
	"client|no-touch": {`client no-touch on ; client no-touch off`},
	"client|pause":    {`client pause 10 write ; client unpause`, `client pause 10 ; client unpause`, `client pause x`, `client pause 10 nosuch`},
	"client|reply":    {`client reply on`, `@0 client reply off ; @0 ping ; client reply on`, `@0 client reply skip ; @0 ping ; ping`, `client reply x`},
	"client|setinfo":  {`client setinfo lib-name corvid-test ; client setinfo lib-ver 1.0`},
	"client|setname":  {`client setname foo`, `client setname "a b"`},
	"client|tracking": {`client tracking on ; client tracking off`, `client tracking on bcast prefix a ; client tracking off`, `client tracking on optout ; client tracking off`, `client tracking on bcast prefix a prefix b noloop ; client trackinginfo ; client tracking off`, `client tracking x`, `client tracking on prefix a`, `client tracking on bcast optin`,
		`hello 3 ; client tracking on ; get str ; @2 set str x ; ping`, `hello 3 ; client tracking on noloop ; get str ; set str x ; ping`, `hello 3 ; client tracking on bcast ; @2 set str x ; ping`},
	"client|trackinginfo":     {`client trackinginfo`, `client tracking on optin ; client trackinginfo`},
	"client|unblock":          {`client unblock 999999`, `client id ; client unblock {prev} error`},
	"client|unpause":          {`client unpause`},
	"command":                 {`command`},
	"command|count":           {`command count`},
	"command|docs":            {`command docs get`, `command docs nosuch`, `command docs config|get`, `command docs xread`},
	"command|getkeys":         {`command getkeys set k v`, `command getkeys mset a 1 b 2`, `command getkeys eval "return 1" 2 a b`, `command getkeys get`, `command getkeys ping`, `command getkeys x`, `command getkeys set`},
	"command|getkeysandflags": {`command getkeysandflags set k v`, `command getkeysandflags lmove a b left right`, `command getkeysandflags sort k by w_* get o_* store dst`, `command getkeysandflags migrate h 1 "" 0 5 keys k1 k2`, `command getkeysandflags migrate h 1 k1 0 5`},
	"command|help":            {`command help`},
	"command|info":            {`command info get`, `command info get zadd nosuch`, `command info config`, `command info xread xreadgroup eval evalsha georadius set getex`, `command info function`, `command info sort sort_ro`, `command info memory|usage client|kill`, `command info pubsub`, `command info blpop wait zrank`},
	"command|list":            {`command list`, `command list filterby pattern xa*`, `command list filterby aclcat hyperloglog`},
	"config|get":              {`config get maxmemory`, `config get maxmemory-policy lazyfree-lazy-eviction`, `config get nosuch`, `config get maxmemory*`, `config get bind maxmemory`},
	"config|help":             {`config help`},
	"config|resetstat":        {`config resetstat`},
	"config|rewrite":          {`config rewrite`},
	"config|set":              {`config set maxmemory 0`, `config set nosuch 1`, `config set maxmemory-policy noeviction lfu-log-factor 10`, `config set maxmemory 1gb ; config get maxmemory ; config set maxmemory 0`, `config set maxmemory x`, `config set maxmemory-policy x`, `@arity config set maxmemory`, `config set port 0 port 1`, `config set appendonly yes ; config set appendonly no`},
	"copy":                    {`copy str dst`, `copy str num`, `copy str num replace`, `copy missing dst`, `copy hash dst db 1`, `copy list dst ; lrange dst 0 -1`, `copy zset dst ; zrange dst 0 -1 withscores`, `copy stream dst ; xrange dst - +`, `copy set dst ; scard dst`, `watch dst ; copy str dst ; multi ; ping ; exec`, `watch num ; copy str num ; multi ; ping ; exec`, `copy str dst db x`, `copy str str`},
	"dbsize":                  {`dbsize`, `flushdb ; dbsize`},
	"debug": {`@type debug help`, `debug sleep 0`, `debug object str`, `debug object missing`, `debug set-active-expire 1`,
		`debug digest-value str missing`, `@exact debug protocol string`, `@exact debug protocol integer`, `@exact debug protocol double`,
		`@exact debug protocol bignum`, `@exact debug protocol null`, `@exact debug protocol array`, `@exact debug protocol set`, `@exact debug protocol map`,
		`@exact debug protocol attrib`, `@exact debug protocol push`, `@exact debug protocol true`, `@exact debug protocol false`,
		`@exact debug protocol verbatim`, `debug error "ERR boom"`, `debug log hello`, `debug populate 3 pop 5`,
		`debug change-repl-id`, `debug quicklist-packed-threshold 1gb`, `debug digest`, `zadd z 0.1 a 1e300 b -inf c 1.5e-7 d ; debug digest-value z`, `debug digest-value list hash set iset zset stream geo hll`, `debug object list`, `debug object hash`, `debug object zset`, `debug object set`, `debug object iset`, `debug object stream`, `debug object num`, `debug object ttlkey`,
		"rpush big " + words("elementelementelementelementelementelement", 300) + " ; debug object big", "rpush big " + words("e", 2000) + " ; debug object big", "config set rdbcompression no ; rpush big " + words("e", 2000) + " ; debug object big ; config set rdbcompression yes"},
	"decr":             {`decr num`, `decr missing`, `decr str`},
	"decrby":           {`decrby num 5`, `decrby missing 1`, `decrby num x`, `decrby list 1`, `watch num ; decrby num 0 ; multi ; ping ; exec`, `decrby num -9223372036854775808`, `set n -1 ; decrby n 9223372036854775807`},
	"del":              {`del str list missing`, `watch missing ; del missing ; multi ; ping ; exec`},
	"delex":            {`delex str ifeq other`, `delex str ifeq hello`, `delex num`, `delex missing`},
	"delifeq":          {`delifeq str other`, `delifeq str hello`, `delifeq missing x`},
	"digest":           {`digest str`, `digest missing`},
	"discard":          {`multi ; @1 set k v ; discard`, `discard`},
	"dump":             {`dump str ; restore newkey 0 {prev} ; get newkey`, `dump missing`},
	"echo":             {`echo hello`, `echo ""`, `echo "a\r\nb"`, `@arity echo`},
	"eval":             {`eval "return 1" 0`, `eval "return redis.call('get', KEYS[1])" 1 str`, `eval "return {1, 'a', {2}}" 0`, `eval "return redis.error_reply('MY err')" 0`, `eval "return 3.7" 0`, `eval "return nil" 0`, `@unordered eval "redis.setresp(3); return redis.call('hgetall', KEYS[1])" 1 hash`, `eval "redis.setresp(3); return redis.call('zscore', KEYS[1], 'a')" 1 zset`, `eval "return {double=3.5}" 0`, `eval "return {map={a=1}}" 0`, `eval "return {set={a=true}}" 0`, `eval "return {big_number='123'}" 0`, `eval "return {verbatim_string={format='txt', string='x'}}" 0`, `eval "return redis.status_reply('FINE')" 0`, `eval "return redis.call('incr', KEYS[1])" 1 str`, `eval "return redis.pcall('incr', KEYS[1])" 1 str`, `eval "return true" 0`, `eval "return false" 0`, `eval "redis.setresp(3); return redis.call('debug', 'protocol', 'null')" 0`, `eval x 5`, `eval "return 1" -1`, `eval "return 1" x`, `eval "error('x')" 0`, `eval "return redis.call('nosuch')" 0`, `eval "return redis.call('set', 'a')" 0`},
	"eval_ro":          {`eval_ro "return redis.call('get', KEYS[1])" 1 str`, `eval_ro "return redis.call('set', KEYS[1], 'x')" 1 str`},
	"evalsha":          {`script load "return 1" ; evalsha {prev} 0`, `evalsha ffffffffffffffffffffffffffffffffffffffff 0`, `evalsha xx 0`},
	"evalsha_ro":       {`script load "return KEYS[1]" ; evalsha_ro {prev} 1 str`},
	"exec":             {`multi ; set k v ; get k ; exec`, `exec`, `watch str ; multi ; get str ; exec`, `multi ; set k ; exec`, `multi ; incr str ; set k v ; exec`, `watch str ; set str x ; multi ; get str ; exec`, `multi ; hgetall hash ; zrange zset 0 -1 withscores ; exec`},
	"exists":           {`exists str missing str`},
	"expire":           {`expire str 100`, `expire str 100 nx`, `expire missing 10`, `expire str x`, `expire str -1 ; exists str`, `expire str 100 gt`, `expire str 100 xx lt`, `watch missing ; expire missing 10 ; multi ; ping ; exec`, `watch ttlkey ; expire ttlkey 100 nx ; multi ; ping ; exec`, `watch str ; expire str 100 xx ; multi ; ping ; exec`, `expire str 100 nx xx`, `expire str 100 gt lt`, `expire str 9223372036854775807`},
	"expireat":         {`expireat str 4000000000`, `expireat missing 4000000000`, `watch str ; expireat str 1 ; multi ; ping ; exec`},
	"expiretime":       {`expiretime ttlkey`, `expiretime str`, `expiretime missing`},
	"fcall":            {"function load \"#!lua name=lib\\nredis.register_function('f', function(keys, args) return keys[1] end)\" ; fcall f 1 str", `fcall nosuch 0`, `fcall f x`},
	"fcall_ro":         {"function load \"#!lua name=lib\\nredis.register_function{function_name='f', callback=function(keys, args) return 1 end, flags={'no-writes'}}\" ; fcall_ro f 0"},
	"flushall":         {`flushall`, `flushall async`, `flushall sync`, `watch missing ; flushall ; multi ; ping ; exec`},
	"flushdb":          {`flushdb`, `flushdb async`, `watch missing ; flushdb ; multi ; ping ; exec`, `watch str ; flushdb ; multi ; ping ; exec`},
	"function|delete":  {"function load \"#!lua name=lib\\nredis.register_function('f', function() return 1 end)\" ; function delete lib", `function delete nosuch`},
	"function|dump":    {"function load \"#!lua name=lib\\nredis.register_function('f', function() return 1 end)\" ; function dump ; function flush ; function restore {prev} ; function list"},
	"function|flush":   {`function flush`, `function flush sync`},
	"function|help":    {`function help`},
	"function|kill":    {`function kill`},
	"function|list":    {`function list`, "function load \"#!lua name=lib\\nredis.register_function('f', function() return 1 end)\" ; function list withcode", `function list libraryname nosuch`},
	"function|load":    {"function load \"#!lua name=lib\\nredis.register_function('f', function() return 1 end)\"", `function load "bad"`, `function load x`, `function load "#!lua name=lib\nreturn 1"`, `function load "#!lua\nreturn 1"`},
	"function|restore": {`function restore xxx`, `function restore xxx flush`},
	"function|stats":   {`function stats`},

	"geoadd":               {`geoadd geo 2.35 48.85 Paris`, `geoadd geo xx ch 13.361389 38.115556 Palermo`, `geoadd str 1 1 m`, `geoadd geo 200 100 bad`, `geoadd geo nx 2.35 48.85 Paris`, `geoadd missing 1 2 m`, `watch geo ; geoadd geo xx 1 1 nosuch ; multi ; ping ; exec`, `geoadd geo 181 0 x`, `@arity geoadd geo 1 2`},
	"geodist":              {`geodist geo Palermo Catania km`, `geodist geo Palermo nosuch`, `geodist missing a b`, `geodist geo Palermo Catania`, `geodist geo Palermo Catania mi`, `geodist str a b`, `geodist geo a b furlongs`},
	"geohash":              {`geohash geo Palermo nosuch`, `geohash missing a`, `geohash str a`},
	"geopos":               {`geopos geo Palermo nosuch`, `geopos missing a`, `geopos str a`},
	"georadius":            {`georadius geo 15 37 200 km withdist withcoord asc`, `georadius geo 15 37 200 km withhash count 1`, `georadius missing 15 37 200 km`, `georadius geo 15 37 200 km store dst`, `georadius geo 15 37 200 km storedist dst`, `georadius str 15 37 200 km`, `georadius geo 15 37 -1 km`, `georadius geo 15 37 1 furlongs`, `georadius geo 15 37 1 km count 0`},
	"georadius_ro":         {`georadius_ro geo 15 37 200 km withdist`},
	"georadiusbymember":    {`georadiusbymember geo Palermo 200 km withdist asc`, `georadiusbymember geo nosuch 200 km`, `georadiusbymember geo Palermo 200 km withcoord withhash count 1 desc`},
	"georadiusbymember_ro": {`georadiusbymember_ro geo Palermo 200 km`},
	"geosearch":            {`geosearch geo frommember Palermo byradius 200 km asc withcoord withdist withhash`, `geosearch geo fromlonlat 15 37 bybox 400 400 km desc`, `geosearch missing fromlonlat 15 37 byradius 1 km`, `geosearch geo frommember nosuch byradius 1 km`, `geosearch str fromlonlat 15 37 byradius 1 km`, `geosearch geo fromlonlat 15 37 byradius 200 km count 1 any withdist`},
	"geosearchstore":       {`geosearchstore dst geo fromlonlat 15 37 byradius 200 km storedist`, `geosearchstore dst missing fromlonlat 15 37 byradius 200 km`, `geosearchstore dst str fromlonlat 15 37 byradius 200 km`},
	"get":                  {`get str`, `get missing`, `get list`},
	"getbit":               {`getbit str 1`, `getbit missing 0`, `getbit list 0`, `getbit str -1`, `getbit str x`},
	"getdel":               {`getdel str`, `getdel missing`, `getdel list`, `getdel num`, `watch missing ; getdel missing ; multi ; ping ; exec`},
	"getex":                {`getex str ex 100`, `getex str persist`, `getex missing`, `getex list`, `getex str px 100000`, `getex str exat 4000000000`, `getex str pxat 4000000000000`, `watch str ; getex str ; multi ; ping ; exec`, `watch str ; getex str persist ; multi ; ping ; exec`, `watch ttlkey ; getex ttlkey persist ; multi ; ping ; exec`, `getex str ex 0`, `getex str ex 1 px 1`, `getex str x`},
	"getrange":             {`getrange str 0 2`, `getrange missing 0 -1`, `getrange list 0 1`, `getrange str a b`},
	"getset":               {`getset str x`, `getset missing x`, `getset list x`, `watch str ; getset str hello ; multi ; ping ; exec`},

	"hdel":         {`hdel hash f1 nosuch`, `hdel missing f`, `hdel str f`, `hdel hash f1 f2`, `watch hash ; hdel hash nosuch ; multi ; ping ; exec`},
	"hello":        {`hello`, `hello 3`, `hello 2 setname foo`, `hello 4`, `hello 3 auth default x`, `hello 3 setname "a b"`, `hello 1`, `hello x`, `hello 3 auth default`},
	"hexists":      {`hexists hash f1`, `hexists missing f`, `hexists str f`},
	"hexpire":      {`hexpire hash 100 fields 2 f1 nosuch`, `hexpire missing 100 fields 1 f`, `watch hash ; hexpire hash 100 fields 1 nosuch ; multi ; ping ; exec`},
	"hexpireat":    {`hexpireat hash 4000000000 fields 1 f1`},
	"hexpiretime":  {`hexpiretime hash fields 2 f1 nosuch`},
	"hget":         {`hget hash f1`, `hget hash nosuch`, `hget missing f`, `hget str f`},
	"hgetall":      {`hgetall hash`, `hgetall missing`, `hgetall str`},
	"hgetdel":      {`hgetdel hash fields 1 f1`},
	"hgetex":       {`hgetex hash ex 100 fields 1 f1`},
	"hincrby":      {`hincrby hash f2 3`, `hincrby missing f 1`, `hincrby hash f1 1`, `watch hash ; hincrby hash f2 0 ; multi ; ping ; exec`, `hincrby hash f2 x`, `hset hash big 9223372036854775807 ; hincrby hash big 1`},
	"hincrbyfloat": {`hincrbyfloat hash f2 1.5`, `hincrbyfloat missing f 0.1`, `hincrbyfloat hash f1 1`, `hincrbyfloat str f 1`, `hincrbyfloat hash f2 x`, `hset hash big 1e308 ; hincrbyfloat hash big 1e308`},
	"hkeys":        {`hkeys hash`, `hkeys missing`, `hkeys str`},
	"hlen":         {`hlen hash`, `hlen missing`, `hlen str`},
	"hmget":        {`hmget hash f1 nosuch f2`, `hmget missing a`, `hmget str a`},
	"hmset":        {`hmset hash f3 v3`, `hmset str f v`, `hmset missing f v g w`},
	"hpersist":     {`hpersist hash fields 1 f1`},
	"hpexpire":     {`hpexpire hash 100000 fields 1 f1`},
	"hpexpireat":   {`hpexpireat hash 4000000000000 fields 1 f1`},
	"hpexpiretime": {`hpexpiretime hash fields 1 f1`},
	"hpttl":        {`hpttl hash fields 1 f1`},
	"hrandfield":   {`hrandfield hash`, `hrandfield hash 2 withvalues`, `hrandfield hash -3`, `hrandfield missing`, `hrandfield missing 2`, `hrandfield str`, `hrandfield hash 0`, `hrandfield hash x`, `hrandfield hash 1 withvalues x`},
	"hscan": {`hscan hash 0`, `hscan hash 0 match f1 count 10`, `hscan missing 0`, `hscan str 0`, `hscan hash 0 novalues`,
		`hscan hash 0 count 1`, "hset big " + words("f", 130) + " ; @types hscan big 0 count 5"},
	"hset":    {`hset hash f1 x f9 y`, `hset str f v`, `watch hash ; hset hash f1 v1 ; multi ; ping ; exec`},
	"hsetex":  {`hsetex hash ex 100 fields 1 f1 v`},
	"hsetnx":  {`hsetnx hash f1 x`, `hsetnx hash new x`, `hsetnx str f v`, `watch hash ; hsetnx hash f1 x ; multi ; ping ; exec`},
	"hstrlen": {`hstrlen hash f1`, `hstrlen missing f`, `hstrlen hash f2`, `hstrlen str f`},
	"httl":    {`httl hash fields 1 f1`},
	"hvals":   {`hvals hash`, `hvals missing`, `hvals str`},

	"incr":              {`incr num`, `incr missing`, `incr str`, `set n 9223372036854775807 ; incr n`, `set n " 1" ; incr n`},
	"incrby":            {`incrby num 5`, `incrby missing 2`, `incrby str 1`, `incrby num 9223372036854775807`, `watch num ; incrby num 0 ; multi ; ping ; exec`, `incrby num x`, `set n 1 ; incrby n 9223372036854775807`},
	"incrbyfloat":       {`incrbyfloat float 0.25`, `incrbyfloat missing 1e3`, `incrbyfloat str 1`, `incrbyfloat num 1.0e1`, `incrbyfloat str x`, `incrbyfloat float inf`},
	"info":              {`info`, `info server`, `info keyspace`, `info all`, `info nosuch`},
	"keys":              {`keys *`, `keys s*`, `keys nomatch*`, `keys [sz]*`},
	"lastsave":          {`lastsave`},
	"latency|doctor":    {`latency doctor`},
	"latency|graph":     {`latency graph command`, `latency graph x`},
	"latency|help":      {`latency help`},
	"latency|histogram": {`latency histogram`, `latency histogram set get`},
	"latency|history":   {`latency history command`, `latency history nosuch`},
	"latency|latest":    {`latency latest`},
	"latency|reset":     {`latency reset`},
	"lcs":               {`set a ohmytext ; set b mynewtext ; lcs a b`, `set a ohmytext ; set b mynewtext ; lcs a b idx minmatchlen 2 withmatchlen`, `lcs str missing len`, `lcs str list`},
	"lindex":            {`lindex list 0`, `lindex list 9`, `lindex missing 0`, `lindex str 0`, `lindex list x`},
	"linsert":           {`linsert list before b x`, `linsert list after nosuch x`, `linsert missing before a b`, `linsert str before a b`, `watch list ; linsert list before nosuch x ; multi ; ping ; exec`, `linsert list middle a b`},
	"llen":              {`llen list`, `llen missing`, `llen str`},
	"lmove":             {`lmove list dst left right`, `lmove missing dst left right`, `lmove list list right left`, `lmove str dst left right`, `watch list ; lmove list list left left ; multi ; ping ; exec`},
	"lmpop":             {`lmpop 2 missing list left count 2`, `lmpop 1 missing left`, `lmpop 1 list right count 10`, `lmpop 1 str left`, `lmpop 0 list left`, `lmpop 1 list middle`, `lmpop 1 list left count 0`},
	"lolwut":            {`lolwut version 5`},
	"lpop":              {`lpop list`, `lpop list 2`, `lpop missing`, `lpop missing 2`, `lpop list 0`, `lpop str`, `watch missing ; lpop missing ; multi ; ping ; exec`},
	"lpos":              {`lpos list b`, `lpos list b count 0`, `lpos list nosuch`, `lpos missing a count 1`, `lpos list a rank -1 maxlen 10`, `lpos str a`, `lpos list a rank 0`, `lpos list a count -1`, `lpos list a maxlen -1`},
	"lpush":             {`lpush list x y`, `lpush str x`},
	"lpushx":            {`lpushx list x`, `lpushx missing x`, `lpushx str x`},
	"lrange":            {`lrange list 0 -1`, `lrange missing 0 -1`, `lrange str 0 -1`, `lrange list 5 10`, `lrange list a b`},
	"lrem":              {`lrem list 0 a`, `lrem missing 0 a`, `lrem str 0 a`, `lrem list -1 c`, `watch list ; lrem list 0 x ; multi ; ping ; exec`},
	"lset":              {`lset list 0 x`, `lset missing 0 x`, `lset list 9 x`, `lset str 0 x`, `watch list ; lset list 0 a ; multi ; ping ; exec`, `lset list x a`},
	"ltrim":             {`ltrim list 0 1`, `ltrim missing 0 1`, `ltrim str 0 1`, `ltrim list 5 10 ; exists list`, `watch list ; ltrim list 0 -1 ; multi ; ping ; exec`, `ltrim list a b`},

	"memory|doctor":       {`memory doctor`},
	"memory|help":         {`memory help`},
	"memory|malloc-stats": {`memory malloc-stats`},
	"memory|purge":        {`memory purge`},
	"memory|stats":        {`memory stats`},
	"memory|usage":        {`memory usage str`, `memory usage list samples 0`, `memory usage missing`, `memory usage hash`, `memory usage zset`, `memory usage stream`, `memory usage set`, `memory usage str samples 5 x`, `memory usage str samples x`, `memory usage str x`},
	"migrate":             {`migrate 127.0.0.1 1 missing 0 100`, `migrate 127.0.0.1 1 "" 0 100 keys missing nosuch`, `migrate 127.0.0.1 1 str 0 100`, `migrate 127.0.0.1 1 str 0 100 copy replace auth pw`, `migrate 127.0.0.1 1 "" 0 100 keys`, `migrate 127.0.0.1 1 str 0 x`},
	"mget":                {`mget str missing list num`},
	"module|help":         {`module help`},
	"module|list":         {`module list`},
	"module|load":         {`module load /nonexistent/module.so`},
	"module|loadex":       {`module loadex /nonexistent/module.so args a`},
	"module|unload":       {`module unload nosuch`},
	"monitor":             {`monitor`},
	"move":                {`move str 1`, `move missing 1`, `move str 0`, `move str x`, `set str v ; select 1 ; set str w ; select 0 ; move str 1`, `watch str ; move str 1 ; multi ; ping ; exec`},
	"mset":                {`mset a 1 b 2`, `mset list x`},
	"msetnx":              {`msetnx a 1 b 2`, `msetnx a 1 str 2`, `watch str ; msetnx str 1 a 2 ; multi ; ping ; exec`},
	"multi":               {`multi ; ping ; exec`, `multi ; multi ; discard`},

	"object|encoding": {`object encoding str`, `object encoding num`, `object encoding list`, `object encoding hash`, `object encoding set`, `object encoding iset`, `object encoding zset`, `object encoding stream`, `object encoding missing`, `object encoding hll`, `object encoding geo`, `object encoding float`, `@arity object encoding`,
		"rpush big " + words("e", 200) + " ; object encoding big", "rpush big " + words("elementelementelementelementelementelement", 300) + " ; object encoding big", "sadd big " + words("m", 129) + " ; object encoding big", "sadd big " + words("", 513) + " ; object encoding big", "sadd big " + words("", 100) + " ; object encoding big ; sadd big x ; object encoding big", "zadd big " + words("1 m", 129) + " ; object encoding big", "hset big " + words("f", 130) + " ; object encoding big", `set s 123456789012345678901234567890123456789012345 ; object encoding s`, `set s 1.5 ; object encoding s`, `set s 10000 ; object encoding s`, `append num 1 ; object encoding num`, `setrange str 0 x ; object encoding str`, `sadd iset abc ; object encoding iset`},
	"object|freq":     {`object freq str`, `config set maxmemory-policy allkeys-lfu ; object freq str ; config set maxmemory-policy noeviction`},
	"object|help":     {`object help`},
	"object|idletime": {`object idletime str`, `object idletime missing`, `config set maxmemory-policy allkeys-lfu ; object idletime str ; config set maxmemory-policy noeviction`},
	"object|refcount": {`object refcount str`, `object refcount num`, `object refcount missing`, `object refcount list`},

	"persist":              {`persist ttlkey`, `persist str`, `persist missing`, `persist list`, `watch str ; persist str ; multi ; ping ; exec`, `watch ttlkey ; persist ttlkey ; multi ; ping ; exec`},
	"pexpire":              {`pexpire str 100000`, `pexpire str 100000 xx`, `pexpire missing 100`},
	"pexpireat":            {`pexpireat str 4000000000000`},
	"pexpiretime":          {`pexpiretime ttlkey`, `pexpiretime missing`},
	"pfadd":                {`pfadd hll x y`, `pfadd hll a`, `pfadd newhll`, `pfadd str a`, `pfadd hll`, `watch hll ; pfadd hll a ; multi ; ping ; exec`, `watch hll ; pfadd hll newelement ; multi ; ping ; exec`},
	"pfcount":              {`pfcount hll`, `pfcount hll missing`, `pfcount str`, `watch hll ; pfcount hll ; multi ; ping ; exec`},
	"pfdebug":              {`pfdebug encoding hll`, `pfdebug getreg hll`, `pfdebug encoding missing`, `pfdebug decode hll`},
	"pfmerge":              {`pfmerge dst hll missing`, `pfmerge dst str`, `pfmerge hll`, `pfmerge dst hll newhll`},
	"pfselftest":           {`@slow pfselftest`},
	"ping":                 {`ping`, `ping hello`, `subscribe a ; @1 ping ; @1 ping x ; reset`, `@arity ping a b`},
	"psetex":               {`psetex str 100000 v`, `psetex str 0 v`, `psetex missing 100000 v`, `psetex str -1 v`},
	"psubscribe":           {`psubscribe a* b* ; punsubscribe a* ; @2 ping ; punsubscribe`},
	"psync":                {`@replica psync ? -1`},
	"pttl":                 {`@shape pttl ttlkey`, `pttl str`, `pttl missing`},
	"publish":              {`publish ch msg`},
	"pubsub|channels":      {`pubsub channels`, `pubsub channels a*`, `@2 subscribe ab ac ; pubsub channels ; reset`},
	"pubsub|help":          {`pubsub help`},
	"pubsub|numpat":        {`pubsub numpat`},
	"pubsub|numsub":        {`pubsub numsub`, `pubsub numsub a b`, `pubsub numsub a a`},
	"pubsub|shardchannels": {`pubsub shardchannels`, `pubsub shardchannels a*`},
	"pubsub|shardnumsub":   {`pubsub shardnumsub`, `pubsub shardnumsub a b`},
	"punsubscribe":         {`punsubscribe`, `punsubscribe a`},

	"quit":      {`@closes quit`},
	"randomkey": {`randomkey`, `flushall ; randomkey`},
	"rename":    {`rename str newname`, `rename missing x`, `rename str str`, `rename hash h2 ; hgetall h2`, `watch str ; rename str str ; multi ; ping ; exec`, `watch num ; rename str num ; multi ; ping ; exec`},
	"renamenx":  {`renamenx str num`, `renamenx str newname`},
	"replconf":  {`replconf listening-port 6380`, `replconf capa eof capa psync2`},
	"replicaof": {`replicaof no one`},
	"reset":     {`reset`, `multi ; reset`, `hello 3 ; select 1 ; reset ; ping`},
	"restore":   {`dump list ; restore copy 0 {prev} ; lrange copy 0 -1`, `restore str 0 xxx`, `dump list ; restore str 0 {prev}`, `dump hash ; restore h2 0 {prev} ; hgetall h2`, `dump zset ; restore z2 0 {prev} absttl ; zrange z2 0 -1 withscores`, `dump stream ; restore s2 0 {prev} ; xinfo groups s2`, `watch str ; dump str ; restore str 0 {prev} replace ; multi ; ping ; exec`, `restore str x xxx`, `restore str -1 xxx`},
	"role":      {`role`},
	"rpop":      {`rpop list`, `rpop list 5`, `rpop missing`, `rpop str`, `rpop missing 2`},
	"rpoplpush": {`rpoplpush list list`, `rpoplpush missing dst`, `rpoplpush str dst`},
	"rpush":     {`rpush list x`, `rpush str x`},
	"rpushx":    {`rpushx list x`, `rpushx missing x`, `rpushx str x`, `watch missing ; rpushx missing x ; multi ; ping ; exec`},

	"sadd":          {`sadd set x a`, `sadd str x`, `watch set ; sadd set a ; multi ; ping ; exec`, `watch set ; sadd set z ; multi ; ping ; exec`},
	"save":          {`save`},
	"scan":          {`scan 0`, `@unordered scan 0 match s* count 100`, `@unordered scan 0 count 1000 type list`, `scan 0 count 100 type nosuch`, `@unordered scan 0 count 1000 match *set*`, `scan x`, `scan 0 count 0`, `scan 0 type`, `scan 0 match`},
	"scard":         {`scard set`, `scard missing`, `scard str`},
	"script|debug":  {`script debug no`},
	"script|exists": {`script load "return 1" ; script exists {prev} ffffffffffffffffffffffffffffffffffffffff`, `script exists ffffffffffffffffffffffffffffffffffffffff`},
	"script|flush":  {`script flush`, `script flush async`, `script flush sync`, `script flush x`},
	"script|help":   {`script help`},
	"script|kill":   {`script kill`},
	"script|load":   {`script load "return 1"`, `script load "return +"`},
	"sdiff":         {`sdiff set set2`, `sdiff set missing`, `sdiff missing set`, `sdiff str`},
	"sdiffstore":    {`sdiffstore dst set set2`, `sdiffstore dst missing`, `sdiffstore dst str`},
	"select":        {`select 1 ; get str`, `select 99`, `select x`, `select -1`, `select 100`},
	"set":           {`set str v`, `set str v get`, `set missing v nx get`, `set str v xx ex 100`, `set list v get`, `set str v keepttl px 100 ex 1`, `watch str ; set str hello ; multi ; ping ; exec`, `watch str ; set str x nx ; multi ; ping ; exec`, `watch missing ; set missing x xx ; multi ; ping ; exec`, `set str v ex 0`, `set str v ex x`, `set str v nx xx`, `set str v ex 10 px 10`, `set str v get nx`, `set str v exat -1`, `set str v ex 9223372036854775807`},
	"setbit":        {`setbit str 0 1`, `setbit missing 100 1`, `setbit list 0 1`, `setbit str 0 2`, `watch str ; setbit str 1 1 ; multi ; ping ; exec`, `setbit str 0 x`, `setbit str 4294967296 1`},
	"setex":         {`setex str 100 v`, `setex str -1 v`, `setex list 100 v`, `setex str 0 v`, `setex str x v`},
	"setnx":         {`setnx str v`, `setnx missing v`},
	"setrange":      {`setrange str 2 xx`, `setrange missing 3 x`, `setrange list 0 x`, `setrange missing 0 ""`, `watch str ; setrange str 0 "" ; multi ; ping ; exec`, `watch str ; setrange str 0 h ; multi ; ping ; exec`, `setrange str -1 x`, `setrange str 536870912 x`},
	"shutdown":      {`shutdown abort`, `shutdown nosave abort`, `shutdown abort now`},
	"sinter":        {`sinter set set2`, `sinter set missing`, `sinter str set`, `sinter iset set`},
	"sintercard":    {`sintercard 2 set set2`, `sintercard 2 set set2 limit 1`, `sintercard 1 missing`, `sintercard 1 str`, `sintercard 0 set`, `sintercard 1 set limit -1`},
	"sinterstore":   {`sinterstore dst set set2`, `sinterstore dst set missing`, `sinterstore dst str`, `watch dst ; sinterstore dst missing ; multi ; ping ; exec`, `watch dst ; set dst x ; sinterstore dst missing ; multi ; ping ; exec`},
	"sismember":     {`sismember set a`, `sismember set x`, `sismember missing a`, `sismember str a`, `sismember iset 1`},
	"slaveof":       {`slaveof no one`},
	"slowlog|get":   {`config set slowlog-log-slower-than 0 ; slowlog reset ; ping ; slowlog get ; slowlog get 1 ; config set slowlog-log-slower-than 10000`, `slowlog get -2`, `slowlog get x`},
	"slowlog|help":  {`slowlog help`},
	"slowlog|len":   {`config set slowlog-log-slower-than 0 ; slowlog reset ; ping ; slowlog len ; config set slowlog-log-slower-than 10000`},
	"slowlog|reset": {`slowlog reset`},
	"smembers":      {`smembers set`, `smembers iset`, `smembers missing`, `smembers str`},
	"smismember":    {`smismember set a x`, `smismember missing a`, `smismember str a`, `@arity smismember set`},
	"smove":         {`smove set set2 a`, `smove set set2 nosuch`, `smove str set a`, `smove set str a`, `smove missing set a`, `watch set ; smove set set2 x ; multi ; ping ; exec`, `watch set2 ; smove set set2 b ; multi ; ping ; exec`},
	"sort":          {`sort iset`, `sort list alpha desc limit 0 2`, `sort list alpha store dst`, `sort missing`, `sort str`, `sort list alpha by nosort get # get hash->f1`, `sort zset by nosort`, `watch dst ; sort list alpha store dst ; multi ; ping ; exec`, `sort list by x limit 0`, `sort list limit a b`, `sort list alpha get`},
	"sort_ro":       {`sort_ro iset desc`},
	"spop":          {`spop set`, `spop set 2`, `spop missing`, `spop missing 2`, `spop str`, `spop iset 0`, `spop set 10`, `watch set ; spop set 0 ; multi ; ping ; exec`, `spop set -1`},
	"spublish":      {`spublish ch msg`},
	"srandmember":   {`srandmember set`, `srandmember set 2`, `srandmember set -5`, `srandmember missing`, `srandmember missing 2`, `srandmember str`, `srandmember set 0`, `srandmember iset 10`, `srandmember set x`},
	"srem":          {`srem set a x`, `srem str a`, `srem missing a`, `srem set a b c ; exists set`, `watch set ; srem set x ; multi ; ping ; exec`, `watch missing ; srem missing x ; multi ; ping ; exec`},
	"sscan": {`sscan set 0`, `sscan iset 0 match 1`, `sscan str 0`, `sscan missing 0`, `sscan set x`, `sscan set 0 count 0`,
		`sscan iset 0 count 1`, `sscan set 0 count 1`},
	"ssubscribe":   {`ssubscribe a b ; sunsubscribe a ; @1 sunsubscribe`},
	"strlen":       {`strlen str`, `strlen missing`, `strlen list`},
	"subscribe":    {`subscribe a b ; unsubscribe a ; @2 ping ; unsubscribe`, `subscribe a ; @1 ping hi ; reset`},
	"substr":       {`substr str 0 2`, `substr missing 0 1`, `substr list 0 1`},
	"sunion":       {`sunion set set2`, `sunion missing`, `sunion str`},
	"sunionstore":  {`sunionstore dst set set2`, `sunionstore dst missing`, `sunionstore dst str`},
	"sunsubscribe": {`sunsubscribe`, `sunsubscribe a`},
	"swapdb":       {`swapdb 0 1 ; get str ; swapdb 0 1`, `watch str ; swapdb 0 1 ; swapdb 0 1 ; multi ; ping ; exec`, `watch missing ; swapdb 0 1 ; swapdb 0 1 ; multi ; ping ; exec`, `swapdb 0 100`, `swapdb x 0`},
	"sync":         {`@0 @replica sync`},

	"time":        {`time`},
	"touch":       {`touch str missing`, `touch missing`},
	"ttl":         {`@shape ttl ttlkey`, `ttl str`, `ttl missing`},
	"type":        {`type str`, `type list`, `type hash`, `type set`, `type zset`, `type stream`, `type missing`, `type hll`, `type geo`},
	"unlink":      {`unlink str list missing`, `unlink missing`, `watch missing ; unlink missing ; multi ; ping ; exec`},
	"unsubscribe": {`unsubscribe`, `unsubscribe a`},
	"unwatch":     {`watch str ; unwatch`},
	"wait":        {`wait 0 0`, `wait 1 10`, `wait x 0`, `wait 0 -1`},
	"waitaof":     {`waitaof 0 0 10`},
	"watch":       {`watch str missing`, `multi ; watch str ; discard`},

	"xack":                  {`watch stream ; xack stream g 1-0 ; multi ; ping ; exec`, `xack stream g 1-0 9-0`, `xack missing g 1-0`, `xack stream g 2-0`, `xack str g 1-0`},
	"xadd":                  {`@exact xadd stream 3-0 a b`, `@exact xadd stream 1-0 a b`, `xadd stream maxlen 1 * a b ; xlen stream`, `xadd missing nomkstream * a b`, `xadd str * a b`, `@exact xadd stream 0-0 a b`, `xadd stream minid 2 * a b ; xlen stream`, `watch missing ; xadd missing nomkstream * a b ; multi ; ping ; exec`, `xadd stream maxlen -1 * a b`, `@arity xadd stream * a`, `xadd stream x a b`, `xadd stream maxlen ~ 1 limit 0 * a b ; xlen stream`},
	"xautoclaim":            {`watch stream ; xautoclaim stream g bob 0 0 ; multi ; ping ; exec`, `xautoclaim stream g bob 0 0`, `xautoclaim stream g bob 0 0 count 1 justid`, `xautoclaim stream nosuch bob 0 0`, `xautoclaim missing g bob 0 0`, `xautoclaim stream g c 0 x`, `xautoclaim stream g c 0 0 count 0`},
	"xclaim":                {`watch stream ; xclaim stream g bob 0 1-0 ; multi ; ping ; exec`, `xclaim stream g bob 0 1-0`, `xclaim stream g bob 0 1-0 justid`, `xclaim stream g bob 0 1-0 idle 0 retrycount 5 force`, `xclaim missing g bob 0 1-0`, `xclaim stream g c x 1-0`, `xclaim stream g c 0 x`, `xclaim stream g c 0 1-0 idle x`},
	"xdel":                  {`xdel stream 1-0 9-0`, `xdel missing 1-0`, `xdel str 1-0`, `watch stream ; xdel stream 9-0 ; multi ; ping ; exec`},
	"xgroup|create":         {`watch stream ; xgroup create stream g9 0 ; multi ; ping ; exec`, `watch newstream ; xgroup create newstream g $ mkstream ; multi ; ping ; exec`, `xgroup create stream g2 $`, `xgroup create stream g 0`, `xgroup create missing g $ mkstream`, `xgroup create missing g $`, `xgroup create str g $`, `xgroup create stream g3 0 entriesread 1`, `xgroup create stream g9 x`, `xgroup create stream g9 0 entriesread x`},
	"xgroup|createconsumer": {`watch stream ; xgroup createconsumer stream g carol ; multi ; ping ; exec`, `xgroup createconsumer stream g bob`, `xgroup createconsumer stream g alice`, `xgroup createconsumer stream nosuch bob`},
	"xgroup|delconsumer":    {`watch stream ; xgroup delconsumer stream g alice ; multi ; ping ; exec`, `xgroup delconsumer stream g alice`, `xgroup delconsumer stream g nosuch`},
	"xgroup|destroy":        {`watch stream ; xgroup destroy stream g ; multi ; ping ; exec`, `xgroup destroy stream g`, `xgroup destroy stream nosuch`},
	"xgroup|help":           {`xgroup help`},
	"xgroup|setid":          {`watch stream ; xgroup setid stream g 0 ; multi ; ping ; exec`, `xgroup setid stream g 0`, `xgroup setid stream g $ entriesread 2`, `xgroup setid stream nosuch 0`},
	"xinfo|consumers":       {`xinfo consumers stream g`, `xinfo consumers stream nosuch`, `xinfo consumers missing g`},
	"xinfo|groups":          {`xinfo groups stream`, `xinfo groups missing`, `xinfo groups str`},
	"xinfo|help":            {`xinfo help`},
	"xinfo|stream":          {`xinfo stream stream`, `xinfo stream stream full`, `xinfo stream missing`, `xinfo stream stream full count 1`, `xinfo stream str`, `xinfo stream stream full count x`},
	"xlen":                  {`xlen stream`, `xlen missing`, `xlen str`},
	"xpending":              {`xpending stream g`, `@shape xpending stream g - + 10`, `@shape xpending stream g - + 10 alice`, `@shape xpending stream g idle 0 - + 10`, `xpending missing g`, `xpending stream nosuch`},
	"xrange":                {`xrange stream - +`, `xrange stream - + count 1`, `xrange missing - +`, `xrange stream 2 +`, `xrange stream (1-0 +`, `xrange str - +`, `xrange stream + -`, `xrange stream x y`, `xrange stream - + count x`},
	"xread":                 {`xread count 1 streams stream 0`, `xread streams stream missing 0 0`, `xread block 10 streams stream $`, `xread streams missing 0`, `xread streams str 0`, `xread count 1 streams stream stream 0 1-0`, `xread count x streams stream 0`, `@arity xread streams stream`, `xread block -1 streams stream 0`},
	"xreadgroup":            {`watch stream ; xreadgroup group g bob streams stream > ; multi ; ping ; exec`, `watch stream ; xreadgroup group g bob noack streams stream > ; multi ; ping ; exec`, `xreadgroup group g bob streams stream >`, `xreadgroup group g alice streams stream 0`, `xreadgroup group g bob block 10 streams stream >`, `xreadgroup group nosuch bob streams stream >`, `xreadgroup group g bob noack count 1 streams stream >`, `xreadgroup group g bob streams missing >`},
	"xrevrange":             {`xrevrange stream + -`, `xrevrange stream + - count 1`, `xrevrange missing + -`},
	"xsetid":                {`xsetid stream 5-0`, `xsetid stream 0-1`, `xsetid missing 1-0`, `xsetid stream 5-0 entriesadded 5 maxdeletedid 3-0`, `watch stream ; xsetid stream 9-0 ; multi ; ping ; exec`, `xsetid stream x`},
	"xtrim":                 {`xtrim stream maxlen 1`, `xtrim stream minid 2`, `xtrim missing maxlen 1`, `xtrim stream maxlen ~ 1`, `xtrim str maxlen 1`, `watch stream ; xtrim stream maxlen 10 ; multi ; ping ; exec`, `xtrim stream maxlen x`, `xtrim stream nosuch 1`},

	"zadd":             {`zadd zset 4 d`, `zadd zset incr 1 a`, `zadd zset nx incr 1 a`, `zadd zset xx ch 5 a 6 z`, `zadd str 1 a`, `zadd zset gt ch 0 a 9 b`, `zadd zset nx xx 1 a`, `zadd zset 1 a 2`, `zadd zset incr 1 a 2 b`, `zadd zset nan a`, `zadd zset xx incr 1 nosuch`, `watch zset ; zadd zset nx 1 a ; multi ; ping ; exec`, `watch zset ; zadd zset 1 a ; multi ; ping ; exec`, `watch zset ; zadd zset xx 1 nosuch ; multi ; ping ; exec`, `zadd zset x a`, `zadd zset nx gt 1 a`, `zadd zset incr 1 a nx xx`},
	"zcard":            {`zcard zset`, `zcard missing`, `zcard str`},
	"zcount":           {`zcount zset 1 2`, `zcount zset (1 +inf`, `zcount missing 0 1`, `zcount str 0 1`, `zcount zset x 1`},
	"zdiff":            {`zdiff 2 zset zset2`, `zdiff 2 zset zset2 withscores`, `zdiff 1 missing`, `zdiff 2 str zset`},
	"zdiffstore":       {`zdiffstore dst 2 zset zset2`, `zdiffstore dst 1 missing`},
	"zincrby":          {`zincrby zset 1.5 a`, `zincrby missing 1 a`, `zincrby str 1 a`, `zincrby zset x a`, `watch zset ; zincrby zset 0 a ; multi ; ping ; exec`, `zadd z 1 a ; zincrby z nan a`},
	"zinter":           {`zinter 2 zset zset2`, `zinter 2 zset zset2 withscores aggregate max`, `zinter 2 zset missing`, `zinter 1 set withscores`, `zinter 2 zset zset2 weights 2 3 withscores`, `zinter 2 zset`, `zinter 1 zset withscores limit 1`},
	"zintercard":       {`zintercard 2 zset zset2`, `zintercard 2 zset missing`, `zintercard 2 zset zset2 limit 1`, `zintercard 1 str`},
	"zinterstore":      {`zinterstore dst 2 zset zset2 weights 1 2`, `zinterstore dst 2 zset str`},
	"zlexcount":        {`zlexcount zset - +`, `zlexcount zset [a (c`, `zlexcount missing - +`, `zlexcount zset x y`},
	"zmpop":            {`zmpop 2 missing zset min count 2`, `zmpop 1 missing max`, `zmpop 1 zset max count 10`, `zmpop 1 str min`, `zmpop 0 zset min`, `zmpop 1 zset minmax`},
	"zmscore":          {`zmscore zset a nosuch`, `zmscore missing a`, `zmscore str a`},
	"zpopmax":          {`zpopmax zset`, `zpopmax zset 2`, `zpopmax missing`, `zpopmax str`, `zpopmax zset 0`, `zpopmax missing 2`},
	"zpopmin":          {`zpopmin zset`, `zpopmin zset 5`, `zpopmin missing 2`, `zpopmin zset -1`},
	"zrandmember":      {`zrandmember zset`, `zrandmember zset 2 withscores`, `zrandmember missing`, `zrandmember missing 1 withscores`, `zrandmember str`, `zrandmember zset -5 withscores`, `zrandmember zset 0`, `zrandmember zset x`},
	"zrange":           {`zrange zset 0 -1`, `zrange zset 0 -1 withscores`, `zrange zset (1 +inf byscore limit 0 1`, `zrange zset [a [b bylex rev`, `zrange missing 0 -1`, `zrange str 0 -1`, `zrange zset +inf -inf byscore rev withscores`, `zrange zset 0 -1 bylex`, `zrange zset 5 10`, `zrange zset 0 -1 limit 0 1`, `zrange zset 0 -1 byscore bylex`, `zrange zset a b byscore`, `zrange zset (a b bylex`},
	"zrangebylex":      {`zrangebylex zset - +`, `zrangebylex zset [b + limit 0 1`, `zrangebylex missing - +`, `zrangebylex zset a b`, `zrangebylex zset [a (b limit 0`},
	"zrangebyscore":    {`zrangebyscore zset -inf +inf withscores`, `zrangebyscore zset (1 3 limit 1 1`, `zrangebyscore missing 0 1`, `zrangebyscore zset x y`, `zrangebyscore zset 0 1 limit 0`, `zrangebyscore zset 0 1 withscores x`},
	"zrangestore":      {`zrangestore dst zset 0 -1`, `zrangestore dst missing 0 -1`, `zrangestore dst zset 0 -1 byscore`, `zrangestore dst zset 0 -1 withscores`},
	"zrank":            {`zrank zset b`, `zrank zset nosuch`, `zrank zset b withscore`, `zrank zset nosuch withscore`, `zrank missing a`, `zrank str a`},
	"zrem":             {`zrem zset a nosuch`, `zrem missing a`, `zrem str a`, `zrem zset a b c ; exists zset`, `watch zset ; zrem zset x ; multi ; ping ; exec`},
	"zremrangebylex":   {`zremrangebylex zset [a [b`, `zremrangebylex missing - +`},
	"zremrangebyrank":  {`zremrangebyrank zset 0 0`, `zremrangebyrank missing 0 -1`, `zremrangebyrank str 0 1`},
	"zremrangebyscore": {`zremrangebyscore zset 1 2`, `zremrangebyscore zset -inf +inf ; exists zset`, `watch zset ; zremrangebyscore zset 10 20 ; multi ; ping ; exec`},
	"zrevrange":        {`zrevrange zset 0 -1 withscores`, `zrevrange missing 0 -1`, `zrevrange zset 0 0`},
	"zrevrangebylex":   {`zrevrangebylex zset + -`, `zrevrangebylex zset + - limit 1 1`},
	"zrevrangebyscore": {`zrevrangebyscore zset +inf -inf withscores limit 0 2`, `zrevrangebyscore missing 1 0`},
	"zrevrank":         {`zrevrank zset a`, `zrevrank zset a withscore`, `zrevrank zset nosuch withscore`, `zrevrank missing a`},
	"zscan": {`zscan zset 0`, `zscan missing 0`, `zscan str 0`, `zscan zset 0 match a`,
		`zscan zset 0 count 1`},
	"zscore":      {`zscore zset a`, `zscore zset nosuch`, `zscore missing a`, `zscore str a`},
	"zunion":      {`zunion 2 zset zset2`, `zunion 2 zset zset2 withscores`, `zunion 1 missing`, `zunion 2 zset set withscores`, `zunion 2 zset zset2 aggregate min withscores`},
	"zunionstore": {`zunionstore dst 2 zset zset2`, `zunionstore dst 1 missing`, `zunionstore dst 2 zset str`, `watch dst ; zunionstore dst 1 missing ; multi ; ping ; exec`, `zunionstore dst 0 zset`, `zunionstore dst 1 zset weights x`, `zunionstore dst 1 zset aggregate avg`},
}
