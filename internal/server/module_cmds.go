package server

import (
	"strings"

	"github.com/corvid-db/corvid/internal/command"
)

// MODULE: Corvid loads no modules (it has no C ABI to offer them), but
// clients and tools ask which modules a server has before using one, and
// administrators try to load them. So MODULE exists and answers as a Redis
// server with no modules loaded whose every load fails: LIST is empty,
// LOAD and LOADEX fail with Redis's reply and a log line of the shape
// Redis writes, UNLOAD finds no such module. A client that probes for
// RedisJSON or RediSearch this way learns they are absent, rather than
// that the server is not Redis-compatible.
//
// As in Redis 7.2, LOAD, LOADEX and UNLOAD are protected: the dispatcher
// refuses them (before authentication, and a MULTI that queues one is
// aborted) unless enable-module-command (no by default) allows the
// connection. LIST and HELP are not.

// errModuleLoad and errNoSuchModule are Redis's replies to a load that
// failed and to the unload of a module it does not have.
const (
	errModuleLoad   = "ERR Error loading the extension. Please check the server logs."
	errNoSuchModule = "no such module with that name"
)

func (s *Server) moduleCommands() []*command.Command {
	const (
		adminF = command.Admin | command.NoScript | command.NoKeyspace
		loadF  = adminF | command.NoAsyncLoading | command.Protected
	)
	acl := command.CatAdmin | command.CatSlow | command.CatDangerous
	sub := func(name string, arity int, flags command.Flags, acl uint64, since, summary string, tips []string, h func(*command.Ctx)) *command.Command {
		return &command.Command{Name: name, Arity: arity, Flags: flags, ACL: acl, Group: "server",
			Since: since, Summary: summary, Tips: tips, Handler: h}
	}
	return []*command.Command{
		{Name: "module", Arity: -2, ACL: command.CatSlow, Group: "server", Since: "4.0.0",
			Summary: "A container for the commands that manage modules.",
			Subcommands: []*command.Command{
				sub("module|list", 2, adminF, acl, "4.0.0", "Lists the loaded modules.",
					[]string{"nondeterministic_output_order"}, moduleListCommand),
				sub("module|load", -3, loadF, acl, "4.0.0", "Loads a module from a shared library.", nil, s.moduleLoadCommand),
				sub("module|loadex", -3, loadF, acl, "7.0.0", "Loads a module from a shared library, with configuration and arguments.", nil, s.moduleLoadCommand),
				sub("module|unload", 3, loadF, acl, "4.0.0", "Unloads a module.", nil, s.moduleUnloadCommand),
				sub("module|help", 2, command.Loading|command.Stale|command.NoKeyspace, command.CatSlow, "5.0.0",
					"Returns helpful text about the different subcommands.", nil, moduleHelpCommand),
			}},
	}
}

// moduleListCommand is MODULE LIST: one map per loaded module, so none.
func moduleListCommand(c *command.Ctx) { c.W.ArrayLen(0) }

// moduleLoadCommand is MODULE LOAD path [arg ...] and MODULE LOADEX path
// [CONFIG name value ...] [ARGS arg ...]. LOADEX's arguments are checked
// first, as Redis does, each failure logged as Redis logs it; then the
// load itself fails.
func (s *Server) moduleLoadCommand(c *command.Ctx) {
	path := string(c.Args[2])
	if c.Cmd.Name == "module|loadex" {
		if msg := loadexArgsError(c.Args[3:]); msg != "" {
			s.Log.Noticef("%s", msg)
			c.Error(errModuleLoad)
			return
		}
	}
	s.Log.Warningf("Module %s failed to load: Corvid does not load modules", path)
	c.Error(errModuleLoad)
}

// loadexArgsError checks LOADEX's options (CONFIG name value, repeated,
// then ARGS and the module's own arguments) and returns the log line for
// the first that is malformed, or "".
func loadexArgsError(args [][]byte) string {
	for i := 0; i < len(args); i++ {
		switch {
		case strings.EqualFold(string(args[i]), "config"):
			if i+2 >= len(args) {
				return "CONFIG specified without name value pair"
			}
			i += 2
		case strings.EqualFold(string(args[i]), "args"):
			return "" // the rest belongs to the module
		default:
			return "Syntax Error from arguments to loadex around " + string(args[i]) + "."
		}
	}
	return ""
}

// moduleUnloadCommand is MODULE UNLOAD name: no module has that name.
func (s *Server) moduleUnloadCommand(c *command.Ctx) {
	s.Log.Warningf("Error unloading module %s: %s", c.Args[2], errNoSuchModule)
	c.Error("ERR Error unloading module: " + errNoSuchModule)
}

func moduleHelpCommand(c *command.Ctx) {
	replyHelp(c, []string{
		"LIST",
		"    List the modules loaded (this server loads none).",
		"LOAD <path> [<arg> ...]",
		"    Load the module at <path>, handing it the arguments.",
		"LOADEX <path> [CONFIG <name> <value> ...] [ARGS <arg> ...]",
		"    Load the module at <path> with module configuration values and arguments.",
		"UNLOAD <name>",
		"    Unload the module called <name>.",
	})
}
