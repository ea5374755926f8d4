package producerstate

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

const t0 = 1_700_000_000_000 // Unix ms

const attrControl = record.Attributes(0x20)

// hdr is the header of a data batch of n records from producer pid, as a
// client sends it (BaseOffset 0).
func hdr(pid int64, epoch int16, seq, n int32) *record.Header {
	return &record.Header{
		Magic: record.Magic, LastOffsetDelta: n - 1, RecordsCount: n,
		BaseTimestamp: t0, MaxTimestamp: t0,
		ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq,
	}
}

// appender plays the append path against a State without a log: offsets
// are handed out from next.
type appender struct {
	s    *State
	next int64
	now  int64
}

func newAppender() *appender { return &appender{s: New(), next: 100, now: t0} }

// produce checks h and, if it is to be appended, assigns its offsets and
// updates the state. It returns the verdict and error of Check.
func (a *appender) produce(h *record.Header) (Verdict, error) {
	v, err := a.s.Check(h)
	if err != nil || v.Duplicate {
		return v, err
	}
	h.BaseOffset = a.next
	h.MaxTimestamp = a.now + a.next // distinct per batch
	a.s.Update(h, a.now)
	a.next = h.NextOffset()
	return v, nil
}

// mustProduce produces h and fails the test unless it was appended.
func (a *appender) mustProduce(t testing.TB, h *record.Header) *record.Header {
	t.Helper()
	v, err := a.produce(h)
	if err != nil || v.Duplicate {
		t.Fatalf("produce(pid %d epoch %d seq %d): verdict %+v, err %v; want appended", h.ProducerID, h.ProducerEpoch, h.BaseSequence, v, err)
	}
	return h
}

// entries is the whole content of s, for comparisons.
func entries(s *State) map[int64]Entry {
	out := make(map[int64]Entry, s.Len())
	for id := range s.producers {
		out[id], _ = s.Producer(id)
	}
	return out
}

func assertSameState(t *testing.T, got, want *State) {
	t.Helper()
	g, w := entries(got), entries(want)
	if reflect.DeepEqual(g, w) {
		return
	}
	ids := slices.Sorted(func(yield func(int64) bool) {
		for id := range g {
			yield(id)
		}
		for id := range w {
			if _, ok := g[id]; !ok {
				yield(id)
			}
		}
	})
	for _, id := range ids {
		if !reflect.DeepEqual(g[id], w[id]) {
			t.Errorf("producer %d:\n got %+v\nwant %+v", id, g[id], w[id])
		}
	}
	t.FailNow()
}

var quiet = slog.New(slog.DiscardHandler)

