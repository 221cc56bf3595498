package sentinel

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/resp"
)

var sentinelHelp = []string{
	"CKQUORUM <master-name>",
	"    Check if the current Sentinel configuration is able to reach the quorum",
	"    needed to failover a master and the majority needed to authorize the",
	"    failover.",
	"CONFIG SET param value [param value ...]",
	"    Set a global Sentinel configuration parameter.",
	"CONFIG GET <param> [param param param ...]",
	"    Get global Sentinel configuration parameter.",
	"DEBUG [<param> <value> ...]",
	"    Show a list of configurable time parameters and their values (milliseconds).",
	"    Or update current configurable parameters values (one or more).",
	"GET-MASTER-ADDR-BY-NAME <master-name>",
	"    Return the ip and port number of the master with that name.",
	"FAILOVER <master-name>",
	"    Manually failover a master node without asking for agreement from other",
	"    Sentinels",
	"FLUSHCONFIG",
	"    Force Sentinel to rewrite its configuration on disk, including the current",
	"    Sentinel state.",
	"INFO-CACHE <master-name>",
	"    Return last cached INFO output from masters and all its replicas.",
	"IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
	"    Check if the master specified by ip:port is down from current Sentinel's",
	"    point of view.",
	"MASTER <master-name>",
	"    Show the state and info of the specified master.",
	"MASTERS",
	"    Show a list of monitored masters and their state.",
	"MONITOR <name> <ip> <port> <quorum>",
	"    Start monitoring a new master with the specified name, ip, port and quorum.",
	"MYID",
	"    Return the ID of the Sentinel instance.",
	"PENDING-SCRIPTS",
	"    Get pending scripts information.",
	"REMOVE <master-name>",
	"    Remove master from Sentinel's monitor list.",
	"REPLICAS <master-name>",
	"    Show a list of replicas for this master and their state.",
	"RESET <pattern>",
	"    Reset masters for specific master name matching this pattern.",
	"SENTINELS <master-name>",
	"    Show a list of Sentinel instances for this master and their state.",
	"SET <master-name> <option> <value> [<option> <value> ...]",
	"    Set configuration parameters for certain masters.",
	"SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
	"    Simulate a Sentinel crash.",
}

