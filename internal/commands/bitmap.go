package commands

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// Errors only the bitmap commands reply with.
const (
	errBitOffset     = "ERR bit offset is not an integer or out of range"
	errBitValue      = "ERR bit is not an integer or out of range"
	errBitposBit     = "ERR The bit argument must be 1 or 0."
	errBitopNot      = "ERR BITOP NOT must be called with a single source key."
	errBitfieldType  = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
	errBitfieldOver  = "ERR Invalid OVERFLOW type specified"
	errBitfieldROSet = "ERR BITFIELD_RO only supports the GET subcommand"
)

// bitmapCommands are Redis's bitmap group: bit-level access to string values.
func bitmapCommands() []*command.Command {
	const (
		read   = command.CatRead
		write  = command.CatWrite
		bitmap = command.CatBitmap
		fast   = command.CatFast
		slow   = command.CatSlow
	)
	one := func(flags ...string) []command.KeySpec { return []command.KeySpec{keyRange(1, 0, flags...)} }
	return []*command.Command{
		{Name: "setbit", Arity: 4, Flags: command.Write | command.DenyOOM, ACL: write | bitmap | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RW", "access", "update"),
			Group: "bitmap", Since: "2.2.0", Summary: "Sets or clears one bit of a string value, creating or zero-padding it as needed.", Handler: ev(command.NotifyString, "setbit", setbitCommand)},
		{Name: "getbit", Arity: 3, Flags: command.ReadOnly | command.Fast, ACL: read | bitmap | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO", "access"),
			Group: "bitmap", Since: "2.2.0", Summary: "Returns one bit of a string value (0 past its end).", Handler: getbitCommand},
		{Name: "bitcount", Arity: -2, Flags: command.ReadOnly, ACL: read | bitmap | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO", "access"),
			Group: "bitmap", Since: "2.6.0", Summary: "Counts the set bits of a string value, optionally within a byte or bit range.", Handler: bitcountCommand},
		{Name: "bitpos", Arity: -3, Flags: command.ReadOnly, ACL: read | bitmap | slow,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO", "access"),
			Group: "bitmap", Since: "2.8.7", Summary: "Finds the first set or clear bit of a string value, optionally within a byte or bit range.", Handler: bitposCommand},
		{Name: "bitop", Arity: -4, Flags: command.Write | command.DenyOOM, ACL: write | bitmap | slow,
			FirstKey: 2, LastKey: -1, Step: 1,
			KeySpecs: []command.KeySpec{keyRange(2, 0, "OW", "update"), keyRange(3, -1, "RO", "access")},
			Group:    "bitmap", Since: "2.6.0", Summary: "Combines string values bit by bit (AND, OR, XOR, NOT) and stores the result.", Handler: evStore(command.NotifyString, "set", 2, bitopCommand)},
		{Name: "bitfield", Arity: -2, Flags: command.Write | command.DenyOOM, ACL: write | bitmap | slow,
			FirstKey: 1, LastKey: 1, Step: 1,
			KeySpecs: []command.KeySpec{{Flags: []string{"RW", "access", "update", "variable_flags"},
				Notes:      "This command allows both access and modification of the key",
				BeginIndex: 1, LastKey: 0, Step: 1}},
			KeyFlags: bitfieldKeyFlags,
			Group:    "bitmap", Since: "3.2.0", Summary: "Reads, writes and increments integers of any width at arbitrary bit offsets of a string value.", Handler: ev(command.NotifyString, "setbit", bitfieldCommand)},
		{Name: "bitfield_ro", Arity: -2, Flags: command.ReadOnly | command.Fast, ACL: read | bitmap | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: one("RO", "access"),
			Group: "bitmap", Since: "6.0.0", Summary: "Reads integers of any width at arbitrary bit offsets of a string value.", Handler: bitfieldROCommand},
	}
}

// bitOffset parses a bit offset as getBitOffsetFromArgument does: with
// hash set and width > 0, "#N" means N*width; the offset must be ≥ 0 and
// its byte must lie below proto-max-bulk-len.
func bitOffset(c *command.Ctx, arg []byte, hash bool, width int) (uint64, bool) {
	useHash := hash && width > 0 && len(arg) > 0 && arg[0] == '#'
	if useHash {
		arg = arg[1:]
	}
	n, ok := resp.ParseInt(arg)
	if !ok {
		c.Error(errBitOffset)
		return 0, false
	}
	if useHash {
		n *= int64(width) // wraps like C's signed overflow in practice
	}
	if n < 0 || n>>3 >= strMaxLen(c) {
		c.Error(errBitOffset)
		return 0, false
	}
	return uint64(n), true
}

