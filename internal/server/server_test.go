package server

import (
	"bytes"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestBroker_ProduceConsumeRoundTrip(t *testing.T) {
	b := startBroker(t, testConfig(t, t.TempDir()))
	cl := newClient(t, b, kgo.DefaultProduceTopic("orders"), kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "orders", 3)
	const n = 300
	for i := range n {
		cl.Produce(ctxT(t), &kgo.Record{Key: []byte{byte(i % 7)}, Value: value(i)}, nil)
	}
	if err := cl.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for len(got) < n {
		fs := cl.PollFetches(ctxT(t))
		if err := fs.Err0(); err != nil {
			t.Fatalf("fetch: %v", err)
		}
		fs.EachRecord(func(r *kgo.Record) { got[string(r.Value)] = true })
	}
	for i := range n {
		if !got[string(value(i))] {
			t.Fatalf("record %d missing", i)
		}
	}
}

func TestBroker_AcknowledgedOffsetsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	b := startBroker(t, cfg)
	cl := newClient(t, b, kgo.RequiredAcks(kgo.AllISRAcks()))
	createTopic(t, kadm.NewClient(cl), "t", 1)
	var offsets []int64
	for i := range 20 {
		r := cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "t", Value: value(i)})
		if err := r.FirstErr(); err != nil {
			t.Fatal(err)
		}
		offsets = append(offsets, r[0].Record.Offset)
	}
	cl.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := startBroker(t, cfg)
	if b2.ClusterID() != b.ClusterID() {
		t.Fatalf("cluster id changed across restart: %s -> %s", b.ClusterID(), b2.ClusterID())
	}
	cl2 := newClient(t, b2, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"t": {0: kgo.NewOffset().AtStart()}}))
	var seen int
	for seen < 20 {
		fs := cl2.PollFetches(ctxT(t))
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset != offsets[seen] || !bytes.Equal(r.Value, value(seen)) {
				t.Fatalf("record %d at offset %d (%s), acknowledged at %d", seen, r.Offset, r.Value, offsets[seen])
			}
			seen++
		})
	}
}

func TestBroker_LongPollWakesOnProduce(t *testing.T) {
	b := startBroker(t, testConfig(t, t.TempDir()))
	prod := newClient(t, b)
	createTopic(t, kadm.NewClient(prod), "t", 1)
	cons := newClient(t, b, kgo.ConsumeTopics("t"), kgo.FetchMaxWait(10*time.Second))
	done := make(chan time.Duration)
	go func() {
		start := time.Now()
		fs := cons.PollFetches(ctxT(t))
		if fs.NumRecords() == 0 {
			t.Errorf("poll returned no records: %v", fs.Err0())
		}
		done <- time.Since(start)
	}()
	time.Sleep(300 * time.Millisecond) // the consumer is parked in its long poll
	if err := prod.ProduceSync(ctxT(t), &kgo.Record{Topic: "t", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if d := <-done; d > 5*time.Second {
		t.Fatalf("long poll answered after %v, not woken by the produce", d)
	}
}

func TestBroker_MetadataAutoCreatesTopic(t *testing.T) {
	b := startBroker(t, testConfig(t, t.TempDir()))
	cl := newClient(t, b, kgo.AllowAutoTopicCreation())
	if err := cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "auto", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatalf("produce to an auto-created topic: %v", err)
	}
	td, err := kadm.NewClient(cl).ListTopics(ctxT(t), "auto")
	if err != nil || td["auto"].Err != nil || len(td["auto"].Partitions) != 1 || td["auto"].ID.String() == "" {
		t.Fatalf("auto-created topic: %+v %v", td["auto"], err)
	}
}

// An idempotent producer keeps its sequence across a broker restart: the
// partition reloads producer state, so the next batch is neither rejected as
// out of order nor appended twice.
func TestBroker_IdempotentProducerSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	b := startBroker(t, cfg)
	addr := b.Addr().String()
	cl := newClient(t, b, kgo.DefaultProduceTopic("t"), kgo.RecordRetries(100))
	createTopic(t, kadm.NewClient(cl), "t", 1)
	for i := range 50 {
		if err := cl.ProduceSync(ctxT(t), &kgo.Record{Value: value(i)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Listen = addr // same address: the client reconnects to the new broker
	b2 := startBroker(t, cfg)
	for i := 50; i < 100; i++ {
		if err := cl.ProduceSync(ctxT(t), &kgo.Record{Value: value(i)}).FirstErr(); err != nil {
			t.Fatalf("produce %d after restart: %v", i, err)
		}
	}
	cons := newClient(t, b2, kgo.ConsumeTopics("t"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	for len(got) < 100 {
		fs := cons.PollFetches(ctxT(t))
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	for i, v := range got {
		if v != string(value(i)) {
			t.Fatalf("record %d is %q: duplicate or gap", i, v)
		}
	}
	if end := b2.replicasEnd(t, "t"); end != 100 {
		t.Fatalf("log end %d, want exactly 100 records", end)
	}
}

func (b *Broker) replicasEnd(t *testing.T, topic string) int64 {
	p, ok := b.replicas.Partition(topic, 0)
	if !ok {
		t.Fatalf("no partition %s-0", topic)
	}
	return p.Log().LogEndOffset()
}
