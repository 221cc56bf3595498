package commands

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"sync"
	"unsafe"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/ds/dict"
	"github.com/corvid-db/corvid/internal/ds/intset"
	"github.com/corvid-db/corvid/internal/ds/listpack"
	"github.com/corvid-db/corvid/internal/ds/ztree"
	"github.com/corvid-db/corvid/internal/keyspace"
)

// A sorted set is stored one of two ways, as in Redis. Small ones (at most
// zset-max-listpack-entries members, none longer than
// zset-max-listpack-value bytes) are a listpack inline in the keyspace
// record: member, score, member, score…, ordered by score then member
// bytes, each score as the 8 little-endian bytes of its IEEE bits (exact,
// and no parsing on the way out). Big ones are a *ztree.Tree, which
// reports "skiplist". Handlers work on a zval, which is either the tree
// itself or the listpack decoded into a sorted slice whose members alias
// the record (or the arguments): every operation is then a slice
// operation, and the slice is encoded back once at the end.

// zent is one member of a small sorted set.
type zent struct {
	m []byte
	s float64
}

// zval is a sorted set being read or changed by one command.
type zval struct {
	tree *ztree.Tree
	ents []zent
	// fresh: tree was created by this command and must be stored.
	fresh bool
	// dirty: ents changed and must be encoded back.
	dirty bool
	// The listpack thresholds, read once per command.
	maxEntries, maxValue int
}

var zvalPool = sync.Pool{New: func() any { return &zval{ents: make([]zent, 0, 16)} }}

// zlimits returns zset-max-listpack-entries and -value.
func zlimits(c *command.Ctx) (int, int) {
	if cfg := configOf(c); cfg != nil {
		return int(cfg.Int("zset-max-listpack-entries")), int(cfg.Int("zset-max-listpack-value"))
	}
	return 128, 64
}

// newZval returns an empty value (small) with the command's thresholds.
func newZval(c *command.Ctx) *zval {
	z := zvalPool.Get().(*zval)
	z.maxEntries, z.maxValue = zlimits(c)
	return z
}

// release returns z to the pool; z must not be used afterwards.
func (z *zval) release() {
	clear(z.ents)
	z.ents = z.ents[:0]
	z.tree, z.fresh, z.dirty = nil, false, false
	zvalPool.Put(z)
}

// zget looks key up as a sorted set. It returns nil if the key is missing
// and replies WRONGTYPE (returning ok=false) if it holds another type.
// read selects LookupRead (keyspace hit/miss accounting).
func zget(c *command.Ctx, key []byte, read bool) (z *zval, ok bool) {
	var e keyspace.Entry
	var found bool
	var err error
	if read {
		e, found, err = c.DB.LookupReadType(key, keyspace.TypeZSet)
	} else {
		e, found, err = c.DB.LookupType(key, keyspace.TypeZSet)
	}
	if err != nil {
		c.Error(command.ErrWrongType)
		return nil, false
	}
	if !found {
		return nil, true
	}
	z = newZval(c)
	z.load(e)
	return z, true
}

func (z *zval) load(e keyspace.Entry) {
	if t, ok := e.Object().(*ztree.Tree); ok {
		z.tree = t
		return
	}
	lp := e.Bytes()
	for p := listpack.First(lp); p >= 0; {
		m := listpack.Get(lp, p)
		p = listpack.Next(lp, p)
		sb := listpack.Get(lp, p)
		p = listpack.Next(lp, p)
		z.ents = append(z.ents, zent{m, math.Float64frombits(binary.LittleEndian.Uint64(sb))})
	}
}

// zencode appends the listpack encoding of ents to dst[:0].
func zencode(dst []byte, ents []zent) []byte {
	dst = append(dst[:0], 0, 0, 0, 0)
	var sb [8]byte
	for i := range ents {
		binary.LittleEndian.PutUint64(sb[:], math.Float64bits(ents[i].s))
		dst = listpack.Append(dst, ents[i].m)
		dst = listpack.Append(dst, sb[:])
	}
	return dst
}

// save writes z back under key (deleting the key if z is empty). Members
// of a small z may alias the old record, so nothing may read z afterwards.
func (z *zval) save(c *command.Ctx, key []byte) {
	if z.tree != nil {
		if z.tree.Len() == 0 {
			c.DB.Delete(key)
		} else if z.fresh {
			c.DB.SetObject(key, keyspace.TypeZSet, z.tree, keyspace.KeepTTL)
			z.fresh = false
		}
		return
	}
	if !z.dirty {
		return
	}
	if len(z.ents) == 0 {
		c.DB.Delete(key)
		return
	}
	lp := zencode(c.Scratch, z.ents)
	c.DB.SetInline(key, keyspace.TypeZSet, keyspace.EncListpack, lp, keyspace.KeepTTL)
	c.Scratch = lp[:0]
}

