package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// tm is a test member: a client's view of its membership.
type tm struct {
	group    string
	version  int16
	memberID string
	instance *string
	gen      int32
	protos   []kmsg.JoinGroupRequestProtocol
	session  int32 // ms
	rebal    int32 // ms
	ref      int   // last parked request
	leader   bool
	members  []kmsg.JoinGroupResponseMember
}

func newTM(group string, topics ...string) *tm {
	return &tm{group: group, version: 9, gen: -1, protos: rangeProtos(topics...), session: 10000, rebal: 30000}
}

func (m *tm) static(id string) *tm { m.instance = &id; return m }

func consumerMeta(topics ...string) []byte {
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Topics = topics
	return meta.AppendTo(nil)
}

func rangeProtos(topics ...string) []kmsg.JoinGroupRequestProtocol {
	return []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: consumerMeta(topics...)}}
}

func (h *harness) joinReq(m *tm) *kmsg.JoinGroupRequest {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version, req.Group, req.MemberID, req.InstanceID = m.version, m.group, m.memberID, m.instance
	req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = m.session, m.rebal
	req.ProtocolType, req.Protocols = "consumer", m.protos
	return req
}

// join sends m's JoinGroup, repeating it after MEMBER_ID_REQUIRED as
// clients do, and returns the last request's ref.
func (h *harness) join(m *tm) int {
	h.t.Helper()
	from := h.caller()
	h.take(h.c.JoinGroup(from, h.joinReq(m)), from.Ref.(int))
	m.ref = from.Ref.(int)
	if resp, ok := h.answers[m.ref].(*kmsg.JoinGroupResponse); ok && resp.ErrorCode == kerr.MemberIDRequired.Code {
		m.memberID = resp.MemberID
		return h.join(m)
	}
	return m.ref
}

// joined returns the answer to m's last JoinGroup, failing if it has
// none, and takes its member id and generation.
func (h *harness) joined(m *tm) *kmsg.JoinGroupResponse {
	h.t.Helper()
	resp, ok := h.answers[m.ref].(*kmsg.JoinGroupResponse)
	if !ok {
		h.t.Fatalf("JoinGroup %d of %q not answered", m.ref, m.memberID)
	}
	if resp.ErrorCode == 0 {
		m.memberID, m.gen, m.leader, m.members = resp.MemberID, resp.Generation, resp.LeaderID == resp.MemberID, resp.Members
	}
	return resp
}

// settle advances the clock a millisecond at a time until the last
// request of every m is answered (a zero initial rebalance delay still
// takes a step per member that joined during the previous one).
func (h *harness) settle(ms ...*tm) {
	h.t.Helper()
	for range 100 {
		done := true
		for _, m := range ms {
			done = done && !h.pending(m.ref)
		}
		if done {
			return
		}
		h.advance(time.Millisecond)
	}
	h.t.Fatal("requests still parked after 100ms")
}

func (h *harness) pending(ref int) bool { _, ok := h.answers[ref]; return !ok }

// sync sends m's SyncGroup; a leader assigns "assign:<member id>" to every
// member it was told about.
func (h *harness) sync(m *tm) int {
	h.t.Helper()
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version, req.Group, req.MemberID, req.InstanceID, req.Generation = 5, m.group, m.memberID, m.instance, m.gen
	req.ProtocolType, req.Protocol = kmsg.StringPtr("consumer"), kmsg.StringPtr("range")
	if m.leader {
		for _, o := range m.members {
			req.GroupAssignment = append(req.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: o.MemberID, MemberAssignment: []byte("assign:" + o.MemberID)})
		}
	}
	from := h.caller()
	h.take(h.c.SyncGroup(from, req), from.Ref.(int))
	m.ref = from.Ref.(int)
	return m.ref
}

func (h *harness) synced(m *tm) *kmsg.SyncGroupResponse {
	h.t.Helper()
	resp, ok := h.answers[m.ref].(*kmsg.SyncGroupResponse)
	if !ok {
		h.t.Fatalf("SyncGroup %d of %q not answered", m.ref, m.memberID)
	}
	return resp
}

// stabilize runs a full rebalance of ms (every member of the group) and
// checks each member got its assignment.
func (h *harness) stabilize(ms ...*tm) {
	h.t.Helper()
	for _, m := range ms {
		h.join(m)
	}
	h.settle(ms...)
	for _, m := range ms {
		if resp := h.joined(m); resp.ErrorCode != 0 {
			h.t.Fatalf("join of %q: %v", m.memberID, kerr.ErrorForCode(resp.ErrorCode))
		}
	}
	for _, m := range ms { // followers first, then the leader
		if !m.leader {
			h.sync(m)
		}
	}
	for _, m := range ms {
		if m.leader {
			h.sync(m)
		}
	}
	for _, m := range ms {
		resp := h.synced(m)
		if resp.ErrorCode != 0 || string(resp.MemberAssignment) != "assign:"+m.memberID {
			h.t.Fatalf("sync of %q: error %d, assignment %q", m.memberID, resp.ErrorCode, resp.MemberAssignment)
		}
	}
}

func (h *harness) heartbeat(m *tm) int16 {
	h.t.Helper()
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version, req.Group, req.MemberID, req.InstanceID, req.Generation = 4, m.group, m.memberID, m.instance, m.gen
	return h.take(h.c.Heartbeat(h.caller(), req), 0).Response.(*kmsg.HeartbeatResponse).ErrorCode
}

func (h *harness) leave(group string, members ...kmsg.LeaveGroupRequestMember) *kmsg.LeaveGroupResponse {
	h.t.Helper()
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Version, req.Group, req.Members = 5, group, members
	return h.take(h.c.LeaveGroup(h.caller(), req), 0).Response.(*kmsg.LeaveGroupResponse)
}
