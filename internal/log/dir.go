package log

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/vfs"
)

// Durability selects when appended data counts as acknowledged.
type Durability int

const (
	// DurabilitySync (the default) syncs appended data to disk as soon as
	// possible, grouping the appends of all partitions of the Dir into
	// shared syncs; producers are acknowledged once WaitDurable returns.
	DurabilitySync Durability = iota
	// DurabilityAsync is Kafka's policy: data is acknowledged from the page
	// cache and synced only when a log reaches flush.messages unsynced
	// records, every flush.ms, when a segment rolls, and at shutdown.
	DurabilityAsync
)

// Options configure a Dir. Zero values take the defaults noted.
type Options struct {
	FS     vfs.FS       // default vfs.OS
	Clock  clock.Clock  // default clock.Real
	Logger *slog.Logger // default slog.Default()

	Durability Durability
	// RecoveryThreads (num.recovery.threads.per.data.dir) open and recover
	// partitions in parallel; default GOMAXPROCS.
	RecoveryThreads int
	// CheckpointInterval (log.flush.offset.checkpoint.interval.ms) is how
	// often recovery points are written; default 60s.
	CheckpointInterval time.Duration
	// RetentionCheckInterval (log.retention.check.interval.ms); default
	// 5 minutes. Retention can also be run on demand with RunRetention.
	RetentionCheckInterval time.Duration
	// FlushCheckInterval is how often flush.ms is checked under
	// DurabilityAsync; default 1s.
	FlushCheckInterval time.Duration
	// Config returns the configuration of a partition found on disk at
	// open; default DefaultConfig for every partition.
	Config func(TopicPartition) Config
	// PageCacheRetainBytes (basket.log.page.cache.retain.bytes) is how much
	// of each log's newest durable data stays in the page cache after a
	// flush: older bytes of the segment being flushed are dropped from it
	// (posix_fadvise DONTNEED), so a broker writing gigabytes reuses the
	// same memory instead of growing the cache, which costs far more CPU
	// per byte. Readers of dropped data read the disk. Zero takes the
	// default, 64 MiB; negative keeps everything (Kafka's behaviour).
	PageCacheRetainBytes int64
	// RebuildTxnIndex rebuilds the aborted-transaction index of a log
	// being opened from offset from on, after recovery emptied the indexes
	// of the segments it re-validated: it replays producer state up to the
	// log end and calls l.AppendAbortedTxn for every ABORT marker at or
	// after from. The broker sets it to producerstate.RebuildTxnIndex;
	// when nil, recovered segments keep the index entries whose markers
	// survived.
	RebuildTxnIndex func(l *Log, from int64) error
}

// DefaultPageCacheRetainBytes is PageCacheRetainBytes' default.
const DefaultPageCacheRetainBytes = 64 << 20

func (o *Options) setDefaults() {
	if o.FS == nil {
		o.FS = vfs.OS
	}
	if o.Clock == nil {
		o.Clock = clock.Real
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.PageCacheRetainBytes == 0 {
		o.PageCacheRetainBytes = DefaultPageCacheRetainBytes
	}
	if o.RecoveryThreads <= 0 {
		o.RecoveryThreads = runtime.GOMAXPROCS(0)
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = time.Minute
	}
	if o.RetentionCheckInterval <= 0 {
		o.RetentionCheckInterval = 5 * time.Minute
	}
	if o.FlushCheckInterval <= 0 {
		o.FlushCheckInterval = time.Second
	}
	if o.Config == nil {
		o.Config = func(TopicPartition) Config { return DefaultConfig() }
	}
}

// ErrLogExists is returned by CreateLog for a partition the Dir already has.
var ErrLogExists = errors.New("log already exists")

// Dir is a log directory (one entry of log.dirs): the partitions stored in
// it, one flusher doing group commit for all of them, the recovery-point and
// log-start-offset checkpoints, and the clean-shutdown marker.
//
// Dir is safe for concurrent use.
type Dir struct {
	path   string
	fs     vfs.FS
	clock  clock.Clock
	logger *slog.Logger
	opts   Options

	mu     sync.Mutex
	logs   map[TopicPartition]*Log
	closed bool

	checkpointMu sync.Mutex

	flusher *flusher
	deleter *deleter

	cleanShutdown bool
	quit          chan struct{}
	wg            sync.WaitGroup
}

// OpenDir opens or creates the log directory at path, loads every partition
// in it and recovers those not shut down cleanly, several at a time.
func OpenDir(path string, opts Options) (*Dir, error) {
	opts.setDefaults()
	d := &Dir{
		path: filepath.Clean(path), fs: opts.FS, clock: opts.Clock, logger: opts.Logger, opts: opts,
		logs: make(map[TopicPartition]*Log), quit: make(chan struct{}),
	}
	d.flusher = newFlusher(d)
	d.deleter = newDeleter(d)
	if err := d.fs.MkdirAll(d.path, 0o755); err != nil {
		return nil, fmt.Errorf("log dir %s: %w", d.path, err)
	}
	if err := d.load(); err != nil {
		d.closeLogs()
		return nil, err
	}
	d.wg.Add(4)
	go d.flusher.run()
	go d.deleter.run()
	go d.every(opts.CheckpointInterval, func() {
		if err := d.Checkpoint(); err != nil {
			d.logger.Error("writing checkpoints", "dir", d.path, "err", err)
		}
	})
	go d.every(opts.RetentionCheckInterval, func() { d.RunRetention() })
	return d, nil
}

// Path is the directory.
func (d *Dir) Path() string { return d.path }

// FS is the file system the directory lives on.
func (d *Dir) FS() vfs.FS { return d.fs }

// Clock is the Dir's clock.
func (d *Dir) Clock() clock.Clock { return d.clock }

// HadCleanShutdown reports whether the Dir was last closed cleanly, so that
// opening it skipped recovery.
func (d *Dir) HadCleanShutdown() bool { return d.cleanShutdown }

func (d *Dir) every(interval time.Duration, fn func()) {
	defer d.wg.Done()
	for {
		t := d.clock.NewTimer(interval)
		select {
		case <-d.quit:
			t.Stop()
			return
		case <-t.C():
			fn()
		}
	}
}

// Log returns the partition's log.
func (d *Dir) Log(tp TopicPartition) (*Log, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.logs[tp]
	return l, ok
}

// Logs returns every log in the Dir.
func (d *Dir) Logs() []*Log {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]*Log, 0, len(d.logs))
	for _, l := range d.logs {
		out = append(out, l)
	}
	return out
}

