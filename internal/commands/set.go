package commands

import "github.com/corvid-db/corvid/internal/command"

func setCommands() []*command.Command { return nil }
