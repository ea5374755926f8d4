package cleaner

import (
	"errors"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/log"
)

// Options configure a Cleaner; zero values take Kafka's defaults.
type Options struct {
	// Threads (log.cleaner.threads) is the number of cleaner goroutines
	// Start runs; default 1. Each gets DedupeBufferSize/Threads of map.
	Threads int
	// DedupeBufferSize (log.cleaner.dedupe.buffer.size) bounds the memory
	// of all key-to-offset maps together, with the dirty segments cached
	// and the batch liveness counts of each clean (doc.go); default 128 MiB.
	DedupeBufferSize int64
	// IOMaxBytesPerSecond (log.cleaner.io.max.bytes.per.second) limits the
	// bytes read and written by all cleaners together; default no limit.
	IOMaxBytesPerSecond float64
	// Backoff (log.cleaner.backoff.ms) is how long a cleaner goroutine
	// sleeps when no log needs cleaning; default 15 s.
	Backoff time.Duration
	// ReadBufferSize is the initial size of each cleaner's read buffer;
	// it grows to hold a larger batch. Default 256 KiB, the read half of
	// Kafka's log.cleaner.io.buffer.size.
	ReadBufferSize int

	Clock  clock.Clock  // default: the Dir's clock
	Logger *slog.Logger // default slog.Default()

	// Bound tells, for a log, how far it may be cleaned and which batches
	// must stay for producer state; ok=false skips the log for now (for
	// instance a log no partition serves). Nil cleans every log up to its
	// durable offset and keeps no producer batches specially: only for
	// logs without open transactions.
	Bound func(l *log.Log) (b Bound, ok bool)
}

// Bound is what the partition owning a log tells the cleaner.
type Bound struct {
	// UpperOffset is the partition's last stable offset: below the high
	// watermark and the first offset of every open transaction. No
	// segment holding a record at or above it is cleaned or read into the
	// key map, so every transaction the cleaner sees is decided.
	UpperOffset int64
	// Producers holds each active producer's last batch, which
	// cleaning keeps, emptied of records if need be, so the producer's
	// sequence and epoch survive a restart (Kafka's
	// lastRecordsOfActiveProducers).
	Producers map[int64]ProducerLast
}

// ProducerLast is an active producer's last entry in the log.
type ProducerLast struct {
	// LastDataOffset is the last offset of the producer's last data
	// batch, or -1 if it has none (then its last control batch of Epoch is
	// kept).
	LastDataOffset int64
	Epoch          int16
}

// Stats describes a log's most recent clean.
type Stats struct {
	// DirtyRatio is the dirty share of the cleanable log when the clean
	// began; Cleaner.DirtyRatio gives the current one.
	DirtyRatio     float64
	BytesRead      int64 // both passes: building the map and recopying
	BytesWritten   int64
	RecordsRead    int64 // records recopied or dropped
	RecordsRemoved int64
	// MapUtilization is the share of the dedupe buffer used; 1 means
	// the dirty section needed more than one pass.
	MapUtilization float64
	// EndOffset is where the next clean starts its dirty section.
	EndOffset int64
	LastClean time.Time
	Duration  time.Duration
}

// Cleaner compacts the logs of one log.Dir whose Config has Compact set.
// Safe for concurrent use.
type Cleaner struct {
	dir      *log.Dir
	opts     Options
	logger   *slog.Logger
	clock    clock.Clock
	throttle *throttler

	mu          sync.Mutex
	inProgress  map[log.TopicPartition]bool
	uncleanable map[log.TopicPartition]error
	stats       map[log.TopicPartition]Stats
	checkpoints map[log.TopicPartition]int64
	// gens holds each log's CleanGeneration at its last clean: a
	// truncation since then resets the first dirty offset (Kafka's
	// maybeTruncateCheckpoint).
	gens map[log.TopicPartition]int64
	// ckDirty is set by a checkpoint change not yet written; ckWriting
	// while the writer goroutine (checkpoint.go) runs.
	ckDirty, ckWriting bool
	ckWG               sync.WaitGroup

	workers chan *worker // idle workers for CleanOnce
	quit    chan struct{}
	wg      sync.WaitGroup
	started bool
	closed  bool
}

