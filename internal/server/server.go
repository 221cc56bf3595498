// Package server is Corvid's network server: listeners, connections,
// pipelining and flushing, the dispatcher that admits and runs commands, the
// client registry, the cron, and shutdown.
//
// # Execution model
//
// Each connection has one goroutine that reads whatever the socket has,
// parses every complete command in that read (arguments are sub-slices of
// the read buffer, nothing is copied), executes them one after the other and
// writes all their replies with a single write. That is the model the
// DESIGN-NOTES measured at 0.92-0.94x redis-server per core; one write per
// reply was 0.13x. There is no global lock: before a handler runs, the
// dispatcher locks the keyspace shards holding the command's keys (found from
// the command table's key specs), in ascending order, and releases them when
// the handler returns, so commands on different keys run on different cores
// while each command stays atomic. Keyless commands that see the whole
// keyspace lock every shard. EXEC (and, later, scripts) locks the union of
// their commands' shards the same way.
//
// Rejected alternatives: shard-owning goroutines (Dragonfly's model) need a
// hand-off between goroutines for almost every command when the connection's
// goroutine does not own the key, which in Go costs two scheduler wake-ups per
// command and lost to the direct-locking design on this 2-core machine; one
// big RWMutex would serialise every write.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/acl"
	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/commands"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/ds/slab"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/scripting"
	"github.com/corvid-db/corvid/internal/tlsconf"
)

// Version is the Redis version Corvid reports, the one whose semantics it follows.
const Version = "7.2.4"