// Command runs SENTINEL <subcommand> ... (c.Args[0] is "sentinel").
func (s *Sentinel) Command(c *command.Ctx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = string(a)
	}
	w := c.W
	if len(args) < 2 {
		w.Error(command.ErrWrongArgs("sentinel"))
		return
	}
	sub, n := strings.ToLower(args[1]), len(args)
	arity := func() { w.Error(command.ErrWrongArgs("sentinel|" + sub)) }
	masterOrErr := func(name string) *instance {
		m := s.masters.get(name)
		if m == nil {
			w.Error("ERR No such master with that name")
		}
		return m
	}
	switch sub {
	case "help":
		if n != 2 {
			arity()
			return
		}
		w.ArrayLen(len(sentinelHelp) + 3)
		w.SimpleString("SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
		for _, l := range sentinelHelp {
			w.SimpleString(l)
		}
		w.SimpleString("HELP")
		w.SimpleString("    Print this help.")
	case "masters":
		if n != 2 {
			arity()
			return
		}
		s.replyInstances(w, s.masters)
	case "master":
		if n != 3 {
			arity()
			return
		}
		if m := masterOrErr(args[2]); m != nil {
			s.replyInstance(w, m)
		}
	case "slaves", "replicas":
		if n != 3 {
			arity()
			return
		}
		if m := masterOrErr(args[2]); m != nil {
			s.replyInstances(w, m.slaves)
		}
	case "sentinels":
		if n != 3 {
			arity()
			return
		}
		if m := masterOrErr(args[2]); m != nil {
			s.replyInstances(w, m.sentinels)
		}
	case "myid":
		if n != 2 {
			arity()
			return
		}
		w.BulkString(s.myid)
	case "is-master-down-by-addr":
		if n != 6 {
			arity()
			return
		}
		port, err1 := strconv.ParseInt(args[3], 10, 64)
		reqEpoch, err2 := strconv.ParseInt(args[4], 10, 64)
		if err1 != nil || err2 != nil {
			w.Error("ERR value is not an integer or out of range")
			return
		}
		m := s.sentinelByAddrOrRunID(s.masters, args[2], int(port), "")
		isDown := !s.tilt && m != nil && m.flags&fSDown != 0 && m.flags&fMaster != 0
		leader, leaderEpoch := "", uint64(0)
		if m != nil && m.flags&fMaster != 0 && args[5] != "*" {
			leader, leaderEpoch = s.voteLeader(m, uint64(reqEpoch), args[5])
		}
		w.ArrayLen(3)
		if isDown {
			w.Int(1)
		} else {
			w.Int(0)
		}
		if leader == "" {
			leader = "*"
		}
		w.BulkString(leader)
		w.Int(int64(leaderEpoch))
	case "reset":
		if n != 3 {
			arity()
			return
		}
		count := 0
		for _, m := range s.masters.snapshot() {
			if config.GlobMatchString(args[2], m.name, false) {
				s.resetMaster(m, false, true)
				count++
			}
		}
		w.Int(int64(count))
	case "get-master-addr-by-name":
		if n != 3 {
			arity()
			return
		}
		m := s.masters.get(args[2])
		if m == nil {
			w.NullArray()
			return
		}
		a := m.currentMasterAddress()
		w.ArrayLen(2)
		w.BulkString(s.announceAddr(a))
		w.BulkInt(int64(a.port))
	case "failover":
		if n != 3 {
			arity()
			return
		}
		m := masterOrErr(args[2])
		if m == nil {
			return
		}
		if m.flags&fFailoverInProgress != 0 {
			w.Error("INPROG Failover already in progress")
			return
		}
		if s.selectSlave(m) == nil {
			w.Error("NOGOODSLAVE No suitable replica to promote")
			return
		}
		s.log.Noticef("Executing user requested FAILOVER of '%s'", m.name)
		s.startFailover(m)
		m.flags |= fForceFailover
		w.SimpleString("OK")
	case "pending-scripts":
		if n != 2 {
			arity()
			return
		}
		s.replyPendingScripts(w)
	case "monitor":
		if n != 6 {
			arity()
			return
		}
		quorum, err := strconv.ParseInt(args[5], 10, 64)
		if err != nil {
			w.Error("ERR Invalid quorum")
			return
		}
		port, err := strconv.ParseInt(args[4], 10, 64)
		if err != nil {
			w.Error("ERR Invalid port")
			return
		}
		if quorum <= 0 {
			w.Error("ERR Quorum must be 1 or greater.")
			return
		}
		if _, ok := s.resolve(args[3]); !ok {
			w.Error("ERR Invalid IP address or hostname specified")
			return
		}
		m, err := s.createInstance(args[2], fMaster, args[3], int(port), int(quorum), nil)
		if err != nil {
			w.Error("ERR " + createErrorText(err, fMaster))
			return
		}
		s.flushConfigReply(w)
		s.event(levelWarning, "+monitor", m, "%@ quorum %d", m.quorum)
	case "flushconfig":
		if n != 2 {
			arity()
			return
		}
		s.flushConfigReply(w)
	case "remove":
		if n != 3 {
			arity()
			return
		}
		m := masterOrErr(args[2])
		if m == nil {
			return
		}
		s.event(levelWarning, "-monitor", m, "%@")
		s.masters.remove(m)
		s.flushConfigReply(w)
	case "ckquorum":
		if n != 3 {
			arity()
			return
		}
		m := masterOrErr(args[2])
		if m == nil {
			return
		}
		usable, noQuorum, noAuth := s.quorumReachable(m)
		if !noQuorum && !noAuth {
			w.SimpleString(fmt.Sprintf("OK %d usable Sentinels. Quorum and failover authorization can be reached", usable))
			return
		}
		e := fmt.Sprintf("NOQUORUM %d usable Sentinels. ", usable)
		if noQuorum {
			e += "Not enough available Sentinels to reach the specified quorum for this master"
		}
		if noAuth {
			if noQuorum {
				e += ". "
			}
			e += "Not enough available Sentinels to reach the majority and authorize a failover"
		}
		w.Error(e)
	case "set":
		if n < 3 {
			arity()
			return
		}
		s.setCommand(w, args)
	case "config":
		if n < 4 {
			arity()
			return
		}
		switch {
		case strings.EqualFold(args[2], "set") && n >= 5:
			s.configSet(w, args)
		case strings.EqualFold(args[2], "get") && n >= 4:
			s.configGet(w, args)
		default:
			w.Error("ERR Only SENTINEL CONFIG GET <param> [<param> <param> ...]/ SET <param> <value> [<param> <value> ...] are supported.")
		}
	case "info-cache":
		s.replyInfoCache(w, args[2:])
	case "simulate-failure":
		s.simFailure = 0
		for _, a := range args[2:] {
			switch strings.ToLower(a) {
			case "crash-after-election":
				s.simFailure |= simFailureCrashElected
				s.log.Warningf("Failure simulation: this Sentinel will crash after being successfully elected as failover leader")
			case "crash-after-promotion":
				s.simFailure |= simFailureCrashPromote
				s.log.Warningf("Failure simulation: this Sentinel will crash after promoting the selected replica to master")
			case "help":
				w.ArrayLen(2)
				w.BulkString("crash-after-election")
				w.BulkString("crash-after-promotion")
				return
			default:
				w.Error("ERR Unknown failure simulation specified")
				return
			}
		}
		w.SimpleString("OK")
	case "debug":
		if n == 2 {
			s.replyDebug(w)
		} else {
			s.setDebug(w, args)
		}
	default:
		w.Error(command.ErrUnknownSubcommand(c.Args[1], "sentinel"))
	}
}

