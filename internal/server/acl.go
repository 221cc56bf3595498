package server

import (
	"errors"
	"os"
	"time"

	"github.com/corvid-db/corvid/internal/acl"
	"github.com/corvid-db/corvid/internal/command"
)

// The server's side of the ACLs (internal/acl holds the users, their
// rules and the checks): the registry built from the command table, the
// users of the configuration ("user" directives, requirepass, aclfile),
// the check the dispatcher runs before every command, the ACL LOG, and
// the connections a change of users closes.

// errACLConfigAndFile is Redis's refusal to start with users in both
// places.
const errACLConfigAndFile = "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both."

// initACL builds the registry (buildACL) and follows the directives the
// ACLs read.
func (s *Server) initACL() error {
	s.aclLog = acl.NewLog(int(s.Config.Int("acllog-max-len")), func() int64 { return time.Now().UnixMilli() })
	disabled, err := s.buildACL()
	if err != nil {
		return err
	}
	for _, name := range disabled {
		s.Log.Warningf("The user '%s' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.", name)
	}
	s.Config.OnChange("requirepass", func(string) error {
		s.acl.SetRequirePass(s.Config.String("requirepass"))
		return nil
	})
	s.Config.OnChange("acl-pubsub-default", func(string) error {
		s.acl.SetChannelDefault(acl.ChannelDefault(s.Config.Int("acl-pubsub-default")))
		return nil
	})
	s.Config.OnChange("acllog-max-len", func(string) error {
		s.aclLog.SetMaxLen(int(s.Config.Int("acllog-max-len")))
		return nil
	})
	return nil
}

// buildACL builds the registry from the command table as it is before any
// rename-command (Redis's ACLs name commands by their original names), and
// creates the configuration's users; it returns the names of those that
// are disabled. SetSentinel builds it again for a sentinel's table.
func (s *Server) buildACL() (disabled []string, err error) {
	cs := acl.NewCommandSet(s.Table.All(), aclCategories)
	s.acl = acl.NewRegistry(cs, acl.ChannelDefault(s.Config.Int("acl-pubsub-default")))
	s.acl.SetRequirePass(s.Config.String("requirepass"))
	users := s.Config.UserDirectives()
	for _, u := range users {
		if err := s.acl.AddConfigUser(u.Args); err != nil {
			e := u.At
			e.Reason = err.Error()
			return nil, &e
		}
	}
	if len(users) > 0 && s.Config.String("aclfile") != "" {
		return nil, errors.New(errACLConfigAndFile)
	}
	disabled, err = s.acl.LoadConfigUsers()
	if err != nil {
		return nil, err
	}
	s.Config.SetUserLines(s.acl.List)
	return disabled, nil
}

// loadACLFileAtStart loads the aclfile, if one is configured; an error
// stops the start, as Redis exits on it.
func (s *Server) loadACLFileAtStart() error {
	name := s.Config.String("aclfile")
	if name == "" {
		return nil
	}
	if err := s.loadACLFile(nil); err != nil {
		return errors.New("Aborting Redis startup because of ACL errors: " + err.Error())
	}
	return nil
}

// loadACLFile replaces the users with the aclfile's (ACL LOAD, and at
// start), all or nothing, and closes the connections of the users it
// removed, self's once its reply is written. Errors name the file as
// configured, in Redis's words.
func (s *Server) loadACLFile(self *Client) error {
	name := s.Config.String("aclfile")
	if name == "" {
		return acl.ErrNoACLFile
	}
	data, err := os.ReadFile(s.aclFilePath())
	if err != nil {
		return acl.OpenFileError(name, errnoText(err))
	}
	removed, err := s.acl.LoadACL(name, data)
	if err != nil {
		return err
	}
	s.closeAccounts(removed, self)
	s.closeRevokedSubscribers(nil)
	return nil
}

// errnoText is the system's text for an I/O error, as strerror gives it
// ("No such file or directory").
func errnoText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	msg := err.Error()
	if msg != "" {
		msg = string(msg[0]-'a'+'A') + msg[1:]
	}
	return msg
}

// authRequired reports whether a new connection must authenticate: the
// default user has a password or is off (Redis's authRequired at
// connection time).
func (s *Server) authRequired() bool {
	u := s.acl.Default().User()
	return !u.NoPass() || !u.Enabled()
}

// aclDenied checks c's user's permissions for cmd with args (Redis's
// ACLCheckAllPerm): Allowed, or the reason and the argument at fault.
// Unrestricted users (the default one) cost one atomic load.
func (c *Client) aclDenied(cmd *command.Command, args [][]byte) (acl.Reason, int) {
	r, pos, keys := aclVerdict(c.aclAccount.Load().User(), cmd, args, c.aclKeys)
	c.aclKeys = keys
	return r, pos
}

