package sentinel

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Instance flags, as Redis's SRI_*.
type flags uint32

const (
	fMaster flags = 1 << iota
	fSlave
	fSentinel
	fSDown
	fODown
	fMasterDown // a sentinel that says the primary is down
	fFailoverInProgress
	fPromoted
	fReconfSent
	fReconfInprog
	fReconfDone
	fForceFailover
	fScriptKillSent
	fMasterReboot
)

// Failover states.
const (
	failoverNone = iota
	failoverWaitStart
	failoverSelectSlave
	failoverSendSlaveofNoOne
	failoverWaitPromotion
	failoverReconfSlaves
	failoverUpdateConfig
)

var failoverStateNames = [...]string{"none", "wait_start", "select_slave", "send_slaveof_noone", "wait_promotion", "reconf_slaves", "update_config"}

// address is where an instance is: the name it was given and, when it
// could be resolved, its IP.
type address struct {
	hostname, ip string
	port         int
}

// Errors of instance creation, with Redis's texts (by role where it says).
var (
	errBusy        = errors.New("busy")
	errNoResolve   = errors.New("Can't resolve instance hostname.")
	errInvalidPort = errors.New("Invalid port number.")
)

// createErrorText is Redis's sentinelCheckCreateInstanceErrors.
func createErrorText(err error, role flags) string {
	if err == errBusy {
		switch role {
		case fMaster:
			return "Duplicate master name."
		case fSlave:
			return "Duplicate hostname and port for replica."
		default:
			return "Duplicate runid for sentinel."
		}
	}
	if err == errNoResolve || err == errInvalidPort {
		return err.Error()
	}
	return "Unknown Error for creating instances."
}

// newAddress resolves hostname: only an IP literal unless
// resolve-hostnames is on. With acceptUnresolved a name that does not
// resolve is kept with no IP (resolve-hostnames only).
func (s *Sentinel) newAddress(hostname string, port int, acceptUnresolved bool) (address, error) {
	if port < 0 || port > 65535 {
		return address{}, errInvalidPort
	}
	ip, ok := s.resolve(hostname)
	if !ok {
		s.log.Warningf("Failed to resolve hostname '%s'", hostname)
		if !(s.resolveHostnames && acceptUnresolved) {
			return address{}, errNoResolve
		}
	}
	return address{hostname: hostname, ip: ip, port: port}, nil
}

func (s *Sentinel) resolve(hostname string) (string, bool) {
	if ip := net.ParseIP(strings.Trim(hostname, "[]")); ip != nil {
		return ip.String(), true
	}
	if !s.resolveHostnames {
		return "", false
	}
	addrs, err := net.LookupHost(hostname)
	if err != nil || len(addrs) == 0 {
		return "", false
	}
	for _, a := range addrs { // IPv4 first, as anetResolve's AF_UNSPEC order usually gives
		if net.ParseIP(a).To4() != nil {
			return a, true
		}
	}
	return addrs[0], true
}

// addrEqual: same port and the same IP or the same name (Redis's
// sentinelAddrOrHostnameEqual).
func addrEqual(a, b address) bool {
	return a.port == b.port && (a.ip == b.ip || strings.EqualFold(a.hostname, b.hostname))
}

// addrMatchesHost reports whether hostname (as a replica reports its
// primary) designates a.
func (s *Sentinel) addrMatchesHost(a address, hostname string) bool {
	ip, ok := s.resolve(hostname)
	if !ok {
		if s.resolveHostnames {
			return strings.EqualFold(a.hostname, hostname)
		}
		return strings.EqualFold(a.ip, hostname)
	}
	return strings.EqualFold(a.ip, ip)
}

// announceAddr is how an address is shown: its name with
// announce-hostnames, else its IP.
func (s *Sentinel) announceAddr(a address) string {
	if s.announceHostnames {
		return a.hostname
	}
	return a.ip
}

func (s *Sentinel) announceAddrPort(a address) string {
	return net.JoinHostPort(s.announceAddr(a), strconv.Itoa(a.port))
}

