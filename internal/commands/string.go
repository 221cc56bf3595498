package commands

import (
	"math"
	"strconv"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// Errors only the string commands reply with.
const (
	errDecrOverflow = "ERR decrement would overflow"
	errLCSWrongType = "ERR The specified keys must contain string values"
	errLCSLenAndIdx = "ERR If you want both the length and indexes, please just use IDX."
	errLCSTooLong   = "ERR String too long for LCS"
	errLCSMemory    = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
)

// stringCommands are Redis's string group, plus the compare-and-delete
// commands of Redis 8.4 and Valkey 9 (lock.go).
func stringCommands() []*command.Command {
	const (
		read  = command.CatRead
		write = command.CatWrite
		str   = command.CatString
		fast  = command.CatFast
		slow  = command.CatSlow
	)
	one := func(flags ...string) []command.KeySpec {
		return []command.KeySpec{{Flags: flags, BeginIndex: 1, LastKey: 0, Step: 1}}
	}
	// noted adds a note to a single spec, as Redis explains the flags of
	// some (COMMAND INFO shows it).
	noted := func(note string, specs []command.KeySpec) []command.KeySpec {
		specs[0].Notes = note
		return specs
	}
	cmds := []*command.Command{
		{Name: "get", Arity: 2, Flags: command.ReadOnly | command.Fast, ACL: read | str | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO", "access"),
			Group: "string", Since: "1.0.0", Summary: "Returns the string value of a key.", Handler: getCommand},
		{Name: "set", Arity: -3, Flags: command.Write | command.DenyOOM, ACL: write | str | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: noted("RW and ACCESS for the value GET may return", one("RW", "access", "update", "variable_flags")), KeyFlags: setKeyFlags,
			Group: "string", Since: "1.0.0", Summary: "Stores a string value under a key, optionally only under a condition and with an expiry, and can return the previous value.", Handler: setCommand},
		{Name: "setnx", Arity: 3, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | str | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("OW", "insert"),
			Group: "string", Since: "1.0.0", Summary: "Stores a string value only when the key does not exist yet.", Handler: setnxCommand},
		{Name: "setex", Arity: 4, Flags: command.Write | command.DenyOOM, ACL: write | str | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("OW", "update"),
			Group: "string", Since: "2.0.0", Summary: "Stores a string value with a time to live in seconds.", Handler: setexCommand},
		{Name: "psetex", Arity: 4, Flags: command.Write | command.DenyOOM, ACL: write | str | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("OW", "update"),
			Group: "string", Since: "2.6.0", Summary: "Stores a string value with a time to live in milliseconds.", Handler: psetexCommand},
		{Name: "getex", Arity: -2, Flags: command.Write | command.Fast, ACL: write | str | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: noted("RW and UPDATE: the time to live may change", one("RW", "access", "update")),
			Group: "string", Since: "6.2.0", Summary: "Returns a string value and changes or removes its expiry.", Handler: getexCommand},
		{Name: "getdel", Arity: 2, Flags: command.Write | command.Fast, ACL: write | str | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "access", "delete"),
			Group: "string", Since: "6.2.0", Summary: "Returns a string value and deletes its key.", Handler: getdelCommand},
		{Name: "getset", Arity: 3, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | str | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "access", "update"),
			Group: "string", Since: "1.0.0", Summary: "Replaces a string value and returns the previous one.", Handler: getsetCommand},
		{Name: "mget", Arity: -2, Flags: command.ReadOnly | command.Fast, ACL: read | str | fast,
			FirstKey: 1, LastKey: -1, Step: 1,
			KeySpecs: []command.KeySpec{{Flags: []string{"RO", "access"}, BeginIndex: 1, LastKey: -1, Step: 1}},
			Group:    "string", Since: "1.0.0", Summary: "Returns the string values of several keys.",
			Tips: []string{"request_policy:multi_shard"}, Handler: mgetCommand},
		{Name: "mset", Arity: -3, Flags: command.Write | command.DenyOOM, ACL: write | str | slow,
			FirstKey: 1, LastKey: -1, Step: 2,
			KeySpecs: []command.KeySpec{{Flags: []string{"OW", "update"}, BeginIndex: 1, LastKey: -1, Step: 2}},
			Group:    "string", Since: "1.0.1", Summary: "Stores several string values at once.",
			Tips: []string{"request_policy:multi_shard", "response_policy:all_succeeded"}, Handler: msetCommand},
		{Name: "msetnx", Arity: -3, Flags: command.Write | command.DenyOOM, ACL: write | str | slow,
			FirstKey: 1, LastKey: -1, Step: 2,
			KeySpecs: []command.KeySpec{{Flags: []string{"OW", "insert"}, BeginIndex: 1, LastKey: -1, Step: 2}},
			Group:    "string", Since: "1.0.1", Summary: "Stores several string values only if none of the keys exists.",
			Tips: []string{"request_policy:multi_shard", "response_policy:agg_min"}, Handler: msetnxCommand},
		{Name: "append", Arity: 3, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | str | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "insert"),
			Group: "string", Since: "2.0.0", Summary: "Appends to a string value, creating the key if needed.", Handler: appendCommand},
		{Name: "strlen", Arity: 2, Flags: command.ReadOnly | command.Fast, ACL: read | str | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO"),
			Group: "string", Since: "2.2.0", Summary: "Returns the length of a string value.", Handler: strlenCommand},
		{Name: "getrange", Arity: 4, Flags: command.ReadOnly, ACL: read | str | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO", "access"),
			Group: "string", Since: "2.4.0", Summary: "Returns a byte range of a string value.", Handler: getrangeCommand},
		{Name: "substr", Arity: 4, Flags: command.ReadOnly, ACL: read | str | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO", "access"),
			Group: "string", Since: "1.0.0", Summary: "Returns a byte range of a string value (the old name of GETRANGE).", Handler: getrangeCommand},
		{Name: "setrange", Arity: 4, Flags: command.Write | command.DenyOOM, ACL: write | str | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "update"),
			Group: "string", Since: "2.2.0", Summary: "Overwrites part of a string value from an offset, zero-padding it if needed.", Handler: setrangeCommand},
		{Name: "incr", Arity: 2, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | str | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "access", "update"),
			Group: "string", Since: "1.0.0", Summary: "Adds one to an integer value (a missing key counts as 0).", Handler: incrCommand},
		{Name: "decr", Arity: 2, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | str | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "access", "update"),
			Group: "string", Since: "1.0.0", Summary: "Subtracts one from an integer value (a missing key counts as 0).", Handler: decrCommand},
		{Name: "incrby", Arity: 3, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | str | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "access", "update"),
			Group: "string", Since: "1.0.0", Summary: "Adds an integer to an integer value (a missing key counts as 0).", Handler: incrbyCommand},
		{Name: "decrby", Arity: 3, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | str | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "access", "update"),
			Group: "string", Since: "1.0.0", Summary: "Subtracts an integer from an integer value (a missing key counts as 0).", Handler: decrbyCommand},
		{Name: "incrbyfloat", Arity: 3, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | str | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "access", "update"),
			Group: "string", Since: "2.6.0", Summary: "Adds a floating point number to a numeric value (a missing key counts as 0).", Handler: incrbyfloatCommand},
		{Name: "lcs", Arity: -3, Flags: command.ReadOnly, ACL: read | str | slow,
			FirstKey: 1, LastKey: 2, Step: 1,
			KeySpecs: []command.KeySpec{{Flags: []string{"RO", "access"}, BeginIndex: 1, LastKey: 1, Step: 1}},
			Group:    "string", Since: "7.0.0", Summary: "Finds the longest common subsequence of two string values.", Handler: lcsCommand},
	}
	return append(cmds, lockCommands()...)
}

