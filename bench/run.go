package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// result is the outcome of one phase against one freshly started broker.
type result struct {
	broker, phase string
	round         int
	load          string // 1-minute load average when the phase started

	records int64         // acknowledged in the measured window
	bytes   int64         // record value bytes of those
	elapsed time.Duration // the measured window
	failed  int64         // records whose promise reported an error
	lat     Latency       // send (or intended send) to ack

	sentRate float64 // latency phase: records put into kgo per second
	genLag   Latency // latency phase: how late the sender was

	mem    Memory // broker memory right after the phase
	memErr error
	err    error // the phase did not complete; the numbers are not valid
}

func (r *result) recordsPerSec() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.records) / r.elapsed.Seconds()
}

// mbPerSec is decimal megabytes of record values per second.
func (r *result) mbPerSec() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.bytes) / 1e6 / r.elapsed.Seconds()
}

var errBrokerExited = errors.New("broker process exited")

// runOne starts spec fresh, runs one phase against it, reads its memory,
// and stops it again, removing its data. A failure is recorded in the
// result rather than returned, so the other brokers still run; only the
// run's own context ending stops everything.
func runOne(ctx context.Context, e *env, spec *brokerSpec, phase string, round int) *result {
	res := &result{broker: spec.name, phase: phase, round: round, load: load1()}
	fmt.Fprintf(os.Stderr, "bench: %-10s round %d  %-16s starting (load %s)\n", phase, round, spec.name, res.load)
	b, err := startBroker(ctx, e, spec)
	if err != nil {
		res.err = err
		printProgress(res)
		return res
	}
	defer b.stop()

	// The phase ends early if the broker dies.
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-b.exited:
			cancel(errBrokerExited)
		case <-pctx.Done():
		}
	}()

	var r *result
	switch phase {
	case phaseThroughput:
		r, err = runThroughput(pctx, b.addr, e.opts, e.opts.records)
	case phaseLatency:
		r, err = runLatency(pctx, b.addr, e.opts)
	case phaseRSS:
		r, err = runThroughput(pctx, b.addr, e.opts, e.opts.rssBytes/int64(e.opts.recordBytes))
	}
	if r != nil {
		r.broker, r.phase, r.round, r.load = res.broker, res.phase, res.round, res.load
		res = r
	}
	if aliveErr := b.alive(); aliveErr != nil {
		err = errors.Join(err, aliveErr)
	} else {
		res.mem, res.memErr = b.memory()
	}
	res.err = err
	if err != nil && ctx.Err() == nil && !errors.Is(err, errBrokerExited) {
		res.err = fmt.Errorf("%w%s", err, b.logTail())
	}
	printProgress(res)
	return res
}

func printProgress(r *result) {
	if r.err != nil {
		fmt.Fprintf(os.Stderr, "bench: %-10s round %d  %-16s FAILED: %v\n", r.phase, r.round, r.broker, r.err)
		return
	}
	fmt.Fprintf(os.Stderr, "bench: %-10s round %d  %-16s %9.0f rec/s %7.1f MB/s  p50 %s p99 %s  RSS %s\n",
		r.phase, r.round, r.broker, r.recordsPerSec(), r.mbPerSec(), ms(r.lat.P50), ms(r.lat.P99), mib(r.mem.RSS))
}
