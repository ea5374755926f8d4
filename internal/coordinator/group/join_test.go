package group

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestJoin_OneMember(t *testing.T) {
	h := newHarness(t, testConfig())
	m := newTM("g", "t")
	h.join(m)
	if !h.pending(m.ref) {
		t.Fatal("join answered before the join phase ended")
	}
	h.advance(time.Millisecond)
	resp := h.joined(m)
	if resp.Generation != 1 || !m.leader || len(resp.Members) != 1 || *resp.Protocol != "range" || *resp.ProtocolType != "consumer" {
		t.Fatalf("join answer %+v", resp)
	}
	if g := h.group("g"); g.state != CompletingRebalance {
		t.Fatalf("state %v", g.state)
	}
	h.sync(m)
	if got := h.synced(m); string(got.MemberAssignment) != "assign:"+m.memberID || *got.Protocol != "range" {
		t.Fatalf("sync answer %+v", got)
	}
	if g := h.group("g"); g.state != Stable {
		t.Fatalf("state %v", g.state)
	}
	// The group was written when created and when it became Stable.
	if len(h.log) != 2 {
		t.Fatalf("%d records, want 2", len(h.log))
	}
}

func TestJoin_ThreeMembers_LeaderGetsMetadata(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b, c := newTM("g", "t1"), newTM("g", "t2"), newTM("g", "t3")
	h.stabilize(a, b, c)
	for _, m := range []*tm{a, b, c} {
		if m.gen != 1 {
			t.Fatalf("%v: generation %d", m, m.gen)
		}
	}
	if !a.leader || b.leader || c.leader {
		t.Fatal("the first member to join should lead")
	}
	if len(a.members) != 3 || len(b.members) != 0 {
		t.Fatalf("leader got %d members, follower %d", len(a.members), len(b.members))
	}
	for i, m := range []*tm{a, b, c} {
		if a.members[i].MemberID != m.memberID || string(a.members[i].ProtocolMetadata) != string(m.protos[0].Metadata) {
			t.Fatalf("leader's member %d: %+v", i, a.members[i])
		}
	}
}

func TestJoin_ProtocolSelection(t *testing.T) {
	p := func(names ...string) []kmsg.JoinGroupRequestProtocol {
		var ps []kmsg.JoinGroupRequestProtocol
		for _, n := range names {
			ps = append(ps, kmsg.JoinGroupRequestProtocol{Name: n, Metadata: consumerMeta("t")})
		}
		return ps
	}
	for _, tc := range []struct {
		name    string
		members [][]kmsg.JoinGroupRequestProtocol
		want    string
	}{
		{"only common one", [][]kmsg.JoinGroupRequestProtocol{p("range", "sticky"), p("sticky")}, "sticky"},
		{"majority preference", [][]kmsg.JoinGroupRequestProtocol{p("range", "rr"), p("rr", "range"), p("rr", "range")}, "rr"},
		{"tie goes to first vote", [][]kmsg.JoinGroupRequestProtocol{p("rr", "range"), p("range", "rr")}, "rr"},
		{"unsupported ignored", [][]kmsg.JoinGroupRequestProtocol{p("x", "range"), p("range")}, "range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, testConfig())
			var ms []*tm
			for _, protos := range tc.members {
				m := newTM("g")
				m.protos = protos
				ms = append(ms, m)
				h.join(m)
			}
			h.settle(ms...)
			for _, m := range ms {
				if resp := h.joined(m); resp.ErrorCode != 0 || *resp.Protocol != tc.want {
					t.Fatalf("protocol %v (error %d), want %s", resp.Protocol, resp.ErrorCode, tc.want)
				}
			}
		})
	}
}

