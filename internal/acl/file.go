package acl

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// LoadACL is ACL LOAD (and the aclfile at startup): it parses data, the
// content of the aclfile called filename (the name only appears in error
// messages), and if every line is valid replaces all users with the
// file's. The default user's account stays and gets the file's default
// user, or a fresh "on nopass ~* &* +@all" one if the file has none; every
// other account is removed and returned, so the server can close their
// connections, as Redis frees all the old users. If any line has an error
// nothing changes and the *LoadError lists every problem.
func (r *Registry) LoadACL(filename string, data []byte) ([]*Account, error) {
	users, err := ParseACLFile(r.cs, r.ChannelDefault(), filename, data)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.replaceAllLocked(users), nil
}

// ParseACLFile parses an aclfile the way Redis's ACLLoadFromFile does and
// returns its users, a default user included, or a *LoadError describing
// every problem. Lines are "user <name> <rules…>" split on single spaces;
// blank lines are skipped, and anything else (comments included: the file
// is rewritten by ACL SAVE, which would lose them) is an error. Rules of a
// line keep being applied after one fails, so that every unknown command
// is reported; other errors are reported once per line.
func ParseACLFile(cs *CommandSet, def ChannelDefault, filename string, data []byte) ([]*User, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		data = data[:i] // Redis reads the file as a C string
	}
	var errs strings.Builder
	byName := map[string]bool{}
	var users []*User
	for i, line := range strings.Split(string(data), "\n") {
		where := filename + ":" + strconv.Itoa(i+1)
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		argv := strings.Split(line, " ")
		if argv[0] != "user" || len(argv) < 2 {
			errs.WriteString(where + " should start with user keyword followed by the username. ")
			continue
		}
		name := argv[1]
		if hasSpaces(name) {
			// The leading quote is Redis's.
			errs.WriteString("'" + where + ": username '" + name + "' contains invalid characters. ")
			continue
		}
		if byName[name] {
			errs.WriteString("WARNING: Duplicate user '" + name + "' found on line " + strconv.Itoa(i+1) + ". ")
			continue
		}
		byName[name] = true
		u := NewUser(cs, name, def)
		users = append(users, u)
		rules, bad := mergeSelectorArgs(argv[2:])
		if bad >= 0 {
			errs.WriteString(where + ": Unmatched parenthesis in selector definition.")
		}
		reported := false
		for _, op := range rules {
			op = strings.Trim(op, "\t\r\n")
			err := u.apply(op)
			switch {
			case err == nil:
			case errors.Is(err, ErrUnknownCommand):
				// Command names are not secret: name the rule.
				errs.WriteString(where + ": Error in applying operation '" + op + "': " + err.Error() + ". ")
			case !reported:
				// Other rules may hold passwords: say only what went wrong,
				// and only the first time, as later errors may follow from it.
				errs.WriteString(where + ": " + err.Error() + ". ")
				reported = true
			}
		}
		u.refresh()
	}
	if errs.Len() > 0 {
		errs.WriteString("WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
		return nil, &LoadError{Msg: errs.String()}
	}
	if !byName[DefaultUserName] {
		users = append(users, NewDefaultUser(cs, def))
	}
	return users, nil
}

// SaveACL returns the aclfile content ACL SAVE writes: the ACL LIST lines,
// one per user in name order, each ending with a newline. The server
// writes it to a temporary file, syncs it and renames it over the aclfile.
func (r *Registry) SaveACL() []byte {
	var b bytes.Buffer
	for _, line := range r.List() {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// AddConfigUser validates a "user" directive of the configuration file
// (args: the user name, then its rules) and queues it for
// LoadConfigUsers, as Redis does while it reads its configuration. Rules
// naming unknown commands pass here and fail in LoadConfigUsers (Redis
// defers them until modules have added their commands). The error is a
// *ConfigUserError.
func (r *Registry) AddConfigUser(args []string) error {
	if len(args) == 0 {
		return &ConfigUserError{Arg: "user", Err: ErrSyntax}
	}
	name := args[0]
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range r.configUsers {
		if q[0] == name {
			return &ConfigUserError{Arg: name, Err: ErrDuplicateUser}
		}
	}
	rules, bad := mergeSelectorArgs(args[1:])
	if bad >= 0 {
		return &ConfigUserError{Arg: args[1+bad], Err: ErrSyntax}
	}
	fake := NewUser(r.cs, name, r.ChannelDefault())
	for _, op := range rules {
		if err := fake.apply(op); err != nil && !errors.Is(err, ErrUnknownCommand) {
			return &ConfigUserError{Arg: op, Err: err}
		}
	}
	r.configUsers = append(r.configUsers, append([]string{name}, rules...))
	return nil
}

// ConfigUsers returns how many "user" directives are queued. Redis refuses
// to start when there are some and an aclfile is configured too.
func (r *Registry) ConfigUsers() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.configUsers)
}

// LoadConfigUsers creates the users of the queued "user" directives (the
// default user is reset first, then given its rules) and empties the
// queue. It returns the names of the users left off, which Redis warns
// about, or an error (ErrSpacesInCfgUser or a *ConfigRuleError) on which
// Redis exits; then nothing changed.
func (r *Registry) LoadConfigUsers() (disabled []string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	def := r.ChannelDefault()
	built := make([]*User, 0, len(r.configUsers))
	for _, q := range r.configUsers {
		name := q[0]
		if hasSpaces(name) {
			return nil, ErrSpacesInCfgUser
		}
		var u *User
		if a := r.accounts[name]; a != nil {
			u = a.User().Clone(def)
			_ = u.apply("reset") // cannot fail
		} else {
			u = NewUser(r.cs, name, def)
		}
		for _, op := range q[1:] {
			if err := u.apply(op); err != nil {
				return nil, &ConfigRuleError{User: name, Rule: op, Err: err}
			}
		}
		u.refresh()
		if !u.enabled {
			disabled = append(disabled, name)
		}
		built = append(built, u)
	}
	for _, u := range built {
		if a := r.accounts[u.name]; a != nil {
			a.user.Store(u.freeze())
		} else {
			r.accounts[u.name] = newAccount(u)
		}
	}
	r.configUsers = nil
	return disabled, nil
}
