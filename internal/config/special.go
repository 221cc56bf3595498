package config

import (
	"errors"
	"github.com/corvid-db/corvid/internal/resp"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
)

// Directives with their own syntax (Redis's createSpecialConfig entries).

// ----------------------------------------------------------------------------
// dir

// dirSpec is "dir". Redis chdir()s into it and reports getcwd(); Corvid never
// changes the process working directory: it stores the absolute, symlink-free
// path (a relative value is resolved against the previous dir, as a chdir
// would) and the server joins file names onto Config.Dir.
var dirSpec = &spec{
	name: "dir", kind: KindSpecial, flags: Protected | DenyLoading,
	ops: &specialOps{
		def: func() any {
			wd, err := os.Getwd()
			if err != nil {
				return ""
			}
			if r, err := filepath.EvalSymlinks(wd); err == nil {
				wd = r
			}
			return wd
		},
		parseFn: func(c *Config, e *entry, args []string, _ bool) (any, string) {
			if len(args) != 1 {
				return nil, "wrong number of arguments"
			}
			return resolveDir(e.v.Load().(string), args[0])
		},
		formatFn: func(v any) string { return v.(string) },
		rewriteFn: func(_ *Config, e *entry, name string, st *rewriteState) {
			st.rewriteLine(name, name+" "+resp.Repr(e.v.Load().(string)), true)
		},
	},
}

// resolveDir emulates chdir(p) from directory cur followed by getcwd(),
// returning the new directory or the strerror text of the failure.
func resolveDir(cur, p string) (any, string) {
	if p == "" {
		return nil, "No such file or directory"
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(cur, p)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, errnoText(err)
	}
	if !fi.IsDir() {
		return nil, "Not a directory"
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	return filepath.Clean(p), ""
}

// errnoText returns the C strerror text of a file system error.
func errnoText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return capitalize(errno.Error())
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return capitalize(pe.Err.Error())
	}
	return err.Error()
}

// ----------------------------------------------------------------------------
// save

// SaveParam is one "save <seconds> <changes>" point: snapshot when at least
// Changes writes happened in the last Seconds seconds.
type SaveParam struct {
	Seconds int64
	Changes int
}

var saveSpec = &spec{
	name: "save", kind: KindSpecial, flags: MultiArg,
	ops: &specialOps{
		def: func() any {
			return []SaveParam{{3600, 1}, {300, 100}, {60, 10000}}
		},
		parseFn:   parseSave,
		formatFn:  formatSave,
		rewriteFn: rewriteSave,
	},
}

func parseSave(c *Config, e *entry, args []string, loading bool) (any, string) {
	const invalid = "Invalid save parameters"
	if len(args) == 1 && args[0] == "" {
		args = nil
	}
	if len(args)%2 != 0 {
		return nil, invalid
	}
	for j, a := range args {
		v, rest, _ := strtoll(a, 10)
		if rest != "" || (j%2 == 0 && v < 1) || (j%2 == 1 && v < 0) {
			return nil, invalid
		}
	}
	// While reading a file, the first save line replaces the defaults and
	// the following ones accumulate; `save ""` clears everything so far.
	var params []SaveParam
	if loading {
		if c.saveLoaded && len(args) > 0 {
			params = append(params, e.v.Load().([]SaveParam)...)
		}
		c.saveLoaded = true
	}
	for j := 0; j < len(args); j += 2 {
		secs, _, _ := strtoll(args[j], 10)
		changes, _, _ := strtoll(args[j+1], 10)
		params = append(params, SaveParam{Seconds: secs, Changes: int(int32(changes))})
	}
	if params == nil {
		params = []SaveParam{}
	}
	return params, ""
}

func formatSave(v any) string {
	var b strings.Builder
	for i, p := range v.([]SaveParam) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatInt(p.Seconds, 10))
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(p.Changes))
	}
	return b.String()
}

func rewriteSave(_ *Config, e *entry, name string, st *rewriteState) {
	params := e.v.Load().([]SaveParam)
	if len(params) == 0 {
		st.rewriteLine(name, `save ""`, true)
	}
	for _, p := range params {
		st.rewriteLine(name, "save "+strconv.FormatInt(p.Seconds, 10)+" "+strconv.Itoa(p.Changes), true)
	}
	st.markProcessed(name)
}

// ----------------------------------------------------------------------------
// client-output-buffer-limit

// Client classes of client-output-buffer-limit, indexes of
// ClientBufferLimits.
const (
	ClientNormal  = 0
	ClientReplica = 1
	ClientPubSub  = 2
)

