package server

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/config"
)

// Log levels, as redis.conf's loglevel names them.
const (
	LogDebug = iota
	LogVerbose
	LogNotice
	LogWarning
	LogNothing
)

var levelMarks = [...]byte{'.', '-', '*', '#'}

// Logger writes Redis-style log lines: "pid:M 23 Nov 2026 23:09:39.123 * msg".
type Logger struct {
	mu    sync.Mutex
	out   io.Writer
	level atomic.Int32
	pid   int
	// role is the role character after the pid (setRole); 0 means 'M'.
	role atomic.Uint32
}

// sentinelRoleChar marks a sentinel's log lines, as Redis's 'X'.
const sentinelRoleChar = 'X'

// setRole sets the character that follows the pid in every line.
func (l *Logger) setRole(ch byte) { l.role.Store(uint32(ch)) }

// NewLogger opens the log the configuration names (stdout when logfile is empty).
func NewLogger(cfg *config.Config) *Logger {
	l := &Logger{out: os.Stdout, pid: os.Getpid()}
	if path := cfg.String("logfile"); path != "" {
		if f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			l.out = f
		}
	}
	l.setLevel(cfg.String("loglevel"))
	cfg.OnChange("loglevel", func(string) error { l.setLevel(cfg.String("loglevel")); return nil })
	return l
}

// SetOutput redirects the log (tests silence it).
func (l *Logger) SetOutput(w io.Writer) { l.mu.Lock(); l.out = w; l.mu.Unlock() }

func (l *Logger) setLevel(name string) {
	lv := map[string]int32{"debug": LogDebug, "verbose": LogVerbose, "notice": LogNotice, "warning": LogWarning, "nothing": LogNothing}[name]
	if name == "" {
		lv = LogNotice
	}
	l.level.Store(lv)
}

func (l *Logger) logf(level int, format string, args ...any) {
	if int32(level) < l.level.Load() {
		return
	}
	now := time.Now()
	msg := fmt.Sprintf(format, args...)
	role := byte('M')
	if r := l.role.Load(); r != 0 {
		role = byte(r)
	}
	l.mu.Lock()
	fmt.Fprintf(l.out, "%d:%c %s.%03d %c %s\n", l.pid, role, now.Format("02 Jan 2006 15:04:05"), now.Nanosecond()/1e6, levelMarks[level], msg)
	l.mu.Unlock()
}

// Debugf logs at debug level.
func (l *Logger) Debugf(f string, a ...any) { l.logf(LogDebug, f, a...) }

// Verbosef logs at verbose level.
func (l *Logger) Verbosef(f string, a ...any) { l.logf(LogVerbose, f, a...) }

// Noticef logs at notice level.
func (l *Logger) Noticef(f string, a ...any) { l.logf(LogNotice, f, a...) }

// Warningf logs at warning level.
func (l *Logger) Warningf(f string, a ...any) { l.logf(LogWarning, f, a...) }

// rawf writes text as it is, without the pid/time/level prefix, when level
// passes the configured one: Redis writes its startup logo this way.
func (l *Logger) rawf(level int, text string) {
	if int32(level) < l.level.Load() {
		return
	}
	l.mu.Lock()
	_, _ = io.WriteString(l.out, text)
	l.mu.Unlock()
}

// isTerminal reports whether the log goes to a terminal.
func (l *Logger) isTerminal() bool {
	l.mu.Lock()
	f, ok := l.out.(*os.File)
	l.mu.Unlock()
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