// bitTarget is a string value opened for bit writes: b is modified in
// place, and stored back by finish when it is a copy.
type bitTarget struct {
	b      []byte
	copied bool // b is a scratch copy to store with SetString
	grown  bool // the key was created or lengthened (Redis's "dirty")
}

// bitZeros pads heap strings without allocating for modest growth.
var bitZeros [4096]byte

// bitOpenWrite is lookupStringForBitCommand: it makes the string at key
// long enough to address maxbit, creating it if missing. Values on the Go
// heap grow in place (amortised, like sds), raw values in the slab that are
// long enough are written in place, and anything else (int or embstr
// encoded, or too short) is copied into scratch and stored raw, as Redis's
// dbUnshareStringValue leaves it.
func bitOpenWrite(c *command.Ctx, key []byte, maxbit uint64) (bitTarget, bool) {
	need := int(maxbit>>3) + 1
	e, found := c.DB.Lookup(key)
	if !found {
		buf := bitScratch(c, need)
		clear(buf)
		c.Grew(int64(need))
		return bitTarget{b: buf, copied: true, grown: true}, true
	}
	if e.Type() != keyspace.TypeString {
		c.Error(command.ErrWrongType)
		return bitTarget{}, false
	}
	if e.Object() != nil {
		b := e.Bytes()
		if len(b) >= need {
			return bitTarget{b: b}, true
		}
		c.Grew(int64(need - len(b)))
		if add := need - len(b); add <= len(bitZeros) {
			c.DB.AppendString(key, bitZeros[:add])
		} else {
			c.DB.AppendString(key, make([]byte, add))
		}
		e, _ = c.DB.Lookup(key)
		return bitTarget{b: e.Bytes(), grown: true}, true
	}
	if e.StringEncoding() == keyspace.EncRaw && len(e.Bytes()) >= need {
		return bitTarget{b: e.Bytes()}, true
	}
	var ib [24]byte
	old := strBytes(e, ib[:0])
	n := max(need, len(old))
	c.Grew(int64(n - len(old)))
	buf := bitScratch(c, n)
	copy(buf, old)
	clear(buf[len(old):])
	return bitTarget{b: buf, copied: true, grown: n != len(old)}, true
}

// bitScratch returns an n-byte buffer, reusing the connection's scratch
// space for sizes that are worth keeping.
func bitScratch(c *command.Ctx, n int) []byte {
	if cap(c.Scratch) >= n {
		return c.Scratch[:n]
	}
	if n <= 64<<10 {
		c.Scratch = make([]byte, n)
		return c.Scratch
	}
	return make([]byte, n)
}

// finish stores a copied value back, keeping the key's TTL.
func (t bitTarget) finish(c *command.Ctx, key []byte) {
	if t.copied {
		c.DB.SetString(key, t.b, keyspace.EncRaw, keyspace.KeepTTL)
	}
}