// Server is one Corvid instance.
type Server struct {
	Config *config.Config
	Store  *keyspace.Store
	Table  *command.Table
	Log    *Logger

	acl    *acl.Registry // the users (acl.go)
	aclLog *acl.Log

	tlsConfigs   atomic.Pointer[tlsconf.Configs] // tls.go; nil without TLS
	tlsListeners []net.Listener                  // guarded by listenMu

	listenMu     sync.Mutex
	listeners    []net.Listener // guarded by listenMu
	unixListener net.Listener   // guarded by listenMu
	expirer      *keyspace.ActiveExpirer

	clientsMu sync.Mutex
	clients   map[int64]*Client // guarded by clientsMu
	monitors  []*Client         // guarded by clientsMu
	nmonitors atomic.Int32      // len(monitors), read without the lock on every command
	nextID    atomic.Int64
	nclients  atomic.Int64

	Stats Stats

	errMu        sync.Mutex
	errStats     map[string]int64 // guarded by errMu
	slowlog      slowlog
	latency      latencyMonitor
	adminSt      adminState   // INFO/DEBUG state: run id, peaks, instantaneous metrics
	dirty        atomic.Int64 // keyspace changes since the last save (rdb_changes_since_last_save)
	pause        pauseState
	blocking     blockRegistry // clients waiting in blocking commands (blocking.go)
	ps           pubsubState   // subscriptions (pubsub.go)
	prop         propFeed      // the write stream for replicas (propagate.go)
	lastReplPing atomic.Int64  // Unix ns of the last PING to replicas
	// Off-heap memory of dropped collections returns after a collection
	// (see reclaimOffHeap): reclaimSoon asks the cron for one now.
	reclaimSoon   atomic.Bool
	replica       replicaLink                // our primary, when a replica (replica.go)
	replicaTTL    replicaTTLKeys             // keys clients gave a TTL on a writable replica (replica_expire.go)
	rdb           rdbState                   // RDB persistence (persist.go)
	replSync      replSync                   // replicas waiting for or receiving a snapshot (fullsync.go)
	load          loadState                  // the dataset loading (loading.go)
	runningSnap   atomic.Pointer[bgSnapshot] // the background snapshot being written, for INFO
	saveFiles     saveFiles                  // background saves' temporary files (savefile.go)
	spawnUsec     atomic.Int64               // the last save child's start, for latest_fork_usec
	lastCOW       atomic.Int64               // the last one's copy-on-write bytes
	lastAOFCOW    atomic.Int64               // the same for the last AOF rewrite
	aof           aofState                   // the append-only file (aof.go)
	shutdownSaved atomic.Bool                // SHUTDOWN already saved (or was told not to)
	shutdownAsap  atomic.Bool                // a signal scheduled a shutdown (shutdown.go)
	shutWait      shutdownWait               // a shutdown waiting for its replicas (shutdown.go)
	lastSignal    atomic.Int32
	// WAIT: a channel closed at each replica acknowledgement.
	ackMu         sync.Mutex
	ackCh         chan struct{}
	lastReclaimGC time.Time                // owned by the cron
	lastReleased  int64                    // keyspace.ReleasedObjects at the last one
	tracking      trackingState            // client-side caching (tracking.go)
	sentinel      sentinelState            // the sentinel fronted in sentinel mode (sentinel_mode.go)
	scripts       *scripting.Engine        // EVAL's script cache and Lua VM (script_cmds.go)
	functions     *scripting.Functions     // FUNCTION libraries (function_cmds.go)
	trackMax      config.IntVar            // tracking-table-max-keys
	minReplicas   config.IntVar            // min-replicas-to-write, read by every write
	backlogSize   atomic.Int64             // repl-backlog-size, read by every write to a replica
	psLimits      atomic.Pointer[[9]int64] // client-output-buffer-limit: pubsub, replica, normal (hard, soft, seconds)
	clientMem     clientMemState           // maxmemory-clients (clientmem.go)
	// notifyFlags caches notify-keyspace-events (config.Notify* bits).
	notifyFlags atomic.Int64
	// maxMemory, noEviction and usedMem serve the maxmemory check.
	maxMemory      atomic.Int64
	noEviction     atomic.Bool
	volatilePolicy atomic.Bool // maxmemory-policy volatile-*: only keys with a TTL are evicted
	// Eviction (evict.go): the policy's choice of victim, maxmemory-samples,
	// and the candidate pool (used with every shard locked), which a policy
	// change marks stale.
	evictPolicy    atomic.Int32
	evictSamples   atomic.Int64
	evictPool      evictionPool
	evictPoolStale atomic.Bool
	evictNextDB    int
	usedMem        atomic.Int64
	// memGrowth estimates what writes added since usedMem was sampled (the
	// size of their arguments), so that a burst of writes between two
	// samples cannot overshoot maxmemory by more than an estimate's error.
	memGrowth atomic.Int64
	tx        txState // MULTI/EXEC and the WATCH registry (tx.go)
	startTime time.Time
	lastSave  atomic.Int64

	// SaveChildren makes background saves write their files through a
	// save child (internal/savechild): the program re-executes itself,
	// so it must call savechild.IsChild and savechild.Main first thing
	// in main, as cmd/corvid does. Set before Start.
	SaveChildren bool

	// EphemeralPort makes "port 0" mean "any free port" (embedding and
	// tests) instead of redis-server's "no TCP listener".
	EphemeralPort bool

	// activeExpire can be switched off by DEBUG SET-ACTIVE-EXPIRE.
	activeExpire atomic.Bool

	hz         atomic.Int64
	maxClients atomic.Int64
	timeout    atomic.Int64
	debugCmd   string // enable-debug-command: no, yes or local

	// configSet serialises CONFIG SET and names the command whose hooks
	// are running, so that a hook that needs the keyspace knows whether
	// its caller holds every shard already (CONFIG SET inside EXEC); see
	// configSetHoldsShards.
	configSet struct {
		mu  sync.Mutex
		ctx *command.Ctx // guarded by mu
	}

	// loops are the epoll event loops that serve connections (one per
	// GOMAXPROCS); empty when connections get goroutines of their own.
	loops    []*eventLoop
	nextLoop atomic.Uint64
	// GoroutinePerConn disables the event loops (set before Start); the
	// environment variable CORVID_IO=goroutines does too.
	GoroutinePerConn bool

	shutdownOnce sync.Once
	done         chan struct{}
	wg           sync.WaitGroup
	// ShutdownRequested is closed when SHUTDOWN or a signal asks the process to exit.
	ShutdownRequested chan struct{}
	shutdownReqOnce   sync.Once
}

