package group

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestRebalance_InitialDelay: group.initial.rebalance.delay.ms holds the
// first join phase of an empty group open, one more delay each time a
// member arrives, within the rebalance timeout.
func TestRebalance_InitialDelay(t *testing.T) {
	for _, tc := range []struct {
		name       string
		secondAt   time.Duration // 0: no second member
		completeAt time.Duration
	}{
		{"alone", 0, 3 * time.Second},
		{"second member extends", 2 * time.Second, 6 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.InitialRebalanceDelay = 3 * time.Second
			h := newHarness(t, cfg)
			a, b := newTM("g", "t"), newTM("g", "t")
			a.rebal = 10000
			h.join(a)
			if tc.secondAt > 0 {
				h.advance(tc.secondAt)
				h.join(b)
			}
			h.runUntil(tc.completeAt - time.Millisecond)
			if !h.pending(a.ref) {
				t.Fatal("join phase ended early")
			}
			if at, _ := h.c.NextDeadline(); !at.Equal(t0.Add(tc.completeAt)) {
				t.Fatalf("next deadline %v, want %v", at.Sub(t0), tc.completeAt)
			}
			h.advance(time.Millisecond)
			if resp := h.joined(a); resp.Generation != 1 {
				t.Fatalf("join answer %+v", resp)
			}
		})
	}
}

// TestRebalance_InitialDelayBoundedByRebalanceTimeout: members arriving
// without pause cannot hold the group open beyond the rebalance timeout.
func TestRebalance_InitialDelayBoundedByRebalanceTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.InitialRebalanceDelay = 3 * time.Second
	h := newHarness(t, cfg)
	first := newTM("g", "t")
	first.rebal = 7000
	h.join(first)
	for h.pending(first.ref) {
		if h.clk.Now().Sub(t0) > 10*time.Second {
			t.Fatal("join phase still open after 10s")
		}
		h.join(newTM("g", "t"))
		h.advance(time.Second)
	}
}

func TestHeartbeat_SessionExpiry(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := newTM("g", "t"), newTM("g", "t")
	h.stabilize(a, b)
	for range 3 { // a heartbeats, b is silent
		h.advance(3 * time.Second)
		wantCode(t, "a's heartbeat", h.heartbeat(a), nil)
	}
	h.advance(3 * time.Second) // past b's 10s session
	if _, ok := h.group("g").members[b.memberID]; ok {
		t.Fatal("b outlived its session")
	}
	wantCode(t, "a's heartbeat", h.heartbeat(a), kerr.RebalanceInProgress)
	wantCode(t, "b's heartbeat", h.heartbeat(b), kerr.UnknownMemberID)
	h.stabilize(a)
	if a.gen != 2 || !a.leader || len(a.members) != 1 {
		t.Fatalf("a after rebalance: gen %d leader %v members %d", a.gen, a.leader, len(a.members))
	}
}

func TestHeartbeat_Errors(t *testing.T) {
	h := newHarness(t, testConfig())
	a, s := newTM("g", "t"), newTM("g", "t").static("s")
	h.stabilize(a, s)
	for _, tc := range []struct {
		name string
		edit func(*kmsg.HeartbeatRequest)
		want *kerr.Error
	}{
		{"ok", func(*kmsg.HeartbeatRequest) {}, nil},
		{"empty group id", func(r *kmsg.HeartbeatRequest) { r.Group = "" }, kerr.InvalidGroupID},
		{"unknown group", func(r *kmsg.HeartbeatRequest) { r.Group = "x" }, kerr.UnknownMemberID},
		{"unknown member", func(r *kmsg.HeartbeatRequest) { r.MemberID = "x" }, kerr.UnknownMemberID},
		{"old generation", func(r *kmsg.HeartbeatRequest) { r.Generation-- }, kerr.IllegalGeneration},
		{"stale static member id", func(r *kmsg.HeartbeatRequest) { r.InstanceID = kmsg.StringPtr("s") }, kerr.FencedInstanceID},
		{"unknown instance id", func(r *kmsg.HeartbeatRequest) { r.InstanceID = kmsg.StringPtr("x") }, kerr.UnknownMemberID},
	} {
		req := kmsg.NewPtrHeartbeatRequest()
		req.Group, req.MemberID, req.Generation = "g", a.memberID, a.gen
		tc.edit(req)
		wantCode(t, tc.name, h.take(h.c.Heartbeat(h.caller(), req), 0).Response.(*kmsg.HeartbeatResponse).ErrorCode, tc.want)
	}
}

// TestRebalance_TimeoutRemovesSlowMember: a member that does not rejoin
// within the rebalance timeout is left out of the next generation.
func TestRebalance_TimeoutRemovesSlowMember(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := newTM("g", "t"), newTM("g", "t")
	h.stabilize(a, b)
	h.join(a) // the leader rejoining starts a rebalance
	if g := h.group("g"); g.state != PreparingRebalance {
		t.Fatalf("state %v", g.state)
	}
	for range 9 { // b heartbeats but never rejoins
		h.advance(3 * time.Second)
		wantCode(t, "b's heartbeat", h.heartbeat(b), kerr.RebalanceInProgress)
	}
	h.advance(3 * time.Second) // 30s: a's rebalance timeout
	resp := h.joined(a)
	if resp.Generation != 2 || len(resp.Members) != 1 {
		t.Fatalf("join answer: generation %d, %d members", resp.Generation, len(resp.Members))
	}
	wantCode(t, "b's heartbeat", h.heartbeat(b), kerr.UnknownMemberID)
}

