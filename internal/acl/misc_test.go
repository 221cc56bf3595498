package acl

import (
	"errors"
	"strings"
	"testing"
)

func TestGenPass(t *testing.T) {
	for bits, chars := range map[int64]int{GenPassDefaultBits: 64, 1: 1, 4: 1, 5: 2, 7: 2, 8: 2, 9: 3, 255: 64, 4096: 1024} {
		p, err := GenPass(bits)
		if err != nil || len(p) != chars || strings.Trim(p, "0123456789abcdef") != "" {
			t.Errorf("GenPass(%d) = %q, %v", bits, p, err)
		}
	}
	for _, bits := range []int64{0, -236, 5000, 4097} {
		if _, err := GenPass(bits); !errors.Is(err, ErrGenPassBits) {
			t.Errorf("GenPass(%d): %v", bits, err)
		}
	}
	if ErrGenPassBits.Error() != "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096" {
		t.Fatal(ErrGenPassBits)
	}
	a, _ := GenPass(256)
	b, _ := GenPass(256)
	if a == b {
		t.Fatal("GenPass is not random")
	}
}

func TestMessages(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{NoPermError(DeniedCommand, "alice", "get", nil), "NOPERM User alice has no permissions to run the 'get' command"},
		{NoPermError(DeniedCommand, "newuser", "client|kill", nil), "NOPERM User newuser has no permissions to run the 'client|kill' command"},
		{NoPermError(DeniedKey, "alice", "get", []byte("k")), "NOPERM No permissions to access a key"},
		{NoPermError(DeniedChannel, "alice", "publish", []byte("c")), "NOPERM No permissions to access a channel"},
		{DenialMessage(DeniedKey, "command-test", "get", []byte("read"), true), "User command-test has no permissions to access the 'read' key"},
		{DenialMessage(DeniedChannel, "test-channels", "spublish", []byte("otherchannel"), true), "User test-channels has no permissions to access the 'otherchannel' channel"},
		{DenialMessage(DeniedCommand, "command-test", "set", nil, true), "User command-test has no permissions to run the 'set' command"},
		{ScriptNoPermError(DeniedCommand, "antirez", "incr", nil), "ACL failure in script: User antirez has no permissions to run the 'incr' command"},
		{ExecNoPermError(DeniedCommand), "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand"},
		{ExecNoPermError(DeniedKey), "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to touch the specified keys"},
		{ExecNoPermError(DeniedChannel), "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to access one of the channels used as arguments"},
		{ExecNoPermError(DeniedAuth), "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission"},
		{UnknownCategoryError("NON_EXISTS"), "ERR Unknown category 'NON_EXISTS'"},
		{UnknownCategoryError(strings.Repeat("x", 200)), "ERR Unknown category '" + strings.Repeat("x", 128) + "'"},
		{UserNotFoundError("not-a-user"), "ERR User 'not-a-user' not found"},
		{CommandNotFoundError("not-a-command"), "ERR Command 'not-a-command' not found"},
		{ErrNoACLFile.Error(), "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."},
		{ErrSaveFailed.Error(), "ERR There was an error trying to save the ACLs. Please check the server logs for more information"},
	} {
		if tc.got != tc.want {
			t.Errorf("\n got %s\nwant %s", tc.got, tc.want)
		}
	}
}
