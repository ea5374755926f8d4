package producerstate

import (
	"fmt"

	"github.com/basketmq/basket/internal/record"
)

// Verdict is what Check decides for a batch that passed: append it (the
// zero Verdict), or answer it as a duplicate without appending.
type Verdict struct {
	// Duplicate reports that the batch repeats one of the producer's
	// retained batches: same epoch, same first and last sequence. The
	// broker appends nothing and answers success with the original
	// batch's offsets and timestamp, as Kafka's UnifiedLog does ("If we
	// find a duplicate, we return the metadata of the appended batch").
	Duplicate bool
	// The original batch's first and last offset and MaxTimestamp; set
	// only when Duplicate. Kafka answers with MaxTimestamp as the
	// partition's LogAppendTime.
	BaseOffset, LastOffset, MaxTimestamp int64
}

// Check decides whether a batch arriving from a producer may be appended.
// h is the batch's header as the client sent it; its BaseOffset is not
// used. Check does not change the state: after a successful append the
// caller passes the appended header to Update.
//
// The rules are Kafka's for batches from clients (ProducerAppendInfo,
// ProducerStateEntry.findDuplicateBatch, UnifiedLog):
//
//   - no producer id (ProducerID < 0): append;
//   - a producer the state does not know (never seen, or expired): append
//     at any epoch and sequence (KIP-360, Kafka 2.5+);
//   - same epoch and a first/last sequence pair equal to one of the
//     retained batches: a duplicate (Verdict.Duplicate);
//   - an older epoch: ErrInvalidProducerEpoch;
//   - a newer epoch: the first sequence must be 0, else
//     ErrOutOfOrderSequence;
//   - same epoch: the first sequence must follow the last one (0 after
//     MaxInt32), else ErrOutOfOrderSequence. A retry of a batch older
//     than the retained ones therefore gets ErrOutOfOrderSequence, as in
//     Kafka;
//   - a non-transactional data batch from a producer with an open
//     transaction: ErrInvalidTxnState (ProducerAppendInfo.appendDataBatch,
//     KIP-98).
//
// A control batch is checked for its epoch only; CheckMarker applies the
// full marker rules. A batch with a producer
// id but a negative BaseSequence gets an error wrapping
// record.ErrInvalidRecord.
func (s *State) Check(h *record.Header) (Verdict, error) {
	if h.ProducerID < 0 {
		return Verdict{}, nil
	}
	control := h.Attributes.Control()
	if h.BaseSequence < 0 && !control {
		return Verdict{}, fmt.Errorf("%w: producer %d sent sequence %d", record.ErrInvalidRecord, h.ProducerID, h.BaseSequence)
	}
	p := s.producers[h.ProducerID]
	if p == nil || p.epoch == record.NoProducerEpoch {
		return Verdict{}, nil
	}
	if h.ProducerEpoch == p.epoch && !control {
		first, last := sequences(h)
		for _, b := range p.batches[:p.n] {
			if b.FirstSeq == first && b.LastSeq == last {
				return Verdict{Duplicate: true, BaseOffset: b.FirstOffset, LastOffset: b.LastOffset, MaxTimestamp: b.MaxTimestamp}, nil
			}
		}
	}
	switch {
	case h.ProducerEpoch < p.epoch:
		return Verdict{}, fmt.Errorf("%w: producer %d sent epoch %d, current epoch is %d",
			ErrInvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, p.epoch)
	case control:
		return Verdict{}, nil
	case h.ProducerEpoch > p.epoch:
		if h.BaseSequence != 0 {
			return Verdict{}, fmt.Errorf("%w: producer %d started epoch %d at sequence %d, want 0",
				ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence)
		}
	default:
		last := p.lastSeq()
		if want := addSeq(last, 1); h.BaseSequence != want {
			return Verdict{}, fmt.Errorf("%w: producer %d epoch %d sent sequence %d after %d, want %d",
				ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence, last, want)
		}
	}
	if !control && !h.Attributes.Transactional() && p.txnFirstOffset >= 0 {
		return Verdict{}, fmt.Errorf("%w: producer %d sent a non-transactional batch while its transaction from offset %d is open",
			ErrInvalidTxnState, h.ProducerID, p.txnFirstOffset)
	}
	return Verdict{}, nil
}
