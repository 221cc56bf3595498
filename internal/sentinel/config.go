package sentinel

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/resp"
)

// handleConfig applies one "sentinel ..." directive (args without the
// word "sentinel"); it returns Redis's error text, or "".
func (s *Sentinel) handleConfig(args []string) string {
	name, n := strings.ToLower(args[0]), len(args)
	master := func() *instance { return s.masters.get(args[1]) }
	const noMaster = "No such master with specified name."
	atoi := func(v string) int64 { x, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64); return x }
	switch {
	case name == "monitor" && n == 5:
		quorum := atoi(args[4])
		if quorum <= 0 {
			return "Quorum must be 1 or greater."
		}
		if _, err := s.createInstance(args[1], fMaster, args[2], int(atoi(args[3])), int(quorum), nil); err != nil {
			return createErrorText(err, fMaster)
		}
	case name == "down-after-milliseconds" && n == 3:
		m := master()
		if m == nil {
			return noMaster
		}
		m.downAfter = atoi(args[2])
		if m.downAfter <= 0 {
			return "negative or zero time parameter."
		}
		propagateDownAfter(m)
	case name == "failover-timeout" && n == 3:
		m := master()
		if m == nil {
			return noMaster
		}
		m.failoverTimeout = atoi(args[2])
		if m.failoverTimeout <= 0 {
			return "negative or zero time parameter."
		}
	case name == "parallel-syncs" && n == 3:
		m := master()
		if m == nil {
			return noMaster
		}
		m.parallelSyncs = int(atoi(args[2]))
	case name == "notification-script" && n == 3:
		m := master()
		if m == nil {
			return noMaster
		}
		if !isExecutable(s.scriptPath(args[2])) {
			return "Notification script seems non existing or non executable."
		}
		m.notificationScript = args[2]
	case name == "client-reconfig-script" && n == 3:
		m := master()
		if m == nil {
			return noMaster
		}
		if !isExecutable(s.scriptPath(args[2])) {
			return "Client reconfiguration script seems non existing or non executable."
		}
		m.clientReconfigScript = args[2]
	case name == "auth-pass" && n == 3:
		m := master()
		if m == nil {
			return noMaster
		}
		m.authPass = args[2]
	case name == "auth-user" && n == 3:
		m := master()
		if m == nil {
			return noMaster
		}
		m.authUser = args[2]
	case name == "current-epoch" && n == 2:
		if e, _ := strconv.ParseUint(args[1], 10, 64); e > s.currentEpoch {
			s.currentEpoch = e
		}
	case name == "myid" && n == 2:
		if len(args[1]) != runIDSize {
			return "Malformed Sentinel id in myid option."
		}
		s.myid = args[1]
	case name == "config-epoch" && n == 3:
		m := master()
		if m == nil {
			return noMaster
		}
		m.configEpoch, _ = strconv.ParseUint(args[2], 10, 64)
		if m.configEpoch > s.currentEpoch {
			s.currentEpoch = m.configEpoch
		}
	case name == "leader-epoch" && n == 3:
		m := master()
		if m == nil {
			return noMaster
		}
		m.leaderEpoch, _ = strconv.ParseUint(args[2], 10, 64)
	case (name == "known-slave" || name == "known-replica") && n == 4:
		m := master()
		if m == nil {
			return noMaster
		}
		if _, err := s.createInstance("", fSlave, args[2], int(atoi(args[3])), m.quorum, m); err != nil {
			return createErrorText(err, fSlave)
		}
	case name == "known-sentinel" && (n == 4 || n == 5):
		if n == 5 { // the old form without a run ID is ignored
			m := master()
			if m == nil {
				return noMaster
			}
			si, err := s.createInstance(args[4], fSentinel, args[2], int(atoi(args[3])), m.quorum, m)
			if err != nil {
				return createErrorText(err, fSentinel)
			}
			si.runid = args[4]
		}
	case name == "rename-command" && n == 4:
		m := master()
		if m == nil {
			return noMaster
		}
		key := strings.ToLower(args[2])
		if _, ok := m.renamed[key]; ok {
			return "Same command renamed multiple times with rename-command."
		}
		m.renamed[key] = args[3]
	case name == "announce-ip" && n == 2:
		s.announceIP = args[1]
	case name == "announce-port" && n == 2:
		s.announcePort = int(atoi(args[1]))
	case name == "deny-scripts-reconfig" && n == 2:
		v, ok := yesNo(args[1])
		if !ok {
			return "Please specify yes or no for the deny-scripts-reconfig options."
		}
		s.denyScriptsReconfig = v
	case name == "sentinel-user" && n == 2:
		s.sentinelUser = args[1]
	case name == "sentinel-pass" && n == 2:
		s.sentinelPass = args[1]
	case name == "resolve-hostnames" && n == 2:
		v, ok := yesNo(args[1])
		if !ok {
			return "Please specify yes or no for the resolve-hostnames option."
		}
		s.resolveHostnames = v
	case name == "announce-hostnames" && n == 2:
		v, ok := yesNo(args[1])
		if !ok {
			return "Please specify yes or no for the announce-hostnames option."
		}
		s.announceHostnames = v
	case name == "master-reboot-down-after-period" && n == 3:
		m := master()
		if m == nil {
			return noMaster
		}
		m.rebootDownAfter = atoi(args[2])
		if m.rebootDownAfter < 0 {
			return "negative time parameter."
		}
	default:
		return "Unrecognized sentinel configuration statement."
	}
	return ""
}

