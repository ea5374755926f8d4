package server

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/basketmq/basket/internal/record"
)

// fakeVerifier stands in for the transaction coordinator's KIP-890
// verification: it answers each partition with code[partition] and
// records what it was asked.
type fakeVerifier struct {
	mu    sync.Mutex
	code  map[int32]int16
	fail  error
	calls []verifyCall
	// concurrent answers this many calls CONCURRENT_TRANSACTIONS first.
	concurrent int
}

type verifyCall struct {
	txnID      string
	producerID int64
	epoch      int16
	add        bool
	partitions []int32
}

func (f *fakeVerifier) VerifyTxnPartitions(_ context.Context, txnID string, pid int64, epoch int16, add bool, parts map[string][]int32) (map[string]map[int32]int16, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]map[int32]int16{}
	for topic, ps := range parts {
		f.calls = append(f.calls, verifyCall{txnID, pid, epoch, add, slices.Clone(ps)})
		out[topic] = map[int32]int16{}
		for _, p := range ps {
			out[topic][p] = f.code[p]
			if f.concurrent > 0 {
				out[topic][p] = kerr.ConcurrentTransactions.Code
			}
		}
	}
	if f.concurrent > 0 {
		f.concurrent--
	}
	return out, f.fail
}

func (f *fakeVerifier) set(code map[int32]int16, fail error) {
	f.mu.Lock()
	f.code, f.fail = code, fail
	f.mu.Unlock()
}

func (f *fakeVerifier) takeCalls() []verifyCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func TestTxn_ProduceVerifiesFirstTransactionalBatch(t *testing.T) {
	// KIP-890 part 1: before a producer's first transactional batch lands
	// in a partition, the broker asks the transaction coordinator whether
	// the partition is in the transaction; a refusal keeps the batch out,
	// so no hanging transaction can start.
	v := &fakeVerifier{}
	cfg := testConfig(t, t.TempDir())
	cfg.TxnVerifier = v
	b := startBroker(t, cfg)
	// Produce v11: verification only; v12 (KIP-890 part 2) would ask the
	// coordinator to add the partition.
	maxV := kversion.Stable()
	maxV.SetMaxKeyVersion(int16(kmsg.Produce), 11)
	cl := newClient(t, b, kgo.MaxVersions(maxV))
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "ver", 2)
	p := newTxnProducer(t, cl)
	batch := func(seq int32, transactional bool) []byte {
		bt, err := record.AppendBatch(nil, record.BatchSpec{ProducerID: p.id, ProducerEpoch: p.epoch, BaseSequence: seq, Transactional: transactional},
			[]record.Record{{Value: []byte("v")}}, record.CodecNone)
		if err != nil {
			t.Fatal(err)
		}
		return bt
	}

	v.set(map[int32]int16{0: kerr.InvalidTxnState.Code}, nil)
	if code := rawTxnProduce(t, cl, "tid", "ver", 0, batch(0, true)); code != kerr.InvalidTxnState.Code {
		t.Fatalf("refused partition: %v, want INVALID_TXN_STATE", kerr.ErrorForCode(code))
	}
	calls := v.takeCalls()
	if len(calls) != 1 || calls[0].txnID != "tid" || calls[0].producerID != p.id || calls[0].add || !slices.Equal(calls[0].partitions, []int32{0}) {
		t.Fatalf("verifier calls %+v", calls)
	}

	v.set(map[int32]int16{0: kerr.CoordinatorNotAvailable.Code}, nil)
	if code := rawTxnProduce(t, cl, "tid", "ver", 0, batch(0, true)); code != kerr.NotEnoughReplicas.Code {
		t.Fatalf("coordinator unavailable: %v, want NOT_ENOUGH_REPLICAS (retriable, as Kafka translates it)", kerr.ErrorForCode(code))
	}
	v.set(nil, errors.New("coordinator gone"))
	if code := rawTxnProduce(t, cl, "tid", "ver", 0, batch(0, true)); code != kerr.NotEnoughReplicas.Code {
		t.Fatalf("verifier error: %v, want NOT_ENOUGH_REPLICAS", kerr.ErrorForCode(code))
	}

	v.set(map[int32]int16{0: 0}, nil)
	v.takeCalls()
	if code := rawTxnProduce(t, cl, "tid", "ver", 0, batch(0, true)); code != 0 {
		t.Fatalf("verified batch: %v", kerr.ErrorForCode(code))
	}
	// Inside the open transaction no further verification is needed.
	if code := rawTxnProduce(t, cl, "tid", "ver", 0, batch(1, true)); code != 0 {
		t.Fatalf("second batch: %v", kerr.ErrorForCode(code))
	}
	if calls := v.takeCalls(); len(calls) != 1 {
		t.Fatalf("verifier called %d times, want once: %+v", len(calls), calls)
	}
	// A plain batch from another producer needs none either.
	other := newTxnProducer(t, cl)
	if code := other.produce("ver", 1, false, "plain"); code != 0 {
		t.Fatalf("plain batch: %v", kerr.ErrorForCode(code))
	}
	if calls := v.takeCalls(); len(calls) != 0 {
		t.Fatalf("verifier called for a plain batch: %+v", calls)
	}

	// After the marker the next transaction is verified again.
	mustEnd(t, writeMarkers(t, cl, p.id, p.epoch, 0, true, map[string][]int32{"ver": {0}}))
	if code := rawTxnProduce(t, cl, "tid", "ver", 0, batch(2, true)); code != 0 {
		t.Fatalf("next transaction: %v", kerr.ErrorForCode(code))
	}
	if calls := v.takeCalls(); len(calls) != 1 {
		t.Fatalf("next transaction: verifier calls %+v", calls)
	}
}

