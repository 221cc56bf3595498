package server

import (
	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/resp"
)

// slowlogGetCommand is SLOWLOG GET [count]: the newest entries first, 10 by
// default, all with -1; each entry is id, Unix time, duration in µs, the
// (possibly shortened) arguments, the client's address and name.
func (s *Server) slowlogGetCommand(c *command.Ctx) {
	count := int64(10)
	if len(c.Args) > 3 {
		subcommandSyntaxError(c)
		return
	}
	if len(c.Args) == 3 {
		n, ok := resp.ParseInt(c.Args[2])
		if !ok || n < -1 {
			c.Error("ERR count should be greater than or equal to -1")
			return
		}
		count = n
	}
	l := &s.slowlog
	l.mu.Lock()
	defer l.mu.Unlock()
	if count == -1 || count > int64(len(l.entries)) {
		count = int64(len(l.entries))
	}
	w := c.W
	w.ArrayLen(int(count))
	for i := len(l.entries) - 1; i >= len(l.entries)-int(count); i-- {
		e := &l.entries[i]
		w.ArrayLen(6)
		w.Int(e.id)
		w.Int(e.time)
		w.Int(e.duration)
		w.ArrayLen(len(e.args))
		for _, a := range e.args {
			w.BulkString(a)
		}
		w.BulkString(e.addr)
		w.BulkString(e.name)
	}
}

func (s *Server) slowlogLenCommand(c *command.Ctx) {
	s.slowlog.mu.Lock()
	n := len(s.slowlog.entries)
	s.slowlog.mu.Unlock()
	c.W.Int(int64(n))
}

// slowlogResetCommand empties the log; entry IDs keep counting, as in Redis.
func (s *Server) slowlogResetCommand(c *command.Ctx) {
	s.slowlog.mu.Lock()
	s.slowlog.entries = nil
	s.slowlog.mu.Unlock()
	c.OK()
}

func slowlogHelpCommand(c *command.Ctx) {
	replyHelp(c, []string{
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.",
	})
}