// ClientBufferLimit is the output buffer limit of one client class: the
// client is disconnected when its output buffer exceeds HardBytes, or stays
// above SoftBytes for SoftSeconds seconds. Zero means no limit.
type ClientBufferLimit struct {
	HardBytes   uint64
	SoftBytes   uint64
	SoftSeconds int64
}

// ClientBufferLimits holds the limits of the normal, replica and pubsub
// classes, indexed by ClientNormal, ClientReplica and ClientPubSub.
type ClientBufferLimits [3]ClientBufferLimit

var defaultClientBufferLimits = ClientBufferLimits{
	{0, 0, 0},
	{256 << 20, 64 << 20, 60},
	{32 << 20, 8 << 20, 60},
}

var clientOutputBufferLimitSpec = &spec{
	name: "client-output-buffer-limit", kind: KindSpecial, flags: MultiArg,
	ops: &specialOps{
		def: func() any { return defaultClientBufferLimits },
		parseFn: func(_ *Config, e *entry, args []string, _ bool) (any, string) {
			if len(args)%4 != 0 {
				return nil, "Wrong number of arguments in buffer limit configuration."
			}
			lim := e.v.Load().(ClientBufferLimits)
			for j := 0; j < len(args); j += 4 {
				class := -1
				switch strings.ToLower(args[j]) {
				case "normal":
					class = ClientNormal
				case "slave", "replica":
					class = ClientReplica
				case "pubsub":
					class = ClientPubSub
				}
				if class < 0 {
					return nil, "Invalid client class specified in buffer limit configuration."
				}
				hard, hok := memtoull(args[j+1])
				soft, sok := memtoull(args[j+2])
				secs, rest, _ := strtoll(args[j+3], 10)
				secs = int64(int32(secs)) // stored in a C int first
				if !hok || !sok || secs < 0 || rest != "" {
					return nil, "Error in hard, soft or soft_seconds setting in buffer limit configuration."
				}
				lim[class] = ClientBufferLimit{HardBytes: hard, SoftBytes: soft, SoftSeconds: secs}
			}
			return lim, ""
		},
		formatFn: func(v any) string {
			lim := v.(ClientBufferLimits)
			var parts []string
			for j, name := range []string{"normal", "slave", "pubsub"} {
				parts = append(parts, name+" "+strconv.FormatUint(lim[j].HardBytes, 10)+" "+
					strconv.FormatUint(lim[j].SoftBytes, 10)+" "+strconv.FormatInt(lim[j].SoftSeconds, 10))
			}
			return strings.Join(parts, " ")
		},
		rewriteFn: func(_ *Config, e *entry, name string, st *rewriteState) {
			lim := e.v.Load().(ClientBufferLimits)
			for j, class := range []string{"normal", "replica", "pubsub"} {
				l := lim[j]
				st.rewriteLine(name, name+" "+class+" "+formatMemoryUnsigned(l.HardBytes)+" "+
					formatMemoryUnsigned(l.SoftBytes)+" "+strconv.FormatInt(l.SoftSeconds, 10),
					l != defaultClientBufferLimits[j])
			}
		},
	},
}

// ----------------------------------------------------------------------------
// oom-score-adj-values

var defaultOOMScoreAdjValues = [3]int{0, 200, 800}

var oomScoreAdjValuesSpec = &spec{
	name: "oom-score-adj-values", kind: KindSpecial, flags: MultiArg,
	ops: &specialOps{
		onlyRealChanges: true,
		def:             func() any { return defaultOOMScoreAdjValues },
		parseFn: func(c *Config, _ *entry, args []string, _ bool) (any, string) {
			if len(args) != 3 {
				return nil, "wrong number of arguments"
			}
			var v [3]int
			for i, a := range args {
				n, rest, _ := strtoll(a, 10)
				if rest != "" || n < -2000 || n > 2000 {
					return nil, "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
				}
				v[i] = int(n)
			}
			if v[1] < v[0] || v[2] < v[1] {
				c.warn("The oom-score-adj-values configuration may not work for non-privileged processes! Please consult the documentation.")
			}
			return v, ""
		},
		formatFn: func(v any) string {
			a := v.([3]int)
			return strconv.Itoa(a[0]) + " " + strconv.Itoa(a[1]) + " " + strconv.Itoa(a[2])
		},
		rewriteFn: func(_ *Config, e *entry, name string, st *rewriteState) {
			a := e.v.Load().([3]int)
			st.rewriteLine(name, name+" "+strconv.Itoa(a[0])+" "+strconv.Itoa(a[1])+" "+strconv.Itoa(a[2]),
				a != defaultOOMScoreAdjValues)
		},
	},
}

