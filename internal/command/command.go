// Package command is Corvid's command table: every command is declared once,
// with its name, arity, flags, key positions, ACL categories, documentation
// and handler, the way Redis's command specs are. The dispatcher reads it for
// admission checks and to know which keyspace shards to lock; COMMAND,
// COMMAND DOCS/GETKEYS, and later ACL, cluster routing and scripting read it
// too, so they can never disagree with what the server actually does.
package command

import (
	"bytes"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// Flags are command properties, named as Redis's COMMAND reports them.
type Flags uint64

// Command flags. The first block mirrors Redis's flags (reported by COMMAND);
// the second block is Corvid's own dispatcher hints.
const (
	Write Flags = 1 << iota
	ReadOnly
	DenyOOM
	Admin
	PubSub
	NoScript
	Blocking
	Loading
	Stale
	SkipMonitor
	SkipSlowlog
	Fast
	NoAuth
	MayReplicate
	NoMandatoryKeys
	NoAsyncLoading
	NoMulti
	MovableKeys
	AllowBusy

	// AllShards: the command sees the whole keyspace (KEYS, SCAN, FLUSHALL,
	// DBSIZE…), so the dispatcher locks every shard.
	AllShards
	// NoKeyspace: the command never touches the keyspace; no lock is taken.
	NoKeyspace
	// Protected: refused unless enable-debug-command (DEBUG) or
	// enable-module-command (MODULE LOAD, LOADEX, UNLOAD) allows it
	// (Redis's CMD_PROTECTED).
	Protected
	// OwnGoroutine: the command may park its connection or write to it from
	// other goroutines (MONITOR, blocking pops), so a connection served by
	// an event loop moves to a goroutine of its own before running it.
	OwnGoroutine

	// Sentinel: the command exists in sentinel mode too (Redis's
	// CMD_SENTINEL); OnlySentinel: only there (CMD_ONLY_SENTINEL). A
	// subcommand carries them on its own: a container may keep some of
	// its subcommands in sentinel mode and not others. The table applies
	// them (Register, SetSentinelMode); COMMAND does not report them,
	// as Redis hides them.
	Sentinel
	OnlySentinel
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{Write, "write"}, {ReadOnly, "readonly"}, {DenyOOM, "denyoom"}, {Admin, "admin"},
	{PubSub, "pubsub"}, {NoScript, "noscript"}, {Blocking, "blocking"}, {Loading, "loading"},
	{Stale, "stale"}, {SkipMonitor, "skip_monitor"}, {SkipSlowlog, "skip_slowlog"},
	{Fast, "fast"}, {NoAuth, "no_auth"}, {MayReplicate, "may_replicate"},
	{NoMandatoryKeys, "no_mandatory_keys"}, {NoAsyncLoading, "no_async_loading"},
	{NoMulti, "no_multi"}, {MovableKeys, "movablekeys"}, {AllowBusy, "allow_busy"},
}

// Names returns the Redis names of the flags that are set.
func (f Flags) Names() []string {
	var out []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// ACL categories, as Redis names them (without the '@').
const (
	CatKeyspace uint64 = 1 << iota
	CatRead
	CatWrite
	CatSet
	CatSortedSet
	CatList
	CatHash
	CatString
	CatBitmap
	CatHyperLogLog
	CatGeo
	CatStream
	CatPubSub
	CatAdmin
	CatFast
	CatSlow
	CatBlocking
	CatDangerous
	CatConnection
	CatTransaction
	CatScripting
)

// CategoryNames lists the ACL category names in bit order.
var CategoryNames = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash",
	"string", "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
	"blocking", "dangerous", "connection", "transaction", "scripting"}

// CategoryList returns the names of the categories in mask.
func CategoryList(mask uint64) []string {
	var out []string
	for i, n := range CategoryNames {
		if mask&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// KeySpec describes where a command's keys are, as Redis 7's key specs do:
// a begin search (an argument index, or the argument after a keyword) and
// then either a range (last key relative to the first, step) or a count
// taken from an argument (numkeys).
type KeySpec struct {
	Flags []string // RO, RW, OW, RM, access, update, insert, delete, …
	Notes string   // Redis's free-text note on the spec, reported by COMMAND INFO

	// Unknown says the keys cannot be found from the arguments' positions
	// (Redis's "unknown" begin_search and find_keys: SORT's BY/GET keys
	// come from the sorted values, its STORE keyword may be anywhere).
	// Such a spec yields no keys; the command's Keys function finds what
	// can be found.
	Unknown bool

	BeginIndex   int    // when Keyword == "": keys start at this argument
	Keyword      string // otherwise: keys start after this keyword…
	KeywordStart int    // …searched from this index (negative: from the end, backwards)

	// Range form (used when KeyNumIdx == 0).
	LastKey int // relative to the first key; -1 = last argument
	Step    int
	Limit   int

	// KeyNum form: the number of keys is at begin+KeyNumIdx, keys start at
	// begin+FirstKey.
	KeyNumIdx int
	FirstKey  int

	// bits holds Flags parsed, on the copies Register resolves, so that
	// checks run for every command (ACL) compare no strings.
	bits   KeySpecFlag
	parsed bool
}

// KeySpecFlag is a key-spec flag as a bit (Redis's CMD_KEY_* flags).
type KeySpecFlag uint16

// Key-spec flags, named as in KeySpec.Flags.
const (
	KeyRO KeySpecFlag = 1 << iota
	KeyRW
	KeyOW
	KeyRM
	KeyAccess
	KeyUpdate
	KeyInsert
	KeyDelete
	KeyNotKey
	KeyIncomplete
	KeyVariableFlags
)

// keySpecFlagNames are the flags' names in bit order.
var keySpecFlagNames = [...]string{"RO", "RW", "OW", "RM", "access", "update", "insert",
	"delete", "not_key", "incomplete", "variable_flags"}

// ParseKeySpecFlags returns the bits of the key-spec flags named in flags;
// names are matched ignoring ASCII case, unknown ones ignored. It does not
// allocate.
func ParseKeySpecFlags(flags []string) KeySpecFlag {
	var bits KeySpecFlag
	for _, f := range flags {
		for i, n := range keySpecFlagNames {
			if asciiEqualFold(f, n) {
				bits |= 1 << i
				break
			}
		}
	}
	return bits
}

// FlagBits returns the spec's Flags as bits. The specs EffectiveKeySpecs
// returns had them parsed by Register; others parse them now.
func (ks *KeySpec) FlagBits() KeySpecFlag {
	if ks.parsed {
		return ks.bits
	}
	return ParseKeySpecFlags(ks.Flags)
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Command is one entry of the command table.
type Command struct {
	Name  string // lower case; "config|get" style for subcommands
	Arity int    // as Redis: >0 exact, <0 at least -Arity
	Flags Flags
	ACL   uint64

	// Legacy key positions (COMMAND's first/last/step); 0 = no keys.
	FirstKey, LastKey, Step int
	// KeySpecs, when set, replace the single spec derived from FirstKey..LastKey.
	KeySpecs []KeySpec
	// Keys, when set, extracts key positions from the arguments (commands
	// with movable keys). It returns argument indexes, which callers only
	// read.
	Keys func(args [][]byte) []int
	// KeyFlags, when set, gives the flags of the key at argument pos for
	// these arguments, where a key spec says variable_flags or where Keys
	// finds what the specs cannot (Redis's getkeys_proc setting them: SET
	// without GET only overwrites, SORT's STORE destination is OW). Its
	// result is only read, so it may be a shared slice: it runs in every
	// ACL check of a restricted user, where a new one costs an allocation.
	KeyFlags func(args [][]byte, pos int) []string

	Group   string // generic, string, server, connection…
	Since   string
	Summary string
	Tips    []string

	Handler     func(c *Ctx)
	Subcommands []*Command
	Parent      *Command

	// Stats are INFO commandstats counters, kept here so the hot path
	// updates them without a map lookup.
	Stats Stats

	subs map[string]*Command
	// declaredSubs are the subcommands as declared, those the table's
	// mode leaves out of Subcommands included (Table.link).
	declaredSubs []*Command

	// resolvedSpecs is EffectiveKeySpecs's answer, worked out by Register
	// (specsResolved) so that per-call key extraction neither builds the
	// legacy spec nor parses flags again.
	resolvedSpecs []KeySpec
	specsResolved bool
}

// Stats are one command's counters.
type Stats struct {
	Calls, Usec, Rejected, Failed atomic.Int64
}

// FullName returns "parent|sub" for subcommands, the name otherwise.
func (c *Command) FullName() string { return c.Name }

// Sub finds a subcommand by name, case-insensitively.
func (c *Command) Sub(name []byte) *Command {
	if c.subs == nil {
		return nil
	}
	var buf [64]byte
	if len(name) > len(buf) {
		return nil
	}
	return c.subs[string(lower(buf[:0], name))]
}

// HasSubcommands reports whether the command is a container (CONFIG, CLIENT…).
func (c *Command) HasSubcommands() bool { return len(c.Subcommands) > 0 }

// CheckArity reports whether n arguments (including the name) are acceptable.
func (c *Command) CheckArity(n int) bool {
	if c.Arity > 0 {
		return n == c.Arity
	}
	return n >= -c.Arity
}

// EffectiveKeySpecs returns the key specs that find the command's keys:
// KeySpecs, or else the single range spec the legacy FirstKey, LastKey
// and Step describe (its access flags derived from the Write and ReadOnly
// flags), or none. For a registered command they were resolved once, with
// their flags parsed (FlagBits), and are shared: the caller must not
// modify them.
func (c *Command) EffectiveKeySpecs() []KeySpec {
	if c.specsResolved {
		return c.resolvedSpecs
	}
	return c.buildKeySpecs()
}

func (c *Command) buildKeySpecs() []KeySpec {
	if len(c.KeySpecs) > 0 {
		return c.KeySpecs
	}
	if c.FirstKey <= 0 {
		return nil
	}
	last := c.LastKey
	if last >= 0 {
		last -= c.FirstKey
	}
	var flags []string
	switch {
	case c.Flags&Write != 0:
		flags = []string{"RW", "update"}
	case c.Flags&ReadOnly != 0:
		flags = []string{"RO", "access"}
	default:
		flags = []string{"RO"}
	}
	return []KeySpec{{Flags: flags, BeginIndex: c.FirstKey, LastKey: last, Step: max(c.Step, 1)}}
}

// resolveKeySpecs fills resolvedSpecs with a copy of the effective specs:
// the command's own KeySpecs may be shared with other commands or tables,
// which a parse written into them would race with.
func (c *Command) resolveKeySpecs() {
	specs := c.buildKeySpecs()
	if len(specs) > 0 {
		specs = append([]KeySpec(nil), specs...)
	}
	for i := range specs {
		specs[i].bits, specs[i].parsed = ParseKeySpecFlags(specs[i].Flags), true
	}
	c.resolvedSpecs, c.specsResolved = specs, true
}

// KeyIndexes appends the argument indexes of args's keys to dst.
func (c *Command) KeyIndexes(dst []int, args [][]byte) []int {
	if c.Keys != nil {
		return append(dst, c.Keys(args)...)
	}
	if len(c.KeySpecs) > 0 {
		for i := range c.KeySpecs {
			dst = c.KeySpecs[i].appendKeys(dst, args)
		}
		return dst
	}
	if c.FirstKey <= 0 {
		return dst
	}
	last := c.LastKey
	if last < 0 {
		last = len(args) + last
	}
	step := max(c.Step, 1)
	for i := c.FirstKey; i <= last && i < len(args); i += step {
		dst = append(dst, i)
	}
	return dst
}

func (ks *KeySpec) appendKeys(dst []int, args [][]byte) []int {
	first, end, step := ks.Span(args)
	for i := first; i < end; i += step {
		dst = append(dst, i)
	}
	return dst
}

// Span returns the argument indexes of the keys ks finds in args as the
// progression first, first+step, … below end (none when first >= end),
// so that callers can walk or test them without a buffer.
func (ks *KeySpec) Span(args [][]byte) (first, end, step int) {
	step = max(ks.Step, 1)
	if ks.Unknown {
		return 0, 0, step
	}
	begin := ks.BeginIndex
	if ks.Keyword != "" {
		if begin = ks.keywordEnd(args); begin < 0 {
			return 0, 0, step
		}
	}
	if begin >= len(args) {
		return 0, 0, step
	}
	if ks.KeyNumIdx > 0 {
		ni := begin + ks.KeyNumIdx - 1
		if ni >= len(args) {
			return 0, 0, step
		}
		n, ok := resp.ParseInt(args[ni])
		if !ok || n <= 0 {
			return 0, 0, step
		}
		first = begin + ks.FirstKey - 1
		// More keys announced than there are arguments: as Redis's key
		// specs, an invalid spec finds no key at all (the command then
		// fails on its own count check). Divided, not multiplied, so that
		// a huge count cannot overflow into a small one.
		if room := len(args) - 1 - first; room < 0 || n-1 > int64(room/step) {
			return 0, 0, step
		}
		return first, first + int(n-1)*step + 1, step
	}
	end = begin + ks.LastKey + 1
	if ks.LastKey < 0 {
		end = len(args) + ks.LastKey + 1
	}
	return begin, min(end, len(args)), step
}

// keywordEnd returns the index after the argument that matches Keyword,
// searched from KeywordStart (backwards when negative), or -1.
func (ks *KeySpec) keywordEnd(args [][]byte) int {
	// Compared as bytes: converting a long argument to a string would
	// allocate.
	kw := []byte(ks.Keyword)
	if ks.KeywordStart >= 0 {
		for i := ks.KeywordStart; i < len(args); i++ {
			if bytes.EqualFold(args[i], kw) {
				return i + 1
			}
		}
		return -1
	}
	for i := len(args) + ks.KeywordStart; i > 0; i-- {
		if bytes.EqualFold(args[i], kw) {
			return i + 1
		}
	}
	return -1
}

// Table is the set of commands the server knows.
type Table struct {
	byName map[string]*Command
	// declared holds every command registered, under its own name,
	// whether or not it exists in the table's mode, and whatever
	// rename-command did (Redis's static command table and its
	// orig_commands): SetSentinelMode builds the table again from it.
	declared map[string]*Command
	// renamed is set once rename-command gave a command another name:
	// a command's Name is then not necessarily the name it answers to.
	renamed bool
	// sentinel: the table is a sentinel's (SetSentinelMode).
	sentinel bool
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{byName: map[string]*Command{}, declared: map[string]*Command{}}
}

// Register adds commands; a duplicate name is a programming error. As
// Redis populates its table, a command or subcommand that does not exist
// in the table's mode is declared but left out: one flagged OnlySentinel
// from a normal table, one not flagged Sentinel from a sentinel's.
func (t *Table) Register(cmds ...*Command) {
	for _, c := range cmds {
		if _, dup := t.declared[c.Name]; dup {
			panic("command registered twice: " + c.Name)
		}
		t.declared[c.Name] = c
		c.declaredSubs = c.Subcommands
		if t.exists(c) {
			t.link(c)
			t.byName[c.Name] = c
		}
	}
}

// exists reports whether c exists in a table of t's mode.
func (t *Table) exists(c *Command) bool {
	if t.sentinel {
		return c.Flags&Sentinel != 0
	}
	return c.Flags&OnlySentinel == 0
}

// link prepares c for the table: its key specs resolved, and those of its
// declared subcommands that exist in the table's mode made its
// Subcommands, indexed and linked to it.
func (t *Table) link(c *Command) {
	c.resolveKeySpecs()
	c.Subcommands, c.subs = nil, nil
	if len(c.declaredSubs) == 0 {
		return
	}
	c.subs = map[string]*Command{}
	for _, s := range c.declaredSubs {
		if !t.exists(s) {
			continue
		}
		c.Subcommands = append(c.Subcommands, s)
		s.Parent = c
		s.resolveKeySpecs()
		short := s.Name[strings.IndexByte(s.Name, '|')+1:]
		c.subs[short] = s
	}
}

// SetSentinelMode makes t a sentinel's table, as Redis builds its table
// when it runs as redis-sentinel: of the commands and subcommands
// declared, only those flagged Sentinel exist. The server calls it once,
// before serving; the dispatcher, COMMAND and the ACLs then know only
// those, with no check of their own. Renames are undone: the caller
// applies rename-command again, to the commands sentinel mode has (a
// rename of one it lacks then fails, as in Redis).
func (t *Table) SetSentinelMode() {
	t.sentinel = true
	t.renamed = false
	t.byName = make(map[string]*Command, len(t.byName))
	for name, c := range t.declared {
		if t.exists(c) {
			t.link(c)
			t.byName[name] = c
		}
	}
}

// Declared returns the command registered as name (lower case), whether
// or not it exists in the table's mode and whatever name rename-command
// gave it, or nil.
func (t *Table) Declared(name string) *Command { return t.declared[name] }

// SentinelMode reports whether t is a sentinel's table (SetSentinelMode).
func (t *Table) SentinelMode() bool { return t.sentinel }

// Rename makes the command from answer to the name to instead, or to no
// name when to is empty, as redis.conf's rename-command does. The command
// keeps its own Name (COMMAND and error replies show it, as Redis shows
// the original name). The errors are Redis's configuration errors.
func (t *Table) Rename(from, to string) error {
	from, to = strings.ToLower(from), strings.ToLower(to)
	cmd, ok := t.byName[from]
	if !ok {
		return errors.New("No such command in rename-command")
	}
	delete(t.byName, from)
	t.renamed = true
	if to == "" {
		return nil
	}
	if _, taken := t.byName[to]; taken {
		return errors.New("Target command name already exists")
	}
	t.byName[to] = cmd
	return nil
}

// Renamed reports whether rename-command renamed or removed any command:
// a lookup cache keyed by a command's Name is then not valid.
func (t *Table) Renamed() bool { return t.renamed }

// Lookup finds a command by name, case-insensitively, without allocating.
func (t *Table) Lookup(name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return t.byName[strings.ToLower(string(name))]
	}
	return t.byName[string(lower(buf[:0], name))]
}

// All returns every top-level command, sorted by name.
func (t *Table) All() []*Command {
	out := make([]*Command, 0, len(t.byName))
	for _, c := range t.byName {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Len returns the number of top-level commands.
func (t *Table) Len() int { return len(t.byName) }

func lower(dst, s []byte) []byte {
	for _, b := range s {
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		dst = append(dst, b)
	}
	return dst
}

// Ctx is what a handler gets: its arguments, the reply writer, the selected
// database (with the shard locks of the command's keys already held) and the
// connection. Handlers never lock and never write to the socket.
type Ctx struct {
	Args [][]byte
	W    *resp.Writer
	DB   keyspace.DB
	Cmd  *Command

	// Conn is the calling connection (a *server.Client); server-level
	// handlers type-assert it, data handlers do not need it.
	Conn any

	// Dirty counts keyspace changes the command made (INFO, persistence).
	Dirty int64

	// OutputLimit is the client's hard output limit (client-output-buffer-
	// limit's normal class; 0: none). A command that can write an
	// unbounded reply (KEYS, a random pick with a huge negative count)
	// stops once OutputFull, as Redis stops one whose client is to be
	// closed: the server then closes the client without sending it.
	OutputLimit int

	// Scratch is a reusable buffer for formatting values without allocating.
	Scratch []byte

	// NoBlock: the command runs where it may not block (inside MULTI/EXEC
	// or a script); BlockOn then replies as a timeout would, at once.
	NoBlock bool
	// Block is set by BlockOn: the dispatcher parks the client.
	Block *BlockRequest

	// Notifier publishes keyspace notifications (see Notify); nil when the
	// server has none to send. NotifyMask, when set, holds the enabled
	// classes, so handlers can skip preparing notifications nobody wants.
	Notifier   Notifier
	NotifyMask *atomic.Int64

	// Propagation (propagate.go): Propagating is set when a replica or the
	// AOF consumes the write stream. PropArgs (when PropRewritten) replaces
	// the command's arguments in it; PropNone drops them, PropForce sends
	// them although Dirty is 0; PropAlso queues an extra command.
	Propagating   bool
	PropRewritten bool
	PropNone      bool
	PropForce     bool
	PropArgs      [][]byte
	PropAlso      func(args [][]byte)

	// Unmodified marks (bit i for argument i) write keys a command that
	// changed the keyspace left as they were; see KeyUnmodified.
	Unmodified uint64
	// Grown is what the command reported its values grew by beyond its
	// arguments' size (see Grew).
	Grown int64

	// InScript is set when a script's redis.call runs the command; then
	// ScriptStart is when the script started, the time TIME reports
	// throughout it, as Redis freezes its cached clock for a script.
	InScript    bool
	ScriptStart time.Time
}

// Grew reports that the command grew stored values by n bytes more than
// its arguments carry (SETBIT far past a string's end, SETRANGE at a large
// offset): the maxmemory check counts it before memory is next measured.
func (c *Ctx) Grew(n int64) {
	if n > 0 {
		c.Grown += n
	}
}

// KeyUnmodified records that argument i, a key the command may write, was
// left unchanged although the command changed other keys: a WATCH on it then
// survives, as Redis signals only the keys really modified (SMOVE of a
// member the destination already holds touches only the source).
func (c *Ctx) KeyUnmodified(i int) {
	if i < 64 {
		c.Unmodified |= 1 << i
	}
}

// KeyModified reports whether write key argument i may have changed: the
// command did not mark it with KeyUnmodified.
func (c *Ctx) KeyModified(i int) bool { return i >= 64 || c.Unmodified&(1<<i) == 0 }

// BlockRequest is what a blocking command (BLPOP, BZPOPMIN…) that found
// nothing to serve asks the dispatcher for: park the client until one of
// Keys holds a value of Type, or until Deadline. When a key becomes ready
// the command runs again, from the start, on the client's behalf.
type BlockRequest struct {
	Keys     [][]byte
	Type     keyspace.Type
	Deadline int64 // Unix ms; 0 = wait for ever
	// WakeOnAnyChange: any write to a key wakes the client, even one that
	// deletes the key or gives it another type (XREADGROUP's groups go
	// with the stream).
	WakeOnAnyChange bool
}

// BlockOn parks the client on keys (see BlockRequest). The handler returns
// without a reply; where blocking is not allowed the timeout reply (a null
// array) is given now.
func (c *Ctx) BlockOn(deadline int64, t keyspace.Type, keys [][]byte) {
	if c.NoBlock {
		c.W.NullArray()
		return
	}
	c.Block = &BlockRequest{Keys: keys, Type: t, Deadline: deadline}
}

// ParseTimeout parses a blocking command's timeout in seconds (a float,
// 0 = for ever) into a deadline in Unix ms, as Redis's
// getTimeoutFromObjectOrReply does; msg is the error reply when it fails.
func ParseTimeout(arg []byte, nowMs int64) (deadline int64, msg string) {
	f, err := strconv.ParseFloat(string(arg), 64)
	if err != nil && len(arg) > 2 && arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X') && !bytes.ContainsAny(arg, "pP") {
		// strtold reads hexadecimal without a binary exponent; Go wants one.
		f, err = strconv.ParseFloat(string(arg)+"p0", 64)
	}
	if err != nil || math.IsNaN(f) {
		return 0, ErrTimeoutNotFloat
	}
	ms := math.Ceil(f * 1000)
	if ms >= math.MaxInt64 {
		return 0, ErrTimeoutOutOfRange
	}
	if ms < 0 {
		return 0, ErrTimeoutNegative
	}
	t := int64(ms)
	if t == 0 {
		return 0, ""
	}
	if t > math.MaxInt64-nowMs {
		return 0, ErrTimeoutOutOfRange
	}
	return nowMs + t, ""
}

// Error replies with an error message (which carries its own prefix).
func (c *Ctx) Error(msg string) { c.W.Error(msg) }

// OK replies +OK.
func (c *Ctx) OK() { c.W.SimpleString("OK") }

// OutputFull reports whether the reply written so far passes the
// client's hard output limit (OutputLimit).
func (c *Ctx) OutputFull() bool { return c.OutputLimit > 0 && c.W.Len() > c.OutputLimit }
