package producerstate

import (
	"errors"
	"testing"

	"github.com/basketmq/basket/internal/record"
)

const attrTransactional = record.Attributes(0x10)

// txnHdr is a transactional data batch.
func txnHdr(pid int64, epoch int16, seq, n int32) *record.Header {
	h := hdr(pid, epoch, seq, n)
	h.Attributes = attrTransactional
	return h
}

// markerHdr is the header of a marker control batch.
func markerHdr(pid int64, epoch int16) *record.Header {
	h := hdr(pid, epoch, record.NoSequence, 1)
	h.Attributes = attrControl | attrTransactional
	return h
}

// writeMarker checks and applies a marker as the partition does.
func (a *appender) writeMarker(t *testing.T, pid int64, epoch int16, typ record.ControlType, coordEpoch int32, tv int8) (CompletedTxn, bool, error) {
	t.Helper()
	h := markerHdr(pid, epoch)
	m := record.EndTxnMarker{Type: typ, CoordinatorEpoch: coordEpoch}
	if err := a.s.CheckMarker(h, MarkerCheck{Marker: m, TransactionVersion: tv}); err != nil {
		return CompletedTxn{}, false, err
	}
	h.BaseOffset = a.next
	c, ok := a.s.UpdateMarker(h, m, a.now)
	a.next = h.NextOffset()
	return c, ok, nil
}

func TestTxn_OpenAndCompleteTrackFirstUnstableOffset(t *testing.T) {
	// KIP-98: a producer's first transactional batch opens its
	// transaction; the marker completes it. The earliest open one bounds
	// the last stable offset.
	a := newAppender()                   // offsets from 100
	a.mustProduce(t, txnHdr(1, 0, 0, 2)) // 100-101 opens txn of 1
	a.mustProduce(t, txnHdr(2, 0, 0, 1)) // 102 opens txn of 2
	a.mustProduce(t, txnHdr(1, 0, 2, 1)) // 103 same txn
	if first, ok := a.s.FirstUnstableOffset(); !ok || first != 100 {
		t.Fatalf("first unstable %d %v, want 100", first, ok)
	}
	if !a.s.HasOngoingTxn(1, 0) || a.s.HasOngoingTxn(1, 1) || a.s.HasOngoingTxn(3, 0) {
		t.Fatal("HasOngoingTxn wrong")
	}
	if c, lso, ok := a.s.MarkerOutcome(1, 104, true); !ok || lso != 102 || c != (CompletedTxn{ProducerID: 1, FirstOffset: 100, LastOffset: 104, Aborted: true}) {
		t.Fatalf("MarkerOutcome before the abort: %+v %d %v", c, lso, ok)
	}
	c, ok, err := a.writeMarker(t, 1, 0, record.ControlAbort, 5, 0) // 104
	if err != nil || !ok || c != (CompletedTxn{ProducerID: 1, FirstOffset: 100, LastOffset: 104, Aborted: true}) {
		t.Fatalf("abort: %+v %v %v", c, ok, err)
	}
	if lso := a.s.LastStableOffsetAfter(c); lso != 102 {
		t.Fatalf("LSO after the abort %d, want 102 (producer 2's open txn)", lso)
	}
	if _, lso, ok := a.s.MarkerOutcome(2, 105, false); !ok || lso != 106 {
		t.Fatalf("MarkerOutcome before the last commit: %d %v", lso, ok)
	}
	if _, _, ok := a.s.MarkerOutcome(7, 105, true); ok {
		t.Fatal("MarkerOutcome for a producer without a transaction")
	}
	c, ok, _ = a.writeMarker(t, 2, 0, record.ControlCommit, 5, 0) // 105
	if !ok || c.Aborted || c.FirstOffset != 102 {
		t.Fatalf("commit: %+v %v", c, ok)
	}
	if lso := a.s.LastStableOffsetAfter(c); lso != 106 {
		t.Fatalf("LSO after the last commit %d, want 106", lso)
	}
	if _, ok := a.s.FirstUnstableOffset(); ok {
		t.Fatal("a transaction is still open")
	}
	e, _ := a.s.Producer(1)
	if e.CoordinatorEpoch != 5 || e.CurrentTxnFirstOffset != -1 {
		t.Fatalf("producer 1 after its marker: %+v", e)
	}
	// A marker for a producer with nothing open here completes nothing.
	if _, ok, err := a.writeMarker(t, 1, 0, record.ControlCommit, 5, 0); ok || err != nil {
		t.Fatalf("empty marker: ok %v err %v", ok, err)
	}
}

func TestTxn_NonTransactionalBatchDuringTxnIsInvalidTxnState(t *testing.T) {
	// Kafka's ProducerAppendInfo: a non-transactional write while the
	// producer's transaction is open is INVALID_TXN_STATE.
	a := newAppender()
	a.mustProduce(t, txnHdr(1, 0, 0, 1))
	if _, err := a.produce(hdr(1, 0, 1, 1)); !errors.Is(err, ErrInvalidTxnState) {
		t.Fatalf("err %v, want ErrInvalidTxnState", err)
	}
	a.writeMarker(t, 1, 0, record.ControlCommit, 0, 0)
	a.mustProduce(t, hdr(1, 0, 1, 1)) // after the marker, fine
}

