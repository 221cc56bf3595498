package commands

import "github.com/corvid-db/corvid/internal/command"

func hashCommands() []*command.Command { return nil }
