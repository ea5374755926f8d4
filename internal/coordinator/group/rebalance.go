package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (c *Coordinator) maybePrepareRebalanceOrCompleteJoin(g *group) {
	if g.state.canRebalance() {
		c.prepareRebalance(g)
	} else {
		c.maybeCompleteJoinPhase(g)
	}
}

// prepareRebalance starts a rebalance. Members waiting for an assignment
// are told to rejoin. The first rebalance of an empty group waits
// group.initial.rebalance.delay.ms for more members; any other ends as
// soon as every member has rejoined, or at the rebalance timeout.
func (c *Coordinator) prepareRebalance(g *group) {
	if g.state == CompletingRebalance {
		c.propagateAssignment(g, kerr.RebalanceInProgress)
	}
	c.timers.cancel(timerKey{kind: timerSync, group: g.id})
	clear(g.pendingSync)
	initial := g.state == Empty
	if initial {
		delay := durationMs(c.cfg.InitialRebalanceDelay)
		g.initialJoin, g.initialDelay = true, delay
		g.initialRemaining = max(g.rebalanceTimeoutMs()-delay, 0)
		c.timers.schedule(timerKey{kind: timerJoin, group: g.id}, c.after(delay))
	}
	g.transition(PreparingRebalance, c.nowMs())
	if !initial {
		c.maybeCompleteJoinElseSchedule(g)
	}
}

func (c *Coordinator) maybeCompleteJoinElseSchedule(g *group) {
	if g.hasAllMembersJoined() {
		c.completeJoin(g)
		return
	}
	g.initialJoin = false
	c.timers.schedule(timerKey{kind: timerJoin, group: g.id}, c.after(g.rebalanceTimeoutMs()))
}

// maybeCompleteJoinPhase ends the join phase once everyone rejoined,
// except during the initial delay, which always runs out.
func (c *Coordinator) maybeCompleteJoinPhase(g *group) {
	if g.state == PreparingRebalance && g.hasAllMembersJoined() && g.prevState != Empty {
		c.completeJoin(g)
	}
}

// tryCompleteInitialRebalance is one step of the initial delay: while new
// members keep arriving, wait another delay, within the rebalance timeout.
func (c *Coordinator) tryCompleteInitialRebalance(g *group) {
	if !g.newMemberAdded || g.initialRemaining == 0 {
		c.completeJoin(g)
		return
	}
	g.newMemberAdded = false
	delay := min(durationMs(c.cfg.InitialRebalanceDelay), g.initialRemaining)
	g.initialRemaining = max(g.initialRemaining-g.initialDelay, 0)
	g.initialDelay = delay
	c.timers.schedule(timerKey{kind: timerJoin, group: g.id}, c.after(delay))
}

// completeJoin ends the join phase: dynamic members that did not rejoin
// are removed, the generation advances, the protocol is chosen, and every
// parked JoinGroup is answered (the leader's with all members' metadata).
// A group left without members becomes Empty, which is written down.
func (c *Coordinator) completeJoin(g *group) {
	c.timers.cancel(timerKey{kind: timerJoin, group: g.id})
	g.initialJoin = false
	for _, m := range g.sorted() {
		if m.join == nil && m.instanceID == nil {
			c.dropMember(g, m)
		}
	}
	if !g.maybeElectNewJoinedLeader() && len(g.members) > 0 {
		// Nobody rejoined (only absent static members are left): wait
		// for their sessions to run out.
		c.timers.schedule(timerKey{kind: timerJoin, group: g.id}, c.after(g.rebalanceTimeoutMs()))
		return
	}
	now := c.nowMs()
	if len(g.members) == 0 {
		v := kmsg.NewGroupMetadataValue()
		v.ProtocolType, v.Generation, v.CurrentStateTimestamp = g.protocolType, g.generation+1, now
		c.apply(groupMetadataRecord(g.id, &v))
		return
	}
	g.generation++
	g.protocol = g.selectProtocol(ownProtocols)
	g.computeSubscribed()
	g.transition(CompletingRebalance, now)
	clear(g.pendingSync)
	for _, m := range g.sorted() {
		if w := m.join; w != nil {
			g.setJoin(m, nil)
			c.reply(w, g.joinResponse(m, m.id == g.leader))
		}
		c.scheduleHeartbeat(g, m.id, m.sessionTimeout)
		m.isNew = false
		g.pendingSync[m.id] = struct{}{}
	}
	g.syncGeneration = g.generation
	c.timers.schedule(timerKey{kind: timerSync, group: g.id}, c.after(g.rebalanceTimeoutMs()))
}

