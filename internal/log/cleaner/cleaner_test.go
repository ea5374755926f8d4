package cleaner

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

// TestCleaner_KeepsLatestPerKeyEveryCodec cleans a log of batches in each
// codec on both file systems: every key's latest record survives at its
// offset, the log end does not move, the log shrinks, rewritten batches keep
// their codec, and a reopen after a clean shutdown reads the same.
func TestCleaner_KeepsLatestPerKeyEveryCodec(t *testing.T) {
	for _, codec := range []record.Codec{record.CodecNone, record.CodecGzip, record.CodecSnappy, record.CodecLZ4, record.CodecZstd} {
		t.Run(codec.String(), func(t *testing.T) {
			fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
				clk := clock.NewFake(t0)
				d := openDir(t, fs, dir, clk)
				l := mustCreate(t, d, "c")
				want := fill(t, l, codec, t0.UnixMilli(), 50, 1000, 7)
				end, before := l.LogEndOffset(), l.Size()
				c := newCleaner(t, d, Options{})
				if ok, err := c.CleanLog(l); !ok || err != nil {
					t.Fatalf("CleanLog: %v %v", ok, err)
				}
				got := readAll(t, l)
				// The active segment is not cleaned, so keys whose latest
				// record sits there may appear twice.
				checkLatest(t, got, want, true)
				if l.LogEndOffset() != end {
					t.Fatalf("log end moved from %d to %d", end, l.LogEndOffset())
				}
				if l.Size() >= before/2 {
					t.Fatalf("log shrank only from %d to %d bytes", before, l.Size())
				}
				st, ok := c.Stats(l.TopicPartition())
				if !ok || st.RecordsRemoved == 0 || st.BytesWritten == 0 || st.BytesRead == 0 || st.LastClean.IsZero() {
					t.Fatalf("stats: %+v", st)
				}
				// Every batch rewritten in the codec it had.
				checkCodecs(t, l, codec)
				// After a clean shutdown and reopen the log is the same.
				if err := d.Close(); err != nil {
					t.Fatal(err)
				}
				d = openDir(t, fs, dir, clk)
				defer d.Close()
				l, _ = d.Log(l.TopicPartition())
				checkLatest(t, readAll(t, l), want, true)
			})
		})
	}
}

func checkCodecs(t *testing.T, l *log.Log, codec record.Codec) {
	t.Helper()
	for _, s := range l.Segments() {
		buf := make([]byte, s.Size)
		if _, err := s.ReadAt(buf, 0); err != nil && s.Size > 0 {
			t.Fatal(err)
		}
		for len(buf) > 0 {
			mh := mustHeader(t, buf)
			h, err := record.Validate(buf[:min(len(buf), int(mh.Size()))])
			if err != nil {
				t.Fatal(err)
			}
			if h.RecordsCount > 0 && h.Attributes.Codec() != codec {
				t.Fatalf("batch at %d has codec %v, want %v", h.BaseOffset, h.Attributes.Codec(), codec)
			}
			buf = buf[h.Size():]
		}
	}
}

func mustHeader(t *testing.T, b []byte) record.Header {
	h, err := record.ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// rollActive appends one more record so that everything before it is in
// sealed segments: the test log's segments are tiny, and a batch that does
// not fit rolls.
func sealAll(t *testing.T, l *log.Log, ts int64) {
	t.Helper()
	big := make([]byte, 3<<10)
	appendKV(t, l, record.CodecNone, ts, kv{key: "seal-1", value: string(big)})
	appendKV(t, l, record.CodecNone, ts, kv{key: "seal-2", value: string(big)})
}

func TestCleaner_ExactlyOneRecordPerKeyOnceSealed(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		d := openDir(t, fs, dir, clock.NewFake(t0))
		defer d.Close()
		l := mustCreate(t, d, "c")
		want := fill(t, l, record.CodecNone, t0.UnixMilli(), 100, 2000, 10)
		sealAll(t, l, t0.UnixMilli())
		c := newCleaner(t, d, Options{})
		if _, err := c.CleanLog(l); err != nil {
			t.Fatal(err)
		}
		got := readAll(t, l)
		checkLatest(t, got, want, false)
		if n := len(got); n != 100+2 {
			t.Fatalf("%d records after cleaning, want 102", n)
		}
	})
}

