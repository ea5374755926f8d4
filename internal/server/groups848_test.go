package server

// KIP-848 consumer groups through the broker, driven by franz-go consumers
// with kgo.ServerSideBalancer(): the classic groups' tests again, plus
// what only the new protocol has.

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// config848 is groupConfig with KIP-848 timings sized for tests: members
// heartbeat every 100 ms and are fenced after 6 s of silence.
func config848(t *testing.T, dir string) Config {
	t.Helper()
	cfg := groupConfig(t, dir)
	cfg.Group.ConsumerHeartbeatInterval = 100 * time.Millisecond
	cfg.Group.ConsumerSessionTimeout = 6 * time.Second
	return cfg
}

// opts848 are consumerOpts for the KIP-848 protocol.
func opts848(groupID string, topics ...string) []kgo.Opt {
	return append(consumerOpts(groupID, topics...), kgo.ServerSideBalancer())
}

// stable848 reports whether the consumer group is Stable with n members
// that together own want partitions, each exactly once, every member at
// the group's assignment epoch.
func stable848(t *testing.T, adm *kadm.Client, groupID string, n, want int) bool {
	t.Helper()
	dgs, err := adm.DescribeConsumerGroups(ctxT(t), groupID)
	if err != nil {
		return false
	}
	dg := dgs[groupID]
	if dg.Err != nil || dg.State != "Stable" || len(dg.Members) != n {
		return false
	}
	seen := map[tp]bool{}
	for _, m := range dg.Members {
		if m.MemberEpoch != dg.AssignmentEpoch {
			return false
		}
		for topic, ps := range m.Assignment {
			for p := range ps {
				k := tp{topic, p}
				if seen[k] {
					return false
				}
				seen[k] = true
			}
		}
	}
	return len(seen) == want
}

func TestGroups848_ThreeMembersSplitSixPartitionsWithoutOverlap(t *testing.T) {
	adm, ms := testThreeMembersSplitSixPartitions(t, kip848Protocol)
	for i, m := range ms {
		if n := len(m.records()); n != 2 {
			t.Errorf("member %d got records of %d partitions, want 2", i, n)
		}
	}
	if !stable848(t, adm, "g3", 3, 6) {
		t.Error("the group did not stay Stable")
	}
}

func TestGroups848_CommittedOffsetsSurviveRestart(t *testing.T) {
	testCommittedOffsetsSurviveRestart(t, kip848Protocol, nil, func(adm *kadm.Client) {
		// The group itself came back from its records: Empty, its epoch kept.
		dgs, err := adm.DescribeConsumerGroups(ctxT(t), "resumer")
		if err != nil || dgs["resumer"].Err != nil || dgs["resumer"].State != "Empty" || dgs["resumer"].Epoch < 2 {
			t.Fatalf("group after the restart: %+v %v", dgs["resumer"], err)
		}
	})
}

func TestGroups848_LagIsZeroAfterFullConsume(t *testing.T) {
	testLagIsZeroAfterFullConsume(t, kip848Protocol)
}

// KIP-848 incremental assignment: members join and leave while records
// flow; every record reaches the group and the group settles each time.
func TestGroups848_MembersJoinAndLeaveUnderLoad(t *testing.T) {
	for _, tc := range []struct {
		name     string
		balancer kgo.GroupBalancer // picks the server assignor
	}{
		{"uniform", kgo.CooperativeStickyBalancer()},
		{"range", kgo.RangeBalancer()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testMembersJoinAndLeaveUnderLoad(t, kip848Protocol, tc.balancer, func(adm *kadm.Client) {
				dgs, err := adm.DescribeConsumerGroups(ctxT(t), "churners")
				if err != nil || dgs["churners"].AssignorName != tc.name {
					t.Fatalf("assignor %q (%v), want %s", dgs["churners"].AssignorName, err, tc.name)
				}
			})
		})
	}
}

