package log

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/basketmq/basket/internal/record"
)

// load opens every partition directory, several at a time. After a clean
// shutdown every file is trusted (indexes are still sanity-checked); after a
// crash each partition is recovered from its checkpointed recovery point.
func (d *Dir) load() error {
	_, err := d.fs.Stat(filepath.Join(d.path, cleanShutdownFile))
	d.cleanShutdown = err == nil
	rps, err := readCheckpoint(d.fs, d.path, recoveryPointFile)
	if err != nil && !isNotExist(err) {
		d.logger.Warn("ignoring unreadable recovery-point checkpoint; recovering every partition in full", "dir", d.path, "err", err)
	}
	starts, err := readCheckpoint(d.fs, d.path, logStartOffsetFile)
	if err != nil && !isNotExist(err) {
		d.logger.Warn("ignoring unreadable log-start-offset checkpoint", "dir", d.path, "err", err)
	}
	entries, err := d.fs.ReadDir(d.path)
	if err != nil {
		return fmt.Errorf("log dir %s: %w", d.path, err)
	}
	var tps []TopicPartition
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir() && strings.HasSuffix(name, "-delete"):
			if err := d.fs.RemoveAll(filepath.Join(d.path, name)); err != nil {
				return err
			}
		case e.IsDir():
			if tp, ok := parsePartitionDir(name); ok {
				tps = append(tps, tp)
			}
		case strings.HasSuffix(name, ".tmp"):
			d.fs.Remove(filepath.Join(d.path, name))
		}
	}

	start := time.Now()
	work := make(chan TopicPartition)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range min(d.opts.RecoveryThreads, max(len(tps), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tp := range work {
				rp, hasRP := rps[tp]
				l, err := d.openLog(tp, d.cleanShutdown && hasRP, rp, hasRP, starts[tp])
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("partition %s: %w", tp, err))
				} else {
					d.logs[tp] = l
				}
				mu.Unlock()
			}
		}()
	}
	for _, tp := range tps {
		work <- tp
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	d.logger.Info("log dir loaded", "dir", d.path, "partitions", len(tps), "clean_shutdown", d.cleanShutdown, "took", time.Since(start))
	if d.cleanShutdown {
		// From here on a crash must be seen as unclean.
		if err := d.fs.Remove(filepath.Join(d.path, cleanShutdownFile)); err != nil {
			return err
		}
		return d.fs.SyncDir(d.path)
	}
	return nil
}

// openLog loads one partition. clean means the files can be trusted without
// scanning; otherwise segments from the one holding recoveryPoint onward are
// scanned batch by batch, and the log is cut at the first bad batch.
func (d *Dir) openLog(tp TopicPartition, clean bool, recoveryPoint int64, hasRP bool, logStart int64) (*Log, error) {
	cfg := d.opts.Config(tp)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	path := filepath.Join(d.path, tp.String())
	l := d.newLog(tp, path, cfg)
	bases, err := d.listSegments(path)
	if err != nil {
		return nil, err
	}
	var segs []*segment
	closeAll := func() {
		for _, s := range segs {
			s.close()
		}
	}
	for _, base := range bases {
		s := &segment{base: base, dir: path, index: newOffsetIndex(cfg.SegmentIndexBytes)}
		if err := s.open(d.fs, os.O_RDWR); err != nil {
			closeAll()
			return nil, err
		}
		s.maxTimestamp.Store(record.NoTimestamp)
		s.lastOffsetOfMax.Store(-1)
		segs = append(segs, s)
	}
	if len(segs) == 0 {
		s, err := createSegment(d.fs, path, logStart, &cfg)
		if err != nil {
			return nil, err
		}
		segs = append(segs, s)
		l.dirDirty.Store(true)
	}

	recoverFrom := len(segs)
	if !clean {
		recoverFrom = 0
		if hasRP {
			recoverFrom = max(sort.Search(len(segs), func(i int) bool { return segs[i].base > recoveryPoint })-1, 0)
		}
	}
	for i, s := range segs {
		if i >= recoverFrom {
			break
		}
		if err := s.load(d.clock.Now(), &cfg); err != nil {
			d.logger.Warn("segment files do not match; recovering from here", "partition", tp.String(), "base", s.base, "err", err)
			recoverFrom = i
		}
	}
	for i := recoverFrom; i < len(segs); i++ {
		s := segs[i]
		cut, err := s.recover(d.clock.Now(), &cfg)
		if err != nil {
			closeAll()
			return nil, err
		}
		next := segs[min(i+1, len(segs)-1)]
		if i+1 < len(segs) && next.base < s.next.Load() {
			cut = fmt.Errorf("segment %d overlaps the one before", next.base)
		}
		if cut == nil {
			continue
		}
		d.logger.Warn("log truncated at the first bad batch", "partition", tp.String(), "segment", s.base, "position", s.size.Load(), "reason", cut)
		for _, later := range segs[i+1:] {
			later.close()
			for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
				d.fs.Remove(segmentName(path, later.base, suf))
			}
		}
		segs = segs[:i+1]
		l.dirDirty.Store(true)
		break
	}
	for i, s := range segs {
		last := i == len(segs)-1
		switch {
		case i < recoverFrom && !last: // trusted, sealed, synced
			s.sealed.Store(true)
			s.synced, s.indexSynced = s.size.Load(), true
		case i < recoverFrom: // trusted active segment
			s.synced = s.size.Load()
		case !last: // recovered: seal again so its files are complete
			if err := s.seal(); err != nil {
				closeAll()
				return nil, err
			}
			if err := s.writeIndexes(); err != nil {
				closeAll()
				return nil, err
			}
		}
	}
	l.segs.Store(&segs)
	last := segs[len(segs)-1]
	l.logEndOffset.Store(last.next.Load())
	l.logStartOffset.Store(min(max(logStart, segs[0].base), l.logEndOffset.Load()))
	if err := d.loadTxnIndexes(l, segs, recoverFrom, recoveryPoint, hasRP); err != nil {
		closeAll()
		return nil, err
	}
	if err := l.flush(); err != nil { // recovered bytes become durable here
		closeAll()
		return nil, err
	}
	return l, nil
}

