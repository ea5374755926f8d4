// Package runtime runs the coordinators of this broker in the manner of
// Kafka's CoordinatorRuntime: the group coordinators, one shard per
// partition of __consumer_offsets (Runtime), and the transaction
// coordinators, one shard per partition of __transaction_state
// (Transactions). Both are instances of one generic engine: a shard is a
// goroutine that owns a state machine (group.Coordinator or
// txn.Coordinator behind a small Machine adapter) and keeps the machine's
// contract with the partition's log. (The name is Kafka's; importers that
// also need the standard library's runtime package rename one of them.)
//
// # A shard's life
//
// At start a shard waits for its partition's log, then replays it from the
// log start offset to the log end offset into a loading machine, one
// batch at a time; between batches it answers queued requests, which the
// loading machine turns away with COORDINATOR_LOAD_IN_PROGRESS. Then it
// calls Loaded and serves. Records of transactional and control batches
// reach the machine with their batch header: the group coordinator keeps
// TxnOffsetCommit offsets pending until their producer's marker.
//
// Every request is a command run on the shard's goroutine, in the order
// the requests were submitted. For each Output (of a command, of Tick,
// Loaded or Unload) the shard appends the Records as one batch (no
// producer id, or the producer's id and epoch for a transactional batch
// or a marker), waits until the batch is durable, runs the Output's
// Durable hook, and only then hands out the Response and the Replies: an
// acknowledged commit survives a crash. The shard owns a call until it is
// answered; deferred answers (JoinGroup, SyncGroup) find their call
// through Caller.Ref, which is the call itself.
//
// If an append or the wait for durability fails, the machine is ahead of
// its log. The requests of that Output are answered NOT_COORDINATOR (as
// Kafka maps a storage error), the machine is unloaded, which answers
// every parked request NOT_COORDINATOR, and a new one is loaded from the
// log. The client then looks the coordinator up again and retries.
//
// Timers: after each Output the shard arms one clock timer for the
// machine's NextDeadline and calls Tick when it fires; a command that
// finds the deadline already passed runs Tick right after.
//
// Close stops every shard: queued requests and parked ones are answered
// NOT_COORDINATOR, and nothing is written afterwards, so the logs may be
// closed once Close returns.
//
// # Transaction markers
//
// When a transaction's PrepareCommit or PrepareAbort is durable (or is
// found at load), Transactions writes its markers through the
// WriteTxnMarkers option on a goroutine of its own, retrying what is not
// acknowledged, and then submits CompleteMarkers to the shard. Markers of
// __consumer_offsets partitions reach the group shards through
// Runtime.WriteTxnMarker, so the group coordinator applies them.
//
// # Concurrency
//
// Runtime and Transactions are safe for concurrent use. Each machine is
// touched only by its shard's goroutine; the runtime holds no locks of
// its own besides the shards' queues and the set of marker writers.
package runtime
