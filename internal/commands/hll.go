package commands

import (
	"math/rand/v2"
	"strings"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/ds/hll"
	"github.com/corvid-db/corvid/internal/keyspace"
)

// Errors only the HyperLogLog commands reply with.
const (
	errNotHLL       = "WRONGTYPE Key is not a valid HyperLogLog string value."
	errHLLCorrupt   = "INVALIDOBJ Corrupted HLL object detected"
	errHLLNoKey     = "ERR The specified key does not exist"
	errHLLNotSparse = "ERR HLL encoding is not sparse"
)

// hllCommands are Redis's hyperloglog group. Sketches are ordinary string
// values in Redis's byte format (internal/ds/hll), so GET/SET/DUMP move
// them between servers unchanged.
func hllCommands() []*command.Command {
	const (
		read  = command.CatRead
		write = command.CatWrite
		hl    = command.CatHyperLogLog
		fast  = command.CatFast
		slow  = command.CatSlow
		admin = command.CatAdmin
		dang  = command.CatDangerous
	)
	return []*command.Command{
		{Name: "pfadd", Arity: -2, Flags: command.Write | command.DenyOOM | command.Fast, ACL: write | hl | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "RW", "insert")},
			Group: "hyperloglog", Since: "2.8.9", Summary: "Adds elements to a HyperLogLog, creating the key if needed.", Handler: ev(command.NotifyString, "pfadd", pfaddCommand)},
		// PFCOUNT is read-only as Redis flags it, yet it stores the
		// cardinality it computes in the value's header: the dispatcher's
		// exclusive shard locks make that safe.
		{Name: "pfcount", Arity: -2, Flags: command.ReadOnly | command.MayReplicate, ACL: read | hl | slow,
			FirstKey: 1, LastKey: -1, Step: 1,
			KeySpecs: []command.KeySpec{{Flags: []string{"RW", "access"}, BeginIndex: 1, LastKey: -1, Step: 1,
				Notes: "RW because it may change the internal representation of the key, and propagate to replicas"}},
			Group: "hyperloglog", Since: "2.8.9", Summary: "Estimates the number of distinct elements in one HyperLogLog or the union of several.", Handler: pfcountCommand},
		{Name: "pfmerge", Arity: -2, Flags: command.Write | command.DenyOOM, ACL: write | hl | slow,
			FirstKey: 1, LastKey: -1, Step: 1,
			KeySpecs: []command.KeySpec{keyRange(1, 0, "RW", "access", "insert"), keyRange(2, -1, "RO", "access")},
			Group:    "hyperloglog", Since: "2.8.9", Summary: "Stores the union of HyperLogLogs in a destination key.", Handler: evStore(command.NotifyString, "pfadd", 1, pfmergeCommand)},
		{Name: "pfdebug", Arity: 3, Flags: command.Write | command.DenyOOM | command.Admin, ACL: write | hl | admin | slow | dang,
			FirstKey: 2, LastKey: 2, Step: 1, KeySpecs: []command.KeySpec{keyRange(2, 0, "RW", "access")},
			Group: "hyperloglog", Since: "2.8.9", Summary: "Inspects or converts the internal representation of a HyperLogLog (for debugging).", Handler: pfdebugCommand},
		{Name: "pfselftest", Arity: 1, Flags: command.Admin | command.NoKeyspace, ACL: hl | admin | slow | dang,
			Group: "hyperloglog", Since: "2.8.9", Summary: "Runs the HyperLogLog implementation's self test.", Handler: pfselftestCommand},
	}
}

// hllSparseMax is hll-sparse-max-bytes: the size past which a sparse
// sketch that would grow is converted to dense.
func hllSparseMax(c *command.Ctx) int {
	if cfg := configOf(c); cfg != nil {
		return int(cfg.Int("hll-sparse-max-bytes"))
	}
	return 3000
}

// hllLookup finds key's sketch. It replies and returns ok=false on a
// non-string or a string that is not a sketch; found=false means no key.
func hllLookup(c *command.Ctx, key []byte, forRead bool) (val []byte, found, ok bool) {
	var e keyspace.Entry
	var err error
	if forRead {
		e, found, err = c.DB.LookupReadType(key, keyspace.TypeString)
	} else {
		e, found, err = c.DB.LookupType(key, keyspace.TypeString)
	}
	if err != nil {
		c.Error(command.ErrWrongType)
		return nil, false, false
	}
	if !found {
		return nil, false, true
	}
	val = e.Bytes() // nil for int-encoded strings, which are never sketches
	if !hll.Valid(val) {
		c.Error(errNotHLL)
		return nil, false, false
	}
	return val, true, true
}

// hllStore writes a sketch back, keeping the key's TTL, and keeps the
// buffer as the connection's scratch space: a dense sketch is 12 KiB and
// every change rewrites it.
func hllStore(c *command.Ctx, key, val []byte) {
	c.DB.SetString(key, val, keyspace.EncRaw, keyspace.KeepTTL)
	c.Scratch = val[:0]
}

