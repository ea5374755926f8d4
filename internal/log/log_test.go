package log

import (
	"bytes"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

func TestLog_AppendAssignsOffsetsFromLogEnd(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		d := openTestDir(t, fs, dir, clock.NewFake(t0))
		l := mustCreate(t, d, "orders")
		for i, n := range []int{1, 5, 3} {
			want := []int64{0, 1, 6}[i]
			b := testBatch(n, 10, t0.UnixMilli())
			b[0] = 0xff // a client's BaseOffset is ignored
			info := mustAppend(t, l, b)
			if info.BaseOffset != want || info.LastOffset != want+int64(n)-1 || info.LogAppendTime != -1 {
				t.Fatalf("append %d: got %+v, want base %d", i, info, want)
			}
			h, _ := record.ParseHeader(b)
			if h.BaseOffset != want || h.PartitionLeaderEpoch != 7 {
				t.Fatalf("header not rewritten in place: %+v", h)
			}
		}
		if got := l.LogEndOffset(); got != 9 {
			t.Fatalf("LogEndOffset = %d, want 9", got)
		}
	})
}

func TestLog_AppendRejectsBadBatches(t *testing.T) {
	d := openTestDir(t, vfs.NewFaultFS(), "/d", clock.NewFake(t0))
	l := mustCreate(t, d, "t")
	good := testBatch(2, 10, 1)
	flipped := bytes.Clone(good)
	flipped[len(flipped)-1] ^= 1
	for name, tc := range map[string]struct {
		b    []byte
		kind error
	}{
		"truncated": {good[:40], record.ErrCorrupt},
		"bit flip":  {flipped, record.ErrCorrupt},
		"too large": {testBatch(100, 1000, 1), record.ErrTooLarge},
	} {
		if _, err := l.Append(tc.b, 0); !isErr(err, tc.kind) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.kind)
		}
	}
	if l.LogEndOffset() != 0 {
		t.Fatalf("rejected batches moved the log end to %d", l.LogEndOffset())
	}
}

func TestLog_LogAppendTimeStampsBatch(t *testing.T) {
	clk := clock.NewFake(t0)
	d := openTestDir(t, vfs.NewFaultFS(), "/d", clk)
	l := mustCreate(t, d, "t")
	cfg := l.Config()
	cfg.LogAppendTime = true
	if err := l.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	b := testBatch(3, 10, 12345)
	info := mustAppend(t, l, b)
	if info.LogAppendTime != t0.UnixMilli() {
		t.Fatalf("LogAppendTime = %d, want %d", info.LogAppendTime, t0.UnixMilli())
	}
	h, err := record.Validate(b)
	if err != nil {
		t.Fatalf("stamped batch invalid: %v", err)
	}
	if !h.Attributes.LogAppendTime() || h.MaxTimestamp != t0.UnixMilli() {
		t.Fatalf("header after stamping: %+v", h)
	}
}

func TestLog_ReadReturnsWholeBatchesContainingOffset(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		d := openTestDir(t, fs, dir, clock.NewFake(t0))
		l := mustCreate(t, d, "t")
		var sizes []int64
		for range 40 { // 40 batches of 10 records, several segments
			b := testBatch(10, 300, t0.UnixMilli())
			sizes = append(sizes, int64(len(b)))
			mustAppend(t, l, b)
		}
		if l.NumSegments() < 2 {
			t.Fatalf("want several segments, have %d", l.NumSegments())
		}
		for _, off := range []int64{0, 5, 9, 10, 123, 399} {
			r, err := l.Read(off, 1)
			if err != nil {
				t.Fatal(err)
			}
			if want := off / 10 * 10; r.BaseOffset != want || r.Len != sizes[off/10] {
				t.Fatalf("Read(%d, 1): base %d len %d, want base %d and exactly one batch of %d", off, r.BaseOffset, r.Len, want, sizes[off/10])
			}
		}
		// maxBytes ending mid-batch stops at the boundary before it.
		r, err := l.Read(0, int(sizes[0]*3+sizes[0]/2))
		if err != nil {
			t.Fatal(err)
		}
		if r.Len != sizes[0]*3 {
			t.Fatalf("Read(0, 3.5 batches) = %d bytes, want %d", r.Len, sizes[0]*3)
		}
		if got := readAllBatches(t, l, 0); len(got) != 40 {
			t.Fatalf("read back %d batches, want 40", len(got))
		}
	})
}

