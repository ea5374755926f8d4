// Package controller makes the cluster's metadata decisions: it validates
// admin requests (topics, partitions, configs), turns them into metadata
// records and commits them to the metadata store. On a single node it runs
// in-process; with the Raft quorum it will run on the quorum's leader and
// commit through the replicated log, with the same records.
//
// A Controller is safe for concurrent use; decisions are serialized so two
// requests never both create the same topic.
package controller
