package api

import (
	"context"
	"errors"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrCloseConnection, from a handler, closes the connection without an
// answer: an acks=0 produce that failed, which the client can only notice
// that way (Apache Kafka does the same).
var ErrCloseConnection = errors.New("close connection")

// handlerFunc serves one request. req is the decoded request at the
// version the client sent; the response must be at the same version.
//
// A handler runs in two phases. The first runs on the connection's reader,
// one request at a time in arrival order, as Kafka processes a connection's
// requests: everything that changes state (appends, metadata commits)
// happens here, so pipelined requests apply in order. If the answer must
// wait — a produce for fsync, a fetch for data — the handler returns a Wait
// instead of (or besides) a response, and the server runs it on its own
// goroutine while later requests proceed; responses still leave in request
// order.
type handlerFunc func(h *Handlers, ctx context.Context, req kmsg.Request) (kmsg.Response, Wait, error)

// Wait finishes a request whose answer waits on something. It returns the
// response, nil for none (acks=0), or an error to close the connection.
type Wait func(ctx context.Context) (kmsg.Response, error)

// now adapts a handler that answers at once.
func now(fn func(h *Handlers, ctx context.Context, req kmsg.Request) (kmsg.Response, error)) handlerFunc {
	return func(h *Handlers, ctx context.Context, req kmsg.Request) (kmsg.Response, Wait, error) {
		resp, err := fn(h, ctx, req)
		return resp, nil, err
	}
}

// registration is one API key's entry.
type registration struct {
	key int16
	// advertisedMin..max is what ApiVersions reports. acceptedMin is the
	// lowest version actually served; versions below it that are still
	// advertised (Produce v0-2, for librdkafka's feature checks) are
	// rejected by closing the connection, as Apache Kafka does.
	advertisedMin, acceptedMin, max int16
	handle                          handlerFunc
}

var registry = map[int16]*registration{}

// register records an API at init time. Registering a key twice is a
// programming error.
func register(key, advertisedMin, acceptedMin, max int16, handle handlerFunc) {
	if _, dup := registry[key]; dup {
		panic("api: key registered twice: " + kmsg.NameForKey(key))
	}
	if advertisedMin > acceptedMin || acceptedMin > max {
		panic("api: bad version range for " + kmsg.NameForKey(key))
	}
	registry[key] = &registration{key, advertisedMin, acceptedMin, max, handle}
}

// Supported reports whether Basket serves version v of API key.
func Supported(key, v int16) bool {
	r, ok := registry[key]
	return ok && v >= r.acceptedMin && v <= r.max
}

// VersionRange is one advertised API.
type VersionRange struct{ Key, Min, Max int16 }

// Advertised lists every registered API by key.
func Advertised() []VersionRange {
	out := make([]VersionRange, 0, len(registry))
	for _, r := range registry {
		out = append(out, VersionRange{r.key, r.advertisedMin, r.max})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Handle runs the first phase of a request whose key and version are
// Supported: call it from one goroutine per connection, in request order.
// With a non-nil Wait, the response comes from the Wait.
func (h *Handlers) Handle(ctx context.Context, req kmsg.Request) (kmsg.Response, Wait, error) {
	return registry[req.Key()].handle(h, ctx, req)
}
