package server

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/commands"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/ds/quicklist"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/rdb"
	"github.com/corvid-db/corvid/internal/resp"
)

// DEBUG is one command whose handler parses its own subcommand, as in
// Redis (COMMAND shows no subcommands). It is refused unless
// enable-debug-command allows the connection. Subcommands that read one key
// name it through debugKeys so the dispatcher locks its shard; DIGEST,
// POPULATE, HTSTATS and SLEEP lock every shard themselves (SLEEP to freeze
// the keyspace the way a sleeping Redis is frozen).

// debugKeys returns the key positions of DEBUG's single-key subcommands.
func debugKeys(args [][]byte) []int {
	if len(args) < 3 {
		return nil
	}
	switch strings.ToLower(string(args[1])) {
	case "object", "sdslen", "listpack", "quicklist", "htstats-key":
		return []int{2}
	case "digest-value":
		out := make([]int, 0, len(args)-2)
		for i := 2; i < len(args); i++ {
			out = append(out, i)
		}
		return out
	}
	return nil
}

func (s *Server) debugCommand(c *command.Ctx) {
	sub := strings.ToLower(string(c.Args[1]))
	n := len(c.Args)
	switch {
	case sub == "help" && n == 2:
		debugHelp(c)
	case sub == "sleep" && n == 3:
		d := parseSeconds(c.Args[2])
		unlock := s.lockAllShards(c)
		time.Sleep(d)
		unlock()
		c.OK()
	case sub == "object" && n == 3:
		s.debugObject(c)
	case sub == "reload":
		s.debugReload(c)
	case sub == "loadaof" && n == 2:
		s.debugLoadAOF(c)
	case sub == "set-active-expire" && n == 3:
		s.activeExpire.Store(atoi(c.Args[2]) != 0)
		c.OK()
	case sub == "quicklist-packed-threshold" && n == 3:
		sz, ok := parseMemory(string(c.Args[2]))
		if !ok || sz > 1<<32-1<<20 {
			c.Error("ERR argument must be a memory value bigger than 1 and smaller than 4gb")
			return
		}
		if sz == 0 {
			sz = 1 << 30
		}
		s.admin().quicklistPackedThreshold.Store(int64(sz))
		c.OK()
	case sub == "set-skip-checksum-validation" && n == 3:
		s.admin().skipChecksumValidation.Store(atoi(c.Args[2]) != 0)
		c.OK()
	case sub == "set-disable-deny-scripts" && n == 3:
		s.admin().disableDenyScripts.Store(atoi(c.Args[2]) != 0)
		c.OK()
	case sub == "replybuffer" && n == 4 && strings.EqualFold(string(c.Args[2]), "resizing"):
		// Whether a reply buffer grown past 1 MiB is released once
		// written: Redis's tests turn it off to measure clients whose
		// memory must not move.
		s.admin().replyBufKeep.Store(atoi(c.Args[3]) == 0)
		c.OK()
	case sub == "pause-cron" && n == 3:
		s.admin().pauseCron.Store(atoi(c.Args[2]) != 0)
		c.OK()
	case sub == "replicate" && n >= 3:
		// To the replicas only, as is: Redis's tests make a replica
		// fail a command its primary sent.
		s.prop.emitToReplicas(c.Args[2:]...)
		c.OK()
	case sub == "log" && n == 3:
		s.Log.Warningf("DEBUG LOG: %s", c.Args[2])
		c.OK()
	case sub == "error" && n == 3:
		c.Error(strings.NewReplacer("\r", " ", "\n", " ").Replace(string(c.Args[2])))
	case sub == "populate" && n >= 3 && n <= 5:
		s.debugPopulate(c)
	case sub == "digest" && n == 2:
		unlock := s.lockAllShards(c)
		d := s.datasetDigest(c.DB.Now())
		unlock()
		c.W.SimpleString(hex.EncodeToString(d[:]))
	case sub == "digest-value" && n >= 2:
		c.W.ArrayLen(n - 2)
		for _, key := range c.Args[2:] {
			var d [20]byte
			db := c.DB
			db.NoTouch = true
			if e, ok := db.Lookup(key); ok {
				xorValueDigest(&d, e, c.DB.Now())
			}
			c.W.SimpleString(hex.EncodeToString(d[:]))
		}
	case sub == "protocol" && n == 3:
		debugProtocol(c)
	case sub == "htstats" && n >= 3:
		s.debugHTStats(c)
	case sub == "aof-flush-sleep" && n == 3:
		us, ok := resp.ParseInt(c.Args[2])
		if !ok {
			c.Error(command.ErrNotInteger)
			return
		}
		s.aof.flushSleep.Store(us)
		c.OK()
	case sub == "change-repl-id" && n == 2:
		s.Log.Noticef("Changing replication IDs after receiving DEBUG change-repl-id")
		a := s.admin()
		a.replMu.Lock()
		a.replID = randomHex40()
		a.replID2 = strings.Repeat("0", 40)
		a.replMu.Unlock()
		c.OK()
	case sub == "stringmatch-test" && n == 2:
		stringmatchFuzz()
		c.W.SimpleString("Apparently Redis did not crash: test passed")
	case sub == "config-rewrite-force-all" && n == 2:
		// The config package has no force-all rewrite; a plain rewrite
		// is the closest it offers.
		if err := s.Config.Rewrite(); err != nil {
			c.Error("ERR CONFIG-REWRITE-FORCE-ALL failed: " + strings.TrimPrefix(err.Error(), "ERR "))
			return
		}
		c.OK()
	default:
		subcommandSyntaxError(c)
	}
}

