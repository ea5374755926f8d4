package server

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/group"
)

// groupConfig is testConfig with group timings sized for tests: a short
// initial rebalance delay and session timeouts down to 500 ms.
func groupConfig(t *testing.T, dir string) Config {
	t.Helper()
	cfg := testConfig(t, dir)
	gc := group.DefaultConfig()
	gc.InitialRebalanceDelay = 50 * time.Millisecond
	gc.MinSessionTimeout = 500 * time.Millisecond
	cfg.Group = &gc
	cfg.OffsetsTopicPartitions = 8
	return cfg
}

// waitUntil polls cond until it holds or timeout passes.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type tp struct {
	topic     string
	partition int32
}

// member is a group consumer polling in the background and recording
// which records it got.
type member struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu  sync.Mutex
	got map[tp][]int64
}

// consumerOpts are the options every test consumer shares: fast
// heartbeats and fetches so rebalances finish quickly.
func consumerOpts(groupID string, topics ...string) []kgo.Opt {
	return []kgo.Opt{
		kgo.ConsumerGroup(groupID), kgo.ConsumeTopics(topics...),
		kgo.SessionTimeout(6 * time.Second), kgo.HeartbeatInterval(100 * time.Millisecond),
		kgo.RebalanceTimeout(10 * time.Second), kgo.FetchMaxWait(100 * time.Millisecond),
	}
}

func startMember(t *testing.T, b *Broker, opts ...kgo.Opt) *member {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr().String())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{cl: cl, cancel: cancel, done: make(chan struct{}), got: map[tp][]int64{}}
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			m.mu.Lock()
			fs.EachRecord(func(r *kgo.Record) {
				k := tp{r.Topic, r.Partition}
				m.got[k] = append(m.got[k], r.Offset)
			})
			m.mu.Unlock()
		}
	}()
	t.Cleanup(m.stop)
	return m
}

// stop ends polling and closes the client, which leaves the group
// (unless it is a static member).
func (m *member) stop() {
	m.cancel()
	<-m.done
	m.cl.Close()
}

func (m *member) records() map[tp][]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[tp][]int64{}
	for k, v := range m.got {
		out[k] = append([]int64(nil), v...)
	}
	return out
}

func (m *member) count() int {
	n := 0
	for _, v := range m.records() {
		n += len(v)
	}
	return n
}

// stableWith reports whether the group is Stable with n members that
// together are assigned want partitions, each exactly once.
func stableWith(t *testing.T, adm *kadm.Client, groupID string, n, want int) bool {
	t.Helper()
	dgs, err := adm.DescribeGroups(ctxT(t), groupID)
	if err != nil {
		return false
	}
	dg := dgs[groupID]
	if dg.Err != nil || dg.State != "Stable" || len(dg.Members) != n {
		return false
	}
	seen := map[tp]bool{}
	for _, m := range dg.Members {
		ca, ok := m.Assigned.AsConsumer()
		if !ok {
			return false
		}
		for _, at := range ca.Topics {
			for _, p := range at.Partitions {
				k := tp{at.Topic, p}
				if seen[k] {
					return false
				}
				seen[k] = true
			}
		}
	}
	return len(seen) == want
}

