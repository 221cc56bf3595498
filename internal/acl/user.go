package acl

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"slices"
	"strings"
)

// DefaultUserName is the user every new connection starts as.
const DefaultUserName = "default"

// A User is a name with flags, passwords and selectors. A User that a
// Registry published is immutable (see the package documentation); rules
// are applied to a fresh user or to a Clone.
type User struct {
	name string
	cs   *CommandSet

	enabled      bool
	nopass       bool
	skipSanitize bool     // skip-sanitize-payload
	passwords    []string // SHA-256 hex, in the order added

	// selectors[0] is the root selector.
	selectors []*Selector

	// chanDefault is the acl-pubsub-default that rules applied to this
	// value use (new selectors, "reset").
	chanDefault ChannelDefault
	frozen      bool

	// open: the root selector allows every command, key and channel, so a
	// check needs to look no further (the default user's usual state).
	open bool
}

// NewUser returns a user as Redis creates one: off, sanitize-payload, no
// passwords, and a root selector with no commands, no keys and the
// channels acl-pubsub-default gives.
func NewUser(cs *CommandSet, name string, def ChannelDefault) *User {
	return &User{
		name:        name,
		cs:          cs,
		selectors:   []*Selector{newSelector(cs, def)},
		chanDefault: def,
	}
}

// NewDefaultUser returns the "default" user as Redis creates it:
// "on nopass ~* &* +@all", whatever acl-pubsub-default says.
func NewDefaultUser(cs *CommandSet, def ChannelDefault) *User {
	u := NewUser(cs, DefaultUserName, def)
	for _, r := range []string{"+@all", "~*", "&*", "on", "nopass"} {
		if err := u.ApplyRule(r); err != nil {
			panic("acl: default user rule " + r + ": " + err.Error())
		}
	}
	return u
}

// Clone returns a modifiable copy of u (a published user included) whose
// rules will use def as acl-pubsub-default.
func (u *User) Clone(def ChannelDefault) *User {
	c := *u
	c.passwords = append([]string(nil), u.passwords...)
	c.selectors = make([]*Selector, len(u.selectors))
	for i, s := range u.selectors {
		c.selectors[i] = s.clone()
	}
	c.chanDefault = def
	c.frozen = false
	return &c
}

// freeze marks u as published: from now on it is shared with readers.
func (u *User) freeze() *User {
	u.frozen = true
	return u
}

// Name returns the user's name.
func (u *User) Name() string { return u.name }

// Enabled reports whether the user is "on" (may authenticate).
func (u *User) Enabled() bool { return u.enabled }

// Unrestricted reports whether the user may run every command on every
// key and channel, so that the dispatcher need not find a command's keys
// to check them (the default user's case, and most deployments').
func (u *User) Unrestricted() bool { return u.open }

// NoPass reports whether any password authenticates the user.
func (u *User) NoPass() bool { return u.nopass }

// SkipSanitizePayload reports whether RESTORE skips deep payload
// sanitization for this user (sanitize-dump-payload "clients").
func (u *User) SkipSanitizePayload() bool { return u.skipSanitize }

// PasswordHashes returns the SHA-256 hex hashes of the user's passwords.
func (u *User) PasswordHashes() []string { return append([]string(nil), u.passwords...) }

// Root returns the root selector.
func (u *User) Root() *Selector { return u.selectors[0] }

// Selectors returns the selectors added with "(…)" rules, in order.
func (u *User) Selectors() []*Selector { return append([]*Selector(nil), u.selectors[1:]...) }

// CheckPassword reports whether password authenticates the user: the user
// is on and either nopass or one of its hashes is the password's. Hashes
// are compared in constant time, as Redis does, so timing tells nothing of
// how much of a hash matched.
func (u *User) CheckPassword(password []byte) bool {
	if !u.enabled {
		return false
	}
	if u.nopass {
		return true
	}
	sum := sha256.Sum256(password)
	var hexed [64]byte
	hex.Encode(hexed[:], sum[:])
	ok := 0
	for _, p := range u.passwords {
		ok |= subtle.ConstantTimeCompare(hexed[:], []byte(p))
	}
	return ok == 1
}

// HashPassword returns the SHA-256 hex form Redis stores and shows for a
// password.
func HashPassword(password string) string {
	sum := sha256.Sum256([]byte(password))
	return hex.EncodeToString(sum[:])
}

