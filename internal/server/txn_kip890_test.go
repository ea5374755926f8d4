package server

// KIP-890 part 2 (transaction.version 2) with real clients: kgo opts in
// when ApiVersions finalizes the feature (kgo client.go supportsKIP890p2)
// and then sends Produce v12 without AddPartitionsToTxn, TxnOffsetCommit
// v5 without AddOffsetsToTxn, and EndTxn v5, whose answer carries the
// epoch bumped for the next transaction. transaction.version 0 keeps the
// classic protocol.

import (
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/record"
)

// requestLog is a kgo.Logger that counts the requests the client wrote, by
// name and version, from kgo's debug line "wrote <Name> v<N>".
type requestLog struct {
	mu    sync.Mutex
	wrote map[string]map[int16]int
}

var wroteLine = regexp.MustCompile(`^wrote (\w+) v(\d+)$`)

func (l *requestLog) Level() kgo.LogLevel { return kgo.LogLevelDebug }

func (l *requestLog) Log(_ kgo.LogLevel, msg string, _ ...any) {
	m := wroteLine.FindStringSubmatch(msg)
	if m == nil {
		return
	}
	v, _ := strconv.Atoi(m[2])
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.wrote == nil {
		l.wrote = map[string]map[int16]int{}
	}
	if l.wrote[m[1]] == nil {
		l.wrote[m[1]] = map[int16]int{}
	}
	l.wrote[m[1]][int16(v)]++
}

// versions returns the versions name was written at.
func (l *requestLog) versions(name string) map[int16]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int16]int{}
	for v, n := range l.wrote[name] {
		out[v] = n
	}
	return out
}

// onlyVersion reports whether name was written, and only at version v.
func (l *requestLog) onlyVersion(name string, v int16) bool {
	got := l.versions(name)
	return len(got) == 1 && got[v] > 0
}

func TestTransactionsKIP890_KgoFollowsTransactionVersion(t *testing.T) {
	for _, tv := range []int16{2, 0} {
		t.Run(fmt.Sprintf("transaction.version=%d", tv), func(t *testing.T) {
			cfg := txnTestConfig(t, t.TempDir())
			cfg.TransactionVersion = tv
			b := startBroker(t, cfg)
			adm := kadm.NewClient(newClient(t, b))
			createTopic(t, adm, "kip890-a", 2)
			createTopic(t, adm, "kip890-b", 2)
			log := &requestLog{}
			cl := newClient(t, b, kgo.TransactionalID("kip890"), kgo.WithLogger(log),
				kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
			ctx := ctxT(t)
			var epochs []int16
			for i, commit := range []bool{true, false, true} {
				if err := cl.BeginTransaction(); err != nil {
					t.Fatal(err)
				}
				for j := range 4 {
					r := &kgo.Record{Topic: []string{"kip890-a", "kip890-b"}[j%2], Value: fmt.Appendf(nil, "%d-%d", i, j)}
					if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
						t.Fatalf("txn %d produce: %v", i, err)
					}
				}
				if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
					t.Fatalf("txn %d end: %v", i, err)
				}
				want := map[bool]string{true: "CompleteCommit", false: "CompleteAbort"}[commit]
				waitUntil(t, 10*time.Second, want, func() bool { return describeTxn(t, adm, "kip890").State == want })
				epochs = append(epochs, describeTxn(t, adm, "kip890").ProducerEpoch)
			}
			got := consumeAll(t, b, kgo.ReadCommitted(), 8, "kip890-a", "kip890-b")
			if len(got) != 8 || got["0-0"] != 1 || got["2-3"] != 1 || got["1-0"] != 0 {
				t.Errorf("read_committed: %v, want the 8 records of transactions 0 and 2", got)
			}
			if tv == 2 {
				// Produce v12 adds the partitions implicitly; EndTxn v5
				// bumps the epoch with every transaction.
				if !log.onlyVersion("Produce", 12) || !log.onlyVersion("EndTxn", 5) || len(log.versions("AddPartitionsToTxn")) != 0 {
					t.Errorf("kgo wrote Produce %v, EndTxn %v, AddPartitionsToTxn %v; want v12, v5 and none",
						log.versions("Produce"), log.versions("EndTxn"), log.versions("AddPartitionsToTxn"))
				}
				if epochs[1] != epochs[0]+1 || epochs[2] != epochs[1]+1 {
					t.Errorf("epochs after each transaction %v, want one bump per transaction", epochs)
				}
				return
			}
			if len(log.versions("AddPartitionsToTxn")) == 0 || log.versions("Produce")[12] != 0 || log.versions("EndTxn")[5] != 0 {
				t.Errorf("kgo wrote Produce %v, EndTxn %v, AddPartitionsToTxn %v; want the classic protocol",
					log.versions("Produce"), log.versions("EndTxn"), log.versions("AddPartitionsToTxn"))
			}
			if epochs[1] != epochs[0] || epochs[2] != epochs[0] {
				t.Errorf("epochs after each transaction %v, want one epoch", epochs)
			}
		})
	}
}

