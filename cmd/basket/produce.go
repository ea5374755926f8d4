package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

type produceFlags struct {
	file        string
	keySep      string
	format      string
	partition   int32
	compression string
	acks        string
	headers     []string
	verbose     bool
	autoCreate  bool
	topic       string
}

// produceCommand is `basket produce`, the console producer.
func produceCommand() *cobra.Command {
	var (
		c conn
		f produceFlags
	)
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Write records read from stdin or a file",
		Long: `Write one record per input line, read from stdin or --file.

By default each line is a record's value. With --key-separator SEP the text
before the first SEP is the key and the rest the value. With -f FORMAT the input
is parsed by a format string, repeated until the input ends:

  %k  key           %t  topic (overrides TOPIC)
  %v  value         %p  partition number
  %h  headers, as key=value pairs separated by commas
  %%  a percent sign; \n \r \t \\ are a newline, carriage return, tab, backslash

Every verb is ended by the literal text that follows it in the format (a verb
at the very end takes the rest of the input); a missing final delimiter at the
end of the input is accepted.

A record that cannot be parsed or written is reported on stderr with its input
line, the others are still written, and the command exits 1 if any failed.`,
		Example: `  echo hello | basket produce orders
  basket produce orders --key-separator : --file orders.txt
  printf 'k1 v1\nk2 v2\n' | basket produce orders -f '%k %v\n'
  basket produce orders -z zstd --acks 1 -H source=import -H version=2 < data.txt`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			topics, err := topicArgs(args, f.topic)
			if err != nil {
				return err
			}
			if len(topics) != 1 {
				return errors.New("give one topic")
			}
			return produce(cmd, &c, &f, topics[0])
		},
	}
	addConnFlags(cmd, &c)
	fl := cmd.Flags()
	fl.StringVarP(&f.topic, "topic", "t", "", "the topic, instead of the TOPIC argument")
	fl.StringVar(&f.file, "file", "", "read records from this file instead of stdin")
	fl.StringVar(&f.keySep, "key-separator", "", "split each line into key and value at the first occurrence of this text")
	fl.StringVarP(&f.format, "format", "f", "", `input format string, e.g. '%k %v\n' (see above)`)
	fl.Int32Var(&f.partition, "partition", -1, "write every record to this partition (-1: partition by key)")
	fl.StringVarP(&f.compression, "compression", "z", "none", "batch compression: none, gzip, snappy, lz4 or zstd")
	fl.StringVar(&f.acks, "acks", "all", "acknowledgements to wait for: all (-1), 1 or 0")
	fl.StringArrayVarP(&f.headers, "header", "H", nil, "header key=value added to every record, repeatable")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "print the partition and offset of each record written")
	fl.BoolVar(&f.autoCreate, "allow-auto-create", false, "let the broker create a missing topic (auto.create.topics.enable)")
	return cmd
}

// compressionCodec maps -z to kgo's codec.
func compressionCodec(name string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(name) {
	case "none", "":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.NoCompression(), fmt.Errorf("unknown compression %q (want none, gzip, snappy, lz4 or zstd)", name)
}

// acksOpts maps --acks to kgo options. Anything but all turns off the
// idempotent producer, which requires acks=all.
func acksOpts(acks string) ([]kgo.Opt, error) {
	switch acks {
	case "all", "-1":
		return []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks())}, nil
	case "1":
		return []kgo.Opt{kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite()}, nil
	case "0":
		return []kgo.Opt{kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite()}, nil
	}
	return nil, fmt.Errorf("--acks must be all, -1, 1 or 0, got %q", acks)
}

// producerOpts are the options produce and perf produce share.
func producerOpts(compression, acks string) ([]kgo.Opt, error) {
	codec, err := compressionCodec(compression)
	if err != nil {
		return nil, err
	}
	opts, err := acksOpts(acks)
	if err != nil {
		return nil, err
	}
	return append(opts, kgo.ProducerBatchCompression(codec)), nil
}

