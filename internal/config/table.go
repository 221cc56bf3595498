package config

import (
	"math"
	"strings"
)

// This file is the directive registry: every directive of Redis 7.2.4's
// config.c standardConfig table (minus the two that only exist in builds with
// LOG_REQ_RES), with the same names, aliases, flags, bounds and defaults, in
// the same order.

const (
	minInt32  = math.MinInt32
	maxInt32  = math.MaxInt32
	maxUint32 = math.MaxUint32
	maxInt64  = math.MaxInt64
)

// Values of the loglevel enum, as returned by Int("loglevel").
const (
	LogDebug int64 = iota
	LogVerbose
	LogNotice
	LogWarning
	LogNothing
)

// Values of the maxmemory-policy enum, as returned by Int("maxmemory-policy").
const (
	PolicyVolatileLRU int64 = iota
	PolicyVolatileLFU
	PolicyVolatileRandom
	PolicyVolatileTTL
	PolicyAllkeysLRU
	PolicyAllkeysLFU
	PolicyAllkeysRandom
	PolicyNoEviction
)

// Values of the appendfsync enum, as returned by Int("appendfsync").
const (
	FsyncNo int64 = iota
	FsyncAlways
	FsyncEverySec
)

// Values of the enable-protected-configs, enable-debug-command and
// enable-module-command enums.
const (
	ProtectedNo int64 = iota
	ProtectedYes
	ProtectedLocal
)

// Bits of the shutdown-on-sigint and shutdown-on-sigterm flag sets (0 is
// "default").
const (
	ShutdownSave   int64 = 1
	ShutdownNoSave int64 = 2
	ShutdownNow    int64 = 4
	ShutdownForce  int64 = 8
)

// Values of the oom-score-adj enum ("yes" is a synonym of "relative").
const (
	OOMScoreAdjNo int64 = iota
	OOMScoreAdjRelative
	OOMScoreAdjAbsolute
)

// Values of the sanitize-dump-payload enum.
const (
	SanitizeDumpNo int64 = iota
	SanitizeDumpYes
	SanitizeDumpClients
)

// Values of the repl-diskless-load enum.
const (
	ReplDisklessLoadDisabled int64 = iota
	ReplDisklessLoadOnEmptyDB
	ReplDisklessLoadSwapDB
)

var (
	maxmemoryPolicyEnum = []enumOpt{
		{"volatile-lru", PolicyVolatileLRU},
		{"volatile-lfu", PolicyVolatileLFU},
		{"volatile-random", PolicyVolatileRandom},
		{"volatile-ttl", PolicyVolatileTTL},
		{"allkeys-lru", PolicyAllkeysLRU},
		{"allkeys-lfu", PolicyAllkeysLFU},
		{"allkeys-random", PolicyAllkeysRandom},
		{"noeviction", PolicyNoEviction},
	}
	// Syslog facility values are those of log/syslog (facility << 3).
	syslogFacilityEnum = []enumOpt{
		{"user", 1 << 3},
		{"local0", 16 << 3},
		{"local1", 17 << 3},
		{"local2", 18 << 3},
		{"local3", 19 << 3},
		{"local4", 20 << 3},
		{"local5", 21 << 3},
		{"local6", 22 << 3},
		{"local7", 23 << 3},
	}
	loglevelEnum = []enumOpt{
		{"debug", LogDebug},
		{"verbose", LogVerbose},
		{"notice", LogNotice},
		{"warning", LogWarning},
		{"nothing", LogNothing},
	}
	supervisedEnum = []enumOpt{
		{"upstart", 3},
		{"systemd", 2},
		{"auto", 1},
		{"no", 0},
	}
	appendfsyncEnum = []enumOpt{
		{"everysec", FsyncEverySec},
		{"always", FsyncAlways},
		{"no", FsyncNo},
	}
	shutdownOnSigEnum = []enumOpt{
		{"default", 0},
		{"save", ShutdownSave},
		{"nosave", ShutdownNoSave},
		{"now", ShutdownNow},
		{"force", ShutdownForce},
	}
	replDisklessLoadEnum = []enumOpt{
		{"disabled", ReplDisklessLoadDisabled},
		{"on-empty-db", ReplDisklessLoadOnEmptyDB},
		{"swapdb", ReplDisklessLoadSwapDB},
	}
	tlsAuthClientsEnum = []enumOpt{
		{"no", 0},
		{"yes", 1},
		{"optional", 2},
	}
	oomScoreAdjEnum = []enumOpt{
		{"no", OOMScoreAdjNo},
		{"yes", OOMScoreAdjRelative},
		{"relative", OOMScoreAdjRelative},
		{"absolute", OOMScoreAdjAbsolute},
	}
	aclPubsubDefaultEnum = []enumOpt{
		{"allchannels", 1},
		{"resetchannels", 0},
	}
	sanitizeDumpPayloadEnum = []enumOpt{
		{"no", SanitizeDumpNo},
		{"yes", SanitizeDumpYes},
		{"clients", SanitizeDumpClients},
	}
	protectedActionEnum = []enumOpt{
		{"no", ProtectedNo},
		{"yes", ProtectedYes},
		{"local", ProtectedLocal},
	}
	clusterEndpointTypeEnum = []enumOpt{
		{"ip", 0},
		{"hostname", 1},
		{"unknown-endpoint", 2},
	}
	propagationErrorBehaviorEnum = []enumOpt{
		{"ignore", 0},
		{"panic", 1},
		{"panic-on-replicas", 2},
	}
)

