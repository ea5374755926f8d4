package log

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

// acked is what a producer was told is durable: a batch's bytes at an offset.
type acked struct {
	base  int64
	bytes []byte
}

// TestRecovery_PowerLossKeepsEveryDurableBatch appends to several partitions
// from several goroutines, cuts the power at a random moment (keeping a
// random torn prefix of unsynced data), reopens, and checks that every batch
// WaitDurable confirmed is present, identical and at the same offset, and
// that nothing served fails its CRC.
func TestRecovery_PowerLossKeepsEveryDurableBatch(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			fs := vfs.NewFaultFS()
			d, err := OpenDir("/data", Options{FS: fs, Clock: clock.Real, Config: func(TopicPartition) Config { return smallConfig() }})
			if err != nil {
				t.Fatal(err)
			}
			const parts = 4
			var mu sync.Mutex
			ack := map[string][]acked{}
			var wg sync.WaitGroup
			stop := make(chan struct{})
			for p := range parts {
				l, err := d.CreateLog(TopicPartition{"t", int32(p)}, smallConfig())
				if err != nil {
					t.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						b := testBatch(1+i%7, 50+i%900, int64(i))
						info, err := l.Append(b, 0)
						if err != nil {
							return // the power is gone
						}
						if l.WaitDurable(context.Background(), info.LastOffset+1) != nil {
							return
						}
						mu.Lock()
						ack[l.tp.String()] = append(ack[l.tp.String()], acked{info.BaseOffset, bytes.Clone(b)})
						mu.Unlock()
					}
				}()
			}
			time.Sleep(time.Duration(5+rng.IntN(40)) * time.Millisecond)
			fs.PowerLoss(rng)
			close(stop)
			wg.Wait()
			d.Close() // fails: the files are gone with the power

			d2 := openTestDir(t, fs, "/data", clock.Real)
			total := 0
			for p := range parts {
				tp := TopicPartition{"t", int32(p)}
				l, ok := d2.Log(tp)
				if !ok {
					t.Fatalf("%s lost", tp)
				}
				served := readAllBatches(t, l, 0)
				byBase := map[int64]record.Header{}
				for _, h := range served {
					byBase[h.BaseOffset] = h
				}
				for _, a := range ack[tp.String()] {
					total++
					r, err := l.Read(a.base, 1)
					if err != nil {
						t.Fatalf("%s: acked batch at %d: %v", tp, a.base, err)
					}
					got, _ := r.ReadAll()
					if r.BaseOffset != a.base || !bytes.Equal(got, a.bytes) {
						t.Fatalf("%s: acked batch at %d changed or lost (log end %d)", tp, a.base, l.LogEndOffset())
					}
				}
			}
			t.Logf("seed %d: %d acknowledged batches all survived", seed, total)
		})
	}
}

func TestRecovery_TruncatesTornTail(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		d := openTestDir(t, fs, dir, clock.NewFake(t0))
		l := mustCreate(t, d, "t")
		for range 5 {
			mustAppend(t, l, testBatch(4, 100, 1))
		}
		mustDurable(t, l, 20)
		seg := l.active()
		name := segmentName(l.path, seg.base, logSuffix)
		crash(t, fs, d)
		// A torn sixth batch: its first half only.
		f, err := fs.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		size, _ := f.Size()
		half := testBatch(4, 100, 1)
		half = half[:len(half)/2]
		f.WriteAt(half, size)
		f.Close()

		d2 := openTestDir(t, fs, dir, clock.NewFake(t0))
		if d2.HadCleanShutdown() {
			t.Fatal("crash taken for a clean shutdown")
		}
		l2, _ := d2.Log(TopicPartition{"t", 0})
		if l2.LogEndOffset() != 20 || len(readAllBatches(t, l2, 0)) != 5 {
			t.Fatalf("after recovery: log end %d", l2.LogEndOffset())
		}
		if got := mustAppend(t, l2, testBatch(1, 1, 1)).BaseOffset; got != 20 {
			t.Fatalf("append after recovery at %d, want 20", got)
		}
	})
}

func TestRecovery_CutsAtCorruptBatchAndDropsLaterSegments(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		d := openTestDir(t, fs, dir, clock.NewFake(t0))
		l := mustCreate(t, d, "t")
		for range 60 {
			mustAppend(t, l, testBatch(2, 2000, 1))
		}
		mustDurable(t, l, 120)
		segs := *l.segs.Load()
		if len(segs) < 3 {
			t.Fatalf("want >= 3 segments, have %d", len(segs))
		}
		victim := segs[1]
		name := segmentName(l.path, victim.base, logSuffix)
		crash(t, fs, d)
		// Flip one byte inside the third batch of the second segment. The
		// recovery point may be past it; force a full scan by removing
		// the checkpoint, as a crash before the first checkpoint would.
		fs.Remove(dir + "/" + recoveryPointFile)
		f, _ := fs.OpenFile(name, os.O_RDWR, 0)
		h := testBatch(2, 2000, 1)
		pos := int64(len(h))*2 + 100
		one := []byte{0}
		f.ReadAt(one, pos)
		one[0] ^= 0x40
		f.WriteAt(one, pos)
		f.Close()

		d2 := openTestDir(t, fs, dir, clock.NewFake(t0))
		l2, _ := d2.Log(TopicPartition{"t", 0})
		want := victim.base + 4 // two whole batches of two records survive
		if l2.LogEndOffset() != want {
			t.Fatalf("log end after corrupt batch = %d, want %d", l2.LogEndOffset(), want)
		}
		if l2.NumSegments() != 2 {
			t.Fatalf("segments after the corrupt one kept: %d", l2.NumSegments())
		}
		readAllBatches(t, l2, 0) // every served batch passes its CRC
	})
}

