// Package commands holds the data command handlers, one file per group with
// its registration list at the top (string.go, keys.go, …). Handlers run with
// the shard locks of their keys already held by the dispatcher; they parse
// and validate every argument before they change anything, use the keyspace
// API, and turn its results into replies. Server-level commands (CLIENT,
// CONFIG, INFO…) live in package server, next to the state they report.
package commands

import "github.com/corvid-db/corvid/internal/command"

// Register adds every data command to the table.
func Register(t *command.Table) {
	t.Register(stringCommands()...)
	t.Register(keyCommands()...)
	t.Register(listCommands()...)
	t.Register(hashCommands()...)
	t.Register(setCommands()...)
	t.Register(zsetCommands()...)
	t.Register(blockingCommands()...)
	t.Register(geoCommands()...)
	t.Register(bitmapCommands()...)
	t.Register(hllCommands()...)
	t.Register(sortCommands()...)
	t.Register(streamCommands()...)
	t.Register(dumpCommands()...)
}
