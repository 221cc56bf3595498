package acl

import (
	"strings"

	"github.com/corvid-db/corvid/internal/resp"
)

// KeyAccess is a set of key permissions: what a key pattern grants, or what
// a command's access to a key needs.
type KeyAccess uint8

// Key permissions (Redis's ACL_READ_PERMISSION, ACL_WRITE_PERMISSION).
const (
	KeyRead KeyAccess = 1 << iota
	KeyWrite

	// KeyReadWrite is what a plain "~pattern" grants.
	KeyReadWrite = KeyRead | KeyWrite
)

// keyPattern is one key rule: a glob and what it grants.
type keyPattern struct {
	pattern []byte // []byte so the hot path matches without converting
	perm    KeyAccess
}

// ChannelDefault is the acl-pubsub-default setting: the channel permission
// a new selector starts with, and the one "reset" gives back.
type ChannelDefault uint8

// acl-pubsub-default values.
const (
	ResetChannels ChannelDefault = iota // "resetchannels", Redis 7's default
	AllChannels                         // "allchannels", Redis 6's behaviour
)

// A Selector is one set of permissions of a user: the commands it may run,
// the keys and channels those commands may touch. A user may run a command
// when one of its selectors allows it with all its keys and channels. The
// root selector is the one rules outside parentheses change.
type Selector struct {
	allowed []uint64 // bit per CommandID

	// allCommands is Redis's SELECTOR_FLAG_ALLCOMMANDS: set by +@all and
	// cleared by any rule that denies a command, it lets the check skip the
	// bitset. future records that the last +@all/-@all was +@all, which is
	// how the description starts (Redis keeps it as a reserved bit).
	allCommands bool
	future      bool
	allKeys     bool
	allChannels bool

	// firstArgs holds "+cmd|arg" exceptions for commands without
	// subcommands: the command may run when its first argument is one of
	// these (compared case-insensitively). Nil in the common case.
	firstArgs map[CommandID][]string

	keys     []keyPattern
	channels [][]byte

	// rules is the compacted, ordered record of the command rules applied
	// since the last +@all/-@all, each with its sign ("+get", "-@hash").
	rules []string
}

func newSelector(cs *CommandSet, def ChannelDefault) *Selector {
	return &Selector{allowed: make([]uint64, cs.words), allChannels: def == AllChannels}
}

func (s *Selector) clone() *Selector {
	c := *s
	c.allowed = append([]uint64(nil), s.allowed...)
	if s.firstArgs != nil {
		c.firstArgs = make(map[CommandID][]string, len(s.firstArgs))
		for id, args := range s.firstArgs {
			c.firstArgs[id] = append([]string(nil), args...)
		}
	}
	c.keys = make([]keyPattern, len(s.keys))
	for i, k := range s.keys {
		c.keys[i] = keyPattern{append([]byte(nil), k.pattern...), k.perm}
	}
	c.channels = make([][]byte, len(s.channels))
	for i, ch := range s.channels {
		c.channels[i] = append([]byte(nil), ch...)
	}
	c.rules = append([]string(nil), s.rules...)
	return &c
}

// apply changes the selector by one selector rule (Redis's ACLSetSelector).
func (s *Selector) apply(cs *CommandSet, op string) error {
	if op == "" {
		return ErrSyntax // only the user level treats "" as a no-op
	}
	switch {
	case asciiEqualFold(op, "allkeys") || op == "~*":
		s.allKeys = true
		s.keys = s.keys[:0]
	case asciiEqualFold(op, "resetkeys"):
		s.allKeys = false
		s.keys = s.keys[:0]
	case asciiEqualFold(op, "allchannels") || op == "&*":
		s.allChannels = true
		s.channels = s.channels[:0]
	case asciiEqualFold(op, "resetchannels"):
		s.allChannels = false
		s.channels = s.channels[:0]
	case asciiEqualFold(op, "allcommands") || asciiEqualFold(op, "+@all"):
		for i := range s.allowed {
			s.allowed[i] = ^uint64(0)
		}
		if n := len(cs.cmds) % 64; n != 0 {
			s.allowed[len(s.allowed)-1] = 1<<n - 1
		}
		s.allCommands, s.future = true, true
		s.rules = s.rules[:0]
		s.firstArgs = nil
	case asciiEqualFold(op, "nocommands") || asciiEqualFold(op, "-@all"):
		clear(s.allowed)
		s.allCommands, s.future = false, false
		s.rules = s.rules[:0]
		s.firstArgs = nil
	case op[0] == '~' || op[0] == '%':
		return s.addKeyPattern(op)
	case op[0] == '&':
		if s.allChannels {
			return ErrChannelPatternAfterAll
		}
		pat := op[1:]
		if hasSpaces(pat) {
			return ErrSyntax
		}
		found := false
		for _, ch := range s.channels {
			if string(ch) == pat {
				found = true
				break
			}
		}
		if !found {
			s.channels = append(s.channels, []byte(pat))
		}
		s.allChannels = false
	case (op[0] == '+' || op[0] == '-') && len(op) > 1 && op[1] == '@':
		bit := categoryBit(op[2:])
		if bit < 0 {
			return ErrUnknownCommand
		}
		allow := op[0] == '+'
		s.updateRules(lowerString(op[1:]), allow)
		s.changeBits(cs.catBits[bit], allow)
	case op[0] == '+':
		return s.allowCommand(cs, op[1:])
	case op[0] == '-':
		id := cs.Lookup(op[1:])
		if id == NoCommand {
			return ErrUnknownCommand
		}
		s.changeCommand(cs, id, false)
		s.updateRules(cs.fullName(id), false)
	default:
		return ErrSyntax
	}
	return nil
}

