package server

import "github.com/corvid-db/corvid/internal/command"

// adminCommands are the server commands: CONFIG, INFO, COMMAND, DEBUG,
// SLOWLOG, LATENCY, SHUTDOWN, TIME, LASTSAVE, FUNCTION.
func (s *Server) adminCommands() []*command.Command {
	return nil
}
