package server_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/rdb"
	"github.com/corvid-db/corvid/internal/testutil"
)

// A replica's view: PSYNC gets a full resynchronisation, an RDB holding
// exactly the dataset, then the write stream from that instant.
func TestPsyncSnapshotThenStream(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	c.Set(ctx, "s", "v", 0)
	c.Set(ctx, "ttl", "v", time.Hour)
	c.HSet(ctx, "h", "f", "1")
	c.RPush(ctx, "l", "a", "b")
	c3 := srv.Client(t)
	c3.Do(ctx, "select", "3")
	c3.SAdd(ctx, "set", "x")

	conn, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte("REPLCONF listening-port 6380\r\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	if l, _ := r.ReadString('\n'); l != "+OK\r\n" {
		t.Fatalf("REPLCONF: %q", l)
	}
	conn.Write([]byte("PSYNC ? -1\r\n"))
	l, _ := r.ReadString('\n')
	if !strings.HasPrefix(l, "+FULLRESYNC ") || len(strings.Fields(l)) != 3 {
		t.Fatalf("PSYNC: %q", l)
	}
	l, _ = r.ReadString('\n')
	n, err := strconv.Atoi(strings.TrimSpace(l[1:]))
	if l[0] != '$' || err != nil {
		t.Fatalf("payload header %q", l)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		t.Fatal(err)
	}
	keys := map[string]int64{}
	db := 0
	_, err = rdb.Load(bytes.NewReader(payload), &rdb.Loader{
		SelectDB: func(d int) error { db = d; return nil },
		Key: func(k rdb.KeyInfo, rr *rdb.Reader) error {
			if _, err := rdb.ReadObject(rr, k.Type); err != nil {
				return err
			}
			keys[strconv.Itoa(db)+":"+string(k.Key)] = k.ExpireAt
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 5 || keys["0:ttl"] == 0 || keys["0:s"] != 0 || keys["3:set"] != 0 {
		t.Fatalf("snapshot keys %v", keys)
	}
	if !strings.Contains(c.Info(ctx, "replication").Val(), "slave0:ip=127.0.0.1,port=6380,state=online") {
		t.Fatalf("INFO replication: %s", c.Info(ctx, "replication").Val())
	}
	c3.Incr(ctx, "n") // db 3
	want := "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$4\r\nincr\r\n$1\r\nn\r\n"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r, got); err != nil || string(got) != want {
		t.Fatalf("stream %q, want %q (%v)", got, want, err)
	}
	// Replicas get no replies: an ACK is silent, and so is anything else.
	conn.Write([]byte("REPLCONF ACK 0\r\nPING\r\n"))
	c.Set(ctx, "after", "1", 0)
	want = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$5\r\nafter\r\n$1\r\n1\r\n"
	got = make([]byte, len(want))
	if _, err := io.ReadFull(r, got); err != nil || string(got) != want {
		t.Fatalf("stream %q, want %q (%v)", got, want, err)
	}
	conn.Close()
	testutil.WaitFor(t, 2*time.Second, "replica gone", func() bool {
		return strings.Contains(c.Info(ctx, "replication").Val(), "connected_slaves:0")
	})
}
