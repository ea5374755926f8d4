package log

import (
	"strings"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/vfs"
)

// fill appends n batches of 2000-byte values stamped ts: with smallConfig
// that is about 16 batches per segment.
func fill(t *testing.T, l *Log, n int, ts int64) {
	t.Helper()
	for range n {
		mustAppend(t, l, testBatch(2, 2000, ts))
	}
}

func deletedFiles(fs vfs.FS, dir string) int {
	entries, _ := fs.ReadDir(dir)
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), deletedSuffix) {
			n++
		}
	}
	return n
}

func TestRetention_DeletesSegmentsOlderThanRetentionMs(t *testing.T) {
	clk := clock.NewFake(t0)
	fs := vfs.NewFaultFS()
	d := openTestDir(t, fs, "/d", clk)
	l := mustCreate(t, d, "t")
	cfg := l.Config()
	cfg.RetentionMs = 3600_000
	cfg.FileDeleteDelayMs = 60_000
	l.SetConfig(cfg)
	fill(t, l, 40, t0.UnixMilli())                  // old data: several segments
	fill(t, l, 20, t0.Add(2*time.Hour).UnixMilli()) // newer data
	clk.Advance(90 * time.Minute)                   // old data is 1.5h old
	segsBefore := l.NumSegments()
	n := d.RunRetention()
	if n < 2 {
		t.Fatalf("deleted %d segments, want the old ones", n)
	}
	if l.NumSegments() != segsBefore-n {
		t.Fatalf("segment count %d, want %d", l.NumSegments(), segsBefore-n)
	}
	first := (*l.segs.Load())[0]
	if l.LogStartOffset() != first.base || first.maxTimestamp.Load() != t0.Add(2*time.Hour).UnixMilli() && first.base > 80 {
		t.Fatalf("log start %d, first segment %d", l.LogStartOffset(), first.base)
	}
	if _, err := l.Read(0, 100); !isErr(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below the new log start: %v", err)
	}
	// The files wait file.delete.delay.ms as *.deleted, then go.
	if deletedFiles(fs, l.path) != 3*n {
		t.Fatalf("%d *.deleted files, want %d", deletedFiles(fs, l.path), 3*n)
	}
	// The deleter may arm its timer for the queued files just after an
	// Advance (it reads the clock, then arms), so keep the clock moving
	// in small steps until it fires.
	clk.Advance(time.Minute)
	eventually(t, "deleted files removed", func() bool {
		if deletedFiles(fs, l.path) == 0 {
			return true
		}
		clk.Advance(time.Second)
		return false
	})
	// The active segment is never deleted, however old.
	clk.Advance(100 * time.Hour)
	d.RunRetention()
	if l.NumSegments() != 1 || l.LogEndOffset() != 120 {
		t.Fatalf("after all expired: %d segments, end %d", l.NumSegments(), l.LogEndOffset())
	}
	readAllBatches(t, l, l.LogStartOffset())
}

func TestRetention_DeletesOldestBeyondRetentionBytes(t *testing.T) {
	d := openTestDir(t, vfs.NewFaultFS(), "/d", clock.NewFake(t0))
	l := mustCreate(t, d, "t")
	fill(t, l, 100, t0.UnixMilli())
	cfg := l.Config()
	cfg.RetentionBytes = 150 << 10
	l.SetConfig(cfg)
	d.RunRetention()
	if l.Size() > 150<<10+cfg.SegmentBytes || l.Size() < 150<<10 {
		t.Fatalf("size after retention %d, want within a segment above %d", l.Size(), 150<<10)
	}
	if l.LogStartOffset() == 0 {
		t.Fatal("log start did not move")
	}
}

func TestDeleteRecords_AdvancesLogStartAndSurvivesCrash(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		d := openTestDir(t, fs, dir, clock.NewFake(t0))
		l := mustCreate(t, d, "t")
		fill(t, l, 50, t0.UnixMilli())
		segs := l.NumSegments()
		start, err := l.DeleteRecords(55)
		if err != nil || start != 55 {
			t.Fatalf("DeleteRecords = %d, %v", start, err)
		}
		if l.NumSegments() >= segs {
			t.Fatalf("no segment deleted below the new log start")
		}
		if _, err := l.Read(54, 1); !isErr(err, ErrOffsetOutOfRange) {
			t.Fatalf("read below log start: %v", err)
		}
		if r, err := l.Read(55, 1); err != nil || r.BaseOffset != 54 {
			t.Fatalf("read at log start: base %d, %v", r.BaseOffset, err)
		}
		if _, err := l.DeleteRecords(101); !isErr(err, ErrOffsetOutOfRange) {
			t.Fatalf("DeleteRecords past the end: %v", err)
		}
		mustDurable(t, l, l.LogEndOffset())
		crash(t, fs, d)
		d2 := openTestDir(t, fs, dir, clock.NewFake(t0))
		l2, _ := d2.Log(TopicPartition{"t", 0})
		if l2.LogStartOffset() != 55 {
			t.Fatalf("log start after crash = %d, want 55", l2.LogStartOffset())
		}
	})
}