// SET option flags, as Redis's OBJ_SET_* / OBJ_EX… bits.
const (
	soNX uint32 = 1 << iota
	soXX
	soEX
	soPX
	soKeepTTL
	soGet
	soEXAT
	soPXAT
	soPersist
	soIfEq
	soIfNe
	soIfDEq
	soIfDNe

	soIfAny   = soIfEq | soIfNe | soIfDEq | soIfDNe
	soCond    = soNX | soXX | soIfAny
	soSeconds = soEX | soEXAT
)

// strOpts is the result of parsing SET/GETEX options.
type strOpts struct {
	flags  uint32
	expire []byte // the EX/PX/EXAT/PXAT argument, nil if none
	match  []byte // the IFEQ/IFNE value or IFDEQ/IFDNE digest
}

// strParseOpts parses SET (isSet) or GETEX options from args[from:] with
// Redis's rules (parseExtendedStringArgumentsOrReply): each expiry form
// excludes the others, KEEPTTL and PERSIST exclude every expiry, NX and XX
// exclude each other, and — as Redis 8.4 documents SET's condition as one
// of NX | XX | IFEQ | IFNE | IFDEQ | IFDNE — an IF* condition excludes
// every other condition. Anything else is a syntax error.
func strParseOpts(c *command.Ctx, from int, isSet bool) (strOpts, bool) {
	var o strOpts
	args := c.Args
	for j := from; j < len(args); j++ {
		a := args[j]
		var next []byte
		if j+1 < len(args) {
			next = args[j+1]
		}
		f := o.flags
		switch {
		case isSet && strKW(a, "NX") && f&(soXX|soIfAny) == 0:
			o.flags |= soNX
		case isSet && strKW(a, "XX") && f&(soNX|soIfAny) == 0:
			o.flags |= soXX
		case isSet && strKW(a, "GET"):
			o.flags |= soGet
		case isSet && strKW(a, "KEEPTTL") && f&(soPersist|soEX|soEXAT|soPX|soPXAT) == 0:
			o.flags |= soKeepTTL
		case !isSet && strKW(a, "PERSIST") && f&(soEX|soEXAT|soPX|soPXAT|soKeepTTL) == 0:
			o.flags |= soPersist
		case strKW(a, "EX") && f&(soKeepTTL|soPersist|soEXAT|soPX|soPXAT) == 0 && next != nil:
			o.flags |= soEX
			o.expire = next
			j++
		case strKW(a, "PX") && f&(soKeepTTL|soPersist|soEX|soEXAT|soPXAT) == 0 && next != nil:
			o.flags |= soPX
			o.expire = next
			j++
		case strKW(a, "EXAT") && f&(soKeepTTL|soPersist|soEX|soPX|soPXAT) == 0 && next != nil:
			o.flags |= soEXAT
			o.expire = next
			j++
		case strKW(a, "PXAT") && f&(soKeepTTL|soPersist|soEX|soEXAT|soPX) == 0 && next != nil:
			o.flags |= soPXAT
			o.expire = next
			j++
		case isSet && next != nil && f&soCond == 0 && len(a) >= 4 && a[0]|0x20 == 'i':
			switch {
			case strKW(a, "IFEQ"):
				o.flags |= soIfEq
			case strKW(a, "IFNE"):
				o.flags |= soIfNe
			case strKW(a, "IFDEQ"):
				o.flags |= soIfDEq
			case strKW(a, "IFDNE"):
				o.flags |= soIfDNe
			default:
				c.Error(command.ErrSyntax)
				return o, false
			}
			o.match = next
			j++
		default:
			c.Error(command.ErrSyntax)
			return o, false
		}
	}
	return o, true
}