// specs is the registry, in Redis's table order.
var specs = []*spec{
	boolConf("rdbchecksum", "", Immutable, true, nil),
	boolConf("daemonize", "", Immutable, false, nil),
	boolConf("io-threads-do-reads", "", Debug|Immutable, false, nil),
	boolConf("always-show-logo", "", Immutable, false, nil),
	boolConf("protected-mode", "", 0, true, nil),
	boolConf("rdbcompression", "", 0, true, nil),
	boolConf("rdb-del-sync-files", "", 0, false, nil),
	boolConf("activerehashing", "", 0, true, nil),
	boolConf("stop-writes-on-bgsave-error", "", 0, true, nil),
	boolConf("set-proc-title", "", Immutable, true, nil),
	boolConf("dynamic-hz", "", 0, true, nil),
	boolConf("lazyfree-lazy-eviction", "", Debug, false, nil),
	boolConf("lazyfree-lazy-expire", "", Debug, false, nil),
	boolConf("lazyfree-lazy-server-del", "", Debug, false, nil),
	boolConf("lazyfree-lazy-user-del", "", Debug, false, nil),
	boolConf("lazyfree-lazy-user-flush", "", Debug, false, nil),
	boolConf("repl-disable-tcp-nodelay", "", 0, false, nil),
	boolConf("repl-diskless-sync", "", Debug, true, nil),
	boolConf("aof-rewrite-incremental-fsync", "", 0, true, nil),
	boolConf("no-appendfsync-on-rewrite", "", 0, false, nil),
	boolConf("cluster-require-full-coverage", "", 0, true, nil),
	boolConf("rdb-save-incremental-fsync", "", 0, true, nil),
	boolConf("aof-load-truncated", "", 0, true, nil),
	boolConf("aof-use-rdb-preamble", "", 0, true, nil),
	boolConf("aof-timestamp-enabled", "", 0, false, nil),
	boolConf("cluster-replica-no-failover", "cluster-slave-no-failover", 0, false, nil),
	boolConf("replica-lazy-flush", "slave-lazy-flush", 0, false, nil),
	boolConf("replica-serve-stale-data", "slave-serve-stale-data", 0, true, nil),
	boolConf("replica-read-only", "slave-read-only", Debug, true, nil),
	boolConf("replica-ignore-maxmemory", "slave-ignore-maxmemory", 0, true, nil),
	boolConf("jemalloc-bg-thread", "", 0, true, nil),
	boolConf("activedefrag", "", Debug, false, nil),
	boolConf("syslog-enabled", "", Immutable, false, nil),
	boolConf("cluster-enabled", "", Immutable, false, nil),
	boolConf("appendonly", "", DenyLoading, false, nil),
	boolConf("cluster-allow-reads-when-down", "", 0, false, nil),
	boolConf("cluster-allow-pubsubshard-when-down", "", 0, true, nil),
	boolConf("crash-log-enabled", "", 0, true, nil),
	boolConf("crash-memcheck-enabled", "", 0, true, nil),
	boolConf("use-exit-on-panic", "", Hidden, false, nil),
	boolConf("disable-thp", "", Immutable, true, nil),
	boolConf("cluster-allow-replica-migration", "", 0, true, nil),
	boolConf("replica-announced", "", 0, true, nil),
	boolConf("latency-tracking", "", 0, true, nil),
	boolConf("aof-disable-auto-gc", "", Hidden, false, nil),
	boolConf("replica-ignore-disk-write-errors", "", 0, false, nil),
	stringConf("aclfile", "", Immutable, false, "", nil),
	stringConf("unixsocket", "", Immutable, true, "", nil),
	stringConf("pidfile", "", Immutable, true, "", nil),
	stringConf("replica-announce-ip", "slave-announce-ip", 0, true, "", nil),
	stringConf("masteruser", "", Sensitive, true, "", nil),
	stringConf("cluster-announce-ip", "", 0, true, "", nil),
	stringConf("cluster-config-file", "", Immutable, false, "nodes.conf", nil),
	stringConf("cluster-announce-hostname", "", 0, true, "", isValidAnnouncedHostname),
	stringConf("cluster-announce-human-nodename", "", 0, true, "", isValidAnnouncedNodename),
	stringConf("syslog-ident", "", Immutable, false, "redis", nil),
	stringConf("dbfilename", "", Protected, false, "dump.rdb", isValidDBfilename),
	stringConf("appendfilename", "", Immutable, false, "appendonly.aof", isValidAOFfilename),
	stringConf("appenddirname", "", Immutable, false, "appendonlydir", isValidAOFdirname),
	stringConf("server_cpulist", "", Immutable, true, "", nil),
	stringConf("bio_cpulist", "", Immutable, true, "", nil),
	stringConf("aof_rewrite_cpulist", "", Immutable, true, "", nil),
	stringConf("bgsave_cpulist", "", Immutable, true, "", nil),
	stringConf("ignore-warnings", "", 0, false, "", nil),
	stringConf("proc-title-template", "", 0, false, "{title} {listen-addr} {server-mode}", isValidProcTitleTemplate),
	stringConf("bind-source-addr", "", 0, true, "", nil),
	stringConf("logfile", "", Immutable, false, "", nil),
	stringConf("locale-collate", "", 0, false, "", nil),
	stringConf("masterauth", "", Sensitive, true, "", nil),
	stringConf("requirepass", "", Sensitive, true, "", nil),
	enumConf("supervised", "", Immutable, supervisedEnum, 0, nil),
	enumConf("syslog-facility", "", Immutable, syslogFacilityEnum, 128, nil),
	enumConf("repl-diskless-load", "", Debug|DenyLoading, replDisklessLoadEnum, ReplDisklessLoadDisabled, nil),
	enumConf("loglevel", "", 0, loglevelEnum, LogNotice, nil),
	enumConf("maxmemory-policy", "", 0, maxmemoryPolicyEnum, PolicyNoEviction, nil),
	enumConf("appendfsync", "", 0, appendfsyncEnum, FsyncEverySec, nil),
	enumConf("oom-score-adj", "", 0, oomScoreAdjEnum, OOMScoreAdjNo, nil),
	enumConf("acl-pubsub-default", "", 0, aclPubsubDefaultEnum, 0, nil),
	enumConf("sanitize-dump-payload", "", Debug, sanitizeDumpPayloadEnum, SanitizeDumpNo, nil),
	enumConf("enable-protected-configs", "", Immutable, protectedActionEnum, ProtectedNo, nil),
	enumConf("enable-debug-command", "", Immutable, protectedActionEnum, ProtectedNo, nil),
	enumConf("enable-module-command", "", Immutable, protectedActionEnum, ProtectedNo, nil),
	enumConf("cluster-preferred-endpoint-type", "", 0, clusterEndpointTypeEnum, 0, nil),
	enumConf("propagation-error-behavior", "", 0, propagationErrorBehaviorEnum, 0, nil),
	enumConf("shutdown-on-sigint", "", MultiArg, shutdownOnSigEnum, 0, isValidShutdownOnSigFlags),
	enumConf("shutdown-on-sigterm", "", MultiArg, shutdownOnSigEnum, 0, isValidShutdownOnSigFlags),
	numConf("databases", "", Immutable, cInt, 1, maxInt32, 16, numInteger),
	numConf("port", "", 0, cInt, 0, 65535, 6379, numInteger),
	numConf("io-threads", "", Debug|Immutable, cInt, 1, 128, 1, numInteger),
	numConf("auto-aof-rewrite-percentage", "", 0, cInt, 0, maxInt32, 100, numInteger),
	numConf("cluster-replica-validity-factor", "cluster-slave-validity-factor", 0, cInt, 0, maxInt32, 10, numInteger),
	numConf("list-max-listpack-size", "list-max-ziplist-size", 0, cInt, minInt32, maxInt32, -2, numInteger),
	numConf("tcp-keepalive", "", 0, cInt, 0, maxInt32, 300, numInteger),
	numConf("cluster-migration-barrier", "", 0, cInt, 0, maxInt32, 1, numInteger),
	numConf("active-defrag-cycle-min", "", 0, cInt, 1, 99, 1, numInteger),
	numConf("active-defrag-cycle-max", "", 0, cInt, 1, 99, 25, numInteger),
	numConf("active-defrag-threshold-lower", "", 0, cInt, 0, 1000, 10, numInteger),
	numConf("active-defrag-threshold-upper", "", 0, cInt, 0, 1000, 100, numInteger),
	numConf("lfu-log-factor", "", 0, cInt, 0, maxInt32, 10, numInteger),
	numConf("lfu-decay-time", "", 0, cInt, 0, maxInt32, 1, numInteger),
	numConf("replica-priority", "slave-priority", 0, cInt, 0, maxInt32, 100, numInteger),
	numConf("repl-diskless-sync-delay", "", 0, cInt, 0, maxInt32, 5, numInteger),
	numConf("maxmemory-samples", "", 0, cInt, 1, maxInt32, 5, numInteger),
	numConf("maxmemory-eviction-tenacity", "", 0, cInt, 0, 100, 10, numInteger),
	numConf("timeout", "", 0, cInt, 0, maxInt32, 0, numInteger),
	numConf("replica-announce-port", "slave-announce-port", 0, cInt, 0, 65535, 0, numInteger),
	numConf("tcp-backlog", "", Immutable, cInt, 0, maxInt32, 511, numInteger),
	numConf("cluster-port", "", Immutable, cInt, 0, 65535, 0, numInteger),
	numConf("cluster-announce-bus-port", "", 0, cInt, 0, 65535, 0, numInteger),
	numConf("cluster-announce-port", "", 0, cInt, 0, 65535, 0, numInteger),
	numConf("cluster-announce-tls-port", "", 0, cInt, 0, 65535, 0, numInteger),
	numConf("repl-timeout", "", 0, cInt, 1, maxInt32, 60, numInteger),
	numConf("repl-ping-replica-period", "repl-ping-slave-period", 0, cInt, 1, maxInt32, 10, numInteger),
	numConf("list-compress-depth", "", Debug, cInt, 0, maxInt32, 0, numInteger),
	numConf("rdb-key-save-delay", "", Hidden, cInt, minInt32, maxInt32, 0, numInteger),
	numConf("key-load-delay", "", Hidden, cInt, minInt32, maxInt32, 0, numInteger),
	numConf("active-expire-effort", "", 0, cInt, 1, 10, 1, numInteger),
	numConf("hz", "", 0, cInt, 0, maxInt32, 10, numInteger),
	numConf("min-replicas-to-write", "min-slaves-to-write", 0, cInt, 0, maxInt32, 0, numInteger),
	numConf("min-replicas-max-lag", "min-slaves-max-lag", 0, cInt, 0, maxInt32, 10, numInteger),
	numConf("watchdog-period", "", Hidden, cInt, 0, maxInt32, 0, numInteger),
	numConf("shutdown-timeout", "", 0, cInt, 0, maxInt32, 10, numInteger),
	numConf("repl-diskless-sync-max-replicas", "", 0, cInt, 0, maxInt32, 0, numInteger),
	numConf("maxclients", "", 0, cUint, 1, maxUint32, 10000, numInteger),
	numConf("unixsocketperm", "", Immutable, cUint, 0, 0o777, 0, numOctal),
	numConf("socket-mark-id", "", Immutable, cUint, 0, maxUint32, 0, numInteger),
	numConf("active-defrag-max-scan-fields", "", 0, cUlong, 1, maxInt64, 1000, numInteger),
	numConf("slowlog-max-len", "", 0, cUlong, 0, maxInt64, 128, numInteger),
	numConf("acllog-max-len", "", 0, cUlong, 0, maxInt64, 128, numInteger),
	numConf("busy-reply-threshold", "lua-time-limit", 0, cLLong, 0, maxInt64, 5000, numInteger),
	numConf("cluster-node-timeout", "", 0, cLLong, 0, maxInt64, 15000, numInteger),
	numConf("cluster-ping-interval", "", Hidden, cLLong, 0, maxInt64, 0, numInteger),
	numConf("slowlog-log-slower-than", "", 0, cLLong, -1, maxInt64, 10000, numInteger),
	numConf("latency-monitor-threshold", "", 0, cLLong, 0, maxInt64, 0, numInteger),
	numConf("proto-max-bulk-len", "", Debug, cLLong, 1024*1024, maxInt64, 512*1024*1024, numMemory),
	numConf("stream-node-max-entries", "", 0, cLLong, 0, maxInt64, 100, numInteger),
	numConf("repl-backlog-size", "", 0, cLLong, 1, maxInt64, 1024*1024, numMemory),
	numConf("maxmemory", "", 0, cULLong, 0, maxULLong, 0, numMemory),
	numConf("cluster-link-sendbuf-limit", "", 0, cULLong, 0, maxULLong, 0, numMemory),
	numConf("hash-max-listpack-entries", "hash-max-ziplist-entries", 0, cSizeT, 0, maxInt64, 512, numInteger),
	numConf("set-max-intset-entries", "", 0, cSizeT, 0, maxInt64, 512, numInteger),
	numConf("set-max-listpack-entries", "", 0, cSizeT, 0, maxInt64, 128, numInteger),
	numConf("set-max-listpack-value", "", 0, cSizeT, 0, maxInt64, 64, numInteger),
	numConf("zset-max-listpack-entries", "zset-max-ziplist-entries", 0, cSizeT, 0, maxInt64, 128, numInteger),
	numConf("active-defrag-ignore-bytes", "", 0, cSizeT, 1, maxInt64, 100<<20, numMemory),
	numConf("hash-max-listpack-value", "hash-max-ziplist-value", 0, cSizeT, 0, maxInt64, 64, numMemory),
	numConf("stream-node-max-bytes", "", 0, cSizeT, 0, maxInt64, 4096, numMemory),
	numConf("zset-max-listpack-value", "zset-max-ziplist-value", 0, cSizeT, 0, maxInt64, 64, numMemory),
	numConf("hll-sparse-max-bytes", "", 0, cSizeT, 0, maxInt64, 3000, numMemory),
	numConf("tracking-table-max-keys", "", 0, cSizeT, 0, maxInt64, 1000000, numInteger),
	numConf("client-query-buffer-limit", "", Debug, cSizeT, 1024*1024, maxInt64, 1024*1024*1024, numMemory),
	numConf("maxmemory-clients", "", 0, cSSizeT, -100, maxInt64, 0, numMemory|numPercent),
	numConf("repl-backlog-ttl", "", 0, cTimeT, 0, maxInt64, 60*60, numInteger),
	numConf("auto-aof-rewrite-min-size", "", 0, cOffT, 0, maxInt64, 64*1024*1024, numMemory),
	numConf("loading-process-events-interval-bytes", "", Hidden, cOffT, 1024, maxInt32, 1024*1024*2, numInteger),
	numConf("tls-port", "", 0, cInt, 0, 65535, 0, numInteger),
	numConf("tls-session-cache-size", "", 0, cInt, 0, maxInt32, 20*1024, numInteger),
	numConf("tls-session-cache-timeout", "", 0, cInt, 0, maxInt32, 300, numInteger),
	boolConf("tls-cluster", "", 0, false, nil),
	boolConf("tls-replication", "", 0, false, nil),
	enumConf("tls-auth-clients", "", 0, tlsAuthClientsEnum, 1, nil),
	boolConf("tls-prefer-server-ciphers", "", 0, false, nil),
	boolConf("tls-session-caching", "", 0, true, nil),
	stringConf("tls-cert-file", "", Volatile, true, "", nil),
	stringConf("tls-key-file", "", Volatile, true, "", nil),
	stringConf("tls-key-file-pass", "", 0, true, "", nil),
	stringConf("tls-client-cert-file", "", Volatile, true, "", nil),
	stringConf("tls-client-key-file", "", Volatile, true, "", nil),
	stringConf("tls-client-key-file-pass", "", 0, true, "", nil),
	stringConf("tls-dh-params-file", "", Volatile, true, "", nil),
	stringConf("tls-ca-cert-file", "", Volatile, true, "", nil),
	stringConf("tls-ca-cert-dir", "", Volatile, true, "", nil),
	stringConf("tls-protocols", "", 0, true, "", nil),
	stringConf("tls-ciphers", "", 0, true, "", nil),
	stringConf("tls-ciphersuites", "", 0, true, "", nil),

	// Special directives.
	dirSpec,
	saveSpec,
	clientOutputBufferLimitSpec,
	oomScoreAdjValuesSpec,
	notifyKeyspaceEventsSpec,
	bindSpec,
	replicaofSpec,
	latencyTrackingInfoPercentilesSpec,
}

