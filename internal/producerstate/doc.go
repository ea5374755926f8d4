// Package producerstate keeps, for one partition, the state of its
// idempotent and transactional producers: for each producer id its current
// epoch, its last NumBatchesToRetain batches (sequence range, offsets,
// timestamp), the first offset of its open transaction and the coordinator
// epoch of its last transaction marker. With it the broker answers a
// retried batch with the offsets it already has, rejects batches out of
// sequence, from a fenced epoch or outside the producer's transaction,
// checks transaction markers (CheckMarker), computes the first unstable
// offset that bounds the last stable offset, and keeps doing so across
// restarts. It is Kafka's ProducerStateManager / ProducerStateEntry /
// ProducerAppendInfo.
//
// # Use
//
// The partition's append path owns one State and, under the partition's
// lock, for each batch a producer sends:
//
//  1. Check(h): an error is the partition's Kafka error code (see
//     ErrOutOfOrderSequence, ErrInvalidProducerEpoch); a Verdict with
//     Duplicate set is answered as success with the original offsets,
//     appending nothing;
//  2. otherwise log.Append, then Update(h, now) with the header as
//     appended (BaseOffset assigned).
//
// A transaction marker from the coordinator goes through CheckMarker, the
// append, then UpdateMarker, which returns the transaction it completed;
// an aborted one goes into the segment's aborted-transaction index with
// LastStableOffsetAfter. RebuildTxnIndex, set as log.Options.RebuildTxnIndex,
// rebuilds those index entries after a crash.
//
// A follower, which takes the leader's batches without checking them, calls
// only Update. ExpireIdle runs periodically (Kafka checks every
// producer.id.expiration.check.interval.ms, 10 minutes by default) with
// producer.id.expiration.ms.
//
// # Durability
//
// The state lives in memory and is rebuilt from the log. WriteSnapshot
// saves it in the partition directory as <20-digit offset>.snapshot
// (docs/format/producer-snapshot.md), versioned and checksummed with
// CRC-32C, so that Load need only replay the log above the newest good
// snapshot. The caller chooses when: Kafka snapshots at every segment roll
// and at clean shutdown. A snapshot's offset must be the log end offset the
// state reflects. Load trusts a snapshot only if its offset lies between
// the log start and end offsets, so one taken before a crash cut the log's
// unsynced tail is deleted rather than used.
//
// # Truncation
//
// State has no TruncateTo. After log.TruncateTo the caller reloads with Load,
// which deletes the snapshots above the new log end and replays from the
// newest one left, as Kafka's truncateAndReload does. After
// log.TruncateFullyAndStartAt the caller calls DeleteSnapshotsAbove(fs, dir,
// -1) and starts from New.
//
// # Time
//
// The package reads no clock: callers pass now in Unix milliseconds. A
// producer's idle time counts from its last Update; batches replayed by
// Load count from their MaxTimestamp, as all of Kafka's expiry does.
//
// # Concurrency
//
// A State is not safe for concurrent use; its owner serializes every call.
// Load, WriteSnapshot and DeleteSnapshotsAbove do file I/O through the
// given vfs.FS and must not run concurrently with each other for the same
// directory.
package producerstate