// addKeyPattern applies a "~pattern" or "%<R|W|RW>~pattern" rule.
func (s *Selector) addKeyPattern(op string) error {
	if s.allKeys {
		return ErrKeyPatternAfterAll
	}
	perm := KeyReadWrite
	offset := 1
	if op[0] == '%' {
		perm = 0
	flags:
		for ; offset < len(op); offset++ {
			switch c := op[offset]; {
			case (c == 'R' || c == 'r') && perm&KeyRead == 0:
				perm |= KeyRead
			case (c == 'W' || c == 'w') && perm&KeyWrite == 0:
				perm |= KeyWrite
			case c == '~':
				offset++
				break flags
			default:
				return ErrSyntax
			}
		}
		// Redis 7.2 accepts "%~p" (no permission) and then aborts when it
		// describes the user; refuse it instead.
		if perm == 0 {
			return ErrSyntax
		}
	}
	pat := op[offset:]
	if hasSpaces(pat) {
		return ErrSyntax
	}
	for i := range s.keys {
		if string(s.keys[i].pattern) == pat {
			s.keys[i].perm |= perm
			return nil
		}
	}
	s.keys = append(s.keys, keyPattern{[]byte(pat), perm})
	s.allKeys = false
	return nil
}

// allowCommand applies "+cmd", "+cmd|sub" and "+cmd|firstarg".
func (s *Selector) allowCommand(cs *CommandSet, name string) error {
	bar := strings.LastIndexByte(name, '|')
	if bar < 0 {
		id := cs.Lookup(name)
		if id == NoCommand {
			return ErrUnknownCommand
		}
		s.changeCommand(cs, id, true)
		s.updateRules(cs.fullName(id), true)
		return nil
	}
	id := cs.Lookup(name[:bar])
	switch {
	case id == NoCommand:
		return ErrUnknownCommand
	case cs.parent[id] != NoCommand:
		return ErrFirstArgOfSubcommand
	case bar == len(name)-1:
		return ErrSyntax
	}
	if len(cs.subs[id]) > 0 {
		sub := cs.Lookup(name)
		if sub == NoCommand {
			return ErrUnknownCommand
		}
		s.changeCommand(cs, sub, true)
	} else {
		// Redis 7 still honours "+select|0" on commands without
		// subcommands, deprecated: the command may run with that first
		// argument only.
		s.addFirstArg(id, name[bar+1:])
	}
	s.updateRules(lowerString(name), true)
	return nil
}

func (s *Selector) addFirstArg(id CommandID, arg string) {
	for _, a := range s.firstArgs[id] {
		if asciiEqualFold(a, arg) {
			return
		}
	}
	if s.firstArgs == nil {
		s.firstArgs = map[CommandID][]string{}
	}
	s.firstArgs[id] = append(s.firstArgs[id], arg)
}

// changeCommand allows or denies a command and, for a container, all its
// subcommands; either way the command's first-argument exceptions go.
func (s *Selector) changeCommand(cs *CommandSet, id CommandID, allow bool) {
	s.setCommandBit(id, allow)
	delete(s.firstArgs, id)
	for _, sub := range cs.subs[id] {
		s.setCommandBit(sub, allow)
	}
}

