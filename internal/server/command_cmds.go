package server

import (
	"slices"
	"strings"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/resp"
)

// COMMAND and its subcommands describe the command table in Redis 7.2's
// reply shapes. Everything comes from s.Table, so what COMMAND says is what
// the dispatcher does.

// lookupCommandByName resolves "name" or "container|sub", case-insensitively,
// as Redis's lookupCommandBySds does.
func (s *Server) lookupCommandByName(name string) *command.Command {
	base, sub, hasSub := strings.Cut(name, "|")
	cmd := s.Table.Lookup([]byte(base))
	if cmd == nil || !hasSub {
		return cmd
	}
	if strings.Contains(sub, "|") || !cmd.HasSubcommands() {
		return nil
	}
	return cmd.Sub([]byte(sub))
}

// aclCategories adds the categories Redis implies from the flags
// (setImplicitACLCategories): write → @write, readonly → @read (not for
// scripting commands), admin → @admin @dangerous, pubsub, fast, blocking,
// and @slow for everything not @fast.
func aclCategories(cmd *command.Command) uint64 {
	m := cmd.ACL
	f := cmd.Flags
	if f&command.Write != 0 {
		m |= command.CatWrite
	}
	if f&command.ReadOnly != 0 && m&command.CatScripting == 0 {
		m |= command.CatRead
	}
	if f&command.Admin != 0 {
		m |= command.CatAdmin | command.CatDangerous
	}
	if f&command.PubSub != 0 {
		m |= command.CatPubSub
	}
	if f&command.Fast != 0 {
		m |= command.CatFast
	}
	if f&command.Blocking != 0 {
		m |= command.CatBlocking
	}
	if m&command.CatFast == 0 {
		m |= command.CatSlow
	}
	return m
}

// keySpecs returns the command's key specs; a command that only declares
// legacy positions gets the single range spec they describe, with access
// flags derived from its read/write flags.
func keySpecs(cmd *command.Command) []command.KeySpec { return cmd.EffectiveKeySpecs() }

func isRangeSpec(ks *command.KeySpec) bool { return ks.Keyword == "" && ks.KeyNumIdx == 0 }

// legacyRange returns COMMAND's first/last/step and whether the command
// has movable keys, following Redis's populateCommandLegacyRangeSpec when
// only key specs are declared.
func legacyRange(cmd *command.Command) (first, last, step int, movable bool) {
	movable = cmd.Flags&command.MovableKeys != 0
	specs := cmd.KeySpecs
	if cmd.FirstKey > 0 {
		first, last, step = cmd.FirstKey, cmd.LastKey, cmd.Step
	}
	if len(specs) == 0 {
		return first, last, step, movable
	}
	incomplete := func(ks *command.KeySpec) bool { return slices.Contains(ks.Flags, "incomplete") }
	if len(specs) == 1 && isRangeSpec(&specs[0]) {
		if incomplete(&specs[0]) {
			movable = true
		}
		if cmd.FirstKey <= 0 {
			first, step = specs[0].BeginIndex, max(specs[0].Step, 1)
			last = specs[0].LastKey
			if last >= 0 {
				last += first
			}
		}
		return first, last, step, movable
	}
	lo, hi, prev := 0, 0, 0
	for i := range specs {
		ks := &specs[i]
		if !isRangeSpec(ks) || max(ks.Step, 1) != 1 || (prev != 0 && prev != ks.BeginIndex-1) {
			movable = true
			continue
		}
		if incomplete(ks) {
			movable = true
		}
		if lo == 0 || ks.BeginIndex < lo {
			lo = ks.BeginIndex
		}
		abs := ks.LastKey
		if abs >= 0 {
			abs += ks.BeginIndex
		}
		// Redis compares unsigned, so a negative (to-the-end) index wins.
		if uint(abs) > uint(hi) {
			hi = abs
		}
		prev = hi
	}
	if lo == 0 {
		return first, last, step, true
	}
	if cmd.FirstKey <= 0 {
		first, last, step = lo, hi, 1
	}
	return first, last, step, movable
}

// hasKeys is Redis's doesCommandHaveKeys.
func hasKeys(cmd *command.Command) bool {
	if cmd.Keys != nil && cmd.Flags&command.MovableKeys != 0 {
		return true
	}
	specs := keySpecs(cmd)
	for i := range specs {
		if specs[i].FlagBits()&command.KeyNotKey == 0 {
			return true
		}
	}
	return false
}