// ----------------------------------------------------------------------------
// notify-keyspace-events

// Keyspace notification classes, the bits of NotifyKeyspaceEvents.
const (
	NotifyKeyspace = 1 << 0  // K
	NotifyKeyevent = 1 << 1  // E
	NotifyGeneric  = 1 << 2  // g
	NotifyString   = 1 << 3  // $
	NotifyList     = 1 << 4  // l
	NotifySet      = 1 << 5  // s
	NotifyHash     = 1 << 6  // h
	NotifyZset     = 1 << 7  // z
	NotifyExpired  = 1 << 8  // x
	NotifyEvicted  = 1 << 9  // e
	NotifyStream   = 1 << 10 // t
	NotifyKeyMiss  = 1 << 11 // m (not part of NotifyAll)
	NotifyLoaded   = 1 << 12 // module-only: key loaded from RDB
	NotifyModule   = 1 << 13 // d
	NotifyNew      = 1 << 14 // n (not part of NotifyAll)
	// NotifyAll is the "A" alias.
	NotifyAll = NotifyGeneric | NotifyString | NotifyList | NotifySet | NotifyHash | NotifyZset |
		NotifyExpired | NotifyEvicted | NotifyStream | NotifyModule
)

// ParseKeyspaceEvents converts a notify-keyspace-events class string such
// as "KEA" into flags; ok is false if it contains an unknown character.
func ParseKeyspaceEvents(classes string) (flags int64, ok bool) {
	for i := 0; i < len(classes); i++ {
		switch classes[i] {
		case 'A':
			flags |= NotifyAll
		case 'g':
			flags |= NotifyGeneric
		case '$':
			flags |= NotifyString
		case 'l':
			flags |= NotifyList
		case 's':
			flags |= NotifySet
		case 'h':
			flags |= NotifyHash
		case 'z':
			flags |= NotifyZset
		case 'x':
			flags |= NotifyExpired
		case 'e':
			flags |= NotifyEvicted
		case 'K':
			flags |= NotifyKeyspace
		case 'E':
			flags |= NotifyKeyevent
		case 't':
			flags |= NotifyStream
		case 'm':
			flags |= NotifyKeyMiss
		case 'd':
			flags |= NotifyModule
		case 'n':
			flags |= NotifyNew
		default:
			return 0, false
		}
	}
	return flags, true
}

// FormatKeyspaceEvents renders flags in the canonical form CONFIG GET
// reports: "A" when all of NotifyAll is set (else the individual classes in
// the order g$lshzxetdn), followed by K, E and m.
func FormatKeyspaceEvents(flags int64) string {
	var b []byte
	if flags&NotifyAll == NotifyAll {
		b = append(b, 'A')
	} else {
		for _, f := range []struct {
			bit int64
			c   byte
		}{
			{NotifyGeneric, 'g'}, {NotifyString, '$'}, {NotifyList, 'l'}, {NotifySet, 's'},
			{NotifyHash, 'h'}, {NotifyZset, 'z'}, {NotifyExpired, 'x'}, {NotifyEvicted, 'e'},
			{NotifyStream, 't'}, {NotifyModule, 'd'}, {NotifyNew, 'n'},
		} {
			if flags&f.bit != 0 {
				b = append(b, f.c)
			}
		}
	}
	if flags&NotifyKeyspace != 0 {
		b = append(b, 'K')
	}
	if flags&NotifyKeyevent != 0 {
		b = append(b, 'E')
	}
	if flags&NotifyKeyMiss != 0 {
		b = append(b, 'm')
	}
	return string(b)
}

// notifyOps stores the flags in entry.i so that hot code can poll them
// through IntHandle("notify-keyspace-events").
type notifyOps struct{}

func (notifyOps) defaultValue() any     { return int64(0) }
func (notifyOps) load(e *entry) any     { return e.i.Load() }
func (notifyOps) store(e *entry, v any) { e.i.Store(v.(int64)) }
func (notifyOps) changed(_, _ any) bool { return true }
func (notifyOps) format(v any) string   { return FormatKeyspaceEvents(v.(int64)) }

func (notifyOps) parse(_ *Config, _ *entry, args []string, _ bool) (any, string) {
	if len(args) != 1 {
		return nil, "wrong number of arguments"
	}
	flags, ok := ParseKeyspaceEvents(args[0])
	if !ok {
		return nil, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
	}
	return flags, ""
}

func (notifyOps) rewrite(_ *Config, e *entry, name string, st *rewriteState) {
	v := e.i.Load()
	st.rewriteLine(name, name+" "+resp.Repr(FormatKeyspaceEvents(v)), v != 0)
}

