package cleaner

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

// txnFixture writes, over keys k0..k9, committed and aborted transactions
// of three producers interleaved with plain batches, and returns the model
// of the latest committed record per key:
//
//   - plain: k0..k9 = base
//   - producer 7 commits k0..k4 = c1 (later superseded)
//   - producer 8 opens a transaction with k5 = p8; producer 7 writes
//     k5..k9 = aborted-7 and aborts (its entry's last stable offset is
//     producer 8's first offset); producer 8 commits
//   - plain: k0..k4 = final
//   - producer 9 writes k9 = aborted-9 and aborts
//   - plain: end = 1, so a data batch ends the segment
func txnFixture(t *testing.T, l *log.Log, ts int64) model {
	t.Helper()
	want := model{}
	var base []kv
	for i := range 10 {
		base = append(base, kv{key: "k" + string(rune('0'+i)), value: "base"})
	}
	info := appendKV(t, l, record.CodecNone, ts, base...)
	want.apply(info.BaseOffset, base...)

	p7, p8, p9 := newTxnProducer(t, l, 7), newTxnProducer(t, l, 8), newTxnProducer(t, l, 9)
	p7.produce(ts, kv{key: "k0", value: "c1"}, kv{key: "k1", value: "c1"}, kv{key: "k2", value: "c1"}, kv{key: "k3", value: "c1"}, kv{key: "k4", value: "c1"})
	p7.end(ts, true)

	off := p8.produce(ts, kv{key: "k5", value: "p8"})
	p7.lso = func() int64 { return p8.first }
	p7.produce(ts, kv{key: "k5", value: "aborted-7"}, kv{key: "k6", value: "aborted-7"}, kv{key: "k7", value: "aborted-7"})
	p7.produce(ts, kv{key: "k8", value: "aborted-7"}, kv{key: "k9", value: "aborted-7"})
	p7.end(ts, false)
	p8.end(ts, true)
	want.apply(off, kv{key: "k5", value: "p8"})

	final := []kv{{key: "k0", value: "final"}, {key: "k1", value: "final"}, {key: "k2", value: "final"}, {key: "k3", value: "final"}, {key: "k4", value: "final"}}
	info = appendKV(t, l, record.CodecNone, ts, final...)
	want.apply(info.BaseOffset, final...)

	p9.produce(ts, kv{key: "k9", value: "aborted-9"})
	p9.end(ts, false)
	appendKV(t, l, record.CodecNone, ts, kv{key: "end", value: "1"})
	return want
}

// checkNoAborted fails if a record of an aborted transaction is in recs.
func checkNoAborted(t *testing.T, recs []readRecord, what string) {
	t.Helper()
	for _, r := range recs {
		if strings.HasPrefix(r.value, "aborted") {
			t.Fatalf("%s: aborted record %q=%q at %d", what, r.key, r.value, r.offset)
		}
	}
}

