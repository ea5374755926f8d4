package log

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/vfs"
)

func encodeTxns(as ...AbortedTxn) []byte {
	var b []byte
	for _, a := range as {
		b = a.appendTo(b)
	}
	return b
}

func TestTxnIndex_EncodesKafkasLayout(t *testing.T) {
	// Kafka's AbortedTxn: int16 version 0, producer id, first offset, last
	// offset, last stable offset, big-endian: 34 bytes.
	b := encodeTxns(AbortedTxn{ProducerID: 0x0102, FirstOffset: 3, LastOffset: 4, LastStableOffset: 5})
	want := []byte{0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 5}
	if !bytes.Equal(b, want) || len(b) != AbortedTxnSize {
		t.Fatalf("got % x\nwant % x", b, want)
	}
}

func TestTxnIndex_DecodeRejectsBadEntries(t *testing.T) {
	good := AbortedTxn{ProducerID: 7, FirstOffset: 10, LastOffset: 20, LastStableOffset: 21}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"torn entry", encodeTxns(good)[:AbortedTxnSize-1]},
		{"version 1", func() []byte { b := encodeTxns(good); b[1] = 1; return b }()},
		{"negative producer id", encodeTxns(AbortedTxn{-1, 10, 20, 21})},
		{"first after last", encodeTxns(AbortedTxn{7, 21, 20, 21})},
		{"marker below the segment", encodeTxns(AbortedTxn{7, 1, 9, 10})},
		{"marker past the segment end", encodeTxns(AbortedTxn{7, 10, 30, 31})},
		{"markers out of order", encodeTxns(good, AbortedTxn{8, 10, 19, 20})},
		{"last stable offset past the marker", encodeTxns(AbortedTxn{7, 10, 20, 22})},
		{"negative last stable offset", encodeTxns(AbortedTxn{7, 10, 20, -1})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeTxnIndex(tc.b, 10, 30); !errors.Is(err, errCorruptTxnIndex) {
				t.Fatalf("err %v, want errCorruptTxnIndex", err)
			}
		})
	}
	got, err := DecodeTxnIndex(encodeTxns(good, AbortedTxn{8, 5, 25, 12}), 10, 30)
	if err != nil || len(got) != 2 || got[1].FirstOffset != 5 {
		t.Fatalf("good entries: %+v %v", got, err)
	}
}

// appendTxnData appends n one-record batches and returns the offset of the
// first.
func appendTxnData(t *testing.T, l *Log, n int) int64 {
	t.Helper()
	first := l.LogEndOffset()
	for range n {
		mustAppend(t, l, testBatch(1, 100, t0.UnixMilli()))
	}
	return first
}

func TestTxnIndex_AppendQueryTruncateDelete(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		d := openTestDir(t, fs, dir, clock.NewFake(t0))
		l := mustCreate(t, d, "t")
		cfg := smallConfig()
		cfg.SegmentBytes = 2048 // about 12 batches a segment
		l.SetConfig(cfg)
		// Transactions a (producer 1) and b (producer 2) interleave; a
		// is aborted at 40, b at 70, c (producer 1 again) at 100.
		appendTxnData(t, l, 41)
		a := AbortedTxn{ProducerID: 1, FirstOffset: 5, LastOffset: 40, LastStableOffset: 30}
		if err := l.AppendAbortedTxn(a); err != nil {
			t.Fatal(err)
		}
		appendTxnData(t, l, 30)
		b := AbortedTxn{ProducerID: 2, FirstOffset: 30, LastOffset: 70, LastStableOffset: 71}
		l.AppendAbortedTxn(b)
		appendTxnData(t, l, 40)
		c := AbortedTxn{ProducerID: 1, FirstOffset: 90, LastOffset: 100, LastStableOffset: 101}
		l.AppendAbortedTxn(c)
		if l.NumSegments() < 5 {
			t.Fatalf("only %d segments", l.NumSegments())
		}
		for _, tc := range []struct {
			from, upper int64
			want        []AbortedTxn
		}{
			{0, 5, nil},
			{0, 6, []AbortedTxn{a}},
			{0, 31, []AbortedTxn{a, b}}, // a's LSO 30 < 31: keep looking, find b
			{41, 80, []AbortedTxn{b}},   // a ended before 41
			{41, 200, []AbortedTxn{b, c}},
			{71, 95, []AbortedTxn{c}},
			{101, 200, nil},
		} {
			if got := l.AbortedTxns(tc.from, tc.upper); !slices.Equal(got, tc.want) {
				t.Errorf("AbortedTxns(%d, %d) = %+v, want %+v", tc.from, tc.upper, got, tc.want)
			}
		}
		if err := l.AppendAbortedTxn(AbortedTxn{ProducerID: 1, FirstOffset: 1, LastOffset: 500}); err == nil {
			t.Fatal("an entry past the log end was accepted")
		}

		// Truncation drops the entries of markers cut off.
		if err := l.TruncateTo(70); err != nil {
			t.Fatal(err)
		}
		if got := l.AbortedTxns(0, 200); !slices.Equal(got, []AbortedTxn{a}) {
			t.Fatalf("after TruncateTo(70): %+v", got)
		}
		// Reopened cleanly, the index files are trusted.
		d.Close()
		d = openTestDir(t, fs, dir, clock.NewFake(t0))
		l, _ = d.Log(TopicPartition{"t", 0})
		if got := l.AbortedTxns(0, 200); !slices.Equal(got, []AbortedTxn{a}) {
			t.Fatalf("after reopening: %+v", got)
		}
		// Deleting the segments deletes their index files.
		if _, err := l.DeleteRecords(l.LogEndOffset()); err != nil {
			t.Fatal(err)
		}
		d.RunRetention()
		// The segment holding a's marker went with its index file
		// (renamed *.deleted, removed after file.delete.delay.ms).
		name := "00000000000000000036" + txnIndexSuffix
		entries, _ := fs.ReadDir(l.Path())
		for _, e := range entries {
			if e.Name() == name {
				t.Fatalf("%s survived the deletion of its segment", name)
			}
		}
	})
}

