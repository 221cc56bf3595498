package server

import (
	"fmt"
	"strconv"
	"time"

	"github.com/corvid-db/corvid/internal/command"
)

// feedMonitors sends the command to every MONITOR client, formatted as
// Redis does: +1700000000.123456 [0 127.0.0.1:5555] "set" "k" "v".
func (s *Server) feedMonitors(c *Client, cmd *command.Command, args [][]byte) {
	s.clientsMu.Lock()
	mons := s.monitors
	s.clientsMu.Unlock()
	if len(mons) == 0 || cmd.Flags&(command.SkipMonitor|command.Admin) != 0 {
		return
	}
	now := time.Now()
	line := fmt.Appendf(nil, "+%d.%06d [%d %s]", now.Unix(), now.Nanosecond()/1000, c.db, c.monitorAddr())
	for _, a := range args {
		line = append(line, ' ')
		line = strconv.AppendQuote(line, string(a))
	}
	line = append(line, "\r\n"...)
	for _, m := range mons {
		m.enqueueAsync(line)
	}
}

func (c *Client) monitorAddr() string {
	if c.isLocal && c.addr == "/unixsocket:0" {
		return "unix:" + c.srv.Config.String("unixsocket")
	}
	return c.addr
}
