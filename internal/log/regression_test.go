package log

import (
	"context"
	"log/slog"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/vfs"
)

// A torn failed write must not survive past the logical end of a segment
// into a seal, where the next open would cut the segment and drop every
// later one with it.
func TestLog_FailedWriteThenRollKeepsDurableData(t *testing.T) {
	fs := vfs.NewFaultFS()
	d := openTestDir(t, fs, "/d", clock.NewFake(t0))
	l := mustCreate(t, d, "t")
	fill(t, l, 12, 1) // 48 KiB of a 64 KiB segment
	// A 12 KiB batch fits but is torn after 11 KiB; the next batch of 18 KiB
	// does not fit, so the segment rolls with the torn bytes past its end.
	fs.TearNextWrite(11<<10, syscall.ENOSPC)
	if _, err := l.Append(testBatch(6, 2000, 1), 0); err == nil {
		t.Fatal("torn write succeeded")
	}
	mustAppend(t, l, testBatch(9, 2000, 1))
	if l.NumSegments() != 2 {
		t.Fatalf("the batch after the torn write did not roll")
	}
	fill(t, l, 50, 1) // several rolls after the failure
	mustDurable(t, l, l.LogEndOffset())
	want := l.LogEndOffset()
	d.Close()
	d2 := openTestDir(t, fs, "/d", clock.NewFake(t0))
	l2, _ := d2.Log(TopicPartition{"t", 0})
	if l2.LogEndOffset() != want || len(readAllBatches(t, l2, 0)) != 63 || l2.NumSegments() < 4 {
		t.Fatalf("after reopen: log end %d, want %d", l2.LogEndOffset(), want)
	}
}

// Every sealed segment's indexes are synced before the recovery point
// passes it, including the first segment of a new log and the active
// segment of a reopened one.
func TestLog_SealedSegmentIndexesAreDurable(t *testing.T) {
	fs := vfs.NewFaultFS()
	d := openTestDir(t, fs, "/d", clock.NewFake(t0))
	l := mustCreate(t, d, "t")
	check := func(l *Log) {
		t.Helper()
		mustDurable(t, l, l.LogEndOffset())
		l.flush() // a round that may have raced the last roll
		segs := *l.segs.Load()
		for _, s := range segs[:len(segs)-1] {
			idx := segmentName(l.path, s.base, indexSuffix)
			tix := segmentName(l.path, s.base, timeIndexSuffix)
			if fs.DurableSize(idx) != int64(len(s.index.entries))*indexEntrySize || fs.DurableSize(idx) == 0 {
				t.Fatalf("segment %d: durable index %d bytes, %d entries", s.base, fs.DurableSize(idx), len(s.index.entries))
			}
			if fs.DurableSize(tix) != int64(len(s.timeIndex.entries))*timeEntrySize || fs.DurableSize(tix) == 0 {
				t.Fatalf("segment %d: durable time index %d bytes", s.base, fs.DurableSize(tix))
			}
		}
		if rp := l.recoveryPoint.Load(); rp < segs[len(segs)-1].base {
			t.Fatalf("recovery point %d behind the active segment %d", rp, segs[len(segs)-1].base)
		}
	}
	fill(t, l, 40, 1)
	check(l)
	d.Close()
	d2 := openTestDir(t, fs, "/d", clock.NewFake(t0))
	l2, _ := d2.Log(TopicPartition{"t", 0})
	fill(t, l2, 40, 1)
	check(l2)
	// And after a power loss the trusted segments load without a scan.
	fs.PowerLoss(nil)
	d2.Close()
	warns := countWarnings(t)
	d3 := openTestDir(t, fs, "/d", clock.NewFake(t0), func(o *Options) { o.Logger = warns.logger })
	l3, _ := d3.Log(TopicPartition{"t", 0})
	readAllBatches(t, l3, 0)
	if warns.n.Load() != 0 {
		t.Fatalf("%d warnings loading synced segments after a power loss", warns.n.Load())
	}
}

func TestLog_TruncateToThenRestartKeepsTimestampsRight(t *testing.T) {
	fs := vfs.NewFaultFS()
	d := openTestDir(t, fs, "/d", clock.NewFake(t0))
	l := mustCreate(t, d, "t")
	for i := range int64(30) {
		mustAppend(t, l, stampedBatch(t, 1000*i+20, 1000*i+10, 1000*i+30))
	}
	if l.NumSegments() < 2 || (*l.segs.Load())[1].base <= 30 {
		t.Fatalf("want offset 30 inside a sealed first segment")
	}
	// Into the sealed first segment, whose index files are already written.
	if err := l.TruncateTo(30); err != nil {
		t.Fatal(err)
	}
	mustDurable(t, l, l.LogEndOffset())
	d.Close()
	warns := countWarnings(t)
	d2 := openTestDir(t, fs, "/d", clock.NewFake(t0), func(o *Options) { o.Logger = warns.logger })
	l2, _ := d2.Log(TopicPartition{"t", 0})
	if warns.n.Load() != 0 {
		t.Fatalf("%d warnings: index files kept entries of truncated batches", warns.n.Load())
	}
	off, ts, ok, err := l2.OffsetOfMaxTimestamp()
	if err != nil || !ok || off != 29 || ts != 9030 {
		t.Fatalf("OffsetOfMaxTimestamp after truncate and restart = %d, %d, %v, %v; want 29, 9030", off, ts, ok, err)
	}
	if off, _, ok, _ := l2.OffsetForTimestamp(10000); ok {
		t.Fatalf("found offset %d for a timestamp only truncated records had", off)
	}
}