// Stats are the server-wide counters INFO stats reports.
type Stats struct {
	Connections      atomic.Int64
	Commands         atomic.Int64
	RejectedConns    atomic.Int64
	NetInput         atomic.Int64
	NetOutput        atomic.Int64
	KeyspaceHits     atomic.Int64
	KeyspaceMisses   atomic.Int64
	ErrorReplies     atomic.Int64
	UnexpectedErrors atomic.Int64
	EvictedKeys      atomic.Int64
	IOReads          atomic.Int64
	IOWrites         atomic.Int64
	// SyncFull, SyncPartialOK and SyncPartialErr count the replicas
	// served a full synchronisation, a partial one, and refused one
	// (INFO's sync_full, sync_partial_ok, sync_partial_err).
	SyncFull, SyncPartialOK, SyncPartialErr atomic.Int64
	// Forks counts background snapshots begun (INFO's total_forks: each
	// is where Redis forks), and LatestForkUsec how long the last one
	// held every client to fix its instant, its save child's start
	// included (latest_fork_usec).
	Forks, LatestForkUsec atomic.Int64
}

// New builds a server from a loaded configuration; Start makes it listen.
func New(cfg *config.Config) (*Server, error) {
	s := &Server{
		Config:            cfg,
		Table:             command.NewTable(),
		clients:           map[int64]*Client{},
		errStats:          map[string]int64{},
		done:              make(chan struct{}),
		ShutdownRequested: make(chan struct{}),
		startTime:         time.Now(),
	}
	s.Log = NewLogger(cfg)
	if cfg.SentinelMode() {
		// A sentinel's configuration: the table is a sentinel's from the
		// start, so that rename-command and the users are checked
		// against its commands (SetSentinel completes the switch).
		s.Table.SetSentinelMode()
		s.Log.setRole(sentinelRoleChar)
	}
	ndb := int(cfg.Int("databases"))
	s.Store = keyspace.New(ndb)
	s.expirer = keyspace.NewActiveExpirer(s.Store)
	s.pause.expiryPaused = &s.Store.ExpiryPaused
	s.activeExpire.Store(true)
	s.lastSave.Store(time.Now().Unix())
	// The first PING to replicas a period after the start, as Redis's
	// cron counts its periods from it (not at once for a first replica).
	s.lastReplPing.Store(time.Now().UnixNano())
	commands.Register(s.Table)
	s.registerCommands()
	if err := s.initACL(); err != nil {
		return nil, err
	}
	if err := s.initTLS(); err != nil {
		return nil, err
	}
	if err := s.applyRenames(); err != nil {
		return nil, err
	}
	s.applyConfig()
	s.loadPubsubLimits()
	s.ps.init()
	s.initNotify()
	s.initReplicationConfig()
	s.initPropagation()
	s.trackMax = cfg.IntHandle("tracking-table-max-keys")
	s.minReplicas = cfg.IntHandle("min-replicas-to-write")
	s.rdb.lastBgsaveOK.Store(true)
	s.rdb.lastBgsaveSecs.Store(-1)
	return s, nil
}

// applyRenames applies the configuration's rename-command directives to
// the command table.
func (s *Server) applyRenames() error {
	for _, r := range s.Config.RenamedCommands() {
		if err := s.Table.Rename(r.From, r.To); err != nil {
			e := r.At
			e.Reason = err.Error()
			return &e
		}
	}
	return nil
}

