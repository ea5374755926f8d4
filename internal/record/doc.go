// Package record is a view over Kafka record batches (message format v2,
// "magic 2"): the 61-byte batch header, its validation, the in-place header
// rewrites a broker performs on append, a decoder for the records inside a
// batch with every compression codec, and an encoder that builds batches.
//
// The broker keeps batches as the bytes the client sent. Hot paths (produce,
// fetch, recovery) use only ParseHeader and Validate (ValidateProduce for
// batches from clients), which read the header and checksum the batch
// without touching the records. Features that need the records themselves
// (timestamp lookup, compaction keys, dump-log) use a Decoder, which bounds
// the memory a compressed batch may expand to. AppendBatch writes new
// batches: test data, transaction markers (EndTxnMarker), and batches that
// compaction rewrites with fewer records.
//
// A batch in a log may cover more offsets than it has records, because
// compaction keeps a batch's offset range when it drops records; Validate
// accepts that, ValidateProduce does not.
//
// Memory: functions that rewrite a batch modify the caller's slice in place
// and allocate nothing. AppendBatch appends to the caller's slice. A
// Decoder hands its callback records whose slices alias the batch or the
// Decoder's buffer, valid only during the callback (Record.Clone copies).
//
// Concurrency: the package does no I/O and holds no state visible to
// callers; its functions are safe for concurrent use on distinct buffers.
// A Decoder is not safe for concurrent use; use one per goroutine.
//
// Errors wrap one of ErrCorrupt, ErrInvalidRecord and ErrTooLarge, each
// matching the Kafka error code a broker answers with.
//
// The byte layout is documented in docs/format/record-batch.md. The batches
// in testdata were produced by the franz-go client; testdata/recordgen, a
// separate module, regenerates them.
package record
