// Package sentinel is Corvid's Redis Sentinel: it watches primaries and
// their replicas, agrees with the other sentinels that a primary is down,
// elects one of them to fail it over, promotes the best replica, points
// the others at it, and tells clients (SENTINEL GET-MASTER-ADDR-BY-NAME,
// the +switch-master event) where the primary now is.
//
// It speaks Redis Sentinel's protocol exactly (the hello messages on
// __sentinel__:hello, SENTINEL IS-MASTER-DOWN-BY-ADDR votes, the
// configuration epochs), so Corvid sentinels, redis-sentinel processes,
// Corvid and redis-server data nodes mix freely, and every sentinel-aware
// client works unmodified. docs/design.md says why the agreement is
// Sentinel's own epoch voting and not a Raft library.
//
// The shape follows Redis's sentinel.c, which defines the semantics:
// a timer (10 to 20 times a second) drives every instance through
// reconnect, periodic commands (PING, INFO, hello), failure detection
// and the failover state machine; replies arrive on the links' reader
// goroutines. One mutex, Sentinel.mu, guards all of the state: the timer,
// the reply callbacks and the SENTINEL command take it in turn, so the
// state machine runs one step at a time as it does in Redis's single
// thread. Nothing blocks on the network while holding it: a link's
// connection dials and writes on goroutines of its own.
package sentinel

import (
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/corvid-db/corvid/internal/config"
)

// Host is the server a sentinel runs in (internal/server in sentinel
// mode): where its events are published and what it announces.
type Host interface {
	// Publish delivers message on channel to this server's subscribers.
	Publish(channel, message string) int
	// Addr and TLSAddr are the listening addresses (nil when absent).
	Addr() net.Addr
	TLSAddr() net.Addr
	// OutgoingTLS is the client TLS configuration for connections to other
	// servers when tls-replication is on; nil otherwise.
	OutgoingTLS() *tls.Config
}

// Logger is the server's log. Levels are filtered by the logger.
type Logger interface {
	Debugf(format string, args ...any)
	Verbosef(format string, args ...any)
	Noticef(format string, args ...any)
	Warningf(format string, args ...any)
}

// Log levels of events, as Redis's LL_* (only warnings run the
// notification script; debug events are not published).
const (
	levelDebug = iota
	levelVerbose
	levelNotice
	levelWarning
)

// Timing parameters, in milliseconds: Redis's defaults, changed by
// SENTINEL DEBUG (for tests).
type timing struct {
	infoPeriod, pingPeriod, askPeriod, publishPeriod int64
	defaultDownAfter, defaultFailoverTimeout         int64
	tiltTrigger, tiltPeriod, slaveReconfTimeout      int64
	minLinkReconnectPeriod, electionTimeout          int64
	scriptMaxRuntime, scriptRetryDelay               int64
}

func defaultTiming() timing {
	return timing{
		infoPeriod: 10000, pingPeriod: 1000, askPeriod: 1000, publishPeriod: 2000,
		defaultDownAfter: 30000, defaultFailoverTimeout: 3 * 60 * 1000,
		tiltTrigger: 2000, tiltPeriod: 30000, slaveReconfTimeout: 10000,
		minLinkReconnectPeriod: 15000, electionTimeout: 10000,
		scriptMaxRuntime: 60000, scriptRetryDelay: 30000,
	}
}

const (
	helloChannel           = "__sentinel__:hello"
	defaultSlavePriority   = 100
	defaultParallelSyncs   = 1
	maxPendingCommands     = 100
	maxDesync              = 1000
	runIDSize              = 40
	simFailureCrashElected = 1 << 0
	simFailureCrashPromote = 1 << 1
)

// Sentinel is the sentinel's whole state. Every field below mu is guarded
// by it.
type Sentinel struct {
	cfg  *config.Config
	log  Logger
	host Host

	mu sync.Mutex

	myid         string
	currentEpoch uint64
	masters      *instances
	tilt         bool
	tiltStart    int64
	previousTime int64
	t            timing

	announceIP          string
	announcePort        int
	simFailure          int
	denyScriptsReconfig bool
	sentinelUser        string
	sentinelPass        string
	resolveHostnames    bool
	announceHostnames   bool

	scripts        []*scriptJob
	runningScripts int

	// queued holds the configuration's sentinel directives until Load
	// applies them (Redis applies them after the whole file is read).
	queued [][]string

	stop    chan struct{}
	stopped chan struct{}
	now     func() int64 // milliseconds; a test may move it
}

