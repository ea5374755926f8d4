package group

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// KIP-848: a first member joins at epoch 0 and gets every partition with
// the first group epoch.
func TestConsumerGroup_JoinGetsAssignment(t *testing.T) {
	h := newHarness(t, testConfig())
	img := newImage(map[string]int32{"foo": 6})
	a := newCM("g", "a", "foo")
	resp := h.mustHeartbeat(a, img)
	if resp.MemberEpoch != 1 || resp.Assignment == nil || count(a) != 6 {
		t.Fatalf("join: epoch %d, assignment %v, owned %v", resp.MemberEpoch, resp.Assignment, a.owned)
	}
	if resp.HeartbeatIntervalMillis != 5000 {
		t.Fatalf("heartbeat interval %d, want 5000", resp.HeartbeatIntervalMillis)
	}
	g := h.c.cgroups["g"]
	if g.state() != cgStable || g.epoch != 1 || g.assignmentEpoch != 1 {
		t.Fatalf("group %s epoch %d/%d", g.state(), g.epoch, g.assignmentEpoch)
	}
	// A heartbeat with nothing new carries no assignment.
	req := a.req(img)
	req.RebalanceTimeoutMillis, req.SubscribedTopicNames, req.Topics = -1, nil, nil
	if resp := h.send(a, req, img); resp.ErrorCode != 0 || resp.Assignment != nil || resp.MemberEpoch != 1 {
		t.Fatalf("keepalive: %+v", resp)
	}
	assertSameConsumerState(t, h)
}

// KIP-848 incremental assignment: a second member gets partitions only
// after the first has revoked them, and the first keeps consuming the
// rest throughout.
func TestConsumerGroup_IncrementalRevocation(t *testing.T) {
	h := newHarness(t, testConfig())
	img := newImage(map[string]int32{"foo": 6})
	a, b := newCM("g", "a", "foo"), newCM("g", "b", "foo")
	h.mustHeartbeat(a, img)

	h.mustHeartbeat(b, img) // joins: epoch 2, but a still owns everything
	g := h.c.cgroups["g"]
	if g.epoch != 2 || count(b) != 0 || g.members["b"].cur.state != memberUnreleasedPartitions {
		t.Fatalf("b after join: epoch %d owned %v state %d", g.epoch, b.owned, g.members["b"].cur.state)
	}
	if g.state() != cgReconciling {
		t.Fatalf("state %s, want Reconciling", g.state())
	}

	// a is told to keep three and revoke three, at its old epoch.
	req := a.req(img)
	resp := h.send(a, req, img)
	if resp.MemberEpoch != 1 || count(a) != 3 || g.members["a"].cur.state != memberUnrevokedPartitions {
		t.Fatalf("a: epoch %d owned %v state %d", resp.MemberEpoch, a.owned, g.members["a"].cur.state)
	}
	// b still cannot have them: a has not confirmed.
	h.mustHeartbeat(b, img)
	if count(b) != 0 {
		t.Fatalf("b got %v before a revoked", b.owned)
	}
	// a confirms (reports owning only three) and moves to epoch 2.
	if resp := h.mustHeartbeat(a, img); resp.MemberEpoch != 2 {
		t.Fatalf("a epoch %d after revoking", resp.MemberEpoch)
	}
	h.mustHeartbeat(b, img)
	if count(b) != 3 || b.epoch != 2 {
		t.Fatalf("b: epoch %d owned %v", b.epoch, b.owned)
	}
	h.ownership(a, b)
	if g.state() != cgStable {
		t.Fatalf("state %s", g.state())
	}
	assertSameConsumerState(t, h)
}

func TestConsumerGroup_ThreeMembersSplitSixPartitions(t *testing.T) {
	for _, assignor := range []string{assignorUniform, assignorRange} {
		t.Run(assignor, func(t *testing.T) {
			h := newHarness(t, testConfig())
			img := newImage(map[string]int32{"foo": 6})
			ms := []*cm{newCM("g", "a", "foo"), newCM("g", "b", "foo"), newCM("g", "c", "foo")}
			for _, m := range ms {
				req := m.req(img)
				req.ServerAssignor = &assignor
				h.send(m, req, img)
			}
			h.stabilise(img, ms...)
			if own := h.ownership(ms...); len(own) != 6 {
				t.Fatalf("owned %v", own)
			}
			for _, m := range ms {
				if count(m) != 2 {
					t.Fatalf("%s owns %v", m.id, m.owned)
				}
			}
			if assignor == assignorRange && !slices.Equal(ms[0].owned["foo"], []int32{0, 1}) {
				t.Fatalf("range: a owns %v", ms[0].owned)
			}
			assertSameConsumerState(t, h)
		})
	}
}