// atoi is C's atoi: leading digits, 0 when there are none.
func atoi(b []byte) int64 {
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var n int64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// parseSeconds reads DEBUG SLEEP's argument as strtod does: the longest
// valid prefix, 0 when there is none.
func parseSeconds(b []byte) time.Duration {
	s := strings.TrimSpace(string(b))
	for end := len(s); end > 0; end-- {
		if f, err := strconv.ParseFloat(s[:end], 64); err == nil {
			if f <= 0 || f != f {
				return 0
			}
			return time.Duration(f * float64(time.Second))
		}
	}
	return 0
}

// parseMemory parses a memory value as redis.conf writes them (1024, 1k,
// 1kb, 5mb, 1gb; case-insensitive).
func parseMemory(s string) (uint64, bool) {
	ls := strings.ToLower(s)
	mul := uint64(1)
	for _, u := range []struct {
		suffix string
		mul    uint64
	}{{"kb", 1024}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}, {"b", 1}} {
		if strings.HasSuffix(ls, u.suffix) {
			ls, mul = strings.TrimSuffix(ls, u.suffix), u.mul
			break
		}
	}
	v, err := strconv.ParseUint(ls, 10, 64)
	if err != nil || (v != 0 && v*mul/mul != v) {
		return 0, false
	}
	return v * mul, true
}

// debugObject is DEBUG OBJECT key, in Redis's format: Value at:<addr>
// refcount:<n> encoding:<enc> serializedlength:<n> lru:<clock>
// lru_seconds_idle:<n>[ extra].
func (s *Server) debugObject(c *command.Ctx) {
	key := c.Args[2]
	e, ok := c.DB.Find(key) // as Redis's dbFind: expired or not
	if !ok {
		c.Error(command.ErrNoSuchKey)
		return
	}
	refcount := int64(1)
	if n, isInt := e.Int(); isInt && n >= 0 && n < 10000 && !s.noSharedIntegers() {
		refcount = 2147483647 // shared integer, as Redis's OBJ_SHARED_REFCOUNT
	}
	// The serialized length is that of the value's RDB payload (its type
	// byte aside), as SAVE would write it: compressed, in its encoding.
	val := rdb.NewBufferWriter(nil)
	val.Compress = s.Config.Bool("rdbcompression")
	commands.DumpValue(val, e, c.DB.Now(), commands.DumpLimitsOf(s.Config))
	serialized := max(len(val.Bytes())-1, 0)
	extra := ""
	if ql, ok := e.Object().(*quicklist.List); ok {
		// Redis's quicklist figures; Corvid compresses no node, and its
		// nodes' listpacks keep a 4-byte header where Redis's have 6 bytes
		// and an end byte: the size is given as Redis's layout has it.
		nodes := max(ql.Nodes(), 1)
		compressed := 0
		if s.Config.Int("list-compress-depth") != 0 {
			compressed = 1
		}
		extra = fmt.Sprintf(" ql_nodes:%d ql_avg_node:%.2f ql_listpack_max:%d ql_compressed:%d ql_uncompressed_size:%d",
			ql.Nodes(), float64(ql.Len())/float64(nodes), s.Config.Int("list-max-listpack-size"), compressed, ql.Bytes()+3*ql.Nodes())
	}
	lru := e.LRU()
	idle := int64(s.Store.LRUClock()) - int64(lru)
	if idle < 0 {
		idle = 0
	}
	b := make([]byte, 0, 128)
	b = append(b, "Value at:"...)
	b = append(b, pseudoAddress(c.DB.Index(), key)...)
	b = append(b, " refcount:"...)
	b = strconv.AppendInt(b, refcount, 10)
	b = append(b, " encoding:"...)
	b = append(b, e.Encoding()...)
	b = append(b, " serializedlength:"...)
	b = strconv.AppendInt(b, int64(serialized), 10)
	b = append(b, " lru:"...)
	b = strconv.AppendInt(b, int64(lru&lruClockMax), 10)
	b = append(b, " lru_seconds_idle:"...)
	b = strconv.AppendInt(b, idle, 10)
	b = append(b, extra...)
	c.W.SimpleString(string(b))
}

