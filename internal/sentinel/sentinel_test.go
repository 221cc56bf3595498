package sentinel

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/resp"
)

type testLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *testLog) add(f string, a ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(f, a...))
	l.mu.Unlock()
}
func (l *testLog) Debugf(f string, a ...any)   { l.add(f, a...) }
func (l *testLog) Verbosef(f string, a ...any) { l.add(f, a...) }
func (l *testLog) Noticef(f string, a ...any)  { l.add(f, a...) }
func (l *testLog) Warningf(f string, a ...any) { l.add(f, a...) }

type testHost struct{ published []string }

func (h *testHost) Publish(ch, msg string) int {
	h.published = append(h.published, ch+" "+msg)
	return 0
}
func (h *testHost) Addr() net.Addr           { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 26379} }
func (h *testHost) TLSAddr() net.Addr        { return nil }
func (h *testHost) OutgoingTLS() *tls.Config { return nil }
func (h *testHost) events(typ string) (n int) {
	for _, p := range h.published {
		if strings.HasPrefix(p, typ+" ") {
			n++
		}
	}
	return n
}

// newTestSentinel loads conf (a sentinel.conf) and returns the sentinel
// with a fake clock at 1,000,000 ms, not started (no timer, no links:
// tests drive it by hand).
func newTestSentinel(t *testing.T, conf string) (*Sentinel, *testHost, *int64, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sentinel.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.New()
	s := New(cfg, &testLog{})
	if err := cfg.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	clock := int64(1_000_000)
	s.now = func() int64 { return clock }
	h := &testHost{}
	s.host = h
	if s.myid == "" {
		s.myid = strings.Repeat("a", 40)
	}
	return s, h, &clock, path
}

// run runs a SENTINEL command and returns the RESP2 reply text.
func run(s *Sentinel, args ...string) string {
	c := &command.Ctx{W: &resp.Writer{}}
	for _, a := range append([]string{"sentinel"}, args...) {
		c.Args = append(c.Args, []byte(a))
	}
	s.Command(c)
	return string(c.W.Buf)
}

func TestConfigRewriteKeepsLayout(t *testing.T) {
	conf := "# assume master is down after being unresponsive for 20s\n" +
		"sentinel down-after-milliseconds setmaster 20000\n" +
		"# reconfigure one slave at a time\n" +
		"sentinel parallel-syncs setmaster 2\n" +
		"# wait for 4m before assuming failover went wrong\n" +
		"sentinel failover-timeout setmaster 240000\n" +
		"# monitoring set\n" +
		"sentinel monitor setmaster 10.0.0.1 30000 2\n\nport 26379\n"
	s, _, _, path := newTestSentinel(t, conf)
	if got := run(s, "flushconfig"); got != "+OK\r\n" {
		t.Fatalf("flushconfig: %q", got)
	}
	data, _ := os.ReadFile(path)
	got := strings.Split(string(data), "\n")
	want := strings.Split(conf, "\n")
	// The lines up to the first empty one stay where and as they were.
	for i, l := range want {
		if l == "" {
			break
		}
		if got[i] != l {
			t.Fatalf("line %d: %q, want %q\n%s", i, got[i], l, data)
		}
	}
	for _, l := range []string{"sentinel myid " + s.myid, "sentinel config-epoch setmaster 0", "sentinel current-epoch 0", "port 26379"} {
		if !strings.Contains(string(data), l+"\n") {
			t.Errorf("missing %q in\n%s", l, data)
		}
	}
	// And it loads back to the same state.
	s2, _, _, _ := newTestSentinel(t, string(data))
	m := s2.masters.get("setmaster")
	if m == nil || m.downAfter != 20000 || m.parallelSyncs != 2 || m.failoverTimeout != 240000 || m.quorum != 2 || s2.myid != s.myid {
		t.Fatalf("reloaded: %+v myid %s", m, s2.myid)
	}
}

func TestConfigErrors(t *testing.T) {
	for conf, want := range map[string]string{
		"sentinel monitor m 127.0.0.1 6379 0":                                      "Quorum must be 1 or greater.",
		"sentinel down-after-milliseconds nope 10":                                 "No such master with specified name.",
		"sentinel monitor m not-an-ip 6379 2":                                      "Can't resolve instance hostname.",
		"sentinel monitor m 127.0.0.1 6379 2\nsentinel monitor m 127.0.0.1 6380 2": "Duplicate master name.",
		"sentinel myid abc":                                                        "Malformed Sentinel id in myid option.",
		"sentinel bogus 1":                                                         "Unrecognized sentinel configuration statement.",
	} {
		path := filepath.Join(t.TempDir(), "s.conf")
		os.WriteFile(path, []byte(conf+"\n"), 0o644)
		cfg := config.New()
		s := New(cfg, &testLog{})
		err := cfg.LoadFile(path)
		if err == nil {
			err = s.Load()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", conf, err, want)
		}
	}
}

