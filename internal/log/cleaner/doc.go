// Package cleaner is Basket's log cleaner: it compacts the logs whose
// cleanup.policy includes compact, keeping at least the latest record of
// every key, in the manner of Kafka's LogCleaner.
//
// # The algorithm
//
// A compacted log has a clean section, [log start, first dirty offset), left
// by the previous clean, and a dirty section after it up to the first
// uncleanable offset: the base offset of the active segment, of the segment
// holding the last stable offset (Bound.UpperOffset, at most the high
// watermark; the cleaner never reads a record at or above it, so every
// transaction it sees is decided), or of the first segment holding a record
// younger than min.compaction.lag.ms. The first dirty offset of every partition is
// kept in the log directory's cleaner-offset-checkpoint
// (docs/format/checkpoints.md).
//
// A cleaner goroutine picks the log with the highest dirty ratio, dirty
// bytes over clean plus dirty bytes, among those above their
// min.cleanable.dirty.ratio or whose oldest dirty segment is older than
// max.compaction.lag.ms. It reads the dirty section into a map from a
// 128-bit hash of each key to the key's latest offset. The map's memory is
// bounded by the cleaner's share of log.cleaner.dedupe.buffer.size; when it
// fills, the clean covers only the records mapped so far and the next clean
// carries on from there (several passes). What the map does not need of
// that share holds the dirty segments the map pass read, so the recopy
// takes them from memory (and trusts the CRCs the map pass checked); the
// map always comes first, and the memory is kept for the next clean. A
// prefetch goroutine reads each dirty segment into that memory a chunk
// ahead of the map pass (reader.go), so reading overlaps parsing. A
// sixteenth of the share counts, per dirty batch, how many of its records
// are still the latest of their key (live.go): the recopy drops a batch
// counted at none and keeps one counted at all without reading its
// records again.
//
// Then every segment from the log start up to the mapped end is recopied,
// in groups, into one new segment per group: a record survives if no later
// record has its key. An old segment joins the current group while what was
// written so far plus its whole size fits segment.bytes, so segments that
// shrink to little merge in the same clean. Offsets never change: surviving
// records keep theirs, batches keep their offset range (gaps are normal),
// and a batch that loses records is rewritten with its original codec and
// a new CRC. The cleaned files are written back to the device as they are
// written (vfs.WritebackStarter), so the sync before the swap is short.
// Tombstones (null values) are kept until delete.retention.ms after the
// first clean that kept them, marked with a delete horizon in the batch
// header (KIP-534). The last batch of each active producer is kept, empty
// if need be, so producer state survives (Bound.Producers).
//
// Transactional data is handled as Kafka's CleanedTransactionMetadata does
// (txn.go): each pass reads the aborted transactions overlapping its range
// from the aborted-transaction indexes, and following the batches in offset
// order knows which belong to an aborted transaction. Those give no key to
// the map and lose all their records. A COMMIT or ABORT marker stays as it
// is while a batch of its transaction was read earlier in the same pass;
// after that it is a tombstone: stamped with a delete horizon, removed once
// past it. Each kept ABORT marker whose data the pass read gets its entry
// in the cleaned segment's .txnindex.
//
// Each new segment is written as .cleaned files (its .txnindex included)
// and swapped in by log.Log.ReplaceSegments (.swap files, recovered at
// startup), so a crash leaves either the old or the new segments, each with
// its own aborted-transaction index. A batch that fails its CRC or
// does not decode stops cleaning of that log (Uncleanable) with an error
// logged; nothing of it is swapped.
//
// # Use
//
// New(dir, Options) then Start runs log.cleaner.threads goroutines that
// look for work every log.cleaner.backoff.ms; all of them together read
// and write at most log.cleaner.io.max.bytes.per.second. CleanOnce and
// CleanLog clean on demand. Stats reports each log's last clean (bytes
// read and written, records removed, dirty ratio, time) and DirtyRatio the
// current ratio; every clean is also logged at info.
//
// # Concurrency
//
// A Cleaner is safe for concurrent use; a log is cleaned by one goroutine at
// a time. Cleaning runs beside appends, reads, retention and truncation of
// the same log: it reads only sealed segments, and ReplaceSegments swaps
// only if none of the replaced segments changed meanwhile.
package cleaner
