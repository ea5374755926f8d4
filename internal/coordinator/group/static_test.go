package group

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// restart is a static member coming back after a restart: same instance
// id, no member id.
func restart(m *tm) *tm {
	r := *m
	r.memberID, r.gen, r.leader, r.members = "", -1, false, nil
	return &r
}

// TestStatic_RejoinWithoutRebalance (KIP-345): a static member restarting
// within its session gets a new member id, the current generation and its
// old assignment back, and the group does not rebalance.
func TestStatic_RejoinWithoutRebalance(t *testing.T) {
	h := newHarness(t, testConfig())
	a, s := newTM("g", "t"), newTM("g", "t").static("s")
	h.stabilize(a, s)
	records := len(h.log)

	s2 := restart(s)
	h.join(s2)
	resp := h.joined(s2)
	if resp.ErrorCode != 0 || resp.Generation != 1 || s2.memberID == s.memberID || resp.LeaderID != a.memberID {
		t.Fatalf("rejoin answer %+v", resp)
	}
	if g := h.group("g"); g.state != Stable || g.static["s"] != s2.memberID {
		t.Fatalf("group %v, instance s is %q", g.state, g.static["s"])
	}
	if len(h.log) != records+1 {
		t.Fatalf("%d records for the replacement, want 1", len(h.log)-records)
	}
	wantCode(t, "a's heartbeat", h.heartbeat(a), nil)
	h.sync(s2)
	if got := h.synced(s2); got.ErrorCode != 0 || string(got.MemberAssignment) != "assign:"+s.memberID {
		t.Fatalf("sync after restart: %+v", got)
	}
	wantCode(t, "stale member id", h.heartbeat(s), kerr.FencedInstanceID)
	h.join(s) // the old incarnation tries to rejoin
	wantCode(t, "stale join", h.joined(s).ErrorCode, kerr.FencedInstanceID)
}

// TestStatic_LeaderRejoin: a restarted static leader is told, on v9, that
// it leads but must not assign (KIP-814); older versions name the former
// leader id.
func TestStatic_LeaderRejoin(t *testing.T) {
	for _, v := range []int16{5, 9} {
		h := newHarness(t, testConfig())
		s, b := newTM("g", "t").static("s"), newTM("g", "t")
		h.stabilize(s, b)
		s2 := restart(s)
		s2.version = v
		h.join(s2)
		resp := h.joined(s2)
		switch {
		case resp.ErrorCode != 0 || resp.Generation != 1:
			t.Fatalf("v%d: %+v", v, resp)
		case v >= 9 && (resp.LeaderID != s2.memberID || !resp.SkipAssignment || len(resp.Members) != 2):
			t.Fatalf("v%d: leader %q skip %v members %d", v, resp.LeaderID, resp.SkipAssignment, len(resp.Members))
		case v < 9 && (resp.LeaderID != s.memberID || len(resp.Members) != 0):
			t.Fatalf("v%d: leader %q members %d", v, resp.LeaderID, len(resp.Members))
		}
		if h.group("g").leader != s2.memberID {
			t.Fatalf("v%d: group leader %q", v, h.group("g").leader)
		}
	}
}

// TestStatic_FencedWhileParked: the old incarnation's parked requests are
// answered FENCED_INSTANCE_ID when the instance rejoins.
func TestStatic_FencedWhileParked(t *testing.T) {
	h := newHarness(t, testConfig())
	a, s := newTM("g", "t"), newTM("g", "t").static("s")
	h.join(a)
	h.join(s)
	h.settle(a, s)
	h.joined(a)
	h.joined(s)
	h.sync(s) // parked until the leader syncs
	h.join(restart(s))
	wantCode(t, "parked sync", h.synced(s).ErrorCode, kerr.FencedInstanceID)
}

// TestStatic_ProtocolChangeRebalances: a static member returning with
// metadata that changes the group's protocol makes the group rebalance.
func TestStatic_ProtocolChangeRebalances(t *testing.T) {
	h := newHarness(t, testConfig())
	s := newTM("g", "t").static("s")
	sticky := kmsg.JoinGroupRequestProtocol{Name: "sticky", Metadata: consumerMeta("t")}
	s.protos = append(rangeProtos("t"), sticky)
	h.stabilize(s)
	s2 := restart(s)
	s2.protos = append([]kmsg.JoinGroupRequestProtocol{sticky}, rangeProtos("t")...)
	h.join(s2)
	h.settle(s2)
	if resp := h.joined(s2); resp.Generation != 2 || *resp.Protocol != "sticky" {
		t.Fatalf("rejoin answer: generation %d protocol %v", resp.Generation, resp.Protocol)
	}
}

// TestStatic_AbsentMemberSurvivesJoinPhase: the join phase of a rebalance
// does not drop a static member that is away (librdkafka static members
// never leave); as in Kafka, the sync timeout does if it never syncs.
func TestStatic_AbsentMemberSurvivesJoinPhase(t *testing.T) {
	h := newHarness(t, testConfig())
	a, s := newTM("g", "t"), newTM("g", "t").static("s")
	s.session = 60000
	h.stabilize(a, s)
	h.join(a) // rebalance; s is away
	h.advance(30 * time.Second)
	resp := h.joined(a)
	if resp.Generation != 2 || len(resp.Members) != 2 {
		t.Fatalf("join answer: generation %d, %d members", resp.Generation, len(resp.Members))
	}
	h.sync(a)
	for range 6 { // s never syncs: the sync timeout removes it
		h.advance(5 * time.Second)
		h.heartbeat(a)
	}
	if _, ok := h.group("g").static["s"]; ok {
		t.Fatal("static member kept after missing the sync")
	}
}
