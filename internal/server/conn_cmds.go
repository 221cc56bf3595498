package server

import (
	"strings"

	"github.com/corvid-db/corvid/internal/acl"
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
	s.Table.Register(s.aclCommands()...)
	s.Table.Register(s.sentinelCommands()...) // exist in sentinel mode only
	s.initTx()
}

// connCommands are the connection commands: the ones that change the
// calling connection's own state.
func (s *Server) connCommands() []*command.Command {
	conn := command.CatConnection
	return []*command.Command{
		{Name: "ping", Arity: -1, Flags: command.Fast | command.NoKeyspace | command.Sentinel, ACL: conn | command.CatFast,
			Group: "connection", Since: "1.0.0", Summary: "Returns the server's liveliness response.", Handler: pingCommand,
			Tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"}},
		// Cluster mode's read-only replica reads; without cluster mode
		// Redis refuses them in these words.
		{Name: "readonly", Arity: 1, Flags: command.Fast | command.Loading | command.Stale | command.NoKeyspace, ACL: conn | command.CatFast,
			Group: "cluster", Since: "3.0.0", Summary: "Enables read-only queries for a connection to a Redis Cluster replica node.", Handler: clusterDisabledCommand},
		{Name: "readwrite", Arity: 1, Flags: command.Fast | command.Loading | command.Stale | command.NoKeyspace, ACL: conn | command.CatFast,
			Group: "cluster", Since: "3.0.0", Summary: "Enables read-write queries for a connection to a Reids Cluster replica node.", Handler: clusterDisabledCommand},
		{Name: "echo", Arity: 2, Flags: command.Fast | command.Loading | command.Stale | command.NoKeyspace, ACL: conn | command.CatFast,
			Group: "connection", Since: "1.0.0", Summary: "Returns the given string.", Handler: echoCommand},
		{Name: "quit", Arity: -1, Flags: command.NoScript | command.Loading | command.Stale | command.Fast | command.NoAuth | command.AllowBusy | command.NoKeyspace, ACL: conn | command.CatFast,
			Group: "connection", Since: "1.0.0", Summary: "Closes the connection.", Handler: quitCommand},
		{Name: "select", Arity: 2, Flags: command.Loading | command.Stale | command.Fast | command.NoKeyspace, ACL: conn | command.CatFast,
			Group: "connection", Since: "1.0.0", Summary: "Changes the selected database.", Handler: selectCommand},
		{Name: "auth", Arity: -2, Flags: command.NoScript | command.Loading | command.Stale | command.Fast | command.NoAuth | command.AllowBusy | command.NoKeyspace | command.Sentinel, ACL: conn | command.CatFast,
			Group: "connection", Since: "1.0.0", Summary: "Authenticates the connection.", Handler: authCommand},
		{Name: "hello", Arity: -1, Flags: command.NoScript | command.Loading | command.Stale | command.Fast | command.NoAuth | command.AllowBusy | command.NoKeyspace | command.Sentinel, ACL: conn | command.CatFast,
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

// authenticate checks user's password (user nil: the default user) for
// AUTH or HELLO; a failure is recorded in the ACL LOG, as Redis does.
func (c *Client) authenticate(cmd *command.Command, args [][]byte, user, pass []byte) bool {
	name := acl.DefaultUserName
	if user != nil {
		name = string(user)
	}
	a := c.srv.acl.Authenticate(name, pass)
	if a == nil {
		ctx := acl.ContextToplevel
		if c.inMulti {
			ctx = acl.ContextMulti
		}
		c.srv.logACLDenial(c, acl.DeniedAuth, ctx, cmd, args, 0, name)
		return false
	}
	c.aclAccount.Store(a)
	c.setAuthenticated()
	return true
}

func authCommand(c *command.Ctx) {
	cl := client(c)
	var user, pass []byte
	switch len(c.Args) {
	case 2:
		pass = c.Args[1]
		if cl.srv.acl.Default().User().NoPass() {
			c.Error(command.ErrAuthNotSet)
			return
		}
	case 3:
		user, pass = c.Args[1], c.Args[2]
	default:
		c.Error(command.ErrSyntax)
		return
	}
	if !cl.authenticate(c.Cmd, c.Args, user, pass) {
		c.Error(command.ErrWrongPass)
		return
	}
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
	var name, user, pass []byte
	var authed, haveName bool
	for i := 0; i < len(args); i++ {
		opt := strings.ToLower(string(args[i]))
		switch {
		case opt == "auth" && i+2 < len(args):
			// As Redis: the last AUTH option is the one tried, once
			// every option was read.
			user, pass = args[i+1], args[i+2]
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
	if user != nil {
		if !cl.authenticate(c.Cmd, c.Args, user, pass) {
			c.Error(command.ErrWrongPass)
			return
		}
		authed = true
	}
	if !cl.authenticated && !authed {
		c.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if haveName {
		cl.mu.Lock()
		cl.name = string(name)
		cl.mu.Unlock()
	}
	cl.proto.Store(int32(proto))
	c.W.Proto = int(proto)
	w := c.W
	// A sentinel has no role to report, as in Redis.
	sentinel := cl.srv.SentinelMode()
	if sentinel {
		w.MapLen(6)
	} else {
		w.MapLen(7)
	}
	w.BulkString("server")
	w.BulkString("redis")
	w.BulkString("version")
	w.BulkString(Version)
	w.BulkString("proto")
	w.Int(proto)
	w.BulkString("id")
	w.Int(cl.ID)
	w.BulkString("mode")
	w.BulkString(cl.srv.redisMode())
	if !sentinel {
		w.BulkString("role")
		w.BulkString("master")
	}
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
	cl.aclAccount.Store(cl.srv.acl.Default())
	cl.authenticated = !cl.srv.authRequired()
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

// clusterDisabledCommand answers READONLY and READWRITE outside cluster
// mode, as Redis does.
func clusterDisabledCommand(c *command.Ctx) {
	c.Error("ERR This instance has cluster support disabled")
}