// KIP-848: leaving (epoch -1) bumps the group epoch; the others take the
// partitions.
func TestConsumerGroup_Leave(t *testing.T) {
	h := newHarness(t, testConfig())
	img := newImage(map[string]int32{"foo": 4})
	a, b := newCM("g", "a", "foo"), newCM("g", "b", "foo")
	h.mustHeartbeat(a, img)
	h.mustHeartbeat(b, img)
	h.stabilise(img, a, b)

	req := b.req(img)
	req.MemberEpoch = leaveEpoch
	if resp := h.send(b, req, img); resp.ErrorCode != 0 || resp.MemberEpoch != leaveEpoch {
		t.Fatalf("leave: %+v", resp)
	}
	b.owned = nil
	h.stabilise(img, a)
	if count(a) != 4 {
		t.Fatalf("a owns %v", a.owned)
	}
	if len(h.c.cgroups["g"].members) != 1 {
		t.Fatal("b still a member")
	}
	// Leaving again: the member is gone.
	wantHB(t, "second leave", h.send(b, req, img), kerr.UnknownMemberID)
	assertSameConsumerState(t, h)
}

func TestConsumerGroup_SessionExpiry(t *testing.T) {
	h := newHarness(t, testConfig())
	img := newImage(map[string]int32{"foo": 4})
	a, b := newCM("g", "a", "foo"), newCM("g", "b", "foo")
	h.mustHeartbeat(a, img)
	h.mustHeartbeat(b, img)
	h.stabilise(img, a, b)

	for range 5 { // a heartbeats, b does not
		h.advance(10 * time.Second)
		h.mustHeartbeat(a, img)
	}
	if h.c.cgroups["g"].members["b"] != nil {
		t.Fatal("b survived its session timeout")
	}
	h.stabilise(img, a)
	if count(a) != 4 {
		t.Fatalf("a owns %v", a.owned)
	}
	wantHB(t, "expired member", h.cgHeartbeat(b, img), kerr.UnknownMemberID)
	assertSameConsumerState(t, h)
}

// A member that does not revoke within its rebalance timeout is fenced.
func TestConsumerGroup_RevocationTimeout(t *testing.T) {
	h := newHarness(t, testConfig())
	img := newImage(map[string]int32{"foo": 4})
	a, b := newCM("g", "a", "foo"), newCM("g", "b", "foo")
	h.mustHeartbeat(a, img)
	h.mustHeartbeat(b, img)
	keep := a.owned["foo"]
	h.mustHeartbeat(a, img) // told to revoke two
	for range 7 {
		h.advance(10 * time.Second)
		req := a.req(img)
		req.Topics[0].Partitions = keep // never lets go
		h.send(a, req, img)
		h.mustHeartbeat(b, img)
	}
	if h.c.cgroups["g"].members["a"] != nil {
		t.Fatal("a kept partitions past its rebalance timeout")
	}
	assertSameConsumerState(t, h)
}

// KIP-848 static membership: a member leaving with epoch -2 keeps its
// partitions; the same instance rejoining under a new member id gets
// them back with no new group epoch.
func TestConsumerGroup_StaticRejoin(t *testing.T) {
	h := newHarness(t, testConfig())
	img := newImage(map[string]int32{"foo": 6})
	a, b := newCM("g", "a1", "foo").static("ia"), newCM("g", "b", "foo")
	h.mustHeartbeat(a, img)
	h.mustHeartbeat(b, img)
	h.stabilise(img, a, b)
	g := h.c.cgroups["g"]
	epoch, had := g.epoch, slices.Clone(a.owned["foo"])

	req := a.req(img)
	req.MemberEpoch = leaveStaticEpoch
	req.InstanceID = nil // as franz-go v1.22 sends it; Kafka would refuse
	if resp := h.send(a, req, img); resp.ErrorCode != 0 || resp.MemberEpoch != leaveStaticEpoch {
		t.Fatalf("static leave: %+v", resp)
	}
	h.advance(10 * time.Second)
	h.mustHeartbeat(b, img)

	// Another member id with the instance while it is still held.
	other := newCM("g", "x", "foo").static("ia")
	a2 := newCM("g", "a2", "foo").static("ia")
	resp := h.mustHeartbeat(a2, img)
	if !slices.Equal(a2.owned["foo"], had) || g.epoch != epoch || resp.MemberEpoch != epoch {
		t.Fatalf("rejoin: owned %v (had %v), group epoch %d (was %d), member epoch %d", a2.owned, had, g.epoch, epoch, resp.MemberEpoch)
	}
	if g.members["a1"] != nil {
		t.Fatal("old member id still in the group")
	}
	wantHB(t, "second instance", h.cgHeartbeat(other, img), kerr.UnreleasedInstanceID)
	wantHB(t, "old member id", h.cgHeartbeat(a, img), kerr.FencedInstanceID)
	h.stabilise(img, a2, b)
	assertSameConsumerState(t, h)
}