// storeNew replaces key (any type, TTL cleared) with z, or deletes it if z
// is empty, and returns the number of members stored.
func (z *zval) storeNew(c *command.Ctx, key []byte) int {
	n := z.Len()
	if n == 0 {
		if c.DB.Delete(key) {
			c.Dirty++
		}
		return 0
	}
	if z.tree != nil {
		c.DB.SetObject(key, keyspace.TypeZSet, z.tree, 0)
	} else {
		lp := zencode(c.Scratch, z.ents)
		c.DB.SetInline(key, keyspace.TypeZSet, keyspace.EncListpack, lp, 0)
		c.Scratch = lp[:0]
	}
	z.fresh, z.dirty = false, false
	c.Dirty++
	return n
}

// zbytes views a tree member as bytes (read-only, valid until the tree changes).
func zbytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// zcmp orders (score, member) pairs as sorted sets do.
func zless(as float64, am []byte, bs float64, bm []byte) bool {
	return as < bs || (as == bs && bytes.Compare(am, bm) < 0)
}

// Len returns the number of members.
func (z *zval) Len() int {
	if z.tree != nil {
		return z.tree.Len()
	}
	return len(z.ents)
}

// find returns the index of member in a small z, or -1.
func (z *zval) find(m []byte) int {
	for i := range z.ents {
		if bytes.Equal(z.ents[i].m, m) {
			return i
		}
	}
	return -1
}

func (z *zval) score(m []byte) (float64, bool) {
	if z.tree != nil {
		return z.tree.Score(m)
	}
	if i := z.find(m); i >= 0 {
		return z.ents[i].s, true
	}
	return 0, false
}

// rank returns member's ascending rank and score.
func (z *zval) rank(m []byte) (int, float64, bool) {
	if z.tree != nil {
		return z.tree.Rank(m)
	}
	if i := z.find(m); i >= 0 {
		return i, z.ents[i].s, true
	}
	return 0, 0, false
}

// get returns the member of the given rank.
func (z *zval) get(r int) ([]byte, float64) {
	if z.tree != nil {
		it := z.tree.At(r)
		e := it.Entry()
		return zbytes(e.Member), e.Score
	}
	return z.ents[r].m, z.ents[r].s
}

// walk calls fn for n members starting at rank start, ascending, or
// descending when rev.
func (z *zval) walk(start, n int, rev bool, fn func(m []byte, s float64)) {
	if n <= 0 {
		return
	}
	if z.tree != nil {
		it := z.tree.At(start)
		for ; n > 0 && it.Valid(); n-- {
			e := it.Entry()
			fn(zbytes(e.Member), e.Score)
			if rev {
				it.Prev()
			} else {
				it.Next()
			}
		}
		return
	}
	for ; n > 0 && start >= 0 && start < len(z.ents); n-- {
		fn(z.ents[start].m, z.ents[start].s)
		if rev {
			start--
		} else {
			start++
		}
	}
}