// addReplica makes a healthy replica of m with the given priority, offset
// and run ID, as if its INFO had just been read.
func addReplica(t *testing.T, s *Sentinel, m *instance, port, prio int, offset uint64, runid string) *instance {
	t.Helper()
	r, err := s.createInstance("", fSlave, "127.0.0.1", port, m.quorum, m)
	if err != nil {
		t.Fatal(err)
	}
	r.link.disconnected = false
	r.link.lastAvail = s.now()
	r.infoRefresh = s.now()
	r.slavePriority = prio
	r.slaveReplOffset = offset
	r.runid = runid
	return r
}

func TestSelectSlave(t *testing.T) {
	s, _, clock, _ := newTestSentinel(t, "sentinel monitor m 127.0.0.1 6379 2\n")
	m := s.masters.get("m")
	a := addReplica(t, s, m, 7001, 100, 500, "b")
	b := addReplica(t, s, m, 7002, 100, 900, "c")
	c := addReplica(t, s, m, 7003, 50, 10, "d")
	d := addReplica(t, s, m, 7004, 100, 900, "a")
	if got := s.selectSlave(m); got != c {
		t.Fatalf("lowest priority first: got %s", got.name)
	}
	c.slavePriority = 0 // never promoted
	if got := s.selectSlave(m); got != d {
		t.Fatalf("then the largest offset, then the smallest run ID: got %s", got.name)
	}
	d.link.disconnected = true
	if got := s.selectSlave(m); got != b {
		t.Fatalf("disconnected skipped: got %s", got.name)
	}
	*clock += 60_000 // no INFO for a minute: none is fresh enough
	if got := s.selectSlave(m); got != nil {
		t.Fatalf("stale replicas selected: %s", got.name)
	}
	_ = a
}

func TestVoteOncePerEpoch(t *testing.T) {
	s, h, _, _ := newTestSentinel(t, "sentinel monitor m 127.0.0.1 6379 2\n")
	m := s.masters.get("m")
	leader, epoch := s.voteLeader(m, 5, "x")
	if leader != "x" || epoch != 5 || s.currentEpoch != 5 {
		t.Fatalf("first vote: %s %d (current %d)", leader, epoch, s.currentEpoch)
	}
	if leader, epoch = s.voteLeader(m, 5, "y"); leader != "x" || epoch != 5 {
		t.Fatalf("second request of the same epoch got the vote: %s %d", leader, epoch)
	}
	if leader, epoch = s.voteLeader(m, 6, "y"); leader != "y" || epoch != 6 {
		t.Fatalf("newer epoch: %s %d", leader, epoch)
	}
	if h.events("+vote-for-leader") != 2 || h.events("+new-epoch") != 2 {
		t.Fatalf("events: %v", h.published)
	}
	// IS-MASTER-DOWN-BY-ADDR answers with the vote.
	if got := run(s, "is-master-down-by-addr", "127.0.0.1", "6379", "7", "z"); got != "*3\r\n:0\r\n$1\r\nz\r\n:7\r\n" {
		t.Fatalf("is-master-down-by-addr: %q", got)
	}
}

func TestLeaderNeedsMajorityAndQuorum(t *testing.T) {
	s, _, _, _ := newTestSentinel(t, "sentinel monitor m 127.0.0.1 6379 2\n")
	m := s.masters.get("m")
	m.flags |= fODown
	var others []*instance
	for i, id := range []string{"s1", "s2", "s3", "s4"} {
		o, err := s.createInstance(strings.Repeat(id, 20), fSentinel, "127.0.0.1", 27000+i, 2, m)
		if err != nil {
			t.Fatal(err)
		}
		others = append(others, o)
	}
	s.currentEpoch = 3
	// Five voters: we vote for ourselves; one other agrees: 2 < 3.
	others[0].leader, others[0].leaderEpoch = s.myid, 3
	if w := s.getLeader(m, 3); w != "" {
		t.Fatalf("elected without a majority: %s", w)
	}
	others[1].leader, others[1].leaderEpoch = s.myid, 3
	if w := s.getLeader(m, 3); w != s.myid {
		t.Fatalf("3 of 5 votes: got %q", w)
	}
}

