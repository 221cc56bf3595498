// Package acl is Corvid's implementation of Redis 7.2's access control
// lists: users, their rules (the language of ACL SETUSER, the aclfile and
// the "user" directive), the permission check the dispatcher runs before
// every command, the ACL LOG, and the text forms Redis shows (ACL LIST,
// ACL GETUSER, ACL SAVE). It speaks no RESP and does no I/O: the server
// writes replies and files; this package returns values and errors whose
// texts are Redis's.
//
// # Commands and IDs
//
// A CommandSet is built once from the command table (NewCommandSet). It
// gives every command and every subcommand a dense CommandID, so that what
// a selector may run is a bitset over IDs and the hot-path test is one word
// load and a mask. The set also precomputes, for every ACL category, the
// bitset a "+@cat" or "-@cat" rule changes (a container matching a category
// changes all its subcommands too, as in Redis), and which arguments of
// PUBLISH, SUBSCRIBE and friends are channels (Redis's channel spec table,
// keyed here by command name; Command.Name is never changed by
// rename-command, so renamed commands keep their channel rules, as Redis's
// orig_commands table does for it).
//
// # Users, selectors and rules
//
// A User has flags (on/off, nopass, sanitize-payload), SHA-256 password
// hashes and a list of selectors, the first of which is the root selector
// that rules outside parentheses change. A Selector holds the command
// bitset, first-argument exceptions ("+select|0"), key patterns with read
// and write permissions, channel patterns, and the compacted record of the
// command rules applied to it. That record is what ACL GETUSER and ACL LIST
// show: Redis keeps the rules in order, drops an earlier rule when a later
// one on the same command, subcommand family or category replaces it, and
// starts over on +@all or -@all; replaying the record on an empty selector
// rebuilds the same bitset (the tests check this invariant on every fuzzed
// rule list, as Redis asserts it when describing a user).
//
// # Concurrency: immutable users behind accounts
//
// Every command of every connection checks its user's permissions, while
// ACL SETUSER, ACL LOAD and requirepass change users rarely. Redis, being
// single threaded, edits a user in place. Corvid's connections run on many
// goroutines, so a User value, once published, is never modified again:
//
//   - A connection holds an *Account, the stable identity of a user name.
//     Account.User loads the current *User with one atomic load; the check
//     then reads that immutable value without any lock.
//   - A change (Registry.SetUser, SetRequirePass, LoadACL) clones the
//     current User, applies all the rules to the clone and, only if every
//     rule succeeded, publishes it with one atomic store. A reader sees the
//     old user or the new one, never a half-applied one, and a rule error
//     leaves the user exactly as it was (Redis's ACL SETUSER atomicity).
//     Published users are frozen: applying a rule to one panics, which
//     catches an edit that would race with readers.
//   - Deleting a user (ACL DELUSER, or ACL LOAD replacing every user but
//     "default") marks its Account removed; the server closes the
//     connections holding it, as Redis frees their clients. The default
//     user's Account is never removed, so connections that never
//     authenticated keep following it across ACL LOAD.
//
// Writers serialize on the Registry's mutex, which also guards the name
// map; readers of the map (AUTH, ACL GETUSER) take it shared. Rejected
// alternatives: a RWMutex around each user (every command would take a
// lock), and copying permissions into each connection (ACL SETUSER must
// affect connections already authenticated, so they would all have to be
// found and updated).
//
// # Checks
//
// User.Check takes the command's ID, its arguments and the keys the
// dispatcher extracted with the access each key's spec demands (KeyRef;
// KeyAccessFromFlags turns key-spec flags into it: "access" needs read,
// "insert", "update" and "delete" need write, a key with none of them,
// such as EXISTS's, passes any pattern that matches it). A user may run a
// command when its root selector or any other selector allows the command
// with all its keys and channels; a denial reports the reason and argument
// position Redis would log. It does not allocate.
//
// # Known Redis quirks kept, and the few not kept
//
// Kept: a "%RW~*" pattern is shown as "~*" (so the description of
// "%RW~* ~foo" does not parse back, as in Redis); a selector whose text has
// unbalanced quotes is accepted as an empty selector; the aclfile is split
// on single spaces. Not kept, because Redis 7.2 crashes or reports the
// wrong argument there: a "%" key rule without R or W is a syntax error
// (7.2 accepts it and then aborts when describing the user); an aclfile
// line with an unmatched parenthesis after other rules is reported without
// applying them (7.2 dereferences a freed array); the "user" directive's
// errors name the offending rule (7.2 indexes the wrong argument).
package acl
