package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/basketmq/basket/internal/coordinator/txn"
	"github.com/basketmq/basket/internal/record"
)

// consumeToKey reads partition 0 of topic from offset 0 at the isolation
// level with a fresh consumer, until it has read a record with key last.
func consumeToKey(t *testing.T, b *Broker, topic string, iso kgo.IsolationLevel, last string) []*kgo.Record {
	t.Helper()
	cl := newClient(t, b, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchIsolationLevel(iso), kgo.FetchMaxWait(50*time.Millisecond))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*kgo.Record
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consuming %s: no record with key %q after %d records", topic, last, len(out))
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch: %v", err) })
		done := false
		fs.EachRecord(func(r *kgo.Record) {
			out = append(out, r)
			done = done || string(r.Key) == last
		})
		if done {
			return out
		}
	}
}

// TestCompaction_TransactionalTopic: a transactional producer writes a
// compacted topic in committed and aborted transactions over the same keys,
// the last one aborted over every key. Once the cleaner has run, a
// read_committed consumer from offset 0 sees exactly the latest committed
// value of each key and never an aborted one (an aborted value must not
// shadow the committed one before it), and so does a read_uncommitted
// consumer: the cleaner removed the aborted records, as Kafka's LogCleaner
// does (KIP-98). With delete.retention.ms 0, cleans also remove the
// markers of the transactions left without data (KIP-534) but keep those of
// transactions whose records remain, and the readers see the same.
func TestCompaction_TransactionalTopic(t *testing.T) {
	cfg := compactionConfig(t, t.TempDir())
	cfg.TransactionStateTopicPartitions = 4
	tc := txn.DefaultConfig()
	tc.AbortTimedOutInterval = 50 * time.Millisecond
	cfg.Txn = &tc
	b := startBroker(t, cfg)
	plain := newClient(t, b, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	adm := kadm.NewClient(plain)
	const topic = "txn-changelog"
	resp, err := adm.CreateTopic(ctxT(t), 1, 1, map[string]*string{
		"cleanup.policy": kadm.StringPtr("compact"), "segment.bytes": kadm.StringPtr("2048"),
		"min.cleanable.dirty.ratio": kadm.StringPtr("0.01"), "delete.retention.ms": kadm.StringPtr("0"),
		"file.delete.delay.ms": kadm.StringPtr("0"),
	}, topic)
	if err != nil || resp.Err != nil {
		t.Fatal(err, resp.Err)
	}
	cl := newClient(t, b, kgo.TransactionalID("compactor"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx := ctxT(t)
	const keys, txns = 12, 24
	latest := map[string]string{}
	for i := range txns {
		commit := i%3 != 1 && i != txns-1
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for k := range keys {
			if i != txns-1 && (i+k)%2 == 0 {
				continue // each transaction writes half the keys, the last all
			}
			key, value := fmt.Sprintf("key-%d", k), fmt.Sprintf("committed-%d-%d", i, k)
			if !commit {
				value = fmt.Sprintf("aborted-%d-%d", i, k)
			}
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte(key), Value: []byte(value)}).FirstErr(); err != nil {
				t.Fatalf("transaction %d: %v", i, err)
			}
			if commit {
				latest[key] = value
			}
		}
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatalf("transaction %d end (commit %v): %v", i, commit, err)
		}
	}
	// Plain records roll the last transactions' segment out of the active
	// one, which is never cleaned; ~end marks the end for the readers.
	big := strings.Repeat("x", 1500)
	for _, k := range []string{"~roll-1", "~roll-2", "~end"} {
		if err := plain.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte(k), Value: []byte(big)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// check reports what is wrong with a read of the topic, "" if nothing.
	check := func(recs []*kgo.Record) string {
		seen := map[string]string{}
		for _, r := range recs {
			k, v := string(r.Key), string(r.Value)
			if strings.HasPrefix(v, "aborted") {
				return fmt.Sprintf("aborted record %s=%s at %d", k, v, r.Offset)
			}
			if strings.HasPrefix(k, "~") {
				continue
			}
			if prev, dup := seen[k]; dup {
				return fmt.Sprintf("key %s twice: %s and %s", k, prev, v)
			}
			seen[k] = v
		}
		for k, v := range latest {
			if seen[k] != v {
				return fmt.Sprintf("key %s: %q, want %q", k, seen[k], v)
			}
		}
		if len(seen) != len(latest) {
			return fmt.Sprintf("%d keys, want %d", len(seen), len(latest))
		}
		return ""
	}
	var last string
	deadline := time.Now().Add(30 * time.Second)
	for {
		last = check(consumeToKey(t, b, topic, kgo.ReadUncommitted(), "~end"))
		if last == "" {
			break
		}
		if time.Now().After(deadline) {
			p, _ := b.replicas.Partition(topic, 0)
			st, _ := b.Cleaner().Stats(p.Log().TopicPartition())
			var segs []string
			for _, s := range p.Log().Segments() {
				segs = append(segs, fmt.Sprintf("[%d,%d)", s.BaseOffset, s.NextOffset))
			}
			t.Fatalf("the cleaner did not converge: %s; stats %+v; LSO %d HW %d; segments %v", last, st, p.LastStableOffset(), p.HighWatermark(), segs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if msg := check(consumeToKey(t, b, topic, kgo.ReadCommitted(), "~end")); msg != "" {
		t.Fatalf("read_committed after cleaning: %s", msg)
	}

	// With delete.retention.ms 0 the markers of transactions without data
	// go at the next cleans (KIP-534 horizon now + 0), and a marker stays
	// while a batch of its transaction does (Kafka's
	// CleanedTransactionMetadata): the COMMIT marker of every transaction
	// whose record is still the latest of its key stays. Whether the last
	// ABORT marker stays depends on where segments end: under transaction
	// version 2 the marker bumps the producer's epoch, so the producer's
	// last entry is the marker, not a data batch, and the aborted batches
	// go unless one ends a cleaned group (kept emptied for the swap). So
	// the check is the rule itself: every marker left has a batch of its
	// transaction before it, and only the kept transactions' markers (and
	// perhaps the last ABORT) are left.
	kept := map[string]bool{}
	for _, v := range latest {
		kept[strings.Join(strings.Split(v, "-")[:2], "-")] = true // committed-<txn>
	}
	p, _ := b.replicas.Partition(topic, 0)
	// markers counts the markers with records and those among them with
	// no batch of their transaction left before them.
	markers := func() (n, orphans int) {
		data := 0 // transactional data batches since the last control batch
		p.Log().ScanHeaders(0, func(h *record.Header) error {
			switch {
			case !h.Attributes.Transactional():
			case !h.Attributes.Control():
				data++
			default:
				if h.RecordsCount > 0 {
					n++
					if data == 0 {
						orphans++
					}
				}
				data = 0
			}
			return nil
		})
		return n, orphans
	}
	for i := 0; ; i++ {
		n, orphans := markers()
		// Only the kept transactions, and perhaps the last aborted one,
		// have data left.
		if orphans == 0 && n >= len(kept) && n <= len(kept)+1 {
			break
		}
		if i == 100 {
			t.Fatalf("%d markers left, %d of them with no batch of their transaction; want %d or %d and none",
				n, orphans, len(kept), len(kept)+1)
		}
		// Dirty the log (a new ~end in a new segment) for another clean.
		if err := plain.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte("~end"), Value: []byte(big)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, iso := range []kgo.IsolationLevel{kgo.ReadCommitted(), kgo.ReadUncommitted()} {
		if msg := check(consumeToKey(t, b, topic, iso, "~end")); msg != "" {
			t.Fatalf("after the markers went: %s", msg)
		}
	}
}
