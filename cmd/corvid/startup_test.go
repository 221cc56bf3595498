package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// buildCorvid builds the binary into a directory of the test's own.
func buildCorvid(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "corvid")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runCorvid starts the binary in dir with args, waits for PING and returns
// its client and its log; the process is stopped at cleanup.
func runCorvid(t *testing.T, bin, dir string, args ...string) (*redis.Client, *testutil.LogBuffer, *exec.Cmd) {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin, append(args, "--port", strconv.Itoa(port), "--bind", "127.0.0.1")...)
	cmd.Dir = dir
	log := &testutil.LogBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("server did not start; log:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c, log, cmd
}

// Redis's test harness (tests/support/server.tcl) considers a server
// started once its log matches " PID: <pid>.*Server initialized"; without
// the logo, supervisors read "pid=<pid>" and the port from "Running mode".
func TestStartupLogShapes(t *testing.T) {
	bin := buildCorvid(t)
	dir := t.TempDir()

	_, log, cmd := runCorvid(t, bin, dir, "--always-show-logo", "yes", "--save", "")
	pid := cmd.Process.Pid
	re := regexp.MustCompile(`(?s) PID: ` + strconv.Itoa(pid) + `\b.*Server initialized.*Ready to accept connections tcp`)
	if !re.MatchString(log.String()) {
		t.Fatalf("log with always-show-logo does not match %s:\n%s", re, log)
	}

	_, log, cmd = runCorvid(t, bin, dir, "--save", "")
	pid = cmd.Process.Pid
	for _, want := range []string{
		`Redis version=\S+, bits=64, commit=\S+, modified=0, pid=` + strconv.Itoa(pid) + `, just started`,
		`Running mode=standalone, port=\d+\.`,
		`Server initialized`,
	} {
		if !regexp.MustCompile(want).MatchString(log.String()) {
			t.Fatalf("log without logo lacks %q:\n%s", want, log)
		}
	}
	if regexp.MustCompile(` PID: `).MatchString(log.String()) {
		t.Fatalf("logo shown without always-show-logo and without a terminal:\n%s", log)
	}
}

// A dir the user names is used as given, even when it is the working
// directory: only the embedded default (no dir anywhere) picks ./data.
func TestDirNamedByUserIsUsedAsGiven(t *testing.T) {
	bin := buildCorvid(t)
	ctx := context.Background()
	data := t.TempDir()
	elsewhere := t.TempDir()

	// Make a dump.rdb in data, started from another directory.
	c, _, cmd := runCorvid(t, bin, elsewhere, "--dir", data, "--save", "")
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if _, err := os.Stat(filepath.Join(data, "dump.rdb")); err != nil {
		t.Fatal(err)
	}

	conf := filepath.Join(elsewhere, "corvid.conf")
	if err := os.WriteFile(conf, []byte("dir "+strconv.Quote(data)+"\nsave \"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"command line": {"--dir", data, "--save", ""},
		"config file":  {conf},
	} {
		c, log, cmd := runCorvid(t, bin, data, args...)
		if got, err := c.ConfigGet(ctx, "dir").Result(); err != nil || got["dir"] != data {
			t.Errorf("%s: CONFIG GET dir = %v, %v; want %s", name, got, err, data)
		}
		if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
			t.Errorf("%s: dump.rdb in the named dir not loaded: GET k = %q, %v\n%s", name, got, err, log)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	if _, err := os.Stat(filepath.Join(data, "data")); err == nil {
		t.Errorf("%s/data was created", data)
	}

	// With no dir anywhere the files go to ./data.
	fresh := t.TempDir()
	c, _, _ = runCorvid(t, bin, fresh, "--save", "")
	if got, err := c.ConfigGet(ctx, "dir").Result(); err != nil || got["dir"] != filepath.Join(fresh, "data") {
		t.Errorf("default dir = %v, %v; want %s/data", got, err, fresh)
	}
}

// A dump.rdb of a newer format stops the server at start with Redis's two
// lines: the loader's reason, then the fatal notice.
func TestNewerRDBRefusedAtStart(t *testing.T) {
	bin := buildCorvid(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dump.rdb"), append([]byte("REDIS0013\xff"), make([]byte, 8)...), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(freePort(t)), "--bind", "127.0.0.1", "--dir", dir)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("server started on a version-13 file:\n%s", out)
	}
	for _, want := range []string{"Can't handle RDB format version 13", "Fatal error loading the DB, check server logs. Exiting."} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// A port in use stops the server with Redis's two lines; Redis's harness
// reads "Failed listening on port" to retry elsewhere.
func TestPortInUseLogged(t *testing.T) {
	bin := buildCorvid(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	out, err := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "").CombinedOutput()
	if err == nil {
		t.Fatalf("started on a port in use:\n%s", out)
	}
	for _, want := range []string{
		fmt.Sprintf("Warning: Could not create server TCP listening socket 127.0.0.1:%d: bind: Address already in use", port),
		fmt.Sprintf("Failed listening on port %d (tcp), aborting.", port),
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
