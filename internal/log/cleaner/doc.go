// Package cleaner is Basket's log cleaner: it compacts the logs whose
// cleanup.policy includes compact, keeping at least the latest record of
// every key, in the manner of Kafka's LogCleaner.
//
// # The algorithm
//
// A compacted log has a clean section, [log start, first dirty offset), left
// by the previous clean, and a dirty section after it up to the first
// uncleanable offset: the base offset of the active segment, of the segment
// holding the high watermark (Bound.UpperOffset; the cleaner never reads a
// record at or above it), or of the first segment holding a record younger
// than min.compaction.lag.ms. The first dirty offset of every partition is
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
// map always comes first, and the memory is kept for the next clean. Then every segment from the log
// start up to the mapped end is recopied, in groups no larger than
// segment.bytes, into one new segment per group: a record survives if no
// later record has its key. Offsets never change: surviving records keep
// theirs, batches keep their offset range (gaps are normal), and a batch
// that loses records is rewritten with its original codec and a new CRC.
// Tombstones (null values) are kept until delete.retention.ms after the
// first clean that kept them, marked with a delete horizon in the batch
// header (KIP-534). The last batch of each active idempotent producer is
// kept, empty if need be, so producer state survives (Bound.Producers).
//
// Each new segment is written as .cleaned files and swapped in by
// log.Log.ReplaceSegments (.swap files, recovered at startup), so a crash
// leaves either the old or the new segments. A batch that fails its CRC or
// does not decode stops cleaning of that log (Uncleanable) with an error
// logged; nothing of it is swapped.
//
// Transactions (issue 7) plug in at filter: control batches are kept as they
// are today, and aborted data is not yet recognised.
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