// KIP-848: new partitions of a subscribed topic, a newly created topic
// and a deleted one each give a new target assignment.
func TestConsumerGroup_MetadataChanges(t *testing.T) {
	h := newHarness(t, testConfig())
	img := newImage(map[string]int32{"foo": 2})
	a, b := newCM("g", "a", "foo", "bar"), newCM("g", "b", "foo", "bar")
	h.mustHeartbeat(a, img)
	h.mustHeartbeat(b, img)
	h.stabilise(img, a, b)
	g := h.c.cgroups["g"]

	img.set("foo", 4)
	h.stabilise(img, a, b)
	if len(h.ownership(a, b)) != 4 {
		t.Fatalf("after adding partitions: %v", h.ownership(a, b))
	}
	img.set("bar", 2)
	h.stabilise(img, a, b)
	if len(h.ownership(a, b)) != 6 {
		t.Fatalf("after creating bar: %v", h.ownership(a, b))
	}
	img.set("foo", 0)
	h.stabilise(img, a, b)
	if own := h.ownership(a, b); len(own) != 2 || count(a) != 1 {
		t.Fatalf("after deleting foo: %v", own)
	}
	if _, ok := g.subscription["foo"]; ok {
		t.Fatal("deleted topic still in the subscription metadata")
	}
	assertSameConsumerState(t, h)
}

// KIP-848 SubscribedTopicRegex matches whole topic names (RE2).
func TestConsumerGroup_RegexSubscription(t *testing.T) {
	h := newHarness(t, testConfig())
	img := newImage(map[string]int32{"logs-a": 1, "logs-b": 1, "xlogs-c": 1})
	a := newCM("g", "a")
	req := a.req(img)
	req.SubscribedTopicNames = nil
	re := "logs-.*"
	req.SubscribedTopicRegex = &re
	h.send(a, req, img)
	if len(a.owned) != 2 || a.owned["xlogs-c"] != nil {
		t.Fatalf("regex owned %v", a.owned)
	}
	img.set("logs-d", 2)
	req = a.req(img)
	req.SubscribedTopicNames = nil
	h.send(a, req, img)
	h.send(a, req, img)
	if count(a) != 4 {
		t.Fatalf("after a new matching topic: %v", a.owned)
	}
	bad := "logs-("
	req = newCM("g", "b").req(img)
	req.SubscribedTopicNames, req.SubscribedTopicRegex = nil, &bad
	wantHB(t, "bad regex", h.send(newCM("g", "b"), req, img), kerr.InvalidRegularExpression)
	assertSameConsumerState(t, h)
}

