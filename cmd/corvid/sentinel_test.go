package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Acceptance tests of sentinel mode, end to end with separate processes:
// a primary and two replicas, three sentinels, a sentinel-aware client
// (go-redis's failover client) writing with WAIT, a kill -9 of the
// primary, and the old primary's return. Three mixes show that Corvid
// speaks the protocol both ways: all Corvid; redis-server data nodes
// watched by Corvid sentinels; Corvid data nodes watched by redis-server
// sentinels.

const (
	sentinelMaster = "mymaster"

	// The sentinels' timing: short enough for a test of seconds, long
	// enough for a loaded 2-core CI machine. down-after-milliseconds is
	// 2 s, not 1: after a +switch-master a sentinel (Redis's as Corvid's)
	// counts the new primary's silence from the switch, but reconnects to
	// it no sooner than a ping period (1 s) after its last attempt on the
	// old address, so with 1 s the new primary is now and then found
	// down before it could answer, and failed over a second time (seen
	// with redis-server 7.0's sentinels here). 5 s of failover-timeout is
	// far more than a promotion over loopback takes, and bounds the wait
	// for the failover: the sentinels start one within a second or two of
	// the primary being found down, and a failed election is retried only
	// after 2 × failover-timeout.
	sentinelDownAfter       = 2000 * time.Millisecond
	sentinelFailoverTimeout = 5000 * time.Millisecond

	// waitTimeout is the timeout of each WAIT 1: never 0, which would
	// block for ever while no replica can acknowledge (between the kill
	// and the reconfiguration of the surviving replica).
	waitTimeout = 1000 * time.Millisecond

	sentinelWriters = 4
)

func TestSentinelFailoverAllCorvid(t *testing.T) {
	testSentinelFailover(t, false, false)
}

func TestSentinelFailoverRedisDataCorvidSentinels(t *testing.T) {
	testSentinelFailover(t, true, false)
}

func TestSentinelFailoverCorvidDataRedisSentinels(t *testing.T) {
	testSentinelFailover(t, false, true)
}