func setbitCommand(c *command.Ctx) {
	key := c.Args[1]
	off, ok := bitOffset(c, c.Args[2], false, 0)
	if !ok {
		return
	}
	on, ok := resp.ParseInt(c.Args[3])
	if !ok || on&^1 != 0 {
		c.Error(errBitValue)
		return
	}
	t, ok := bitOpenWrite(c, key, off)
	if !ok {
		return
	}
	idx, mask := off>>3, byte(1)<<(7-off&7)
	old := t.b[idx]&mask != 0
	if on == 1 {
		t.b[idx] |= mask
	} else {
		t.b[idx] &^= mask
	}
	t.finish(c, key)
	if t.grown || old != (on == 1) {
		c.Dirty++
	}
	if old {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
}

func getbitCommand(c *command.Ctx) {
	off, ok := bitOffset(c, c.Args[2], false, 0)
	if !ok {
		return
	}
	e, found := c.DB.LookupRead(c.Args[1])
	if !found {
		c.W.Int(0)
		return
	}
	if e.Type() != keyspace.TypeString {
		c.Error(command.ErrWrongType)
		return
	}
	var ib [24]byte
	s := strBytes(e, ib[:0])
	if idx := off >> 3; idx < uint64(len(s)) && s[idx]&(1<<(7-off&7)) != 0 {
		c.W.Int(1)
		return
	}
	c.W.Int(0)
}

// bitRange resolves BITCOUNT/BITPOS's start and end (already parsed) over
// a string of n bytes as Redis does: negative indexes count from the end,
// both are clamped, and in BIT mode the edges become byte indexes plus
// masks of the bits outside the range in the first and last byte.
func bitRange(start, end int64, n int64, isBit bool) (s, e int64, firstMask, lastMask byte) {
	total := n
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start = max(start, 0)
	end = max(end, 0)
	if end >= total {
		end = total - 1
	}
	if isBit && start <= end {
		firstMask = ^byte((1 << (8 - start&7)) - 1)
		lastMask = byte((1 << (7 - end&7)) - 1)
		start >>= 3
		end >>= 3
	}
	return start, end, firstMask, lastMask
}

// bitParseUnit parses BIT|BYTE, replying with a syntax error otherwise.
func bitParseUnit(c *command.Ctx, arg []byte) (isBit, ok bool) {
	switch {
	case strKW(arg, "BIT"):
		return true, true
	case strKW(arg, "BYTE"):
		return false, true
	}
	c.Error(command.ErrSyntax)
	return false, false
}

func bitcountCommand(c *command.Ctx) {
	// Redis 7.2 looks the key up before it parses the range: a missing key
	// answers 0 whatever follows.
	e, found := c.DB.LookupRead(c.Args[1])
	if !found {
		c.W.Int(0)
		return
	}
	if e.Type() != keyspace.TypeString {
		c.Error(command.ErrWrongType)
		return
	}
	var ib [24]byte
	p := strBytes(e, ib[:0])
	var start, end int64
	var firstMask, lastMask byte
	switch len(c.Args) {
	case 4, 5:
		var ok bool
		if start, ok = resp.ParseInt(c.Args[2]); !ok {
			c.Error(command.ErrNotInteger)
			return
		}
		if end, ok = resp.ParseInt(c.Args[3]); !ok {
			c.Error(command.ErrNotInteger)
			return
		}
		if start < 0 && end < 0 && start > end {
			c.W.Int(0)
			return
		}
		isBit := false
		if len(c.Args) == 5 {
			if isBit, ok = bitParseUnit(c, c.Args[4]); !ok {
				return
			}
		}
		start, end, firstMask, lastMask = bitRange(start, end, int64(len(p)), isBit)
	case 2:
		start, end = 0, int64(len(p))-1
	default:
		c.Error(command.ErrSyntax)
		return
	}
	if start > end {
		c.W.Int(0)
		return
	}
	count := popcount(p[start : end+1])
	count -= int64(bits.OnesCount8(p[start]&firstMask) + bits.OnesCount8(p[end]&lastMask))
	c.W.Int(count)
}

// popcount counts the set bits of p a 64-bit word at a time, four words
// per iteration so the adds pipeline.
func popcount(p []byte) int64 {
	var n0, n1, n2, n3 int
	for len(p) >= 32 {
		n0 += bits.OnesCount64(binary.LittleEndian.Uint64(p))
		n1 += bits.OnesCount64(binary.LittleEndian.Uint64(p[8:]))
		n2 += bits.OnesCount64(binary.LittleEndian.Uint64(p[16:]))
		n3 += bits.OnesCount64(binary.LittleEndian.Uint64(p[24:]))
		p = p[32:]
	}
	for len(p) >= 8 {
		n0 += bits.OnesCount64(binary.LittleEndian.Uint64(p))
		p = p[8:]
	}
	for _, b := range p {
		n1 += bits.OnesCount8(b)
	}
	return int64(n0 + n1 + n2 + n3)
}

// bitpos is redisBitpos: the position of the first bit equal to bit in p
// (bit 0 is the most significant bit of p[0]). With no match it returns
// -1 when looking for a one and len(p)*8 when looking for a zero, as if
// the string were padded with zeros on the right.
func bitpos(p []byte, bit int) int64 {
	var skipW uint64
	var skipB byte
	if bit == 0 {
		skipW, skipB = math.MaxUint64, 0xff
	}
	i := 0
	// Skip 32 bytes per step while all four words are skippable (their OR
	// is 0 when looking for a one, their AND all ones when looking for a
	// zero), then single words.
	for q := p; len(q) >= 32; q = q[32:] {
		a, b := binary.LittleEndian.Uint64(q), binary.LittleEndian.Uint64(q[8:])
		c, d := binary.LittleEndian.Uint64(q[16:]), binary.LittleEndian.Uint64(q[24:])
		if (bit == 1 && a|b|c|d != 0) || (bit == 0 && a&b&c&d != skipW) {
			break
		}
		i += 32
	}
	for i+8 <= len(p) && binary.LittleEndian.Uint64(p[i:]) == skipW {
		i += 8
	}
	for i < len(p) && p[i] == skipB {
		i++
	}
	if i == len(p) {
		if bit == 1 {
			return -1
		}
		return int64(len(p)) * 8
	}
	b := p[i]
	if bit == 0 {
		b = ^b
	}
	return int64(i)*8 + int64(bits.LeadingZeros8(b))
}

func bitposCommand(c *command.Ctx) {
	bit, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	if bit != 0 && bit != 1 {
		c.Error(errBitposBit)
		return
	}
	e, found := c.DB.LookupRead(c.Args[1])
	if !found {
		c.W.Int(-bit) // no key: all zeros, so no one (-1) and a zero at 0
		return
	}
	if e.Type() != keyspace.TypeString {
		c.Error(command.ErrWrongType)
		return
	}
	var ib [24]byte
	p := strBytes(e, ib[:0])
	var start, end int64
	var firstMask, lastMask byte
	endGiven := false
	switch n := len(c.Args); n {
	case 4, 5, 6:
		if start, ok = resp.ParseInt(c.Args[3]); !ok {
			c.Error(command.ErrNotInteger)
			return
		}
		isBit := false
		if n == 6 {
			if isBit, ok = bitParseUnit(c, c.Args[5]); !ok {
				return
			}
		}
		if n >= 5 {
			if end, ok = resp.ParseInt(c.Args[4]); !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			endGiven = true
		} else {
			end = int64(len(p)) - 1
		}
		start, end, firstMask, lastMask = bitRange(start, end, int64(len(p)), isBit)
	case 3:
		start, end = 0, int64(len(p))-1
	default:
		c.Error(command.ErrSyntax)
		return
	}
	if start > end {
		c.W.Int(-1)
		return
	}
	pos, start, nbytes := bitposRange(p, int(bit), start, end, firstMask, lastMask)
	// With an explicit end the string is not zero-padded past the range:
	// a clear bit found just beyond it does not count.
	if endGiven && bit == 0 && pos == nbytes<<3 {
		c.W.Int(-1)
		return
	}
	if pos != -1 {
		pos += start << 3
	}
	c.W.Int(pos)
}

// bitposRange searches p[start..end] as Redis's bitposCommand does, with
// the bits outside a BIT range masked off the edge bytes. It returns the
// position found relative to the returned start, and the number of bytes
// left from there, which the caller needs for the end-of-range rule.
func bitposRange(p []byte, bit int, start, end int64, firstMask, lastMask byte) (pos, newStart, nbytes int64) {
	nbytes = end - start + 1
	// hide sets the masked bits to the value that is not searched for.
	hide := func(b, mask byte) byte {
		if bit == 1 {
			return b &^ mask
		}
		return b | mask
	}
	if firstMask != 0 {
		t := hide(p[start], firstMask)
		if lastMask != 0 && nbytes == 1 {
			t = hide(t, lastMask)
		}
		pos = bitpos([]byte{t}, bit)
		if nbytes == 1 || (pos != -1 && pos != 8) {
			return pos, start, nbytes
		}
		start++
		nbytes--
	}
	cur := nbytes
	if lastMask != 0 {
		cur--
	}
	if cur > 0 {
		pos = bitpos(p[start:start+cur], bit)
		if nbytes == cur || (pos != -1 && pos != cur<<3) {
			return pos, start, nbytes
		}
		start += cur
		nbytes -= cur
	}
	t := hide(p[end], lastMask)
	return bitpos([]byte{t}, bit), start, nbytes
}

// BITOP operations.
const (
	bitopAnd = iota
	bitopOr
	bitopXor
	bitopNot
)

func bitopCommand(c *command.Ctx) {
	var op int
	switch a := c.Args[1]; {
	case strKW(a, "AND"):
		op = bitopAnd
	case strKW(a, "OR"):
		op = bitopOr
	case strKW(a, "XOR"):
		op = bitopXor
	case strKW(a, "NOT"):
		op = bitopNot
	default:
		c.Error(command.ErrSyntax)
		return
	}
	if op == bitopNot && len(c.Args) != 4 {
		c.Error(errBitopNot)
		return
	}
	dst := c.Args[2]
	keys := c.Args[3:]
	srcs := make([][]byte, len(keys))
	maxLen := 0
	for i, k := range keys {
		e, found := c.DB.LookupRead(k)
		if !found {
			continue // a missing key is an empty string
		}
		if e.Type() != keyspace.TypeString {
			c.Error(command.ErrWrongType)
			return
		}
		if n, isInt := e.Int(); isInt {
			srcs[i] = strconv.AppendInt(nil, n, 10)
		} else {
			srcs[i] = e.Bytes()
		}
		maxLen = max(maxLen, len(srcs[i]))
	}
	if maxLen == 0 {
		if c.DB.Delete(dst) {
			c.Dirty++
		}
		c.W.Int(0)
		return
	}
	// The result is built apart from the sources (dst may be one of them,
	// and sources alias keyspace memory), then stored as a fresh raw
	// string without TTL, as Redis's setKey does.
	var res []byte
	if maxLen <= 64<<10 {
		res = bitScratch(c, maxLen)
	} else {
		res = make([]byte, maxLen)
	}
	n := copy(res, srcs[0])
	clear(res[n:])
	if op == bitopNot {
		bitNot(res)
	}
	for _, s := range srcs[1:] {
		switch op {
		case bitopAnd:
			bitAnd(res, s)
			clear(res[len(s):]) // missing bytes count as zeros
		case bitopOr:
			bitOr(res, s)
		case bitopXor:
			bitXor(res, s)
		}
	}
	c.DB.SetString(dst, res, keyspace.EncRaw, 0)
	c.Dirty++
	c.W.Int(int64(maxLen))
}

// bitAnd, bitOr and bitXor combine src into dst (len(dst) ≥ len(src)) a
// 64-bit word at a time; bitwise operations do not care about byte order.
func bitAnd(dst, src []byte) {
	i := 0
	for ; i+8 <= len(src); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(dst[i:])&binary.LittleEndian.Uint64(src[i:]))
	}
	for ; i < len(src); i++ {
		dst[i] &= src[i]
	}
}

