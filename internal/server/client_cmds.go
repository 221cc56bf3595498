package server

import "github.com/corvid-db/corvid/internal/command"

// clientCommands are CLIENT and its subcommands, and MONITOR.
func (s *Server) clientCommands() []*command.Command {
	return nil
}
