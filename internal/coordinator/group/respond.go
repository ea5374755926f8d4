package group

import (
	"cmp"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	notCoordinator = kerr.NotCoordinator
	loadInProgress = kerr.CoordinatorLoadInProgress
)

// unavailable is the error every request gets while the coordinator is
// not serving: COORDINATOR_LOAD_IN_PROGRESS while loading,
// NOT_COORDINATOR once unloaded.
func (c *Coordinator) unavailable() *kerr.Error {
	switch c.phase {
	case loading:
		return loadInProgress
	case unloaded:
		return notCoordinator
	}
	return nil
}

// checkGroup is the per-group precondition of every group API.
func (c *Coordinator) checkGroup(id string) *kerr.Error {
	if err := c.unavailable(); err != nil {
		return err
	}
	if id == "" {
		return kerr.InvalidGroupID
	}
	return nil
}

func joinError(version int16, err *kerr.Error, memberID string) *kmsg.JoinGroupResponse {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.Version = version
	resp.ErrorCode = err.Code
	resp.MemberID = memberID
	return resp
}

func syncError(version int16, err *kerr.Error) *kmsg.SyncGroupResponse {
	resp := kmsg.NewPtrSyncGroupResponse()
	resp.Version = version
	resp.ErrorCode = err.Code
	return resp
}

// joinResponse is a successful JoinGroup answer for m. The leader's lists
// every member with its metadata for the group protocol.
func (g *group) joinResponse(m *member, withMembers bool) *kmsg.JoinGroupResponse {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.Generation = g.generation
	resp.ProtocolType = kmsg.StringPtr(g.protocolType)
	resp.Protocol = kmsg.StringPtr(g.protocol)
	resp.LeaderID = g.leader
	resp.MemberID = m.id
	if withMembers {
		for _, o := range g.sorted() {
			rm := kmsg.NewJoinGroupResponseMember()
			rm.MemberID, rm.InstanceID, rm.ProtocolMetadata = o.id, o.instanceID, o.metadata(g.protocol)
			resp.Members = append(resp.Members, rm)
		}
	}
	return resp
}

// failWaiters answers a member's parked requests with err. A JoinGroup
// answer carries memberID.
func (c *Coordinator) failWaiters(g *group, m *member, err *kerr.Error) {
	c.failWaitersAs(g, m, err, m.id)
}

func (c *Coordinator) failWaitersAs(g *group, m *member, err *kerr.Error, memberID string) {
	if w := m.join; w != nil {
		g.setJoin(m, nil)
		c.reply(w, joinError(w.version, err, memberID))
	}
	if w := m.sync; w != nil {
		m.sync = nil
		c.reply(w, syncError(w.version, err))
	}
}

// dropMember removes a member, answering its parked requests with
// UNKNOWN_MEMBER_ID (so a client still there rejoins) and forgetting its
// session.
func (c *Coordinator) dropMember(g *group, m *member) {
	c.failWaitersAs(g, m, kerr.UnknownMemberID, "")
	c.cancelHeartbeat(g, m.id)
	g.remove(m.id)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func sortedPartitions[V any](m map[int32]V) []int32 {
	ps := make([]int32, 0, len(m))
	for p := range m {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, cmp.Compare[int32])
	return ps
}
