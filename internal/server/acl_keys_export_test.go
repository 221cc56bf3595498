package server

import (
	"github.com/corvid-db/corvid/internal/acl"
	"github.com/corvid-db/corvid/internal/command"
)

// KeyWithFlags is one key extractKeys found (for the external tests).
type KeyWithFlags struct {
	Pos   int
	Flags []string
}

// ExtractKeysForTest is extractKeys, COMMAND GETKEYS's extraction.
func ExtractKeysForTest(cmd *command.Command, args [][]byte) []KeyWithFlags {
	var out []KeyWithFlags
	for _, k := range extractKeys(cmd, args) {
		out = append(out, KeyWithFlags{k.pos, k.flags})
	}
	return out
}

// HasKeysForTest is hasKeys (Redis's doesCommandHaveKeys).
func HasKeysForTest(cmd *command.Command) bool { return hasKeys(cmd) }

// ACLCheckKeysForTest returns the keys aclVerdict checks for cmd with args
// for a restricted user of s (created on first use), refilling buf.
func ACLCheckKeysForTest(s *Server, cmd *command.Command, args [][]byte, buf []acl.KeyRef) []acl.KeyRef {
	const name = "keys-test-user"
	acct := s.acl.Lookup(name)
	if acct == nil {
		if _, _, err := s.acl.SetUser(name, "on", "nopass", "+@all", "~k*", "&*"); err != nil {
			panic(err)
		}
		acct = s.acl.Lookup(name)
	}
	_, _, keys := aclVerdict(acct.User(), cmd, args, buf)
	return keys
}
