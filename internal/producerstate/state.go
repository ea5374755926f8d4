package producerstate

import (
	"math"

	"github.com/basketmq/basket/internal/record"
)

// NumBatchesToRetain is how many of a producer's latest batches are kept
// for duplicate detection: Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN,
// which matches the at most 5 requests an idempotent client keeps in flight
// per connection.
const NumBatchesToRetain = 5

// DefaultProducerIDExpirationMs is Kafka's default producer.id.expiration.ms
// (one day), the idle time after which ExpireIdle forgets a producer.
const DefaultProducerIDExpirationMs = 86400000

// BatchMetadata describes one appended batch of a producer.
type BatchMetadata struct {
	// FirstSeq and LastSeq are the sequences of the batch's first and last
	// records; both are -1 (record.NoSequence) for a batch without
	// sequences.
	FirstSeq, LastSeq int32
	// FirstOffset and LastOffset are the log offsets the batch was given.
	FirstOffset, LastOffset int64
	// MaxTimestamp is the batch's MaxTimestamp as appended: the append
	// time under LogAppendTime. A duplicate is answered with it, as Kafka
	// does.
	MaxTimestamp int64
}

// Entry is what the state knows of one producer id in this partition.
type Entry struct {
	ProducerID    int64
	ProducerEpoch int16
	// Batches are the producer's latest data batches at ProducerEpoch,
	// oldest first, at most NumBatchesToRetain. A change of epoch empties
	// it.
	Batches []BatchMetadata
	// LastUpdateMs is the time of the producer's last batch, in Unix ms:
	// the now given to Update, or the batch's MaxTimestamp when Load
	// replays the log. ExpireIdle measures idleness from it.
	LastUpdateMs int64
	// CurrentTxnFirstOffset is the first offset of the producer's open
	// transaction in this partition, -1 when none; CoordinatorEpoch is the
	// epoch of the last transaction coordinator that wrote a marker, -1
	// when none.
	CurrentTxnFirstOffset int64
	CoordinatorEpoch      int32
}

// producer is the stored form of an Entry, with the batches in a fixed
// array so that appends allocate nothing.
type producer struct {
	epoch            int16
	n                uint8 // batches in use
	coordinatorEpoch int32
	txnFirstOffset   int64
	lastUpdateMs     int64
	batches          [NumBatchesToRetain]BatchMetadata
}

// State is one partition's producer state: for every producer id seen in
// the partition's log and not expired, its epoch and its latest batches.
//
// A State is not safe for concurrent use. The partition's append path owns
// it and calls Check, the log append and Update under the partition's lock,
// so that no other batch can be appended between the check and the update.
type State struct {
	producers map[int64]*producer
	// ongoing maps the producers with an open transaction to its first
	// offset: the same as their txnFirstOffset, kept apart so that the
	// first unstable offset costs O(open transactions).
	ongoing map[int64]int64
}

// New returns an empty State.
func New() *State {
	return &State{producers: make(map[int64]*producer), ongoing: make(map[int64]int64)}
}

// Len is the number of producers the state holds.
func (s *State) Len() int { return len(s.producers) }

// Producer returns a copy of what the state holds for producer id; the
// caller owns it.
func (s *State) Producer(id int64) (Entry, bool) {
	p, ok := s.producers[id]
	if !ok {
		return Entry{}, false
	}
	return Entry{
		ProducerID:            id,
		ProducerEpoch:         p.epoch,
		Batches:               append([]BatchMetadata(nil), p.batches[:p.n]...),
		LastUpdateMs:          p.lastUpdateMs,
		CurrentTxnFirstOffset: p.txnFirstOffset,
		CoordinatorEpoch:      p.coordinatorEpoch,
	}, true
}

