package scripting

import (
	"strings"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	codes := []string{"#!lua name=a\nredis.register_function('f', function() return 1 end)", strings.Repeat("x", 20000)}
	p := DumpPayload(codes)
	if !VerifyPayload(p) {
		t.Fatal("payload does not verify")
	}
	got, msg := ParsePayload(p)
	if msg != "" || len(got) != 2 || got[0] != codes[0] || got[1] != codes[1] {
		t.Fatalf("parse: %q %v", msg, len(got))
	}
	p[0] ^= 1
	if VerifyPayload(p) {
		t.Fatal("corrupted payload verifies")
	}
}

func TestParseLibraryMeta(t *testing.T) {
	for code, want := range map[string]string{
		"return 1":                    errMissingMeta,
		"#!lua name=x":                errInvalidMeta,
		"#!lua\n":                     errNoLibName,
		"#!lua name=a name=b\n":       errNameTwice,
		"#!lua name=a foo=bar\n":      "Invalid metadata value given: foo=bar",
		"#!lua name=a-b\n":            errBadName,
		"#!js name=a\n":               "Engine 'js' not found",
		"#!LUA name=ok_1\nreturn 1\n": "",
		"#!lua name=\"foo\"\n":        "", // quoted as sdssplitargs reads it
		"#!lua name=\"foo\n":          errInvalidMeta,
	} {
		name, _, msg := parseLibraryMeta(code)
		if msg != want {
			t.Errorf("%q: %q, want %q", code, msg, want)
		}
		if strings.Contains(code, `"foo"`) && name != "foo" {
			t.Errorf("%q: name %q, want foo", code, name)
		}
	}
}