// validHash reports whether h is 64 lower-case hex characters.
func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ApplyRule applies one rule (Redis's ACLSetUser): on, off, nopass,
// resetpass, >pass, <pass, #hash, !hash, sanitize-payload,
// skip-sanitize-payload, reset, clearselectors, "(…)" selectors, and the
// selector rules (commands, categories, keys, channels) applied to the
// root selector. An empty rule does nothing. On error the user may be
// partly changed; SetRules is atomic.
func (u *User) ApplyRule(rule string) error {
	if u.frozen {
		panic("acl: rule applied to a published user " + u.name)
	}
	defer u.refresh()
	return u.apply(rule)
}

func (u *User) apply(op string) error {
	if op == "" {
		return nil
	}
	switch {
	case asciiEqualFold(op, "on"):
		u.enabled = true
	case asciiEqualFold(op, "off"):
		u.enabled = false
	case asciiEqualFold(op, "skip-sanitize-payload"):
		u.skipSanitize = true
	case asciiEqualFold(op, "sanitize-payload"):
		u.skipSanitize = false
	case asciiEqualFold(op, "nopass"):
		u.nopass = true
		u.passwords = u.passwords[:0]
	case asciiEqualFold(op, "resetpass"):
		u.nopass = false
		u.passwords = u.passwords[:0]
	case op[0] == '>' || op[0] == '#':
		var h string
		if op[0] == '>' {
			h = HashPassword(op[1:])
		} else {
			if !validHash(op[1:]) {
				return ErrBadPasswordHash
			}
			h = op[1:]
		}
		if !slices.Contains(u.passwords, h) {
			u.passwords = append(u.passwords, h)
		}
		u.nopass = false
	case op[0] == '<' || op[0] == '!':
		var h string
		if op[0] == '<' {
			h = HashPassword(op[1:])
		} else {
			if !validHash(op[1:]) {
				return ErrBadPasswordHash
			}
			h = op[1:]
		}
		i := slices.Index(u.passwords, h)
		if i < 0 {
			return ErrNoSuchPassword
		}
		u.passwords = slices.Delete(u.passwords, i, i+1)
	case op[0] == '(' && op[len(op)-1] == ')':
		s, err := newSelectorFromOpSet(u.cs, u.chanDefault, op)
		if err != nil {
			return err
		}
		u.selectors = append(u.selectors, s)
	case asciiEqualFold(op, "clearselectors"):
		u.selectors = u.selectors[:1]
	case asciiEqualFold(op, "reset"):
		root := u.selectors[0]
		u.passwords = u.passwords[:0]
		u.nopass = false
		root.allKeys, root.keys = false, root.keys[:0]
		root.allChannels, root.channels = u.chanDefault == AllChannels, root.channels[:0]
		u.enabled = false
		u.skipSanitize = false
		u.selectors = u.selectors[:1]
		return root.apply(u.cs, "-@all")
	default:
		return u.selectors[0].apply(u.cs, op)
	}
	return nil
}

// refresh recomputes what the fast path of Check relies on.
func (u *User) refresh() {
	r := u.selectors[0]
	u.open = r.allCommands && r.allKeys && r.allChannels
}

// SetRules applies rules as ACL SETUSER does, atomically: selectors spread
// over several arguments ("(+get", "~k)") are joined first, then every
// rule is applied to a copy, and u changes only if all succeeded. The
// error is a *SetUserError or an *UnmatchedParenError, with Redis's texts.
func (u *User) SetRules(rules ...string) error {
	if u.frozen {
		panic("acl: rules applied to a published user " + u.name)
	}
	merged, bad := mergeSelectorArgs(rules)
	if bad >= 0 {
		return &UnmatchedParenError{Arg: rules[bad]}
	}
	tmp := u.Clone(u.chanDefault)
	for _, r := range merged {
		if err := tmp.apply(r); err != nil {
			return &SetUserError{Modifier: r, Err: err}
		}
	}
	tmp.refresh()
	*u = *tmp
	return nil
}

// mergeSelectorArgs joins a selector spread over several arguments into
// one ("(+get" "~key)" → "(+get ~key)"), as Redis does for ACL SETUSER and
// the configuration. It returns the index of an argument that opens a
// selector never closed, or -1.
func mergeSelectorArgs(args []string) (merged []string, unmatched int) {
	open := -1
	var sel strings.Builder
	for i, a := range args {
		if open < 0 && len(a) > 0 && a[0] == '(' && a[len(a)-1] != ')' {
			open = i
			sel.Reset()
			sel.WriteString(a)
			continue
		}
		if open >= 0 {
			sel.WriteByte(' ')
			sel.WriteString(a)
			if len(a) > 0 && a[len(a)-1] == ')' {
				open = -1
				merged = append(merged, sel.String())
			}
			continue
		}
		merged = append(merged, a)
	}
	if open >= 0 {
		return nil, open
	}
	return merged, -1
}

// Describe returns the user's rules as ACL LIST shows them after the name
// ("on nopass sanitize-payload ~* &* +@all"): flags, password hashes, the
// root selector, then the other selectors in parentheses.
func (u *User) Describe() string {
	var b strings.Builder
	for _, f := range u.flags() {
		b.WriteString(f)
		b.WriteByte(' ')
	}
	for _, p := range u.passwords {
		b.WriteByte('#')
		b.WriteString(p)
		b.WriteByte(' ')
	}
	u.selectors[0].appendDescription(&b)
	for _, s := range u.selectors[1:] {
		b.WriteString(" (")
		s.appendDescription(&b)
		b.WriteByte(')')
	}
	return b.String()
}

// ListLine returns the user's ACL LIST entry, which is also its line in an
// aclfile and its "user" directive in a rewritten configuration.
func (u *User) ListLine() string { return "user " + u.name + " " + u.Describe() }

// flags returns the user's flags in Redis's order.
func (u *User) flags() []string {
	f := make([]string, 0, 3)
	if u.enabled {
		f = append(f, "on")
	} else {
		f = append(f, "off")
	}
	if u.nopass {
		f = append(f, "nopass")
	}
	if u.skipSanitize {
		f = append(f, "skip-sanitize-payload")
	} else {
		f = append(f, "sanitize-payload")
	}
	return f
}

// UserInfo is a user as ACL GETUSER shows it: a map of "flags" (a set),
// "passwords" (an array), "commands", "keys", "channels" (the root
// selector's) and "selectors" (an array of maps with those three fields).
type UserInfo struct {
	Flags     []string
	Passwords []string
	Root      SelectorInfo
	Selectors []SelectorInfo
}

// Info returns the user's ACL GETUSER fields.
func (u *User) Info() UserInfo {
	info := UserInfo{
		Flags:     u.flags(),
		Passwords: u.PasswordHashes(),
		Root:      u.selectors[0].Info(),
		Selectors: make([]SelectorInfo, 0, len(u.selectors)-1),
	}
	for _, s := range u.selectors[1:] {
		info.Selectors = append(info.Selectors, s.Info())
	}
	return info
}