func (s *Sentinel) flushConfigReply(w *resp.Writer) {
	if s.flushConfig() != nil {
		w.Error("ERR Failed to save config file. Check server logs.")
		return
	}
	w.SimpleString("OK")
}

// quorumReachable counts the usable sentinels (not down, this one
// included) against the quorum and the majority of all known.
func (s *Sentinel) quorumReachable(m *instance) (usable int, noQuorum, noAuth bool) {
	usable = 1
	voters := m.sentinels.len() + 1
	for _, o := range m.sentinels.list {
		if o.flags&(fSDown|fODown) == 0 {
			usable++
		}
	}
	return usable, usable < m.quorum, usable < voters/2+1
}

func (s *Sentinel) replyInstances(w *resp.Writer, t *instances) {
	var list []*instance
	for _, ri := range t.list {
		if ri.flags&fSlave != 0 && ri.replicaAnnounced == 0 {
			continue
		}
		list = append(list, ri)
	}
	w.ArrayLen(len(list))
	for _, ri := range list {
		s.replyInstance(w, ri)
	}
}

// replyInstance is the map of SENTINEL MASTER/REPLICAS/SENTINELS, field
// for field in Redis's order (some tools read it by position).
func (s *Sentinel) replyInstance(w *resp.Writer, ri *instance) {
	now := s.now()
	type kv struct {
		k   string
		v   string
		num bool
	}
	var f []kv
	str := func(k, v string) { f = append(f, kv{k, v, false}) }
	num := func(k string, v int64) { f = append(f, kv{k, strconv.FormatInt(v, 10), true}) }
	str("name", ri.name)
	str("ip", s.announceAddr(ri.addr))
	num("port", int64(ri.addr.port))
	str("runid", ri.runid)
	var fl []string
	for _, x := range []struct {
		bit  flags
		name string
	}{{fSDown, "s_down"}, {fODown, "o_down"}, {fMaster, "master"}, {fSlave, "slave"}, {fSentinel, "sentinel"}} {
		if ri.flags&x.bit != 0 {
			fl = append(fl, x.name)
		}
	}
	if ri.link.disconnected {
		fl = append(fl, "disconnected")
	}
	for _, x := range []struct {
		bit  flags
		name string
	}{{fMasterDown, "master_down"}, {fFailoverInProgress, "failover_in_progress"}, {fPromoted, "promoted"},
		{fReconfSent, "reconf_sent"}, {fReconfInprog, "reconf_inprog"}, {fReconfDone, "reconf_done"},
		{fForceFailover, "force_failover"}, {fScriptKillSent, "script_kill_sent"}, {fMasterReboot, "master_reboot"}} {
		if ri.flags&x.bit != 0 {
			fl = append(fl, x.name)
		}
	}
	str("flags", strings.Join(fl, ","))
	num("link-pending-commands", int64(ri.link.pending))
	num("link-refcount", 1)
	if ri.flags&fFailoverInProgress != 0 {
		str("failover-state", failoverStateNames[ri.failoverState])
	}
	if ri.link.actPing != 0 {
		num("last-ping-sent", now-ri.link.actPing)
	} else {
		num("last-ping-sent", 0)
	}
	num("last-ok-ping-reply", now-ri.link.lastAvail)
	num("last-ping-reply", now-ri.link.lastPong)
	if ri.flags&fSDown != 0 {
		num("s-down-time", now-ri.sDownSince)
	}
	if ri.flags&fODown != 0 {
		num("o-down-time", now-ri.oDownSince)
	}
	num("down-after-milliseconds", ri.downAfter)
	if ri.flags&(fMaster|fSlave) != 0 {
		if ri.infoRefresh != 0 {
			num("info-refresh", now-ri.infoRefresh)
		} else {
			num("info-refresh", 0)
		}
		if ri.roleReported == fMaster {
			str("role-reported", "master")
		} else {
			str("role-reported", "slave")
		}
		num("role-reported-time", now-ri.roleReportedTime)
	}
	if ri.flags&fMaster != 0 {
		num("config-epoch", int64(ri.configEpoch))
		num("num-slaves", int64(ri.slaves.len()))
		num("num-other-sentinels", int64(ri.sentinels.len()))
		num("quorum", int64(ri.quorum))
		num("failover-timeout", ri.failoverTimeout)
		num("parallel-syncs", int64(ri.parallelSyncs))
		if ri.notificationScript != "" {
			str("notification-script", ri.notificationScript)
		}
		if ri.clientReconfigScript != "" {
			str("client-reconfig-script", ri.clientReconfigScript)
		}
	}
	if ri.flags&fSlave != 0 {
		num("master-link-down-time", ri.masterLinkDownTime)
		if ri.slaveMasterLinkUp {
			str("master-link-status", "ok")
		} else {
			str("master-link-status", "err")
		}
		host := ri.slaveMasterHost
		if host == "" {
			host = "?"
		}
		str("master-host", host)
		num("master-port", int64(ri.slaveMasterPort))
		num("slave-priority", int64(ri.slavePriority))
		num("slave-repl-offset", int64(ri.slaveReplOffset))
		num("replica-announced", int64(ri.replicaAnnounced))
	}
	if ri.flags&fSentinel != 0 {
		num("last-hello-message", now-ri.lastHelloTime)
		leader := ri.leader
		if leader == "" {
			leader = "?"
		}
		str("voted-leader", leader)
		num("voted-leader-epoch", int64(ri.leaderEpoch))
	}
	w.MapLen(len(f))
	for _, x := range f {
		w.BulkString(x.k)
		w.BulkString(x.v)
	}
}