// applyConfig reads the settings the server caches in atomics and
// subscribes to their changes.
func (s *Server) applyConfig() {
	s.hz.Store(min(max(s.Config.Int("hz"), 1), 500))
	s.maxClients.Store(s.Config.Int("maxclients"))
	s.timeout.Store(s.Config.Int("timeout"))
	s.debugCmd = s.Config.String("enable-debug-command")
	s.slowlog.maxLen.Store(s.Config.Int("slowlog-max-len"))
	s.slowlog.slower.Store(s.Config.Int("slowlog-log-slower-than"))
	s.latency.threshold.Store(s.Config.Int("latency-monitor-threshold"))
	s.applyMemoryLimit()
	s.applyClientEvictLimit()
	refresh := func(string) error { s.applyConfigValues(); return nil }
	for _, name := range []string{"hz", "maxclients", "timeout", "slowlog-max-len",
		"slowlog-log-slower-than", "latency-monitor-threshold", "maxmemory", "maxmemory-policy", "maxmemory-samples",
		"lfu-log-factor", "lfu-decay-time", "maxmemory-clients"} {
		s.Config.OnChange(name, refresh)
	}
}

func (s *Server) applyConfigValues() {
	s.hz.Store(min(max(s.Config.Int("hz"), 1), 500))
	s.maxClients.Store(s.Config.Int("maxclients"))
	s.timeout.Store(s.Config.Int("timeout"))
	s.slowlog.maxLen.Store(s.Config.Int("slowlog-max-len"))
	s.slowlog.slower.Store(s.Config.Int("slowlog-log-slower-than"))
	s.latency.threshold.Store(s.Config.Int("latency-monitor-threshold"))
	s.applyMemoryLimit()
	s.applyClientEvictLimit()
	s.slowlog.trim()
}

// applyMemoryLimit lets the Go collector pace itself on maxmemory when one
// is set: the soft limit keeps the heap from doubling past the budget.
func (s *Server) applyMemoryLimit() {
	mm := s.Config.Int("maxmemory")
	if mm > 0 {
		debug.SetMemoryLimit(mm + mm/4)
	}
	s.maxMemory.Store(mm)
	policy, volatile := evictionPolicy(s.Config.Int("maxmemory-policy"))
	if policy != s.evictPolicy.Load() {
		s.evictPoolStale.Store(true)
	}
	s.evictPolicy.Store(policy)
	s.noEviction.Store(policy == policyNoEviction)
	s.volatilePolicy.Store(volatile)
	s.evictSamples.Store(s.Config.Int("maxmemory-samples"))
	s.Store.SetAccessPolicy(policy == policyLFU, s.Config.Int("lfu-log-factor"), s.Config.Int("lfu-decay-time"))
	if s.configSetHoldsShards() {
		// Inside EXEC every shard is held by this goroutine: measure
		// without locking; eviction, which locks shards itself, follows
		// from the cron (Redis too evicts from a time event after CONFIG
		// SET maxmemory).
		if s.maxMemory.Load() > 0 {
			s.memGrowth.Store(0)
			s.usedMem.Store(s.memoryFrom(s.storeBytes(), false).used)
		}
		return
	}
	s.refreshUsedMemory()
	s.evictIfNeeded() // a lowered maxmemory evicts at once
}

// refreshUsedMemory samples used_memory for the maxmemory check (the cron
// does it every tick while a limit is set; measuring per command would
// cost more than the commands).
func (s *Server) refreshUsedMemory() {
	if s.maxMemory.Load() > 0 {
		s.memGrowth.Store(0)
		s.usedMem.Store(s.usedMemoryBytes())
	}
}

// errOOM is Redis's refusal of a denyoom command past maxmemory.
const errOOM = "OOM command not allowed when used memory > 'maxmemory'."

// overMaxMemory reports whether a command that may grow memory must be
// refused: past maxmemory with the noeviction policy, or with another
// policy when eviction (evict.go) could not get under it.
func (s *Server) overMaxMemory() bool {
	mm := s.maxMemory.Load()
	if mm <= 0 {
		return false
	}
	if g := s.memGrowth.Load(); g > 0 && s.usedMem.Load()+g > mm {
		// The writes since the last sample may have crossed the limit:
		// measure before acting on the estimate.
		s.refreshUsedMemory()
	}
	s.evictIfNeeded()
	return s.pastMaxMemory()
}

// pastMaxMemory is overMaxMemory without evicting, for callers that hold
// shard locks (scripts): eviction locks every shard.
func (s *Server) pastMaxMemory() bool {
	mm := s.maxMemory.Load()
	return mm > 0 && s.usedMem.Load() > mm
}