func TestLog_TruncateTo(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		d := openTestDir(t, fs, dir, clock.NewFake(t0))
		l := mustCreate(t, d, "t")
		fill(t, l, 50, t0.UnixMilli()) // offsets 0..99, batches of 2
		mustDurable(t, l, 100)
		if err := l.TruncateTo(61); err != nil { // inside batch 60-61
			t.Fatal(err)
		}
		if l.LogEndOffset() != 60 || l.DurableOffset() > 60 {
			t.Fatalf("after TruncateTo(61): end %d durable %d", l.LogEndOffset(), l.DurableOffset())
		}
		if n := len(readAllBatches(t, l, 0)); n != 30 {
			t.Fatalf("%d batches after truncation, want 30", n)
		}
		if got := mustAppend(t, l, testBatch(2, 2000, 1)).BaseOffset; got != 60 {
			t.Fatalf("append after truncation at %d, want 60", got)
		}
		if err := l.TruncateTo(200); err != nil || l.LogEndOffset() != 62 {
			t.Fatalf("TruncateTo beyond the end changed the log: %v, end %d", err, l.LogEndOffset())
		}
		// The truncated log survives a clean restart as it is.
		mustDurable(t, l, 62)
		d.Close()
		d2 := openTestDir(t, fs, dir, clock.NewFake(t0))
		l2, _ := d2.Log(TopicPartition{"t", 0})
		if l2.LogEndOffset() != 62 || len(readAllBatches(t, l2, 0)) != 31 {
			t.Fatalf("after restart: end %d", l2.LogEndOffset())
		}
	})
}

func TestLog_TruncateFullyAndStartAt(t *testing.T) {
	d := openTestDir(t, vfs.NewFaultFS(), "/d", clock.NewFake(t0))
	l := mustCreate(t, d, "t")
	fill(t, l, 30, t0.UnixMilli())
	if err := l.TruncateFullyAndStartAt(1000); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != 1000 || l.LogEndOffset() != 1000 || l.NumSegments() != 1 {
		t.Fatalf("start %d end %d segments %d", l.LogStartOffset(), l.LogEndOffset(), l.NumSegments())
	}
	if got := mustAppend(t, l, testBatch(3, 10, 1)).BaseOffset; got != 1000 {
		t.Fatalf("append at %d, want 1000", got)
	}
	mustDurable(t, l, 1003)
	d.Close()
	d2 := openTestDir(t, d.fs, "/d", clock.NewFake(t0))
	l2, _ := d2.Log(TopicPartition{"t", 0})
	if l2.LogStartOffset() != 1000 || l2.LogEndOffset() != 1003 {
		t.Fatalf("after restart: start %d end %d", l2.LogStartOffset(), l2.LogEndOffset())
	}
}

func TestDir_DeleteLogRemovesPartition(t *testing.T) {
	clk := clock.NewFake(t0)
	fs := vfs.NewFaultFS()
	d := openTestDir(t, fs, "/d", clk)
	l := mustCreate(t, d, "t")
	fill(t, l, 5, 1)
	if err := d.DeleteLog(l.tp); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Log(l.tp); ok {
		t.Fatal("log still listed")
	}
	if _, err := l.Append(testBatch(1, 1, 1), 0); !isErr(err, ErrClosed) {
		t.Fatalf("append to deleted log: %v", err)
	}
	clk.Advance(time.Minute)
	eventually(t, "partition directory removed", func() bool {
		entries, _ := fs.ReadDir("/d")
		for _, e := range entries {
			if e.IsDir() {
				return false
			}
		}
		return true
	})
	if _, err := d.CreateLog(l.tp, smallConfig()); err != nil {
		t.Fatalf("recreate: %v", err)
	}
}
