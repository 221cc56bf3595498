package server_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/server"
	"github.com/corvid-db/corvid/internal/testutil"
)

// LOLWUT: the bare version line by default, as Redis 7.2 gives for its own
// version; art for VERSION 5 and 6, sized by the integer arguments that
// follow and ending with the same line; a bulk string in RESP2, a verbatim
// "txt" string in RESP3.
func TestLolwut(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	versionLine := "Redis ver. " + server.Version + "\n"
	for _, c := range []*redis.Client{srv.Client(t), srv.Client3(t)} {
		for _, args := range [][]any{{"lolwut"}, {"lolwut", "version"}, {"lolwut", "x"}, {"lolwut", "version", "7"}, {"lolwut", "version", "-5"}} {
			if s, err := c.Do(ctx, args...).Text(); err != nil || s != versionLine {
				t.Fatalf("%v: %q %v", args, s, err)
			}
		}
		for _, args := range [][]any{{"lolwut", "version", "5"}, {"lolwut", "VERSION", "6"}, {"lolwut", "version", "5", "30", "4", "3"}, {"lolwut", "version", "6", "0", "-1"}} {
			s, err := c.Do(ctx, args...).Text()
			if err != nil || !strings.HasSuffix(s, " "+versionLine) || !utf8.ValidString(s) || strings.Count(s, "\n") < 2 {
				t.Fatalf("%v: %q %v", args, s, err)
			}
		}
		// The size: VERSION 6 with cols and rows draws rows lines of cols
		// braille characters, and clamps what is out of bounds.
		s, _ := c.Do(ctx, "lolwut", "version", "6", "12", "3").Text()
		lines := strings.Split(s, "\n")
		if len(lines) != 5 || utf8.RuneCountInString(lines[0]) != 12 || utf8.RuneCountInString(lines[2]) != 12 {
			t.Fatalf("LOLWUT VERSION 6 12 3: %q", lines)
		}
		if s, _ := c.Do(ctx, "lolwut", "version", "6", "-4", "0").Text(); utf8.RuneCountInString(strings.Split(s, "\n")[0]) != 1 {
			t.Fatalf("LOLWUT VERSION 6 -4 0: %q", s)
		}
		// The same arguments draw the same picture.
		a, _ := c.Do(ctx, "lolwut", "version", "5").Text()
		b, _ := c.Do(ctx, "lolwut", "version", "5").Text()
		if a != b || strings.Count(a, "\n") < 10 {
			t.Fatalf("LOLWUT VERSION 5 twice:\n%s\n%s", a, b)
		}
		admErr(t, c, "ERR value is not an integer or out of range", "lolwut", "version", "five")
		admErr(t, c, "ERR value is not an integer or out of range", "lolwut", "version", "5", "wide")
		admErr(t, c, "ERR value is not an integer or out of range", "lolwut", "version", "6", "10", "tall")
	}
	// The reply types on the wire.
	r := srv.Raw(t)
	if err := r.Send("lolwut"); err != nil {
		t.Fatal(err)
	}
	readRaw(t, r, "$17\r\n"+versionLine+"\r\n")
	r3 := raw3(t, srv)
	if err := r3.Send("lolwut"); err != nil {
		t.Fatal(err)
	}
	readRaw(t, r3, "=21\r\ntxt:"+versionLine+"\r\n")
	admExpect(t, r, "[[lolwut -1 [readonly fast] 0 0 0 [@read @fast] [] [] []]]", "command", "info", "lolwut")
}