func TestHelloDiscoversAndSwitches(t *testing.T) {
	s, h, _, _ := newTestSentinel(t, "sentinel monitor m 127.0.0.1 6379 2\n")
	m := s.masters.get("m")
	other := strings.Repeat("b", 40)
	s.processHello("127.0.0.1,26380," + other + ",0,m,127.0.0.1,6379,0")
	if m.sentinels.len() != 1 || h.events("+sentinel") != 1 {
		t.Fatalf("sentinel not discovered: %v", h.published)
	}
	// A newer configuration epoch with another address: switch to it.
	s.processHello("127.0.0.1,26380," + other + ",4,m,127.0.0.1,6380,4")
	if m.addr.port != 6380 || m.configEpoch != 4 || s.currentEpoch != 4 {
		t.Fatalf("no switch: port %d epoch %d current %d", m.addr.port, m.configEpoch, s.currentEpoch)
	}
	if h.events("+switch-master") != 1 || h.events("+config-update-from") != 1 {
		t.Fatalf("events: %v", h.published)
	}
	// The old primary is now a known replica.
	if m.slaves.get("127.0.0.1:6379") == nil {
		t.Fatal("old primary not kept as a replica")
	}
	if got := run(s, "get-master-addr-by-name", "m"); got != "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n" {
		t.Fatalf("get-master-addr-by-name: %q", got)
	}
	// The same run ID at a new address replaces the old entry.
	s.processHello("127.0.0.1,26390," + other + ",4,m,127.0.0.1,6380,4")
	if m.sentinels.len() != 1 || m.sentinels.list[0].addr.port != 26390 {
		t.Fatalf("address switch: %d sentinels", m.sentinels.len())
	}
}

func TestDownDetection(t *testing.T) {
	s, h, clock, _ := newTestSentinel(t, "sentinel monitor m 127.0.0.1 6379 2\nsentinel down-after-milliseconds m 1000\n")
	m := s.masters.get("m")
	m.link.disconnected = false
	m.link.actPing = *clock
	s.checkSubjectivelyDown(m)
	if m.flags&fSDown != 0 {
		t.Fatal("down at once")
	}
	*clock += 1500
	s.checkSubjectivelyDown(m)
	if m.flags&fSDown == 0 || h.events("+sdown") != 1 {
		t.Fatalf("not subjectively down: %v", h.published)
	}
	s.checkObjectivelyDown(m)
	if m.flags&fODown != 0 {
		t.Fatal("objectively down with one vote of quorum 2")
	}
	o, _ := s.createInstance(strings.Repeat("c", 40), fSentinel, "127.0.0.1", 26381, 2, m)
	o.flags |= fMasterDown
	s.checkObjectivelyDown(m)
	if m.flags&fODown == 0 || h.events("+odown") != 1 {
		t.Fatalf("not objectively down: %v", h.published)
	}
	// A valid PING reply ends it.
	s.pingReply(m, &resp.Reply{Kind: '+', Str: "PONG"})
	s.checkSubjectivelyDown(m)
	o.flags &^= fMasterDown
	s.checkObjectivelyDown(m)
	if m.flags&(fSDown|fODown) != 0 || h.events("-sdown") != 1 || h.events("-odown") != 1 {
		t.Fatalf("still down: %v", h.published)
	}
}

func TestInfoDiscoversReplicasAndPromotion(t *testing.T) {
	s, h, clock, _ := newTestSentinel(t, "sentinel monitor m 127.0.0.1 6379 2\n")
	m := s.masters.get("m")
	info := "# Replication\r\nrole:master\r\nconnected_slaves:2\r\nslave0:ip=127.0.0.1,port=7001,state=online,offset=10,lag=0\r\nslave1:ip=127.0.0.1,port=7002,state=online,offset=10,lag=0\r\nrun_id:" + strings.Repeat("1", 40) + "\r\n"
	s.refreshInfo(m, info)
	if m.slaves.len() != 2 || h.events("+slave") != 2 {
		t.Fatalf("replicas not discovered: %v", h.published)
	}
	r := m.slaves.get("127.0.0.1:7001")
	s.refreshInfo(r, "role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:6379\r\nmaster_link_status:up\r\nslave_repl_offset:10\r\nslave_priority:100\r\nrun_id:"+strings.Repeat("2", 40)+"\r\n")
	if !r.slaveMasterLinkUp || r.slaveReplOffset != 10 || r.slaveMasterPort != 6379 {
		t.Fatalf("replica info: %+v", r)
	}
	// During a failover waiting for r's promotion, r reporting itself a
	// primary moves the failover to reconfiguring the others.
	m.flags |= fFailoverInProgress
	m.failoverState = failoverWaitPromotion
	m.failoverEpoch = 3
	m.promoted = r
	r.flags |= fPromoted
	*clock += 100
	s.refreshInfo(r, "role:master\r\nrun_id:"+strings.Repeat("2", 40)+"\r\n")
	if m.failoverState != failoverReconfSlaves || m.configEpoch != 3 || h.events("+promoted-slave") != 1 {
		t.Fatalf("promotion not seen: state %d %v", m.failoverState, h.published)
	}
	if a := m.currentMasterAddress(); a.port != 7001 {
		t.Fatalf("current address %d", a.port)
	}
}

