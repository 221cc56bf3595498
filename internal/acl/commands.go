package acl

import (
	"math"

	"github.com/corvid-db/corvid/internal/command"
)

// CommandID is a command's or subcommand's dense index in a CommandSet: the
// bit that stands for it in a selector's bitset.
type CommandID uint32

// NoCommand is the ID of a command the set does not know. Only a selector
// with all commands allowed lets it run, as Redis treats an ID beyond its
// bitmap.
const NoCommand CommandID = math.MaxUint32

// Channel spec flags (Redis's CMD_CHANNEL_*).
const (
	chanSubscribe uint8 = 1 << iota
	chanUnsubscribe
	chanPublish
	chanPattern
)

// chanSpec says which arguments of a pub/sub command are channels: from
// start, count of them (-1: all the remaining ones).
type chanSpec struct {
	flags        uint8
	start, count int
}

// channelSpecs is Redis's table of commands with channels. Only publish and
// subscribe channels are checked; unsubscribing is always allowed.
var channelSpecs = map[string]chanSpec{
	"subscribe":    {chanSubscribe, 1, -1},
	"ssubscribe":   {chanSubscribe, 1, -1},
	"unsubscribe":  {chanUnsubscribe, 1, -1},
	"sunsubscribe": {chanUnsubscribe, 1, -1},
	"psubscribe":   {chanPattern | chanSubscribe, 1, -1},
	"punsubscribe": {chanPattern | chanUnsubscribe, 1, -1},
	"publish":      {chanPublish, 1, 1},
	"spublish":     {chanPublish, 1, 1},
}

// CommandSet is the command table as the ACL code sees it: every command
// and subcommand with its ID, its categories (implied ones included) and
// the bitsets the rules need. It is immutable once built and safe for
// concurrent use.
type CommandSet struct {
	cmds   []*command.Command
	cats   []uint64
	parent []CommandID   // NoCommand for a top-level command
	subs   [][]CommandID // a container's subcommands
	noAuth []bool        // no_auth commands skip the command test
	chans  []chanSpec

	byName map[string]CommandID // "get", "config|get"
	byPtr  map[*command.Command]CommandID

	// catBits[c] is what +@cat / -@cat changes for category bit c: every
	// command in the category and, for a container in it, all its
	// subcommands (Redis allows or denies a container as a whole).
	catBits [][]uint64
	words   int
}

// NewCommandSet numbers cmds and their subcommands (a command, then its
// subcommands, in the order given) and records their ACL categories as
// categories returns them; a nil categories uses each command's ACL field.
// The server passes its aclCategories so that implied categories (@write
// from the write flag, @slow for non-fast commands…) count, as in Redis.
// A name given twice is a programming error and panics.
func NewCommandSet(cmds []*command.Command, categories func(*command.Command) uint64) *CommandSet {
	if categories == nil {
		categories = func(c *command.Command) uint64 { return c.ACL }
	}
	cs := &CommandSet{
		byName: map[string]CommandID{},
		byPtr:  map[*command.Command]CommandID{},
	}
	add := func(c *command.Command, parent CommandID) CommandID {
		id := CommandID(len(cs.cmds))
		name := lowerString(c.Name)
		if _, dup := cs.byName[name]; dup {
			panic("acl: command given twice: " + name)
		}
		cs.byName[name] = id
		cs.byPtr[c] = id
		cs.cmds = append(cs.cmds, c)
		cs.cats = append(cs.cats, categories(c))
		cs.parent = append(cs.parent, parent)
		cs.subs = append(cs.subs, nil)
		cs.noAuth = append(cs.noAuth, c.Flags&command.NoAuth != 0)
		spec := channelSpecs[name]
		cs.chans = append(cs.chans, spec)
		return id
	}
	for _, c := range cmds {
		id := add(c, NoCommand)
		for _, s := range c.Subcommands {
			sid := add(s, id)
			cs.subs[id] = append(cs.subs[id], sid)
		}
	}
	cs.words = (len(cs.cmds) + 63) / 64
	cs.catBits = make([][]uint64, len(command.CategoryNames))
	for c := range cs.catBits {
		bits := make([]uint64, cs.words)
		for id := range cs.cmds {
			if cs.cats[id]&(1<<c) == 0 {
				continue
			}
			setBit(bits, CommandID(id))
			for _, sid := range cs.subs[id] {
				setBit(bits, sid)
			}
		}
		cs.catBits[c] = bits
	}
	return cs
}