// FuzzDecodeTxnIndex feeds arbitrary bytes to the .txnindex decoder: it
// must not panic, must reject what is not whole valid entries, and what it
// accepts must encode back to the same bytes.
func FuzzDecodeTxnIndex(f *testing.F) {
	f.Add(encodeTxns(AbortedTxn{7, 10, 20, 21}, AbortedTxn{8, 0, 25, 3}), int64(10), int64(30))
	f.Add([]byte{}, int64(0), int64(0))
	f.Add(make([]byte, AbortedTxnSize-1), int64(0), int64(1))
	f.Fuzz(func(t *testing.T, b []byte, base, next int64) {
		got, err := DecodeTxnIndex(b, base, next)
		if err != nil {
			if !errors.Is(err, errCorruptTxnIndex) {
				t.Fatalf("error %v does not wrap errCorruptTxnIndex", err)
			}
			return
		}
		if again := encodeTxns(got...); !bytes.Equal(again, b) {
			t.Fatalf("accepted bytes re-encode differently:\n%x\n%x", b, again)
		}
	})
}

func TestTxnIndex_CorruptIndexIsRebuiltAtOpen(t *testing.T) {
	// A .txnindex that fails its checks in a segment otherwise trusted
	// (clean shutdown) is emptied, and Options.RebuildTxnIndex is asked to
	// rebuild from that segment's base offset.
	fs := vfs.NewFaultFS()
	d := openTestDir(t, fs, "/data", clock.NewFake(t0))
	l := mustCreate(t, d, "t")
	cfg := smallConfig()
	cfg.SegmentBytes = 2048
	l.SetConfig(cfg)
	appendTxnData(t, l, 30)
	a := AbortedTxn{ProducerID: 1, FirstOffset: 2, LastOffset: 20, LastStableOffset: 21}
	if err := l.AppendAbortedTxn(a); err != nil {
		t.Fatal(err)
	}
	base := (*l.segs.Load())[l.NumSegments()-1].base
	for _, s := range *l.segs.Load() {
		if s.base <= 20 && 20 < s.next.Load() {
			base = s.base
		}
	}
	d.Close()
	name := segmentName("/data/t-0", base, txnIndexSuffix)
	b, err := vfs.ReadFile(fs, name)
	if err != nil || len(b) != AbortedTxnSize {
		t.Fatalf("%s: %d bytes, %v", name, len(b), err)
	}
	b[1] = 9 // version 9
	if err := vfs.WriteFileAtomic(fs, "/data/t-0", filepath.Base(name), b); err != nil {
		t.Fatal(err)
	}
	var rebuiltFrom []int64
	d = openTestDir(t, fs, "/data", clock.NewFake(t0), func(o *Options) {
		o.RebuildTxnIndex = func(l *Log, from int64) error {
			rebuiltFrom = append(rebuiltFrom, from)
			return l.AppendAbortedTxn(a)
		}
	})
	l, _ = d.Log(TopicPartition{"t", 0})
	if !slices.Equal(rebuiltFrom, []int64{base}) {
		t.Fatalf("rebuilt from %v, want [%d]", rebuiltFrom, base)
	}
	if got := l.AbortedTxns(0, 100); !slices.Equal(got, []AbortedTxn{a}) {
		t.Fatalf("after the rebuild: %+v", got)
	}
}

