package acl

import (
	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
)

// Reason says why the ACLs refused something. The values are Redis's
// ACL_DENIED_* codes, whose order matters: when no selector allows a
// command, the denial reported is the highest reason any selector gave
// (a channel beats a key beats the command), then the latest argument.
type Reason uint8

// Denial reasons.
const (
	Allowed       Reason = 0
	DeniedCommand Reason = 1
	DeniedKey     Reason = 2
	DeniedAuth    Reason = 3 // only in the ACL LOG, for failed AUTH/HELLO
	DeniedChannel Reason = 4
)

// String returns the reason as the ACL LOG's "reason" field shows it.
func (r Reason) String() string {
	switch r {
	case Allowed:
		return "allowed"
	case DeniedCommand:
		return "command"
	case DeniedKey:
		return "key"
	case DeniedAuth:
		return "auth"
	case DeniedChannel:
		return "channel"
	}
	return "unknown"
}

// KeyRef is one key of a command to check: its argument index and the
// permissions its key spec demands. The dispatcher passes the keys it
// extracted with its key specs, leaving out "not_key" specs as Redis does.
type KeyRef struct {
	Pos  int
	Need KeyAccess
}

// KeyAccessFromFlags returns what a key spec's flags demand of a key
// pattern: read for "access" (the command returns or uses the value),
// write for "insert", "update" and "delete". A key with none of these
// (EXISTS's, TYPE's, STRLEN's: they only test or measure the key) needs
// nothing more than a pattern that matches it, read or write, as Redis
// lets such commands through on either.
func KeyAccessFromFlags(flags []string) KeyAccess {
	var need KeyAccess
	for _, f := range flags {
		switch {
		case asciiEqualFold(f, "access"):
			need |= KeyRead
		case asciiEqualFold(f, "insert"), asciiEqualFold(f, "update"), asciiEqualFold(f, "delete"):
			need |= KeyWrite
		}
	}
	return need
}

// Check reports whether the user may run command id with args (args[0] is
// the command name, as sent) touching keys. It returns Allowed, or the
// denial Redis would report with the index in args of the key or channel
// at fault (0 for a command denial): the root selector or any other may
// allow the command, but one selector must allow it with all its keys and
// channels. Channels come from args, for the commands that have them. It
// does not allocate.
func (u *User) Check(id CommandID, args [][]byte, keys []KeyRef) (Reason, int) {
	if u.open {
		return Allowed, 0
	}
	reason, pos := DeniedCommand, 0
	for _, s := range u.selectors {
		r, p := s.check(u.cs, id, args, keys)
		if r == Allowed {
			return Allowed, 0
		}
		if r > reason || (r == reason && p > pos) {
			reason, pos = r, p
		}
	}
	return reason, pos
}

// CheckCommand is Check for a command of the user's CommandSet given by
// pointer; it costs a map lookup more than Check.
func (u *User) CheckCommand(cmd *command.Command, args [][]byte, keys []KeyRef) (Reason, int) {
	if u.open {
		return Allowed, 0
	}
	return u.Check(u.cs.ID(cmd), args, keys)
}

// check is one selector's verdict (Redis's ACLSelectorCheckCmd).
func (s *Selector) check(cs *CommandSet, id CommandID, args [][]byte, keys []KeyRef) (Reason, int) {
	known := int(id) < len(cs.cmds)
	if !s.allCommands && !(known && cs.noAuth[id]) &&
		!hasBit(s.allowed, id) && !s.firstArgAllowed(cs, id, args) {
		return DeniedCommand, 0
	}
	if !s.allKeys {
		for _, k := range keys {
			if k.Pos < 0 || k.Pos >= len(args) {
				continue
			}
			if !s.keyAllowed(args[k.Pos], k.Need) {
				return DeniedKey, k.Pos
			}
		}
	}
	if !s.allChannels && known {
		spec := cs.chans[id]
		if spec.flags&(chanPublish|chanSubscribe) != 0 {
			stop := len(args)
			if spec.count >= 0 {
				stop = min(stop, spec.start+spec.count)
			}
			for i := spec.start; i < stop; i++ {
				if !s.channelAllowed(args[i], spec.flags&chanPattern != 0) {
					return DeniedChannel, i
				}
			}
		}
	}
	return Allowed, 0
}

