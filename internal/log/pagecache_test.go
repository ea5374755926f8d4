package log

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

// dropRecorder wraps a file system so that .log files record the page
// cache ranges they are asked to drop (and pass the advice on when the
// wrapped file takes it).
type dropRecorder struct {
	vfs.FS
	mu    sync.Mutex
	drops map[string][][2]int64 // file name → [off, end) ranges in call order
}

type droppingFile struct {
	vfs.File
	rec *dropRecorder
}

func (r *dropRecorder) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	f, err := r.FS.OpenFile(name, flag, perm)
	if err != nil || !strings.HasSuffix(name, ".log") {
		return f, err
	}
	return droppingFile{f, r}, nil
}

func (f droppingFile) DropCache(off, n int64) error {
	f.rec.mu.Lock()
	f.rec.drops[f.Name()] = append(f.rec.drops[f.Name()], [2]int64{off, off + n})
	f.rec.mu.Unlock()
	if d, ok := f.File.(vfs.CacheDropper); ok {
		return d.DropCache(off, n)
	}
	return nil
}

// pageCacheConfig holds every batch of the page cache tests in one segment.
func pageCacheConfig() Config {
	c := smallConfig()
	c.SegmentBytes = 64 << 20
	return c
}

// appendOddBatches appends n one-record batches of an odd size, so their
// ends fall anywhere within pages and folios, and returns copies of them.
func appendOddBatches(t *testing.T, l *Log, n int, durable bool) [][]byte {
	t.Helper()
	var batches [][]byte
	for range n {
		b := testBatch(1, 300_007, t0.UnixMilli())
		batches = append(batches, append([]byte(nil), b...))
		info := mustAppend(t, l, b)
		if durable {
			if err := l.WaitDurable(context.Background(), info.LastOffset+1); err != nil {
				t.Fatal(err)
			}
		}
	}
	return batches
}

// checkDropRanges fails unless ranges tile [0, end) in order and every
// range ends on a dropAlign boundary.
func checkDropRanges(t *testing.T, ranges [][2]int64, end int64) {
	t.Helper()
	next := int64(0)
	for _, r := range ranges {
		if r[0] != next || r[1] <= r[0] {
			t.Fatalf("drop ranges %v are not contiguous from 0", ranges)
		}
		if r[1]%dropAlign != 0 {
			t.Fatalf("drop range %v does not end on a %d-byte boundary", r, dropAlign)
		}
		next = r[1]
	}
	if next != end {
		t.Fatalf("dropped up to %d, want %d", next, end)
	}
}

func TestLog_FlushDropsPageCacheBehindRetainWindow(t *testing.T) {
	for _, tc := range []struct {
		name   string
		retain int64
	}{{"retain 4 KiB", 4096}, {"retain 1 byte", 1}, {"keep everything", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
				rec := &dropRecorder{FS: fs, drops: map[string][][2]int64{}}
				d := openTestDir(t, rec, dir, clock.NewFake(t0), func(o *Options) {
					o.PageCacheRetainBytes = tc.retain
					o.Config = func(TopicPartition) Config { return pageCacheConfig() }
				})
				l, err := d.CreateLog(TopicPartition{"orders", 0}, pageCacheConfig())
				if err != nil {
					t.Fatal(err)
				}
				batches := appendOddBatches(t, l, 24, true)
				size := l.active().size.Load()
				want := dropBoundary(size - tc.retain)
				if tc.retain >= 0 && want < 2*dropAlign {
					t.Fatalf("only %d bytes to drop; the test needs more data", want)
				}
				// The flusher drops pages after it wakes the waiters.
				ranges := func() [][2]int64 {
					rec.mu.Lock()
					defer rec.mu.Unlock()
					var out [][2]int64
					for _, r := range rec.drops {
						out = append(out, r...)
					}
					return out
				}
				if tc.retain < 0 {
					if r := ranges(); len(r) != 0 {
						t.Fatalf("dropped %v with retain -1", r)
					}
					return
				}
				eventually(t, "the last drop", func() bool {
					r := ranges()
					return len(r) > 0 && r[len(r)-1][1] == want
				})
				// The drops tile [0, boundary) in whole folios, never
				// reaching into the retained window.
				checkDropRanges(t, ranges(), want)
				// And the kernel took the advice: no page below the
				// boundary is cached. Ranges ending anywhere left about a
				// third of the pages behind (large folios).
				if fs == vfs.OS {
					path := l.active().log.Name()
					if n := residentPages(t, path, 0, want); n > 0 {
						t.Fatalf("%d pages below the drop boundary %d are still cached", n, want)
					}
				}
				// Dropping is advice: the data reads back unchanged.
				for i, want := range batches {
					got := readBatchAt(t, l, int64(i))
					if string(got[61:]) != string(want[61:]) {
						t.Fatalf("batch %d changed after its pages were dropped", i)
					}
				}
			})
		})
	}
}

