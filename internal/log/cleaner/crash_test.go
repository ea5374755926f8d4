package cleaner

import (
	"errors"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

var errInjected = errors.New("injected fault")

// mutating reports whether an operation changes the file system; faults
// are injected at those (a crash at a read equals a crash before the next
// change).
func mutating(op vfs.Op) bool {
	switch op {
	case vfs.OpOpen, vfs.OpWrite, vfs.OpTruncate, vfs.OpSync, vfs.OpRename, vfs.OpRemove, vfs.OpSyncDir:
		return true
	}
	return false
}

// crashFixture is a compacted log on a FaultFS, every record durable and
// sealed, with the model of its latest records.
func crashFixture(t *testing.T) (*vfs.FaultFS, *log.Dir, *log.Log, model) {
	t.Helper()
	fs := vfs.NewFaultFS()
	d := openDir(t, fs, "/data", clock.NewFake(t0))
	l := mustCreate(t, d, "c")
	want := fill(t, l, record.CodecSnappy, t0.UnixMilli(), 15, 240, 6)
	sealAll(t, l, t0.UnixMilli())
	return fs, d, l, want
}

// TestCrash_AtEveryCleaningStep cleans a log and stops the machine at the
// k-th change the clean makes to the file system, for every k until a clean
// completes: by kill -9 (Crash), by power loss with no unsynced data
// surviving, and by power loss keeping random torn tails. After each the
// log directory is reopened: every key's latest record is there at its
// offset, nothing served fails its checksum, and no .cleaned or .swap file
// is left.
func TestCrash_AtEveryCleaningStep(t *testing.T) {
	kinds := []struct {
		name string
		stop func(fs *vfs.FaultFS, rng *rand.Rand)
	}{
		{"kill", func(fs *vfs.FaultFS, _ *rand.Rand) { fs.Crash() }},
		{"power", func(fs *vfs.FaultFS, _ *rand.Rand) { fs.PowerLoss(nil) }},
		{"power-torn", func(fs *vfs.FaultFS, rng *rand.Rand) { fs.PowerLoss(rng) }},
	}
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			for k := 1; ; k++ {
				fs, d, l, want := crashFixture(t)
				var count atomic.Int64
				var dead, cleaning atomic.Bool
				fs.SetHook(func(op vfs.Op, path string) error {
					if dead.Load() {
						return errInjected
					}
					if !cleaning.Load() || !mutating(op) {
						return nil
					}
					if count.Add(1) == int64(k) {
						dead.Store(true)
						kind.stop(fs, rng)
						return errInjected
					}
					return nil
				})
				c := newCleaner(d, Options{})
				cleaning.Store(true)
				_, err := c.CleanLog(l)
				cleaning.Store(false)
				if !dead.Load() {
					if err != nil {
						t.Fatalf("clean without a fault: %v", err)
					}
					fs.SetHook(nil)
					d.Close()
					t.Logf("%d fault points", k-1)
					return
				}
				c.Close()
				d.Close() // every operation fails: nothing more reaches the disk
				fs.SetHook(nil)
				d2 := openDir(t, fs, "/data", clock.NewFake(t0))
				l2, ok := d2.Log(l.TopicPartition())
				if !ok {
					t.Fatalf("k=%d: partition lost", k)
				}
				checkLatest(t, readAll(t, l2), want, true)
				for _, name := range fileNames(t, fs, "/data/c-0") {
					if strings.HasSuffix(name, ".cleaned") || strings.HasSuffix(name, ".swap") {
						t.Fatalf("k=%d: %s left after recovery", k, name)
					}
				}
				// The recovered log cleans again.
				if _, err := newCleaner(d2, Options{}).CleanLog(l2); err != nil {
					t.Fatalf("k=%d: clean after recovery: %v", k, err)
				}
				checkLatest(t, readAll(t, l2), want, true)
				d2.Close()
			}
		})
	}
}

// TestCrash_FailedWriteOrSyncDuringCleaning fails one write, sync or rename
// of the clean (no crash) at every step: the log stays readable with every
// latest record, either failed cleanly (the old segments) or swapped, and
// a reopen agrees.
func TestCrash_FailedWriteOrSyncDuringCleaning(t *testing.T) {
	for k := 1; ; k++ {
		fs, d, l, want := crashFixture(t)
		var count atomic.Int64
		var cleaning, hit atomic.Bool
		fs.SetHook(func(op vfs.Op, path string) error {
			if cleaning.Load() && mutating(op) && op != vfs.OpOpen && count.Add(1) == int64(k) {
				hit.Store(true)
				return errInjected
			}
			return nil
		})
		c := newCleaner(d, Options{})
		cleaning.Store(true)
		_, err := c.CleanLog(l)
		cleaning.Store(false)
		fs.SetHook(nil)
		if !hit.Load() {
			d.Close()
			t.Logf("%d fault points", k-1)
			return
		}
		if err == nil && !errors.Is(err, errInjected) {
			// A failed removal of an aborted .cleaned file is not an error.
			t.Logf("k=%d: clean succeeded despite the fault", k)
		}
		if l.LogEndOffset() > 0 {
			if _, ferr := l.Read(l.LogStartOffset(), 1); ferr == nil {
				checkLatest(t, readAll(t, l), want, true)
			}
		}
		d.Close()
		d2 := openDir(t, fs, "/data", clock.NewFake(t0))
		l2, _ := d2.Log(l.TopicPartition())
		checkLatest(t, readAll(t, l2), want, true)
		d2.Close()
	}
}
