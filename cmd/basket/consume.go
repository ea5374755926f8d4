package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

type consumeFlags struct {
	fromBeginning bool
	offset        string
	partitions    []int32
	group         string
	num           int
	format        string
	isolation     string
	exitAtEnd     bool
	topics        []string
}

// consumeCommand is `basket consume`, the console consumer.
func consumeCommand() *cobra.Command {
	var (
		c conn
		f consumeFlags
	)
	cmd := &cobra.Command{
		Use:   "consume TOPIC...",
		Short: "Read records and print them",
		Long: `Read records from topics and print them, by default each record's value on a
line. Without --group the command reads the partitions directly and commits
nothing; with --group it joins the consumer group, starts from the group's
committed offsets and commits what it printed when it stops (after -n records,
or on Ctrl-C).

-e/--exit-at-end stops once every partition has been read up to the end
offset it had when the command started (the last stable offset under
read_committed), like kcat -e.

Where to start, when there is no committed offset:
  --offset end       only new records (the default, as kafka-console-consumer)
  --offset start     the oldest record (same as --from-beginning)
  --offset N         offset N (without --group)
  --offset -N        N records before the end of each partition (without --group)
  --offset @MS       the first record with a timestamp at or after MS, in Unix ms (without --group)

-f/--format is "json" (one object per line: topic, partition, offset,
timestamp, headers, key, value) or a format string:
  %t topic  %p partition  %o offset  %T timestamp (Unix ms)
  %k key    %v value      %h headers (key=value,...)  %K %V key and value length
  %% percent sign; \n \r \t \\ newline, carriage return, tab, backslash`,
		Example: `  basket consume orders --from-beginning
  basket consume orders -n 10 -f '%p/%o %k=%v\n'
  basket consume orders --from-beginning -e --format json > orders.jsonl
  basket consume orders --partition 0 --offset 100 --format json
  basket consume orders payments --group billing --isolation read_committed`,
		RunE: func(cmd *cobra.Command, args []string) error {
			topics, err := topicArgs(args, f.topics...)
			if err != nil {
				return err
			}
			return consume(cmd, &c, &f, topics)
		},
	}
	addConnFlags(cmd, &c)
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.topics, "topic", "t", nil, "a topic to read, in addition to the TOPIC arguments; repeatable")
	fl.BoolVar(&f.fromBeginning, "from-beginning", false, "start at the oldest record (--offset start)")
	fl.StringVarP(&f.offset, "offset", "o", "", "where to start: start, end, N, -N or @timestamp-ms (default end)")
	fl.Int32SliceVarP(&f.partitions, "partition", "p", nil, "read only these partitions (comma-separated or repeated)")
	fl.StringVarP(&f.group, "group", "g", "", "consumer group to join; commits what was printed")
	fl.IntVarP(&f.num, "num", "n", 0, "stop after this many records (0: run until Ctrl-C)")
	fl.StringVarP(&f.format, "format", "f", `%v\n`, "output: json, or a format string (see above)")
	fl.StringVar(&f.isolation, "isolation", "read_uncommitted", "read_uncommitted or read_committed (skip aborted transactions)")
	fl.BoolVarP(&f.exitAtEnd, "exit-at-end", "e", false, "stop once every partition is read to the end offset it had at the start (not with --group)")
	return cmd
}

// startOffset resolves --from-beginning and --offset.
func (f *consumeFlags) startOffset() (startSpec, error) {
	o := f.offset
	if f.fromBeginning {
		if o != "" && o != "start" && o != "beginning" && o != "earliest" {
			return startSpec{}, errors.New("--from-beginning and --offset disagree")
		}
		o = "start"
	}
	exact := func(s startSpec) (startSpec, error) {
		if f.group != "" {
			return startSpec{}, fmt.Errorf("--offset %s cannot be used with --group; move the group with basket group reset-offsets", o)
		}
		return s, nil
	}
	switch {
	case o == "" || o == "end" || o == "latest":
		return startSpec{kind: 'e'}, nil
	case o == "start" || o == "beginning" || o == "earliest":
		return startSpec{kind: 's'}, nil
	case strings.HasPrefix(o, "@"):
		ms, err := strconv.ParseInt(o[1:], 10, 64)
		if err != nil || ms < 0 {
			return startSpec{}, fmt.Errorf("--offset %q: want @ and a Unix timestamp in milliseconds", o)
		}
		return exact(startSpec{kind: 't', n: ms})
	}
	n, err := strconv.ParseInt(o, 10, 64)
	if err != nil {
		return startSpec{}, fmt.Errorf("--offset %q: want start, end, N, -N or @timestamp", o)
	}
	if n < 0 {
		return exact(startSpec{kind: 'r', n: -n})
	}
	return exact(startSpec{kind: 'a', n: n})
}

