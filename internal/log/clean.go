package log

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

// What the log offers the cleaner (package cleaner): a view of its
// segments, a way to write a replacement segment under a temporary name,
// and the atomic swap of that segment for the ones it replaces. The swap
// protocol and its recovery, the aborted-transaction index included, are
// documented in docs/format/compaction.md.

// File name suffixes of a segment being replaced by the cleaner.
const (
	cleanedSuffix = ".cleaned" // being written; removed at startup
	swapSuffix    = ".swap"    // complete and committed; finished at startup
)

// ErrCleaningAborted is returned by ReplaceSegments when the log changed
// since the segments were read (truncated, segments deleted, closed): the
// cleaned segment is discarded and nothing is swapped.
var ErrCleaningAborted = errors.New("cleaning aborted: the log changed")

// SegmentInfo is a read-only view of one segment, for the cleaner. The
// values are a snapshot; the segment's file may be read with ReadAt until
// the segment is deleted (and for file.delete.delay.ms after).
type SegmentInfo struct {
	BaseOffset int64
	// NextOffset is the offset after the segment's last batch; BaseOffset
	// when it is empty.
	NextOffset int64
	// Size is the number of bytes of whole batches.
	Size int64
	// MaxTimestamp is the largest batch timestamp, record.NoTimestamp
	// when none.
	MaxTimestamp int64
	// IndexEntries is the number of offset-index entries.
	IndexEntries int

	seg *segment
}

// ReadAt reads the segment's bytes at pos, never past Size.
func (s SegmentInfo) ReadAt(p []byte, pos int64) (int, error) {
	if rest := s.Size - pos; int64(len(p)) > rest {
		p = p[:max(rest, 0)]
	}
	return s.seg.log.ReadAt(p, pos)
}

// FirstBatchTimestamp is the MaxTimestamp of the segment's first batch
// (Kafka's first-batch timestamp for max.compaction.lag.ms), or
// record.NoTimestamp for an empty segment or an unreadable header.
func (s SegmentInfo) FirstBatchTimestamp() int64 {
	if s.Size < record.HeaderSize {
		return record.NoTimestamp
	}
	r := getHeaderReader()
	defer putHeaderReader(r)
	r.reset(s.seg.log)
	h, err := r.header(0, s.Size)
	if err != nil {
		return record.NoTimestamp
	}
	return h.MaxTimestamp
}

// Segments returns every segment, oldest first; the last is the active
// segment, which the cleaner never touches.
func (l *Log) Segments() []SegmentInfo {
	segs := *l.segs.Load()
	out := make([]SegmentInfo, len(segs))
	for i, s := range segs {
		s.index.mu.RLock()
		n := len(s.index.entries)
		s.index.mu.RUnlock()
		out[i] = SegmentInfo{BaseOffset: s.base, NextOffset: s.next.Load(), Size: s.size.Load(),
			MaxTimestamp: s.maxTimestamp.Load(), IndexEntries: n, seg: s}
	}
	return out
}

// CleanGeneration changes whenever the log is truncated. The cleaner reads
// it before it reads the segments and hands it to ReplaceSegments.
func (l *Log) CleanGeneration() int64 { return l.cleanGen.Load() }

// CleanedSegment is a segment the cleaner writes under the temporary names
// <base>.log.cleaned, .index.cleaned, .timeindex.cleaned and, when it gets
// an aborted transaction, .txnindex.cleaned until ReplaceSegments swaps it
// in. It is owned by one goroutine.
type CleanedSegment struct {
	l    *Log
	seg  *segment
	cfg  Config
	done bool
	// Batches are written in chunks of cleanedWriteBytes: buf holds those
	// not yet written, from file position bufPos.
	buf    []byte
	bufPos int64
}

const cleanedWriteBytes = 1 << 20

var cleanedBufs = sync.Pool{New: func() any { b := make([]byte, 0, cleanedWriteBytes); return &b }}

// CreateCleanedSegment starts a replacement segment with base offset base
// (the base offset of the first segment it will replace).
func (l *Log) CreateCleanedSegment(base int64) (*CleanedSegment, error) {
	if err := l.err(); err != nil {
		return nil, err
	}
	cfg := l.Config()
	s := &segment{base: base, dir: l.path, suffix: cleanedSuffix, index: newOffsetIndex(cfg.SegmentIndexBytes)}
	if err := s.open(l.owner.fs, os.O_CREATE|os.O_RDWR|os.O_TRUNC); err != nil {
		return nil, err
	}
	s.next.Store(base)
	s.maxTimestamp.Store(record.NoTimestamp)
	s.lastOffsetOfMax.Store(-1)
	return &CleanedSegment{l: l, seg: s, cfg: cfg}, nil
}