// noSharedIntegers reports Redis's condition for not sharing small
// integer objects: a maxmemory limit with an LRU or LFU policy.
func (s *Server) noSharedIntegers() bool {
	if s.Config.Int("maxmemory") == 0 {
		return false
	}
	switch s.Config.Int("maxmemory-policy") {
	case config.PolicyVolatileLRU, config.PolicyVolatileLFU, config.PolicyAllkeysLRU, config.PolicyAllkeysLFU:
		return true
	}
	return false
}

// pseudoAddress stands in for the value's pointer: Corvid's records move
// and have no stable address, but tests compare the field across in-place
// updates, so it is derived from the key's identity.
func pseudoAddress(db int, key []byte) string {
	h := fnv.New64a()
	_, _ = h.Write(key)
	_, _ = h.Write([]byte{byte(db)})
	return "0x7f" + strconv.FormatUint(h.Sum64()&0xffffffffff, 16)
}

// debugPopulate is DEBUG POPULATE count [prefix] [size]: count string keys
// "prefix:N" (prefix "key") holding "value:N", padded with zero bytes or
// cut to size when one is given. Existing keys are left alone.
func (s *Server) debugPopulate(c *command.Ctx) {
	count, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	if count < 0 {
		c.Error(command.ErrNotInRange)
		return
	}
	prefix := "key"
	if len(c.Args) >= 4 {
		prefix = string(c.Args[3])
	}
	size := int64(0)
	if len(c.Args) == 5 {
		size, ok = resp.ParseInt(c.Args[4])
		if !ok {
			c.Error(command.ErrNotInteger)
			return
		}
		if size < 0 {
			c.Error(command.ErrNotInRange)
			return
		}
	}
	defer s.lockAllShards(c)()
	db := c.DB
	var key, val []byte
	for j := int64(0); j < count; j++ {
		key = strconv.AppendInt(append(append(key[:0], prefix...), ':'), j, 10)
		if db.Exists(key) {
			continue
		}
		val = strconv.AppendInt(append(val[:0], "value:"...), j, 10)
		if size > 0 {
			if int64(len(val)) > size {
				val = val[:size]
			} else {
				val = append(val, make([]byte, size-int64(len(val)))...)
			}
		}
		enc := keyspace.EncEmbstr
		if len(val) > 44 {
			enc = keyspace.EncRaw
		}
		db.SetString(key, val, enc, 0)
	}
	// As Redis's: the keys are not propagated (DEBUG HELP says so), and
	// the command does not count as a change, which would propagate it.
	c.PreventPropagation()
	c.OK()
}

// Digests, as DEBUG DIGEST defines them: every key contributes
// SHA1-chained ("mixed") digests of its name, type, value and expiry flag,
// and the per-key digests are XORed together so key order does not matter.
// The values' part is commands.DigestValue, Redis's own fingerprint.

