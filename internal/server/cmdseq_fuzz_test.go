package server_test

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/server"
	"github.com/corvid-db/corvid/internal/testutil"
)

// FuzzCommandSequence sends sequences of random commands, built from the
// server's own command table, on a connection authenticated as random ACL
// users, and checks what no single-command test can: that any mix of
// commands, argument counts, key types, options and permissions leaves
// the server sound. The fuzz input is read as a stream of choices: the
// users' ACL rules (a pool of rules, selectors included, and sometimes the
// default user's), then up to seqMaxCommands steps, each a user switch
// (AUTH, HELLO AUTH, RESET) or a command. A command is either one of
// cmdExamples' argument lists for it (everycommand_test.go), mutated, or
// the command with as many arguments as its arity asks (sometimes not:
// wrong arities are part of the surface), filled from small pools: keys of
// every type (diffFixture's names, so types collide, plus names the key
// patterns of the ACL rules match or not), small and boundary integers,
// floats, the command's option keywords, members, channels, a few bytes of
// the input, Lua scripts and function libraries, DUMP payloads. Wherever
// the table says an argument is a key, a pool key goes.
//
// For every command it checks:
//   - a reply comes within seqReplyTimeout (a blocked command is ended by
//     CLIENT UNBLOCK from another connection first): otherwise a hang, and
//     the goroutines are dumped;
//   - the reply is well-formed RESP, and over RESP2 has only RESP2 types;
//     nothing more arrives after it but RESP3 pushes;
//   - no handler panicked: the dispatcher recovers a panic into an
//     "internal error" reply and counts it (Stats.UnexpectedErrors), both
//     are failures here, with the server log's stack;
//   - another connection (the harness's admin user) is still served;
//   - a command refused with -NOPERM or -NOAUTH changed nothing: the whole
//     dataset (DEBUG DIGEST, or key by key with their expiry times when
//     keys may expire meanwhile), the users, the libraries, the scripts
//     and the configuration parameters the sequence may set are as they
//     were before it;
//   - the connection is closed only where the server must close it (ACL
//     DELUSER of its own user; more than 10 arguments before AUTH);
//   - at the end, the connection's replies are still in step with its
//     commands.
//
// One server serves all the inputs of a fuzzing process (starting one
// per input would cost more than the input); each input starts from the
// same state (seqHarness.reset). Commands that would end the harness
// rather than test the server are left out, see seqExcluded.
func FuzzCommandSequence(f *testing.F) {
	seqShortMinimize()
	f.Cleanup(func() {
		if seqCur != nil && !seqCur.broken {
			seqCur.close()
		}
		seqCur = nil
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		if seqCur == nil || seqCur.broken {
			// After a hang the old server is left running: closing it
			// would wait for the stuck handler.
			seqCur = seqStart(t)
		}
		seqCur.run(t, data)
	})
}

// seqShortMinimize turns minimization off unless -fuzzminimizetime says
// otherwise. The coverage of a server that runs goroutines of its own
// (cron, expiry, its clients') is not the same from one run of an input to
// the next, so most inputs the fuzzer finds interesting lose their new
// coverage when run again: with the default 60 s the workers spend their
// time minimizing those instead of fuzzing. A failure needs no
// minimizing to be read: its report is the command sequence.
func seqShortMinimize() {
	fl := flag.Lookup("test.fuzzminimizetime")
	if fl == nil {
		return
	}
	set := false
	flag.Visit(func(g *flag.Flag) { set = set || g == fl })
	if !set {
		_ = fl.Value.Set("0")
	}
}

const (
	seqMaxCommands  = 64
	seqMaxArgs      = 16 // arguments added to a command's name
	seqReplyTimeout = 5 * time.Second
	// seqUnblockAfter is how long a reply may take before the harness
	// assumes the command is blocked and ends its wait, as its timeout
	// would: the sequence may block with any timeout, 0 included.
	seqUnblockAfter = 100 * time.Millisecond
	seqAdminUser    = "cmdseq-harness-admin"
	seqAdminPass    = "cmdseq-harness-pass"
)

// seqCur is the fuzzing process's server, reused by its inputs.
var seqCur *seqHarness

// seqExcluded lists the commands the sequences never send, with why: they
// would stop the harness from checking anything rather than exercise the
// server.
var seqExcluded = map[string]string{
	"shutdown":       "ends the server",
	"monitor":        "turns the connection into a feed of other connections' commands",
	"subscribe":      "answers with one message per channel and puts the connection in subscriber mode",
	"psubscribe":     "as subscribe",
	"ssubscribe":     "as subscribe",
	"unsubscribe":    "answers with one message per channel (or none)",
	"punsubscribe":   "as unsubscribe",
	"sunsubscribe":   "as unsubscribe",
	"quit":           "closes the connection",
	"sync":           "turns the connection into a replica link",
	"psync":          "as sync",
	"replconf":       "replication handshake; GETACK and ACK act on replica links",
	"replicaof":      "makes the server a replica (read-only, resyncing) for the inputs that follow",
	"slaveof":        "as replicaof",
	"migrate":        "connects to other servers and waits for its timeout",
	"pfselftest":     "takes seconds (12 s under the race detector)",
	"client|kill":    "could close the harness's admin connection",
	"client|pause":   "pauses the harness's admin connection too",
	"client|reply":   "OFF and SKIP suppress the replies the harness waits for",
	"config|rewrite": "writes a configuration file; the server has none",
	"acl|load":       "the server has no aclfile; kept out as ACL LOAD replaces every user",
	"acl|save":       "writes a file; as acl|load",
	"script|debug":   "the Lua debugger takes over the connection's protocol",
}

// seqDebugSubs are the DEBUG subcommands sent: those that neither stop,
// sleep, reload nor reconfigure the server. ERROR is out as well: its
// reply is whatever text it is given, a fake -NOPERM included.
var seqDebugSubs = []string{"help", "object", "digest", "digest-value", "protocol", "htstats",
	"htstats-key", "listpack", "quicklist", "sdslen", "change-repl-id"}

// seqConfigs are the parameters CONFIG SET may change: encodings, event
// and log settings, and requirepass (the default user's password). Each
// input starts with their start values. Addresses, files, persistence,
// limits and memory are left alone: they would break the harness or the
// inputs after.
var seqConfigs = []string{"hash-max-listpack-entries", "hash-max-listpack-value",
	"set-max-intset-entries", "set-max-listpack-entries", "set-max-listpack-value",
	"zset-max-listpack-entries", "zset-max-listpack-value", "list-max-listpack-size",
	"hll-sparse-max-bytes", "notify-keyspace-events", "slowlog-log-slower-than",
	"acl-pubsub-default", "acllog-max-len", "lfu-log-factor", "lfu-decay-time",
	"maxmemory-policy", "requirepass", "tracking-table-max-keys", "active-expire-effort",
	"latency-tracking"}

