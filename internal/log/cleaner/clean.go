package cleaner

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
)

// worker is one cleaner's private state: its share of the dedupe buffer,
// its read buffer, a record decoder and scratch space for rewritten
// batches.
type worker struct {
	budget int64 // this worker's share of the dedupe buffer for map and cache
	m      *offsetMap
	live   liveTracker // live.go
	// arena holds dirty segments read by the map pass (cache.go).
	arena  []byte
	used   int64
	cached map[int64]cachedSegment
	buf    []byte
	dec    record.Decoder
	kept   []record.RecordKey
	recs   []record.Record
	hdrs   []record.RecordHeader
	out2   []byte // a rewritten batch
}

func (c *Cleaner) newWorker() *worker {
	share := c.opts.DedupeBufferSize / int64(c.opts.Threads)
	budget := share - share/liveShare
	w := &worker{budget: budget, m: newOffsetMap(budget), buf: make([]byte, c.opts.ReadBufferSize),
		live: liveTracker{max: int(share / liveShare / bytesPerLive)}}
	w.m.beforeGrow = w.beforeGrow
	return w
}

// round is the state of one clean of one log.
type round struct {
	c      *Cleaner
	w      *worker
	t      *logToClean
	cfg    log.Config
	now    int64 // Unix ms, for delete horizons
	latest int64 // the last offset the map covers
	stats  Stats
	// mapTxn and txn follow transactions through the map pass and the
	// recopy; index is the aborted-transaction entry to keep with the
	// marker filter just let through.
	mapTxn, txn txnTracker
	index       *log.AbortedTxn
}

// cleanLog runs one clean of t (Kafka's Cleaner.doClean): map the dirty
// section, possibly only its start if the map fills, then recopy every
// segment below the mapped end, group by group, keeping for each key only
// its latest record, and move the checkpoint to the mapped end.
func (c *Cleaner) cleanLog(w *worker, t logToClean) error {
	defer c.release(t.tp)
	began := c.clock.Now()
	r := &round{c: c, w: w, t: &t, cfg: t.l.Config(), now: began.UnixMilli(), latest: t.firstDirty - 1}
	r.stats.DirtyRatio = t.ratio()
	err := r.run()
	if err != nil && !errors.Is(err, log.ErrCleaningAborted) && t.l.CleanGeneration() != t.gen {
		// The log was truncated under the clean, which may have read bytes
		// that changed: not a fault of the log.
		err = fmt.Errorf("%w: %v", log.ErrCleaningAborted, err)
	}
	switch {
	case err == nil:
	case errors.Is(err, log.ErrCleaningAborted), errors.Is(err, errClosed):
		c.logger.Debug("log cleaning aborted", "partition", t.tp.String(), "reason", err)
		return err
	case errors.Is(err, record.ErrCorrupt), errors.Is(err, record.ErrInvalidRecord), errors.Is(err, record.ErrTooLarge):
		c.mu.Lock()
		c.uncleanable[t.tp] = err
		c.mu.Unlock()
		c.logger.Error("log cleaning stopped for this partition: a batch failed validation; its other segments are untouched",
			"partition", t.tp.String(), "err", err)
		return err
	default:
		c.logger.Error("log cleaning failed; will retry", "partition", t.tp.String(), "err", err)
		return err
	}
	end := r.latest + 1
	c.setCheckpoint(t.tp, end)
	r.stats.EndOffset = end
	r.stats.MapUtilization = w.m.utilization()
	r.stats.LastClean = c.clock.Now()
	r.stats.Duration = time.Since(began)
	c.mu.Lock()
	c.stats[t.tp] = r.stats
	c.gens[t.tp] = t.gen
	c.mu.Unlock()
	c.logger.Info("log cleaned", "partition", t.tp.String(), "dirty_ratio", r.stats.DirtyRatio,
		"bytes_read", r.stats.BytesRead, "bytes_written", r.stats.BytesWritten,
		"records_removed", r.stats.RecordsRemoved, "end_offset", end,
		"map_utilization", r.stats.MapUtilization, "took", r.stats.Duration)
	return nil
}

