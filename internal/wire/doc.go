// Package wire frames Kafka requests and responses on a connection: it
// reads size-prefixed frames, parses request headers, writes response
// headers, and sends one connection's responses in request order. It knows
// no API's semantics — bodies are decoded and encoded by kmsg in the
// caller — and does no I/O beyond reading frames and writing responses.
//
// # Framing
//
// Every request and response is an int32 big-endian size followed by that
// many bytes. ReadFrame (or a FrameReader) checks the size against the
// broker's limit (socket.request.max.bytes) and against MinFrameSize, the
// 8-byte request header v0, before allocating anything; a bad size is a
// *FrameSizeError matching ErrFrameTooLarge or ErrFrameTooSmall, after which
// the connection cannot be resynchronised and is closed. Apache Kafka
// allocates the whole declared frame once the size passes the check; wire
// does so only up to 1 MiB and grows larger frames as their bytes arrive,
// so a slow or stalled peer cannot make the broker hold memory it has not
// sent. A peer closing between frames yields io.EOF, inside one
// io.ErrUnexpectedEOF.
//
// # Request headers
//
// ParseRequestHeader picks the header version from the API key and version
// the way Apache Kafka's generated code does (RequestHeaderVersion):
//
//	v0  api key, api version, correlation id — ControlledShutdown v0 only
//	v1  v0 + client id (int16-length nullable string)
//	v2  v1 + tagged-field section — flexible request versions (KIP-482)
//
// The client id is never a compact string, even in v2, so that any broker
// can read the header of an ApiVersions request of a version it does not
// know; such a request (v3 and up) has a v2 header and is parsed in full,
// and the server answers it with UNSUPPORTED_VERSION (KIP-511). Any other
// unknown API key or version is reported with ErrUnknownAPIKey or
// ErrUnsupportedVersion along with the parsed key, version and correlation
// id, for the server to log before it closes the connection. Header tagged
// fields are skipped: RequestHeader defines none. The client id aliases
// the frame, which keeps parsing allocation-free.
//
// # Responses
//
// A response is the size, the correlation id, an empty tagged-field
// section if the response header is v1 (ResponseHeaderFlexible: the body
// is flexible, except for ApiVersions, whose response header is always v0),
// then the body. AppendResponse encodes a kmsg response in place after its
// header and fills in the size last, so the body is never copied.
//
// # Response order
//
// Clients pipeline requests and match responses by correlation id, but
// Kafka answers each connection's requests in the order they arrived, and
// clients rely on it. A Responder keeps that order while requests finish
// out of order (an acks=all produce waiting for fsync, a metadata request
// answered at once): the reader reserves a Slot per request in request
// order, any goroutine completes or drops it, and Responder.Run writes
// completed responses in slot order, several per write when they are
// ready together. The number of outstanding slots is bounded, so a client
// that does not read its responses stops being read from.
//
// # Concurrency
//
// ParseRequestHeader, RequestHeaderVersion, ResponseHeaderFlexible and the
// Append functions are pure and safe for concurrent use. A FrameReader is
// used by one goroutine. Responder.Reserve, Responder.Close and the Slot
// methods are safe for concurrent use; Responder.Run is called once, by
// the connection's writer goroutine.
package wire
