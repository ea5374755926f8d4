// Package replica keeps the broker's local partitions in step with the
// metadata: when an Image adds a topic, the partitions this broker hosts get
// logs; when it removes one, their logs are deleted; when configs change,
// the logs get the new configuration. Handlers find partitions here.
//
// A Manager is safe for concurrent use. Apply is called by one goroutine
// (the metadata subscriber) at a time; lookups run concurrently with it.
package replica
