package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// proc is one server process of a sentinel test (a data node or a
// sentinel), Corvid or redis-server, that can be killed and started again
// on the same port with the same arguments.
type proc struct {
	name    string   // for messages: "primary", "sentinel 2" …
	bin     string   // the executable
	args    []string // its arguments
	dir     string   // its working directory (and --dir of a data node)
	port    int
	logfile string // a sentinel's log file ("" for a data node: see out)
	conf    string // a sentinel's configuration file

	out    *testutil.LogBuffer // stdout and stderr, over every start
	cmd    *exec.Cmd           // nil while not running
	client *redis.Client       // a plain client of the process's port
}

// dataNode describes a primary or replica: bin started with a fresh
// --dir, no persistence, as a replica of replicaOf when it is not 0. The
// process is not started; it is killed at cleanup.
func dataNode(t *testing.T, name, bin string, isRedis bool, replicaOf int) *proc {
	t.Helper()
	p := &proc{name: name, bin: bin, dir: t.TempDir(), port: freePort(t), out: &testutil.LogBuffer{}}
	// No diskless-sync delay: Redis's default of 5 s, made to gather
	// replicas into one transfer, would only slow each (re)synchronisation.
	p.args = []string{"--port", strconv.Itoa(p.port), "--bind", "127.0.0.1", "--dir", p.dir, "--save", "",
		"--repl-diskless-sync-delay", "0"}
	if isRedis {
		p.args = append(p.args, "--appendonly", "no")
	}
	if replicaOf != 0 {
		p.args = append(p.args, "--replicaof", "127.0.0.1", strconv.Itoa(replicaOf))
	}
	p.client = redis.NewClient(&redis.Options{Addr: p.addr(), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { p.kill(); _ = p.client.Close() })
	return p
}

// sentinelNode describes a sentinel watching the primary at primaryPort
// as "mymaster", with its configuration file (which it rewrites) and log
// file in a directory of its own.
func sentinelNode(t *testing.T, name, bin string, primaryPort int) *proc {
	t.Helper()
	p := &proc{name: name, bin: bin, dir: t.TempDir(), port: freePort(t), out: &testutil.LogBuffer{}}
	p.logfile = filepath.Join(p.dir, "sentinel.log")
	p.conf = filepath.Join(p.dir, "sentinel.conf")
	text := fmt.Sprintf(`port %d
bind 127.0.0.1
dir %s
logfile %s
sentinel monitor %s 127.0.0.1 %d 2
sentinel down-after-milliseconds %s %d
sentinel failover-timeout %s %d
sentinel parallel-syncs %s 1
`, p.port, p.dir, p.logfile, sentinelMaster, primaryPort,
		sentinelMaster, sentinelDownAfter.Milliseconds(), sentinelMaster, sentinelFailoverTimeout.Milliseconds(), sentinelMaster)
	if err := os.WriteFile(p.conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	p.args = []string{p.conf, "--sentinel"}
	p.client = redis.NewClient(&redis.Options{Addr: p.addr(), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { p.kill(); _ = p.client.Close() })
	return p
}

func (p *proc) addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

// start runs the process and waits until it answers PING.
func (p *proc) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = p.out, p.out
	fmt.Fprintf(p.out, "--- %s: start %s %s\n", time.Now().Format("15:04:05.000"), p.bin, strings.Join(p.args, " "))
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	p.cmd = cmd
	ctx := context.Background()
	deadline := time.Now().Add(15 * time.Second)
	for p.client.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("%s (port %d) did not answer PING within 15s; output:\n%s\nlog:\n%s", p.name, p.port, p.out, p.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL, if it runs, and reaps it.
func (p *proc) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
	fmt.Fprintf(p.out, "--- %s: killed\n", time.Now().Format("15:04:05.000"))
}

// logText is a sentinel's log file (a data node logs to out).
func (p *proc) logText() string {
	return readOrError(p.logfile)
}

func readOrError(path string) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// dump is what to print of a process when a test fails: a sentinel's
// log and configuration files whole, and the tail of its output.
func (p *proc) dump() string {
	var b strings.Builder
	fmt.Fprintf(&b, "===== %s (port %d) =====\n", p.name, p.port)
	if p.logfile != "" {
		b.WriteString("--- log file:\n")
		b.WriteString(p.logText())
		b.WriteString("--- configuration file, as the sentinel rewrote it:\n")
		b.WriteString(readOrError(p.conf))
	}
	b.WriteString("--- output (tail):\n")
	b.WriteString(tailLines(p.out.String(), 150))
	return b.String()
}

func tailLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[… %d lines …]\n", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "")
}

// infoFields parses an INFO reply into its field: value pairs.
func infoFields(info string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(info, "\n") {
		l = strings.TrimSpace(l)
		if k, v, ok := strings.Cut(l, ":"); ok && !strings.HasPrefix(l, "#") {
			m[k] = v
		}
	}
	return m
}

// replication is p's INFO replication, parsed (nil when it does not
// answer).
func (p *proc) replication(ctx context.Context) map[string]string {
	info, err := p.client.Info(ctx, "replication").Result()
	if err != nil {
		return nil
	}
	return infoFields(info)
}

// waitUntil polls cond every 50 ms until it holds, and returns how long
// that took; after timeout the test fails with what and the last state
// cond described.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	for {
		ok, state := cond()
		if ok {
			return time.Since(start)
		}
		last = state
		if time.Since(start) > timeout {
			t.Fatalf("timed out after %v waiting for %s; last state: %s", timeout, what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
