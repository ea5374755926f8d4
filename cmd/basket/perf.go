package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// perfCommand is `basket perf`, like kafka-producer-perf-test.sh and
// kafka-consumer-perf-test.sh.
func perfCommand() *cobra.Command {
	return withConnCommands(&cobra.Command{
		Use:   "perf",
		Short: "Measure produce and consume throughput and latency",
		Example: `  basket perf produce bench -n 1000000 -s 1024
  basket perf consume bench -n 1000000`,
	}, perfProduceCommand, perfConsumeCommand)
}

// perfResult is the summary of a perf run.
type perfResult struct {
	Records     int64   `json:"records"`
	Failed      int64   `json:"failed,omitempty"`
	Bytes       int64   `json:"bytes"`
	Seconds     float64 `json:"seconds"`
	RecordsPerS float64 `json:"records_per_sec"`
	MBPerS      float64 `json:"mb_per_sec"`
	LatencyAvg  float64 `json:"latency_avg_ms"`
	LatencyMax  float64 `json:"latency_max_ms"`
	LatencyP50  float64 `json:"latency_p50_ms"`
	LatencyP95  float64 `json:"latency_p95_ms"`
	LatencyP99  float64 `json:"latency_p99_ms"`
	LatencyP999 float64 `json:"latency_p999_ms"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func newPerfResult(records, failed, bytes int64, elapsed time.Duration, h *histogram) perfResult {
	s := max(elapsed.Seconds(), 1e-9)
	return perfResult{
		Records: records, Failed: failed, Bytes: bytes, Seconds: elapsed.Seconds(),
		RecordsPerS: float64(records) / s, MBPerS: float64(bytes) / s / (1 << 20),
		LatencyAvg: ms(h.mean()), LatencyMax: float64(h.max) / 1000,
		LatencyP50: ms(h.percentile(50)), LatencyP95: ms(h.percentile(95)),
		LatencyP99: ms(h.percentile(99)), LatencyP999: ms(h.percentile(99.9)),
	}
}

func (r perfResult) write(w io.Writer, out output, verb string) error {
	if out.json() {
		return writeJSON(w, r)
	}
	_, err := fmt.Fprintf(w, "%d records %s in %.2f s, %.1f records/sec (%.2f MB/sec), latency avg %.2f ms, max %.2f ms, p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n",
		r.Records, verb, r.Seconds, r.RecordsPerS, r.MBPerS, r.LatencyAvg, r.LatencyMax, r.LatencyP50, r.LatencyP95, r.LatencyP99, r.LatencyP999)
	if err == nil && r.Failed > 0 {
		_, err = fmt.Fprintf(w, "%d records failed\n", r.Failed)
	}
	return err
}

// perfStats is shared between the loop and the client's callbacks.
type perfStats struct {
	mu            sync.Mutex
	hist          histogram
	records, byts int64
	failed        int64
	firstErr      error
	// the interval since the last progress line
	ivRecords, ivBytes int64
	ivHist             histogram
}

func (s *perfStats) add(n int, lat time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.failed++
		if s.firstErr == nil {
			s.firstErr = err
		}
		return
	}
	s.records++
	s.byts += int64(n)
	s.ivRecords++
	s.ivBytes += int64(n)
	s.hist.record(lat)
	s.ivHist.record(lat)
}

// progressLine reports the interval since the previous call and resets it.
func (s *perfStats) progressLine(verb string, iv time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := iv.Seconds()
	line := fmt.Sprintf("%d records %s, %.1f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency",
		s.ivRecords, verb, float64(s.ivRecords)/sec, float64(s.ivBytes)/sec/(1<<20), ms(s.ivHist.mean()), float64(s.ivHist.max)/1000)
	s.ivRecords, s.ivBytes, s.ivHist = 0, 0, histogram{}
	return line
}

// perfLimits are when a perf run ends: after n records, after d, or both
// (whichever comes first).
type perfLimits struct {
	num      int64
	duration time.Duration
}

func (l *perfLimits) add(cmd *cobra.Command) {
	cmd.Flags().Int64VarP(&l.num, "num-records", "n", 0, "records to send or read (0: no limit; then --duration is needed)")
	cmd.Flags().DurationVarP(&l.duration, "duration", "d", 0, "how long to run (0: no limit; then --num-records is needed)")
}

func (l *perfLimits) check() error {
	if l.num < 0 || l.duration < 0 {
		return errors.New("--num-records and --duration must not be negative")
	}
	if l.num == 0 && l.duration == 0 {
		return errors.New("give --num-records or --duration")
	}
	return nil
}

func (l *perfLimits) context(ctx context.Context) (context.Context, context.CancelFunc) {
	if l.duration > 0 {
		return context.WithTimeout(ctx, l.duration)
	}
	return context.WithCancel(ctx)
}

// perfProgress prints s's progress line to w every second until stop.
func perfProgress(w io.Writer, s *perfStats, verb string) (stop func()) {
	last := time.Now()
	return progress(w, func() string {
		now := time.Now()
		iv := now.Sub(last)
		last = now
		return s.progressLine(verb, iv)
	})
}

func perfProduceCommand(c *conn) *cobra.Command {
	var (
		lim         perfLimits
		size        int
		throughput  int64
		acks        string
		compression string
		linger      time.Duration
		out         output
	)
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Produce records as fast as allowed and report throughput and latency",
		Long: `Produce fixed-size records of random bytes to an existing topic, like
kafka-producer-perf-test.sh. Every second a progress line for the last second goes
to stderr; at the end the totals go to stdout: records/sec, MB/sec and the
latency from handing a record to the client to its acknowledgement (average,
max, p50, p95, p99, p99.9).`,
		Example: `  basket perf produce bench -n 1000000 -s 1024
  basket perf produce bench -d 30s --throughput 50000 --acks 1 -z lz4
  basket perf produce bench -n 100000 --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := lim.check(); err != nil {
				return err
			}
			if err := out.check(); err != nil {
				return err
			}
			if size < 0 || size > 64<<20 {
				return fmt.Errorf("--record-size must be between 0 and %d, got %d", 64<<20, size)
			}
			opts, err := producerOpts(compression, acks)
			if err != nil {
				return err
			}
			opts = append(opts, kgo.DefaultProduceTopic(args[0]), kgo.ProducerLinger(linger), kgo.UnknownTopicRetries(2))
			ctx := cmd.Context()
			cl, err := c.topicClient(ctx, args[0], opts...)
			if err != nil {
				return err
			}
			defer cl.Close()
			payload := make([]byte, size)
			for i := range payload {
				payload[i] = byte('A' + rand.IntN(26))
			}
			var s perfStats
			stop := perfProgress(cmd.ErrOrStderr(), &s, "sent")
			runCtx, cancel := lim.context(ctx)
			defer cancel()
			start := time.Now()
			var sent int64
			for lim.num == 0 || sent < lim.num {
				if throughput > 0 {
					due := start.Add(time.Duration(float64(sent) / float64(throughput) * float64(time.Second)))
					if wait := time.Until(due); wait > 0 {
						select {
						case <-runCtx.Done():
						case <-time.After(wait):
						}
					}
				}
				if runCtx.Err() != nil {
					break
				}
				begin := time.Now()
				cl.Produce(context.WithoutCancel(ctx), &kgo.Record{Value: payload}, func(r *kgo.Record, err error) {
					s.add(len(r.Value), time.Since(begin), err)
				})
				sent++
			}
			flushErr := flush(ctx, cl, c.timeout)
			elapsed := time.Since(start)
			stop()
			res := newPerfResult(s.records, s.failed, s.byts, elapsed, &s.hist)
			if err := res.write(cmd.OutOrStdout(), out, "sent"); err != nil {
				return err
			}
			if flushErr != nil {
				return flushErr
			}
			if s.firstErr != nil {
				return fmt.Errorf("%d of %d records failed; first: %w", s.failed, sent, kafkaErr(s.firstErr, ""))
			}
			return nil
		},
	}
	lim.add(cmd)
	fl := cmd.Flags()
	fl.IntVarP(&size, "record-size", "s", 100, "value size in bytes")
	fl.Int64Var(&throughput, "throughput", -1, "cap on records/sec (-1: no cap)")
	fl.StringVar(&acks, "acks", "all", "acknowledgements: all (-1), 1 or 0")
	fl.StringVarP(&compression, "compression", "z", "none", "none, gzip, snappy, lz4 or zstd")
	fl.DurationVar(&linger, "linger", 0, "how long the client waits to fill a batch")
	addOutputFlag(cmd, &out)
	return cmd
}

