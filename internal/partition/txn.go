package partition

import (
	"fmt"
	"math"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/producerstate"
	"github.com/basketmq/basket/internal/record"
)

// unstable is what the last stable offset is computed from, replaced whole
// under Partition.mu whenever a transaction opens or completes, so that
// LastStableOffset reads it without a lock.
type unstable struct {
	// ongoing is the first offset of the earliest open transaction,
	// math.MaxInt64 when none is open.
	ongoing int64
	// pending are transactions whose marker is written but was not below
	// the high watermark when last looked at: until the marker is durable
	// the transaction is undecided for readers (Kafka's unreplicated
	// transactions), ordered by marker offset.
	pending []pendingTxn
}

type pendingTxn struct{ first, marker int64 }

// LastStableOffset is the offset below which every transaction is decided:
// the first offset of the earliest transaction that is open, or whose
// marker is not yet below the high watermark, capped by the high
// watermark and never below the log start offset. read_committed consumers
// read only below it (KIP-98).
func (p *Partition) LastStableOffset() int64 {
	hw := p.HighWatermark()
	first := int64(math.MaxInt64)
	if u := p.unstable.Load(); u != nil {
		first = u.ongoing
		for _, t := range u.pending {
			if t.marker >= hw {
				first = min(first, t.first)
			}
		}
	}
	// A transaction whose start DeleteRecords or retention removed is
	// unstable from the log start on, as in Kafka
	// (maybeIncrementFirstUnstableOffset).
	return min(hw, max(first, p.log.LogStartOffset()))
}

// publishUnstable recomputes the unstable view after the producer state
// changed; with c it records the transaction c as pending until its marker
// is durable. Called with p.mu held.
func (p *Partition) publishUnstable(c *producerstate.CompletedTxn) {
	u := &unstable{ongoing: math.MaxInt64}
	if first, ok := p.producers.FirstUnstableOffset(); ok {
		u.ongoing = first
	}
	hw := p.HighWatermark()
	if old := p.unstable.Load(); old != nil {
		for _, t := range old.pending {
			if t.marker >= hw {
				u.pending = append(u.pending, t)
			}
		}
	}
	if c != nil && c.LastOffset >= hw {
		u.pending = append(u.pending, pendingTxn{c.FirstOffset, c.LastOffset})
	}
	p.unstable.Store(u)
}

// VerificationGuard ties a coordinator's answer that a partition is part of
// a producer's transaction (KIP-890 part 1) to the append it allows: a
// marker written for the producer in between voids it, so a verification
// that raced with the end of the transaction cannot open a new, hanging
// one. The zero value is no verification.
type VerificationGuard uint64

type verification struct {
	guard   VerificationGuard
	epoch   int16
	startMs int64
}

// verificationTTLMs is how long an unused verification is kept: it only
// has to outlive the coordinator's answer. Maintain drops older ones, so
// producers that never follow up cost nothing for long.
const verificationTTLMs = 60_000

// expireVerifications drops verifications older than verificationTTLMs.
// Called with p.mu held.
func (p *Partition) expireVerifications(now int64) {
	for id, v := range p.verifying {
		if now-v.startMs >= verificationTTLMs {
			delete(p.verifying, id)
		}
	}
}

// StartTxnVerification is called before asking the transaction coordinator
// whether this partition belongs to the producer's ongoing transaction.
// needed is false when the producer already has a transaction open here at
// epoch: its batches need no verification. Otherwise the returned guard is
// what AppendVerified wants once the coordinator agreed.
func (p *Partition) StartTxnVerification(producerID int64, epoch int16) (guard VerificationGuard, needed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.producers.HasOngoingTxn(producerID, epoch) {
		return 0, false
	}
	if v, ok := p.verifying[producerID]; ok && v.epoch == epoch {
		return v.guard, true
	}
	p.guardSeq++
	if p.verifying == nil {
		p.verifying = make(map[int64]verification)
	}
	p.verifying[producerID] = verification{VerificationGuard(p.guardSeq), epoch, p.now()}
	return VerificationGuard(p.guardSeq), true
}