func TestLog_SegmentsWithoutTimestampsLoadWithoutRecovery(t *testing.T) {
	fs := vfs.NewFaultFS()
	d := openTestDir(t, fs, "/d", clock.NewFake(t0))
	l := mustCreate(t, d, "t")
	fill(t, l, 40, -1) // no timestamps at all
	d.Close()
	warns := countWarnings(t)
	d2 := openTestDir(t, fs, "/d", clock.NewFake(t0), func(o *Options) { o.Logger = warns.logger })
	l2, _ := d2.Log(TopicPartition{"t", 0})
	if warns.n.Load() != 0 || len(readAllBatches(t, l2, 0)) != 40 {
		t.Fatalf("%d warnings reopening a log without timestamps", warns.n.Load())
	}
}

// Recovery seals the segments it rebuilt, so their largest timestamp
// survives the next clean restart.
func TestRecovery_RebuiltSegmentsKeepLargestTimestamp(t *testing.T) {
	cfg := smallConfig()
	cfg.IndexIntervalBytes = 16 << 10 // sparse: a segment's last batches have no entry
	withCfg := func(o *Options) { o.Config = func(TopicPartition) Config { return cfg } }
	fs := vfs.NewFaultFS()
	d := openTestDir(t, fs, "/d", clock.NewFake(t0), withCfg)
	l, err := d.CreateLog(TopicPartition{"t", 0}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range int64(100) {
		mustAppend(t, l, stampedBatch(t, 1000*i+20, 1000*i+10, 1000*i+30))
	}
	if err := l.WaitDurable(context.Background(), l.LogEndOffset()); err != nil {
		t.Fatal(err)
	}
	crash(t, fs, d)
	fs.Remove("/d/" + recoveryPointFile)
	d2 := openTestDir(t, fs, "/d", clock.NewFake(t0), withCfg)
	d2.Close()
	d3 := openTestDir(t, fs, "/d", clock.NewFake(t0), withCfg)
	l3, _ := d3.Log(TopicPartition{"t", 0})
	for _, s := range (*l3.segs.Load())[:l3.NumSegments()-1] {
		if s.maxTimestamp.Load() != 1000*((s.next.Load()-1)/3)+30 {
			t.Fatalf("segment %d: largest timestamp %d after recovery and restart", s.base, s.maxTimestamp.Load())
		}
	}
	if off, ts, ok, _ := l3.OffsetForTimestamp(40025); !ok || off != 122 || ts != 40030 {
		t.Fatalf("OffsetForTimestamp(40025) = %d, %d, %v; want 122, 40030", off, ts, ok)
	}
}

type warnCounter struct {
	n      atomic.Int64
	logger *slog.Logger
}

func countWarnings(t *testing.T) *warnCounter {
	w := &warnCounter{}
	w.logger = slog.New(&countHandler{n: &w.n})
	return w
}

type countHandler struct{ n *atomic.Int64 }

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.n.Add(1)
	}
	return nil
}
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countHandler) WithGroup(string) slog.Handler      { return h }

// A follower's truncation must survive a power loss: the cut batches never
// come back.
func TestLog_TruncateToIsDurable(t *testing.T) {
	fs := vfs.NewFaultFS()
	d := openTestDir(t, fs, "/d", clock.NewFake(t0))
	l := mustCreate(t, d, "t")
	fill(t, l, 50, 1) // several segments, offsets 0..99
	mustDurable(t, l, 100)
	if err := l.TruncateTo(20); err != nil {
		t.Fatal(err)
	}
	fs.PowerLoss(nil)
	d.Close()
	d2 := openTestDir(t, fs, "/d", clock.NewFake(t0))
	l2, _ := d2.Log(TopicPartition{"t", 0})
	if l2.LogEndOffset() != 20 {
		t.Fatalf("log end after truncation and power loss = %d, want 20", l2.LogEndOffset())
	}
}

func TestParseBase_RejectsNonDigits(t *testing.T) {
	for name, ok := range map[string]bool{
		"00000000000000000001.log": true,
		"+0000000000000000001.log": false,
		"-0000000000000000001.log": false,
		"0000000000000000001.log":  false,
	} {
		if _, got := parseBase(name, logSuffix); got != ok {
			t.Errorf("parseBase(%q) ok = %v, want %v", name, got, ok)
		}
	}
}
