// Package api implements the Kafka APIs Basket serves, one file per API key
// (NN_snake_name.go). Each file opens with the versions it supports and how
// it behaves, and registers its key and version range once, in init; the
// ApiVersions response is built from those registrations, so Basket
// advertises exactly what it implements.
//
// A handler receives a decoded kmsg request and returns a kmsg response. It
// decodes nothing itself, reads metadata from an immutable *metadata.Image,
// and reaches the rest of the broker through the small interfaces in
// deps.go, wired together by package server. Handlers may block (an acks=all
// produce waiting for fsync, a fetch long poll); the server runs each
// request on its own goroutine and answers in request order.
//
// Two error channels (STYLE.md): a handler returns a Go error only for a
// request that breaks the protocol, and the server then closes the
// connection; everything a client can act on is a Kafka error code inside
// the response.
package api