func bitOr(dst, src []byte) {
	i := 0
	for ; i+8 <= len(src); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(dst[i:])|binary.LittleEndian.Uint64(src[i:]))
	}
	for ; i < len(src); i++ {
		dst[i] |= src[i]
	}
}

func bitXor(dst, src []byte) {
	i := 0
	for ; i+8 <= len(src); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(dst[i:])^binary.LittleEndian.Uint64(src[i:]))
	}
	for ; i < len(src); i++ {
		dst[i] ^= src[i]
	}
}

func bitNot(b []byte) {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], ^binary.LittleEndian.Uint64(b[i:]))
	}
	for ; i < len(b); i++ {
		b[i] = ^b[i]
	}
}

// BITFIELD overflow behaviours.
const (
	bfWrap = iota
	bfSat
	bfFail
)

// BITFIELD operations.
const (
	bfGet = iota
	bfSet
	bfIncrBy
)

// bfOp is one parsed BITFIELD operation.
type bfOp struct {
	offset uint64
	val    int64 // SET value or INCRBY increment
	op     int
	ow     int
	width  uint
	signed bool
}

func bitfieldCommand(c *command.Ctx)   { bitfieldGeneric(c, false) }
func bitfieldROCommand(c *command.Ctx) { bitfieldGeneric(c, true) }

