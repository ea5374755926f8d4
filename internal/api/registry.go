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
type handlerFunc func(h *Handlers, ctx context.Context, req kmsg.Request) (kmsg.Response, error)

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

// Handle serves one request whose key and version are Supported.
func (h *Handlers) Handle(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	return registry[req.Key()].handle(h, ctx, req)
}