// strExpireAt turns an expiry argument into absolute Unix ms the way
// getExpireMillisecondsOrReply does: a non-integer is "not an integer", a
// value ≤ 0, a seconds value whose milliseconds overflow, or a relative
// time whose sum with now overflows is an invalid expire time.
func strExpireAt(c *command.Ctx, flags uint32, arg []byte) (int64, bool) {
	ms, ok := resp.ParseInt(arg)
	if !ok {
		c.Error(command.ErrNotInteger)
		return 0, false
	}
	if ms <= 0 || (flags&soSeconds != 0 && ms > math.MaxInt64/1000) {
		c.Error(command.ErrInvalidExpire(c.Cmd.Name))
		return 0, false
	}
	if flags&soSeconds != 0 {
		ms *= 1000
	}
	if flags&(soEX|soPX) != 0 {
		ms += c.DB.Now() // wraps negative on overflow, as in C
	}
	if ms <= 0 {
		c.Error(command.ErrInvalidExpire(c.Cmd.Name))
		return 0, false
	}
	return ms, true
}

func getCommand(c *command.Ctx) {
	e, ok := c.DB.LookupRead(c.Args[1])
	if !ok {
		c.W.Null()
		return
	}
	if e.Type() != keyspace.TypeString {
		c.Error(command.ErrWrongType)
		return
	}
	strWriteValue(c, e)
}

