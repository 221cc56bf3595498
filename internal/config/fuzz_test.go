package config

import "testing"

// FuzzLoadString loads random configuration text: nothing may panic,
// whether it loads or is refused, and what loaded reads back through
// CONFIG GET.
func FuzzLoadString(f *testing.F) {
	for _, seed := range []string{
		"port 7000\nbind 127.0.0.1 -::1\nsave 900 1\nsave 300 10\n",
		"maxmemory 2GB\nmaxmemory-policy allkeys-lru\nclient-output-buffer-limit normal 0 0 0 pubsub 32mb 8mb 60\n",
		"requirepass \"a b\\x00c\"\nrename-command FLUSHALL \"\"\nuser alice on >p ~* +@all\n",
		"notify-keyspace-events KEA\nappendonly yes\nappendfsync always\ninclude /nonexistent\n",
		"'unterminated\n\"x\\\n\tport\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c := New()
		if err := c.LoadString(text); err != nil {
			return
		}
		_ = c.Get([]string{"*"})
	})
}