// keySpecFlagOrder is the order Redis lists key-spec flags in.
var keySpecFlagOrder = []string{"RO", "RW", "OW", "RM", "access", "update", "insert", "delete",
	"not_key", "incomplete", "variable_flags"}

func writeKeyFlags(w *resp.Writer, flags []string) {
	var out []string
	for _, f := range keySpecFlagOrder {
		for _, g := range flags {
			if strings.EqualFold(f, g) {
				out = append(out, f)
				break
			}
		}
	}
	w.SetLen(len(out))
	for _, f := range out {
		w.SimpleString(f)
	}
}

func writeKeySpecs(w *resp.Writer, specs []command.KeySpec) {
	w.SetLen(len(specs))
	for i := range specs {
		ks := &specs[i]
		// A spec's note comes first, when it has one, as in Redis.
		if ks.Notes != "" {
			w.MapLen(4)
			w.BulkString("notes")
			w.BulkString(ks.Notes)
		} else {
			w.MapLen(3)
		}
		w.BulkString("flags")
		writeKeyFlags(w, ks.Flags)
		if ks.Unknown {
			for _, part := range []string{"begin_search", "find_keys"} {
				w.BulkString(part)
				w.MapLen(2)
				w.BulkString("type")
				w.BulkString("unknown")
				w.BulkString("spec")
				w.MapLen(0)
			}
			continue
		}
		w.BulkString("begin_search")
		w.MapLen(2)
		w.BulkString("type")
		if ks.Keyword != "" {
			w.BulkString("keyword")
			w.BulkString("spec")
			w.MapLen(2)
			w.BulkString("keyword")
			w.BulkString(ks.Keyword)
			w.BulkString("startfrom")
			w.Int(int64(ks.KeywordStart))
		} else {
			w.BulkString("index")
			w.BulkString("spec")
			w.MapLen(1)
			w.BulkString("index")
			w.Int(int64(ks.BeginIndex))
		}
		w.BulkString("find_keys")
		w.MapLen(2)
		w.BulkString("type")
		if ks.KeyNumIdx > 0 {
			// KeySpec counts these from 1 (0 selects the range form);
			// Redis reports them relative to the begin position.
			w.BulkString("keynum")
			w.BulkString("spec")
			w.MapLen(3)
			w.BulkString("keynumidx")
			w.Int(int64(ks.KeyNumIdx - 1))
			w.BulkString("firstkey")
			w.Int(int64(ks.FirstKey - 1))
			w.BulkString("keystep")
			w.Int(int64(max(ks.Step, 1)))
		} else {
			w.BulkString("range")
			w.BulkString("spec")
			w.MapLen(3)
			w.BulkString("lastkey")
			w.Int(int64(ks.LastKey))
			w.BulkString("keystep")
			w.Int(int64(max(ks.Step, 1)))
			w.BulkString("limit")
			w.Int(int64(ks.Limit))
		}
	}
}

// writeCommandInfo writes one COMMAND INFO entry, or a null for nil.
func writeCommandInfo(w *resp.Writer, cmd *command.Command) {
	if cmd == nil {
		w.Null()
		return
	}
	first, last, step, movable := legacyRange(cmd)
	flags := cmd.Flags
	if movable {
		flags |= command.MovableKeys
	}
	var names []string
	for _, n := range flags.Names() {
		if n != "may_replicate" { // Redis hides it on purpose
			names = append(names, n)
		}
	}
	w.ArrayLen(10)
	w.BulkString(cmd.Name)
	w.Int(int64(cmd.Arity))
	w.SetLen(len(names))
	for _, n := range names {
		w.SimpleString(n)
	}
	w.Int(int64(first))
	w.Int(int64(last))
	w.Int(int64(step))
	cats := command.CategoryList(aclCategories(cmd))
	w.SetLen(len(cats))
	for _, cat := range cats {
		w.SimpleString("@" + cat)
	}
	w.SetLen(len(cmd.Tips))
	for _, t := range cmd.Tips {
		w.BulkString(t)
	}
	writeKeySpecs(w, keySpecs(cmd))
	if len(cmd.Subcommands) == 0 {
		w.SetLen(0)
		return
	}
	w.ArrayLen(len(cmd.Subcommands))
	for _, sub := range cmd.Subcommands {
		writeCommandInfo(w, sub)
	}
}

