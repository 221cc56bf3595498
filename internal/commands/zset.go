package commands

import "github.com/corvid-db/corvid/internal/command"

func zsetCommands() []*command.Command { return nil }