// specRef is a name under which a spec is registered: its canonical name or
// its alias (Redis registers aliases as separate entries of its dict).
type specRef struct {
	spec  *spec
	name  string // the registered name (alias or canonical)
	alias bool
}

// specByName maps every canonical name and alias to its spec.
var specByName = func() map[string]*specRef {
	m := make(map[string]*specRef, 2*len(specs))
	for _, s := range specs {
		if _, dup := m[s.name]; dup {
			panic("config: duplicate directive " + s.name)
		}
		m[s.name] = &specRef{spec: s, name: s.name}
		if s.alias != "" {
			if _, dup := m[s.alias]; dup {
				panic("config: duplicate directive " + s.alias)
			}
			m[s.alias] = &specRef{spec: s, name: s.alias, alias: true}
		}
	}
	return m
}()

func init() {
	for _, s := range specs {
		if s.name == "hz" {
			s.fixup = clampHz
		}
	}
}

// clampHz caps hz to 1..500 like Redis (hz is a hint: out of range values
// are accepted but clamped).
func clampHz(c *Config, e *entry) {
	v := e.i.Load()
	if v < 1 {
		e.i.Store(1)
	} else if v > 500 {
		e.i.Store(500)
	}
}

// ----------------------------------------------------------------------------
// validators (Redis's is_valid_fn callbacks)

