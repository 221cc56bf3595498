package config

import (
	"github.com/corvid-db/corvid/internal/resp"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
)

// spec is the static, shared description of one directive; the per-Config
// value lives in an entry.
type spec struct {
	name  string
	alias string
	kind  Kind
	flags Flags
	ops   ops
	// fixup, if set, normalizes the stored value after it changed (hz is
	// clamped to 1..500 like Redis's updateHZ).
	fixup func(c *Config, e *entry)
}

// ops implements a value type: parsing (validation included), storage in the
// entry's atomics, CONFIG GET formatting and CONFIG REWRITE output.
type ops interface {
	// defaultValue returns the value New stores.
	defaultValue() any
	// parse validates args and returns the value to store, or a non-empty
	// Redis error reason. It must not modify the entry. loading is true
	// while reading a configuration file.
	parse(c *Config, e *entry, args []string, loading bool) (any, string)
	// load returns the current value.
	load(e *entry) any
	// store publishes v.
	store(e *entry, v any)
	// format renders v as CONFIG GET reports it.
	format(v any) string
	// rewrite emits the directive's lines for CONFIG REWRITE.
	rewrite(c *Config, e *entry, name string, st *rewriteState)
	// changed reports whether setting new over old is a change that must
	// run the OnChange hooks.
	changed(old, new any) bool
}

// entry is one directive's runtime value inside a Config. Depending on the
// kind, the value lives in i (numbers, enums, keyspace-event flags), b
// (bools), s (strings, dir) or v (other special values). All are written
// only under Config.mu and read lock-free.
type entry struct {
	spec *spec
	i    atomic.Int64
	b    atomic.Bool
	s    atomic.Pointer[string]
	v    atomic.Value
}

// ----------------------------------------------------------------------------
// bool

type boolOps struct {
	def      bool
	validate func(bool) string
}

func (o *boolOps) defaultValue() any     { return o.def }
func (o *boolOps) load(e *entry) any     { return e.b.Load() }
func (o *boolOps) store(e *entry, v any) { e.b.Store(v.(bool)) }
func (o *boolOps) changed(a, b any) bool { return a != b }

func (o *boolOps) parse(_ *Config, _ *entry, args []string, _ bool) (any, string) {
	var v bool
	switch strings.ToLower(args[0]) {
	case "yes":
		v = true
	case "no":
	default:
		return nil, "argument must be 'yes' or 'no'"
	}
	if o.validate != nil {
		if err := o.validate(v); err != "" {
			return nil, err
		}
	}
	return v, ""
}

func (o *boolOps) format(v any) string {
	if v.(bool) {
		return "yes"
	}
	return "no"
}

func (o *boolOps) rewrite(_ *Config, e *entry, name string, st *rewriteState) {
	v := e.b.Load()
	st.rewriteLine(name, name+" "+o.format(v), v != o.def)
}

// ----------------------------------------------------------------------------
// numbers

// cType is the C type backing a numeric directive in Redis; it decides
// whether bounds are compared as signed or unsigned.
type cType uint8

const (
	cInt cType = iota
	cUint
	cLong
	cUlong
	cLLong
	cULLong
	cSizeT
	cSSizeT
	cTimeT
	cOffT
)

type numFlag uint8

const (
	numInteger numFlag = 0
	numMemory  numFlag = 1 << iota
	numPercent
	numOctal
)

type numOps struct {
	ctype    cType
	min, max int64 // max == -1 means the unsigned maximum for cULLong
	def      int64
	flags    numFlag
}

// unsigned reports whether Redis checks this directive's bounds as unsigned
// (only unsigned long long, unsigned int and size_t; unsigned long is
// checked as signed in Redis 7.2).
func (o *numOps) unsigned() bool {
	return o.ctype == cULLong || o.ctype == cUint || o.ctype == cSizeT
}

func (o *numOps) defaultValue() any     { return o.def }
func (o *numOps) load(e *entry) any     { return e.i.Load() }
func (o *numOps) store(e *entry, v any) { e.i.Store(v.(int64)) }
func (o *numOps) changed(a, b any) bool { return a != b }

