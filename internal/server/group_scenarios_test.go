package server

// Group scenarios that the classic protocol and KIP-848 share: each runs
// against the groupProtocol it is given, and the protocol's own test file
// adds the checks only that protocol has.

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// groupProtocol is what a group scenario needs to know of one rebalance
// protocol.
type groupProtocol struct {
	// config is the broker config with the protocol's timings sized for
	// tests.
	config func(t *testing.T, dir string) Config
	// opts are the consumer options of a member of groupID.
	opts func(groupID string, topics ...string) []kgo.Opt
	// stable reports whether the group is Stable with n members that
	// together own want partitions, each exactly once.
	stable func(t *testing.T, adm *kadm.Client, groupID string, n, want int) bool
}

var (
	classicProtocol = groupProtocol{config: groupConfig, opts: consumerOpts, stable: stableWith}
	kip848Protocol  = groupProtocol{config: config848, opts: opts848, stable: stable848}
)

// testThreeMembersSplitSixPartitions starts three members on a topic of
// six partitions and checks that every record reaches exactly one member,
// in offset order, and that no member is left without partitions. It
// returns the admin client and the members for further checks.
func testThreeMembersSplitSixPartitions(t *testing.T, proto groupProtocol) (*kadm.Client, []*member) {
	t.Helper()
	b := startBroker(t, proto.config(t, t.TempDir()))
	prod := manualProducer(t, b)
	adm := kadm.NewClient(prod)
	createTopic(t, adm, "split", 6)

	var ms []*member
	for range 3 {
		ms = append(ms, startMember(t, b, proto.opts("g3", "split")...))
	}
	waitUntil(t, 20*time.Second, "three members sharing six partitions", func() bool { return proto.stable(t, adm, "g3", 3, 6) })

	const perPartition = 50
	produceTo(t, prod, "split", 6, perPartition)
	waitUntil(t, 20*time.Second, "every record consumed", func() bool {
		n := 0
		for _, m := range ms {
			n += m.count()
		}
		return n >= 6*perPartition
	})
	owner := map[tp]int{}
	total := 0
	for i, m := range ms {
		got := m.records()
		if len(got) == 0 {
			t.Errorf("member %d got nothing", i)
		}
		for k, offs := range got {
			if o, dup := owner[k]; dup {
				t.Errorf("partition %v reached members %d and %d", k, o, i)
			}
			owner[k] = i
			total += len(offs)
			for j, off := range offs {
				if off != int64(j) {
					t.Fatalf("member %d, %v: record %d has offset %d", i, k, j, off)
				}
			}
		}
	}
	if total != 6*perPartition {
		t.Errorf("%d records consumed, want %d exactly once each", total, 6*perPartition)
	}
	return adm, ms
}

// testCommittedOffsetsSurviveRestart commits offsets 10 of a group on a
// three-partition topic, restarts the broker (Kafka's 50 offsets topic
// partitions, replayed at restart) and checks that the group resumes at
// exactly offset 10. beforeRestart runs with the first broker's admin
// client once the group has committed, afterRestart with the second's once
// the committed offsets are back; either may be nil.
func testCommittedOffsetsSurviveRestart(t *testing.T, proto groupProtocol, beforeRestart, afterRestart func(adm *kadm.Client)) {
	t.Helper()
	cfg := proto.config(t, t.TempDir())
	cfg.OffsetsTopicPartitions = 0 // Kafka's 50 shards, replayed at restart
	b, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	prod := manualProducer(t, b)
	adm := kadm.NewClient(prod)
	createTopic(t, adm, "resume", 3)
	produceTo(t, prod, "resume", 3, 10)

	c := startMember(t, b, append(proto.opts("resumer", "resume"), kgo.DisableAutoCommit())...)
	waitUntil(t, 20*time.Second, "the first 30 records", func() bool { return c.count() == 30 })
	if err := c.cl.CommitUncommittedOffsets(ctxT(t)); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if beforeRestart != nil {
		beforeRestart(adm)
	}
	c.stop()
	produceTo(t, prod, "resume", 3, 5) // offsets 10..14 of each partition
	prod.Close()
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	b = startBroker(t, cfg)
	adm = kadm.NewClient(newClient(t, b))
	var fetched kadm.OffsetResponses
	waitUntil(t, 20*time.Second, "committed offsets after the restart", func() bool {
		fetched, err = adm.FetchOffsets(ctxT(t), "resumer")
		return err == nil && fetched.Error() == nil
	})
	for p := range int32(3) {
		if o, ok := fetched.Lookup("resume", p); !ok || o.At != 10 {
			t.Errorf("partition %d: committed %+v, want 10", p, o)
		}
	}
	if afterRestart != nil {
		afterRestart(adm)
	}

	c = startMember(t, b, proto.opts("resumer", "resume")...)
	waitUntil(t, 20*time.Second, "the 15 new records", func() bool { return c.count() >= 15 })
	for k, offs := range c.records() {
		if len(offs) != 5 || offs[0] != 10 || offs[4] != 14 {
			t.Errorf("%v: consumed offsets %v after the restart, want exactly 10..14", k, offs)
		}
	}
}

