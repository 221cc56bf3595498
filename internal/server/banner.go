package server

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// LogStartup writes the startup notices redis-server writes before it
// loads its data, in the same shapes: supervisors and Redis's own test
// harness read them. The harness waits for " PID: <pid>" (a line of the
// logo, which always-show-logo forces) followed by "Server initialized"
// (written by Start); without the logo, the pid is in the "just started"
// line and the port in "Running mode=standalone, port=N." ("sentinel" in
// sentinel mode, whose SetSentinel must come first). configFile is the
// file the configuration came from, "" when none was given.
func (s *Server) LogStartup(configFile string) {
	pid := os.Getpid()
	s.Log.Noticef("oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo")
	s.Log.Noticef("Redis version=%s, bits=%d, commit=00000000, modified=0, pid=%d, just started", Version, strconv.IntSize, pid)
	if configFile == "" {
		s.Log.Warningf("Warning: no config file specified, using the default config. In order to specify a config file use corvid /path/to/corvid.conf")
	} else {
		s.Log.Noticef("Configuration loaded")
	}
	s.Log.Noticef("monotonic clock: POSIX clock_gettime")
	port := s.Config.Int("port")
	if port == 0 {
		port = s.Config.Int("tls-port")
	}
	showLogo := s.Config.Bool("always-show-logo") ||
		(s.Config.String("logfile") == "" && s.Config.String("syslog-enabled") != "yes" && s.Log.isTerminal())
	if !showLogo {
		s.Log.Noticef("Running mode=%s, port=%d.", s.redisMode(), port)
		return
	}
	s.Log.rawf(LogNotice, startupLogo(Version, s.redisMode(), port, pid))
}

// logoArt is Corvid's own drawing (a corvid on a perch); the text beside
// it carries the fields of redis-server's logo, which tools parse.
var logoArt = []string{
	`            ___          `,
	`         .-'   '-.__     `,
	`        /  (o)     _>    `,
	`       |         .'      `,
	`        \      .'        `,
	`     ___/     /          `,
	`   .'        /\          `,
	`  /  .-'    /  \         `,
	` /_.'  '---'    \        `,
	`        | |              `,
	`   =====|=|========      `,
	`                         `,
}

// startupLogo renders the logo with its fields on the right, as
// redis-server does: version, mode, port and PID each on a line of their
// own.
func startupLogo(version, mode string, port int64, pid int) string {
	fields := map[int]string{
		1: fmt.Sprintf("Corvid %s (Redis-compatible, 00000000/0) %d bit", version, strconv.IntSize),
		3: "Running in " + mode + " mode",
		4: fmt.Sprintf("Port: %d", port),
		5: fmt.Sprintf("PID: %d", pid),
		9: "https://github.com/corvid-db/corvid",
	}
	var b strings.Builder
	b.WriteString("\n")
	for i, line := range logoArt {
		b.WriteString(line)
		if f, ok := fields[i]; ok {
			b.WriteString("    ")
			b.WriteString(f)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	return b.String()
}