// instance is a monitored primary, one of its replicas, or another
// sentinel watching it (Redis's sentinelRedisInstance).
type instance struct {
	flags       flags
	name        string // a replica's is its ip:port
	runid       string
	configEpoch uint64
	addr        address
	link        *link
	removed     bool // dropped from its table; a late callback ignores it

	lastPubTime             int64
	lastHelloTime           int64
	lastMasterDownReplyTime int64
	sDownSince, oDownSince  int64
	downAfter               int64
	rebootDownAfter         int64
	rebootSince             int64
	infoRefresh             int64
	renamed                 map[string]string // lower-case command -> name to send

	roleReported        flags
	roleReportedTime    int64
	slaveConfChangeTime int64

	// Primary only.
	sentinels     *instances
	slaves        *instances
	quorum        int
	parallelSyncs int
	authPass      string
	authUser      string

	// Replica only.
	masterLinkDownTime  int64
	slavePriority       int
	replicaAnnounced    int
	slaveReconfSentTime int64
	master              *instance
	slaveMasterHost     string
	slaveMasterPort     int
	slaveMasterLinkUp   bool
	slaveReplOffset     uint64

	// Failover.
	leader              string
	leaderEpoch         uint64
	failoverEpoch       uint64
	failoverState       int
	failoverStateChange int64
	failoverStart       int64
	failoverTimeout     int64
	failoverDelayLogged int64
	promoted            *instance

	notificationScript   string
	clientReconfigScript string
	info                 string
	hasInfo              bool
}

func (ri *instance) typeName() string {
	switch {
	case ri.flags&fMaster != 0:
		return "master"
	case ri.flags&fSlave != 0:
		return "slave"
	case ri.flags&fSentinel != 0:
		return "sentinel"
	}
	return "unknown"
}

// command maps a command name through the primary's rename-command
// table (SENTINEL SET ... rename-command).
func (ri *instance) command(name string) string {
	m := ri
	if m.master != nil {
		m = m.master
	}
	if to, ok := m.renamed[strings.ToLower(name)]; ok {
		return to
	}
	return name
}

// instances is a table of instances by name, in insertion order (Redis's
// dicts have an arbitrary one; a stable one makes replies reproducible).
type instances struct {
	list   []*instance
	byName map[string]*instance
}

func newInstances() *instances { return &instances{byName: make(map[string]*instance)} }

func (t *instances) get(name string) *instance { return t.byName[name] }
func (t *instances) len() int                  { return len(t.list) }

func (t *instances) add(ri *instance) {
	t.list = append(t.list, ri)
	t.byName[ri.name] = ri
}

func (t *instances) remove(ri *instance) {
	if t.byName[ri.name] != ri {
		return
	}
	delete(t.byName, ri.name)
	for i, x := range t.list {
		if x == ri {
			t.list = append(t.list[:i], t.list[i+1:]...)
			break
		}
	}
	ri.release()
}

// snapshot is the list as it is now, for loops whose body may change it.
func (t *instances) snapshot() []*instance { return append([]*instance(nil), t.list...) }

// release closes an instance's links (and those of what it holds).
func (ri *instance) release() {
	ri.removed = true
	ri.link.closeAll()
	if ri.flags&fMaster != 0 {
		for _, x := range ri.slaves.list {
			x.release()
		}
		for _, x := range ri.sentinels.list {
			x.release()
		}
	}
	if ri.flags&fSlave != 0 && ri.flags&fPromoted != 0 && ri.master != nil && ri.master.promoted == ri {
		ri.master.promoted = nil
	}
}

// dropLinks closes a primary's links and its replicas' (they reconnect).
func (ri *instance) dropLinks() {
	ri.link.closeAll()
	for _, x := range ri.slaves.list {
		x.link.closeAll()
	}
	for _, x := range ri.sentinels.list {
		x.link.closeAll()
	}
}

// createInstance adds a primary (to the masters), a replica or a sentinel
// (to master's tables). A replica is named by its address.
func (s *Sentinel) createInstance(name string, role flags, hostname string, port, quorum int, master *instance) (*instance, error) {
	a, err := s.newAddress(hostname, port, true)
	if err != nil {
		return nil, err
	}
	var table *instances
	switch role {
	case fMaster:
		table = s.masters
	case fSlave:
		name = s.announceAddrPort(a)
		table = master.slaves
	default:
		table = master.sentinels
	}
	if table.get(name) != nil {
		return nil, errBusy
	}
	now := s.now()
	ri := &instance{
		flags: role, name: name, addr: a, link: newLink(now),
		lastPubTime: now, lastHelloTime: now, lastMasterDownReplyTime: now,
		downAfter: s.t.defaultDownAfter, slavePriority: defaultSlavePriority,
		replicaAnnounced: 1, sentinels: newInstances(), slaves: newInstances(),
		quorum: quorum, parallelSyncs: defaultParallelSyncs, master: master,
		renamed: make(map[string]string), failoverTimeout: s.t.defaultFailoverTimeout,
		roleReported: role & (fMaster | fSlave), roleReportedTime: now, slaveConfChangeTime: now,
	}
	if master != nil {
		ri.downAfter = master.downAfter
	}
	table.add(ri)
	return ri, nil
}

// lookupSlave finds master's replica at ip:port.
func (s *Sentinel) lookupSlave(master *instance, ip string, port int) *instance {
	a, err := s.newAddress(ip, port, false)
	if err != nil {
		return nil
	}
	return master.slaves.get(s.announceAddrPort(a))
}

