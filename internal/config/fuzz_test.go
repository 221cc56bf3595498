package config

import (
	"strings"
	"testing"

	"github.com/corvid-db/corvid/internal/resp"
)

// FuzzLoadString loads random configuration text: nothing may panic,
// whether it loads or is refused, and what loaded reads back through
// CONFIG GET. Texts naming files (include reads any file a glob matches,
// devices included; logfile creates one) are left out: the target is the
// parser, not the file system.
func FuzzLoadString(f *testing.F) {
	for _, seed := range []string{
		"port 7000\nbind 127.0.0.1 -::1\nsave 900 1\nsave 300 10\n",
		"maxmemory 2GB\nmaxmemory-policy allkeys-lru\nclient-output-buffer-limit normal 0 0 0 pubsub 32mb 8mb 60\n",
		"requirepass \"a b\\x00c\"\nrename-command FLUSHALL \"\"\nuser alice on >p ~* +@all\n",
		"notify-keyspace-events KEA\nappendonly yes\nappendfsync always\n",
		"'unterminated\n\"x\\\n\tport\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if namesFiles(text) {
			t.Skip()
		}
		c := New()
		if err := c.LoadString(text); err != nil {
			return
		}
		_ = c.Get([]string{"*"})
	})
}

// namesFiles reports whether a line of text is an include or a logfile
// directive, read as the loader reads it (quotes and escapes resolved).
func namesFiles(text string) bool {
	for _, line := range strings.Split(text, "\n") {
		words, err := resp.SplitArgs([]byte(strings.Trim(line, " \t\r\n")))
		if err != nil || len(words) == 0 {
			continue
		}
		if name := strings.ToLower(string(words[0])); name == "include" || name == "logfile" {
			return true
		}
	}
	return false
}