// KIP-848 static membership: a member with an instance id leaves with
// epoch -2 on close and, restarted within the session timeout, gets its
// partitions back; the group epoch stays and no other member's
// assignment changes.
func TestGroups848_StaticMemberRestartCausesNoReassignment(t *testing.T) {
	b := startBroker(t, config848(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	createTopic(t, adm, "static", 4)

	opts := func(id string) []kgo.Opt { return append(opts848("statics", "static"), kgo.InstanceID(id)) }
	a := startMember(t, b, opts("a")...)
	other := startMember(t, b, opts("b")...)
	waitUntil(t, 20*time.Second, "two static members", func() bool { return stable848(t, adm, "statics", 2, 4) })
	before, err := adm.DescribeConsumerGroups(ctxT(t), "statics")
	if err != nil {
		t.Fatal(err)
	}
	oldID, _ := a.cl.GroupMetadata()
	_, otherEpoch := other.cl.GroupMetadata()

	a.stop()
	a = startMember(t, b, opts("a")...)
	waitUntil(t, 20*time.Second, "the restarted member back in the group", func() bool {
		id, e := a.cl.GroupMetadata()
		return id != "" && id != oldID && e > 0
	})
	waitUntil(t, 10*time.Second, "the group Stable with both static members", func() bool { return stable848(t, adm, "statics", 2, 4) })
	after, err := adm.DescribeConsumerGroups(ctxT(t), "statics")
	if err != nil {
		t.Fatal(err)
	}
	bg, ag := before["statics"], after["statics"]
	if ag.Epoch != bg.Epoch {
		t.Errorf("group epoch %d after the static restart, was %d", ag.Epoch, bg.Epoch)
	}
	for i := range bg.Members {
		if !equalTopicsSet(bg.Members[i].Assignment, ag.Members[i].Assignment) {
			t.Errorf("instance %s: assignment %v after the restart, was %v", *bg.Members[i].InstanceID, ag.Members[i].Assignment, bg.Members[i].Assignment)
		}
	}
	if _, e := other.cl.GroupMetadata(); e != otherEpoch {
		t.Errorf("the other member's epoch moved from %d to %d", otherEpoch, e)
	}
}

func equalTopicsSet(a, b kadm.TopicsSet) bool {
	if len(a.Sorted()) != len(b.Sorted()) {
		return false
	}
	for t, ps := range a {
		for p := range ps {
			if _, ok := b[t][p]; !ok {
				return false
			}
		}
	}
	return len(a.Sorted()) == 0 || len(a.Sorted()[0].Partitions) == len(b.Sorted()[0].Partitions)
}

// KIP-848: partitions added to a subscribed topic are assigned without
// the members rejoining.
func TestGroups848_NewPartitionsAreAssigned(t *testing.T) {
	b := startBroker(t, config848(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	createTopic(t, adm, "grow", 2)
	startMember(t, b, opts848("growers", "grow")...)
	startMember(t, b, opts848("growers", "grow")...)
	waitUntil(t, 20*time.Second, "two members on two partitions", func() bool { return stable848(t, adm, "growers", 2, 2) })
	if _, err := adm.CreatePartitions(ctxT(t), 4, "grow"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "six partitions assigned", func() bool { return stable848(t, adm, "growers", 2, 6) })
}

// A group id is one protocol at a time. Basket does not convert groups
// between protocols (Kafka 4.0 can, under
// group.consumer.migration.policy): a classic JoinGroup to a KIP-848 group
// with members is INCONSISTENT_GROUP_PROTOCOL, and a KIP-848 heartbeat to
// a classic group with members is GROUP_ID_NOT_FOUND.
func TestGroups848_ClassicAndConsumerMembersInOneGroup(t *testing.T) {
	b := startBroker(t, config848(t, t.TempDir()))
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "mixed", 2)

	startMember(t, b, opts848("new-first", "mixed")...)
	waitUntil(t, 20*time.Second, "the KIP-848 member", func() bool { return stable848(t, adm, "new-first", 1, 2) })
	join := kmsg.NewPtrJoinGroupRequest()
	join.Version, join.Group, join.MemberID = 9, "new-first", "classic-1"
	join.SessionTimeoutMillis, join.RebalanceTimeoutMillis, join.ProtocolType = 10000, 10000, "consumer"
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0, 0}}}
	jresp, err := join.RequestWith(ctxT(t), cl)
	if err != nil || jresp.ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("classic join to a KIP-848 group: %v %v", err, kerr.ErrorForCode(jresp.ErrorCode))
	}

	startMember(t, b, consumerOpts("classic-first", "mixed")...)
	waitUntil(t, 20*time.Second, "the classic member", func() bool { return stableWith(t, adm, "classic-first", 1, 2) })
	hb := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	hb.Version, hb.Group, hb.MemberID, hb.MemberEpoch = 1, "classic-first", "new-1", 0
	hb.RebalanceTimeoutMillis, hb.SubscribedTopicNames, hb.Topics = 10000, []string{"mixed"}, []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	hresp, err := hb.RequestWith(ctxT(t), cl)
	if err != nil || hresp.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("KIP-848 join to a classic group: %v %v", err, kerr.ErrorForCode(hresp.ErrorCode))
	}

	// Real clients of the other protocol are refused the same way and
	// disturb nobody: each group keeps its one member and all partitions.
	intruder848 := startMember(t, b, opts848("classic-first", "mixed")...)
	intruderClassic := startMember(t, b, consumerOpts("new-first", "mixed")...)
	produceTo(t, manualProducer(t, b), "mixed", 2, 5)
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if !stableWith(t, adm, "classic-first", 1, 2) || !stable848(t, adm, "new-first", 1, 2) {
			t.Fatal("a member of the other protocol changed a group")
		}
	}
	if intruder848.count() != 0 || intruderClassic.count() != 0 {
		t.Fatal("a refused member consumed")
	}
}

