package resp

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRedisDiff compares the parser with a real Redis server: random
// streams of ECHO commands, inline and multibulk, mixed with malformed
// headers, are sent to both, and the replies must be byte for byte equal.
// It runs only when RESP_DIFF_REDIS_ADDR names a Redis (7.0.15 and later
// parse exactly as 7.2 does) on this machine, e.g.
//
//	redis-server --port 47311 --save '' &
//	RESP_DIFF_REDIS_ADDR=127.0.0.1:47311 go test -run TestRedisDiff ./internal/resp
//
// RESP_DIFF_N sets the number of random streams (default 2000).
func TestRedisDiff(t *testing.T) {
	addr := os.Getenv("RESP_DIFF_REDIS_ADDR")
	if addr == "" {
		t.Skip("RESP_DIFF_REDIS_ADDR not set")
	}
	n := 2000
	if s := os.Getenv("RESP_DIFF_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	inputs := []string{
		"ECHO \"a b\"\n", "ECHO 'it\\'s'\n", "ECHO \"\\x41\\x4\"\n", "ECHO a\"b c\"\n", "ECHO \"a\"b\n",
		"ECHO a\vb\n", "ECHO \va\n", "ECHO \"a\"\vb\n", "ECHO a\x00b\n", "ECHO \"\\\n", "*1\r\n\r\n",
		"*1\r\n\n\r\n", "*1\r\n$4\rxECHO\r\n", "*2\r\n$4\r\nECHOxx$1\r\naxx", "*1\x00\r\n", "ECHO \"a\\x\"\n",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range n {
		var b strings.Builder
		for k := 1 + r.IntN(4); k > 0; k-- {
			b.WriteString(randItem(r))
		}
		inputs = append(inputs, b.String())
	}

	type res struct {
		in        string
		want, got []byte
		err       error
	}
	ch := make(chan string)
	out := make(chan res)
	for range 32 {
		go func() {
			for in := range ch {
				want, err := redisReply(addr, []byte(in))
				out <- res{in, want, ourReply([]byte(in)), err}
			}
		}()
	}
	go func() {
		for _, in := range inputs {
			ch <- in
		}
		close(ch)
	}()
	bad := 0
	for range inputs {
		r := <-out
		if r.err != nil {
			t.Fatal(r.err)
		}
		// A loaded machine may delay Redis's reply past the deadline:
		// retry before reporting a difference.
		for try := 0; try < 3 && !bytes.Equal(r.want, r.got); try++ {
			if r.want, r.err = redisReply(addr, []byte(r.in)); r.err != nil {
				t.Fatal(r.err)
			}
		}
		if !bytes.Equal(r.want, r.got) {
			bad++
			if bad < 20 {
				t.Errorf("input %q:\nredis %q\nours  %q", r.in, r.want, r.got)
			}
		}
	}
	t.Logf("%d inputs, %d differ", len(inputs), bad)
}

// redisReply sends in to Redis and returns everything it answers until
// the connection is closed or stays quiet for 600ms.
func redisReply(addr string, in []byte) ([]byte, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Write(in); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	buf := make([]byte, 1<<16)
	for {
		c.SetReadDeadline(time.Now().Add(600 * time.Millisecond))
		n, err := c.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			return out.Bytes(), nil
		}
	}
}

// ourReply is what Redis answers to in, according to our parser: ECHO
// replies, arity and unknown-command errors, then the protocol error.
func ourReply(in []byte) []byte {
	got := run(&Parser{}, in)
	var w Writer
	cstr := func(s string) string { // %s stops at NUL
		if i := strings.IndexByte(s, 0); i >= 0 {
			return s[:i]
		}
		return s
	}
	for _, c := range got.cmds {
		switch {
		case strings.EqualFold(c[0], "ECHO") && len(c) == 2:
			w.BulkString(c[1])
		case strings.EqualFold(c[0], "ECHO"):
			w.Error("ERR wrong number of arguments for 'echo' command")
		default:
			name := cstr(c[0])
			if len(name) > 128 {
				name = name[:128]
			}
			args := ""
			for i := 1; i < len(c) && len(args) < 128; i++ {
				a := cstr(c[i])
				if len(a) > 128-len(args) {
					a = a[:128-len(args)]
				}
				args += "'" + a + "' "
			}
			w.Error("ERR unknown command '" + name + "', with args beginning with: " + args)
		}
	}
	var pe *ProtocolError
	if errors.As(got.err, &pe) {
		w.Error(pe.Error())
	}
	return w.Buf
}

func randExpr(r *rand.Rand) string {
	alpha := []string{"a", "b", " ", "\t", "\"", "'", "\\", "x", "4", "1", "f", "n", "\v", "\f", "\r", "\x00",
		"\\x41", "\\\"", "\\'", "\"\"", "''"}
	var b strings.Builder
	for n := r.IntN(8); n > 0; n-- {
		b.WriteString(alpha[r.IntN(len(alpha))])
	}
	return b.String()
}

func randItem(r *rand.Rand) string {
	switch r.IntN(6) {
	case 0, 1:
		end := []string{"\n", "\r\n", "\r\r\n"}[r.IntN(3)]
		return "ECHO " + randExpr(r) + end
	case 2:
		return encode("ECHO", randExpr(r))
	case 3:
		hdrs := []string{"*2", "*1", "*0", "*-1", "*x", "*", "*02", "*-0", "*+2", "*2 ", "*3000000000",
			"*2147483648", "*2147483647"}
		return hdrs[r.IntN(len(hdrs))] + "\r\n" + "$4\r\nECHO\r\n"
	case 4:
		hdrs := []string{"$1", "$-1", "$x", "$", ":1", "$01", "$536870913", "\r", "$1 ", "$0"}
		return "*2\r\n$4\r\nECHO\r\n" + hdrs[r.IntN(len(hdrs))] + "\r\na\r\n"
	default:
		return "\r\n"
	}
}
