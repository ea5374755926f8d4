package group

import (
	"encoding/base64"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumerLeave serves member epoch -1 (leave) and -2 (a static member's
// temporary leave, keeping its partitions for its return within the
// session timeout).
func (c *Coordinator) consumerLeave(req *kmsg.ConsumerGroupHeartbeatRequest, resp *kmsg.ConsumerGroupHeartbeatResponse) *hbError {
	g, e := c.consumerGroupFor(req.Group, false)
	if e != nil {
		return e
	}
	var m *cmember
	if req.InstanceID != nil {
		m = g.members[g.static[*req.InstanceID]]
		switch {
		case m == nil:
			return hbErr(kerr.UnknownMemberID, "Instance id %s is unknown.", *req.InstanceID)
		case m.id != req.MemberID:
			return hbErr(kerr.FencedInstanceID, "Static member %s with instance id %s was fenced by member %s.", req.MemberID, *req.InstanceID, m.id)
		}
	} else if m = g.members[req.MemberID]; m == nil {
		return hbErr(kerr.UnknownMemberID, "Member %s is not a member of group %s.", req.MemberID, g.id)
	}
	resp.MemberID, resp.MemberEpoch = kmsg.StringPtr(m.id), req.MemberEpoch
	if req.MemberEpoch == leaveStaticEpoch {
		// It keeps what it owns, but gives up what it was revoking.
		cur := m.cur
		cur.prevEpoch, cur.epoch, cur.revoking = cur.epoch, leaveStaticEpoch, assignment{}
		if cur.state == memberUnrevokedPartitions {
			cur.state = memberStable
		}
		c.apply(cgCurrentRecord(g.id, m.id, &cur))
		c.timers.cancel(timerKey{kind: timerConsumerRevocation, group: g.id, member: m.id})
		c.scheduleConsumerSession(g, m)
		return nil
	}
	c.fenceCMember(g, m)
	return nil
}

// fenceCMember removes a member (leave, session or revocation timeout):
// the tombstones of its records, the subscription without it, and a new
// group epoch so that the others get its partitions.
func (c *Coordinator) fenceCMember(g *cgroup, m *cmember) {
	c.removeCMemberRecords(g, m.id)
	subs := map[string]topicMeta{}
	for name := range g.subscribedNames("") {
		if t, ok := g.subscription[name]; ok {
			subs[name] = t
		}
	}
	if !equalSubscription(subs, g.subscription) {
		c.apply(cgSubscriptionRecord(g.id, g.epoch, subs))
	}
	c.apply(cgEpochRecord(g.id, g.epoch+1))
}

func (c *Coordinator) removeCMemberRecords(g *cgroup, id string) {
	c.apply(cgCurrentRecord(g.id, id, nil))
	c.apply(cgTargetMemberRecord(g.id, id, nil))
	c.apply(cgMemberRecord(g.id, id, nil))
}

// replaceStaticCMember has a new member id take over a static member that
// left temporarily (epoch -2, KIP-848 static membership): the old
// member's records go, the new member gets its subscription, target and
// partitions, and nothing is reassigned.
func (c *Coordinator) replaceStaticCMember(g *cgroup, old *cmember, newID string) {
	meta, cur, target := old.meta, old.cur, g.target[old.id]
	c.removeCMemberRecords(g, old.id)
	c.apply(cgMemberRecord(g.id, newID, &meta))
	if target != nil {
		c.apply(cgTargetMemberRecord(g.id, newID, target))
	}
	cur.epoch, cur.prevEpoch = joinEpoch, joinEpoch
	c.apply(cgCurrentRecord(g.id, newID, &cur))
}

// updateTargetAssignment computes the target assignment for the group
// epoch and writes what changed: a record per member whose target
// changed (every new member gets one), then the assignment epoch.
func (c *Coordinator) updateTargetAssignment(g *cgroup) {
	spec := assignSpec{topics: map[[16]byte]int32{}}
	for _, t := range g.subscription {
		spec.topics[t.id] = t.partitions
	}
	for _, m := range g.sortedMembers() {
		am := assignMember{id: m.id, instanceID: m.meta.instanceID, prev: g.target[m.id]}
		for _, name := range g.memberTopics(&m.meta) {
			if t, ok := g.subscription[name]; ok {
				am.topics = append(am.topics, t.id)
			}
		}
		slices.SortFunc(am.topics, compareIDs)
		spec.members = append(spec.members, am)
	}
	next := assign(c.groupAssignor(g), spec)
	for _, m := range spec.members {
		old, ok := g.target[m.id]
		if a := next[m.id]; !ok || !a.equal(old) {
			c.apply(cgTargetMemberRecord(g.id, m.id, a))
		}
	}
	c.apply(cgTargetEpochRecord(g.id, g.epoch))
}

// groupAssignor is the server assignor most members ask for (ties: the
// first in group.consumer.assignors order), or the default.
func (c *Coordinator) groupAssignor(g *cgroup) string {
	votes := map[string]int{}
	for _, m := range g.members {
		if m.meta.assignor != nil {
			votes[*m.meta.assignor]++
		}
	}
	best := ""
	for _, a := range c.cfg.ConsumerAssignors {
		if votes[a] > votes[best] {
			best = a
		}
	}
	if best == "" && len(c.cfg.ConsumerAssignors) > 0 {
		best = c.cfg.ConsumerAssignors[0]
	}
	return best
}

// Timers of consumer group members.

func (c *Coordinator) scheduleConsumerSession(g *cgroup, m *cmember) {
	c.timers.schedule(timerKey{kind: timerConsumerSession, group: g.id, member: m.id},
		c.after(durationMs(c.cfg.ConsumerSessionTimeout)))
}

// scheduleRevocation arms the rebalance timeout when a member is newly
// asked to revoke partitions, and disarms it once it has.
func (c *Coordinator) scheduleRevocation(g *cgroup, m *cmember, before currentAssignment) {
	k := timerKey{kind: timerConsumerRevocation, group: g.id, member: m.id}
	switch {
	case m.cur.state != memberUnrevokedPartitions:
		c.timers.cancel(k)
	case before.state != memberUnrevokedPartitions || before.epoch != m.cur.epoch:
		c.timers.schedule(k, c.after(max(m.meta.rebalanceTimeout, 1)))
	}
}

func (c *Coordinator) cancelConsumerTimers(group, member string) {
	c.timers.cancel(timerKey{kind: timerConsumerSession, group: group, member: member})
	c.timers.cancel(timerKey{kind: timerConsumerRevocation, group: group, member: member})
}

// fireConsumer runs a consumer member's timer: a session that expired, or
// partitions not revoked within the rebalance timeout, fence the member.
func (c *Coordinator) fireConsumer(k timerKey) {
	g := c.cgroups[k.group]
	if g == nil {
		return
	}
	m := g.members[k.member]
	if m == nil {
		return
	}
	if k.kind == timerConsumerRevocation && m.cur.state != memberUnrevokedPartitions {
		return
	}
	c.fenceCMember(g, m)
}

// loadedConsumers starts every loaded member's session, and the
// revocation timeout of members revoking partitions.
func (c *Coordinator) loadedConsumers() {
	for _, id := range sortedKeys(c.cgroups) {
		g := c.cgroups[id]
		for _, m := range g.sortedMembers() {
			c.scheduleConsumerSession(g, m)
			if m.cur.state == memberUnrevokedPartitions {
				c.timers.schedule(timerKey{kind: timerConsumerRevocation, group: g.id, member: m.id},
					c.after(max(m.meta.rebalanceTimeout, 1)))
			}
		}
	}
}

func encodeUUID(b [16]byte) string { return base64.RawURLEncoding.EncodeToString(b[:]) }