func TestCleaner_MultiPassWithTinyDedupeBuffer(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		d := openDir(t, fs, dir, clock.NewFake(t0))
		defer d.Close()
		l := mustCreate(t, d, "c")
		want := fill(t, l, record.CodecLZ4, t0.UnixMilli(), 300, 3000, 9)
		sealAll(t, l, t0.UnixMilli())
		// 24 bytes per key: room for about 45 keys, 300 are dirty.
		c := newCleaner(t, d, Options{DedupeBufferSize: 50 * bytesPerEntry})
		passes := 0
		for {
			ok, err := c.CleanOnce()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			passes++
			if passes > 200 {
				t.Fatal("cleaning never finishes")
			}
		}
		if passes < 3 {
			t.Fatalf("%d passes; a map of 45 keys needs several for 300 keys", passes)
		}
		if st, _ := c.Stats(l.TopicPartition()); st.MapUtilization < 0.9 {
			t.Logf("last pass used %.2f of the map", st.MapUtilization)
		}
		// Each pass deduplicated its piece of the dirty section against
		// everything before it, so one record per key is left.
		checkLatest(t, readAll(t, l), want, false)
	})
}

// TestCleaner_MapGrowingIntoTheCache: the map pass caches the dirty
// segments it reads (prefetched on another goroutine) in what the map
// leaves of the dedupe buffer; when the map grows into that space the
// cache is dropped, a segment being prefetched included, and the recopy
// reads those segments from their files. Either way every key keeps its
// latest record.
func TestCleaner_MapGrowingIntoTheCache(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		d := openDir(t, fs, dir, clock.NewFake(t0))
		defer d.Close()
		l := mustCreate(t, d, "c")
		// 6,000 keys outgrow the first map (4,096 slots) and the second
		// (8,192) within a 384 KiB buffer.
		want := fill(t, l, record.CodecNone, t0.UnixMilli(), 6000, 9000, 10)
		sealAll(t, l, t0.UnixMilli())
		c := newCleaner(t, d, Options{DedupeBufferSize: 384 << 10})
		var w *worker
		for {
			ok, err := c.CleanOnce()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			if w == nil {
				w = <-c.workers
				if len(w.m.offsets) <= minSlots || w.arena != nil && w.used == 0 {
					t.Fatalf("the map did not grow (%d slots) or nothing was cached", len(w.m.offsets))
				}
				c.workers <- w
			}
		}
		checkLatest(t, readAll(t, l), want, false)
	})
}