func setCommand(c *command.Ctx) {
	if len(c.Args) == 3 {
		// The benchmark's SET: no options, nothing to look up first.
		setTouch(c, c.Args[1])
		strStore(c.DB, c.Args[1], c.Args[2], 0)
		c.Dirty++
		c.Notify(command.NotifyString, "set", c.Args[1])
		c.OK()
		return
	}
	o, ok := strParseOpts(c, 3, true)
	if !ok {
		return
	}
	setGeneric(c, o, c.Args[1], c.Args[2], false)
}

// setTouch counts SET as an access under an LFU policy: Redis's SET looks
// the key up, and the overwrite keeps the counter that lookup raised.
func setTouch(c *command.Ctx, key []byte) {
	if c.DB.Store().LFUPolicy() {
		c.DB.Lookup(key)
	}
}

func setnxCommand(c *command.Ctx) {
	setGeneric(c, strOpts{flags: soNX}, c.Args[1], c.Args[2], true)
}

func setexCommand(c *command.Ctx) {
	setGeneric(c, strOpts{flags: soEX, expire: c.Args[2]}, c.Args[1], c.Args[3], false)
}

func psetexCommand(c *command.Ctx) {
	setGeneric(c, strOpts{flags: soPX, expire: c.Args[2]}, c.Args[1], c.Args[3], false)
}

// setGeneric is Redis's setGenericCommand extended with Redis 8.4's IF*
// conditions. intReply makes it answer :1/:0 as SETNX does instead of
// +OK/null. The order of checks is Redis's: the expiry is validated first,
// then GET (which fails on a non-string before anything changes), then the
// condition.
func setGeneric(c *command.Ctx, o strOpts, key, val []byte, intReply bool) {
	expireAt := int64(0)
	if o.expire != nil {
		var ok bool
		if expireAt, ok = strExpireAt(c, o.flags, o.expire); !ok {
			return
		}
	} else if o.flags&soKeepTTL != 0 {
		expireAt = keyspace.KeepTTL
	}
	needEntry := o.flags&(soGet|soCond) != 0
	var e keyspace.Entry
	found := false
	if needEntry {
		e, found = c.DB.LookupRead(key)
	} else {
		setTouch(c, key)
	}
	if found && o.flags&(soGet|soIfAny) != 0 && e.Type() != keyspace.TypeString {
		c.Error(command.ErrWrongType)
		return
	}
	if found && o.flags&(soIfDEq|soIfDNe) != 0 && !lockValidDigest(c, o.match) {
		return
	}
	if o.flags&soGet != 0 {
		if found {
			strWriteValue(c, e)
		} else {
			c.W.Null()
		}
	}
	if !setConditionHolds(o, e, found) {
		if o.flags&soGet == 0 {
			if intReply {
				c.W.Int(0)
			} else {
				c.W.Null()
			}
		}
		return
	}
	// An EXAT/PXAT already in the past stores a key that is expired at
	// once: the next access reclaims it, as in Redis 7.2.
	strStore(c.DB, key, val, expireAt)
	c.Dirty++
	c.Notify(command.NotifyString, "set", key)
	hasExpire := expireAt != 0 && expireAt != keyspace.KeepTTL
	if hasExpire {
		c.Notify(command.NotifyGeneric, "expire", key)
	}
	if c.Propagating {
		switch {
		case hasExpire && o.flags&soPXAT == 0:
			// Replicas get the absolute time, whatever form was used.
			c.PropagateAs(argSET, key, val, argPXAT, strconv.AppendInt(nil, expireAt, 10))
		case o.flags&soGet != 0 && !hasExpire:
			c.PropagateAs(withoutGet(c.Args)...)
		}
	}
	if o.flags&soGet == 0 {
		if intReply {
			c.W.Int(1)
		} else {
			c.OK()
		}
	}
}

