package server

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/corvid-db/corvid/internal/acl"
	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/resp"
)

// The ACL command: the users (internal/acl holds them and their rules,
// acl.go wires them into the server) shown and changed by clients. Every
// subcommand is declared with Redis 7.2's arity, flags, categories and
// tips, so COMMAND INFO and COMMAND DOCS show what Redis shows. None of
// them touches the keyspace.
//
// Two behaviours worth knowing:
//
//   - A connection whose user is deleted (ACL DELUSER, ACL LOAD) is
//     closed, as Redis frees it; the connection that ran the command is
//     closed only after its reply, as Redis's CLIENT_CLOSE_AFTER_COMMAND
//     does, so that a client deleting its own user reads the count.
//   - ACL DRYRUN runs aclVerdict, the dispatcher's check (aclDenied) made
//     for any user, so its verdict is the one the command would get.

// aclCommands is the ACL command and its subcommands.
func (s *Server) aclCommands() []*command.Command {
	const (
		adminF = command.Admin | command.NoScript | command.Loading | command.Stale | command.NoKeyspace
		userF  = command.NoScript | command.Loading | command.Stale | command.NoKeyspace
		helpF  = command.Loading | command.Stale | command.NoKeyspace
	)
	admin := command.CatAdmin | command.CatDangerous | command.CatSlow
	slow := command.CatSlow
	allNodes := []string{"request_policy:all_nodes", "response_policy:all_succeeded"}
	sub := func(name string, arity int, flags command.Flags, cats uint64, since, summary string, tips []string, h func(*command.Ctx)) *command.Command {
		// ACL and every subcommand exist in sentinel mode too.
		return &command.Command{Name: "acl|" + name, Arity: arity, Flags: flags | command.Sentinel, ACL: cats, Group: "server",
			Since: since, Summary: summary, Tips: tips, Handler: h}
	}
	return []*command.Command{
		{Name: "acl", Arity: -2, Flags: command.Sentinel, ACL: slow, Group: "server", Since: "6.0.0",
			Summary: "A container for Access List Control commands.",
			Subcommands: []*command.Command{
				sub("cat", -2, userF, slow, "6.0.0", "Lists the ACL categories, or the commands inside a category.", nil, s.aclCatCommand),
				sub("deluser", -3, adminF, admin, "6.0.0", "Deletes ACL users, and terminates their connections.", allNodes, s.aclDelUserCommand),
				sub("dryrun", -4, adminF, admin, "7.0.0", "Simulates the execution of a command by a user, without executing the command.", nil, s.aclDryRunCommand),
				sub("genpass", -2, userF, slow, "6.0.0", "Generates a pseudorandom, secure password that can be used to identify ACL users.", nil, aclGenPassCommand),
				sub("getuser", 3, adminF, admin, "6.0.0", "Lists the ACL rules of a user.", nil, s.aclGetUserCommand),
				sub("help", 2, helpF, slow, "6.0.0", "Returns helpful text about the different subcommands.", nil, aclHelpCommand),
				sub("list", 2, adminF, admin, "6.0.0", "Dumps the effective rules in ACL file format.", nil, s.aclListCommand),
				sub("load", 2, adminF, admin, "6.0.0", "Reloads the rules from the configured ACL file.", nil, s.aclLoadCommand),
				sub("log", -2, adminF, admin, "6.0.0", "Lists recent security events generated due to ACL rules.", nil, s.aclLogCommand),
				sub("save", 2, adminF, admin, "6.0.0", "Saves the effective ACL rules in the configured ACL file.", allNodes, s.aclSaveCommand),
				sub("setuser", -3, adminF, admin, "6.0.0", "Creates and modifies an ACL user and its rules.", allNodes, s.aclSetUserCommand),
				sub("users", 2, adminF, admin, "6.0.0", "Lists all ACL users.", nil, s.aclUsersCommand),
				sub("whoami", 2, userF, slow, "6.0.0", "Returns the authenticated username of the current connection.", nil, aclWhoAmICommand),
			}},
	}
}

