package main

import (
	"context"
	"sync/atomic"
	"time"
)

// runThroughput sends records as fast as kgo takes them (Produce blocks
// while its buffer is full) with the throughput linger. Latency runs from
// the Produce call to the ack, so at saturation it mostly measures the wait
// in kgo's buffer: read it as the price of the rate, not as service time.
//
// With records > 0 it sends exactly that many and measures from the first
// send to the last ack; otherwise it sends for warm-up plus duration and
// measures acks between the two marks.
func runThroughput(ctx context.Context, addr string, o *options, records int64) (*result, error) {
	cl, err := newProducer(addr, o.linger)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	r := &result{}
	var t *tracker
	if records > 0 {
		t = newTracker(cl, o.recordBytes, 0, 1<<62)
		for i := int64(0); i < records && ctx.Err() == nil; i++ {
			t.send(ctx, t.now())
		}
		if err := t.drain(); err != nil {
			return nil, err
		}
		r.elapsed, r.records = t.now(), t.acked.Load()
	} else {
		t = newTracker(cl, o.recordBytes, o.warmup, o.warmup+o.duration)
		var stop atomic.Bool
		done := make(chan struct{})
		go func() {
			defer close(done)
			for !stop.Load() && ctx.Err() == nil {
				t.send(ctx, t.now())
			}
		}()
		sleepUntil(ctx, t, o.warmup)
		a0, t0 := t.acked.Load(), t.now()
		sleepUntil(ctx, t, o.warmup+o.duration)
		a1, t1 := t.acked.Load(), t.now()
		stop.Store(true)
		<-done
		if err := t.drain(); err != nil {
			return nil, err
		}
		r.elapsed, r.records = t1-t0, a1-a0
	}
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	r.bytes = r.records * int64(o.recordBytes)
	r.failed, r.lat = t.failed.Load(), t.hist.Summary()
	return r, t.err()
}

// sleepUntil sleeps until the tracker's clock reads at, or ctx ends.
func sleepUntil(ctx context.Context, t *tracker, at time.Duration) {
	d := at - t.now()
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}
