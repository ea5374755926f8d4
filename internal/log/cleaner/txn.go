package cleaner

import (
	"slices"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
)

// txnTracker follows transactions through one pass over the log in offset
// order (Kafka's CleanedTransactionMetadata): it knows from the
// aborted-transaction index which producer's transactional batches belong
// to an aborted transaction, and whether any batch of a transaction was
// seen before its marker. The map pass and the recopy each use their own.
// The zero value tracks nothing; reset loads the aborted transactions.
type txnTracker struct {
	// pending are the aborted transactions not yet reached, by first
	// offset; next is the first of them.
	pending []log.AbortedTxn
	next    int
	// aborted holds, per producer, the aborted transaction the pass is in.
	aborted map[int64]*abortedState
	// committed holds the producers with a batch of a transaction that is
	// not aborted seen since their last marker.
	committed map[int64]bool
}

type abortedState struct {
	txn  log.AbortedTxn
	seen bool // a batch of the transaction was read in this pass
}

// reset starts a pass with the aborted transactions overlapping the range it
// will read.
func (t *txnTracker) reset(aborted []log.AbortedTxn) {
	slices.SortStableFunc(aborted, func(a, b log.AbortedTxn) int {
		switch {
		case a.FirstOffset < b.FirstOffset:
			return -1
		case a.FirstOffset > b.FirstOffset:
			return 1
		}
		return 0
	})
	t.pending, t.next = aborted, 0
	clear(t.aborted)
	clear(t.committed)
}

// reach makes the aborted transactions starting at or before offset
// current: from there on their producer's batches are aborted, until the
// ABORT marker.
func (t *txnTracker) reach(offset int64) {
	for t.next < len(t.pending) && t.pending[t.next].FirstOffset <= offset {
		a := t.pending[t.next]
		t.next++
		if t.aborted == nil {
			t.aborted = map[int64]*abortedState{}
		}
		if _, ok := t.aborted[a.ProducerID]; !ok {
			t.aborted[a.ProducerID] = &abortedState{txn: a}
		}
	}
}

// onData takes a data batch in offset order and reports whether it belongs
// to an aborted transaction: its records are garbage for every reader.
func (t *txnTracker) onData(h *record.Header) bool {
	t.reach(h.LastOffset())
	if !h.Attributes.Transactional() {
		return false
	}
	if a, ok := t.aborted[h.ProducerID]; ok {
		a.seen = true
		return true
	}
	if t.committed == nil {
		t.committed = map[int64]bool{}
	}
	t.committed[h.ProducerID] = true
	return false
}

// onControl takes a control batch in offset order, with the type of its
// marker (ok false for a batch emptied by an earlier clean), and reports
// whether the marker may go: no batch of its transaction was seen in this
// pass, so none is left before it. For an ABORT marker that must stay,
// index is the aborted-transaction index entry to keep with it.
func (t *txnTracker) onControl(h *record.Header, typ record.ControlType, ok bool) (discard bool, index *log.AbortedTxn) {
	t.reach(h.LastOffset())
	if !ok {
		return true, nil
	}
	switch typ {
	case record.ControlAbort:
		a, found := t.aborted[h.ProducerID]
		delete(t.aborted, h.ProducerID)
		if found && a.seen {
			return false, &a.txn
		}
		return true, nil
	case record.ControlCommit:
		seen := t.committed[h.ProducerID]
		delete(t.committed, h.ProducerID)
		return !seen, nil
	}
	return false, nil
}

// controlType reads the type of the first control record of a control
// batch; ok is false when the batch holds none. The batch's CRC is checked.
func (w *worker) controlType(batch []byte) (typ record.ControlType, ok bool, err error) {
	err = w.dec.Records(batch, func(_ *record.Header, rec *record.Record) error {
		if ok {
			return nil
		}
		t, err := record.ParseControlKey(rec.Key)
		if err != nil {
			return err
		}
		typ, ok = t, true
		return nil
	})
	return typ, ok, err
}
