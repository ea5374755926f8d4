package wire

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func metadataResponse(version int16) *kmsg.MetadataResponse {
	resp := kmsg.NewPtrMetadataResponse()
	resp.SetVersion(version)
	b := kmsg.NewMetadataResponseBroker()
	b.NodeID, b.Host, b.Port = 1, "localhost", 9092
	resp.Brokers = append(resp.Brokers, b)
	resp.ClusterID = kmsg.StringPtr("basket")
	t := kmsg.NewMetadataResponseTopic()
	t.Topic = kmsg.StringPtr("orders")
	p := kmsg.NewMetadataResponseTopicPartition()
	p.Leader, p.Replicas, p.ISR = 1, []int32{1}, []int32{1}
	t.Partitions = append(t.Partitions, p)
	resp.Topics = append(resp.Topics, t)
	return resp
}

func apiVersionsResponse(version int16) *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(version)
	for _, k := range []int16{0, 3, 18} {
		a := kmsg.NewApiVersionsResponseApiKey()
		a.ApiKey, a.MaxVersion = k, 9
		resp.ApiKeys = append(resp.ApiKeys, a)
	}
	return resp
}

// decodeResponse reads a response frame as a client does, knowing the key
// and version it asked for: size, correlation id, tagged fields if the
// response header is v1, then the body.
func decodeResponse(t *testing.T, frame []byte, key, version int16) (int32, kmsg.Response) {
	t.Helper()
	if len(frame) < 8 || int(binary.BigEndian.Uint32(frame)) != len(frame)-4 {
		t.Fatalf("size prefix does not match the frame length %d", len(frame))
	}
	corr := int32(binary.BigEndian.Uint32(frame[4:]))
	body := frame[8:]
	if ResponseHeaderFlexible(key, version) {
		var err error
		if body, err = skipTaggedFields(body); err != nil {
			t.Fatalf("response header tags: %v", err)
		}
	}
	resp := kmsg.ResponseForKey(key)
	resp.SetVersion(version)
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("kmsg cannot decode the response body: %v", err)
	}
	return corr, resp
}

func TestAppendResponse_RoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		resp       kmsg.Response
		headerSize int // size prefix + response header
	}{
		{"Metadata v1, header v0", metadataResponse(1), 8},
		{"Metadata v9, header v1 (KIP-482)", metadataResponse(9), 9},
		{"Metadata v12, header v1", metadataResponse(12), 9},
		{"ApiVersions v0, header v0", apiVersionsResponse(0), 8},
		{"ApiVersions v3, flexible body but header v0 (KIP-511)", apiVersionsResponse(3), 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, version := tt.resp.Key(), tt.resp.GetVersion()
			flexible := ResponseHeaderFlexible(key, version)
			if got := 4 + ResponseHeaderSize(flexible); got != tt.headerSize {
				t.Fatalf("header size %d, want %d", got, tt.headerSize)
			}
			prefix := []byte("earlier response bytes")
			out := AppendResponse(bytes.Clone(prefix), -7, flexible, tt.resp)
			if !bytes.HasPrefix(out, prefix) {
				t.Fatal("AppendResponse changed the bytes already in dst")
			}
			frame := out[len(prefix):]
			corr, decoded := decodeResponse(t, frame, key, version)
			if corr != -7 {
				t.Errorf("correlation id = %d, want -7", corr)
			}
			body := tt.resp.AppendTo(nil)
			if got := decoded.AppendTo(nil); !bytes.Equal(got, body) {
				t.Errorf("decoded response re-encodes as %x, want %x", got, body)
			}
			if !bytes.Equal(frame[tt.headerSize:], body) {
				t.Error("body is not right after the header")
			}

			if raw := AppendRawResponse(nil, -7, flexible, body); !bytes.Equal(raw, frame) {
				t.Errorf("AppendRawResponse = %x, want %x", raw, frame)
			}
			split := append(AppendResponseHeader(nil, -7, flexible, len(body)), body...)
			if !bytes.Equal(split, frame) {
				t.Errorf("AppendResponseHeader + body = %x, want %x", split, frame)
			}
		})
	}
}

func TestAppendResponse_EncodesInPlace(t *testing.T) {
	resp := metadataResponse(12)
	dst := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		dst = AppendResponse(dst[:0], 1, true, resp)
	})
	if allocs != 0 {
		t.Errorf("AppendResponse into a buffer with room allocs = %v, want 0", allocs)
	}
}