// TestCleaner_TransactionalData cleans a log of committed and aborted
// transactions as Kafka's LogCleaner does (KIP-98 data, KIP-534 markers):
// the first clean removes every aborted record, keeps the latest committed
// record per key (an aborted value never shadows the committed one before
// it), and keeps every marker, with an index entry for each ABORT marker
// whose data it just removed. The next clean finds the markers of
// transactions without data and stamps them with a delete horizon; a clean
// after delete.retention.ms removes them, while the COMMIT marker of a
// transaction whose record is still there stays.
func TestCleaner_TransactionalData(t *testing.T) {
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
		want := txnFixture(t, l, ts)
		sealAll(t, l, ts)
		before, _ := readCommitted(t, l)
		checkNoAborted(t, before, "read_committed before cleaning")
		if n := len(l.AbortedTxns(0, l.LogEndOffset())); n != 2 {
			t.Fatalf("%d aborted transactions indexed before cleaning, want 2", n)
		}

		c := newCleaner(t, d, Options{})
		if _, err := c.CleanLog(l); err != nil {
			t.Fatal(err)
		}
		all := readUncommitted(t, l)
		checkNoAborted(t, all, "read_uncommitted after the first clean")
		checkLatest(t, all, want, false)
		committed, markers := readCommitted(t, l)
		checkLatest(t, committed, want, false)
		if markers != 4 {
			t.Fatalf("%d markers after the first clean, want all 4 kept", markers)
		}
		if got := l.AbortedTxns(0, l.LogEndOffset()); len(got) != 2 || got[0].ProducerID != 7 || got[1].ProducerID != 9 {
			t.Fatalf("aborted transactions after the first clean: %+v, want producers 7 and 9", got)
		}

		clk.Advance(time.Second)
		if _, err := c.CleanLog(l); err != nil {
			t.Fatal(err)
		}
		if n := controlBatches(t, l); n != 4 {
			t.Fatalf("%d markers before delete.retention.ms, want 4", n)
		}
		if got := l.AbortedTxns(0, l.LogEndOffset()); len(got) != 0 {
			t.Fatalf("aborted transactions without data still indexed: %+v", got)
		}
		horizons := 0
		l.ScanHeaders(0, func(h *record.Header) error {
			if h.Attributes.Control() && h.Attributes.DeleteHorizon() {
				horizons++
				if h.BaseTimestamp != clk.Now().UnixMilli()+60_000 {
					t.Errorf("marker at %d: delete horizon %d", h.BaseOffset, h.BaseTimestamp)
				}
			}
			return nil
		})
		if horizons != 3 {
			t.Fatalf("%d markers with a delete horizon, want 3 (all but producer 8's COMMIT)", horizons)
		}

		clk.Advance(61 * time.Second)
		if _, err := c.CleanLog(l); err != nil {
			t.Fatal(err)
		}
		committed, markers = readCommitted(t, l)
		checkLatest(t, committed, want, false)
		checkNoAborted(t, readUncommitted(t, l), "after the horizon")
		if markers != 1 {
			t.Fatalf("%d markers after delete.retention.ms, want 1 (producer 8's, whose record stays)", markers)
		}
		l.ScanHeaders(0, func(h *record.Header) error {
			if h.Attributes.Control() && h.ProducerID != 8 {
				t.Fatalf("marker of producer %d left at %d", h.ProducerID, h.BaseOffset)
			}
			return nil
		})
	})
}

// TestCleaner_OpenTransactionAboveBoundUntouched: with the bound at the
// last stable offset — the first offset of an open transaction — nothing
// from the segment holding it on is cleaned, though later plain records
// supersede its key; once the transaction is aborted and the bound moves
// past it, the clean removes its records.
func TestCleaner_OpenTransactionAboveBoundUntouched(t *testing.T) {
	d := openDir(t, vfs.NewFaultFS(), "/data", clock.NewFake(t0))
	defer d.Close()
	l := mustCreate(t, d, "c")
	ts := t0.UnixMilli()
	want := fill(t, l, record.CodecNone, ts, 5, 100, 5)
	p := newTxnProducer(t, l, 3)
	lso := p.produce(ts, kv{key: "key-1", value: "aborted-open"})
	for k, r := range fill(t, l, record.CodecNone, ts, 5, 300, 5) {
		want[k] = r
	}
	sealAll(t, l, ts)
	var above []readRecord
	for _, r := range readAll(t, l) {
		if r.offset >= lso {
			above = append(above, r)
		}
	}
	bound := lso
	c := New(d, Options{Logger: quiet, Bound: func(*log.Log) (Bound, bool) { return Bound{UpperOffset: bound}, true }})
	t.Cleanup(c.Close)
	if _, err := c.CleanLog(l); err != nil {
		t.Fatal(err)
	}
	var got []readRecord
	for _, r := range readAll(t, l) {
		if r.offset >= lso {
			got = append(got, r)
		}
	}
	if len(got) != len(above) {
		t.Fatalf("%d records at or above the last stable offset %d after cleaning, had %d", len(got), lso, len(above))
	}
	for i := range got {
		if got[i] != above[i] {
			t.Fatalf("record %d changed: %+v, was %+v", i, got[i], above[i])
		}
	}
	checkLatest(t, readUncommitted(t, l), want, true)

	p.end(ts, false)
	sealAll(t, l, ts)
	bound = l.LogEndOffset()
	if _, err := c.CleanLog(l); err != nil {
		t.Fatal(err)
	}
	all := readUncommitted(t, l)
	checkNoAborted(t, all, "after the abort")
	checkLatest(t, all, want, true) // the seal records of the two rounds
}

