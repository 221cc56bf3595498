package sentinel

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/corvid-db/corvid/internal/resp"
)

// reconnect opens the links that are down, at most once a ping period:
// the command link (authenticated, named, pinged) and for primaries and
// replicas the hello subscription.
func (s *Sentinel) reconnect(ri *instance) {
	l := ri.link
	if !l.disconnected || ri.addr.port == 0 {
		return
	}
	now := s.now()
	if now-l.lastReconn < s.t.pingPeriod {
		return
	}
	l.lastReconn = now
	if l.cc == nil {
		if s.resolveHostnames {
			if a, err := s.newAddress(ri.addr.hostname, ri.addr.port, false); err == nil {
				ri.addr = a
			}
		}
		if ri.addr.ip == "" {
			s.event(levelDebug, "-cmd-link-reconnection", ri, "%@ #Can't resolve hostname")
			return
		}
		c := s.dial(l, ri.addr, false)
		l.cc = c
		l.pending = 0
		l.ccConnTime = now
		s.sendAuth(ri, c)
		s.setClientName(ri, c, "cmd")
		s.sendPing(ri)
	}
	if ri.flags&(fMaster|fSlave) != 0 && l.pc == nil && ri.addr.ip != "" {
		c := s.dial(l, ri.addr, true)
		c.onPush = func(r *resp.Reply) { s.receiveHello(ri, r) }
		l.pc = c
		l.pcConnTime = now
		s.sendAuth(ri, c)
		s.setClientName(ri, c, "pubsub")
		c.subscribing = true
		c.send(nil, ri.command("SUBSCRIBE"), helloChannel)
	}
	if l.cc != nil && (ri.flags&fSentinel != 0 || l.pc != nil) {
		l.disconnected = false
	}
}

// sendAuth authenticates a new connection: a primary's credentials for it
// and its replicas, sentinel-user/sentinel-pass (or this sentinel's own
// requirepass) for other sentinels.
func (s *Sentinel) sendAuth(ri *instance, c *conn) {
	var user, pass string
	switch {
	case ri.flags&fMaster != 0:
		user, pass = ri.authUser, ri.authPass
	case ri.flags&fSlave != 0:
		user, pass = ri.master.authUser, ri.master.authPass
	default:
		if s.sentinelPass != "" {
			user, pass = s.sentinelUser, s.sentinelPass
		} else {
			pass = s.cfg.String("requirepass")
		}
	}
	if pass == "" {
		return
	}
	cb := s.discardReply(c)
	if user == "" {
		if c.send(cb, ri.command("AUTH"), pass) && !c.pubsub {
			ri.link.pending++
		}
	} else if c.send(cb, ri.command("AUTH"), user, pass) && !c.pubsub {
		ri.link.pending++
	}
}

func (s *Sentinel) setClientName(ri *instance, c *conn, kind string) {
	if c.send(s.discardReply(c), ri.command("CLIENT"), "SETNAME", "sentinel-"+s.myid[:8]+"-"+kind) && !c.pubsub {
		ri.link.pending++
	}
}

// discardReply is the callback of commands whose reply does not matter:
// it only counts the reply in.
func (s *Sentinel) discardReply(c *conn) func(*resp.Reply) {
	if c.pubsub {
		return nil
	}
	l := c.l
	return func(*resp.Reply) {
		if l.cc == c {
			l.pending--
		}
	}
}

// sendPeriodicCommands: INFO every info period (every second for replicas
// of a primary in trouble), PING every ping period (at most
// down-after-milliseconds), hello every publish period.
func (s *Sentinel) sendPeriodicCommands(ri *instance) {
	l := ri.link
	if l.disconnected || l.cc == nil || l.pending >= maxPendingCommands {
		return
	}
	now := s.now()
	infoPeriod := s.t.infoPeriod
	if ri.flags&fSlave != 0 && (ri.master.flags&(fODown|fFailoverInProgress) != 0 || ri.masterLinkDownTime != 0) {
		infoPeriod = 1000
	}
	pingPeriod := min(ri.downAfter, s.t.pingPeriod)
	if ri.flags&fSentinel == 0 && (ri.infoRefresh == 0 || now-ri.infoRefresh > infoPeriod) {
		c := l.cc
		if c.send(func(r *resp.Reply) {
			if l.cc == c {
				l.pending--
			}
			if r.IsString() || r.Kind == '=' {
				s.refreshInfo(ri, r.Str)
			}
		}, ri.command("INFO")) {
			l.pending++
		}
	}
	if now-l.lastPong > pingPeriod && now-l.lastPing > pingPeriod/2 {
		s.sendPing(ri)
	}
	if now-ri.lastPubTime > s.t.publishPeriod {
		s.sendHello(ri)
	}
}

