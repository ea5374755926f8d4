package partition

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/producerstate"
	"github.com/basketmq/basket/internal/record"
)

// Partition serves one partition of a topic.
type Partition struct {
	tp          log.TopicPartition
	log         *log.Log
	durable     bool // high watermark = durable offset; acks wait for fsync
	leaderEpoch atomic.Int32

	mu         sync.Mutex // the append path
	producers  *producerstate.State
	snapshotAt int64                  // log end offset of the last producer-state snapshot
	now        func() int64           // Unix ms
	verifying  map[int64]verification // KIP-890 verifications by producer id
	guardSeq   uint64

	unstable atomic.Pointer[unstable] // open and undecided transactions (txn.go)

	appended atomic.Pointer[chan struct{}] // closed on append (DurabilityAsync wake-ups)
}

// Open wraps an open log, loading its producer state from the newest
// snapshot plus the batches after it. durable selects DurabilitySync
// semantics.
func Open(l *log.Log, leaderEpoch int32, durable bool) (*Partition, error) {
	producers, err := producerstate.Load(l.FS(), l.Path(), l)
	if err != nil {
		return nil, fmt.Errorf("partition %s: producer state: %w", l.TopicPartition(), err)
	}
	p := &Partition{tp: l.TopicPartition(), log: l, durable: durable, producers: producers,
		now: func() int64 { return time.Now().UnixMilli() }}
	p.leaderEpoch.Store(leaderEpoch)
	p.publishUnstable(nil)
	return p, nil
}

// Maintain expires producers idle for longer than expirationMs
// (producer.id.expiration.ms) and unused KIP-890 verifications, and, when the log has grown since the last
// snapshot, writes a producer-state snapshot at the log end, so a restart
// after a crash replays only the batches since. The broker calls it
// periodically.
func (p *Partition) Maintain(now, expirationMs int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.producers.ExpireIdle(now, expirationMs)
	p.expireVerifications(now)
	end := p.log.LogEndOffset()
	if end == p.snapshotAt {
		return nil
	}
	if err := p.producers.WriteSnapshot(p.log.FS(), p.log.Path(), end); err != nil {
		return fmt.Errorf("partition %s: producer snapshot: %w", p.tp, err)
	}
	p.snapshotAt = end
	return nil
}

// Close writes a producer-state snapshot at the log end, so the next Open
// replays nothing. The log itself is closed by its Dir.
func (p *Partition) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.producers.WriteSnapshot(p.log.FS(), p.log.Path(), p.log.LogEndOffset())
}

// Log is the partition's log.
func (p *Partition) Log() *log.Log { return p.log }

// LeaderEpoch is the partition's current leader epoch.
func (p *Partition) LeaderEpoch() int32 { return p.leaderEpoch.Load() }

// HighWatermark is the offset below which consumers may read.
func (p *Partition) HighWatermark() int64 {
	if p.durable {
		return p.log.DurableOffset()
	}
	return p.log.LogEndOffset()
}

// AppendResult is what Produce reports for one partition.
type AppendResult struct {
	BaseOffset     int64
	LastOffset     int64
	LogAppendTime  int64 // -1 for CreateTime
	LogStartOffset int64
}

// Append validates a batch from a producer and appends it. It does not wait
// for durability: call WaitAcked with the result, after appending to every
// partition of a request, so they share one group-commit round. The batch's
// header is rewritten in place (offsets, epoch). Errors:
// record.ErrCorrupt / ErrInvalidRecord / ErrTooLarge for bad batches, log
// errors for storage failures.
//
// A retried batch of an idempotent producer that matches one of its last
// five batches is not appended again: the result carries the original
// offsets. Sequence errors are producerstate.ErrOutOfOrderSequence and
// ErrInvalidProducerEpoch; a non-transactional batch from a producer with
// an open transaction is producerstate.ErrInvalidTxnState. Transactional
// batches are accepted without verification (as before KIP-890);
// AppendVerified enforces it.
func (p *Partition) Append(batch []byte) (AppendResult, error) {
	return p.append(batch, 0, false)
}

// AppendVerified is Append for a broker that verifies transactions
// (KIP-890 part 1): a transactional batch whose producer has no
// transaction open here at its epoch is appended only with the guard from
// StartTxnVerification, still current (no marker for the producer came in
// between) — else producerstate.ErrInvalidTxnState.
func (p *Partition) AppendVerified(batch []byte, guard VerificationGuard) (AppendResult, error) {
	return p.append(batch, guard, true)
}

