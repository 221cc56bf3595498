package config

// implemented lists, by canonical name, the directives Corvid actually acts
// on. Every other directive is accepted, validated, stored, reported by
// CONFIG GET and rewritten by CONFIG REWRITE, but has no effect yet.
//
// This is the single place to flip when a feature lands: add the directive's
// canonical name here and Directive.Implemented (hence docs generated from
// Directives) follows. TestImplementedNamesAreKnown checks every entry.
var implemented = []string{
	"port", "bind", "unixsocket", "unixsocketperm", "protected-mode",
	"requirepass", "maxclients", "timeout", "tcp-keepalive", "databases",
	"loglevel", "logfile", "pidfile", "daemonize", "hz",
	"proto-max-bulk-len", "client-query-buffer-limit",
	"enable-debug-command", "enable-module-command", "active-expire-effort",
	"slowlog-log-slower-than", "slowlog-max-len",
	"latency-monitor-threshold", "latency-tracking", "latency-tracking-info-percentiles",
	"hash-max-listpack-entries", "hash-max-listpack-value",
	"set-max-intset-entries", "set-max-listpack-entries", "set-max-listpack-value",
	"zset-max-listpack-entries", "zset-max-listpack-value", "list-max-listpack-size",
	"lfu-decay-time", "lfu-log-factor", "maxmemory", "maxmemory-policy", "maxmemory-samples",
	"hll-sparse-max-bytes", "notify-keyspace-events", "tracking-table-max-keys",
	"appendonly", "appendfsync", "appenddirname", "appendfilename", "save", "dbfilename",
	"stop-writes-on-bgsave-error", "lazyfree-lazy-eviction",
	"repl-backlog-size", "masterauth", "masteruser", "min-replicas-to-write",
	"replica-serve-stale-data", "repl-ping-replica-period", "replica-read-only",
	"aclfile", "acl-pubsub-default", "acllog-max-len", "watchdog-period",
	"loading-process-events-interval-bytes",
	"tls-port", "tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file",
	"tls-client-key-file", "tls-client-key-file-pass", "tls-ca-cert-file", "tls-ca-cert-dir",
	"tls-auth-clients", "tls-protocols", "tls-ciphers", "tls-ciphersuites", "tls-replication",
	"tls-session-caching", "bind-source-addr",
	"maxmemory-clients", "client-output-buffer-limit", "enable-protected-configs",
}

// implementedSet is implemented as a set.
var implementedSet = func() map[string]bool {
	m := make(map[string]bool, len(implemented))
	for _, n := range implemented {
		m[n] = true
	}
	return m
}()