func (r *round) run() error {
	t := r.t
	if err := r.buildMap(); err != nil {
		return err
	}
	end := r.latest + 1
	var todo []log.SegmentInfo
	for _, s := range t.segs {
		if s.BaseOffset < end && s.BaseOffset < t.firstUncleanable {
			todo = append(todo, s)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	// Every aborted transaction with a batch or its marker in the recopied
	// segments; its batches go and the cleaned .txnindex is rebuilt.
	r.txn.reset(t.l.AbortedTxns(todo[0].BaseOffset, todo[len(todo)-1].NextOffset))
	reps, err := r.recopy(todo)
	if err != nil || len(reps) == 0 {
		return err
	}
	return t.l.ReplaceSegments(reps, t.gen)
}

// buildMap puts the key of every record of the dirty section into the map,
// in offset order, until the map is full (Kafka's buildOffsetMap). r.latest
// ends as the last offset covered: records above it are kept as they are.
func (r *round) buildMap() error {
	t, m := r.t, r.w.m
	m.clear()
	r.w.live.reset()
	r.w.used, r.w.cached = 0, nil
	r.w.reserveCache(t.dirtyBytes)
	// The batches of aborted transactions give no keys to the map: an
	// aborted value must never shadow a committed one.
	r.mapTxn.reset(t.l.AbortedTxns(t.firstDirty, t.firstUncleanable))
	for i, s := range t.segs {
		if s.BaseOffset >= t.firstUncleanable || s.NextOffset <= t.firstDirty {
			continue
		}
		full, err := r.mapSegment(s)
		if err != nil || full {
			return err
		}
		next := t.firstUncleanable // a gap at the segment's end is covered too
		if i+1 < len(t.segs) {
			next = min(next, t.segs[i+1].BaseOffset)
		}
		r.latest = max(r.latest, next-1)
	}
	return nil
}

// mapSegment maps one dirty segment from the first dirty offset on; it
// reports true when the map filled.
func (r *round) mapSegment(s log.SegmentInfo) (bool, error) {
	br := newBatchReader(s, &r.w.buf, 0)
	space := r.w.cacheSpace(s)
	if space != nil {
		pf := startPrefetch(s, space, r.c.throttle)
		defer pf.close()
		br = prefetchingBatchReader(s, space, pf)
	}
	full := false
	for {
		if err := r.checkDone(); err != nil {
			return false, err
		}
		batch, h, _, err := br.next()
		if err == io.EOF {
			if space != nil {
				r.w.keepCached(s, space)
			}
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if br.pf == nil { // the prefetcher counts its own reads
			r.c.throttle.maybeThrottle(h.Size(), r.c.quit)
		}
		r.stats.BytesRead += h.Size()
		// Markers and the batches of aborted transactions give no keys.
		noKeys := h.Attributes.Control()
		if noKeys {
			typ, ok, err := r.w.controlType(batch)
			if err != nil {
				return false, fmt.Errorf("segment %d: %w", s.BaseOffset, err)
			}
			r.mapTxn.onControl(&h, typ, ok)
		} else {
			noKeys = r.mapTxn.onData(&h)
		}
		if h.LastOffset() < r.t.firstDirty {
			continue
		}
		if noKeys {
			r.latest = max(r.latest, h.LastOffset())
			continue
		}
		live := &r.w.live
		tracked := h.BaseOffset >= r.t.firstDirty && live.begin(&h)
		err = r.w.dec.Keys(batch, func(bh *record.Header, k *record.RecordKey) error {
			off := bh.BaseOffset + int64(k.OffsetDelta)
			if k.Key == nil || off < r.t.firstDirty {
				return nil // a record without a key never survives
			}
			prev, ok := r.w.m.put(k.Key, off)
			if !ok {
				full = true
				return errMapFull
			}
			if prev >= 0 {
				live.overtaken(prev)
			}
			if tracked {
				b := live.current()
				b.live++
				b.plain = b.plain && !k.NullValue
			}
			r.latest = max(r.latest, off)
			return nil
		})
		if full {
			if tracked {
				live.drop() // not all of its records are mapped
			}
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("segment %d: %w", s.BaseOffset, err)
		}
		r.latest = max(r.latest, h.LastOffset())
	}
}

var errMapFull = errors.New("offset map full")

func (r *round) checkDone() error {
	select {
	case <-r.c.quit:
		return errClosed
	default:
		return nil
	}
}

// group is the cleaned segment being written and the old segments it
// replaces. pending is the last batch of the latest old segment when the
// filter dropped it: it is written, emptied, if the group ends there, so
// the cleaned segment's offset range reaches every segment it replaces
// (recovery of an interrupted swap relies on it; Kafka likewise keeps the
// last batch of a cleaning round).
type group struct {
	cs      *log.CleanedSegment
	old     []log.SegmentInfo
	pending *record.Header
}

// recopy filters the segments into cleaned segments, each replacing a run
// of consecutive old segments; the round swaps them all in together. A
// segment joins the current cleaned segment while the bytes written so far
// plus all of its own stay within segment.bytes, their offset-index entries
// within segment.index.bytes, and its offsets within the index's 32-bit
// reach of the group's base. Kafka groups by the old segments' sizes, so a
// clean that drops most records leaves one small segment per old one for
// later cleans to merge; grouping by what was written merges them now and
// creates fewer files.
func (r *round) recopy(todo []log.SegmentInfo) ([]log.Replacement, error) {
	var reps []log.Replacement
	var g *group
	fail := func(err error) ([]log.Replacement, error) {
		if g != nil {
			g.cs.Abort()
		}
		for _, rep := range reps {
			rep.Cleaned.Abort()
		}
		return nil, err
	}
	maxEntries := max(r.cfg.SegmentIndexBytes/8, 1)
	for i, s := range todo {
		lastOffset := r.t.firstUncleanable - 1 // the most s can hold
		if i+1 < len(todo) {
			lastOffset = todo[i+1].BaseOffset - 1
		}
		if g != nil && (g.cs.Size()+s.Size > r.cfg.SegmentBytes ||
			g.cs.IndexEntries()+s.IndexEntries > maxEntries ||
			(s.Size > 0 && lastOffset-g.old[0].BaseOffset > math.MaxInt32)) {
			rep, err := r.finishGroup(g)
			if err != nil {
				return fail(err)
			}
			reps, g = append(reps, rep), nil
		}
		if g == nil {
			cs, err := r.t.l.CreateCleanedSegment(s.BaseOffset)
			if err != nil {
				return fail(err)
			}
			g = &group{cs: cs}
		}
		g.old = append(g.old, s)
		if err := r.cleanSegment(g, s); err != nil {
			return fail(err)
		}
	}
	if g == nil {
		return reps, nil
	}
	rep, err := r.finishGroup(g)
	if err != nil {
		return fail(err)
	}
	return append(reps, rep), nil
}

// finishGroup writes the group's pending last batch, emptied.
func (r *round) finishGroup(g *group) (log.Replacement, error) {
	if g.pending != nil {
		out, err := r.emptyBatch(g.pending)
		if err != nil {
			return log.Replacement{}, err
		}
		if err := g.cs.Append(out); err != nil {
			return log.Replacement{}, err
		}
		r.stats.BytesWritten += int64(len(out))
		g.pending = nil
	}
	return log.Replacement{Cleaned: g.cs, Old: g.old}, nil
}

// cleanSegment filters every batch of s into the group's cleaned segment.
func (r *round) cleanSegment(g *group, s log.SegmentInfo) error {
	br := newBatchReader(s, &r.w.buf, 0)
	if mem := r.w.cachedBytes(s); mem != nil {
		br = memBatchReader(s, mem)
	}
	for {
		if err := r.checkDone(); err != nil {
			return err
		}
		batch, h, pos, err := br.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if br.mem == nil {
			r.c.throttle.maybeThrottle(h.Size(), r.c.quit)
			r.stats.BytesRead += h.Size()
		}
		// A batch of s supersedes the previous segment's last batch as
		// the one to keep at the group's end.
		g.pending = nil
		out, err := r.filter(batch, &h, false)
		if err != nil {
			return fmt.Errorf("segment %d position %d: %w", s.BaseOffset, pos, err)
		}
		if out == nil {
			if pos+h.Size() == s.Size {
				g.pending = &h
			}
			continue
		}
		if err := g.cs.Append(out); err != nil {
			return err
		}
		if r.index != nil {
			if err := g.cs.AppendAbortedTxn(*r.index); err != nil {
				return err
			}
		}
		r.stats.BytesWritten += int64(len(out))
		r.c.throttle.maybeThrottle(int64(len(out)), r.c.quit)
	}
}
