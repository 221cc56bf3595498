package config

// A sentinel's configuration differs from a server's in two defaults and
// in knowing it is a sentinel's.

// SentinelPort is the port a sentinel listens on unless its configuration
// names another (Redis's REDIS_SENTINEL_PORT).
const SentinelPort = 26379

// SetSentinelDefaults gives c a sentinel's defaults, as Redis's
// initSentinelConfig does before it reads the file: port 26379, and
// protected-mode off, since a sentinel must be reachable by the other
// sentinels and by clients on other hosts. Call it on a new
// configuration, before loading the file and the command line, which
// then override these values as they would any default. The values are
// set, not the registry's defaults: CONFIG REWRITE writes them, as Redis
// writes "port 26379" and "protected-mode no" into a sentinel's file.
func (c *Config) SetSentinelDefaults() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range []struct {
		name  string
		value any
	}{
		{"port", int64(SentinelPort)},
		{"protected-mode", false},
	} {
		_, e := c.lookup(d.name)
		e.spec.ops.store(e, d.value)
	}
}

// SentinelMode reports whether c is a sentinel's configuration: a
// sentinel (internal/sentinel) registers its handler of the "sentinel"
// directive (HandleDirective) before the file is loaded, since outside
// sentinel mode those lines are refused. The server then builds a
// sentinel's command table from the start (server.New), so that the
// file's rename-command and user directives are checked against the
// commands a sentinel has, as Redis checks them.
func (c *Config) SentinelMode() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.directives["sentinel"] != nil
}
