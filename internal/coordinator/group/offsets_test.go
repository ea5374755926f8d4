package group

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func commitReq(version int16, group, member string, gen int32, topic string, partition int32, off int64, metadata *string) *kmsg.OffsetCommitRequest {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.MemberID, req.Generation = version, group, member, gen
	p := kmsg.NewOffsetCommitRequestTopicPartition()
	p.Partition, p.Offset, p.Metadata, p.LeaderEpoch = partition, off, metadata, 7
	req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: topic, Partitions: []kmsg.OffsetCommitRequestTopicPartition{p}}}
	return req
}

func (h *harness) commit(req *kmsg.OffsetCommitRequest) int16 {
	h.t.Helper()
	resp := h.take(h.c.OffsetCommit(h.caller(), req), 0).Response.(*kmsg.OffsetCommitResponse)
	return resp.Topics[0].Partitions[0].ErrorCode
}

// fetch returns the committed offset of one partition (v7 request).
func (h *harness) fetch(group, topic string, partition int32) kmsg.OffsetFetchResponseTopicPartition {
	h.t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version, req.Group = 7, group
	req.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: topic, Partitions: []int32{partition}}}
	resp := h.take(h.c.OffsetFetch(h.caller(), req), 0).Response.(*kmsg.OffsetFetchResponse)
	return resp.Topics[0].Partitions[0]
}

func TestOffsetCommit_GenerationChecks(t *testing.T) {
	h := newHarness(t, testConfig())
	a := newTM("g", "t")
	h.stabilize(a)
	md := kmsg.StringPtr("md")
	for _, tc := range []struct {
		name string
		req  *kmsg.OffsetCommitRequest
		want *kerr.Error
	}{
		{"member", commitReq(8, "g", a.memberID, 1, "t", 0, 10, md), nil},
		{"empty group id", commitReq(8, "", a.memberID, 1, "t", 0, 10, md), kerr.InvalidGroupID},
		{"old generation", commitReq(8, "g", a.memberID, 0, "t", 0, 10, md), kerr.IllegalGeneration},
		{"unknown member", commitReq(8, "g", "x", 1, "t", 0, 10, md), kerr.UnknownMemberID},
		{"outside the generation, group not empty", commitReq(8, "g", "", -1, "t", 0, 10, md), kerr.UnknownMemberID},
		{"unknown group with a generation, v8", commitReq(8, "x", "m", 1, "t", 0, 10, md), kerr.IllegalGeneration},
		{"unknown group with a generation, v9", commitReq(9, "x", "m", 1, "t", 0, 10, md), kerr.GroupIDNotFound},
		{"metadata too large", commitReq(8, "g", a.memberID, 1, "t", 0, 10, kmsg.StringPtr(string(make([]byte, 4097)))), kerr.OffsetMetadataTooLarge},
	} {
		wantCode(t, tc.name, h.commit(tc.req), tc.want)
	}
	if got := h.fetch("g", "t", 0); got.Offset != 10 || *got.Metadata != "md" || got.LeaderEpoch != 7 {
		t.Fatalf("fetched %+v", got)
	}
	// While the group completes a rebalance, members must wait.
	h.join(a)
	h.settle(a)
	h.joined(a)
	wantCode(t, "completing rebalance", h.commit(commitReq(8, "g", a.memberID, a.gen, "t", 0, 11, md)), kerr.RebalanceInProgress)
}

// TestOffsetCommit_AssignMode: consumers outside any group membership
// commit with generation -1 and no member id; the group is created Empty.
func TestOffsetCommit_AssignMode(t *testing.T) {
	h := newHarness(t, testConfig())
	for _, md := range []*string{kmsg.StringPtr("resume here"), kmsg.StringPtr(""), nil} {
		wantCode(t, "commit", h.commit(commitReq(2, "solo", "", -1, "t", 3, 42, md)), nil)
		got := h.fetch("solo", "t", 3)
		if got.Offset != 42 || got.LeaderEpoch != -1 || *got.Metadata != deref(md) {
			t.Fatalf("fetched %+v after commit with metadata %v", got, md)
		}
	}
	g := h.group("solo")
	if g == nil || g.state != Empty || g.protocolType != "" {
		t.Fatalf("group %+v", g)
	}
	// A second commit from outside still works: the group is Empty.
	wantCode(t, "commit v0", h.commit(commitReq(0, "solo", "", -1, "t", 3, 43, nil)), nil)
}