// logACLDenial records a refusal in the ACL LOG, with c's CLIENT INFO.
func (s *Server) logACLDenial(c *Client, r acl.Reason, ctx acl.LogContext, cmd *command.Command, args [][]byte, pos int, username string) {
	s.logACLDenialAs(c, r, ctx, cmd, args, pos, username, cmd, args)
}

// logACLDenialAs is logACLDenial with the command the client info shows
// (a script's EVAL, not the redis.call refused).
func (s *Server) logACLDenialAs(c *Client, r acl.Reason, ctx acl.LogContext, cmd *command.Command, args [][]byte, pos int, username string, infoCmd *command.Command, infoArgs [][]byte) {
	name := ""
	if cmd != nil {
		name = cmd.FullName()
	}
	object := acl.LogObject(r, name, args, pos)
	if r == acl.DeniedAuth {
		object = "AUTH"
	}
	info := string(c.appendInfo(nil, c.selfInfo(infoCmd, infoArgs), time.Now()))
	s.aclLog.Add(r, ctx, object, username, info)
}

// denyACL refuses cmd for c's user: the ACL LOG entry and -NOPERM.
func (c *Client) denyACL(cmd *command.Command, args [][]byte, r acl.Reason, pos int) {
	ctx := acl.ContextToplevel
	if c.inMulti {
		ctx = acl.ContextMulti
	}
	name := c.aclAccount.Load().Name()
	c.srv.logACLDenial(c, r, ctx, cmd, args, pos, name)
	c.rejectf(cmd, acl.NoPermError(r, name, cmd.FullName(), args[pos]))
}

// closeAccounts closes the connections authenticated as the accounts
// (their users were deleted), as Redis frees them; self, the connection
// whose command deleted them, once its reply is written (its pipelined
// commands are not run), as Redis replies before it closes the caller.
func (s *Server) closeAccounts(gone []*acl.Account, self *Client) {
	if len(gone) == 0 {
		return
	}
	set := make(map[*acl.Account]bool, len(gone))
	for _, a := range gone {
		set[a] = true
	}
	s.clientsMu.Lock()
	var doomed []*Client
	for _, c := range s.clients {
		if set[c.aclAccount.Load()] {
			doomed = append(doomed, c)
		}
	}
	s.clientsMu.Unlock()
	for _, c := range doomed {
		if c == self {
			c.closeAfterReply()
		} else {
			c.Kill()
		}
	}
}

// closeRevokedSubscribers closes the connections subscribed to a channel
// or pattern their user may no longer use (Redis's
// ACLKillPubsubClientsIfNeeded); only those of account when it is set.
func (s *Server) closeRevokedSubscribers(account *acl.Account) {
	doomed := map[*Client]bool{}
	s.ps.mu.RLock()
	for _, t := range []struct {
		subs    subscriptions
		pattern bool
	}{{s.ps.channels, false}, {s.ps.patterns, true}, {s.ps.shard, false}} {
		for name, set := range t.subs {
			for c := range set {
				a := c.aclAccount.Load()
				if doomed[c] || (account != nil && a != account) {
					continue
				}
				if !a.User().CheckChannel([]byte(name), t.pattern) {
					doomed[c] = true
				}
			}
		}
	}
	s.ps.mu.RUnlock()
	for c := range doomed {
		c.Kill()
	}
}

// userChanged follows ACL SETUSER of account from old to updated: the
// subscriptions the user lost end with their connections.
func (s *Server) userChanged(account *acl.Account, old, updated *acl.User) {
	if old != nil && acl.PubSubRevoked(old, updated) {
		s.closeRevokedSubscribers(account)
	}
}

// FullKeyAccess implements SORT's check (commands/sort.go): whether the
// user may run the command being executed reading any key (Redis's
// ACLUserCheckCmdWithUnrestrictedKeyAccess).
func (c *Client) FullKeyAccess() bool {
	if c.isMaster.Load() || c.aofLoading {
		return true
	}
	u := c.aclAccount.Load().User()
	if u.Unrestricted() {
		return true
	}
	cmd, args := c.ctx.Cmd, c.ctx.Args
	if cmd == nil {
		return false
	}
	_, _, keys := aclVerdict(u, cmd, args, c.aclKeys)
	c.aclKeys = keys
	return u.CheckUnrestrictedKeys(c.srv.acl.Commands().ID(cmd), args, keys, acl.KeyRead)
}