func (s *Sentinel) replyPendingScripts(w *resp.Writer) {
	now := s.now()
	w.ArrayLen(len(s.scripts))
	for _, j := range s.scripts {
		w.MapLen(5)
		w.BulkString("argv")
		w.ArrayLen(len(j.argv))
		for _, a := range j.argv {
			w.BulkString(a)
		}
		w.BulkString("flags")
		pid := int64(0)
		if j.running && j.cmd != nil && j.cmd.Process != nil {
			pid = int64(j.cmd.Process.Pid)
		}
		if j.running {
			w.BulkString("running")
		} else {
			w.BulkString("scheduled")
		}
		w.BulkString("pid")
		w.BulkInt(pid)
		if j.running {
			w.BulkString("run-time")
			w.BulkInt(now - j.start)
		} else {
			delay := int64(0)
			if j.start != 0 {
				delay = max(j.start-now, 0)
			}
			w.BulkString("run-delay")
			w.BulkInt(delay)
		}
		w.BulkString("retry-num")
		w.BulkInt(int64(j.retryNum))
	}
}

func (s *Sentinel) replyInfoCache(w *resp.Writer, names []string) {
	now := s.now()
	list := s.masters.list
	if len(names) > 0 {
		list = nil
		seen := map[*instance]bool{}
		for _, name := range names {
			if m := s.masters.get(name); m != nil && !seen[m] {
				seen[m] = true
				list = append(list, m)
			}
		}
	}
	w.ArrayLen(len(list) * 2)
	for _, m := range list {
		w.BulkString(m.name)
		w.ArrayLen(m.slaves.len() + 1)
		for _, ri := range append([]*instance{m}, m.slaves.list...) {
			w.ArrayLen(2)
			// As Redis: every age is 0 while the primary's INFO was
			// never received.
			if m.infoRefresh != 0 {
				w.Int(now - ri.infoRefresh)
			} else {
				w.Int(0)
			}
			if ri.hasInfo {
				w.BulkString(ri.info)
			} else {
				w.Null()
			}
		}
	}
}