// testSentinelFailover is the body of the three variants: redisData runs
// redis-server as the primary and replicas, redisSentinels runs it as the
// sentinels; the rest is the corvid binary.
func testSentinelFailover(t *testing.T, redisData, redisSentinels bool) {
	if testing.Short() {
		t.Skip("runs six server processes and a failover")
	}
	var redisBin string
	if redisData || redisSentinels {
		p, err := exec.LookPath("redis-server")
		if err != nil {
			t.Skip("redis-server is not on PATH")
		}
		redisBin = p
	}
	corvid := buildCorvid(t)
	dataBin, sentBin := corvid, corvid
	if redisData {
		dataBin = redisBin
	}
	if redisSentinels {
		sentBin = redisBin
	}
	ctx := context.Background()
	began := time.Now()
	// On failure (or with SENTINEL_TEST_LOGS set) every process's log.
	var all []*proc
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("SENTINEL_TEST_LOGS") != "" {
			for _, p := range all {
				t.Log(p.dump())
			}
		}
	})

	// 1. A primary and two replicas, both online.
	primary := dataNode(t, "primary", dataBin, redisData, 0)
	all = append(all, primary)
	primary.start(t)
	replicas := []*proc{
		dataNode(t, "replica 1", dataBin, redisData, primary.port),
		dataNode(t, "replica 2", dataBin, redisData, primary.port),
	}
	all = append(all, replicas...)
	for _, r := range replicas {
		r.start(t)
	}
	waitUntil(t, 20*time.Second, "both replicas online", func() (bool, string) {
		info := primary.replication(ctx)
		online := 0
		for _, k := range []string{"slave0", "slave1"} {
			if strings.Contains(info[k], "state=online") {
				online++
			}
		}
		return info["connected_slaves"] == "2" && online == 2, fmt.Sprint(info)
	})

	// 2. Three sentinels, each seeing both replicas and the two others.
	var sentClients []*redis.SentinelClient
	var sentAddrs []string
	for i := range 3 {
		s := sentinelNode(t, fmt.Sprintf("sentinel %d", i+1), sentBin, primary.port)
		all = append(all, s)
		s.start(t)
		sc := redis.NewSentinelClient(&redis.Options{Addr: s.addr(), MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
		t.Cleanup(func() { _ = sc.Close() })
		sentClients = append(sentClients, sc)
		sentAddrs = append(sentAddrs, s.addr())
	}
	waitUntil(t, 30*time.Second, "every sentinel to see 2 replicas and 2 other sentinels", func() (bool, string) {
		var state []string
		ok := true
		for i, sc := range sentClients {
			m, err := sc.Master(ctx, sentinelMaster).Result()
			if err != nil {
				ok = false
				state = append(state, fmt.Sprintf("sentinel %d: %v", i+1, err))
				continue
			}
			state = append(state, fmt.Sprintf("sentinel %d: num-slaves=%s num-other-sentinels=%s flags=%s", i+1, m["num-slaves"], m["num-other-sentinels"], m["flags"]))
			ok = ok && m["num-slaves"] == "2" && m["num-other-sentinels"] == "2" && m["flags"] == "master"
		}
		return ok, strings.Join(state, "; ")
	})
	ready := time.Since(began)
	for i, sc := range sentClients {
		if got := masterAddr(ctx, sc); got != primary.addr() {
			t.Fatalf("sentinel %d: GET-MASTER-ADDR-BY-NAME = %s, want %s", i+1, got, primary.addr())
		}
	}

	// 3. Writers through the failover client: SET then WAIT 1 on the same
	// connection (a pipeline: WAIT counts the acknowledgements of its own
	// connection's writes); a key is acknowledged when WAIT says a
	// replica has it.
	fc := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    sentinelMaster,
		SentinelAddrs: sentAddrs,
		DialTimeout:   time.Second,
		ReadTimeout:   waitTimeout + 2*time.Second,
		WriteTimeout:  time.Second,
	})
	t.Cleanup(func() { _ = fc.Close() })
	var (
		acked, failed, unacked atomic.Int64
		keys                   = make([][]ackedWrite, sentinelWriters) // one slice per writer
		stop                   = make(chan struct{})
		wg                     sync.WaitGroup
	)
	for w := range sentinelWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d:%d", w, i)
				var wait *redis.Cmd
				_, err := fc.Pipelined(ctx, func(p redis.Pipeliner) error {
					p.Set(ctx, key, key, 0)
					wait = p.Do(ctx, "WAIT", 1, waitTimeout.Milliseconds())
					return nil
				})
				if err != nil {
					failed.Add(1)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				n, err := wait.Int64()
				if err != nil || n < 1 {
					unacked.Add(1)
					continue
				}
				keys[w] = append(keys[w], ackedWrite{key, time.Now()})
				acked.Add(1)
			}
		}()
	}
	stopWriters := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopWriters)
	waitUntil(t, 20*time.Second, "200 acknowledged writes before the kill", func() (bool, string) {
		return acked.Load() >= 200, fmt.Sprintf("acked=%d failed=%d unacked=%d", acked.Load(), failed.Load(), unacked.Load())
	})

	// 4. kill -9 the primary; the sentinels must agree on a replica in
	// time, and writes go on there.
	oldAddr := primary.addr()
	killedAt := time.Now()
	primary.kill()
	ackedAtKill := acked.Load()
	var firstSwitch time.Duration
	var ackedAtSwitch int64
	var newAddr string
	waitUntil(t, 30*time.Second, "every sentinel to report the same new primary", func() (bool, string) {
		var addrs []string
		for _, sc := range sentClients {
			a := masterAddr(ctx, sc)
			if a != oldAddr && strings.HasPrefix(a, "127.0.0.1:") && firstSwitch == 0 {
				firstSwitch = time.Since(killedAt)
				ackedAtSwitch = acked.Load()
			}
			addrs = append(addrs, a)
		}
		for _, a := range addrs {
			if a != addrs[0] {
				return false, fmt.Sprint(addrs)
			}
		}
		newAddr = addrs[0]
		return newAddr != oldAddr, fmt.Sprint(addrs)
	})
	allSwitch := time.Since(killedAt)
	if bound := sentinelDownAfter + sentinelFailoverTimeout; firstSwitch > bound {
		t.Errorf("a sentinel first reported the new primary %v after the kill; want at most down-after-milliseconds + failover-timeout = %v", firstSwitch, bound)
	}
	var newPrimary, survivor *proc
	for i, r := range replicas {
		if r.addr() == newAddr {
			newPrimary, survivor = r, replicas[1-i]
		}
	}
	if newPrimary == nil {
		t.Fatalf("the sentinels report %s as the primary, which is neither replica (%s, %s)", newAddr, replicas[0].addr(), replicas[1].addr())
	}
	waitUntil(t, 10*time.Second, newPrimary.name+" to report role:master", func() (bool, string) {
		info := newPrimary.replication(ctx)
		return info["role"] == "master", fmt.Sprint(info)
	})
	waitUntil(t, 20*time.Second, "20 writes acknowledged after the switch", func() (bool, string) {
		return acked.Load() >= ackedAtSwitch+20, fmt.Sprintf("acked=%d (at the switch %d) failed=%d unacked=%d", acked.Load(), ackedAtSwitch, failed.Load(), unacked.Load())
	})
	stopWriters()
	var ackedKeys []string
	ackedAt := map[string]time.Time{}
	afterSwitch := 0
	for _, k := range keys {
		for _, a := range k {
			ackedKeys = append(ackedKeys, a.key)
			ackedAt[a.key] = a.at
			if a.at.Sub(killedAt) > firstSwitch {
				afterSwitch++
			}
		}
	}
	// when tells when missing keys were acknowledged, relative to the kill.
	when := func(missing []string) string {
		var b strings.Builder
		for _, k := range missing[:min(len(missing), 10)] {
			fmt.Fprintf(&b, " %s@%+v", k, ackedAt[k].Sub(killedAt).Round(time.Millisecond))
		}
		return "acknowledged (relative to the kill):" + b.String()
	}
	if missing, err := missingKeys(ctx, newPrimary.client, ackedKeys); err != nil || len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged keys are missing on the new primary %s (%v); %s", len(missing), len(ackedKeys), newPrimary.name, err, when(missing))
	}
	waitUntil(t, 20*time.Second, survivor.name+" to replicate the new primary", func() (bool, string) {
		info := survivor.replication(ctx)
		return isReplicaOf(info, newPrimary.port), fmt.Sprint(info)
	})
	waitUntil(t, 20*time.Second, "every acknowledged key on "+survivor.name, allKeysOn(ctx, survivor.client, ackedKeys, when))

	// 5. Once every sentinel has ended the failover (the leader switches
	// last), the old primary comes back empty, as a primary; the
	// sentinels make it a replica of the new one (Redis waits 4 publish
	// periods after it reports its role, up to a replica's INFO period of
	// 10 s: 10 to 20 s).
	ended := waitUntil(t, 20*time.Second, "every sentinel to end the failover", func() (bool, string) {
		var state []string
		ok := true
		for i, sc := range sentClients {
			m, err := sc.Master(ctx, sentinelMaster).Result()
			if err != nil {
				ok = false
				state = append(state, fmt.Sprintf("sentinel %d: %v", i+1, err))
				continue
			}
			state = append(state, fmt.Sprintf("sentinel %d: %s:%s flags=%s num-slaves=%s config-epoch=%s", i+1, m["ip"], m["port"], m["flags"], m["num-slaves"], m["config-epoch"]))
			// config-epoch 1: one failover, not a second one after it.
			ok = ok && net.JoinHostPort(m["ip"], m["port"]) == newAddr && m["flags"] == "master" && m["num-slaves"] == "2" && m["config-epoch"] == "1"
		}
		return ok, strings.Join(state, "; ")
	})
	primary.start(t)
	converted := waitUntil(t, 30*time.Second, "the old primary to become a replica of the new one", func() (bool, string) {
		info := primary.replication(ctx)
		return isReplicaOf(info, newPrimary.port), fmt.Sprint(info)
	})
	waitUntil(t, 20*time.Second, "every acknowledged key on the old primary", allKeysOn(ctx, primary.client, ackedKeys, when))

	t.Logf("failover: first sentinel reported %s as primary %v after the kill, all three %v after (bound %v)",
		newPrimary.name, firstSwitch.Round(time.Millisecond), allSwitch.Round(time.Millisecond), sentinelDownAfter+sentinelFailoverTimeout)
	t.Logf("writes: %d acknowledged (%d before the kill, %d after the switch), %d failed, %d not acknowledged by WAIT; all on the new primary and both replicas",
		len(ackedKeys), ackedAtKill, afterSwitch, failed.Load(), unacked.Load())
	t.Logf("old primary: a replica of the new one %v after its restart", converted.Round(time.Millisecond))
	t.Logf("phases: %v to start and discover, %v more for every sentinel to end the failover after the checks of the data",
		ready.Round(time.Millisecond), ended.Round(time.Millisecond))
}