// TestCleaner_TombstonesExpireAfterDeleteRetention: the first clean that
// keeps a tombstone stamps its batch with a delete horizon of now +
// delete.retention.ms (KIP-534); cleans before it keep the tombstone, the
// first one after it removes it, and record timestamps survive the rewrite.
func TestCleaner_TombstonesExpireAfterDeleteRetention(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		clk := clock.NewFake(t0)
		d := openDir(t, fs, dir, clk)
		defer d.Close()
		l := mustCreate(t, d, "c")
		cfg := l.Config()
		cfg.DeleteRetentionMs = 60_000
		if err := l.SetConfig(cfg); err != nil {
			t.Fatal(err)
		}
		ts := t0.UnixMilli()
		want := fill(t, l, record.CodecNone, ts, 20, 200, 5)
		for _, k := range []string{"key-1", "key-2", "key-3"} {
			info := appendKV(t, l, record.CodecNone, ts, kv{key: k, null: true})
			want.apply(info.BaseOffset, kv{key: k, null: true})
		}
		sealAll(t, l, ts)
		c := newCleaner(t, d, Options{})
		if _, err := c.CleanLog(l); err != nil {
			t.Fatal(err)
		}
		got := readAll(t, l)
		checkLatest(t, got, want, false)
		if n := countTombstones(got); n != 3 {
			t.Fatalf("%d tombstones after the first clean, want 3 kept for delete.retention.ms", n)
		}
		// Before the horizon a second clean keeps them.
		clk.Advance(59 * time.Second)
		if _, err := c.CleanLog(l); err != nil {
			t.Fatal(err)
		}
		if n := countTombstones(readAll(t, l)); n != 3 {
			t.Fatalf("%d tombstones before the horizon, want 3", n)
		}
		clk.Advance(2 * time.Second)
		if _, err := c.CleanLog(l); err != nil {
			t.Fatal(err)
		}
		got = readAll(t, l)
		if n := countTombstones(got); n != 0 {
			t.Fatalf("%d tombstones after the horizon (KIP-534), want 0", n)
		}
		for _, r := range got {
			if r.key == "key-1" || r.key == "key-2" || r.key == "key-3" {
				t.Fatalf("deleted key %q still has a record at %d", r.key, r.offset)
			}
		}
		// Record timestamps survive the delete-horizon rewrite.
		for _, r := range got {
			if r.timestamp != ts {
				t.Fatalf("record %d has timestamp %d, want %d", r.offset, r.timestamp, ts)
			}
		}
	})
}

func countTombstones(rs []readRecord) int {
	n := 0
	for _, r := range rs {
		if r.null {
			n++
		}
	}
	return n
}

func TestCleaner_MinCompactionLagKeepsRecentSegments(t *testing.T) {
	clk := clock.NewFake(t0)
	d := openDir(t, vfs.NewFaultFS(), "/data", clk)
	defer d.Close()
	l := mustCreate(t, d, "c")
	cfg := l.Config()
	cfg.MinCompactionLagMs = 3_600_000
	if err := l.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	now := t0.UnixMilli()
	want := fill(t, l, record.CodecNone, now, 10, 300, 5)
	sealAll(t, l, now)
	before := len(readAll(t, l))
	c := newCleaner(t, d, Options{})
	if ok, _ := c.CleanOnce(); ok {
		t.Fatal("cleaned records younger than min.compaction.lag.ms")
	}
	if ok, _ := c.CleanLog(l); ok {
		if n := len(readAll(t, l)); n != before {
			t.Fatalf("CleanLog removed %d records younger than min.compaction.lag.ms", before-n)
		}
	}
	clk.Advance(time.Hour + time.Second)
	if ok, err := c.CleanOnce(); !ok || err != nil {
		t.Fatalf("CleanOnce after the lag: %v %v", ok, err)
	}
	checkLatest(t, readAll(t, l), want, false)
}

func TestCleaner_MaxCompactionLagForcesClean(t *testing.T) {
	clk := clock.NewFake(t0)
	d := openDir(t, vfs.NewFaultFS(), "/data", clk)
	defer d.Close()
	l := mustCreate(t, d, "c")
	cfg := l.Config()
	cfg.MinCleanableDirtyRatio = 0.99
	cfg.MaxCompactionLagMs = 60_000
	if err := l.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	fill(t, l, record.CodecNone, t0.UnixMilli(), 10, 300, 5)
	sealAll(t, l, t0.UnixMilli())
	c := newCleaner(t, d, Options{})
	if ok, _ := c.CleanOnce(); !ok { // all dirty: ratio 1 > 0.99
		t.Fatal("a fully dirty log was not cleaned")
	}
	fill(t, l, record.CodecNone, t0.UnixMilli(), 10, 100, 5)
	sealAll(t, l, t0.UnixMilli())
	if ok, _ := c.CleanOnce(); ok {
		t.Fatal("cleaned below min.cleanable.dirty.ratio before max.compaction.lag.ms")
	}
	clk.Advance(2 * time.Minute)
	if ok, err := c.CleanOnce(); !ok || err != nil {
		t.Fatalf("max.compaction.lag.ms did not force a clean: %v %v", ok, err)
	}
}

