package server

import (
	"math"
	"strings"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/resp"
)

// Errors only the CLIENT commands reply.
const (
	errPauseMode       = "ERR CLIENT PAUSE mode must be WRITE or ALL"
	errTimeoutNotInt   = "ERR timeout is not an integer or out of range"
	errTimeoutRange    = "ERR timeout is out of range"
	errClientAttrChars = " cannot contain spaces, newlines or special characters."
)

// clientCommands are CLIENT and its subcommands, and MONITOR.
// CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO are in tracking.go.
func (s *Server) clientCommands() []*command.Command {
	const (
		base  = command.NoScript | command.Loading | command.Stale | command.NoKeyspace
		admin = base | command.Admin
		conn  = command.CatConnection | command.CatSlow
		aconn = conn | command.CatAdmin | command.CatDangerous
		// Every subcommand exists in sentinel mode but NO-TOUCH, as in
		// Redis, where each is flagged on its own.
		sen = command.Sentinel
	)
	nondet := []string{"nondeterministic_output"}
	allNodes := []string{"request_policy:all_nodes", "response_policy:all_succeeded"}
	sub := func(name string, arity int, flags command.Flags, acl uint64, since, summary string, h func(*command.Ctx), tips ...string) *command.Command {
		return &command.Command{Name: "client|" + name, Arity: arity, Flags: flags, ACL: acl,
			Group: "connection", Since: since, Summary: summary, Tips: tips, Handler: h}
	}
	return []*command.Command{
		{Name: "client", Arity: -2, Flags: command.Sentinel, ACL: command.CatSlow,
			Group: "connection", Since: "2.4.0", Summary: "A container for client connection commands.",
			Subcommands: []*command.Command{
				sub("getname", 2, base|sen, conn, "2.6.9", "Returns the name of the connection.", clientGetnameCommand),
				sub("getredir", 2, base|sen, conn, "6.0.0", "Returns the client ID to which the connection's tracking notifications are redirected.", clientGetredirCommand),
				sub("help", 2, command.Loading|command.Stale|command.NoKeyspace|sen, conn, "5.0.0", "Returns helpful text about the different subcommands.", clientHelpCommand),
				sub("id", 2, base|sen, conn, "5.0.0", "Returns the unique client ID of the connection.", clientIDCommand),
				sub("info", 2, base|sen, conn, "6.2.0", "Returns information about the connection.", clientInfoCommand, nondet...),
				sub("kill", -3, admin|sen, aconn, "2.4.0", "Terminates open connections.", clientKillCommand),
				sub("list", -2, admin|sen, aconn, "2.4.0", "Lists open connections.", clientListCommand, nondet...),
				sub("no-evict", 3, admin|sen, aconn, "7.0.0", "Sets the client eviction mode of the connection.", clientNoEvictCommand),
				sub("no-touch", 3, base, conn, "7.2.0", "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", clientNoTouchCommand),
				sub("pause", -3, admin|sen, aconn, "3.0.0", "Suspends commands processing.", clientPauseCommand),
				sub("reply", 3, base|sen, conn, "3.2.0", "Instructs the server whether to reply to commands.", clientReplyCommand),
				sub("setinfo", 4, base|sen, conn, "7.2.0", "Sets information specific to the client or connection.", clientSetinfoCommand, allNodes...),
				sub("setname", 3, base|sen, conn, "2.6.9", "Sets the connection name.", clientSetnameCommand, allNodes...),
				sub("tracking", -3, base|command.OwnGoroutine|sen, conn, "6.0.0", "Controls server-assisted client-side caching for the connection.", clientTrackingCommand),
				sub("caching", 3, base|sen, conn, "6.0.0", "Instructs the server whether to track the keys in the next request.", clientCachingCommand),
				sub("trackinginfo", 2, base|sen, conn, "6.2.0", "Returns information about server-assisted client-side caching for the connection.", clientTrackinginfoCommand),
				sub("unblock", -3, admin|sen, aconn, "5.0.0", "Unblocks a client blocked by a blocking command from a different connection.", clientUnblockCommand),
				sub("unpause", 2, admin|sen, aconn, "6.2.0", "Resumes processing commands from paused clients.", clientUnpauseCommand),
			}},
		{Name: "monitor", Arity: 1, Flags: admin | command.OwnGoroutine, ACL: command.CatAdmin | command.CatSlow | command.CatDangerous,
			Group: "server", Since: "1.0.0", Summary: "Listens for all requests received by the server in real-time.", Handler: monitorCommand},
	}
}

