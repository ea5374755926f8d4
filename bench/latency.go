package main

import (
	"context"
	"runtime"
	"syscall"
	"time"
)

// runLatency publishes at a fixed rate, the way the OpenMessaging Benchmark
// does: record i is due at i/rate after the start, and its latency runs from
// that intended time to its ack. When the broker (or kgo's full buffer)
// holds the sender back, the records behind it are late from the moment
// they were due, so a stall shows up in the percentiles instead of quietly
// lowering the rate (no coordinated omission). Records due during the
// warm-up are sent but not recorded.
//
// The result's genLag is how late the sender itself put records into kgo,
// so a reader can tell load-generator delay from broker delay.
func runLatency(ctx context.Context, addr string, o *options) (*result, error) {
	cl, err := newProducer(addr, o.latencyLinger)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	t := newTracker(cl, o.recordBytes, o.warmup, o.warmup+o.latencyDuration)
	total := int64(o.warmup+o.latencyDuration) * int64(o.rate) / int64(time.Second)
	lag := NewHistogram()

	// Go's timers wake about 1 ms late for sub-millisecond sleeps on Linux,
	// which would add up to a millisecond to every record's latency. The
	// pacer therefore sleeps in nanosleep(2) on its own thread, with the
	// thread's timer slack cut from 50 µs to 1 ns (prctl PR_SET_TIMERSLACK).
	done := make(chan int64)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		const prSetTimerSlack = 29
		syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0)
		var sent int64
		for ; sent < total && ctx.Err() == nil; sent++ {
			due := time.Duration(sent * int64(time.Second) / int64(o.rate))
			if d := due - t.now(); d > 0 {
				ts := syscall.NsecToTimespec(int64(d))
				syscall.Nanosleep(&ts, nil)
			}
			if due >= o.warmup {
				lag.Record(t.now() - due)
			}
			t.send(ctx, due)
		}
		done <- sent
	}()
	sent := <-done
	sendTime := t.now()
	if err := t.drain(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	r := &result{
		records: t.acked.Load(), elapsed: sendTime, failed: t.failed.Load(),
		lat: t.hist.Summary(), genLag: lag.Summary(),
	}
	r.bytes = r.records * int64(o.recordBytes)
	r.sentRate = float64(sent) / sendTime.Seconds()
	return r, t.err()
}
