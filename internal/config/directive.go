package config

import "strings"

// Kind is the value type of a configuration directive.
type Kind uint8

// The value types of configuration directives.
const (
	// KindBool is a yes/no value.
	KindBool Kind = iota
	// KindInt is a plain decimal integer within [Min, Max].
	KindInt
	// KindMemory is a byte count that accepts the units b, k, kb, m, mb, g
	// and gb (case-insensitive; k/m/g are powers of 1000, kb/mb/gb of 1024).
	KindMemory
	// KindMemoryPercent is a memory value or a percentage such as "10%"
	// (maxmemory-clients). Percentages are stored as negative numbers.
	KindMemoryPercent
	// KindOctal is an integer written in octal (unixsocketperm).
	KindOctal
	// KindEnum is one of a fixed set of words (or, for MultiArg enums, a
	// space-separated combination of them).
	KindEnum
	// KindString is an arbitrary string.
	KindString
	// KindSpecial is a directive with its own syntax (save, bind, dir, ...).
	KindSpecial
)

// String returns the kind's lower-case name, e.g. "memory".
func (k Kind) String() string {
	switch k {
	case KindBool:
		return "bool"
	case KindInt:
		return "int"
	case KindMemory:
		return "memory"
	case KindMemoryPercent:
		return "memory-or-percent"
	case KindOctal:
		return "octal"
	case KindEnum:
		return "enum"
	case KindString:
		return "string"
	case KindSpecial:
		return "special"
	}
	return "unknown"
}

// Flags describe how a directive may be changed and reported.
type Flags uint16

// Directive flags (Redis's *_CONFIG flags of config.c).
const (
	// Immutable directives can only be set at startup; CONFIG SET fails
	// with "can't set immutable config".
	Immutable Flags = 1 << iota
	// Protected directives can be changed by CONFIG SET only when
	// enable-protected-configs allows it (yes, or local for local clients).
	Protected
	// Sensitive directives hold secrets: their CONFIG SET arguments must
	// be redacted from SLOWLOG, MONITOR and logs.
	Sensitive
	// Hidden directives are only returned by CONFIG GET when named
	// exactly, never through a glob pattern.
	Hidden
	// DenyLoading directives cannot be changed while the dataset loads
	// (CONFIG SET replies with the LOADING error).
	DenyLoading
	// Debug directives are reported by DEBUG-style config dumps.
	Debug
	// Volatile directives count as changed on every CONFIG SET even if the
	// value is the same (e.g. TLS file names whose content may change).
	Volatile
	// MultiArg directives take several arguments (save, bind, ...).
	MultiArg
)

// String returns the flags as a space-separated list, e.g. "immutable
// multi-arg".
func (f Flags) String() string {
	names := []string{"immutable", "protected", "sensitive", "hidden", "deny-loading", "debug", "volatile", "multi-arg"}
	var parts []string
	for i, n := range names {
		if f&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, " ")
}

// Directive describes one configuration directive. The list of all of them,
// in a stable order, is returned by Directives; it is meant for generating
// documentation and for introspection.
type Directive struct {
	// Name is the canonical (lower-case) name.
	Name string
	// Alias is the alternative name accepted everywhere the canonical one
	// is (e.g. slaveof for replicaof), or "".
	Alias string
	// Kind is the value type.
	Kind Kind
	// Flags are the mutability and reporting flags.
	Flags Flags
	// Min and Max bound numeric kinds (inclusive). For directives backed by
	// an unsigned C type the bounds are compared as unsigned, so e.g. -1
	// is rejected as out of range rather than as below Min.
	Min int64
	// Max is the inclusive upper bound of numeric kinds.
	Max uint64
	// Unsigned reports that the bounds are compared as unsigned numbers.
	Unsigned bool
	// EnumValues lists the accepted words of KindEnum directives, in the
	// order Redis lists them in error messages.
	EnumValues []string
	// Default is the value CONFIG GET reports when the directive has not
	// been changed (for dir: "./", which CONFIG GET reports as the absolute
	// path of the working directory).
	Default string
	// Implemented reports whether Corvid acts on the directive. Directives
	// that are not implemented are still accepted, stored, reported and
	// rewritten, for compatibility with existing configuration files.
	Implemented bool
}

// Directives returns every directive Corvid knows (the full Redis 7.2.4
// table), in a stable order. The returned slice is a fresh copy.
func Directives() []Directive {
	out := make([]Directive, len(specs))
	for i, s := range specs {
		out[i] = s.directive()
	}
	return out
}

// Lookup returns the directive named name (canonical name or alias,
// case-insensitive).
func Lookup(name string) (Directive, bool) {
	r, ok := specByName[strings.ToLower(name)]
	if !ok {
		return Directive{}, false
	}
	return r.spec.directive(), true
}

func (s *spec) directive() Directive {
	d := Directive{
		Name:        s.name,
		Alias:       s.alias,
		Kind:        s.kind,
		Flags:       s.flags,
		Default:     s.ops.format(s.ops.defaultValue()),
		Implemented: implementedSet[s.name],
	}
	switch o := s.ops.(type) {
	case *numOps:
		d.Min, d.Max, d.Unsigned = o.min, uint64(o.max), o.unsigned()
	case *enumOps:
		for _, e := range o.opts {
			d.EnumValues = append(d.EnumValues, e.name)
		}
	}
	if s.name == "dir" {
		d.Default = "./"
	}
	return d
}