// seqFixture is each input's starting data: one key of each type (as
// diffFixture, whose names cmdExamples uses), and two keys in database 1.
// No key has an expiry, so that a refused command's check starts exact.
var seqFixture = [][]string{
	{"SET", "str", "hello"}, {"SET", "num", "10"}, {"SET", "float", "1.5"},
	{"RPUSH", "list", "a", "b", "c"}, {"HSET", "hash", "f1", "v1", "f2", "2"},
	{"SADD", "set", "a", "b", "c"}, {"SADD", "set2", "b", "c", "d"}, {"SADD", "iset", "1", "2", "3"},
	{"ZADD", "zset", "1", "a", "2", "b", "3", "c"}, {"ZADD", "zset2", "1", "b", "5", "d"},
	{"XADD", "stream", "1-0", "f", "v"}, {"XADD", "stream", "2-0", "f2", "v2"},
	{"XGROUP", "CREATE", "stream", "g", "0"},
	{"XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "stream", ">"},
	{"PFADD", "hll", "a", "b", "c"},
	{"GEOADD", "geo", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"},
	{"SET", "k1", "v"}, {"LPUSH", "a1", "x"}, {"SADD", "b1", "y"},
	{"SELECT", "1"}, {"SET", "str", "db1"}, {"RPUSH", "list", "x"}, {"SELECT", "0"},
}

// seqDumpKeys are the fixture keys whose DUMP payloads RESTORE is given.
var seqDumpKeys = []string{"str", "list", "hash", "set", "iset", "zset", "stream", "hll"}

var seqKeys = []string{"str", "num", "float", "list", "hash", "set", "set2", "iset", "zset",
	"zset2", "stream", "hll", "geo", "k1", "k2", "a1", "b1", "missing", "{t}a", "{t}b", "dst", ""}

var seqInts = []string{"0", "1", "2", "3", "-1", "-2", "5", "10", "100", "-100", "007", "1000",
	"9223372036854775807", "-9223372036854775808", "9223372036854775808", "0x10", " 1", "1 "}

var seqFloats = []string{"0.5", "1.5", "-1.5", "inf", "-inf", "+inf", "nan", "1e308", "1e-300",
	"3.0e2", "(1.5", "(2", "[a", "(a", "-", "+", "0.01"}

var seqMembers = []string{"a", "b", "c", "d", "f1", "f2", "v1", "x", "Palermo", "Catania",
	"alice", "bob", "g", "g2", "1-0", "2-0", "0-0", "*", "$", ">", "ch1"}

var seqChannels = []string{"ch1", "ch2", "news", "news.*", "*", "ch?"}

var seqKeywords = []string{"NX", "XX", "GT", "LT", "CH", "INCR", "EX", "PX", "EXAT", "PXAT",
	"KEEPTTL", "PERSIST", "GET", "WITHSCORES", "WITHSCORE", "LIMIT", "COUNT", "MATCH", "TYPE",
	"BYSCORE", "BYLEX", "REV", "STORE", "BY", "ASC", "DESC", "ALPHA", "LEFT", "RIGHT", "MIN", "MAX",
	"BEFORE", "AFTER", "FIELDS", "FNX", "FXX", "WITHVALUES", "MAXLEN", "MINID", "NOMKSTREAM",
	"STREAMS", "GROUP", "BLOCK", "NOACK", "IDLE", "TIME", "RETRYCOUNT", "FORCE", "JUSTID", "FULL",
	"ABSTTL", "IDLETIME", "FREQ", "REPLACE", "DB", "ASYNC", "SYNC", "LEN", "IDX", "MINMATCHLEN",
	"WITHMATCHLEN", "AGGREGATE", "SUM", "WEIGHTS", "FROMMEMBER", "FROMLONLAT", "BYRADIUS",
	"BYBOX", "WITHCOORD", "WITHDIST", "WITHHASH", "ANY", "STOREDIST", "m", "km", "RANK", "BIT",
	"BYTE", "OVERFLOW", "WRAP", "SAT", "FAIL", "u8", "i16", "#1", "ENTRIESREAD", "SCHEDULE",
	"ON", "OFF", "YES", "NO", "REDIRECT", "BCAST", "PREFIX", "OPTIN", "OPTOUT", "NOLOOP", "ID",
	"USER", "ADDR", "SKIPME", "WITHCODE", "LIBRARYNAME", "FLUSH", "APPEND", "SETNAME", "AUTH"}

// seqScripts are the Lua bodies EVAL runs: each calls commands, so that
// the user's permissions apply inside, and none loops.
var seqScripts = []string{
	"return 1",
	"return redis.call('get', KEYS[1])",
	"return redis.call('set', KEYS[1], ARGV[1] or 'x')",
	"redis.call('incr', KEYS[1]); return redis.call('del', KEYS[2] or KEYS[1])",
	"return redis.pcall('lpush', KEYS[1], ARGV[1] or 'v')",
	"return {redis.call('type', KEYS[1] or 'k'), 1.5, false, {ok='fine'}}",
	"return redis.call('hset', KEYS[1], 'f', ARGV[1] or 'v')",
	"return redis.error_reply('MYERR custom')",
	"return redis.pcall('expire', KEYS[1], 100)",
	"redis.setresp(3); return redis.call('hgetall', KEYS[1])",
	"return redis.call('zadd', KEYS[1], ARGV[1] or '1', 'm')",
	"return redis.call('xadd', KEYS[1], '*', 'f', 'v')",
	"return redis.call('publish', 'ch1', 'hi')",
	"return redis.call('copy', KEYS[1], KEYS[2] or 'k2')",
	"return redis.call('rename', KEYS[1], KEYS[2] or 'k2')",
	"#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])",
	"#!lua\nreturn redis.call('del', KEYS[1])",
	"redis.call('select', 1); return redis.call('dbsize')",
	"return redis.pcall('acl', 'whoami')",
}

// seqLibs are the FUNCTION LOAD libraries; the first is loaded at each
// input's start, for FCALL.
var seqLibs = []string{
	"#!lua name=liba\n" +
		"redis.register_function('fa_get', function(keys, args) return redis.call('get', keys[1]) end)\n" +
		"redis.register_function('fa_set', function(keys, args) return redis.call('set', keys[1], args[1] or 'v') end)\n" +
		"redis.register_function{function_name='fa_ro', callback=function(keys, args) return redis.call('exists', keys[1] or 'k') end, flags={'no-writes'}}",
	"#!lua name=libb\nredis.register_function('fb_del', function(keys) return redis.call('del', unpack(keys)) end)",
	"#!lua name=libc\nreturn 1",
	"#!lua name=liba\nredis.register_function('fa_get', function(keys) return 'replaced' end)",
}

var seqFunctions = []string{"fa_get", "fa_set", "fa_ro", "fb_del", "nosuch"}

// seqRules are ACL SETUSER rules the users are made of.
var seqRules = []string{"on", "off", "nopass", ">pw", "<pw", "resetpass", "allkeys", "resetkeys",
	"~*", "~k*", "~str", "~s*", "~l*", "~h*", "~z*", "%R~*", "%W~*", "%R~h*", "%W~s*", "%RW~l*",
	"~{t}*", "~a*", "%R~a*", "%W~b*", "allchannels", "resetchannels", "&ch*", "&*", "&news",
	"allcommands", "nocommands", "+@all", "-@all", "+@read", "-@read", "+@write", "-@write",
	"+@string", "-@string", "+@list", "+@hash", "+@set", "+@sortedset", "+@stream", "+@keyspace",
	"-@keyspace", "+@scripting", "-@scripting", "+@admin", "-@admin", "+@dangerous", "-@dangerous",
	"+@connection", "-@connection", "+@transaction", "-@transaction", "+@pubsub", "+@fast",
	"+@slow", "-@slow", "+@geo", "+@bitmap", "+@hyperloglog", "+@blocking", "-@blocking",
	"+get", "-get", "+set", "-set", "+eval", "+evalsha", "+fcall", "+function", "+multi", "+exec",
	"+acl", "-acl", "+acl|whoami", "+acl|setuser", "+config|get", "-config", "+config|set",
	"+client", "-client|setname", "+debug", "+select", "-select", "+del", "+object|encoding",
	"+xadd", "+sort", "-sort", "+hset", "+hexpire", "+copy", "+rename", "+restore", "+dump",
	"+ping", "-ping", "+echo", "+auth", "+hello", "+reset",
	"(+get ~str*)", "(+@write ~l*)", "(+@read %R~*)", "(+set ~s* &ch*)", "(+@all ~k*)",
	"(+@hash %W~h* %R~*)", "clearselectors", "reset", "sanitize-payload", "skip-sanitize-payload"}

// seqGrants and seqKeyRules are the users' starting permissions.
var seqGrants = []string{"+@all", "allcommands", "+@read", "+@write", "+@all", "+@read +@write",
	"+@all -@dangerous", "+@all -@admin", "+@string +@list +@hash", "+@keyspace +@read"}

var seqKeyRules = []string{"~*", "allkeys", "~*", "~k*", "~s*", "%R~*", "%R~* %W~s*", "~l* ~h*",
	"~{t}*", "%W~*"}

var seqUserNames = []string{"u0", "u1", "u2"}

// seqFieldTTL are the commands that may give hash fields an expiry, which
// no INFO figure shows: after one has succeeded, hashes may change on
// their own for the rest of the input.
var seqFieldTTL = map[string]bool{"hexpire": true, "hpexpire": true, "hexpireat": true,
	"hpexpireat": true, "hsetex": true, "hgetex": true, "restore": true}

// seqSpec is one command or subcommand of the table, as the sequences
// send it.
type seqSpec struct {
	cmd      *command.Command
	name     string   // the table's name: "get", "config|set"
	words    []string // what names it: ["config", "set"]
	examples [][]string
	tokens   []string // the arguments its examples use
}

// seqHarness is a server and what the sequences need of it.
type seqHarness struct {
	srv      *server.Server
	addr     string
	dir      string
	log      *seqLogBuf
	admin    *seqConn
	specs    []*seqSpec
	cfgReset []string // CONFIG SET's arguments giving seqConfigs their start values
	dumps    []string // DUMP payloads of seqDumpKeys
	fdump    string   // FUNCTION DUMP of seqLibs[0]
	shas     []string // SHA1s of seqScripts
	// broken says the server hung: it is left as it is, and the next
	// input gets a new one.
	broken bool
}

func seqStart(t *testing.T) *seqHarness {
	t.Helper()
	dir, err := os.MkdirTemp("", "cmdseq")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.New()
	// DEBUG is enabled for DEBUG DIGEST; no save points, so that FLUSHALL
	// does not write a file for each input.
	text := "bind 127.0.0.1\nport 0\nenable-debug-command yes\nsave \"\"\ndir " + strconv.Quote(dir) + "\n"
	if err := cfg.LoadString(text); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &seqHarness{srv: srv, dir: dir, log: &seqLogBuf{}}
	srv.Log.SetOutput(h.log)
	srv.EphemeralPort = true
	srv.SaveChildren = testutil.SaveChildren
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	h.addr = srv.Addr().String()
	if h.admin, err = seqDial(h.addr); err != nil {
		t.Fatal(err)
	}
	must := func(args ...string) seqReply {
		v, err := h.admin.do(args...)
		if err != nil || v.isErr() {
			t.Fatalf("harness setup: %s: %v %v", seqQuote(args), v, err)
		}
		return v
	}
	// The harness's own user, which no sequence can name: the default
	// user is theirs to restrict.
	must("ACL", "SETUSER", seqAdminUser, "on", ">"+seqAdminPass, "~*", "&*", "+@all")
	must("AUTH", seqAdminUser, seqAdminPass)
	for _, p := range seqConfigs {
		v := must("CONFIG", "GET", p)
		if len(v.a) != 2 {
			t.Fatalf("harness setup: CONFIG GET %s: %v", p, v)
		}
		h.cfgReset = append(h.cfgReset, p, v.a[1].s)
	}
	for _, s := range seqScripts {
		sum := sha1.Sum([]byte(s))
		h.shas = append(h.shas, hex.EncodeToString(sum[:]))
	}
	h.reset(t)
	for _, k := range seqDumpKeys {
		h.dumps = append(h.dumps, must("DUMP", k).s)
	}
	h.fdump = must("FUNCTION", "DUMP").s
	h.specs = seqSpecs(srv.Table)
	return h
}

func (h *seqHarness) close() {
	h.admin.nc.Close()
	_ = h.srv.Close()
	os.RemoveAll(h.dir)
}

// reset brings the server back to each input's starting state.
func (h *seqHarness) reset(t *testing.T) {
	t.Helper()
	users, err := h.admin.do("ACL", "USERS")
	if err != nil || users.isErr() {
		h.broken = true
		t.Fatalf("harness reset: ACL USERS: %v %v", users, err)
	}
	cmds := [][]string{
		append([]string{"CONFIG", "SET"}, h.cfgReset...),
		{"FLUSHALL", "SYNC"}, {"SCRIPT", "FLUSH", "SYNC"}, {"FUNCTION", "FLUSH", "SYNC"},
		{"ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", "&*", "+@all"},
		{"ACL", "LOG", "RESET"},
	}
	del := []string{"ACL", "DELUSER"}
	for _, u := range users.a {
		if u.s != "default" && u.s != seqAdminUser {
			del = append(del, u.s)
		}
	}
	if len(del) > 2 {
		cmds = append(cmds, del)
	}
	cmds = append(cmds, seqFixture...)
	cmds = append(cmds, []string{"FUNCTION", "LOAD", seqLibs[0]})
	reps, err := h.admin.pipeline(cmds)
	if err != nil {
		h.broken = true
		t.Fatalf("harness reset: %v", err)
	}
	for i, v := range reps {
		if v.isErr() {
			h.broken = true
			t.Fatalf("harness reset: %s: %v", seqQuote(cmds[i]), v)
		}
	}
}

// seqSpecs lists the commands and subcommands the sequences may send, with
// the argument lists cmdExamples gives them.
func seqSpecs(tab *command.Table) []*seqSpec {
	var cmds []*command.Command
	for _, c := range tab.All() {
		if !c.HasSubcommands() || c.Handler != nil {
			cmds = append(cmds, c)
		}
		cmds = append(cmds, c.Subcommands...)
	}
	var out []*seqSpec
	for _, c := range cmds {
		if _, ok := seqExcluded[c.Name]; ok {
			continue
		}
		sp := &seqSpec{cmd: c, name: c.Name, words: strings.Split(c.Name, "|")}
		seen := map[string]bool{}
		for _, ex := range cmdExamples[c.Name] {
			for _, l := range parseExample(ex) {
				if len(l.args) < len(sp.words) || lineName(l.args) != c.Name {
					continue
				}
				sp.examples = append(sp.examples, l.args)
				for _, a := range l.args[len(sp.words):] {
					if !seen[a] && len(a) <= 64 && !strings.Contains(a, "{") {
						seen[a] = true
						sp.tokens = append(sp.tokens, a)
					}
				}
			}
		}
		out = append(out, sp)
	}
	// The table is a map: its order is not the same from one process to
	// the next, and an input must mean the same commands in each.
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// seqBytes reads choices from the fuzz input; past its end every choice
// is 0, and the sequence stops.
type seqBytes struct {
	b []byte
	i int
}

func (s *seqBytes) done() bool { return s.i >= len(s.b) }

func (s *seqBytes) u8() byte {
	if s.i >= len(s.b) {
		return 0
	}
	s.i++
	return s.b[s.i-1]
}

// n returns a choice in [0, k).
func (s *seqBytes) n(k int) int {
	if k <= 1 {
		return 0
	}
	if k <= 256 {
		return int(s.u8()) % k
	}
	return (int(s.u8())<<8 | int(s.u8())) % k
}

func (s *seqBytes) pick(pool []string) string { return pool[s.n(len(pool))] }

// seqRun is one input's run.
type seqRun struct {
	h     *seqHarness
	t     *testing.T
	in    *seqBytes
	fz    *seqConn
	trace []string // what ran, for the failure report
	// fieldTTL: some hash field may have an expiry (seqFieldTTL).
	fieldTTL bool
	// queuedHello: a HELLO is queued in the open MULTI, so EXEC's reply
	// may change protocol midway.
	queuedHello bool
	// queuedFieldTTL: a seqFieldTTL command is queued in the open MULTI.
	queuedFieldTTL bool
	// What the run checked, for CORVID_CMDSEQ_TRACE: refusals, refusals
	// compared key by key, and blocked commands ended by CLIENT UNBLOCK.
	denials, detailed, unblocks int
}

// run runs one input; it returns the run for its trace and counts.
func (h *seqHarness) run(t *testing.T, data []byte) *seqRun {
	h.log.reset()
	h.reset(t)
	x := &seqRun{h: h, t: t, in: &seqBytes{b: data}}
	defer func() {
		if x.fz != nil {
			x.fz.nc.Close()
		}
	}()

	nusers := 1 + x.in.n(3)
	for i := 0; i < nusers; i++ {
		args := []string{"ACL", "SETUSER", seqUserNames[i], "on", ">pw" + strconv.Itoa(i)}
		// Mostly some commands and keys to start from, so that the
		// random rules carve exceptions out of permissions rather than
		// leaving a user who may do nothing.
		if x.in.u8()%4 != 0 {
			args = append(args, strings.Fields(x.in.pick(seqGrants))...)
		}
		if x.in.u8()%4 != 0 {
			args = append(args, strings.Fields(x.in.pick(seqKeyRules))...)
		}
		x.setup(args)
		x.setupRules(seqUserNames[i], x.in.n(5))
	}
	x.connect()
	if x.in.u8()%4 == 0 {
		// The default user restricted too: new connections (after an
		// ACL DELUSER closed one) start as it, or unauthenticated.
		x.setupRules("default", 1+x.in.n(4))
	}
	if k := x.in.n(nusers + 1); k > 0 {
		x.step([]string{"AUTH", seqUserNames[k-1], "pw" + strconv.Itoa(k-1)})
	}
	for i := 0; i < seqMaxCommands && !x.in.done(); i++ {
		var args []string
		if x.in.u8()%16 == 0 {
			args = x.switchUser(nusers)
		} else {
			args = x.genCommand()
		}
		if args != nil {
			x.step(args)
		}
	}
	x.finish()
	if os.Getenv("CORVID_CMDSEQ_TRACE") != "" {
		// To see what an input does (and what a seed covers).
		t.Logf("%d refusals checked (%d key by key), %d commands unblocked\n%s",
			x.denials, x.detailed, x.unblocks, strings.Join(x.trace, "\n"))
	}
	return x
}

// setup runs an ACL SETUSER of the input's on the admin connection; a
// refused rule set is part of the input.
func (x *seqRun) setup(args []string) {
	v, err := x.h.admin.do(args...)
	if err != nil {
		x.hang("admin %s: %v", seqQuote(args), err)
	}
	x.trace = append(x.trace, "admin> "+seqQuote(args)+"  -> "+v.clip())
}

// setupRules adds n random rules to a user, one ACL SETUSER each: a rule
// that does not go with the ones before (a pattern after allkeys) fails
// alone.
func (x *seqRun) setupRules(user string, n int) {
	for ; n > 0; n-- {
		x.setup([]string{"ACL", "SETUSER", user, x.in.pick(seqRules)})
	}
}

// connect opens the connection the sequence runs on, and finds its
// client ID (for CLIENT UNBLOCK) from the admin connection: the sequence's
// own user may not be allowed CLIENT ID.
func (x *seqRun) connect() {
	if x.fz != nil {
		x.fz.nc.Close()
	}
	c, err := seqDial(x.h.addr)
	if err != nil {
		x.fail("dial: %v", err)
	}
	x.fz = c
	x.queuedHello, x.queuedFieldTTL = false, false
	// The server lists a connection once it has accepted it, which is
	// not when the dial returns.
	for deadline := time.Now().Add(seqReplyTimeout); c.id == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			x.hang("the new connection %s is not in CLIENT LIST", c.nc.LocalAddr())
		}
		x.refreshClient()
	}
	x.trace = append(x.trace, "-- new connection")
}

// refreshClient reads the sequence connection's ID and protocol from
// CLIENT LIST (HELLO inside MULTI changes the protocol at EXEC).
func (x *seqRun) refreshClient() {
	v, err := x.h.admin.do("CLIENT", "LIST")
	if err != nil || v.isErr() {
		x.hang("admin CLIENT LIST: %v %v", v, err)
	}
	addr := "addr=" + x.fz.nc.LocalAddr().String() + " "
	for _, line := range strings.Split(v.s, "\n") {
		if !strings.Contains(line, addr) {
			continue
		}
		for _, f := range strings.Fields(line) {
			if s, ok := strings.CutPrefix(f, "id="); ok {
				x.fz.id, _ = strconv.ParseInt(s, 10, 64)
			}
			if s, ok := strings.CutPrefix(f, "resp="); ok {
				x.fz.proto, _ = strconv.Atoi(s)
			}
		}
	}
}

func (x *seqRun) switchUser(nusers int) []string {
	k := x.in.n(nusers)
	user, pass := seqUserNames[k], "pw"+strconv.Itoa(k)
	switch x.in.u8() % 6 {
	case 0, 1, 2:
		return []string{"AUTH", user, pass}
	case 3:
		return []string{"AUTH", "default", "any"}
	case 4:
		return []string{"RESET"}
	default:
		return []string{"HELLO", x.in.pick([]string{"2", "3"}), "AUTH", user, pass}
	}
}

// genCommand builds the next command, or nil for none.
func (x *seqRun) genCommand() []string {
	in := x.in
	sp := x.h.specs[in.n(len(x.h.specs))]
	var args []string
	if len(sp.examples) > 0 && in.u8()%3 == 0 {
		args = append([]string(nil), sp.examples[in.n(len(sp.examples))]...)
		for i := range args {
			if strings.Contains(args[i], "{") {
				args[i] = x.genArg(sp)
			}
		}
		for m := in.u8() % 4; m > 0; m-- {
			fixed := len(sp.words)
			pos := fixed + in.n(len(args)-fixed+1)
			switch op := in.u8() % 8; {
			case op < 5 && pos < len(args):
				args[pos] = x.genArg(sp)
			case op == 5 && pos < len(args):
				args = append(args[:pos], args[pos+1:]...)
			case len(args) < len(sp.words)+seqMaxArgs:
				args = append(args[:pos], append([]string{x.genArg(sp)}, args[pos:]...)...)
			}
		}
	} else {
		total := sp.cmd.Arity
		if total < 0 {
			total = -total + in.n(4)
		}
		if in.u8()%16 == 0 {
			// A wrong arity, as often as not.
			total = len(sp.words) + in.n(max(total, len(sp.words))+3-len(sp.words))
		}
		total = min(max(total, len(sp.words)), len(sp.words)+seqMaxArgs)
		args = append([]string(nil), sp.words...)
		for len(args) < total {
			args = append(args, x.genArg(sp))
		}
	}
	x.fixKeys(sp, args)
	return x.sanitize(sp, args)
}

func (x *seqRun) genArg(sp *seqSpec) string {
	in := x.in
	switch k := in.u8() % 16; {
	case k < 4:
		return in.pick(seqKeys)
	case k < 8:
		if len(sp.tokens) > 0 {
			return in.pick(sp.tokens)
		}
		return in.pick(seqKeywords)
	case k < 10:
		return in.pick(seqInts)
	case k == 10:
		return in.pick(seqFloats)
	case k == 11:
		return in.pick(seqKeywords)
	case k == 12:
		return in.pick(seqMembers)
	case k == 13:
		return x.randomBytes()
	case k == 14:
		return in.pick(seqChannels)
	}
	switch in.u8() % 4 {
	case 0:
		return in.pick(seqScripts)
	case 1:
		return in.pick(x.h.dumps)
	case 2:
		return in.pick(seqRules)
	}
	return in.pick(x.h.shas)
}

// randomBytes returns up to 6 bytes of the input. Read as a number, it
// stays below 5000: counts and offsets that large make replies and
// values of megabytes (SRANDMEMBER -n, SETRANGE, LCS of two such strings),
// which test nothing more and slow every input after.
func (x *seqRun) randomBytes() string {
	n := x.in.n(7)
	b := make([]byte, n)
	for i := range b {
		b[i] = x.in.u8()
	}
	s := string(b)
	if v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && (v > 4999 || v < -4999) {
		s = strconv.FormatInt(v%5000, 10)
	}
	return s
}

// fixKeys puts pool keys where the table says the arguments are keys
// (mostly: a key position may keep what it got).
func (x *seqRun) fixKeys(sp *seqSpec, args []string) {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	var idx []int
	func() {
		// The dispatcher runs the same code on these arguments, and
		// reports its panics itself.
		defer func() { _ = recover() }()
		idx = sp.cmd.KeyIndexes(nil, b)
	}()
	for _, i := range idx {
		if i > 0 && i < len(args) && x.in.u8()%8 != 0 {
			args[i] = x.in.pick(seqKeys)
		}
	}
}

// sanitize keeps a command within what the harness can check (see
// seqExcluded, seqDebugSubs, seqConfigs): it returns nil for none.
func (x *seqRun) sanitize(sp *seqSpec, args []string) []string {
	in := x.in
	n := len(args)
	switch sp.name {
	case "debug":
		if n < 2 {
			return nil
		}
		args[1] = in.pick(seqDebugSubs)
	case "config|set":
		for i := 2; i < n; i += 2 {
			args[i] = in.pick(seqConfigs)
		}
	case "eval", "eval_ro":
		if n > 1 {
			args[1] = in.pick(seqScripts)
		}
	case "evalsha", "evalsha_ro":
		if n > 1 && in.u8()%8 != 0 {
			args[1] = in.pick(x.h.shas)
		}
	case "script|load":
		if n > 2 {
			args[2] = in.pick(seqScripts)
		}
	case "fcall", "fcall_ro":
		if n > 1 {
			args[1] = in.pick(seqFunctions)
		}
	case "function|load":
		for i := 2; i < n; i++ {
			if !strings.EqualFold(args[i], "replace") {
				args[i] = in.pick(seqLibs)
			}
		}
	case "function|restore":
		if n > 2 && in.u8()%2 == 0 {
			args[2] = x.h.fdump
		}
	case "restore":
		if n > 3 && in.u8()%2 == 0 {
			args[3] = in.pick(x.h.dumps)
		}
	case "acl|setuser":
		if n > 2 {
			args[2] = x.userArg()
		}
		for i := 3; i < n; i++ {
			if in.u8()%2 == 0 {
				args[i] = in.pick(seqRules)
			}
		}
	case "acl|deluser", "acl|getuser", "acl|dryrun":
		if n > 2 {
			args[2] = x.userArg()
		}
	case "wait":
		// CLIENT UNBLOCK does not end a WAIT here (Redis's does): its
		// timeout must.
		if n == 3 {
			args[2] = in.pick([]string{"1", "5", "x", "-1"})
		}
	case "waitaof":
		if n == 4 {
			args[3] = in.pick([]string{"1", "5", "x", "-1"})
		}
	case "blpop", "brpop", "bzpopmin", "bzpopmax", "blmove", "brpoplpush":
		// Mostly a short timeout; otherwise CLIENT UNBLOCK ends it.
		if n > 2 && in.u8()%8 != 0 {
			args[n-1] = in.pick([]string{"0.01", "0.001", "0.02"})
		}
	case "blmpop", "bzmpop":
		if n > 1 && in.u8()%8 != 0 {
			args[1] = in.pick([]string{"0.01", "0.001", "0.02"})
		}
	case "xread", "xreadgroup":
		for i := 1; i+1 < n; i++ {
			if strings.EqualFold(args[i], "block") && in.u8()%8 != 0 {
				args[i+1] = in.pick([]string{"1", "10", "5"})
			}
		}
	}
	for i, a := range args {
		if strings.EqualFold(a, seqAdminUser) {
			args[i] = "u0"
		}
	}
	return args
}

func (x *seqRun) userArg() string {
	return x.in.pick([]string{"u0", "u1", "u2", "default", "nosuch", "u0", "u1"})
}

// step sends one command and checks what it did.
func (x *seqRun) step(args []string) {
	name := strings.ToLower(args[0])
	before := x.snapshot(false)
	unexpected := x.h.srv.Stats.UnexpectedErrors.Load()
	line := fmt.Sprintf("resp%d> %s", x.fz.proto, seqQuote(args))
	x.trace = append(x.trace, line)
	if err := x.fz.send(args...); err != nil {
		x.fail("sending %s: %v", seqQuote(args), err)
	}
	relax := name == "hello" || (name == "exec" && x.queuedHello)
	v, err := x.readReply(relax)
	if err != nil {
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			x.hang("no reply to %s within %v", seqQuote(args), seqReplyTimeout)
		case errors.Is(err, errSeqMalformed):
			x.fail("malformed reply to %s: %v", seqQuote(args), err)
		default:
			x.fail("the connection closed on %s: %v", seqQuote(args), err)
		}
	}
	x.trace[len(x.trace)-1] += "  -> " + v.clip()
	if msg := v.internalError(); msg != "" || x.h.srv.Stats.UnexpectedErrors.Load() != unexpected {
		x.fail("a handler panicked on %s: %q\nserver log:\n%s", seqQuote(args), msg, x.h.log.panics())
	}
	x.checkTrailing(args)
	if v.t == '-' && (strings.HasPrefix(v.s, "NOPERM") || strings.HasPrefix(v.s, "NOAUTH")) {
		x.denials++
		if before.keys != nil {
			x.detailed++
		}
		x.checkUnchanged(args, v, before, x.snapshot(before.keys != nil))
	}
	switch {
	case v.t == '+' && v.s == "QUEUED":
		x.queuedHello = x.queuedHello || name == "hello"
		x.queuedFieldTTL = x.queuedFieldTTL || seqFieldTTL[name]
	case name == "exec" || name == "discard" || name == "reset" || name == "hello":
		if name == "exec" && v.t == '*' && x.queuedFieldTTL {
			x.fieldTTL = true
		}
		if name != "hello" {
			x.queuedHello, x.queuedFieldTTL = false, false
		}
		x.refreshClient()
	case !v.isErr() && seqFieldTTL[name]:
		x.fieldTTL = true
	}
	if v.t == '-' && strings.HasPrefix(v.s, "ERR Protocol error") {
		// An unauthenticated connection may not send more than 10
		// arguments: the server says so and closes it, as Redis does.
		x.probeClosed(args)
		return
	}
	if name == "acl" && len(args) > 1 && strings.EqualFold(args[1], "deluser") && v.t == ':' || name == "exec" && v.t == '*' {
		// ACL DELUSER of the connection's own user closes it after the
		// reply (an EXEC may hold one): see whether it did.
		x.probeClosed(args)
	}
}

