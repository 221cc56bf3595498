package scripting

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// cjson: the lua-cjson 2.1 library Redis bundles, with its defaults:
// numbers written with 14 significant digits, '/' escaped, sparse arrays
// refused past a ratio of 2 (arrays of up to 10 elements always allowed),
// nesting limited to 1000, NaN and infinity refused, null as cjson.null.

type jsonConfig struct {
	encodeMaxDepth, decodeMaxDepth int
	encodeInvalidNumbers           int // 0 refuse, 1 allow, 2 as null
	decodeInvalidNumbers           bool
	precision                      int
	sparseConvert                  bool
	sparseRatio, sparseSafe        int
}

func defaultJSONConfig() jsonConfig {
	return jsonConfig{encodeMaxDepth: 1000, decodeMaxDepth: 1000, decodeInvalidNumbers: true,
		precision: 14, sparseRatio: 2, sparseSafe: 10}
}

func (v *vm) cjsonLib() *lua.LTable {
	L := v.L
	t := L.NewTable()
	v.null = L.NewUserData()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"encode": v.jsonEncode,
		"decode": v.jsonDecode,
		"encode_keep_buffer": func(L *lua.LState) int {
			L.Push(lua.LTrue)
			return 1
		},
		"encode_max_depth": func(L *lua.LState) int {
			return jsonIntOpt(L, &v.json.encodeMaxDepth, 1, math.MaxInt32)
		},
		"decode_max_depth": func(L *lua.LState) int {
			return jsonIntOpt(L, &v.json.decodeMaxDepth, 1, math.MaxInt32)
		},
		"encode_number_precision": func(L *lua.LState) int {
			return jsonIntOpt(L, &v.json.precision, 1, 14)
		},
		"encode_invalid_numbers": func(L *lua.LState) int {
			switch a := L.Get(1).(type) {
			case lua.LBool:
				v.json.encodeInvalidNumbers = 0
				if a {
					v.json.encodeInvalidNumbers = 1
				}
			case lua.LString:
				switch a {
				case "null":
					v.json.encodeInvalidNumbers = 2
				case "on":
					v.json.encodeInvalidNumbers = 1
				case "off":
					v.json.encodeInvalidNumbers = 0
				}
			}
			L.Push(lua.LBool(v.json.encodeInvalidNumbers != 0))
			return 1
		},
		"decode_invalid_numbers": func(L *lua.LState) int {
			if b, ok := L.Get(1).(lua.LBool); ok {
				v.json.decodeInvalidNumbers = bool(b)
			}
			L.Push(lua.LBool(v.json.decodeInvalidNumbers))
			return 1
		},
		"encode_sparse_array": func(L *lua.LState) int {
			if b, ok := L.Get(1).(lua.LBool); ok {
				v.json.sparseConvert = bool(b)
			}
			if n, ok := L.Get(2).(lua.LNumber); ok {
				v.json.sparseRatio = int(n)
			}
			if n, ok := L.Get(3).(lua.LNumber); ok {
				v.json.sparseSafe = int(n)
			}
			L.Push(lua.LBool(v.json.sparseConvert))
			L.Push(lua.LNumber(v.json.sparseRatio))
			L.Push(lua.LNumber(v.json.sparseSafe))
			return 3
		},
	})
	t.RawSetString("null", v.null)
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	return t
}

func jsonIntOpt(L *lua.LState, p *int, lo, hi int) int {
	if L.GetTop() >= 1 {
		n := L.CheckInt(1)
		if n < lo || n > hi {
			L.ArgError(1, "expected integer between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi))
		}
		*p = n
	}
	L.Push(lua.LNumber(*p))
	return 1
}

func (v *vm) jsonEncode(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.ArgError(1, "expected 1 argument")
	}
	var b []byte
	b = v.jsonAppend(L, b, L.Get(1), 0)
	L.Push(lua.LString(b))
	return 1
}

func (v *vm) jsonNumber(L *lua.LState, b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		switch v.json.encodeInvalidNumbers {
		case 0:
			L.RaiseError("Cannot serialise number: must not be NaN or Inf")
		case 2:
			return append(b, "null"...)
		}
		switch {
		case math.IsNaN(f):
			return append(b, "nan"...)
		case f > 0:
			return append(b, "inf"...)
		}
		return append(b, "-inf"...)
	}
	return appendG(b, f, v.json.precision)
}