func (o *numOps) parse(_ *Config, _ *entry, args []string, _ bool) (any, string) {
	s := args[0]
	var v int64
	ok := false
	if o.flags&numMemory != 0 {
		var u uint64
		if u, ok = memtoull(s); ok {
			v = int64(u)
		}
	}
	if !ok && o.flags&numPercent != 0 && len(s) > 1 && s[len(s)-1] == '%' {
		if p, pok := string2ll(s[:len(s)-1]); pok && p >= 0 {
			v, ok = -p, true
		}
	}
	if !ok && o.flags&numOctal != 0 {
		if p, rest, overflow := strtoll(s, 8); rest == "" && !overflow {
			v, ok = p, true
		}
	}
	if !ok && o.flags == numInteger {
		v, ok = string2ll(s)
	}
	if !ok {
		switch {
		case o.flags&numMemory != 0 && o.flags&numPercent != 0:
			return nil, "argument must be a memory or percent value"
		case o.flags&numMemory != 0:
			return nil, "argument must be a memory value"
		case o.flags&numOctal != 0:
			return nil, "argument couldn't be parsed as an octal number"
		default:
			return nil, "argument couldn't be parsed into an integer"
		}
	}
	if err := o.checkBounds(v); err != "" {
		return nil, err
	}
	return v, ""
}

func (o *numOps) checkBounds(v int64) string {
	if o.unsigned() {
		u, lo, hi := uint64(v), uint64(o.min), uint64(o.max)
		if u > hi || u < lo {
			if o.flags&numOctal != 0 {
				return "argument must be between " + strconv.FormatUint(lo, 8) + " and " + strconv.FormatUint(hi, 8) + " inclusive"
			}
			return "argument must be between " + strconv.FormatUint(lo, 10) + " and " + strconv.FormatUint(hi, 10) + " inclusive"
		}
		return ""
	}
	if o.flags&numPercent != 0 && v < 0 {
		if v < o.min {
			return "percentage argument must be less or equal to " + strconv.FormatInt(-o.min, 10)
		}
		return ""
	}
	if v > o.max || v < o.min {
		return "argument must be between " + strconv.FormatInt(o.min, 10) + " and " + strconv.FormatInt(o.max, 10) + " inclusive"
	}
	return ""
}

func (o *numOps) format(x any) string {
	v := x.(int64)
	switch {
	case o.flags&numPercent != 0 && v < 0:
		return strconv.FormatInt(-v, 10) + "%"
	case o.flags&numMemory != 0:
		return strconv.FormatUint(uint64(v), 10)
	case o.flags&numOctal != 0:
		return strconv.FormatUint(uint64(v), 8)
	}
	return strconv.FormatInt(v, 10)
}

func (o *numOps) rewrite(_ *Config, e *entry, name string, st *rewriteState) {
	v := e.i.Load()
	force := v != o.def
	var val string
	switch {
	case o.flags&numPercent != 0 && v < 0:
		val = strconv.FormatInt(-v, 10) + "%"
	case o.flags&numMemory != 0 && o.unsigned():
		val = formatMemoryUnsigned(uint64(v))
	case o.flags&numMemory != 0:
		val = formatMemory(v)
	case o.flags&numOctal != 0:
		val = strconv.FormatUint(uint64(v), 8)
	default:
		val = strconv.FormatInt(v, 10)
	}
	st.rewriteLine(name, name+" "+val, force)
}

// ----------------------------------------------------------------------------
// enums

type enumOpt struct {
	name string
	val  int64
}

type enumOps struct {
	opts     []enumOpt
	def      int64
	bitflags bool // MultiArg enum: the value is the OR of the given words
	validate func(int64) string
}

func (o *enumOps) defaultValue() any     { return o.def }
func (o *enumOps) load(e *entry) any     { return e.i.Load() }
func (o *enumOps) store(e *entry, v any) { e.i.Store(v.(int64)) }
func (o *enumOps) changed(a, b any) bool { return a != b }

func (o *enumOps) parse(_ *Config, _ *entry, args []string, _ bool) (any, string) {
	v, ok := o.value(args)
	if !ok {
		var b strings.Builder
		b.WriteString("argument(s) must be one of the following: ")
		for i, e := range o.opts {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(e.name)
		}
		msg := b.String()
		if len(msg) > 255 { // Redis copies it into a 256-byte buffer
			msg = msg[:255]
		}
		return nil, msg
	}
	if o.validate != nil {
		if err := o.validate(v); err != "" {
			return nil, err
		}
	}
	return v, ""
}

func (o *enumOps) value(args []string) (int64, bool) {
	if len(args) == 0 || (!o.bitflags && len(args) != 1) {
		return 0, false
	}
	var v int64
	for _, a := range args {
		matched := false
		for _, e := range o.opts {
			if strings.EqualFold(a, e.name) {
				v |= e.val
				matched = true
			}
		}
		if !matched {
			return 0, false
		}
	}
	return v, true
}