// readReply reads the reply to the command just sent: RESP3 pushes
// before it are put aside, and a command that has not answered within
// seqUnblockAfter is unblocked (a no-op for one that is merely slow).
// relax allows RESP3 types on a RESP2 connection (HELLO answers in the
// protocol it switches to).
func (x *seqRun) readReply(relax bool) (seqReply, error) {
	start := time.Now()
	for {
		_ = x.fz.nc.SetReadDeadline(time.Now().Add(seqUnblockAfter))
		_, err := x.fz.r.Peek(1)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() || time.Since(start) > seqReplyTimeout {
				return seqReply{}, err
			}
			x.unblocks++
			if v, err := x.h.admin.do("CLIENT", "UNBLOCK", strconv.FormatInt(x.fz.id, 10), "TIMEOUT"); err != nil || v.isErr() {
				x.hang("admin CLIENT UNBLOCK: %v %v", v, err)
			}
			continue
		}
		_ = x.fz.nc.SetReadDeadline(time.Now().Add(seqReplyTimeout))
		proto := x.fz.proto
		if relax {
			proto = 3
		}
		v, err := seqParse(x.fz.r, proto, 0)
		if err != nil || v.t != '>' {
			return v, err
		}
		x.trace = append(x.trace, "  push "+v.clip())
	}
}

