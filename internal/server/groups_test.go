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
	b := startBroker(t, groupConfig(t, t.TempDir()))
	prod := manualProducer(t, b)
	adm := kadm.NewClient(prod)
	createTopic(t, adm, "split", 6)

	var ms []*member
	for range 3 {
		ms = append(ms, startMember(t, b, consumerOpts("g3", "split")...))
	}
	waitUntil(t, 20*time.Second, "three members sharing six partitions", func() bool { return stableWith(t, adm, "g3", 3, 6) })

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
}

func TestGroups_CommittedOffsetsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := groupConfig(t, dir)
	cfg.OffsetsTopicPartitions = 0 // Kafka's 50 shards, replayed at restart
	b, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	prod := manualProducer(t, b)
	adm := kadm.NewClient(prod)
	createTopic(t, adm, "resume", 3)
	produceTo(t, prod, "resume", 3, 10)

	c := startMember(t, b, append(consumerOpts("resumer", "resume"), kgo.DisableAutoCommit())...)
	waitUntil(t, 20*time.Second, "the first 30 records", func() bool { return c.count() == 30 })
	if err := c.cl.CommitUncommittedOffsets(ctxT(t)); err != nil {
		t.Fatalf("commit: %v", err)
	}
	// An assign-mode style commit, with metadata, from outside any group
	// generation.
	os := kadm.Offsets{}
	os.Add(kadm.Offset{Topic: "resume", Partition: 1, At: 4, LeaderEpoch: -1, Metadata: "checkpoint-4"})
	if resp, err := adm.CommitOffsets(ctxT(t), "standalone", os); err != nil || resp.Error() != nil {
		t.Fatalf("standalone commit: %v %v", err, resp.Error())
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
	sa, err := adm.FetchOffsets(ctxT(t), "standalone")
	if o, ok := sa.Lookup("resume", 1); err != nil || !ok || o.At != 4 || o.Metadata != "checkpoint-4" {
		t.Errorf("standalone offset after restart: %+v %v, want 4 with its metadata", o, err)
	}

	c = startMember(t, b, consumerOpts("resumer", "resume")...)
	waitUntil(t, 20*time.Second, "the 15 new records", func() bool { return c.count() >= 15 })
	for k, offs := range c.records() {
		if len(offs) != 5 || offs[0] != 10 || offs[4] != 14 {
			t.Errorf("%v: consumed offsets %v after the restart, want exactly 10..14", k, offs)
		}
	}
}

func TestGroups_LagIsZeroAfterFullConsume(t *testing.T) {
	b := startBroker(t, groupConfig(t, t.TempDir()))
	prod := manualProducer(t, b)
	adm := kadm.NewClient(prod)
	createTopic(t, adm, "lagging", 4)
	produceTo(t, prod, "lagging", 4, 25)

	c := startMember(t, b, append(consumerOpts("lag", "lagging"), kgo.DisableAutoCommit())...)
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
			b := startBroker(t, groupConfig(t, t.TempDir()))
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

			opts := append(consumerOpts("churners", "churn"), kgo.Balancers(tc.balancer))
			a := startMember(t, b, opts...)
			waitUntil(t, 20*time.Second, "one member", func() bool { return stableWith(t, adm, "churners", 1, 6) })
			bm := startMember(t, b, opts...)
			waitUntil(t, 20*time.Second, "two members", func() bool { return stableWith(t, adm, "churners", 2, 6) })
			cm := startMember(t, b, opts...)
			waitUntil(t, 20*time.Second, "three members", func() bool { return stableWith(t, adm, "churners", 3, 6) })
			a.stop()
			waitUntil(t, 20*time.Second, "two members after a leave", func() bool { return stableWith(t, adm, "churners", 2, 6) })
			stopLoad()
			n := <-produced

			// Every record reached the group at least once (a
			// rebalance may hand some out twice, never lose them).
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
	if testing.Short() {
		t.Skip("50 clients")
	}
	b := startBroker(t, groupConfig(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	createTopic(t, adm, "fifty", 50)
	for range 50 {
		startMember(t, b, consumerOpts("fifty", "fifty")...)
	}
	waitUntil(t, 40*time.Second, "50 members, one partition each", func() bool { return stableWith(t, adm, "fifty", 50, 50) })
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