func TestJoin_BadRequests(t *testing.T) {
	h := newHarness(t, testConfig())
	a := newTM("g", "t")
	h.stabilize(a)
	for _, tc := range []struct {
		name string
		edit func(*kmsg.JoinGroupRequest)
		want *kerr.Error
	}{
		{"empty group id", func(r *kmsg.JoinGroupRequest) { r.Group = "" }, kerr.InvalidGroupID},
		{"session too short", func(r *kmsg.JoinGroupRequest) { r.SessionTimeoutMillis = 5999 }, kerr.InvalidSessionTimeout},
		{"session too long", func(r *kmsg.JoinGroupRequest) { r.SessionTimeoutMillis = 1800001 }, kerr.InvalidSessionTimeout},
		{"unknown group with member id", func(r *kmsg.JoinGroupRequest) { r.Group, r.MemberID = "other", "m-1" }, kerr.UnknownMemberID},
		{"unknown member id", func(r *kmsg.JoinGroupRequest) { r.MemberID = "m-1" }, kerr.UnknownMemberID},
		{"new group without protocol type", func(r *kmsg.JoinGroupRequest) { r.Group, r.ProtocolType = "other", "" }, kerr.InconsistentGroupProtocol},
		{"new group without protocols", func(r *kmsg.JoinGroupRequest) { r.Group, r.Protocols = "other", nil }, kerr.InconsistentGroupProtocol},
		{"other protocol type", func(r *kmsg.JoinGroupRequest) { r.ProtocolType = "connect" }, kerr.InconsistentGroupProtocol},
		{"no common protocol", func(r *kmsg.JoinGroupRequest) { r.Protocols[0].Name = "sticky" }, kerr.InconsistentGroupProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newTM("g", "t")
			req := h.joinReq(m)
			req.Protocols = rangeProtos("t")
			tc.edit(req)
			resp := h.take(h.c.JoinGroup(h.caller(), req), 0).Response.(*kmsg.JoinGroupResponse)
			wantCode(t, "join", resp.ErrorCode, tc.want)
		})
	}
	if h.group("other") != nil {
		t.Fatal("a rejected join created a group")
	}
}

func TestJoin_MemberIDRequired(t *testing.T) {
	for _, v := range []int16{0, 3, 4, 9} {
		h := newHarness(t, testConfig())
		m := newTM("g", "t")
		m.version = v
		from := h.caller()
		res := h.take(h.c.JoinGroup(from, h.joinReq(m)), from.Ref.(int))
		if v < 4 { // parked straight away
			if res.Response != nil {
				t.Fatalf("v%d: answered %+v", v, res.Response)
			}
			continue
		}
		resp := res.Response.(*kmsg.JoinGroupResponse)
		wantCode(t, "first join", resp.ErrorCode, kerr.MemberIDRequired)
		if resp.MemberID == "" || !h.group("g").isPending(resp.MemberID) {
			t.Fatalf("v%d: member id %q not pending", v, resp.MemberID)
		}
		// Unused, the id expires with the session timeout.
		h.advance(time.Duration(m.session) * time.Millisecond)
		if h.group("g").isPending(resp.MemberID) {
			t.Fatalf("v%d: pending id outlived its session", v)
		}
		m.memberID = resp.MemberID
		h.join(m)
		wantCode(t, "late join", h.joined(m).ErrorCode, kerr.UnknownMemberID)
	}
}

func TestJoin_GroupMaxSize(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSize = 2
	h := newHarness(t, cfg)
	a, b := newTM("g", "t"), newTM("g", "t")
	h.stabilize(a, b)
	c := newTM("g", "t")
	h.join(c)
	wantCode(t, "third member", h.joined(c).ErrorCode, kerr.GroupMaxSizeReached)
	// Members already in keep rejoining.
	h.join(a)
	h.join(b)
	h.settle(a, b)
	wantCode(t, "rejoin", h.joined(b).ErrorCode, nil)
}

// TestJoin_KAFKA7610_PendingFlood: JoinGroups with empty member ids, never
// followed up, must not grow the coordinator without bound.
func TestJoin_KAFKA7610_PendingFlood(t *testing.T) {
	cfg := testConfig()
	cfg.MaxPendingMembers = 1000
	h := newHarness(t, cfg)
	req := h.joinReq(newTM("g", "t"))
	for i := range 100_000 {
		resp := h.c.JoinGroup(Caller{ClientID: "flood"}, req).Response.(*kmsg.JoinGroupResponse)
		if resp.ErrorCode != kerr.MemberIDRequired.Code {
			t.Fatalf("join %d: error %d", i, resp.ErrorCode)
		}
	}
	g := h.group("g")
	if len(g.pending) != 1000 || len(g.pendingFIFO) > 2*1000+16 || h.c.timers.len() > 1001 {
		t.Fatalf("pending %d, fifo %d, timers %d", len(g.pending), len(g.pendingFIFO), h.c.timers.len())
	}
	// A real client still gets in.
	m := newTM("g", "t")
	h.join(m)
	h.advance(time.Millisecond)
	// Pending ids hold the initial join phase open; it ends at the session
	// timeout of the flood.
	h.advance(time.Duration(m.session) * time.Millisecond)
	if resp := h.joined(m); resp.ErrorCode != 0 || resp.Generation != 1 {
		t.Fatalf("real member: %+v", resp)
	}
	if len(g.pending) != 0 {
		t.Fatalf("%d pending ids left after their session timeout", len(g.pending))
	}
}
