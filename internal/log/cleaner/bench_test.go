package cleaner

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

// Benchmark shape: 64 MiB of 1 KiB records in batches of 16, over keys of
// which 10% survive (each key updated 10 times), in 8 MiB segments.
const (
	benchLogBytes     = 64 << 20
	benchRecordBytes  = 1 << 10
	benchBatchRecords = 16
	benchLiveShare    = 10 // one record in 10 is the latest of its key
)

func benchConfig() log.Config {
	c := compactConfig()
	c.SegmentBytes = 8 << 20
	c.IndexIntervalBytes = 4096
	return c
}

// buildBenchLog writes the dirty log in a new Dir under dir and returns its
// sealed segments, the ones a clean reads.
func buildBenchLog(b *testing.B, dir string) (*log.Dir, *log.Log, []log.SegmentInfo) {
	b.Helper()
	d, err := log.OpenDir(dir, log.Options{FS: vfs.OS, Clock: clock.Real, Logger: quiet,
		Config: func(log.TopicPartition) log.Config { return benchConfig() }})
	if err != nil {
		b.Fatal(err)
	}
	l, segs := fillBenchLog(b, d, "bench")
	return d, l, segs
}

// fillBenchLog creates topic in d and writes the dirty log to it.
func fillBenchLog(b *testing.B, d *log.Dir, topic string) (*log.Log, []log.SegmentInfo) {
	b.Helper()
	l, err := d.CreateLog(log.TopicPartition{Topic: topic}, benchConfig())
	if err != nil {
		b.Fatal(err)
	}
	records := benchLogBytes / benchRecordBytes
	keys := records / benchLiveShare
	value := make([]byte, benchRecordBytes-40)
	recs := make([]record.Record, benchBatchRecords)
	var buf []byte
	var last int64
	for i := 0; i < records; i += benchBatchRecords {
		for j := range recs {
			recs[j] = record.Record{Key: []byte("key-" + strconv.Itoa((i+j)%keys)), Value: value, OffsetDelta: int32(j)}
		}
		spec := record.BatchSpec{BaseTimestamp: time.Now().UnixMilli(), ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
		if buf, err = record.AppendBatch(buf[:0], spec, recs, record.CodecNone); err != nil {
			b.Fatal(err)
		}
		info, err := l.Append(buf, 0)
		if err != nil {
			b.Fatal(err)
		}
		last = info.LastOffset
	}
	if err := l.WaitDurable(context.Background(), last+1); err != nil {
		b.Fatal(err)
	}
	segs := l.Segments()
	return l, segs[:len(segs)-1]
}

func segmentBytes(segs []log.SegmentInfo) int64 {
	var n int64
	for _, s := range segs {
		n += s.Size
	}
	return n
}

// BenchmarkClean cleans a new copy of the benchmark log per iteration (built
// untimed, and kept until the end so no file removal runs during a clean)
// with one long-lived cleaner, as a broker has; bytes/s is dirty
// log cleaned per second. Compare with BenchmarkCleanBaselineRawReadAt in
// the same run.
func BenchmarkClean(b *testing.B) {
	b.ReportAllocs()
	d, err := log.OpenDir(b.TempDir(), log.Options{FS: vfs.OS, Clock: clock.Real, Logger: quiet,
		Config: func(log.TopicPartition) log.Config { return benchConfig() }})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	c := New(d, Options{Logger: quiet, // the default 128 MiB dedupe buffer
		Bound: func(l *log.Log) (Bound, bool) { return Bound{UpperOffset: l.LogEndOffset()}, true }})
	defer c.Close()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		l, segs := fillBenchLog(b, d, fmt.Sprint("bench", i))
		b.SetBytes(segmentBytes(segs))
		b.StartTimer()
		if ok, err := c.CleanLog(l); !ok || err != nil {
			b.Fatalf("CleanLog: %v %v", ok, err)
		}
		b.StopTimer()
		if st, _ := c.Stats(l.TopicPartition()); i == 0 {
			b.ReportMetric(float64(st.BytesWritten)/float64(segmentBytes(segs)), "written/dirty")
		}
		b.StartTimer()
	}
}

// BenchmarkCleanBaselineRawReadAt reads the same segment files with
// ReadAt in 1 MiB chunks: the I/O floor of one pass over the dirty log.
func BenchmarkCleanBaselineRawReadAt(b *testing.B) {
	b.ReportAllocs()
	d, _, segs := buildBenchLog(b, b.TempDir())
	defer d.Close()
	b.SetBytes(segmentBytes(segs))
	buf := make([]byte, 1<<20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, s := range segs {
			f, err := os.Open(s.FilePath())
			if err != nil {
				b.Fatal(err)
			}
			for pos := int64(0); pos < s.Size; {
				n, err := f.ReadAt(buf[:min(int64(len(buf)), s.Size-pos)], pos)
				if err != nil && n == 0 {
					b.Fatal(err)
				}
				pos += int64(n)
			}
			f.Close()
		}
	}
}