// bfType parses i1..i64 / u1..u63.
func bfType(c *command.Ctx, arg []byte) (signed bool, width uint, ok bool) {
	if len(arg) == 0 || (arg[0] != 'i' && arg[0] != 'u') {
		c.Error(errBitfieldType)
		return false, 0, false
	}
	signed = arg[0] == 'i'
	n, ok := resp.ParseInt(arg[1:])
	if !ok || n < 1 || (signed && n > 64) || (!signed && n > 63) {
		c.Error(errBitfieldType)
		return false, 0, false
	}
	return signed, uint(n), true
}

// bitfieldGeneric is BITFIELD, and BITFIELD_RO when readOnly: every
// operation is parsed and validated first, then the key is looked up (for
// reading when there are only GETs, else created and grown to the highest
// bit written) and the operations run in order.
func bitfieldGeneric(c *command.Ctx, readOnly bool) {
	var opsBuf [8]bfOp
	ops := opsBuf[:0]
	ow := bfWrap
	onlyGets := true
	var highest uint64
	args := c.Args
	for j := 2; j < len(args); j++ {
		rem := len(args) - j - 1
		sub := args[j]
		var op int
		switch {
		case strKW(sub, "GET") && rem >= 2:
			op = bfGet
		case strKW(sub, "SET") && rem >= 3:
			op = bfSet
		case strKW(sub, "INCRBY") && rem >= 3:
			op = bfIncrBy
		case strKW(sub, "OVERFLOW") && rem >= 1:
			j++
			switch a := args[j]; {
			case strKW(a, "WRAP"):
				ow = bfWrap
			case strKW(a, "SAT"):
				ow = bfSat
			case strKW(a, "FAIL"):
				ow = bfFail
			default:
				c.Error(errBitfieldOver)
				return
			}
			continue
		default:
			c.Error(command.ErrSyntax)
			return
		}
		signed, width, ok := bfType(c, args[j+1])
		if !ok {
			return
		}
		off, ok := bitOffset(c, args[j+2], true, int(width))
		if !ok {
			return
		}
		var v int64
		if op != bfGet {
			onlyGets = false
			highest = max(highest, off+uint64(width)-1)
			if v, ok = resp.ParseInt(args[j+3]); !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			j += 3
		} else {
			j += 2
		}
		ops = append(ops, bfOp{offset: off, val: v, op: op, ow: ow, width: width, signed: signed})
	}

	key := args[1]
	var data []byte
	var t bitTarget
	if onlyGets {
		e, found := c.DB.LookupRead(key)
		if found {
			if e.Type() != keyspace.TypeString {
				c.Error(command.ErrWrongType)
				return
			}
			var ib [24]byte
			data = strBytes(e, ib[:0])
		}
	} else {
		if readOnly {
			c.Error(errBitfieldROSet)
			return
		}
		var ok bool
		if t, ok = bitOpenWrite(c, key, highest); !ok {
			return
		}
		data = t.b
	}

	c.W.ArrayLen(len(ops))
	changes := int64(0)
	for i := range ops {
		o := &ops[i]
		if o.op == bfGet {
			// Read through a zero-padded 9-byte window so a field may run
			// past the end of the string.
			var win [9]byte
			byteIdx := o.offset >> 3
			if byteIdx < uint64(len(data)) {
				copy(win[:], data[byteIdx:])
			}
			rel := o.offset - byteIdx*8
			if o.signed {
				c.W.Int(bfGetSigned(win[:], rel, o.width))
			} else {
				c.W.Int(int64(bfGetUnsigned(win[:], rel, o.width)))
			}
			continue
		}
		if o.signed {
			oldv := bfGetSigned(data, o.offset, o.width)
			var newv, ret int64
			var over bool
			if o.op == bfIncrBy {
				var wrapped int64
				over, wrapped = bfSignedOverflow(oldv, o.val, o.width, o.ow)
				if over {
					newv = wrapped
				} else {
					newv = oldv + o.val
				}
				ret = newv
			} else {
				newv = o.val
				if ov, wrapped := bfSignedOverflow(newv, 0, o.width, o.ow); ov {
					over, newv = true, wrapped
				}
				ret = oldv
			}
			if over && o.ow == bfFail {
				c.W.Null()
				continue
			}
			c.W.Int(ret)
			bfSetUnsigned(data, o.offset, o.width, uint64(newv))
			if t.grown || oldv != newv {
				changes++
			}
			continue
		}
		oldv := bfGetUnsigned(data, o.offset, o.width)
		var newv, ret uint64
		var over bool
		if o.op == bfIncrBy {
			newv = oldv + uint64(o.val)
			var wrapped uint64
			if over, wrapped = bfUnsignedOverflow(oldv, o.val, o.width, o.ow); over {
				newv = wrapped
			}
			ret = newv
		} else {
			newv = uint64(o.val)
			if ov, wrapped := bfUnsignedOverflow(newv, 0, o.width, o.ow); ov {
				over, newv = true, wrapped
			}
			ret = oldv
		}
		if over && o.ow == bfFail {
			c.W.Null()
			continue
		}
		c.W.Int(int64(ret))
		bfSetUnsigned(data, o.offset, o.width, newv)
		if t.grown || oldv != newv {
			changes++
		}
	}
	if !onlyGets {
		// The key exists from here on even if every operation failed, as
		// lookupStringForBitCommand creates it before they run.
		t.finish(c, key)
	}
	c.Dirty += changes
}

