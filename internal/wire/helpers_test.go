package wire

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// tag is one tagged field of a test request header.
type tag struct {
	tag  uint32
	data []byte
}

// testHeader is a request header as a test client encodes it.
type testHeader struct {
	key, version  int16
	correlationID int32
	clientID      *string
	headerVersion int
	tags          []tag
}

// encodeRequest encodes h and then body, the way a Kafka client does:
// the header with the client id as an int16-length nullable string even in
// header v2, then the request body. It returns the frame without its size
// prefix.
func encodeRequest(h testHeader, body []byte) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint16(b, uint16(h.key))
	b = binary.BigEndian.AppendUint16(b, uint16(h.version))
	b = binary.BigEndian.AppendUint32(b, uint32(h.correlationID))
	if h.headerVersion >= 1 {
		if h.clientID == nil {
			b = binary.BigEndian.AppendUint16(b, 0xffff)
		} else {
			b = binary.BigEndian.AppendUint16(b, uint16(len(*h.clientID)))
			b = append(b, *h.clientID...)
		}
	}
	if h.headerVersion >= 2 {
		b = binary.AppendUvarint(b, uint64(len(h.tags)))
		for _, t := range h.tags {
			b = binary.AppendUvarint(b, uint64(t.tag))
			b = binary.AppendUvarint(b, uint64(len(t.data)))
			b = append(b, t.data...)
		}
	}
	return append(b, body...)
}

// encodeKmsgRequest encodes req at its version with a header of the
// version a client would use (tags only in v2 headers).
func encodeKmsgRequest(req kmsg.Request, correlationID int32, clientID *string, headerVersion int, tags ...tag) []byte {
	return encodeRequest(testHeader{
		key:           req.Key(),
		version:       req.GetVersion(),
		correlationID: correlationID,
		clientID:      clientID,
		headerVersion: headerVersion,
		tags:          tags,
	}, req.AppendTo(nil))
}

// sized prepends the int32 size prefix to frame.
func sized(frame []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(frame))), frame...)
}

func strp(s string) *string { return &s }

// waitFor polls cond until it holds, failing the test after 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
