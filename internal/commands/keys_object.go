package commands

import (
	"math"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/keyspace"
)

// sharedRefcount is what Redis reports for its shared integer objects
// (OBJ_SHARED_REFCOUNT, INT_MAX): values 0..sharedIntegers-1 stored as
// integers are one shared object unless an LRU/LFU policy needs per-key
// access data.
const (
	sharedRefcount = math.MaxInt32
	sharedIntegers = 10000
)

var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Prints this help.",
}

func objectHelpCommand(c *command.Ctx) {
	c.W.ArrayLen(len(objectHelp))
	for _, l := range objectHelp {
		c.W.SimpleString(l)
	}
}

// objectLookup finds OBJECT's key without stamping its access time (asking
// about a key must not change its idle time), replying null if it is missing.
func objectLookup(c *command.Ctx) (keyspace.Entry, bool) {
	e, ok := readDB(c).LookupRead(c.Args[2])
	if !ok {
		c.W.Null()
	}
	return e, ok
}

// policy returns maxmemory-policy and maxmemory, or Redis's defaults
// (noeviction, no limit) when the configuration is not reachable.
func policy(c *command.Ctx) (int64, int64) {
	if cfg := configOf(c); cfg != nil {
		return cfg.Int("maxmemory-policy"), cfg.Int("maxmemory")
	}
	return config.PolicyNoEviction, 0
}

func isLFU(p int64) bool { return p == config.PolicyVolatileLFU || p == config.PolicyAllkeysLFU }

func isLRU(p int64) bool { return p == config.PolicyVolatileLRU || p == config.PolicyAllkeysLRU }

func objectEncodingCommand(c *command.Ctx) {
	if e, ok := objectLookup(c); ok {
		c.W.BulkString(e.Encoding())
	}
}

func objectRefcountCommand(c *command.Ctx) {
	e, ok := objectLookup(c)
	if !ok {
		return
	}
	p, maxmem := policy(c)
	if n, isInt := e.Int(); isInt && n >= 0 && n < sharedIntegers && (maxmem == 0 || !(isLRU(p) || isLFU(p))) {
		c.W.Int(sharedRefcount)
		return
	}
	c.W.Int(1)
}

func objectIdletimeCommand(c *command.Ctx) {
	e, ok := objectLookup(c)
	if !ok {
		return
	}
	if p, _ := policy(c); isLFU(p) {
		c.Error(errLFUSelected)
		return
	}
	c.W.Int(c.DB.Store().IdleSeconds(e.LRU()))
}

func objectFreqCommand(c *command.Ctx) {
	e, ok := objectLookup(c)
	if !ok {
		return
	}
	p, _ := policy(c)
	if !isLFU(p) {
		c.Error(command.ErrLFUNotSelected)
		return
	}
	c.W.Int(c.DB.Store().LFUCounter(e.LRU()))
}