// Start opens the listeners named by bind/port (and unixsocket), loads the
// dataset (the AOF, or dump.rdb; none in sentinel mode) and serves the
// listeners in the background.
func (s *Server) Start() error {
	sentinel := s.SentinelMode()
	if err := s.sentinelReady(); err != nil {
		return err
	}
	if err := s.loadACLFileAtStart(); err != nil {
		return err
	}
	ls, err := s.openListeners()
	if err != nil {
		return err
	}
	tlsLs, err := s.openTLSListeners()
	if err != nil {
		for _, l := range ls {
			_ = l.Close()
		}
		return err
	}
	if len(ls)+len(tlsLs) == 0 {
		return errors.New("no listening sockets")
	}
	// As Redis: the sockets are bound first (a port in use fails at once,
	// not after loading a big dataset), then connections are accepted
	// while the dataset loads, answered -LOADING but for INFO and the
	// like (loading.go). Supervisors (Redis's test harness among them)
	// wait for "Server initialized" after the PID line, and for "Ready to
	// accept connections" once the dataset is in. A sentinel has no
	// dataset and logs neither, as Redis's.
	if !sentinel {
		s.Log.Noticef("Server initialized")
	}
	// As Redis counts its PING period from its start: a replica that
	// continues right after a restart gets no PING before a period.
	s.lastReplPing.Store(time.Now().UnixNano())
	s.load.active.Store(true)
	s.listenMu.Lock()
	s.listeners = ls
	s.tlsListeners = tlsLs
	s.listenMu.Unlock()
	if eventLoopsSupported && !s.GoroutinePerConn && os.Getenv("CORVID_IO") != "goroutines" {
		for i := 0; i < runtime.GOMAXPROCS(0); i++ {
			l, err := newEventLoop(s)
			if err != nil {
				s.Log.Warningf("event loop unavailable, serving connections with goroutines: %v", err)
				break
			}
			s.loops = append(s.loops, l)
			s.wg.Add(1)
			go l.run()
		}
	}
	for _, l := range append(ls[:len(ls):len(ls)], tlsLs...) {
		s.wg.Add(1)
		go s.acceptLoop(l)
	}
	if !sentinel { // a sentinel loads and writes no RDB or AOF
		if err := s.initAOF(); err != nil {
			_ = s.Close()
			return err
		}
	}
	s.endLoading()
	s.Config.OnChange("port", s.applyListeners)
	s.Config.OnChange("client-output-buffer-limit", func(string) error { s.loadPubsubLimits(); return nil })
	s.Config.OnChange("bind", s.applyListeners)
	s.wg.Add(2)
	go s.cron()
	go s.watchdog()
	if len(ls) > 0 && !sentinel {
		s.Log.Noticef("Ready to accept connections tcp")
	}
	if len(tlsLs) > 0 && !sentinel {
		s.Log.Noticef("Ready to accept connections tls")
	}
	// replicaof in the configuration file or on the command line makes the
	// server a replica from the start, as Redis.
	if host, port, ok := s.Config.ReplicaOf(); ok && !sentinel {
		s.startReplication(host, port)
	}
	return nil
}

// bindAddresses is the bind directive's list. Empty (bind "") means no
// TCP listener at all, as in Redis: the server is then reached through
// its unix socket only.
func (s *Server) bindAddresses() []string {
	var out []string
	for _, b := range s.Config.Strings("bind") {
		if b != "" {
			out = append(out, b)
		}
	}
	return out
}