// errSubcommandSyntax is Redis's reply when a subcommand exists but its
// argument count fits none of its forms.
func errSubcommandSyntax(args [][]byte) string {
	sub := args[1]
	if len(sub) > 128 {
		sub = sub[:128]
	}
	return "ERR unknown subcommand or wrong number of arguments for '" + string(sub) + "'. Try " + strings.ToUpper(string(args[0])) + " HELP."
}

func clientIDCommand(c *command.Ctx) { c.W.Int(client(c).ID) }

func clientSetnameCommand(c *command.Ctx) {
	name := c.Args[2]
	if msg := validClientName(name); msg != "" {
		c.Error(msg)
		return
	}
	cl := client(c)
	cl.mu.Lock()
	cl.name = string(name) // "" removes the name
	cl.mu.Unlock()
	c.OK()
}

func clientGetnameCommand(c *command.Ctx) {
	if name := client(c).Name(); name != "" {
		c.W.BulkString(name)
	} else {
		c.W.Null()
	}
}

// clientSetinfoCommand is CLIENT SETINFO LIB-NAME|LIB-VER value; an empty
// value clears the attribute.
func clientSetinfoCommand(c *command.Ctx) {
	attr, val := c.Args[2], c.Args[3]
	cl := client(c)
	var dst *string
	switch strings.ToLower(string(attr)) {
	case "lib-name":
		dst = &cl.libName
	case "lib-ver":
		dst = &cl.libVer
	default:
		c.Error("ERR Unrecognized option '" + string(attr) + "'")
		return
	}
	for _, b := range val {
		if b < '!' || b > '~' {
			c.Error("ERR " + string(attr) + errClientAttrChars)
			return
		}
	}
	cl.mu.Lock()
	*dst = string(val)
	cl.mu.Unlock()
	c.OK()
}

// clientReplyCommand is CLIENT REPLY ON|OFF|SKIP. Only ON replies; the
// dispatcher applies the mode (applyReplyMode).
func clientReplyCommand(c *command.Ctx) {
	cl := client(c)
	switch strings.ToLower(string(c.Args[2])) {
	case "on":
		cl.replyMode = replyOn
		c.OK()
	case "off":
		cl.replyMode = replyOff
	case "skip":
		if cl.replyMode != replyOff {
			cl.replyMode = replySkipNext
		}
	default:
		c.Error(command.ErrSyntax)
	}
}

// onOff parses CLIENT NO-EVICT / NO-TOUCH's argument, replying a syntax
// error for anything else.
func onOff(c *command.Ctx) (on, ok bool) {
	switch strings.ToLower(string(c.Args[2])) {
	case "on":
		return true, true
	case "off":
		return false, true
	}
	c.Error(command.ErrSyntax)
	return false, false
}

// clientNoEvictCommand is CLIENT NO-EVICT ON|OFF: the flag exempts the
// client from client eviction (maxmemory-clients) once that exists.
func clientNoEvictCommand(c *command.Ctx) {
	if on, ok := onOff(c); ok {
		client(c).setNoEvict(on)
		c.OK()
	}
}

// clientNoTouchCommand is CLIENT NO-TOUCH ON|OFF: the client's commands
// leave keys' access times alone (the dispatcher passes it to the keyspace
// as DB.NoTouch), except TOUCH, whose purpose that is.
func clientNoTouchCommand(c *command.Ctx) {
	if on, ok := onOff(c); ok {
		client(c).setNoTouch(on)
		c.OK()
	}
}

