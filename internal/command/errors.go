package command

import (
	"fmt"
	"strings"
)

// Redis's error replies, written once, verbatim with their prefixes.
const (
	ErrSyntax          = "ERR syntax error"
	ErrNotInteger      = "ERR value is not an integer or out of range"
	ErrNotFloat        = "ERR value is not a valid float"
	ErrWrongType       = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrNoSuchKey       = "ERR no such key"
	ErrOverflow        = "ERR increment or decrement would overflow"
	ErrIncrFloatNaN    = "ERR increment would produce NaN or Infinity"
	ErrDBIndex         = "ERR DB index is out of range"
	ErrSameObject      = "ERR source and destination objects are the same"
	ErrNoAuth          = "NOAUTH Authentication required."
	ErrWrongPass       = "WRONGPASS invalid username-password pair or user is disabled."
	ErrAuthNotSet      = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	ErrMaxClients      = "ERR max number of clients reached"
	ErrStringTooLong   = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	ErrOffsetRange     = "ERR offset is out of range"
	ErrNotInRange      = "ERR value is out of range, must be positive"
	ErrTimeoutNegative = "ERR timeout is negative"
	ErrDebugDisabled   = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."
	ErrModuleDisabled  = "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."
	ErrLFUNotSelected  = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	ErrNoPerm          = "NOPERM"
	ErrExecAbort       = "EXECABORT Transaction discarded because of previous errors."
)

// ErrWrongArgs is the arity error for the named command.
func ErrWrongArgs(name string) string {
	return "ERR wrong number of arguments for '" + name + "' command"
}

// ErrInvalidExpire is the error for a TTL that is out of range.
func ErrInvalidExpire(cmd string) string {
	return "ERR invalid expire time in '" + cmd + "' command"
}

// ErrUnknownCommand is Redis's reply to a command it does not have.
func ErrUnknownCommand(name []byte, args [][]byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ERR unknown command '%s', with args beginning with: ", truncate(name, 128))
	for _, a := range args {
		if b.Len() >= 128 {
			break
		}
		fmt.Fprintf(&b, "'%s' ", truncate(a, 128-b.Len()))
	}
	return sanitize(b.String())
}

// ErrUnknownSubcommand is Redis's reply to an unknown subcommand of a container command.
func ErrUnknownSubcommand(sub []byte, parent string) string {
	return sanitize(fmt.Sprintf("ERR unknown subcommand '%s'. Try %s HELP.", truncate(sub, 128), strings.ToUpper(parent)))
}

func truncate(b []byte, n int) []byte {
	if n < 0 {
		n = 0
	}
	if len(b) > n {
		return b[:n]
	}
	return b
}

// sanitize replaces newlines, which cannot appear in an error reply.
func sanitize(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	}
	return s
}

// ErrValueBetween is Redis's reply to an integer argument outside the
// range [min, max] (getRangeLongFromObjectOrReply), grammar included.
func ErrValueBetween(min, max int64) string {
	return fmt.Sprintf("ERR value is out of range, value must between %d and %d", min, max)
}

// Blocking commands' timeout errors (getTimeoutFromObjectOrReply); WAIT
// and WAITAOF take whole milliseconds, the others seconds as a float.
const (
	ErrTimeoutNotFloat   = "ERR timeout is not a float or out of range"
	ErrTimeoutNotInteger = "ERR timeout is not an integer or out of range"
	ErrTimeoutOutOfRange = "ERR timeout is out of range"
)
