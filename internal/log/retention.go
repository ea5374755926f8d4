package log

import (
	"fmt"

	"github.com/basketmq/basket/internal/record"
)

// RunRetention applies retention to every log of the Dir once and returns
// how many segments it deleted. The Dir also runs it every
// RetentionCheckInterval.
func (d *Dir) RunRetention() int {
	n := 0
	for _, l := range d.Logs() {
		k, err := l.deleteExpiredSegments()
		if err != nil {
			d.logger.Error("retention", "partition", l.tp.String(), "err", err)
		}
		n += k
	}
	return n
}

// deleteExpiredSegments deletes, oldest first, the segments that are wholly
// below the log start offset, whose newest timestamp is older than
// retention.ms, or that take the log over retention.bytes. The active
// segment is never deleted. Deletion renames the files at once and removes
// them after file.delete.delay.ms; the log start offset moves to the first
// remaining segment.
func (l *Log) deleteExpiredSegments() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.err(); err != nil {
		return 0, err
	}
	cfg := l.cfg.Load()
	now := l.owner.clock.Now().UnixMilli()
	segs := *l.segs.Load()
	total := l.Size()
	start := l.logStartOffset.Load()
	n := 0
	for ; n < len(segs)-1; n++ {
		s := segs[n]
		ts := s.maxTimestamp.Load()
		if ts == record.NoTimestamp {
			ts = s.created.UnixMilli()
		}
		belowStart := segs[n+1].base <= start
		expired := cfg.RetentionMs >= 0 && now-ts > cfg.RetentionMs
		oversize := cfg.RetentionBytes >= 0 && total-s.size.Load() >= cfg.RetentionBytes
		if !belowStart && !expired && !oversize {
			break
		}
		total -= s.size.Load()
	}
	if n == 0 {
		return 0, nil
	}
	return n, l.removeSegments(n)
}

// removeSegments drops the oldest n segments; l.mu is held.
func (l *Log) removeSegments(n int) error {
	segs := *l.segs.Load()
	gone := segs[:n]
	rest := append([]*segment(nil), segs[n:]...)
	l.segs.Store(&rest)
	storeMax(&l.logStartOffset, rest[0].base)
	return l.retire(gone)
}

// retire renames deleted segments' files and schedules their removal.
func (l *Log) retire(gone []*segment) error {
	var first error
	for _, s := range gone {
		s.retired.Store(true)
		if err := s.renameDeleted(l.owner.fs); err != nil && first == nil {
			first = err
		}
	}
	l.dirDirty.Store(true)
	l.owner.flusher.request(l)
	l.owner.deleter.schedule(l.cfg.Load().FileDeleteDelayMs, gone, "")
	return first
}

// DeleteRecords advances the log start offset to offset (Kafka's
// DeleteRecords; the broker bounds it by the high watermark), persists it in
// the log-start-offset checkpoint before returning, and deletes the segments
// wholly below it. It returns the new log start offset.
func (l *Log) DeleteRecords(offset int64) (int64, error) {
	l.mu.Lock()
	if err := l.err(); err != nil {
		l.mu.Unlock()
		return 0, err
	}
	if offset < 0 || offset > l.logEndOffset.Load() {
		l.mu.Unlock()
		return 0, fmt.Errorf("%w: cannot delete records below %d of %s, log end offset is %d", ErrOffsetOutOfRange, offset, l.tp, l.logEndOffset.Load())
	}
	storeMax(&l.logStartOffset, offset)
	l.mu.Unlock()
	if err := l.owner.Checkpoint(); err != nil {
		return 0, err
	}
	if _, err := l.deleteExpiredSegments(); err != nil {
		return 0, err
	}
	return l.logStartOffset.Load(), nil
}
