package server_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// saveChildFile finds the save child named title that the server's log
// names in its line ("... started by pid N"; other tests' children may
// still be exiting), checks that it runs as a child of this process (the
// servers of this package's tests are in process), waits for its
// temporary file, whose path is pathOf its pid, and returns both.
func saveChildFile(t *testing.T, log *testutil.LogBuffer, started, title string, pathOf func(pid string) string) (int, string) {
	t.Helper()
	pid := childFromLog(t, log, started, title)
	temp := pathOf(strconv.Itoa(pid))
	testutil.WaitFor(t, 10*time.Second, "the child's temporary file", func() bool {
		_, err := os.Stat(temp)
		return err == nil
	})
	return pid, temp
}

// childFromLog finds the child named title that the server's log names in
// its last line "<started> by pid N" and checks that it runs as a child
// of this process.
func childFromLog(t *testing.T, log *testutil.LogBuffer, started, title string) int {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(started) + ` by pid (\d+)`)
	var pid int
	testutil.WaitFor(t, 10*time.Second, "the log line naming the child", func() bool {
		m := re.FindAllStringSubmatch(log.String(), -1)
		if len(m) == 0 {
			return false
		}
		pid, _ = strconv.Atoi(m[len(m)-1][1])
		return true
	})
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if !strings.HasPrefix(string(cmdline), title+"\x00") {
		t.Fatalf("pid %d runs %q, not %s", pid, cmdline, title)
	}
	st, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if _, after, ok := strings.Cut(string(st), ") "); !ok || len(strings.Fields(after)) < 2 || strings.Fields(after)[1] != strconv.Itoa(os.Getpid()) {
		t.Fatalf("pid %d is not a child of this process: %s", pid, st)
	}
	return pid
}

func persistenceField(t *testing.T, c *redis.Client, name string) string {
	t.Helper()
	return infoLineOf(t, c, "persistence", name)
}

// killSaveChild kills save child pid as the OOM killer would and checks
// that its save ended as failed: INFO's progress field 0 and status err,
// the log line, and its temporary file gone.
func killSaveChild(t *testing.T, c *redis.Client, log *testutil.LogBuffer, pid int, temp, progress, status, logLine string) {
	t.Helper()
	_ = syscall.Kill(pid, syscall.SIGKILL)
	testutil.WaitFor(t, 5*time.Second, "the save to end", func() bool {
		return persistenceField(t, c, progress) == "0"
	})
	if st := persistenceField(t, c, status); st != "err" {
		t.Fatalf("%s:%s after the child was killed", status, st)
	}
	if !strings.Contains(log.String(), logLine) {
		t.Fatalf("no %q in the log:\n%s", logLine, log)
	}
	if _, err := os.Stat(temp); !os.IsNotExist(err) {
		t.Fatalf("%s left behind: %v", temp, err)
	}
}

// A save child killed by someone else (the OOM killer, an operator) fails
// that save as Redis's does: its temporary file goes, the status is err,
// writes get MISCONF (redis.call in scripts included) until a save
// succeeds, and the log says which signal.
func TestKilledSaveChildFailsTheSave(t *testing.T) {
	if !testutil.SaveChildren {
		t.Skip("save children are off")
	}
	dir := t.TempDir()
	srv, log := startLogged(t, dir, "save", "3600 1")
	c := redis.NewClient(&redis.Options{Addr: srv.Addr().String()})
	defer c.Close()
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		c.Set(ctx, "k"+strconv.Itoa(i), "v", 0)
	}
	c.ConfigSet(ctx, "rdb-key-save-delay", "1000000") // a second per key
	if err := c.BgSave(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	pid, temp := saveChildFile(t, log, "Background saving started", "redis-rdb-bgsave", func(pid string) string { return filepath.Join(dir, "temp-"+pid+".rdb") })
	killSaveChild(t, c, log, pid, temp, "rdb_bgsave_in_progress", "rdb_last_bgsave_status", "Background saving terminated by signal 9")
	if err := c.Set(ctx, "x", "y", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "MISCONF ") {
		t.Fatalf("SET after a failed save: %v", err)
	}
	if err := c.Eval(ctx, "return redis.call('set', KEYS[1], 1)", []string{"x"}).Err(); err == nil || !strings.Contains(err.Error(), "MISCONF ") {
		t.Fatalf("redis.call('set') after a failed save: %v", err)
	}
	if err := c.Eval(ctx, "#!lua\nreturn redis.call('set', KEYS[1], 1)", []string{"x"}).Err(); err == nil || !strings.HasPrefix(err.Error(), "MISCONF ") {
		t.Fatalf("a script that may write, after a failed save: %v", err)
	}
	if v := c.Get(ctx, "k1").Val(); v != "v" {
		t.Fatalf("reads must still work: %q", v)
	}
	c.ConfigSet(ctx, "rdb-key-save-delay", "0")
	if err := c.BgSave(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "a good save", func() bool {
		return persistenceField(t, c, "rdb_last_bgsave_status") == "ok"
	})
	if err := c.Set(ctx, "x", "y", 0).Err(); err != nil {
		t.Fatalf("SET after a good save: %v", err)
	}
}