func TestRecovery_RebuildsIndexThatDoesNotMatch(t *testing.T) {
	for name, garble := range map[string]func([]byte) []byte{
		"truncated mid-entry": func(b []byte) []byte { return b[:len(b)-3] },
		"zeroed":              func(b []byte) []byte { return make([]byte, len(b)) },
		"past the segment":    func(b []byte) []byte { b[len(b)-4] = 0x7f; return b },
	} {
		t.Run(name, func(t *testing.T) {
			fs := vfs.NewFaultFS()
			d := openTestDir(t, fs, "/d", clock.NewFake(t0))
			l := mustCreate(t, d, "t")
			for range 60 {
				mustAppend(t, l, testBatch(2, 2000, 1))
			}
			want := readAllBatches(t, l, 0)
			first := (*l.segs.Load())[0]
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			idx := segmentName(l.path, first.base, indexSuffix)
			b, _ := vfs.ReadFile(fs, idx)
			if len(b) < 16 {
				t.Fatalf("index too small to garble: %d bytes", len(b))
			}
			if err := vfs.WriteFileAtomic(fs, l.path, fmt.Sprintf("%020d.index", first.base), garble(b)); err != nil {
				t.Fatal(err)
			}
			d2 := openTestDir(t, fs, "/d", clock.NewFake(t0))
			l2, _ := d2.Log(TopicPartition{"t", 0})
			got := readAllBatches(t, l2, 0)
			if len(got) != len(want) {
				t.Fatalf("read %d batches after index rebuild, want %d", len(got), len(want))
			}
			rebuilt, _ := vfs.ReadFile(fs, idx)
			if !bytes.Equal(rebuilt[:16], b[:16]) || len(rebuilt)%indexEntrySize != 0 {
				t.Fatalf("index file not rebuilt")
			}
		})
	}
}

func TestLog_WriteErrorLeavesLogReadable(t *testing.T) {
	fs := vfs.NewFaultFS()
	d := openTestDir(t, fs, "/d", clock.NewFake(t0))
	l := mustCreate(t, d, "t")
	mustAppend(t, l, testBatch(3, 10, 1))
	fs.TearNextWrite(20, syscall.ENOSPC)
	if _, err := l.Append(testBatch(3, 10, 1), 0); !isErr(err, syscall.ENOSPC) {
		t.Fatalf("append on a full disk: %v", err)
	}
	if l.LogEndOffset() != 3 || len(readAllBatches(t, l, 0)) != 1 {
		t.Fatalf("failed append changed the log: end %d", l.LogEndOffset())
	}
	if got := mustAppend(t, l, testBatch(3, 10, 1)).BaseOffset; got != 3 {
		t.Fatalf("append after the disk freed up at %d, want 3", got)
	}
	if n := len(readAllBatches(t, l, 0)); n != 2 {
		t.Fatalf("read %d batches, want 2", n)
	}
}

func TestLog_SyncErrorFailsLogUntilReopened(t *testing.T) {
	fs := vfs.NewFaultFS()
	d := openTestDir(t, fs, "/d", clock.Real)
	l := mustCreate(t, d, "t")
	mustAppend(t, l, testBatch(3, 10, 1))
	mustDurable(t, l, 3)
	fs.FailNextSync(syscall.EIO)
	info := mustAppend(t, l, testBatch(3, 10, 1))
	if err := l.WaitDurable(context.Background(), info.LastOffset+1); !isErr(err, ErrFailed) {
		t.Fatalf("WaitDurable after EIO: %v", err)
	}
	if _, err := l.Append(testBatch(1, 1, 1), 0); !isErr(err, ErrFailed) {
		t.Fatalf("append on a failed log: %v", err)
	}
	if r, err := l.Read(0, 1<<20); err != nil || r.Len == 0 {
		t.Fatalf("failed log not readable: %v", err)
	}
	d.Close()
	d2 := openTestDir(t, fs, "/d", clock.Real)
	l2, _ := d2.Log(TopicPartition{"t", 0})
	if l2.LogEndOffset() < 3 {
		t.Fatalf("durable data lost: log end %d", l2.LogEndOffset())
	}
	mustAppend(t, l2, testBatch(1, 1, 1))
}

// crash abandons a Dir as kill -9 would: on the FaultFS every handle dies;
// on the OS the clean-shutdown marker is simply never written.
func crash(t *testing.T, fs vfs.FS, d *Dir) {
	t.Helper()
	if ffs, ok := fs.(*vfs.FaultFS); ok {
		ffs.Crash()
		d.Close()
		return
	}
	close(d.quit)
	d.wg.Wait()
	d.closed = true
	d.closeLogs()
}