func TestConsumerGroup_Errors(t *testing.T) {
	h := newHarness(t, testConfig())
	img := newImage(map[string]int32{"foo": 2})
	a := newCM("g", "a", "foo")
	h.mustHeartbeat(a, img)

	mod := func(m *cm, f func(*kmsg.ConsumerGroupHeartbeatRequest)) *kmsg.ConsumerGroupHeartbeatRequest {
		r := m.req(img)
		f(r)
		return r
	}
	unknown := "nope"
	cases := []struct {
		name string
		req  *kmsg.ConsumerGroupHeartbeatRequest
		want *kerr.Error
	}{
		{"future epoch", mod(a, func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = 9 }), kerr.FencedMemberEpoch},
		{"unknown member", mod(newCM("g", "z", "foo"), func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = 3 }), kerr.UnknownMemberID},
		{"unknown group", mod(newCM("nogroup", "z", "foo"), func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = 3 }), kerr.GroupIDNotFound},
		{"empty group id", mod(newCM("", "z", "foo"), func(*kmsg.ConsumerGroupHeartbeatRequest) {}), kerr.InvalidRequest},
		{"v1 without member id", mod(newCM("g", "", "foo"), func(*kmsg.ConsumerGroupHeartbeatRequest) {}), kerr.InvalidRequest},
		{"join without rebalance timeout", mod(newCM("g", "y", "foo"), func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.RebalanceTimeoutMillis = -1 }), kerr.InvalidRequest},
		{"join owning partitions", mod(newCM("g", "y", "foo"), func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.Topics = a.ownedTopics(img) }), kerr.InvalidRequest},
		{"join without subscription", mod(newCM("g", "y"), func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.SubscribedTopicNames = nil }), kerr.InvalidRequest},
		{"epoch below -2", mod(a, func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = -3 }), kerr.InvalidRequest},
		{"static leave without instance", mod(a, func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = -2 }), kerr.InvalidRequest},
		{"unknown assignor", mod(newCM("g", "y", "foo"), func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.ServerAssignor = &unknown }), kerr.UnsupportedAssignor},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantHB(t, tc.name, h.send(newCM("", "", ""), tc.req, img), tc.want)
		})
	}

	// v0: the coordinator names a joining member.
	v0 := newCM("g", "", "foo")
	v0.version = 0
	if resp := h.mustHeartbeat(v0, img); resp.MemberID == nil || *resp.MemberID == "" {
		t.Fatalf("v0 join got no member id: %+v", resp)
	}
	assertSameConsumerState(t, h)
}

func TestConsumerGroup_MaxSize(t *testing.T) {
	cfg := testConfig()
	cfg.ConsumerMaxSize = 2
	h := newHarness(t, cfg)
	img := newImage(map[string]int32{"foo": 2})
	h.mustHeartbeat(newCM("g", "a", "foo"), img)
	h.mustHeartbeat(newCM("g", "b", "foo"), img)
	wantHB(t, "third member", h.cgHeartbeat(newCM("g", "c", "foo"), img), kerr.GroupMaxSizeReached)
}

// KIP-848 members commit and fetch offsets with their member epoch:
// STALE_MEMBER_EPOCH otherwise (OffsetCommit v9, OffsetFetch v9).
func TestConsumerGroup_OffsetsCheckMemberEpoch(t *testing.T) {
	h := newHarness(t, testConfig())
	img := newImage(map[string]int32{"foo": 1})
	a := newCM("g", "a", "foo")
	h.mustHeartbeat(a, img)

	commit := func(version int16, member string, epoch int32) int16 {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Version, req.Group, req.MemberID, req.Generation = version, "g", member, epoch
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = "foo"
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Offset = 7
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp := h.take(h.c.OffsetCommit(h.caller(), req), 0).Response.(*kmsg.OffsetCommitResponse)
		return resp.Topics[0].Partitions[0].ErrorCode
	}
	wantCode(t, "commit at the member epoch", commit(9, "a", a.epoch), nil)
	wantCode(t, "stale epoch", commit(9, "a", a.epoch+1), kerr.StaleMemberEpoch)
	wantCode(t, "unknown member", commit(9, "z", 1), kerr.UnknownMemberID)
	wantCode(t, "v8", commit(8, "a", a.epoch), kerr.UnsupportedVersion)
	wantCode(t, "admin commit to a group with members", commit(9, "", -1), kerr.UnknownMemberID)

	fetch := func(member *string, epoch int32) int16 {
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Version = 9
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group, rg.MemberID, rg.MemberEpoch = "g", member, epoch
		req.Groups = append(req.Groups, rg)
		resp := h.take(h.c.OffsetFetch(h.caller(), req), 0).Response.(*kmsg.OffsetFetchResponse)
		return resp.Groups[0].ErrorCode
	}
	wantCode(t, "fetch at the member epoch", fetch(kmsg.StringPtr("a"), a.epoch), nil)
	wantCode(t, "fetch stale", fetch(kmsg.StringPtr("a"), a.epoch-1), kerr.StaleMemberEpoch)
	wantCode(t, "admin fetch", fetch(nil, -1), nil)
	assertSameConsumerState(t, h)
}