// checkTrailing fails if more than pushes came after the reply: a second
// reply to one command puts every later reply out of step.
func (x *seqRun) checkTrailing(args []string) {
	for x.fz.r.Buffered() > 0 {
		b, _ := x.fz.r.Peek(1)
		if b[0] != '>' || x.fz.proto != 3 {
			rest, _ := x.fz.r.Peek(min(x.fz.r.Buffered(), 200))
			x.fail("more data after the reply to %s: %q", seqQuote(args), rest)
		}
		v, err := seqParse(x.fz.r, 3, 0)
		if err != nil {
			x.fail("malformed push after %s: %v", seqQuote(args), err)
		}
		x.trace = append(x.trace, "  push "+v.clip())
	}
}

// probeClosed checks, after a command that may close its own connection,
// whether it did, and opens another if so. ECHO answers if it did not,
// as a reply or as a refusal.
func (x *seqRun) probeClosed(args []string) {
	if err := x.fz.send("ECHO", "probe"); err == nil {
		if v, err := x.readReply(true); err == nil {
			x.trace = append(x.trace, "  probe ECHO -> "+v.clip())
			return
		}
	}
	x.trace = append(x.trace, "  (the server closed the connection)")
	x.connect()
}

// finish checks that the connection's replies are still in step with its
// commands and that it still answers.
func (x *seqRun) finish() {
	if err := x.fz.send("ECHO", "in-step"); err != nil {
		x.fail("sending the final ECHO: %v", err)
	}
	v, err := x.readReply(true)
	if err != nil {
		x.fail("the final ECHO: %v", err)
	}
	ok := v.s == "in-step" && v.t != '-' || v.t == '+' && v.s == "QUEUED" ||
		v.isErr() && (strings.HasPrefix(v.s, "NOPERM") || strings.HasPrefix(v.s, "NOAUTH") || strings.HasPrefix(v.s, "EXECABORT"))
	if !ok {
		x.fail("the final ECHO got %s: replies out of step with commands", v.clip())
	}
}