// New returns a Cleaner for dir, reading dir's cleaner-offset-checkpoint.
// It runs nothing until Start; CleanOnce cleans on demand.
func New(dir *log.Dir, opts Options) *Cleaner {
	if opts.Threads <= 0 {
		opts.Threads = 1
	}
	if opts.DedupeBufferSize <= 0 {
		opts.DedupeBufferSize = 128 << 20
	}
	if opts.IOMaxBytesPerSecond <= 0 {
		opts.IOMaxBytesPerSecond = math.Inf(1)
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 15 * time.Second
	}
	if opts.ReadBufferSize <= 0 {
		opts.ReadBufferSize = 256 << 10
	}
	if opts.Clock == nil {
		opts.Clock = dir.Clock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &Cleaner{
		dir: dir, opts: opts, logger: opts.Logger, clock: opts.Clock,
		throttle:   newThrottler(opts.IOMaxBytesPerSecond, opts.Clock),
		inProgress: map[log.TopicPartition]bool{}, uncleanable: map[log.TopicPartition]error{},
		stats: map[log.TopicPartition]Stats{}, gens: map[log.TopicPartition]int64{}, workers: make(chan *worker, opts.Threads),
		quit: make(chan struct{}),
	}
	c.checkpoints = c.readCheckpoint()
	for range opts.Threads {
		c.workers <- c.newWorker()
	}
	return c
}

// Start runs Threads cleaner goroutines until Close.
func (c *Cleaner) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started || c.closed {
		return
	}
	c.started = true
	for range c.opts.Threads {
		c.wg.Add(1)
		go c.run()
	}
}

// Close stops the cleaner goroutines, aborting cleans under way (their
// .cleaned files are removed; nothing is swapped), and waits for them and
// for the checkpoint file to be written. Call it before closing the Dir.
func (c *Cleaner) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	close(c.quit)
	c.mu.Unlock()
	c.wg.Wait()
	c.ckWG.Wait()
}

func (c *Cleaner) run() {
	defer c.wg.Done()
	for {
		w := <-c.workers
		cleaned, err := c.cleanWith(w)
		c.workers <- w
		if cleaned && err == nil { // after a failure, back off before the next look
			select {
			case <-c.quit:
				return
			default:
			}
			continue
		}
		t := c.clock.NewTimer(c.opts.Backoff)
		select {
		case <-c.quit:
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// CleanOnce cleans the dirtiest log that needs it, if any, and reports
// whether it cleaned one. The error is that clean's failure.
func (c *Cleaner) CleanOnce() (bool, error) {
	w := <-c.workers
	defer func() { c.workers <- w }()
	return c.cleanWith(w)
}

// CleanLog cleans l now whatever its dirty ratio (tests and tools); it
// reports false if l has nothing cleanable or is being cleaned.
func (c *Cleaner) CleanLog(l *log.Log) (bool, error) {
	w := <-c.workers
	defer func() { c.workers <- w }()
	ltc, ok := c.grab(l)
	if !ok {
		return false, nil
	}
	return true, c.cleanLog(w, ltc)
}

func (c *Cleaner) cleanWith(w *worker) (bool, error) {
	ltc, ok := c.grabFilthiest()
	if !ok {
		return false, nil
	}
	return true, c.cleanLog(w, ltc)
}

// SetIOMaxBytesPerSecond changes log.cleaner.io.max.bytes.per.second
// while the cleaner runs (a dynamic broker config); <= 0 or +Inf lifts the
// limit.
func (c *Cleaner) SetIOMaxBytesPerSecond(rate float64) { c.throttle.setRate(rate) }

// Stats returns the statistics of the partition's last clean.
func (c *Cleaner) Stats(tp log.TopicPartition) (Stats, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.stats[tp]
	return s, ok
}

// Uncleanable returns the error that stopped cleaning of tp (a corrupt
// batch), or nil.
func (c *Cleaner) Uncleanable(tp log.TopicPartition) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.uncleanable[tp]
}

// DirtyRatio is l's current dirty ratio: bytes in the cleanable dirty
// section over bytes of the cleanable log (0 for a log that is not
// compacted or has nothing cleanable).
func (c *Cleaner) DirtyRatio(l *log.Log) float64 {
	if !l.Config().Compact {
		return 0
	}
	b, ok := c.bound(l)
	if !ok {
		return 0
	}
	ltc, _ := c.cleanable(l, b, c.clock.Now().UnixMilli())
	return ltc.ratio()
}

func (c *Cleaner) bound(l *log.Log) (Bound, bool) {
	if c.opts.Bound == nil {
		return Bound{UpperOffset: l.DurableOffset()}, true
	}
	return c.opts.Bound(l)
}

var errClosed = errors.New("cleaner closed")