// A GroupTransactSession under transaction version 2 commits its offsets
// with TxnOffsetCommit v5, which adds __consumer_offsets to the
// transaction itself: no AddOffsetsToTxn.
func TestTransactionsKIP890_TxnOffsetCommitV5(t *testing.T) {
	b := startBroker(t, txnTestConfig(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	createTopic(t, adm, "v5-in", 2)
	createTopic(t, adm, "v5-out", 2)
	ctx := ctxT(t)
	prod := newClient(t, b, kgo.DefaultProduceTopic("v5-in"))
	for i := range 10 {
		if err := prod.ProduceSync(ctx, &kgo.Record{Value: value(i)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	log := &requestLog{}
	sess, err := kgo.NewGroupTransactSession(append(consumerOpts("v5", "v5-in"),
		kgo.SeedBrokers(b.Addr().String()), kgo.TransactionalID("v5"), kgo.DefaultProduceTopic("v5-out"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.WithLogger(log))...)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	for copied := 0; copied < 10; {
		fs := sess.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("copied %d of 10: %v", copied, err)
		}
		if err := sess.Begin(); err != nil {
			t.Fatal(err)
		}
		n := 0
		fs.EachRecord(func(r *kgo.Record) {
			sess.Produce(ctx, &kgo.Record{Value: r.Value}, nil)
			n++
		})
		committed, err := sess.End(ctx, kgo.TryCommit)
		if err != nil || !committed {
			t.Fatalf("End: committed=%v %v", committed, err)
		}
		copied += n
	}
	if !log.onlyVersion("TxnOffsetCommit", 5) || len(log.versions("AddOffsetsToTxn")) != 0 {
		t.Errorf("kgo wrote TxnOffsetCommit %v, AddOffsetsToTxn %v; want v5 and none",
			log.versions("TxnOffsetCommit"), log.versions("AddOffsetsToTxn"))
	}
	// The offsets show once the COMMIT marker reaches __consumer_offsets,
	// which the coordinator writes after answering EndTxn.
	waitUntil(t, 10*time.Second, "the committed offsets to sum to 10", func() bool {
		offs, err := adm.FetchOffsets(ctx, "v5")
		if err != nil {
			return false
		}
		total := int64(0)
		offs.Each(func(o kadm.OffsetResponse) { total += o.At })
		return total == 10
	})
}

// endTxnV5 sends EndTxn v5 for tid and returns its answer.
func endTxnV5(t *testing.T, cl *kgo.Client, tid string, id int64, epoch int16, commit bool) *kmsg.EndTxnResponse {
	t.Helper()
	req := kmsg.NewPtrEndTxnRequest()
	req.Version = 5
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = tid, id, epoch, commit
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatalf("EndTxn: %v", err)
	}
	return resp
}

// KAFKA-17754 through the broker's own coordinator: the first
// transaction's EndTxn and its marker, delayed and arriving again while
// the second transaction is open, touch nothing. Transaction version 2
// bumps the epoch at every EndTxn, so the stale EndTxn's epoch is fenced
// and the stale marker's epoch is not above the producer's.
func TestTransactionsKIP890_DelayedEndTxnAndMarkerCannotTouchNextTransaction(t *testing.T) {
	b := startBroker(t, txnTestConfig(t, t.TempDir()))
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "late", 1)
	const tid = "late"
	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID, init.TransactionTimeoutMillis = kmsg.StringPtr(tid), 60000
	ir := initProducerID(t, cl, init)
	id, epoch := ir.ProducerID, ir.ProducerEpoch
	produce := func(epoch int16, v string) {
		t.Helper()
		bt, err := record.AppendBatch(nil, record.BatchSpec{ProducerID: id, ProducerEpoch: epoch, Transactional: true},
			[]record.Record{{Value: []byte(v)}}, record.CodecNone)
		if err != nil {
			t.Fatal(err)
		}
		// Produce v12: the partition is added to the transaction
		// implicitly, no AddPartitionsToTxn.
		if code := rawTxnProduce(t, cl, tid, "late", 0, bt); code != 0 {
			t.Fatalf("produce %s at epoch %d: %v", v, epoch, kerr.ErrorForCode(code))
		}
	}

	produce(epoch, "first")
	first := endTxnV5(t, cl, tid, id, epoch, true)
	if first.ErrorCode != 0 || first.ProducerID != id || first.ProducerEpoch != epoch+1 {
		t.Fatalf("EndTxn v5: %v, producer %d/%d, want the epoch bumped to %d", kerr.ErrorForCode(first.ErrorCode), first.ProducerID, first.ProducerEpoch, epoch+1)
	}
	waitUntil(t, 10*time.Second, "CompleteCommit", func() bool { return describeTxn(t, adm, tid).State == "CompleteCommit" })
	produce(epoch+1, "second")
	if dt := describeTxn(t, adm, tid); dt.State != "Ongoing" {
		t.Fatalf("second transaction: %s", dt.State)
	}

	// The first transaction's EndTxn again, now as an abort.
	if resp := endTxnV5(t, cl, tid, id, epoch, false); resp.ErrorCode != kerr.ProducerFenced.Code {
		t.Errorf("delayed EndTxn: %v, want PRODUCER_FENCED", kerr.ErrorForCode(resp.ErrorCode))
	}
	// The first transaction's marker (written at epoch+1) again, as an
	// abort, with the coordinator epoch the partition knows.
	dp, err := adm.DescribeProducers(ctxT(t), kadm.TopicsSet{"late": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	var coordEpoch int32
	dp.EachProducer(func(p kadm.DescribedProducer) {
		if p.ProducerID == id {
			coordEpoch = p.CoordinatorEpoch
		}
	})
	codes := writeMarkersTV(t, cl, id, epoch+1, coordEpoch, false, 2, map[string][]int32{"late": {0}})
	if codes["late/0"] != kerr.InvalidProducerEpoch.Code {
		t.Errorf("delayed marker: %v, want INVALID_PRODUCER_EPOCH", kerr.ErrorForCode(codes["late/0"]))
	}
	if dt := describeTxn(t, adm, tid); dt.State != "Ongoing" || dt.ProducerEpoch != epoch+1 {
		t.Fatalf("second transaction after the delayed requests: %s at epoch %d", dt.State, dt.ProducerEpoch)
	}

	if resp := endTxnV5(t, cl, tid, id, epoch+1, true); resp.ErrorCode != 0 || resp.ProducerEpoch != epoch+2 {
		t.Fatalf("second EndTxn: %v, epoch %d", kerr.ErrorForCode(resp.ErrorCode), resp.ProducerEpoch)
	}
	got := consumeAll(t, b, kgo.ReadCommitted(), 2, "late")
	if len(got) != 2 || got["first"] != 1 || got["second"] != 1 {
		t.Errorf("read_committed: %v, want both transactions committed once", got)
	}
}