func (s *Sentinel) sendPing(ri *instance) bool {
	l := ri.link
	c := l.cc
	ok := c.send(func(r *resp.Reply) {
		if l.cc == c {
			l.pending--
		}
		s.pingReply(ri, r)
	}, ri.command("PING"))
	if !ok {
		return false
	}
	l.pending++
	l.lastPing = s.now()
	if l.actPing == 0 {
		l.actPing = l.lastPing
	}
	return true
}

// pingReply: PONG, LOADING and MASTERDOWN count as the instance being
// available; a BUSY primary already down gets a SCRIPT KILL, once.
func (s *Sentinel) pingReply(ri *instance, r *resp.Reply) {
	l := ri.link
	if r.Kind == '+' || r.Kind == '-' {
		if strings.HasPrefix(r.Str, "PONG") || strings.HasPrefix(r.Str, "LOADING") || strings.HasPrefix(r.Str, "MASTERDOWN") {
			l.lastAvail = s.now()
			l.actPing = 0
			if ri.flags&fMasterReboot != 0 && strings.HasPrefix(r.Str, "PONG") {
				ri.flags &^= fMasterReboot
			}
		} else if strings.HasPrefix(r.Str, "BUSY") && ri.flags&fSDown != 0 && ri.flags&fScriptKillSent == 0 {
			if l.cc.send(s.discardReply(l.cc), ri.command("SCRIPT"), "KILL") {
				l.pending++
			}
			ri.flags |= fScriptKillSent
		}
	}
	l.lastPong = s.now()
}