// seqState is what a refused command must leave as it was.
type seqState struct {
	digest string
	other  []string // users, libraries, scripts, configuration
	// keys is each key's type, value digest and expiry time, taken when
	// some key may expire between two states (DEBUG DIGEST would then
	// differ with nothing refused having changed anything); nil otherwise.
	keys     map[string]seqKeyState
	keyspace string // INFO keyspace, for the report
	at       time.Time
}

type seqKeyState struct {
	typ, digest string
	pexpireAt   int64
}

// snapshot takes the state; the keys one by one as well when some may
// expire, or when detail asks (the state to compare with had them).
func (x *seqRun) snapshot(detail bool) *seqState {
	// INFO first: a key that expires between the two is then counted as
	// volatile, and the keys are compared one by one; the other way round
	// the digest could include a key INFO no longer counts.
	cmds := [][]string{
		{"INFO", "keyspace"},
		{"DEBUG", "DIGEST"},
		{"ACL", "LIST"},
		append([]string{"CONFIG", "GET"}, seqConfigs...),
		{"FUNCTION", "LIST", "WITHCODE"},
		append([]string{"SCRIPT", "EXISTS"}, x.h.shas...),
	}
	reps, err := x.h.admin.pipeline(cmds)
	if err != nil {
		x.hang("the admin connection: %v", err)
	}
	st := &seqState{digest: reps[1].s, keyspace: strings.TrimSpace(reps[0].s), at: time.Now()}
	for i, v := range reps {
		if v.isErr() {
			x.fail("admin %s: %v", seqQuote(cmds[i]), v)
		}
		switch {
		case i == len(cmds)-1: // SCRIPT EXISTS: in the order asked
			st.other = append(st.other, v.String())
		case i >= 2:
			st.other = append(st.other, seqCanon(v))
		}
	}
	var dbs []string
	volatile := x.fieldTTL || detail
	for _, l := range strings.Split(reps[0].s, "\n") {
		db, rest, ok := strings.Cut(strings.TrimSpace(l), ":")
		if !ok || !strings.HasPrefix(db, "db") {
			continue
		}
		dbs = append(dbs, strings.TrimPrefix(db, "db"))
		if !strings.Contains(rest, "expires=0,") {
			volatile = true
		}
	}
	if volatile {
		st.keys = x.keyStates(dbs)
	}
	return st
}

