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
// With Config.EnableTransactions the broker also runs the transaction
// coordinators (coordinator/runtime.Transactions on __transaction_state)
// and advertises the transaction APIs; their markers go through
// writeTxnMarkers, a placeholder until the partition side of transactions
// is merged (see txns.go).
//
// Broker is safe for concurrent use; Close stops listening, closes every
// connection, waits for the goroutines and closes the logs cleanly.
package server
