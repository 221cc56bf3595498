package commands

import (
	"bytes"
	"math"
	"slices"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/ds/listpack"
	"github.com/corvid-db/corvid/internal/ds/quicklist"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// Errors only SORT replies with.
const errSortNotDouble = "ERR One or more scores can't be converted into double"

// sortCommands are SORT and SORT_RO. Their BY and GET patterns name keys
// that only the sorted elements reveal, so no key spec can list them: the
// commands are AllShards and the dispatcher locks the whole keyspace.
func sortCommands() []*command.Command {
	const cats = command.CatSet | command.CatSortedSet | command.CatList | command.CatSlow | command.CatDangerous
	src := command.KeySpec{Flags: []string{"RO", "access"}, BeginIndex: 1, LastKey: 0, Step: 1}
	// BY/GET keys come from the sorted values and STORE may sit anywhere:
	// Redis declares both with "unknown" specs, and sortKeys (with
	// sortKeyFlags) does the exact extraction.
	byGet := command.KeySpec{Flags: []string{"RO", "access"}, Unknown: true,
		Notes: "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"}
	store := command.KeySpec{Flags: []string{"OW", "update"}, Unknown: true,
		Notes: "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array"}
	return []*command.Command{
		{Name: "sort", Arity: -2, Flags: command.Write | command.DenyOOM | command.MovableKeys | command.AllShards,
			ACL: command.CatWrite | cats, FirstKey: 1, LastKey: 1, Step: 1,
			KeySpecs: []command.KeySpec{src, byGet, store}, Keys: sortKeys, KeyFlags: sortKeyFlags,
			Group: "generic", Since: "1.0.0", Handler: sortCommand,
			Summary: "Sorts the elements of a list, set or sorted set, optionally storing the result as a list."},
		{Name: "sort_ro", Arity: -2, Flags: command.ReadOnly | command.MovableKeys | command.AllShards,
			ACL: command.CatRead | cats, FirstKey: 1, LastKey: 1, Step: 1,
			KeySpecs: []command.KeySpec{src, byGet}, Keys: sortROKeys,
			Group: "generic", Since: "7.0.0", Handler: sortROCommand,
			Summary: "Returns the sorted elements of a list, set or sorted set."},
	}
}

// sortROKeys: SORT_RO's only key is the one it sorts.
func sortROKeys(args [][]byte) []int { return []int{1} }

// sortKeys finds SORT's keys as Redis's sortGetKeys does: the sorted key
// and the argument after the last STORE, skipping the arguments of LIMIT,
// GET and BY so a pattern spelled "store" is not taken for the keyword.
func sortKeys(args [][]byte) []int {
	keys := []int{1}
	store := 0
	for i := 2; i < len(args); i++ {
		switch {
		case strKW(args[i], "limit"):
			i += 2
		case strKW(args[i], "get"), strKW(args[i], "by"):
			i++
		case strKW(args[i], "store") && i+1 < len(args):
			store = i + 1
		}
	}
	if store > 0 {
		keys = append(keys, store)
	}
	return keys
}

// sortKeyFlags gives the flags of SORT's keys: the sorted key is read,
// the STORE destination overwritten.
func sortKeyFlags(_ [][]byte, pos int) []string {
	if pos == 1 {
		return flagsROAccess
	}
	return flagsOWUpdate
}

func sortCommand(c *command.Ctx)   { sortGeneric(c, false) }
func sortROCommand(c *command.Ctx) { sortGeneric(c, true) }

// sortEntry is one element being sorted with its weight: score in numeric
// mode, by (hasBy false when the weight key is missing) in ALPHA mode with
// a BY pattern.
type sortEntry struct {
	elem  []byte
	by    []byte
	hasBy bool
	score float64
}

// sortOpts are SORT's parsed options.
type sortOpts struct {
	desc, alpha, dontsort bool
	start, count          int64
	by, store             []byte
	gets                  [][]byte
}

// sortParse parses the options after the key, replying on error. As in
// Redis, a BY pattern without '*' turns sorting off for good, even if a
// later BY has one, and the last LIMIT, BY and STORE win.
func sortParse(c *command.Ctx, readonly bool) (o sortOpts, ok bool) {
	o.count = -1
	args := c.Args
	for j := 2; j < len(args); j++ {
		left := len(args) - j - 1
		a := args[j]
		switch {
		case strKW(a, "asc"):
			o.desc = false
		case strKW(a, "desc"):
			o.desc = true
		case strKW(a, "alpha"):
			o.alpha = true
		case strKW(a, "limit") && left >= 2:
			s, ok1 := resp.ParseInt(args[j+1])
			n, ok2 := resp.ParseInt(args[j+2])
			if !ok1 || !ok2 {
				c.Error(command.ErrNotInteger)
				return o, false
			}
			o.start, o.count = s, n
			j += 2
		case !readonly && strKW(a, "store") && left >= 1:
			o.store = args[j+1]
			j++
		case strKW(a, "by") && left >= 1:
			o.by = args[j+1]
			if bytes.IndexByte(o.by, '*') < 0 {
				o.dontsort = true
			} else if !fullKeyAccess(c) {
				c.Error("ERR BY option of SORT denied due to insufficient ACL permissions.")
				return o, false
			}
			j++
		case strKW(a, "get") && left >= 1:
			if !fullKeyAccess(c) {
				c.Error("ERR GET option of SORT denied due to insufficient ACL permissions.")
				return o, false
			}
			o.gets = append(o.gets, args[j+1])
			j++
		default:
			c.Error(command.ErrSyntax)
			return o, false
		}
	}
	return o, true
}

// sortLimit turns LIMIT offset count into the inclusive range [start, end]
// of an n-element result, clamping as Redis does: a negative offset is 0,
// a negative count means all, and an offset past the end selects nothing.
func sortLimit(offset, count int64, n int) (start, end int) {
	vl := int64(n)
	s := min(max(offset, 0), vl)
	count = min(max(count, -1), vl)
	e := s + count - 1
	if count < 0 {
		e = vl - 1
	}
	if s >= vl {
		s, e = vl-1, vl-2
	}
	if e >= vl {
		e = vl - 1
	}
	return int(s), int(e)
}

// sortArena copies the bytes SORT keeps into one growing buffer: elements
// and weights alias records or scratch buffers that do not outlive the
// lookups, and the result may overwrite the sorted key itself.
type sortArena struct{ b []byte }

func (a *sortArena) keep(v []byte) []byte {
	at := len(a.b)
	a.b = append(a.b, v...)
	return a.b[at:len(a.b):len(a.b)]
}

// sortByPattern is Redis's lookupKeyByPattern: "#" is the element itself;
// otherwise the first '*' of pattern is replaced by elem to make a key
// name, and a "->field" suffix (non-empty field) reads that field of a
// hash. Patterns without '*', missing keys and keys of other types give
// ok=false. The value is appended to the arena.
func sortByPattern(c *command.Ctx, pattern, elem []byte, keyBuf *[]byte, a *sortArena) ([]byte, bool) {
	if len(pattern) == 1 && pattern[0] == '#' {
		return elem, true
	}
	star := bytes.IndexByte(pattern, '*')
	if star < 0 {
		return nil, false
	}
	post := pattern[star+1:]
	var field []byte
	if f := bytes.Index(post, []byte("->")); f >= 0 && f+2 < len(post) {
		field = post[f+2:]
		post = post[:f]
	}
	key := append(append(append((*keyBuf)[:0], pattern[:star]...), elem...), post...)
	*keyBuf = key
	e, found := c.DB.LookupRead(key)
	if !found {
		return nil, false
	}
	if field != nil {
		if e.Type() != keyspace.TypeHash {
			return nil, false
		}
		h := hvLoad(e)
		v, ok := h.get(field)
		if !ok {
			return nil, false
		}
		return a.keep(v), true
	}
	if e.Type() != keyspace.TypeString {
		return nil, false
	}
	at := len(a.b)
	a.b = e.AppendValue(a.b)
	return a.b[at:len(a.b):len(a.b)], true
}

// sortScore parses a numeric weight as Redis does with strtod: leading
// space is allowed, and the number must run to the end of the value (or
// to a NUL byte, where a C string ends); overflow and NaN are errors.
func sortScore(b []byte) (float64, bool) {
	f, n, erange := zstrtod(b)
	if n < len(b) && b[n] != 0 || erange || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// sortGeneric is SORT and, with readonly, SORT_RO (which has no STORE).
func sortGeneric(c *command.Ctx, readonly bool) {
	o, ok := sortParse(c, readonly)
	if !ok {
		return
	}
	e, found := c.DB.LookupRead(c.Args[1])
	typ := keyspace.TypeList
	if found {
		typ = e.Type()
		if typ != keyspace.TypeList && typ != keyspace.TypeSet && typ != keyspace.TypeZSet {
			c.Error(command.ErrWrongType)
			return
		}
	}
	// An unsorted set would come out in hash order, which differs between
	// servers: when the result is stored (and so replicated) or goes to a
	// script, Redis sorts it anyway, by the members.
	if o.dontsort && typ == keyspace.TypeSet && (o.store != nil || c.InScript) {
		o.dontsort, o.alpha, o.by = false, true, nil
	}

	var arena sortArena
	var vec []sortEntry
	n := 0
	var lv listVal
	var sv setVal
	var zv *zval
	if found {
		switch typ {
		case keyspace.TypeList:
			lv = listOf(e)
			n = lv.len()
		case keyspace.TypeSet:
			sv = svLoad(e)
			n = sv.len()
		default:
			zv = newZval(c)
			defer zv.release()
			zv.load(e)
			n = zv.Len()
		}
	}
	start, end := sortLimit(o.start, o.count, n)

	// Lists and sorted sets that are not sorted load just the range LIMIT
	// selects, in their own order (reversed by DESC).
	if o.dontsort && typ != keyspace.TypeSet {
		if end >= start {
			vec = make([]sortEntry, 0, end-start+1)
			if zv != nil {
				first := start
				if o.desc {
					first = n - 1 - start
				}
				zv.walk(first, end-start+1, o.desc, func(m []byte, _ float64) {
					vec = append(vec, sortEntry{elem: arena.keep(m)})
				})
			} else if found {
				first := start
				if o.desc {
					first = n - 1 - start
				}
				it := lv.iter(first, o.desc)
				for len(vec) < end-start+1 {
					m, ok := it.Next()
					if !ok {
						break
					}
					vec = append(vec, sortEntry{elem: arena.keep(m)})
				}
			}
		}
		end -= start
		start = 0
	} else if found {
		vec = make([]sortEntry, 0, n)
		add := func(m []byte) { vec = append(vec, sortEntry{elem: arena.keep(m)}) }
		switch {
		case typ == keyspace.TypeList:
			for it := lv.iter(0, false); ; {
				m, ok := it.Next()
				if !ok {
					break
				}
				add(m)
			}
		case typ == keyspace.TypeSet:
			sv.each(func(m []byte) bool { add(m); return true })
		default:
			zv.walk(0, n, false, func(m []byte, _ float64) { add(m) })
		}
	}

	if !o.dontsort {
		var keyBuf []byte
		for i := range vec {
			w := &vec[i]
			byval := w.elem
			if o.by != nil {
				v, ok := sortByPattern(c, o.by, w.elem, &keyBuf, &arena)
				if !ok {
					continue
				}
				byval = v
			}
			if o.alpha {
				if o.by != nil {
					w.by, w.hasBy = byval, true
				}
				continue
			}
			f, ok := sortScore(byval)
			if !ok {
				c.Error(errSortNotDouble)
				return
			}
			w.score = f
		}
		sortEntries(vec, o.alpha, o.by != nil, o.desc)
	}

	rows := max(end-start+1, 0)
	outLen := rows
	if len(o.gets) > 0 {
		outLen = rows * len(o.gets)
	}
	var keyBuf []byte
	if o.store == nil {
		c.W.ArrayLen(outLen)
		for i := start; i <= end; i++ {
			if len(o.gets) == 0 {
				c.W.Bulk(vec[i].elem)
			}
			for _, g := range o.gets {
				if v, ok := sortByPattern(c, g, vec[i].elem, &keyBuf, &arena); ok {
					c.W.Bulk(v)
				} else {
					c.W.Null()
				}
			}
		}
		return
	}

	if outLen == 0 {
		if c.DB.Delete(o.store) {
			c.Dirty++
			c.Notify(command.NotifyGeneric, "del", o.store)
		}
		c.W.Int(0)
		return
	}
	fill := listFill(c)
	ql := quicklist.New(fill)
	for i := start; i <= end; i++ {
		if len(o.gets) == 0 {
			ql.PushBack(vec[i].elem)
		}
		for _, g := range o.gets {
			v, _ := sortByPattern(c, g, vec[i].elem, &keyBuf, &arena)
			ql.PushBack(v) // a missing value is stored as ""
		}
	}
	// Built as a quicklist, kept as a listpack when it fits one node, as
	// Redis's listTypeTryConversion decides.
	if lp := ql.SingleNode(); lp != nil && !quicklist.ExceedsLimit(fill, len(lp), listpack.Len(lp)) {
		c.DB.SetInline(o.store, keyspace.TypeList, keyspace.EncListpack, lp, 0)
	} else {
		c.DB.SetObject(o.store, keyspace.TypeList, ql, 0)
	}
	c.Dirty += int64(outLen)
	c.Notify(command.NotifyList, "sortstore", o.store)
	c.W.Int(int64(outLen))
}

// sortEntries orders vec as Redis's sortCompare does: numerically by
// score with equal scores ordered by the elements' bytes; with ALPHA by
// the BY weights (a missing weight first) or by the elements themselves.
// Byte order is what Redis's strcoll gives in the C locale. DESC reverses
// the whole comparison. The sort is stable, as glibc's qsort is.
func sortEntries(vec []sortEntry, alpha, byPattern, desc bool) {
	slices.SortStableFunc(vec, func(a, b sortEntry) int {
		var r int
		switch {
		case !alpha:
			switch {
			case a.score > b.score:
				r = 1
			case a.score < b.score:
				r = -1
			default:
				r = bytes.Compare(a.elem, b.elem)
			}
		case byPattern:
			switch {
			case !a.hasBy || !b.hasBy:
				if a.hasBy == b.hasBy {
					r = 0
				} else if !a.hasBy {
					r = -1
				} else {
					r = 1
				}
			default:
				r = bytes.Compare(a.by, b.by)
			}
		default:
			r = bytes.Compare(a.elem, b.elem)
		}
		if desc {
			return -r
		}
		return r
	})
}

// keyAccessChecker is the connection's side of the ACLs that SORT needs:
// its BY and GET patterns name keys that no key spec finds, so Redis lets
// them only to a user who may read every key.
type keyAccessChecker interface {
	// FullKeyAccess reports whether the caller's user may run the command
	// being executed with read access to every key.
	FullKeyAccess() bool
}

// fullKeyAccess is FullKeyAccess for c's connection; true for callers
// without one (the commands' own tests).
func fullKeyAccess(c *command.Ctx) bool {
	k, ok := c.Conn.(keyAccessChecker)
	return !ok || k.FullKeyAccess()
}