// appendG formats f as C's "%.<prec>g".
func appendG(b []byte, f float64, prec int) []byte {
	return strconv.AppendFloat(b, f, 'g', prec, 64)
}

func (v *vm) jsonAppend(L *lua.LState, b []byte, lv lua.LValue, depth int) []byte {
	switch x := lv.(type) {
	case lua.LString:
		return appendJSONString(b, string(x))
	case lua.LNumber:
		return v.jsonNumber(L, b, float64(x))
	case lua.LBool:
		if x {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case *lua.LNilType:
		return append(b, "null"...)
	case *lua.LUserData:
		if x == v.null {
			return append(b, "null"...)
		}
	case *lua.LTable:
		depth++
		if depth > v.json.encodeMaxDepth {
			L.RaiseError("Cannot serialise, excessive nesting (%d)", depth)
		}
		n := v.jsonArrayLen(L, x)
		if n > 0 {
			b = append(b, '[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					b = append(b, ',')
				}
				b = v.jsonAppend(L, b, x.RawGetInt(i), depth)
			}
			return append(b, ']')
		}
		b = append(b, '{')
		first := true
		for k, val := x.Next(lua.LNil); k != lua.LNil; k, val = x.Next(k) {
			if !first {
				b = append(b, ',')
			}
			first = false
			switch kk := k.(type) {
			case lua.LString:
				b = appendJSONString(b, string(kk))
			case lua.LNumber:
				b = append(b, '"')
				b = v.jsonNumber(L, b, float64(kk))
				b = append(b, '"')
			default:
				L.RaiseError("Cannot serialise table: table key must be a number or string")
			}
			b = append(b, ':')
			b = v.jsonAppend(L, b, val, depth)
		}
		return append(b, '}')
	}
	L.RaiseError("Cannot serialise %s: type not supported", lv.Type().String())
	return b
}

// jsonArrayLen returns the length of t as an array, or 0 when it must be
// encoded as an object (lua-cjson's lua_array_length).
func (v *vm) jsonArrayLen(L *lua.LState, t *lua.LTable) int {
	maxKey, items := 0, 0
	isArray := true
	forEach(t, func(k, _ lua.LValue) {
		if !isArray {
			return
		}
		n, ok := k.(lua.LNumber)
		if !ok || float64(n) < 1 || float64(n) != math.Floor(float64(n)) {
			isArray = false
			return
		}
		if int(n) > maxKey {
			maxKey = int(n)
		}
		items++
	})
	if !isArray {
		return 0
	}
	if v.json.sparseRatio > 0 && maxKey > items*v.json.sparseRatio && maxKey > v.json.sparseSafe {
		if !v.json.sparseConvert {
			L.RaiseError("Cannot serialise table: excessively sparse array")
		}
		return 0
	}
	return maxKey
}

func appendJSONString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '/':
			b = append(b, '\\', '/')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 || c == 0x7f {
				b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}

type jsonDecoder struct {
	v     *vm
	L     *lua.LState
	s     string
	pos   int
	depth int
}