func produceTo(t *testing.T, cl *kgo.Client, topic string, partitions int32, perPartition int) {
	t.Helper()
	var recs []*kgo.Record
	for p := range partitions {
		for i := range perPartition {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: value(i)})
		}
	}
	if err := cl.ProduceSync(ctxT(t), recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// manualProducer writes to the partition each record names.
func manualProducer(t *testing.T, b *Broker) *kgo.Client {
	return newClient(t, b, kgo.RecordPartitioner(kgo.ManualPartitioner()))
}

func TestGroups_ThreeMembersSplitSixPartitionsWithoutOverlap(t *testing.T) {
	testThreeMembersSplitSixPartitions(t, classicProtocol)
}

func TestGroups_CommittedOffsetsSurviveRestart(t *testing.T) {
	beforeRestart := func(adm *kadm.Client) {
		// An assign-mode style commit, with metadata, from outside any
		// group generation.
		os := kadm.Offsets{}
		os.Add(kadm.Offset{Topic: "resume", Partition: 1, At: 4, LeaderEpoch: -1, Metadata: "checkpoint-4"})
		if resp, err := adm.CommitOffsets(ctxT(t), "standalone", os); err != nil || resp.Error() != nil {
			t.Fatalf("standalone commit: %v %v", err, resp.Error())
		}
	}
	afterRestart := func(adm *kadm.Client) {
		sa, err := adm.FetchOffsets(ctxT(t), "standalone")
		if o, ok := sa.Lookup("resume", 1); err != nil || !ok || o.At != 4 || o.Metadata != "checkpoint-4" {
			t.Errorf("standalone offset after restart: %+v %v, want 4 with its metadata", o, err)
		}
	}
	testCommittedOffsetsSurviveRestart(t, classicProtocol, beforeRestart, afterRestart)
}

func TestGroups_LagIsZeroAfterFullConsume(t *testing.T) {
	testLagIsZeroAfterFullConsume(t, classicProtocol)
}

func TestGroups_MembersJoinAndLeaveUnderLoad(t *testing.T) {
	for _, tc := range []struct {
		name     string
		balancer kgo.GroupBalancer
	}{
		{"cooperative-sticky", kgo.CooperativeStickyBalancer()},
		{"range", kgo.RangeBalancer()},
		{"roundrobin", kgo.RoundRobinBalancer()},
		{"sticky", kgo.StickyBalancer()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testMembersJoinAndLeaveUnderLoad(t, classicProtocol, tc.balancer, nil)
		})
	}
}

func TestGroups_StaticMemberRestartCausesNoRebalance(t *testing.T) {
	// KIP-345: a static member that comes back within its session
	// timeout takes its old place; the generation stays.
	b := startBroker(t, groupConfig(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	createTopic(t, adm, "static", 4)

	opts := func(id string) []kgo.Opt {
		// An eager balancer: cooperative-sticky (kgo's default) follows a
		// rebalance with a second one, which would bump the generation
		// independently of the restart under test.
		return append(consumerOpts("statics", "static"), kgo.InstanceID(id), kgo.SessionTimeout(20*time.Second),
			kgo.Balancers(kgo.RangeBalancer()))
	}
	a := startMember(t, b, opts("a")...)
	other := startMember(t, b, opts("b")...)
	waitUntil(t, 20*time.Second, "two static members", func() bool { return stableWith(t, adm, "statics", 2, 4) })
	waitUntil(t, 10*time.Second, "both members in the same generation", func() bool {
		_, ga := a.cl.GroupMetadata()
		_, gb := other.cl.GroupMetadata()
		return ga > 0 && ga == gb
	})
	// The group must be settled: no generation change for a full second.
	var gen int32
	waitUntil(t, 20*time.Second, "a settled generation", func() bool {
		_, g := a.cl.GroupMetadata()
		for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			_, ga := a.cl.GroupMetadata()
			_, gb := other.cl.GroupMetadata()
			if ga != g || gb != g {
				return false
			}
		}
		gen = g
		return true
	})
	oldID, _ := a.cl.GroupMetadata()

	a.stop() // a static member does not leave on close
	a = startMember(t, b, opts("a")...)
	waitUntil(t, 20*time.Second, "the restarted member back in the group", func() bool {
		id, g := a.cl.GroupMetadata()
		return id != "" && id != oldID && g >= 0
	})
	// Watch for a while: neither member may see a new generation, and the
	// group must stay (or come back to) Stable with both.
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		_, ga := a.cl.GroupMetadata()
		_, gb := other.cl.GroupMetadata()
		if ga != gen || gb != gen {
			t.Fatalf("generations %d and %d after the static restart, want %d (no rebalance)", ga, gb, gen)
		}
	}
	waitUntil(t, 5*time.Second, "the group Stable with both static members", func() bool { return stableWith(t, adm, "statics", 2, 4) })
}