// bfGetUnsigned reads a width-bit big-endian field at bit offset off.
func bfGetUnsigned(p []byte, off uint64, width uint) uint64 {
	var v uint64
	for j := uint(0); j < width; j++ {
		v = v<<1 | uint64(p[off>>3]>>(7-off&7)&1)
		off++
	}
	return v
}

// bfGetSigned reads a two's complement width-bit field.
func bfGetSigned(p []byte, off uint64, width uint) int64 {
	v := int64(bfGetUnsigned(p, off, width))
	if width < 64 && v&(1<<(width-1)) != 0 {
		v |= -1 << width
	}
	return v
}

// bfSetUnsigned writes the low width bits of v at bit offset off.
func bfSetUnsigned(p []byte, off uint64, width uint, v uint64) {
	for j := uint(0); j < width; j++ {
		mask := byte(1) << (7 - off&7)
		if v&(1<<(width-1-j)) != 0 {
			p[off>>3] |= mask
		} else {
			p[off>>3] &^= mask
		}
		off++
	}
}

// bfUnsignedOverflow is checkUnsignedBitfieldOverflow: whether value+incr
// leaves the range of a width-bit unsigned field, and the value to store
// instead under WRAP or SAT.
func bfUnsignedOverflow(value uint64, incr int64, width uint, ow int) (bool, uint64) {
	maxv := uint64(math.MaxUint64)
	if width < 64 {
		maxv = 1<<width - 1
	}
	maxIncr := int64(maxv - value)
	minIncr := int64(-value)
	wrap := func() uint64 { return (value + uint64(incr)) &^ (uint64(math.MaxUint64) << width) }
	switch {
	case value > maxv || (incr > 0 && incr > maxIncr):
		if ow == bfWrap {
			return true, wrap()
		}
		return true, maxv
	case incr < 0 && incr < minIncr:
		if ow == bfWrap {
			return true, wrap()
		}
		return true, 0
	}
	return false, 0
}

