package producerstate

import "errors"

// Errors Check returns, each wrapped with the producer id, epochs and
// sequences involved. Test with errors.Is. The broker answers the batch's
// partition with the Kafka error code named and appends nothing.
//
// Check never answers UNKNOWN_PRODUCER_ID (59): since Kafka 2.5 (KIP-360) a
// broker with no state for a producer accepts its batch at any sequence,
// and so does Basket. A batch with a producer id and a negative
// BaseSequence gets an error wrapping record.ErrInvalidRecord
// (INVALID_RECORD, 87), as from Kafka's LogValidator.
var (
	// ErrOutOfOrderSequence: the batch's first sequence does not follow
	// the producer's last one (a gap, or a retry too old to be among the
	// retained batches), or a known producer's new epoch does not start
	// at sequence 0. Kafka: OUT_OF_ORDER_SEQUENCE_NUMBER (45), from
	// ProducerAppendInfo.checkSequence.
	ErrOutOfOrderSequence = errors.New("out of order sequence number")

	// ErrInvalidProducerEpoch: the batch carries an epoch older than the
	// producer's current one, so it comes from a fenced (zombie)
	// producer instance. Kafka: INVALID_PRODUCER_EPOCH (47), which since
	// Kafka 2.7 replaces PRODUCER_FENCED in Produce responses, from
	// ProducerAppendInfo.checkProducerEpoch.
	ErrInvalidProducerEpoch = errors.New("invalid producer epoch")

	// ErrInvalidTxnState: a non-transactional batch from a producer whose
	// transaction is open in the partition, or (from the partition) a
	// transactional batch the coordinator did not verify. Kafka:
	// INVALID_TXN_STATE (48).
	ErrInvalidTxnState = errors.New("invalid transaction state")

	// ErrTransactionCoordinatorFenced: a marker from a transaction
	// coordinator older than the one that wrote the producer's last
	// marker. Kafka: TRANSACTION_COORDINATOR_FENCED (52).
	ErrTransactionCoordinatorFenced = errors.New("transaction coordinator fenced")
)

// errCorruptSnapshot marks a snapshot file that fails its checks; Load skips
// such a file and deletes it.
var errCorruptSnapshot = errors.New("corrupt producer state snapshot")
