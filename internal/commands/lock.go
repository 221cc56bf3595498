package commands

import (
	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/keyspace"
)

// Errors only the compare-and-delete commands reply with.
const (
	// errDigestLen is Redis 8.4's reply to an IFDEQ/IFDNE digest that is not
	// 16 characters long (only the length is checked, as Redis does).
	errDigestLen = "ERR must be exactly 16 hexadecimal characters"
)

// lockCommands are the single-key compare-and-delete commands that make a
// lock release safe without a script: Valkey 9's DELIFEQ and Redis 8.4's
// DELEX and DIGEST (whose digests SET's IFDEQ/IFDNE also take).
func lockCommands() []*command.Command {
	const (
		read  = command.CatRead
		write = command.CatWrite
		str   = command.CatString
		fast  = command.CatFast
	)
	one := func(flags ...string) []command.KeySpec {
		return []command.KeySpec{{Flags: flags, BeginIndex: 1, LastKey: 0, Step: 1}}
	}
	return []*command.Command{
		{Name: "delifeq", Arity: 3, Flags: command.Write | command.Fast, ACL: write | str | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "delete"),
			Group: "string", Since: "9.0.0", Summary: "Deletes a key only if it holds the given string value.", Handler: delifeqCommand},
		{Name: "delex", Arity: -2, Flags: command.Write | command.Fast, ACL: write | str | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "delete", "variable_flags"),
			Group: "string", Since: "8.4.0", Summary: "Deletes a key, optionally only if its value or its digest equals or differs from a given one.", Handler: delexCommand},
		{Name: "digest", Arity: 2, Flags: command.ReadOnly | command.Fast, ACL: read | str | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO", "access"),
			Group: "string", Since: "8.4.0", Summary: "Returns the XXH3 digest of a string value as hexadecimal.", Handler: digestCommand},
	}
}

// lockValueEqual compares a string entry's value with v.
func lockValueEqual(e keyspace.Entry, v []byte) bool {
	var buf [24]byte
	return string(strBytes(e, buf[:0])) == string(v)
}

// lockDigestEqual compares a string entry's digest with a client's digest,
// case-insensitively as Redis does (strcasecmp).
func lockDigestEqual(e keyspace.Entry, d []byte) bool {
	var buf [24]byte
	var hex [16]byte
	h := strDigest(hex[:0], strBytes(e, buf[:0]))
	if len(d) != len(h) {
		return false
	}
	for i := range h {
		x, y := d[i], h[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// lockValidDigest checks an IFDEQ/IFDNE digest argument, replying with
// Redis's error if it is not 16 characters.
func lockValidDigest(c *command.Ctx, d []byte) bool {
	if len(d) != 16 {
		c.Error(errDigestLen)
		return false
	}
	return true
}

func delifeqCommand(c *command.Ctx) {
	key := c.Args[1]
	e, ok := c.DB.Lookup(key)
	if !ok {
		c.W.Int(0)
		return
	}
	if e.Type() != keyspace.TypeString {
		c.Error(command.ErrWrongType)
		return
	}
	if !lockValueEqual(e, c.Args[2]) {
		c.W.Int(0)
		return
	}
	c.DB.Delete(key)
	c.Dirty++
	c.Notify(command.NotifyGeneric, "del", key)
	c.W.Int(1)
}

// delexCommand follows Redis 8.4: without a condition it is DEL of one key
// (of any type); with one, a missing key answers 0 before the condition is
// even read, a non-string is WRONGTYPE, and the condition then decides.
func delexCommand(c *command.Ctx) {
	key := c.Args[1]
	switch len(c.Args) {
	case 2:
		if c.DB.Delete(key) {
			c.Dirty++
			c.Notify(command.NotifyGeneric, "del", key)
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
		return
	case 4:
	default:
		c.Error(command.ErrWrongArgs(c.Cmd.Name))
		return
	}
	e, ok := c.DB.Lookup(key)
	if !ok {
		c.W.Int(0)
		return
	}
	if e.Type() != keyspace.TypeString {
		c.Error(command.ErrWrongType)
		return
	}
	cond, arg := c.Args[2], c.Args[3]
	var del bool
	switch {
	case strKW(cond, "IFEQ"):
		del = lockValueEqual(e, arg)
	case strKW(cond, "IFNE"):
		del = !lockValueEqual(e, arg)
	case strKW(cond, "IFDEQ"):
		if !lockValidDigest(c, arg) {
			return
		}
		del = lockDigestEqual(e, arg)
	case strKW(cond, "IFDNE"):
		if !lockValidDigest(c, arg) {
			return
		}
		del = !lockDigestEqual(e, arg)
	default:
		c.Error(command.ErrSyntax)
		return
	}
	if !del {
		c.W.Int(0)
		return
	}
	c.DB.Delete(key)
	c.Dirty++
	c.Notify(command.NotifyGeneric, "del", key)
	c.W.Int(1)
}

func digestCommand(c *command.Ctx) {
	e, ok := c.DB.Lookup(c.Args[1])
	if !ok {
		c.W.Null()
		return
	}
	if e.Type() != keyspace.TypeString {
		c.Error(command.ErrWrongType)
		return
	}
	var buf [24]byte
	var hex [16]byte
	c.W.Bulk(strDigest(hex[:0], strBytes(e, buf[:0])))
}