// setCommand is SENTINEL SET <master> <option> <value> ...: each option is
// applied (and announced with +set) in turn; the first bad one stops.
func (s *Sentinel) setCommand(w *resp.Writer, args []string) {
	m := s.masters.get(args[2])
	if m == nil {
		w.Error("ERR No such master with that name")
		return
	}
	changes := 0
	badfmt := func(arg, option string) {
		w.Error(fmt.Sprintf("ERR Invalid argument '%s' for SENTINEL SET '%s'", arg, option))
		if changes > 0 {
			s.flushConfig()
		}
	}
	seterr := func(msg string) {
		w.Error(msg)
		if changes > 0 {
			s.flushConfig()
		}
	}
	for j := 3; j < len(args); j++ {
		more := len(args) - 1 - j
		option := args[j]
		old := j
		redacted := false
		positive := func(allowZero bool) (int64, bool) {
			j++
			v, err := strconv.ParseInt(args[j], 10, 64)
			if err != nil || v < 0 || (v == 0 && !allowZero) {
				badfmt(args[j], option)
				return 0, false
			}
			return v, true
		}
		switch o := strings.ToLower(option); {
		case o == "down-after-milliseconds" && more > 0:
			v, ok := positive(false)
			if !ok {
				return
			}
			m.downAfter = v
			propagateDownAfter(m)
		case o == "failover-timeout" && more > 0:
			v, ok := positive(false)
			if !ok {
				return
			}
			m.failoverTimeout = v
		case o == "parallel-syncs" && more > 0:
			v, ok := positive(false)
			if !ok {
				return
			}
			m.parallelSyncs = int(v)
		case (o == "notification-script" || o == "client-reconfig-script") && more > 0:
			j++
			value := args[j]
			if s.denyScriptsReconfig {
				seterr("ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration")
				return
			}
			if value != "" && !isExecutable(s.scriptPath(value)) {
				if o == "notification-script" {
					seterr("ERR Notification script seems non existing or non executable")
				} else {
					seterr("ERR Client reconfiguration script seems non existing or non executable")
				}
				return
			}
			if o == "notification-script" {
				m.notificationScript = value
			} else {
				m.clientReconfigScript = value
			}
		case o == "auth-pass" && more > 0:
			j++
			m.authPass = args[j]
			m.dropLinks()
			redacted = true
		case o == "auth-user" && more > 0:
			j++
			m.authUser = args[j]
			m.dropLinks()
		case o == "quorum" && more > 0:
			v, ok := positive(false)
			if !ok {
				return
			}
			m.quorum = int(v)
		case o == "rename-command" && more > 1:
			from, to := args[j+1], args[j+2]
			j += 2
			if from == "" || to == "" {
				bad := to
				if to != "" {
					bad = from
				}
				badfmt(bad, option)
				return
			}
			key := strings.ToLower(from)
			delete(m.renamed, key)
			if !strings.EqualFold(from, to) {
				m.renamed[key] = to
			}
		case o == "master-reboot-down-after-period" && more > 0:
			v, ok := positive(true)
			if !ok {
				return
			}
			m.rebootDownAfter = v
		default:
			seterr(fmt.Sprintf("ERR Unknown option or number of arguments for SENTINEL SET '%s'", option))
			return
		}
		changes++
		switch j - old + 1 {
		case 2:
			v := args[old+1]
			if redacted {
				v = "******"
			}
			s.event(levelWarning, "+set", m, "%@ %s %s", args[old], v)
		case 3:
			s.event(levelWarning, "+set", m, "%@ %s %s %s", args[old], args[old+1], args[old+2])
		default:
			s.event(levelWarning, "+set", m, "%@ %s", args[old])
		}
	}
	if changes > 0 {
		s.flushConfigReply(w)
	}
}

