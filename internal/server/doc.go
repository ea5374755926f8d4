// Package server assembles a broker and serves the Kafka protocol on TCP.
//
// Start opens the data directory (meta.properties with the cluster and node
// ids, the partition log directory, the metadata log), replays the metadata,
// opens the partitions it names, and listens. Each connection has a reader
// goroutine that reads frames (capped at socket.request.max.bytes before
// anything is allocated), parses the header, decodes the request with kmsg
// and runs it on its own goroutine; a wire.Responder writes the responses
// strictly in request order. A protocol violation — garbage, an unknown API
// key, an unsupported version, a body that does not decode — closes that
// connection alone, with one log line.
//
// The broker also runs the transaction coordinators
// (coordinator/runtime.Transactions on __transaction_state) unless
// Config.DisableTransactions; their markers go through the WriteTxnMarkers
// handler in process (txns.go), which sends those of __consumer_offsets
// partitions to the group shards.
//
// Broker is safe for concurrent use; Close stops listening, closes every
// connection, waits for the goroutines and closes the logs cleanly.
package server
