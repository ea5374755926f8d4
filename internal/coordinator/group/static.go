package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// replaceStatic handles a known group.instance.id joining with an empty
// member id (KIP-345): the instance gets a new member id and the old one is
// fenced. In a Stable group whose protocol the new metadata does not
// change, that is all: the replacement is written down and the member gets
// the current generation back, with no rebalance. Otherwise the group
// rebalances.
func (c *Coordinator) replaceStatic(g *group, req *kmsg.JoinGroupRequest, w *waiter, old *member, newID string) {
	if g.state == Stable {
		selected := g.selectProtocol(func(m *member) []kmsg.JoinGroupRequestProtocol {
			if m == old {
				return req.Protocols
			}
			return m.protocols
		})
		if selected == g.protocol {
			c.replaceStaticStable(g, req, w, old, newID)
			return
		}
	}
	c.fence(g, old)
	nm := &member{
		id:               newID,
		instanceID:       old.instanceID,
		clientID:         old.clientID,
		clientHost:       old.clientHost,
		rebalanceTimeout: old.rebalanceTimeout,
		sessionTimeout:   old.sessionTimeout,
		assignment:       old.assignment,
		protocolType:     old.protocolType,
		protocols:        old.protocols,
		seq:              c.nextSeq(),
	}
	wasLeader := g.leader == old.id
	g.remove(old.id)
	g.add(nm, nil)
	if wasLeader {
		g.leader = newID
	}
	c.scheduleHeartbeat(g, newID, nm.sessionTimeout)
	g.updateProtocols(nm, req)
	g.setJoin(nm, w)
	switch g.state {
	case Stable:
		c.maybePrepareRebalanceOrCompleteJoin(g)
	case CompletingRebalance:
		// The leader may be assigning to the old member id: start over.
		c.prepareRebalance(g)
	case PreparingRebalance:
		c.maybeCompleteJoinPhase(g)
	}
}

// replaceStaticStable writes the group with the old member id replaced by
// the new one, which keeps the old assignment.
func (c *Coordinator) replaceStaticStable(g *group, req *kmsg.JoinGroupRequest, w *waiter, old *member, newID string) {
	c.fence(g, old)
	formerLeader := g.leader
	v := g.value(g.stateTime)
	for _, m := range g.sorted() {
		if m != old {
			v.Members = append(v.Members, g.valueMember(m, m.metadata(g.protocol), m.assignment))
		}
	}
	nm := kmsg.NewGroupMetadataValueMember()
	nm.MemberID, nm.InstanceID, nm.ClientID, nm.ClientHost = newID, old.instanceID, old.clientID, old.clientHost
	nm.RebalanceTimeoutMillis, nm.SessionTimeoutMillis = rebalanceTimeout(req), req.SessionTimeoutMillis
	nm.Subscription, nm.Assignment = metadataOf(req.Protocols, g.protocol), old.assignment
	v.Members = append(v.Members, nm)
	if formerLeader == old.id {
		v.Leader = kmsg.StringPtr(newID)
	}
	c.apply(groupMetadataRecord(g.id, v))

	m := g.members[newID]
	g.countProtocols(m, -1)
	m.protocols = req.Protocols
	g.countProtocols(m, 1)
	c.scheduleHeartbeat(g, newID, m.sessionTimeout)

	isLeader := g.leader == newID
	var resp *kmsg.JoinGroupResponse
	if req.Version >= 9 {
		// KIP-814: the leader learns it leads but must not reassign.
		resp = g.joinResponse(m, isLeader)
		resp.SkipAssignment = isLeader
	} else {
		// Older clients are told the former leader id, so a returning
		// leader does not compute an assignment nobody asked for.
		resp = g.joinResponse(m, false)
		resp.LeaderID = formerLeader
	}
	c.reply(w, resp)
}

// fence answers the old member id's parked requests with
// FENCED_INSTANCE_ID and ends its session.
func (c *Coordinator) fence(g *group, old *member) {
	c.failWaiters(g, old, kerr.FencedInstanceID)
	c.cancelHeartbeat(g, old.id)
}

func metadataOf(protos []kmsg.JoinGroupRequestProtocol, name string) []byte {
	for _, p := range protos {
		if p.Name == name {
			return p.Metadata
		}
	}
	return nil
}