func TestGroups848_AdminListDescribeDelete(t *testing.T) {
	b := startBroker(t, config848(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	createTopic(t, adm, "admin848", 2)
	m := startMember(t, b, append(opts848("listed", "admin848"), kgo.DisableAutoCommit())...)
	startMember(t, b, consumerOpts("classic", "admin848")...)
	waitUntil(t, 20*time.Second, "the member", func() bool { return stable848(t, adm, "listed", 1, 2) })
	waitUntil(t, 20*time.Second, "the classic member", func() bool { return stableWith(t, adm, "classic", 1, 2) })

	listed, err := adm.ListGroupsByType(ctxT(t), []string{"consumer"})
	if err != nil {
		t.Fatal(err)
	}
	if gs := listed.Groups(); len(gs) != 1 || gs[0] != "listed" || listed["listed"].State != "Stable" {
		t.Fatalf("consumer groups listed: %+v", listed)
	}
	dgs, err := adm.DescribeConsumerGroups(ctxT(t), "listed", "classic")
	if err != nil && dgs == nil {
		t.Fatal(err)
	}
	if dgs["listed"].Members[0].MemberType != 1 || dgs["listed"].Members[0].Assignment.Sorted()[0].Topic != "admin848" {
		t.Errorf("described: %+v", dgs["listed"])
	}
	if !errorsIs(dgs["classic"].Err, kerr.GroupIDNotFound) {
		t.Errorf("describing a classic group: %v, want GROUP_ID_NOT_FOUND", dgs["classic"].Err)
	}
	del, _ := adm.DeleteGroups(ctxT(t), "listed")
	if !errorsIs(del["listed"].Err, kerr.NonEmptyGroup) {
		t.Errorf("delete with a member: %v", del["listed"].Err)
	}
	m.stop()
	waitUntil(t, 10*time.Second, "the group empty", func() bool {
		dgs, err := adm.DescribeConsumerGroups(ctxT(t), "listed")
		return err == nil && dgs["listed"].State == "Empty"
	})
	del, err = adm.DeleteGroups(ctxT(t), "listed")
	if err != nil || del["listed"].Err != nil {
		t.Fatalf("delete: %v %v", err, del["listed"].Err)
	}
	dgs, _ = adm.DescribeConsumerGroups(ctxT(t), "listed")
	if !errorsIs(dgs["listed"].Err, kerr.GroupIDNotFound) {
		t.Errorf("deleted group described: %+v", dgs["listed"])
	}
}

func TestGroups848_FiftyMembersStabilise(t *testing.T) {
	adm := startFiftyMembers(t, kip848Protocol)
	dgs, err := adm.DescribeConsumerGroups(ctxT(t), "fifty")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range dgs["fifty"].Members {
		if n := len(m.Assignment.Sorted()); n != 1 || len(m.Assignment.Sorted()[0].Partitions) != 1 {
			t.Errorf("member %s assigned %v, want one partition", m.MemberID, m.Assignment)
		}
	}
}

// KIP-848 SubscribedTopicRegex: franz-go's ConsumeRegex subscribes by a
// regex the broker resolves, including topics created later.
func TestGroups848_RegexSubscription(t *testing.T) {
	b := startBroker(t, config848(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	createTopic(t, adm, "rx-a", 1)
	createTopic(t, adm, "rx-b", 2)
	createTopic(t, adm, "other", 1)
	m := startMember(t, b, append(opts848("regexers", "^rx-"), kgo.ConsumeRegex())...)
	waitUntil(t, 20*time.Second, "the rx- topics assigned", func() bool { return stable848(t, adm, "regexers", 1, 3) })
	dgs, err := adm.DescribeConsumerGroups(ctxT(t), "regexers")
	if err != nil || dgs["regexers"].Members[0].SubscribedTopicRegex == nil {
		t.Fatalf("described: %+v %v", dgs["regexers"], err)
	}
	createTopic(t, adm, "rx-c", 1)
	waitUntil(t, 20*time.Second, "a new matching topic assigned", func() bool { return stable848(t, adm, "regexers", 1, 4) })
	produceTo(t, manualProducer(t, b), "rx-c", 1, 3)
	waitUntil(t, 20*time.Second, "records of the new topic", func() bool { return len(m.records()[tp{"rx-c", 0}]) == 3 })
}

// A group moves between the protocols offline, as when every consumer is
// restarted with the other protocol: once the group is empty, the other
// protocol's first member takes the group id over and resumes from the
// committed offsets (KIP-848 upgrade and downgrade without
// group.consumer.migration.policy's online conversion).
func TestGroups848_OfflineUpgradeAndDowngradeKeepOffsets(t *testing.T) {
	b := startBroker(t, config848(t, t.TempDir()))
	prod := manualProducer(t, b)
	adm := kadm.NewClient(prod)
	createTopic(t, adm, "moving", 2)

	phase := func(name string, opts []kgo.Opt, from int64) {
		t.Helper()
		produceTo(t, prod, "moving", 2, 5)
		m := startMember(t, b, append(opts, kgo.DisableAutoCommit())...)
		waitUntil(t, 20*time.Second, name+": 10 records", func() bool { return m.count() >= 10 })
		for k, offs := range m.records() {
			if len(offs) != 5 || offs[0] != from {
				t.Fatalf("%s: %v consumed %v, want 5 from %d", name, k, offs, from)
			}
		}
		if err := m.cl.CommitUncommittedOffsets(ctxT(t)); err != nil {
			t.Fatalf("%s: commit: %v", name, err)
		}
		m.stop()
	}
	phase("classic", consumerOpts("mover", "moving"), 0)
	phase("KIP-848", opts848("mover", "moving"), 5)
	waitUntil(t, 10*time.Second, "the KIP-848 group empty", func() bool {
		dgs, err := adm.DescribeConsumerGroups(ctxT(t), "mover")
		return err == nil && dgs["mover"].State == "Empty"
	})
	phase("classic again", consumerOpts("mover", "moving"), 10)
}