// keyStates takes every key's state, database by database.
func (x *seqRun) keyStates(dbs []string) map[string]seqKeyState {
	var cmds [][]string
	for _, db := range dbs {
		cmds = append(cmds, []string{"SELECT", db}, []string{"KEYS", "*"})
	}
	cmds = append(cmds, []string{"SELECT", "0"})
	reps, err := x.h.admin.pipeline(cmds)
	if err != nil {
		x.hang("the admin connection: %v", err)
	}
	// slots[i] is where key i's TYPE reply is; PEXPIRETIME's and
	// DEBUG DIGEST-VALUE's follow it.
	type slot struct {
		name string
		at   int
	}
	var slots []slot
	cmds = cmds[:0]
	for i, db := range dbs {
		cmds = append(cmds, []string{"SELECT", db})
		for _, k := range reps[2*i+1].a {
			slots = append(slots, slot{db + "/" + strconv.Quote(k.s), len(cmds)})
			cmds = append(cmds, []string{"TYPE", k.s}, []string{"PEXPIRETIME", k.s}, []string{"DEBUG", "DIGEST-VALUE", k.s})
		}
	}
	cmds = append(cmds, []string{"SELECT", "0"})
	if reps, err = x.h.admin.pipeline(cmds); err != nil {
		x.hang("the admin connection: %v", err)
	}
	out := map[string]seqKeyState{}
	for _, s := range slots {
		ks := seqKeyState{typ: reps[s.at].s, pexpireAt: reps[s.at+1].n()}
		if d := reps[s.at+2]; len(d.a) == 1 {
			ks.digest = d.a[0].s
		}
		if ks.typ != "none" { // expired meanwhile
			out[s.name] = ks
		}
	}
	return out
}

