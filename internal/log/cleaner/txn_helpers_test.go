package cleaner

import (
	"context"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
)

// txnProducer writes transactional batches and markers straight to a log,
// as the partition does for a transactional producer: data batches with
// the Transactional attribute, then a COMMIT or ABORT control batch, an
// ABORT adding its entry to the aborted-transaction index.
type txnProducer struct {
	t     *testing.T
	l     *log.Log
	id    int64
	epoch int16
	seq   int32
	first int64 // first offset of the open transaction, -1 when none
	// lso reports the last stable offset after a marker (the first
	// offset of another producer's open transaction); nil: marker + 1.
	lso func() int64
}

func newTxnProducer(t *testing.T, l *log.Log, id int64) *txnProducer {
	return &txnProducer{t: t, l: l, id: id, first: -1}
}

// produce appends one transactional batch of recs in the open transaction
// (opening one if needed) and returns its base offset.
func (p *txnProducer) produce(ts int64, recs ...kv) int64 {
	p.t.Helper()
	rs := make([]record.Record, len(recs))
	for i, r := range recs {
		rs[i] = record.Record{Key: []byte(r.key), OffsetDelta: int32(i)}
		if !r.null {
			rs[i].Value = []byte(r.value)
		}
	}
	spec := record.BatchSpec{BaseTimestamp: ts, ProducerID: p.id, ProducerEpoch: p.epoch, BaseSequence: p.seq, Transactional: true}
	b, err := record.AppendBatch(nil, spec, rs, record.CodecNone)
	if err != nil {
		p.t.Fatal(err)
	}
	info, err := p.l.Append(b, 1)
	if err != nil {
		p.t.Fatalf("transactional append: %v", err)
	}
	p.seq += int32(len(recs))
	if p.first < 0 {
		p.first = info.BaseOffset
	}
	waitDurable(p.t, p.l, info.LastOffset+1)
	return info.BaseOffset
}

// end writes the marker of the open transaction and returns its offset.
func (p *txnProducer) end(ts int64, commit bool) int64 {
	p.t.Helper()
	typ := record.ControlAbort
	if commit {
		typ = record.ControlCommit
	}
	em := record.EndTxnMarker{Type: typ}
	b, err := record.AppendBatch(nil, record.BatchSpec{BaseTimestamp: ts, ProducerID: p.id, ProducerEpoch: p.epoch,
		BaseSequence: record.NoSequence, Transactional: true, Control: true}, []record.Record{em.Record()}, record.CodecNone)
	if err != nil {
		p.t.Fatal(err)
	}
	first := p.first
	info, err := p.l.AppendMarker(b, 1, func(offset int64) (log.AbortedTxn, bool) {
		if commit || first < 0 {
			return log.AbortedTxn{}, false
		}
		lso := offset + 1
		if p.lso != nil {
			lso = min(lso, p.lso())
		}
		return log.AbortedTxn{ProducerID: p.id, FirstOffset: first, LastOffset: offset, LastStableOffset: lso}, true
	})
	if err != nil {
		p.t.Fatalf("marker: %v", err)
	}
	p.first = -1
	waitDurable(p.t, p.l, info.LastOffset+1)
	return info.BaseOffset
}

func waitDurable(t *testing.T, l *log.Log, offset int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.WaitDurable(ctx, offset); err != nil {
		t.Fatal(err)
	}
}

// readCommitted reads the whole log as a read_committed consumer does
// (KIP-98): it asks the log for the aborted transactions of the range, and
// drops the transactional batches of a producer from the first offset of
// one of its aborted transactions up to its ABORT marker; control batches
// are not returned. It also returns the number of control batches seen.
func readCommitted(t *testing.T, l *log.Log) (recs []readRecord, markers int) {
	t.Helper()
	return readIsolated(t, l, true)
}

// readUncommitted is readCommitted for a read_uncommitted consumer: every
// data record, no control record.
func readUncommitted(t *testing.T, l *log.Log) []readRecord {
	t.Helper()
	recs, _ := readIsolated(t, l, false)
	return recs
}

func readIsolated(t *testing.T, l *log.Log, committed bool) (recs []readRecord, markers int) {
	t.Helper()
	var aborted []log.AbortedTxn
	if committed {
		aborted = l.AbortedTxns(l.LogStartOffset(), l.LogEndOffset())
	}
	inAborted := map[int64]bool{}
	next := 0
	var batches []record.Header
	if err := l.ScanHeaders(0, func(h *record.Header) error {
		batches = append(batches, *h)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	all := readAll(t, l)
	i := 0
	for _, h := range batches {
		for next < len(aborted) && aborted[next].FirstOffset <= h.LastOffset() {
			inAborted[aborted[next].ProducerID] = true
			next++
		}
		var in []readRecord
		for i < len(all) && all[i].offset <= h.LastOffset() {
			in = append(in, all[i])
			i++
		}
		switch {
		case h.Attributes.Control():
			markers++
			if h.RecordsCount > 0 && isAbort(t, l, h) {
				delete(inAborted, h.ProducerID)
			}
		case h.Attributes.Transactional() && inAborted[h.ProducerID]:
		default:
			recs = append(recs, in...)
		}
	}
	return recs, markers
}

// isAbort reads whether the control batch h is an ABORT marker.
func isAbort(t *testing.T, l *log.Log, h record.Header) bool {
	t.Helper()
	r, err := l.Read(h.BaseOffset, int(h.Size()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	w := &worker{}
	typ, ok, err := w.controlType(b[:h.Size()])
	if err != nil {
		t.Fatal(err)
	}
	return ok && typ == record.ControlAbort
}

// controlBatches counts the log's control batches.
func controlBatches(t *testing.T, l *log.Log) int {
	t.Helper()
	n := 0
	l.ScanHeaders(0, func(h *record.Header) error {
		if h.Attributes.Control() {
			n++
		}
		return nil
	})
	return n
}
