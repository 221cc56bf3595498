package server

import (
	"bytes"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/commands"
	"github.com/corvid-db/corvid/internal/ds/slab"
)

// INFO [section ...]
//
// The text follows Redis 7.2's genRedisInfoString field for field and in
// its order, because clients parse it (ioredis reads redis_version and
// loading, BullMQ reads redis_version and maxmemory_policy, redis-cli and
// monitoring tools read everything): "# Section" headers, "field:value"
// lines ending in CRLF, one empty line between sections. Fields describing
// machinery Corvid does not have (forks, AOF, replication links, Lua) keep
// Redis's names with the values an idle Redis without that feature shows.

// infoSections are the sections in output order; "default" is every
// section marked default.
var infoSections = []struct {
	name    string
	dflt    bool
	aliases []string
}{
	{"server", true, nil},
	{"clients", true, nil},
	{"memory", true, nil},
	{"persistence", true, nil},
	{"stats", true, nil},
	{"replication", true, nil},
	{"cpu", true, nil},
	{"modules", true, []string{"module_list"}},
	{"commandstats", false, nil},
	{"errorstats", true, nil},
	{"latencystats", false, nil},
	{"cluster", true, nil},
	{"keyspace", true, nil},
}

// infoRequest is the parsed section list of an INFO call.
type infoRequest struct {
	all, everything bool
	sections        map[string]bool // lower case
}

func parseInfoArgs(args [][]byte) infoRequest {
	r := infoRequest{sections: map[string]bool{}}
	addDefault := func() {
		for _, sec := range infoSections {
			if sec.dflt {
				r.sections[sec.name] = true
			}
		}
		// Redis's default list names the module section "module_list".
		delete(r.sections, "modules")
		r.sections["module_list"] = true
	}
	if len(args) == 0 {
		addDefault()
		return r
	}
	for _, a := range args {
		switch name := strings.ToLower(string(a)); name {
		case "default":
			addDefault()
		case "all":
			r.all = true
		case "everything":
			r.all, r.everything = true, true
		default:
			r.sections[name] = true
		}
	}
	return r
}

func (r infoRequest) wants(name string, aliases []string) bool {
	if r.all || r.sections[name] {
		return true
	}
	for _, a := range aliases {
		if r.sections[a] {
			return true
		}
	}
	return false
}

func (s *Server) infoCommand(c *command.Ctx) {
	s.settleBefore(c)
	text := s.genInfo(c, parseInfoArgs(c.Args[1:]))
	c.W.Verbatim("txt", text)
}

// settleBefore lets the commands that other connections sent before c's
// run first (settleOthers), as a single-threaded server would, for a
// command whose answer depends on them (INFO): not inside EXEC or a
// script, which hold shards other loops may be waiting for.
func (s *Server) settleBefore(c *command.Ctx) {
	if cl, ok := c.Conn.(*Client); ok && !cl.inExec && !cl.inScript {
		s.settleOthers(cl.lp) // nil when cl has a goroutine of its own
	}
}

// infoBuf accumulates INFO text.
type infoBuf struct {
	b        []byte
	sections int
}

func (ib *infoBuf) section(title string) {
	if ib.sections > 0 {
		ib.b = append(ib.b, "\r\n"...)
	}
	ib.sections++
	ib.b = append(ib.b, "# "...)
	ib.b = append(ib.b, title...)
	ib.b = append(ib.b, "\r\n"...)
}

func (ib *infoBuf) str(k, v string) {
	ib.b = append(ib.b, k...)
	ib.b = append(ib.b, ':')
	ib.b = append(ib.b, v...)
	ib.b = append(ib.b, "\r\n"...)
}

func (ib *infoBuf) int(k string, v int64) {
	ib.b = append(ib.b, k...)
	ib.b = append(ib.b, ':')
	ib.b = strconv.AppendInt(ib.b, v, 10)
	ib.b = append(ib.b, "\r\n"...)
}

// f2 writes v with two decimals ("%.2f"), suffix appended ("%" for percentages).
func (ib *infoBuf) f2(k string, v float64, suffix string) {
	ib.b = append(ib.b, k...)
	ib.b = append(ib.b, ':')
	ib.b = strconv.AppendFloat(ib.b, v, 'f', 2, 64)
	ib.b = append(ib.b, suffix...)
	ib.b = append(ib.b, "\r\n"...)
}

