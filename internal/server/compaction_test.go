package server

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/log/cleaner"
	"github.com/basketmq/basket/internal/metadata"
	"github.com/basketmq/basket/internal/record"
)

// compactionConfig is adminConfig with the storage engine configured from
// each topic's resolved configuration, as cmd/basket does, and a log
// cleaner that looks for work every 20 ms.
func compactionConfig(t *testing.T, dir string) Config {
	t.Helper()
	cfg := adminConfig(t, dir, nil)
	cfg.TopicLogConfig = func(tp *metadata.Topic) log.Config {
		return LogConfig(cfg.BrokerConfig.ResolveTopic(tp.Configs))
	}
	cfg.Cleaner = &cleaner.Options{Threads: 1, DedupeBufferSize: 4 << 20, Backoff: 20 * time.Millisecond}
	return cfg
}

func alterTopic(t *testing.T, adm *kadm.Client, topic string, kvs ...string) {
	t.Helper()
	var cs []kadm.AlterConfig
	for i := 0; i < len(kvs); i += 2 {
		cs = append(cs, kadm.AlterConfig{Op: kadm.SetConfig, Name: kvs[i], Value: kadm.StringPtr(kvs[i+1])})
	}
	rs, err := adm.AlterTopicConfigs(ctxT(t), cs, topic)
	if err != nil || rs[0].Err != nil {
		t.Fatalf("alter %s: %v %v", topic, err, rs)
	}
}

// TestCompaction_100kUpdatesOver1kKeys produces 100,000 updates over 1,000
// keys to a topic created with cleanup.policy=delete, switches it to
// compact with AlterConfigs (the change takes effect on the live topic),
// rolls the active segment with a tombstone of another key, and waits for
// the cleaner: a full read from offset 0 then gives exactly one live record
// per key, with its latest value at the offset it was produced at, and
// offsets that only increase.
func TestCompaction_100kUpdatesOver1kKeys(t *testing.T) {
	b := startBroker(t, compactionConfig(t, t.TempDir()))
	cl := newClient(t, b, kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(16<<10), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := kadm.NewClient(cl)
	resp, err := adm.CreateTopic(ctxT(t), 1, 1, map[string]*string{
		"segment.bytes": kadm.StringPtr("65536"), "min.cleanable.dirty.ratio": kadm.StringPtr("0.01"),
	}, "changelog")
	if err != nil || resp.Err != nil {
		t.Fatal(err, resp.Err)
	}
	const keys, updates = 1000, 100_000
	latest := map[string]int64{}
	var results []*kgo.Record
	done := make(chan error, updates)
	for i := range updates {
		r := &kgo.Record{Topic: "changelog", Key: []byte("key-" + strconv.Itoa(i%keys)), Value: []byte("value-" + strconv.Itoa(i))}
		results = append(results, r)
		cl.Produce(ctxT(t), r, func(_ *kgo.Record, err error) { done <- err })
	}
	for range updates {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range results {
		latest[string(r.Key)] = r.Offset
	}
	alterTopic(t, adm, "changelog", "cleanup.policy", "compact")
	// segment.bytes 100 makes the next append roll; the tombstone of another
	// key is then alone in the active segment, which is never cleaned.
	alterTopic(t, adm, "changelog", "cleanup.policy", "compact", "segment.bytes", "100", "min.cleanable.dirty.ratio", "0.01")
	if err := cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "changelog", Key: []byte("~roll")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	p, _ := b.replicas.Partition("changelog", 0)
	var live map[string]*kgo.Record
	waitUntil(t, 60*time.Second, "the cleaner to leave one record per key", func() bool {
		recs := consumeCompacted(t, b, "changelog", p.HighWatermark())
		live = map[string]*kgo.Record{}
		n := 0
		last := int64(-1)
		for _, r := range recs {
			if r.Offset <= last {
				t.Fatalf("offset %d after %d", r.Offset, last)
			}
			last = r.Offset
			if r.Value == nil {
				continue
			}
			n++
			live[string(r.Key)] = r
		}
		return n == keys
	})
	for k, off := range latest {
		r, ok := live[k]
		if !ok || r.Offset != off || string(r.Value) != string(results[off].Value) {
			t.Fatalf("key %s: got %v, want offset %d", k, r, off)
		}
	}
	st, ok := b.Cleaner().Stats(log.TopicPartition{Topic: "changelog"})
	if !ok || st.RecordsRemoved == 0 || st.LastClean.IsZero() {
		t.Fatalf("cleaner stats: %+v %v", st, ok)
	}
	if r := b.Cleaner().DirtyRatio(p.Log()); r != 0 {
		t.Fatalf("dirty ratio %v after the clean, want 0", r)
	}
}

// consumeCompacted reads a partition from offset 0 up to end with a fresh
// consumer.
func consumeCompacted(t *testing.T, b *Broker, topic string, end int64) []*kgo.Record {
	t.Helper()
	cl := newClient(t, b, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(50*time.Millisecond))
	defer cl.Close()
	var out []*kgo.Record
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		if len(out) > 0 && out[len(out)-1].Offset >= end-1 {
			return out
		}
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consuming %s: only up to %d of %d", topic, len(out), end)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch: %v", err) })
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
		if end == 0 {
			return out
		}
	}
}

