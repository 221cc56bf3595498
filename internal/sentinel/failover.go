package sentinel

import (
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/corvid-db/corvid/internal/resp"
)

// checkSubjectivelyDown: no valid PING reply for down-after-milliseconds,
// a primary that has reported itself a replica for long, or a rebooted
// primary (master-reboot-down-after-period) is subjectively down. Links
// idle for half the period (after a minimum lifetime) are reconnected.
func (s *Sentinel) checkSubjectivelyDown(ri *instance) {
	l := ri.link
	now := s.now()
	var elapsed int64
	if l.actPing != 0 {
		elapsed = now - l.actPing
	} else if l.disconnected {
		elapsed = now - l.lastAvail
	}
	if l.cc != nil && now-l.ccConnTime > s.t.minLinkReconnectPeriod && l.actPing != 0 &&
		now-l.actPing > ri.downAfter/2 && now-l.lastPong > ri.downAfter/2 {
		l.closeConn(l.cc)
	}
	if l.pc != nil && now-l.pcConnTime > s.t.minLinkReconnectPeriod && now-l.pcLastActivity > s.t.publishPeriod*3 {
		l.closeConn(l.pc)
	}
	if elapsed > ri.downAfter ||
		(ri.flags&fMaster != 0 && ri.roleReported == fSlave && now-ri.roleReportedTime > ri.downAfter+s.t.infoPeriod*2) ||
		(ri.flags&fMasterReboot != 0 && now-ri.rebootSince > ri.rebootDownAfter) {
		if ri.flags&fSDown == 0 {
			s.event(levelWarning, "+sdown", ri, "%@")
			ri.sDownSince = now
			ri.flags |= fSDown
		}
	} else if ri.flags&fSDown != 0 {
		s.event(levelWarning, "-sdown", ri, "%@")
		ri.flags &^= fSDown | fScriptKillSent
	}
}

// checkObjectivelyDown: a subjectively down primary is objectively down
// when quorum sentinels (this one included) say so.
func (s *Sentinel) checkObjectivelyDown(m *instance) {
	votes, odown := 0, false
	if m.flags&fSDown != 0 {
		votes = 1
		for _, o := range m.sentinels.list {
			if o.flags&fMasterDown != 0 {
				votes++
			}
		}
		odown = votes >= m.quorum
	}
	if odown {
		if m.flags&fODown == 0 {
			s.event(levelWarning, "+odown", m, "%@ #quorum %d/%d", votes, m.quorum)
			m.flags |= fODown
			m.oDownSince = s.now()
		}
	} else if m.flags&fODown != 0 {
		s.event(levelWarning, "-odown", m, "%@")
		m.flags &^= fODown
	}
}

// askOtherSentinels sends SENTINEL IS-MASTER-DOWN-BY-ADDR to the other
// sentinels of a primary we think is down, with our run ID (a vote
// request) when we are failing it over, "*" otherwise; stale answers are
// forgotten.
func (s *Sentinel) askOtherSentinels(m *instance, forced bool) {
	now := s.now()
	for _, o := range m.sentinels.list {
		if now-o.lastMasterDownReplyTime > s.t.askPeriod*5 {
			o.flags &^= fMasterDown
			o.leader = ""
		}
		if m.flags&fSDown == 0 || o.link.disconnected || o.link.cc == nil {
			continue
		}
		if !forced && now-o.lastMasterDownReplyTime < s.t.askPeriod {
			continue
		}
		runid := "*"
		if m.failoverState > failoverNone {
			runid = s.myid
		}
		o := o
		l := o.link
		c := l.cc
		if c.send(func(r *resp.Reply) {
			if l.cc == c {
				l.pending--
			}
			s.isMasterDownReply(o, r)
		}, o.command("SENTINEL"), "is-master-down-by-addr", s.announceAddr(m.addr),
			strconv.Itoa(m.addr.port), strconv.FormatUint(s.currentEpoch, 10), runid) {
			l.pending++
		}
	}
}