func perfConsumeCommand(c *conn) *cobra.Command {
	var (
		lim   perfLimits
		group string
		idle  time.Duration
		out   output
	)
	cmd := &cobra.Command{
		Use:   "consume TOPIC",
		Short: "Consume a topic from the start and report throughput and latency",
		Long: `Read a topic from its oldest records, like kafka-consumer-perf-test.sh, until
--num-records are read, --duration passes, or no record arrives for
--idle-timeout. Every second a progress line goes to stderr; at the end the
totals go to stdout. Latency is end to end: the time from each record's
timestamp to its arrival, which is meaningful while a producer (such as basket
perf produce) writes at the same time.`,
		Example: `  basket perf consume bench -n 1000000
  basket perf consume bench -d 30s --group perf-readers --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := lim.check(); err != nil {
				return err
			}
			if err := out.check(); err != nil {
				return err
			}
			if idle <= 0 {
				return fmt.Errorf("--idle-timeout must be positive, got %v", idle)
			}
			opts := []kgo.Opt{kgo.ConsumeTopics(args[0]), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
				kgo.FetchMaxBytes(64 << 20)}
			if group != "" {
				opts = append(opts, kgo.ConsumerGroup(group))
			}
			ctx := cmd.Context()
			cl, err := c.topicClient(ctx, args[0], opts...)
			if err != nil {
				return err
			}
			defer cl.Close()
			var s perfStats
			stop := perfProgress(cmd.ErrOrStderr(), &s, "read")
			runCtx, cancel := lim.context(ctx)
			defer cancel()
			start := time.Now()
			var got int64
			var runErr error
		loop:
			for lim.num == 0 || got < lim.num {
				pollCtx, pollCancel := context.WithTimeout(runCtx, idle)
				most := 100000
				if lim.num > 0 {
					most = int(min(lim.num-got, 100000))
				}
				fs := cl.PollRecords(pollCtx, most)
				idled := pollCtx.Err() != nil && runCtx.Err() == nil
				pollCancel()
				if runCtx.Err() != nil || idled {
					break
				}
				for _, fe := range fs.Errors() {
					if !errors.Is(fe.Err, context.Canceled) && !errors.Is(fe.Err, context.DeadlineExceeded) {
						runErr = fmt.Errorf("topic %s partition %d: %w", fe.Topic, fe.Partition, kafkaErr(fe.Err, ""))
						break loop
					}
				}
				now := time.Now()
				fs.EachRecord(func(r *kgo.Record) {
					got++
					s.add(len(r.Key)+len(r.Value), now.Sub(r.Timestamp), nil)
				})
			}
			elapsed := time.Since(start)
			stop()
			res := newPerfResult(s.records, 0, s.byts, elapsed, &s.hist)
			if err := res.write(cmd.OutOrStdout(), out, "read"); err != nil {
				return err
			}
			return runErr
		},
	}
	lim.add(cmd)
	cmd.Flags().StringVarP(&group, "group", "g", "", "consume in this consumer group (default: read partitions directly)")
	cmd.Flags().DurationVar(&idle, "idle-timeout", 10*time.Second, "stop when no record arrives for this long")
	addOutputFlag(cmd, &out)
	return cmd
}