// CreateLog creates an empty log for tp starting at offset 0.
func (d *Dir) CreateLog(tp TopicPartition, cfg Config) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tp.Topic == "" || strings.ContainsAny(tp.Topic, "/\\\x00") || tp.Topic == "." || tp.Topic == ".." || tp.Partition < 0 {
		return nil, fmt.Errorf("invalid partition name %q", tp)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	if _, ok := d.logs[tp]; ok {
		return nil, fmt.Errorf("%w: %s", ErrLogExists, tp)
	}
	path := filepath.Join(d.path, tp.String())
	if err := d.fs.MkdirAll(path, 0o755); err != nil {
		return nil, err
	}
	if err := d.fs.SyncDir(d.path); err != nil {
		return nil, err
	}
	l := d.newLog(tp, path, cfg)
	seg, err := createSegment(d.fs, path, 0, &cfg)
	if err != nil {
		return nil, err
	}
	l.segs.Store(&[]*segment{seg})
	l.dirDirty.Store(true)
	if err := l.flush(); err != nil {
		return nil, err
	}
	d.logs[tp] = l
	return l, nil
}

func (d *Dir) newLog(tp TopicPartition, path string, cfg Config) *Log {
	l := &Log{tp: tp, path: path, owner: d}
	l.cfg.Store(&cfg)
	l.lastFlush.Store(d.clock.Now().UnixMilli())
	return l
}

// DeleteLog removes a partition: its directory is renamed out of the way at
// once, and its files are closed and removed after file.delete.delay.ms.
func (d *Dir) DeleteLog(tp TopicPartition) error {
	d.mu.Lock()
	l, ok := d.logs[tp]
	if ok {
		delete(d.logs, tp)
	}
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s", fs.ErrNotExist, tp)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed.Store(true)
	l.releaseWaiters(1<<63-1, ErrClosed)
	gone := fmt.Sprintf("%s.%d-delete", l.path, d.clock.Now().UnixNano())
	if err := d.fs.Rename(l.path, gone); err != nil {
		return err
	}
	if err := d.fs.SyncDir(d.path); err != nil {
		return err
	}
	d.deleter.schedule(l.Config().FileDeleteDelayMs, *l.segs.Load(), gone)
	return nil
}

// Close flushes every log, writes the checkpoints and the clean-shutdown
// marker, and closes all files. Appends after Close fail with ErrClosed.
func (d *Dir) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	close(d.quit)
	d.wg.Wait()
	d.flusher.stop()

	var errs []error
	logs := d.Logs()
	for _, l := range logs {
		if err := l.closeForShutdown(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := d.Checkpoint(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		errs = append(errs, vfs.WriteFileAtomic(d.fs, d.path, cleanShutdownFile, nil))
	}
	d.deleter.drain()
	d.closeLogs()
	return errors.Join(errs...)
}

func (d *Dir) closeLogs() {
	for _, l := range d.Logs() {
		l.closed.Store(true)
		l.releaseWaiters(1<<63-1, ErrClosed)
		for _, s := range *l.segs.Load() {
			s.close()
		}
	}
}

// Checkpoint writes every log's recovery point and log start offset.
func (d *Dir) Checkpoint() error {
	d.checkpointMu.Lock()
	defer d.checkpointMu.Unlock()
	rp := make(map[TopicPartition]int64)
	lso := make(map[TopicPartition]int64)
	for _, l := range d.Logs() {
		rp[l.tp] = l.recoveryPoint.Load()
		lso[l.tp] = l.logStartOffset.Load()
	}
	if err := vfs.WriteFileAtomic(d.fs, d.path, recoveryPointFile, encodeCheckpoint(rp)); err != nil {
		return err
	}
	return vfs.WriteFileAtomic(d.fs, d.path, logStartOffsetFile, encodeCheckpoint(lso))
}

// parsePartitionDir splits "<topic>-<partition>" at its last dash.
func parsePartitionDir(name string) (TopicPartition, bool) {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 {
		return TopicPartition{}, false
	}
	p, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil || p < 0 || strconv.FormatInt(p, 10) != name[i+1:] {
		return TopicPartition{}, false
	}
	return TopicPartition{name[:i], int32(p)}, true
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) || os.IsNotExist(err) }
