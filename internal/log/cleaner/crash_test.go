package cleaner

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
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

// crashCheck checks a log reopened after a fault against the fixture's
// model; recleaned is set once the recovered log was cleaned again.
type crashCheck func(t *testing.T, l *log.Log, recleaned bool)

// crashFixtures are the logs the crash tests clean: plain records, and
// committed and aborted transactions, where a read_committed reader of the
// recovered log must see every key's latest committed record and no
// aborted one — so a recovered swap has the right .txnindex, or the old one.
var crashFixtures = []struct {
	name string
	make func(t *testing.T) (*vfs.FaultFS, *log.Dir, *log.Log, crashCheck)
}{
	{"plain", func(t *testing.T) (*vfs.FaultFS, *log.Dir, *log.Log, crashCheck) {
		fs, d, l, want := crashFixture(t)
		return fs, d, l, func(t *testing.T, l *log.Log, _ bool) {
			t.Helper()
			checkLatest(t, readAll(t, l), want, true)
		}
	}},
	{"txn", crashFixtureTxn},
}

// crashFixtureTxn is a compacted log on a FaultFS, every record durable
// and sealed, written by rounds of txnFixture (aborted transactions in
// every segment) between plain updates of other keys, and cleaned once
// halfway. Its check also wants the aborted-transaction index of the old
// segments or of the new ones.
func crashFixtureTxn(t *testing.T) (*vfs.FaultFS, *log.Dir, *log.Log, crashCheck) {
	t.Helper()
	fs, d, l, want := writeTxnFixture(t)
	before := l.AbortedTxns(0, l.LogEndOffset())
	txnCleanedOnce.Do(func() {
		// The same log cleaned without a fault: the index a completed
		// swap must leave.
		_, d, l, _ := writeTxnFixture(t)
		if _, err := newCleaner(t, d, Options{}).CleanLog(l); err != nil {
			t.Fatal(err)
		}
		txnCleanedIndex = l.AbortedTxns(0, l.LogEndOffset())
		d.Close()
	})
	after := txnCleanedIndex
	if len(after) == 0 || slices.Equal(before, after) {
		t.Fatalf("the fixture's clean does not change its .txnindex: %+v", after)
	}
	return fs, d, l, func(t *testing.T, l *log.Log, recleaned bool) {
		t.Helper()
		committed, _ := readCommitted(t, l)
		checkNoAborted(t, committed, "read_committed")
		checkLatest(t, committed, want, true)
		// The clean swaps its groups of segments in together, each with its
		// .txnindex; a kill -9 amid the renames may leave some groups old
		// and some new (as Kafka, which swaps group by group). Either way
		// no entry is invented, and none the clean keeps is lost. A
		// second clean drops more entries.
		got := l.AbortedTxns(0, l.LogEndOffset())
		if !subset(got, before) || (!recleaned && !subset(after, got)) {
			t.Fatalf("aborted-transaction index after recovery: %+v\nbefore the clean: %+v\nafter it: %+v", got, before, after)
		}
	}
}

// subset reports whether every entry of a is in b.
func subset(a, b []log.AbortedTxn) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

var (
	txnCleanedOnce  sync.Once
	txnCleanedIndex []log.AbortedTxn
)

func writeTxnFixture(t *testing.T) (*vfs.FaultFS, *log.Dir, *log.Log, model) {
	t.Helper()
	fs := vfs.NewFaultFS()
	d := openDir(t, fs, "/data", clock.NewFake(t0))
	l := mustCreate(t, d, "c")
	want := model{}
	for round := range 4 {
		for k, r := range fill(t, l, record.CodecNone, t0.UnixMilli(), 6, 24, 4) {
			want[k] = r
		}
		for k, r := range txnFixture(t, l, t0.UnixMilli()) {
			want[k] = r
		}
		if round == 1 {
			// Cleaned once: the clean under test drops the index entries
			// of these aborted transactions, whose data is gone, and keeps
			// those of the later ones.
			sealAll(t, l, t0.UnixMilli())
			if _, err := newCleaner(t, d, Options{}).CleanLog(l); err != nil {
				t.Fatal(err)
			}
			// The old segments are removed in the background: let that
			// finish before the clean under test counts its steps.
			waitFor(t, "old segments removed", func() bool {
				for _, name := range fileNames(t, fs, "/data/c-0") {
					if strings.HasSuffix(name, ".deleted") {
						return false
					}
				}
				return true
			})
		}
	}
	sealAll(t, l, t0.UnixMilli())
	return fs, d, l, want
}

// TestCrash_AtEveryCleaningStep cleans a log and stops the machine at the
// k-th change the clean makes to the file system, for every k until a clean
// completes: by kill -9 (Crash), by power loss with no unsynced data
// surviving, and by power loss keeping random torn tails. After each the
// log directory is reopened: every key's latest record is there at its
// offset, nothing served fails its checksum, and no .cleaned or .swap file
// is left. It runs over every crash fixture.
func TestCrash_AtEveryCleaningStep(t *testing.T) {
	for _, fx := range crashFixtures {
		t.Run(fx.name, func(t *testing.T) { crashAtEveryCleaningStep(t, fx.make) })
	}
}

func crashAtEveryCleaningStep(t *testing.T, fixture func(t *testing.T) (*vfs.FaultFS, *log.Dir, *log.Log, crashCheck)) {
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
				fs, d, l, check := fixture(t)
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
				c := newCleaner(t, d, Options{})
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
				check(t, l2, false)
				for _, name := range fileNames(t, fs, "/data/c-0") {
					if strings.HasSuffix(name, ".cleaned") || strings.HasSuffix(name, ".swap") {
						t.Fatalf("k=%d: %s left after recovery", k, name)
					}
				}
				// The recovered log cleans again.
				if _, err := newCleaner(t, d2, Options{}).CleanLog(l2); err != nil {
					t.Fatalf("k=%d: clean after recovery: %v", k, err)
				}
				check(t, l2, true)
				d2.Close()
			}
		})
	}
}

// TestCrash_FailedWriteOrSyncDuringCleaning fails one write, sync or rename
// of the clean (no crash) at every step: the log stays readable with every
// latest record, either failed cleanly (the old segments) or swapped, and
// a reopen agrees. It runs over every crash fixture.
func TestCrash_FailedWriteOrSyncDuringCleaning(t *testing.T) {
	for _, fx := range crashFixtures {
		t.Run(fx.name, func(t *testing.T) { failAtEveryCleaningStep(t, fx.make) })
	}
}

func failAtEveryCleaningStep(t *testing.T, fixture func(t *testing.T) (*vfs.FaultFS, *log.Dir, *log.Log, crashCheck)) {
	for k := 1; ; k++ {
		fs, d, l, check := fixture(t)
		var count atomic.Int64
		var cleaning, hit atomic.Bool
		fs.SetHook(func(op vfs.Op, path string) error {
			if cleaning.Load() && mutating(op) && op != vfs.OpOpen && count.Add(1) == int64(k) {
				hit.Store(true)
				return errInjected
			}
			return nil
		})
		c := newCleaner(t, d, Options{})
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
				check(t, l, false)
			}
		}
		d.Close()
		d2 := openDir(t, fs, "/data", clock.NewFake(t0))
		l2, _ := d2.Log(l.TopicPartition())
		check(t, l2, false)
		d2.Close()
	}
}
