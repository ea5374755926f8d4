package main

// Transactions across kill -9 (KIP-98 on the partition side): a producer
// writes transactions to two partitions and a stand-in coordinator ends
// them with WriteTxnMarkers, committing some and aborting others, while the
// real binary is killed with SIGKILL between steps — with a transaction
// open, or just after its markers — and restarted on the same data
// directory. Recovery re-validates the active segment and rebuilds its
// aborted-transaction index from producer state; at the end a
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
	init, err := kmsg.NewPtrInitProducerIDRequest().RequestWith(ctx, cl)
	if err != nil || init.ErrorCode != 0 {
		t.Fatalf("InitProducerID: %v %v", err, init)
	}
	id, epoch := init.ProducerID, init.ProducerEpoch
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	restart := func() {
		proc.kill()
		proc = startServe(t, bin, addr, dir, logPath)
	}

	seq := [2]int32{}
	var committed []string
	for txn := range 24 {
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
		// The coordinator's decision, resent until it sticks (a
		// coordinator retries markers after a broker failure).
		if !endTxn(t, ctx, cl, topic, id, epoch, txn%3 != 0) {
			t.Fatalf("txn %d: markers failed", txn)
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
	tid := "crash-txn"
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

// endTxn writes the markers of the producer's transaction to both
// partitions, retrying while the restarted broker is not reachable yet.
func endTxn(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, id int64, epoch int16, commit bool) bool {
	t.Helper()
	for range 50 {
		req := kmsg.NewPtrWriteTxnMarkersRequest()
		m := kmsg.NewWriteTxnMarkersRequestMarker()
		m.ProducerID, m.ProducerEpoch, m.Committed = id, epoch, commit
		mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
		mt.Topic, mt.Partitions = topic, []int32{0, 1}
		m.Topics = append(m.Topics, mt)
		req.Markers = append(req.Markers, m)
		resp, err := req.RequestWith(ctx, cl)
		if err == nil {
			ok := true
			for _, rt := range resp.Markers[0].Topics {
				for _, rp := range rt.Partitions {
					ok = ok && rp.ErrorCode == 0
				}
			}
			if ok {
				return true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
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