func (s *Sentinel) isMasterDownReply(o *instance, r *resp.Reply) {
	if o.removed || r.Kind != '*' || len(r.Elems) != 3 || r.Elems[0].Kind != ':' ||
		!r.Elems[1].IsString() || r.Elems[2].Kind != ':' {
		return
	}
	o.lastMasterDownReplyTime = s.now()
	if r.Elems[0].Int == 1 {
		o.flags |= fMasterDown
	} else {
		o.flags &^= fMasterDown
	}
	if leader := r.Elems[1].Str; leader != "*" {
		epoch := uint64(r.Elems[2].Int)
		if o.leaderEpoch != epoch {
			s.log.Noticef("%s voted for %s %d", o.name, leader, epoch)
		}
		o.leader = leader
		o.leaderEpoch = epoch
	}
}

// voteLeader is this sentinel's vote for the failover of m in reqEpoch:
// the first candidate asking in an epoch newer than our last vote gets
// it (one vote per epoch); voting for another delays our own attempt.
func (s *Sentinel) voteLeader(m *instance, reqEpoch uint64, reqRunID string) (string, uint64) {
	if reqEpoch > s.currentEpoch {
		s.currentEpoch = reqEpoch
		s.flushConfig()
		s.event(levelWarning, "+new-epoch", m, "%d", s.currentEpoch)
	}
	if m.leaderEpoch < reqEpoch && s.currentEpoch <= reqEpoch {
		m.leader = reqRunID
		m.leaderEpoch = s.currentEpoch
		s.flushConfig()
		s.event(levelWarning, "+vote-for-leader", m, "%s %d", m.leader, m.leaderEpoch)
		if !strings.EqualFold(m.leader, s.myid) {
			m.failoverStart = s.now() + rand.Int64N(maxDesync)
		}
	}
	return m.leader, m.leaderEpoch
}

// getLeader counts the votes of epoch: the winner needs a majority of the
// known sentinels and at least the quorum. We vote too, for the one most
// voted for, or for ourselves.
func (s *Sentinel) getLeader(m *instance, epoch uint64) string {
	voters := m.sentinels.len() + 1
	counts := map[string]int{}
	var order []string
	incr := func(id string) int {
		if _, ok := counts[id]; !ok {
			order = append(order, id)
		}
		counts[id]++
		return counts[id]
	}
	for _, o := range m.sentinels.list {
		if o.leader != "" && o.leaderEpoch == s.currentEpoch {
			incr(o.leader)
		}
	}
	winner, maxVotes := "", 0
	for _, id := range order {
		if counts[id] > maxVotes {
			maxVotes, winner = counts[id], id
		}
	}
	candidate := s.myid
	if winner != "" {
		candidate = winner
	}
	myVote, leaderEpoch := s.voteLeader(m, epoch, candidate)
	if myVote != "" && leaderEpoch == epoch {
		if v := incr(myVote); v > maxVotes {
			maxVotes, winner = v, myVote
		}
	}
	if winner != "" && (maxVotes < voters/2+1 || maxVotes < m.quorum) {
		winner = ""
	}
	return winner
}

func (s *Sentinel) startFailover(m *instance) {
	m.failoverState = failoverWaitStart
	m.flags |= fFailoverInProgress
	s.currentEpoch++
	m.failoverEpoch = s.currentEpoch
	s.event(levelWarning, "+new-epoch", m, "%d", s.currentEpoch)
	s.event(levelWarning, "+try-failover", m, "%@")
	m.failoverStart = s.now() + rand.Int64N(maxDesync)
	m.failoverStateChange = s.now()
}

// startFailoverIfNeeded starts a failover of an objectively down primary
// unless one is running or the last attempt is less than twice the
// failover timeout ago.
func (s *Sentinel) startFailoverIfNeeded(m *instance) bool {
	if m.flags&fODown == 0 || m.flags&fFailoverInProgress != 0 {
		return false
	}
	if s.now()-m.failoverStart < m.failoverTimeout*2 {
		if m.failoverDelayLogged != m.failoverStart {
			at := time.UnixMilli(m.failoverStart + m.failoverTimeout*2)
			m.failoverDelayLogged = m.failoverStart
			s.log.Noticef("Next failover delay: I will not start a failover before %s", at.Format("Mon Jan _2 15:04:05 2006"))
		}
		return false
	}
	s.startFailover(m)
	return true
}