// refreshInfo reads an instance's INFO: its run ID (a change is a
// reboot), a primary's replicas (discovered here), its role, a replica's
// view of its primary, priority and offset. Then it acts on what changed:
// a promoted replica reporting itself primary moves the failover on; a
// replica reporting itself primary outside a failover is turned back into
// a replica; a replica following the wrong primary is corrected; replicas
// being reconfigured advance.
func (s *Sentinel) refreshInfo(ri *instance, info string) {
	if ri.removed {
		return
	}
	ri.info = info
	ri.hasInfo = true
	ri.masterLinkDownTime = 0
	var role flags
	for _, l := range strings.Split(info, "\r\n") {
		if strings.HasPrefix(l, "run_id:") && len(l) >= 47 {
			id := l[7:47]
			if ri.runid == "" {
				ri.runid = id
			} else if ri.runid != id {
				s.event(levelNotice, "+reboot", ri, "%@")
				if ri.flags&fMaster != 0 && ri.rebootDownAfter != 0 {
					ri.flags |= fMasterReboot
					ri.rebootSince = s.now()
				}
				ri.runid = id
			}
		}
		if ri.flags&fMaster != 0 && len(l) >= 7 && strings.HasPrefix(l, "slave") && l[5] >= '0' && l[5] <= '9' {
			ip, port, ok := parseSlaveLine(l)
			if ok && s.lookupSlave(ri, ip, port) == nil {
				if r, err := s.createInstance("", fSlave, ip, port, ri.quorum, ri); err == nil {
					s.event(levelNotice, "+slave", r, "%@")
					s.flushConfig()
				}
			}
		}
		if v, ok := strings.CutPrefix(l, "master_link_down_since_seconds:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			ri.masterLinkDownTime = n * 1000
		}
		if strings.HasPrefix(l, "role:master") {
			role = fMaster
		} else if strings.HasPrefix(l, "role:slave") {
			role = fSlave
		}
		if role == fSlave {
			if v, ok := strings.CutPrefix(l, "master_host:"); ok && !strings.EqualFold(v, ri.slaveMasterHost) {
				ri.slaveMasterHost = v
				ri.slaveConfChangeTime = s.now()
			}
			if v, ok := strings.CutPrefix(l, "master_port:"); ok {
				if p, _ := strconv.Atoi(v); p != ri.slaveMasterPort {
					ri.slaveMasterPort = p
					ri.slaveConfChangeTime = s.now()
				}
			}
			if v, ok := strings.CutPrefix(l, "master_link_status:"); ok {
				ri.slaveMasterLinkUp = strings.EqualFold(v, "up")
			}
			if v, ok := strings.CutPrefix(l, "slave_priority:"); ok {
				ri.slavePriority, _ = strconv.Atoi(v)
			}
			if v, ok := strings.CutPrefix(l, "slave_repl_offset:"); ok {
				ri.slaveReplOffset, _ = strconv.ParseUint(v, 10, 64)
			}
			if v, ok := strings.CutPrefix(l, "replica_announced:"); ok {
				ri.replicaAnnounced, _ = strconv.Atoi(v)
			}
		}
	}
	ri.infoRefresh = s.now()
	if role != ri.roleReported {
		ri.roleReportedTime = s.now()
		ri.roleReported = role
		if role == fSlave {
			ri.slaveConfChangeTime = s.now()
		}
		typ := "-role-change"
		if ri.flags&(fMaster|fSlave) == role {
			typ = "+role-change"
		}
		name := "slave"
		if role == fMaster {
			name = "master"
		}
		s.event(levelVerbose, typ, ri, "%@ new reported role is %s", name)
	}
	if s.tilt {
		return
	}
	// A primary reporting itself a replica is left alone: it becomes
	// subjectively down after a while (checkSubjectivelyDown).
	if ri.flags&fSlave != 0 && role == fMaster {
		m := ri.master
		if ri.flags&fPromoted != 0 && m.flags&fFailoverInProgress != 0 && m.failoverState == failoverWaitPromotion {
			m.configEpoch = m.failoverEpoch
			m.failoverState = failoverReconfSlaves
			m.failoverStateChange = s.now()
			s.flushConfig()
			s.event(levelWarning, "+promoted-slave", ri, "%@")
			if s.simFailure&simFailureCrashPromote != 0 {
				s.simulatedCrash()
			}
			s.event(levelWarning, "+failover-state-reconf-slaves", m, "%@")
			s.clientReconfigScript(m, true, "start", m.addr, ri.addr)
			s.forceHelloUpdate(m)
		} else {
			wait := s.t.publishPeriod * 4
			if ri.flags&fPromoted == 0 && s.masterLooksSane(m) && s.noDownFor(ri, wait) && s.now()-ri.roleReportedTime > wait {
				if s.sendSlaveOf(ri, &m.addr) {
					s.event(levelNotice, "+convert-to-slave", ri, "%@")
				}
			}
		}
	}
	if ri.flags&fSlave != 0 && role == fSlave &&
		(ri.slaveMasterPort != ri.master.addr.port || !s.addrMatchesHost(ri.master.addr, ri.slaveMasterHost)) {
		wait := ri.master.failoverTimeout
		if s.masterLooksSane(ri.master) && s.noDownFor(ri, wait) && s.now()-ri.slaveConfChangeTime > wait {
			if s.sendSlaveOf(ri, &ri.master.addr) {
				s.event(levelNotice, "+fix-slave-config", ri, "%@")
			}
		}
	}
	if ri.flags&fSlave != 0 && role == fSlave && ri.flags&(fReconfSent|fReconfInprog) != 0 {
		p := ri.master.promoted
		if ri.flags&fReconfSent != 0 && p != nil && ri.slaveMasterHost != "" &&
			s.addrMatchesHost(p.addr, ri.slaveMasterHost) && ri.slaveMasterPort == p.addr.port {
			ri.flags &^= fReconfSent
			ri.flags |= fReconfInprog
			s.event(levelNotice, "+slave-reconf-inprog", ri, "%@")
		}
		if ri.flags&fReconfInprog != 0 && ri.slaveMasterLinkUp {
			ri.flags &^= fReconfInprog
			ri.flags |= fReconfDone
			s.event(levelNotice, "+slave-reconf-done", ri, "%@")
		}
	}
}

