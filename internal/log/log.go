package log

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

// Errors a Log returns. Test with errors.Is.
var (
	// ErrOffsetOutOfRange: an offset below the log start offset or above
	// the log end offset. Kafka: OFFSET_OUT_OF_RANGE.
	ErrOffsetOutOfRange = errors.New("offset out of range")
	// ErrFailed: an earlier write or sync failed, so the log no longer
	// knows what is on disk. It refuses appends until reopened, when
	// recovery finds the last good batch. Kafka: KAFKA_STORAGE_ERROR.
	ErrFailed = errors.New("log failed after a storage error")
	// ErrClosed: the log or its Dir was closed.
	ErrClosed = errors.New("log closed")
)

// Log is one partition's log: a directory of segments, the newest of which
// (the active segment) takes appends.
//
// Concurrency: one goroutine appends (Append, TruncateTo, DeleteRecords and
// retention serialize on an internal mutex, so several may call them, but
// appends of one partition are meant to come in order from one producer
// path). SetConfig swaps the configuration atomically and may be called at
// any time; an append already under way finishes with the old one. Readers (Read, OffsetForTimestamp and the offset accessors) run
// concurrently with the appender and with each other, and never block on it.
type Log struct {
	tp    TopicPartition
	path  string
	owner *Dir

	cfg atomic.Pointer[Config]

	mu   sync.Mutex // held by the appender: append, roll, truncate, delete
	segs atomic.Pointer[[]*segment]

	logStartOffset atomic.Int64
	logEndOffset   atomic.Int64
	durableOffset  atomic.Int64 // every offset below it has been synced
	// recoveryPoint: below it, data and the indexes of sealed segments are
	// synced, so recovery after a crash starts at the segment holding it.
	recoveryPoint atomic.Int64
	lastFlush     atomic.Int64 // clock time of the last flush, Unix ms
	failure       atomic.Pointer[error]
	closed        atomic.Bool

	// cleanGen counts truncations; a cleaned segment prepared under an
	// older generation is not swapped in (see ReplaceSegments).
	cleanGen atomic.Int64

	unflushed atomic.Int64 // records appended since the last flush (DurabilityAsync)
	dirDirty  atomic.Bool  // a segment file was created since the last directory sync

	flushMu sync.Mutex // one flush of this log at a time

	waitMu  sync.Mutex
	waiters []durableWaiter

	// durableCh is closed, and replaced, whenever the durable offset
	// advances; long-polling readers wait on it.
	durableCh atomic.Pointer[chan struct{}]
}

type durableWaiter struct {
	offset int64
	ch     chan error
}

// AppendInfo describes an appended batch.
type AppendInfo struct {
	BaseOffset int64
	LastOffset int64
	// LogAppendTime is the broker time stamped on the batch, or -1 when the
	// log keeps the producer's CreateTime.
	LogAppendTime int64
	// LogStartOffset at the time of the append (Produce v5+ returns it).
	LogStartOffset int64
}

// TopicPartition is the partition this log stores.
func (l *Log) TopicPartition() TopicPartition { return l.tp }

// Path is the partition's directory.
func (l *Log) Path() string { return l.path }

// FS is the file system the log lives on, for files kept beside it
// (producer-state snapshots).
func (l *Log) FS() vfs.FS { return l.owner.fs }

// Config is the configuration in force.
func (l *Log) Config() Config { return *l.cfg.Load() }

// SetConfig replaces the configuration; later appends, rolls and retention
// passes use it.
func (l *Log) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	l.cfg.Store(&cfg)
	return nil
}

// LogStartOffset is the first offset a reader may ask for.
func (l *Log) LogStartOffset() int64 { return l.logStartOffset.Load() }

// LogEndOffset is the offset the next appended record will get.
func (l *Log) LogEndOffset() int64 { return l.logEndOffset.Load() }

// DurableOffset is the offset below which every record has been synced to
// disk and survives a crash of the machine.
func (l *Log) DurableOffset() int64 { return l.durableOffset.Load() }

// Size is the total bytes of the log's segments.
func (l *Log) Size() int64 {
	var n int64
	for _, s := range *l.segs.Load() {
		n += s.size.Load()
	}
	return n
}

// NumSegments is the number of segments, the active one included.
func (l *Log) NumSegments() int { return len(*l.segs.Load()) }

func (l *Log) active() *segment {
	segs := *l.segs.Load()
	return segs[len(segs)-1]
}

func (l *Log) err() error {
	if l.closed.Load() {
		return ErrClosed
	}
	if e := l.failure.Load(); e != nil {
		return *e
	}
	return nil
}

// fail puts the log in the failed state and releases every waiter.
func (l *Log) fail(cause error) error {
	err := fmt.Errorf("%w: %s: %w", ErrFailed, l.tp, cause)
	l.failure.CompareAndSwap(nil, &err)
	l.releaseWaiters(math.MaxInt64, *l.failure.Load())
	return *l.failure.Load()
}