// genInfo builds the INFO text for a request.
func (s *Server) genInfo(c *command.Ctx, r infoRequest) []byte {
	s.admin().metrics.sample(s)
	ib := &infoBuf{}
	var kf keyspaceFigures
	if r.wants("memory", nil) || r.wants("keyspace", nil) || r.wants("stats", nil) {
		kf = s.measureKeyspace(c, r.wants("keyspace", nil))
	}
	for _, sec := range infoSections {
		if !r.wants(sec.name, sec.aliases) {
			continue
		}
		switch sec.name {
		case "server":
			s.infoServer(ib)
		case "clients":
			s.infoClients(ib)
		case "memory":
			s.infoMemory(ib, kf.mem)
		case "persistence":
			s.infoPersistence(ib)
		case "stats":
			s.infoStats(ib, kf)
		case "replication":
			s.infoReplication(ib)
		case "cpu":
			infoCPU(ib)
		case "modules":
			ib.section("Modules")
		case "commandstats":
			s.infoCommandStats(ib)
		case "errorstats":
			s.infoErrorStats(ib)
		case "latencystats":
			s.infoLatencyStats(ib)
		case "cluster":
			ib.section("Cluster")
			ib.int("cluster_enabled", 0)
		case "keyspace":
			ib.section("Keyspace")
			for i, d := range kf.dbs {
				if d.keys > 0 || d.expires > 0 {
					ib.b = append(ib.b, "db"...)
					ib.b = strconv.AppendInt(ib.b, int64(i), 10)
					ib.b = append(ib.b, ":keys="...)
					ib.b = strconv.AppendInt(ib.b, d.keys, 10)
					ib.b = append(ib.b, ",expires="...)
					ib.b = strconv.AppendInt(ib.b, d.expires, 10)
					ib.b = append(ib.b, ",avg_ttl=0\r\n"...)
				}
			}
		}
	}
	if r.sections["debug"] {
		ib.section("Debug")
		ib.int("eventloop_duration_aof_sum", 0)
		ib.int("eventloop_duration_cron_sum", s.admin().cronNanos.Load()/1000)
		ib.int("eventloop_duration_max", 0)
		ib.int("eventloop_cmd_per_cycle_max", 0)
	}
	return ib.b
}

type dbCounts struct{ keys, expires int64 }

// keyspaceFigures are the INFO figures that need a still keyspace.
type keyspaceFigures struct {
	mem          memInfo
	dbs          []dbCounts
	hits, misses int64
}

// measureKeyspace takes every shard lock once, briefly, for the figures
// that need a still keyspace: memory, per-database key counts and the
// keyspace hit/miss counters (kept per shard).
func (s *Server) measureKeyspace(c *command.Ctx, counts bool) keyspaceFigures {
	var f keyspaceFigures
	unlock := s.lockAllShards(c)
	store := s.storeBytes()
	f.hits, f.misses = s.Store.HitsMisses()
	if counts {
		f.dbs = make([]dbCounts, s.Store.Databases())
		for i := range f.dbs {
			db := s.Store.DB(i)
			f.dbs[i] = dbCounts{int64(db.Len()), int64(db.ExpiresLen())}
		}
	}
	unlock()
	f.mem = s.memoryFrom(store, true)
	return f
}

// ---------------------------------------------------------------------------
// Server

func (s *Server) infoServer(ib *infoBuf) {
	a := s.admin()
	now := time.Now()
	uptime := int64(now.Sub(s.startTime) / time.Second)
	ib.section("Server")
	ib.str("redis_version", Version)
	ib.str("redis_git_sha1", "00000000")
	ib.int("redis_git_dirty", 0)
	ib.str("redis_build_id", buildID())
	ib.str("redis_mode", s.redisMode())
	ib.str("os", osString())
	ib.int("arch_bits", strconv.IntSize)
	ib.str("monotonic_clock", "POSIX clock_gettime")
	ib.str("multiplexing_api", multiplexingAPI())
	ib.str("atomicvar_api", "c11-builtin")
	ib.str("gcc_version", "0.0.0")
	ib.int("process_id", int64(os.Getpid()))
	ib.str("process_supervised", "no")
	ib.str("run_id", a.runID)
	ib.int("tcp_port", s.tcpPort())
	ib.int("server_time_usec", now.UnixMicro())
	ib.int("uptime_in_seconds", uptime)
	ib.int("uptime_in_days", uptime/86400)
	ib.int("hz", s.hz.Load())
	ib.int("configured_hz", s.Config.Int("hz"))
	ib.int("lru_clock", int64(s.Store.LRUClock()&lruClockMax))
	exe, _ := os.Executable()
	ib.str("executable", exe)
	ib.str("config_file", s.Config.ConfigFile())
	ib.int("io_threads_active", 0)
	if ms, waiting := s.shutdownInMilliseconds(); waiting {
		ib.int("shutdown_in_milliseconds", ms)
	}
	s.infoListeners(ib)
}

// lruClockMax masks the LRU clock to Redis's 24 bits.
const lruClockMax = 1<<24 - 1

// tcpPort is the configured port, or the one the listener got when the
// configuration asked for any free port (0), as embedded servers do.
func (s *Server) tcpPort() int64 {
	if p := s.Config.Int("port"); p != 0 {
		return p
	}
	for _, l := range s.listeners {
		if ta, ok := l.Addr().(*net.TCPAddr); ok {
			return int64(ta.Port)
		}
	}
	return 0
}

func (s *Server) infoListeners(ib *infoBuf) {
	if s.Config.Int("port") != 0 || s.tcpPort() != 0 {
		s.infoListener(ib, "listener0:name=tcp", s.tcpPort())
	}
	if path := s.Config.String("unixsocket"); path != "" {
		ib.str("listener1", "name=unix,bind="+path)
	}
	if tp := s.Config.Int("tls-port"); tp != 0 {
		s.infoListener(ib, "listener2:name=tls", tp)
	}
}

