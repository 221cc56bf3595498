package server

import (
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/resp"
)

// memoryCommands is MEMORY and its subcommands.
func (s *Server) memoryCommands() []*command.Command {
	return []*command.Command{{
		Name: "memory", Arity: -2, ACL: command.CatSlow, Group: "server", Since: "4.0.0",
		Summary: "A container for memory diagnostics commands.",
		Subcommands: []*command.Command{
			{Name: "memory|usage", Arity: -3, Flags: command.ReadOnly, ACL: command.CatRead | command.CatSlow,
				FirstKey: 2, LastKey: 2, Step: 1, KeySpecs: []command.KeySpec{{Flags: []string{"RO"}, BeginIndex: 2, LastKey: 0, Step: 1}},
				Group: "server", Since: "4.0.0", Summary: "Estimates the memory usage of a key.", Handler: memoryUsageCommand},
			{Name: "memory|stats", Arity: 2, Flags: command.NoKeyspace, ACL: command.CatSlow, Group: "server", Since: "4.0.0",
				Summary: "Returns details about memory usage.", Handler: s.memoryStatsCommand,
				Tips: []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"}},
			{Name: "memory|doctor", Arity: 2, Flags: command.NoKeyspace, ACL: command.CatSlow, Group: "server", Since: "4.0.0",
				Summary: "Outputs a memory problems report.", Handler: memoryDoctorCommand,
				Tips: []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"}},
			{Name: "memory|malloc-stats", Arity: 2, Flags: command.NoKeyspace, ACL: command.CatSlow, Group: "server", Since: "4.0.0",
				Summary: "Returns the allocator statistics.", Handler: memoryMallocStatsCommand,
				Tips: []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"}},
			{Name: "memory|purge", Arity: 2, Flags: command.NoKeyspace, ACL: command.CatSlow, Group: "server", Since: "4.0.0",
				Summary: "Asks the allocator to release memory.", Handler: memoryPurgeCommand,
				Tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"}},
			{Name: "memory|help", Arity: 2, Flags: command.Loading | command.Stale | command.NoKeyspace, ACL: command.CatSlow,
				Group: "server", Since: "4.0.0", Summary: "Returns helpful text about the different subcommands.", Handler: memoryHelpCommand},
		},
	}}
}

// memoryUsageCommand is MEMORY USAGE key [SAMPLES count].
func memoryUsageCommand(c *command.Ctx) {
	samples := 5 // Redis's default sample of collection elements
	for i := 3; i < len(c.Args); i++ {
		if strings.EqualFold(string(c.Args[i]), "samples") && i+1 < len(c.Args) {
			n, ok := resp.ParseInt(c.Args[i+1])
			if !ok || n < 0 {
				c.Error(command.ErrNotInteger)
				return
			}
			samples = int(n) // 0 means every element
			i++
			continue
		}
		c.Error(command.ErrSyntax)
		return
	}
	db := c.DB
	db.NoTouch = true
	e, ok := db.Lookup(c.Args[2])
	if !ok {
		c.W.Null()
		return
	}
	c.W.Int(e.MemoryUsage(samples))
}

// memoryStatsCommand is MEMORY STATS: Redis's 27 fields plus one map per
// non-empty database, in Redis's order (clients read some by position),
// with the same figures INFO memory reports (infoMemory): the overhead is
// what the server had at startup plus the clients' buffers, the dataset the
// rest of used memory, and the allocator figures come from the Go heap.
func (s *Server) memoryStatsCommand(c *command.Ctx) {
	// One pass under every shard lock: the store's figure and the per-database
	// counts. usedMemory would take the locks a second time (they are not
	// reentrant), which once hung the whole keyspace.
	unlock := s.lockAllShards(c)
	store := s.storeBytes()
	keys := 0
	type dbStat struct{ idx, keys, expires int }
	var dbs []dbStat
	for i := 0; i < s.Store.Databases(); i++ {
		db := s.Store.DB(i)
		k, x := db.Len(), db.ExpiresLen()
		if k > 0 {
			dbs = append(dbs, dbStat{i, k, x})
		}
		keys += k
	}
	unlock()
	m := s.memoryFrom(store, true)
	a := s.admin()
	peak := max(a.peakMem.Load(), m.used)
	startup := a.startMem
	clients := s.clientFigures().mem
	backlogMem, replicasMem := s.replicationBufferMem()
	overhead := min(startup+clients+backlogMem+replicasMem, m.used)
	dataset := m.used - overhead
	net := m.used - startup
	perKey := int64(0)
	if keys > 0 {
		perKey = net / int64(keys)
	}
	allocated := m.used
	active := m.used + m.heapIdle
	resident := max(m.rss, active)

	w := c.W
	w.MapLen(27 + len(dbs))
	field := func(name string, n int64) {
		w.BulkString(name)
		w.Int(n)
	}
	double := func(name string, f float64) {
		w.BulkString(name)
		w.Double(f)
	}
	field("peak.allocated", peak)
	field("total.allocated", m.used)
	field("startup.allocated", startup)
	field("replication.backlog", backlogMem)
	field("clients.slaves", replicasMem)
	field("clients.normal", clients)
	field("cluster.links", 0)
	field("aof.buffer", 0)
	field("lua.caches", 0)
	field("functions.caches", 0)
	for _, d := range dbs {
		w.BulkString("db." + itoa(int64(d.idx)))
		w.MapLen(3)
		field("overhead.hashtable.main", int64(d.keys)*8)
		field("overhead.hashtable.expires", int64(d.expires)*8)
		field("overhead.hashtable.slot-to-keys", 0)
	}
	field("overhead.total", overhead)
	field("keys.count", int64(keys))
	field("keys.bytes-per-key", perKey)
	field("dataset.bytes", dataset)
	double("dataset.percentage", percent(dataset, net))
	double("peak.percentage", percent(m.used, peak))
	field("allocator.allocated", allocated)
	field("allocator.active", active)
	field("allocator.resident", resident)
	double("allocator-fragmentation.ratio", ratio(active, allocated))
	field("allocator-fragmentation.bytes", active-allocated)
	double("allocator-rss.ratio", ratio(resident, active))
	field("allocator-rss.bytes", resident-active)
	double("rss-overhead.ratio", ratio(m.rss, resident))
	field("rss-overhead.bytes", m.rss-resident)
	double("fragmentation", ratio(m.rss, m.used))
	field("fragmentation.bytes", m.rss-m.used)
}

func percent(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) * 100 / float64(b)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func memoryDoctorCommand(c *command.Ctx) {
	c.W.Verbatim("txt", []byte("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base."))
}

func memoryMallocStatsCommand(c *command.Ctx) {
	c.W.Verbatim("txt", []byte("Stats not supported for the current allocator"))
}

// memoryPurgeCommand returns freed Go heap memory to the OS (jemalloc's
// purge in Redis). Slab memory is returned as tables are flushed.
func memoryPurgeCommand(c *command.Ctx) {
	debug.FreeOSMemory()
	c.OK()
}

func memoryHelpCommand(c *command.Ctx) {
	lines := []string{
		"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"DOCTOR",
		"    Return memory problems reports.",
		"MALLOC-STATS",
		"    Return internal statistics report from the memory allocator.",
		"PURGE",
		"    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS",
		"    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. Nested values are",
		"    sampled up to <count> times (default: 5, 0 means sample all).",
		"HELP",
		"    Print this help.",
	}
	c.W.ArrayLen(len(lines))
	for _, l := range lines {
		c.W.SimpleString(l)
	}
}
