package server_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

func TestPubSubRaw(t *testing.T) {
	srv := testutil.Start(t)
	sub := srv.Raw(t)
	pub := srv.Raw(t)
	expect(t, sub, "[subscribe a 1]", "subscribe", "a")
	if err := sub.Send("subscribe", "b", "a"); err != nil {
		t.Fatal(err)
	}
	expectSeq(t, sub, "[subscribe b 2]", "[subscribe a 2]")
	expect(t, sub, "[psubscribe h?llo 3]", "psubscribe", "h?llo")
	expect(t, pub, int64(1), "publish", "a", "msg")
	expectSeq(t, sub, "[message a msg]")
	expect(t, pub, int64(1), "publish", "hello", "x")
	expectSeq(t, sub, "[pmessage h?llo hello x]")
	expect(t, pub, int64(0), "publish", "nobody", "x")
	// RESP2 subscribed context.
	expect(t, sub, "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", "get", "k")
	expect(t, sub, "[pong ]", "ping")
	expect(t, sub, "[pong hi]", "ping", "hi")
	expect(t, pub, "[a 1 b 1 c 0]", "pubsub", "numsub", "a", "b", "c")
	expect(t, pub, int64(1), "pubsub", "numpat")
	expect(t, pub, "[a]", "pubsub", "channels", "a*")
	if !strings.Contains(do(t, pub, "client", "list").(string), "flags=P db=0 sub=2 psub=1 ssub=0") {
		t.Fatalf("CLIENT LIST: %s", do(t, pub, "client", "list"))
	}
	expect(t, sub, "[unsubscribe a 2]", "unsubscribe", "a")
	if err := sub.Send("unsubscribe"); err != nil {
		t.Fatal(err)
	}
	expectSeq(t, sub, "[unsubscribe b 1]")
	expect(t, sub, "[punsubscribe h?llo 0]", "punsubscribe")
	expect(t, sub, "[unsubscribe <nil> 0]", "unsubscribe")
	expect(t, sub, "PONG", "ping")
	expect(t, sub, "OK", "set", "k", "v")

	// Sharded channels are their own namespace.
	expect(t, sub, "[ssubscribe s 1]", "ssubscribe", "s")
	expect(t, pub, int64(0), "publish", "s", "x")
	expect(t, pub, int64(1), "spublish", "s", "y")
	expectSeq(t, sub, "[smessage s y]")
	expect(t, pub, "[s]", "pubsub", "shardchannels")
	expect(t, pub, "[s 1]", "pubsub", "shardnumsub", "s")
	expect(t, sub, "RESET", "reset")
	expect(t, pub, "[s 0]", "pubsub", "shardnumsub", "s")
}

func TestPubSubRESP3PushesBetweenReplies(t *testing.T) {
	srv := testutil.Start(t)
	sub := srv.Raw(t)
	pub := srv.Raw(t)
	do(t, sub, "hello", "3")
	expect(t, sub, "[subscribe ch 1]", "subscribe", "ch")
	// RESP3 clients may run any command while subscribed.
	expect(t, sub, "OK", "set", "k", "v")
	expect(t, pub, int64(1), "publish", "ch", "m1")
	// The push arrives before the reply to the next command.
	if err := sub.Send("get", "k"); err != nil {
		t.Fatal(err)
	}
	expectSeq(t, sub, "[message ch m1]", "v")
}