func (v *vm) jsonDecode(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.ArgError(1, "expected 1 argument")
	}
	s := L.CheckString(1)
	d := &jsonDecoder{v: v, L: L, s: s}
	val := d.value()
	d.skipSpace()
	if d.pos < len(d.s) {
		d.fail("the end", d.tokenName())
	}
	L.Push(val)
	return 1
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.s) {
		switch d.s[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) tokenName() string {
	if d.pos >= len(d.s) {
		return "T_END"
	}
	switch c := d.s[d.pos]; {
	case c == '{':
		return "T_OBJ_BEGIN"
	case c == '}':
		return "T_OBJ_END"
	case c == '[':
		return "T_ARR_BEGIN"
	case c == ']':
		return "T_ARR_END"
	case c == ',':
		return "T_COMMA"
	case c == ':':
		return "T_COLON"
	case c == '"':
		return "T_STRING"
	case c == '-' || (c >= '0' && c <= '9'):
		return "T_NUMBER"
	}
	return "invalid token"
}

func (d *jsonDecoder) fail(expected, found string) {
	d.L.RaiseError("Expected %s but found %s at character %d", expected, found, d.pos+1)
}

func (d *jsonDecoder) value() lua.LValue {
	d.skipSpace()
	if d.pos >= len(d.s) {
		d.fail("value", "T_END")
	}
	L := d.L
	switch c := d.s[d.pos]; {
	case c == '{':
		d.enter()
		d.pos++
		t := L.NewTable()
		d.skipSpace()
		if d.pos < len(d.s) && d.s[d.pos] == '}' {
			d.pos++
			d.depth--
			return t
		}
		for {
			d.skipSpace()
			if d.pos >= len(d.s) || d.s[d.pos] != '"' {
				d.fail("object key string", d.tokenName())
			}
			k := d.str()
			d.skipSpace()
			if d.pos >= len(d.s) || d.s[d.pos] != ':' {
				d.fail("colon", d.tokenName())
			}
			d.pos++
			t.RawSetString(k, d.value())
			d.skipSpace()
			if d.pos < len(d.s) && d.s[d.pos] == ',' {
				d.pos++
				continue
			}
			if d.pos < len(d.s) && d.s[d.pos] == '}' {
				d.pos++
				d.depth--
				return t
			}
			d.fail("comma or object end", d.tokenName())
		}
	case c == '[':
		d.enter()
		d.pos++
		t := L.NewTable()
		d.skipSpace()
		if d.pos < len(d.s) && d.s[d.pos] == ']' {
			d.pos++
			d.depth--
			return t
		}
		for i := 1; ; i++ {
			t.RawSetInt(i, d.value())
			d.skipSpace()
			if d.pos < len(d.s) && d.s[d.pos] == ',' {
				d.pos++
				continue
			}
			if d.pos < len(d.s) && d.s[d.pos] == ']' {
				d.pos++
				d.depth--
				return t
			}
			d.fail("comma or array end", d.tokenName())
		}
	case c == '"':
		return lua.LString(d.str())
	case strings.HasPrefix(d.s[d.pos:], "true"):
		d.pos += 4
		return lua.LTrue
	case strings.HasPrefix(d.s[d.pos:], "false"):
		d.pos += 5
		return lua.LFalse
	case strings.HasPrefix(d.s[d.pos:], "null"):
		d.pos += 4
		return d.v.null
	case c == '-' || (c >= '0' && c <= '9') || c == '+' || c == '.' || c == 'i' || c == 'n' || c == 'I' || c == 'N':
		end := d.pos
		for end < len(d.s) && strings.IndexByte("+-0123456789.eExXaAbBcCdDfFiInNtTyY", d.s[end]) >= 0 {
			end++
		}
		f, err := strconv.ParseFloat(d.s[d.pos:end], 64)
		if err != nil && !isRangeErr(err) {
			if n, err2 := strconv.ParseInt(d.s[d.pos:end], 0, 64); err2 == nil {
				f, err = float64(n), nil
			}
		}
		if err != nil && !isRangeErr(err) || (!d.v.json.decodeInvalidNumbers && (math.IsNaN(f) || math.IsInf(f, 0))) {
			d.fail("value", "invalid number")
		}
		d.pos = end
		return lua.LNumber(f)
	}
	d.fail("value", "invalid token")
	return lua.LNil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func (d *jsonDecoder) enter() {
	d.depth++
	if d.depth > d.v.json.decodeMaxDepth {
		d.L.RaiseError("Found too many nested data structures (%d) at character %d", d.depth, d.pos+1)
	}
}

// str reads a string token; d.s[d.pos] is the opening quote.
func (d *jsonDecoder) str() string {
	d.pos++
	var b []byte
	for {
		if d.pos >= len(d.s) {
			d.fail("value", "unexpected end of string")
		}
		c := d.s[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(b)
		case c == '\\':
			if d.pos+1 >= len(d.s) {
				d.fail("value", "invalid escape code")
			}
			e := d.s[d.pos+1]
			d.pos += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := d.hex4()
				if r >= 0xD800 && r < 0xDC00 {
					if d.pos+1 < len(d.s) && d.s[d.pos] == '\\' && d.s[d.pos+1] == 'u' {
						d.pos += 2
						lo := d.hex4()
						r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					} else {
						d.fail("value", "invalid unicode escape code")
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				d.fail("value", "invalid escape code")
			}
		default:
			b = append(b, c)
			d.pos++
		}
	}
}

func (d *jsonDecoder) hex4() rune {
	if d.pos+4 > len(d.s) {
		d.fail("value", "invalid unicode escape code")
	}
	n, err := strconv.ParseUint(d.s[d.pos:d.pos+4], 16, 32)
	if err != nil {
		d.fail("value", "invalid unicode escape code")
	}
	d.pos += 4
	return rune(n)
}