func (f *consumeFlags) opts(topics []string) ([]kgo.Opt, error) {
	if f.num < 0 {
		return nil, fmt.Errorf("--num must not be negative, got %d", f.num)
	}
	if f.exitAtEnd && f.group != "" {
		return nil, errors.New("--exit-at-end cannot be used with --group: the group decides which partitions this consumer reads")
	}
	spec, err := f.startOffset()
	if err != nil {
		return nil, err
	}
	start := spec.offset()
	var opts []kgo.Opt
	switch f.isolation {
	case "read_uncommitted":
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
	case "read_committed":
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	default:
		return nil, fmt.Errorf("--isolation must be read_uncommitted or read_committed, got %q", f.isolation)
	}
	switch {
	case f.group != "" && len(f.partitions) > 0:
		return nil, errors.New("--partition cannot be used with --group: the group assigns partitions")
	case len(f.partitions) > 0:
		ps := map[string]map[int32]kgo.Offset{}
		for _, t := range topics {
			ps[t] = map[int32]kgo.Offset{}
			for _, p := range f.partitions {
				if p < 0 {
					return nil, fmt.Errorf("--partition %d: partitions are numbered from 0", p)
				}
				ps[t][p] = start
			}
		}
		opts = append(opts, kgo.ConsumePartitions(ps))
	default:
		opts = append(opts, kgo.ConsumeTopics(topics...), kgo.ConsumeResetOffset(start))
	}
	if f.group != "" {
		opts = append(opts, kgo.ConsumerGroup(f.group), kgo.AutoCommitMarks())
	}
	if f.exitAtEnd {
		// Transaction markers move a partition to its end offset.
		opts = append(opts, kgo.KeepControlRecords())
	}
	return opts, nil
}

func consume(cmd *cobra.Command, c *conn, f *consumeFlags, topics []string) error {
	formatter, err := parseOutputFormat(f.format)
	if err != nil {
		return err
	}
	opts, err := f.opts(topics)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	cl, err := c.client(ctx, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	md, err := requireTopics(ctx, adminOf(cl), topics...)
	if err != nil {
		return err
	}
	for _, t := range topics {
		for _, p := range f.partitions {
			if int(p) >= len(md[t].Partitions) {
				return fmt.Errorf("topic %q has no partition %d (it has %d)", t, p, len(md[t].Partitions))
			}
		}
	}

	var ends *endTracker
	if f.exitAtEnd {
		parts := map[string][]int32{}
		for _, t := range topics {
			parts[t] = f.partitions
			if len(f.partitions) == 0 {
				parts[t] = md[t].Partitions.Numbers()
			}
		}
		spec, _ := f.startOffset() // checked by opts
		if ends, err = newEndTracker(ctx, adminOf(cl), spec, f.isolation == "read_committed", parts); err != nil {
			return err
		}
	}

	var printed atomic.Int64
	// Progress helps when the records go to a file and stderr is a
	// terminal; on a terminal showing the records it would be noise.
	if f.num > 0 && isTerminal(cmd.ErrOrStderr()) && !isTerminal(cmd.OutOrStdout()) {
		stop := progress(cmd.ErrOrStderr(), func() string {
			return fmt.Sprintf("basket: %d of %d records consumed", printed.Load(), f.num)
		})
		defer stop()
	}
	w := cmd.OutOrStdout()
	var buf []byte
	var runErr error
loop:
	for (f.num == 0 || printed.Load() < int64(f.num)) && (ends == nil || !ends.done()) {
		max := 10000
		if f.num > 0 {
			max = f.num - int(printed.Load())
		}
		fs := cl.PollRecords(ctx, max)
		if ctx.Err() != nil {
			break
		}
		for _, fe := range fs.Errors() {
			if errors.Is(fe.Err, context.Canceled) || errors.Is(fe.Err, kgo.ErrClientClosed) {
				break loop
			}
			runErr = fmt.Errorf("topic %s partition %d: %w", fe.Topic, fe.Partition, kafkaErr(fe.Err, ""))
			break loop
		}
		for _, r := range fs.Records() {
			if ends != nil && (!ends.saw(r) || r.Attrs.IsControl()) {
				continue
			}
			if f.num > 0 && printed.Load() >= int64(f.num) {
				break
			}
			buf = formatter(buf[:0], r)
			if _, err := w.Write(buf); err != nil {
				runErr = err
				break loop
			}
			printed.Add(1)
			if f.group != "" {
				cl.MarkCommitRecords(r)
			}
		}
	}
	if f.group != "" {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		defer cancel()
		if err := cl.CommitMarkedOffsets(cctx); err != nil && runErr == nil {
			runErr = fmt.Errorf("committing offsets of group %s: %w", f.group, kafkaErr(err, ""))
		}
	}
	return runErr
}

// isTerminal reports whether w is a terminal, where progress lines help
// rather than clutter a log.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress writes line() to w every second until the returned stop is
// called.
func progress(w io.Writer, line func() string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintln(w, line())
			}
		}
	}()
	return func() { close(done); <-finished }
}
