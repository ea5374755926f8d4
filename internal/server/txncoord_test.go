package server

// Transactions through the broker: the transaction coordinator with a
// real kgo client. Until the partition side of transactions merges, the
// broker writes markers only to __consumer_offsets partitions
// (writeTxnMarkers is a placeholder), so these tests check what the
// coordinators decide — commit/abort, fencing, timeouts, transactional
// offsets — and not read_committed visibility of data, which
// txn_e2e_test.go covers once WriteTxnMarkers (key 27) is served.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/basketmq/basket/internal/api"
	"github.com/basketmq/basket/internal/coordinator/txn"
)

// txnTestConfig is groupConfig with the transaction coordinators on: 4
// __transaction_state partitions and the timed-out transaction check
// every 50 ms.
func txnTestConfig(t *testing.T, dir string) Config {
	t.Helper()
	cfg := groupConfig(t, dir)
	cfg.TransactionStateTopicPartitions = 4
	tc := txn.DefaultConfig()
	tc.AbortTimedOutInterval = 50 * time.Millisecond
	cfg.Txn = &tc
	return cfg
}

// describeTxn returns the coordinator's description of id.
func describeTxn(t *testing.T, adm *kadm.Client, id string) kadm.DescribedTransaction {
	t.Helper()
	d, err := adm.DescribeTransactions(ctxT(t), id)
	if err != nil {
		t.Fatalf("describe transactions: %v", err)
	}
	dt, ok := d[id]
	if !ok || dt.Err != nil {
		t.Fatalf("describe %s: %v", id, dt.Err)
	}
	return dt
}

func TestTransactions_ApiVersionsOnlyWithCoordinator(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		cfg := testConfig(t, t.TempDir())
		cfg.DisableTransactions = !enabled
		b := startBroker(t, cfg)
		cl := newClient(t, b)
		resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctxT(t), cl)
		if err != nil {
			t.Fatal(err)
		}
		keys := map[int16]bool{}
		for _, k := range resp.ApiKeys {
			keys[k.ApiKey] = true
		}
		for _, key := range []int16{24, 25, 26, 28, 65, 66} {
			if keys[key] != enabled {
				t.Errorf("enabled=%v: %s advertised=%v", enabled, kmsg.NameForKey(key), keys[key])
			}
		}
	}
}

// ApiVersions v3+ carries the transaction.version feature when the broker
// finalizes it (KIP-890, KIP-1022), and nothing otherwise.
func TestTransactions_TransactionVersionFeature(t *testing.T) {
	for _, level := range []int16{0, 2} {
		cfg := txnTestConfig(t, t.TempDir())
		cfg.TransactionVersion = level
		b := startBroker(t, cfg)
		resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctxT(t), newClient(t, b))
		if err != nil {
			t.Fatal(err)
		}
		var finalized int16
		for _, f := range resp.FinalizedFeatures {
			if f.Name == "transaction.version" {
				finalized = f.MaxVersionLevel
			}
		}
		if finalized != level || (level == 0 && len(resp.SupportedFeatures) != 0) {
			t.Errorf("level %d: finalized %d, supported %+v", level, finalized, resp.SupportedFeatures)
		}
		// A finalized features epoch of -1 tells clients to ignore the
		// finalized features (kgo does).
		if level > 0 && resp.FinalizedFeaturesEpoch < 0 {
			t.Errorf("level %d: finalized features epoch %d", level, resp.FinalizedFeaturesEpoch)
		}
	}
}

