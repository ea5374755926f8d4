package producerstate

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/vfs"
)

func mustLoad(t *testing.T, fs vfs.FS, l *log.Log) *State {
	t.Helper()
	s, err := Load(fs, l.Path(), l)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func mustWrite(t *testing.T, s *State, fs vfs.FS, l *log.Log, offset int64) {
	t.Helper()
	if err := s.WriteSnapshot(fs, l.Path(), offset); err != nil {
		t.Fatalf("WriteSnapshot(%d): %v", offset, err)
	}
}

// withMarker returns a copy of s holding an extra producer id, so a test
// can tell which snapshot Load used.
func withMarker(t *testing.T, s *State, offset, marker int64) *State {
	t.Helper()
	c := mustDecode(t, s.encode(offset), offset)
	c.producers[marker] = &producer{epoch: 1, coordinatorEpoch: -1, txnFirstOffset: -1}
	return c
}

func snapshotsIn(t *testing.T, fs vfs.FS, l *log.Log) []int64 {
	t.Helper()
	offs, err := listSnapshots(fs, l.Path())
	if err != nil {
		t.Fatal(err)
	}
	return offs
}

func TestLoad_FullReplayEqualsAppendedState(t *testing.T) {
	fs := vfs.NewFaultFS()
	l := newTestLog(t, fs)
	w := newWorkload(t, l, 1)
	w.run(60)
	if l.NumSegments() < 3 || w.s.Len() != 3 {
		t.Fatalf("workload too small: %d segments, %d producers", l.NumSegments(), w.s.Len())
	}
	assertSameState(t, mustLoad(t, fs, l), w.s)
}

func TestLoad_SnapshotPlusReplayEqualsFullReplay(t *testing.T) {
	fs := vfs.NewFaultFS()
	l := newTestLog(t, fs)
	w := newWorkload(t, l, 2)
	w.run(30)
	mid := l.LogEndOffset()
	mustWrite(t, withMarker(t, w.s, mid, 1000), fs, l, mid)
	w.run(30)

	got := mustLoad(t, fs, l)
	if _, ok := got.Producer(1000); !ok {
		t.Fatal("Load did not use the snapshot")
	}
	delete(got.producers, 1000)
	assertSameState(t, got, w.s)

	if err := DeleteSnapshotsAbove(fs, l.Path(), -1); err != nil {
		t.Fatal(err)
	}
	assertSameState(t, mustLoad(t, fs, l), w.s)
}

func TestLoad_CorruptSnapshotFallsBack(t *testing.T) {
	corruptions := []struct {
		name string
		edit func(b []byte) []byte
	}{
		{"bit flip", func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b }},
		{"torn", func(b []byte) []byte { return b[:len(b)-7] }},
		{"empty", func(b []byte) []byte { return nil }},
		{"version 9", func(b []byte) []byte { b[versionOffset+1] = 9; return b }},
		{"without magic", func(b []byte) []byte { return b[versionOffset:] }},
	}
	for _, tc := range corruptions {
		for _, both := range []bool{false, true} {
			name := tc.name + "/newest"
			if both {
				name = tc.name + "/both"
			}
			t.Run(name, func(t *testing.T) {
				fs := vfs.NewFaultFS()
				l := newTestLog(t, fs)
				w := newWorkload(t, l, 3)
				w.run(20)
				older := l.LogEndOffset()
				mustWrite(t, withMarker(t, w.s, older, 1001), fs, l, older)
				w.run(20)
				newer := l.LogEndOffset()
				mustWrite(t, withMarker(t, w.s, newer, 1002), fs, l, newer)
				w.run(10)

				damage := []int64{newer}
				if both {
					damage = append(damage, older)
				}
				for _, off := range damage {
					path := filepath.Join(l.Path(), snapshotName(off))
					b, err := vfs.ReadFile(fs, path)
					if err != nil {
						t.Fatal(err)
					}
					if err := vfs.WriteFileAtomic(fs, l.Path(), snapshotName(off), tc.edit(b)); err != nil {
						t.Fatal(err)
					}
				}

				got := mustLoad(t, fs, l)
				_, usedOlder := got.Producer(1001)
				_, usedNewer := got.Producer(1002)
				if usedNewer || usedOlder == both {
					t.Fatalf("used older %v, newer %v; want older %v", usedOlder, usedNewer, !both)
				}
				delete(got.producers, 1001)
				assertSameState(t, got, w.s)
				want := []int64{older}
				if both {
					want = nil
				}
				if left := snapshotsIn(t, fs, l); !slices.Equal(left, want) {
					t.Fatalf("snapshots left %v, want %v (corrupt ones deleted)", left, want)
				}
			})
		}
	}
}

