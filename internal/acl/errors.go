package acl

import (
	"errors"
	"strconv"
	"strings"
)

// Rule errors, with Redis's texts (ACLSetUserStringError). They are bare:
// Redis composes them into different messages for ACL SETUSER, the aclfile
// and the "user" directive, so the wrapping errors below add the context.
var (
	ErrSyntax                 = errors.New("Syntax error")
	ErrUnknownCommand         = errors.New("Unknown command or category name in ACL")
	ErrKeyPatternAfterAll     = errors.New("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns")
	ErrChannelPatternAfterAll = errors.New("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels")
	ErrNoSuchPassword         = errors.New("The password you are trying to remove from the user does not exist")
	ErrBadPasswordHash        = errors.New("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
	ErrDuplicateUser          = errors.New("Duplicate user found. A user can only be defined once in config files")
	ErrFirstArgOfSubcommand   = errors.New("Allowing first-arg of a subcommand is not supported")
)

// Errors of the ACL command family, verbatim with their prefixes.
var (
	ErrBadUsername     = errors.New("ERR Usernames can't contain spaces or null characters")
	ErrDeleteDefault   = errors.New("ERR The 'default' user cannot be removed")
	ErrGenPassBits     = errors.New("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
	ErrNoACLFile       = errors.New("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
	ErrSaveFailed      = errors.New("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
	ErrSpacesInCfgUser = errors.New("Spaces not allowed in ACL usernames")
)

// SetUserError is an ACL SETUSER rule that failed; no rule of the command
// was applied. errors.Is sees the rule error inside.
type SetUserError struct {
	Modifier string // the rule as given (a whole "(…)" selector for one inside it)
	Err      error  // one of the rule errors above
}

// Error returns ACL SETUSER's reply: "ERR Error in ACL SETUSER modifier
// '<rule>': <reason>".
func (e *SetUserError) Error() string {
	return sanitize("ERR Error in ACL SETUSER modifier '" + e.Modifier + "': " + e.Err.Error())
}

// Unwrap returns the rule error.
func (e *SetUserError) Unwrap() error { return e.Err }

// UnmatchedParenError is an ACL SETUSER argument that opens a selector
// never closed.
type UnmatchedParenError struct {
	Arg string // the argument with the opening parenthesis
}

// Error returns ACL SETUSER's reply, Redis's text.
func (e *UnmatchedParenError) Error() string {
	return sanitize("ERR Unmatched parenthesis in acl selector starting at '" + e.Arg + "'.")
}

// UnknownCategoryError is ACL CAT's reply to a category that does not exist.
func UnknownCategoryError(name string) string {
	if len(name) > 128 {
		name = name[:128]
	}
	return sanitize("ERR Unknown category '" + name + "'")
}

// UserNotFoundError is ACL DRYRUN's reply to an unknown user.
func UserNotFoundError(name string) string {
	return sanitize("ERR User '" + name + "' not found")
}

// CommandNotFoundError is ACL DRYRUN's reply to an unknown command.
func CommandNotFoundError(name string) string {
	return sanitize("ERR Command '" + name + "' not found")
}

// LoadError reports every problem of an aclfile that was not loaded, in
// Redis's one-line form ("users.acl:3: Syntax error. WARNING: …"). ACL LOAD
// replies "-ERR " followed by the message; at startup Redis logs it after
// "Aborting Redis startup because of ACL errors: ".
type LoadError struct {
	Msg string
}

// Error returns the message, without the "ERR " of the reply.
func (e *LoadError) Error() string { return e.Msg }

// OpenFileError is the LoadError for an aclfile that cannot be opened;
// reason is the system's text for the failure (strerror's).
func OpenFileError(filename, reason string) *LoadError {
	return &LoadError{Msg: "Error loading ACLs, opening file '" + filename + "': " + reason}
}

// ConfigUserError is a "user" directive of the configuration file that is
// not valid: "Error in user declaration '<arg>': <reason>".
type ConfigUserError struct {
	Arg string
	Err error
}

// Error returns the message Redis reports among its configuration errors.
func (e *ConfigUserError) Error() string {
	return "Error in user declaration '" + e.Arg + "': " + e.Err.Error()
}

// Unwrap returns the rule error.
func (e *ConfigUserError) Unwrap() error { return e.Err }

// ConfigRuleError is a rule of a "user" directive that failed when the
// configured users were created at startup (Redis then exits).
type ConfigRuleError struct {
	User, Rule string
	Err        error
}

// Error returns the message Redis logs before it exits.
func (e *ConfigRuleError) Error() string {
	return "Error loading ACL rule '" + e.Rule + "' for the user named '" + e.User + "': " + e.Err.Error()
}

// Unwrap returns the rule error.
func (e *ConfigRuleError) Unwrap() error { return e.Err }

// sanitize replaces the newlines an error reply cannot carry, as Redis's
// addReplyErrorSdsSafe does.
func sanitize(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	}
	return s
}

// DenialMessage is Redis's getAclErrorMessage: why a command was refused.
// object is the key or channel (unused for a command denial); verbose
// names it, as ACL DRYRUN does, where the -NOPERM reply does not.
func DenialMessage(r Reason, username, cmdName string, object []byte, verbose bool) string {
	switch r {
	case DeniedCommand:
		return "User " + username + " has no permissions to run the '" + cmdName + "' command"
	case DeniedKey:
		if verbose {
			return "User " + username + " has no permissions to access the '" + string(object) + "' key"
		}
		return "No permissions to access a key"
	case DeniedChannel:
		if verbose {
			return "User " + username + " has no permissions to access the '" + string(object) + "' channel"
		}
		return "No permissions to access a channel"
	}
	return "No permissions (" + strconv.Itoa(int(r)) + ")"
}

// NoPermError is the dispatcher's reply to a denied command:
// "NOPERM User alice has no permissions to run the 'get' command",
// "NOPERM No permissions to access a key"…
func NoPermError(r Reason, username, cmdName string, object []byte) string {
	return sanitize("NOPERM " + DenialMessage(r, username, cmdName, object, false))
}

// ScriptNoPermError is the error a script's redis.call gets for a denied
// command ("ACL failure in script: " and the -NOPERM text without prefix);
// the scripting layer adds its usual error prefix and location.
func ScriptNoPermError(r Reason, username, cmdName string, object []byte) string {
	return sanitize("ACL failure in script: " + DenialMessage(r, username, cmdName, object, false))
}

// ExecNoPermError is EXEC's reply for a queued command the ACLs no longer
// allow (they changed after it was queued).
func ExecNoPermError(r Reason) string {
	var reason string
	switch r {
	case DeniedCommand:
		reason = "no permission to execute the command or subcommand"
	case DeniedKey:
		reason = "no permission to touch the specified keys"
	case DeniedChannel:
		reason = "no permission to access one of the channels used as arguments"
	default:
		reason = "no permission"
	}
	return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: " + reason
}