// The same for an AOF rewrite's child: the rewrite fails, its temporary
// base goes, and the next one succeeds.
func TestKilledRewriteChildFailsTheRewrite(t *testing.T) {
	if !testutil.SaveChildren {
		t.Skip("save children are off")
	}
	dir := t.TempDir()
	srv, log := startLogged(t, dir, "appendonly", "yes")
	c := redis.NewClient(&redis.Options{Addr: srv.Addr().String()})
	defer c.Close()
	ctx := context.Background()
	testutil.WaitFor(t, 10*time.Second, "the first rewrite", func() bool {
		return persistenceField(t, c, "aof_rewrite_in_progress") == "0"
	})
	for i := 0; i < 100; i++ {
		c.Set(ctx, "k"+strconv.Itoa(i), "v", 0)
	}
	c.ConfigSet(ctx, "rdb-key-save-delay", "1000000")
	if err := c.BgRewriteAOF(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	pid, temp := saveChildFile(t, log, "Background append only file rewriting started", "redis-aof-rewrite", func(pid string) string { return filepath.Join(dir, "appendonlydir", "temp-rewriteaof-bg-"+pid+".aof") })
	killSaveChild(t, c, log, pid, temp, "aof_rewrite_in_progress", "aof_last_bgrewrite_status", "Background AOF rewrite terminated by signal 9")
	c.ConfigSet(ctx, "rdb-key-save-delay", "0")
	if err := c.BgRewriteAOF(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "a good rewrite", func() bool {
		return persistenceField(t, c, "aof_last_bgrewrite_status") == "ok" &&
			persistenceField(t, c, "aof_rewrite_in_progress") == "0"
	})
}

// A server that closes with a save under way kills its child and removes
// the child's file before its port closes.
func TestCloseRemovesSaveChildFile(t *testing.T) {
	if !testutil.SaveChildren {
		t.Skip("save children are off")
	}
	dir := t.TempDir()
	srv, log := startLogged(t, dir)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr().String()})
	defer c.Close()
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		c.Set(ctx, "k"+strconv.Itoa(i), "v", 0)
	}
	c.ConfigSet(ctx, "rdb-key-save-delay", "10000000")
	if err := c.BgSave(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	pid, temp := saveChildFile(t, log, "Background saving started", "redis-rdb-bgsave", func(pid string) string { return filepath.Join(dir, "temp-"+pid+".rdb") })
	start := time.Now()
	_ = srv.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if _, err := os.Stat(temp); !os.IsNotExist(err) {
		t.Fatalf("%s left behind: %v", temp, err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("the child %d still runs", pid)
	}
}

// A diskless transfer has a child too, redis-rdb-to-slaves, through which
// the RDB passes on its way to the replicas, logged as Redis logs its
// pipe: the transfer succeeds through it; killed, it fails the transfer
// (the replica is dropped and syncs again); and when the last replica of
// a transfer goes, the child is killed.
func TestDisklessTransferChild(t *testing.T) {
	if !testutil.SaveChildren {
		t.Skip("save children are off")
	}
	srv, log := startLogged(t, t.TempDir(), "repl-diskless-sync", "yes", "repl-diskless-sync-delay", "0", "save", "", "enable-debug-command", "yes")
	p := redis.NewClient(&redis.Options{Addr: srv.Addr().String()})
	defer p.Close()
	ctx := context.Background()
	for i := 0; i < 2000; i++ {
		p.Set(ctx, "k"+strconv.Itoa(i), strings.Repeat("v", 1000), 0)
	}
	replica := startDebug(t)
	r := replica.Client(t)
	linkReplica(t, r, srv.Addr().String())
	waitSameDigest(t, r, p)
	for _, line := range []string{"Background RDB transfer started by pid", "Diskless rdb transfer, done reading from pipe, 1 replicas still up.", "Background RDB transfer terminated with success"} {
		// The last lines may follow the replica's load by a moment.
		testutil.WaitFor(t, 5*time.Second, line, func() bool { return strings.Contains(log.String(), line) })
	}

	// Killed mid-transfer: the replica is dropped, and syncs again once
	// the transfers are quick.
	p.ConfigSet(ctx, "rdb-key-save-delay", "2000")
	r.Do(ctx, "replicaof", "no", "one")
	before := strings.Count(log.String(), "Background RDB transfer started by pid")
	if err := r.Do(ctx, "replicaof", "127.0.0.1", srv.Addr().(*net.TCPAddr).Port).Err(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "a second transfer", func() bool {
		return strings.Count(log.String(), "Background RDB transfer started by pid") > before
	})
	pid := childFromLog(t, log, "Background RDB transfer started", "redis-rdb-to-slaves")
	_ = syscall.Kill(pid, syscall.SIGKILL)
	testutil.WaitFor(t, 5*time.Second, "the transfer to fail", func() bool {
		return strings.Contains(log.String(), "Background transfer terminated by signal 9")
	})
	testutil.WaitFor(t, 5*time.Second, "the transfer to end", func() bool {
		return persistenceField(t, p, "rdb_bgsave_in_progress") == "0"
	})
	p.ConfigSet(ctx, "rdb-key-save-delay", "0")
	waitSameDigest(t, r, p)

	// The last replica goes: the child is killed.
	r.Do(ctx, "replicaof", "no", "one")
	p.ConfigSet(ctx, "rdb-key-save-delay", "2000")
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	before = strings.Count(log.String(), "Background RDB transfer started by pid")
	conn.Write([]byte("REPLCONF listening-port 7777\r\nREPLCONF capa eof capa psync2\r\nPSYNC ? -1\r\n"))
	testutil.WaitFor(t, 10*time.Second, "a third transfer", func() bool {
		return strings.Count(log.String(), "Background RDB transfer started by pid") > before
	})
	pid = childFromLog(t, log, "Background RDB transfer started", "redis-rdb-to-slaves")
	conn.Read(make([]byte, 100)) // the transfer has begun
	conn.Close()
	testutil.WaitFor(t, 10*time.Second, "the child killed", func() bool {
		return strings.Contains(log.String(), "Diskless rdb transfer, last replica dropped, killing fork child.") &&
			syscall.Kill(pid, 0) != nil
	})
	testutil.WaitFor(t, 5*time.Second, "the transfer to end", func() bool {
		return persistenceField(t, p, "rdb_bgsave_in_progress") == "0"
	})
}

// The watchdog logs, as Redis's, when something holds the dataset past
// watchdog-period (here DEBUG SLEEP, which holds every shard), and not
// otherwise.
func TestWatchdogLogsStall(t *testing.T) {
	srv, log := startLogged(t, t.TempDir(), "enable-debug-command", "yes", "watchdog-period", "200")
	c := redis.NewClient(&redis.Options{Addr: srv.Addr().String()})
	defer c.Close()
	ctx := context.Background()
	time.Sleep(600 * time.Millisecond)
	if strings.Contains(log.String(), "WATCHDOG TIMER EXPIRED") {
		t.Fatalf("the watchdog fired on an idle server:\n%s", log)
	}
	if err := c.Do(ctx, "debug", "sleep", "0.8").Err(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 2*time.Second, "the watchdog", func() bool {
		return strings.Contains(log.String(), "--- WATCHDOG TIMER EXPIRED ---") && strings.Contains(log.String(), "--------")
	})
	if n := strings.Count(log.String(), "WATCHDOG TIMER EXPIRED"); n != 1 {
		t.Fatalf("%d reports for one stall", n)
	}
}

// A replica loading its primary's RDB slowly answers INFO meanwhile (the
// loader lets the shards go when it held them a few milliseconds), and
// its watchdog reports the load, as Redis's fires a period into one.
func TestSlowLoadAnswersAndWatchdogReports(t *testing.T) {
	primary := startDebug(t, "repl-diskless-sync", "yes", "repl-diskless-sync-delay", "0")
	p := primary.Client(t)
	ctx := context.Background()
	for i := 0; i < 60; i++ {
		p.Set(ctx, "k"+strconv.Itoa(i), strings.Repeat("v", 10000), 0)
	}
	p.ConfigSet(ctx, "rdb-key-save-delay", "25000") // 1.5 s in all
	srv, log := startLogged(t, t.TempDir(), "watchdog-period", "200")
	r := redis.NewClient(&redis.Options{Addr: srv.Addr().String()})
	defer r.Close()
	if err := r.Do(ctx, "replicaof", "127.0.0.1", strings.Split(primary.Addr, ":")[1]).Err(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, "the load", func() bool {
		return strings.Contains(log.String(), "Loading DB in memory")
	})
	began := time.Now()
	if v := infoLineOf(t, r, "persistence", "loading"); v != "1" {
		t.Fatalf("loading:%s during the load", v)
	}
	if d := time.Since(began); d > 200*time.Millisecond {
		t.Fatalf("INFO took %v during the load", d)
	}
	testutil.WaitFor(t, 2*time.Second, "the watchdog", func() bool {
		return strings.Contains(log.String(), "--- WATCHDOG TIMER EXPIRED ---")
	})
	p.ConfigSet(ctx, "rdb-key-save-delay", "0")
}
