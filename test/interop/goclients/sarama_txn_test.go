package goclients

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSarama_TransactionalProducer commits one transaction, aborts a second
// and commits a third that also commits consumer offsets
// (AddOffsetsToTxn + TxnOffsetCommit, KIP-98), all across two partitions.
// A kgo read_committed consumer must see exactly the committed records, a
// read_uncommitted one all three transactions, and the group's offsets
// must be those committed in the third.
func TestSarama_TransactionalProducer(t *testing.T) {
	for _, v := range []sarama.KafkaVersion{sarama.DefaultVersion, sarama.MaxVersion} {
		t.Run(v.String(), func(t *testing.T) {
			b := startBroker(t)
			topic, group := "sarama-txn", "sarama-txn-group"
			createTopic(t, b, topic, 2, nil)
			cfg := saramaConfig(t)
			cfg.Version = v
			cfg.Producer.Transaction.ID = "sarama-txn-" + v.String()
			cfg.Producer.Idempotent = true
			cfg.Producer.RequiredAcks = sarama.WaitForAll
			cfg.Producer.Return.Successes = true
			cfg.Producer.Partitioner = sarama.NewManualPartitioner
			cfg.Net.MaxOpenRequests = 1
			prod, err := sarama.NewSyncProducer([]string{b.Addr}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer prod.Close()
			if !prod.IsTransactional() {
				t.Fatal("producer is not transactional")
			}

			send := func(phase string, n int) {
				t.Helper()
				msgs := make([]*sarama.ProducerMessage, n)
				for i := range msgs {
					msgs[i] = &sarama.ProducerMessage{Topic: topic, Partition: int32(i % 2),
						Value: sarama.StringEncoder(fmt.Sprintf("%s %d", phase, i))}
				}
				if err := prod.SendMessages(msgs); err != nil {
					t.Fatalf("%s: send: %v", phase, err)
				}
			}
			begin := func() {
				t.Helper()
				if err := prod.BeginTxn(); err != nil {
					t.Fatalf("BeginTxn: %v", err)
				}
			}

			begin()
			send("commit1", 10)
			if err := prod.CommitTxn(); err != nil {
				t.Fatalf("CommitTxn: %v", err)
			}
			begin()
			send("abort", 10)
			if err := prod.AbortTxn(); err != nil {
				t.Fatalf("AbortTxn: %v", err)
			}
			begin()
			send("commit2", 6)
			offsets := map[string][]*sarama.PartitionOffsetMetadata{topic: {
				{Partition: 0, Offset: 7, Metadata: ptr("txn")}, {Partition: 1, Offset: 5},
			}}
			if err := prod.AddOffsetsToTxn(offsets, group); err != nil {
				t.Fatalf("AddOffsetsToTxn: %v", err)
			}
			if err := prod.CommitTxn(); err != nil {
				t.Fatalf("CommitTxn: %v", err)
			}
			if s := prod.TxnStatus(); s&sarama.ProducerTxnFlagReady == 0 {
				t.Errorf("transaction status after commit: %v", s)
			}

			// Committed transactions in the order they were produced; the
			// aborted one sits between them, so a read_committed consumer
			// that showed it would not match.
			var want []string
			for _, p := range []struct {
				phase string
				n     int
			}{{"commit1", 10}, {"commit2", 6}} {
				for i := range p.n {
					want = append(want, fmt.Sprintf("%s %d", p.phase, i))
				}
			}
			got := values(readAll(t, b, topic, len(want), kgo.FetchIsolationLevel(kgo.ReadCommitted())))
			if !slices.Equal(got, slices.Sorted(slices.Values(want))) {
				t.Errorf("read_committed:\n got %q\nwant %q", got, want)
			}
			for _, r := range readAll(t, b, topic, 26, kgo.FetchIsolationLevel(kgo.ReadUncommitted())) {
				if !r.Attrs.IsTransactional() || r.ProducerID < 0 {
					t.Fatalf("%d/%d %q: transactional %v, producer id %d", r.Partition, r.Offset, r.Value, r.Attrs.IsTransactional(), r.ProducerID)
				}
			}
			if c := committed(t, b, group, topic); !maps.Equal(c, map[int32]int64{0: 7, 1: 5}) {
				t.Errorf("offsets committed in the transaction: %v", c)
			}
		})
	}
}

// values is the records' values, sorted.
func values(recs []*kgo.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Value)
	}
	slices.Sort(out)
	return out
}

func ptr[T any](v T) *T { return &v }