// newTestLog creates partition t-0 in a log directory on fs, with small
// segments so that a few dozen batches span several of them.
func newTestLog(t testing.TB, fs vfs.FS) *log.Log {
	t.Helper()
	d, err := log.OpenDir("/data", log.Options{FS: fs, Clock: clock.NewFake(time.UnixMilli(t0)), Logger: quiet})
	if err != nil {
		t.Fatalf("OpenDir: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	cfg := log.DefaultConfig()
	cfg.SegmentBytes = 1024
	cfg.RetentionMs = -1
	cfg.FileDeleteDelayMs = 0
	l, err := d.CreateLog(log.TopicPartition{Topic: "t", Partition: 0}, cfg)
	if err != nil {
		t.Fatalf("CreateLog: %v", err)
	}
	return l
}

// workload produces batches from several producers into l through the
// real append path (Check, log.Append, Update) and returns the live state.
// It bumps epochs, interleaves non-idempotent batches, retries duplicates,
// opens transactions and ends them with COMMIT or ABORT markers
// (CheckMarker, log.Append, UpdateMarker). Each batch's update time is its
// MaxTimestamp, as Load's.
type workload struct {
	t     testing.TB
	l     *log.Log
	s     *State
	rng   *rand.Rand
	seq   map[int64]int32
	ep    map[int64]int16
	open  map[int64]bool
	coord int32
	ts    int64
}

func newWorkload(t testing.TB, l *log.Log, seed uint64) *workload {
	return &workload{t: t, l: l, s: New(), rng: rand.New(rand.NewPCG(seed, 1)),
		seq: map[int64]int32{}, ep: map[int64]int16{}, open: map[int64]bool{}, ts: t0}
}

func (w *workload) run(batches int) {
	w.t.Helper()
	for range batches {
		w.ts += 1000
		pid := int64(w.rng.IntN(4)) - 1 // -1 is a producer without an id
		n := int32(1 + w.rng.IntN(4))
		spec := record.BatchSpec{BaseTimestamp: w.ts, ProducerID: pid, ProducerEpoch: w.ep[pid], BaseSequence: w.seq[pid]}
		if pid < 0 {
			spec.ProducerEpoch, spec.BaseSequence = record.NoProducerEpoch, record.NoSequence
		} else if w.open[pid] && w.rng.IntN(4) == 0 {
			w.marker(pid, w.rng.IntN(2) == 0)
			continue
		} else if w.rng.IntN(8) == 0 {
			w.ep[pid]++
			spec.ProducerEpoch, spec.BaseSequence = w.ep[pid], 0
		}
		spec.Transactional = pid >= 0 && (w.open[pid] || w.rng.IntN(4) == 0)
		w.open[pid] = w.open[pid] || spec.Transactional
		w.produce(spec, n)
		if pid >= 0 {
			w.seq[pid] = spec.BaseSequence + n
			if w.rng.IntN(5) == 0 {
				w.produce(spec, n) // a retry, answered as a duplicate
			}
		}
	}
}

// marker ends pid's open transaction as the coordinator would, now and
// then from a newer coordinator epoch.
func (w *workload) marker(pid int64, commit bool) {
	w.t.Helper()
	if w.rng.IntN(3) == 0 {
		w.coord++
	}
	m := record.EndTxnMarker{Type: record.ControlAbort, CoordinatorEpoch: w.coord}
	if commit {
		m.Type = record.ControlCommit
	}
	b, err := record.AppendBatch(nil, record.BatchSpec{BaseTimestamp: w.ts, ProducerID: pid, ProducerEpoch: w.ep[pid],
		BaseSequence: record.NoSequence, Transactional: true, Control: true}, []record.Record{m.Record()}, record.CodecNone)
	if err != nil {
		w.t.Fatalf("AppendBatch: %v", err)
	}
	h, _ := record.ParseHeader(b)
	if err := w.s.CheckMarker(&h, MarkerCheck{Marker: m}); err != nil {
		w.t.Fatalf("CheckMarker: %v", err)
	}
	if _, err := w.l.Append(b, 0); err != nil {
		w.t.Fatalf("Append: %v", err)
	}
	h, _ = record.ParseHeader(b)
	w.s.UpdateMarker(&h, m, h.MaxTimestamp)
	w.open[pid] = false
}

// replayAll is the state a full replay of l gives, markers read.
func replayAll(t testing.TB, l *log.Log) *State {
	t.Helper()
	s := New()
	if err := replay(l, s, 0, -1, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

func (w *workload) produce(spec record.BatchSpec, n int32) {
	w.t.Helper()
	recs := make([]record.Record, n)
	for i := range recs {
		recs[i] = record.Record{TimestampDelta: int64(i), Value: fmt.Appendf(nil, "v%d", i)}
	}
	b, err := record.AppendBatch(nil, spec, recs, record.CodecNone)
	if err != nil {
		w.t.Fatalf("AppendBatch: %v", err)
	}
	h, err := record.ValidateProduce(b)
	if err != nil {
		w.t.Fatalf("ValidateProduce: %v", err)
	}
	v, err := w.s.Check(&h)
	if err != nil {
		w.t.Fatalf("Check(%+v): %v", spec, err)
	}
	if v.Duplicate {
		return
	}
	if _, err := w.l.Append(b, 0); err != nil {
		w.t.Fatalf("Append: %v", err)
	}
	if h, err = record.ParseHeader(b); err != nil {
		w.t.Fatalf("ParseHeader: %v", err)
	}
	w.s.Update(&h, h.MaxTimestamp)
}
