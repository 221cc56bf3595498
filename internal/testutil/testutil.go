// Package testutil starts in-process Corvid servers for tests and gives them
// real clients: go-redis over TCP, and a raw RESP connection for protocol
// tests.
package testutil

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/server"
)

// Instance is a running test server.
type Instance struct {
	Addr string
	Srv  *server.Server
}

// Start starts a server on a free 127.0.0.1 port with the given directives
// (name, value pairs, as in redis.conf) and stops it when the test ends.
// Set CORVID_TEST_LOG=1 to see the server log.
func Start(t testing.TB, directives ...string) *Instance {
	t.Helper()
	return StartWithFile(t, "", directives...)
}

// StartWithFile is Start with a configuration file loaded first.
func StartWithFile(t testing.TB, file string, directives ...string) *Instance {
	t.Helper()
	return start(t, file, true, directives...)
}

// StartWithoutPlainPort is Start for a server that listens only where
// its directives say (port 0 stays off: a TLS port, a unix socket).
func StartWithoutPlainPort(t testing.TB, directives ...string) *Instance {
	t.Helper()
	return start(t, "", false, directives...)
}

func start(t testing.TB, file string, ephemeral bool, directives ...string) *Instance {
	t.Helper()
	if len(directives)%2 != 0 {
		t.Fatalf("testutil.Start: directives must be name/value pairs")
	}
	cfg := config.New()
	if file != "" {
		if err := cfg.LoadFile(file); err != nil {
			t.Fatalf("load config: %v", err)
		}
	}
	// Files (dump.rdb…) go to a directory of the test's own. A replica's
	// full synchronisation starts at once rather than after Redis's 5 s
	// repl-diskless-sync-delay, as in Redis's own test configuration.
	text := "bind 127.0.0.1\nport 0\nrepl-diskless-sync-delay 0\ndir " + strconv.Quote(t.TempDir()) + "\n"
	for i := 0; i < len(directives); i += 2 {
		text += directives[i] + " " + strconv.Quote(directives[i+1]) + "\n"
	}
	if err := cfg.LoadString(text); err != nil {
		t.Fatalf("config: %v", err)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if os.Getenv("CORVID_TEST_LOG") == "" {
		srv.Log.SetOutput(io.Discard)
	}
	srv.EphemeralPort = ephemeral
	srv.SaveChildren = SaveChildren
	if err := srv.Start(); err != nil {
		t.Fatalf("server.Start: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &Instance{Addr: srv.Addr().String(), Srv: srv}
}

// SaveChildren makes the servers Start starts write background saves
// through save children, as cmd/corvid's do. A test package that sets it
// must run savechild.Main in its TestMain when savechild.IsChild, since
// the child is the test binary itself.
var SaveChildren bool

// Client returns a go-redis client speaking RESP2, closed at cleanup.
func (i *Instance) Client(t testing.TB) *redis.Client {
	return i.ClientWith(t, &redis.Options{Protocol: 2})
}

// Client3 returns a go-redis client speaking RESP3, closed at cleanup.
func (i *Instance) Client3(t testing.TB) *redis.Client {
	return i.ClientWith(t, &redis.Options{Protocol: 3})
}

// ClientWith returns a go-redis client with the given options (Addr is filled in).
func (i *Instance) ClientWith(t testing.TB, o *redis.Options) *redis.Client {
	t.Helper()
	opts := *o
	opts.Addr = i.Addr
	c := redis.NewClient(&opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Raw is a raw RESP connection.
type Raw struct {
	t    testing.TB
	Conn net.Conn
	R    *bufio.Reader
}

// Raw opens a raw connection, closed at cleanup.
func (i *Instance) Raw(t testing.TB) *Raw {
	t.Helper()
	c, err := net.Dial("tcp", i.Addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &Raw{t: t, Conn: c, R: bufio.NewReader(c)}
}

// Write sends bytes as they are.
func (r *Raw) Write(b []byte) error {
	_ = r.Conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := r.Conn.Write(b)
	return err
}

// Send writes a command as a RESP array of bulk strings.
func (r *Raw) Send(args ...string) error {
	return r.Write(Encode(args...))
}

// Do sends a command and reads one reply.
func (r *Raw) Do(args ...string) (any, error) {
	if err := r.Send(args...); err != nil {
		return nil, err
	}
	return r.Read()
}

// Encode formats a command as a RESP array of bulk strings.
func Encode(args ...string) []byte {
	b := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b
}

// ErrorReply is a RESP error read by Read.
type ErrorReply string

func (e ErrorReply) Error() string { return string(e) }

// Nil is what Read returns for RESP nulls.
var Nil = errors.New("nil reply")

// Read reads one reply. Simple strings and bulk strings become string,
// integers int64, arrays/sets/pushes []any, maps map[string]any (RESP3),
// doubles float64, booleans bool, nulls nil, errors an ErrorReply value (as
// the returned value, with a nil error, so tests can compare it). The error
// is for I/O failures (io.EOF when the server closed the connection).
func (r *Raw) Read() (any, error) {
	_ = r.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := r.R.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 {
		return nil, fmt.Errorf("short line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return ErrorReply(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case ',':
		return strconv.ParseFloat(body, 64)
	case '#':
		return body == "t", nil
	case '_':
		return nil, nil
	case '(':
		return body, nil
	case '$', '=', '!':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r.R, buf); err != nil {
			return nil, err
		}
		if line[0] == '!' {
			return ErrorReply(buf[:n]), nil
		}
		return string(buf[:n]), nil
	case '*', '~', '>':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = r.Read(); err != nil {
				return nil, err
			}
		}
		return out, nil
	case '%', '|':
		n, _ := strconv.Atoi(body)
		m := make(map[string]any, n)
		for i := 0; i < n; i++ {
			k, err := r.Read()
			if err != nil {
				return nil, err
			}
			v, err := r.Read()
			if err != nil {
				return nil, err
			}
			m[fmt.Sprint(k)] = v
		}
		if line[0] == '|' { // attributes precede the real reply
			return r.Read()
		}
		return m, nil
	}
	return nil, fmt.Errorf("unknown reply type %q", line)
}

// WaitFor polls cond every few milliseconds until it is true or the
// deadline passes, then fails the test with msg.
func WaitFor(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for: %s", timeout, msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// LogBuffer collects what a server or a process writes (its log) from any
// goroutine, for tests that read it back.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// StripStreamLayout removes from an XINFO STREAM FULL reply (as go-redis
// returns it, nested []any) what two servers holding the same stream may
// report differently: the radix tree's node layout and the consumers'
// active-time, which Redis 7.0 lacks.
func StripStreamLayout(v any) any {
	arr, ok := v.([]any)
	if !ok {
		return v
	}
	var out []any
	for i := 0; i < len(arr); i++ {
		if s, _ := arr[i].(string); i+1 < len(arr) && (s == "radix-tree-keys" || s == "radix-tree-nodes" || s == "active-time") {
			i++
			continue
		}
		out = append(out, StripStreamLayout(arr[i]))
	}
	return out
}
