package scripting

import (
	"strings"
	"testing"

	"github.com/corvid-db/corvid/internal/resp"
)

// fakeHost answers every command with a canned RESP reply.
type fakeHost struct {
	replies map[string]string // command name → raw reply
	calls   [][]string
}

func (h *fakeHost) Call(args [][]byte, w *resp.Writer) string {
	var call []string
	for _, a := range args {
		call = append(call, string(a))
	}
	h.calls = append(h.calls, call)
	r, ok := h.replies[strings.ToLower(call[0])]
	if !ok {
		return "Unknown Redis command called from script"
	}
	w.RawString(r)
	return ""
}

func (h *fakeHost) Log(int, string)                  {}
func (h *fakeHost) CommandExists(args [][]byte) bool { return true }
func (h *fakeHost) ErrorCounted()                    {}

func run(t *testing.T, e *Engine, h Host, proto int, body string, keys ...string) string {
	t.Helper()
	s, msg := e.Load([]byte(body), true)
	if s == nil {
		return "-" + msg + "\r\n"
	}
	var k [][]byte
	for _, x := range keys {
		k = append(k, []byte(x))
	}
	w := &resp.Writer{Proto: proto}
	e.Run(s, k, nil, h, RunOptions{Proto: proto}, w)
	return string(w.Buf)
}

func TestLuaToRESP(t *testing.T) {
	e := New()
	h := &fakeHost{}
	cases := []struct {
		body  string
		proto int
		want  string
	}{
		{`return 'x'`, 2, "$1\r\nx\r\n"},
		{`return 3.99`, 2, ":3\r\n"},
		{`return -3.99`, 2, ":-3\r\n"},
		{`return true`, 2, ":1\r\n"},
		{`return false`, 2, "$-1\r\n"},
		{`return false`, 3, "_\r\n"},
		{`return nil`, 2, "$-1\r\n"},
		{`return {1,'a',{2}}`, 2, "*3\r\n:1\r\n$1\r\na\r\n*1\r\n:2\r\n"},
		{`return {1,nil,3}`, 2, "*1\r\n:1\r\n"},
		{`return {ok='fine'}`, 2, "+fine\r\n"},
		{`return {ok='a\r\nb'}`, 2, "+a  b\r\n"},
		{`return {err='MY err'}`, 2, "-MY err\r\n"},
		{`return {double=1.5}`, 3, ",1.5\r\n"},
		{`return {double=1.5}`, 2, "$3\r\n1.5\r\n"},
		{`return {big_number='123'}`, 3, "(123\r\n"},
		{`return {map={a=1}}`, 3, "%1\r\n$1\r\na\r\n:1\r\n"},
		{`return {map={a=1}}`, 2, "*2\r\n$1\r\na\r\n:1\r\n"},
		{`return {set={a=true}}`, 3, "~1\r\n$1\r\na\r\n"},
		{`redis.setresp(3) return true`, 3, "#t\r\n"},
		{`redis.setresp(3) return false`, 2, ":0\r\n"},
		{`return {verbatim_string={format='txt', string='hi'}}`, 3, "=6\r\ntxt:hi\r\n"},
	}
	for _, c := range cases {
		if got := run(t, e, h, c.proto, c.body); got != c.want {
			t.Errorf("%s (RESP%d): got %q, want %q", c.body, c.proto, got, c.want)
		}
	}
}

func TestRESPToLua(t *testing.T) {
	e := New()
	h := &fakeHost{replies: map[string]string{
		"int":    ":42\r\n",
		"bulk":   "$3\r\nabc\r\n",
		"nil":    "$-1\r\n",
		"nilarr": "*-1\r\n",
		"arr":    "*2\r\n:1\r\n$1\r\nb\r\n",
		"status": "+OK\r\n",
		"err":    "-WRONGTYPE bad\r\n",
		"map":    "%1\r\n$1\r\nk\r\n$1\r\nv\r\n",
		"set":    "~1\r\n$1\r\nm\r\n",
		"null":   "_\r\n",
		"bool":   "#t\r\n",
		"double": ",3.25\r\n",
		"big":    "(12345678901234567890\r\n",
		"verb":   "=8\r\ntxt:abcd\r\n",
		"attr":   "|1\r\n$1\r\na\r\n$1\r\nb\r\n:7\r\n",
	}}
	cases := []struct{ body, want string }{
		{`local v = redis.call('int') return {type(v), v}`, "*2\r\n$6\r\nnumber\r\n:42\r\n"},
		{`return redis.call('bulk')`, "$3\r\nabc\r\n"},
		{`return type(redis.call('nil')) .. tostring(redis.call('nil'))`, "$12\r\nbooleanfalse\r\n"},
		{`return tostring(redis.call('nilarr'))`, "$5\r\nfalse\r\n"},
		{`return redis.call('arr')`, "*2\r\n:1\r\n$1\r\nb\r\n"},
		{`return redis.call('status').ok`, "$2\r\nOK\r\n"},
		{`return redis.pcall('err').err`, "$13\r\nWRONGTYPE bad\r\n"},
		{`return redis.call('map').map.k`, "$1\r\nv\r\n"},
		{`return tostring(redis.call('set').set.m)`, "$4\r\ntrue\r\n"},
		{`return type(redis.call('null'))`, "$3\r\nnil\r\n"},
		{`return tostring(redis.call('bool'))`, "$4\r\ntrue\r\n"},
		{`return tostring(redis.call('double').double)`, "$4\r\n3.25\r\n"},
		{`return redis.call('big').big_number`, "$20\r\n12345678901234567890\r\n"},
		{`local v = redis.call('verb').verbatim_string return v.format .. v.string`, "$7\r\ntxtabcd\r\n"},
		{`return redis.call('attr')`, ":7\r\n"},
	}
	for _, c := range cases {
		if got := run(t, e, h, 2, c.body); got != c.want {
			t.Errorf("%s: got %q, want %q", c.body, got, c.want)
		}
	}
	got := run(t, e, h, 2, `redis.call('err')`)
	if !strings.HasPrefix(got, "-WRONGTYPE bad script: ") || !strings.HasSuffix(got, ", on @user_script:1.\r\n") {
		t.Errorf("raised error: %q", got)
	}
}

