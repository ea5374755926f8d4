package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// transactions produces one committed and one aborted transaction to topic
// txn. It keeps the transactional batch from the ProduceRequest, then reads
// the partition back to keep the two markers kfake wrote.
func (g *generator) transactions(ctx context.Context) error {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(g.cluster.ListenAddrs()...),
		kgo.DefaultProduceTopic("txn"),
		kgo.TransactionalID("recordgen"),
		kgo.ProducerLinger(time.Minute),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)
	if err != nil {
		return err
	}
	defer cl.Close()
	committed := []*kgo.Record{
		{Key: []byte("order-1"), Value: []byte("paid"), Timestamp: at(baseTime)},
		{Key: []byte("order-2"), Value: []byte("shipped"), Timestamp: at(baseTime + 1)},
	}
	aborted := []*kgo.Record{{Key: []byte("order-3"), Value: []byte("never happened"), Timestamp: at(baseTime + 2)}}
	for i, recs := range [][]*kgo.Record{committed, aborted} {
		if err := cl.BeginTransaction(); err != nil {
			return err
		}
		g.takeCaptured()
		if err := produceAll(ctx, cl, recs); err != nil {
			return err
		}
		if i == 0 {
			batches := g.takeCaptured()
			if len(batches) != 1 {
				return fmt.Errorf("txn: captured %d batches, want 1", len(batches))
			}
			if err := g.write("txn.batch", "none", "kgo transactional ProduceRequest", batches[0], recs); err != nil {
				return err
			}
		}
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(i == 0)); err != nil {
			return err
		}
	}
	batches, err := g.fetch(ctx, "txn")
	if err != nil {
		return err
	}
	names := map[int16]string{0: "abort", 1: "commit"}
	found := 0
	for _, b := range batches {
		if binary.BigEndian.Uint16(b[21:])&0x20 == 0 {
			continue
		}
		var rb kmsg.RecordBatch
		var rec kmsg.Record
		if err := rb.ReadFrom(b); err != nil {
			return err
		}
		if err := rec.ReadFrom(rb.Records); err != nil {
			return err
		}
		typ := names[int16(binary.BigEndian.Uint16(rec.Key[2:]))]
		file := "control_" + typ + ".batch"
		if err := os.WriteFile(filepath.Join(g.out, file), b, 0o644); err != nil {
			return err
		}
		g.manifest = append(g.manifest, entry{
			File: file, Codec: "none", Source: "kfake transaction marker, read with FetchRequest",
			Control: typ, CoordinatorEpoch: int32(binary.BigEndian.Uint32(rec.Value[2:])),
		})
		found++
	}
	if found != 2 {
		return fmt.Errorf("txn: found %d control batches, want 2", found)
	}
	return nil
}

// compacted writes batches to a compacted topic, the second replacing two of
// the first's four keys, compacts, and keeps the first batch as it reads
// back: two records, offset deltas 0 and 2.
func (g *generator) compacted(ctx context.Context) error {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(g.cluster.ListenAddrs()...),
		kgo.DefaultProduceTopic("compacted"),
		kgo.ProducerLinger(time.Minute),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := createCompacted(ctx, cl); err != nil {
		return err
	}
	first := []*kgo.Record{
		{Key: []byte("a"), Value: []byte("a1"), Timestamp: at(baseTime)},
		{Key: []byte("b"), Value: []byte("b1"), Timestamp: at(baseTime + 1)},
		{Key: []byte("c"), Value: []byte("c1"), Timestamp: at(baseTime + 2)},
		{Key: []byte("d"), Value: []byte("d1"), Timestamp: at(baseTime + 3)},
	}
	second := []*kgo.Record{
		{Key: []byte("b"), Value: []byte("b2"), Timestamp: at(baseTime + 4)},
		{Key: []byte("d"), Value: []byte("d2"), Timestamp: at(baseTime + 5)},
	}
	// kfake never cleans the last batch and reads keys only from the
	// batches it cleans, so a third batch makes the second cleanable.
	last := []*kgo.Record{{Key: []byte("z"), Value: []byte("z1"), Timestamp: at(baseTime + 6)}}
	for _, recs := range [][]*kgo.Record{first, second, last} {
		if err := produceAll(ctx, cl, recs); err != nil {
			return err
		}
	}
	g.cluster.Compact()
	batches, err := g.fetch(ctx, "compacted")
	if err != nil {
		return err
	}
	if len(batches) != 3 {
		return fmt.Errorf("compacted: fetched %d batches, want 3", len(batches))
	}
	b := batches[0]
	if n := binary.BigEndian.Uint32(b[57:]); n != 2 {
		return fmt.Errorf("compacted: first batch has %d records, want 2", n)
	}
	e := entry{File: "compacted.batch", Codec: "none", Source: "kfake Compact, read with FetchRequest"}
	for _, r := range []*kgo.Record{first[0], first[2]} {
		e.Records = append(e.Records, toJSON(r))
	}
	e.Records[1].OffsetDelta = 2
	g.manifest = append(g.manifest, e)
	return os.WriteFile(filepath.Join(g.out, e.File), b, 0o644)
}

func createCompacted(ctx context.Context, cl *kgo.Client) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = "compacted", 1, 1
	// The records' fixed 2023 timestamps are past the default retention.
	policy, retention := "compact", "-1"
	t.Configs = append(t.Configs,
		kmsg.CreateTopicsRequestTopicConfig{Name: "cleanup.policy", Value: &policy},
		kmsg.CreateTopicsRequestTopicConfig{Name: "retention.ms", Value: &retention})
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return err
	}
	return kerr.ErrorForCode(resp.Topics[0].ErrorCode)
}

// fetch reads partition 0 of topic from offset 0, read_uncommitted, and
// splits the raw RecordBatches into batches. The client is capped at Kafka
// 3.0's versions so that Fetch names topics rather than topic IDs.
func (g *generator) fetch(ctx context.Context, topic string) ([][]byte, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(g.cluster.ListenAddrs()...), kgo.MaxVersions(kversion.V3_0_0()))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxBytes, req.MinBytes = -1, 1<<20, 1
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = topic
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.Partition, fp.FetchOffset, fp.PartitionMaxBytes = 0, 0, 1<<20
	ft.Partitions = append(ft.Partitions, fp)
	req.Topics = append(req.Topics, ft)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	p := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		return nil, err
	}
	var batches [][]byte
	for b := p.RecordBatches; len(b) >= 12; {
		n := 12 + int(binary.BigEndian.Uint32(b[8:]))
		if n > len(b) {
			break // a partial batch at the end of the response
		}
		batches = append(batches, b[:n:n])
		b = b[n:]
	}
	return batches, nil
}
