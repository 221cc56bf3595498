package scripting

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// struct is Roberto Ierusalimschy's struct library as Redis bundles it:
// pack, unpack and size over a format string ("<" ">" "=" "!n" endianness
// and alignment, x b B h H l L T i[n] I[n] f d s c[n]).

type structFmt struct {
	L      *lua.LState
	f      string
	pos    int
	little bool
	align  int
}

const structMaxAlign = 8

func newStructFmt(L *lua.LState, f string) *structFmt {
	return &structFmt{L: L, f: f, little: true, align: 1}
}

// num reads an optional decimal count after an option.
func (s *structFmt) num(def int) int {
	if s.pos >= len(s.f) || s.f[s.pos] < '0' || s.f[s.pos] > '9' {
		return def
	}
	n := 0
	for s.pos < len(s.f) && s.f[s.pos] >= '0' && s.f[s.pos] <= '9' {
		n = n*10 + int(s.f[s.pos]-'0')
		s.pos++
	}
	return n
}

// next reads one option: its letter and size; controls are applied here
// and reported with size 0.
func (s *structFmt) next() (opt byte, size int, ok bool) {
	for s.pos < len(s.f) {
		opt = s.f[s.pos]
		s.pos++
		switch opt {
		case ' ':
			continue
		case '<':
			s.little = true
			continue
		case '>':
			s.little = false
			continue
		case '=':
			s.little = true
			continue
		case '!':
			s.align = s.num(structMaxAlign)
			continue
		case 'x', 'b', 'B':
			return opt, 1, true
		case 'h', 'H':
			return opt, 2, true
		case 'l', 'L', 'T':
			return opt, 8, true
		case 'f':
			return opt, 4, true
		case 'd':
			return opt, 8, true
		case 's':
			return opt, 0, true
		case 'c':
			return opt, s.num(1), true
		case 'i', 'I':
			n := s.num(4)
			if n > 8 {
				s.L.RaiseError("integral size %d is larger than limit of 8", n)
			}
			return opt, n, true
		default:
			s.L.RaiseError("invalid format option '%c'", opt)
		}
	}
	return 0, 0, false
}

// padding is the alignment gap before an option of size at offset.
func (s *structFmt) padding(opt byte, size, offset int) int {
	if opt == 'c' || opt == 's' || opt == 'x' {
		return 0
	}
	a := size
	if a > s.align {
		a = s.align
	}
	if a <= 1 {
		return 0
	}
	return (a - offset%a) % a
}

func (s *structFmt) putInt(b []byte, v uint64, size int) []byte {
	for i := 0; i < size; i++ {
		var byt byte
		if s.little {
			byt = byte(v >> (8 * i))
		} else {
			byt = byte(v >> (8 * (size - 1 - i)))
		}
		if i >= 8 {
			byt = 0
		}
		b = append(b, byt)
	}
	return b
}

func (s *structFmt) getInt(d string, size int, signed bool) lua.LNumber {
	var v uint64
	for i := 0; i < size; i++ {
		var byt byte
		if s.little {
			byt = d[size-1-i]
		} else {
			byt = d[i]
		}
		v = v<<8 | uint64(byt)
	}
	if signed {
		if size < 8 {
			shift := uint(64 - 8*size)
			return lua.LNumber(int64(v<<shift) >> shift)
		}
		return lua.LNumber(int64(v))
	}
	return lua.LNumber(v)
}

func structPack(L *lua.LState) int {
	s := newStructFmt(L, L.CheckString(1))
	arg := 2
	var b []byte
	for {
		opt, size, ok := s.next()
		if !ok {
			break
		}
		for p := s.padding(opt, size, len(b)); p > 0; p-- {
			b = append(b, 0)
		}
		switch opt {
		case 'x':
			b = append(b, 0)
			continue
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			n := float64(L.CheckNumber(arg))
			var u uint64
			if n < 0 {
				u = uint64(int64(n))
			} else {
				u = uint64(n)
			}
			b = s.putInt(b, u, size)
		case 'f':
			u := math.Float32bits(float32(L.CheckNumber(arg)))
			b = s.putInt(b, uint64(u), 4)
		case 'd':
			b = s.putInt(b, math.Float64bits(float64(L.CheckNumber(arg))), 8)
		case 'c', 's':
			str := L.CheckString(arg)
			l := len(str)
			if opt == 'c' && size > 0 {
				if l < size {
					L.ArgError(arg, "string too short")
				}
				l = size
			}
			b = append(b, str[:l]...)
			if opt == 's' {
				b = append(b, 0)
			}
		}
		arg++
	}
	L.Push(lua.LString(b))
	return 1
}

func structUnpack(L *lua.LState) int {
	s := newStructFmt(L, L.CheckString(1))
	data := L.CheckString(2)
	pos := L.OptInt(3, 1) - 1
	if pos < 0 || pos > len(data) {
		L.ArgError(3, "offset out of range")
	}
	n := 0
	for {
		opt, size, ok := s.next()
		if !ok {
			break
		}
		pos += s.padding(opt, size, pos)
		if opt != 's' && pos+size > len(data) {
			L.ArgError(2, "data string too short")
		}
		switch opt {
		case 'x':
			pos++
			continue
		case 'b', 'h', 'l', 'i':
			L.Push(s.getInt(data[pos:], size, true))
		case 'B', 'H', 'L', 'T', 'I':
			L.Push(s.getInt(data[pos:], size, false))
		case 'f':
			var u uint32
			if s.little {
				u = binary.LittleEndian.Uint32([]byte(data[pos : pos+4]))
			} else {
				u = binary.BigEndian.Uint32([]byte(data[pos : pos+4]))
			}
			L.Push(lua.LNumber(math.Float32frombits(u)))
		case 'd':
			var u uint64
			if s.little {
				u = binary.LittleEndian.Uint64([]byte(data[pos : pos+8]))
			} else {
				u = binary.BigEndian.Uint64([]byte(data[pos : pos+8]))
			}
			L.Push(lua.LNumber(math.Float64frombits(u)))
		case 'c':
			if size == 0 {
				if n == 0 {
					L.RaiseError("format 'c0' needs a previous size")
				}
				prev, ok := L.Get(-1).(lua.LNumber)
				if !ok {
					L.RaiseError("format 'c0' needs a previous size")
				}
				L.Pop(1)
				n--
				size = int(prev)
				if pos+size > len(data) {
					L.ArgError(2, "data string too short")
				}
			}
			L.Push(lua.LString(data[pos : pos+size]))
		case 's':
			end := pos
			for end < len(data) && data[end] != 0 {
				end++
			}
			if end >= len(data) {
				L.RaiseError("unfinished string in data")
			}
			L.Push(lua.LString(data[pos:end]))
			size = end - pos + 1
		}
		pos += size
		n++
	}
	L.Push(lua.LNumber(pos + 1))
	return n + 1
}

func structSize(L *lua.LState) int {
	s := newStructFmt(L, L.CheckString(1))
	pos := 0
	for {
		opt, size, ok := s.next()
		if !ok {
			break
		}
		if opt == 's' || (opt == 'c' && size == 0) {
			L.ArgError(1, "options 'c0' - 's' have undefined sizes")
		}
		pos += s.padding(opt, size, pos) + size
	}
	L.Push(lua.LNumber(pos))
	return 1
}

func structLib(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{"pack": structPack, "unpack": structUnpack, "size": structSize})
	return t
}
