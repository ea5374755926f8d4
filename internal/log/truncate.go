package log

import (
	"fmt"

	"github.com/basketmq/basket/internal/record"
)

// TruncateTo removes every batch whose last offset is >= offset, so the log
// ends at offset, or below it when offset falls inside a batch (the whole
// batch goes). Followers use it to cut a divergent tail. An offset at or
// beyond the log end offset changes nothing; one below the log start offset
// empties the log, as TruncateFullyAndStartAt(offset).
func (l *Log) TruncateTo(offset int64) error {
	if offset < l.LogStartOffset() {
		return l.TruncateFullyAndStartAt(offset)
	}
	truncated, err := l.truncateTo(offset)
	if err != nil || !truncated {
		return err
	}
	// The recovery point may have moved down: write it before anything
	// appended after the cut can be trusted without a scan.
	return l.owner.Checkpoint()
}

func (l *Log) truncateTo(offset int64) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.err(); err != nil {
		return false, err
	}
	if offset >= l.logEndOffset.Load() {
		return false, nil
	}
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.cleanGen.Add(1)

	segs := *l.segs.Load()
	keep := len(segs)
	for keep > 1 && segs[keep-1].base > offset {
		keep--
	}
	s := segs[keep-1]
	if err := s.truncateTo(offset, l.cfg.Load()); err != nil {
		return false, l.fail(err)
	}
	if keep < len(segs) {
		rest := append([]*segment(nil), segs[:keep]...)
		l.segs.Store(&rest)
		if err := l.retire(segs[keep:]); err != nil {
			return false, l.fail(err)
		}
	}
	s.sealed.Store(false)
	s.flushMu.Lock()
	s.indexSynced = false
	s.flushMu.Unlock()
	// Make the cut durable before returning: after a power loss the removed
	// batches must not come back (a follower truncates a divergent tail).
	for _, f := range []interface{ Sync() error }{s.log, s.indexF, s.timeF} {
		if err := f.Sync(); err != nil {
			return false, l.fail(err)
		}
	}
	if err := s.syncTxn(); err != nil {
		return false, l.fail(err)
	}
	if keep < len(segs) {
		l.dirDirty.Store(false)
		if err := l.owner.fs.SyncDir(l.path); err != nil {
			return false, l.fail(err)
		}
	}
	end := s.next.Load()
	l.logEndOffset.Store(end)
	lowerTo(&l.durableOffset, end)
	lowerTo(&l.recoveryPoint, end)
	return true, nil
}

func lowerTo(v interface {
	Load() int64
	Store(int64)
}, x int64) {
	if v.Load() > x {
		v.Store(x)
	}
}

// truncateTo cuts the segment before the first batch whose last offset is
// >= offset and recomputes what the appender tracks.
func (s *segment) truncateTo(offset int64, cfg *Config) error {
	size := s.size.Load()
	r := getHeaderReader()
	defer putHeaderReader(r)
	r.reset(s.log)
	pos, h, ok, err := s.findBatch(r, offset, size)
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	if err := s.log.Truncate(pos); err != nil {
		return err
	}
	s.index.truncateToPosition(uint32(pos))
	s.timeIndex.truncateToRel(s.relative(h.BaseOffset))
	if err := s.truncateIndexFiles(); err != nil {
		return err
	}
	if err := s.truncateTxn(h.BaseOffset); err != nil {
		return err
	}
	s.size.Store(pos)
	s.flushMu.Lock()
	s.synced = min(s.synced, pos)
	s.flushMu.Unlock()

	// Rebuild the tracked state from the last index entry to the new end.
	var from int64
	s.bytesSinceIndex = 0
	if e, ok := s.index.last(); ok {
		from = int64(e.pos)
	}
	s.maxTimestamp.Store(record.NoTimestamp)
	s.lastOffsetOfMax.Store(-1)
	if e, ok := s.timeIndex.last(); ok {
		s.maxTimestamp.Store(e.ts)
		s.lastOffsetOfMax.Store(s.base + int64(e.rel))
	}
	next := s.base
	for p := from; p < pos; {
		bh, err := r.header(p, pos)
		if err != nil {
			return fmt.Errorf("segment %d: %w", s.base, err)
		}
		if bh.MaxTimestamp > s.maxTimestamp.Load() {
			s.maxTimestamp.Store(bh.MaxTimestamp)
			s.lastOffsetOfMax.Store(bh.LastOffset())
		}
		next = bh.NextOffset()
		p += bh.Size()
	}
	if from > 0 || pos > 0 {
		s.bytesSinceIndex = int(pos - from)
	}
	if pos == 0 {
		next = s.base
	}
	s.next.Store(next)
	return nil
}

// truncateIndexFiles cuts both index files to the entries still written, so
// no entry of a truncated batch survives in a file.
func (s *segment) truncateIndexFiles() error {
	s.index.mu.RLock()
	n := s.index.written
	s.index.mu.RUnlock()
	if err := s.indexF.Truncate(int64(n) * indexEntrySize); err != nil {
		return err
	}
	s.timeIndex.mu.RLock()
	n = s.timeIndex.written
	s.timeIndex.mu.RUnlock()
	return s.timeF.Truncate(int64(n) * timeEntrySize)
}

// TruncateFullyAndStartAt deletes every segment and starts the log empty at
// offset: log start and log end offset both become offset. Followers use it
// when the leader's log starts past their end.
func (l *Log) TruncateFullyAndStartAt(offset int64) error {
	if offset < 0 {
		return fmt.Errorf("%w: negative start offset %d", ErrOffsetOutOfRange, offset)
	}
	l.mu.Lock()
	if err := l.err(); err != nil {
		l.mu.Unlock()
		return err
	}
	l.flushMu.Lock()
	l.cleanGen.Add(1)
	old := *l.segs.Load()
	for _, s := range old {
		s.retired.Store(true)
		if err := s.renameDeleted(l.owner.fs); err != nil {
			l.flushMu.Unlock()
			l.mu.Unlock()
			return l.fail(err)
		}
	}
	cfg := l.cfg.Load()
	seg, err := createSegment(l.owner.fs, l.path, offset, cfg)
	if err != nil {
		l.flushMu.Unlock()
		l.mu.Unlock()
		return l.fail(err)
	}
	l.segs.Store(&[]*segment{seg})
	l.logStartOffset.Store(offset)
	l.logEndOffset.Store(offset)
	l.durableOffset.Store(offset)
	l.recoveryPoint.Store(offset)
	l.dirDirty.Store(true)
	l.owner.deleter.schedule(cfg.FileDeleteDelayMs, old, "")
	l.flushMu.Unlock()
	l.mu.Unlock()
	l.owner.flusher.request(l)
	return l.owner.Checkpoint()
}
