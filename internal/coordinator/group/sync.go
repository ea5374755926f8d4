package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SyncGroup (key 14, v0-5) hands out the leader's assignment. After a
// completed join phase, followers' requests are parked until the leader's
// arrives; the leader's assignment is then written as a GroupMetadata
// record, the group becomes Stable, and every parked member gets its part.
// In a Stable group a member gets its assignment at once. v5 answers echo
// the protocol type and name (KIP-559).
func (c *Coordinator) SyncGroup(from Caller, req *kmsg.SyncGroupRequest) Result {
	if err := c.checkGroup(req.Group); err != nil {
		return c.finish(syncError(req.Version, err))
	}
	g := c.groups[req.Group]
	if g == nil || g.state == Empty {
		return c.finish(syncError(req.Version, kerr.UnknownMemberID))
	}
	if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
		return c.finish(syncError(req.Version, err))
	}
	if req.Generation != g.generation {
		return c.finish(syncError(req.Version, kerr.IllegalGeneration))
	}
	if inconsistent(req.ProtocolType, g.protocolType) || inconsistent(req.Protocol, g.protocol) {
		return c.finish(syncError(req.Version, kerr.InconsistentGroupProtocol))
	}
	m := g.members[req.MemberID]
	switch g.state {
	case PreparingRebalance:
		return c.finish(syncError(req.Version, kerr.RebalanceInProgress))
	case CompletingRebalance:
		w := &waiter{ref: from.Ref, version: req.Version}
		c.cur = w
		if old := m.sync; old != nil { // a retry from another connection
			c.reply(old, syncError(old.version, kerr.RebalanceInProgress))
		}
		m.sync = w
		c.syncReceived(g, m.id)
		if m.id == g.leader {
			c.completeSync(g, req)
		}
		return c.finish(nil)
	default: // Stable
		c.syncReceived(g, m.id)
		resp := kmsg.NewPtrSyncGroupResponse()
		resp.Version = req.Version
		resp.ProtocolType, resp.Protocol = kmsg.StringPtr(g.protocolType), kmsg.StringPtr(g.protocol)
		resp.MemberAssignment = m.assignment
		return c.finish(resp)
	}
}

// completeSync writes the leader's assignment (an empty one for members
// it left out), which makes the group Stable, and answers the parked
// members.
func (c *Coordinator) completeSync(g *group, req *kmsg.SyncGroupRequest) {
	assigned := make(map[string][]byte, len(req.GroupAssignment))
	for _, a := range req.GroupAssignment {
		assigned[a.MemberID] = a.MemberAssignment
	}
	v := g.value(c.nowMs())
	for _, m := range g.sorted() {
		a := assigned[m.id]
		if a == nil {
			a = []byte{}
		}
		v.Members = append(v.Members, g.valueMember(m, m.metadata(g.protocol), a))
	}
	c.apply(groupMetadataRecord(g.id, v))
	c.propagateAssignment(g, nil)
}

// syncReceived notes that a member sent SyncGroup; once all have, the sync
// timeout is off.
func (c *Coordinator) syncReceived(g *group, id string) {
	delete(g.pendingSync, id)
	if len(g.pendingSync) == 0 {
		c.timers.cancel(timerKey{kind: timerSync, group: g.id})
	}
}

// inconsistent reports a request's protocol type or name that differs
// from the group's; an absent one never does.
func inconsistent(req *string, group string) bool {
	return req != nil && group != "" && *req != group
}
