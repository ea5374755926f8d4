// Package txn is the transaction coordinator (KIP-98, with KIP-360,
// KIP-588 and KIP-890) as a deterministic state machine: Kafka's
// TransactionCoordinator and TransactionStateManager for one
// __transaction_state partition. It does no I/O besides asking
// Config.ProducerIDs for a new producer id, starts no goroutines and
// reads the time only from an injected clock.Clock.
//
// # Commands, records, markers
//
// Each API is a method taking the decoded kmsg request and returning a
// Result: the Records to append to the partition, the Response, and the
// Markers to write. InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn
// and EndTxn change state; DescribeTransactions and ListTransactions read
// it. EndTxn answers once PrepareCommit (PrepareAbort) is durable; the
// owner then writes the transaction's COMMIT (ABORT) markers to its
// partitions with WriteTxnMarkers and, when every partition has
// acknowledged, calls CompleteMarkers, which writes CompleteCommit
// (CompleteAbort). Until then every request of that transactional id is
// answered CONCURRENT_TRANSACTIONS, so the next transaction cannot start
// while markers of the last are in flight.
//
// Timers are two periodic checks, as in Kafka
// (transaction.abort.timed.out.transaction.cleanup.interval.ms and
// transaction.remove.expired.transaction.cleanup.interval.ms): nothing
// fires by itself; the owner calls Tick after the clock passes
// NextDeadline. Tick aborts Ongoing transactions older than their
// transaction.timeout.ms with the epoch bumped, which fences the producer,
// and forgets transactional ids idle for transactional.id.expiration.ms.
//
// # The owner's contract
//
// One goroutine owns a Coordinator and makes every call; it is not safe
// for concurrent use. For each Result, in order, the owner:
//
//  1. appends Records to the __transaction_state partition and waits until
//     they are durable;
//  2. only then sends Response and starts writing Markers.
//
// If a write fails the coordinator is ahead of its log: the owner answers
// that Result's request with an error (NOT_COORDINATOR), Unloads the
// coordinator and loads a new one from the log. Loaded returns the
// markers of every transaction found in PrepareCommit or PrepareAbort, so
// they are written again after a restart; markers are idempotent and
// CompleteMarkers ignores a report for a transaction that has moved on.
//
// Routing (PartitionFor), authorization, topic existence and fanning
// AddPartitionsToTxn v4+ out over transactional ids are the owner's.
//
// # What is persisted
//
// One record per state change, in Kafka's format so either broker can
// load the other's partition (docs/format/transaction-state.md):
// TxnMetadataKey (record type 0) and TxnMetadataValue v0, or v1 with the
// KIP-890 tagged fields for transactions on transaction version 2. A
// tombstone forgets an id. Everything persisted changes only by replaying
// a record: the coordinator applies each record it writes through the
// same code as Replay. Kept only in memory, as in Kafka: the epoch before
// the last KIP-360 bump (so a retried InitProducerId gets the same
// answer) and the timers.
//
// # Fencing
//
// InitProducerId bumps the epoch of the transactional id, so an older
// producer with the same id gets PRODUCER_FENCED. With transaction
// version 2 (EndTxn v5, Produce v12) every transaction has its own epoch:
// EndTxn bumps it, the markers carry it, and a delayed EndTxn or marker
// of an earlier transaction cannot touch a later one (KAFKA-17754).
// Epochs run up to 32766; the next bump takes a new producer id from the
// controller, epoch 0. Producer ids are never reused across restarts.
package txn