// clientPauseCommand is CLIENT PAUSE timeout [WRITE|ALL]; the mode is
// checked before the timeout, as Redis does.
func clientPauseCommand(c *command.Ctx) {
	args := c.Args
	if len(args) > 4 {
		c.Error(errSubcommandSyntax(args))
		return
	}
	all := true
	if len(args) == 4 {
		switch strings.ToLower(string(args[3])) {
		case "write":
			all = false
		case "all":
		default:
			c.Error(errPauseMode)
			return
		}
	}
	ms, ok := resp.ParseInt(args[2])
	if !ok {
		c.Error(errTimeoutNotInt)
		return
	}
	if ms < 0 {
		c.Error(command.ErrTimeoutNegative)
		return
	}
	now := time.Now().UnixMilli()
	var end int64
	if ms > 0 {
		if ms > math.MaxInt64-now {
			c.Error(errTimeoutRange)
			return
		}
		end = now + ms
	}
	client(c).srv.pause.pauseUntil(time.UnixMilli(end), all)
	c.OK()
}

func clientUnpauseCommand(c *command.Ctx) {
	client(c).srv.pause.unpauseAll()
	c.OK()
}

// clientHelp is CLIENT HELP's text, as Redis 7.2 words it.
var clientHelp = []string{
	"CACHING (YES|NO)",
	"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
	"GETREDIR",
	"    Return the client ID we are redirecting to when tracking is enabled.",
	"GETNAME",
	"    Return the name of the current connection.",
	"ID",
	"    Return the ID of the current connection.",
	"INFO",
	"    Return information about the current client connection.",
	"KILL <ip:port>",
	"    Kill connection made from <ip:port>.",
	"KILL <option> <value> [<option> <value> [...]]",
	"    Kill connections. Options are:",
	"    * ADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made from the specified address",
	"    * LADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made to specified local address",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Kill connections by type.",
	"    * USER <username>",
	"      Kill connections authenticated by <username>.",
	"    * SKIPME (YES|NO)",
	"      Skip killing current connection (default: yes).",
	"    * MAXAGE <maxage>",
	"      Kill connections older than the specified age.",
	"LIST [options ...]",
	"    Return information about client connections. Options:",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Return clients of specified type.",
	"UNPAUSE",
	"    Stop the current client pause, resuming traffic.",
	"PAUSE <timeout> [WRITE|ALL]",
	"    Suspend all, or just write, clients for <timeout> milliseconds.",
	"REPLY (ON|OFF|SKIP)",
	"    Control the replies sent to the current connection.",
	"SETNAME <name>",
	"    Assign the name <name> to the current connection.",
	"SETINFO <option> <value>",
	"    Set client meta attr. Options are:",
	"    * LIB-NAME: the client lib name.",
	"    * LIB-VER: the client lib version.",
	"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
	"         [OPTIN] [OPTOUT] [NOLOOP]",
	"    Control server assisted client side caching.",
	"TRACKINGINFO",
	"    Report tracking status for the current connection.",
	"UNBLOCK <clientid> [TIMEOUT|ERROR]",
	"    Unblock the specified blocked client.",
	"NO-EVICT (ON|OFF)",
	"    Protect current client connection from eviction.",
	"NO-TOUCH (ON|OFF)",
	"    Will not touch LRU/LFU stats when this mode is on.",
}

// clientHelpCommand replies with a header, the help lines and the HELP
// entry, as Redis's addReplyHelp does.
func clientHelpCommand(c *command.Ctx) {
	w := c.W
	w.ArrayLen(len(clientHelp) + 3)
	w.SimpleString(strings.ToUpper(string(c.Args[0])) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range clientHelp {
		w.SimpleString(l)
	}
	w.SimpleString("HELP")
	w.SimpleString("    Print this help.")
}

// clientUnblockCommand is CLIENT UNBLOCK id [TIMEOUT|ERROR]: a client
// waiting in a blocking command gets the timeout reply, or an UNBLOCKED
// error. Clients postponed by CLIENT PAUSE are not affected, as in Redis.
func clientUnblockCommand(c *command.Ctx) {
	id, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	withError := false
	if len(c.Args) == 4 {
		switch {
		case strings.EqualFold(string(c.Args[3]), "timeout"):
		case strings.EqualFold(string(c.Args[3]), "error"):
			withError = true
		default:
			c.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	} else if len(c.Args) > 4 {
		c.Error(command.ErrSyntax)
		return
	}
	s := client(c).srv
	s.clientsMu.Lock()
	target := s.clients[id]
	s.clientsMu.Unlock()
	if target != nil && target.unblock(withError) {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
}