func pathIsBaseName(s string) bool {
	return !strings.ContainsAny(s, "/\\")
}

func isValidDBfilename(_ *Config, v string) string {
	if !pathIsBaseName(v) {
		return "dbfilename can't be a path, just a filename"
	}
	return ""
}

func isValidAOFfilename(_ *Config, v string) string {
	if v == "" {
		return "appendfilename can't be empty"
	}
	if !pathIsBaseName(v) {
		return "appendfilename can't be a path, just a filename"
	}
	return ""
}

func isValidAOFdirname(_ *Config, v string) string {
	if v == "" {
		return "appenddirname can't be empty"
	}
	if !pathIsBaseName(v) {
		return "appenddirname can't be a path, just a dirname"
	}
	return ""
}

func isValidShutdownOnSigFlags(v int64) string {
	if v&ShutdownNoSave != 0 && v&ShutdownSave != 0 {
		return "shutdown options SAVE and NOSAVE can't be used simultaneously"
	}
	return ""
}

func isValidAnnouncedNodename(_ *Config, v string) string {
	for i := 0; i < len(v); i++ {
		c := v[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !alnum && strings.IndexByte("!#$%&()*+:;<>?@[]^{|}~", c) >= 0 {
			return "Announced human node name contained invalid character"
		}
	}
	return ""
}

func isValidAnnouncedHostname(_ *Config, v string) string {
	if len(v) >= 256 {
		return "Hostnames must be less than 256 characters"
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.') {
			return "Hostnames may only contain alphanumeric characters, hyphens or dots"
		}
	}
	return ""
}

