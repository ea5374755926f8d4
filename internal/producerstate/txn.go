package producerstate

import (
	"fmt"

	"github.com/basketmq/basket/internal/record"
)

// CompletedTxn is a transaction that a marker ended in this partition: its
// producer, the offset of its first data batch here, the marker's offset,
// and whether the marker aborted it. An aborted one becomes an entry of the
// segment's aborted-transaction index (log.AbortedTxn).
type CompletedTxn struct {
	ProducerID  int64
	FirstOffset int64
	LastOffset  int64
	Aborted     bool
}

// MarkerCheck is what CheckMarker needs to know about a marker beyond its
// batch header.
type MarkerCheck struct {
	Marker record.EndTxnMarker
	// TransactionVersion is the coordinator's transaction.version for the
	// transaction (WriteTxnMarkers v2+): 2 and above is KIP-890 part 2,
	// where the coordinator bumps the epoch for every marker.
	TransactionVersion int8
}

// CheckMarker decides whether a transaction marker (a control batch with
// header h) may be appended, with Kafka's rules for markers from the
// transaction coordinator (ProducerAppendInfo.appendEndTxnMarker):
//
//   - the marker's epoch must not be older than the producer's
//     (ErrInvalidProducerEpoch); under transaction version 2+ (KIP-890
//     part 2) it must be strictly newer, except that a marker at the
//     current epoch for a producer with no open transaction is a retry
//     of one already written and is accepted (KAFKA-19999);
//   - the marker's coordinator epoch must not be older than the one of
//     the last marker the producer got (ErrTransactionCoordinatorFenced):
//     a zombie coordinator may not end a transaction.
//
// A producer the state does not know gets any marker.
func (s *State) CheckMarker(h *record.Header, mc MarkerCheck) error {
	p := s.producers[h.ProducerID]
	if p == nil {
		return nil
	}
	invalid := h.ProducerEpoch < p.epoch
	if mc.TransactionVersion >= 2 {
		invalid = h.ProducerEpoch <= p.epoch && !(h.ProducerEpoch == p.epoch && p.txnFirstOffset < 0)
	}
	if invalid {
		return fmt.Errorf("%w: marker for producer %d at epoch %d, current epoch is %d (transaction version %d)",
			ErrInvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, p.epoch, mc.TransactionVersion)
	}
	if p.coordinatorEpoch > mc.Marker.CoordinatorEpoch {
		return fmt.Errorf("%w: marker for producer %d from coordinator epoch %d, current is %d",
			ErrTransactionCoordinatorFenced, h.ProducerID, mc.Marker.CoordinatorEpoch, p.coordinatorEpoch)
	}
	return nil
}

// UpdateMarker records an appended transaction marker (h as appended, m
// its content): the producer takes the marker's epoch and coordinator
// epoch and its open transaction ends. It returns the transaction the
// marker completed; ok is false when the producer had none open here (a
// marker for a transaction that wrote nothing to this partition, which
// changes neither the last stable offset nor the aborted index).
func (s *State) UpdateMarker(h *record.Header, m record.EndTxnMarker, now int64) (c CompletedTxn, ok bool) {
	if h.ProducerID < 0 {
		return CompletedTxn{}, false
	}
	p := s.producers[h.ProducerID]
	if p != nil && p.txnFirstOffset >= 0 {
		c, ok = CompletedTxn{ProducerID: h.ProducerID, FirstOffset: p.txnFirstOffset, LastOffset: h.BaseOffset, Aborted: m.Type == record.ControlAbort}, true
	}
	s.Update(h, now)
	s.producers[h.ProducerID].coordinatorEpoch = m.CoordinatorEpoch
	return c, ok
}

// LastStableOffsetAfter is the last stable offset recorded with an aborted
// transaction in the index, for a transaction UpdateMarker just completed:
// the first offset of the earliest transaction still open, or the offset
// after the marker when none is (Kafka's
// ProducerStateManager.lastStableOffset(completedTxn)). A reader that finds
// an index entry whose value is above its upper bound knows no later entry
// can concern its range.
func (s *State) LastStableOffsetAfter(c CompletedTxn) int64 {
	if first, ok := s.FirstUnstableOffset(); ok {
		return first
	}
	return c.LastOffset + 1
}

// MarkerOutcome tells, without changing the state, what a marker of
// producer id written at offset would do: the transaction it would
// complete (ok false when the producer has none open here) and the last
// stable offset once it is applied, as UpdateMarker then
// LastStableOffsetAfter would give. The partition writes the aborted
// index entry with the marker from it.
func (s *State) MarkerOutcome(id, offset int64, abort bool) (c CompletedTxn, lastStable int64, ok bool) {
	p := s.producers[id]
	if p == nil || p.txnFirstOffset < 0 {
		return CompletedTxn{}, 0, false
	}
	c = CompletedTxn{ProducerID: id, FirstOffset: p.txnFirstOffset, LastOffset: offset, Aborted: abort}
	lastStable = offset + 1
	found := false
	for other, first := range s.ongoing {
		if other != id && (!found || first < lastStable) {
			lastStable, found = first, true
		}
	}
	return c, lastStable, true
}

// FirstUnstableOffset is the first offset of the earliest open
// transaction; ok is false when no transaction is open. The last stable
// offset of the partition is at most this.
func (s *State) FirstUnstableOffset() (first int64, ok bool) {
	for _, off := range s.ongoing {
		if !ok || off < first {
			first, ok = off, true
		}
	}
	return first, ok
}

// HasOngoingTxn reports whether producer id has an open transaction in
// this partition at epoch.
func (s *State) HasOngoingTxn(id int64, epoch int16) bool {
	p := s.producers[id]
	return p != nil && p.txnFirstOffset >= 0 && p.epoch == epoch
}

// OngoingTxns returns the open transactions, producer id to first offset;
// the caller owns the map.
func (s *State) OngoingTxns() map[int64]int64 {
	out := make(map[int64]int64, len(s.ongoing))
	for id, off := range s.ongoing {
		out[id] = off
	}
	return out
}

// Producers returns a copy of every entry, in no particular order
// (DescribeProducers).
func (s *State) Producers() []Entry {
	out := make([]Entry, 0, len(s.producers))
	for id := range s.producers {
		e, _ := s.Producer(id)
		out = append(out, e)
	}
	return out
}
