package wire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func metadataRequest(version int16, topics ...string) *kmsg.MetadataRequest {
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(version)
	for _, name := range topics {
		t := kmsg.NewMetadataRequestTopic()
		t.Topic = kmsg.StringPtr(name)
		req.Topics = append(req.Topics, t)
	}
	return req
}

func apiVersionsRequest(version int16) *kmsg.ApiVersionsRequest {
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(version)
	req.ClientSoftwareName = "basket-test"
	req.ClientSoftwareVersion = "1.0.0"
	return req
}

func TestParseRequestHeader_Table(t *testing.T) {
	controlledShutdown := kmsg.NewPtrControlledShutdownRequest()
	controlledShutdown.BrokerID = 3
	controlledShutdownV3 := kmsg.NewPtrControlledShutdownRequest()
	controlledShutdownV3.SetVersion(3)
	produce := kmsg.NewPtrProduceRequest()
	produce.SetVersion(9)
	produce.Acks = -1
	unknownTags := []tag{
		{tag: 0, data: []byte{1, 2, 3}},
		{tag: 7, data: nil},
		{tag: 300, data: bytes.Repeat([]byte{0xab}, 200)}, // two-byte tag and size
	}

	tests := []struct {
		name          string
		frame         []byte
		body          []byte       // want body; nil for a malformed header
		decode        kmsg.Request // if set, the want body is its encoding, and the body must decode to it
		wantKey       int16
		wantVersion   int16
		wantCorr      int32
		wantClientID  *string
		headerVersion int
		wantErr       error
	}{
		{
			name:          "v0 ControlledShutdown v0",
			frame:         encodeKmsgRequest(controlledShutdown, 11, nil, 0),
			decode:        controlledShutdown,
			wantKey:       7,
			wantCorr:      11,
			headerVersion: 0,
		},
		{
			name:          "v1 Metadata v1 with client id",
			frame:         encodeKmsgRequest(metadataRequest(1, "a", "b"), 12, strp("kgo"), 1),
			decode:        metadataRequest(1, "a", "b"),
			wantKey:       3,
			wantVersion:   1,
			wantCorr:      12,
			wantClientID:  strp("kgo"),
			headerVersion: 1,
		},
		{
			name:          "v1 Metadata v1 with null client id",
			frame:         encodeKmsgRequest(metadataRequest(1, "a"), 13, nil, 1),
			decode:        metadataRequest(1, "a"),
			wantKey:       3,
			wantVersion:   1,
			wantCorr:      13,
			headerVersion: 1,
		},
		{
			name:          "v1 Metadata v1 with empty client id",
			frame:         encodeKmsgRequest(metadataRequest(1), 14, strp(""), 1),
			decode:        metadataRequest(1),
			wantKey:       3,
			wantVersion:   1,
			wantCorr:      14,
			wantClientID:  strp(""),
			headerVersion: 1,
		},
		{
			name:          "v1 ControlledShutdown v1",
			frame:         encodeRequest(testHeader{key: 7, version: 1, correlationID: 15, clientID: strp("x"), headerVersion: 1}, []byte{0, 0, 0, 1}),
			body:          []byte{0, 0, 0, 1},
			wantKey:       7,
			wantVersion:   1,
			wantCorr:      15,
			wantClientID:  strp("x"),
			headerVersion: 1,
		},
		{
			name:          "v2 Metadata v9 without tags",
			frame:         encodeKmsgRequest(metadataRequest(9, "t"), 16, strp("rdkafka"), 2),
			decode:        metadataRequest(9, "t"),
			wantKey:       3,
			wantVersion:   9,
			wantCorr:      16,
			wantClientID:  strp("rdkafka"),
			headerVersion: 2,
		},
		{
			name:          "v2 Metadata v9 skips unknown tags (KIP-482)",
			frame:         encodeKmsgRequest(metadataRequest(9, "t"), 17, strp("c"), 2, unknownTags...),
			decode:        metadataRequest(9, "t"),
			wantKey:       3,
			wantVersion:   9,
			wantCorr:      17,
			wantClientID:  strp("c"),
			headerVersion: 2,
		},
		{
			name:          "v2 Produce v9 with null client id",
			frame:         encodeKmsgRequest(produce, 18, nil, 2),
			decode:        produce,
			wantVersion:   9,
			wantCorr:      18,
			headerVersion: 2,
		},
		{
			name:          "v2 ControlledShutdown v3",
			frame:         encodeKmsgRequest(controlledShutdownV3, 19, strp("c"), 2),
			decode:        controlledShutdownV3,
			wantKey:       7,
			wantVersion:   3,
			wantCorr:      19,
			wantClientID:  strp("c"),
			headerVersion: 2,
		},
		{
			name:          "v1 ApiVersions v0",
			frame:         encodeKmsgRequest(apiVersionsRequest(0), 20, strp("sarama"), 1),
			decode:        apiVersionsRequest(0),
			wantKey:       18,
			wantCorr:      20,
			wantClientID:  strp("sarama"),
			headerVersion: 1,
		},
		{
			name:          "v2 ApiVersions v3 (KIP-511)",
			frame:         encodeKmsgRequest(apiVersionsRequest(3), 21, strp("kgo"), 2),
			decode:        apiVersionsRequest(3),
			wantKey:       18,
			wantVersion:   3,
			wantCorr:      21,
			wantClientID:  strp("kgo"),
			headerVersion: 2,
		},
		{
			name:          "ApiVersions v99 parses with a v2 header (KIP-511)",
			frame:         encodeRequest(testHeader{key: 18, version: 99, correlationID: 22, clientID: strp("future"), headerVersion: 2, tags: unknownTags}, []byte("opaque")),
			body:          []byte("opaque"),
			wantKey:       18,
			wantVersion:   99,
			wantCorr:      22,
			wantClientID:  strp("future"),
			headerVersion: 2,
			wantErr:       ErrUnsupportedVersion,
		},
		{
			name:          "Metadata newer than kmsg knows has a v2 header",
			frame:         encodeRequest(testHeader{key: 3, version: 999, correlationID: 23, clientID: strp("c"), headerVersion: 2}, []byte{1}),
			body:          []byte{1},
			wantKey:       3,
			wantVersion:   999,
			wantCorr:      23,
			wantClientID:  strp("c"),
			headerVersion: 2,
			wantErr:       ErrUnsupportedVersion,
		},
		{
			name:          "negative version parses as v1",
			frame:         encodeRequest(testHeader{key: 3, version: -1, correlationID: 24, headerVersion: 1}, []byte{1, 2}),
			body:          []byte{1, 2},
			wantKey:       3,
			wantVersion:   -1,
			wantCorr:      24,
			headerVersion: 1,
			wantErr:       ErrUnsupportedVersion,
		},
		{
			name:          "unknown key 999 parses as v1",
			frame:         encodeRequest(testHeader{key: 999, version: 0, correlationID: 25, clientID: strp("who"), headerVersion: 1}, []byte{9, 9}),
			body:          []byte{9, 9},
			wantKey:       999,
			wantCorr:      25,
			wantClientID:  strp("who"),
			headerVersion: 1,
			wantErr:       ErrUnknownAPIKey,
		},
		{
			name:          "negative key is unknown",
			frame:         encodeRequest(testHeader{key: -1, version: 0, correlationID: 26, headerVersion: 1}, nil),
			body:          []byte{},
			wantKey:       -1,
			wantCorr:      26,
			headerVersion: 1,
			wantErr:       ErrUnknownAPIKey,
		},
		{
			name:          "client id length below -1 is null, as Kafka reads it",
			frame:         []byte{0, 3, 0, 1, 0, 0, 0, 27, 0xff, 0xfe, 5},
			body:          []byte{5},
			wantKey:       3,
			wantVersion:   1,
			wantCorr:      27,
			headerVersion: 1,
		},
		{
			name:          "client id longer than the frame",
			frame:         []byte{0, 3, 0, 1, 0, 0, 0, 28, 0, 5, 'a', 'b'},
			wantKey:       3,
			wantVersion:   1,
			wantCorr:      28,
			headerVersion: 1,
			wantErr:       ErrMalformedHeader,
		},
		{
			name:          "client id length 0x7fff in a short frame",
			frame:         []byte{0, 3, 0, 1, 0, 0, 0, 28, 0x7f, 0xff},
			wantKey:       3,
			wantVersion:   1,
			wantCorr:      28,
			headerVersion: 1,
			wantErr:       ErrMalformedHeader,
		},
		{
			name:          "unknown key with truncated client id is malformed",
			frame:         []byte{0x03, 0xe7, 0, 0, 0, 0, 0, 29, 0},
			wantKey:       999,
			wantCorr:      29,
			headerVersion: 1,
			wantErr:       ErrMalformedHeader,
		},
		{
			name:          "tag count larger than the frame",
			frame:         []byte{0, 3, 0, 9, 0, 0, 0, 30, 0xff, 0xff, 0xff, 0xff, 0x0f},
			wantKey:       3,
			wantVersion:   9,
			wantCorr:      30,
			headerVersion: 2,
			wantErr:       ErrMalformedHeader,
		},
		{
			name:          "tag size larger than the frame",
			frame:         []byte{0, 3, 0, 9, 0, 0, 0, 31, 0xff, 0xff, 1, 0, 10, 1, 2, 3},
			wantKey:       3,
			wantVersion:   9,
			wantCorr:      31,
			headerVersion: 2,
			wantErr:       ErrMalformedHeader,
		},
		{
			name:          "tag size overflowing 32 bits",
			frame:         []byte{0, 3, 0, 9, 0, 0, 0, 32, 0xff, 0xff, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x1f},
			wantKey:       3,
			wantVersion:   9,
			wantCorr:      32,
			headerVersion: 2,
			wantErr:       ErrMalformedHeader,
		},
		{
			name:          "six-byte varint",
			frame:         []byte{0, 3, 0, 9, 0, 0, 0, 33, 0xff, 0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
			wantKey:       3,
			wantVersion:   9,
			wantCorr:      33,
			headerVersion: 2,
			wantErr:       ErrMalformedHeader,
		},
		{
			name:    "shorter than header v0",
			frame:   []byte{0, 3, 0, 1, 0, 0, 0},
			wantErr: ErrMalformedHeader,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.decode != nil {
				tt.body = append([]byte{}, tt.decode.AppendTo(nil)...)
			}
			h, body, err := ParseRequestHeader(tt.frame)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if h.APIKey != tt.wantKey || h.APIVersion != tt.wantVersion || h.CorrelationID != tt.wantCorr {
				t.Errorf("key, version, correlation = %d, %d, %d; want %d, %d, %d",
					h.APIKey, h.APIVersion, h.CorrelationID, tt.wantKey, tt.wantVersion, tt.wantCorr)
			}
			if len(tt.frame) >= 8 && h.HeaderVersion != tt.headerVersion {
				t.Errorf("HeaderVersion = %d, want %d", h.HeaderVersion, tt.headerVersion)
			}
			if !errors.Is(err, ErrMalformedHeader) {
				checkClientID(t, h, tt.wantClientID)
			}
			if !bytes.Equal(body, tt.body) || (body == nil) != (tt.body == nil) {
				t.Fatalf("body = %x, want %x", body, tt.body)
			}
			if body != nil && len(body) > 0 && &body[0] != &tt.frame[len(tt.frame)-len(body)] {
				t.Error("body does not alias the end of the frame")
			}
			if tt.decode != nil {
				req := kmsg.RequestForKey(h.APIKey)
				req.SetVersion(h.APIVersion)
				if err := req.ReadFrom(body); err != nil {
					t.Fatalf("kmsg cannot decode the body: %v", err)
				}
				if got, want := req.AppendTo(nil), tt.decode.AppendTo(nil); !bytes.Equal(got, want) {
					t.Errorf("decoded body re-encodes as %x, want %x", got, want)
				}
			}
			if tt.wantErr == nil || body != nil {
				checkTruncations(t, tt.frame, len(tt.frame)-len(body))
			}
		})
	}
}

