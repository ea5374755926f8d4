package wire

import (
	"encoding/binary"
	"math"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ResponseHeaderSize returns the size of a response header: 4 bytes of
// correlation id, plus 1 byte for the empty tagged-field section of a
// flexible (v1) header. The 4-byte frame size prefix is not included.
func ResponseHeaderSize(flexibleHeader bool) int {
	if flexibleHeader {
		return 5
	}
	return 4
}

// AppendResponse appends one response frame to dst and returns the
// extended slice: the int32 size prefix, the response header (correlation
// id, then an empty tagged-field section if flexibleHeader) and body
// encoded by its AppendTo at the version it is set to. The body is encoded
// in place — room for the size is reserved first and filled in last — so
// nothing is copied. flexibleHeader normally comes from
// ResponseHeaderFlexible(key, version).
//
// The caller bounds response sizes; a frame over math.MaxInt32 bytes can
// only come from a broker bug and panics.
func AppendResponse(dst []byte, correlationID int32, flexibleHeader bool, body kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = appendHeader(dst, correlationID, flexibleHeader)
	dst = body.AppendTo(dst)
	putFrameSize(dst[start:], len(dst)-start-4)
	return dst
}

// AppendRawResponse is AppendResponse for a body that is already encoded;
// body is copied after the header.
func AppendRawResponse(dst []byte, correlationID int32, flexibleHeader bool, body []byte) []byte {
	dst = AppendResponseHeader(dst, correlationID, flexibleHeader, len(body))
	return append(dst, body...)
}

// AppendResponseHeader appends the size prefix and response header of a
// frame whose body, bodyLen bytes long, the caller sends separately — for
// example as further buffers of the same Slot, so a large body is never
// copied into the header's buffer. It panics if the frame would exceed
// math.MaxInt32 bytes or bodyLen is negative.
func AppendResponseHeader(dst []byte, correlationID int32, flexibleHeader bool, bodyLen int) []byte {
	if bodyLen < 0 {
		panic("wire: negative response body length")
	}
	var size [4]byte
	putFrameSize(size[:], ResponseHeaderSize(flexibleHeader)+bodyLen)
	dst = append(dst, size[:]...)
	return appendHeader(dst, correlationID, flexibleHeader)
}

func appendHeader(dst []byte, correlationID int32, flexibleHeader bool) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	if flexibleHeader {
		dst = append(dst, 0) // no tagged fields
	}
	return dst
}

func putFrameSize(b []byte, size int) {
	if size > math.MaxInt32 {
		panic("wire: response frame exceeds math.MaxInt32 bytes")
	}
	binary.BigEndian.PutUint32(b, uint32(size))
}
