package commands

import "github.com/corvid-db/corvid/internal/command"

func listCommands() []*command.Command { return nil }
