package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime/metrics"
	"testing"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func FuzzParseRequestHeader(f *testing.F) {
	cs := kmsg.NewPtrControlledShutdownRequest()
	f.Add(encodeKmsgRequest(cs, 1, nil, 0))
	f.Add(encodeKmsgRequest(metadataRequest(1, "a"), 2, strp("kgo"), 1))
	f.Add(encodeKmsgRequest(metadataRequest(1), 3, nil, 1))
	f.Add(encodeKmsgRequest(metadataRequest(9, "t"), 4, strp("c"), 2, tag{tag: 0, data: []byte{1, 2}}, tag{tag: 300, data: make([]byte, 130)}))
	f.Add(encodeKmsgRequest(apiVersionsRequest(3), 5, strp("rdkafka"), 2))
	f.Add(encodeRequest(testHeader{key: 18, version: 99, correlationID: 6, headerVersion: 2}, []byte{0}))
	f.Add(encodeRequest(testHeader{key: 999, correlationID: 7, clientID: strp("x"), headerVersion: 1}, nil))
	f.Add([]byte{0, 3, 0, 9, 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f})

	f.Fuzz(func(t *testing.T, frame []byte) {
		h, body, err := ParseRequestHeader(frame)
		if len(frame) >= 8 {
			if h.APIKey != int16(binary.BigEndian.Uint16(frame)) ||
				h.APIVersion != int16(binary.BigEndian.Uint16(frame[2:])) ||
				h.CorrelationID != int32(binary.BigEndian.Uint32(frame[4:])) {
				t.Fatalf("header %+v does not match the frame's first 8 bytes", h)
			}
			if h.HeaderVersion != RequestHeaderVersion(h.APIKey, h.APIVersion) {
				t.Fatalf("HeaderVersion %d, want %d", h.HeaderVersion, RequestHeaderVersion(h.APIKey, h.APIVersion))
			}
		}
		switch {
		case err == nil, errors.Is(err, ErrUnknownAPIKey), errors.Is(err, ErrUnsupportedVersion):
		case errors.Is(err, ErrMalformedHeader):
			if body != nil {
				t.Fatalf("malformed header returned a body of %d bytes", len(body))
			}
			return
		default:
			t.Fatalf("unexpected error %v", err)
		}
		if !isSuffix(frame, body) {
			t.Fatalf("body (%d bytes) is not a suffix of the frame (%d bytes)", len(body), len(frame))
		}
		minHeader := 8
		if h.HeaderVersion >= 1 {
			minHeader += 2 + len(h.ClientID)
			if h.ClientID != nil && !within(frame, h.ClientID) {
				t.Fatal("ClientID does not alias the frame")
			}
		}
		if h.HeaderVersion >= 2 {
			minHeader++
		}
		if headerLen := len(frame) - len(body); headerLen < minHeader {
			t.Fatalf("header of %d bytes, shorter than its fields (%d)", headerLen, minHeader)
		}
	})
}

// isSuffix reports whether s is frame's tail, sharing its memory.
func isSuffix(frame, s []byte) bool {
	if len(s) > len(frame) {
		return false
	}
	return len(s) == 0 || &frame[len(frame)-len(s)] == &s[0]
}

// within reports whether s lies inside frame's memory.
func within(frame, s []byte) bool {
	if len(s) == 0 {
		return true
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(frame)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	return p >= start && p+uintptr(len(s)) <= start+uintptr(len(frame))
}

func FuzzReadFrame(f *testing.F) {
	f.Add(sized([]byte{0, 3, 0, 1, 0, 0, 0, 7}), uint16(0))
	f.Add(append(sized(make([]byte, 12)), sized(make([]byte, 9))...), uint16(1))
	f.Add(sizePrefix(0), uint16(3))
	f.Add(sizePrefix(-1), uint16(3))
	f.Add(append(sizePrefix(60<<20), 1, 2, 3), uint16(2))
	f.Add(append(sizePrefix(3<<20), make([]byte, 100)...), uint16(7))

	const max = 64 << 20
	heapAllocs := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	allocated := func() uint64 {
		metrics.Read(heapAllocs)
		return heapAllocs[0].Value.Uint64()
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		// Memory follows the bytes that arrived, not the sizes declared.
		// The heap metric also counts the fuzzing engine's allocations and
		// small-object span refills, which only add: the least of three
		// passes over the same input is the reader's own cost.
		least := ^uint64(0)
		for range 3 {
			before := allocated()
			readFrames(t, data, chunk, max)
			least = min(least, allocated()-before)
		}
		if limit := uint64(2*len(data) + eagerAllocLimit + 512<<10); least > limit {
			t.Fatalf("allocated %d bytes reading %d bytes of input (limit %d)", least, len(data), limit)
		}
	})
}

// readFrames reads every frame of data, as chunks of chunk bytes when
// chunk > 0, checking each frame and the error that ends the stream.
func readFrames(t *testing.T, data []byte, chunk uint16, max int32) {
	var r io.Reader = bytes.NewReader(data)
	if chunk > 0 {
		r = &limitedChunks{r: r, n: int(chunk)}
	}
	fr := NewFrameReader(r, max)
	rest := data
	for {
		frame, err := fr.Next(nil)
		if err != nil {
			switch {
			case errors.Is(err, io.EOF):
				if len(rest) != 0 {
					t.Fatalf("io.EOF with %d bytes unread", len(rest))
				}
			case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, ErrFrameTooLarge), errors.Is(err, ErrFrameTooSmall):
			default:
				t.Fatalf("unexpected error %v", err)
			}
			if frame != nil {
				t.Fatal("frame returned with an error")
			}
			return
		}
		if len(frame) < MinFrameSize || int32(len(frame)) > max || cap(frame) != len(frame) {
			t.Fatalf("frame of len %d cap %d", len(frame), cap(frame))
		}
		if len(rest) < 4+len(frame) || !bytes.Equal(frame, rest[4:4+len(frame)]) {
			t.Fatal("frame does not match the input")
		}
		rest = rest[4+len(frame):]
	}
}

// limitedChunks returns at most n bytes per Read.
type limitedChunks struct {
	r io.Reader
	n int
}

func (c *limitedChunks) Read(p []byte) (int, error) {
	return c.r.Read(p[:min(len(p), c.n)])
}