// masterAddr is a sentinel's GET-MASTER-ADDR-BY-NAME as host:port (the
// error text when it fails).
func masterAddr(ctx context.Context, sc *redis.SentinelClient) string {
	a, err := sc.GetMasterAddrByName(ctx, sentinelMaster).Result()
	if err != nil {
		return err.Error()
	}
	if len(a) != 2 {
		return fmt.Sprint(a)
	}
	return net.JoinHostPort(a[0], a[1])
}

// isReplicaOf reports whether INFO replication shows a replica of the
// local server on port, with its link up.
func isReplicaOf(info map[string]string, port int) bool {
	return info["role"] == "slave" && info["master_host"] == "127.0.0.1" &&
		info["master_port"] == strconv.Itoa(port) && info["master_link_status"] == "up"
}

// missingKeys returns the keys of want that c lacks or holds with a value
// other than their name (MGET in batches).
func missingKeys(ctx context.Context, c *redis.Client, want []string) ([]string, error) {
	var missing []string
	for len(want) > 0 {
		batch := want[:min(len(want), 1000)]
		want = want[len(batch):]
		vals, err := c.MGet(ctx, batch...).Result()
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			if s, ok := v.(string); !ok || s != batch[i] {
				missing = append(missing, batch[i])
			}
		}
	}
	return missing, nil
}

// allKeysOn is a waitUntil condition: every key of want is on c; the
// state names the missing ones with describe.
func allKeysOn(ctx context.Context, c *redis.Client, want []string, describe func([]string) string) func() (bool, string) {
	return func() (bool, string) {
		missing, err := missingKeys(ctx, c, want)
		if err != nil {
			return false, err.Error()
		}
		if len(missing) == 0 {
			return true, ""
		}
		keyspace, _ := c.Info(ctx, "keyspace").Result()
		return false, fmt.Sprintf("%d of %d missing; %s; INFO keyspace: %q", len(missing), len(want), describe(missing), keyspace)
	}
}

// ackedWrite is a key a replica acknowledged (WAIT 1 returned 1 or more)
// and when.
type ackedWrite struct {
	key string
	at  time.Time
}