func TestCleaner_NeverCleansAtOrAboveTheBound(t *testing.T) {
	d := openDir(t, vfs.NewFaultFS(), "/data", clock.NewFake(t0))
	defer d.Close()
	l := mustCreate(t, d, "c")
	fill(t, l, record.CodecNone, t0.UnixMilli(), 5, 100, 5)
	bound := l.LogEndOffset()
	fill(t, l, record.CodecNone, t0.UnixMilli(), 5, 400, 5)
	sealAll(t, l, t0.UnixMilli())
	above := 0
	for _, r := range readAll(t, l) {
		if r.offset >= bound {
			above++
		}
	}
	c := New(d, Options{Logger: quiet, Bound: func(*log.Log) (Bound, bool) { return Bound{UpperOffset: bound}, true }})
	t.Cleanup(c.Close)
	if _, err := c.CleanLog(l); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range readAll(t, l) {
		if r.offset >= bound {
			n++
		}
	}
	if n != above {
		t.Fatalf("%d records at or above the bound %d after cleaning, had %d", n, bound, above)
	}
}

func TestCleaner_KeepsLastBatchOfActiveProducer(t *testing.T) {
	d := openDir(t, vfs.NewFaultFS(), "/data", clock.NewFake(t0))
	defer d.Close()
	l := mustCreate(t, d, "c")
	rs := []record.Record{{Key: []byte("k"), Value: []byte("old")}}
	spec := record.BatchSpec{BaseTimestamp: t0.UnixMilli(), ProducerID: 7, ProducerEpoch: 0, BaseSequence: 0}
	b, _ := record.AppendBatch(nil, spec, rs, record.CodecNone)
	info, err := l.Append(b, 1)
	if err != nil {
		t.Fatal(err)
	}
	appendKV(t, l, record.CodecNone, t0.UnixMilli(), kv{key: "k", value: "new"})
	sealAll(t, l, t0.UnixMilli())
	producers := map[int64]ProducerLast{7: {LastDataOffset: info.LastOffset, Epoch: 0}}
	c := New(d, Options{Logger: quiet, Bound: func(l *log.Log) (Bound, bool) {
		return Bound{UpperOffset: l.LogEndOffset(), Producers: producers}, true
	}})
	t.Cleanup(c.Close)
	if _, err := c.CleanLog(l); err != nil {
		t.Fatal(err)
	}
	found := false
	l.ScanHeaders(0, func(h *record.Header) error {
		if h.ProducerID == 7 {
			found = true
			if h.RecordsCount != 0 || h.BaseOffset != info.BaseOffset || h.BaseSequence != 0 {
				t.Fatalf("producer batch kept as %+v", h)
			}
		}
		return nil
	})
	if !found {
		t.Fatal("the active producer's last batch was removed")
	}
}

