package server

import (
	"crypto/subtle"
	"strings"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/resp"
)

// registerCommands adds the server-level command groups, one list per file.
func (s *Server) registerCommands() {
	s.Table.Register(s.connCommands()...)
	s.Table.Register(s.clientCommands()...)
	s.Table.Register(s.adminCommands()...)
	s.Table.Register(s.memoryCommands()...)
	s.Table.Register(s.txCommands()...)
	s.Table.Register(s.pubsubCommands()...)
	s.Table.Register(s.scriptCommands()...)
	s.Table.Register(s.functionCommands()...)
	s.Table.Register(s.replicationCommands()...)
	s.Table.Register(s.replicaofCommands()...)
	s.Table.Register(s.persistenceCommands()...)
	s.Table.Register(s.aofCommands()...)
	s.Table.Register(s.roleCommands()...)
	s.Table.Register(s.moduleCommands()...)
	s.Table.Register(lolwutCommands()...)
	s.initTx()
}

// connCommands are the connection commands: the ones that change the
// calling connection's own state.
func (s *Server) connCommands() []*command.Command {
	conn := command.CatConnection
	return []*command.Command{
		{Name: "ping", Arity: -1, Flags: command.Fast | command.NoKeyspace, ACL: conn | command.CatFast,
			Group: "connection", Since: "1.0.0", Summary: "Returns the server's liveliness response.", Handler: pingCommand,
			Tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"}},
		{Name: "echo", Arity: 2, Flags: command.Fast | command.Loading | command.Stale | command.NoKeyspace, ACL: conn | command.CatFast,
			Group: "connection", Since: "1.0.0", Summary: "Returns the given string.", Handler: echoCommand},
		{Name: "quit", Arity: -1, Flags: command.NoScript | command.Loading | command.Stale | command.Fast | command.NoAuth | command.AllowBusy | command.NoKeyspace, ACL: conn | command.CatFast,
			Group: "connection", Since: "1.0.0", Summary: "Closes the connection.", Handler: quitCommand},
		{Name: "select", Arity: 2, Flags: command.Loading | command.Stale | command.Fast | command.NoKeyspace, ACL: conn | command.CatFast,
			Group: "connection", Since: "1.0.0", Summary: "Changes the selected database.", Handler: selectCommand},
		{Name: "auth", Arity: -2, Flags: command.NoScript | command.Loading | command.Stale | command.Fast | command.NoAuth | command.AllowBusy | command.NoKeyspace, ACL: conn | command.CatFast,
			Group: "connection", Since: "1.0.0", Summary: "Authenticates the connection.", Handler: authCommand},
		{Name: "hello", Arity: -1, Flags: command.NoScript | command.Loading | command.Stale | command.Fast | command.NoAuth | command.AllowBusy | command.NoKeyspace, ACL: conn | command.CatFast,
			Group: "connection", Since: "6.0.0", Summary: "Handshakes with the server: protocol version, authentication, name.", Handler: helloCommand},
		{Name: "reset", Arity: 1, Flags: command.NoScript | command.Loading | command.Stale | command.Fast | command.NoAuth | command.AllowBusy | command.NoKeyspace, ACL: conn | command.CatFast,
			Group: "connection", Since: "6.2.0", Summary: "Resets the connection to its initial state.", Handler: resetCommand},
	}
}

func client(c *command.Ctx) *Client { return c.Conn.(*Client) }

func pingCommand(c *command.Ctx) {
	if len(c.Args) > 2 {
		c.Error(command.ErrWrongArgs("ping"))
		return
	}
	if cl := client(c); cl.subscribed() && c.W.Proto == 2 {
		// In the RESP2 pub/sub context PING answers in the message shape.
		c.W.ArrayLen(2)
		c.W.BulkString("pong")
		if len(c.Args) == 2 {
			c.W.Bulk(c.Args[1])
		} else {
			c.W.BulkString("")
		}
		return
	}
	if len(c.Args) == 2 {
		c.W.Bulk(c.Args[1])
		return
	}
	c.W.SimpleString("PONG")
}

func echoCommand(c *command.Ctx) { c.W.Bulk(c.Args[1]) }

func quitCommand(c *command.Ctx) {
	c.OK()
	client(c).closeAfterReply()
}

func selectCommand(c *command.Ctx) {
	n, ok := resp.ParseInt(c.Args[1])
	if !ok {
		c.Error("ERR value is not an integer or out of range")
		return
	}
	cl := client(c)
	if n < 0 || n >= int64(cl.srv.Store.Databases()) {
		c.Error(command.ErrDBIndex)
		return
	}
	cl.selectDB(int(n))
	c.OK()
}

func (c *Client) selectDB(n int) {
	c.db = n
	c.dbAtomic.Store(int32(n))
}

func (s *Server) requiresAuth() bool { return s.Config.String("requirepass") != "" }

// checkPassword compares in constant time. Only the default user exists
// until ACLs arrive.
func (s *Server) checkPassword(user, pass []byte) bool {
	if user != nil && string(user) != "default" {
		return false
	}
	want := s.Config.String("requirepass")
	if want == "" {
		return true // the default user has nopass
	}
	return subtle.ConstantTimeCompare([]byte(want), pass) == 1
}

func authCommand(c *command.Ctx) {
	cl := client(c)
	var user, pass []byte
	switch len(c.Args) {
	case 2:
		pass = c.Args[1]
		if !cl.srv.requiresAuth() {
			c.Error(command.ErrAuthNotSet)
			return
		}
	case 3:
		user, pass = c.Args[1], c.Args[2]
	default:
		c.Error(command.ErrSyntax)
		return
	}
	if !cl.srv.checkPassword(user, pass) {
		c.Error(command.ErrWrongPass)
		return
	}
	cl.setAuthenticated()
	c.OK()
}

func (c *Client) setAuthenticated() {
	c.authenticated = true
	c.parser.Unauthenticated = false
}

func helloCommand(c *command.Ctx) {
	cl := client(c)
	args := c.Args[1:]
	proto := int64(cl.Proto())
	if len(args) > 0 {
		v, ok := resp.ParseInt(args[0])
		if !ok {
			c.Error("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.Error("NOPROTO unsupported protocol version")
			return
		}
		proto = v
		args = args[1:]
	}
	var name []byte
	var authed, haveName bool
	for i := 0; i < len(args); i++ {
		opt := strings.ToLower(string(args[i]))
		switch {
		case opt == "auth" && i+2 < len(args):
			if !cl.srv.checkPassword(args[i+1], args[i+2]) {
				c.Error(command.ErrWrongPass)
				return
			}
			authed = true
			i += 2
		case opt == "setname" && i+1 < len(args):
			name = args[i+1]
			haveName = true
			if err := validClientName(name); err != "" {
				c.Error(err)
				return
			}
			i++
		default:
			c.Error("ERR Syntax error in HELLO option '" + string(args[i]) + "'")
			return
		}
	}
	if !cl.authenticated && !authed {
		c.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if authed {
		cl.setAuthenticated()
	}
	if haveName {
		cl.mu.Lock()
		cl.name = string(name)
		cl.mu.Unlock()
	}
	cl.proto.Store(int32(proto))
	c.W.Proto = int(proto)
	w := c.W
	w.MapLen(7)
	w.BulkString("server")
	w.BulkString("redis")
	w.BulkString("version")
	w.BulkString(Version)
	w.BulkString("proto")
	w.Int(proto)
	w.BulkString("id")
	w.Int(cl.ID)
	w.BulkString("mode")
	w.BulkString("standalone")
	w.BulkString("role")
	w.BulkString("master")
	w.BulkString("modules")
	w.ArrayLen(0)
}

// validClientName returns Redis's error for names with spaces or
// non-printable characters, or "".
func validClientName(name []byte) string {
	for _, b := range name {
		if b < '!' || b > '~' {
			return "ERR Client names cannot contain spaces, newlines or special characters."
		}
	}
	return ""
}

func resetCommand(c *command.Ctx) {
	cl := client(c)
	cl.selectDB(0)
	cl.proto.Store(2)
	c.W.Proto = 2
	cl.replyMode = replyOn
	cl.setNoTouch(false)
	cl.setNoEvict(false)
	cl.mu.Lock()
	cl.name = ""
	cl.mu.Unlock()
	cl.authenticated = !cl.srv.requiresAuth()
	cl.parser.Unauthenticated = !cl.authenticated
	cl.stopMonitor()
	cl.discardTx()
	cl.dropSubscriptions()
	cl.srv.tracking.disable(cl)
	c.W.SimpleString("RESET")
}

// stopMonitor takes the client out of MONITOR mode.
func (c *Client) stopMonitor() {
	if !c.isMonitor.Load() {
		return
	}
	s := c.srv
	s.clientsMu.Lock()
	for i, m := range s.monitors {
		if m == c {
			s.monitors = append(s.monitors[:i], s.monitors[i+1:]...)
			s.nmonitors.Store(int32(len(s.monitors)))
			break
		}
	}
	s.clientsMu.Unlock()
	c.isMonitor.Store(false)
}