// writeCommandDocs writes one COMMAND DOCS entry: summary, since, group
// and, for containers, the subcommands' docs.
func writeCommandDocs(w *resp.Writer, cmd *command.Command) {
	n := 1
	if cmd.Summary != "" {
		n++
	}
	if cmd.Since != "" {
		n++
	}
	if len(cmd.Subcommands) > 0 {
		n++
	}
	w.MapLen(n)
	if cmd.Summary != "" {
		w.BulkString("summary")
		w.BulkString(cmd.Summary)
	}
	if cmd.Since != "" {
		w.BulkString("since")
		w.BulkString(cmd.Since)
	}
	w.BulkString("group")
	group := cmd.Group
	if group == "" && cmd.Parent != nil {
		group = cmd.Parent.Group
	}
	w.BulkString(group)
	if len(cmd.Subcommands) > 0 {
		w.BulkString("subcommands")
		w.MapLen(len(cmd.Subcommands))
		for _, sub := range cmd.Subcommands {
			w.BulkString(sub.Name)
			writeCommandDocs(w, sub)
		}
	}
}

// commandCommand is COMMAND without a subcommand: every command's info.
func (s *Server) commandCommand(c *command.Ctx) {
	all := s.Table.All()
	c.W.ArrayLen(len(all))
	for _, cmd := range all {
		writeCommandInfo(c.W, cmd)
	}
}

func (s *Server) commandCountCommand(c *command.Ctx) { c.W.Int(int64(s.Table.Len())) }

func (s *Server) commandInfoCommand(c *command.Ctx) {
	if len(c.Args) == 2 {
		s.commandCommand(c)
		return
	}
	c.W.ArrayLen(len(c.Args) - 2)
	for _, a := range c.Args[2:] {
		writeCommandInfo(c.W, s.lookupCommandByName(string(a)))
	}
}