// firstArgAllowed reports whether a "+cmd|arg" exception lets the command
// run with these arguments.
func (s *Selector) firstArgAllowed(cs *CommandSet, id CommandID, args [][]byte) bool {
	if len(args) < 2 || s.firstArgs == nil {
		return false
	}
	list := s.firstArgs[id]
	if len(list) == 0 {
		return false
	}
	idx := 1
	if cs.parent[id] != NoCommand {
		idx = 2
	}
	if idx >= len(args) {
		return false
	}
	for _, a := range list {
		if asciiEqualFold(args[idx], a) {
			return true
		}
	}
	return false
}

// keyAllowed reports whether a pattern granting at least need matches key.
func (s *Selector) keyAllowed(key []byte, need KeyAccess) bool {
	for i := range s.keys {
		p := &s.keys[i]
		if p.perm&need == need && config.GlobMatch(p.pattern, key, false) {
			return true
		}
	}
	return false
}

// channelAllowed checks a channel against the channel patterns. A pattern
// a client subscribes to (PSUBSCRIBE) must be one of them literally: the
// ACL pattern "news.*" allows PSUBSCRIBE news.* but not news.a*, whose
// messages it could not vouch for.
func (s *Selector) channelAllowed(ch []byte, isPattern bool) bool {
	for _, p := range s.channels {
		if isPattern {
			if string(p) == string(ch) {
				return true
			}
		} else if config.GlobMatch(p, ch, false) {
			return true
		}
	}
	return false
}

// CheckKey reports whether some selector grants need on key (Redis's
// ACLUserCheckKeyPerm, for callers checking one key apart from a command).
func (u *User) CheckKey(key []byte, need KeyAccess) bool {
	for _, s := range u.selectors {
		if s.allKeys || s.keyAllowed(key, need) {
			return true
		}
	}
	return false
}

// CheckChannel reports whether some selector allows the channel, or the
// pattern when isPattern (Redis's ACLUserCheckChannelPerm). After a change
// PubSubRevoked called for, the server checks each subscription of the
// user's connections with it and closes those that fail, as Redis does.
func (u *User) CheckChannel(ch []byte, isPattern bool) bool {
	for _, s := range u.selectors {
		if s.allChannels || s.channelAllowed(ch, isPattern) {
			return true
		}
	}
	return false
}

// CheckUnrestrictedKeys reports whether one selector both allows the
// command (with its keys and channels) and grants need on every key, by
// "allkeys"/"~*" or a "*" pattern with those permissions (Redis's
// ACLUserCheckCmdWithUnrestrictedKeyAccess). SORT's BY and GET options,
// which read keys the arguments do not name, require it with KeyRead.
func (u *User) CheckUnrestrictedKeys(id CommandID, args [][]byte, keys []KeyRef, need KeyAccess) bool {
	for _, s := range u.selectors {
		if r, _ := s.check(u.cs, id, args, keys); r == Allowed && s.unrestricted(need) {
			return true
		}
	}
	return false
}

func (s *Selector) unrestricted(need KeyAccess) bool {
	if s.allKeys {
		return true
	}
	for _, p := range s.keys {
		if p.perm&need == need && string(p.pattern) == "*" {
			return true
		}
	}
	return false
}

// PubSubRevoked reports whether updated may have lost channel permissions
// old had, so that the server must check the subscriptions of the
// connections authenticated as this user (with updated.CheckChannel) and
// close those no longer allowed. It is false when a selector of updated
// allows all channels or when updated keeps every channel pattern of old
// (Redis's ACLKillPubsubClientsIfNeeded shortcuts).
func PubSubRevoked(old, updated *User) bool {
	for _, s := range updated.selectors {
		if s.allChannels {
			return false
		}
	}
	for _, s := range old.selectors {
		if s.allChannels {
			return true
		}
		for _, ch := range s.channels {
			if !updated.hasChannelPattern(ch) {
				return true
			}
		}
	}
	return false
}

func (u *User) hasChannelPattern(ch []byte) bool {
	for _, s := range u.selectors {
		for _, p := range s.channels {
			if string(p) == string(ch) {
				return true
			}
		}
	}
	return false
}
