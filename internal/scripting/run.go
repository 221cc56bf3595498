package scripting

import (
	"strconv"
	"strings"
	"time"

	"github.com/corvid-db/corvid/internal/resp"
	lua "github.com/yuin/gopher-lua"
)

// Run executes a cached script with its KEYS and ARGV and writes its
// reply, or its error, to out (in out's protocol). The caller holds
// whatever makes the run atomic (the dispatcher locks every shard); Run
// serialises use of the VM. During the run, Current returns its state
// (the Host marks it dirty before write commands).
func (e *Engine) Run(s *Script, keys, argv [][]byte, host Host, opts RunOptions, out *resp.Writer) {
	e.vmMu.Lock()
	defer e.vmMu.Unlock()
	if e.vm == nil {
		e.vm = newVM()
	}
	v := e.vm
	L := v.L
	if s.fn == nil || s.fnVM != v {
		s.fn = L.NewFunctionFromProto(s.proto)
		s.fn.Env = v.env
		s.fnVM = v
	}

	r := &Run{start: time.Now(), threshold: opts.BusyThreshold, sha: s.SHA, done: make(chan struct{}), finished: make(chan struct{})}
	defer watchMemory(r, opts.MemoryLimit)()
	defer watchSlow(r, opts, s.SHA, false)()
	v.run, v.host, v.script, v.resp = r, host, s, 2
	v.ctx.r.Store(r)
	e.cur.Store(r)
	running.Add(1)
	defer func() {
		running.Add(-1)
		e.cur.Store(nil)
		v.ctx.r.Store(nil)
		v.run, v.host, v.script = nil, nil, nil
	}()
	v.globals.RawSetString("KEYS", stringArray(L, keys))
	v.globals.RawSetString("ARGV", stringArray(L, argv))

	L.SetTop(0)
	L.Push(s.fn)
	err := L.PCall(0, 1, v.errFn)
	if err != nil {
		L.SetTop(0)
		out.Error(v.runError(err, s.SHA, r))
		return
	}
	ret := L.Get(-1)
	L.SetTop(0)
	v.writeReply(out, ret, 0)
}

// runError formats a failed run as Redis does: the error table's message,
// then " script: <name>, on <source>:<line>." (name: the script's SHA, or
// the function's name).
func (v *vm) runError(err error, name string, r *Run) string {
	var obj lua.LValue = lua.LString(err.Error())
	if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
		obj = ae.Object
	}
	msg, line := "", ""
	switch t := obj.(type) {
	case *lua.LTable:
		if t.RawGetString(ignoreErrStats) == lua.LTrue && v.host != nil {
			v.host.ErrorCounted()
		}
		if m, ok := t.RawGetString("err").(lua.LString); ok {
			msg = string(m)
		} else {
			msg = "ERR " + lua.LVAsString(t.RawGetString("err"))
		}
		if l := t.RawGetString("line"); l != lua.LNil {
			line = lua.LVAsString(l)
		}
	default:
		msg = "ERR " + lua.LVAsString(obj)
	}
	if r.killed.Load() && strings.Contains(msg, errKilled) {
		msg = "ERR " + errKilled
	}
	if r.oom.Load() {
		msg = errOutOfMemory
	}
	msg = strings.TrimPrefix(msg, "-")
	if line != "" {
		msg += " script: " + name + ", on " + v.source + ":" + line + "."
	}
	return msg
}

// stringArray makes a Lua array of strings (KEYS, ARGV).
func stringArray(L *lua.LState, items [][]byte) *lua.LTable {
	t := L.CreateTable(len(items), 0)
	for _, it := range items {
		t.Append(lua.LString(it))
	}
	return t
}

// maxReplyDepth is how deeply nested a returned table may be: Redis stops
// at the Lua C stack's limit with "reached lua stack limit".
const maxReplyDepth = 1000

// writeReply converts a script's return value into a reply, by Redis's
// rules (luaReplyToRedisReply).
func (v *vm) writeReply(w *resp.Writer, lv lua.LValue, depth int) {
	if depth > maxReplyDepth {
		w.Error(errStackLimit)
		return
	}
	switch x := lv.(type) {
	case lua.LString:
		w.BulkString(string(x))
	case lua.LBool:
		switch {
		case v.resp == 3:
			w.Bool(bool(x))
		case bool(x):
			w.Int(1)
		default:
			w.Null()
		}
	case lua.LNumber:
		w.Int(luaToInt64(float64(x)))
	case *lua.LTable:
		v.writeTable(w, x, depth)
	default:
		w.Null()
	}
}