// setConditionHolds evaluates SET's NX/XX/IF* condition against the
// current entry (found reports whether it exists; it is a string when an
// IF* condition is given, checked by the caller).
func setConditionHolds(o strOpts, e keyspace.Entry, found bool) bool {
	switch {
	case o.flags&soNX != 0:
		return !found
	case o.flags&soXX != 0:
		return found
	case o.flags&soIfEq != 0:
		return found && lockValueEqual(e, o.match)
	case o.flags&soIfNe != 0:
		return !found || !lockValueEqual(e, o.match)
	case o.flags&soIfDEq != 0:
		return found && lockDigestEqual(e, o.match)
	case o.flags&soIfDNe != 0:
		return !found || !lockDigestEqual(e, o.match)
	}
	return true
}

func getexCommand(c *command.Ctx) {
	o, ok := strParseOpts(c, 2, false)
	if !ok {
		return
	}
	key := c.Args[1]
	e, found := c.DB.LookupRead(key)
	if !found {
		c.W.Null()
		return
	}
	if e.Type() != keyspace.TypeString {
		c.Error(command.ErrWrongType)
		return
	}
	var at int64
	if o.expire != nil {
		if at, ok = strExpireAt(c, o.flags, o.expire); !ok {
			return
		}
	}
	strWriteValue(c, e)
	switch {
	case o.flags&(soEXAT|soPXAT) != 0 && at <= c.DB.Now():
		// An absolute time already passed: Redis deletes the key now.
		c.DB.Delete(key)
		c.Dirty++
		c.Notify(command.NotifyGeneric, "del", key)
		if c.Propagating {
			c.PropagateAs(deletionName(c, "lazyfree-lazy-expire"), key)
		}
	case o.expire != nil:
		c.DB.SetExpire(key, at)
		c.Dirty++
		c.Notify(command.NotifyGeneric, "expire", key)
		c.PropagateAs(argPEXPIREAT, key, strconv.AppendInt(nil, at, 10))
	case o.flags&soPersist != 0:
		if e.ExpireAt() != 0 {
			c.DB.SetExpire(key, 0)
			c.Dirty++
			c.Notify(command.NotifyGeneric, "persist", key)
			c.PropagateAs(argPERSIST, key)
		}
	}
}

// Command names and options that propagation rewrites produce.
var (
	argSET       = []byte("SET")
	argDEL       = []byte("DEL")
	argPXAT      = []byte("PXAT")
	argKEEPTTL   = []byte("KEEPTTL")
	argPEXPIREAT = []byte("PEXPIREAT")
	argPERSIST   = []byte("PERSIST")
)

var argUNLINK = []byte("UNLINK")

// deletionName is the command a deletion propagates as: UNLINK when the
// lazyfree setting named governs it and is on, DEL otherwise (Redis's
// propagateDeletion).
func deletionName(c *command.Ctx, lazyfreeSetting string) []byte {
	if cfg := configOf(c); cfg != nil && cfg.Bool(lazyfreeSetting) {
		return argUNLINK
	}
	return argDEL
}

// withoutGet is SET's arguments without its GET options: a replica has
// nobody to answer.
func withoutGet(args [][]byte) [][]byte {
	out := make([][]byte, 0, len(args))
	for i, a := range args {
		if i >= 3 && len(a) == 3 && (a[0]|0x20) == 'g' && (a[1]|0x20) == 'e' && (a[2]|0x20) == 't' {
			continue
		}
		out = append(out, a)
	}
	return out
}

func getdelCommand(c *command.Ctx) {
	key := c.Args[1]
	e, ok := c.DB.LookupRead(key)
	if !ok {
		c.W.Null()
		return
	}
	if e.Type() != keyspace.TypeString {
		c.Error(command.ErrWrongType)
		return
	}
	strWriteValue(c, e)
	c.DB.Delete(key)
	c.Dirty++
	c.Notify(command.NotifyGeneric, "del", key)
	c.PropagateAs(argDEL, key)
}

func getsetCommand(c *command.Ctx) {
	key := c.Args[1]
	e, ok := c.DB.LookupRead(key)
	if ok {
		if e.Type() != keyspace.TypeString {
			c.Error(command.ErrWrongType)
			return
		}
		strWriteValue(c, e)
	} else {
		c.W.Null()
	}
	strStore(c.DB, key, c.Args[2], 0)
	c.Dirty++
	c.Notify(command.NotifyString, "set", key)
	c.PropagateAs(argSET, key, c.Args[2])
}