// openListeners opens the TCP listeners for bind/port and the unix socket.
func (s *Server) openListeners() ([]net.Listener, error) {
	var ls []net.Listener
	fail := func(err error) ([]net.Listener, error) {
		for _, l := range ls {
			_ = l.Close()
		}
		return nil, err
	}
	port := s.Config.Int("port")
	binds := s.bindAddresses()
	if port != 0 || s.EphemeralPort {
		for _, b := range binds {
			optional := strings.HasPrefix(b, "-")
			b = strings.TrimPrefix(b, "-")
			host := b
			if b == "*" {
				host = ""
			} else if b == "::*" {
				host = "::"
			}
			l, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
			if err != nil {
				if optional {
					continue
				}
				// Redis's two lines: supervisors (Redis's test harness
				// among them) read "Failed listening on port" to retry
				// on another port.
				s.Log.Warningf("Warning: Could not create server TCP listening socket %s:%d: %s", b, port, listenErrorText(err))
				return fail(fmt.Errorf("Failed listening on port %d (tcp), aborting.", port))
			}
			ls = append(ls, l)
			if port == 0 {
				// The first listener picked a free port; the others share it.
				port = int64(l.Addr().(*net.TCPAddr).Port)
				_ = s.Config.LoadString(fmt.Sprintf("port %d", port))
			}
		}
	}
	if path := s.Config.String("unixsocket"); path != "" && s.unixListener == nil {
		_ = os.Remove(path)
		l, err := net.Listen("unix", path)
		if err != nil {
			return fail(fmt.Errorf("Failed opening Unix socket: %w", err))
		}
		if perm := s.Config.Int("unixsocketperm"); perm != 0 {
			_ = os.Chmod(path, os.FileMode(perm))
		}
		s.unixListener = l
		ls = append(ls, l)
	}
	return ls, nil
}

// Addr returns the first listener's address.
func (s *Server) Addr() net.Addr {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	if len(s.listeners) == 0 {
		if len(s.tlsListeners) > 0 {
			return s.tlsListeners[0].Addr() // TLS only (port 0)
		}
		return nil
	}
	return s.listeners[0].Addr()
}

func (s *Server) closeListeners() {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	for _, l := range s.listeners {
		_ = l.Close()
	}
	for _, l := range s.tlsListeners {
		_ = l.Close()
	}
}

func (s *Server) acceptLoop(l net.Listener) {
	defer s.wg.Done()
	for {
		conn, err := l.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		s.Stats.Connections.Add(1)
		raw := conn
		if tc, ok := conn.(*tls.Conn); ok {
			raw = tc.NetConn() // served by a goroutine: the handshake happens on its first read
		}
		if tc, ok := raw.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true)
			if ka := s.Config.Int("tcp-keepalive"); ka > 0 {
				_ = tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: time.Duration(ka) * time.Second, Interval: time.Duration(ka/3+1) * time.Second, Count: 3})
			}
		}
		if max := s.maxClients.Load(); max > 0 && s.nclients.Load() >= max {
			s.Stats.RejectedConns.Add(1)
			refuseConn(conn, "-"+command.ErrMaxClients+"\r\n")
			continue
		}
		if s.deniedByProtectedMode(conn) {
			refuseConn(conn, protectedModeDenied)
			continue
		}
		c := s.newClient(conn)
		if len(s.loops) > 0 {
			l := s.loops[s.nextLoop.Add(1)%uint64(len(s.loops))]
			if err := l.adopt(c); err == nil {
				continue
			}
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c.serve()
		}()
	}
}

// refuseConn answers a connection refused at accept time and closes it.
// A TLS connection must complete its handshake first, which a client can
// stall: it is answered on a goroutine of its own, within a deadline, so
// that the accept loop never waits for a client.
func refuseConn(conn net.Conn, reply string) {
	if _, ok := conn.(*tls.Conn); !ok {
		_, _ = conn.Write([]byte(reply))
		_ = conn.Close()
		return
	}
	go func() {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = conn.Write([]byte(reply))
		_ = conn.Close()
	}()
}

// protectedModeDenied is Redis's reply to a remote client in protected mode.
const protectedModeDenied = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"

// deniedByProtectedMode applies Redis 7's protected mode: with no password
// for the default user, only loopback and unix-socket clients are accepted.
func (s *Server) deniedByProtectedMode(conn net.Conn) bool {
	if !s.Config.Bool("protected-mode") || !s.acl.Default().User().NoPass() {
		return false
	}
	ta, ok := conn.RemoteAddr().(*net.TCPAddr)
	return ok && !ta.IP.IsLoopback()
}