func (o *enumOps) format(x any) string {
	v := x.(int64)
	var names []string
	unmatched := v
	for _, e := range o.opts {
		if v == e.val {
			return e.name
		}
		if o.bitflags && e.val != 0 && e.val == unmatched&e.val {
			names = append(names, e.name)
			unmatched &^= e.val
		}
	}
	if len(names) == 0 || unmatched != 0 {
		return "unknown"
	}
	return strings.Join(names, " ")
}

func (o *enumOps) rewrite(_ *Config, e *entry, name string, st *rewriteState) {
	v := e.i.Load()
	st.rewriteLine(name, name+" "+o.format(v), v != o.def)
}

// ----------------------------------------------------------------------------
// strings

type stringOps struct {
	def string
	// emptyIsNull: the empty string means "unset" (Redis stores NULL),
	// which CONFIG REWRITE expresses by omitting the directive.
	emptyIsNull bool
	validate    func(c *Config, v string) string
}

func (o *stringOps) defaultValue() any { return o.def }
func (o *stringOps) load(e *entry) any { return *e.s.Load() }
func (o *stringOps) store(e *entry, v any) {
	s := v.(string)
	e.s.Store(&s)
}
func (o *stringOps) changed(a, b any) bool { return a != b }
func (o *stringOps) format(v any) string   { return v.(string) }

func (o *stringOps) parse(c *Config, _ *entry, args []string, _ bool) (any, string) {
	if o.validate != nil {
		if err := o.validate(c, args[0]); err != "" {
			return nil, err
		}
	}
	return args[0], ""
}

func (o *stringOps) rewrite(_ *Config, e *entry, name string, st *rewriteState) {
	v := *e.s.Load()
	if o.emptyIsNull && v == "" {
		st.markProcessed(name)
		return
	}
	force := true
	if !o.emptyIsNull && v == o.def {
		force = false
	}
	st.rewriteLine(name, name+" "+resp.Repr(v), force)
}

// ----------------------------------------------------------------------------
// special directives share this adapter: values live in entry.v.

type specialOps struct {
	def       func() any
	parseFn   func(c *Config, e *entry, args []string, loading bool) (any, string)
	formatFn  func(v any) string
	rewriteFn func(c *Config, e *entry, name string, st *rewriteState)
	// onlyRealChanges: CONFIG SET of an identical value is not a change
	// (Redis reports "no change" only for oom-score-adj-values; every
	// other special directive always counts as changed).
	onlyRealChanges bool
}

func (o *specialOps) defaultValue() any     { return o.def() }
func (o *specialOps) load(e *entry) any     { return e.v.Load() }
func (o *specialOps) store(e *entry, v any) { e.v.Store(v) }
func (o *specialOps) format(v any) string   { return o.formatFn(v) }
func (o *specialOps) parse(c *Config, e *entry, args []string, loading bool) (any, string) {
	return o.parseFn(c, e, args, loading)
}
func (o *specialOps) rewrite(c *Config, e *entry, name string, st *rewriteState) {
	o.rewriteFn(c, e, name, st)
}
func (o *specialOps) changed(a, b any) bool {
	if o.onlyRealChanges {
		return !reflect.DeepEqual(a, b)
	}
	return true
}

// ----------------------------------------------------------------------------
// table constructors, mirroring the shape of Redis's create*Config macros.

func boolConf(name, alias string, flags Flags, def bool, validate func(bool) string) *spec {
	return &spec{name: name, alias: alias, kind: KindBool, flags: flags, ops: &boolOps{def: def, validate: validate}}
}

func numConf(name, alias string, flags Flags, ct cType, min, max, def int64, nf numFlag) *spec {
	kind := KindInt
	switch {
	case nf&numMemory != 0 && nf&numPercent != 0:
		kind = KindMemoryPercent
	case nf&numMemory != 0:
		kind = KindMemory
	case nf&numOctal != 0:
		kind = KindOctal
	}
	return &spec{name: name, alias: alias, kind: kind, flags: flags, ops: &numOps{ctype: ct, min: min, max: max, def: def, flags: nf}}
}

func stringConf(name, alias string, flags Flags, emptyIsNull bool, def string, validate func(*Config, string) string) *spec {
	return &spec{name: name, alias: alias, kind: KindString, flags: flags, ops: &stringOps{def: def, emptyIsNull: emptyIsNull, validate: validate}}
}

func enumConf(name, alias string, flags Flags, opts []enumOpt, def int64, validate func(int64) string) *spec {
	return &spec{name: name, alias: alias, kind: KindEnum, flags: flags, ops: &enumOps{opts: opts, def: def, bitflags: flags&MultiArg != 0, validate: validate}}
}

// maxULLong is the unsigned long long maximum as stored in a numOps bound.
const maxULLong = -1