// checkVerified enforces KIP-890 part 1 on a transactional batch: either
// its producer has a transaction open here at its epoch, or guard is the
// current verification of the producer. Called with p.mu held.
func (p *Partition) checkVerified(h *record.Header, guard VerificationGuard) error {
	if !h.Attributes.Transactional() || p.producers.HasOngoingTxn(h.ProducerID, h.ProducerEpoch) {
		return nil
	}
	if v, ok := p.verifying[h.ProducerID]; ok && guard != 0 && v.guard == guard && v.epoch == h.ProducerEpoch {
		return nil
	}
	return fmt.Errorf("%w: producer %d epoch %d: the partition was not verified to be in its transaction",
		producerstate.ErrInvalidTxnState, h.ProducerID, h.ProducerEpoch)
}

// Marker is a transaction marker the coordinator writes to a partition
// (WriteTxnMarkers).
type Marker struct {
	ProducerID       int64
	ProducerEpoch    int16
	CoordinatorEpoch int32
	Commit           bool
	// TransactionVersion is the coordinator's transaction version for
	// the transaction: 2+ (KIP-890 part 2) requires the marker's epoch to
	// be above the producer's.
	TransactionVersion int8
}

// WriteMarker appends a COMMIT or ABORT control batch for the producer,
// after Kafka's marker checks (producerstate.CheckMarker:
// ErrInvalidProducerEpoch, ErrTransactionCoordinatorFenced). An ABORT that
// ends a transaction adds it to the aborted-transaction index, written with
// the marker (log.AppendMarker); any marker
// voids a pending verification of the producer. Like Append it does not
// wait for durability: call WaitAcked with the result.
func (p *Partition) WriteMarker(m Marker) (AppendResult, error) {
	em := record.EndTxnMarker{Type: record.ControlAbort, CoordinatorEpoch: m.CoordinatorEpoch}
	if m.Commit {
		em.Type = record.ControlCommit
	}
	batch, err := record.AppendBatch(nil, record.BatchSpec{
		BaseTimestamp: p.now(), ProducerID: m.ProducerID, ProducerEpoch: m.ProducerEpoch,
		BaseSequence: record.NoSequence, Transactional: true, Control: true,
	}, []record.Record{em.Record()}, record.CodecNone)
	if err != nil {
		return AppendResult{}, err
	}
	h, err := record.ParseHeader(batch)
	if err != nil {
		return AppendResult{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.producers.CheckMarker(&h, producerstate.MarkerCheck{Marker: em, TransactionVersion: m.TransactionVersion}); err != nil {
		return AppendResult{}, err
	}
	info, err := p.log.AppendMarker(batch, p.leaderEpoch.Load(), func(offset int64) (log.AbortedTxn, bool) {
		c, lastStable, ok := p.producers.MarkerOutcome(m.ProducerID, offset, !m.Commit)
		if !ok || m.Commit {
			return log.AbortedTxn{}, false
		}
		return log.AbortedTxn{ProducerID: c.ProducerID, FirstOffset: c.FirstOffset, LastOffset: c.LastOffset, LastStableOffset: lastStable}, true
	})
	if err != nil {
		return AppendResult{}, err
	}
	appended, _ := record.ParseHeader(batch)
	c, completed := p.producers.UpdateMarker(&appended, em, p.now())
	delete(p.verifying, m.ProducerID)
	if completed {
		p.publishUnstable(&c)
	}
	p.wakeReaders()
	return AppendResult{BaseOffset: info.BaseOffset, LastOffset: info.LastOffset, LogAppendTime: info.LogAppendTime, LogStartOffset: info.LogStartOffset}, nil
}

// AbortedTxns returns the aborted transactions a read_committed fetch of
// the offsets [from, upper) must report (see log.Log.AbortedTxns).
func (p *Partition) AbortedTxns(from, upper int64) []log.AbortedTxn {
	return p.log.AbortedTxns(from, upper)
}

// Producers returns the partition's active producers (DescribeProducers).
func (p *Partition) Producers() []producerstate.Entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.producers.Producers()
}