// infoListener writes one network listener's line: its bind addresses
// and port.
func (s *Server) infoListener(ib *infoBuf, head string, port int64) {
	ib.b = append(ib.b, head...)
	binds := s.Config.Strings("bind")
	if len(binds) == 0 {
		binds = []string{"*"}
	}
	for _, b := range binds {
		ib.b = append(ib.b, ",bind="...)
		ib.b = append(ib.b, b...)
	}
	ib.b = append(ib.b, ",port="...)
	ib.b = strconv.AppendInt(ib.b, port, 10)
	ib.b = append(ib.b, "\r\n"...)
}

var (
	osOnce sync.Once
	osText string
)

// osString is uname's "sysname release machine", as Redis prints it.
func osString() string {
	osOnce.Do(func() {
		sys := map[string]string{"linux": "Linux", "darwin": "Darwin", "freebsd": "FreeBSD", "windows": "Windows"}[runtime.GOOS]
		if sys == "" {
			sys = runtime.GOOS
		}
		release := ""
		if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
			release = strings.TrimSpace(string(b))
		}
		machine := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686"}[runtime.GOARCH]
		if machine == "" {
			machine = runtime.GOARCH
		}
		osText = sys + " " + release + " " + machine
	})
	return osText
}

func multiplexingAPI() string {
	switch runtime.GOOS {
	case "linux":
		return "epoll"
	case "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
		return "kqueue"
	case "solaris", "illumos":
		return "evport"
	}
	return "select"
}

var (
	buildOnce sync.Once
	buildText string
)

// buildID identifies the binary: a hash of its Go version and path, in
// the hex form Redis uses for its build id.
func buildID() string {
	buildOnce.Do(func() {
		exe, _ := os.Executable()
		h := uint64(14695981039346656037)
		for _, c := range []byte(runtime.Version() + exe) {
			h = (h ^ uint64(c)) * 1099511628211
		}
		buildText = strconv.FormatUint(h, 16)
	})
	return buildText
}

// ---------------------------------------------------------------------------
// Clients

type clientFigures struct {
	maxIn, maxOut, blocked, mem int64
	replicas                    int64 // connections of replicas, which connected_clients leaves out
}

func (s *Server) clientFigures() clientFigures {
	var f clientFigures
	s.clientsMu.Lock()
	for _, c := range s.clients {
		in, out := c.bufferUsage()
		f.maxIn = max(f.maxIn, in)
		f.maxOut = max(f.maxOut, out)
		if c.blocked.Load() {
			f.blocked++
		}
		if c.isReplica.Load() {
			f.replicas++
		}
	}
	s.clientsMu.Unlock()
	in, out := s.clientMem.recentPeaks()
	f.maxIn, f.maxOut = max(f.maxIn, in), max(f.maxOut, out)
	f.mem = s.clientMem.total.Load()
	return f
}

func (s *Server) infoClients(ib *infoBuf) {
	f := s.clientFigures()
	ib.section("Clients")
	ib.int("connected_clients", s.nclients.Load()-f.replicas)
	ib.int("cluster_connections", 0)
	ib.int("maxclients", s.maxClients.Load())
	ib.int("client_recent_max_input_buffer", f.maxIn)
	ib.int("client_recent_max_output_buffer", f.maxOut)
	ib.int("blocked_clients", f.blocked)
	ib.int("tracking_clients", s.tracking.clients.Load())
	ib.int("clients_in_timeout_table", 0)
	ib.int("total_blocking_keys", s.blocking.nkeys.Load())
	ib.int("total_blocking_keys_on_nokey", s.blocking.nokey.Load())
}

// ---------------------------------------------------------------------------
// Memory

// memInfo is a memory measurement. used is what Redis calls used_memory:
// the keyspace's own accounting (slab records and tables) plus the Go
// heap's objects (values kept as Go objects, client buffers, everything
// else). Those include garbage not yet collected: the live heap of the last
// collection would leave out what was allocated since, which maxmemory must
// see at once.
type memInfo struct {
	used, store, heap, heapIdle, rss, clients int64
}

var memSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
	{Name: "/memory/classes/total:bytes"},
	{Name: "/memory/classes/heap/released:bytes"},
}

var memSamplesMu sync.Mutex

// memoryFrom completes a measurement from the keyspace's figure (store);
// withRSS also reads the resident set size, a file read.
func (s *Server) memoryFrom(store int64, withRSS bool) memInfo {
	memSamplesMu.Lock()
	metrics.Read(memSamples)
	heap := int64(memSamples[0].Value.Uint64())
	unused := int64(memSamples[1].Value.Uint64())
	total := int64(memSamples[2].Value.Uint64())
	released := int64(memSamples[3].Value.Uint64())
	memSamplesMu.Unlock()
	m := memInfo{store: store, heap: heap, heapIdle: unused, used: store + heap}
	if withRSS {
		m.rss = residentBytes()
	}
	if m.rss == 0 {
		m.rss = total - released + store
	}
	a := s.admin()
	for {
		p := a.peakMem.Load()
		if m.used <= p || a.peakMem.CompareAndSwap(p, m.used) {
			break
		}
	}
	return m
}