// Update records a batch that has been appended to the log. h must be the
// header as appended: BaseOffset assigned and, under LogAppendTime,
// MaxTimestamp set to the append time (record.ParseHeader of the batch
// after log.Append gives exactly that). now is the broker's time in Unix
// ms. Update does no checking, as for a batch replicated from a leader or
// replayed from the log (Kafka's REPLICATION origin): a batch with a new
// epoch replaces the producer's epoch and forgets its batches.
//
// Batches without a producer id are ignored. The first transactional data
// batch of a producer with no open transaction opens one at its
// BaseOffset. A control batch (transaction marker) moves the producer's
// epoch and update time and closes its open transaction; UpdateMarker does
// the same and also records the marker's coordinator epoch, so use it
// whenever the marker's content is at hand.
func (s *State) Update(h *record.Header, now int64) {
	if h.ProducerID < 0 {
		return
	}
	p := s.producers[h.ProducerID]
	if p == nil {
		p = &producer{epoch: h.ProducerEpoch, coordinatorEpoch: -1, txnFirstOffset: -1}
		s.producers[h.ProducerID] = p
	}
	if p.epoch != h.ProducerEpoch {
		p.epoch, p.n = h.ProducerEpoch, 0
	}
	p.lastUpdateMs = now
	if h.Attributes.Control() {
		p.txnFirstOffset = -1
		delete(s.ongoing, h.ProducerID)
		return
	}
	if h.Attributes.Transactional() && p.txnFirstOffset < 0 {
		p.txnFirstOffset = h.BaseOffset
		s.ongoing[h.ProducerID] = h.BaseOffset
	}
	first, last := sequences(h)
	b := BatchMetadata{FirstSeq: first, LastSeq: last, FirstOffset: h.BaseOffset, LastOffset: h.LastOffset(), MaxTimestamp: h.MaxTimestamp}
	if p.n == NumBatchesToRetain {
		copy(p.batches[:], p.batches[1:])
		p.n--
	}
	p.batches[p.n] = b
	p.n++
}

// ExpireIdle forgets every producer whose last batch is at least maxIdleMs
// (producer.id.expiration.ms) older than now, unless it has an open
// transaction, as Kafka's ProducerStateManager.removeExpiredProducers does.
// A forgotten producer's next batch is accepted at any sequence. It returns
// how many producers it removed.
func (s *State) ExpireIdle(now, maxIdleMs int64) int {
	n := 0
	for id, p := range s.producers {
		if p.txnFirstOffset < 0 && now-p.lastUpdateMs >= maxIdleMs {
			delete(s.producers, id)
			n++
		}
	}
	return n
}

// lastSeq is the producer's last sequence at its epoch, -1 when it has no
// batch at that epoch.
func (p *producer) lastSeq() int32 {
	if p.n == 0 {
		return record.NoSequence
	}
	return p.batches[p.n-1].LastSeq
}

// sequences returns the first and last sequence of h: -1 and -1 when it has
// none.
func sequences(h *record.Header) (first, last int32) {
	if h.BaseSequence < 0 {
		return record.NoSequence, record.NoSequence
	}
	return h.BaseSequence, addSeq(h.BaseSequence, int64(h.LastOffsetDelta))
}

// addSeq adds delta to a sequence modulo 2^31, so that 0 follows MaxInt32
// as producers number records (Kafka's DefaultRecordBatch.incrementSequence).
func addSeq(seq int32, delta int64) int32 {
	const m = math.MaxInt32 + 1
	return int32(((int64(seq)+delta)%m + m) % m)
}

// Last is a producer's last entry in the log: what the log cleaner must
// keep so the producer's state survives (Kafka's LastRecord).
type Last struct {
	// LastDataOffset is the last offset of the producer's last data batch
	// at its current epoch, -1 when it has none (its last entry is then a
	// control batch of Epoch).
	LastDataOffset int64
	Epoch          int16
}

// Active returns the Last of every producer the state holds (Kafka's
// lastRecordsOfActiveProducers). The caller owns the map.
func (s *State) Active() map[int64]Last {
	out := make(map[int64]Last, len(s.producers))
	for id, p := range s.producers {
		last := Last{LastDataOffset: -1, Epoch: p.epoch}
		if p.n > 0 {
			last.LastDataOffset = p.batches[p.n-1].LastOffset
		}
		out[id] = last
	}
	return out
}
