package group

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// KIP-848: a member whose answer with a new epoch was lost heartbeats
// again with its previous epoch; that is accepted as long as it owns
// nothing beyond its current assignment, else FENCED_MEMBER_EPOCH.
func TestConsumerGroup_LostResponseKeepsPreviousEpoch(t *testing.T) {
	h := newHarness(t, testConfig())
	img := newImage(map[string]int32{"foo": 4})
	a := newCM("g", "a", "foo")
	h.mustHeartbeat(a, img)
	img.set("foo", 6)
	lost := *a
	lost.owned = map[string][]int32{"foo": {0, 1, 2, 3}}
	h.mustHeartbeat(a, img) // epoch 2 with six partitions; pretend the answer was lost
	if a.epoch != 2 {
		t.Fatalf("epoch %d", a.epoch)
	}
	if resp := h.mustHeartbeat(&lost, img); resp.MemberEpoch != 2 || count(&lost) != 6 {
		t.Fatalf("retry with the previous epoch: %+v owned %v", resp, lost.owned)
	}
	// A keepalive (no owned partitions sent) with the previous epoch gets
	// the assignment it missed.
	lost2 := *a
	lost2.epoch, lost2.owned = 1, map[string][]int32{"foo": {0, 1, 2, 3}}
	keep := lost2.req(img)
	keep.RebalanceTimeoutMillis, keep.SubscribedTopicNames, keep.Topics = -1, nil, nil
	if resp := h.send(&lost2, keep, img); resp.ErrorCode != 0 || resp.Assignment == nil || count(&lost2) != 6 {
		t.Fatalf("keepalive with the previous epoch: %+v", resp)
	}
	stale := *a
	stale.epoch = 1
	stale.owned = map[string][]int32{"foo": {0, 1, 2, 3, 4, 5}, "bar": {0}}
	wantHB(t, "previous epoch owning more", h.cgHeartbeat(&stale, img), kerr.FencedMemberEpoch)
}

// Offsets of a KIP-848 group: OffsetDelete refuses subscribed topics
// (GROUP_SUBSCRIBED_TO_TOPIC); DescribeGroups (the classic API) reports
// the group Dead, as Kafka does for groups of the other protocol.
func TestConsumerGroup_OffsetDeleteAndClassicDescribe(t *testing.T) {
	h := newHarness(t, testConfig())
	img := newImage(map[string]int32{"foo": 1, "old": 1})
	a := newCM("g", "a", "foo")
	h.mustHeartbeat(a, img)
	for _, topic := range []string{"foo", "old"} {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Version, req.Group, req.MemberID, req.Generation = 9, "g", "a", a.epoch
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = topic
		rt.Partitions = []kmsg.OffsetCommitRequestTopicPartition{kmsg.NewOffsetCommitRequestTopicPartition()}
		req.Topics = append(req.Topics, rt)
		h.take(h.c.OffsetCommit(h.caller(), req), 0)
	}
	del := kmsg.NewPtrOffsetDeleteRequest()
	del.Group = "g"
	for _, topic := range []string{"foo", "old"} {
		dt := kmsg.NewOffsetDeleteRequestTopic()
		dt.Topic = topic
		dt.Partitions = []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}
		del.Topics = append(del.Topics, dt)
	}
	dresp := h.take(h.c.OffsetDelete(h.caller(), del), 0).Response.(*kmsg.OffsetDeleteResponse)
	wantCode(t, "subscribed topic", dresp.Topics[0].Partitions[0].ErrorCode, kerr.GroupSubscribedToTopic)
	wantCode(t, "other topic", dresp.Topics[1].Partitions[0].ErrorCode, nil)
	if _, ok := h.c.offsets["g"]["old"]; ok {
		t.Fatal("offset not deleted")
	}

	dg := kmsg.NewPtrDescribeGroupsRequest()
	dg.Version, dg.Groups = 5, []string{"g"}
	got := h.take(h.c.DescribeGroups(h.caller(), dg), 0).Response.(*kmsg.DescribeGroupsResponse).Groups[0]
	if got.State != "Dead" || got.ErrorCode != 0 {
		t.Fatalf("classic describe of a consumer group: %+v", got)
	}
	assertSameConsumerState(t, h)
}

// An empty KIP-848 group whose offsets expired is deleted (KIP-211
// retention counted from each commit).
func TestConsumerGroup_OffsetsExpireAndEmptyGroupGoes(t *testing.T) {
	cfg := testConfig()
	cfg.OffsetsRetention = time.Hour
	cfg.OffsetsRetentionCheckInterval = time.Minute
	h := newHarness(t, cfg)
	img := newImage(map[string]int32{"foo": 1})
	a := newCM("g", "a", "foo")
	h.mustHeartbeat(a, img)
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.MemberID, req.Generation = 9, "g", "a", a.epoch
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = "foo"
	rt.Partitions = []kmsg.OffsetCommitRequestTopicPartition{kmsg.NewOffsetCommitRequestTopicPartition()}
	req.Topics = append(req.Topics, rt)
	h.take(h.c.OffsetCommit(h.caller(), req), 0)
	leave := a.req(img)
	leave.MemberEpoch = leaveEpoch
	h.send(a, leave, img)

	h.runUntil(59 * time.Minute)
	if h.c.cgroups["g"] == nil {
		t.Fatal("group gone before its offsets expired")
	}
	h.runUntil(62 * time.Minute)
	if h.c.cgroups["g"] != nil || h.c.offsets["g"] != nil {
		t.Fatal("empty group with expired offsets not deleted")
	}
	assertSameConsumerState(t, h)
}

// Offsets committed outside any group (a "simple" group) stay when a
// KIP-848 member joins the group id: the simple group gives way.
func TestConsumerGroup_JoinOverSimpleGroupKeepsOffsets(t *testing.T) {
	h := newHarness(t, testConfig())
	img := newImage(map[string]int32{"foo": 1})
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.Generation = 9, "g", -1
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = "foo"
	p := kmsg.NewOffsetCommitRequestTopicPartition()
	p.Offset = 42
	rt.Partitions = []kmsg.OffsetCommitRequestTopicPartition{p}
	req.Topics = append(req.Topics, rt)
	h.take(h.c.OffsetCommit(h.caller(), req), 0)
	if h.c.groups["g"] == nil {
		t.Fatal("no simple group")
	}
	h.mustHeartbeat(newCM("g", "a", "foo"), img)
	if h.c.groups["g"] != nil || h.c.cgroups["g"] == nil || h.c.offsets["g"]["foo"][0].offset != 42 {
		t.Fatal("simple group did not give way with its offsets kept")
	}
	assertSameConsumerState(t, h)
}
