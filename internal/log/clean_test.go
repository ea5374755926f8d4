package log

import (
	"errors"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/vfs"
)

// TestLog_CompactedLogRollsAtMaxCompactionLag: a compacted log's active
// segment rolls at min(segment.ms, max.compaction.lag.ms), as Kafka's
// LogConfig.maxSegmentMs, so its records become cleanable in time.
func TestLog_CompactedLogRollsAtMaxCompactionLag(t *testing.T) {
	for _, tc := range []struct {
		name    string
		compact bool
		rolls   bool
	}{{"compact", true, true}, {"delete", false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			d := openTestDir(t, vfs.NewFaultFS(), "/data", clk)
			l := mustCreate(t, d, "c")
			cfg := l.Config()
			cfg.Compact, cfg.MaxCompactionLagMs = tc.compact, 1000
			if err := l.SetConfig(cfg); err != nil {
				t.Fatal(err)
			}
			mustAppend(t, l, testBatch(1, 10, t0.UnixMilli()))
			clk.Advance(1001 * time.Millisecond)
			mustAppend(t, l, testBatch(1, 10, t0.UnixMilli()))
			if rolled := l.NumSegments() == 2; rolled != tc.rolls {
				t.Fatalf("%d segments after max.compaction.lag.ms", l.NumSegments())
			}
		})
	}
}

// TestLog_ReplaceSegmentsAbortsWhenRetentionRemovedOne: a cleaned segment
// prepared for segments that retention has since deleted is not swapped in.
func TestLog_ReplaceSegmentsAbortsWhenRetentionRemovedOne(t *testing.T) {
	fs := vfs.NewFaultFS()
	d := openTestDir(t, fs, "/data", clock.NewFake(t0))
	l := mustCreate(t, d, "c")
	for range 40 {
		mustAppend(t, l, testBatch(4, 4000, t0.UnixMilli()))
	}
	segs := l.Segments()
	if len(segs) < 3 {
		t.Fatalf("%d segments", len(segs))
	}
	gen := l.CleanGeneration()
	cs, err := l.CreateCleanedSegment(segs[0].BaseOffset)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.DeleteRecords(segs[1].BaseOffset); err != nil {
		t.Fatal(err)
	}
	err = l.ReplaceSegments([]Replacement{{Cleaned: cs, Old: segs[:1]}}, gen)
	if !errors.Is(err, ErrCleaningAborted) {
		t.Fatalf("ReplaceSegments after retention: %v", err)
	}
	if _, err := fs.Stat(segmentName(l.path, segs[0].BaseOffset, logSuffix) + cleanedSuffix); err == nil {
		t.Fatal("the .cleaned file was left")
	}
	readAllBatches(t, l, l.LogStartOffset())
}
