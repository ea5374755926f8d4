// Package metadata holds the cluster metadata every broker reads: topics
// with their ids, partitions and configs, and the cluster's identity.
//
// Metadata changes are Records. An Image is an immutable snapshot of the
// metadata; Image.Apply returns the Image after one more record, leaving the
// old one untouched, so readers hold an *Image without locks while the
// writer builds the next one. A Store keeps the current Image behind an
// atomic pointer and persists records, before applying them, in a metadata
// log: today a local partition log (__cluster_metadata-0, written with
// internal/log and synced before Commit returns); with the Raft quorum, the
// replicated log will take its place and the rest of the package stays.
//
// Records are stored as JSON inside ordinary record batches
// (docs/format/metadata-records.md), one record per batch value.
//
// Image and Record values are immutable once published and safe for
// concurrent use. A Store is safe for concurrent use; commits are serialized.
package metadata