// expireHeartbeat runs when a member's session (or a pending member id)
// times out. Members parked in a rebalance need no heartbeat, except new
// ones.
func (c *Coordinator) expireHeartbeat(g *group, id string) {
	if g.isPending(id) {
		delete(g.pending, id)
		if g.state == PreparingRebalance && g.hasAllMembersJoined() {
			c.completeJoin(g)
		}
		return
	}
	m := g.members[id]
	if m == nil || m.hasSatisfiedHeartbeat() {
		return
	}
	c.dropMember(g, m)
	switch {
	case g.state == Stable || g.state == CompletingRebalance:
		c.maybePrepareRebalanceOrCompleteJoin(g)
	case g.state == PreparingRebalance && g.hasAllMembersJoined():
		c.completeJoin(g)
	}
}

// expirePendingSync removes the members that got their JoinGroup answer
// but did not send SyncGroup within the rebalance timeout, and rebalances.
func (c *Coordinator) expirePendingSync(g *group) {
	if g.syncGeneration != g.generation || len(g.pendingSync) == 0 {
		return
	}
	if g.state != CompletingRebalance && g.state != Stable {
		return
	}
	for _, id := range sortedKeys(g.pendingSync) {
		if m := g.members[id]; m != nil {
			c.dropMember(g, m)
		}
	}
	c.prepareRebalance(g)
}

// propagateAssignment answers every parked SyncGroup: with its assignment
// if err is nil, else with err (and the assignments are cleared, as the
// rebalance they belonged to is over).
func (c *Coordinator) propagateAssignment(g *group, err *kerr.Error) {
	for _, m := range g.sorted() {
		if err != nil {
			m.assignment = []byte{}
		}
		w := m.sync
		if w == nil {
			continue
		}
		m.sync = nil
		resp := kmsg.NewPtrSyncGroupResponse()
		if err != nil {
			resp.ErrorCode = err.Code
		} else {
			resp.ProtocolType, resp.Protocol = kmsg.StringPtr(g.protocolType), kmsg.StringPtr(g.protocol)
			resp.MemberAssignment = m.assignment
		}
		c.reply(w, resp)
		c.scheduleHeartbeat(g, m.id, m.sessionTimeout)
	}
}

// value is the GroupMetadataValue of the group's persisted fields, without
// members.
func (g *group) value(stateTime int64) *kmsg.GroupMetadataValue {
	v := new(kmsg.GroupMetadataValue)
	v.Default()
	v.ProtocolType, v.Generation, v.CurrentStateTimestamp = g.protocolType, g.generation, stateTime
	if g.protocol != "" {
		v.Protocol = kmsg.StringPtr(g.protocol)
	}
	if g.leader != "" {
		v.Leader = kmsg.StringPtr(g.leader)
	}
	return v
}

func (g *group) valueMember(m *member, subscription, assignment []byte) kmsg.GroupMetadataValueMember {
	vm := kmsg.NewGroupMetadataValueMember()
	vm.MemberID, vm.InstanceID, vm.ClientID, vm.ClientHost = m.id, m.instanceID, m.clientID, m.clientHost
	vm.RebalanceTimeoutMillis, vm.SessionTimeoutMillis = m.rebalanceTimeout, m.sessionTimeout
	vm.Subscription, vm.Assignment = subscription, assignment
	return vm
}