func TestTransactions_CommitAndAbort(t *testing.T) {
	b := startBroker(t, txnTestConfig(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	topics := []string{"tx-a", "tx-b", "tx-c"}
	for _, name := range topics {
		createTopic(t, adm, name, 4)
	}
	cl := newClient(t, b, kgo.TransactionalID("copier"), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	ctx := ctxT(t)
	for i, commit := range []bool{true, false, true} {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for j := range 12 {
			r := &kgo.Record{Topic: topics[j%3], Value: value(i*100 + j)}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatalf("txn %d produce: %v", i, err)
			}
		}
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatalf("txn %d end(commit=%v): %v", i, commit, err)
		}
		want := "CompleteAbort"
		if commit {
			want = "CompleteCommit"
		}
		// The markers are written after the answer; the coordinator then
		// completes the transaction.
		waitUntil(t, 10*time.Second, want, func() bool { return describeTxn(t, adm, "copier").State == want })
	}
	dt := describeTxn(t, adm, "copier")
	if dt.ProducerID < 0 || len(dt.Topics) != 0 {
		t.Errorf("completed transaction: producer %d, partitions %v", dt.ProducerID, dt.Topics)
	}
	listed, err := adm.ListTransactions(ctx, nil, []string{"CompleteCommit"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := listed["copier"]; !ok || len(listed) != 1 {
		t.Errorf("ListTransactions(CompleteCommit) = %v", listed.TransactionalIDs())
	}
}

// A second producer with the same transactional id fences the first: its
// open transaction is aborted and its EndTxn is PRODUCER_FENCED, under the
// classic protocol and under KIP-890 part 2.
func TestTransactions_ZombieIsFenced(t *testing.T) {
	for _, tv := range []int16{2, 0} {
		t.Run(fmt.Sprintf("transaction.version=%d", tv), func(t *testing.T) {
			cfg := txnTestConfig(t, t.TempDir())
			cfg.TransactionVersion = tv
			b := startBroker(t, cfg)
			adm := kadm.NewClient(newClient(t, b))
			createTopic(t, adm, "zombie", 1)
			ctx := ctxT(t)
			old := newClient(t, b, kgo.TransactionalID("z"), kgo.DefaultProduceTopic("zombie"))
			if err := old.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			if err := old.ProduceSync(ctx, &kgo.Record{Value: []byte("zombie")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			before := describeTxn(t, adm, "z")

			fresh := newClient(t, b, kgo.TransactionalID("z"), kgo.DefaultProduceTopic("zombie"))
			if err := fresh.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			// InitProducerId aborts the zombie's transaction, answering
			// CONCURRENT_TRANSACTIONS until the abort completes; kgo retries.
			if err := fresh.ProduceSync(ctx, &kgo.Record{Value: []byte("fresh")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			after := describeTxn(t, adm, "z")
			if after.ProducerID != before.ProducerID || after.ProducerEpoch < before.ProducerEpoch+2 {
				t.Errorf("epoch after fencing: %d/%d, before %d/%d", after.ProducerID, after.ProducerEpoch, before.ProducerID, before.ProducerEpoch)
			}
			err := old.EndTransaction(ctx, kgo.TryCommit)
			if !errors.Is(err, kerr.ProducerFenced) && !errors.Is(err, kerr.InvalidProducerEpoch) {
				t.Errorf("zombie EndTxn: %v, want PRODUCER_FENCED", err)
			}
			if err := fresh.EndTransaction(ctx, kgo.TryCommit); err != nil {
				t.Errorf("fresh producer's commit: %v", err)
			}
		})
	}
}

// A transaction open past its transaction.timeout.ms is aborted by the
// coordinator with the epoch bumped, so its producer is fenced.
func TestTransactions_TimeoutAbortsAndFences(t *testing.T) {
	b := startBroker(t, txnTestConfig(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	createTopic(t, adm, "slow", 1)
	ctx := ctxT(t)
	cl := newClient(t, b, kgo.TransactionalID("slow"), kgo.DefaultProduceTopic("slow"), kgo.TransactionTimeout(300*time.Millisecond))
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("late")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	before := describeTxn(t, adm, "slow")
	waitUntil(t, 10*time.Second, "the coordinator to abort", func() bool {
		return describeTxn(t, adm, "slow").State == "CompleteAbort"
	})
	if after := describeTxn(t, adm, "slow"); after.ProducerEpoch != before.ProducerEpoch+1 {
		t.Errorf("epoch after timeout %d, want %d", after.ProducerEpoch, before.ProducerEpoch+1)
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err == nil {
		t.Error("commit after the coordinator aborted succeeded")
	}
}

func TestTransactions_InvalidTimeoutAndMisuse(t *testing.T) {
	b := startBroker(t, txnTestConfig(t, t.TempDir()))
	cl := newClient(t, b)
	ctx := ctxT(t)
	find := kmsg.NewPtrFindCoordinatorRequest()
	find.CoordinatorType, find.CoordinatorKey = 1, "misuse"
	waitUntil(t, 10*time.Second, "a transaction coordinator", func() bool {
		resp, err := find.RequestWith(ctx, cl)
		return err == nil && resp.ErrorCode == 0
	})

	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID, init.TransactionTimeoutMillis = kmsg.StringPtr("misuse"), 900001
	resp := initProducerID(t, cl, init)
	if resp.ErrorCode != kerr.InvalidTransactionTimeout.Code {
		t.Errorf("timeout above transaction.max.timeout.ms: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	init.TransactionTimeoutMillis = 60000
	resp = initProducerID(t, cl, init)
	if resp.ErrorCode != 0 {
		t.Fatalf("InitProducerId: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	end := kmsg.NewPtrEndTxnRequest()
	end.TransactionalID, end.ProducerID, end.ProducerEpoch, end.Commit = "misuse", resp.ProducerID, resp.ProducerEpoch, true
	if e, err := end.RequestWith(ctx, cl); err != nil || e.ErrorCode != kerr.InvalidTxnState.Code {
		t.Errorf("EndTxn without a transaction: %v %v, want INVALID_TXN_STATE", err, e)
	}
	end.ProducerEpoch--
	if e, err := end.RequestWith(ctx, cl); err != nil || e.ErrorCode != kerr.ProducerFenced.Code {
		t.Errorf("EndTxn with an old epoch: %v %v, want PRODUCER_FENCED", err, e)
	}
	v4 := kversion.Stable()
	v4.SetMaxKeyVersion(28, 4) // v5 adds the partition implicitly (KIP-890 part 2)
	clV4 := newClient(t, b, kgo.MaxVersions(v4))
	commit := kmsg.NewPtrTxnOffsetCommitRequest()
	commit.TransactionalID, commit.Group, commit.ProducerID, commit.ProducerEpoch = "misuse", "g", resp.ProducerID, resp.ProducerEpoch
	commit.Generation = -1
	ct := kmsg.NewTxnOffsetCommitRequestTopic()
	ct.Topic = "t"
	ct.Partitions = append(ct.Partitions, kmsg.TxnOffsetCommitRequestTopicPartition{Partition: 0, Offset: 5})
	commit.Topics = append(commit.Topics, ct)
	tc, err := commit.RequestWith(ctx, clV4)
	if err != nil || tc.Topics[0].Partitions[0].ErrorCode != kerr.InvalidTxnState.Code {
		t.Errorf("TxnOffsetCommit outside a transaction: %v %+v, want INVALID_TXN_STATE", err, tc)
	}
	tc, err = commit.RequestWith(ctx, cl)
	if err != nil || tc.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Errorf("TxnOffsetCommit v5 outside a transaction: %v %+v, want it to start one", err, tc)
	}
	if st := describeTxn(t, kadm.NewClient(cl), "misuse"); st.State != "Ongoing" || len(st.Topics["__consumer_offsets"]) != 1 {
		t.Errorf("after TxnOffsetCommit v5: %s %v, want Ongoing with the group's partition", st.State, st.Topics)
	}
}

func initProducerID(t *testing.T, cl *kgo.Client, req *kmsg.InitProducerIDRequest) *kmsg.InitProducerIDResponse {
	t.Helper()
	for {
		resp, err := req.RequestWith(ctxT(t), cl)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ErrorCode != kerr.CoordinatorLoadInProgress.Code && resp.ErrorCode != kerr.ConcurrentTransactions.Code {
			return resp
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Offsets committed in a transaction are pending — OffsetFetch with
// require_stable answers UNSTABLE_OFFSET_COMMIT (KIP-447) — until the
// COMMIT marker makes them the group's, and an ABORT drops them.
func TestTransactions_TxnOffsetCommitPendingUntilMarker(t *testing.T) {
	b := startBroker(t, txnTestConfig(t, t.TempDir()))
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	ctx := ctxT(t)
	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID, init.TransactionTimeoutMillis = kmsg.StringPtr("offsets"), 60000
	find := kmsg.NewPtrFindCoordinatorRequest()
	find.CoordinatorType, find.CoordinatorKey = 1, "offsets"
	waitUntil(t, 10*time.Second, "a transaction coordinator", func() bool {
		resp, err := find.RequestWith(ctx, cl)
		return err == nil && resp.ErrorCode == 0
	})
	pid := initProducerID(t, cl, init)
	if pid.ErrorCode != 0 {
		t.Fatal(kerr.ErrorForCode(pid.ErrorCode))
	}
	if _, err := adm.FetchOffsets(ctx, "g"); err != nil { // creates __consumer_offsets
		t.Fatal(err)
	}

	for round, commit := range []bool{true, false} {
		add := kmsg.NewPtrAddOffsetsToTxnRequest()
		add.TransactionalID, add.ProducerID, add.ProducerEpoch, add.Group = "offsets", pid.ProducerID, pid.ProducerEpoch, "g"
		if resp, err := add.RequestWith(ctx, cl); err != nil || resp.ErrorCode != 0 {
			t.Fatalf("AddOffsetsToTxn: %v %v", err, resp)
		}
		offset := int64(100 * (round + 1))
		commitReq := kmsg.NewPtrTxnOffsetCommitRequest()
		commitReq.TransactionalID, commitReq.Group = "offsets", "g"
		commitReq.ProducerID, commitReq.ProducerEpoch, commitReq.Generation = pid.ProducerID, pid.ProducerEpoch, -1
		ct := kmsg.NewTxnOffsetCommitRequestTopic()
		ct.Topic = "in"
		ct.Partitions = append(ct.Partitions, kmsg.TxnOffsetCommitRequestTopicPartition{Partition: 0, Offset: offset, LeaderEpoch: -1})
		commitReq.Topics = append(commitReq.Topics, ct)
		if resp, err := commitReq.RequestWith(ctx, cl); err != nil || resp.Topics[0].Partitions[0].ErrorCode != 0 {
			t.Fatalf("TxnOffsetCommit: %v %+v", err, resp)
		}
		if _, code := fetchStable(t, cl, "g", true); code != kerr.UnstableOffsetCommit.Code {
			t.Errorf("round %d: require_stable fetch while pending: %v, want UNSTABLE_OFFSET_COMMIT", round, kerr.ErrorForCode(code))
		}
		end := kmsg.NewPtrEndTxnRequest()
		end.TransactionalID, end.ProducerID, end.ProducerEpoch, end.Commit = "offsets", pid.ProducerID, pid.ProducerEpoch, commit
		resp, err := end.RequestWith(ctx, cl)
		if err != nil || resp.ErrorCode != 0 {
			t.Fatalf("EndTxn: %v %v", err, resp)
		}
		if resp.Version >= 5 { // KIP-890 part 2: the next transaction's epoch
			pid.ProducerID, pid.ProducerEpoch = resp.ProducerID, resp.ProducerEpoch
		}
		waitUntil(t, 10*time.Second, "the marker", func() bool {
			_, code := fetchStable(t, cl, "g", true)
			return code == 0
		})
		got, _ := fetchStable(t, cl, "g", false)
		if want := int64(100); got != want {
			t.Errorf("round %d (commit=%v): committed offset %d, want %d", round, commit, got, want)
		}
	}

	// The transactional batches and markers of __consumer_offsets load
	// again after a restart (producer state and group replay).
	cfg := b.cfg
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = startBroker(t, cfg)
	cl = newClient(t, b)
	waitUntil(t, 10*time.Second, "the offsets after a restart", func() bool {
		got, code := fetchStable(t, cl, "g", true)
		return code == 0 && got == 100
	})
	adm = kadm.NewClient(cl)
	if st := describeTxn(t, adm, "offsets"); st.State != "CompleteAbort" {
		t.Errorf("transaction after a restart: %s, want CompleteAbort", st.State)
	}
}

// fetchStable fetches the offset of partition 0 of "in" for group.
func fetchStable(t *testing.T, cl *kgo.Client, group string, requireStable bool) (int64, int16) {
	t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version, req.Group, req.RequireStable = 7, group, requireStable
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = "in", []int32{0}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != 0 {
		return -1, resp.ErrorCode
	}
	p := resp.Topics[0].Partitions[0]
	return p.Offset, p.ErrorCode
}

// A consume-transform-produce copier with kgo's GroupTransactSession:
// TxnOffsetCommit with the member's generation, committed with the
// output through the group coordinator's COMMIT marker.
func TestTransactions_GroupTransactSessionCommitsOffsets(t *testing.T) {
	b := startBroker(t, txnTestConfig(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	createTopic(t, adm, "copy-in", 2)
	createTopic(t, adm, "copy-out", 2)
	ctx := ctxT(t)
	const n = 200
	prod := newClient(t, b, kgo.DefaultProduceTopic("copy-in"))
	for i := range n {
		prod.Produce(ctx, &kgo.Record{Value: value(i)}, nil)
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sess, err := kgo.NewGroupTransactSession(append(consumerOpts("copier", "copy-in"),
		kgo.SeedBrokers(b.Addr().String()), kgo.TransactionalID("copier-1"), kgo.DefaultProduceTopic("copy-out"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.DisableAutoCommit())...)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	copied := 0
	for copied < n && ctx.Err() == nil {
		fs := sess.PollFetches(ctx)
		if err := fs.Err0(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("poll: %v", err)
		}
		if err := sess.Begin(); err != nil {
			t.Fatal(err)
		}
		batch := 0
		fs.EachRecord(func(r *kgo.Record) {
			sess.Produce(ctx, &kgo.Record{Value: append([]byte("copy-"), r.Value...)}, nil)
			batch++
		})
		committed, err := sess.End(ctx, kgo.TryCommit)
		if err != nil {
			t.Fatalf("End: %v", err)
		}
		if committed {
			copied += batch
		}
	}
	if copied != n {
		t.Errorf("copied %d, want %d", copied, n)
	}
	// EndTxn answers once the commit is decided; the COMMIT marker that
	// makes the offsets committed follows, written by the coordinator.
	var total int64
	eventually(t, 10*time.Second, "the committed offsets", func() bool {
		offsets, err := adm.FetchOffsets(ctx, "copier")
		if err != nil {
			t.Fatal(err)
		}
		total = 0
		offsets.Each(func(o kadm.OffsetResponse) {
			if o.Err == nil {
				total += o.At
			}
		})
		return total == n
	})
	// Exactly once: every input copied once (the end offsets would also
	// count the COMMIT markers, one offset each).
	seen := consumeAll(t, b, kgo.ReadCommitted(), n, "copy-out")
	for i := range n {
		if c := seen["copy-"+string(value(i))]; c != 1 {
			t.Errorf("copy of record %d seen %d times", i, c)
		}
	}
	if len(seen) != n {
		t.Errorf("copy-out holds %d distinct records, want %d", len(seen), n)
	}
}

// Every transaction API at every served version, sent with default
// (empty or zero) fields, gets an answer: never a closed connection or a
// panic.
func TestTransactions_DefaultRequestsAreAnswered(t *testing.T) {
	b := startBroker(t, txnTestConfig(t, t.TempDir()))
	cl := newClient(t, b)
	ctx := ctxT(t)
	find := kmsg.NewPtrFindCoordinatorRequest()
	find.CoordinatorType, find.CoordinatorKey = 1, ""
	if _, err := find.RequestWith(ctx, cl); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, b)
	for _, key := range []int16{22, 24, 25, 26, 28, 65, 66} {
		max := kmsg.RequestForKey(key).MaxVersion()
		for v := int16(0); v <= max; v++ {
			if !api.Supported(key, v) {
				continue
			}
			req := kmsg.RequestForKey(key)
			req.SetVersion(v)
			if ip, ok := req.(*kmsg.InitProducerIDRequest); ok {
				ip.TransactionalID = kmsg.StringPtr("")
			}
			if resp := c.roundTrip(req); resp == nil {
				t.Errorf("%s v%d: no answer", kmsg.NameForKey(key), v)
			}
		}
	}
}
