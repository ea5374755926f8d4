package group

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (h *harness) deleteGroups(ids ...string) *kmsg.DeleteGroupsResponse {
	req := kmsg.NewPtrDeleteGroupsRequest()
	req.Version, req.Groups = 2, ids
	return h.take(h.c.DeleteGroups(h.caller(), req), 0).Response.(*kmsg.DeleteGroupsResponse)
}

func (h *harness) listGroups(states ...string) []kmsg.ListGroupsResponseGroup {
	req := kmsg.NewPtrListGroupsRequest()
	req.Version, req.StatesFilter = 5, states
	return h.take(h.c.ListGroups(h.caller(), req), 0).Response.(*kmsg.ListGroupsResponse).Groups
}

func TestDeleteGroups(t *testing.T) {
	h := newHarness(t, testConfig())
	a := newTM("live", "t")
	h.stabilize(a)
	h.commit(commitReq(8, "idle", "", -1, "t", 0, 1, nil))
	h.commit(commitReq(8, "idle", "", -1, "t", 1, 1, nil))
	n := len(h.log)
	resp := h.deleteGroups("live", "idle", "nope", "", "idle")
	for i, want := range []*kerr.Error{kerr.NonEmptyGroup, nil, kerr.GroupIDNotFound, kerr.InvalidGroupID, kerr.GroupIDNotFound} {
		wantCode(t, resp.Groups[i].Group, resp.Groups[i].ErrorCode, want)
	}
	if len(h.log) != n+3 { // two offset tombstones, one group tombstone
		t.Fatalf("%d records, want 3", len(h.log)-n)
	}
	if h.group("idle") != nil || h.fetch("idle", "t", 0).Offset != -1 {
		t.Fatal("deleted group still there")
	}
	if gs := h.listGroups(); len(gs) != 1 || gs[0].Group != "live" {
		t.Fatalf("listed %+v", gs)
	}
}

func TestOffsetDelete(t *testing.T) {
	h := newHarness(t, testConfig())
	a := newTM("g", "subscribed")
	h.stabilize(a)
	h.commit(commitReq(8, "g", a.memberID, a.gen, "subscribed", 0, 1, nil))
	h.commit(commitReq(8, "g", a.memberID, a.gen, "other", 0, 1, nil))
	del := func(group string, topics ...string) *kmsg.OffsetDeleteResponse {
		req := kmsg.NewPtrOffsetDeleteRequest()
		req.Group = group
		for _, topic := range topics {
			req.Topics = append(req.Topics, kmsg.OffsetDeleteRequestTopic{Topic: topic, Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}})
		}
		return h.take(h.c.OffsetDelete(h.caller(), req), 0).Response.(*kmsg.OffsetDeleteResponse)
	}
	resp := del("g", "subscribed", "other", "never-committed")
	wantCode(t, "group", resp.ErrorCode, nil)
	for i, want := range []*kerr.Error{kerr.GroupSubscribedToTopic, nil, nil} {
		wantCode(t, resp.Topics[i].Topic, resp.Topics[i].Partitions[0].ErrorCode, want)
	}
	if h.fetch("g", "other", 0).Offset != -1 || h.fetch("g", "subscribed", 0).Offset != 1 {
		t.Fatal("wrong offsets deleted")
	}
	wantCode(t, "unknown group", del("x", "t").ErrorCode, kerr.GroupIDNotFound)
	wantCode(t, "empty group id", del("", "t").ErrorCode, kerr.InvalidGroupID)

	// A group of another protocol type with members: NON_EMPTY_GROUP.
	c := newTM("connect", "t")
	c.version = 3 // no KIP-394 round trip: a member at once
	req := h.joinReq(c)
	req.ProtocolType = "connect"
	h.take(h.c.JoinGroup(h.caller(), req), 0)
	wantCode(t, "non-consumer group", del("connect", "t").ErrorCode, kerr.NonEmptyGroup)
}

func TestDescribeAndListGroups(t *testing.T) {
	h := newHarness(t, testConfig())
	a := newTM("stable", "t").static("i")
	h.stabilize(a)
	h.join(newTM("rebalancing", "t"))
	h.commit(commitReq(8, "empty", "", -1, "t", 0, 1, nil))

	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Version, req.Groups = 5, []string{"stable", "nope", "", "empty"}
	resp := h.take(h.c.DescribeGroups(h.caller(), req), 0).Response.(*kmsg.DescribeGroupsResponse)
	st := resp.Groups[0]
	if st.State != "Stable" || st.Protocol != "range" || st.ProtocolType != "consumer" || len(st.Members) != 1 {
		t.Fatalf("stable group: %+v", st)
	}
	if m := st.Members[0]; m.MemberID != a.memberID || *m.InstanceID != "i" || m.ClientID != "client" ||
		string(m.MemberAssignment) != "assign:"+a.memberID || string(m.ProtocolMetadata) != string(consumerMeta("t")) {
		t.Fatalf("member: %+v", m)
	}
	if resp.Groups[1].State != "Dead" || resp.Groups[1].ErrorCode != 0 {
		t.Fatalf("unknown group: %+v", resp.Groups[1])
	}
	wantCode(t, "empty group id", resp.Groups[2].ErrorCode, kerr.InvalidGroupID)
	if resp.Groups[3].State != "Empty" || resp.Groups[3].ProtocolType != "" {
		t.Fatalf("empty group: %+v", resp.Groups[3])
	}

	for _, tc := range []struct {
		states []string
		want   []string
	}{
		{nil, []string{"empty", "rebalancing", "stable"}},
		{[]string{"stable"}, []string{"stable"}},
		{[]string{"PreparingRebalance", "EMPTY"}, []string{"empty", "rebalancing"}},
		{[]string{"Dead"}, nil},
	} {
		var got []string
		for _, g := range h.listGroups(tc.states...) {
			got = append(got, g.Group)
			if g.GroupType != "classic" {
				t.Fatalf("group type %q", g.GroupType)
			}
		}
		if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
			t.Fatalf("states %v: listed %v, want %v", tc.states, got, tc.want)
		}
	}
}
