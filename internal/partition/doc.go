// Package partition is one partition as the broker serves it: its log, the
// state of its idempotent producers, its leader epoch and its high
// watermark.
//
// The produce path validates a client batch (record.ValidateProduce),
// checks the producer's sequence, appends, and, when the broker
// acknowledges only durable data (log.DurabilitySync, the default), waits
// until the batch is on disk. The high watermark — the offset below which
// consumers may read — is then the log's durable offset, so a consumer never
// sees a record that a crash could take back. Under log.DurabilityAsync it
// is the log end offset, as in a single-node Kafka.
//
// A Partition is safe for concurrent use: appends serialize on its mutex
// (validation and the producer check run under it, so sequence checks and
// offset assignment are atomic); reads go straight to the log.
package partition
