package commands

import (
	"math"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// Errors only the generic (keyspace) commands reply with.
const (
	errInvalidFirstDB  = "ERR invalid first DB index"
	errInvalidSecondDB = "ERR invalid second DB index"
	errInvalidCursor   = "ERR invalid cursor"
	errUnknownType     = "ERR unknown type object"
	errExpireNXCombo   = "ERR NX and XX, GT or LT options at the same time are not compatible"
	errExpireGTLT      = "ERR GT and LT options at the same time are not compatible"
	errLFUSelected     = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
)

// keyCommands are Redis's generic group (keys, expiry, OBJECT) plus the
// keyspace-wide server commands (FLUSHDB, FLUSHALL, DBSIZE, SWAPDB).
func keyCommands() []*command.Command {
	const (
		ks    = command.CatKeyspace
		read  = command.CatRead
		write = command.CatWrite
		fast  = command.CatFast
		slow  = command.CatSlow
		dang  = command.CatDangerous
	)
	multiShard := []string{"request_policy:multi_shard", "response_policy:agg_sum"}
	nondet := []string{"nondeterministic_output"}
	return []*command.Command{
		{Name: "del", Arity: -2, Flags: command.Write, ACL: ks | write | slow,
			FirstKey: 1, LastKey: -1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, -1, "RM", "delete")},
			Group: "generic", Since: "1.0.0", Summary: "Removes keys, freeing their values at once.", Tips: multiShard, Handler: delCommand},
		{Name: "unlink", Arity: -2, Flags: command.Write | command.Fast, ACL: ks | write | fast,
			FirstKey: 1, LastKey: -1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, -1, "RM", "delete")},
			Group: "generic", Since: "4.0.0", Summary: "Removes keys, possibly reclaiming their memory later.", Tips: multiShard, Handler: delCommand},
		{Name: "exists", Arity: -2, Flags: command.ReadOnly | command.Fast, ACL: ks | read | fast,
			FirstKey: 1, LastKey: -1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, -1, "RO")},
			Group: "generic", Since: "1.0.0", Summary: "Counts how many of the given keys exist.", Tips: multiShard, Handler: existsCommand},
		{Name: "type", Arity: 2, Flags: command.ReadOnly | command.Fast, ACL: ks | read | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "RO")},
			Group: "generic", Since: "1.0.0", Summary: "Reports the data type held at a key.", Handler: typeCommand},
		{Name: "rename", Arity: 3, Flags: command.Write, ACL: ks | write | slow,
			FirstKey: 1, LastKey: 2, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "RW", "access", "delete"), keyRange(2, 0, "OW", "update")},
			Group: "generic", Since: "1.0.0", Summary: "Gives a key a new name, replacing any key of that name.", Handler: renameCommand},
		{Name: "renamenx", Arity: 3, Flags: command.Write | command.Fast, ACL: ks | write | fast,
			FirstKey: 1, LastKey: 2, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "RW", "access", "delete"), keyRange(2, 0, "OW", "insert")},
			Group: "generic", Since: "1.0.0", Summary: "Gives a key a new name unless that name is taken.", Handler: renamenxCommand},
		{Name: "copy", Arity: -3, Flags: command.Write | command.DenyOOM, ACL: ks | write | slow,
			FirstKey: 1, LastKey: 2, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "RO", "access"), keyRange(2, 0, "OW", "update")},
			Group: "generic", Since: "6.2.0", Summary: "Duplicates a key's value under another name, optionally in another database.", Handler: copyCommand},
		{Name: "move", Arity: 3, Flags: command.Write | command.Fast, ACL: ks | write | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "RW", "access", "update")},
			Group: "generic", Since: "1.0.0", Summary: "Transfers a key to another database.", Handler: moveCommand},
		{Name: "swapdb", Arity: 3, Flags: command.Write | command.Fast | command.AllShards, ACL: ks | write | fast | dang,
			Group: "server", Since: "4.0.0", Summary: "Exchanges the contents of two databases.", Handler: swapdbCommand},
		{Name: "flushdb", Arity: -1, Flags: command.Write | command.AllShards, ACL: ks | write | slow | dang,
			Group: "server", Since: "1.0.0", Summary: "Empties the selected database.", Handler: flushdbCommand,
			Tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"}},
		{Name: "flushall", Arity: -1, Flags: command.Write | command.AllShards, ACL: ks | write | slow | dang,
			Group: "server", Since: "1.0.0", Summary: "Empties every database.", Handler: flushallCommand,
			Tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"}},
		{Name: "dbsize", Arity: 1, Flags: command.ReadOnly | command.Fast | command.AllShards, ACL: ks | read | fast,
			Group: "server", Since: "1.0.0", Summary: "Counts the keys of the selected database.", Handler: dbsizeCommand,
			Tips: []string{"request_policy:all_shards", "response_policy:agg_sum"}},
		{Name: "keys", Arity: 2, Flags: command.ReadOnly | command.AllShards, ACL: ks | read | slow | dang,
			Group: "generic", Since: "1.0.0", Summary: "Lists every key matching a glob pattern.", Handler: keysCommand,
			Tips: []string{"request_policy:all_shards", "nondeterministic_output_order"}},
		{Name: "scan", Arity: -2, Flags: command.ReadOnly | command.AllShards, ACL: ks | read | slow,
			Group: "generic", Since: "2.8.0", Summary: "Walks the key names of the database a few at a time with a cursor.", Handler: scanCommand,
			Tips: []string{"nondeterministic_output", "request_policy:special", "response_policy:special"}},
		{Name: "randomkey", Arity: 1, Flags: command.ReadOnly | command.AllShards, ACL: ks | read | slow,
			Group: "generic", Since: "1.0.0", Summary: "Picks a key of the database at random.", Handler: randomkeyCommand,
			Tips: []string{"request_policy:all_shards", "response_policy:special", "nondeterministic_output"}},
		{Name: "touch", Arity: -2, Flags: command.ReadOnly | command.Fast, ACL: ks | read | fast,
			FirstKey: 1, LastKey: -1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, -1, "RO")},
			Group: "generic", Since: "3.2.1", Summary: "Marks keys as just accessed and counts those that exist.", Tips: multiShard, Handler: touchCommand},
		{Name: "expire", Arity: -3, Flags: command.Write | command.Fast, ACL: ks | write | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "RW", "update")},
			Group: "generic", Since: "1.0.0", Summary: "Gives a key a time to live in seconds.", Handler: expireCommand},
		{Name: "pexpire", Arity: -3, Flags: command.Write | command.Fast, ACL: ks | write | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "RW", "update")},
			Group: "generic", Since: "2.6.0", Summary: "Gives a key a time to live in milliseconds.", Handler: pexpireCommand},
		{Name: "expireat", Arity: -3, Flags: command.Write | command.Fast, ACL: ks | write | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "RW", "update")},
			Group: "generic", Since: "1.2.0", Summary: "Makes a key expire at a Unix time in seconds.", Handler: expireatCommand},
		{Name: "pexpireat", Arity: -3, Flags: command.Write | command.Fast, ACL: ks | write | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "RW", "update")},
			Group: "generic", Since: "2.6.0", Summary: "Makes a key expire at a Unix time in milliseconds.", Handler: pexpireatCommand},
		{Name: "ttl", Arity: 2, Flags: command.ReadOnly | command.Fast, ACL: ks | read | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "RO", "access")},
			Group: "generic", Since: "1.0.0", Summary: "Reports a key's remaining time to live in seconds.", Tips: nondet, Handler: ttlCommand},
		{Name: "pttl", Arity: 2, Flags: command.ReadOnly | command.Fast, ACL: ks | read | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "RO", "access")},
			Group: "generic", Since: "2.6.0", Summary: "Reports a key's remaining time to live in milliseconds.", Tips: nondet, Handler: pttlCommand},
		{Name: "expiretime", Arity: 2, Flags: command.ReadOnly | command.Fast, ACL: ks | read | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "RO", "access")},
			Group: "generic", Since: "7.0.0", Summary: "Reports when a key expires, as a Unix time in seconds.", Handler: expiretimeCommand},
		{Name: "pexpiretime", Arity: 2, Flags: command.ReadOnly | command.Fast, ACL: ks | read | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "RO", "access")},
			Group: "generic", Since: "7.0.0", Summary: "Reports when a key expires, as a Unix time in milliseconds.", Handler: pexpiretimeCommand},
		{Name: "persist", Arity: 2, Flags: command.Write | command.Fast, ACL: ks | write | fast,
			FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: []command.KeySpec{keyRange(1, 0, "RW", "update")},
			Group: "generic", Since: "2.2.0", Summary: "Makes a key permanent by dropping its time to live.", Handler: persistCommand},
		{Name: "object", Arity: -2, ACL: slow,
			Group: "generic", Since: "2.2.3", Summary: "Container for the value introspection subcommands.",
			Subcommands: []*command.Command{
				{Name: "object|encoding", Arity: 3, Flags: command.ReadOnly, ACL: ks | read | slow,
					FirstKey: 2, LastKey: 2, Step: 1, KeySpecs: []command.KeySpec{keyRange(2, 0, "RO")},
					Group: "generic", Since: "2.2.3", Summary: "Reports how a key's value is represented internally.", Tips: nondet, Handler: objectEncodingCommand},
				{Name: "object|freq", Arity: 3, Flags: command.ReadOnly, ACL: ks | read | slow,
					FirstKey: 2, LastKey: 2, Step: 1, KeySpecs: []command.KeySpec{keyRange(2, 0, "RO")},
					Group: "generic", Since: "4.0.0", Summary: "Reports a key's logarithmic access-frequency counter (LFU policies only).", Tips: nondet, Handler: objectFreqCommand},
				{Name: "object|help", Arity: 2, Flags: command.Loading | command.Stale | command.NoKeyspace, ACL: ks | slow,
					Group: "generic", Since: "6.2.0", Summary: "Lists the OBJECT subcommands.", Handler: objectHelpCommand},
				{Name: "object|idletime", Arity: 3, Flags: command.ReadOnly, ACL: ks | read | slow,
					FirstKey: 2, LastKey: 2, Step: 1, KeySpecs: []command.KeySpec{keyRange(2, 0, "RO")},
					Group: "generic", Since: "2.2.3", Summary: "Reports how many seconds ago a key was last accessed.", Tips: nondet, Handler: objectIdletimeCommand},
				{Name: "object|refcount", Arity: 3, Flags: command.ReadOnly, ACL: ks | read | slow,
					FirstKey: 2, LastKey: 2, Step: 1, KeySpecs: []command.KeySpec{keyRange(2, 0, "RO")},
					Group: "generic", Since: "2.2.3", Summary: "Reports how many references a key's value has.", Tips: nondet, Handler: objectRefcountCommand},
			}},
	}
}

