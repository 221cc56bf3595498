package commands

import "github.com/corvid-db/corvid/internal/command"

func stringCommands() []*command.Command { return nil }