// redisTypeCode is the type number Redis mixes into a value's digest (its
// OBJ_* constant: a stream is 6, after modules' 5).
func redisTypeCode(t keyspace.Type) uint32 {
	if t == keyspace.TypeStream {
		return 6
	}
	return uint32(t)
}

// xorValueDigest mixes a value's type, contents and expiry into d.
func xorValueDigest(d *[20]byte, e keyspace.Entry, now int64) {
	var typ [4]byte
	binary.BigEndian.PutUint32(typ[:], redisTypeCode(e.Type()))
	commands.MixDigest(d, typ[:])
	commands.DigestValue(d, e, now)
	if e.ExpireAt() != 0 {
		commands.XorDigest(d, []byte("!!expire!!"))
	}
}

// datasetDigest is DEBUG DIGEST's fingerprint of every database; all zeros
// for an empty dataset. Caller holds every shard.
func (s *Server) datasetDigest(now int64) [20]byte {
	var final [20]byte
	for i := 0; i < s.Store.Databases(); i++ {
		db := s.Store.DB(i).At(now)
		if db.Len() == 0 {
			continue
		}
		var id [4]byte
		binary.BigEndian.PutUint32(id[:], uint32(i))
		commands.MixDigest(&final, id[:])
		db.ForEach(func(e keyspace.Entry) {
			var d [20]byte
			commands.MixDigest(&d, e.Key())
			xorValueDigest(&d, e, now)
			commands.XorDigest(&final, d[:])
		})
	}
	return final
}

// debugProtocol is DEBUG PROTOCOL type: a sample reply of each RESP type,
// used to test clients' RESP3 parsing.
func debugProtocol(c *command.Ctx) {
	w := c.W
	switch strings.ToLower(string(c.Args[2])) {
	case "string":
		w.BulkString("Hello World")
	case "integer":
		w.Int(12345)
	case "double":
		w.Double(3.141)
	case "bignum":
		w.BigNumber("1234567999999999999999999999999999999")
	case "null":
		w.Null()
	case "array":
		w.ArrayLen(3)
		for j := int64(0); j < 3; j++ {
			w.Int(j)
		}
	case "set":
		w.SetLen(3)
		for j := int64(0); j < 3; j++ {
			w.Int(j)
		}
	case "map":
		w.MapLen(3)
		for j := int64(0); j < 3; j++ {
			w.Int(j)
			w.Bool(j == 1)
		}
	case "attrib":
		if w.Proto >= 3 {
			w.AttributeLen(1)
			w.BulkString("key-popularity")
			w.ArrayLen(2)
			w.BulkString("key:123")
			w.Int(90)
		}
		w.BulkString("Some real reply following the attribute")
	case "push":
		if w.Proto < 3 {
			c.Error("ERR RESP2 is not supported by this command")
			return
		}
		w.PushLen(2)
		w.BulkString("server-cpu-usage")
		w.Int(42)
		w.BulkString("Some real reply following the push reply")
	case "true":
		w.Bool(true)
	case "false":
		w.Bool(false)
	case "verbatim":
		w.Verbatim("txt", []byte("This is a verbatim\nstring"))
	default:
		c.Error("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")
	}
}

// debugHTStats is DEBUG HTSTATS dbid [full]: sizes of a database's key and
// expiry tables, in the layout of Redis's dictGetStats.
func (s *Server) debugHTStats(c *command.Ctx) {
	id, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	if id < 0 || id >= int64(s.Store.Databases()) {
		c.Error("ERR Out of range database")
		return
	}
	unlock := s.lockAllShards(c)
	db := s.Store.DB(int(id))
	keys, expires := db.Len(), db.ExpiresLen()
	unlock()
	var b []byte
	b = append(b, "[Dictionary HT]\n"...)
	b = appendHTStats(b, keys)
	b = append(b, "[Expires HT]\n"...)
	b = appendHTStats(b, expires)
	c.W.Verbatim("txt", b)
}

