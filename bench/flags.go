package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Phase names, in the order a run performs them.
const (
	phaseThroughput = "throughput"
	phaseLatency    = "latency"
	phaseRSS        = "rss"
)

var allPhases = []string{phaseThroughput, phaseLatency, phaseRSS}

// options is everything the command line controls.
type options struct {
	brokers    []string // broker names, see brokerSpecs
	phases     []string
	rssBrokers []string
	rounds     int

	recordBytes int
	partitions  int

	warmup   time.Duration // not measured, before throughput and latency
	duration time.Duration // measured part of the throughput phase
	records  int64         // when > 0, the throughput phase sends exactly this many instead
	linger   time.Duration // throughput phase

	rate            int           // latency phase, records per second
	latencyDuration time.Duration // measured part of the latency phase
	latencyLinger   time.Duration

	rssBytes int64

	tmpDir          string
	basketSrc       string // module root holding ./cmd/basket
	basketBin       string // a prebuilt binary instead of building one
	basketOverrides []string
}

func parseFlags(args []string) (*options, error) {
	o := &options{rssBytes: 4 << 30}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run . [flags]\n\nDrives Basket and franz-go's kfake with kgo and compares them. Brokers:\n")
		for _, s := range brokerSpecs {
			fmt.Fprintf(fs.Output(), "  %-16s %s\n", s.name, s.about)
		}
		fmt.Fprintf(fs.Output(), "\nFlags:\n")
		fs.PrintDefaults()
	}
	brokers := fs.String("brokers", "basket,kfake-sync,kfake-blackhole", "comma-separated brokers to run")
	phases := fs.String("phases", strings.Join(allPhases, ","), "comma-separated phases: throughput, latency, rss")
	rssBrokers := fs.String("rss-brokers", "basket", "comma-separated brokers the rss phase runs against")
	fs.IntVar(&o.rounds, "rounds", 1, "repeat the throughput and latency phases, interleaving brokers; ratios use medians")
	fs.IntVar(&o.recordBytes, "record-bytes", 1024, "value size of every record")
	fs.IntVar(&o.partitions, "partitions", 8, "partitions of the benchmark topic")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured warm-up before the throughput and latency phases")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "measured length of the throughput phase")
	fs.Int64Var(&o.records, "records", 0, "throughput phase: send exactly this many records instead of running for -duration (no warm-up)")
	fs.DurationVar(&o.linger, "linger", 5*time.Millisecond, "producer linger in the throughput and rss phases")
	fs.IntVar(&o.rate, "rate", 20000, "latency phase: records per second")
	fs.DurationVar(&o.latencyDuration, "latency-duration", 20*time.Second, "measured length of the latency phase")
	fs.DurationVar(&o.latencyLinger, "latency-linger", time.Millisecond, "producer linger in the latency phase")
	fs.Func("rss-bytes", "rss phase: bytes of record values to produce, e.g. 4GiB, 512MiB, 1e9 (default 4GiB)", func(s string) error {
		n, err := parseBytes(s)
		o.rssBytes = n
		return err
	})
	fs.StringVar(&o.tmpDir, "tmp-dir", os.TempDir(), "where the run's temporary directory (binaries, data, logs) goes")
	fs.StringVar(&o.basketSrc, "basket-src", "..", "root of the basket module, built with go build ./cmd/basket")
	fs.StringVar(&o.basketBin, "basket-bin", "", "use this basket binary instead of building one")
	fs.Func("basket-override", "extra key=value passed to basket serve --override, repeatable", func(s string) error {
		o.basketOverrides = append(o.basketOverrides, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.brokers, o.phases, o.rssBrokers = splitList(*brokers), splitList(*phases), splitList(*rssBrokers)
	return o, o.validate()
}

func (o *options) validate() error {
	var errs []error
	for _, b := range append(slices.Clone(o.brokers), o.rssBrokers...) {
		if lookupSpec(b) == nil {
			errs = append(errs, fmt.Errorf("unknown broker %q", b))
		}
	}
	for _, p := range o.phases {
		if !slices.Contains(allPhases, p) {
			errs = append(errs, fmt.Errorf("unknown phase %q", p))
		}
	}
	if o.rounds < 1 || o.recordBytes < 1 || o.partitions < 1 || o.rate < 1 {
		errs = append(errs, errors.New("-rounds, -record-bytes, -partitions and -rate must be positive"))
	}
	if o.duration <= 0 || o.latencyDuration <= 0 || o.warmup < 0 || o.records < 0 {
		errs = append(errs, errors.New("durations must be positive, -warmup and -records not negative"))
	}
	if o.rssBytes < int64(o.recordBytes) {
		errs = append(errs, fmt.Errorf("-rss-bytes %d is less than one record", o.rssBytes))
	}
	return errors.Join(errs...)
}

func (o *options) has(phase string) bool { return slices.Contains(o.phases, phase) }

// allBrokers lists, once each, the brokers some selected phase runs.
func (o *options) allBrokers() []string {
	all := slices.Clone(o.brokers)
	if !o.has(phaseThroughput) && !o.has(phaseLatency) {
		all = nil
	}
	for _, b := range o.rssBrokers {
		if o.has(phaseRSS) && !slices.Contains(all, b) {
			all = append(all, b)
		}
	}
	return all
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// parseBytes reads sizes such as 4GiB, 512MiB, 64KiB, 2GB or plain bytes
// (1e9 works too). Binary suffixes are powers of 1024, decimal ones of 1000.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
	}
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(f * float64(mult)), nil
}