func TestGroups_AdminListDescribeDeleteOffsetDelete(t *testing.T) {
	b := startBroker(t, groupConfig(t, t.TempDir()))
	prod := manualProducer(t, b)
	adm := kadm.NewClient(prod)
	createTopic(t, adm, "admin-a", 2)
	createTopic(t, adm, "admin-b", 1)
	produceTo(t, prod, "admin-a", 2, 3)

	c := startMember(t, b, append(consumerOpts("admins", "admin-a"), kgo.ClientID("admin-test"))...)
	waitUntil(t, 20*time.Second, "a stable group", func() bool { return stableWith(t, adm, "admins", 1, 2) })
	os := kadm.Offsets{}
	os.Add(kadm.Offset{Topic: "admin-b", Partition: 0, At: 1, LeaderEpoch: -1})
	if _, err := adm.CommitOffsets(ctxT(t), "other", os); err != nil {
		t.Fatal(err)
	}

	listed, err := adm.ListGroups(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if lg, ok := listed["admins"]; !ok || lg.State != "Stable" || lg.ProtocolType != "consumer" {
		t.Errorf("ListGroups: admins = %+v, want a Stable consumer group", lg)
	}
	if _, ok := listed["other"]; !ok {
		t.Errorf("ListGroups misses the group with only commits: %v", listed.Groups())
	}
	if stable, err := adm.ListGroups(ctxT(t), "Stable"); err != nil || len(stable) != 1 {
		t.Errorf("ListGroups filtered on Stable: %v %v, want admins only", stable.Groups(), err)
	}
	dgs, err := adm.DescribeGroups(ctxT(t), "admins", "other", "nobody")
	if err != nil {
		t.Fatal(err)
	}
	if m := dgs["admins"].Members; len(m) != 1 || m[0].ClientID != "admin-test" || m[0].ClientHost != "/127.0.0.1" {
		t.Errorf("DescribeGroups members = %+v, want one with client id admin-test from /127.0.0.1", m)
	}
	if s := dgs["nobody"].State; s != "Dead" {
		t.Errorf("unknown group described as %q, want Dead", s)
	}

	resp, err := adm.DeleteGroups(ctxT(t), "admins")
	if err != nil || !errorsIs(resp["admins"].Err, kerr.NonEmptyGroup) {
		t.Errorf("deleting a group with members: %v %v, want NON_EMPTY_GROUP", err, resp["admins"].Err)
	}
	dr, err := adm.DeleteOffsets(ctxT(t), "admins", kadm.TopicsSet{"admin-a": {0: {}}})
	if pe, _ := dr.Lookup("admin-a", 0); err != nil || !errorsIs(pe, kerr.GroupSubscribedToTopic) {
		t.Errorf("OffsetDelete of a subscribed topic: %v %v, want GROUP_SUBSCRIBED_TO_TOPIC", err, pe)
	}
	dr, err = adm.DeleteOffsets(ctxT(t), "other", kadm.TopicsSet{"admin-b": {0: {}}})
	if pe, ok := dr.Lookup("admin-b", 0); err != nil || !ok || pe != nil {
		t.Errorf("OffsetDelete: %v %v %v", err, ok, pe)
	}
	if fo, err := adm.FetchOffsets(ctxT(t), "other"); err != nil || len(fo) != 0 {
		t.Errorf("offsets after OffsetDelete: %v %v, want none", fo, err)
	}

	c.stop()
	waitUntil(t, 20*time.Second, "the group empty", func() bool {
		dgs, err := adm.DescribeGroups(ctxT(t), "admins")
		return err == nil && dgs["admins"].State == "Empty"
	})
	resp, err = adm.DeleteGroups(ctxT(t), "admins", "other", "nobody")
	if err != nil || resp["admins"].Err != nil || resp["other"].Err != nil || !errorsIs(resp["nobody"].Err, kerr.GroupIDNotFound) {
		t.Errorf("DeleteGroups: %v %+v", err, resp)
	}
	if listed, err := adm.ListGroups(ctxT(t)); err != nil || len(listed) != 0 {
		t.Errorf("groups left after DeleteGroups: %v %v", listed.Groups(), err)
	}
}

func errorsIs(err error, want *kerr.Error) bool { return err == want }

func TestGroups_FindCoordinatorBatchedAndInternalTopic(t *testing.T) {
	b := startBroker(t, groupConfig(t, t.TempDir()))
	cl := newClient(t, b)

	req := kmsg.NewPtrFindCoordinatorRequest()
	req.CoordinatorKeys = []string{"g1", "g2", "another group"}
	var resp *kmsg.FindCoordinatorResponse
	waitUntil(t, 10*time.Second, "coordinators for every key (KIP-699)", func() bool {
		r, err := req.RequestWith(ctxT(t), cl)
		if err != nil || len(r.Coordinators) != 3 {
			return false
		}
		for _, c := range r.Coordinators {
			if c.ErrorCode != 0 {
				return false
			}
		}
		resp = r
		return true
	})
	// kgo may split a batched request and merge the answers, so match the
	// coordinators by key rather than by position.
	asked := map[string]bool{}
	for _, k := range req.CoordinatorKeys {
		asked[k] = true
	}
	for i, c := range resp.Coordinators {
		if !asked[c.Key] || c.NodeID != 1 || c.Port != int32(b.Addr().(*net.TCPAddr).Port) {
			t.Errorf("coordinator %d = %+v", i, c)
		}
		delete(asked, c.Key)
	}
	if len(asked) != 0 {
		t.Errorf("no coordinator for %v", asked)
	}

	txn := kmsg.NewPtrFindCoordinatorRequest()
	txn.CoordinatorType = 1
	txn.CoordinatorKeys = []string{"tx"}
	if r, err := txn.RequestWith(ctxT(t), cl); err != nil || r.Coordinators[0].ErrorCode != 0 || r.Coordinators[0].NodeID != 1 {
		t.Errorf("transactional id: %v %+v, want this broker", err, r)
	}
	bad := kmsg.NewPtrFindCoordinatorRequest()
	bad.CoordinatorType = 7
	bad.CoordinatorKeys = []string{"x"}
	if r, err := bad.RequestWith(ctxT(t), cl); err != nil || r.Coordinators[0].ErrorCode != kerr.InvalidRequest.Code {
		t.Errorf("unknown key type: %v %+v, want INVALID_REQUEST", err, r)
	}

	// __consumer_offsets now exists: internal, with the configured
	// partitions, and closed to producers.
	md := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr("__consumer_offsets")
	md.Topics = append(md.Topics, mt)
	mr, err := md.RequestWith(ctxT(t), cl)
	if err != nil || len(mr.Topics) != 1 || !mr.Topics[0].IsInternal || len(mr.Topics[0].Partitions) != 8 {
		t.Fatalf("metadata of __consumer_offsets: %v %+v", err, mr)
	}
	err = cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "__consumer_offsets", Value: []byte("x")}).FirstErr()
	if err != kerr.InvalidTopicException {
		t.Errorf("producing to __consumer_offsets: %v, want INVALID_TOPIC_EXCEPTION", err)
	}
}

