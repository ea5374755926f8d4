package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Heartbeat (key 12, v0-4) keeps a member's session alive and tells it
// when to rejoin (REBALANCE_IN_PROGRESS).
func (c *Coordinator) Heartbeat(_ Caller, req *kmsg.HeartbeatRequest) Result {
	resp := kmsg.NewPtrHeartbeatResponse()
	resp.Version = req.Version
	if err := c.heartbeat(req); err != nil {
		resp.ErrorCode = err.Code
	}
	return c.finish(resp)
}

func (c *Coordinator) heartbeat(req *kmsg.HeartbeatRequest) *kerr.Error {
	if err := c.checkGroup(req.Group); err != nil {
		return err
	}
	g := c.groups[req.Group]
	if g == nil {
		return kerr.UnknownMemberID
	}
	if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
		return err
	}
	if req.Generation != g.generation {
		return kerr.IllegalGeneration
	}
	m := g.members[req.MemberID]
	switch g.state {
	case PreparingRebalance:
		c.scheduleHeartbeat(g, m.id, m.sessionTimeout)
		return kerr.RebalanceInProgress
	case CompletingRebalance, Stable:
		c.scheduleHeartbeat(g, m.id, m.sessionTimeout)
		return nil
	}
	return kerr.UnknownMemberID
}

// LeaveGroup (key 13, v0-5) removes members: one by member id before v3,
// a batch by member id or group.instance.id (an administrative removal of
// a static member) from v3. A group with members left rebalances.
func (c *Coordinator) LeaveGroup(_ Caller, req *kmsg.LeaveGroupRequest) Result {
	resp := kmsg.NewPtrLeaveGroupResponse()
	resp.Version = req.Version
	if err := c.checkGroup(req.Group); err != nil {
		resp.ErrorCode = err.Code
		return c.finish(resp)
	}
	leaving := req.Members
	if req.Version < 3 {
		leaving = []kmsg.LeaveGroupRequestMember{{MemberID: req.MemberID}}
	}
	g := c.groups[req.Group]
	left := false
	for _, l := range leaving {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID = l.MemberID, l.InstanceID
		if err := c.leave(g, l); err != nil {
			rm.ErrorCode = err.Code
		} else {
			left = true
		}
		resp.Members = append(resp.Members, rm)
	}
	if left {
		switch g.state {
		case Stable, CompletingRebalance:
			c.maybePrepareRebalanceOrCompleteJoin(g)
		case PreparingRebalance:
			c.maybeCompleteJoinPhase(g)
		}
	}
	if req.Version < 3 {
		resp.ErrorCode = resp.Members[0].ErrorCode
		resp.Members = nil
	}
	return c.finish(resp)
}

func (c *Coordinator) leave(g *group, l kmsg.LeaveGroupRequestMember) *kerr.Error {
	switch {
	case g == nil:
		return kerr.UnknownMemberID
	case l.MemberID == "":
		if l.InstanceID == nil {
			return kerr.UnknownMemberID
		}
		m := g.members[g.static[*l.InstanceID]]
		if m == nil {
			return kerr.UnknownMemberID
		}
		c.dropMember(g, m)
	case g.isPending(l.MemberID):
		delete(g.pending, l.MemberID)
		c.cancelHeartbeat(g, l.MemberID)
	default:
		if err := g.validateMember(l.MemberID, l.InstanceID); err != nil {
			return err
		}
		c.dropMember(g, g.members[l.MemberID])
	}
	return nil
}