// aclVerdict is the permission check for user u running cmd with args
// (Redis's ACLCheckAllUserCommandPerm): the keys the command's key specs
// find, "not_key" ones left out, with the access their flags demand. keys
// is a buffer to reuse; the one filled is returned. It is what the
// dispatcher's aclDenied computes, for any user, so that ACL DRYRUN gives
// the verdict the command itself would get.
func aclVerdict(u *acl.User, cmd *command.Command, args [][]byte, keys []acl.KeyRef) (acl.Reason, int, []acl.KeyRef) {
	if u.Unrestricted() {
		return acl.Allowed, 0, keys
	}
	keys = keys[:0]
	if hasKeys(cmd) {
		keys = appendCallKeys(keys, cmd, args, aclKeyRef)
	}
	r, pos := u.CheckCommand(cmd, args, keys)
	return r, pos, keys
}

// aclKeyRef is a key to check, unless its spec says "not_key".
func aclKeyRef(pos int, _ []string, bits command.KeySpecFlag) (acl.KeyRef, bool) {
	return acl.KeyRef{Pos: pos, Need: keyAccess(bits)}, bits&command.KeyNotKey == 0
}

// keyAccess is acl.KeyAccessFromFlags for flags already parsed, so that a
// check compares no strings.
func keyAccess(bits command.KeySpecFlag) acl.KeyAccess {
	var need acl.KeyAccess
	if bits&command.KeyAccess != 0 {
		need |= acl.KeyRead
	}
	if bits&(command.KeyInsert|command.KeyUpdate|command.KeyDelete) != 0 {
		need |= acl.KeyWrite
	}
	return need
}

// aclCatCommand is ACL CAT [category]: the category names, or the full
// names of the commands and subcommands in one ("config|get"), as the
// command table was before any rename-command (Redis lists its original
// commands).
func (s *Server) aclCatCommand(c *command.Ctx) {
	switch len(c.Args) {
	case 2:
		cats := acl.Categories()
		c.W.ArrayLen(len(cats))
		for _, n := range cats {
			c.W.BulkString(n)
		}
	case 3:
		names, ok := s.acl.Commands().CategoryCommands(string(c.Args[2]))
		if !ok {
			c.Error(acl.UnknownCategoryError(string(c.Args[2])))
			return
		}
		c.W.ArrayLen(len(names))
		for _, n := range names {
			c.W.BulkString(n)
		}
	default:
		subcommandSyntaxError(c)
	}
}

// aclDelUserCommand is ACL DELUSER username [username ...]: the number of
// users deleted. Naming "default" deletes nothing. The deleted users'
// connections are closed.
func (s *Server) aclDelUserCommand(c *command.Ctx) {
	names := make([]string, len(c.Args)-2)
	for i, a := range c.Args[2:] {
		names[i] = string(a)
	}
	gone, err := s.acl.DelUsers(names...)
	if err != nil {
		c.Error(err.Error())
		return
	}
	s.closeAccounts(gone, client(c))
	c.W.Int(int64(len(gone)))
}

// aclDryRunCommand is ACL DRYRUN username command [arg ...]: "OK" when the
// user may run the command with these arguments, otherwise why not, in
// the verbose form that names the key or channel (a bulk string, not an
// error). Nothing runs and nothing is logged.
func (s *Server) aclDryRunCommand(c *command.Ctx) {
	acct := s.acl.Lookup(string(c.Args[2]))
	if acct == nil {
		c.Error(acl.UserNotFoundError(string(c.Args[2])))
		return
	}
	args := c.Args[3:]
	// As Redis's lookupCommand: the name as the clients call it (renames
	// apply), and a container's subcommand when there is an argument.
	cmd := s.Table.Lookup(args[0])
	if cmd != nil && cmd.HasSubcommands() && len(args) >= 2 {
		cmd = cmd.Sub(args[1])
	}
	if cmd == nil {
		c.Error(acl.CommandNotFoundError(string(args[0])))
		return
	}
	if !cmd.CheckArity(len(args)) {
		c.Error(command.ErrWrongArgs(cmd.FullName()))
		return
	}
	u := acct.User()
	r, pos, _ := aclVerdict(u, cmd, args, nil)
	if r != acl.Allowed {
		c.W.BulkString(acl.DenialMessage(r, u.Name(), cmd.FullName(), args[pos], true))
		return
	}
	c.OK()
}

// aclGenPassCommand is ACL GENPASS [bits]: a random password of bits bits
// (256 by default) in hex.
func aclGenPassCommand(c *command.Ctx) {
	if len(c.Args) > 3 {
		subcommandSyntaxError(c)
		return
	}
	bits := int64(acl.GenPassDefaultBits)
	if len(c.Args) == 3 {
		n, ok := resp.ParseInt(c.Args[2])
		if !ok {
			c.Error(command.ErrNotInteger)
			return
		}
		bits = n
	}
	pass, err := acl.GenPass(bits)
	if err != nil {
		c.Error(err.Error())
		return
	}
	c.W.BulkString(pass)
}

