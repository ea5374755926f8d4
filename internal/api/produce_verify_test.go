package api

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/partition"
	"github.com/basketmq/basket/internal/producerstate"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

type onePartition struct{ p *partition.Partition }

func (o onePartition) Partition(topic string, p int32) (*partition.Partition, bool) {
	return o.p, topic == "t" && p == 0
}

type answerVerifier struct {
	code  int16
	asked []bool // the add flag of each call
}

func (v *answerVerifier) VerifyTxnPartitions(_ context.Context, _ string, _ int64, _ int16, add bool, parts map[string][]int32) (map[string]map[int32]int16, error) {
	v.asked = append(v.asked, add)
	out := map[string]map[int32]int16{}
	for topic, ps := range parts {
		out[topic] = map[int32]int16{}
		for _, p := range ps {
			out[topic][p] = v.code
		}
	}
	return out, nil
}

func testPartition(t *testing.T) *partition.Partition {
	t.Helper()
	d, err := log.OpenDir("/d", log.Options{FS: vfs.NewFaultFS(), Clock: clock.Real, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	l, err := d.CreateLog(log.TopicPartition{Topic: "t", Partition: 0}, log.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	p, err := partition.Open(l, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func txnProduce(t *testing.T, version int16, seq int32) *kmsg.ProduceRequest {
	t.Helper()
	b, err := record.AppendBatch(nil, record.BatchSpec{ProducerID: 5, ProducerEpoch: 1, BaseSequence: seq, Transactional: true},
		[]record.Record{{Value: []byte("v")}}, record.CodecNone)
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrProduceRequest()
	req.Version = version
	tid := "tid"
	req.TransactionID = &tid
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "t"
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = b
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// appendFirst runs the verification and the append of the request's one
// partition, as the produce handler does.
func appendFirst(t *testing.T, h *Handlers, req *kmsg.ProduceRequest) error {
	t.Helper()
	txn := h.startTxnVerification(context.Background(), req)
	p, _ := h.Partitions.Partition("t", 0)
	_, err := txn.append(p, "t", 0, req.Topics[0].Partitions[0].Records)
	return err
}

func TestProduceVerify_V12AddsPartitionsImplicitly(t *testing.T) {
	// KIP-890 part 2: from Produce v12 the verification adds the partition
	// to the transaction (add=true); before it, it only checks.
	for _, tc := range []struct {
		version int16
		add     bool
	}{{11, false}, {12, true}} {
		v := &answerVerifier{}
		h := &Handlers{Partitions: onePartition{testPartition(t)}, TxnVerifier: v}
		if err := appendFirst(t, h, txnProduce(t, tc.version, 0)); err != nil {
			t.Fatalf("v%d: %v", tc.version, err)
		}
		if len(v.asked) != 1 || v.asked[0] != tc.add {
			t.Fatalf("v%d: verifier calls (add flags) %v, want [%v]", tc.version, v.asked, tc.add)
		}
	}
}

func TestProduceVerify_ErrorTranslation(t *testing.T) {
	// Kafka's ReplicaManager turns retriable coordinator errors into
	// NOT_ENOUGH_REPLICAS; CONCURRENT_TRANSACTIONS stays itself only for
	// KIP-890 part 2 clients (Produce v12+).
	for _, tc := range []struct {
		code    int16
		version int16
		want    *kerr.Error
	}{
		{kerr.InvalidTxnState.Code, 11, kerr.InvalidTxnState},
		{kerr.NotCoordinator.Code, 11, kerr.NotEnoughReplicas},
		{kerr.CoordinatorLoadInProgress.Code, 12, kerr.NotEnoughReplicas},
		{kerr.ConcurrentTransactions.Code, 11, kerr.NotEnoughReplicas},
		{kerr.ConcurrentTransactions.Code, 12, kerr.ConcurrentTransactions},
		{kerr.ProducerFenced.Code, 11, kerr.ProducerFenced},
	} {
		h := &Handlers{Partitions: onePartition{testPartition(t)}, TxnVerifier: &answerVerifier{code: tc.code}}
		err := appendFirst(t, h, txnProduce(t, tc.version, 0))
		if got := codeFor(err); got != tc.want {
			t.Errorf("coordinator %v at v%d: %v, want %v", kerr.ErrorForCode(tc.code), tc.version, got, tc.want)
		}
		if errors.Is(err, producerstate.ErrInvalidTxnState) != (tc.want == kerr.InvalidTxnState) {
			t.Errorf("coordinator %v: error %v", kerr.ErrorForCode(tc.code), err)
		}
	}
}