func TestOffsetFetch(t *testing.T) {
	h := newHarness(t, testConfig())
	h.commit(commitReq(8, "g", "", -1, "b", 1, 5, kmsg.StringPtr("x")))
	h.commit(commitReq(8, "g", "", -1, "a", 0, 3, nil))

	if got := h.fetch("g", "a", 9); got.Offset != -1 || got.LeaderEpoch != -1 || *got.Metadata != "" {
		t.Fatalf("uncommitted partition: %+v", got)
	}
	if got := h.fetch("nogroup", "a", 0); got.Offset != -1 || got.ErrorCode != 0 {
		t.Fatalf("unknown group: %+v", got)
	}

	// All of a group's offsets (no topics), v8 batched groups.
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 8
	req.Groups = []kmsg.OffsetFetchRequestGroup{{Group: "g"}, {Group: ""}, {Group: "nogroup"}}
	resp := h.take(h.c.OffsetFetch(h.caller(), req), 0).Response.(*kmsg.OffsetFetchResponse)
	all := resp.Groups[0]
	if len(all.Topics) != 2 || all.Topics[0].Topic != "a" || all.Topics[1].Partitions[0].Offset != 5 {
		t.Fatalf("all offsets: %+v", all)
	}
	wantCode(t, "empty group id", resp.Groups[1].ErrorCode, kerr.InvalidGroupID)
	if len(resp.Groups[2].Topics) != 0 {
		t.Fatalf("unknown group: %+v", resp.Groups[2])
	}
}

// TestOffsets_ExpireAfterGroupEmpty (KIP-211): a consumer group's offsets
// outlive its members by offsets.retention.minutes, counted from when the
// group became empty, then are tombstoned with the group.
func TestOffsets_ExpireAfterGroupEmpty(t *testing.T) {
	cfg := testConfig()
	cfg.OffsetsRetention = time.Hour
	cfg.OffsetsRetentionCheckInterval = time.Minute
	h := newHarness(t, cfg)
	a := newTM("g", "t")
	a.session = 120000
	h.stabilize(a)
	h.commit(commitReq(8, "g", a.memberID, a.gen, "t", 0, 10, nil))
	h.commit(commitReq(8, "g", a.memberID, a.gen, "unsubscribed", 0, 10, nil))
	for range 90 { // a Stable group keeps the offsets of what it consumes
		h.advance(time.Minute)
		h.heartbeat(a)
	}
	if got := h.fetch("g", "t", 0); got.Offset != 10 {
		t.Fatalf("offset of a live group expired: %+v", got)
	}
	if got := h.fetch("g", "unsubscribed", 0); got.Offset != -1 {
		t.Fatalf("offset of a topic nobody consumes kept: %+v", got)
	}
	h.leave("g", kmsg.LeaveGroupRequestMember{MemberID: a.memberID})
	emptyAt := h.clk.Now()
	h.runUntil(emptyAt.Sub(t0) + 59*time.Minute)
	if got := h.fetch("g", "t", 0); got.Offset != 10 {
		t.Fatal("offset expired before the retention")
	}
	n := len(h.log)
	h.runUntil(emptyAt.Sub(t0) + 61*time.Minute)
	if got := h.fetch("g", "t", 0); got.Offset != -1 || h.group("g") != nil {
		t.Fatalf("after retention: %+v, group %v", got, h.group("g"))
	}
	if len(h.log) != n+2 || h.log[n].Value != nil || h.log[n+1].Value != nil {
		t.Fatalf("want an offset and a group tombstone, got %d records", len(h.log)-n)
	}
}

// TestOffsets_ExpireStandalone: a standalone group's offsets expire by
// commit time; a v2-v4 commit with a retention time, at its own deadline.
func TestOffsets_ExpireStandalone(t *testing.T) {
	cfg := testConfig()
	cfg.OffsetsRetention = time.Hour
	cfg.OffsetsRetentionCheckInterval = time.Minute
	h := newHarness(t, cfg)
	h.commit(commitReq(8, "solo", "", -1, "t", 0, 1, nil))
	short := commitReq(2, "solo", "", -1, "u", 0, 2, nil)
	short.RetentionTimeMillis = (10 * time.Minute).Milliseconds()
	h.commit(short)
	h.runUntil(30 * time.Minute)
	if h.fetch("solo", "u", 0).Offset != -1 || h.fetch("solo", "t", 0).Offset != 1 {
		t.Fatal("after 30 minutes: want only the 10-minute commit expired")
	}
	h.runUntil(61 * time.Minute)
	if h.fetch("solo", "t", 0).Offset != -1 || h.group("solo") != nil {
		t.Fatal("after an hour: want everything expired")
	}
}