// New makes a sentinel and registers the "sentinel" directive with cfg:
// call it before the configuration file is loaded, then Load. log may be
// nil until SetLogger gives the server's.
func New(cfg *config.Config, log Logger) *Sentinel {
	if log == nil {
		log = discardLog{}
	}
	s := &Sentinel{
		cfg:                 cfg,
		log:                 log,
		masters:             newInstances(),
		t:                   defaultTiming(),
		denyScriptsReconfig: true,
		now:                 func() int64 { return time.Now().UnixMilli() },
	}
	s.previousTime = s.now()
	cfg.HandleDirective("sentinel", func(args []string) error {
		if len(args) == 0 {
			return nil // the --sentinel switch of the command line
		}
		s.queued = append(s.queued, append([]string(nil), args...))
		return nil
	})
	return s
}

// SetLogger directs the sentinel's log lines (call before Load).
func (s *Sentinel) SetLogger(log Logger) {
	s.mu.Lock()
	s.log = log
	s.mu.Unlock()
}

type discardLog struct{}

func (discardLog) Debugf(string, ...any)   {}
func (discardLog) Verbosef(string, ...any) {}
func (discardLog) Noticef(string, ...any)  {}
func (discardLog) Warningf(string, ...any) {}

// IsSentinelMode reports whether a process started as argv0 with args
// is a sentinel, as Redis decides: its name contains redis-sentinel, or
// an argument is --sentinel.
func IsSentinelMode(argv0 string, args []string) bool {
	if strings.Contains(filepath.Base(argv0), "redis-sentinel") {
		return true
	}
	for _, a := range args {
		if a == "--sentinel" {
			return true
		}
	}
	return false
}

// preMonitor are the directives applied before "sentinel monitor" lines
// whatever their place in the file, as Redis does, since they affect how
// the monitored addresses are resolved and announced.
var preMonitor = map[string]bool{
	"announce-ip": true, "announce-port": true, "deny-scripts-reconfig": true,
	"sentinel-user": true, "sentinel-pass": true, "current-epoch": true,
	"myid": true, "resolve-hostnames": true, "announce-hostnames": true,
}

// Load applies the queued sentinel directives (pre-monitor ones, then
// monitor, then the rest, as Redis) and checks that the configuration
// file exists and is writable: a sentinel must be able to save its state.
func (s *Sentinel) Load() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.ConfigFile() == "" {
		return fmt.Errorf("Sentinel needs config file on disk to save state. Exiting...")
	}
	if err := checkWritable(s.cfg.ConfigFile()); err != nil {
		return fmt.Errorf("Sentinel config file %s is not writable: %v. Exiting...", s.cfg.ConfigFile(), err)
	}
	var order [3][][]string
	for _, args := range s.queued {
		switch name := strings.ToLower(args[0]); {
		case name == "monitor":
			order[1] = append(order[1], args)
		case preMonitor[name]:
			order[0] = append(order[0], args)
		default:
			order[2] = append(order[2], args)
		}
	}
	s.queued = nil
	for _, group := range order {
		for _, args := range group {
			if msg := s.handleConfig(args); msg != "" {
				return fmt.Errorf("\n*** FATAL CONFIG FILE ERROR ***\n>>> 'sentinel %s'\n%s", strings.Join(args, " "), msg)
			}
		}
	}
	return nil
}

// Start begins monitoring: it picks an ID if the file had none (and saves
// it), logs it, reports +monitor for each primary and starts the timer.
func (s *Sentinel) Start(host Host) {
	s.mu.Lock()
	s.host = host
	if s.myid == "" {
		s.myid = randomHex(runIDSize)
		s.flushConfig()
	}
	s.log.Noticef("Sentinel ID is %s", s.myid)
	for _, m := range s.masters.list {
		s.event(levelWarning, "+monitor", m, "%@ quorum %d", m.quorum)
	}
	s.stop = make(chan struct{})
	s.stopped = make(chan struct{})
	s.previousTime = s.now()
	s.mu.Unlock()
	go s.run()
}

// Stop ends the timer and closes every link.
func (s *Sentinel) Stop() {
	if s.stop == nil {
		return
	}
	close(s.stop)
	<-s.stopped
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.masters.list {
		m.dropLinks()
	}
}

