package acl

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
)

// An Account is the stable identity of a user name: what a connection
// holds once authenticated. Its User changes when rules change; once the
// name is deleted (or replaced by ACL LOAD) the Account is removed for good
// and the server closes its connections.
type Account struct {
	name    string
	user    atomic.Pointer[User]
	removed atomic.Bool
}

// Name returns the user name.
func (a *Account) Name() string { return a.name }

// User returns the account's current user, an immutable value: one atomic
// load, the only synchronization the permission check needs.
func (a *Account) User() *User { return a.user.Load() }

// Removed reports whether the user was deleted: connections holding the
// account must be closed (Redis frees them).
func (a *Account) Removed() bool { return a.removed.Load() }

func newAccount(u *User) *Account {
	a := &Account{name: u.name}
	a.user.Store(u.freeze())
	return a
}

// Registry holds the users by name. Lookups take its lock shared; every
// change takes it exclusively, builds new User values and publishes them
// (see the package documentation).
type Registry struct {
	cs          *CommandSet
	chanDefault atomic.Uint32 // ChannelDefault

	mu       sync.RWMutex
	accounts map[string]*Account // guarded by mu
	def      *Account            // never removed

	configUsers [][]string // "user" directives waiting for LoadConfigUsers; guarded by mu
}

// NewRegistry returns a registry with the default user only, as Redis
// starts ("user default on nopass sanitize-payload ~* &* +@all").
func NewRegistry(cs *CommandSet, def ChannelDefault) *Registry {
	r := &Registry{cs: cs, accounts: map[string]*Account{}}
	r.chanDefault.Store(uint32(def))
	r.def = newAccount(NewDefaultUser(cs, def))
	r.accounts[DefaultUserName] = r.def
	return r
}

// Commands returns the command set users' rules refer to.
func (r *Registry) Commands() *CommandSet { return r.cs }

// SetChannelDefault changes acl-pubsub-default. Existing users keep their
// channels; new users, new selectors and "reset" use the new value.
func (r *Registry) SetChannelDefault(d ChannelDefault) { r.chanDefault.Store(uint32(d)) }

// ChannelDefault returns acl-pubsub-default.
func (r *Registry) ChannelDefault() ChannelDefault { return ChannelDefault(r.chanDefault.Load()) }

// Default returns the default user's account, which new connections use.
func (r *Registry) Default() *Account { return r.def }

// Lookup returns the named user's account, or nil.
func (r *Registry) Lookup(name string) *Account {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.accounts[name]
}

// Names returns the user names in byte order (ACL USERS).
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.accounts))
	for n := range r.accounts {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Users returns the current users in name order.
func (r *Registry) Users() []*User {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.usersLocked()
}

func (r *Registry) usersLocked() []*User {
	users := make([]*User, 0, len(r.accounts))
	for _, a := range r.accounts {
		users = append(users, a.User())
	}
	slices.SortFunc(users, func(a, b *User) int { return cmp.Compare(a.name, b.name) })
	return users
}

// List returns the ACL LIST lines ("user <name> <rules>") in name order;
// they are also the "user" lines CONFIG REWRITE writes.
func (r *Registry) List() []string {
	users := r.Users()
	lines := make([]string, len(users))
	for i, u := range users {
		lines[i] = u.ListLine()
	}
	return lines
}

// SetUser is ACL SETUSER: it creates the user if needed and applies rules
// atomically. It returns the user before (nil if it was created) and
// after; when old is not nil and PubSubRevoked(old, updated), the server
// re-checks the subscriptions of the user's connections. On error nothing
// changed; the error is ErrBadUsername, a *SetUserError or an
// *UnmatchedParenError.
func (r *Registry) SetUser(name string, rules ...string) (old, updated *User, err error) {
	if hasSpaces(name) {
		return nil, nil, ErrBadUsername
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	def := r.ChannelDefault()
	acct := r.accounts[name]
	var u *User
	if acct != nil {
		old = acct.User()
		u = old.Clone(def)
	} else {
		u = NewUser(r.cs, name, def)
	}
	if err := u.SetRules(rules...); err != nil {
		return nil, nil, err
	}
	if acct == nil {
		r.accounts[name] = newAccount(u)
	} else {
		acct.user.Store(u.freeze())
	}
	return old, u, nil
}

// DelUsers is ACL DELUSER: it deletes the named users that exist and
// returns their accounts, now removed. Naming "default" is an error
// (ErrDeleteDefault) and deletes nothing.
func (r *Registry) DelUsers(names ...string) ([]*Account, error) {
	if slices.Contains(names, DefaultUserName) {
		return nil, ErrDeleteDefault
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var gone []*Account
	for _, n := range names {
		if a := r.accounts[n]; a != nil {
			delete(r.accounts, n)
			a.removed.Store(true)
			gone = append(gone, a)
		}
	}
	return gone, nil
}

// Authenticate returns the account of the named user if password
// authenticates it (Redis's ACLCheckUserCredentials), nil otherwise: no
// such user, user off, or wrong password all give the same WRONGPASS
// reply and an "auth" ACL LOG entry.
func (r *Registry) Authenticate(name string, password []byte) *Account {
	a := r.Lookup(name)
	if a == nil || !a.User().CheckPassword(password) {
		return nil
	}
	return a
}

// SetRequirePass applies requirepass to the default user: its passwords
// are replaced by pass, or it becomes nopass when pass is "".
func (r *Registry) SetRequirePass(pass string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.def.User().Clone(r.ChannelDefault())
	rule := "nopass"
	if pass != "" {
		rule = ">" + pass
	}
	if err := u.SetRules("resetpass", rule); err != nil {
		panic("acl: requirepass: " + err.Error()) // these rules cannot fail
	}
	r.def.user.Store(u.freeze())
}

// replaceAllLocked installs users (which must include "default") as the
// whole set: the default account gets the new default user, every other
// old account is removed and returned, every other user gets a new account.
func (r *Registry) replaceAllLocked(users []*User) []*Account {
	var gone []*Account
	for n, a := range r.accounts {
		if n != DefaultUserName {
			a.removed.Store(true)
			gone = append(gone, a)
		}
	}
	accounts := map[string]*Account{DefaultUserName: r.def}
	for _, u := range users {
		if u.name == DefaultUserName {
			r.def.user.Store(u.freeze())
			continue
		}
		accounts[u.name] = newAccount(u)
	}
	r.accounts = accounts
	return gone
}