func TestLoad_SnapshotAboveLogEndIsDeleted(t *testing.T) {
	fs := vfs.NewFaultFS()
	l := newTestLog(t, fs)
	w := newWorkload(t, l, 4)
	w.run(15)
	mid := l.LogEndOffset()
	mustWrite(t, withMarker(t, w.s, mid, 1001), fs, l, mid)
	w.run(15)
	end := l.LogEndOffset()
	// A snapshot above the log end, as a crash that lost the log's unsynced
	// tail leaves behind.
	if err := vfs.WriteFileAtomic(fs, l.Path(), snapshotName(end+5), withMarker(t, w.s, end+5, 1002).encode(end+5)); err != nil {
		t.Fatal(err)
	}
	if got := mustLoad(t, fs, l); !hasProducer(got, 1001) || hasProducer(got, 1002) {
		t.Fatalf("before truncation: used snapshot at %d %v, at %d %v; want only the first", mid, hasProducer(got, 1001), end+5, hasProducer(got, 1002))
	}

	// A follower cuts its log below the remaining snapshot and reloads.
	if err := l.TruncateTo(mid - 1); err != nil {
		t.Fatal(err)
	}
	got := mustLoad(t, fs, l)
	if hasProducer(got, 1001) {
		t.Fatal("Load used a snapshot above the truncated log end")
	}
	if left := snapshotsIn(t, fs, l); len(left) != 0 {
		t.Fatalf("snapshots above the log end not deleted: %v", left)
	}
	for _, f := range fs.DurableFiles() {
		if filepath.Ext(f) == snapshotSuffix {
			t.Fatalf("deleted snapshot %s would come back after a power loss", f)
		}
	}
	assertSameState(t, got, replayAll(t, l))
}

func hasProducer(s *State, id int64) bool { _, ok := s.Producer(id); return ok }

func TestLoad_SnapshotBelowLogStartIsNotUsed(t *testing.T) {
	fs := vfs.NewFaultFS()
	l := newTestLog(t, fs)
	w := newWorkload(t, l, 5)
	w.run(20)
	old := l.LogEndOffset()
	mustWrite(t, withMarker(t, w.s, old, 1001), fs, l, old)
	w.run(20)
	if _, err := l.DeleteRecords(old + 3); err != nil {
		t.Fatal(err)
	}
	got := mustLoad(t, fs, l)
	if _, ok := got.Producer(1001); ok {
		t.Fatal("Load used a snapshot below the log start offset")
	}
	if got.Len() == 0 {
		t.Fatal("no producers rebuilt from the remaining log")
	}
}

func TestWriteSnapshot_KeepsNewestAndDeletesAbove(t *testing.T) {
	fs := vfs.NewFaultFS()
	l := newTestLog(t, fs)
	s := New()
	for _, off := range []int64{10, 20, 30, 40} {
		mustWrite(t, s, fs, l, off)
	}
	if got := snapshotsIn(t, fs, l); !slices.Equal(got, []int64{30, 40}) {
		t.Fatalf("snapshots %v, want the %d newest [30 40]", got, SnapshotsToKeep)
	}
	mustWrite(t, s, fs, l, 35) // the log was cut below 40
	if got := snapshotsIn(t, fs, l); !slices.Equal(got, []int64{30, 35}) {
		t.Fatalf("snapshots %v, want [30 35]", got)
	}
	if err := s.WriteSnapshot(fs, l.Path(), -1); err == nil {
		t.Fatal("snapshot at a negative offset written")
	}
}

func TestWriteSnapshot_DurableAndAtomic(t *testing.T) {
	fs := vfs.NewFaultFS()
	l := newTestLog(t, fs)
	w := newWorkload(t, l, 6)
	w.run(20)
	end := l.LogEndOffset()
	mustWrite(t, w.s, fs, l, end)
	want := filepath.Join(l.Path(), snapshotName(end))
	if !slices.Contains(fs.DurableFiles(), want) {
		t.Fatalf("snapshot %s not durable once WriteSnapshot returned: %v", want, fs.DurableFiles())
	}

	boom := errors.New("sync failed")
	fs.SetHook(func(op vfs.Op, path string) error {
		if op == vfs.OpSync && strings.HasSuffix(path, snapshotSuffix+".tmp") {
			return boom
		}
		return nil
	})
	defer fs.SetHook(nil)
	if err := w.s.WriteSnapshot(fs, l.Path(), end+1); !errors.Is(err, boom) {
		t.Fatalf("WriteSnapshot with a failing sync: %v", err)
	}
	if got := snapshotsIn(t, fs, l); !slices.Equal(got, []int64{end}) {
		t.Fatalf("after a failed write: snapshots %v, want [%d]", got, end)
	}
}