func appendHTStats(b []byte, n int) []byte {
	if n == 0 {
		return append(b, "No stats available for empty dictionaries\n"...)
	}
	size := 4
	for size < n {
		size *= 2
	}
	b = append(b, "Hash table 0 stats (main hash table):\n table size: "...)
	b = strconv.AppendInt(b, int64(size), 10)
	b = append(b, "\n number of elements: "...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\n')
}

// stringmatchFuzz runs the glob matcher on random patterns and strings:
// the test passes if nothing crashes or hangs.
func stringmatchFuzz() {
	const alphabet = "ab*?[]^-\\"
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	gen := func(n int) []byte {
		b := make([]byte, r.IntN(n))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return b
	}
	for i := 0; i < 100000; i++ {
		config.GlobMatch(gen(32), gen(32), r.IntN(2) == 0)
	}
}

func debugHelp(c *command.Ctx) {
	replyHelp(c, []string{
		"CHANGE-REPL-ID",
		"    Change the replication IDs of the instance.",
		"    Dangerous: should be used only for testing the replication subsystem.",
		"CONFIG-REWRITE-FORCE-ALL",
		"    Like CONFIG REWRITE but writes all configuration options, including",
		"    keywords not listed in original configuration file or default values.",
		"DIGEST",
		"    Output a hex signature representing the current DB content.",
		"DIGEST-VALUE <key> [<key> ...]",
		"    Output a hex signature of the values of all the specified keys.",
		"ERROR <string>",
		"    Return a Redis protocol error with <string> as message. Useful for clients",
		"    unit tests to simulate Redis errors.",
		"LOG <message>",
		"    Write <message> to the server log.",
		"HTSTATS <dbid> [full]",
		"    Return hash table statistics of the specified Redis database.",
		"REPLICATE <string>",
		"    Replicates the provided string to replicas, allowing data divergence.",
		"OBJECT <key>",
		"    Show low level info about `key` and associated value.",
		"PAUSE-CRON <0|1>",
		"    Stop periodic cron job processing.",
		"REPLYBUFFER RESIZING <0|1>",
		"    Enable or disable the release of large reply buffers once written.",
		"POPULATE <count> [<prefix>] [<size>]",
		"    Create <count> string keys named key:<num>. If <prefix> is specified then",
		"    it is used instead of the 'key' prefix. These are not propagated to",
		"    replicas. Cluster slots are not respected so keys not belonging to the",
		"    current node can be created in cluster mode.",
		"PROTOCOL <type>",
		"    Reply with a test value of the specified type. <type> can be: string,",
		"    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
		"    true, false.",
		"SET-ACTIVE-EXPIRE <0|1>",
		"    Setting it to 0 disables expiring keys in background when they are not",
		"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
		"    default.",
		"QUICKLIST-PACKED-THRESHOLD <size>",
		"    Sets the threshold for elements to be inserted as plain vs packed nodes",
		"    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
		"SET-SKIP-CHECKSUM-VALIDATION <0|1>",
		"    Enables or disables checksum checks for RDB files and RESTORE's payload.",
		"SET-DISABLE-DENY-SCRIPTS <0|1>",
		"    Disable the deny-script flag of commands, so scripts can run them.",
		"SLEEP <seconds>",
		"    Stop the server for <seconds>. Decimals allowed.",
		"STRINGMATCH-TEST",
		"    Run a fuzz tester against the stringmatchlen() function.",
	})
}

// debugReload is DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the dataset
// to dbfilename (unless NOSAVE) and load it back in place of the dataset,
// which checks the RDB round trip of every value. MERGE and NOFLUSH (load
// on top of the dataset) are accepted but the load always replaces it.
func (s *Server) debugReload(c *command.Ctx) {
	save, flush, merge := true, true, false
	for _, a := range c.Args[2:] {
		switch strings.ToLower(string(a)) {
		case "merge":
			merge = true
		case "noflush":
			flush = false
		case "nosave":
			save = false
		default:
			c.Error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
			return
		}
	}
	unlock := s.lockAllShards(c)
	defer unlock()
	if save {
		if err := s.saveLocked(); err != nil {
			c.Error("ERR Error trying to save the DB")
			return
		}
	}
	mode := loadReplace
	switch {
	case !flush && merge:
		mode = loadMerge
	case !flush:
		mode = loadKeep
	}
	if _, err := s.loadRDBFile(mode); err != nil {
		s.Log.Warningf("DEBUG RELOAD: %v", err)
		c.Error("ERR Error trying to load the RDB dump, check server logs.")
		return
	}
	s.Log.Noticef("DB reloaded by DEBUG RELOAD")
	c.OK()
}
