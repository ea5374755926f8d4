package goclients

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSarama_TransactionalProducer commits one transaction, aborts a second
// and commits a third that also commits consumer offsets
// (AddOffsetsToTxn + TxnOffsetCommit, KIP-98), all across two partitions.
// A kgo read_committed consumer must see exactly the committed records, a
// read_uncommitted one all three transactions, the group's offsets must be
// those committed in the third, and sarama's own read_committed consumer
// must see what kgo's does. While the third is open, sarama's and
// kafka-go's ListOffsets at read_committed answer the last stable offset.
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
			// Each partition: commit1 at 0-4, its marker at 5, abort at
			// 6-10, its marker at 11, commit2 from 12. While commit2 is
			// open the last stable offset is 12, the high watermark 15.
			checkLastStable(t, b, v, topic, 12, 15)
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
			checkLastStable(t, b, v, topic, 16, 16)

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
			// The clients' own read_committed consumers skip the aborted
			// transaction by the Fetch response's aborted-transaction list.
			if got := saramaReadCommitted(t, b, v, topic, len(want)/2); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
				t.Errorf("sarama read_committed:\n got %q\nwant %q", got, want)
			}
			// kafka-go's Reader does not filter aborted transactions or
			// hide control records (segmentio/kafka-go#1332), so it is not
			// asked to; its ListOffsets saw the last stable offset above.
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

// saramaReadCommitted reads perPartition records from each of the two
// partitions of topic with sarama's read_committed partition consumers and
// returns their values, sorted.
func saramaReadCommitted(t *testing.T, b *broker, v sarama.KafkaVersion, topic string, perPartition int) []string {
	t.Helper()
	cfg := saramaConfig(t)
	cfg.Version = v
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	cons, err := sarama.NewConsumer([]string{b.Addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var out []string
	timeout := time.After(60 * time.Second)
	for p := range int32(2) {
		pc, err := cons.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
		for range perPartition {
			select {
			case m := <-pc.Messages():
				out = append(out, string(m.Value))
			case err := <-pc.Errors():
				t.Fatalf("sarama read_committed %s[%d]: %v", topic, p, err)
			case <-timeout:
				t.Fatalf("sarama read_committed: %d records in 60s", len(out))
			}
		}
		pc.Close()
	}
	slices.Sort(out)
	return out
}

// checkLastStable asks for the end offsets of both partitions of topic at
// read_committed and read_uncommitted (ListOffsets v2+ isolation level)
// through sarama's ClusterAdmin and kafka-go's Client.
func checkLastStable(t *testing.T, b *broker, v sarama.KafkaVersion, topic string, lastStable, highWatermark int64) {
	t.Helper()
	cfg := saramaConfig(t)
	cfg.Version = v
	adm, err := sarama.NewClusterAdmin([]string{b.Addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	cl := &kafka.Client{Addr: kafka.TCP(b.Addr), Timeout: 30 * time.Second, Transport: kafkagoTransport(t)}
	for _, c := range []struct {
		name   string
		sarama sarama.IsolationLevel
		kgo    kafka.IsolationLevel
		want   int64
	}{
		{"read_committed", sarama.ReadCommitted, kafka.ReadCommitted, lastStable},
		{"read_uncommitted", sarama.ReadUncommitted, kafka.ReadUncommitted, highWatermark},
	} {
		offs, err := adm.ListOffsets(map[string]map[int32]int64{topic: {0: sarama.OffsetNewest, 1: sarama.OffsetNewest}},
			&sarama.ListOffsetsOptions{IsolationLevel: c.sarama})
		if err != nil {
			t.Fatalf("sarama ListOffsets %s: %v", c.name, err)
		}
		lo, err := cl.ListOffsets(testCtx(t, 30*time.Second), &kafka.ListOffsetsRequest{IsolationLevel: c.kgo,
			Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(0), kafka.LastOffsetOf(1)}}})
		if err != nil {
			t.Fatalf("kafka-go ListOffsets %s: %v", c.name, err)
		}
		for _, po := range lo.Topics[topic] {
			if po.Error != nil || po.LastOffset != c.want {
				t.Errorf("kafka-go ListOffsets %s %s[%d]: %d %v, want %d", c.name, topic, po.Partition, po.LastOffset, po.Error, c.want)
			}
		}
		for p, r := range offs[topic] {
			if r.Offset != c.want {
				t.Errorf("sarama ListOffsets %s %s[%d]: %+v, want %d", c.name, topic, p, r, c.want)
			}
		}
		if len(offs[topic]) != 2 || len(lo.Topics[topic]) != 2 {
			t.Errorf("ListOffsets %s: %d and %d partitions answered, want 2", c.name, len(offs[topic]), len(lo.Topics[topic]))
		}
	}
}