// checkUnchanged fails if a refused command changed anything.
func (x *seqRun) checkUnchanged(args []string, v seqReply, before, after *seqState) {
	what := []string{"users (ACL LIST)", "configuration (CONFIG GET)", "libraries (FUNCTION LIST)", "script cache (SCRIPT EXISTS)"}
	for i := range before.other {
		if before.other[i] != after.other[i] {
			x.fail("%s was refused (%s) but changed the %s:\nbefore: %s\nafter:  %s",
				seqQuote(args), v.clip(), what[i], before.other[i], after.other[i])
		}
	}
	if before.digest == after.digest {
		return
	}
	if before.keys == nil {
		x.fail("%s was refused (%s) but changed the dataset (DEBUG DIGEST %s -> %s); no key had an expiry\nINFO keyspace before:\n%s\nafter:\n%s",
			seqQuote(args), v.clip(), before.digest, after.digest, before.keyspace, after.keyspace)
	}
	if after.keys == nil {
		after.keys = map[string]seqKeyState{}
	}
	now := after.at.UnixMilli()
	for k, b := range before.keys {
		a, ok := after.keys[k]
		hashMayChange := b.typ == "hash" && x.fieldTTL
		switch {
		case !ok && (b.pexpireAt > 0 && b.pexpireAt <= now+5 || hashMayChange):
			// Expired in between.
		case !ok:
			x.fail("%s was refused (%s) but key %s is gone (it had no expiry due)", seqQuote(args), v.clip(), k)
		case a.typ != b.typ || a.pexpireAt != b.pexpireAt || a.digest != b.digest && !hashMayChange:
			x.fail("%s was refused (%s) but changed key %s: %+v -> %+v", seqQuote(args), v.clip(), k, b, a)
		}
	}
	for k := range after.keys {
		if _, ok := before.keys[k]; !ok {
			x.fail("%s was refused (%s) but created key %s", seqQuote(args), v.clip(), k)
		}
	}
}

// fail reports a failure with the input's commands so far.
func (x *seqRun) fail(format string, args ...any) {
	x.t.Helper()
	x.t.Fatalf("%s\n\nsequence (the fixture is seqFixture; admin> lines ran as the harness's admin user):\n%s",
		fmt.Sprintf(format, args...), strings.Join(x.trace, "\n"))
}

// hang reports a server that stopped answering, with its goroutines; the
// server is not reused.
func (x *seqRun) hang(format string, args ...any) {
	x.t.Helper()
	x.h.broken = true
	var b bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
	x.fail("%s\n\ngoroutines:\n%s", fmt.Sprintf(format, args...), b.String())
}

// seqConn is a raw connection reading replies strictly.
type seqConn struct {
	nc    net.Conn
	r     *bufio.Reader
	proto int
	id    int64
}

func seqDial(addr string) (*seqConn, error) {
	nc, err := net.DialTimeout("tcp", addr, seqReplyTimeout)
	if err != nil {
		return nil, err
	}
	return &seqConn{nc: nc, r: bufio.NewReader(nc), proto: 2}, nil
}

func (c *seqConn) send(args ...string) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(seqReplyTimeout))
	_, err := c.nc.Write(testutil.Encode(args...))
	return err
}

func (c *seqConn) do(args ...string) (seqReply, error) {
	reps, err := c.pipeline([][]string{args})
	if err != nil {
		return seqReply{}, err
	}
	return reps[0], nil
}