// TestCompaction_KeylessProduceRejected: a compacted topic refuses records
// without a key (INVALID_RECORD with the record's index in record_errors,
// Produce v8+, KIP-467); the same topic under cleanup.policy=delete accepts
// them, and switching the policy with AlterConfigs takes effect at once.
func TestCompaction_KeylessProduceRejected(t *testing.T) {
	b := startBroker(t, compactionConfig(t, t.TempDir()))
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctxT(t), 1, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}, "c"); err != nil {
		t.Fatal(err)
	}
	err := cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "c", Value: []byte("no key")}).FirstErr()
	if !errors.Is(err, kerr.InvalidRecord) {
		t.Fatalf("keyless produce to a compacted topic: %v, want INVALID_RECORD", err)
	}
	if err := cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "c", Key: []byte("k"), Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("keyed produce: %v", err)
	}
	// The raw response lists the offending record.
	batch := keylessBatch(t)
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = 9, -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "c"
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	pr := resp.Topics[0].Partitions[0]
	if pr.ErrorCode != kerr.InvalidRecord.Code || len(pr.ErrorRecords) != 1 || pr.ErrorRecords[0].RelativeOffset != 1 || pr.ErrorMessage == nil {
		t.Fatalf("produce response %+v, want INVALID_RECORD for record 1", pr)
	}
	alterTopic(t, adm, "c", "cleanup.policy", "delete")
	waitUntil(t, 5*time.Second, "cleanup.policy=delete to apply", func() bool {
		return cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "c", Value: []byte("no key")}).FirstErr() == nil
	})
	alterTopic(t, adm, "c", "cleanup.policy", "compact,delete")
	waitUntil(t, 5*time.Second, "cleanup.policy=compact,delete to apply", func() bool {
		return errors.Is(cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "c", Value: []byte("no key")}).FirstErr(), kerr.InvalidRecord)
	})
}

// TestCompaction_ConsumerOffsetsStaysSmall commits offsets 100,000 times
// (2,000 OffsetCommit requests of 50 partitions) for one group: with
// __consumer_offsets compacted its partition stays small, and after a
// restart the group coordinator replays it to the latest offsets.
func TestCompaction_ConsumerOffsetsStaysSmall(t *testing.T) {
	dir := t.TempDir()
	cfg := compactionConfig(t, dir)
	cfg.Durability = log.DurabilityAsync
	cfg.OffsetsTopicPartitions = 1
	cfg.OffsetsTopicSegmentBytes = 64 << 10
	b := startBroker(t, cfg)
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "in", 50)
	const rounds, parts = 2000, 50
	for i := range rounds {
		os := kadm.Offsets{}
		for p := range int32(parts) {
			os.AddOffset("in", p, int64(i+1), -1)
		}
		rs, err := adm.CommitOffsets(ctxT(t), "g", os)
		if err != nil || rs.Error() != nil {
			t.Fatalf("commit %d: %v %v", i, err, rs.Error())
		}
	}
	p, ok := b.replicas.Partition("__consumer_offsets", 0)
	if !ok {
		t.Fatal("no __consumer_offsets partition")
	}
	uncompacted := int64(rounds * parts * 60) // each commit record takes more than 60 bytes
	waitUntil(t, 60*time.Second, "__consumer_offsets to be compacted", func() bool {
		return p.Log().Size() < 1<<20
	})
	t.Logf("__consumer_offsets: %d bytes, %d segments after %d commits (> %d bytes uncompacted)",
		p.Log().Size(), p.Log().NumSegments(), rounds*parts, uncompacted)
	b.Close()

	b2 := startBroker(t, cfg)
	adm2 := kadm.NewClient(newClient(t, b2))
	var fetched kadm.OffsetResponses
	waitUntil(t, 20*time.Second, "the group coordinator to load", func() bool {
		r, err := adm2.FetchOffsets(ctxT(t), "g")
		fetched = r
		return err == nil && r.Error() == nil
	})
	for p := range int32(parts) {
		o, ok := fetched.Lookup("in", p)
		if !ok || o.At != rounds {
			t.Fatalf("partition %d: committed %v, want %d", p, o, rounds)
		}
	}
}

// keylessBatch is a batch of three records whose second has no key.
func keylessBatch(t *testing.T) []byte {
	t.Helper()
	rs := []record.Record{
		{Key: []byte("a"), Value: []byte("1")},
		{Value: []byte("2"), OffsetDelta: 1},
		{Key: []byte("c"), Value: []byte("3"), OffsetDelta: 2},
	}
	spec := record.BatchSpec{BaseTimestamp: time.Now().UnixMilli(), ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
	b, err := record.AppendBatch(nil, spec, rs, record.CodecNone)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
