package config

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
)

// Config is the server configuration: one typed value per directive of the
// registry, plus the path of the file it was loaded from.
//
// Concurrency: loading (LoadFile, LoadArgs, LoadSources), Set,
// SetWithOptions, SetReplicaOf, Rewrite, OnChange and HandleDirective are
// serialized by an internal mutex; OnChange hooks run while it is held. Every
// value is published through atomics, so readers (Get, the typed accessors
// and the handles) never lock and may run concurrently with everything.
type Config struct {
	mu      sync.Mutex
	entries []*entry          // in registry order
	byName  map[string]*entry // canonical name -> entry

	hooks      map[*entry][]func(name string) error
	directives map[string]func(args []string) error
	logger     atomic.Pointer[func(msg string)]

	configFile string // absolute path, "" if none
	saveLoaded bool   // a save directive was read from a file already
	includes   int    // include nesting depth while loading
	// given holds the directives a configuration file or the command line
	// named (by canonical name), so that an embedded default can be told
	// from the same value chosen by the user.
	given map[*entry]bool
	// renames are the rename-command directives, in the order read.
	renames []RenameCommand
	// users are the "user" directives, in the order read.
	users []UserDirective
	// userLines gives CONFIG REWRITE the ACL users as "user" lines
	// (SetUserLines); nil: the file's own lines are kept.
	userLines func() []string
	// sentinelLines, set only during RewriteSentinel, replace the file's
	// "sentinel ..." lines.
	sentinelLines []SentinelLine
}

// RenameCommand is one rename-command directive: the command From is
// known as To from then on, or not at all when To is empty. At locates
// the directive, for the error that refuses a bad one.
type RenameCommand struct {
	From, To string
	At       LoadError
}

// UserDirective is one "user" directive: Args are the user name and its
// rules; At is the line, for the error the server reports against it.
type UserDirective struct {
	Args []string
	At   LoadError
}

// SetUserLines makes CONFIG REWRITE write the ACL users (fn returns their
// "user ..." lines) in place of the file's, as Redis does when no aclfile
// holds them; with an aclfile the file's user lines are dropped.
func (c *Config) SetUserLines(fn func() []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.userLines = fn
}

// UserDirectives returns the "user" directives in the order they were
// read; the server creates those users (internal/acl) before serving.
func (c *Config) UserDirectives() []UserDirective {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]UserDirective(nil), c.users...)
}

// RenamedCommands returns the rename-command directives in the order they
// were read. The server applies them to its command table before serving.
func (c *Config) RenamedCommands() []RenameCommand {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]RenameCommand(nil), c.renames...)
}

// NameValue is one directive name and its value, as CONFIG GET returns them.
type NameValue struct {
	Name  string
	Value string
}

// ErrLoading is returned by SetWithOptions when a DenyLoading directive is
// changed while the dataset is loading; its text is the LOADING error reply.
var ErrLoading = errors.New("LOADING Redis is loading the dataset in memory")

// New returns a configuration with every directive at its default value.
func New() *Config {
	c := &Config{
		entries:    make([]*entry, len(specs)),
		byName:     make(map[string]*entry, len(specs)),
		hooks:      make(map[*entry][]func(string) error),
		directives: make(map[string]func([]string) error),
	}
	for i, s := range specs {
		e := &entry{spec: s}
		s.ops.store(e, s.ops.defaultValue())
		c.entries[i] = e
		c.byName[s.name] = e
	}
	return c
}

// Given reports whether a configuration file or the command line set the
// directive name (whatever the value), as opposed to its default.
func (c *Config) Given(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, e := c.lookup(name)
	return e != nil && c.given[e]
}

// ConfigFile returns the absolute path of the configuration file the server
// was started with, or "" if none.
func (c *Config) ConfigFile() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.configFile
}

// SetLogger installs fn to receive warnings (the ones Redis logs while
// parsing or rolling back a configuration). The default discards them.
func (c *Config) SetLogger(fn func(msg string)) {
	if fn == nil {
		c.logger.Store(nil)
		return
	}
	c.logger.Store(&fn)
}

func (c *Config) warn(msg string) {
	if fn := c.logger.Load(); fn != nil {
		(*fn)(msg)
	}
}