// parseSlaveLine reads "slave0:ip=...,port=...,state=..." (and the old
// "slave0:<ip>,<port>,<state>" form).
func parseSlaveLine(l string) (ip string, port int, ok bool) {
	_, v, found := strings.Cut(l, ":")
	if !found {
		return "", 0, false
	}
	if !strings.Contains(l, "ip=") {
		parts := strings.Split(v, ",")
		if len(parts) < 3 {
			return "", 0, false
		}
		p, err := strconv.Atoi(parts[1])
		return parts[0], p, err == nil
	}
	for _, f := range strings.Split(v, ",") {
		if x, ok := strings.CutPrefix(f, "ip="); ok {
			ip = x
		} else if x, ok := strings.CutPrefix(f, "port="); ok {
			port, _ = strconv.Atoi(x)
		}
	}
	return ip, port, ip != ""
}

// sendHello publishes this sentinel and its view of the primary on the
// instance's hello channel:
// "<ip>,<port>,<myid>,<current epoch>,<master name>,<master ip>,<master port>,<config epoch>".
func (s *Sentinel) sendHello(ri *instance) bool {
	m := ri
	if ri.flags&fMaster == 0 {
		m = ri.master
	}
	l := ri.link
	if l.disconnected || l.cc == nil {
		return false
	}
	ip := s.announceIP
	if ip == "" {
		ip = l.cc.local
		if ip == "" {
			return false
		}
	}
	port := s.announcePort
	if port == 0 {
		port = s.listenPort()
	}
	ma := m.currentMasterAddress()
	payload := fmt.Sprintf("%s,%d,%s,%d,%s,%s,%d,%d", ip, port, s.myid, s.currentEpoch,
		m.name, s.announceAddr(ma), ma.port, m.configEpoch)
	c := l.cc
	if !c.send(func(r *resp.Reply) {
		if l.cc == c {
			l.pending--
		}
		if r.Kind != '-' {
			ri.lastPubTime = s.now()
		}
	}, ri.command("PUBLISH"), helloChannel, payload) {
		return false
	}
	l.pending++
	return true
}

// listenPort is the port announced: the TLS one when links use TLS.
func (s *Sentinel) listenPort() int {
	if s.host == nil {
		return 0
	}
	if s.cfg.Bool("tls-replication") {
		if a := s.host.TLSAddr(); a != nil {
			return portOf(a.String())
		}
	}
	if a := s.host.Addr(); a != nil {
		return portOf(a.String())
	}
	return int(s.cfg.Int("port"))
}

func portOf(hostport string) int {
	_, port, _ := net.SplitHostPort(hostport)
	p, _ := strconv.Atoi(port)
	return p
}

// forceHelloUpdate makes the next tick send hello messages for a primary
// and everything under it (after a failover's new configuration).
func (s *Sentinel) forceHelloUpdate(m *instance) {
	back := s.t.publishPeriod + 1
	if m.lastPubTime >= back {
		m.lastPubTime -= back
	}
	for _, t := range []*instances{m.sentinels, m.slaves} {
		for _, ri := range t.list {
			if ri.lastPubTime >= back {
				ri.lastPubTime -= back
			}
		}
	}
}

// receiveHello handles what the hello subscription delivers.
func (s *Sentinel) receiveHello(ri *instance, r *resp.Reply) {
	if ri.removed {
		return
	}
	ri.link.pcLastActivity = s.now()
	if !(r.Kind == '*' || r.Kind == '>') || len(r.Elems) != 3 {
		return
	}
	for i := range r.Elems {
		if !r.Elems[i].IsString() {
			return
		}
	}
	if r.Elems[0].Str != "message" {
		return
	}
	if strings.Contains(r.Elems[2].Str, s.myid) {
		return // our own
	}
	s.processHello(r.Elems[2].Str)
}