var configOptions = []string{"announce-ip", "sentinel-user", "sentinel-pass", "resolve-hostnames", "announce-port", "announce-hostnames", "loglevel"}

var logLevels = map[string]bool{"debug": true, "verbose": true, "notice": true, "warning": true, "nothing": true}

// configSet is SENTINEL CONFIG SET: every pair is checked first, then all
// applied, then the configuration saved.
func (s *Sentinel) configSet(w *resp.Writer, args []string) {
	seen := map[string]bool{}
	for i := 3; i < len(args); i++ {
		option := args[i]
		known := false
		for _, o := range configOptions {
			if o == option {
				known = true
			}
		}
		if !known {
			w.Error(fmt.Sprintf("ERR Invalid argument '%s' to SENTINEL CONFIG SET", option))
			return
		}
		if seen[option] {
			w.Error(fmt.Sprintf("ERR Duplicate argument '%s' to SENTINEL CONFIG SET", option))
			return
		}
		seen[option] = true
		if i+1 == len(args) {
			w.Error(fmt.Sprintf("ERR Missing argument '%s' value", option))
			return
		}
		i++
		val := args[i]
		bad := false
		switch option {
		case "resolve-hostnames", "announce-hostnames":
			_, ok := yesNo(val)
			bad = !ok
		case "announce-port":
			n, err := strconv.ParseInt(val, 10, 64)
			bad = err != nil || n < 0 || n > 65535
		case "loglevel":
			bad = !logLevels[strings.ToLower(val)]
		}
		if bad {
			w.Error(fmt.Sprintf("ERR Invalid value '%s' to SENTINEL CONFIG SET '%s'", val, option))
			return
		}
	}
	dropConns := false
	for i := 3; i+1 < len(args); i += 2 {
		val := args[i+1]
		switch args[i] {
		case "loglevel":
			_ = s.cfg.Set([][2]string{{"loglevel", strings.ToLower(val)}})
		case "resolve-hostnames":
			s.resolveHostnames, _ = yesNo(val)
		case "announce-hostnames":
			s.announceHostnames, _ = yesNo(val)
		case "announce-ip":
			s.announceIP = val
		case "announce-port":
			p, _ := strconv.Atoi(val)
			s.announcePort = p
		case "sentinel-user":
			s.sentinelUser = val
			dropConns = true
		case "sentinel-pass":
			s.sentinelPass = val
			dropConns = true
		}
	}
	s.flushConfigReply(w)
	if dropConns {
		for _, m := range s.masters.list {
			for _, o := range m.sentinels.list {
				if !o.link.disconnected {
					o.link.closeAll()
				}
			}
		}
	}
}

func (s *Sentinel) configGet(w *resp.Writer, args []string) {
	values := map[string]string{
		"resolve-hostnames":  yesNoText(s.resolveHostnames),
		"announce-hostnames": yesNoText(s.announceHostnames),
		"announce-ip":        s.announceIP,
		"announce-port":      strconv.Itoa(s.announcePort),
		"sentinel-user":      s.sentinelUser,
		"sentinel-pass":      s.sentinelPass,
		"loglevel":           s.cfg.String("loglevel"),
	}
	order := []string{"resolve-hostnames", "announce-hostnames", "announce-ip", "announce-port", "sentinel-user", "sentinel-pass", "loglevel"}
	var out []string
	seen := map[string]bool{}
	for _, pattern := range args[3:] {
		for _, o := range order {
			if !seen[o] && config.GlobMatchString(pattern, o, true) {
				seen[o] = true
				out = append(out, o)
			}
		}
	}
	w.MapLen(len(out))
	for _, o := range out {
		w.BulkString(o)
		w.BulkString(values[o])
	}
}