func TestTxnIndex_RecoveredSegmentWithoutRebuilderKeepsSurvivingEntries(t *testing.T) {
	// Without Options.RebuildTxnIndex (log-only use), a crash keeps the
	// entries whose markers survived recovery and drops the others.
	fs := vfs.NewFaultFS()
	d := openTestDir(t, fs, "/data", clock.NewFake(t0))
	l := mustCreate(t, d, "t")
	appendTxnData(t, l, 10)
	a := AbortedTxn{ProducerID: 1, FirstOffset: 2, LastOffset: 5, LastStableOffset: 6}
	b := AbortedTxn{ProducerID: 2, FirstOffset: 7, LastOffset: 9, LastStableOffset: 10}
	l.AppendAbortedTxn(a)
	l.AppendAbortedTxn(b)
	mustDurable(t, l, 8) // offsets 8 and 9 may be lost below
	fs.Crash()
	d.Close()
	// Cut the log inside batch 9's bytes: recovery truncates at batch 9.
	path := segmentName("/data/t-0", 0, logSuffix)
	data, _ := vfs.ReadFile(fs, path)
	vfs.WriteFileAtomic(fs, "/data/t-0", filepath.Base(path), data[:len(data)-5])
	d = openTestDir(t, fs, "/data", clock.NewFake(t0))
	l, _ = d.Log(TopicPartition{"t", 0})
	if l.LogEndOffset() != 9 {
		t.Fatalf("log end %d after recovery, want 9", l.LogEndOffset())
	}
	if got := l.AbortedTxns(0, 100); !slices.Equal(got, []AbortedTxn{a}) {
		t.Fatalf("entries after recovery: %+v, want only %+v", got, a)
	}
}

func TestTxnIndex_RecoveryRebuildsFromTheRecoveryPoint(t *testing.T) {
	// An entry is written with its marker (AppendMarker) and synced by the
	// flush that makes the marker durable, so after a crash only entries
	// of markers above the checkpointed recovery point are rebuilt.
	fs := vfs.NewFaultFS()
	d := openTestDir(t, fs, "/data", clock.NewFake(t0))
	l := mustCreate(t, d, "t")
	appendTxnData(t, l, 5)
	a := AbortedTxn{ProducerID: 1, FirstOffset: 1, LastOffset: 5, LastStableOffset: 6}
	if _, err := l.AppendMarker(testBatch(1, 10, t0.UnixMilli()), 7, func(off int64) (AbortedTxn, bool) {
		if off != 5 {
			t.Errorf("marker offset %d, want 5", off)
		}
		return a, true
	}); err != nil {
		t.Fatal(err)
	}
	appendTxnData(t, l, 4)
	mustDurable(t, l, l.LogEndOffset())
	rp := l.LogEndOffset()
	if err := d.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	appendTxnData(t, l, 3)
	b := AbortedTxn{ProducerID: 2, FirstOffset: 6, LastOffset: rp + 3, LastStableOffset: rp + 4}
	l.AppendMarker(testBatch(1, 10, t0.UnixMilli()), 7, func(int64) (AbortedTxn, bool) { return b, true })
	fs.Crash() // kill -9: no clean close, the checkpoint still says rp

	var from []int64
	d = openTestDir(t, fs, "/data", clock.NewFake(t0), func(o *Options) {
		o.RebuildTxnIndex = func(l *Log, f int64) error {
			from = append(from, f)
			return l.AppendAbortedTxn(b)
		}
	})
	l, _ = d.Log(TopicPartition{"t", 0})
	if !slices.Equal(from, []int64{rp}) {
		t.Fatalf("rebuilt from %v, want the recovery point [%d]", from, rp)
	}
	if got := l.AbortedTxns(0, 100); !slices.Equal(got, []AbortedTxn{a, b}) {
		t.Fatalf("entries after recovery: %+v", got)
	}
}