func (f *produceFlags) reader(in io.Reader) (recordReader, error) {
	br := bufio.NewReaderSize(in, 64<<10)
	switch {
	case f.format != "" && f.keySep != "":
		return nil, errors.New("give --format or --key-separator, not both")
	case f.format != "":
		toks, err := parseInputFormat(f.format)
		if err != nil {
			return nil, err
		}
		return &formatReader{r: br, toks: toks}, nil
	}
	return &lineReader{r: br, keySep: f.keySep}, nil
}

func produce(cmd *cobra.Command, c *conn, f *produceFlags, topic string) error {
	opts, err := producerOpts(f.compression, f.acks)
	if err != nil {
		return err
	}
	hdrs, err := parseHeaders(f.headers)
	if err != nil {
		return err
	}
	in := cmd.InOrStdin()
	if f.file != "" {
		file, err := os.Open(f.file)
		if err != nil {
			return err
		}
		defer file.Close()
		in = file
	}
	rd, err := f.reader(in)
	if err != nil {
		return err
	}
	manual := f.partition >= 0 || strings.Contains(f.format, "%p")
	opts = append(opts, kgo.DefaultProduceTopic(topic), kgo.RecordDeliveryTimeout(c.timeout), kgo.UnknownTopicRetries(2))
	if manual {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	if f.autoCreate {
		opts = append(opts, kgo.AllowAutoTopicCreation())
	}
	ctx := cmd.Context()
	cl, err := c.client(ctx, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if !f.autoCreate {
		if err := checkTopicExists(ctx, cl, topic); err != nil {
			return err
		}
	}

	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	var (
		mu              sync.Mutex
		total, failures int
	)
	fail := func(line int, err error) {
		mu.Lock()
		failures++
		fmt.Fprintf(stderr, "basket: line %d: %v\n", line, err)
		mu.Unlock()
	}
	// Input is read in its own goroutine so that an interrupt stops the
	// command even while it waits for a line from a terminal.
	type read struct {
		in  inputRecord
		err error
	}
	reads := make(chan read)
	go func() {
		for {
			in, err := rd.next()
			select {
			case reads <- read{in, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
loop:
	for {
		var rr read
		select {
		case <-ctx.Done():
			break loop
		case rr = <-reads:
		}
		if rr.err == io.EOF {
			break
		}
		if rr.err != nil {
			flush(ctx, cl, c.timeout)
			return rr.err
		}
		r := rr.in
		total++
		if r.err != nil {
			fail(r.line, r.err)
			continue
		}
		if f.partition >= 0 {
			r.rec.Partition = f.partition
		}
		r.rec.Headers = append(r.rec.Headers, hdrs...)
		line := r.line
		// Records already read are delivered even after an interrupt.
		cl.Produce(context.WithoutCancel(ctx), r.rec, func(rec *kgo.Record, err error) {
			if err != nil {
				fail(line, fmt.Errorf("topic %s partition %d: %w", rec.Topic, rec.Partition, kafkaErr(err, "")))
				return
			}
			if f.verbose {
				mu.Lock()
				fmt.Fprintf(stdout, "%s partition %d offset %d\n", rec.Topic, rec.Partition, rec.Offset)
				mu.Unlock()
			}
		})
	}
	if err := flush(ctx, cl, c.timeout); err != nil {
		return err
	}
	if failures > 0 {
		return fmt.Errorf("%d of %d records failed", failures, total)
	}
	return nil // an interrupt is the usual end of typed input
}

// topicArgs merges topics given as arguments and with --topic; at least
// one is needed.
func topicArgs(args []string, flagged ...string) ([]string, error) {
	out := append([]string(nil), args...)
	for _, t := range flagged {
		if t != "" {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no topic: give TOPIC or --topic")
	}
	return out, nil
}

// parseHeaders parses -H key=value flags.
func parseHeaders(hs []string) ([]kgo.RecordHeader, error) {
	var out []kgo.RecordHeader
	for _, h := range hs {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("-H %q: want key=value", h)
		}
		out = append(out, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	return out, nil
}