// usedMemory measures memory, locking every shard briefly.
func (s *Server) usedMemory() memInfo { return s.measureKeyspace(nil, false).mem }

// usedMemoryBytes measures used_memory alone, for the maxmemory check.
func (s *Server) usedMemoryBytes() int64 {
	unlock := s.lockAllShards(nil)
	store := s.storeBytes()
	unlock()
	return s.memoryFrom(store, false).used
}

// storeBytes is the keyspace's own accounting: its records and tables,
// and the off-heap collection internals (sorted-set leaves and indexes,
// stream nodes), which are part of the dataset as much as the records.
// The caller holds every shard.
func (s *Server) storeBytes() int64 { return s.Store.UsedMemory() + slab.SharedInUse() }

// residentBytes reads the resident set size from /proc/self/statm; 0
// where that file does not exist.
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

var (
	sysMemOnce sync.Once
	sysMem     int64
)

// totalSystemMemory reads MemTotal from /proc/meminfo (0 elsewhere).
func totalSystemMemory() int64 {
	sysMemOnce.Do(func() {
		b, err := os.ReadFile("/proc/meminfo")
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				f := strings.Fields(rest)
				if len(f) > 0 {
					kb, _ := strconv.ParseInt(f[0], 10, 64)
					sysMem = kb * 1024
				}
				return
			}
		}
	})
	return sysMem
}

// bytesToHuman formats a byte count as Redis does: 100B, 1.50K, 2.00M…
func bytesToHuman(n int64) string {
	if n < 0 {
		n = 0
	}
	const k = 1024.0
	d := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case d < k*k:
		return strconv.FormatFloat(d/k, 'f', 2, 64) + "K"
	case d < k*k*k:
		return strconv.FormatFloat(d/(k*k), 'f', 2, 64) + "M"
	case d < k*k*k*k:
		return strconv.FormatFloat(d/(k*k*k), 'f', 2, 64) + "G"
	case d < k*k*k*k*k:
		return strconv.FormatFloat(d/(k*k*k*k), 'f', 2, 64) + "T"
	case d < k*k*k*k*k*k:
		return strconv.FormatFloat(d/(k*k*k*k*k), 'f', 2, 64) + "P"
	}
	return strconv.FormatInt(n, 10) + "B"
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (s *Server) infoMemory(ib *infoBuf, m memInfo) {
	a := s.admin()
	cf := s.clientFigures()
	peak := max(a.peakMem.Load(), m.used)
	startup := a.startMem
	overhead := min(startup+cf.mem, m.used)
	dataset := m.used - overhead
	net := m.used - startup
	datasetPerc := 0.0
	if net > 0 {
		datasetPerc = float64(dataset) * 100 / float64(net)
	}
	allocated := m.used
	active := m.used + m.heapIdle
	resident := max(m.rss, active)
	maxmem := s.Config.Int("maxmemory")
	sysMem := totalSystemMemory()

	ib.section("Memory")
	ib.int("used_memory", m.used)
	ib.str("used_memory_human", bytesToHuman(m.used))
	ib.int("used_memory_rss", m.rss)
	ib.str("used_memory_rss_human", bytesToHuman(m.rss))
	ib.int("used_memory_peak", peak)
	ib.str("used_memory_peak_human", bytesToHuman(peak))
	ib.f2("used_memory_peak_perc", ratio(m.used, peak)*100, "%")
	ib.int("used_memory_overhead", overhead)
	ib.int("used_memory_startup", startup)
	ib.int("used_memory_dataset", dataset)
	ib.f2("used_memory_dataset_perc", datasetPerc, "%")
	ib.int("allocator_allocated", allocated)
	ib.int("allocator_active", active)
	ib.int("allocator_resident", resident)
	ib.int("total_system_memory", sysMem)
	ib.str("total_system_memory_human", bytesToHuman(sysMem))
	// No scripting engine exists yet: its memory is zero.
	ib.int("used_memory_lua", 0)
	ib.int("used_memory_vm_eval", 0)
	ib.str("used_memory_lua_human", "0B")
	var scriptMem, nscripts int64
	if e := s.scriptEngine(); e != nil {
		scriptMem, nscripts = int64(e.Memory()), int64(e.Len())
	}
	ib.int("used_memory_scripts_eval", scriptMem)
	ib.int("number_of_cached_scripts", nscripts)
	var nlibs, nfuncs int
	var fnMem int64
	if f := s.functionRegistry(); f != nil {
		nlibs, nfuncs = f.Counts()
		fnMem = f.Memory()
	}
	ib.int("number_of_functions", int64(nfuncs))
	ib.int("number_of_libraries", int64(nlibs))
	ib.int("used_memory_vm_functions", 0)
	ib.int("used_memory_vm_total", 0)
	ib.str("used_memory_vm_total_human", "0B")
	ib.int("used_memory_functions", fnMem)
	ib.int("used_memory_scripts", 0)
	ib.str("used_memory_scripts_human", "0B")
	ib.int("maxmemory", maxmem)
	ib.str("maxmemory_human", bytesToHuman(maxmem))
	ib.str("maxmemory_policy", s.Config.String("maxmemory-policy"))
	ib.f2("allocator_frag_ratio", ratio(active, allocated), "")
	ib.int("allocator_frag_bytes", active-allocated)
	ib.f2("allocator_rss_ratio", ratio(resident, active), "")
	ib.int("allocator_rss_bytes", resident-active)
	ib.f2("rss_overhead_ratio", ratio(m.rss, resident), "")
	ib.int("rss_overhead_bytes", m.rss-resident)
	ib.f2("mem_fragmentation_ratio", ratio(m.rss, m.used), "")
	ib.int("mem_fragmentation_bytes", m.rss-m.used)
	ib.int("mem_not_counted_for_evict", 0)
	backlogMem, replicasMem := s.replicationBufferMem()
	ib.int("mem_replication_backlog", backlogMem)
	ib.int("mem_total_replication_buffers", backlogMem+replicasMem)
	ib.int("mem_clients_slaves", replicasMem)
	ib.int("mem_clients_normal", cf.mem)
	ib.int("mem_cluster_links", 0)
	ib.int("mem_aof_buffer", 0)
	ib.str("mem_allocator", "go")
	ib.int("active_defrag_running", 0)
	ib.int("lazyfree_pending_objects", 0)
	ib.int("lazyfreed_objects", 0)
}