func (v *vm) writeTable(w *resp.Writer, t *lua.LTable, depth int) {
	if s, ok := t.RawGetString("err").(lua.LString); ok {
		if depth == 0 && t.RawGetString(ignoreErrStats) == lua.LTrue && v.host != nil {
			v.host.ErrorCounted()
		}
		w.Error(strings.TrimPrefix(string(s), "-"))
		return
	}
	if s, ok := t.RawGetString("ok").(lua.LString); ok {
		w.SimpleString(strings.NewReplacer("\r", " ", "\n", " ").Replace(string(s)))
		return
	}
	if n, ok := t.RawGetString("double").(lua.LNumber); ok {
		w.Double(float64(n))
		return
	}
	if s, ok := t.RawGetString("big_number").(lua.LString); ok {
		w.BigNumber(strings.NewReplacer("\r", " ", "\n", " ").Replace(string(s)))
		return
	}
	if vs, ok := t.RawGetString("verbatim_string").(*lua.LTable); ok {
		f, ok1 := vs.RawGetString("format").(lua.LString)
		s, ok2 := vs.RawGetString("string").(lua.LString)
		if ok1 && ok2 {
			w.Verbatim(string(f), []byte(s))
			return
		}
	}
	if m, ok := t.RawGetString("map").(*lua.LTable); ok {
		n := 0
		forEach(m, func(lua.LValue, lua.LValue) { n++ })
		w.MapLen(n)
		forEach(m, func(k, val lua.LValue) {
			v.writeReply(w, k, depth+1)
			v.writeReply(w, val, depth+1)
		})
		return
	}
	if m, ok := t.RawGetString("set").(*lua.LTable); ok {
		n := 0
		forEach(m, func(lua.LValue, lua.LValue) { n++ })
		w.SetLen(n)
		forEach(m, func(k, _ lua.LValue) { v.writeReply(w, k, depth+1) })
		return
	}
	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	w.ArrayLen(n)
	for i := 1; i <= n; i++ {
		v.writeReply(w, t.RawGetInt(i), depth+1)
	}
}

// luaToInt64 is C's (long long) cast of a double as x86-64 performs it:
// out-of-range values and NaN give the smallest integer.
func luaToInt64(f float64) int64 {
	if f != f || f >= 9223372036854775807.0 || f < -9223372036854775808.0 {
		return -9223372036854775808
	}
	return int64(f)
}

// parseReply converts one RESP reply into a Lua value by Redis's rules
// (redisProtocolToLuaType) and reports whether it was an error.
func (v *vm) parseReply(b []byte) (lua.LValue, bool) {
	p := replyParser{L: v.L, b: b}
	val := p.value()
	return val, len(b) > 0 && b[0] == '-'
}

type replyParser struct {
	L   *lua.LState
	b   []byte
	pos int
}

// line returns the rest of the current line (after the type byte).
func (p *replyParser) line() []byte {
	start := p.pos
	for p.pos < len(p.b) && p.b[p.pos] != '\r' {
		p.pos++
	}
	l := p.b[start:p.pos]
	p.pos += 2
	return l
}

func (p *replyParser) int() int64 {
	n, _ := resp.ParseInt(p.line())
	return n
}

func (p *replyParser) bulk(n int64) []byte {
	if n < 0 || p.pos+int(n) > len(p.b) {
		return nil
	}
	s := p.b[p.pos : p.pos+int(n)]
	p.pos += int(n) + 2
	return s
}

func (p *replyParser) value() lua.LValue {
	if p.pos >= len(p.b) {
		return lua.LNil
	}
	L := p.L
	t := p.b[p.pos]
	p.pos++
	switch t {
	case ':':
		return lua.LNumber(p.int())
	case '$':
		n := p.int()
		if n < 0 {
			return lua.LFalse
		}
		return lua.LString(p.bulk(n))
	case '+':
		tb := L.CreateTable(0, 1)
		tb.RawSetString("ok", lua.LString(p.line()))
		return tb
	case '-':
		tb := L.CreateTable(0, 1)
		tb.RawSetString("err", lua.LString(p.line()))
		return tb
	case '*', '>':
		n := p.int()
		if n < 0 {
			return lua.LFalse
		}
		tb := L.CreateTable(int(n), 0)
		for i := int64(1); i <= n; i++ {
			tb.RawSetInt(int(i), p.value())
		}
		return tb
	case '%':
		n := p.int()
		m := L.CreateTable(0, int(n))
		for i := int64(0); i < n; i++ {
			k := p.value()
			val := p.value()
			if k != lua.LNil {
				m.RawSet(k, val)
			}
		}
		tb := L.CreateTable(0, 1)
		tb.RawSetString("map", m)
		return tb
	case '~':
		n := p.int()
		m := L.CreateTable(0, int(n))
		for i := int64(0); i < n; i++ {
			if k := p.value(); k != lua.LNil {
				m.RawSet(k, lua.LTrue)
			}
		}
		tb := L.CreateTable(0, 1)
		tb.RawSetString("set", m)
		return tb
	case '_':
		p.line()
		return lua.LNil
	case '#':
		return lua.LBool(string(p.line()) == "t")
	case ',':
		f, _ := strconv.ParseFloat(string(p.line()), 64)
		tb := L.CreateTable(0, 1)
		tb.RawSetString("double", lua.LNumber(f))
		return tb
	case '(':
		tb := L.CreateTable(0, 1)
		tb.RawSetString("big_number", lua.LString(p.line()))
		return tb
	case '=':
		s := p.bulk(p.int())
		vs := L.CreateTable(0, 2)
		if len(s) >= 4 {
			vs.RawSetString("format", lua.LString(s[:3]))
			vs.RawSetString("string", lua.LString(s[4:]))
		} else {
			vs.RawSetString("format", lua.LString("txt"))
			vs.RawSetString("string", lua.LString(s))
		}
		tb := L.CreateTable(0, 1)
		tb.RawSetString("verbatim_string", vs)
		return tb
	case '|':
		// Attributes are not exposed to scripts: skip them.
		n := p.int()
		for i := int64(0); i < 2*n; i++ {
			p.value()
		}
		return p.value()
	}
	p.line()
	return lua.LNil
}

// forEach visits t's pairs in Next's order (array part, then keys in
// insertion order): LTable.ForEach ranges over a Go map, whose order
// changes from call to call, which would make encodings unstable.
func forEach(t *lua.LTable, fn func(k, v lua.LValue)) {
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		fn(k, v)
	}
}