func TestCleaner_CorruptBatchStopsCleaningThatLog(t *testing.T) {
	fs := vfs.NewFaultFS()
	d := openDir(t, fs, "/data", clock.NewFake(t0))
	defer d.Close()
	l := mustCreate(t, d, "c")
	good := mustCreate(t, d, "good")
	fill(t, l, record.CodecNone, t0.UnixMilli(), 10, 300, 5)
	fill(t, good, record.CodecNone, t0.UnixMilli(), 10, 300, 5)
	sealAll(t, l, t0.UnixMilli())
	sealAll(t, good, t0.UnixMilli())
	before := readAll(t, l)
	// Flip a byte inside a record of the second segment.
	segs := l.Segments()
	f, err := fs.OpenFile(segs[1].FilePath(), 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff}, record.HeaderSize+3); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c := newCleaner(t, d, Options{})
	_, err = c.CleanLog(l)
	if !errors.Is(err, record.ErrCorrupt) {
		t.Fatalf("CleanLog of a corrupt log: %v, want ErrCorrupt", err)
	}
	if c.Uncleanable(l.TopicPartition()) == nil {
		t.Fatal("log not marked uncleanable")
	}
	if ok, _ := c.CleanLog(l); ok {
		t.Fatal("an uncleanable log was cleaned again")
	}
	if n := l.NumSegments(); n != len(segs) {
		t.Fatalf("%d segments after a failed clean, had %d", n, len(segs))
	}
	_ = before
	if ok, err := c.CleanLog(good); !ok || err != nil {
		t.Fatalf("the other log: %v %v", ok, err)
	}
	for _, name := range fileNames(t, fs, "/data/c-0") {
		if len(name) > 8 && name[len(name)-8:] == ".cleaned" {
			t.Fatalf("left %s behind", name)
		}
	}
}

func fileNames(t *testing.T, fs vfs.FS, dir string) []string {
	t.Helper()
	es, err := fs.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// TestCleaner_GroupsOldSegmentsByBytesWritten checks how a clean groups
// old segments into cleaned ones: segments that lose most of their records
// merge into few cleaned segments, segments that keep theirs stay apart,
// no cleaned segment passes segment.bytes, the offsets of consecutive
// segments never overlap, and a reopen reads the same log.
func TestCleaner_GroupsOldSegmentsByBytesWritten(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		clk := clock.NewFake(t0)
		d := openDir(t, fs, dir, clk)
		l := mustCreate(t, d, "c")
		// 2,000 updates of 20 keys, then 300 records of unique keys that
		// all survive.
		want := fill(t, l, record.CodecNone, t0.UnixMilli(), 20, 2000, 10)
		for i := 0; i < 300; i += 10 {
			var recs []kv
			for j := i; j < i+10; j++ {
				recs = append(recs, kv{key: fmt.Sprintf("unique-%d", j), value: "u" + string(make([]byte, 40))})
			}
			info := appendKV(t, l, record.CodecNone, t0.UnixMilli(), recs...)
			want.apply(info.BaseOffset, recs...)
		}
		sealAll(t, l, t0.UnixMilli())
		before := len(l.Segments())
		c := newCleaner(t, d, Options{})
		if ok, err := c.CleanLog(l); !ok || err != nil {
			t.Fatalf("CleanLog: %v %v", ok, err)
		}
		segs := l.Segments()
		cfg := compactConfig()
		kept := 0
		for i, s := range segs {
			if s.Size > cfg.SegmentBytes {
				t.Fatalf("segment %d: %d bytes, over segment.bytes %d", s.BaseOffset, s.Size, cfg.SegmentBytes)
			}
			if i > 0 && segs[i-1].NextOffset > s.BaseOffset {
				t.Fatalf("segment %d starts before the previous one ends at %d", s.BaseOffset, segs[i-1].NextOffset)
			}
			kept += int(s.Size)
		}
		// The unique keys alone fill several segments; everything before
		// them shrinks to one or two.
		unique := 300 * 60
		if min := unique / int(cfg.SegmentBytes); len(segs) < min || len(segs) > min+5 || len(segs) >= before/2 {
			t.Fatalf("%d segments before, %d after cleaning %d bytes", before, len(segs), kept)
		}
		t.Logf("%d segments before, %d after cleaning", before, len(segs))
		checkLatest(t, readAll(t, l), want, false)
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		d = openDir(t, fs, dir, clk)
		defer d.Close()
		l, _ = d.Log(l.TopicPartition())
		if got := len(l.Segments()); got != len(segs) {
			t.Fatalf("%d segments after reopen, %d before", got, len(segs))
		}
		checkLatest(t, readAll(t, l), want, false)
	})
}