// sentinelByAddrOrRunID finds an instance of table by address (when
// hostname is set) and run ID (when runid is set).
func (s *Sentinel) sentinelByAddrOrRunID(table *instances, hostname string, port int, runid string) *instance {
	var want address
	if hostname != "" {
		a, err := s.newAddress(hostname, port, true)
		if err != nil {
			return nil
		}
		want = a
	}
	for _, ri := range table.list {
		if runid != "" && ri.runid == "" {
			continue
		}
		if (runid == "" || ri.runid == runid) && (hostname == "" || addrEqual(ri.addr, want)) {
			return ri
		}
	}
	return nil
}

// removeSentinelsWithRunID drops master's sentinels with that run ID.
func removeSentinelsWithRunID(master *instance, runid string) int {
	if runid == "" {
		return 0
	}
	n := 0
	for _, ri := range master.sentinels.snapshot() {
		if ri.runid == runid {
			master.sentinels.remove(ri)
			n++
		}
	}
	return n
}

// resetMaster forgets what was learned about a primary (its replicas and,
// unless keepSentinels, the other sentinels), ends any failover and
// reconnects: SENTINEL RESET and a switch to a new address.
func (s *Sentinel) resetMaster(m *instance, keepSentinels, generateEvent bool) {
	for _, r := range m.slaves.snapshot() {
		m.slaves.remove(r)
	}
	if !keepSentinels {
		for _, o := range m.sentinels.snapshot() {
			m.sentinels.remove(o)
		}
	}
	m.link.closeAll()
	m.flags &= fMaster
	m.leader = ""
	m.failoverState = failoverNone
	m.failoverStateChange = 0
	m.failoverStart = 0
	m.promoted = nil
	m.runid = ""
	m.slaveMasterHost = ""
	now := s.now()
	m.link.actPing = now
	m.link.lastPing = 0
	m.link.lastAvail = now
	m.link.lastPong = now
	m.roleReportedTime = now
	m.roleReported = fMaster
	if generateEvent {
		s.event(levelWarning, "+reset-master", m, "%@")
	}
}

// resetMasterAndChangeAddress makes hostname:port the primary's address,
// keeping as replicas the old replicas (but the new primary) and the old
// primary, so a returning old primary gets turned into a replica.
func (s *Sentinel) resetMasterAndChangeAddress(m *instance, hostname string, port int) error {
	newAddr, err := s.newAddress(hostname, port, false)
	if err != nil {
		return err
	}
	var replicas []address
	for _, r := range m.slaves.list {
		if addrEqual(r.addr, newAddr) {
			continue
		}
		replicas = append(replicas, r.addr)
	}
	if !addrEqual(newAddr, m.addr) {
		replicas = append(replicas, m.addr)
	}
	s.resetMaster(m, true, false)
	m.addr = newAddr
	m.oDownSince = 0
	m.sDownSince = 0
	for _, a := range replicas {
		if r, err := s.createInstance("", fSlave, a.hostname, a.port, m.quorum, m); err == nil {
			s.event(levelNotice, "+slave", r, "%@")
		}
	}
	s.flushConfig()
	return nil
}

// currentMasterAddress is where clients should go: the promoted replica
// once the failover reconfigures the others.
func (m *instance) currentMasterAddress() address {
	if m.flags&fFailoverInProgress != 0 && m.promoted != nil && m.failoverState >= failoverReconfSlaves {
		return m.promoted.addr
	}
	return m.addr
}

// noDownFor reports whether the instance has not been down (subjectively
// or objectively) in the last ms milliseconds.
func (s *Sentinel) noDownFor(ri *instance, ms int64) bool {
	recent := max(ri.sDownSince, ri.oDownSince)
	return recent == 0 || s.now()-recent > ms
}

// masterLooksSane: a primary we believe is one, reporting itself as one,
// not down, with recent INFO.
func (s *Sentinel) masterLooksSane(m *instance) bool {
	return m.flags&fMaster != 0 && m.roleReported == fMaster &&
		m.flags&(fSDown|fODown) == 0 && s.now()-m.infoRefresh < s.t.infoPeriod*2
}

func checkWritable(path string) error { return unix.Access(path, unix.W_OK) }

// scriptPath is where a script named in the configuration is: relative
// to dir, which Redis makes its working directory and Corvid does not.
func (s *Sentinel) scriptPath(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(s.cfg.Dir(), path)
}

func isExecutable(path string) bool {
	if st, err := os.Stat(path); err != nil || st.IsDir() {
		return false
	}
	return unix.Access(path, unix.X_OK) == nil
}