var notifyKeyspaceEventsSpec = &spec{
	name: "notify-keyspace-events", kind: KindSpecial, ops: notifyOps{},
}

// ----------------------------------------------------------------------------
// bind

// defaultBind is the default listening addresses, Redis's built-in ones
// (CONFIG_DEFAULT_BINDADDR): every interface, IPv6 optional (the "-"
// prefix). Protected mode (on by default) refuses non-loopback clients
// while the default user has no password, as in Redis.
var defaultBind = []string{"*", "-::*"}

// maxBindAddrs is Redis's CONFIG_BINDADDR_MAX.
const maxBindAddrs = 16

var bindSpec = &spec{
	name: "bind", kind: KindSpecial, flags: MultiArg,
	ops: &specialOps{
		def: func() any { return append([]string(nil), defaultBind...) },
		parseFn: func(_ *Config, _ *entry, args []string, _ bool) (any, string) {
			if len(args) > maxBindAddrs {
				return nil, "Too many bind addresses specified."
			}
			if len(args) == 1 && args[0] == "" {
				args = nil
			}
			return append([]string{}, args...), ""
		},
		formatFn: func(v any) string { return strings.Join(v.([]string), " ") },
		rewriteFn: func(_ *Config, e *entry, name string, st *rewriteState) {
			addrs := e.v.Load().([]string)
			if reflect.DeepEqual(addrs, defaultBind) {
				st.markProcessed(name)
				return
			}
			line := name + ` ""`
			if len(addrs) > 0 {
				line = name + " " + strings.Join(addrs, " ")
			}
			st.rewriteLine(name, line, true)
		},
	},
}

// ----------------------------------------------------------------------------
// replicaof

// replicaOf is the value of the replicaof directive; Host == "" means this
// server is a master.
type replicaOf struct {
	Host string
	Port int
}

var replicaofSpec = &spec{
	name: "replicaof", alias: "slaveof", kind: KindSpecial, flags: Immutable | MultiArg,
	ops: &specialOps{
		def: func() any { return replicaOf{} },
		parseFn: func(_ *Config, _ *entry, args []string, _ bool) (any, string) {
			if len(args) != 2 {
				return nil, "wrong number of arguments"
			}
			if strings.EqualFold(args[0], "no") && strings.EqualFold(args[1], "one") {
				return replicaOf{}, ""
			}
			port, rest, _ := strtoll(args[1], 10)
			port = int64(int32(port)) // strtol result stored in an int
			if port < 0 || port > 65535 || rest != "" {
				return nil, "Invalid master port"
			}
			return replicaOf{Host: args[0], Port: int(port)}, ""
		},
		formatFn: func(v any) string {
			r := v.(replicaOf)
			if r.Host == "" {
				return ""
			}
			return r.Host + " " + strconv.Itoa(r.Port)
		},
		rewriteFn: func(c *Config, e *entry, name string, st *rewriteState) {
			r := e.v.Load().(replicaOf)
			if c.byName["cluster-enabled"].b.Load() || r.Host == "" {
				st.markProcessed(name)
				return
			}
			st.rewriteLine(name, name+" "+r.Host+" "+strconv.Itoa(r.Port), true)
		},
	},
}

// ----------------------------------------------------------------------------
// latency-tracking-info-percentiles

var latencyTrackingInfoPercentilesSpec = &spec{
	name: "latency-tracking-info-percentiles", kind: KindSpecial, flags: MultiArg,
	ops: &specialOps{
		def: func() any { return []float64{50, 99, 99.9} },
		parseFn: func(_ *Config, _ *entry, args []string, _ bool) (any, string) {
			if len(args) == 1 && args[0] == "" {
				args = nil
			}
			out := make([]float64, 0, len(args))
			for _, a := range args {
				f, ok := string2d(a)
				if !ok {
					return nil, "Invalid latency-tracking-info-percentiles parameters"
				}
				if f > 100 || f < 0 {
					return nil, "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
				}
				out = append(out, f)
			}
			return out, ""
		},
		formatFn: func(v any) string {
			var parts []string
			for _, f := range v.([]float64) {
				parts = append(parts, formatPercentile(f))
			}
			return strings.Join(parts, " ")
		},
		rewriteFn: func(_ *Config, e *entry, name string, st *rewriteState) {
			ps := e.v.Load().([]float64)
			line := name + ` ""`
			if len(ps) > 0 {
				line = name
				for _, f := range ps {
					line += " " + formatPercentile(f)
				}
			}
			st.rewriteLine(name, line, true)
		},
	},
}
