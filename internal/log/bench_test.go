package log

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/vfs"
)

// The storage benchmarks come in pairs: each Basket path and a raw baseline
// doing the same I/O with the os package, run in the same process so their
// ratio means something on a noisy machine. Compare MB/s of the pair.

// benchBatch is a 16 KiB batch of 16 records of ~1 KiB.
func benchBatch() []byte { return testBatch(16, 1000, 1) }

func benchDir(b *testing.B, durability Durability) *Dir {
	b.Helper()
	d, err := OpenDir(b.TempDir(), Options{FS: vfs.OS, Clock: clock.Real, Durability: durability, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d
}

func asyncConfig() Config {
	c := DefaultConfig()
	c.FlushIntervalMessages = math.MaxInt64
	return c
}

// BenchmarkAppend is Append of 16 KiB batches with no sync.
func BenchmarkAppend(b *testing.B) {
	d := benchDir(b, DurabilityAsync)
	l, err := d.CreateLog(TopicPartition{"bench", 0}, asyncConfig())
	if err != nil {
		b.Fatal(err)
	}
	batch := benchBatch()
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := l.Append(batch, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendBaselineRawWrite is os.File.Write of the same bytes.
func BenchmarkAppendBaselineRawWrite(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "raw"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	batch := benchBatch()
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := f.Write(batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDurableAppend8 is 8 goroutines appending batches of 1 KiB
// records to 8 partitions, each keeping inflight appends waiting for
// durability: 1 is a writer that waits for each batch before the next; 5 is
// a producer with Kafka's default max.in.flight.requests.per.connection and
// acks=all. The bytes one flusher round can sync are 8 x inflight x batch,
// which is what the result depends on.
func BenchmarkDurableAppend8(b *testing.B) {
	for _, records := range []int{16, 128} {
		for _, inflight := range []int{1, 5} {
			b.Run(fmt.Sprintf("batch=%dKiB/inflight=%d", records, inflight), func(b *testing.B) {
				benchDurable(b, testBatch(records, 1000, 1), inflight)
			})
		}
	}
}

func benchDurable(b *testing.B, batch []byte, window int) {
	d := benchDir(b, DurabilitySync)
	var logs []*Log
	for p := range 8 {
		l, err := d.CreateLog(TopicPartition{"bench", int32(p)}, DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		logs = append(logs, l)
	}
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	per := (b.N + 7) / 8
	for _, l := range logs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := append([]byte(nil), batch...)
			inflight := make([]int64, 0, window)
			for range per {
				if len(inflight) == window {
					if err := l.WaitDurable(context.Background(), inflight[0]); err != nil {
						b.Error(err)
						return
					}
					inflight = append(inflight[:0], inflight[1:]...)
				}
				info, err := l.Append(mine, 0)
				if err != nil {
					b.Error(err)
					return
				}
				inflight = append(inflight, info.LastOffset+1)
			}
			if len(inflight) > 0 {
				l.WaitDurable(context.Background(), inflight[len(inflight)-1])
			}
		}()
	}
	wg.Wait()
}

// BenchmarkDurableAppendBaselineRawSyncPerMiB writes the same bytes to one
// file and fdatasyncs once per MiB.
func BenchmarkDurableAppendBaselineRawSyncPerMiB(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "raw"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	batch := benchBatch()
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	b.ResetTimer()
	var unsynced int
	for range b.N {
		if _, err := f.Write(batch); err != nil {
			b.Fatal(err)
		}
		if unsynced += len(batch); unsynced >= 1<<20 {
			if err := unix.Fdatasync(int(f.Fd())); err != nil {
				b.Fatal(err)
			}
			unsynced = 0
		}
	}
	unix.Fdatasync(int(f.Fd()))
}

// bigLog is a 1 GiB log shared by the read and recovery benchmarks.
var bigLog struct {
	once sync.Once
	dir  string
	err  error
}

const bigLogBytes = 1 << 30

func bigLogDir(b *testing.B) string {
	b.Helper()
	bigLog.once.Do(func() {
		bigLog.dir, bigLog.err = os.MkdirTemp("", "basket-bench-")
		if bigLog.err != nil {
			return
		}
		d, err := OpenDir(bigLog.dir, Options{Durability: DurabilityAsync, Logger: quiet})
		if err != nil {
			bigLog.err = err
			return
		}
		l, err := d.CreateLog(TopicPartition{"big", 0}, asyncConfig())
		if err != nil {
			bigLog.err = err
			return
		}
		batch := benchBatch()
		for written := 0; written < bigLogBytes; written += len(batch) {
			if _, err := l.Append(batch, 0); err != nil {
				bigLog.err = err
				return
			}
		}
		bigLog.err = d.Close()
	})
	if bigLog.err != nil {
		b.Fatal(bigLog.err)
	}
	return bigLog.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bigLog.dir != "" {
		os.RemoveAll(bigLog.dir)
	}
	os.Exit(code)
}

// BenchmarkRead1GiB reads the whole 1 GiB log through Read in 1 MiB
// fetch-sized regions and copies each region into a buffer with ReadAt, as
// a server without sendfile would.
func BenchmarkRead1GiB(b *testing.B) {
	dir := bigLogDir(b)
	d, err := OpenDir(dir, Options{Durability: DurabilityAsync, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	l, _ := d.Log(TopicPartition{"big", 0})
	buf := make([]byte, 2<<20)
	b.SetBytes(l.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for off := int64(0); off < l.LogEndOffset(); {
			r, err := l.Read(off, 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.File.ReadAt(buf[:r.Len], r.Pos); err != nil {
				b.Fatal(err)
			}
			off = nextOffsetAfter(buf[:r.Len])
		}
	}
}

// nextOffsetAfter returns the offset after the last batch in b, which holds
// whole batches.
func nextOffsetAfter(b []byte) int64 {
	var next int64
	for len(b) > 0 {
		h, _ := parseHeaderForBench(b)
		next = h.NextOffset()
		b = b[h.Size():]
	}
	return next
}

// BenchmarkRead1GiBBaselineRawReadAt reads the same segment files with
// ReadAt in 1 MiB chunks.
func BenchmarkRead1GiBBaselineRawReadAt(b *testing.B) {
	files := segmentFiles(b, bigLogDir(b))
	buf := make([]byte, 1<<20)
	var total int64
	for _, f := range files {
		fi, _ := f.Stat()
		total += fi.Size()
	}
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, f := range files {
			for pos := int64(0); ; pos += int64(len(buf)) {
				n, _ := f.ReadAt(buf, pos)
				if n < len(buf) {
					break
				}
			}
		}
	}
}

func segmentFiles(b *testing.B, dir string) []*os.File {
	matches, _ := filepath.Glob(filepath.Join(dir, "big-0", "*"+logSuffix))
	var files []*os.File
	for _, m := range matches {
		f, err := os.Open(m)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		files = append(files, f)
	}
	return files
}

// BenchmarkRecover1GiB opens the 1 GiB log as after a crash with no
// recovery point: every batch is read and CRC-checked and the indexes are
// rebuilt.
func BenchmarkRecover1GiB(b *testing.B) {
	dir := bigLogDir(b)
	b.SetBytes(bigLogBytes)
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		os.Remove(filepath.Join(dir, cleanShutdownFile))
		os.Remove(filepath.Join(dir, recoveryPointFile))
		b.StartTimer()
		d, err := OpenDir(dir, Options{Durability: DurabilityAsync, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if d.HadCleanShutdown() {
			b.Fatal("recovery skipped")
		}
		if err := d.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