// search returns the rank of the first member for which pred holds; pred
// must be monotone over the set's order.
func (z *zval) search(pred func(s float64, m []byte) bool) int {
	if z.tree != nil {
		return z.tree.Search(func(s float64, m string) bool { return pred(s, zbytes(m)) })
	}
	lo, hi := 0, len(z.ents)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if pred(z.ents[mid].s, z.ents[mid].m) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// insertSmall puts a new member into a small z at its sorted position.
func (z *zval) insertSmall(m []byte, s float64) {
	lo, hi := 0, len(z.ents)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if zless(z.ents[mid].s, z.ents[mid].m, s, m) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	z.ents = append(z.ents, zent{})
	copy(z.ents[lo+1:], z.ents[lo:])
	z.ents[lo] = zent{m, s}
	z.dirty = true
}

func (z *zval) removeSmall(i int) {
	copy(z.ents[i:], z.ents[i+1:])
	z.ents[len(z.ents)-1] = zent{}
	z.ents = z.ents[:len(z.ents)-1]
	z.dirty = true
}

// toTree converts a small z to the big encoding.
func (z *zval) toTree(hint int) {
	t := ztree.New(max(hint, len(z.ents)))
	for _, e := range z.ents {
		t.Add(e.m, e.s)
	}
	clear(z.ents)
	z.ents = z.ents[:0]
	z.tree, z.fresh, z.dirty = t, true, false
}

// insert adds a member known to be absent, converting to the big encoding
// first when Redis would (the set would outgrow the listpack thresholds).
func (z *zval) insert(m []byte, s float64) {
	if z.tree == nil && (len(z.ents)+1 > z.maxEntries || len(m) > z.maxValue) {
		z.toTree(len(z.ents) + 1)
	}
	if z.tree != nil {
		z.tree.Add(m, s)
		return
	}
	z.insertSmall(m, s)
}

// setScore moves an existing member to a new score.
func (z *zval) setScore(m []byte, s float64) {
	if z.tree != nil {
		z.tree.Add(m, s)
		return
	}
	i := z.find(m)
	m = z.ents[i].m
	z.removeSmall(i)
	z.insertSmall(m, s)
}

// remove deletes member and reports whether it was present.
func (z *zval) remove(m []byte) bool {
	if z.tree != nil {
		return z.tree.Remove(m)
	}
	if i := z.find(m); i >= 0 {
		z.removeSmall(i)
		return true
	}
	return false
}

// removeRange deletes ranks start..end inclusive (within range).
func (z *zval) removeRange(start, end int) int {
	if end < start {
		return 0
	}
	if z.tree != nil {
		return z.tree.DeleteRange(start, end)
	}
	z.ents = append(z.ents[:start], z.ents[end+1:]...)
	z.dirty = true
	return end - start + 1
}

// zresult starts a destination sorted set the way Redis's zsetTypeCreate
// does: big from the start if sizeHint or the longest member exceed the
// listpack thresholds.
func zresult(c *command.Ctx, sizeHint, maxLen int) *zval {
	z := newZval(c)
	if sizeHint > z.maxEntries || maxLen > z.maxValue {
		z.tree, z.fresh = ztree.New(min(sizeHint, 1<<20)), true
	}
	return z
}

// ---- argument parsing ----

// zstrtod parses the longest prefix of b that C's strtod accepts. It
// returns the value, the number of bytes consumed (0 if none) and whether
// the value overflowed or underflowed to zero (strtod's ERANGE cases that
// Redis rejects).
func zstrtod(b []byte) (f float64, n int, erange bool) {
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	start := i
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	rest := b[i:]
	// inf, infinity, nan
	if len(rest) >= 3 && (equalFold(rest[:3], "inf") || equalFold(rest[:3], "nan")) {
		isNaN := equalFold(rest[:3], "nan")
		j := i + 3
		if !isNaN && len(rest) >= 8 && equalFold(rest[:8], "infinity") {
			j = i + 8
		}
		if isNaN {
			// nan(n-char-sequence)
			if j < len(b) && b[j] == '(' {
				k := j + 1
				for k < len(b) && (isDigit(b[k]) || b[k] == '_' || (b[k]|0x20 >= 'a' && b[k]|0x20 <= 'z')) {
					k++
				}
				if k < len(b) && b[k] == ')' {
					j = k + 1
				}
			}
			return math.NaN(), j, false
		}
		if neg {
			return math.Inf(-1), j, false
		}
		return math.Inf(1), j, false
	}
	// hexadecimal
	if len(rest) >= 2 && rest[0] == '0' && rest[1]|0x20 == 'x' {
		j := i + 2
		digits := 0
		for j < len(b) && isHexDigit(b[j]) {
			j++
			digits++
		}
		if j < len(b) && b[j] == '.' {
			j++
			for j < len(b) && isHexDigit(b[j]) {
				j++
				digits++
			}
		}
		if digits == 0 {
			// Only the "0" parses.
			if neg {
				return math.Copysign(0, -1), i + 1, false
			}
			return 0, i + 1, false
		}
		mant := j
		if j < len(b) && b[j]|0x20 == 'p' {
			k := j + 1
			if k < len(b) && (b[k] == '+' || b[k] == '-') {
				k++
			}
			if k < len(b) && isDigit(b[k]) {
				for k < len(b) && isDigit(b[k]) {
					k++
				}
				j = k
			}
		}
		s := string(b[start:j])
		if j == mant {
			s += "p0"
		}
		v, err := strconv.ParseFloat(s, 64)
		return v, j, err != nil
	}
	j := i
	digits, nonzero := 0, false
	for j < len(b) && isDigit(b[j]) {
		nonzero = nonzero || b[j] != '0'
		j++
		digits++
	}
	if j < len(b) && b[j] == '.' {
		j++
		for j < len(b) && isDigit(b[j]) {
			nonzero = nonzero || b[j] != '0'
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	if j < len(b) && b[j]|0x20 == 'e' {
		k := j + 1
		if k < len(b) && (b[k] == '+' || b[k] == '-') {
			k++
		}
		if k < len(b) && isDigit(b[k]) {
			for k < len(b) && isDigit(b[k]) {
				k++
			}
			j = k
		}
	}
	v, err := strconv.ParseFloat(unsafeStr(b[start:j]), 64)
	if err != nil {
		return v, j, true
	}
	if v == 0 && nonzero {
		return v, j, true
	}
	return v, j, false
}

func unsafeStr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// zparseFloat is Redis's string2d (scores, increments, weights): the whole
// argument must parse, no leading space, no overflow, not NaN.
func zparseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || b[0] == ' ' || (b[0] >= '\t' && b[0] <= '\r') {
		return 0, false
	}
	if n, ok := zparseIntFast(b); ok {
		return n, true
	}
	f, n, erange := zstrtod(b)
	if n != len(b) || erange || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// zparseIntFast handles the common case of a small decimal integer score.
func zparseIntFast(b []byte) (float64, bool) {
	if len(b) > 15 {
		return 0, false
	}
	i := 0
	neg := b[0] == '-'
	if neg {
		i = 1
		if len(b) == 1 {
			return 0, false
		}
	}
	var v int64
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			return 0, false
		}
		v = v*10 + int64(d)
	}
	if neg {
		if v == 0 {
			return math.Copysign(0, -1), true
		}
		return float64(-v), true
	}
	return float64(v), true
}

// zrangeSpec is a score interval with open or closed ends.
type zrangeSpec struct {
	min, max     float64
	minex, maxex bool
}

func (r *zrangeSpec) gteMin(s float64) bool {
	if r.minex {
		return s > r.min
	}
	return s >= r.min
}

func (r *zrangeSpec) lteMax(s float64) bool {
	if r.maxex {
		return s < r.max
	}
	return s <= r.max
}

// zparseBound parses one end of a score range as zslParseRange does:
// strtod on the text after an optional '(', which must consume everything
// (up to a NUL) and not be NaN.
func zparseBound(b []byte) (float64, bool, bool) {
	ex := false
	if len(b) > 0 && b[0] == '(' {
		ex = true
		b = b[1:]
	}
	f, n, _ := zstrtod(b)
	if (n != len(b) && b[n] != 0) || math.IsNaN(f) {
		return 0, false, false
	}
	return f, ex, true
}

func zparseRange(minb, maxb []byte) (r zrangeSpec, ok bool) {
	var ok1, ok2 bool
	r.min, r.minex, ok1 = zparseBound(minb)
	r.max, r.maxex, ok2 = zparseBound(maxb)
	return r, ok1 && ok2
}

// Lex range bounds: a value, or the "-"/"+" infinities.
const (
	zlexValue int8 = iota
	zlexMinusInf
	zlexPlusInf
)

type zlexSpec struct {
	min, max         []byte
	minKind, maxKind int8
	minex, maxex     bool
}

func zparseLexItem(b []byte) (v []byte, kind int8, ex bool, ok bool) {
	if len(b) == 0 {
		return nil, 0, false, false
	}
	switch b[0] {
	case '+':
		if len(b) != 1 {
			return nil, 0, false, false
		}
		return nil, zlexPlusInf, true, true
	case '-':
		if len(b) != 1 {
			return nil, 0, false, false
		}
		return nil, zlexMinusInf, true, true
	case '(':
		return b[1:], zlexValue, true, true
	case '[':
		return b[1:], zlexValue, false, true
	}
	return nil, 0, false, false
}

func zparseLex(minb, maxb []byte) (r zlexSpec, ok bool) {
	var ok1, ok2 bool
	r.min, r.minKind, r.minex, ok1 = zparseLexItem(minb)
	r.max, r.maxKind, r.maxex, ok2 = zparseLexItem(maxb)
	return r, ok1 && ok2
}

// zlexCmp compares a member with a bound (sdscmplex).
func zlexCmp(v []byte, kind int8, b []byte) int {
	switch kind {
	case zlexMinusInf:
		return 1
	case zlexPlusInf:
		return -1
	}
	return bytes.Compare(v, b)
}

func (r *zlexSpec) gteMin(v []byte) bool {
	c := zlexCmp(v, r.minKind, r.min)
	if r.minex {
		return c > 0
	}
	return c >= 0
}

func (r *zlexSpec) lteMax(v []byte) bool {
	c := zlexCmp(v, r.maxKind, r.max)
	if r.maxex {
		return c < 0
	}
	return c <= 0
}

// scoreBounds returns the ranks [lo, hi) of the members inside r.
func (z *zval) scoreBounds(r *zrangeSpec) (int, int) {
	lo := z.search(func(s float64, _ []byte) bool { return r.gteMin(s) })
	hi := z.search(func(s float64, _ []byte) bool { return !r.lteMax(s) })
	return lo, max(lo, hi)
}

// lexBounds returns the ranks [lo, hi) of the members inside r.
func (z *zval) lexBounds(r *zlexSpec) (int, int) {
	lo := z.search(func(_ float64, m []byte) bool { return r.gteMin(m) })
	hi := z.search(func(_ float64, m []byte) bool { return !r.lteMax(m) })
	return lo, max(lo, hi)
}

// ---- sets as inputs of ZUNION/ZINTER/ZDIFF ----

// zsrc is one input of a set operation: a sorted set, a plain set (every
// member scoring 1), or a missing key (empty).
type zsrc struct {
	z      *zval
	is     []byte    // intset-encoded set
	lp     []byte    // listpack-encoded set
	hs     *dict.Set // hashtable set
	weight float64
	n      int
}

func (s *zsrc) each(fn func(m []byte, sc float64) bool) {
	switch {
	case s.z != nil && s.z.tree != nil:
		for it := s.z.tree.First(); it.Valid(); it.Next() {
			e := it.Entry()
			if !fn(zbytes(e.Member), e.Score) {
				return
			}
		}
	case s.z != nil:
		for _, e := range s.z.ents {
			if !fn(e.m, e.s) {
				return
			}
		}
	case s.is != nil:
		var buf [24]byte
		for i := 0; i < s.n; i++ {
			if !fn(strconv.AppendInt(buf[:0], intset.Get(s.is, i), 10), 1) {
				return
			}
		}
	case s.lp != nil:
		for p := listpack.First(s.lp); p >= 0; p = listpack.Next(s.lp, p) {
			if !fn(listpack.Get(s.lp, p), 1) {
				return
			}
		}
	case s.hs != nil:
		for i := 0; i < s.n; i++ {
			if !fn(zbytes(s.hs.At(i)), 1) {
				return
			}
		}
	}
}

func (s *zsrc) find(m []byte) (float64, bool) {
	switch {
	case s.z != nil:
		return s.z.score(m)
	case s.is != nil:
		if v, ok := parseInt64(m); ok {
			return 1, intset.Contains(s.is, v)
		}
	case s.lp != nil:
		if listpack.Find(s.lp, listpack.First(s.lp), m, 1) >= 0 {
			return 1, true
		}
	case s.hs != nil:
		return 1, s.hs.Has(m)
	}
	return 0, false
}

// parseInt64 accepts canonical integers only, as an intset member must be.
func parseInt64(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(unsafeStr(b), 10, 64)
	if err != nil || strconv.FormatInt(v, 10) != unsafeStr(b) {
		return 0, false
	}
	return v, true
}

// zloadSrc reads key as a set-operation input; wrong types reply WRONGTYPE.
func zloadSrc(c *command.Ctx, key []byte, s *zsrc) bool {
	e, ok := c.DB.LookupRead(key)
	if !ok {
		return true
	}
	switch e.Type() {
	case keyspace.TypeZSet:
		s.z = newZval(c)
		s.z.load(e)
		s.n = s.z.Len()
	case keyspace.TypeSet:
		switch o := e.Object().(type) {
		case *dict.Set:
			s.hs, s.n = o, o.Len()
		case nil:
			b := e.Bytes()
			if e.StringEncoding() == keyspace.EncIntset {
				s.is, s.n = b, intset.Len(b)
			} else {
				s.lp, s.n = b, listpack.Len(b)
			}
		default:
			// An encoding this file does not know: treat as empty.
		}
	default:
		c.Error(command.ErrWrongType)
		return false
	}
	return true
}
