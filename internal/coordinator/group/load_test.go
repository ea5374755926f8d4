package group

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestCoordinator_LoadingAndUnload: COORDINATOR_LOAD_IN_PROGRESS until
// Loaded; NOT_COORDINATOR for parked and later requests after Unload.
func TestCoordinator_LoadingAndUnload(t *testing.T) {
	h := newHarness(t, testConfig())
	c := New(h.clk, testConfig())
	m := newTM("g", "t")
	if resp := c.JoinGroup(h.caller(), h.joinReq(m)).Response.(*kmsg.JoinGroupResponse); resp.ErrorCode != kerr.CoordinatorLoadInProgress.Code {
		t.Fatalf("join while loading: %d", resp.ErrorCode)
	}
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version, req.Group = 1, "g"
	req.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "t", Partitions: []int32{0}}}
	if resp := c.OffsetFetch(h.caller(), req).Response.(*kmsg.OffsetFetchResponse); resp.Topics[0].Partitions[0].ErrorCode != kerr.CoordinatorLoadInProgress.Code {
		t.Fatalf("v1 fetch while loading: %+v", resp)
	}
	if l := c.ListGroups(h.caller(), kmsg.NewPtrListGroupsRequest()).Response.(*kmsg.ListGroupsResponse); l.ErrorCode != kerr.CoordinatorLoadInProgress.Code {
		t.Fatal("list while loading")
	}

	h.join(m) // parked on the real harness coordinator
	h.take(h.c.Unload(), 0)
	wantCode(t, "parked join", h.joined(m).ErrorCode, kerr.NotCoordinator)
	h.join(m)
	wantCode(t, "join after unload", h.joined(m).ErrorCode, kerr.NotCoordinator)
	if err := h.c.Replay(Record{}); err != ErrNotLoading {
		t.Fatalf("Replay after Loaded: %v", err)
	}
}

// stableRecords is the partition of a Stable group g with n members.
func stableRecords(n int) []Record {
	v := kmsg.NewGroupMetadataValue()
	v.ProtocolType, v.Generation, v.CurrentStateTimestamp = "consumer", 3, t0.UnixMilli()
	v.Protocol, v.Leader = kmsg.StringPtr("range"), kmsg.StringPtr("m0")
	for i := range n {
		m := kmsg.NewGroupMetadataValueMember()
		m.MemberID, m.SessionTimeoutMillis, m.RebalanceTimeoutMillis = fmt.Sprintf("m%d", i), 10000, 20000
		m.Subscription, m.Assignment = consumerMeta("t"), []byte("a")
		v.Members = append(v.Members, m)
	}
	return []Record{groupMetadataRecord("g", &v)}
}

// TestLoad_SessionsStartAtLoad: loaded members must heartbeat within
// their session timeout from the load, or they are removed.
func TestLoad_SessionsStartAtLoad(t *testing.T) {
	h := newHarness(t, testConfig())
	h.c = replayAll(t, h, stableRecords(2))
	m0 := &tm{group: "g", memberID: "m0", gen: 3}
	for range 3 {
		h.advance(3 * time.Second)
		wantCode(t, "m0's heartbeat", h.heartbeat(m0), nil)
	}
	h.advance(3 * time.Second) // past m1's session, counted from the load
	wantCode(t, "m0's heartbeat", h.heartbeat(m0), kerr.RebalanceInProgress)
	if g := h.group("g"); g.members["m1"] != nil || g.state != PreparingRebalance {
		t.Fatalf("silent member kept: %v, %d members", g.state, len(g.members))
	}
}

// TestLoad_OverCapacityRebalances: a group loaded with more members than
// group.max.size now allows rebalances, so the extra ones fall out.
func TestLoad_OverCapacityRebalances(t *testing.T) {
	h := newHarness(t, testConfig())
	cfg := testConfig()
	cfg.MaxSize = 2
	c := New(h.clk, cfg)
	for _, r := range stableRecords(3) {
		if err := c.Replay(r); err != nil {
			t.Fatal(err)
		}
	}
	if !c.Loading() {
		t.Fatal("not loading before Loaded")
	}
	c.Loaded()
	if g := c.groups["g"]; g.state != PreparingRebalance {
		t.Fatalf("state %v", g.state)
	}
}