// aclGetUserCommand is ACL GETUSER username: a map of flags (a set),
// passwords (their hashes), the root selector's commands, keys and
// channels, and selectors (a map of those three for each other selector);
// a null for an unknown user. RESP2 gets the maps as flat arrays.
func (s *Server) aclGetUserCommand(c *command.Ctx) {
	acct := s.acl.Lookup(string(c.Args[2]))
	if acct == nil {
		c.W.Null()
		return
	}
	info := acct.User().Info()
	w := c.W
	w.MapLen(6)
	w.BulkString("flags")
	w.SetLen(len(info.Flags))
	for _, f := range info.Flags {
		w.BulkString(f)
	}
	w.BulkString("passwords")
	w.ArrayLen(len(info.Passwords))
	for _, p := range info.Passwords {
		w.BulkString(p)
	}
	writeSelectorInfo(w, info.Root)
	w.BulkString("selectors")
	w.ArrayLen(len(info.Selectors))
	for _, sel := range info.Selectors {
		w.MapLen(3)
		writeSelectorInfo(w, sel)
	}
}

// writeSelectorInfo writes a selector's three ACL GETUSER fields.
func writeSelectorInfo(w *resp.Writer, sel acl.SelectorInfo) {
	w.BulkString("commands")
	w.BulkString(sel.Commands)
	w.BulkString("keys")
	w.BulkString(sel.Keys)
	w.BulkString("channels")
	w.BulkString(sel.Channels)
}

// aclHelpCommand is ACL HELP, Redis 7.2's text.
func aclHelpCommand(c *command.Ctx) {
	replyHelp(c, []string{
		"CAT [<category>]",
		"    List all commands that belong to <category>, or all command categories",
		"    when no category is specified.",
		"DELUSER <username> [<username> ...]",
		"    Delete a list of users.",
		"DRYRUN <username> <command> [<arg> ...]",
		"    Returns whether the user can execute the given command without executing the command.",
		"GETUSER <username>",
		"    Get the user's details.",
		"GENPASS [<bits>]",
		"    Generate a secure 256-bit user password. The optional `bits` argument can",
		"    be used to specify a different size.",
		"LIST",
		"    Show users details in config file format.",
		"LOAD",
		"    Reload users from the ACL file.",
		"LOG [<count> | RESET]",
		"    Show the ACL log entries.",
		"SAVE",
		"    Save the current config to the ACL file.",
		"SETUSER <username> <attribute> [<attribute> ...]",
		"    Create or modify a user with the specified attributes.",
		"USERS",
		"    List all the registered usernames.",
		"WHOAMI",
		"    Return the current connection username.",
	})
}

// aclListCommand is ACL LIST: every user as its aclfile line, in name
// order.
func (s *Server) aclListCommand(c *command.Ctx) {
	lines := s.acl.List()
	c.W.ArrayLen(len(lines))
	for _, l := range lines {
		c.W.BulkString(l)
	}
}