func mgetCommand(c *command.Ctx) {
	c.W.ArrayLen(len(c.Args) - 1)
	for _, key := range c.Args[1:] {
		e, ok := c.DB.LookupRead(key)
		if !ok || e.Type() != keyspace.TypeString {
			c.W.Null()
			continue
		}
		strWriteValue(c, e)
	}
}

func msetCommand(c *command.Ctx) {
	if len(c.Args)%2 == 0 {
		c.Error(command.ErrWrongArgs(c.Cmd.Name))
		return
	}
	for j := 1; j < len(c.Args); j += 2 {
		strStore(c.DB, c.Args[j], c.Args[j+1], 0)
		c.Notify(command.NotifyString, "set", c.Args[j])
	}
	c.Dirty += int64(len(c.Args) / 2)
	c.OK()
}

func msetnxCommand(c *command.Ctx) {
	if len(c.Args)%2 == 0 {
		c.Error(command.ErrWrongArgs(c.Cmd.Name))
		return
	}
	for j := 1; j < len(c.Args); j += 2 {
		if c.DB.Exists(c.Args[j]) {
			c.W.Int(0)
			return
		}
	}
	for j := 1; j < len(c.Args); j += 2 {
		strStore(c.DB, c.Args[j], c.Args[j+1], 0)
		c.Notify(command.NotifyString, "set", c.Args[j])
	}
	c.Dirty += int64(len(c.Args) / 2)
	c.W.Int(1)
}

func appendCommand(c *command.Ctx) {
	key, suffix := c.Args[1], c.Args[2]
	e, ok := c.DB.Lookup(key)
	if !ok {
		// A new key is stored as SET would store it (int, embstr or raw).
		strStore(c.DB, key, suffix, 0)
		c.Dirty++
		c.Notify(command.NotifyString, "append", key)
		c.W.Int(int64(len(suffix)))
		return
	}
	if e.Type() != keyspace.TypeString {
		c.Error(command.ErrWrongType)
		return
	}
	if !strCheckLen(c, int64(e.StrLen()), int64(len(suffix))) {
		return
	}
	n := c.DB.AppendString(key, suffix)
	c.Dirty++
	c.Notify(command.NotifyString, "append", key)
	c.W.Int(int64(n))
}

func strlenCommand(c *command.Ctx) {
	e, ok := c.DB.LookupRead(c.Args[1])
	if !ok {
		c.W.Int(0)
		return
	}
	if e.Type() != keyspace.TypeString {
		c.Error(command.ErrWrongType)
		return
	}
	c.W.Int(int64(e.StrLen()))
}

func getrangeCommand(c *command.Ctx) {
	start, ok1 := resp.ParseInt(c.Args[2])
	if !ok1 {
		c.Error(command.ErrNotInteger)
		return
	}
	end, ok2 := resp.ParseInt(c.Args[3])
	if !ok2 {
		c.Error(command.ErrNotInteger)
		return
	}
	e, ok := c.DB.LookupRead(c.Args[1])
	if !ok {
		c.W.Bulk(nil)
		return
	}
	if e.Type() != keyspace.TypeString {
		c.Error(command.ErrWrongType)
		return
	}
	var buf [24]byte
	s := strBytes(e, buf[:0])
	n := int64(len(s))
	if start < 0 && end < 0 && start > end {
		c.W.Bulk(nil)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.W.Bulk(nil)
		return
	}
	c.W.Bulk(s[start : end+1])
}

