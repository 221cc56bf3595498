package scripting

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// cmsgpack is lua-cmsgpack as Redis bundles it: pack(...) encodes each
// argument as MessagePack (integral numbers as the smallest integer
// type, others as float32 when exact or float64, tables as arrays when
// their keys are 1..n, nesting cut at 16 levels with nil), unpack,
// unpack_one and unpack_limit decode.

const msgpackMaxNesting = 16

func cmsgpackLib(v *vm) *lua.LTable {
	L := v.L
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"pack":         msgpackPack,
		"unpack":       func(L *lua.LState) int { return msgpackUnpack(L, 0, 0, true) },
		"unpack_one":   func(L *lua.LState) int { return msgpackUnpack(L, 1, L.OptInt(2, 0), false) },
		"unpack_limit": func(L *lua.LState) int { return msgpackUnpack(L, L.CheckInt(2), L.OptInt(3, 0), false) },
	})
	t.RawSetString("_NAME", lua.LString("cmsgpack"))
	t.RawSetString("_VERSION", lua.LString("lua-cmsgpack 0.4.0"))
	return t
}

func msgpackPack(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		L.ArgError(0, "MessagePack pack needs input.")
	}
	var b []byte
	for i := 1; i <= n; i++ {
		b = msgpackAppend(b, L.Get(i), 0)
	}
	L.Push(lua.LString(b))
	return 1
}

func msgpackAppend(b []byte, lv lua.LValue, level int) []byte {
	switch x := lv.(type) {
	case lua.LBool:
		if x {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case lua.LNumber:
		f := float64(x)
		if f == math.Trunc(f) && f >= -9223372036854775808.0 && f < 9223372036854775808.0 && !math.IsInf(f, 0) {
			return msgpackInt(b, int64(f))
		}
		if float64(float32(f)) == f || math.IsNaN(f) {
			b = append(b, 0xca)
			return binary.BigEndian.AppendUint32(b, math.Float32bits(float32(f)))
		}
		b = append(b, 0xcb)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	case lua.LString:
		l := len(x)
		switch {
		case l < 32:
			b = append(b, 0xa0|byte(l))
		case l <= 0xff:
			b = append(b, 0xd9, byte(l))
		case l <= 0xffff:
			b = append(b, 0xda)
			b = binary.BigEndian.AppendUint16(b, uint16(l))
		default:
			b = append(b, 0xdb)
			b = binary.BigEndian.AppendUint32(b, uint32(l))
		}
		return append(b, x...)
	case *lua.LTable:
		if level == msgpackMaxNesting {
			return append(b, 0xc0)
		}
		if n, ok := msgpackArrayLen(x); ok {
			b = msgpackHeader(b, n, 0x90, 0xdc, 0xdd)
			for i := 1; i <= n; i++ {
				b = msgpackAppend(b, x.RawGetInt(i), level+1)
			}
			return b
		}
		n := 0
		forEach(x, func(lua.LValue, lua.LValue) { n++ })
		b = msgpackHeader(b, n, 0x80, 0xde, 0xdf)
		forEach(x, func(k, val lua.LValue) {
			b = msgpackAppend(b, k, level+1)
			b = msgpackAppend(b, val, level+1)
		})
		return b
	}
	return append(b, 0xc0)
}

func msgpackHeader(b []byte, n int, fix, b16, b32 byte) []byte {
	switch {
	case n < 16:
		return append(b, fix|byte(n))
	case n <= 0xffff:
		b = append(b, b16)
		return binary.BigEndian.AppendUint16(b, uint16(n))
	}
	b = append(b, b32)
	return binary.BigEndian.AppendUint32(b, uint32(n))
}

func msgpackArrayLen(t *lua.LTable) (int, bool) {
	count, maxKey := 0, 0
	ok := true
	forEach(t, func(k, _ lua.LValue) {
		n, isNum := k.(lua.LNumber)
		if !isNum || float64(n) < 1 || float64(n) != math.Floor(float64(n)) {
			ok = false
			return
		}
		count++
		if int(n) > maxKey {
			maxKey = int(n)
		}
	})
	return maxKey, ok && count == maxKey
}

func msgpackInt(b []byte, n int64) []byte {
	if n >= 0 {
		switch {
		case n <= 127:
			return append(b, byte(n))
		case n <= 0xff:
			return append(b, 0xcc, byte(n))
		case n <= 0xffff:
			return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
		case n <= 0xffffffff:
			return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
		}
		return binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(n))
	}
	switch {
	case n >= -32:
		return append(b, byte(int8(n)))
	case n >= -128:
		return append(b, 0xd0, byte(int8(n)))
	case n >= -32768:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(int16(n)))
	case n >= -2147483648:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(int32(n)))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
}