// cron is Redis's serverCron: clocks, active expiry, idle timeouts.
func (s *Server) cron() {
	defer s.wg.Done()
	for {
		hz := s.hz.Load()
		select {
		case <-s.done:
			return
		case <-time.After(time.Second / time.Duration(hz)):
		}
		if s.admin().pauseCron.Load() {
			continue
		}
		tickStart := time.Now()
		s.Store.UpdateLRUClock()
		s.adminCron()
		s.refreshUsedMemory()
		// Eviction cut short by its time budget goes on here, as Redis's
		// evictionTimeProc does, even when no command comes to trigger it.
		s.evictIfNeeded()
		// A replica leaves expiry to its primary, whose DELs it applies,
		// as Redis's replicas do: expiring on its own clock could delete
		// a key the primary's next command still finds.
		if s.activeExpire.Load() && !s.pause.blocksExpiry() && !s.replica.active.Load() {
			start := time.Now()
			s.expirer.Cycle(int(hz), int(s.Config.Int("active-expire-effort")))
			// Hash fields with TTLs: Redis's budget of 10,000 fields a second.
			commands.ExpireHashFields(s.Store, time.Now().UnixMilli(), max(1, 10000/int(hz)))
			s.latency.add("expire-cycle", time.Since(start))
		} else if s.activeExpire.Load() && s.replica.active.Load() {
			s.expireReplicaKeys(2 * time.Millisecond)
		}
		s.pause.expire()
		s.replicationCron(time.Now())
		s.fullSyncCron(time.Now())
		s.syncKeepAlive(time.Now())
		s.shutdownCron()
		s.saveCron(time.Now())
		s.aofCron(time.Now())
		s.reclaimOffHeap(time.Now())
		s.clientsCron()
		s.limitTrackingTable(s.trackMax.Load())
		if s.tracking.pendingBcast.Load() {
			s.broadcastInvalidations()
		}
		for _, l := range s.loops {
			l.wake() // idle loops run their own cron too
		}
		s.admin().cronNanos.Add(int64(time.Since(tickStart)))
	}
}

// clientsCron is the per-connection part of Redis's clientsCron, in one
// walk over the clients: the idle timeout, the subscribers' soft output
// limit (checked as output is queued, and here for those to whom nothing
// more comes), and each connection's share of the client memory (pushes
// add to it without counting while client eviction is off). It then
// evicts if the clients' memory is over maxmemory-clients.
func (s *Server) clientsCron() {
	to := s.timeout.Load()
	now := time.Now().Unix()
	var over []*Client
	s.clientsMu.Lock()
	for _, c := range s.clients {
		s.recountClient(c)
		in, out := c.bufferUsage()
		s.clientMem.notePeaks(now, in, out)
		if to > 0 && now-c.lastInteraction.Load() > to && !c.isMonitor.Load() && !c.blocked.Load() {
			c.Kill()
			continue
		}
		if c.nsub.Load()+c.npsub.Load()+c.nssub.Load() == 0 || c.isReplica.Load() {
			continue
		}
		c.asyncMu.Lock()
		// Also starts the soft limit's clock: output that passed it on
		// its way to the socket, with nothing queued since, is seen here.
		if c.overOutputLimit(len(c.asyncOut) + c.inbox.size() + int(c.outQueued.Load())) {
			over = append(over, c)
		}
		c.asyncMu.Unlock()
	}
	s.clientsMu.Unlock()
	for _, c := range over {
		c.killForOutputLimit()
	}
	if s.clientsOverLimit() {
		s.evictClients(false)
	}
}

// RequestShutdown asks the process embedding the server to shut down (as
// SHUTDOWN does); the embedding program decides how to exit.
func (s *Server) RequestShutdown() {
	s.shutdownReqOnce.Do(func() { close(s.ShutdownRequested) })
}