func (s *Server) commandDocsCommand(c *command.Ctx) {
	var cmds []*command.Command
	if len(c.Args) == 2 {
		cmds = s.Table.All()
	} else {
		for _, a := range c.Args[2:] {
			if cmd := s.lookupCommandByName(string(a)); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.W.MapLen(len(cmds))
	for _, cmd := range cmds {
		c.W.BulkString(cmd.Name)
		writeCommandDocs(c.W, cmd)
	}
}

// commandKey is one key COMMAND GETKEYS found, with its spec's flags.
type commandKey struct {
	pos   int
	flags []string
}

// extractKeys finds the keys of args (args[0] is the command name) the
// way the dispatcher does, attaching the flags of the key spec that names
// each position.
func extractKeys(cmd *command.Command, args [][]byte) []commandKey {
	return appendCallKeys(nil, cmd, args, flaggedKey)
}

func flaggedKey(pos int, flags []string, _ command.KeySpecFlag) (commandKey, bool) {
	return commandKey{pos, flags}, true
}

// appendCallKeys is the one key extraction of COMMAND GETKEYS and of the
// ACL checks: for each key of args (args[0] is the command name), in the
// order GETKEYS lists them, it appends what key makes of its position and
// flags, unless key declines it. The flags are those of the first key spec
// finding the position, or cmd.KeyFlags's for these args; bits are the
// same flags parsed. For a registered command it allocates nothing itself
// (so the ACL check, which runs for every command of a restricted user,
// reuses the client's buffer); the command's own Keys and KeyFlags
// functions may.
//
// key is a type parameter's function rather than an interface so that each
// caller's result type is appended in place, without boxing.
func appendCallKeys[K any](dst []K, cmd *command.Command, args [][]byte,
	key func(pos int, flags []string, bits command.KeySpecFlag) (K, bool)) []K {
	specs := keySpecs(cmd)
	add := func(dst []K, pos int, flags []string, bits command.KeySpecFlag) []K {
		if k, ok := key(pos, flags, bits); ok {
			dst = append(dst, k)
		}
		return dst
	}
	if cmd.Keys == nil {
		for i := range specs {
			ks := &specs[i]
			first, end, step := ks.Span(args)
			for p := first; p < end; p += step {
				if cmd.KeyFlags != nil {
					f := cmd.KeyFlags(args, p)
					dst = add(dst, p, f, command.ParseKeySpecFlags(f))
				} else {
					dst = add(dst, p, ks.Flags, ks.FlagBits())
				}
			}
		}
		return dst
	}
	if cmd.KeyFlags != nil {
		for _, p := range cmd.Keys(args) {
			f := cmd.KeyFlags(args, p)
			dst = add(dst, p, f, command.ParseKeySpecFlags(f))
		}
		return dst
	}
	if len(specs) == 0 {
		for _, p := range cmd.Keys(args) {
			dst = add(dst, p, nil, 0)
		}
		return dst
	}
	// A Keys function finds positions the specs may not; such a position
	// takes the flags of the first spec that finds it too, else those of
	// the first spec. The spans are worked out once, not once per key.
	var spans [8]struct{ first, end, step int }
	for i := range min(len(specs), len(spans)) {
		sp := &spans[i]
		sp.first, sp.end, sp.step = specs[i].Span(args)
	}
	for _, p := range cmd.Keys(args) {
		at := 0
		for i := range specs {
			var first, end, step int
			if i < len(spans) {
				first, end, step = spans[i].first, spans[i].end, spans[i].step
			} else {
				first, end, step = specs[i].Span(args)
			}
			if p >= first && p < end && (p-first)%step == 0 {
				at = i
				break
			}
		}
		dst = add(dst, p, specs[at].Flags, specs[at].FlagBits())
	}
	return dst
}

func (s *Server) getKeys(c *command.Ctx, withFlags bool) {
	args := c.Args[2:]
	cmd := s.Table.Lookup(args[0])
	if cmd != nil && cmd.HasSubcommands() && len(args) > 1 {
		cmd = cmd.Sub(args[1])
	}
	switch {
	case cmd == nil:
		c.Error("ERR Invalid command specified")
		return
	case !hasKeys(cmd):
		c.Error("ERR The command has no key arguments")
		return
	case (cmd.Arity > 0 && cmd.Arity != len(args)) || len(args) < -cmd.Arity:
		c.Error("ERR Invalid number of arguments specified for command")
		return
	}
	keys := extractKeys(cmd, args)
	if len(keys) == 0 {
		if cmd.Flags&command.NoMandatoryKeys != 0 {
			c.W.ArrayLen(0)
		} else {
			c.Error("ERR Invalid arguments specified for command")
		}
		return
	}
	c.W.ArrayLen(len(keys))
	for _, k := range keys {
		if !withFlags {
			c.W.Bulk(args[k.pos])
			continue
		}
		c.W.ArrayLen(2)
		c.W.Bulk(args[k.pos])
		writeKeyFlags(c.W, k.flags)
	}
}

func (s *Server) commandGetKeysCommand(c *command.Ctx) { s.getKeys(c, false) }

func (s *Server) commandGetKeysAndFlagsCommand(c *command.Ctx) { s.getKeys(c, true) }

// commandListCommand is COMMAND LIST [FILTERBY MODULE name|ACLCAT cat|PATTERN glob].
func (s *Server) commandListCommand(c *command.Ctx) {
	var filter func(*command.Command) bool
	for i := 2; i < len(c.Args); i++ {
		if !strings.EqualFold(string(c.Args[i]), "filterby") || len(c.Args)-1-i != 2 {
			c.Error(command.ErrSyntax)
			return
		}
		arg := string(c.Args[i+2])
		switch strings.ToLower(string(c.Args[i+1])) {
		case "module":
			filter = func(*command.Command) bool { return false } // no modules
		case "aclcat":
			var cat uint64
			for j, n := range command.CategoryNames {
				if strings.EqualFold(n, arg) {
					cat = 1 << j
				}
			}
			filter = func(cmd *command.Command) bool { return cat != 0 && aclCategories(cmd)&cat != 0 }
		case "pattern":
			filter = func(cmd *command.Command) bool { return config.GlobMatchString(arg, cmd.Name, true) }
		default:
			c.Error(command.ErrSyntax)
			return
		}
		i += 2
	}
	var names []string
	s.eachCommand(func(cmd *command.Command) {
		if filter == nil || filter(cmd) {
			names = append(names, cmd.Name)
		}
	})
	c.W.ArrayLen(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

func commandHelpCommand(c *command.Ctx) {
	replyHelp(c, []string{
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.",
	})
}