// isValidProcTitleTemplate checks that the template only uses known
// {variables}, has balanced braces ("{{" is a literal brace) and does not
// expand to an empty title.
func isValidProcTitleTemplate(c *Config, v string) string {
	const bad = "template format is invalid or contains unknown variables"
	var out strings.Builder
	p := v
	for len(p) > 0 {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			out.WriteString(p)
			break
		}
		out.WriteString(p[:i])
		p = p[i+1:]
		if p == "" {
			return bad
		}
		if p[0] == '{' {
			out.WriteByte('{')
			p = p[1:]
			continue
		}
		j := strings.IndexByte(p, '}')
		if j < 0 {
			return bad
		}
		switch p[:j] {
		case "title", "server-mode":
			// "" for the validation (title) / "" unless clustered.
			if p[:j] == "server-mode" && c != nil && c.byName["cluster-enabled"].b.Load() {
				out.WriteString("[cluster]")
			}
		case "listen-addr", "config-file", "port", "tls-port":
			out.WriteString("x") // never empty
		case "unixsocket":
			if c != nil {
				out.WriteString(*c.byName["unixsocket"].s.Load())
			}
		default:
			return bad
		}
		p = p[j+1:]
	}
	if strings.Trim(out.String(), " ") == "" {
		return bad
	}
	return ""
}