// Append validates batch, assigns it offsets from the log end offset,
// stamps leaderEpoch and, under LogAppendTime, the broker's time, and writes
// it to the active segment. It rewrites those header fields in batch itself;
// the caller keeps ownership of the slice, which the log does not retain.
//
// Append does not wait for durability: call WaitDurable with
// LastOffset+1 to acknowledge only synced data.
func (l *Log) Append(batch []byte, leaderEpoch int32) (AppendInfo, error) {
	h, err := record.Validate(batch)
	if err != nil {
		return AppendInfo{}, err
	}
	return l.append(batch, h, leaderEpoch, nil)
}

// AppendValidated is Append for a batch whose checksum and header the
// caller has already checked with record.Validate (or a record.Decoder
// pass, which includes it), with h the header that check returned: it
// spares the produce path a second CRC pass over every byte. Giving it an
// unchecked batch can write a corrupt one to the log.
func (l *Log) AppendValidated(batch []byte, h record.Header, leaderEpoch int32) (AppendInfo, error) {
	return l.append(batch, h, leaderEpoch, nil)
}

// append appends a validated batch with header h; aborted, when not nil,
// is asked for the aborted-transaction index entry of the batch (a marker)
// once its offset is known (AppendMarker).
func (l *Log) append(batch []byte, h record.Header, leaderEpoch int32, aborted func(offset int64) (AbortedTxn, bool)) (AppendInfo, error) {
	if h.Attributes.Control() && h.ProducerID < 0 {
		return AppendInfo{}, fmt.Errorf("%w: control batch without a producer id", record.ErrInvalidRecord)
	}
	cfg := l.cfg.Load()
	if int64(len(batch)) > cfg.SegmentBytes {
		return AppendInfo{}, fmt.Errorf("%w: batch of %d bytes exceeds segment.bytes %d", record.ErrTooLarge, len(batch), cfg.SegmentBytes)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.err(); err != nil {
		return AppendInfo{}, err
	}
	base := l.logEndOffset.Load()
	h.BaseOffset = base
	record.SetBaseOffset(batch, base)
	record.SetPartitionLeaderEpoch(batch, leaderEpoch)
	info := AppendInfo{BaseOffset: base, LastOffset: h.LastOffset(), LogAppendTime: -1}
	maxTs := h.MaxTimestamp
	now := l.owner.clock.Now()
	if cfg.LogAppendTime {
		info.LogAppendTime = now.UnixMilli()
		maxTs = info.LogAppendTime
		record.SetLogAppendTime(batch, maxTs)
	}

	seg, err := l.maybeRoll(int64(len(batch)), h.LastOffset(), cfg)
	if err != nil {
		return AppendInfo{}, err
	}
	if seg.size.Load() == 0 {
		seg.created = now
	}
	if err := seg.append(batch, &h, maxTs, cfg); err != nil {
		return AppendInfo{}, fmt.Errorf("log %s: append: %w", l.tp, err)
	}
	if aborted != nil {
		// Written before the log end offset moves, so the flush that
		// makes the marker durable syncs the entry too.
		if a, ok := aborted(base); ok {
			created, err := seg.appendTxn(l.owner.fs, a)
			if err != nil {
				return AppendInfo{}, l.fail(fmt.Errorf("transaction index: %w", err))
			}
			if created {
				l.dirDirty.Store(true) // the flush syncs the name too
			}
		}
	}
	l.logEndOffset.Store(info.LastOffset + 1)
	info.LogStartOffset = l.logStartOffset.Load()
	l.afterAppend(int64(h.RecordsCount), cfg)
	return info, nil
}

// maybeRoll returns the segment the next batch goes to, rolling to a new one
// when the active segment is full by size, index, age or offset range.
func (l *Log) maybeRoll(size, lastOffset int64, cfg *Config) (*segment, error) {
	seg := l.active()
	if seg.size.Load() == 0 {
		return seg, nil
	}
	now := l.owner.clock.Now()
	switch {
	case seg.size.Load()+size > cfg.SegmentBytes:
	case seg.index.full():
	case now.Sub(seg.created).Milliseconds() >= cfg.rollMs():
	case lastOffset-seg.base > math.MaxInt32:
	default:
		return seg, nil
	}
	return l.roll(l.logEndOffset.Load(), cfg)
}

// roll seals the active segment and starts a new one at base.
func (l *Log) roll(base int64, cfg *Config) (*segment, error) {
	seg, err := createSegment(l.owner.fs, l.path, base, cfg)
	if err != nil {
		return nil, fmt.Errorf("log %s: roll: %w", l.tp, err)
	}
	old := l.active()
	if err := old.seal(); err != nil {
		seg.close()
		return nil, l.fail(fmt.Errorf("roll: %w", err))
	}
	if err := old.writeIndexes(); err != nil {
		seg.close()
		return nil, l.fail(fmt.Errorf("roll: %w", err))
	}
	l.dirDirty.Store(true)
	segs := append(append([]*segment(nil), *l.segs.Load()...), seg)
	l.segs.Store(&segs)
	l.owner.flusher.request(l) // sync the sealed segment and the directory
	return seg, nil
}

func (l *Log) afterAppend(records int64, cfg *Config) {
	if l.owner.opts.Durability == DurabilitySync {
		l.owner.flusher.request(l)
		return
	}
	if l.unflushed.Add(records) >= cfg.FlushIntervalMessages {
		l.owner.flusher.request(l)
	}
}

// WaitDurable blocks until every record below offset is synced to disk, the
// log fails, or ctx is done. It asks the flusher for a flush, so it also
// works under DurabilityAsync.
func (l *Log) WaitDurable(ctx context.Context, offset int64) error {
	if l.durableOffset.Load() >= offset {
		return nil
	}
	ch := make(chan error, 1)
	l.waitMu.Lock()
	if err := l.err(); err != nil {
		l.waitMu.Unlock()
		return err
	}
	if l.durableOffset.Load() >= offset {
		l.waitMu.Unlock()
		return nil
	}
	l.waiters = append(l.waiters, durableWaiter{offset, ch})
	l.waitMu.Unlock()
	l.owner.flusher.request(l)
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// releaseWaiters answers every waiter for an offset <= upTo with err.
func (l *Log) releaseWaiters(upTo int64, err error) {
	l.waitMu.Lock()
	kept := l.waiters[:0]
	for _, w := range l.waiters {
		if w.offset <= upTo {
			w.ch <- err
			continue
		}
		kept = append(kept, w)
	}
	clear(l.waiters[len(kept):])
	l.waiters = kept
	l.waitMu.Unlock()
}

// flush syncs every segment with unsynced bytes, and the directory when a
// segment was created, then advances the durable offset. It is called by the
// Dir's flusher and on close.
func (l *Log) flush() error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	if err := l.err(); err != nil {
		return err
	}
	l.unflushed.Store(0)
	target := l.logEndOffset.Load() // every byte counted here is written
	segs := *l.segs.Load()
	// Newest first: the active segment, then sealed ones until one that
	// is already fully synced (everything older is too).
	oldest := len(segs) - 1
	for ; oldest >= 0; oldest-- {
		s := segs[oldest]
		if oldest < len(segs)-1 && !s.needsFlush() {
			break
		}
		if err := s.flush(); err != nil {
			return l.fail(err)
		}
	}
	if l.dirDirty.Swap(false) {
		if err := l.owner.fs.SyncDir(l.path); err != nil {
			return l.fail(err)
		}
	}
	l.lastFlush.Store(l.owner.clock.Now().UnixMilli())
	rp := target
	for _, s := range *l.segs.Load() {
		if s.sealed.Load() && !s.isIndexSynced() {
			rp = min(rp, s.base)
			break
		}
	}
	storeMax(&l.recoveryPoint, rp)
	if before := l.durableOffset.Load(); target > before {
		storeMax(&l.durableOffset, target)
		l.broadcastDurable()
	}
	l.releaseWaiters(l.durableOffset.Load(), nil)
	// With the waiters on their way, the flushed segments' old pages may
	// leave the page cache.
	for _, s := range segs[max(oldest, 0):] {
		s.dropBehind(l.owner.opts.PageCacheRetainBytes)
	}
	return nil
}

// DurableChanged returns a channel that is closed the next time the durable
// offset advances (or the log closes). Readers load the channel, then check
// the offset, then wait, so no advance is missed.
func (l *Log) DurableChanged() <-chan struct{} {
	for {
		if ch := l.durableCh.Load(); ch != nil {
			return *ch
		}
		ch := make(chan struct{})
		if l.durableCh.CompareAndSwap(nil, &ch) {
			return ch
		}
	}
}

func (l *Log) broadcastDurable() {
	if old := l.durableCh.Swap(nil); old != nil {
		close(*old)
	}
}

// storeMax raises v to x unless it is already higher.
func storeMax(v *atomic.Int64, x int64) {
	for {
		cur := v.Load()
		if x <= cur || v.CompareAndSwap(cur, x) {
			return
		}
	}
}

func (s *segment) isIndexSynced() bool {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	return s.indexSynced
}

// closeForShutdown makes everything durable, including the active segment's
// indexes, so the next open can trust every file without recovery.
func (l *Log) closeForShutdown() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.err(); err != nil {
		return err
	}
	act := l.active()
	if err := act.seal(); err != nil { // no appends follow; flush syncs its indexes
		return l.fail(err)
	}
	if err := act.writeIndexes(); err != nil {
		return l.fail(err)
	}
	if err := l.flush(); err != nil {
		return err
	}
	l.recoveryPoint.Store(l.logEndOffset.Load())
	l.closed.Store(true)
	l.releaseWaiters(1<<63-1, ErrClosed)
	l.broadcastDurable()
	return nil
}

func (s *segment) needsFlush() bool {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	return s.size.Load() > s.synced || (s.sealed.Load() && !s.indexSynced)
}