// processHello learns from another sentinel's hello: the sentinel itself
// (new, or at a new address), a newer current epoch, and a newer
// configuration of the primary (switching to its address).
func (s *Sentinel) processHello(hello string) {
	tok := strings.Split(hello, ",")
	if len(tok) != 8 {
		return
	}
	m := s.masters.get(tok[4])
	if m == nil {
		return
	}
	port, _ := strconv.Atoi(tok[1])
	masterPort, _ := strconv.Atoi(tok[6])
	currentEpoch, _ := strconv.ParseUint(tok[3], 10, 64)
	masterConfigEpoch, _ := strconv.ParseUint(tok[7], 10, 64)
	si := s.sentinelByAddrOrRunID(m.sentinels, tok[0], port, tok[2])
	if si == nil {
		removed := removeSentinelsWithRunID(m, tok[2])
		if removed > 0 {
			s.event(levelNotice, "+sentinel-address-switch", m, "%@ ip %s port %d for %s", tok[0], port, tok[2])
		} else if other := s.sentinelByAddrOrRunID(m.sentinels, tok[0], port, ""); other != nil {
			// Another run ID at that address: it restarted without its
			// ID; forget the old one everywhere.
			s.event(levelNotice, "+sentinel-invalid-addr", other, "%@")
			obsolete := other.runid
			for _, mm := range s.masters.list {
				removeSentinelsWithRunID(mm, obsolete)
			}
		}
		var err error
		si, err = s.createInstance(tok[2], fSentinel, tok[0], port, m.quorum, m)
		if err == nil {
			if removed == 0 {
				s.event(levelNotice, "+sentinel", si, "%@")
			}
			si.runid = tok[2]
			if removed > 0 {
				s.updateSentinelAddressInAllMasters(si)
			}
			s.flushConfig()
		} else {
			si = nil
		}
	}
	if currentEpoch > s.currentEpoch {
		s.currentEpoch = currentEpoch
		s.flushConfig()
		s.event(levelWarning, "+new-epoch", m, "%d", s.currentEpoch)
	}
	if si != nil && m.configEpoch < masterConfigEpoch {
		m.configEpoch = masterConfigEpoch
		if masterPort != m.addr.port || !s.addrMatchesHost(m.addr, tok[5]) {
			s.event(levelWarning, "+config-update-from", si, "%@")
			s.event(levelWarning, "+switch-master", m, "%s %s %d %s %d", m.name, s.announceAddr(m.addr), m.addr.port, tok[5], masterPort)
			old := m.addr
			s.resetMasterAndChangeAddress(m, tok[5], masterPort)
			s.clientReconfigScript(m, false, "start", old, m.addr)
		}
	}
	if si != nil {
		si.lastHelloTime = s.now()
	}
}

// updateSentinelAddressInAllMasters gives a sentinel that moved its new
// address in every primary's table.
func (s *Sentinel) updateSentinelAddressInAllMasters(si *instance) {
	n := 0
	for _, m := range s.masters.list {
		match := s.sentinelByAddrOrRunID(m.sentinels, "", 0, si.runid)
		if match == nil {
			continue
		}
		match.link.closeAll()
		if match == si {
			continue
		}
		match.addr = si.addr
		n++
	}
	if n > 0 {
		s.event(levelNotice, "+sentinel-address-update", si, "%@ %d additional matching instances", n)
	}
}

// sendSlaveOf reconfigures an instance, in one transaction: REPLICAOF
// (NO ONE when addr is nil), CONFIG REWRITE, and the disconnection of its
// normal and pub/sub clients so they look up the primary again.
func (s *Sentinel) sendSlaveOf(ri *instance, addr *address) bool {
	host, port := "NO", "ONE"
	if addr != nil {
		host, port = s.announceAddr(*addr), strconv.Itoa(addr.port)
	}
	c := ri.link.cc
	if c == nil || c.closed {
		return false
	}
	cmds := [][]string{
		{ri.command("MULTI")},
		{ri.command("SLAVEOF"), host, port},
		{ri.command("CONFIG"), "REWRITE"},
		{ri.command("CLIENT"), "KILL", "TYPE", "normal"},
		{ri.command("CLIENT"), "KILL", "TYPE", "pubsub"},
		{ri.command("EXEC")},
	}
	for _, args := range cmds {
		if !c.send(s.discardReply(c), args...) {
			return false
		}
		ri.link.pending++
	}
	return true
}
