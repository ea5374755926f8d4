// Package log is Basket's storage engine: each partition is a Kafka-style
// segmented log on local disk.
//
// # Layout
//
// A Dir is one log directory (an entry of log.dirs). It holds one
// subdirectory per partition, named "<topic>-<partition>", and the
// checkpoint files recovery-point-offset-checkpoint and
// log-start-offset-checkpoint. A partition's Log is a sequence of segments,
// each named by its base offset in 20 digits: a .log file with record
// batches stored exactly as the producer sent them (BaseOffset and
// PartitionLeaderEpoch rewritten, and MaxTimestamp under LogAppendTime), a
// sparse .index (offset to file position every index.interval.bytes) and a
// .timeindex (largest timestamp so far to offset), and, once the segment
// holds an ABORT transaction marker, a .txnindex listing the transactions
// aborted in it (AppendAbortedTxn, AbortedTxns; rebuilt by
// Options.RebuildTxnIndex for segments recovered after a crash). The byte
// formats are in docs/format/.
//
// # Data paths
//
// Append validates a batch (record.Validate), assigns offsets from the log
// end offset, writes it to the active segment and rolls to a new segment on
// segment.bytes, segment.ms, a full index or relative-offset overflow. It
// does not sync: the Dir's flusher does group commit per log. A log not
// being synced starts a sync at once; appends to a log whose sync is running
// all ride on its next one; logs never wait for each other's syncs, and at
// most 32 run at a time. WaitDurable returns once an offset is on disk.
// Under DurabilitySync (the default) every append asks for a flush; under
// DurabilityAsync only flush.messages, flush.ms, roll and shutdown do, as
// in Kafka.
//
// ReadUpTo returns a Region — file, position, length — holding whole batches
// starting at the batch that contains the requested offset, for the server
// to send with sendfile. Readers never copy record data onto the heap.
//
// # Recovery
//
// Close flushes everything, writes the checkpoints and a clean-shutdown
// marker. OpenDir after a clean shutdown trusts the files without reading
// the data: it checks that each index matches its segment and walks the
// batch headers after the last index entry to find the segment's end, and
// recovers any segment that fails those checks. After a crash it scans every
// segment from the one holding the partition's recovery point, validating
// each batch's CRC, truncates at the first torn or invalid batch, drops any
// later segments and rebuilds the indexes; partitions recover in parallel.
// Segments below the recovery point were synced whole before the point
// passed them and are not checksummed again on open; every byte above it is,
// so a batch torn or corrupted by a crash is never served.
//
// # Retention
//
// Segments wholly below the log start offset, older than retention.ms by
// their newest timestamp, or beyond retention.bytes are deleted oldest first;
// DeleteRecords advances the log start offset. The active segment is never
// deleted. Deleted files are renamed to *.deleted at once and removed after
// file.delete.delay.ms, so readers holding a Region can finish.
//
// # Compaction
//
// Package cleaner compacts logs whose Config has Compact set. The log gives
// it a view of the segments (Segments, SegmentInfo.ReadAt), a replacement
// segment written under .cleaned names (CreateCleanedSegment), and
// ReplaceSegments, which swaps cleaned segments in for the ones they
// replace through .swap names so that a crash leaves either; the next open
// completes a committed swap and discards the rest (docs/format/
// compaction.md). A compacted log rolls at min(segment.ms,
// max.compaction.lag.ms), as Kafka's does.
//
// # Concurrency
//
// Readers (ReadUpTo, OffsetForTimestamp and the offset accessors) run
// concurrently with each other and with the one appender of a partition;
// they see an immutable snapshot of the segment list and only bytes a
// segment has published as written. Writers (Append, TruncateTo,
// TruncateFullyAndStartAt, DeleteRecords, retention) serialize on Log.mu.
// Lock order: Log.mu, then Log.flushMu, then segment.flushMu, then the index
// locks; Dir.mu is taken alone or after Log.mu.
//
// # Errors
//
// Storage errors are returned, never hidden. A failed write leaves the log
// readable up to its last good batch. A failed sync puts the log in the
// failed state (ErrFailed): after a failed fsync the kernel may have dropped
// the dirty pages, so nothing unsynced can be acknowledged; the log refuses
// appends until it is reopened and recovered.
package log