// run is the timer, at 10 to 20 ticks a second like Redis's sentinel
// (its hz is randomized so sentinels do not act in lockstep).
func (s *Sentinel) run() {
	defer close(s.stopped)
	for {
		d := time.Duration(50+rand.IntN(50)) * time.Millisecond
		select {
		case <-s.stop:
			return
		case <-time.After(d):
		}
		s.mu.Lock()
		s.timer()
		s.mu.Unlock()
	}
}

// timer is one step of everything: Redis's sentinelTimer.
func (s *Sentinel) timer() {
	s.checkTilt()
	s.handleMasters()
	s.runPendingScripts()
	s.killTimedOutScripts()
}

func (s *Sentinel) checkTilt() {
	now := s.now()
	delta := now - s.previousTime
	if delta < 0 || delta > s.t.tiltTrigger {
		s.tilt = true
		s.tiltStart = now
		s.event(levelWarning, "+tilt", nil, "#tilt mode entered")
	}
	s.previousTime = now
}

func (s *Sentinel) handleMasters() {
	var switchTo *instance
	for _, m := range s.masters.snapshot() {
		s.handleInstance(m)
		for _, r := range m.slaves.snapshot() {
			s.handleInstance(r)
		}
		for _, o := range m.sentinels.snapshot() {
			s.handleInstance(o)
		}
		if m.failoverState == failoverUpdateConfig {
			switchTo = m
		}
	}
	if switchTo != nil {
		s.switchToPromoted(switchTo)
	}
}

func (s *Sentinel) handleInstance(ri *instance) {
	if ri.removed {
		return
	}
	s.reconnect(ri)
	s.sendPeriodicCommands(ri)
	if s.tilt {
		if s.now()-s.tiltStart < s.t.tiltPeriod {
			return
		}
		s.tilt = false
		s.event(levelWarning, "-tilt", nil, "#tilt mode exited")
	}
	s.checkSubjectivelyDown(ri)
	if ri.flags&fMaster != 0 {
		s.checkObjectivelyDown(ri)
		if s.startFailoverIfNeeded(ri) {
			s.askOtherSentinels(ri, true)
		}
		s.failoverStateMachine(ri)
		s.askOtherSentinels(ri, false)
	}
}

// event logs, publishes and (for warnings about an instance) hands to the
// notification script one event, as Redis's sentinelEvent. A format
// starting with "%@" is prefixed with the instance: "<type> <name> <ip>
// <port>", and for a replica or sentinel "@ <master name> <ip> <port>".
func (s *Sentinel) event(level int, typ string, ri *instance, format string, args ...any) {
	var b strings.Builder
	if strings.HasPrefix(format, "%@") {
		format = format[2:]
		b.WriteString(ri.typeName())
		b.WriteByte(' ')
		b.WriteString(ri.name)
		fmt.Fprintf(&b, " %s %d", s.announceAddr(ri.addr), ri.addr.port)
		if ri.flags&fMaster == 0 && ri.master != nil {
			m := ri.master
			fmt.Fprintf(&b, " @ %s %s %d", m.name, s.announceAddr(m.addr), m.addr.port)
		}
	}
	if format != "" {
		fmt.Fprintf(&b, format, args...)
	}
	msg := b.String()
	switch level {
	case levelDebug:
		s.log.Debugf("%s %s", typ, msg)
	case levelVerbose:
		s.log.Verbosef("%s %s", typ, msg)
	case levelNotice:
		s.log.Noticef("%s %s", typ, msg)
	default:
		s.log.Warningf("%s %s", typ, msg)
	}
	if level != levelDebug && s.host != nil {
		s.host.Publish(typ, msg)
	}
	if level == levelWarning && ri != nil {
		m := ri
		if ri.flags&fMaster == 0 {
			m = ri.master
		}
		if m != nil && m.notificationScript != "" {
			s.scheduleScript(m.notificationScript, typ, msg)
		}
	}
}

// flushConfig saves the state in the configuration file (Redis's
// sentinelFlushConfig); the caller holds mu.
func (s *Sentinel) flushConfig() error {
	if err := s.cfg.RewriteSentinel(s.configLines()); err != nil {
		s.log.Warningf("WARNING: Sentinel was not able to save the new configuration on disk!!!: %v", err)
		return err
	}
	s.log.Noticef("Sentinel new configuration saved on disk")
	return nil
}

func randomHex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[rand.IntN(16)]
	}
	return string(b)
}