// readBatchAt reads the one-record batch holding offset.
func readBatchAt(t *testing.T, l *Log, offset int64) []byte {
	t.Helper()
	r, err := l.Read(offset, 1)
	if err != nil {
		t.Fatalf("Read(%d): %v", offset, err)
	}
	b, err := r.ReadAll()
	if err != nil {
		t.Fatalf("Read(%d): %v", offset, err)
	}
	h, err := record.ParseHeader(b)
	if err != nil || h.BaseOffset != offset {
		t.Fatalf("Read(%d): header %+v, %v", offset, h, err)
	}
	return b[:h.Size()]
}

// Under DurabilityAsync nothing is fsynced, so the flusher's checks advise
// the bytes more than the retain window behind the end twice: the first
// advice starts their writeback, the second, a check later, drops the
// clean pages. The log is never made durable by it.
func TestFlusher_AsyncPolicyDropsPageCacheBehindRetainWindow(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		clk := clock.NewFake(t0)
		rec := &dropRecorder{FS: fs, drops: map[string][][2]int64{}}
		d := openTestDir(t, rec, dir, clk, func(o *Options) {
			o.Durability = DurabilityAsync
			o.FlushCheckInterval = time.Second
			o.PageCacheRetainBytes = 4096
			o.Config = func(TopicPartition) Config { return pageCacheConfig() }
		})
		l, err := d.CreateLog(TopicPartition{"t", 0}, pageCacheConfig())
		if err != nil {
			t.Fatal(err)
		}
		appendOddBatches(t, l, 24, false)
		want := dropBoundary(l.active().size.Load() - 4096)
		calls := func() [][2]int64 {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			var out [][2]int64
			for _, r := range rec.drops {
				out = append(out, r...)
			}
			return out
		}
		tick := func() {
			eventually(t, "flusher parked on the clock", func() bool { return clk.Timers() == 4 })
			clk.Advance(time.Second)
		}
		tick()
		eventually(t, "the first advice", func() bool { return len(calls()) == 1 })
		if got, want := calls()[0], [2]int64{0, want}; got != want {
			t.Fatalf("first advice %v, want %v", got, want)
		}
		// Stand in for the time between two checks, in which the
		// writeback the first advice started finishes.
		if fs == vfs.OS {
			if err := l.active().log.Sync(); err != nil {
				t.Fatal(err)
			}
		}
		tick()
		eventually(t, "the second advice", func() bool { return len(calls()) == 2 })
		if got, want := calls()[1], [2]int64{0, want}; got != want {
			t.Fatalf("second advice %v, want %v", got, want)
		}
		tick() // nothing new appended: no more advice
		eventually(t, "flusher parked on the clock", func() bool { return clk.Timers() == 4 })
		if n := len(calls()); n != 2 {
			t.Fatalf("%d advice calls with nothing appended, want 2", n)
		}
		if fs == vfs.OS { // the second advice found the pages clean
			if n := residentPages(t, l.active().log.Name(), 0, want); n > 0 {
				t.Fatalf("%d pages below the drop boundary %d are still cached", n, want)
			}
		}
		if l.DurableOffset() != 0 {
			t.Fatalf("dropping the page cache made the log durable to %d", l.DurableOffset())
		}
	})
}