// Len returns the number of commands and subcommands in the set.
func (cs *CommandSet) Len() int { return len(cs.cmds) }

// ID returns cmd's ID, or NoCommand if cmd is not in the set. It is a map
// lookup; a dispatcher that can keep the ID next to the command should.
func (cs *CommandSet) ID(cmd *command.Command) CommandID {
	if id, ok := cs.byPtr[cmd]; ok {
		return id
	}
	return NoCommand
}

// Command returns the command with the given ID, or nil.
func (cs *CommandSet) Command(id CommandID) *command.Command {
	if int(id) >= len(cs.cmds) {
		return nil
	}
	return cs.cmds[id]
}

// Lookup finds a command by its full name ("get", "config|get"),
// case-insensitively, the way ACL rules name commands; NoCommand if there
// is none. A name with more than one '|' names nothing.
func (cs *CommandSet) Lookup(name string) CommandID {
	if id, ok := cs.byName[name]; ok {
		return id
	}
	if id, ok := cs.byName[lowerString(name)]; ok {
		return id
	}
	return NoCommand
}

// Categories returns the names of all ACL categories, in Redis's order
// (ACL CAT without an argument).
func Categories() []string {
	return append([]string(nil), command.CategoryNames...)
}

// categoryBit returns the bit index of the named category (matched
// case-insensitively, as Redis's strcasecmp does), or -1.
func categoryBit(name string) int {
	for i, n := range command.CategoryNames {
		if asciiEqualFold(name, n) {
			return i
		}
	}
	return -1
}

// CategoryCommands returns the full names of the commands and subcommands
// in the named category, in ID order (ACL CAT <category>); ok is false when
// there is no such category (reply with UnknownCategoryError).
func (cs *CommandSet) CategoryCommands(category string) (names []string, ok bool) {
	bit := categoryBit(category)
	if bit < 0 {
		return nil, false
	}
	names = []string{}
	for id, c := range cs.cmds {
		if cs.cats[id]&(1<<bit) != 0 {
			names = append(names, lowerString(c.Name))
		}
	}
	return names, true
}

// fullName returns the lower-case full name of id ("config|get").
func (cs *CommandSet) fullName(id CommandID) string {
	return lowerString(cs.cmds[id].Name)
}

func setBit(bits []uint64, id CommandID)   { bits[id/64] |= 1 << (id % 64) }
func clearBit(bits []uint64, id CommandID) { bits[id/64] &^= 1 << (id % 64) }

func hasBit(bits []uint64, id CommandID) bool {
	w := int(id / 64)
	return w < len(bits) && bits[w]&(1<<(id%64)) != 0
}

// asciiEqualFold is C's strcasecmp == 0 in the "C" locale: only ASCII
// letters fold (strings.EqualFold would also fold Unicode, which Redis
// does not). It takes arguments and rule strings alike.
func asciiEqualFold[A, B ~string | ~[]byte](a A, b B) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

// lowerString lower-cases ASCII letters only, as sdstolower does.
func lowerString(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerASCII(b[j])
			}
			return string(b)
		}
	}
	return s
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasSpaces reports whether s contains a C isspace byte or a NUL, which
// Redis refuses in user names and patterns (ACLStringHasSpaces) so that
// descriptions split back into the same rules.
func hasSpaces(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\v', '\f', '\r', 0:
			return true
		}
	}
	return false
}