func TestGroups_FiftyMembersStabilise(t *testing.T) {
	adm := startFiftyMembers(t, classicProtocol)
	dgs, err := adm.DescribeGroups(ctxT(t), "fifty")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range dgs["fifty"].Members {
		if ca, _ := m.Assigned.AsConsumer(); len(ca.Topics) != 1 || len(ca.Topics[0].Partitions) != 1 {
			t.Errorf("member %s assigned %+v, want one partition", m.MemberID, ca.Topics)
		}
	}
}

// Before any group exists there is no __consumer_offsets, so no coordinator
// hosts a group: Kafka's ListGroups asks the coordinators of the partitions
// the broker hosts, none, and answers an empty list without an error.
// kafka-python 2.0.2 (ListGroups v2) raises on any error code instead of
// retrying, so an answer of COORDINATOR_LOAD_IN_PROGRESS fails its
// list_consumer_groups outright.
func TestGroups_ListGroupsBeforeOffsetsTopicIsEmpty(t *testing.T) {
	b := startBroker(t, groupConfig(t, t.TempDir()))
	// No retries: kgo would retry COORDINATOR_LOAD_IN_PROGRESS until the
	// context expires.
	cl := newClient(t, b, kgo.RequestRetries(0))
	for _, version := range []int16{0, 2, 5} {
		req := kmsg.NewPtrListGroupsRequest()
		req.Version = version
		resp, err := req.RequestWith(ctxT(t), cl)
		if err != nil {
			t.Fatal(err)
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil || len(resp.Groups) != 0 {
			t.Errorf("ListGroups v%d before __consumer_offsets exists: %v, groups %+v; want no error and no groups", version, err, resp.Groups)
		}
	}
	if td, err := kadm.NewClient(cl).ListTopicsWithInternal(ctxT(t)); err != nil || td.Has("__consumer_offsets") {
		t.Errorf("ListGroups created __consumer_offsets (%v); only FindCoordinator should", err)
	}
}