type msgpackDecoder struct {
	L   *lua.LState
	s   string
	pos int
	eof bool
	bad bool
}

func (d *msgpackDecoder) need(n int) bool {
	if d.pos+n > len(d.s) {
		d.eof = true
		return false
	}
	return true
}

func (d *msgpackDecoder) uint(n int) uint64 {
	if !d.need(n) {
		return 0
	}
	var v uint64
	for i := 0; i < n; i++ {
		v = v<<8 | uint64(d.s[d.pos+i])
	}
	d.pos += n
	return v
}

func (d *msgpackDecoder) str(n int) lua.LValue {
	if !d.need(n) {
		return lua.LNil
	}
	s := d.s[d.pos : d.pos+n]
	d.pos += n
	return lua.LString(s)
}

func (d *msgpackDecoder) array(n int) lua.LValue {
	t := d.L.CreateTable(n, 0)
	for i := 1; i <= n && !d.eof && !d.bad; i++ {
		t.RawSetInt(i, d.value())
	}
	return t
}

func (d *msgpackDecoder) mapv(n int) lua.LValue {
	t := d.L.CreateTable(0, n)
	for i := 0; i < n && !d.eof && !d.bad; i++ {
		k := d.value()
		val := d.value()
		if k != lua.LNil {
			t.RawSet(k, val)
		}
	}
	return t
}

func (d *msgpackDecoder) value() lua.LValue {
	if !d.need(1) {
		return lua.LNil
	}
	c := d.s[d.pos]
	d.pos++
	switch {
	case c <= 0x7f:
		return lua.LNumber(c)
	case c >= 0xe0:
		return lua.LNumber(int8(c))
	case c&0xe0 == 0xa0:
		return d.str(int(c & 0x1f))
	case c&0xf0 == 0x90:
		return d.array(int(c & 0x0f))
	case c&0xf0 == 0x80:
		return d.mapv(int(c & 0x0f))
	}
	switch c {
	case 0xc0:
		return lua.LNil
	case 0xc2:
		return lua.LFalse
	case 0xc3:
		return lua.LTrue
	case 0xca:
		return lua.LNumber(math.Float32frombits(uint32(d.uint(4))))
	case 0xcb:
		return lua.LNumber(math.Float64frombits(d.uint(8)))
	case 0xcc:
		return lua.LNumber(d.uint(1))
	case 0xcd:
		return lua.LNumber(d.uint(2))
	case 0xce:
		return lua.LNumber(d.uint(4))
	case 0xcf:
		return lua.LNumber(d.uint(8))
	case 0xd0:
		return lua.LNumber(int8(d.uint(1)))
	case 0xd1:
		return lua.LNumber(int16(d.uint(2)))
	case 0xd2:
		return lua.LNumber(int32(d.uint(4)))
	case 0xd3:
		return lua.LNumber(int64(d.uint(8)))
	case 0xd9, 0xc4:
		return d.str(int(d.uint(1)))
	case 0xda, 0xc5:
		return d.str(int(d.uint(2)))
	case 0xdb, 0xc6:
		return d.str(int(d.uint(4)))
	case 0xdc:
		return d.array(int(d.uint(2)))
	case 0xdd:
		return d.array(int(d.uint(4)))
	case 0xde:
		return d.mapv(int(d.uint(2)))
	case 0xdf:
		return d.mapv(int(d.uint(4)))
	}
	d.bad = true
	return lua.LNil
}

func msgpackUnpack(L *lua.LState, limit, offset int, all bool) int {
	s := L.CheckString(1)
	if offset < 0 || limit < 0 || offset > len(s) {
		L.RaiseError("Invalid request to unpack with offset of %d and limit of %d.", offset, limit)
	}
	d := &msgpackDecoder{L: L, s: s, pos: offset}
	var vals []lua.LValue
	for cnt := 0; d.pos < len(s) && (limit == 0 || cnt < limit); cnt++ {
		val := d.value()
		if d.eof {
			L.RaiseError("Missing bytes in input.")
		}
		if d.bad {
			L.RaiseError("Bad data format in input.")
		}
		vals = append(vals, val)
	}
	if !all {
		next := d.pos
		if next >= len(s) {
			next = -1
		}
		L.Push(lua.LNumber(next))
	}
	for _, val := range vals {
		L.Push(val)
	}
	if all {
		return len(vals)
	}
	return len(vals) + 1
}