// ---------------------------------------------------------------------------
// Persistence

func (s *Server) infoPersistence(ib *infoBuf) {
	ib.section("Persistence")
	ib.int("loading", boolInt(s.load.active.Load()))
	ib.int("async_loading", boolInt(s.load.async.Load()))
	processed, total, cow := s.snapshotProgress()
	perc := 0.0
	if total > 0 {
		perc = float64(processed) * 100 / float64(total)
	}
	ib.int("current_cow_peak", cow)
	ib.int("current_cow_size", cow)
	ib.int("current_cow_size_age", 0)
	ib.f2("current_fork_perc", perc, "")
	ib.int("current_save_keys_processed", processed)
	ib.int("current_save_keys_total", total)
	s.infoLoadingProgress(ib)
	ib.int("rdb_changes_since_last_save", s.dirty.Load())
	ib.int("rdb_bgsave_in_progress", boolInt(s.rdb.bgsaveInProgress.Load()))
	ib.int("rdb_last_save_time", s.lastSave.Load())
	status := "ok"
	if !s.rdb.lastBgsaveOK.Load() {
		status = "err"
	}
	ib.str("rdb_last_bgsave_status", status)
	ib.int("rdb_last_bgsave_time_sec", s.rdb.lastBgsaveSecs.Load())
	current := int64(-1)
	if s.rdb.bgsaveInProgress.Load() {
		current = time.Now().Unix() - s.rdb.bgsaveStart.Load()
	}
	ib.int("rdb_current_bgsave_time_sec", current)
	ib.int("rdb_saves", s.rdb.saves.Load())
	ib.int("rdb_last_cow_size", s.lastCOW.Load())
	ib.int("rdb_last_load_keys_expired", s.rdb.lastLoadExpired.Load())
	ib.int("rdb_last_load_keys_loaded", s.rdb.lastLoadKeys.Load())
	a := &s.aof
	a.mu.Lock()
	aofOK, aofRewrites, aofSize, aofBase := a.lastOK || a.rewrites == 0, a.rewrites, a.size, a.baseSize
	rewriteOK := !a.rewriteFailed
	aofFailures := a.failures
	lastRewrite, currentRewrite := int64(-1), int64(-1)
	if a.rewrites > 0 {
		lastRewrite = a.lastRewriteSecs
	}
	if a.rewrite != nil {
		currentRewrite = int64(time.Since(a.rewrite.start).Seconds())
	}
	a.mu.Unlock()
	ib.int("aof_enabled", boolInt(a.active.Load() || a.pendingStart.Load()))
	scheduled := a.scheduled.Load() // first: see startAOFRewrite
	ib.int("aof_rewrite_in_progress", boolInt(a.rewriting.Load()))
	ib.int("aof_rewrite_scheduled", boolInt(scheduled))
	ib.int("aof_last_rewrite_time_sec", lastRewrite)
	ib.int("aof_current_rewrite_time_sec", currentRewrite)
	okStr := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "err"
	}
	ib.str("aof_last_bgrewrite_status", okStr(rewriteOK))
	ib.int("aof_rewrites", aofRewrites)
	ib.int("aof_rewrites_consecutive_failures", aofFailures)
	ib.str("aof_last_write_status", okStr(aofOK))
	ib.int("aof_last_cow_size", s.lastAOFCOW.Load())
	if a.active.Load() {
		ib.int("aof_current_size", aofBase+aofSize)
		ib.int("aof_base_size", aofBase)
		ib.int("aof_pending_rewrite", 0)
		ib.int("aof_buffer_length", 0)
		ib.int("aof_pending_bio_fsync", 0)
		ib.int("aof_delayed_fsync", 0)
	}
	ib.int("module_fork_in_progress", 0)
	ib.int("module_fork_last_cow_size", 0)
}