func yesNo(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "yes":
		return true, true
	case "no":
		return false, true
	}
	return false, false
}

func propagateDownAfter(m *instance) {
	for _, t := range []*instances{m.slaves, m.sentinels} {
		for _, ri := range t.list {
			ri.downAfter = m.downAfter
		}
	}
}

// configLines is the state to save, in Redis's order and forms
// (rewriteConfigSentinelOption): each kind of line replaces the file's
// lines of that kind in place.
func (s *Sentinel) configLines() []config.SentinelLine {
	var out []config.SentinelLine
	add := func(option string, force bool, format string, args ...any) {
		out = append(out, config.SentinelLine{Option: option, Line: fmt.Sprintf(format, args...), Force: force})
	}
	processed := func(option string) { out = append(out, config.SentinelLine{Option: option}) }
	add("sentinel myid", true, "sentinel myid %s", s.myid)
	add("sentinel deny-scripts-reconfig", !s.denyScriptsReconfig, "sentinel deny-scripts-reconfig %s", yesNoText(s.denyScriptsReconfig))
	add("sentinel resolve-hostnames", s.resolveHostnames, "sentinel resolve-hostnames %s", yesNoText(s.resolveHostnames))
	add("sentinel announce-hostnames", s.announceHostnames, "sentinel announce-hostnames %s", yesNoText(s.announceHostnames))
	for _, m := range s.masters.list {
		ma := m.currentMasterAddress()
		add("sentinel monitor", true, "sentinel monitor %s %s %d %d", m.name, s.announceAddr(ma), ma.port, m.quorum)
		if m.downAfter != s.t.defaultDownAfter {
			add("sentinel down-after-milliseconds", true, "sentinel down-after-milliseconds %s %d", m.name, m.downAfter)
		}
		if m.failoverTimeout != s.t.defaultFailoverTimeout {
			add("sentinel failover-timeout", true, "sentinel failover-timeout %s %d", m.name, m.failoverTimeout)
		}
		if m.parallelSyncs != defaultParallelSyncs {
			add("sentinel parallel-syncs", true, "sentinel parallel-syncs %s %d", m.name, m.parallelSyncs)
		}
		if m.notificationScript != "" {
			add("sentinel notification-script", true, "sentinel notification-script %s %s", m.name, m.notificationScript)
		}
		if m.clientReconfigScript != "" {
			add("sentinel client-reconfig-script", true, "sentinel client-reconfig-script %s %s", m.name, m.clientReconfigScript)
		}
		if m.authPass != "" {
			add("sentinel auth-pass", true, "sentinel auth-pass %s %s", m.name, m.authPass)
		}
		if m.authUser != "" {
			add("sentinel auth-user", true, "sentinel auth-user %s %s", m.name, m.authUser)
		}
		if m.rebootDownAfter != 0 {
			add("sentinel master-reboot-down-after-period", true, "sentinel master-reboot-down-after-period %s %d", m.name, m.rebootDownAfter)
		}
		add("sentinel config-epoch", true, "sentinel config-epoch %s %d", m.name, m.configEpoch)
		add("sentinel leader-epoch", true, "sentinel leader-epoch %s %d", m.name, m.leaderEpoch)
		for _, r := range m.slaves.list {
			a := r.addr
			// The primary being failed over to is not its own replica:
			// write the old primary's address in its place.
			if addrEqual(a, ma) {
				a = m.addr
			}
			add("sentinel known-replica", true, "sentinel known-replica %s %s %d", m.name, s.announceAddr(a), a.port)
		}
		for _, o := range m.sentinels.list {
			if o.runid == "" {
				continue
			}
			add("sentinel known-sentinel", true, "sentinel known-sentinel %s %s %d %s", m.name, s.announceAddr(o.addr), o.addr.port, o.runid)
		}
		for from, to := range m.renamed {
			add("sentinel rename-command", true, "sentinel rename-command %s %s %s", m.name, from, to)
		}
	}
	add("sentinel current-epoch", true, "sentinel current-epoch %d", s.currentEpoch)
	if s.announceIP != "" {
		add("sentinel announce-ip", true, "sentinel announce-ip %s", resp.Repr(s.announceIP))
	} else {
		processed("sentinel announce-ip")
	}
	if s.announcePort != 0 {
		add("sentinel announce-port", true, "sentinel announce-port %d", s.announcePort)
	} else {
		processed("sentinel announce-port")
	}
	if s.sentinelUser != "" {
		add("sentinel sentinel-user", true, "sentinel sentinel-user %s", s.sentinelUser)
	} else {
		processed("sentinel sentinel-user")
	}
	if s.sentinelPass != "" {
		add("sentinel sentinel-pass", true, "sentinel sentinel-pass %s", s.sentinelPass)
	} else {
		processed("sentinel sentinel-pass")
	}
	for _, o := range []string{"monitor", "down-after-milliseconds", "failover-timeout", "parallel-syncs",
		"notification-script", "client-reconfig-script", "auth-pass", "auth-user", "config-epoch",
		"leader-epoch", "known-replica", "known-slave", "known-sentinel", "rename-command", "master-reboot-down-after-period"} {
		processed("sentinel " + o)
	}
	return out
}

func yesNoText(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}