func setrangeCommand(c *command.Ctx) {
	key, value := c.Args[1], c.Args[3]
	offset, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	if offset < 0 {
		c.Error(command.ErrOffsetRange)
		return
	}
	e, found := c.DB.Lookup(key)
	if !found {
		if len(value) == 0 {
			c.W.Int(0)
			return
		}
		if !strCheckLen(c, offset, int64(len(value))) {
			return
		}
		buf := make([]byte, offset+int64(len(value)))
		copy(buf[offset:], value)
		c.Grew(offset)
		c.DB.SetString(key, buf, keyspace.EncRaw, 0)
		c.Dirty++
		c.Notify(command.NotifyString, "setrange", key)
		c.W.Int(int64(len(buf)))
		return
	}
	if e.Type() != keyspace.TypeString {
		c.Error(command.ErrWrongType)
		return
	}
	olen := int64(e.StrLen())
	if len(value) == 0 {
		c.W.Int(olen)
		return
	}
	if !strCheckLen(c, offset, int64(len(value))) {
		return
	}
	newLen := max(olen, offset+int64(len(value)))
	c.Grew(newLen - olen - int64(len(value)))
	if e.Object() != nil {
		// A value kept on the heap (a large string): grow it in place with
		// AppendString, which keeps appends amortised, then overwrite.
		if newLen > olen {
			c.DB.AppendString(key, make([]byte, newLen-olen))
			e, _ = c.DB.Lookup(key)
		}
		copy(e.Bytes()[offset:], value)
	} else {
		buf := c.Scratch[:0]
		var ib [24]byte
		buf = append(buf, strBytes(e, ib[:0])...)
		for int64(len(buf)) < newLen {
			buf = append(buf, 0)
		}
		copy(buf[offset:], value)
		c.DB.SetString(key, buf, keyspace.EncRaw, keyspace.KeepTTL)
		if cap(buf) <= 64<<10 {
			c.Scratch = buf[:0]
		}
	}
	c.Dirty++
	c.Notify(command.NotifyString, "setrange", key)
	c.W.Int(newLen)
}

func incrCommand(c *command.Ctx) { incrDecr(c, 1) }
func decrCommand(c *command.Ctx) { incrDecr(c, -1) }

func incrbyCommand(c *command.Ctx) {
	n, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	incrDecr(c, n)
}

func decrbyCommand(c *command.Ctx) {
	n, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	if n == math.MinInt64 {
		c.Error(errDecrOverflow)
		return
	}
	incrDecr(c, -n)
}

// incrDecr adds incr to the integer at the command's key, keeping its TTL,
// with Redis's overflow check; the result is stored int-encoded.
func incrDecr(c *command.Ctx, incr int64) {
	key := c.Args[1]
	var v int64
	e, found := c.DB.Lookup(key)
	if found {
		if e.Type() != keyspace.TypeString {
			c.Error(command.ErrWrongType)
			return
		}
		var ok bool
		if n, isInt := e.Int(); isInt {
			v = n
		} else if v, ok = resp.ParseInt(e.Bytes()); !ok {
			c.Error(command.ErrNotInteger)
			return
		}
	}
	if (incr < 0 && v < 0 && incr < math.MinInt64-v) || (incr > 0 && v > 0 && incr > math.MaxInt64-v) {
		c.Error(command.ErrOverflow)
		return
	}
	v += incr
	if !found || !e.ReplaceInt(v) {
		c.DB.SetInt(key, v, keyspace.KeepTTL)
	}
	c.Dirty++
	c.Notify(command.NotifyString, "incrby", key)
	c.W.Int(v)
}

func incrbyfloatCommand(c *command.Ctx) {
	key := c.Args[1]
	cur := ldFromInt(0)
	e, found := c.DB.Lookup(key)
	if found {
		if e.Type() != keyspace.TypeString {
			c.Error(command.ErrWrongType)
			return
		}
		if n, isInt := e.Int(); isInt {
			cur = ldFromInt(n)
		} else {
			var ok bool
			if cur, ok = ldParse(e.Bytes()); !ok {
				c.Error(command.ErrNotFloat)
				return
			}
		}
	}
	incr, ok := ldParse(c.Args[2])
	if !ok {
		c.Error(command.ErrNotFloat)
		return
	}
	sum, ok := ldAdd(cur, incr)
	if !ok {
		c.Error(command.ErrIncrFloatNaN)
		return
	}
	out := ldFormatHuman(c.Scratch[:0], sum)
	c.DB.SetString(key, out, strEncoding(len(out)), keyspace.KeepTTL)
	c.Dirty++
	c.Notify(command.NotifyString, "incrbyfloat", key)
	// The sum as stored, so that float formatting cannot make replicas differ.
	c.PropagateAs(argSET, key, out, argKEEPTTL)
	c.W.Bulk(out)
	c.Scratch = out[:0]
}