// ---------------------------------------------------------------------------
// Stats

// instSamples is how many samples an instantaneous metric averages (Redis's
// STATS_METRIC_SAMPLES); one is taken every 100ms.
const instSamples = 16

// instMetric is one instantaneous metric: the rate of a counter, averaged
// over its last samples.
type instMetric struct {
	idx                 int
	lastBase, lastValue int64
	samples             [instSamples]int64
}

func (m *instMetric) track(value, base, factor int64) {
	if m.lastBase > 0 {
		db, dv := base-m.lastBase, value-m.lastValue
		var avg int64
		if db > 0 {
			avg = dv * factor / db
		}
		m.samples[m.idx] = avg
		m.idx = (m.idx + 1) % instSamples
	}
	m.lastBase, m.lastValue = base, value
}

func (m *instMetric) get() int64 {
	var sum int64
	for _, v := range m.samples {
		sum += v
	}
	return sum / instSamples
}

// instMetrics are INFO's instantaneous_* figures.
type instMetrics struct {
	mu                                sync.Mutex
	last                              time.Time
	ops, netIn, netOut, cycles, elDur instMetric
}

func (im *instMetrics) sample(s *Server) {
	im.mu.Lock()
	defer im.mu.Unlock()
	now := time.Now()
	if now.Sub(im.last) < 100*time.Millisecond {
		return
	}
	im.last = now
	ms, us := now.UnixMilli(), now.UnixMicro()
	cycles, usec, _ := s.eventLoopFigures()
	im.ops.track(s.Stats.Commands.Load(), ms, 1000)
	im.netIn.track(s.Stats.NetInput.Load(), ms, 1000)
	im.netOut.track(s.Stats.NetOutput.Load(), ms, 1000)
	im.cycles.track(cycles, us, 1000000)
	im.elDur.track(usec, cycles, 1)
}

func (im *instMetrics) reset() {
	im.mu.Lock()
	im.ops, im.netIn, im.netOut, im.cycles, im.elDur = instMetric{}, instMetric{}, instMetric{}, instMetric{}, instMetric{}
	im.mu.Unlock()
}

// eventLoopFigures stands in for Redis's event loop counters, which have
// no exact equivalent with several loops and goroutines: a cycle is a read
// that delivered commands or a cron tick, and the time spent is the time
// spent in commands (cmdUsec) plus the cron's (the total, usec).
func (s *Server) eventLoopFigures() (cycles, usec, cmdUsec int64) {
	for _, cmd := range s.Table.All() {
		cmdUsec += cmd.Stats.Usec.Load()
		for _, sub := range cmd.Subcommands {
			cmdUsec += sub.Stats.Usec.Load()
		}
	}
	a := s.admin()
	return s.Stats.IOReads.Load() + a.cronTicks.Load(), cmdUsec + a.cronNanos.Load()/1000, cmdUsec
}