// pipeline sends the commands at once and reads their replies.
func (c *seqConn) pipeline(cmds [][]string) ([]seqReply, error) {
	var buf []byte
	for _, args := range cmds {
		buf = append(buf, testutil.Encode(args...)...)
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(seqReplyTimeout))
	if _, err := c.nc.Write(buf); err != nil {
		return nil, err
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(seqReplyTimeout))
	out := make([]seqReply, 0, len(cmds))
	for range cmds {
		v, err := seqParse(c.r, c.proto, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// seqReply is one reply: t its type byte, s a scalar's text, a an
// aggregate's elements (a map's keys and values alternate).
type seqReply struct {
	t    byte
	s    string
	a    []seqReply
	null bool
}

func (v seqReply) isErr() bool { return v.t == '-' || v.t == '!' }

func (v seqReply) n() int64 {
	n, _ := strconv.ParseInt(v.s, 10, 64)
	return n
}

// internalError returns the text of a recovered handler panic's reply,
// anywhere in v (EXEC's replies included).
func (v seqReply) internalError() string {
	if v.isErr() && strings.Contains(v.s, "internal error in") {
		return v.s
	}
	for _, e := range v.a {
		if s := e.internalError(); s != "" {
			return s
		}
	}
	return ""
}

func (v seqReply) render(b *strings.Builder) {
	if b.Len() > 400 {
		return
	}
	b.WriteByte(v.t)
	switch {
	case v.null:
		b.WriteString("-1")
	case v.a != nil || v.t == '*' || v.t == '%' || v.t == '~' || v.t == '>':
		b.WriteByte('[')
		for i, e := range v.a {
			if i > 0 {
				b.WriteByte(' ')
			}
			e.render(b)
		}
		b.WriteByte(']')
	case v.t == '$' || v.t == '=' || v.t == '!':
		b.WriteString(strconv.Quote(v.s))
	default:
		b.WriteString(v.s)
	}
}

func (v seqReply) String() string {
	var b strings.Builder
	v.render(&b)
	return b.String()
}

// clip is v rendered for a trace line.
func (v seqReply) clip() string {
	s := v.String()
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// seqCanon renders v with the elements of every aggregate sorted: ACL
// LIST, CONFIG GET and FUNCTION LIST need not keep an order from one call
// to the next.
func seqCanon(v seqReply) string {
	if v.a == nil {
		return v.String()
	}
	parts := make([]string, len(v.a))
	for i, e := range v.a {
		parts[i] = seqCanon(e)
	}
	sort.Strings(parts)
	return string(v.t) + "[" + strings.Join(parts, " ") + "]"
}

var errSeqMalformed = errors.New("malformed reply")

func seqMalformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errSeqMalformed, fmt.Sprintf(format, args...))
}

// seqParse reads one reply and checks it is well-formed RESP: lines end
// in CRLF, lengths and integers are numbers, doubles, booleans, big
// numbers and verbatim strings have their forms, aggregates hold what
// they announce, and a RESP2 connection gets only RESP2 types. A push is
// returned as any reply (t '>'), at the top level only.
func seqParse(r *bufio.Reader, proto, depth int) (seqReply, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return seqReply{}, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return seqReply{}, seqMalformed("line %q", line)
	}
	t, body := line[0], line[1:len(line)-2]
	if strings.ContainsAny(body, "\r\n") {
		return seqReply{}, seqMalformed("CR or LF inside line %q", line)
	}
	if proto == 2 && !strings.ContainsRune("+-:$*", rune(t)) {
		return seqReply{}, seqMalformed("RESP3 type %q on a RESP2 connection", line)
	}
	if depth > 64 {
		return seqReply{}, seqMalformed("nested more than 64 deep")
	}
	length := func() (int, error) {
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > 1<<29 || n == -1 && !strings.ContainsRune("$*", rune(t)) {
			return 0, seqMalformed("length in %q", line)
		}
		return n, nil
	}
	switch t {
	case '+':
		return seqReply{t: t, s: body}, nil
	case '-':
		if body == "" {
			return seqReply{}, seqMalformed("empty error")
		}
		return seqReply{t: t, s: body}, nil
	case ':':
		if _, err := strconv.ParseInt(body, 10, 64); err != nil {
			return seqReply{}, seqMalformed("integer %q", line)
		}
		return seqReply{t: t, s: body}, nil
	case ',':
		if _, err := strconv.ParseFloat(body, 64); err != nil && body != "inf" && body != "-inf" && body != "nan" {
			return seqReply{}, seqMalformed("double %q", line)
		}
		return seqReply{t: t, s: body}, nil
	case '#':
		if body != "t" && body != "f" {
			return seqReply{}, seqMalformed("boolean %q", line)
		}
		return seqReply{t: t, s: body}, nil
	case '(':
		digits := strings.TrimPrefix(body, "-")
		if digits == "" || strings.Trim(digits, "0123456789") != "" {
			return seqReply{}, seqMalformed("big number %q", line)
		}
		return seqReply{t: t, s: body}, nil
	case '_':
		if body != "" {
			return seqReply{}, seqMalformed("null %q", line)
		}
		return seqReply{t: t, null: true}, nil
	case '$', '=', '!':
		n, err := length()
		if err != nil {
			return seqReply{}, err
		}
		if n < 0 {
			return seqReply{t: t, null: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return seqReply{}, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return seqReply{}, seqMalformed("%c%d not followed by CRLF", t, n)
		}
		if t == '=' && (n < 4 || buf[3] != ':') {
			return seqReply{}, seqMalformed("verbatim string %q", buf[:min(n, 20)])
		}
		return seqReply{t: t, s: string(buf[:n])}, nil
	case '*', '~', '>', '%', '|':
		if t == '>' && depth > 0 {
			return seqReply{}, seqMalformed("push inside an aggregate")
		}
		n, err := length()
		if err != nil {
			return seqReply{}, err
		}
		if n < 0 {
			return seqReply{t: t, null: true}, nil
		}
		if t == '%' || t == '|' {
			n *= 2
		}
		v := seqReply{t: t, a: make([]seqReply, n)}
		for i := range v.a {
			if v.a[i], err = seqParse(r, proto, depth+1); err != nil {
				return seqReply{}, err
			}
		}
		if t == '|' {
			// An attribute comes before the reply it describes.
			return seqParse(r, proto, depth)
		}
		return v, nil
	}
	return seqReply{}, seqMalformed("unknown type %q", line)
}

// seqQuote writes args as redis-cli reads them.
func seqQuote(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \"'\\") || strconv.Quote(a) != `"`+a+`"` {
			parts[i] = strconv.Quote(a)
		} else {
			parts[i] = a
		}
	}
	s := strings.Join(parts, " ")
	if len(s) > 2000 {
		s = s[:2000] + "…"
	}
	return s
}

// seqLogBuf keeps the server log's end, for the stacks of recovered
// panics.
type seqLogBuf struct {
	mu sync.Mutex
	b  []byte
}

func (l *seqLogBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	if len(l.b) > 1<<20 {
		l.b = append([]byte(nil), l.b[len(l.b)-1<<19:]...)
	}
	return len(p), nil
}

func (l *seqLogBuf) reset() {
	l.mu.Lock()
	l.b = l.b[:0]
	l.mu.Unlock()
}

// panics returns the log from its first recovered panic on.
func (l *seqLogBuf) panics() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := string(l.b)
	if i := strings.Index(s, "panic in command"); i >= 0 {
		s = s[i:]
	}
	if len(s) > 20000 {
		s = s[:20000]
	}
	return s
}
