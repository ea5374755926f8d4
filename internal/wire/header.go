package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Errors from ParseRequestHeader. Each is a protocol violation: the server
// logs it and closes the connection, except that an ApiVersions request with
// ErrUnsupportedVersion is answered with UNSUPPORTED_VERSION (KIP-511).
var (
	// ErrMalformedHeader reports a request header that is truncated or
	// carries an invalid length or varint. It is returned wrapped with
	// details; test with errors.Is.
	ErrMalformedHeader = errors.New("wire: malformed request header")
	// ErrUnknownAPIKey reports an API key kmsg does not know.
	ErrUnknownAPIKey = errors.New("wire: unknown API key")
	// ErrUnsupportedVersion reports a version of a known API key that kmsg
	// cannot decode (negative, or newer than kmsg's newest). Whether Basket
	// serves a version kmsg knows is for the API registry to decide.
	ErrUnsupportedVersion = errors.New("wire: unsupported API version")
)

// requestHeaderV0Size is the size of request header v0: api key, api
// version and correlation id.
const requestHeaderV0Size = MinFrameSize

// RequestHeader is a parsed Kafka request header.
type RequestHeader struct {
	APIKey        int16
	APIVersion    int16
	CorrelationID int32
	// ClientID is the client id, nil when the client sent null (any
	// negative length, as Apache Kafka reads it) or when HeaderVersion is
	// 0. An empty, non-null client id is a non-nil empty slice. It aliases
	// the frame passed to ParseRequestHeader, so it is valid only as long
	// as that frame is; copy it (string(ClientID)) to keep it. Aliasing
	// keeps parsing allocation-free, and lets a connection compare it with
	// the client id it saw last instead of allocating a string per request.
	ClientID []byte
	// HeaderVersion is the request header version the frame was parsed
	// with: 0, 1 or 2 (see RequestHeaderVersion).
	HeaderVersion int
}

// ClientIDString returns a copy of ClientID as a kmsg-style nullable
// string: nil for a null client id. It allocates.
func (h *RequestHeader) ClientIDString() *string {
	if h.ClientID == nil {
		return nil
	}
	s := string(h.ClientID)
	return &s
}

// ParseRequestHeader parses the request header at the start of frame, a
// request without its size prefix (as ReadFrame returns it), and returns
// the header and the body that follows it. body is a suffix of frame, and
// header.ClientID aliases frame; neither is copied.
//
// The header version comes from the key and version (RequestHeaderVersion).
// Version 1 and 2 headers carry the client id as a non-compact, int16-length
// nullable string in both versions, so that any broker can read an
// ApiVersions header; version 2 then has a tagged-field section, whose
// fields are all skipped, since RequestHeader defines none.
//
// On error the returned header holds whatever was parsed — APIKey,
// APIVersion and CorrelationID whenever frame has at least 8 bytes — so
// the server can log or answer. An unknown key's header is parsed as
// version 1. ErrUnknownAPIKey and ErrUnsupportedVersion are returned only
// for a well-formed header, with the full header and its body; a header
// that cannot be parsed returns an error wrapping ErrMalformedHeader and a
// nil body. ParseRequestHeader never panics, does not allocate
// unless it fails, and is safe for concurrent use.
func ParseRequestHeader(frame []byte) (h RequestHeader, body []byte, err error) {
	if len(frame) < requestHeaderV0Size {
		return h, nil, fmt.Errorf("%w: %d bytes, need %d", ErrMalformedHeader, len(frame), requestHeaderV0Size)
	}
	h.APIKey = int16(binary.BigEndian.Uint16(frame[0:]))
	h.APIVersion = int16(binary.BigEndian.Uint16(frame[2:]))
	h.CorrelationID = int32(binary.BigEndian.Uint32(frame[4:]))
	h.HeaderVersion = RequestHeaderVersion(h.APIKey, h.APIVersion)

	rest := frame[requestHeaderV0Size:]
	if h.HeaderVersion >= 1 {
		if h.ClientID, rest, err = readNullableString(rest); err != nil {
			return h, nil, err
		}
	}
	if h.HeaderVersion >= 2 {
		if rest, err = skipTaggedFields(rest); err != nil {
			return h, nil, err
		}
	}

	a, known := lookup(h.APIKey)
	switch {
	case !known:
		return h, rest, ErrUnknownAPIKey
	case h.APIVersion < 0 || h.APIVersion > a.maxVersion:
		return h, rest, ErrUnsupportedVersion
	}
	return h, rest, nil
}

// readNullableString reads an int16-length nullable string from b and
// returns it (nil if null) and the bytes after it. The string aliases b.
func readNullableString(b []byte) (s, rest []byte, err error) {
	if len(b) < 2 {
		return nil, nil, fmt.Errorf("%w: client id length truncated", ErrMalformedHeader)
	}
	n := int16(binary.BigEndian.Uint16(b))
	b = b[2:]
	if n < 0 {
		return nil, b, nil
	}
	if int(n) > len(b) {
		return nil, nil, fmt.Errorf("%w: client id length %d exceeds remaining %d bytes", ErrMalformedHeader, n, len(b))
	}
	return b[:n:n], b[n:], nil
}

// skipTaggedFields skips a tagged-field section (KIP-482): a uvarint
// count, then for each field a uvarint tag, a uvarint size and that many
// bytes. Every size is bounded by the bytes that remain, and each field
// consumes at least two bytes, so a hostile count cannot make it loop long.
func skipTaggedFields(b []byte) ([]byte, error) {
	count, b, err := readUvarint(b)
	if err != nil {
		return nil, fmt.Errorf("%w: tagged field count: %w", ErrMalformedHeader, err)
	}
	for i := uint32(0); i < count; i++ {
		var size uint32
		if _, b, err = readUvarint(b); err != nil {
			return nil, fmt.Errorf("%w: tag of tagged field %d: %w", ErrMalformedHeader, i, err)
		}
		if size, b, err = readUvarint(b); err != nil {
			return nil, fmt.Errorf("%w: size of tagged field %d: %w", ErrMalformedHeader, i, err)
		}
		if uint64(size) > uint64(len(b)) {
			return nil, fmt.Errorf("%w: tagged field %d size %d exceeds remaining %d bytes", ErrMalformedHeader, i, size, len(b))
		}
		b = b[size:]
	}
	return b, nil
}

var (
	errVarintTruncated = errors.New("truncated varint")
	errVarintOverflow  = errors.New("varint overflows 32 bits")
)

// readUvarint reads Kafka's unsigned varint: 7 bits per byte, least
// significant group first, at most 5 bytes, and the value must fit in 32
// bits.
func readUvarint(b []byte) (uint32, []byte, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		if i >= len(b) {
			return 0, nil, errVarintTruncated
		}
		c := b[i]
		if i == 4 && c > 0x0f {
			return 0, nil, errVarintOverflow
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, b[i+1:], nil
		}
	}
	return 0, nil, errVarintOverflow // unreachable: the fifth byte is < 0x10
}