func (s *Selector) setCommandBit(id CommandID, allow bool) {
	if allow {
		setBit(s.allowed, id)
	} else {
		clearBit(s.allowed, id)
		s.allCommands = false
	}
}

// changeBits applies a category's bitset.
func (s *Selector) changeBits(bits []uint64, allow bool) {
	changed := false
	for i, w := range bits {
		if w == 0 {
			continue
		}
		changed = true
		if allow {
			s.allowed[i] |= w
		} else {
			s.allowed[i] &^= w
		}
	}
	if changed && !allow {
		s.allCommands = false
	}
	for id := range s.firstArgs {
		if hasBit(bits, id) {
			delete(s.firstArgs, id)
		}
	}
}

// updateRules records a command rule (name lower-cased, without its sign):
// earlier rules on the same name, or on subcommands or first arguments of
// it, are dropped, because the new rule overrides all their effects.
func (s *Selector) updateRules(name string, allow bool) {
	kept := s.rules[:0]
	for _, r := range s.rules {
		body := r[1:]
		if body == name || (len(body) > len(name) && body[len(name)] == '|' && body[:len(name)] == name) {
			continue
		}
		kept = append(kept, r)
	}
	sign := "-"
	if allow {
		sign = "+"
	}
	s.rules = append(kept, sign+name)
}

// Commands describes the command permissions as ACL GETUSER's "commands"
// field shows them: +@all or -@all, then the recorded rules.
func (s *Selector) Commands() string {
	var b strings.Builder
	s.appendCommands(&b)
	return b.String()
}

func (s *Selector) appendCommands(b *strings.Builder) {
	if s.future {
		b.WriteString("+@all")
	} else {
		b.WriteString("-@all")
	}
	for _, r := range s.rules {
		b.WriteByte(' ')
		b.WriteString(r)
	}
}

// Keys describes the key patterns as ACL GETUSER's "keys" field shows them
// ("~*", or the patterns separated by spaces).
func (s *Selector) Keys() string {
	if s.allKeys {
		return "~*"
	}
	var b strings.Builder
	for i, k := range s.keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		appendKeyPattern(&b, k)
	}
	return b.String()
}

// Channels describes the channel patterns as ACL GETUSER's "channels"
// field shows them ("&*", or the patterns separated by spaces).
func (s *Selector) Channels() string {
	if s.allChannels {
		return "&*"
	}
	var b strings.Builder
	for i, ch := range s.channels {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('&')
		b.Write(ch)
	}
	return b.String()
}

func appendKeyPattern(b *strings.Builder, k keyPattern) {
	switch k.perm {
	case KeyRead:
		b.WriteString("%R~")
	case KeyWrite:
		b.WriteString("%W~")
	default:
		b.WriteByte('~')
	}
	b.Write(k.pattern)
}

// Describe returns the selector as rules that rebuild it, the way ACL LIST
// shows it: keys, channels (with "resetchannels" first unless all are
// allowed), then commands.
func (s *Selector) Describe() string {
	var b strings.Builder
	s.appendDescription(&b)
	return b.String()
}

func (s *Selector) appendDescription(b *strings.Builder) {
	if s.allKeys {
		b.WriteString("~* ")
	} else {
		for _, k := range s.keys {
			appendKeyPattern(b, k)
			b.WriteByte(' ')
		}
	}
	if s.allChannels {
		b.WriteString("&* ")
	} else {
		b.WriteString("resetchannels ")
		for _, ch := range s.channels {
			b.WriteByte('&')
			b.Write(ch)
			b.WriteByte(' ')
		}
	}
	s.appendCommands(b)
}

// newSelectorFromOpSet builds a "(rule rule …)" selector. As in Redis the
// text inside the parentheses is split like a command line, and text that
// does not split (unbalanced quotes) yields an empty selector rather than
// an error.
func newSelectorFromOpSet(cs *CommandSet, def ChannelDefault, opset string) (*Selector, error) {
	s := newSelector(cs, def)
	args, err := resp.SplitArgs([]byte(opset[1 : len(opset)-1]))
	if err != nil {
		return s, nil
	}
	for _, a := range args {
		if err := s.apply(cs, string(a)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// SelectorInfo is a selector as ACL GETUSER shows it.
type SelectorInfo struct {
	Commands string
	Keys     string
	Channels string
}

// Info returns the selector's ACL GETUSER fields.
func (s *Selector) Info() SelectorInfo {
	return SelectorInfo{Commands: s.Commands(), Keys: s.Keys(), Channels: s.Channels()}
}
