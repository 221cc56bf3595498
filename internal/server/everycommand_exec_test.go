package server_test

import (
	"strings"
	"testing"
	"time"
)

// TestEveryCommandInExec runs every example of cmdExamples inside a
// transaction that first writes a key, so that EXEC holds that key's
// shard (or every shard) while the queued command runs. A handler, or
// something it calls (a CONFIG SET hook, a memory measurement), that locks
// the keyspace again would deadlock there: CONFIG SET appendonly yes and
// CONFIG SET maxmemory did, hanging every client, until this test and
// Redis's unit/multi found them. Replies are not checked, only that EXEC
// answers within its deadline and that the server still serves another
// connection.
func TestEveryCommandInExec(t *testing.T) {
	srv := startLeakable(t)
	names := tableCommandNames(srv.Srv.Table)
	watchdog, err := dialProto(srv.Addr, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer watchdog.Close()
	ran := 0
	for _, name := range names {
		loadFixture(t, srv.Addr)
	examples:
		for _, ex := range cmdExamples[name] {
			lines := parseExample(ex)
			for _, l := range lines {
				// Lines that close the connection, make it a replica, expect
				// other than one reply (CLIENT REPLY OFF), or need a value
				// substituted are left to TestEveryCommand.
				if l.closes || l.replica || l.slow || l.replies != 1 || strings.Contains(l.text, "{") {
					continue examples
				}
			}
			c, err := dialProto(srv.Addr, 2)
			if err != nil {
				t.Fatal(err)
			}
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			cmds := [][]string{{"MULTI"}, {"SET", "exec-probe-key", "v"}}
			for _, l := range lines {
				cmds = append(cmds, l.args)
			}
			cmds = append(cmds, []string{"EXEC"})
			for _, args := range cmds {
				if err := c.send(args...); err != nil {
					t.Fatal(err)
				}
			}
			// One reply per command sent; EXEC's is the last.
			for i := range cmds {
				if _, err := readRV(c.r); err != nil {
					dumpGoroutines(t)
					t.Fatalf("%s: MULTI; SET; %s; EXEC: no reply to %q: %v", name, clipEx(ex), cmds[i], err)
				}
			}
			_ = watchdog.SetDeadline(time.Now().Add(time.Second))
			if v, err := watchdog.do("PING"); err != nil || v.String() != "+PONG" {
				dumpGoroutines(t)
				t.Fatalf("after MULTI; SET; %s; EXEC: another connection's PING got %v %v", clipEx(ex), v, err)
			}
			c.Close()
			ran++
		}
	}
	t.Logf("%d examples run inside EXEC", ran)
}
