// Package record is a view over Kafka record batches (message format v2,
// "magic 2"): the 61-byte batch header, its validation, the in-place header
// rewrites a broker performs on append, and a decoder for the records inside a
// batch with every compression codec.
//
// The broker keeps batches as the bytes the client sent. Hot paths (produce,
// fetch, recovery) use only ParseHeader and Validate, which read the header and
// checksum the batch without touching the records. Features that need the
// records themselves (timestamp lookup, compaction keys, dump-log) use the
// Decoder, which bounds the memory a compressed batch may expand to.
//
// Functions in this package do no I/O, keep no state between calls and are
// safe for concurrent use on distinct buffers. Functions that rewrite a batch
// modify the caller's slice in place and allocate nothing.
//
// The byte layout is documented in docs/format/record-batch.md.
package record