func lcsCommand(c *command.Ctx) {
	ea, okA := c.DB.LookupRead(c.Args[1])
	eb, okB := c.DB.LookupRead(c.Args[2])
	if (okA && ea.Type() != keyspace.TypeString) || (okB && eb.Type() != keyspace.TypeString) {
		c.Error(errLCSWrongType)
		return
	}
	var bufA, bufB [24]byte
	var a, b []byte
	if okA {
		a = strBytes(ea, bufA[:0])
	}
	if okB {
		b = strBytes(eb, bufB[:0])
	}
	var getLen, getIdx, withMatchLen bool
	var minMatchLen int64
	for j := 3; j < len(c.Args); j++ {
		opt := c.Args[j]
		switch {
		case strKW(opt, "IDX"):
			getIdx = true
		case strKW(opt, "LEN"):
			getLen = true
		case strKW(opt, "WITHMATCHLEN"):
			withMatchLen = true
		case strKW(opt, "MINMATCHLEN") && j+1 < len(c.Args):
			n, ok := resp.ParseInt(c.Args[j+1])
			if !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			minMatchLen = max(n, 0)
			j++
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	if getLen && getIdx {
		c.Error(errLCSLenAndIdx)
		return
	}
	if uint64(len(a)) >= math.MaxUint32-1 || uint64(len(b)) >= math.MaxUint32-1 {
		c.Error(errLCSTooLong)
		return
	}
	alen, blen := len(a), len(b)
	cells := uint64(alen+1) * uint64(blen+1)
	if cells*4 > uint64(strMaxLen(c)) {
		c.Error(errLCSMemory)
		return
	}
	// table[i*(blen+1)+j] is the LCS length of a[:i] and b[:j].
	table := make([]uint32, cells)
	w := blen + 1
	for i := 1; i <= alen; i++ {
		row, prev := table[i*w:(i+1)*w], table[(i-1)*w:i*w]
		ai := a[i-1]
		for j := 1; j <= blen; j++ {
			switch {
			case ai == b[j-1]:
				row[j] = prev[j-1] + 1
			case prev[j] > row[j-1]:
				row[j] = prev[j]
			default:
				row[j] = row[j-1]
			}
		}
	}
	total := table[alen*w+blen]

	// Walk back from the end, collecting the LCS and, for IDX, the ranges
	// of consecutive matches, in the order Redis reports them.
	type lcsRange struct{ a0, a1, b0, b1 int }
	var ranges []lcsRange
	computeLCS := getIdx || !getLen
	var result []byte
	if computeLCS {
		result = make([]byte, total)
	}
	idx := int(total)
	aStart, aEnd, bStart, bEnd := alen, 0, 0, 0 // aStart == alen: no range open
	i, j := alen, blen
	for computeLCS && i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			switch {
			case aStart == alen:
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			case aStart == i && bStart == j:
				aStart--
				bStart--
			default:
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if table[(i-1)*w+j] > table[i*w+j-1] {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		if emit {
			if matchLen := aEnd - aStart + 1; getIdx && (minMatchLen == 0 || int64(matchLen) >= minMatchLen) {
				ranges = append(ranges, lcsRange{aStart, aEnd, bStart, bEnd})
			}
			aStart = alen
		}
	}
	switch {
	case getIdx:
		c.W.MapLen(2)
		c.W.BulkString("matches")
		c.W.ArrayLen(len(ranges))
		for _, r := range ranges {
			if withMatchLen {
				c.W.ArrayLen(3)
			} else {
				c.W.ArrayLen(2)
			}
			c.W.ArrayLen(2)
			c.W.Int(int64(r.a0))
			c.W.Int(int64(r.a1))
			c.W.ArrayLen(2)
			c.W.Int(int64(r.b0))
			c.W.Int(int64(r.b1))
			if withMatchLen {
				c.W.Int(int64(r.a1 - r.a0 + 1))
			}
		}
		c.W.BulkString("len")
		c.W.Int(int64(total))
	case getLen:
		c.W.Int(int64(total))
	default:
		c.W.Bulk(result)
	}
}

// setKeyFlags refines SET's variable key flags as Redis's setGetKeys does:
// with GET the key is read too, without it only overwritten.
func setKeyFlags(args [][]byte, _ int) []string {
	for _, a := range args[min(3, len(args)):] {
		if equalFold(a, "get") {
			return flagsRWAccessUpdate
		}
	}
	return flagsOWUpdate
}