func TestCommandErrors(t *testing.T) {
	s, _, _, _ := newTestSentinel(t, "sentinel monitor m 127.0.0.1 6379 2\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"master", "nope"}, "-ERR No such master with that name\r\n"},
		{[]string{"set", "m", "down-after-milliseconds", "-20"}, "-ERR Invalid argument '-20' for SENTINEL SET 'down-after-milliseconds'\r\n"},
		{[]string{"set", "m", "fakeoption", "fakevalue"}, "-ERR Unknown option or number of arguments for SENTINEL SET 'fakeoption'\r\n"},
		{[]string{"set", "m", "notification-script", "test.txt"}, "-ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration\r\n"},
		{[]string{"config", "set", "bogus", "1"}, "-ERR Invalid argument 'bogus' to SENTINEL CONFIG SET\r\n"},
		{[]string{"config", "set", "announce-port", "70000"}, "-ERR Invalid value '70000' to SENTINEL CONFIG SET 'announce-port'\r\n"},
		{[]string{"config", "set", "loglevel", "debug", "loglevel", "notice"}, "-ERR Duplicate argument 'loglevel' to SENTINEL CONFIG SET\r\n"},
		{[]string{"config", "set", "resolve-hostnames", "yes", "announce-ip"}, "-ERR Missing argument 'announce-ip' value\r\n"},
		{[]string{"debug", "info-period", "0"}, "-ERR Invalid argument '0' for SENTINEL DEBUG 'info-period'\r\n"},
		{[]string{"failover", "m"}, "-NOGOODSLAVE No suitable replica to promote\r\n"},
		{[]string{"ckquorum", "m"}, "-NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master\r\n"},
		{[]string{"monitor", "m", "127.0.0.1", "6379", "2"}, "-ERR Duplicate master name.\r\n"},
		{[]string{"simulate-failure", "help"}, "*2\r\n$20\r\ncrash-after-election\r\n$21\r\ncrash-after-promotion\r\n"},
		{[]string{"get-master-addr-by-name", "nope"}, "*-1\r\n"},
	} {
		if got := run(s, tc.args...); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.args, got, tc.want)
		}
	}
	if got := run(s, "config", "get", "announce-*"); !strings.Contains(got, "announce-hostnames") || !strings.Contains(got, "announce-port") {
		t.Errorf("config get pattern: %q", got)
	}
	// SENTINEL MASTER fields are in Redis's order: num-other-sentinels
	// at index 32 (its value at 33).
	got := run(s, "master", "m")
	r, err := resp.ReadReply(newReader(got))
	if err != nil || len(r.Elems) < 34 || r.Elems[32].Str != "num-other-sentinels" {
		t.Fatalf("master reply: %q", got)
	}
}

func newReader(s string) *bufioReader { return newBufioReader(s) }

type bufioReader = bufio.Reader

func newBufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

// FuzzSentinelInput: hello messages and SENTINEL commands from anyone
// (the hello channel is writable by any client of a monitored server)
// never crash the sentinel.
func FuzzSentinelInput(f *testing.F) {
	f.Add("127.0.0.1,26380,"+strings.Repeat("b", 40)+",3,m,127.0.0.1,6380,3", "set m quorum 2")
	f.Add("x,y,z,w,m,,-1,99999999999999999999", "is-master-down-by-addr 127.0.0.1 6379 5 abc")
	f.Add("", "debug info-period 100 ping-period")
	f.Add("::1,0,id,0,m,::1,65536,0", "config set announce-ip \"\" announce-port 0")
	f.Fuzz(func(t *testing.T, hello, cmd string) {
		s, _, _, _ := newTestSentinel(t, "sentinel monitor m 127.0.0.1 6379 2\n")
		s.processHello(hello)
		args := strings.Fields(cmd)
		if len(args) == 0 || strings.EqualFold(args[0], "simulate-failure") || strings.EqualFold(args[0], "flushconfig") {
			return
		}
		run(s, args...)
		// One step of the state machine over whatever was learned, under
		// the lock as the timer takes it (links dial on their own).
		s.mu.Lock()
		s.timer()
		for _, m := range s.masters.list {
			m.dropLinks()
		}
		s.mu.Unlock()
	})
}
