package cleaner

import (
	"math"

	"github.com/basketmq/basket/internal/log"
)

// logToClean is a log's cleanable range as of one look at it, Kafka's
// LogToClean: the clean section [log start, firstDirty) was cleaned before,
// the dirty section [firstDirty, firstUncleanable) is what this clean
// dedupes against. firstUncleanable is the base offset of the first segment
// that may not be cleaned: the active segment, the segment holding the
// bound (high watermark), or the first segment with a record younger than
// min.compaction.lag.ms.
type logToClean struct {
	l                *log.Log
	tp               log.TopicPartition
	gen              int64
	segs             []log.SegmentInfo // oldest first, without the active segment
	bound            Bound
	firstDirty       int64
	firstUncleanable int64
	cleanBytes       int64
	dirtyBytes       int64
	needNow          bool // max.compaction.lag.ms exceeded
}

func (t *logToClean) ratio() float64 {
	if t.cleanBytes+t.dirtyBytes == 0 {
		return 0
	}
	return float64(t.dirtyBytes) / float64(t.cleanBytes+t.dirtyBytes)
}

// cleanable computes l's cleanable range. reset reports that the
// checkpointed first dirty offset was out of range and was reset to the
// log start offset (Kafka's forceUpdateCheckpoint).
func (c *Cleaner) cleanable(l *log.Log, b Bound, now int64) (t logToClean, reset bool) {
	cfg := l.Config()
	t = logToClean{l: l, tp: l.TopicPartition(), bound: b}
	t.gen = l.CleanGeneration() // before the segments: a truncation after it aborts the swap
	all := l.Segments()
	t.segs = all[:len(all)-1]
	start, end := l.LogStartOffset(), l.LogEndOffset()
	c.mu.Lock()
	cp, ok := c.checkpoints[t.tp]
	gen, cleaned := c.gens[t.tp]
	c.mu.Unlock()
	t.firstDirty = start
	if ok {
		if cp < start || cp > end || (cleaned && gen != t.gen) {
			reset = true
		} else {
			t.firstDirty = cp
		}
	}
	uncleanable := all[len(all)-1].BaseOffset
	for _, s := range t.segs {
		if s.NextOffset > b.UpperOffset {
			uncleanable = min(uncleanable, s.BaseOffset)
			break
		}
		if cfg.MinCompactionLagMs > 0 && s.NextOffset > t.firstDirty && s.MaxTimestamp > now-cfg.MinCompactionLagMs {
			uncleanable = min(uncleanable, s.BaseOffset)
			break
		}
	}
	t.firstUncleanable = max(t.firstDirty, uncleanable)
	earliest := int64(math.MaxInt64)
	for _, s := range t.segs {
		if s.BaseOffset >= t.firstUncleanable || s.NextOffset <= start {
			continue
		}
		if s.NextOffset <= t.firstDirty {
			t.cleanBytes += s.Size
			continue
		}
		t.dirtyBytes += s.Size
		if ts := s.FirstBatchTimestamp(); ts > 0 {
			earliest = min(earliest, ts)
		}
	}
	if lag := cfg.MaxCompactionLagMs; lag > 0 && lag < math.MaxInt64 && earliest < now-lag {
		t.needNow = true
	}
	return t, reset
}

// grabFilthiest picks the compacted log with the highest dirty ratio among
// those over their min.cleanable.dirty.ratio or past max.compaction.lag.ms
// with something to clean, and marks it in progress.
func (c *Cleaner) grabFilthiest() (logToClean, bool) {
	now := c.clock.Now().UnixMilli()
	var best logToClean
	found := false
	for _, l := range c.dir.Logs() {
		cfg := l.Config()
		if !cfg.Compact || c.busy(l.TopicPartition()) {
			continue
		}
		b, ok := c.bound(l)
		if !ok {
			continue
		}
		t, reset := c.cleanable(l, b, now)
		if reset {
			c.setCheckpoint(t.tp, t.firstDirty)
		}
		if t.cleanBytes+t.dirtyBytes == 0 {
			continue
		}
		if !(t.needNow && t.dirtyBytes > 0) && !(t.ratio() > cfg.MinCleanableDirtyRatio) {
			continue
		}
		if !found || t.ratio() > best.ratio() {
			best, found = t, true
		}
	}
	if !found || !c.claim(best.tp) {
		return logToClean{}, false
	}
	return best, true
}

// grab is grabFilthiest for one log, ignoring the ratio.
func (c *Cleaner) grab(l *log.Log) (logToClean, bool) {
	if !l.Config().Compact {
		return logToClean{}, false
	}
	b, ok := c.bound(l)
	if !ok {
		return logToClean{}, false
	}
	t, reset := c.cleanable(l, b, c.clock.Now().UnixMilli())
	if reset {
		c.setCheckpoint(t.tp, t.firstDirty)
	}
	if t.firstDirty >= t.firstUncleanable && !hasExpiredTombstones(t) {
		return logToClean{}, false
	}
	if !c.claim(t.tp) {
		return logToClean{}, false
	}
	return t, true
}

// hasExpiredTombstones is a cheap hint for CleanLog: any non-empty clean
// section may hold tombstones past their horizon.
func hasExpiredTombstones(t logToClean) bool { return t.cleanBytes > 0 }

func (c *Cleaner) busy(tp log.TopicPartition) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inProgress[tp] || c.uncleanable[tp] != nil
}

func (c *Cleaner) claim(tp log.TopicPartition) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inProgress[tp] || c.uncleanable[tp] != nil || c.closed {
		return false
	}
	c.inProgress[tp] = true
	return true
}

func (c *Cleaner) release(tp log.TopicPartition) {
	c.mu.Lock()
	delete(c.inProgress, tp)
	c.mu.Unlock()
}