// A group id is one type at a time: a classic join to a consumer group
// with members and a KIP-848 join to a classic group with members fail;
// an empty group of either type gives way to the other.
func TestConsumerGroup_ClassicConflict(t *testing.T) {
	h := newHarness(t, testConfig())
	img := newImage(map[string]int32{"foo": 2})
	h.mustHeartbeat(newCM("cg", "a", "foo"), img)
	classic := newTM("cg", "foo")
	ref := h.join(classic)
	wantCode(t, "classic join to a consumer group", h.answers[ref].(*kmsg.JoinGroupResponse).ErrorCode, kerr.InconsistentGroupProtocol)

	c1 := newTM("classic", "foo")
	h.join(c1)
	h.settle(c1)
	wantHB(t, "consumer join to a classic group", h.cgHeartbeat(newCM("classic", "x", "foo"), img), kerr.GroupIDNotFound)

	// An empty consumer group becomes classic on a classic join.
	e := newCM("empty", "a", "foo")
	h.mustHeartbeat(e, img)
	req := e.req(img)
	req.MemberEpoch = leaveEpoch
	h.send(e, req, img)
	c2 := newTM("empty", "foo")
	h.join(c2)
	h.settle(c2)
	if h.c.cgroups["empty"] != nil || h.c.groups["empty"] == nil {
		t.Fatal("empty consumer group did not give way to a classic one")
	}
	assertSameConsumerState(t, h)
}

func TestConsumerGroup_DescribeListDelete(t *testing.T) {
	h := newHarness(t, testConfig())
	img := newImage(map[string]int32{"foo": 2})
	a := newCM("g", "a", "foo")
	h.mustHeartbeat(a, img)

	dreq := kmsg.NewPtrConsumerGroupDescribeRequest()
	dreq.Version = 1
	dreq.Groups = []string{"g", "missing"}
	dresp := h.take(h.c.ConsumerGroupDescribe(h.caller(), dreq, img), 0).Response.(*kmsg.ConsumerGroupDescribeResponse)
	dg := dresp.Groups[0]
	if dg.ErrorCode != 0 || dg.State != cgStable || dg.Epoch != 1 || dg.AssignorName != assignorUniform || len(dg.Members) != 1 ||
		dg.Members[0].Assignment.TopicPartitions[0].Topic != "foo" {
		t.Fatalf("describe: %+v", dg)
	}
	wantCode(t, "describe missing", dresp.Groups[1].ErrorCode, kerr.GroupIDNotFound)

	lreq := kmsg.NewPtrListGroupsRequest()
	lreq.Version = 5
	lreq.TypesFilter = []string{"consumer"}
	lresp := h.take(h.c.ListGroups(h.caller(), lreq), 0).Response.(*kmsg.ListGroupsResponse)
	if len(lresp.Groups) != 1 || lresp.Groups[0].GroupType != "consumer" || lresp.Groups[0].GroupState != "Stable" {
		t.Fatalf("list: %+v", lresp.Groups)
	}

	del := func() int16 {
		req := kmsg.NewPtrDeleteGroupsRequest()
		req.Groups = []string{"g"}
		return h.take(h.c.DeleteGroups(h.caller(), req), 0).Response.(*kmsg.DeleteGroupsResponse).Groups[0].ErrorCode
	}
	wantCode(t, "delete with members", del(), kerr.NonEmptyGroup)
	req := a.req(img)
	req.MemberEpoch = leaveEpoch
	h.send(a, req, img)
	wantCode(t, "delete empty", del(), nil)
	if h.c.cgroups["g"] != nil {
		t.Fatal("group still there")
	}
	assertSameConsumerState(t, h)
}

// A loaded coordinator starts loaded members' sessions: a member that
// never comes back is fenced after the session timeout.
func TestConsumerGroup_LoadedSessionsExpire(t *testing.T) {
	h := newHarness(t, testConfig())
	img := newImage(map[string]int32{"foo": 2})
	h.mustHeartbeat(newCM("g", "a", "foo"), img)
	c := replayAll(t, h, h.log)
	if c.cgroups["g"].members["a"] == nil {
		t.Fatal("member not loaded")
	}
	h.clk.Advance(46 * time.Second)
	res := c.Tick()
	if c.cgroups["g"].members["a"] != nil || len(res.Records) == 0 {
		t.Fatal("loaded member not fenced after its session timeout")
	}
}
