// Package config implements Corvid's configuration: redis.conf parsing, the
// redis-server command line, and the typed registry behind CONFIG GET,
// CONFIG SET and CONFIG REWRITE, with Redis 7.2.4 semantics (config.c).
//
// # Registry
//
// Every directive Redis 7.2.4 knows is registered (Directives lists them
// for documentation), with its alias, value kind, bounds, flags and the
// default CONFIG GET reports. Directives Corvid does not act on yet are still
// accepted, validated, stored and rewritten, so existing redis.conf files
// load unchanged; Directive.Implemented tells them apart (see implemented.go).
// Corvid's defaults equal Redis's built-in ones (bind "* -::*", with
// protected mode refusing remote clients until the default user has a
// password).
//
// # Loading
//
// LoadArgs handles `corvid [/path/to/conf] [-] [--directive value ...]`
// exactly like redis-server (ParseCommandLine exposes the translation of the
// arguments into configuration lines). Errors are *LoadError values whose
// text is redis-server's "*** FATAL CONFIG FILE ERROR ***" message, with the
// line number and the reason Redis gives. The file-only directives include,
// rename-command, user and loadmodule are supported: include natively,
// rename-command by recording it for the server's command table
// (RenamedCommands, unless a HandleDirective handler takes it), the others
// through HandleDirective (they are refused without a handler).
//
// Unlike Redis, the package never changes the process working directory:
// "dir" is stored as an absolute path (Dir) and relative file names given in
// other directives must be resolved against it by their users, which gives
// the same result as Redis's chdir.
//
// # Concurrency model
//
// All mutations (loading, Set, SetReplicaOf, Rewrite, hook registration) are
// serialized by one mutex per Config, and OnChange hooks run while it is
// held. Every value is stored in an atomic (sync/atomic Int64, Bool,
// Pointer[string] or Value, never mutated in place after being published),
// so reads never lock: Get, the typed accessors (Int, Bool, String, Strings,
// Dir, SaveParams, ...) and the handles are safe from any goroutine at any
// time. Accessors cost a map lookup; hot paths should take a handle once
// (IntHandle, BoolHandle, StringHandle) and call its Load method, which is a
// single atomic load. A multi-directive CONFIG SET publishes its values one
// by one, so a concurrent reader may observe some of them before the others;
// readers needing a consistent view of several directives should re-read
// them from an OnChange hook.
//
// # Glob matching
//
// GlobMatch and GlobMatchString implement Redis's stringmatchlen, used by
// CONFIG GET and meant for KEYS, SCAN MATCH and pattern subscriptions too.
package config