func TestArgumentConversion(t *testing.T) {
	e := New()
	h := &fakeHost{replies: map[string]string{"echo": "+OK\r\n"}}
	run(t, e, h, 2, `redis.call('echo', 9007199254740991, 1.5, -0.25, 1e20, 'x', 100)`)
	want := []string{"echo", "9007199254740991", "1.5", "-0.25", "1e+20", "x", "100"}
	if got := h.calls[0]; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("args: %q, want %q", got, want)
	}
}

func TestShebang(t *testing.T) {
	cases := []struct {
		body  string
		flags Flags
		err   string
	}{
		{"return 1", FlagEvalCompat, ""},
		{"#!lua\nreturn 1", 0, ""},
		{"#!lua flags=no-writes,allow-oom\nreturn 1", FlagNoWrites | FlagAllowOOM, ""},
		{"#!lua flags=allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1", FlagAllowStale | FlagNoCluster | FlagAllowCrossSlot, ""},
		{"#!lua flags=what?\nreturn 1", 0, "ERR Unexpected flag in script shebang: what?"},
		{"#!lua badger=data\nreturn 1", 0, "ERR Unknown lua shebang option: badger=data"},
		{"#!js\nreturn 1", 0, "ERR Unexpected engine in script shebang: js"},
	}
	for _, c := range cases {
		f, _, msg := parseShebang([]byte(c.body))
		if msg != c.err || (msg == "" && f != c.flags) {
			t.Errorf("%q: flags %v %q, want %v %q", c.body, f, msg, c.flags, c.err)
		}
	}
}

func TestCacheBoundAndFlush(t *testing.T) {
	e := New()
	loaded, _ := e.Load([]byte("return 'kept'"), false)
	for i := 0; i < maxEvalScripts+10; i++ {
		e.Load([]byte("return "+strings.Repeat("1+", i)+"1"), true)
	}
	if n := e.Len(); n != maxEvalScripts+1 {
		t.Fatalf("cache holds %d scripts, want %d", n, maxEvalScripts+1)
	}
	if e.Lookup([]byte(strings.ToUpper(loaded.SHA))) == nil {
		t.Fatal("SCRIPT LOAD script evicted")
	}
	e.Flush()
	if e.Len() != 0 || e.Lookup([]byte(loaded.SHA)) != nil || e.Memory() != 0 {
		t.Fatal("flush left scripts")
	}
}

func TestLibraries(t *testing.T) {
	e := New()
	h := &fakeHost{}
	cases := []struct{ body, want string }{
		{`return bit.tohex(255)`, "$8\r\n000000ff\r\n"},
		{`return bit.band(0xff, 0x0f)`, ":15\r\n"},
		{`return bit.lshift(1, 31)`, ":-2147483648\r\n"},
		{`return bit.rshift(-1, 28)`, ":15\r\n"},
		{`return bit.arshift(-16, 2)`, ":-4\r\n"},
		{`return bit.bnot(0)`, ":-1\r\n"},
		{`return bit.tobit(0xffffffff)`, ":-1\r\n"},
		{`return struct.size('>iH')`, ":6\r\n"},
		{`local a, b = struct.unpack('<hs', struct.pack('<hs', -2, 'ab')) return {a, b}`, "*2\r\n:-2\r\n$2\r\nab\r\n"},
		{`local h = '' local s = cmsgpack.pack(-1099511627776) for i = 1, #s do h = h .. string.format('%02x', string.byte(s, i)) end return h`, "$18\r\nd3ffffff0000000000\r\n"},
		{`local h = '' local s = cmsgpack.pack(0.1) for i = 1, #s do h = h .. string.format('%02x', string.byte(s, i)) end return h`, "$18\r\ncb3fb999999999999a\r\n"},
		{`local t = cmsgpack.unpack(cmsgpack.pack({1, 'a', {x=2}})) return {t[1], t[2], t[3].x}`, "*3\r\n:1\r\n$1\r\na\r\n:2\r\n"},
		{`return cjson.encode({a={1,2}})`, "$11\r\n{\"a\":[1,2]}\r\n"},
		{`return tostring(cjson.decode('null') == cjson.null)`, "$4\r\ntrue\r\n"},
		{`math.randomseed(10) local a = math.random() math.randomseed(10) return tostring(a == math.random())`, "$4\r\ntrue\r\n"},
		{`local ok, err = pcall(function() return nope end) return err`, "$76\r\nuser_script:1: Script attempted to access nonexistent global variable 'nope'\r\n"},
		{`return type(loadstring('return 1'))`, "$8\r\nfunction\r\n"},
		{`return loadstring('\27Lua')`, "$-1\r\n"},
	}
	for _, c := range cases {
		if got := run(t, e, h, 2, c.body); got != c.want {
			t.Errorf("%s: got %q, want %q", c.body, got, c.want)
		}
	}
}

func TestRecursiveReply(t *testing.T) {
	e := New()
	got := run(t, e, &fakeHost{}, 2, `local a = {} local b = {a} a[1] = b return a`)
	if !strings.HasSuffix(got, "-"+errStackLimit+"\r\n") {
		t.Fatalf("recursive table: %q…", got[:min(len(got), 40)])
	}
}