// bfSignedOverflow is checkSignedBitfieldOverflow for a width-bit two's
// complement field.
func bfSignedOverflow(value, incr int64, width uint, ow int) (bool, int64) {
	maxv := int64(math.MaxInt64)
	if width < 64 {
		maxv = 1<<(width-1) - 1
	}
	minv := -maxv - 1
	maxIncr := int64(uint64(maxv) - uint64(value))
	minIncr := minv - value
	wrap := func() int64 {
		r := uint64(value) + uint64(incr)
		if width < 64 {
			mask := uint64(math.MaxUint64) << width
			if r&(1<<(width-1)) != 0 {
				r |= mask
			} else {
				r &^= mask
			}
		}
		return int64(r)
	}
	switch {
	case value > maxv || (width != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr):
		if ow == bfWrap {
			return true, wrap()
		}
		return true, maxv
	case value < minv || (width != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr):
		if ow == bfWrap {
			return true, wrap()
		}
		return true, minv
	}
	return false, 0
}

// bitfieldKeyFlags resolves BITFIELD's variable_flags as Redis's
// bitfieldGetKeys does: read-only when it only GETs (and sets OVERFLOW),
// read-write otherwise (SET, INCRBY, or a syntax error, to be safe).
func bitfieldKeyFlags(args [][]byte, _ int) []string {
	for i := 2; i < len(args); i++ {
		rem := len(args) - i - 1
		switch {
		case strKW(args[i], "get") && rem >= 2:
			i += 2
		case strKW(args[i], "overflow") && rem >= 1:
			i++
		default:
			return flagsRWAccessUpdate
		}
	}
	return flagsROAccess
}