// OnChange registers fn to run after CONFIG SET changed the directive name
// (canonical name or alias). fn receives the canonical name and reads the
// new value through the accessors. Hooks run under the configuration mutex,
// in the order of the CONFIG SET arguments, once per changed directive (a
// directive set to its current value is not "changed", except for
// Volatile ones and the special directives other than oom-score-adj-values,
// which Redis always re-applies). Several hooks may be registered for one
// directive; they run in registration order.
//
// If a hook returns an error, every directive of the CONFIG SET is restored
// to its previous value, the hooks that already ran (the failing one
// included) run again so they see the restored values, and Set returns
// "ERR CONFIG SET failed (possibly related to argument 'name') - <error>".
// Hooks must not call Set, Rewrite or the loaders (they would deadlock).
// Loading a configuration file does not run hooks.
//
// OnChange panics if name is not a known directive.
func (c *Config) OnChange(name string, fn func(name string) error) {
	e := c.mustEntry(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hooks[e] = append(c.hooks[e], fn)
}

// HandleDirective registers fn to process the configuration-file-only
// directive name: "rename-command" (called with its 2 arguments),
// "user" (1 or more) or "loadmodule" (1 or more). fn's error text becomes the
// reason of the fatal configuration error. Without a handler these
// directives are refused at load time, because silently ignoring them could
// leave commands or users enabled that the file meant to disable.
func (c *Config) HandleDirective(name string, fn func(args []string) error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.directives[toLowerASCII(name)] = fn
}

// lookup resolves a canonical name or alias, case-insensitively.
func (c *Config) lookup(name string) (*specRef, *entry) {
	r, ok := specByName[name]
	if !ok {
		r, ok = specByName[toLowerASCII(name)]
		if !ok {
			return nil, nil
		}
	}
	return r, c.byName[r.spec.name]
}

func (c *Config) mustEntry(name string) *entry {
	_, e := c.lookup(name)
	if e == nil {
		panic("config: unknown directive " + name)
	}
	return e
}

// ----------------------------------------------------------------------------
// Typed accessors. They panic on unknown names (a programming error) and on
// kind mismatches as documented.

// Int returns the value of a numeric (int, memory, octal) or enum directive,
// or the flags of notify-keyspace-events. Memory directives backed by an
// unsigned 64-bit type (maxmemory) wrap above math.MaxInt64; use Uint.
// Percentages of KindMemoryPercent directives are returned negated (-10 for
// "10%"). It panics for other kinds.
func (c *Config) Int(name string) int64 {
	e := c.mustEntry(name)
	if !e.isInt() {
		panic("config: " + name + " is not an integer directive")
	}
	return e.i.Load()
}

// Uint returns Int(name) reinterpreted as unsigned.
func (c *Config) Uint(name string) uint64 { return uint64(c.Int(name)) }

// Bool returns the value of a bool directive; it panics for other kinds.
func (c *Config) Bool(name string) bool {
	e := c.mustEntry(name)
	if e.spec.kind != KindBool {
		panic("config: " + name + " is not a bool directive")
	}
	return e.b.Load()
}

// String returns the value of a string directive, or for any other kind the
// value as CONFIG GET reports it (e.g. "allkeys-lru" for maxmemory-policy).
func (c *Config) String(name string) string {
	e := c.mustEntry(name)
	if e.spec.kind == KindString {
		return *e.s.Load()
	}
	return e.spec.ops.format(e.spec.ops.load(e))
}

// Strings returns a multi-word value as a list: the addresses for bind,
// otherwise the CONFIG GET value split on spaces (nil when empty).
func (c *Config) Strings(name string) []string {
	e := c.mustEntry(name)
	if e.spec == bindSpec {
		return append([]string(nil), e.v.Load().([]string)...)
	}
	return strings.Fields(e.spec.ops.format(e.spec.ops.load(e)))
}

func (e *entry) isInt() bool {
	switch e.spec.kind {
	case KindInt, KindMemory, KindMemoryPercent, KindOctal, KindEnum:
		return true
	}
	return e.spec == notifyKeyspaceEventsSpec
}

// Dir returns the absolute working directory of the server (the dir
// directive), against which relative file names (dbfilename, appenddirname,
// logfile, pidfile, cluster-config-file, aclfile...) are resolved.
func (c *Config) Dir() string { return c.byName["dir"].v.Load().(string) }

// SaveParams returns the snapshotting points of the save directive (empty
// when snapshotting is disabled).
func (c *Config) SaveParams() []SaveParam {
	return append([]SaveParam(nil), c.byName["save"].v.Load().([]SaveParam)...)
}

// ClientOutputBufferLimits returns the client-output-buffer-limit values.
func (c *Config) ClientOutputBufferLimits() ClientBufferLimits {
	return c.byName["client-output-buffer-limit"].v.Load().(ClientBufferLimits)
}

// OOMScoreAdjValues returns the oom-score-adj-values for masters, replicas
// and background children.
func (c *Config) OOMScoreAdjValues() [3]int {
	return c.byName["oom-score-adj-values"].v.Load().([3]int)
}

// NotifyKeyspaceEvents returns the notify-keyspace-events flags (Notify*).
func (c *Config) NotifyKeyspaceEvents() int64 {
	return c.byName["notify-keyspace-events"].i.Load()
}

// ReplicaOf returns the master this server replicates, if any.
func (c *Config) ReplicaOf() (host string, port int, ok bool) {
	r := c.byName["replicaof"].v.Load().(replicaOf)
	return r.Host, r.Port, r.Host != ""
}

// SetReplicaOf records the master set by the REPLICAOF command (replicaof
// is immutable for CONFIG SET), so that CONFIG GET and CONFIG REWRITE report
// it. An empty host means "REPLICAOF NO ONE". Hooks do not run.
func (c *Config) SetReplicaOf(host string, port int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := replicaOf{}
	if host != "" {
		v = replicaOf{Host: host, Port: port}
	}
	c.byName["replicaof"].v.Store(v)
}

// LatencyTrackingInfoPercentiles returns the percentiles INFO latencystats
// reports.
func (c *Config) LatencyTrackingInfoPercentiles() []float64 {
	return append([]float64(nil), c.byName["latency-tracking-info-percentiles"].v.Load().([]float64)...)
}

// ProtectedActionAllowed reports whether an action guarded by the
// enable-protected-configs, enable-debug-command or enable-module-command
// directive (name) is allowed for a client; local tells whether the client
// is connected through loopback or a unix socket.
func (c *Config) ProtectedActionAllowed(name string, local bool) bool {
	v := c.Int(name)
	return v == ProtectedYes || (v == ProtectedLocal && local)
}

// ----------------------------------------------------------------------------
// Handles: cheap, lock-free, map-free read access for hot paths.

// IntVar is a read-only handle on an integer directive's value.
type IntVar struct{ p *atomic.Int64 }

// Load returns the current value (see Config.Int).
func (h IntVar) Load() int64 { return h.p.Load() }

// LoadUint returns the current value reinterpreted as unsigned.
func (h IntVar) LoadUint() uint64 { return uint64(h.p.Load()) }

// BoolVar is a read-only handle on a bool directive's value.
type BoolVar struct{ p *atomic.Bool }

// Load returns the current value.
func (h BoolVar) Load() bool { return h.p.Load() }

// StringVar is a read-only handle on a string directive's value.
type StringVar struct{ p *atomic.Pointer[string] }

// Load returns the current value.
func (h StringVar) Load() string { return *h.p.Load() }

// IntHandle returns a handle on the directive accepted by Int; it panics
// for unknown names or other kinds. Hold it and call Load on the hot path.
func (c *Config) IntHandle(name string) IntVar {
	e := c.mustEntry(name)
	if !e.isInt() {
		panic("config: " + name + " is not an integer directive")
	}
	return IntVar{&e.i}
}

// BoolHandle returns a handle on a bool directive; it panics for unknown
// names or other kinds.
func (c *Config) BoolHandle(name string) BoolVar {
	e := c.mustEntry(name)
	if e.spec.kind != KindBool {
		panic("config: " + name + " is not a bool directive")
	}
	return BoolVar{&e.b}
}

// StringHandle returns a handle on a string directive; it panics for
// unknown names or other kinds.
func (c *Config) StringHandle(name string) StringVar {
	e := c.mustEntry(name)
	if e.spec.kind != KindString {
		panic("config: " + name + " is not a string directive")
	}
	return StringVar{&e.s}
}

// ----------------------------------------------------------------------------
// CONFIG GET

// Get implements CONFIG GET: it returns the directives matching any of the
// patterns with their values. A pattern without any of the glob characters
// '*', '?' and '[' is an exact, case-insensitive lookup of a name or alias,
// hidden directives included, and the reply echoes the pattern as given; a
// glob pattern is matched case-insensitively against every canonical name
// and alias except hidden directives. A directive already returned (by the
// same name, compared case-insensitively) is not repeated. The result is
// ordered by pattern, then registry order (canonical name before alias).
func (c *Config) Get(patterns []string) []NameValue {
	var out []NameValue
	seen := make(map[string]bool)
	add := func(name string, e *entry) {
		seen[toLowerASCII(name)] = true
		out = append(out, NameValue{Name: name, Value: e.spec.ops.format(e.spec.ops.load(e))})
	}
	for _, pat := range patterns {
		if !strings.ContainsAny(pat, "[*?") {
			if seen[toLowerASCII(pat)] {
				continue
			}
			if _, e := c.lookup(pat); e != nil {
				add(pat, e)
			}
			continue
		}
		for _, e := range c.entries {
			if e.spec.flags&Hidden != 0 {
				continue
			}
			for _, n := range [2]string{e.spec.name, e.spec.alias} {
				if n == "" || seen[n] {
					continue
				}
				if GlobMatchString(pat, n, true) {
					add(n, e)
				}
			}
		}
	}
	return out
}

// ----------------------------------------------------------------------------
// CONFIG SET

// SetOptions carries the client and server state CONFIG SET depends on.
type SetOptions struct {
	// LocalClient reports that the client is connected through loopback
	// or a unix socket (for enable-protected-configs local).
	LocalClient bool
	// Loading reports that the server is loading its dataset: changing a
	// DenyLoading directive then fails with ErrLoading.
	Loading bool
}

// Set implements CONFIG SET for a non-local client while not loading; see
// SetWithOptions.
func (c *Config) Set(pairs [][2]string) error {
	return c.SetWithOptions(pairs, SetOptions{})
}

type setItem struct {
	ref      *specRef
	e        *entry
	old, val any
	changed  bool
}

// SetWithOptions implements CONFIG SET name value [name value ...]
// atomically: every name is checked (known, mutable, not repeated), then
// every value is validated, and only then are all values stored and the
// OnChange hooks of the changed directives run. Nothing is changed if any
// check fails; if a hook fails every value is restored (see OnChange).
// Multi-argument directives (save, bind, ...) take their arguments as one
// space-separated value. The errors are the exact Redis 7.2 replies, e.g.
//
//	ERR Unknown option or number of arguments for CONFIG SET - 'foo'
//	ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config
//	ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value
//
// As in Redis, a directive and its alias are distinct parameters: giving
// both is not a "duplicate parameter" and the last one wins.
func (c *Config) SetWithOptions(pairs [][2]string, opt SetOptions) error {
	c.mu.Lock()
	defer c.mu.Unlock()

	// Phase 1: names, mutability, duplicates. The first problem wins.
	items := make([]setItem, 0, len(pairs))
	for _, p := range pairs {
		r, e := c.lookup(p[0])
		if r == nil {
			return errors.New("ERR Unknown option or number of arguments for CONFIG SET - '" + p[0] + "'")
		}
		f := r.spec.flags
		if f&Immutable != 0 {
			return setFailed(p[0], "can't set immutable config")
		}
		if f&Protected != 0 && !c.ProtectedActionAllowed("enable-protected-configs", opt.LocalClient) {
			return setFailed(p[0], "can't set protected config")
		}
		if opt.Loading && f&DenyLoading != 0 {
			return ErrLoading
		}
		for _, it := range items {
			if it.ref == r {
				return setFailed(p[0], "duplicate parameter")
			}
		}
		items = append(items, setItem{ref: r, e: e})
	}

	// Phase 2: validate every value without side effects.
	for i := range items {
		it := &items[i]
		it.old = it.e.spec.ops.load(it.e)
		val, errStr := it.e.spec.ops.parse(c, it.e, setArgs(it.e.spec, pairs[i][1]), false)
		if errStr != "" {
			return setFailed(it.ref.name, errStr)
		}
		it.val = val
	}

	// Phase 3: publish.
	for i := range items {
		it := &items[i]
		it.changed = it.e.spec.flags&Volatile != 0 || it.e.spec.ops.changed(it.old, it.val)
		it.e.spec.ops.store(it.e, it.val)
		if it.changed && it.e.spec.fixup != nil {
			it.e.spec.fixup(c, it.e)
		}
	}

	// Phase 4: apply hooks, once per changed directive.
	var ran []*entry
	done := make(map[*entry]bool)
	for i := range items {
		it := &items[i]
		if !it.changed || done[it.e] {
			continue
		}
		done[it.e] = true
		hooks := c.hooks[it.e]
		if len(hooks) == 0 {
			continue
		}
		ran = append(ran, it.e)
		for _, h := range hooks {
			if err := h(it.e.spec.name); err != nil {
				c.warn("Failed applying new configuration. Possibly related to new " + it.ref.name + " setting. Restoring previous settings.")
				c.restore(items, ran)
				return setFailed(it.ref.name, err.Error())
			}
		}
	}
	return nil
}

// restore puts back the old values of items and re-runs the hooks of the
// directives in ran.
func (c *Config) restore(items []setItem, ran []*entry) {
	for i := len(items) - 1; i >= 0; i-- {
		it := &items[i]
		it.e.spec.ops.store(it.e, it.old)
	}
	for _, e := range ran {
		for _, h := range c.hooks[e] {
			if err := h(e.spec.name); err != nil {
				c.warn("Failed applying restored failed CONFIG SET command: " + err.Error())
			}
		}
	}
}

func setFailed(name, reason string) error {
	if reason == "" {
		return errors.New("ERR CONFIG SET failed (possibly related to argument '" + name + "')")
	}
	return errors.New("ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + reason)
}

// setArgs splits a CONFIG SET value into arguments: multi-argument
// directives split on single spaces (so "" is zero arguments and double
// spaces yield empty arguments, as in Redis), others take the value whole.
func setArgs(s *spec, value string) []string {
	if s.flags&MultiArg == 0 {
		return []string{value}
	}
	if value == "" {
		return nil
	}
	return strings.Split(value, " ")
}
