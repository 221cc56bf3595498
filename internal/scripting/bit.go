package scripting

import (
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// bit is LuaBitOp 1.0: 32-bit operations on Lua numbers, results as
// signed 32-bit integers.

// toBit normalises a number to a 32-bit integer the way LuaBitOp does
// (round to nearest, then modulo 2^32).
func toBit(f float64) int32 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	r := math.RoundToEven(f)
	r = math.Mod(r, 4294967296)
	if r < 0 {
		r += 4294967296
	}
	return int32(uint32(r))
}

func bitArg(L *lua.LState, n int) int32 { return toBit(float64(L.CheckNumber(n))) }

func bitLib(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	fold := func(op func(a, b int32) int32) lua.LGFunction {
		return func(L *lua.LState) int {
			r := bitArg(L, 1)
			for i := 2; i <= L.GetTop(); i++ {
				r = op(r, bitArg(L, i))
			}
			L.Push(lua.LNumber(r))
			return 1
		}
	}
	shift := func(op func(a int32, n uint) int32) lua.LGFunction {
		return func(L *lua.LState) int {
			a, n := bitArg(L, 1), uint(bitArg(L, 2))&31
			L.Push(lua.LNumber(op(a, n)))
			return 1
		}
	}
	L.SetFuncs(t, map[string]lua.LGFunction{
		"tobit":   func(L *lua.LState) int { L.Push(lua.LNumber(bitArg(L, 1))); return 1 },
		"bnot":    func(L *lua.LState) int { L.Push(lua.LNumber(^bitArg(L, 1))); return 1 },
		"band":    fold(func(a, b int32) int32 { return a & b }),
		"bor":     fold(func(a, b int32) int32 { return a | b }),
		"bxor":    fold(func(a, b int32) int32 { return a ^ b }),
		"lshift":  shift(func(a int32, n uint) int32 { return int32(uint32(a) << n) }),
		"rshift":  shift(func(a int32, n uint) int32 { return int32(uint32(a) >> n) }),
		"arshift": shift(func(a int32, n uint) int32 { return a >> n }),
		"rol": shift(func(a int32, n uint) int32 {
			u := uint32(a)
			return int32(u<<n | u>>((32-n)&31))
		}),
		"ror": shift(func(a int32, n uint) int32 {
			u := uint32(a)
			return int32(u>>n | u<<((32-n)&31))
		}),
		"bswap": func(L *lua.LState) int {
			u := uint32(bitArg(L, 1))
			u = u>>24 | (u>>8)&0xff00 | (u<<8)&0xff0000 | u<<24
			L.Push(lua.LNumber(int32(u)))
			return 1
		},
		"tohex": func(L *lua.LState) int {
			b := uint32(bitArg(L, 1))
			n := 8
			if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
				n = int(bitArg(L, 2))
			}
			hexd := "0123456789abcdef"
			if n < 0 {
				n = -n
				hexd = strings.ToUpper(hexd)
			}
			if n > 8 {
				n = 8
			}
			buf := make([]byte, n)
			for i := n - 1; i >= 0; i-- {
				buf[i] = hexd[b&15]
				b >>= 4
			}
			L.Push(lua.LString(buf))
			return 1
		},
	})
	return t
}