func TestLog_ReadBoundsAndLimit(t *testing.T) {
	d := openTestDir(t, vfs.NewFaultFS(), "/d", clock.NewFake(t0))
	l := mustCreate(t, d, "t")
	for range 3 {
		mustAppend(t, l, testBatch(10, 10, 1))
	}
	if _, err := l.Read(31, 100); !isErr(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read past end: %v", err)
	}
	if _, err := l.Read(-1, 100); !isErr(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read before start: %v", err)
	}
	if r, err := l.Read(30, 100); err != nil || r.Len != 0 {
		t.Fatalf("Read at end: %+v %v", r, err)
	}
	r, err := l.ReadUpTo(0, 1<<20, 20)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.ReadAll()
	h, _ := record.ParseHeader(b[r.Len-int64(len(testBatch(10, 10, 1))):])
	if h.LastOffset() != 19 {
		t.Fatalf("ReadUpTo(limit 20) ends at offset %d", h.LastOffset())
	}
	if r, _ := l.ReadUpTo(25, 1<<20, 20); r.Len != 0 {
		t.Fatalf("ReadUpTo past the limit returned %d bytes", r.Len)
	}
}

func TestLog_RollsOnSegmentMsAndIndexFull(t *testing.T) {
	clk := clock.NewFake(t0)
	d := openTestDir(t, vfs.NewFaultFS(), "/d", clk)
	l := mustCreate(t, d, "t")
	cfg := l.Config()
	cfg.SegmentMs = 1000
	l.SetConfig(cfg)
	mustAppend(t, l, testBatch(1, 10, 1))
	clk.Advance(999 * time.Millisecond)
	mustAppend(t, l, testBatch(1, 10, 1))
	if l.NumSegments() != 1 {
		t.Fatalf("rolled before segment.ms")
	}
	clk.Advance(time.Millisecond)
	mustAppend(t, l, testBatch(1, 10, 1))
	if l.NumSegments() != 2 {
		t.Fatalf("segments = %d after segment.ms, want 2", l.NumSegments())
	}

	cfg.SegmentMs = DefaultConfig().SegmentMs
	cfg.SegmentIndexBytes = 2 * indexEntrySize
	cfg.IndexIntervalBytes = 0
	l.SetConfig(cfg)
	l2, _ := d.CreateLog(TopicPartition{"u", 0}, cfg)
	for range 5 {
		mustAppend(t, l2, testBatch(1, 10, 1))
	}
	if l2.NumSegments() < 2 {
		t.Fatalf("full index did not roll: %d segments", l2.NumSegments())
	}
}

func TestLog_GroupCommitManyWaiters(t *testing.T) {
	d := openTestDir(t, vfs.NewFaultFS(), "/d", clock.Real)
	logs := []*Log{mustCreate(t, d, "a"), mustCreate(t, d, "b"), mustCreate(t, d, "c")}
	done := make(chan error)
	for _, l := range logs {
		go func() {
			for range 50 {
				info, err := l.Append(testBatch(2, 100, 1), 0)
				if err != nil {
					done <- err
					return
				}
				if err := l.WaitDurable(t.Context(), info.LastOffset+1); err != nil {
					done <- err
					return
				}
				if l.DurableOffset() < info.LastOffset+1 {
					t.Errorf("WaitDurable returned before durable")
				}
			}
			done <- nil
		}()
	}
	for range logs {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestLog_OffsetsAreStableAcrossCleanRestart(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		clk := clock.NewFake(t0)
		d := openTestDir(t, fs, dir, clk)
		l := mustCreate(t, d, "t")
		for range 30 {
			mustAppend(t, l, testBatch(5, 500, t0.UnixMilli()))
		}
		before := readAllBatches(t, l, 0)
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		d2 := openTestDir(t, fs, dir, clk)
		if !d2.HadCleanShutdown() {
			t.Fatal("clean shutdown not detected")
		}
		l2, ok := d2.Log(TopicPartition{"t", 0})
		if !ok {
			t.Fatal("log missing after restart")
		}
		after := readAllBatches(t, l2, 0)
		if len(after) != len(before) || after[len(after)-1] != before[len(before)-1] {
			t.Fatalf("batches changed across restart: %d vs %d", len(after), len(before))
		}
		if got := mustAppend(t, l2, testBatch(1, 1, 1)).BaseOffset; got != 150 {
			t.Fatalf("first append after restart got offset %d, want 150", got)
		}
	})
}