// stopServing is the first step of an exit: a background save, rewrite
// or transfer stops, as Redis's children are killed, rather than keep the
// exit waiting, and then the ports close. As in Redis, the saves'
// temporary files are gone by then, and the ports are closed before the
// client that asked for the shutdown is disconnected: a client that sees
// either may look for the other.
func (s *Server) stopServing() {
	s.Store.CancelSnapshot()
	s.killSaveChildren()
	s.closeListeners()
}

// Close stops accepting, disconnects every client and waits for their goroutines.
func (s *Server) Close() error {
	s.shutdownOnce.Do(func() {
		close(s.done)
		s.stopServing()
		s.clientsMu.Lock()
		for _, c := range s.clients {
			c.Kill()
		}
		s.clientsMu.Unlock()
		s.pause.unpauseAll()
		for _, l := range s.loops {
			l.wake()
		}
		s.wg.Wait()
		commands.CloseMigrateSockets(s.Store)
		if path := s.Config.String("unixsocket"); path != "" {
			_ = os.Remove(path)
		}
	})
	return nil
}

// Shutdown is Close with Redis's shutdown log lines.
func (s *Server) Shutdown(ctx context.Context) error {
	s.Log.Warningf("User requested shutdown...")
	if s.loadingDataset() {
		// A replica loading its primary's RDB holds the dataset until the
		// transfer ends: its link is cut, so that the load fails and lets
		// go, and the partial dataset is not saved.
		s.shutdownSaved.Store(true)
		s.replica.mu.Lock()
		if c := s.replica.conn; c != nil {
			_ = c.Close()
		}
		s.replica.mu.Unlock()
	}
	s.Store.LockAll()
	s.stopAOF() // written and fsynced
	s.Store.UnlockAll()
	if !s.shutdownSaved.Load() {
		// A signal: save as Redis does when save points are set.
		if err := s.saveOnShutdown(false, nil); err != nil {
			s.Log.Warningf("Error trying to save the DB, can't exit: %v", err)
		}
	}
	err := s.Close()
	if s.SentinelMode() {
		s.Log.Warningf("Sentinel is now ready to exit, bye bye...")
	} else {
		s.Log.Warningf("Redis is now ready to exit, bye bye...")
	}
	return err
}

// countError records an error reply for INFO errorstats.
func (s *Server) countError(msg []byte) {
	s.Stats.ErrorReplies.Add(1)
	prefix := msg
	for i, b := range msg {
		if b == ' ' {
			prefix = msg[:i]
			break
		}
	}
	if len(prefix) > 64 {
		prefix = prefix[:64]
	}
	s.errMu.Lock()
	if _, ok := s.errStats[string(prefix)]; !ok && len(s.errStats) >= 128 {
		// Redis stops tracking new error kinds past 128 to bound memory.
		s.errMu.Unlock()
		return
	}
	s.errStats[string(prefix)]++
	s.errMu.Unlock()
}

func numGoroutines() int { return runtime.NumGoroutine() }

// reclaimOffHeap makes dropped big collections give their memory back.
// Sorted-set leaves and stream nodes live off the Go heap and are freed
// by a cleanup once their collection is unreachable, which only a garbage
// collection finds out; and with most of the dataset off the heap, the
// heap itself grows too slowly to trigger collections often. So after a
// FLUSHALL or FLUSHDB, and at most once a second after collections left
// the keyspace while more than 64 MiB is off the heap, the cron starts
// one. A server that only reads never pays for it.
func (s *Server) reclaimOffHeap(now time.Time) {
	soon := s.reclaimSoon.Swap(false)
	released := keyspace.ReleasedObjects()
	if !soon && (released == s.lastReleased || now.Sub(s.lastReclaimGC) < time.Second || slab.SharedInUse() < 64<<20) {
		return
	}
	s.lastReclaimGC, s.lastReleased = now, released
	go runtime.GC()
}

// listenErrorText renders a failed listen as Redis's anet does: the system
// call and the C library's text ("bind: Address already in use").
func listenErrorText(err error) string {
	var se *os.SyscallError
	if !errors.As(err, &se) {
		return err.Error()
	}
	msg := se.Err.Error()
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return se.Syscall + ": " + msg
}