func TestTxn_CheckMarker(t *testing.T) {
	for _, tc := range []struct {
		name       string
		epoch      int16 // the marker's; the producer is at epoch 3, coordinator epoch 7
		coordEpoch int32
		tv         int8
		openTxn    bool
		want       error
	}{
		{"same epoch, legacy", 3, 7, 0, true, nil},
		{"newer epoch, legacy", 4, 7, 0, true, nil},
		{"older epoch, legacy", 2, 7, 0, true, ErrInvalidProducerEpoch},
		{"newer coordinator epoch", 3, 8, 0, true, nil},
		{"stale coordinator epoch", 3, 6, 0, true, ErrTransactionCoordinatorFenced},
		// KIP-890 part 2: the coordinator bumps the epoch for every
		// marker, so a marker at the current epoch is stale (KAFKA-17754)...
		{"TV2 same epoch, txn open", 3, 7, 2, true, ErrInvalidProducerEpoch},
		{"TV2 newer epoch", 4, 7, 2, true, nil},
		// ... unless it retries one already written (KAFKA-19999).
		{"TV2 same epoch, txn ended (retry)", 3, 7, 2, false, nil},
		{"TV2 older epoch", 2, 7, 2, false, ErrInvalidProducerEpoch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAppender()
			a.mustProduce(t, txnHdr(1, 3, 0, 1))
			if _, _, err := a.writeMarker(t, 1, 3, record.ControlCommit, 7, 0); err != nil {
				t.Fatal(err)
			}
			if tc.openTxn {
				a.mustProduce(t, txnHdr(1, 3, 1, 1))
			}
			_, _, err := a.writeMarker(t, 1, tc.epoch, record.ControlAbort, tc.coordEpoch, tc.tv)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
	// An unknown producer takes any marker.
	if err := New().CheckMarker(markerHdr(9, 0), MarkerCheck{TransactionVersion: 2}); err != nil {
		t.Fatal(err)
	}
}

func TestTxn_ExpireIdleKeepsOpenTransactions(t *testing.T) {
	a := newAppender()
	a.mustProduce(t, txnHdr(1, 0, 0, 1))
	a.mustProduce(t, hdr(2, 0, 0, 1))
	if n := a.s.ExpireIdle(a.now+DefaultProducerIDExpirationMs, DefaultProducerIDExpirationMs); n != 1 {
		t.Fatalf("expired %d, want 1 (the idle producer without a transaction)", n)
	}
	if first, ok := a.s.FirstUnstableOffset(); !ok || first != 100 {
		t.Fatalf("open transaction lost: %d %v", first, ok)
	}
}

func TestSnapshot_RoundTripsOpenTransactions(t *testing.T) {
	a := newAppender()
	a.mustProduce(t, txnHdr(1, 0, 0, 2))
	a.mustProduce(t, txnHdr(2, 4, 0, 1))
	a.writeMarker(t, 2, 4, record.ControlAbort, 11, 0)
	a.mustProduce(t, txnHdr(2, 4, 1, 1))
	got := mustDecode(t, a.s.encode(a.next), a.next)
	assertSameState(t, got, a.s)
	if want := a.s.OngoingTxns(); len(want) != 2 || got.OngoingTxns()[1] != 100 || got.OngoingTxns()[2] != want[2] {
		t.Fatalf("open transactions after decode %v, want %v", got.OngoingTxns(), want)
	}
	if e, _ := got.Producer(2); e.CoordinatorEpoch != 11 {
		t.Fatalf("coordinator epoch %d, want 11", e.CoordinatorEpoch)
	}
}

// TestSnapshot_LoadsSnapshotWrittenBeforeTransactions decodes the example
// file of docs/format/producer-snapshot.md, as written by the broker before
// it had transactions (open transaction and coordinator epoch always -1):
// the format carried both fields from version 1, so such files load
// unchanged and give a state with no open transaction.
func TestSnapshot_LoadsSnapshotWrittenBeforeTransactions(t *testing.T) {
	b := []byte{
		0x42, 0x4b, 0x50, 0x53, 0x00, 0x01, 0xf6, 0x22, 0x90, 0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x02,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01, 0x8b,
		0xcf, 0xe5, 0x6a, 0x58, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01,
		0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x01,
		0x8b, 0xcf, 0xe5, 0x69, 0xf4,
	}
	s := mustDecode(t, b, 6)
	e, ok := s.Producer(1000)
	if !ok || e.ProducerEpoch != 2 || len(e.Batches) != 2 || e.CurrentTxnFirstOffset != -1 || e.CoordinatorEpoch != -1 {
		t.Fatalf("producer 1000: %+v %v", e, ok)
	}
	if _, open := s.FirstUnstableOffset(); open {
		t.Fatal("an old snapshot opened a transaction")
	}
	if _, err := s.Check(txnHdr(1000, 2, 4, 1)); err != nil {
		t.Fatalf("the producer's next (transactional) batch: %v", err)
	}
}