// keyRange is a key spec starting at argument begin and ending lastKey
// arguments later (-1: at the last argument), one key per argument.
func keyRange(begin, lastKey int, flags ...string) command.KeySpec {
	return command.KeySpec{Flags: flags, BeginIndex: begin, LastKey: lastKey, Step: 1}
}

// configOf returns the server configuration when the connection exposes it
// (the server's client does); commands read policy settings through it.
// mustObey reports whether the command comes from our primary's stream (or
// an AOF being loaded), which is applied as written: Redis's mustObeyClient.
func mustObey(c *command.Ctx) bool {
	o, ok := c.Conn.(interface{ MustObey() bool })
	return ok && o.MustObey()
}

func configOf(c *command.Ctx) *config.Config {
	if s, ok := c.Conn.(interface{ Config() *config.Config }); ok {
		return s.Config()
	}
	return nil
}

// readDB is the handle read-only introspection (EXISTS, TYPE, TTL, OBJECT)
// uses: Redis looks keys up with LOOKUP_NOTOUCH there, so asking about a
// key does not make it "used".
func readDB(c *command.Ctx) keyspace.DB {
	db := c.DB
	db.NoTouch = true
	return db
}

// otherDB returns a handle on database idx with the command's clock and
// touch mode. Keys keep their shard in every database, so the locks the
// dispatcher took for the command's keys cover them there too.
func otherDB(c *command.Ctx, idx int) keyspace.DB {
	db := c.DB.Store().DB(idx).At(c.DB.Now())
	db.NoTouch = c.DB.NoTouch
	return db
}