func (s *Sentinel) debugParams() []struct {
	name string
	p    *int64
} {
	t := &s.t
	return []struct {
		name string
		p    *int64
	}{
		{"info-period", &t.infoPeriod}, {"ping-period", &t.pingPeriod}, {"ask-period", &t.askPeriod},
		{"publish-period", &t.publishPeriod}, {"default-down-after", &t.defaultDownAfter},
		{"default-failover-timeout", &t.defaultFailoverTimeout}, {"tilt-trigger", &t.tiltTrigger},
		{"tilt-period", &t.tiltPeriod}, {"slave-reconf-timeout", &t.slaveReconfTimeout},
		{"min-link-reconnect-period", &t.minLinkReconnectPeriod}, {"election-timeout", &t.electionTimeout},
		{"script-max-runtime", &t.scriptMaxRuntime}, {"script-retry-delay", &t.scriptRetryDelay},
	}
}

func (s *Sentinel) replyDebug(w *resp.Writer) {
	params := s.debugParams()
	w.MapLen(len(params))
	for _, p := range params {
		w.BulkString(strings.ToUpper(p.name))
		w.BulkInt(*p.p)
	}
}

// setDebug is SENTINEL DEBUG <param> <value> ...: the timing parameters
// tests shorten. Values are applied as they are checked, as Redis does.
func (s *Sentinel) setDebug(w *resp.Writer, args []string) {
	params := s.debugParams()
	for j := 2; j < len(args); j++ {
		more := len(args) - 1 - j
		option := args[j]
		var target *int64
		for _, p := range params {
			if strings.EqualFold(p.name, option) {
				target = p.p
			}
		}
		if target == nil || more == 0 {
			w.Error(fmt.Sprintf("ERR Unknown option or number of arguments for SENTINEL DEBUG '%s'", option))
			return
		}
		j++
		v, err := strconv.ParseInt(args[j], 10, 64)
		if err != nil || v <= 0 {
			w.Error(fmt.Sprintf("ERR Invalid argument '%s' for SENTINEL DEBUG '%s'", args[j], option))
			return
		}
		*target = v
	}
	w.SimpleString("OK")
}

// InfoSection is the body of INFO's "# Sentinel" section.
func (s *Sentinel) InfoSection() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	tiltSince := int64(-1)
	if s.tilt {
		tiltSince = (s.now() - s.tiltStart) / 1000
	}
	tilt := 0
	if s.tilt {
		tilt = 1
	}
	fmt.Fprintf(&b, "sentinel_masters:%d\r\nsentinel_tilt:%d\r\nsentinel_tilt_since_seconds:%d\r\nsentinel_running_scripts:%d\r\nsentinel_scripts_queue_length:%d\r\nsentinel_simulate_failure_flags:%d\r\n",
		s.masters.len(), tilt, tiltSince, s.runningScripts, len(s.scripts), s.simFailure)
	for i, m := range s.masters.list {
		status := "ok"
		if m.flags&fODown != 0 {
			status = "odown"
		} else if m.flags&fSDown != 0 {
			status = "sdown"
		}
		fmt.Fprintf(&b, "master%d:name=%s,status=%s,address=%s:%d,slaves=%d,sentinels=%d\r\n",
			i, m.name, status, s.announceAddr(m.addr), m.addr.port, m.slaves.len(), m.sentinels.len()+1)
	}
	return b.String()
}

// Role is ROLE's reply in sentinel mode: "sentinel" and the primaries'
// names.
func (s *Sentinel) Role(w *resp.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.ArrayLen(2)
	w.BulkString("sentinel")
	w.ArrayLen(s.masters.len())
	for _, m := range s.masters.list {
		w.BulkString(m.name)
	}
}

// ProcessHello is PUBLISH __sentinel__:hello in sentinel mode: another
// sentinel's hello sent directly, handled as one read from a channel.
func (s *Sentinel) ProcessHello(message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.processHello(message)
}