// selectSlave picks the replica to promote: reachable, recently heard
// from, not disconnected from the primary for too long, priority not 0;
// then the lowest priority, the largest replication offset, the smallest
// run ID.
func (s *Sentinel) selectSlave(m *instance) *instance {
	now := s.now()
	maxMasterDown := m.downAfter * 10
	if m.flags&fSDown != 0 {
		maxMasterDown += now - m.sDownSince
	}
	var candidates []*instance
	for _, r := range m.slaves.list {
		if r.flags&(fSDown|fODown) != 0 || r.link.disconnected {
			continue
		}
		if now-r.link.lastAvail > s.t.pingPeriod*5 || r.slavePriority == 0 {
			continue
		}
		validity := s.t.infoPeriod * 3
		if m.flags&fSDown != 0 {
			validity = s.t.pingPeriod * 5
		}
		if now-r.infoRefresh > validity || r.masterLinkDownTime > maxMasterDown {
			continue
		}
		candidates = append(candidates, r)
	}
	if len(candidates) == 0 {
		return nil
	}
	slices.SortStableFunc(candidates, func(a, b *instance) int {
		if a.slavePriority != b.slavePriority {
			return a.slavePriority - b.slavePriority
		}
		if a.slaveReplOffset != b.slaveReplOffset {
			if a.slaveReplOffset > b.slaveReplOffset {
				return -1
			}
			return 1
		}
		switch {
		case a.runid == "" && b.runid == "":
			return 0
		case a.runid == "":
			return 1
		case b.runid == "":
			return -1
		}
		return strings.Compare(strings.ToLower(a.runid), strings.ToLower(b.runid))
	})
	return candidates[0]
}

func (s *Sentinel) failoverStateMachine(m *instance) {
	if m.flags&fFailoverInProgress == 0 {
		return
	}
	switch m.failoverState {
	case failoverWaitStart:
		s.failoverWaitStart(m)
	case failoverSelectSlave:
		s.failoverSelectSlave(m)
	case failoverSendSlaveofNoOne:
		s.failoverSendSlaveOfNoOne(m)
	case failoverWaitPromotion:
		if s.now()-m.failoverStateChange > m.failoverTimeout {
			s.event(levelWarning, "-failover-abort-slave-timeout", m, "%@")
			s.abortFailover(m)
		}
	case failoverReconfSlaves:
		s.failoverReconfNextSlave(m)
	}
}

func (s *Sentinel) failoverWaitStart(m *instance) {
	leader := s.getLeader(m, m.failoverEpoch)
	isLeader := leader != "" && strings.EqualFold(leader, s.myid)
	if !isLeader && m.flags&fForceFailover == 0 {
		timeout := min(s.t.electionTimeout, m.failoverTimeout)
		if s.now()-m.failoverStart > timeout {
			s.event(levelWarning, "-failover-abort-not-elected", m, "%@")
			s.abortFailover(m)
		}
		return
	}
	s.event(levelWarning, "+elected-leader", m, "%@")
	if s.simFailure&simFailureCrashElected != 0 {
		s.simulatedCrash()
	}
	m.failoverState = failoverSelectSlave
	m.failoverStateChange = s.now()
	s.event(levelWarning, "+failover-state-select-slave", m, "%@")
}

func (s *Sentinel) failoverSelectSlave(m *instance) {
	r := s.selectSlave(m)
	if r == nil {
		s.event(levelWarning, "-failover-abort-no-good-slave", m, "%@")
		s.abortFailover(m)
		return
	}
	s.event(levelWarning, "+selected-slave", r, "%@")
	r.flags |= fPromoted
	m.promoted = r
	m.failoverState = failoverSendSlaveofNoOne
	m.failoverStateChange = s.now()
	s.event(levelNotice, "+failover-state-send-slaveof-noone", r, "%@")
}