// testLagIsZeroAfterFullConsume consumes and commits every record of a
// four-partition topic and checks that the group's lag is zero on each.
func testLagIsZeroAfterFullConsume(t *testing.T, proto groupProtocol) {
	t.Helper()
	b := startBroker(t, proto.config(t, t.TempDir()))
	prod := manualProducer(t, b)
	adm := kadm.NewClient(prod)
	createTopic(t, adm, "lagging", 4)
	produceTo(t, prod, "lagging", 4, 25)

	c := startMember(t, b, append(proto.opts("lag", "lagging"), kgo.DisableAutoCommit())...)
	waitUntil(t, 20*time.Second, "100 records", func() bool { return c.count() == 100 })
	if err := c.cl.CommitUncommittedOffsets(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	lags, err := adm.Lag(ctxT(t), "lag")
	if err != nil {
		t.Fatal(err)
	}
	gl := lags["lag"]
	if gl.Error() != nil {
		t.Fatalf("lag: %v", gl.Error())
	}
	if total := gl.Lag.Total(); total != 0 {
		t.Errorf("total lag %d after consuming everything, want 0", total)
	}
	if n := len(gl.Lag["lagging"]); n != 4 {
		t.Errorf("lag lists %d partitions, want 4", n)
	}
}

// testMembersJoinAndLeaveUnderLoad has members with balancer join one by
// one and one leave while records flow to six partitions, waits for the
// group to settle each time, and checks that every record reached the
// group at least once (a rebalance may hand some out twice, never lose
// them). withThree, if not nil, runs once three members have settled.
func testMembersJoinAndLeaveUnderLoad(t *testing.T, proto groupProtocol, balancer kgo.GroupBalancer, withThree func(adm *kadm.Client)) {
	t.Helper()
	b := startBroker(t, proto.config(t, t.TempDir()))
	prod := manualProducer(t, b)
	adm := kadm.NewClient(prod)
	createTopic(t, adm, "churn", 6)

	ctx, stopLoad := context.WithCancel(context.Background())
	produced := make(chan int, 1)
	go func() {
		n := 0
		for ctx.Err() == nil {
			recs := make([]*kgo.Record, 6)
			for p := range recs {
				recs[p] = &kgo.Record{Topic: "churn", Partition: int32(p), Value: value(n)}
			}
			if prod.ProduceSync(ctx, recs...).FirstErr() == nil {
				n++
			}
			time.Sleep(2 * time.Millisecond)
		}
		produced <- n
	}()

	opts := append(proto.opts("churners", "churn"), kgo.Balancers(balancer))
	a := startMember(t, b, opts...)
	waitUntil(t, 20*time.Second, "one member", func() bool { return proto.stable(t, adm, "churners", 1, 6) })
	bm := startMember(t, b, opts...)
	waitUntil(t, 20*time.Second, "two members", func() bool { return proto.stable(t, adm, "churners", 2, 6) })
	cm := startMember(t, b, opts...)
	waitUntil(t, 20*time.Second, "three members", func() bool { return proto.stable(t, adm, "churners", 3, 6) })
	if withThree != nil {
		withThree(adm)
	}
	a.stop()
	waitUntil(t, 20*time.Second, "two members after a leave", func() bool { return proto.stable(t, adm, "churners", 2, 6) })
	stopLoad()
	n := <-produced

	waitUntil(t, 20*time.Second, "every record consumed", func() bool {
		seen := map[tp]map[int64]bool{}
		for _, m := range []*member{a, bm, cm} {
			for k, offs := range m.records() {
				if seen[k] == nil {
					seen[k] = map[int64]bool{}
				}
				for _, o := range offs {
					seen[k][o] = true
				}
			}
		}
		for p := range int32(6) {
			if len(seen[tp{"churn", p}]) < n {
				return false
			}
		}
		return true
	})
}

// startFiftyMembers starts 50 members on a topic of 50 partitions and
// waits until each owns one; it skips the test under -short.
func startFiftyMembers(t *testing.T, proto groupProtocol) *kadm.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("50 clients")
	}
	b := startBroker(t, proto.config(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	createTopic(t, adm, "fifty", 50)
	for range 50 {
		startMember(t, b, proto.opts("fifty", "fifty")...)
	}
	waitUntil(t, 40*time.Second, "50 members, one partition each", func() bool { return proto.stable(t, adm, "fifty", 50, 50) })
	return adm
}
