// Package partition is one partition as the broker serves it: its log, the
// state of its idempotent and transactional producers, its leader epoch,
// its high watermark and its last stable offset.
//
// The produce path validates a client batch (record.ValidateProduce),
// checks the producer's sequence, appends, and, when the broker
// acknowledges only durable data (log.DurabilitySync, the default), waits
// until the batch is on disk. The high watermark — the offset below which
// consumers may read — is then the log's durable offset, so a consumer never
// sees a record that a crash could take back. Under log.DurabilityAsync it
// is the log end offset, as in a single-node Kafka.
//
// Transactions (KIP-98): transactional batches open a producer's
// transaction; WriteMarker appends the coordinator's COMMIT or ABORT
// control batch and records aborted transactions in the log's
// aborted-transaction index. The last stable offset is the first offset of
// the earliest transaction that is open or whose marker is not yet below
// the high watermark, capped by the high watermark; read_committed readers
// stop there. With KIP-890 verification (AppendVerified), a producer's
// first transactional batch needs a VerificationGuard from
// StartTxnVerification that no marker has voided since.
//
// A Partition is safe for concurrent use: appends serialize on its mutex
// (validation and the producer check run under it, so sequence checks and
// offset assignment are atomic); reads go straight to the log.
package partition