func (s *Sentinel) failoverSendSlaveOfNoOne(m *instance) {
	p := m.promoted
	if p.link.disconnected {
		if s.now()-m.failoverStateChange > m.failoverTimeout {
			s.event(levelWarning, "-failover-abort-slave-timeout", m, "%@")
			s.abortFailover(m)
		}
		return
	}
	if !s.sendSlaveOf(p, nil) {
		return
	}
	s.event(levelNotice, "+failover-state-wait-promotion", p, "%@")
	m.failoverState = failoverWaitPromotion
	m.failoverStateChange = s.now()
}

// failoverReconfNextSlave points up to parallel-syncs replicas at a time
// at the promoted one, then checks for the end.
func (s *Sentinel) failoverReconfNextSlave(m *instance) {
	inProgress := 0
	for _, r := range m.slaves.list {
		if r.flags&(fReconfSent|fReconfInprog) != 0 {
			inProgress++
		}
	}
	for _, r := range m.slaves.list {
		if inProgress >= m.parallelSyncs {
			break
		}
		if r.flags&(fPromoted|fReconfDone) != 0 {
			continue
		}
		if r.flags&fReconfSent != 0 && s.now()-r.slaveReconfSentTime > s.t.slaveReconfTimeout {
			s.event(levelNotice, "-slave-reconf-sent-timeout", r, "%@")
			r.flags &^= fReconfSent
			r.flags |= fReconfDone
		}
		if r.flags&(fReconfSent|fReconfInprog) != 0 || r.link.disconnected {
			continue
		}
		if s.sendSlaveOf(r, &m.promoted.addr) {
			r.flags |= fReconfSent
			r.slaveReconfSentTime = s.now()
			s.event(levelNotice, "+slave-reconf-sent", r, "%@")
			inProgress++
		}
	}
	s.failoverDetectEnd(m)
}

func (s *Sentinel) failoverDetectEnd(m *instance) {
	if m.promoted == nil || m.promoted.flags&fSDown != 0 {
		return
	}
	notReconfigured, timeout := 0, false
	for _, r := range m.slaves.list {
		if r.flags&(fPromoted|fReconfDone) != 0 || r.flags&fSDown != 0 {
			continue
		}
		notReconfigured++
	}
	if s.now()-m.failoverStateChange > m.failoverTimeout {
		notReconfigured = 0
		timeout = true
		s.event(levelWarning, "+failover-end-for-timeout", m, "%@")
	}
	if notReconfigured == 0 {
		s.event(levelWarning, "+failover-end", m, "%@")
		m.failoverState = failoverUpdateConfig
		m.failoverStateChange = s.now()
	}
	if timeout {
		for _, r := range m.slaves.list {
			if r.flags&(fPromoted|fReconfDone|fReconfSent) != 0 || r.link.disconnected {
				continue
			}
			if s.sendSlaveOf(r, &m.promoted.addr) {
				s.event(levelNotice, "+slave-reconf-sent-be", r, "%@")
				r.flags |= fReconfSent
			}
		}
	}
}

// switchToPromoted ends a failover: the promoted replica becomes the
// primary of record.
func (s *Sentinel) switchToPromoted(m *instance) {
	ref := m
	if m.promoted != nil {
		ref = m.promoted
	}
	s.event(levelWarning, "+switch-master", m, "%s %s %d %s %d", m.name, s.announceAddr(m.addr), m.addr.port,
		s.announceAddr(ref.addr), ref.addr.port)
	s.resetMasterAndChangeAddress(m, ref.addr.hostname, ref.addr.port)
}

func (s *Sentinel) abortFailover(m *instance) {
	m.flags &^= fFailoverInProgress | fForceFailover
	m.failoverState = failoverNone
	m.failoverStateChange = s.now()
	if m.promoted != nil {
		m.promoted.flags &^= fPromoted
		m.promoted = nil
	}
}

func (s *Sentinel) simulatedCrash() {
	s.log.Warningf("Sentinel CRASH because of SENTINEL simulate-failure")
	os.Exit(99)
}