// TestCleaner_CleanedTxnIndexSurvivesReopen: the cleaned segments' .txnindex
// files, swapped in with them, hold the entries the clean kept; a reopen
// reads the same, and no .txnindex is left without its segment.
func TestCleaner_CleanedTxnIndexSurvivesReopen(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		d := openDir(t, fs, dir, clock.NewFake(t0))
		l := mustCreate(t, d, "c")
		ts := t0.UnixMilli()
		for range 4 {
			fill(t, l, record.CodecNone, ts, 6, 60, 4)
			txnFixture(t, l, ts)
		}
		sealAll(t, l, ts)
		if _, err := newCleaner(t, d, Options{}).CleanLog(l); err != nil {
			t.Fatal(err)
		}
		want := l.AbortedTxns(0, l.LogEndOffset())
		if len(want) != 8 {
			t.Fatalf("%d aborted transactions kept by the first clean, want 8", len(want))
		}
		d.Close()
		d = openDir(t, fs, dir, clock.NewFake(t0))
		defer d.Close()
		l, _ = d.Log(log.TopicPartition{Topic: "c"})
		if got := l.AbortedTxns(0, l.LogEndOffset()); !slices.Equal(got, want) {
			t.Fatalf("after a reopen: %+v, want %+v", got, want)
		}
		names := fileNames(t, fs, l.Path())
		for _, n := range names {
			if base, ok := strings.CutSuffix(n, ".txnindex"); ok && !slices.Contains(names, base+".log") {
				t.Fatalf("%s has no segment", n)
			}
		}
	})
}

// TestTxnTracker_Decisions walks batches in offset order through the
// tracker, as a pass does, and checks Kafka's CleanedTransactionMetadata
// rules: the batches of an aborted transaction (from its first offset to its
// ABORT marker) are discarded, other producers' are not; a marker may go
// only when no batch of its transaction was read in the pass; an ABORT
// marker that stays yields its index entry; an emptied marker may go.
func TestTxnTracker_Decisions(t *testing.T) {
	data := func(pid, base int64) *record.Header {
		return &record.Header{BaseOffset: base, ProducerID: pid, Attributes: record.Attributes(0x10)} // transactional
	}
	plain := func(base int64) *record.Header { return &record.Header{BaseOffset: base, ProducerID: -1} }
	marker := func(pid, base int64) *record.Header {
		return &record.Header{BaseOffset: base, ProducerID: pid, Attributes: record.Attributes(0x30)} // transactional, control
	}
	type step struct {
		h       *record.Header
		typ     record.ControlType
		empty   bool // a marker emptied by an earlier clean
		discard bool
		indexed bool
	}
	tests := []struct {
		name    string
		aborted []log.AbortedTxn
		steps   []step
	}{
		{"aborted data goes, its marker stays with its entry", []log.AbortedTxn{{ProducerID: 1, FirstOffset: 1, LastOffset: 4, LastStableOffset: 5}},
			[]step{
				{h: data(1, 0)}, // an earlier, committed transaction of producer 1
				{h: marker(1, 0), typ: record.ControlCommit},
				{h: data(1, 1), discard: true},
				{h: data(2, 2)},
				{h: plain(3)},
				{h: marker(1, 4), typ: record.ControlAbort, indexed: true},
				{h: marker(2, 5), typ: record.ControlCommit},
			}},
		{"markers of transactions without data may go", []log.AbortedTxn{{ProducerID: 1, FirstOffset: 0, LastOffset: 1, LastStableOffset: 2}},
			[]step{
				{h: marker(1, 1), typ: record.ControlAbort, discard: true},
				{h: marker(2, 2), typ: record.ControlCommit, discard: true},
				{h: marker(3, 3), empty: true, discard: true},
			}},
		{"an aborted transaction starting before the pass", []log.AbortedTxn{{ProducerID: 4, FirstOffset: 2, LastOffset: 12, LastStableOffset: 13}},
			[]step{
				{h: data(4, 10), discard: true},
				{h: marker(4, 12), typ: record.ControlAbort, indexed: true},
				{h: data(4, 13)},
				{h: marker(4, 14), typ: record.ControlCommit},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr txnTracker
			tr.reset(slices.Clone(tt.aborted))
			for i, s := range tt.steps {
				var discard bool
				var entry *log.AbortedTxn
				if s.h.Attributes.Control() {
					discard, entry = tr.onControl(s.h, s.typ, !s.empty)
				} else {
					discard = tr.onData(s.h)
				}
				if discard != s.discard || (entry != nil) != s.indexed {
					t.Fatalf("step %d (%+v): discard %v, entry %v; want %v, %v", i, s.h, discard, entry, s.discard, s.indexed)
				}
			}
		})
	}
}