// listSegments returns the base offsets of the .log files in path, after
// finishing any committed cleaner swap (completeSwaps), removing leftovers:
// *.deleted, *.tmp and *.cleaned files, and indexes without a segment.
func (d *Dir) listSegments(path string) ([]int64, error) {
	if err := d.completeSwaps(path); err != nil {
		return nil, err
	}
	entries, err := d.fs.ReadDir(path)
	if err != nil {
		return nil, err
	}
	logs := map[int64]bool{}
	var indexes []string
	for _, e := range entries {
		name := e.Name()
		full := filepath.Join(path, name)
		switch {
		case strings.HasSuffix(name, deletedSuffix), strings.HasSuffix(name, ".tmp"),
			strings.HasSuffix(name, ".cleaned"), strings.HasSuffix(name, ".swap"):
			if err := d.fs.Remove(full); err != nil {
				return nil, err
			}
		case strings.HasSuffix(name, logSuffix):
			if base, ok := parseBase(name, logSuffix); ok {
				logs[base] = true
			}
		case strings.HasSuffix(name, indexSuffix), strings.HasSuffix(name, timeIndexSuffix), strings.HasSuffix(name, txnIndexSuffix):
			indexes = append(indexes, name)
		}
	}
	for _, name := range indexes {
		base, ok := parseBase(name, filepath.Ext(name))
		if !ok || !logs[base] {
			d.fs.Remove(filepath.Join(path, name))
		}
	}
	bases := make([]int64, 0, len(logs))
	for b := range logs {
		bases = append(bases, b)
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	return bases, nil
}

func parseBase(name, suffix string) (int64, bool) {
	s := strings.TrimSuffix(name, suffix)
	if len(s) != 20 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	b, err := strconv.ParseInt(s, 10, 64)
	return b, err == nil && b >= 0
}

var errUntrusted = errors.New("segment needs recovery")

// load opens a segment below the recovery point without reading its data:
// the indexes are checked against the file, the batches after the last
// index entry are walked to find the end, and any mismatch returns an error
// so the caller recovers the segment instead.
func (s *segment) load(now time.Time, cfg *Config) error {
	size, err := s.log.Size()
	if err != nil {
		return err
	}
	if err := s.index.load(s.indexF, size); err != nil {
		return err
	}
	r := getHeaderReader()
	defer putHeaderReader(r)
	r.reset(s.log)
	var pos int64
	if e, ok := s.index.last(); ok {
		pos = int64(e.pos)
	}
	next := s.base
	for pos < size {
		h, err := r.header(pos, size)
		if err != nil {
			return fmt.Errorf("%w: %w", errUntrusted, err)
		}
		if h.BaseOffset < next {
			return fmt.Errorf("%w: batch at %d goes back to offset %d", errUntrusted, pos, h.BaseOffset)
		}
		next = h.NextOffset()
		pos += h.Size()
	}
	if err := s.timeIndex.load(s.timeF, next-1-s.base); err != nil {
		return err
	}
	if e, ok := s.timeIndex.last(); ok {
		s.maxTimestamp.Store(e.ts)
		s.lastOffsetOfMax.Store(s.base + int64(e.rel))
	} else if size > 0 {
		return fmt.Errorf("%w: no time index entry for a non-empty segment", errUntrusted)
	}
	s.size.Store(size)
	s.next.Store(next)
	if e, ok := s.index.last(); ok {
		s.bytesSinceIndex = int(size - int64(e.pos))
	} else {
		s.bytesSinceIndex = int(size)
	}
	s.created = s.firstBatchTime(now, size)
	return nil
}

// firstBatchTime is the age reference for segment.ms of a loaded segment:
// its first batch's timestamp when plausible, else now.
func (s *segment) firstBatchTime(now time.Time, size int64) time.Time {
	if size < record.HeaderSize {
		return now
	}
	r := getHeaderReader()
	defer putHeaderReader(r)
	r.reset(s.log)
	h, err := r.header(0, size)
	if err != nil || h.MaxTimestamp <= 0 || h.MaxTimestamp > now.UnixMilli() {
		return now
	}
	return time.UnixMilli(h.MaxTimestamp)
}

const recoveryReadSize = 1 << 20

// recover scans the whole segment, validating every batch (CRC included),
// rebuilds both indexes, and truncates the file at the first batch that is
// torn, corrupt or out of order. It returns a non-nil cut reason when it
// truncated; err is for I/O failures.
func (s *segment) recover(now time.Time, cfg *Config) (cut error, err error) {
	size, err := s.log.Size()
	if err != nil {
		return nil, err
	}
	s.index.reset()
	s.timeIndex.reset()
	s.maxTimestamp.Store(record.NoTimestamp)
	s.lastOffsetOfMax.Store(-1)
	s.bytesSinceIndex = 0
	s.next.Store(s.base)
	buf := make([]byte, min(recoveryReadSize, max(size, record.HeaderSize)))
	var bufStart, bufLen int64
	var pos int64
	next := s.base
	for pos < size {
		if pos+record.HeaderSize > size {
			cut = fmt.Errorf("%d bytes at the end are less than a batch header", size-pos)
			break
		}
		if pos+record.HeaderSize > bufStart+bufLen {
			if bufLen, err = readFull(s, buf, pos, size); err != nil {
				return nil, err
			}
			bufStart = pos
		}
		h, perr := record.ParseHeader(buf[pos-bufStart : bufLen])
		if perr != nil {
			cut = perr
			break
		}
		if h.Size() > size-pos {
			cut = fmt.Errorf("batch at %d claims %d bytes, only %d remain", pos, h.Size(), size-pos)
			break
		}
		var batch []byte
		switch {
		case pos+h.Size() <= bufStart+bufLen:
			batch = buf[pos-bufStart : pos-bufStart+h.Size()]
		case h.Size() <= int64(len(buf)):
			if bufLen, err = readFull(s, buf, pos, size); err != nil {
				return nil, err
			}
			bufStart = pos
			batch = buf[:h.Size()]
		default:
			batch = make([]byte, h.Size())
			if _, err := readFull(s, batch, pos, size); err != nil {
				return nil, err
			}
		}
		if _, verr := record.Validate(batch); verr != nil {
			cut = fmt.Errorf("batch at %d: %w", pos, verr)
			break
		}
		if h.BaseOffset < next {
			cut = fmt.Errorf("batch at %d has offset %d, below the expected %d", pos, h.BaseOffset, next)
			break
		}
		if h.LastOffset()-s.base > int64(^uint32(0)>>1) {
			cut = fmt.Errorf("batch at %d has offset %d, beyond the segment's range", pos, h.LastOffset())
			break
		}
		s.track(&h, pos, h.MaxTimestamp, cfg)
		next = h.NextOffset()
		pos += h.Size()
	}
	if cut != nil {
		if err := s.log.Truncate(pos); err != nil {
			return nil, err
		}
	}
	s.size.Store(pos)
	s.created = s.firstBatchTime(now, pos)
	// Rewrite both index files from scratch.
	if err := s.indexF.Truncate(0); err != nil {
		return nil, err
	}
	if err := s.timeF.Truncate(0); err != nil {
		return nil, err
	}
	return cut, s.writeIndexes()
}

// readFull reads into buf from pos, stopping at size; it returns how many
// bytes it read.
func readFull(s *segment, buf []byte, pos, size int64) (int64, error) {
	n := min(int64(len(buf)), size-pos)
	m, err := s.log.ReadAt(buf[:n], pos)
	if int64(m) == n {
		return n, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return int64(m), fmt.Errorf("segment %d: read at %d: %w", s.base, pos, err)
}