func checkClientID(t *testing.T, h RequestHeader, want *string) {
	t.Helper()
	switch got := h.ClientIDString(); {
	case want == nil && got != nil:
		t.Errorf("ClientID = %q, want null", *got)
	case want == nil:
		if h.ClientID != nil {
			t.Errorf("ClientID = %q, want nil", h.ClientID)
		}
	case got == nil:
		t.Errorf("ClientID = null, want %q", *want)
	case *got != *want:
		t.Errorf("ClientID = %q, want %q", *got, *want)
	}
}

// checkTruncations parses every proper prefix of a header of headerLen
// bytes and expects ErrMalformedHeader from each.
func checkTruncations(t *testing.T, frame []byte, headerLen int) {
	t.Helper()
	for n := range headerLen {
		h, body, err := ParseRequestHeader(frame[:n])
		if !errors.Is(err, ErrMalformedHeader) || body != nil {
			t.Errorf("header truncated to %d of %d bytes: body %x, err %v; want ErrMalformedHeader", n, headerLen, body, err)
		}
		if n >= 8 && h.CorrelationID == 0 && frame[7] != 0 {
			t.Errorf("header truncated to %d bytes lost the correlation id", n)
		}
	}
}

// RequestHeaderVersion and ResponseHeaderFlexible agree with kmsg for every
// key and version it knows, and extend past kmsg's newest version.
func TestHeaderVersions_MatchKmsg(t *testing.T) {
	for key := int16(0); key <= kmsg.MaxKey; key++ {
		req, resp := kmsg.RequestForKey(key), kmsg.ResponseForKey(key)
		if req == nil {
			if got := RequestHeaderVersion(key, 0); got != 1 {
				t.Errorf("unknown key %d: header version %d, want 1", key, got)
			}
			continue
		}
		for v := int16(0); v <= req.MaxVersion(); v++ {
			req.SetVersion(v)
			resp.SetVersion(v)
			want := 1
			switch {
			case key == 7 && v == 0:
				want = 0
			case req.IsFlexible():
				want = 2
			}
			if got := RequestHeaderVersion(key, v); got != want {
				t.Errorf("%s v%d: request header v%d, want v%d", kmsg.NameForKey(key), v, got, want)
			}
			wantFlex := resp.IsFlexible() && key != 18
			if got := ResponseHeaderFlexible(key, v); got != wantFlex {
				t.Errorf("%s v%d: response header flexible %v, want %v", kmsg.NameForKey(key), v, got, wantFlex)
			}
		}
		newest := req.MaxVersion()
		req.SetVersion(newest)
		if got := RequestHeaderVersion(key, newest+1); (got == 2) != req.IsFlexible() {
			t.Errorf("%s v%d (newer than kmsg): request header v%d", kmsg.NameForKey(key), newest+1, got)
		}
	}
	for _, v := range []int16{3, 4, 5, 99, 32767} {
		if got := RequestHeaderVersion(18, v); got != 2 {
			t.Errorf("ApiVersions v%d: request header v%d, want v2 (KIP-511)", v, got)
		}
		if ResponseHeaderFlexible(18, v) {
			t.Errorf("ApiVersions v%d: response header is flexible, want v0 (KIP-511)", v)
		}
	}
	for _, k := range []int16{-1, kmsg.MaxKey + 1, 999, 32767} {
		if RequestHeaderVersion(k, 5) != 1 || ResponseHeaderFlexible(k, 5) {
			t.Errorf("unknown key %d: want request header v1, response header v0", k)
		}
	}
}

func TestParseRequestHeader_DoesNotAllocate(t *testing.T) {
	frames := [][]byte{
		encodeKmsgRequest(metadataRequest(1, "a"), 1, strp("client"), 1),
		encodeKmsgRequest(metadataRequest(12, "a"), 2, strp("client"), 2, tag{tag: 5, data: []byte{1}}),
		encodeKmsgRequest(apiVersionsRequest(3), 3, nil, 2),
	}
	for _, f := range frames {
		allocs := testing.AllocsPerRun(100, func() {
			if _, _, err := ParseRequestHeader(f); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("ParseRequestHeader allocs = %v, want 0", allocs)
		}
	}
}