func pfaddCommand(c *command.Ctx) {
	key := c.Args[1]
	val, found, ok := hllLookup(c, key, false)
	if !ok {
		return
	}
	var buf []byte
	updated := 0
	if found {
		buf = append(c.Scratch[:0], val...)
	} else {
		buf = hll.AppendNew(c.Scratch[:0])
		updated++
	}
	max := hllSparseMax(c)
	for _, ele := range c.Args[2:] {
		var r int
		buf, r = hll.Add(buf, ele, max)
		switch r {
		case 1:
			updated++
		case -1:
			// Registers changed by earlier elements stay changed, as in
			// Redis, which updates the value in place.
			if updated > 0 {
				hllStore(c, key, buf)
				c.Dirty++
			}
			c.Error(errHLLCorrupt)
			return
		}
	}
	if updated > 0 {
		hll.InvalidateCache(buf)
		hllStore(c, key, buf)
		c.Dirty += int64(updated)
		c.W.Int(1)
		return
	}
	c.Scratch = buf[:0]
	c.W.Int(0)
}

func pfcountCommand(c *command.Ctx) {
	if len(c.Args) > 2 {
		var max [hll.Registers]uint8
		for _, key := range c.Args[1:] {
			val, found, ok := hllLookup(c, key, true)
			if !ok {
				return
			}
			if found && !hll.Merge(&max, val) {
				c.Error(errHLLCorrupt)
				return
			}
		}
		c.W.Int(int64(hll.CountRegisters(&max)))
		return
	}
	key := c.Args[1]
	val, found, ok := hllLookup(c, key, true)
	if !ok {
		return
	}
	if !found {
		c.W.Int(0)
		return
	}
	if card, valid := hll.CachedCard(val); valid {
		c.W.Int(int64(card))
		return
	}
	card, invalid := hll.Count(val)
	if invalid {
		c.Error(errHLLCorrupt)
		return
	}
	buf := append(c.Scratch[:0], val...)
	hll.SetCachedCard(buf, card)
	hllStore(c, key, buf)
	c.Dirty++
	c.W.Int(int64(card))
}

func pfmergeCommand(c *command.Ctx) {
	var max [hll.Registers]uint8
	useDense := false
	for _, key := range c.Args[1:] {
		val, found, ok := hllLookup(c, key, true)
		if !ok {
			return
		}
		if !found {
			continue
		}
		if !hll.IsSparse(val) {
			useDense = true
		}
		if !hll.Merge(&max, val) {
			c.Error(errHLLCorrupt)
			return
		}
	}
	// The destination was validated with the sources (it is the first).
	dest := c.Args[1]
	var buf []byte
	if e, found := c.DB.Lookup(dest); found {
		buf = append(c.Scratch[:0], e.Bytes()...)
	} else {
		buf = hll.AppendNew(c.Scratch[:0])
	}
	if useDense {
		var ok bool
		if buf, ok = hll.ToDense(buf); !ok {
			c.Error(errHLLCorrupt)
			return
		}
	}
	sparseMax := hllSparseMax(c)
	for i, v := range max {
		if v != 0 {
			buf, _ = hll.Set(buf, i, v, sparseMax)
		}
	}
	hll.InvalidateCache(buf)
	hllStore(c, dest, buf)
	c.Dirty++
	c.OK()
}

func pfdebugCommand(c *command.Ctx) {
	sub, key := c.Args[1], c.Args[2]
	val, found, ok := hllLookup(c, key, false)
	if !ok {
		return
	}
	if !found {
		c.Error(errHLLNoKey)
		return
	}
	switch strings.ToLower(string(sub)) {
	case "getreg":
		if hll.IsSparse(val) {
			d, ok := hll.ToDense(val)
			if !ok {
				c.Error(errHLLCorrupt)
				return
			}
			c.DB.SetString(key, d, keyspace.EncRaw, keyspace.KeepTTL)
			c.Dirty++
			val = d
		}
		regs := val[hll.HeaderSize:]
		c.W.ArrayLen(hll.Registers)
		for i := 0; i < hll.Registers; i++ {
			c.W.Int(int64(hll.DenseGet(regs, i)))
		}
	case "decode":
		if !hll.IsSparse(val) {
			c.Error(errHLLNotSparse)
			return
		}
		c.W.BulkString(hll.Decode(val))
	case "encoding":
		if hll.IsSparse(val) {
			c.W.SimpleString("sparse")
		} else {
			c.W.SimpleString("dense")
		}
	case "todense":
		if !hll.IsSparse(val) {
			c.W.Int(0)
			return
		}
		d, ok := hll.ToDense(val)
		if !ok {
			c.Error(errHLLCorrupt)
			return
		}
		c.DB.SetString(key, d, keyspace.EncRaw, keyspace.KeepTTL)
		c.Dirty++
		c.W.Int(1)
	default:
		c.Error("ERR Unknown PFDEBUG subcommand '" + string(sub) + "'")
	}
}

func pfselftestCommand(c *command.Ctx) {
	if err := hll.SelfTest(hllSparseMax(c), rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))); err != nil {
		c.Error(err.Error())
		return
	}
	c.OK()
}
