package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/server"
	"github.com/corvid-db/corvid/internal/testutil"
)

// After a failover, the promoted replica's own writes go into its stream
// (backlog) from the first one, so a replica that continues from it by
// partial resynchronisation gets them, as it does from Redis. They used to
// be left out until a replica attached: the offset stood still, WAIT
// counted GETACKs as acknowledgements, and the writes never reached the
// other replica (found by the sentinel failover tests).
func TestPromotedReplicaStreamsItsWrites(t *testing.T) {
	primary := testutil.Start(t)
	a, b := testutil.Start(t), testutil.Start(t)
	ctx := context.Background()
	p, ra, rb := primary.Client(t), a.Client(t), b.Client(t)
	linkReplica(t, ra, primary.Addr)
	linkReplica(t, rb, primary.Addr)
	p.Set(ctx, "before", "1", 0)
	testutil.WaitFor(t, 5*time.Second, "both replicas have the write", func() bool {
		return ra.Get(ctx, "before").Val() == "1" && rb.Get(ctx, "before").Val() == "1"
	})
	_ = primary.Srv.Close() // the primary dies

	if err := ra.Do(ctx, "replicaof", "no", "one").Err(); err != nil {
		t.Fatal(err)
	}
	offset := func() string {
		for _, l := range strings.Split(ra.Info(ctx, "replication").Val(), "\r\n") {
			if v, ok := strings.CutPrefix(l, "master_repl_offset:"); ok {
				return v
			}
		}
		return ""
	}
	before := offset()
	ra.Set(ctx, "k1", "v1", 0)
	ra.Set(ctx, "k2", "v2", 0)
	if after := offset(); after == before {
		t.Fatalf("the promoted replica's offset stayed at %s after two writes", after)
	}
	linkReplica(t, rb, a.Addr)
	testutil.WaitFor(t, 5*time.Second, "writes made before the replica attached reach it", func() bool {
		return rb.Get(ctx, "k1").Val() == "v1" && rb.Get(ctx, "k2").Val() == "v2"
	})
	// And the ones after, acknowledged by WAIT only once applied.
	ra.Set(ctx, "k3", "v3", 0)
	if n, err := ra.Do(ctx, "wait", "1", "2000").Int(); err != nil || n != 1 {
		t.Fatalf("WAIT: %d %v", n, err)
	}
	if v := rb.Get(ctx, "k3").Val(); v != "v3" {
		t.Fatalf("k3 on the replica after WAIT: %q", v)
	}
}

// A write admitted before a pause began, still waiting for its keys, does
// not run until the pause ends: a FAILOVER pausing writes must not see a
// write land after its check (the barrier takes every shard, and such a
// write only gets its keys after it).
func TestWriteWaitingForKeysRespectsPause(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	admin := srv.Client(t)
	unlock := server.LockKeys(srv.Srv, "k")
	done := make(chan error, 1)
	go func() { done <- srv.Client(t).Set(ctx, "k", "v", 0).Err() }()
	time.Sleep(100 * time.Millisecond) // SET admitted, waiting for k's shard
	if err := admin.Do(ctx, "client", "pause", "300", "write").Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("the write ran %v after the pause began, before its end", d)
	}
}

// replica-announce-ip: the primary shows (INFO, ROLE) the address the
// replica announced, which is what sentinels discover and reach, not the
// connection's (a replica behind NAT or in a container).
func TestReplicaAnnouncedIP(t *testing.T) {
	primary := testutil.Start(t)
	replica := testutil.Start(t, "replica-announce-ip", "10.1.2.3", "replica-announce-port", "7777")
	ctx := context.Background()
	p := primary.Client(t)
	linkReplica(t, replica.Client(t), primary.Addr)
	testutil.WaitFor(t, 5*time.Second, "replica listed", func() bool {
		return strings.Contains(p.Info(ctx, "replication").Val(), "slave0:ip=10.1.2.3,port=7777,")
	})
	role, err := p.Do(ctx, "role").Slice()
	if err != nil || len(role) != 3 {
		t.Fatalf("ROLE: %v %v", role, err)
	}
	if r, _ := role[2].([]any); len(r) != 1 || r[0].([]any)[0] != "10.1.2.3" || r[0].([]any)[1] != "7777" {
		t.Fatalf("ROLE replicas: %v", role[2])
	}
	long := strings.Repeat("a", 256)
	if err := p.Do(ctx, "replconf", "ip-address", long).Err(); err == nil || !strings.Contains(err.Error(), "too long: 256 bytes") {
		t.Fatalf("long ip-address: %v", err)
	}
}