func (s *Server) infoStats(ib *infoBuf, kf keyspaceFigures) {
	st := &s.Stats
	im := &s.admin().metrics
	im.mu.Lock()
	ops, in, out, cyc, dur := im.ops.get(), im.netIn.get(), im.netOut.get(), im.cycles.get(), im.elDur.get()
	im.mu.Unlock()
	cycles, usec, cmdUsec := s.eventLoopFigures()

	ib.section("Stats")
	ib.int("total_connections_received", st.Connections.Load())
	ib.int("total_commands_processed", st.Commands.Load())
	ib.int("instantaneous_ops_per_sec", ops)
	ib.int("total_net_input_bytes", st.NetInput.Load())
	ib.int("total_net_output_bytes", st.NetOutput.Load())
	ib.int("total_net_repl_input_bytes", 0)
	ib.int("total_net_repl_output_bytes", 0)
	ib.f2("instantaneous_input_kbps", float64(in)/1024, "")
	ib.f2("instantaneous_output_kbps", float64(out)/1024, "")
	ib.f2("instantaneous_input_repl_kbps", 0, "")
	ib.f2("instantaneous_output_repl_kbps", 0, "")
	ib.int("rejected_connections", st.RejectedConns.Load())
	ib.int("sync_full", s.Stats.SyncFull.Load())
	ib.int("sync_partial_ok", s.Stats.SyncPartialOK.Load())
	ib.int("sync_partial_err", s.Stats.SyncPartialErr.Load())
	ib.int("expired_keys", s.Store.ExpiredKeys.Load())
	ib.f2("expired_stale_perc", 0, "")
	ib.int("expired_time_cap_reached_count", s.Store.ExpiredTimeCapReached())
	ib.int("expire_cycle_cpu_milliseconds", 0)
	ib.int("evicted_keys", s.Stats.EvictedKeys.Load())
	ib.int("evicted_clients", s.clientMem.evicted.Load())
	ib.int("total_eviction_exceeded_time", 0)
	ib.int("current_eviction_exceeded_time", 0)
	ib.int("keyspace_hits", kf.hits+st.KeyspaceHits.Load())
	ib.int("keyspace_misses", kf.misses+st.KeyspaceMisses.Load())
	s.ps.mu.RLock()
	nch, npat, nshard := len(s.ps.channels), len(s.ps.patterns), len(s.ps.shard)
	s.ps.mu.RUnlock()
	ib.int("pubsub_channels", int64(nch))
	ib.int("pubsub_patterns", int64(npat))
	ib.int("pubsubshard_channels", int64(nshard))
	ib.int("latest_fork_usec", s.Stats.LatestForkUsec.Load())
	ib.int("total_forks", s.Stats.Forks.Load())
	ib.int("migrate_cached_sockets", int64(commands.MigrateCachedSockets(s.Store)))
	ib.int("slave_expires_tracked_keys", 0)
	ib.int("active_defrag_hits", 0)
	ib.int("active_defrag_misses", 0)
	ib.int("active_defrag_key_hits", 0)
	ib.int("active_defrag_key_misses", 0)
	ib.int("total_active_defrag_time", 0)
	ib.int("current_active_defrag_time", 0)
	tkeys, titems, tprefixes := s.tracking.figures()
	ib.int("tracking_total_keys", tkeys)
	ib.int("tracking_total_items", titems)
	ib.int("tracking_total_prefixes", tprefixes)
	ib.int("unexpected_error_replies", st.UnexpectedErrors.Load())
	ib.int("total_error_replies", st.ErrorReplies.Load())
	ib.int("dump_payload_sanitizations", 0)
	ib.int("total_reads_processed", st.IOReads.Load())
	ib.int("total_writes_processed", st.IOWrites.Load())
	ib.int("io_threaded_reads_processed", 0)
	ib.int("io_threaded_writes_processed", 0)
	ib.int("reply_buffer_shrinks", 0)
	ib.int("reply_buffer_expands", 0)
	ib.int("eventloop_cycles", cycles)
	ib.int("eventloop_duration_sum", usec)
	ib.int("eventloop_duration_cmd_sum", cmdUsec)
	ib.int("instantaneous_eventloop_cycles_per_sec", cyc)
	ib.int("instantaneous_eventloop_duration_usec", dur)
	denied := s.aclLog.Stats()
	ib.int("acl_access_denied_auth", denied.Auth)
	ib.int("acl_access_denied_cmd", denied.Command)
	ib.int("acl_access_denied_key", denied.Key)
	ib.int("acl_access_denied_channel", denied.Channel)
}

// ---------------------------------------------------------------------------
// Replication

func (s *Server) infoReplication(ib *infoBuf) {
	a := s.admin()
	a.replMu.Lock()
	id, id2 := a.replID, a.replID2
	a.replMu.Unlock()
	replicas := s.replicaInfo()
	ib.section("Replication")
	now := time.Now().Unix()
	if st, ok := s.replicaStatus(); ok {
		// Field for field as Redis 7.2: sentinels read the link's state,
		// offsets, priority and down time here to pick a replica.
		ib.str("role", "slave")
		ib.str("master_host", st.host)
		ib.int("master_port", int64(st.port))
		link := "down"
		if st.up {
			link = "up"
		}
		ib.str("master_link_status", link)
		ib.int("master_last_io_seconds_ago", st.lastIO)
		ib.int("master_sync_in_progress", boolInt(st.syncing))
		ib.int("slave_read_repl_offset", st.read)
		ib.int("slave_repl_offset", st.applied)
		if st.syncing {
			perc := 0.0
			if st.syncSize != 0 {
				perc = float64(st.syncRead) / float64(st.syncSize) * 100
			}
			ib.int("master_sync_total_bytes", st.syncSize)
			ib.int("master_sync_read_bytes", st.syncRead)
			ib.int("master_sync_left_bytes", st.syncSize-st.syncRead)
			ib.f2("master_sync_perc", perc, "")
			ib.int("master_sync_last_io_seconds_ago", now-st.syncLastIO)
		}
		if !st.up {
			down := int64(-1)
			if !st.downSince.IsZero() {
				down = now - st.downSince.Unix()
			}
			ib.int("master_link_down_since_seconds", down)
		}
		ib.int("slave_priority", s.Config.Int("replica-priority"))
		ib.int("slave_read_only", boolInt(s.Config.Bool("replica-read-only")))
		ib.int("replica_announced", boolInt(s.Config.Bool("replica-announced")))
	} else {
		ib.str("role", "master")
	}
	ib.int("connected_slaves", int64(len(replicas)))
	if s.Config.Int("min-replicas-to-write") > 0 && s.Config.Int("min-replicas-max-lag") > 0 {
		ib.int("min_slaves_good_slaves", int64(s.goodReplicas()))
	}
	for i, r := range replicas {
		// The lag is counted for online replicas only, as Redis does.
		lag := int64(0)
		if r.replica.state.Load() == replOnline {
			lag = now - r.replica.ackTime.Load()
		}
		ib.str("slave"+strconv.Itoa(i), "ip="+replicaIP(r)+",port="+strconv.FormatInt(r.replListeningPort.Load(), 10)+
			",state="+replStateNames[r.replica.state.Load()]+",offset="+strconv.FormatInt(r.replica.ackOffset.Load(), 10)+",lag="+strconv.FormatInt(lag, 10))
	}
	ib.str("master_failover_state", failoverPhaseNames[s.replica.failover.phase.Load()])
	ib.str("master_replid", id)
	ib.str("master_replid2", id2)
	a.replMu.Lock()
	second := a.secondOffset
	a.replMu.Unlock()
	ib.int("master_repl_offset", s.prop.Offset())
	ib.int("second_repl_offset", second)
	active, first, histlen := s.prop.backlogInfo()
	ib.int("repl_backlog_active", boolInt(active))
	ib.int("repl_backlog_size", s.Config.Int("repl-backlog-size"))
	ib.int("repl_backlog_first_byte_offset", first)
	ib.int("repl_backlog_histlen", histlen)
}

