package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// validateConsumerCommit is OffsetCommit's check for a KIP-848 group, as
// Kafka's ConsumerGroup.validateOffsetCommit: a commit without a member
// epoch (admin tools, assign-mode consumers) only while the group has no
// members; otherwise the member must exist, use OffsetCommit v9+
// (UNSUPPORTED_VERSION below) and send its current member epoch
// (STALE_MEMBER_EPOCH).
func validateConsumerCommit(g *cgroup, req *kmsg.OffsetCommitRequest) *kerr.Error {
	if req.Generation < 0 && len(g.members) == 0 {
		return nil
	}
	m := g.members[req.MemberID]
	switch {
	case m == nil:
		return kerr.UnknownMemberID
	case req.Version < 9:
		return kerr.UnsupportedVersion
	case req.Generation != m.cur.epoch:
		return kerr.StaleMemberEpoch
	}
	return nil
}

// validateConsumerFetch is OffsetFetch v9's check for a KIP-848 group:
// a request naming a member must come from a member at its current epoch
// (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH). Without a member id and epoch
// (admin tools) anything may be fetched.
func (c *Coordinator) validateConsumerFetch(rg kmsg.OffsetFetchRequestGroup) *kerr.Error {
	g := c.cgroups[rg.Group]
	if g == nil || c.unavailable() != nil || (rg.MemberID == nil && rg.MemberEpoch < 0) {
		return nil
	}
	m := g.members[deref(rg.MemberID)]
	switch {
	case m == nil:
		return kerr.UnknownMemberID
	case rg.MemberEpoch != m.cur.epoch:
		return kerr.StaleMemberEpoch
	}
	return nil
}

// ConsumerGroupDescribe (key 69, v0-1) describes KIP-848 groups in
// request order: epochs, state, assignor and per member its subscription,
// current and target assignment (topic names from img). A group that does
// not exist, or is a classic group, is GROUP_ID_NOT_FOUND.
func (c *Coordinator) ConsumerGroupDescribe(_ Caller, req *kmsg.ConsumerGroupDescribeRequest, img TopicImage) Result {
	resp := req.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
	for _, id := range req.Groups {
		dg := kmsg.NewConsumerGroupDescribeResponseGroup()
		dg.Group = id
		g := c.cgroups[id]
		switch err := c.checkGroup(id); {
		case err != nil:
			dg.ErrorCode = err.Code
		case g == nil || !g.persisted:
			dg.ErrorCode = kerr.GroupIDNotFound.Code
			dg.ErrorMessage = kmsg.StringPtr("Group " + id + " not found.")
		default:
			dg.State, dg.Epoch, dg.AssignmentEpoch = g.state(), g.epoch, g.assignmentEpoch
			dg.AssignorName = c.groupAssignor(g)
			for _, m := range g.sortedMembers() {
				dm := kmsg.NewConsumerGroupDescribeResponseGroupMember()
				dm.MemberID, dm.InstanceID, dm.RackID = m.id, m.meta.instanceID, m.meta.rackID
				dm.MemberEpoch, dm.ClientID, dm.ClientHost = m.cur.epoch, m.meta.clientID, m.meta.clientHost
				dm.SubscribedTopics = append([]string{}, m.meta.topics...)
				dm.SubscribedTopicRegex = m.meta.regex
				dm.Assignment = describedAssignment(m.cur.assigned, img)
				dm.TargetAssignment = describedAssignment(g.target[m.id], img)
				dm.MemberType = 1 // the consumer protocol
				dg.Members = append(dg.Members, dm)
			}
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return c.finish(resp)
}

func describedAssignment(a assignment, img TopicImage) kmsg.Assignment {
	out := kmsg.NewAssignment()
	for _, id := range a.sortedIDs() {
		tp := kmsg.NewAssignmentTopicPartition()
		tp.TopicID, tp.Partitions = id, append([]int32{}, a[id]...)
		tp.Topic, _ = img.TopicName(id)
		out.TopicPartitions = append(out.TopicPartitions, tp)
	}
	return out
}
