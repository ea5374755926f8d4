package log

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

// File name suffixes of a segment (docs/format/segment.md).
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	deletedSuffix   = ".deleted"
)

// segmentName is the 20-digit, zero-padded base offset that names a
// segment's files, so that names sort in offset order.
func segmentName(dir string, base int64, suffix string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, suffix))
}

// segment is one .log file of a partition with its two indexes. Batches are
// stored back to back exactly as appended. The appender (holding Log.mu)
// writes; any number of readers read concurrently, seeing only the bytes
// counted in size, which is published after the write completes.
type segment struct {
	base      int64
	dir       string
	suffix    string // ".cleaned" while the cleaner writes it, else ""
	log       vfs.File
	indexF    vfs.File
	timeF     vfs.File
	index     *offsetIndex
	timeIndex timeIndex
	txn       txnIndex // aborted transactions (txnindex.go)

	size         atomic.Int64 // bytes of whole batches; readers never look past it
	next         atomic.Int64 // offset after the last batch; base when empty
	maxTimestamp atomic.Int64 // largest batch MaxTimestamp, record.NoTimestamp when none
	// lastOffsetOfMax is the last offset of the batch carrying
	// maxTimestamp (the ListOffsets max-timestamp lookup decodes it).
	lastOffsetOfMax atomic.Int64

	// Appender-only state.
	created         time.Time // clock time of the first append, for segment.ms
	bytesSinceIndex int

	// Flusher state, guarded by flushMu.
	flushMu     sync.Mutex
	synced      int64 // bytes of the .log known durable
	sealed      atomic.Bool
	indexSynced bool  // indexes written and synced after sealing
	dropped     int64 // bytes of the .log below which the page cache was dropped
	advised     int64 // DurabilityAsync: end of the range advised once (writeback started)

	// retired is set before a deleted segment is queued for closing; a
	// flush racing with the close ignores the closed file's error.
	retired atomic.Bool
}

// createSegment makes a new empty segment with base offset base.
func createSegment(fs vfs.FS, dir string, base int64, cfg *Config) (*segment, error) {
	s := &segment{base: base, dir: dir, index: newOffsetIndex(cfg.SegmentIndexBytes)}
	if err := s.open(fs, os.O_CREATE|os.O_RDWR|os.O_TRUNC); err != nil {
		return nil, err
	}
	s.next.Store(base)
	s.maxTimestamp.Store(record.NoTimestamp)
	s.lastOffsetOfMax.Store(-1)
	return s, nil
}

func (s *segment) open(fs vfs.FS, flag int) error {
	var err error
	if s.log, err = fs.OpenFile(segmentName(s.dir, s.base, logSuffix)+s.suffix, flag, 0o644); err != nil {
		return err
	}
	if s.indexF, err = fs.OpenFile(segmentName(s.dir, s.base, indexSuffix)+s.suffix, flag|os.O_CREATE, 0o644); err != nil {
		s.log.Close()
		return err
	}
	if s.timeF, err = fs.OpenFile(segmentName(s.dir, s.base, timeIndexSuffix)+s.suffix, flag|os.O_CREATE, 0o644); err != nil {
		s.log.Close()
		s.indexF.Close()
		return err
	}
	return nil
}

// relative converts an offset in this segment to its index form.
func (s *segment) relative(offset int64) uint32 { return uint32(offset - s.base) }

// append writes one batch whose offsets are already assigned and updates the
// indexes. On error nothing becomes visible: size is unchanged and a
// partial write is overwritten by the next append or cut by recovery.
func (s *segment) append(batch []byte, h *record.Header, maxTs int64, cfg *Config) error {
	pos := s.size.Load()
	if _, err := s.log.WriteAt(batch, pos); err != nil {
		// Cut what part of the batch reached the file, so no bytes past
		// the logical end survive to a seal. If even that fails, seal
		// truncates again, and recovery would cut at the torn batch.
		s.log.Truncate(pos)
		return err
	}
	s.track(h, pos, maxTs, cfg)
	s.size.Store(pos + h.Size())
	return nil
}

// track updates the indexes and timestamps for a batch written at pos, on
// append and when recovery rebuilds a segment.
func (s *segment) track(h *record.Header, pos, maxTs int64, cfg *Config) {
	if maxTs > s.maxTimestamp.Load() {
		s.maxTimestamp.Store(maxTs)
		s.lastOffsetOfMax.Store(h.LastOffset())
	}
	if s.bytesSinceIndex >= cfg.IndexIntervalBytes {
		s.index.append(s.relative(h.LastOffset()), uint32(pos))
		s.appendTimeEntry()
		s.bytesSinceIndex = 0
	}
	s.bytesSinceIndex += int(h.Size())
	s.next.Store(h.NextOffset())
}

// appendTimeEntry adds the segment's largest timestamp so far to the time
// index, if it grew since the last entry.
func (s *segment) appendTimeEntry() {
	if ts := s.maxTimestamp.Load(); ts != record.NoTimestamp {
		s.timeIndex.maybeAppend(ts, s.relative(s.lastOffsetOfMax.Load()))
	}
}