// aclUsersCommand is ACL USERS: the user names in byte order.
func (s *Server) aclUsersCommand(c *command.Ctx) {
	names := s.acl.Names()
	c.W.ArrayLen(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

// aclWhoAmICommand is ACL WHOAMI: the name of the connection's user.
func aclWhoAmICommand(c *command.Ctx) {
	c.W.BulkString(client(c).aclAccount.Load().Name())
}

// aclFilePath returns the aclfile to read and write, relative names taken
// from the dir directive as Redis's chdir makes them; "" when there is
// none.
func (s *Server) aclFilePath() string {
	name := s.Config.String("aclfile")
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(s.Config.Dir(), name)
}

// aclLoadCommand is ACL LOAD: the users become the aclfile's, all or
// nothing (loadACLFile); errors are the file's problems, every one, in
// Redis's words.
func (s *Server) aclLoadCommand(c *command.Ctx) {
	if err := s.loadACLFile(client(c)); err != nil {
		if errors.Is(err, acl.ErrNoACLFile) {
			c.Error(err.Error())
		} else {
			c.Error("ERR " + err.Error())
		}
		return
	}
	c.OK()
}

// aclSaveMu orders ACL SAVEs: each writes the users as they are when it
// takes the lock, so the file left is the newest snapshot whatever the
// order in which concurrent saves finish.
var aclSaveMu sync.Mutex

// aclSaveCommand is ACL SAVE: the users, as ACL LIST shows them, replace
// the aclfile atomically (a temporary file in the same directory, synced,
// renamed over it, the directory synced). A failure leaves the old file,
// is logged, and gets Redis's error.
func (s *Server) aclSaveCommand(c *command.Ctx) {
	path := s.aclFilePath()
	if path == "" {
		c.Error(acl.ErrNoACLFile.Error())
		return
	}
	if err := s.saveACLFile(path); err != nil {
		c.Error(acl.ErrSaveFailed.Error())
		return
	}
	c.OK()
}

// saveACLFile writes the users to path as Redis's ACLSaveToFile does,
// logging the step that failed in Redis's words.
func (s *Server) saveACLFile(path string) error {
	aclSaveMu.Lock()
	defer aclSaveMu.Unlock()
	data := s.acl.SaveACL()
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	fail := func(step string, err error) error {
		s.Log.Warningf("%s for ACL SAVE: %s", step, errnoText(err))
		return err
	}
	f, err := os.CreateTemp(dir, base+".tmp-"+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return fail("Opening temp ACL file", err)
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	// CreateTemp makes the file 0600; Redis's is 0644.
	if err := f.Chmod(0o644); err != nil {
		return fail("Opening temp ACL file", err)
	}
	if _, err := f.Write(data); err != nil {
		return fail("Writing ACL file", err)
	}
	if err := f.Sync(); err != nil {
		return fail("Syncing ACL file", err)
	}
	if err := f.Close(); err != nil {
		return fail("Writing ACL file", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail("Renaming ACL file", err)
	}
	done = true
	d, err := os.Open(dir)
	if err == nil {
		err = d.Sync()
		if cerr := d.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fail("Syncing ACL directory", err)
	}
	return nil
}

// aclLogCommand is ACL LOG [count | RESET]: the newest count entries (10
// by default) as maps of ten fields in Redis's order and types, or RESET
// to empty the log.
func (s *Server) aclLogCommand(c *command.Ctx) {
	if len(c.Args) > 3 {
		subcommandSyntaxError(c)
		return
	}
	count := int64(10)
	if len(c.Args) == 3 {
		if equalFoldString(c.Args[2], "reset") {
			s.aclLog.Reset()
			c.OK()
			return
		}
		n, ok := resp.ParseInt(c.Args[2])
		if !ok {
			c.Error(command.ErrNotInteger)
			return
		}
		count = max(n, 0)
	}
	entries := s.aclLog.Entries(int(min(count, int64(s.aclLog.Len()))))
	w := c.W
	w.ArrayLen(len(entries))
	for _, e := range entries {
		w.MapLen(10)
		w.BulkString("count")
		w.Int(e.Count)
		w.BulkString("reason")
		w.BulkString(e.Reason.String())
		w.BulkString("context")
		w.BulkString(e.Context.String())
		w.BulkString("object")
		w.BulkString(e.Object)
		w.BulkString("username")
		w.BulkString(e.Username)
		w.BulkString("age-seconds")
		w.Double(e.AgeSeconds)
		w.BulkString("client-info")
		w.BulkString(e.ClientInfo)
		w.BulkString("entry-id")
		w.Int(e.EntryID)
		w.BulkString("timestamp-created")
		w.Int(e.Created)
		w.BulkString("timestamp-last-updated")
		w.Int(e.Updated)
	}
}

// aclSetUserCommand is ACL SETUSER username [rule ...]: creates the user
// if needed and applies the rules, all or none. The arguments are
// redacted from the slow log (they may hold passwords), as Redis does
// before it even checks them. Subscriptions the user lost close their
// connections.
func (s *Server) aclSetUserCommand(c *command.Ctx) {
	name := string(c.Args[2])
	rules := make([]string, len(c.Args)-3)
	for i, a := range c.Args[3:] {
		rules[i] = string(a)
	}
	for i := 2; i < len(c.Args); i++ {
		c.Args[i] = redacted
	}
	old, updated, err := s.acl.SetUser(name, rules...)
	if err != nil {
		c.Error(err.Error())
		return
	}
	if acct := s.acl.Lookup(name); acct != nil {
		s.userChanged(acct, old, updated)
	}
	c.OK()
}