// parseInt32 parses a C int argument the way getIntFromObjectOrReply does.
func parseInt32(b []byte) (int, bool) {
	n, ok := resp.ParseInt(b)
	if !ok || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, false
	}
	return int(n), true
}

// equalFold compares an argument with a lower-case ASCII keyword.
func equalFold(arg []byte, kw string) bool {
	if len(arg) != len(kw) {
		return false
	}
	for i := range arg {
		b := arg[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if b != kw[i] {
			return false
		}
	}
	return true
}

func delCommand(c *command.Ctx) {
	n := int64(0)
	for _, key := range c.Args[1:] {
		if c.DB.Delete(key) {
			n++
			c.Notify(command.NotifyGeneric, "del", key)
		}
	}
	c.Dirty += n
	c.W.Int(n)
}

func existsCommand(c *command.Ctx) {
	n := int64(0)
	db := readDB(c)
	for _, key := range c.Args[1:] {
		if _, ok := db.LookupRead(key); ok {
			n++
		}
	}
	c.W.Int(n)
}

func typeCommand(c *command.Ctx) {
	e, ok := readDB(c).LookupRead(c.Args[1])
	if !ok {
		c.W.SimpleString("none")
		return
	}
	c.W.SimpleString(e.Type().String())
}

func touchCommand(c *command.Ctx) {
	n := int64(0)
	for _, key := range c.Args[1:] {
		if _, ok := c.DB.LookupRead(key); ok {
			n++
		}
	}
	c.W.Int(n)
}

func renameCommand(c *command.Ctx)   { renameGeneric(c, false) }
func renamenxCommand(c *command.Ctx) { renameGeneric(c, true) }

func renameGeneric(c *command.Ctx, nx bool) {
	src, dst := c.Args[1], c.Args[2]
	if _, ok := c.DB.Lookup(src); !ok {
		c.Error(command.ErrNoSuchKey)
		return
	}
	if string(src) == string(dst) {
		// Renaming a key to itself changes nothing, but RENAMENX still
		// reports that the name was taken.
		if nx {
			c.W.Int(0)
		} else {
			c.OK()
		}
		return
	}
	if nx {
		if !c.DB.MoveTo(src, c.DB, dst, false) {
			c.W.Int(0)
			return
		}
		trackHashFieldTTLs(c.DB, dst)
		c.Dirty++
		c.Notify(command.NotifyGeneric, "rename_from", src)
		c.Notify(command.NotifyGeneric, "rename_to", dst)
		c.W.Int(1)
		return
	}
	c.DB.Rename(src, dst)
	trackHashFieldTTLs(c.DB, dst)
	c.Dirty++
	c.Notify(command.NotifyGeneric, "rename_from", src)
	c.Notify(command.NotifyGeneric, "rename_to", dst)
	c.OK()
}

func moveCommand(c *command.Ctx) {
	key := c.Args[1]
	idx, ok := parseInt32(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	if idx < 0 || idx >= c.DB.Store().Databases() {
		c.Error(command.ErrDBIndex)
		return
	}
	if idx == c.DB.Index() {
		c.Error(command.ErrSameObject)
		return
	}
	if _, ok := c.DB.Lookup(key); !ok {
		c.W.Int(0)
		return
	}
	to := otherDB(c, idx)
	if !c.DB.MoveTo(key, to, key, false) {
		c.W.Int(0)
		return
	}
	trackHashFieldTTLs(to, key)
	c.Dirty++
	c.Notify(command.NotifyGeneric, "move_from", key)
	c.NotifyDB(command.NotifyGeneric, "move_to", key, to.Index())
	c.W.Int(1)
}

func copyCommand(c *command.Ctx) {
	src, dst := c.Args[1], c.Args[2]
	to := c.DB
	replace := false
	for j := 3; j < len(c.Args); j++ {
		switch {
		case equalFold(c.Args[j], "replace"):
			replace = true
		case equalFold(c.Args[j], "db") && j+1 < len(c.Args):
			idx, ok := parseInt32(c.Args[j+1])
			if !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			if idx < 0 || idx >= c.DB.Store().Databases() {
				c.Error(command.ErrDBIndex)
				return
			}
			to = otherDB(c, idx)
			j++
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	if to.Index() == c.DB.Index() && string(src) == string(dst) {
		c.Error(command.ErrSameObject)
		return
	}
	if _, ok := c.DB.LookupRead(src); !ok {
		c.W.Int(0)
		return
	}
	if !replace && to.Exists(dst) {
		c.W.Int(0)
		return
	}
	if !c.DB.CopyTo(src, to, dst, replace) {
		// The source and destination were checked above, so only a value
		// type without a Copy method is left.
		c.Error(errUnknownType)
		return
	}
	trackHashFieldTTLs(to, dst)
	c.Dirty++
	c.NotifyDB(command.NotifyGeneric, "copy_to", dst, to.Index())
	c.W.Int(1)
}

func swapdbCommand(c *command.Ctx) {
	a, ok := parseInt32(c.Args[1])
	if !ok {
		c.Error(errInvalidFirstDB)
		return
	}
	b, ok := parseInt32(c.Args[2])
	if !ok {
		c.Error(errInvalidSecondDB)
		return
	}
	s := c.DB.Store()
	if a < 0 || a >= s.Databases() || b < 0 || b >= s.Databases() {
		c.Error(command.ErrDBIndex)
		return
	}
	if a != b {
		s.SwapDB(a, b)
	}
	c.Dirty++
	c.OK()
}

// flushArgsOK validates FLUSHDB/FLUSHALL's optional SYNC|ASYNC. Both modes
// do the same work here: dropping a table releases its slab pages in bulk,
// which costs the same whether or not the client waits for it.
func flushArgsOK(c *command.Ctx) bool {
	switch len(c.Args) {
	case 1:
		return true
	case 2:
		if equalFold(c.Args[1], "sync") || equalFold(c.Args[1], "async") {
			return true
		}
	}
	c.Error(command.ErrSyntax)
	return false
}

func flushdbCommand(c *command.Ctx) {
	if !flushArgsOK(c) {
		return
	}
	c.Dirty += int64(c.DB.Len())
	c.DB.Flush()
	c.ForcePropagation() // an empty database on the primary may not be one on a replica
	c.OK()
}

func flushallCommand(c *command.Ctx) {
	if !flushArgsOK(c) {
		return
	}
	s := c.DB.Store()
	for i := 0; i < s.Databases(); i++ {
		c.Dirty += int64(s.DB(i).Len())
	}
	s.FlushAll()
	c.ForcePropagation()
	c.OK()
}

func dbsizeCommand(c *command.Ctx) { c.W.Int(int64(c.DB.Len())) }

func randomkeyCommand(c *command.Ctx) {
	key := c.DB.RandomKey()
	if key == nil {
		c.W.Null()
		return
	}
	c.W.Bulk(key)
}