// seal finishes the segment when the log rolls past it or recovery rebuilt
// it: the file is cut to its logical size (dropping whatever a failed write
// left), and the time index gets a final entry for the segment's largest
// timestamp — one even when no batch had a timestamp — so retention,
// timestamp lookups and the next open can trust the index alone. The caller
// writes the indexes; the flusher syncs everything.
func (s *segment) seal() error {
	if err := s.log.Truncate(s.size.Load()); err != nil {
		return err
	}
	s.appendTimeEntry()
	if _, ok := s.timeIndex.last(); !ok && s.size.Load() > 0 {
		s.timeIndex.maybeAppend(record.NoTimestamp, s.relative(s.next.Load()-1))
	}
	s.sealed.Store(true)
	return nil
}

// flush makes the segment's data durable up to its current size. For a
// sealed segment it also writes and syncs both indexes, which recovery
// trusts for segments below the recovery point.
func (s *segment) flush() error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	if err := s.flushLocked(); err != nil && !s.retired.Load() {
		return err
	}
	return nil
}

// dropAlign is the alignment of every range dropped from the page cache.
// The kernel caches file data in folios of up to 2 MiB, each aligned to its
// size, and POSIX_FADV_DONTNEED leaves alone a folio that sticks out of
// either end of the range. Ranges that start and end at arbitrary offsets
// therefore kept about a third of every segment cached: each range's end
// folio was skipped by it and by the next range. Ranges on 2 MiB
// boundaries cover whole folios.
const dropAlign = 2 << 20

// dropBoundary is the highest multiple of dropAlign at or below off.
func dropBoundary(off int64) int64 {
	if off <= 0 {
		return 0
	}
	return off &^ (dropAlign - 1)
}

// dropBehindUnsynced is dropBehind for DurabilityAsync, where data is not
// fsynced and dirty pages cannot be dropped: each call advises the bytes
// more than retain behind the end, which starts their writeback (the
// kernel writes dirty pages back on POSIX_FADV_DONTNEED without waiting),
// and advises again what the previous call advised, whose pages are clean
// by now and leave the cache. It changes nothing about durability: no sync
// is made or implied.
func (s *segment) dropBehindUnsynced(retain int64) {
	if retain < 0 {
		return
	}
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	if s.retired.Load() {
		return
	}
	d, ok := s.log.(vfs.CacheDropper)
	end := dropBoundary(s.size.Load() - retain)
	if !ok || end <= s.dropped {
		return
	}
	s.advised = max(s.advised, s.dropped) // a flush may have dropped past it
	if s.advised > s.dropped {
		_ = d.DropCache(s.dropped, s.advised-s.dropped) // advice; failure costs only memory
		s.dropped = s.advised
	}
	if end > s.advised {
		_ = d.DropCache(s.advised, end-s.advised)
		s.advised = end
	}
}

// dropBehind drops from the page cache the durable bytes more than retain
// behind the synced end that were not dropped before; retain < 0 keeps
// everything (Options.PageCacheRetainBytes).
func (s *segment) dropBehind(retain int64) {
	if retain < 0 {
		return
	}
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	if s.retired.Load() {
		return
	}
	end := dropBoundary(s.synced - retain)
	if end <= s.dropped {
		return
	}
	if d, ok := s.log.(vfs.CacheDropper); ok {
		_ = d.DropCache(s.dropped, end-s.dropped) // advice; failure costs only memory
	}
	s.dropped = end
}

func (s *segment) flushLocked() error {
	size := s.size.Load()
	sealed := s.sealed.Load()
	if size > s.synced {
		if err := s.log.Sync(); err != nil {
			return err
		}
		s.synced = size
	}
	if !sealed { // entries of markers this flush makes durable
		if err := s.syncTxn(); err != nil {
			return err
		}
	}
	if sealed && !s.indexSynced {
		if err := s.writeIndexes(); err != nil {
			return err
		}
		if err := s.indexF.Sync(); err != nil {
			return err
		}
		if err := s.timeF.Sync(); err != nil {
			return err
		}
		if err := s.syncTxn(); err != nil {
			return err
		}
		s.indexSynced = true
	}
	return nil
}

// writeIndexes brings the index files up to date with memory (no sync).
func (s *segment) writeIndexes() error {
	if err := s.index.writeTo(s.indexF); err != nil {
		return err
	}
	return s.timeIndex.writeTo(s.timeF)
}

func (s *segment) close() error {
	err := s.log.Close()
	if e := s.indexF.Close(); err == nil {
		err = e
	}
	if e := s.timeF.Close(); err == nil {
		err = e
	}
	if e := s.closeTxn(); err == nil {
		err = e
	}
	return err
}

// renameDeleted renames the segment's files to *.deleted; the files stay
// open, so readers holding a Region keep reading until they are closed.
func (s *segment) renameDeleted(fs vfs.FS) error {
	var first error
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
		from := segmentName(s.dir, s.base, suf)
		if err := fs.Rename(from, from+deletedSuffix); err != nil && first == nil && !os.IsNotExist(err) {
			first = err
		}
	}
	return first
}

// removeDeleted closes the files and removes the *.deleted names.
func (s *segment) removeDeleted(fs vfs.FS) error {
	err := s.close()
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
		if e := fs.Remove(segmentName(s.dir, s.base, suf) + deletedSuffix); e != nil && err == nil && !os.IsNotExist(e) {
			err = e
		}
	}
	return err
}