// ---------------------------------------------------------------------------
// CPU

func infoCPU(ib *infoBuf) {
	t := cpuTimes()
	ib.section("CPU")
	ib.str("used_cpu_sys", formatCPU(t.sys))
	ib.str("used_cpu_user", formatCPU(t.user))
	ib.str("used_cpu_sys_children", formatCPU(t.childSys))
	ib.str("used_cpu_user_children", formatCPU(t.childUser))
}

// processCPU is the process's CPU time, from getrusage where available.
type processCPU struct{ sys, user, childSys, childUser time.Duration }

// formatCPU prints seconds with six decimals, as Redis's "%ld.%06ld".
func formatCPU(d time.Duration) string {
	us := d.Microseconds()
	frac := strconv.FormatInt(us%1000000, 10)
	return strconv.FormatInt(us/1000000, 10) + "." + strings.Repeat("0", 6-len(frac)) + frac
}

// ---------------------------------------------------------------------------
// Commandstats, errorstats, latencystats

// infoSafe replaces the characters that would break INFO's format.
func infoSafe(s string) string {
	if !strings.ContainsAny(s, "#:\r\n") {
		return s
	}
	return strings.NewReplacer("#", "_", ":", "_", "\r", "_", "\n", "_").Replace(s)
}

// eachCommand visits every command, each container followed by its
// subcommands.
func (s *Server) eachCommand(fn func(*command.Command)) {
	for _, cmd := range s.Table.All() {
		fn(cmd)
		for _, sub := range cmd.Subcommands {
			fn(sub)
		}
	}
}

func (s *Server) infoCommandStats(ib *infoBuf) {
	ib.section("Commandstats")
	s.eachCommand(func(cmd *command.Command) {
		st := &cmd.Stats
		calls, usec, rej, failed := st.Calls.Load(), st.Usec.Load(), st.Rejected.Load(), st.Failed.Load()
		if calls == 0 && rej == 0 && failed == 0 {
			return
		}
		perCall := 0.0
		if calls > 0 {
			perCall = float64(float32(usec) / float32(calls))
		}
		b := append(ib.b, "cmdstat_"...)
		b = append(b, infoSafe(cmd.Name)...)
		b = append(b, ":calls="...)
		b = strconv.AppendInt(b, calls, 10)
		b = append(b, ",usec="...)
		b = strconv.AppendInt(b, usec, 10)
		b = append(b, ",usec_per_call="...)
		b = strconv.AppendFloat(b, perCall, 'f', 2, 64)
		b = append(b, ",rejected_calls="...)
		b = strconv.AppendInt(b, rej, 10)
		b = append(b, ",failed_calls="...)
		b = strconv.AppendInt(b, failed, 10)
		ib.b = append(b, "\r\n"...)
	})
}

func (s *Server) infoErrorStats(ib *infoBuf) {
	ib.section("Errorstats")
	s.errMu.Lock()
	names := make([]string, 0, len(s.errStats))
	for k := range s.errStats {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		ib.str("errorstat_"+infoSafe(k), "count="+strconv.FormatInt(s.errStats[k], 10))
	}
	s.errMu.Unlock()
}

func (s *Server) infoLatencyStats(ib *infoBuf) {
	ib.section("Latencystats")
	a := s.admin()
	if !a.latencyTracking.Load() {
		return
	}
	pcts := s.Config.LatencyTrackingInfoPercentiles()
	s.eachCommand(func(cmd *command.Command) {
		h := a.histograms.get(cmd)
		if h == nil {
			return
		}
		b := append(ib.b, "latency_percentiles_usec_"...)
		b = append(b, infoSafe(cmd.Name)...)
		b = append(b, ':')
		for i, p := range pcts {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, 'p')
			b = append(b, formatPercentileName(p)...)
			b = append(b, '=')
			b = strconv.AppendFloat(b, h.percentile(p), 'f', 3, 64)
		}
		ib.b = append(b, "\r\n"...)
	})
}