func (p *Partition) append(batch []byte, guard VerificationGuard, verify bool) (AppendResult, error) {
	// Decoding the records validates the whole batch (CRC included) once;
	// the producer rules then need only the header.
	if err := validateRecords(batch, p.log.Config().Compact, p.tp); err != nil {
		return AppendResult{}, err
	}
	h, err := record.ParseHeader(batch)
	if err != nil {
		return AppendResult{}, err
	}
	if err := record.CheckProduce(&h); err != nil {
		return AppendResult{}, err
	}
	p.mu.Lock()
	verdict, err := p.producers.Check(&h)
	if err == nil && verify && !verdict.Duplicate {
		err = p.checkVerified(&h, guard)
	}
	if err != nil {
		p.mu.Unlock()
		return AppendResult{}, err
	}
	if verdict.Duplicate {
		p.mu.Unlock()
		return AppendResult{BaseOffset: verdict.BaseOffset, LastOffset: verdict.LastOffset, LogAppendTime: -1,
			LogStartOffset: p.log.LogStartOffset()}, nil
	}
	info, err := p.log.AppendValidated(batch, h, p.leaderEpoch.Load()) // validateRecords checked it
	if err == nil {
		appended, _ := record.ParseHeader(batch) // rewritten in place with its offsets
		opens := appended.Attributes.Transactional() && !p.producers.HasOngoingTxn(appended.ProducerID, appended.ProducerEpoch)
		p.producers.Update(&appended, p.now())
		if opens {
			delete(p.verifying, appended.ProducerID)
			p.publishUnstable(nil)
		}
	}
	p.mu.Unlock()
	if err != nil {
		return AppendResult{}, err
	}
	p.wakeReaders()
	return AppendResult{BaseOffset: info.BaseOffset, LastOffset: info.LastOffset, LogAppendTime: info.LogAppendTime, LogStartOffset: info.LogStartOffset}, nil
}

// decoders are reused across appends: decompressing reuses their buffers.
var decoders = sync.Pool{New: func() any { return new(record.Decoder) }}

// validateRecords decodes every record of a producer's batch, as Kafka's
// LogValidator does, so that a batch whose CRC is right but whose records
// are not — a compressed stream that does not decompress, a record count
// that does not match, bad varints, a compression bomb — is refused
// (CORRUPT_MESSAGE, INVALID_RECORD or MESSAGE_TOO_LARGE) instead of being
// stored and stopping every consumer that reaches it. The decoder bounds
// decompressed size (record.DefaultMaxDecompressedBytes). On a compacted
// topic every record needs a key: the others are reported as a
// *RecordErrors (INVALID_RECORD with per-record errors, Produce v8+).
func validateRecords(batch []byte, compacted bool, tp log.TopicPartition) error {
	d := decoders.Get().(*record.Decoder)
	defer decoders.Put(d)
	var keyless []int32
	i := int32(0)
	err := d.Records(batch, func(_ *record.Header, r *record.Record) error {
		if compacted && r.Key == nil {
			keyless = append(keyless, i)
		}
		i++
		return nil
	})
	if err != nil || len(keyless) == 0 {
		return err
	}
	msg := "Compacted topic cannot accept message without key in topic partition " + tp.String() + "."
	re := &RecordErrors{Message: fmt.Sprintf("One or more records have been rejected due to %d record errors in total: %s", len(keyless), msg)}
	for _, idx := range keyless {
		re.Records = append(re.Records, RecordError{BatchIndex: idx, Message: msg})
	}
	return re
}

// RecordErrors is a batch refused because of some of its records (Kafka's
// RecordValidationException): INVALID_RECORD, with the index and reason of
// each offending record for Produce v8+'s record_errors.
type RecordErrors struct {
	Message string
	Records []RecordError
}

// RecordError is one refused record of a batch.
type RecordError struct {
	BatchIndex int32
	Message    string
}

func (e *RecordErrors) Error() string { return e.Message }

// Is makes a RecordErrors match record.ErrInvalidRecord.
func (e *RecordErrors) Is(target error) bool { return target == record.ErrInvalidRecord }

// CleanerBound is what the log cleaner may clean of this partition: up to
// the last stable offset — below the high watermark and below the first
// offset of every transaction still open, so no batch of an undecided
// transaction is compacted or dropped before its marker (Kafka's
// firstUncleanableDirtyOffset) — keeping each active producer's last batch.
func (p *Partition) CleanerBound() (upper int64, producers map[int64]producerstate.Last) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.LastStableOffset(), p.producers.Active()
}

// WaitAcked returns once an appended batch may be acknowledged: when it is
// durable under DurabilitySync, at once under DurabilityAsync.
func (p *Partition) WaitAcked(ctx context.Context, r AppendResult) error {
	if !p.durable {
		return nil
	}
	if err := p.log.WaitDurable(ctx, r.LastOffset+1); err != nil {
		return fmt.Errorf("partition %s: %w", p.tp, err)
	}
	return nil
}

// Changed returns a channel closed when the high watermark may have moved:
// readers load it, check, then wait.
func (p *Partition) Changed() <-chan struct{} {
	if p.durable {
		return p.log.DurableChanged()
	}
	for {
		if ch := p.appended.Load(); ch != nil {
			return *ch
		}
		ch := make(chan struct{})
		if p.appended.CompareAndSwap(nil, &ch) {
			return ch
		}
	}
}

func (p *Partition) wakeReaders() {
	if old := p.appended.Swap(nil); old != nil {
		close(*old)
	}
}

// Read returns the batches from offset up to the high watermark, at most
// maxBytes unless the first batch is larger (see log.ReadUpTo).
func (p *Partition) Read(offset int64, maxBytes int) (log.Region, error) {
	return p.log.ReadUpTo(offset, maxBytes, p.HighWatermark())
}