// Append writes one whole batch, whose offsets must follow the previous
// batch's and lie within 2^31-1 of the segment's base offset.
func (c *CleanedSegment) Append(batch []byte) error {
	h, err := record.ParseHeader(batch)
	if err != nil {
		return err
	}
	switch {
	case h.Size() != int64(len(batch)):
		return fmt.Errorf("%w: cleaned batch of %d bytes says %d", record.ErrCorrupt, len(batch), h.Size())
	case h.BaseOffset < c.seg.next.Load():
		return fmt.Errorf("cleaned batch at offset %d goes back before %d", h.BaseOffset, c.seg.next.Load())
	case h.LastOffset()-c.seg.base > int64(^uint32(0)>>1):
		return fmt.Errorf("cleaned batch at offset %d is beyond the range of segment %d", h.LastOffset(), c.seg.base)
	}
	if len(c.buf)+len(batch) > cap(c.buf) {
		if err := c.write(); err != nil {
			return err
		}
		if c.buf == nil {
			c.buf = (*cleanedBufs.Get().(*[]byte))[:0]
		}
	}
	pos := c.seg.size.Load()
	c.buf = append(c.buf, batch...)
	c.seg.track(&h, pos, h.MaxTimestamp, &c.cfg)
	c.seg.size.Store(pos + h.Size())
	if len(c.buf) >= cleanedWriteBytes {
		return c.write()
	}
	return nil
}

// write writes out the buffered batches.
func (c *CleanedSegment) write() error {
	if len(c.buf) == 0 {
		return nil
	}
	if _, err := c.seg.log.WriteAt(c.buf, c.bufPos); err != nil {
		return err
	}
	// Start writing the chunk to the device now: by the time seal syncs
	// the file, most of it is there.
	if w, ok := c.seg.log.(vfs.WritebackStarter); ok {
		_ = w.StartWriteback(c.bufPos, int64(len(c.buf))) // advice
	}
	c.bufPos += int64(len(c.buf))
	c.buf = c.buf[:0]
	return nil
}

// AppendAbortedTxn adds an entry to the cleaned segment's
// aborted-transaction index (written as <base>.txnindex.cleaned and swapped
// in with the segment): the ABORT marker at a.LastOffset must already be
// appended, and entries must come in marker order.
func (c *CleanedSegment) AppendAbortedTxn(a AbortedTxn) error {
	s := c.seg
	prev := int64(-1)
	s.txn.mu.RLock()
	if n := len(s.txn.entries); n > 0 {
		prev = s.txn.entries[n-1].LastOffset
	}
	s.txn.mu.RUnlock()
	if a.LastOffset < s.base || a.LastOffset >= s.next.Load() || a.LastOffset <= prev ||
		a.FirstOffset > a.LastOffset || a.ProducerID < 0 {
		return fmt.Errorf("cleaned segment %d: aborted transaction %+v is out of place", s.base, a)
	}
	_, err := s.appendTxn(c.l.owner.fs, a)
	return err
}

// Size is the bytes written so far.
func (c *CleanedSegment) Size() int64 { return c.seg.size.Load() }

// IndexEntries is the number of offset-index entries so far.
func (c *CleanedSegment) IndexEntries() int {
	c.seg.index.mu.RLock()
	defer c.seg.index.mu.RUnlock()
	return len(c.seg.index.entries)
}

// NextOffset is the offset after the last batch written.
func (c *CleanedSegment) NextOffset() int64 { return c.seg.next.Load() }

// Abort closes and removes the cleaned files. It is a no-op once
// ReplaceSegments has used the segment.
func (c *CleanedSegment) Abort() {
	if c.done {
		return
	}
	c.done = true
	c.seg.close()
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
		c.l.owner.fs.Remove(segmentName(c.seg.dir, c.seg.base, suf) + c.seg.suffix)
	}
}

// Replacement is one cleaned segment and the run of consecutive segments
// it replaces; its base offset is the first old segment's.
type Replacement struct {
	Cleaned *CleanedSegment
	Old     []SegmentInfo
}

