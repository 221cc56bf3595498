package server_test

import (
	"context"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// TestHostileClients puts the server under three kinds of abuse at once
// and checks that they cost what the limits allow and no more, while a
// well-behaved client keeps its latency:
//   - 1,000 connections that each send half a command and stall: they
//     cost their buffers only, and stay;
//   - one client that pipelines GETs of a 4 KB value without reading the
//     replies (it would send CORVID_HOSTILE_BYTES of commands, 64 MiB by
//     default, 1 GiB for the figures in docs/design.md): closed by client
//     eviction once the replies it owes pass maxmemory-clients;
//   - then one that pipelines as many bytes of SETs without reading the
//     replies: it owes little, so it stays, and costs a read buffer;
//   - one subscriber that reads nothing while 10,000 messages a second
//     are published to it: closed by the pub/sub output limit.
//
// The clients' memory (mem_clients_normal) is sampled throughout and must
// stay near maxmemory-clients; the well-behaved client's p99 must stay
// under 5 ms in the measured run (CORVID_HOSTILE_BYTES set, without the
// race detector, which slows everything several times).
func TestHostileClients(t *testing.T) {
	if testing.Short() {
		t.Skip("takes seconds")
	}
	pipelineBytes := int64(64 << 20)
	// The latency bound is checked in the measured run only, meant for a
	// quiet machine: elsewhere (CI, a busy laptop) the figure is logged.
	measured := os.Getenv("CORVID_HOSTILE_BYTES") != ""
	if v := os.Getenv("CORVID_HOSTILE_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		pipelineBytes = n
	}
	const limit = 64 << 20
	srv := testutil.Start(t, "maxmemory-clients", strconv.Itoa(limit))
	ctx := context.Background()
	admin := controlClient(t, srv)
	value := strings.Repeat("v", 4096)
	for i := 0; i < 1000; i++ {
		admin.Set(ctx, "key:"+strconv.Itoa(i), value, 0)
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)

	// The half commands: a SET whose 10,000-byte value stops halfway.
	half := []byte("*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$10000\r\n" + strings.Repeat("h", 5000))
	stalled := make([]net.Conn, 1000)
	for i := range stalled {
		cn, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		t.Cleanup(func() { cn.Close() })
		if _, err := cn.Write(half); err != nil {
			t.Fatal(err)
		}
		stalled[i] = cn
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup

	// Sampling the clients' memory and the process's heap.
	var peakClients, peakHeap atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if n := infoFieldInt(t, admin, "mem_clients_normal"); n > peakClients.Load() {
				peakClients.Store(n)
			}
			runtime.ReadMemStats(&ms)
			if h := int64(ms.HeapInuse); h > peakHeap.Load() {
				peakHeap.Store(h)
			}
		}
	}()

	// The well-behaved client.
	var lat []time.Duration
	var goodErr error
	good := srv.ClientWith(t, &redis.Options{Protocol: 2, PoolSize: 1})
	good.Ping(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			var err error
			if i%2 == 0 {
				err = good.Get(ctx, "key:"+strconv.Itoa(i%1000)).Err()
			} else {
				err = good.Set(ctx, "good:"+strconv.Itoa(i%100), "x", 0).Err()
			}
			lat = append(lat, time.Since(start))
			if err != nil {
				goodErr = err
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()

	// The subscriber that never reads, and 10,000 messages a second.
	sub := namedRaw(t, srv, "sleeper")
	if _, err := sub.Do("SUBSCRIBE", "news"); err != nil {
		t.Fatal(err)
	}
	pub := srv.ClientWith(t, &redis.Options{Protocol: 2, PoolSize: 1})
	var published atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		msg := strings.Repeat("m", 1000)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			p := pub.Pipeline()
			for i := 0; i < 10; i++ {
				p.Publish(ctx, "news", msg)
			}
			if _, err := p.Exec(ctx); err == nil {
				published.Add(10)
			}
		}
	}()

	// The pipeline that is never read. A connection with a goroutine of its
	// own (TLS, CORVID_IO=goroutines) blocks writing its replies and reads
	// no more: it costs a batch of replies and the sockets' buffers, and
	// stays connected, stalled, until its writes time out here.
	goroutineIO := os.Getenv("CORVID_IO") == "goroutines"
	stall := 30 * time.Second
	if goroutineIO {
		stall = 3 * time.Second
	}
	start := time.Now()
	flood := namedRaw(t, srv, "flood")
	var sent int64
	var floodErr error
	{
		var batch []byte
		for i := 0; len(batch) < 64<<10; i++ {
			batch = append(batch, testutil.Encode("GET", "key:"+strconv.Itoa(i%1000))...)
		}
		for sent < pipelineBytes {
			_ = flood.Conn.SetWriteDeadline(time.Now().Add(stall))
			n, err := flood.Conn.Write(batch)
			sent += int64(n)
			if err != nil {
				floodErr = err
				break
			}
		}
	}
	floodTime := time.Since(start)

	// The same amount of SETs, replies not read either: what they owe is
	// small (+OK each), so the server takes all of it, at the speed it
	// reads, without holding more than a read buffer of it.
	writer := namedRaw(t, srv, "writer")
	var written int64
	wstart := time.Now()
	{
		var batch []byte
		for i := 0; len(batch) < 64<<10; i++ {
			batch = append(batch, testutil.Encode("SET", "w:"+strconv.Itoa(i%100), value)...)
		}
		for written < pipelineBytes {
			_ = writer.Conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
			n, err := writer.Conn.Write(batch)
			written += int64(n)
			if err != nil {
				t.Fatalf("the SET pipeline after %d bytes: %v", written, err)
			}
		}
	}
	writeTime := time.Since(wstart)
	writerMem, _ := clientField(t, admin, "writer", "tot-mem")

	testutil.WaitFor(t, 60*time.Second, "the subscriber to be disconnected", func() bool {
		_, ok := clientField(t, admin, "sleeper", "tot-mem")
		return !ok
	})
	subTime := time.Since(start)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()

	// The flood was closed before it sent everything, by eviction (or, on
	// a goroutine, stalled with little held).
	if floodErr == nil {
		t.Fatalf("the pipeline that is never read sent all %d bytes and is still connected", sent)
	}
	if goroutineIO {
		v, _ := clientField(t, admin, "flood", "tot-mem")
		if n, _ := strconv.ParseInt(v, 10, 64); n > 8<<20 {
			t.Fatalf("the stalled flood client holds %d bytes", n)
		}
	} else {
		if _, ok := clientField(t, admin, "flood", "tot-mem"); ok {
			t.Fatal("the flood client is still listed")
		}
		if n := infoFieldInt(t, admin, "evicted_clients"); n < 1 {
			t.Fatalf("evicted_clients %d", n)
		}
	}
	// The stalled clients are still there, costing their buffers.
	list := admin.ClientList(ctx).Val()
	var stalledMem int64
	nStalled := 0
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, " cmd=NULL ") && strings.Contains(line, " name= ") {
			nStalled++
			for _, kv := range strings.Fields(line) {
				if v, ok := strings.CutPrefix(kv, "tot-mem="); ok {
					n, _ := strconv.ParseInt(v, 10, 64)
					stalledMem += n
				}
			}
		}
	}
	if nStalled != len(stalled) {
		t.Fatalf("%d of the %d stalled connections are listed", nStalled, len(stalled))
	}
	if per := stalledMem / int64(nStalled); per > 48<<10 {
		t.Fatalf("a stalled half command costs %d bytes", per)
	}
	if n, _ := strconv.ParseInt(writerMem, 10, 64); n == 0 || n > 4<<20 {
		t.Fatalf("the SET pipeline's client: tot-mem %q", writerMem)
	}
	if goodErr != nil {
		t.Fatalf("the well-behaved client: %v", goodErr)
	}
	slices.Sort(lat)
	p99 := lat[len(lat)*99/100]
	p50 := lat[len(lat)/2]
	heapGrowth := peakHeap.Load() - int64(base.HeapInuse)
	t.Logf("SET pipeline: %d MiB sent in %v, still connected, tot-mem %s; "+
		"flood: %d MiB sent in %v before it was closed (%v); subscriber closed after %v, %d messages published; "+
		"stalled: %d connections, %d bytes each; peak mem_clients_normal %.1f MiB (limit %d MiB); peak heap growth %.1f MiB; "+
		"well-behaved client: %d requests, p50 %v, p99 %v, max %v",
		written>>20, writeTime.Round(time.Millisecond), writerMem,
		sent>>20, floodTime.Round(time.Millisecond), floodErr, subTime.Round(time.Millisecond), published.Load(),
		nStalled, stalledMem/int64(nStalled), float64(peakClients.Load())/(1<<20), limit>>20, float64(heapGrowth)/(1<<20),
		len(lat), p50, p99, lat[len(lat)-1])
	// Eviction runs before each command and after each read: the total
	// may pass the limit by what one batch adds before it is seen.
	if peak := peakClients.Load(); peak > limit+limit/4 {
		t.Fatalf("mem_clients_normal peaked at %d, limit %d", peak, limit)
	}
	// The heap holds, beside the clients' live buffers (within the limit),
	// the garbage of those closed or drained, which Go's collector lets
	// grow to as much as the live heap (GOGC=100) before it collects.
	if heapGrowth > 2*limit+limit/2 {
		t.Fatalf("the heap grew by %d bytes, with maxmemory-clients %d", heapGrowth, limit)
	}
	if measured && !raceEnabled() && p99 > 5*time.Millisecond {
		t.Fatalf("the well-behaved client's p99 was %v (want < 5ms)", p99)
	}
}

// infoFieldInt reads an integer INFO field through c (-1 if absent).
func infoFieldInt(t *testing.T, c *redis.Client, field string) int64 {
	v := infoLineOf(t, c, "all", field)
	if v == "" {
		return -1
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}
