package acl

import (
	"sync"
	"time"
)

// LogContext says where a denied command was running (the ACL LOG's
// "context" field). The values are Redis's ACL_LOG_CTX_* codes.
type LogContext uint8

// Log contexts.
const (
	ContextToplevel LogContext = 0
	ContextLua      LogContext = 1
	ContextMulti    LogContext = 2
	ContextModule   LogContext = 3
)

// String returns the context as the ACL LOG shows it.
func (c LogContext) String() string {
	switch c {
	case ContextToplevel:
		return "toplevel"
	case ContextLua:
		return "lua"
	case ContextMulti:
		return "multi"
	case ContextModule:
		return "module"
	}
	return "unknown"
}

// logGroupingMs is how close in time a denial must be to an entry with the
// same reason, context, object and user to be counted in it rather than
// logged anew (Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA).
const logGroupingMs = 60000

// logGroupingScan is how many of the newest entries are searched for one
// to group with, bounding the work a denial costs.
const logGroupingScan = 10

// LogEntry is one ACL LOG entry. ACL LOG shows, in this order: count,
// reason, context, object, username, age-seconds, client-info, entry-id,
// timestamp-created, timestamp-last-updated.
type LogEntry struct {
	Count      int64
	Reason     Reason     // "reason": Reason.String()
	Context    LogContext // "context": LogContext.String()
	Object     string     // the command's full name, the key, the channel, or AUTH/HELLO as typed
	Username   string
	AgeSeconds float64 // since Updated, when Entries was called
	ClientInfo string  // the CLIENT LIST line of the client that was refused last
	EntryID    int64
	Created    int64 // Unix ms ("timestamp-created")
	Updated    int64 // Unix ms ("timestamp-last-updated")
}

// DeniedStats counts denials by reason since the server started (INFO's
// acl_access_denied_* fields; Redis zeroes them only at startup, not on
// CONFIG RESETSTAT, and ACL LOG RESET keeps them too).
type DeniedStats struct {
	Auth, Command, Key, Channel int64
}

// Log is the ACL LOG: the newest denials first, similar ones grouped, at
// most acllog-max-len entries. It is safe for concurrent use.
type Log struct {
	now func() int64 // Unix ms; injectable so tests can move time

	mu      sync.Mutex
	maxLen  int         // guarded by mu
	entries []*LogEntry // newest first; guarded by mu
	nextID  int64       // guarded by mu
	stats   DeniedStats // guarded by mu
}

// NewLog returns an empty log keeping maxLen entries; now returns the
// current Unix time in ms (nil: the system clock).
func NewLog(maxLen int, now func() int64) *Log {
	if now == nil {
		now = func() int64 { return time.Now().UnixMilli() }
	}
	return &Log{now: now, maxLen: maxLen}
}

// SetMaxLen changes acllog-max-len. As in Redis the log shrinks at the
// next entry added, not now.
func (l *Log) SetMaxLen(n int) {
	l.mu.Lock()
	l.maxLen = n
	l.mu.Unlock()
}

// Add records a denial and counts it in the stats. A denial like one of
// the ten newest entries (same reason, context, object and user, within a
// minute of its last update) bumps that entry's count, client info and
// update time and moves it to the front; otherwise a new entry with the
// next entry-id goes in front and the oldest ones beyond the maximum go.
func (l *Log) Add(reason Reason, ctx LogContext, object, username, clientInfo string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	switch reason {
	case DeniedAuth:
		l.stats.Auth++
	case DeniedCommand:
		l.stats.Command++
	case DeniedKey:
		l.stats.Key++
	case DeniedChannel:
		l.stats.Channel++
	}
	for i, e := range l.entries[:min(len(l.entries), logGroupingScan)] {
		delta := e.Updated - now
		if delta < 0 {
			delta = -delta
		}
		if e.Reason != reason || e.Context != ctx || delta > logGroupingMs ||
			e.Object != object || e.Username != username {
			continue
		}
		e.Count++
		e.ClientInfo = clientInfo
		e.Updated = now
		copy(l.entries[1:i+1], l.entries[:i])
		l.entries[0] = e
		return
	}
	e := &LogEntry{
		Count: 1, Reason: reason, Context: ctx, Object: object, Username: username,
		ClientInfo: clientInfo, EntryID: l.nextID, Created: now, Updated: now,
	}
	l.nextID++
	l.entries = append(l.entries, nil)
	copy(l.entries[1:], l.entries)
	l.entries[0] = e
	for len(l.entries) > max(l.maxLen, 0) {
		l.entries[len(l.entries)-1] = nil
		l.entries = l.entries[:len(l.entries)-1]
	}
}

// Entries returns copies of the newest count entries (ACL LOG [count];
// Redis's default count is 10, a negative count shows none), with their
// ages computed now.
func (l *Log) Entries(count int) []LogEntry {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	count = min(max(count, 0), len(l.entries))
	out := make([]LogEntry, count)
	for i := range out {
		out[i] = *l.entries[i]
		out[i].AgeSeconds = float64(now-out[i].Updated) / 1000
	}
	return out
}

// Len returns the number of entries.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// Reset empties the log (ACL LOG RESET). Entry IDs keep counting, so an
// entry's (entry-id, timestamp-created) pair stays unique.
func (l *Log) Reset() {
	l.mu.Lock()
	clear(l.entries)
	l.entries = l.entries[:0]
	l.mu.Unlock()
}

// Stats returns the denial counters.
func (l *Log) Stats() DeniedStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// LogObject returns the ACL LOG object of a denial Check reported: the
// command's full name, or the argument at pos (the key or channel).
func LogObject(r Reason, cmdName string, args [][]byte, pos int) string {
	if (r == DeniedKey || r == DeniedChannel) && pos >= 0 && pos < len(args) {
		return string(args[pos])
	}
	return cmdName
}