// ReplaceSegments swaps each cleaned segment in for its old segments, which
// must all still be in the log, unchanged, as of generation gen; otherwise
// it aborts every cleaned segment and returns ErrCleaningAborted. The
// cleaned files are synced (in parallel), renamed to .swap (the commit
// point, one directory sync for all: from here a crash completes the swaps
// at startup), the old segments are renamed to .deleted and removed after
// file.delete.delay.ms, and the .swap files take the normal names. A
// failure after the commit point puts the log in the failed state;
// reopening finishes the swaps.
//
// Readers holding a Region of an old segment keep reading it; readers
// starting afterwards see the new segments.
func (l *Log) ReplaceSegments(reps []Replacement, gen int64) error {
	abort := func() {
		for _, r := range reps {
			r.Cleaned.Abort()
		}
	}
	for _, r := range reps {
		if r.Cleaned.done || len(r.Old) == 0 || r.Old[0].BaseOffset != r.Cleaned.seg.base {
			abort()
			return fmt.Errorf("log %s: bad cleaned segment replacement", l.tp)
		}
	}
	if err := sealCleaned(reps); err != nil {
		abort()
		return fmt.Errorf("log %s: sealing cleaned segments: %w", l.tp, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	firsts := make([]int, len(reps))
	for i, r := range reps {
		first, ok := l.stillHas(r.Old, gen)
		if !ok {
			abort()
			return ErrCleaningAborted
		}
		firsts[i] = first
	}
	fs := l.owner.fs
	failed := func(err error) error {
		for _, r := range reps {
			r.Cleaned.done = true
			r.Cleaned.seg.close()
		}
		return l.fail(fmt.Errorf("cleaner swap: %w", err))
	}
	rename := func(from, to string) error {
		for _, r := range reps {
			s := r.Cleaned.seg
			sufs := []string{indexSuffix, timeIndexSuffix, logSuffix} // the log file last
			if s.hasTxnFile() {
				sufs = []string{indexSuffix, timeIndexSuffix, txnIndexSuffix, logSuffix}
			}
			for _, suf := range sufs {
				name := segmentName(s.dir, s.base, suf)
				if err := fs.Rename(name+from, name+to); err != nil {
					return err
				}
			}
		}
		return fs.SyncDir(l.path)
	}
	// Commit: .cleaned -> .swap.
	if err := rename(cleanedSuffix, swapSuffix); err != nil {
		return failed(err)
	}
	segs := *l.segs.Load()
	var gone []*segment
	for i, r := range reps {
		for _, g := range segs[firsts[i] : firsts[i]+len(r.Old)] {
			g.retired.Store(true)
			if err := g.renameDeleted(fs); err != nil {
				return failed(err)
			}
			gone = append(gone, g)
		}
	}
	if err := fs.SyncDir(l.path); err != nil {
		return failed(err)
	}
	if err := rename(swapSuffix, ""); err != nil {
		return failed(err)
	}
	next := make([]*segment, 0, len(segs))
	at := 0
	for i, r := range reps {
		next = append(next, segs[at:firsts[i]]...)
		r.Cleaned.done = true
		r.Cleaned.seg.suffix = ""
		next = append(next, r.Cleaned.seg)
		at = firsts[i] + len(r.Old)
	}
	next = append(next, segs[at:]...)
	l.segs.Store(&next)
	l.owner.deleter.schedule(l.cfg.Load().FileDeleteDelayMs, gone, "")
	return nil
}

// sealCleaned seals the cleaned segments and syncs their files, all in
// parallel.
func sealCleaned(reps []Replacement) error {
	errs := make([]error, len(reps))
	var wg sync.WaitGroup
	for i, r := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.Cleaned.seal()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// stillHas reports whether old is a run of the current segments, unchanged
// since generation gen, and where it starts. l.mu is held.
func (l *Log) stillHas(old []SegmentInfo, gen int64) (int, bool) {
	if l.err() != nil || l.cleanGen.Load() != gen || len(old) == 0 {
		return 0, false
	}
	segs := *l.segs.Load()
	for i, s := range segs {
		if s != old[0].seg {
			continue
		}
		if i+len(old) >= len(segs) { // never the active segment
			return 0, false
		}
		for j, o := range old {
			cur := segs[i+j]
			if cur != o.seg || cur.size.Load() != o.Size || !cur.sealed.Load() {
				return 0, false
			}
		}
		return i, true
	}
	return 0, false
}

// seal finishes the cleaned segment and makes its three files durable.
func (c *CleanedSegment) seal() error {
	s := c.seg
	if err := c.write(); err != nil {
		return err
	}
	if cap(c.buf) == cleanedWriteBytes {
		b := c.buf[:0]
		cleanedBufs.Put(&b)
	}
	c.buf = nil
	if err := s.seal(); err != nil {
		return err
	}
	if err := s.writeIndexes(); err != nil {
		return err
	}
	files := []interface{ Sync() error }{s.log, s.indexF, s.timeF}
	if s.hasTxnFile() {
		files = append(files, syncFunc(s.syncTxn))
	}
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.Sync()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.flushMu.Lock()
	s.synced, s.indexSynced = s.size.Load(), true
	s.flushMu.Unlock()
	s.created = s.firstBatchTime(c.l.owner.clock.Now(), s.size.Load())
	return nil
}

// syncFunc makes a func a Sync() error.
type syncFunc func() error

func (f syncFunc) Sync() error { return f() }

// FilePath is the segment's .log file.
func (s SegmentInfo) FilePath() string { return segmentName(s.seg.dir, s.seg.base, logSuffix) }