func TestTxn_ProduceV12AsksCoordinatorToAddPartition(t *testing.T) {
	// KIP-890 part 2: Produce v12 adds the partition to the transaction
	// implicitly, so the broker asks the coordinator with add=true.
	v := &fakeVerifier{}
	cfg := testConfig(t, t.TempDir())
	cfg.TxnVerifier = v
	b := startBroker(t, cfg)
	cl := newClient(t, b)
	createTopic(t, kadm.NewClient(cl), "ver12", 1)
	p := newTxnProducer(t, cl)
	bt, err := record.AppendBatch(nil, record.BatchSpec{ProducerID: p.id, ProducerEpoch: p.epoch, Transactional: true},
		[]record.Record{{Value: []byte("v")}}, record.CodecNone)
	if err != nil {
		t.Fatal(err)
	}
	v.set(map[int32]int16{0: 0}, nil)
	if code := rawTxnProduce(t, cl, "tid", "ver12", 0, bt); code != 0 {
		t.Fatalf("v12 produce: %v", kerr.ErrorForCode(code))
	}
	if calls := v.takeCalls(); len(calls) != 1 || !calls[0].add {
		t.Fatalf("verifier calls %+v, want one with add=true", calls)
	}
}

func TestTxn_ProduceV12RetriesConcurrentTransactions(t *testing.T) {
	// KAFKA-18654: under Produce v12 the broker asks the coordinator
	// again while it answers CONCURRENT_TRANSACTIONS (the previous
	// transaction's markers are being written), up to
	// add.partitions.to.txn.retry.backoff.max.ms, rather than sending the
	// client into its much slower retry.
	v := &fakeVerifier{}
	cfg := testConfig(t, t.TempDir())
	cfg.TxnVerifier = v
	b := startBroker(t, cfg)
	cl := newClient(t, b)
	createTopic(t, kadm.NewClient(cl), "conc", 1)
	p := newTxnProducer(t, cl)
	batch := func(seq int32) []byte {
		bt, err := record.AppendBatch(nil, record.BatchSpec{ProducerID: p.id, ProducerEpoch: p.epoch, BaseSequence: seq, Transactional: true},
			[]record.Record{{Value: []byte("v")}}, record.CodecNone)
		if err != nil {
			t.Fatal(err)
		}
		return bt
	}
	v.set(map[int32]int16{0: 0}, nil)
	v.mu.Lock()
	v.concurrent = 2
	v.mu.Unlock()
	if code := rawTxnProduce(t, cl, "tid", "conc", 0, batch(0)); code != 0 {
		t.Fatalf("produce after two CONCURRENT_TRANSACTIONS answers: %v", kerr.ErrorForCode(code))
	}
	if calls := v.takeCalls(); len(calls) != 3 {
		t.Fatalf("verifier called %d times, want 3", len(calls))
	}
	// Past the retry budget (100 ms at 20 ms) the client gets the error.
	mustEnd(t, writeMarkers(t, cl, p.id, p.epoch, 0, true, map[string][]int32{"conc": {0}}))
	v.mu.Lock()
	v.concurrent = 100
	v.mu.Unlock()
	if code := rawTxnProduce(t, cl, "tid", "conc", 0, batch(1)); code != kerr.ConcurrentTransactions.Code {
		t.Fatalf("produce while the coordinator stays busy: %v, want CONCURRENT_TRANSACTIONS", kerr.ErrorForCode(code))
	}
	if calls := v.takeCalls(); len(calls) != 6 {
		t.Fatalf("verifier called %d times, want 6 (one and five retries)", len(calls))
	}
}

func TestTxn_ProduceRefusesTwoTransactionalProducersInOneRequest(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.TxnVerifier = &fakeVerifier{}
	b := startBroker(t, cfg)
	cl := newClient(t, b)
	createTopic(t, kadm.NewClient(cl), "two", 2)
	p1, p2 := newTxnProducer(t, cl), newTxnProducer(t, cl)
	req := kmsg.NewPtrProduceRequest()
	tid := "tid"
	req.TransactionID, req.Acks, req.TimeoutMillis = &tid, -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "two"
	for i, p := range []*txnProducer{p1, p2} {
		bt, _ := record.AppendBatch(nil, record.BatchSpec{ProducerID: p.id, ProducerEpoch: p.epoch, Transactional: true},
			[]record.Record{{Value: []byte("v")}}, record.CodecNone)
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition, rp.Records = int32(i), bt
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, rp := range resp.Topics[0].Partitions {
		if rp.ErrorCode != kerr.InvalidTxnState.Code {
			t.Fatalf("partition %d: %v, want INVALID_TXN_STATE", rp.Partition, kerr.ErrorForCode(rp.ErrorCode))
		}
	}
}
