package resp

import (
	"errors"
	"reflect"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nil with err
		err  bool
	}{
		{in: "", want: []string{}},
		{in: " \t\r\n\v\f ", want: []string{}},
		{in: "set a b", want: []string{"set", "a", "b"}},
		{in: "  set   a\tb\r\n", want: []string{"set", "a", "b"}},
		{in: `"hello world"`, want: []string{"hello world"}},
		{in: `"\n\r\t\b\a\\\"\q"`, want: []string{"\n\r\t\b\a\\\"q"}},
		{in: `"\x41\x4a\xff\x00z"`, want: []string{"AJ\xff\x00z"}},
		{in: `"\x4"`, want: []string{"x4"}},
		{in: `"\xZZ"`, want: []string{"xZZ"}},
		{in: `"\x"`, want: []string{"x"}},
		{in: `'it\'s'`, want: []string{"it's"}},
		{in: `'a\nb\\c'`, want: []string{`a\nb\\c`}},
		{in: `'a\\'`, err: true},
		{in: `'say "hi"'`, want: []string{`say "hi"`}},
		{in: `"it's"`, want: []string{"it's"}},
		{in: `foo"bar"`, want: []string{"foobar"}},
		{in: `a"b c" d`, want: []string{"ab c", "d"}},
		{in: `a'b c'`, want: []string{"ab c"}},
		{in: `""`, want: []string{""}},
		{in: `a "" b ''`, want: []string{"a", "", "b", ""}},
		{in: "a\vb", want: []string{"a\vb"}},
		{in: "\va\f", want: []string{"a\f"}},
		{in: "\"a\"\vb", want: []string{"a", "b"}},
		{in: "'a'\tb", want: []string{"a", "b"}},
		{in: "a b\x00c d", want: []string{"a", "b"}},
		{in: "\"a\x00b\"", err: true},
		{in: `"foo"bar`, err: true},
		{in: `'foo'bar`, err: true},
		{in: `"foo`, err: true},
		{in: `'foo`, err: true},
		{in: `"foo\"`, err: true},
		{in: `"a\`, err: true},
		{in: `'a\'`, err: true},
		{in: `a"b c"d`, err: true},
		{in: `ok "x"y`, err: true},
	}
	for _, tt := range tests {
		in := []byte(tt.in)
		orig := string(in)
		got, err := SplitArgs(in)
		if string(in) != orig {
			t.Errorf("SplitArgs(%q) modified its input", tt.in)
		}
		if tt.err {
			if !errors.Is(err, ErrUnbalancedQuotes) || got != nil {
				t.Errorf("SplitArgs(%q) = %q, %v; want ErrUnbalancedQuotes", tt.in, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("SplitArgs(%q): %v", tt.in, err)
			continue
		}
		gs := make([]string, len(got))
		for i, a := range got {
			gs[i] = string(a)
			if cap(a) != len(a) {
				t.Errorf("SplitArgs(%q): arg %d has spare capacity", tt.in, i)
			}
		}
		if !reflect.DeepEqual(gs, tt.want) {
			t.Errorf("SplitArgs(%q) = %q, want %q", tt.in, gs, tt.want)
		}
	}
}

func TestSplitInPlaceNoAlloc(t *testing.T) {
	src := []byte(`SET "key\x20one" 'it\'s' plain`)
	line := make([]byte, len(src))
	args := make([][]byte, 0, 8)
	n := testing.AllocsPerRun(100, func() {
		copy(line, src)
		var err error
		args, err = splitInPlace(line, args)
		if err != nil || len(args) != 4 {
			t.Fatalf("got %q, %v", args, err)
		}
	})
	if n != 0 {
		t.Errorf("splitInPlace allocates %v times", n)
	}
	if string(args[1]) != "key one" || string(args[2]) != "it's" {
		t.Errorf("got %q", args)
	}
}

func BenchmarkSplitArgs(b *testing.B) {
	src := []byte(`SET "key\x20one" 'it\'s' plain-value-here`)
	line := make([]byte, len(src))
	args := make([][]byte, 0, 8)
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		copy(line, src)
		args, _ = splitInPlace(line, args)
	}
}
