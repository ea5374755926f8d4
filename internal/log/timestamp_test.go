package log

import (
	"testing"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

// stampedBatch is one batch whose records carry the given timestamps, in
// that (possibly unsorted) order.
func stampedBatch(t *testing.T, ts ...int64) []byte {
	t.Helper()
	recs := make([]record.Record, len(ts))
	for i, x := range ts {
		recs[i] = record.Record{OffsetDelta: int32(i), TimestampDelta: x - ts[0], Value: make([]byte, 900)}
	}
	b, err := record.AppendBatch(nil, record.BatchSpec{
		BaseTimestamp: ts[0], ProducerID: record.NoProducerID, ProducerEpoch: record.NoProducerEpoch, BaseSequence: record.NoSequence,
	}, recs, record.CodecNone)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLog_OffsetForTimestamp(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		d := openTestDir(t, fs, dir, clock.NewFake(t0))
		l := mustCreate(t, d, "t")
		// Batch i holds offsets 3i..3i+2 with timestamps 1000i+{20,10,30}:
		// unsorted inside a batch, rising across batches.
		for i := range int64(200) {
			mustAppend(t, l, stampedBatch(t, 1000*i+20, 1000*i+10, 1000*i+30))
		}
		if l.NumSegments() < 3 {
			t.Fatalf("want several segments, have %d", l.NumSegments())
		}
		check := func(l *Log) {
			t.Helper()
			for _, tc := range []struct {
				ts, offset, stamp int64
				ok                bool
			}{
				{0, 0, 20, true},
				{15, 0, 20, true},   // the first record at or after 15 is offset 0 (20)
				{21, 2, 30, true},   // then offset 2 (30), skipping offset 1 (10)
				{31, 3, 1020, true}, // next batch
				{150010, 450, 150020, true},
				{199030, 599, 199030, true},
				{199031, -1, -1, false},
			} {
				off, ts, ok, err := l.OffsetForTimestamp(tc.ts)
				if err != nil || off != tc.offset || ts != tc.stamp || ok != tc.ok {
					t.Errorf("OffsetForTimestamp(%d) = %d, %d, %v, %v; want %d, %d, %v", tc.ts, off, ts, ok, err, tc.offset, tc.stamp, tc.ok)
				}
			}
			off, ts, ok, err := l.OffsetOfMaxTimestamp()
			if err != nil || !ok || off != 599 || ts != 199030 {
				t.Errorf("OffsetOfMaxTimestamp = %d, %d, %v, %v; want 599, 199030", off, ts, ok, err)
			}
		}
		check(l)
		// Time indexes loaded after a clean shutdown, then rebuilt after a crash.
		d.Close()
		d = openTestDir(t, fs, dir, clock.NewFake(t0))
		l, _ = d.Log(TopicPartition{"t", 0})
		check(l)
		crash(t, fs, d)
		fs.Remove(dir + "/" + recoveryPointFile)
		d = openTestDir(t, fs, dir, clock.NewFake(t0))
		l, _ = d.Log(TopicPartition{"t", 0})
		check(l)
		// After records are deleted, answers stay at or above the log start.
		if _, err := l.DeleteRecords(301); err != nil {
			t.Fatal(err)
		}
		if off, _, _, _ := l.OffsetForTimestamp(0); off != 301 {
			t.Errorf("OffsetForTimestamp(0) after DeleteRecords(301) = %d", off)
		}
	})
}