// TestRebalance_SyncTimeoutRemovesMember: a member that got its JoinGroup
// answer but never syncs is removed after the rebalance timeout.
func TestRebalance_SyncTimeoutRemovesMember(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := newTM("g", "t"), newTM("g", "t")
	h.join(a)
	h.join(b)
	h.settle(a, b)
	h.joined(a)
	h.joined(b)
	h.sync(a)
	wantCode(t, "leader sync", h.synced(a).ErrorCode, nil)
	for range 5 { // both alive, b never syncs
		h.advance(5 * time.Second)
		wantCode(t, "a's heartbeat", h.heartbeat(a), nil)
		wantCode(t, "b's heartbeat", h.heartbeat(b), nil)
	}
	h.advance(5 * time.Second)
	if _, ok := h.group("g").members[b.memberID]; ok {
		t.Fatal("b, which never synced, is still a member")
	}
	wantCode(t, "a's heartbeat", h.heartbeat(a), kerr.RebalanceInProgress)
}

func TestSync_Errors(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := newTM("g", "t"), newTM("g", "t")
	h.stabilize(a, b)
	for _, tc := range []struct {
		name string
		edit func(*kmsg.SyncGroupRequest)
		want *kerr.Error
	}{
		{"stable: assignment again", func(*kmsg.SyncGroupRequest) {}, nil},
		{"empty group id", func(r *kmsg.SyncGroupRequest) { r.Group = "" }, kerr.InvalidGroupID},
		{"unknown group", func(r *kmsg.SyncGroupRequest) { r.Group = "x" }, kerr.UnknownMemberID},
		{"unknown member", func(r *kmsg.SyncGroupRequest) { r.MemberID = "x" }, kerr.UnknownMemberID},
		{"old generation", func(r *kmsg.SyncGroupRequest) { r.Generation = 0 }, kerr.IllegalGeneration},
		{"other protocol", func(r *kmsg.SyncGroupRequest) { r.Protocol = kmsg.StringPtr("sticky") }, kerr.InconsistentGroupProtocol},
		{"other protocol type", func(r *kmsg.SyncGroupRequest) { r.ProtocolType = kmsg.StringPtr("connect") }, kerr.InconsistentGroupProtocol},
	} {
		req := kmsg.NewPtrSyncGroupRequest()
		req.Version, req.Group, req.MemberID, req.Generation = 5, "g", b.memberID, b.gen
		tc.edit(req)
		resp := h.take(h.c.SyncGroup(h.caller(), req), 0).Response.(*kmsg.SyncGroupResponse)
		wantCode(t, tc.name, resp.ErrorCode, tc.want)
	}
	h.join(a) // rebalance
	req := kmsg.NewPtrSyncGroupRequest()
	req.Group, req.MemberID, req.Generation = "g", b.memberID, b.gen
	wantCode(t, "sync while preparing", h.take(h.c.SyncGroup(h.caller(), req), 0).Response.(*kmsg.SyncGroupResponse).ErrorCode, kerr.RebalanceInProgress)
}

// TestSync_RebalanceWhileParked: a follower parked in SyncGroup is told to
// rejoin when a rebalance starts before the leader's assignment.
func TestSync_RebalanceWhileParked(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := newTM("g", "t"), newTM("g", "t")
	h.join(a)
	h.join(b)
	h.settle(a, b)
	h.joined(a)
	h.joined(b)
	h.sync(b)
	if !h.pending(b.ref) {
		t.Fatal("follower's sync answered before the leader's")
	}
	h.join(newTM("g", "t"))
	wantCode(t, "parked sync", h.synced(b).ErrorCode, kerr.RebalanceInProgress)
}

func TestLeave(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b, s := newTM("g", "t"), newTM("g", "t"), newTM("g", "t").static("s")
	h.stabilize(a, b, s)
	resp := h.leave("g",
		kmsg.LeaveGroupRequestMember{MemberID: b.memberID},
		kmsg.LeaveGroupRequestMember{InstanceID: kmsg.StringPtr("s")}, // administrative removal
		kmsg.LeaveGroupRequestMember{MemberID: "nobody"},
	)
	for i, want := range []*kerr.Error{nil, nil, kerr.UnknownMemberID} {
		wantCode(t, "member", resp.Members[i].ErrorCode, want)
	}
	wantCode(t, "a's heartbeat", h.heartbeat(a), kerr.RebalanceInProgress)
	h.stabilize(a)
	if len(a.members) != 1 {
		t.Fatalf("%d members after leaves", len(a.members))
	}
	h.leave("g", kmsg.LeaveGroupRequestMember{MemberID: a.memberID})
	g := h.group("g")
	if g.state != Empty || g.generation != 3 {
		t.Fatalf("after the last leave: %v generation %d", g.state, g.generation)
	}
	var v kmsg.GroupMetadataValue
	if err := v.ReadFrom(h.log[len(h.log)-1].Value); err != nil || v.Generation != 3 || len(v.Members) != 0 {
		t.Fatalf("last record: %+v (%v)", v, err)
	}
}

func TestLeave_V0(t *testing.T) {
	h := newHarness(t, testConfig())
	a := newTM("g", "t")
	h.stabilize(a)
	for _, tc := range []struct {
		group, member string
		want          *kerr.Error
	}{
		{"x", a.memberID, kerr.UnknownMemberID},
		{"g", "nobody", kerr.UnknownMemberID},
		{"", a.memberID, kerr.InvalidGroupID},
		{"g", a.memberID, nil},
	} {
		req := kmsg.NewPtrLeaveGroupRequest()
		req.Group, req.MemberID = tc.group, tc.member
		resp := h.take(h.c.LeaveGroup(h.caller(), req), 0).Response.(*kmsg.LeaveGroupResponse)
		wantCode(t, tc.group+"/"+tc.member, resp.ErrorCode, tc.want)
	}
}
