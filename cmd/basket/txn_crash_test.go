package main

// Transactions across kill -9 (KIP-98): a producer speaking the protocol
// step by step (InitProducerId, AddPartitionsToTxn, Produce, EndTxn)
// writes transactions to two partitions, committing some and aborting
// others, while the real binary is killed with SIGKILL between steps —
// with a transaction open, or just after EndTxn, while the coordinator may
// still be writing markers — and restarted on the same data directory.
// The coordinator reloads __transaction_state and finishes what it had
// decided; each partition re-validates its active segment and rebuilds its
// aborted-transaction index from producer state. At the end a
// read_committed kgo consumer must see every committed record exactly once
// and no aborted one.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/record"
)

func TestCrash_TransactionsSurviveKillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	bin := buildBasket(t)
	addr, dir := freePort(t), t.TempDir()
	logPath := filepath.Join(t.TempDir(), "basket.log")
	proc := startServe(t, bin, addr, dir, logPath)
	defer func() { proc.kill() }()
	defer func() {
		if t.Failed() {
			t.Logf("broker log (tail):\n%s", readLog(logPath))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const topic = "txcrash"
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	id, epoch := initTransactionalProducer(t, ctx, cl, crashTxnID)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	restart := func() {
		proc.kill()
		proc = startServe(t, bin, addr, dir, logPath)
	}

	seq := [2]int32{}
	var committed []string
	for txn := range 24 {
		addPartitions(t, ctx, cl, crashTxnID, id, epoch, topic)
		for part := range int32(2) {
			for b := range 2 {
				recs := make([]record.Record, 3)
				var vals []string
				for i := range recs {
					v := fmt.Sprintf("t%02d-p%d-b%d-%d", txn, part, b, i)
					recs[i] = record.Record{Value: []byte(v)}
					vals = append(vals, v)
				}
				batch, err := record.AppendBatch(nil, record.BatchSpec{BaseTimestamp: time.Now().UnixMilli(),
					ProducerID: id, ProducerEpoch: epoch, BaseSequence: seq[part], Transactional: true}, recs, record.CodecNone)
				if err != nil {
					t.Fatal(err)
				}
				if code := produceTo(t, ctx, cl, topic, part, batch); code != 0 {
					t.Fatalf("txn %d partition %d: produce error %d", txn, part, code)
				}
				seq[part] += 3
				if txn%3 != 0 {
					committed = append(committed, vals...)
				}
			}
		}
		if rng.IntN(4) == 0 {
			restart() // with the transaction open
		}
		if nextID, nextEpoch := endTxn(t, ctx, cl, crashTxnID, id, epoch, txn%3 != 0); nextID != id || nextEpoch != epoch {
			id, epoch, seq = nextID, nextEpoch, [2]int32{} // a new epoch's sequences start at 0
		}
		if rng.IntN(4) == 0 {
			restart() // with the markers just written
		}
	}
	restart()

	got := readCommitted(t, ctx, addr, topic, len(committed))
	sort.Strings(committed)
	if !slices.Equal(got, committed) {
		t.Fatalf("read_committed after kill -9 cycles: %d records, want %d\n got %v\nwant %v", len(got), len(committed), got, committed)
	}
}

func produceTo(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, part int32, batch []byte) int16 {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 10000
	tid := crashTxnID
	req.TransactionID = &tid
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = part, batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("produce: %v", err)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

// crashTxnID is the test producer's transactional id.
const crashTxnID = "crash-txn"

// retriable reports whether a transaction API error code means "ask
// again": the broker is loading or restarting, or the previous
// transaction's markers are still being written.
func retriable(code int16) bool {
	switch code {
	case kerr.CoordinatorLoadInProgress.Code, kerr.CoordinatorNotAvailable.Code, kerr.NotCoordinator.Code,
		kerr.ConcurrentTransactions.Code, kerr.RequestTimedOut.Code:
		return true
	}
	return false
}

// retry calls fn, which returns an error code or -1 for a request that did
// not get through, until it returns 0; a non-retriable code fails the test.
func retry(t *testing.T, ctx context.Context, what string, fn func() int16) {
	t.Helper()
	for ctx.Err() == nil {
		code := fn()
		if code == 0 {
			return
		}
		if code != -1 && !retriable(code) {
			t.Fatalf("%s: %v", what, kerr.ErrorForCode(code))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, ctx.Err())
}

// initTransactionalProducer finds the transaction coordinator (which
// creates __transaction_state) and gets a producer id and epoch for tid.
func initTransactionalProducer(t *testing.T, ctx context.Context, cl *kgo.Client, tid string) (int64, int16) {
	t.Helper()
	retry(t, ctx, "FindCoordinator", func() int16 {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorType, req.CoordinatorKeys = 1, []string{tid}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return -1
		}
		return resp.Coordinators[0].ErrorCode
	})
	var id int64
	var epoch int16
	retry(t, ctx, "InitProducerId", func() int16 {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.TransactionalID, req.TransactionTimeoutMillis = &tid, 120000
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return -1
		}
		id, epoch = resp.ProducerID, resp.ProducerEpoch
		return resp.ErrorCode
	})
	return id, epoch
}

// addPartitions adds both partitions of topic to the producer's
// transaction, waiting out the previous transaction's markers.
func addPartitions(t *testing.T, ctx context.Context, cl *kgo.Client, tid string, id int64, epoch int16, topic string) {
	t.Helper()
	retry(t, ctx, "AddPartitionsToTxn", func() int16 {
		req := kmsg.NewPtrAddPartitionsToTxnRequest()
		req.Version = 3
		req.TransactionalID, req.ProducerID, req.ProducerEpoch = tid, id, epoch
		rt := kmsg.NewAddPartitionsToTxnRequestTopic()
		rt.Topic, rt.Partitions = topic, []int32{0, 1}
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return -1
		}
		for _, rt := range resp.Topics {
			for _, p := range rt.Partitions {
				if p.ErrorCode != 0 {
					return p.ErrorCode
				}
			}
		}
		return 0
	})
}

// endTxn commits or aborts the producer's transaction through the
// coordinator, retrying while the restarted broker is not reachable or
// still loading, and returns the producer id and epoch for the next
// transaction: EndTxn v5 (KIP-890 part 2) may answer a bumped epoch.
func endTxn(t *testing.T, ctx context.Context, cl *kgo.Client, tid string, id int64, epoch int16, commit bool) (int64, int16) {
	t.Helper()
	nextID, nextEpoch := id, epoch
	retry(t, ctx, "EndTxn", func() int16 {
		req := kmsg.NewPtrEndTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = tid, id, epoch, commit
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return -1
		}
		if resp.ErrorCode == 0 && resp.Version >= 5 && resp.ProducerEpoch >= 0 {
			nextID, nextEpoch = resp.ProducerID, resp.ProducerEpoch
		}
		return resp.ErrorCode
	})
	return nextID, nextEpoch
}

// readCommitted consumes topic from the start with read_committed until
// want records arrived and a further poll brings nothing new.
func readCommitted(t *testing.T, ctx context.Context, addr, topic string, want int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	quiet := 0
	for ctx.Err() == nil && (len(got) < want || quiet < 2) {
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := cl.PollFetches(pctx)
		cancel()
		n := 0
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)); n++ })
		if len(got) >= want && n == 0 {
			quiet++
		}
	}
	sort.Strings(got)
	return got
}
