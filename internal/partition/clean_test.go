package partition

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/log/cleaner"
	"github.com/basketmq/basket/internal/producerstate"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

// openCompacted opens partition t-0 on a compacted log with tiny segments.
func openCompacted(t *testing.T, fs vfs.FS) (*log.Dir, *Partition) {
	t.Helper()
	cfg := log.DefaultConfig()
	cfg.SegmentBytes, cfg.FileDeleteDelayMs = 1<<10, 0
	cfg.Compact, cfg.MinCleanableDirtyRatio = true, 0
	d, err := log.OpenDir("/d", log.Options{FS: fs, Clock: clock.Real, RebuildTxnIndex: producerstate.RebuildTxnIndex, Logger: quiet,
		Config: func(log.TopicPartition) log.Config { return cfg }})
	if err != nil {
		t.Fatal(err)
	}
	tp := log.TopicPartition{Topic: "t"}
	l, ok := d.Log(tp)
	if !ok {
		if l, err = d.CreateLog(tp, cfg); err != nil {
			t.Fatal(err)
		}
	}
	p, err := Open(l, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	return d, p
}

// keyedBatch is a batch of one keyed record; pid < 0 makes it plain.
func keyedBatch(t *testing.T, pid int64, seq int32, key, value string) []byte {
	t.Helper()
	spec := record.BatchSpec{BaseTimestamp: 1, ProducerID: pid, BaseSequence: seq, Transactional: pid >= 0}
	if pid < 0 {
		spec.ProducerEpoch, spec.BaseSequence = -1, -1
	}
	b, err := record.AppendBatch(nil, spec, []record.Record{{Key: []byte(key), Value: []byte(value)}}, record.CodecNone)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cleanPartition cleans p's log once, bounded as the broker bounds it.
func cleanPartition(t *testing.T, d *log.Dir, p *Partition) {
	t.Helper()
	c := cleaner.New(d, cleaner.Options{Logger: quiet, Bound: func(*log.Log) (cleaner.Bound, bool) {
		upper, active := p.CleanerBound()
		b := cleaner.Bound{UpperOffset: upper, Producers: map[int64]cleaner.ProducerLast{}}
		for id, last := range active {
			b.Producers[id] = cleaner.ProducerLast{LastDataOffset: last.LastDataOffset, Epoch: last.Epoch}
		}
		return b, true
	}})
	defer c.Close()
	if _, err := c.CleanLog(p.Log()); err != nil {
		t.Fatal(err)
	}
}

// committedValues reads p's log as a read_committed consumer below the last
// stable offset: the value of every data record, dropping those of the
// aborted transactions the log reports.
func committedValues(t *testing.T, p *Partition) []string {
	t.Helper()
	l := p.Log()
	upper := p.LastStableOffset()
	aborted := p.AbortedTxns(l.LogStartOffset(), upper)
	skip := map[int64]bool{}
	var out []string
	var dec record.Decoder
	err := l.ScanHeaders(0, func(h *record.Header) error {
		if h.BaseOffset >= upper {
			return errStop
		}
		for len(aborted) > 0 && aborted[0].FirstOffset <= h.LastOffset() {
			skip[aborted[0].ProducerID] = true
			aborted = aborted[1:]
		}
		if h.Attributes.Control() {
			delete(skip, h.ProducerID) // every marker here ends its transaction
			return nil
		}
		if h.Attributes.Transactional() && skip[h.ProducerID] {
			return nil
		}
		r, err := l.Read(h.BaseOffset, int(h.Size()))
		if err != nil {
			return err
		}
		b, err := r.ReadAll()
		if err != nil {
			return err
		}
		return dec.Records(b[:h.Size()], func(_ *record.Header, rec *record.Record) error {
			out = append(out, string(rec.Key)+"="+string(rec.Value))
			return nil
		})
	})
	if err != nil && !errors.Is(err, errStop) {
		t.Fatal(err)
	}
	return out
}

var (
	errStop = errors.New("stop")
	quiet   = slog.New(slog.DiscardHandler)
)

// TestPartition_TransactionsSurviveCleaningAndRebuild: a compacted partition
// with a committed, an aborted and an open transaction is cleaned up to its
// last stable offset; the open transaction keeps the last stable offset
// where it was. After a crash with no producer-state snapshot and no
// recovery point, the producer state is replayed from the cleaned log and
// the aborted-transaction index rebuilt (producerstate.RebuildTxnIndex):
// the open transaction is open again, the committed producer goes on with
// its next sequence, aborting the open transaction makes it invisible, and
// no aborted record is ever read.
func TestPartition_TransactionsSurviveCleaningAndRebuild(t *testing.T) {
	fs := vfs.NewFaultFS()
	d, p := openCompacted(t, fs)
	pad := strings.Repeat("p", 300)
	mustAppend(t, p, keyedBatch(t, 1, 0, "a", "1"))
	mustMarker(t, p, Marker{ProducerID: 1, Commit: true})
	mustAppend(t, p, keyedBatch(t, 2, 0, "a", "aborted"))
	mustMarker(t, p, Marker{ProducerID: 2})
	mustAppend(t, p, keyedBatch(t, 1, 1, "a", "2"))
	mustMarker(t, p, Marker{ProducerID: 1, Commit: true})
	for i := range 6 {
		mustAppend(t, p, keyedBatch(t, -1, 0, "pad", pad+string(rune('0'+i))))
	}
	open := mustAppend(t, p, keyedBatch(t, 3, 0, "b", "open")).BaseOffset
	for i := range 6 {
		mustAppend(t, p, keyedBatch(t, -1, 0, "pad", pad+string(rune('a'+i))))
	}
	waitDurable(t, p)
	if lso := p.LastStableOffset(); lso != open {
		t.Fatalf("last stable offset %d, want %d", lso, open)
	}
	if upper, _ := p.CleanerBound(); upper != open || p.HighWatermark() <= open {
		t.Fatalf("cleaner bound %d, want the last stable offset %d below the high watermark %d", upper, open, p.HighWatermark())
	}
	cleanPartition(t, d, p)
	if lso := p.LastStableOffset(); lso != open {
		t.Fatalf("last stable offset %d after cleaning, want %d", lso, open)
	}
	for _, v := range committedValues(t, p) {
		if strings.Contains(v, "aborted") || v == "a=1" {
			t.Fatalf("after cleaning a read_committed reader sees %q", v)
		}
	}

	// Crash; no snapshot and no recovery point: everything is replayed.
	fs.Crash()
	d.Close()
	names, _ := fs.ReadDir("/d/t-0")
	for _, e := range names {
		if strings.HasSuffix(e.Name(), ".snapshot") {
			fs.Remove(filepath.Join("/d/t-0", e.Name()))
		}
	}
	fs.Remove("/d/recovery-point-offset-checkpoint")
	d, p = openCompacted(t, fs)
	defer d.Close()
	if lso := p.LastStableOffset(); lso != open {
		t.Fatalf("last stable offset %d after replaying the cleaned log, want the open transaction's %d", lso, open)
	}
	// Producer 1's last batch survived the clean: its sequence goes on.
	mustAppend(t, p, keyedBatch(t, 1, 2, "a", "3"))
	mustMarker(t, p, Marker{ProducerID: 1, Commit: true})
	mustMarker(t, p, Marker{ProducerID: 3})
	waitDurable(t, p)
	if lso, hw := p.LastStableOffset(), p.HighWatermark(); lso != hw {
		t.Fatalf("last stable offset %d, high watermark %d: a transaction is still open", lso, hw)
	}
	var got []string
	for _, v := range committedValues(t, p) {
		if strings.HasPrefix(v, "a=") || strings.HasPrefix(v, "b=") {
			got = append(got, v)
		}
	}
	if strings.Join(got, ",") != "a=2,a=3" {
		t.Fatalf("read_committed records of keys a and b: %v, want a=2,a=3", got)
	}
	for i := range 6 { // seal the segment holding them
		mustAppend(t, p, keyedBatch(t, -1, 0, "pad", pad+string(rune('A'+i))))
	}
	waitDurable(t, p)
	cleanPartition(t, d, p)
	got = got[:0]
	for _, v := range committedValues(t, p) {
		if strings.HasPrefix(v, "a=") || strings.HasPrefix(v, "b=") {
			got = append(got, v)
		}
	}
	if strings.Join(got, ",") != "a=3" {
		t.Fatalf("after the second clean: %v, want a=3", got)
	}
}