func TestPubSubGoRedisOrder(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	c := srv.Client(t)
	ps := c.Subscribe(ctx, "events")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	pub := srv.Client(t)
	const n = 2000
	go func() {
		for i := range n {
			pub.Publish(ctx, "events", fmt.Sprint(i))
		}
	}()
	ch := ps.Channel()
	for i := range n {
		select {
		case m := <-ch:
			if m.Payload != fmt.Sprint(i) {
				t.Fatalf("message %d: got %q", i, m.Payload)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("message %d not received", i)
		}
	}
}

func TestSlowSubscriberCutOff(t *testing.T) {
	srv := testutil.Start(t, "client-output-buffer-limit", "pubsub 1mb 256kb 60")
	slow := srv.Raw(t)
	expect(t, slow, "[subscribe flood 1]", "subscribe", "flood")
	// The slow subscriber never reads again. Publish until it is dropped.
	pub := srv.Client(t)
	ctx := context.Background()
	payload := strings.Repeat("x", 64<<10)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	dropped := false
	for i := 0; i < 2000 && !dropped; i++ {
		n, err := pub.Publish(ctx, "flood", payload).Result()
		if err != nil {
			t.Fatal(err)
		}
		dropped = n == 0
	}
	if !dropped {
		t.Fatal("slow subscriber never disconnected")
	}
	testutil.WaitFor(t, 5*time.Second, "subscriber gone", func() bool {
		return pub.PubSubNumSub(ctx, "flood").Val()["flood"] == 0
	})
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grow := int64(after.HeapInuse) - int64(before.HeapInuse); grow > 64<<20 {
		t.Fatalf("heap grew by %d bytes", grow)
	}
}

func TestPubSubManySubscribers(t *testing.T) {
	srv := testutil.Start(t)
	ctx := context.Background()
	const subs = 20
	var wg sync.WaitGroup
	ready := make(chan struct{}, subs)
	got := make([]int, subs)
	for i := range subs {
		c := srv.Client(t)
		ps := c.PSubscribe(ctx, "room.*")
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		ready <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer ps.Close()
			for m := range ps.Channel() {
				if m.Payload == "end" {
					return
				}
				got[i]++
			}
		}()
	}
	pub := srv.Client(t)
	for range 100 {
		if n := pub.Publish(ctx, "room.1", "m").Val(); n != subs {
			t.Fatalf("PUBLISH reached %d, want %d", n, subs)
		}
	}
	pub.Publish(ctx, "room.1", "end")
	wg.Wait()
	for i, n := range got {
		if n != 100 {
			t.Fatalf("subscriber %d got %d messages", i, n)
		}
	}
	_ = redis.Nil
}

func TestPubSubRESP3PushesIgnoreClientReplyOff(t *testing.T) {
	srv := testutil.Start(t)
	sub := srv.Raw(t)
	pub := srv.Raw(t)
	do(t, sub, "hello", "3")
	if err := sub.Send("client", "reply", "off"); err != nil {
		t.Fatal(err)
	}
	expect(t, sub, "[subscribe ch 1]", "subscribe", "ch")
	expect(t, pub, int64(1), "publish", "ch", "m")
	expectSeq(t, sub, "[message ch m]")
	expect(t, sub, "[unsubscribe ch 0]", "unsubscribe", "ch")
}

// A subscriber that falls behind while several connections publish holds
// its backlog in the server (below the output limit) and, once it reads
// again, gets every message, each publisher's in order.
func TestPubSubLaggingSubscriberCatchesUp(t *testing.T) {
	srv := testutil.Start(t)
	sub := srv.Raw(t)
	expect(t, sub, "[subscribe lag 1]", "subscribe", "lag")
	ctx := context.Background()
	const pubs, per = 4, 3000
	payload := strings.Repeat("p", 512) // 4 x 3000 x ~540 B: about 6.5 MB of backlog
	var wg sync.WaitGroup
	for p := range pubs {
		c := srv.Client(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			pipe := c.Pipeline()
			for i := range per {
				pipe.Publish(ctx, "lag", fmt.Sprintf("%d:%d:%s", p, i, payload))
				if i%100 == 99 {
					if _, err := pipe.Exec(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait() // the subscriber has read nothing meanwhile
	next := make([]int, pubs)
	for range pubs * per {
		v, err := sub.Read()
		if err != nil {
			t.Fatal(err)
		}
		m, ok := v.([]any)
		if !ok || len(m) != 3 || m[0] != "message" {
			t.Fatalf("unexpected frame %v", v)
		}
		var p, i int
		if _, err := fmt.Sscanf(m[2].(string), "%d:%d:", &p, &i); err != nil {
			t.Fatal(err)
		}
		if i != next[p] {
			t.Fatalf("publisher %d: message %d arrived, want %d", p, i, next[p])
		}
		next[p]++
	}
}

// TestPubSubNumsubFlatInRESP3: PUBSUB NUMSUB and SHARDNUMSUB answer a flat
// array of channel, count pairs in RESP3 too, as Redis does (a map broke
// redis-py's RESP3 parser).
func TestPubSubNumsubFlatInRESP3(t *testing.T) {
	srv := testutil.Start(t)
	sub := srv.Raw(t)
	expect(t, sub, "[subscribe a 1]", "subscribe", "a")
	expect(t, sub, "[ssubscribe s 1]", "ssubscribe", "s")
	for _, proto := range []int{2, 3} {
		c, err := dialProto(srv.Addr, proto)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, tc := range []struct{ args, want string }{
			{"pubsub numsub a b", `*[$"a" :1 $"b" :0]`},
			{"pubsub numsub", `*[]`},
			{"pubsub shardnumsub s a", `*[$"s" :1 $"a" :0]`},
		} {
			v, err := c.do(strings.Fields(tc.args)...)
			if err != nil || v.String() != tc.want {
				t.Errorf("RESP%d %s: got %v %v, want %s", proto, tc.args, v, err, tc.want)
			}
		}
	}
}
