// Package runtime runs the group coordinators of this broker: one shard
// per partition of the internal topic __consumer_offsets, each a goroutine
// that owns a group.Coordinator and keeps the coordinator's contract with
// the partition's log, in the manner of Kafka's CoordinatorRuntime. (The
// name is Kafka's; importers that also need the standard library's
// runtime package rename one of them.)
//
// # A shard's life
//
// At start a shard waits for its partition's log, then replays it from the
// log start offset to the log end offset into a loading coordinator, one
// batch at a time; between batches it answers queued requests, which the
// loading coordinator turns away with COORDINATOR_LOAD_IN_PROGRESS. Then it
// calls Loaded and serves.
//
// Every request is a Command run on the shard's goroutine, in the order the
// requests were submitted. For each Result (of a command, of Tick, Loaded
// or Unload) the shard appends the Records as one batch (no producer id,
// key and value per record, a null value for a tombstone), waits until the
// batch is durable, and only then hands out the Response and the Replies:
// an acknowledged commit survives a crash. The shard owns a call until it
// is answered; deferred answers (JoinGroup, SyncGroup) find their call
// through Caller.Ref, which is the call itself.
//
// If an append or the wait for durability fails, the coordinator is ahead
// of its log. The requests of that Result are answered NOT_COORDINATOR (as
// Kafka maps a storage error), the coordinator is unloaded, which answers
// every parked request NOT_COORDINATOR, and a new one is loaded from the
// log. The client then looks the coordinator up again and retries.
//
// Timers: after each Result the shard arms one clock timer for the
// coordinator's NextDeadline and calls Tick when it fires; a command that
// finds the deadline already passed runs Tick right after.
//
// Close stops every shard: queued requests and parked ones are answered
// NOT_COORDINATOR, and nothing is written afterwards, so the logs may be
// closed once Close returns.
//
// # Concurrency
//
// A Runtime is safe for concurrent use. Each coordinator is touched only by
// its shard's goroutine; the runtime holds no locks of its own besides the
// shards' queues.
package runtime
