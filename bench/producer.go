package main

import (
	"context"
	"crypto/rand"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// newProducer returns a kgo client producing to the benchmark topic with
// acks=all and the given linger. Everything else is kgo's default, in
// particular the idempotent producer with up to 5 requests in flight per
// broker, 1 MB batches, MaxBufferedRecords 50000 and the sticky
// partitioner, except compression, which kgo defaults to snappy and the
// benchmark turns off.
func newProducer(addr string, linger time.Duration) (*kgo.Client, error) {
	return kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(linger),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		// A failed record fails the run instead of being retried forever.
		kgo.RecordDeliveryTimeout(time.Minute),
	)
}

// tracker sends records and accounts for their acknowledgements. Latency is
// measured from a send time chosen by the caller (the moment Produce was
// called, or the intended send time of a paced schedule) to the moment kgo
// calls the record's promise. Only records whose send time falls in
// [from, to) are recorded in the histogram; all acks are counted.
//
// Every record carries the same random value: kgo only reads it, and
// without compression its content does not matter to any broker. Records
// are pooled, so steady-state sending does not allocate.
type tracker struct {
	cl       *kgo.Client
	start    time.Time // send times are offsets from start, on the monotonic clock
	from, to time.Duration
	value    []byte
	hist     *Histogram
	pool     sync.Pool

	acked    atomic.Int64
	failed   atomic.Int64
	errOnce  sync.Once
	firstErr error
}

// inflight is one pooled record and its send time. done is its finish
// method, bound once so that producing does not allocate a closure.
type inflight struct {
	rec  kgo.Record
	sent time.Duration
	t    *tracker
	done func(*kgo.Record, error)
}

func newTracker(cl *kgo.Client, recordBytes int, from, to time.Duration) *tracker {
	t := &tracker{cl: cl, start: time.Now(), from: from, to: to, value: make([]byte, recordBytes), hist: NewHistogram()}
	rand.Read(t.value)
	t.pool.New = func() any {
		p := &inflight{t: t}
		p.done = p.finish
		return p
	}
	return t
}

// now returns the time since the tracker started.
func (t *tracker) now() time.Duration { return time.Since(t.start) }

// send produces one record whose latency counts from sent. It blocks while
// kgo's buffer is full.
func (t *tracker) send(ctx context.Context, sent time.Duration) {
	p := t.pool.Get().(*inflight)
	p.rec = kgo.Record{Value: t.value}
	p.sent = sent
	t.cl.Produce(ctx, &p.rec, p.done)
}

// finish is the record's promise. kgo is done with the record once the
// promise returns, so it goes back to the pool.
func (p *inflight) finish(_ *kgo.Record, err error) {
	t := p.t
	if err != nil {
		t.failed.Add(1)
		t.errOnce.Do(func() { t.firstErr = err })
	} else {
		t.acked.Add(1)
		if p.sent >= t.from && p.sent < t.to {
			t.hist.Record(t.now() - p.sent)
		}
	}
	p.rec = kgo.Record{}
	t.pool.Put(p)
}

// drain waits up to a minute for every buffered record to be acknowledged
// or to fail.
func (t *tracker) drain() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return t.cl.Flush(ctx)
}

// err returns the first record failure, after drain.
func (t *tracker) err() error {
	if t.failed.Load() == 0 {
		return nil
	}
	return t.firstErr
}
