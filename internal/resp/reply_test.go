package resp

import (
	"bufio"
	"strings"
	"testing"
)

func TestReadReplyKinds(t *testing.T) {
	in := "+OK\r\n-ERR bad\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n:1\r\n$1\r\nx\r\n*-1\r\n" +
		"_\r\n,3.5\r\n#t\r\n(123\r\n=8\r\ntxt:abcd\r\n%1\r\n+k\r\n:7\r\n~1\r\n+m\r\n>2\r\n+a\r\n+b\r\n|1\r\n+key\r\n+val\r\n:9\r\n"
	r := bufio.NewReader(strings.NewReader(in))
	want := []func(Reply) bool{
		func(x Reply) bool { return x.Kind == '+' && x.Str == "OK" && x.IsString() },
		func(x Reply) bool { return x.Kind == '-' && x.Str == "ERR bad" },
		func(x Reply) bool { return x.Kind == ':' && x.Int == 42 },
		func(x Reply) bool { return x.Kind == '$' && x.Str == "hello" },
		func(x Reply) bool { return x.Kind == '$' && x.Null && !x.IsString() },
		func(x Reply) bool { return x.IsArray() && len(x.Elems) == 2 && x.Elems[1].Str == "x" },
		func(x Reply) bool { return x.Kind == '*' && x.Null && !x.IsArray() },
		func(x Reply) bool { return x.Kind == '_' && x.Null },
		func(x Reply) bool { return x.Kind == ',' && x.Str == "3.5" },
		func(x Reply) bool { return x.Kind == '#' && x.Int == 1 },
		func(x Reply) bool { return x.Kind == '(' && x.Str == "123" },
		func(x Reply) bool { return x.Kind == '=' && x.Str == "abcd" },
		func(x Reply) bool { return x.Kind == '%' && len(x.Elems) == 2 && x.Elems[1].Int == 7 },
		func(x Reply) bool { return x.Kind == '~' && len(x.Elems) == 1 },
		func(x Reply) bool { return x.Kind == '>' && len(x.Elems) == 2 && x.IsArray() },
		func(x Reply) bool { return x.Kind == ':' && x.Int == 9 }, // the attribute is skipped
	}
	for i, ok := range want {
		x, err := ReadReply(r)
		if err != nil || !ok(x) {
			t.Fatalf("reply %d: %+v, %v", i, x, err)
		}
	}
}

func TestReadReplyRejects(t *testing.T) {
	for _, in := range []string{"?\r\n", ":x\r\n", "$3\r\nabcd\r\n", "$-2\r\n", "*2\r\n:1\r\n", "+OK\n", "#x\r\n",
		strings.Repeat("*1\r\n", 100) + ":1\r\n"} {
		if _, err := ReadReply(bufio.NewReader(strings.NewReader(in))); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}

// FuzzReadReply: any input gives a reply or an error, never a panic or
// a runaway allocation.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "*2\r\n$1\r\na\r\n:1\r\n", "%1\r\n+a\r\n_\r\n", "$100000000\r\n", "*16777216\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(strings.NewReader(string(b)))
		for range 8 {
			if _, err := ReadReply(r); err != nil {
				return
			}
		}
	})
}
