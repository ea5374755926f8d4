package record

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestAppendBatch_RoundTripsEveryCodec(t *testing.T) {
	big := []Record{}
	for i := range 300 {
		v := strings.Repeat(fmt.Sprintf("value %d ", i), 40) // past one 32 KiB xerial block in all
		big = append(big, Record{TimestampDelta: int64(i), Key: fmt.Appendf(nil, "key-%d", i), Value: []byte(v)})
	}
	sets := map[string][]Record{"sample": sampleRecords(), "large": big, "one": {{Value: []byte("x")}}}
	for _, codec := range allCodecs {
		for name, recs := range sets {
			t.Run(codec.String()+"/"+name, func(t *testing.T) {
				prefix := []byte("keep me")
				b, err := AppendBatch(append([]byte(nil), prefix...), plainSpec(), recs, codec)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(b, prefix) {
					t.Fatal("AppendBatch overwrote dst")
				}
				b = b[len(prefix):]
				var d Decoder
				h, got, err := decodeAll(&d, b)
				if err != nil {
					t.Fatal(err)
				}
				if h.Attributes.Codec() != codec || h.RecordsCount != int32(len(recs)) || h.LastOffsetDelta != int32(len(recs)-1) {
					t.Fatalf("header %+v", h)
				}
				if _, err := ValidateProduce(b); err != nil {
					t.Fatalf("ValidateProduce: %v", err)
				}
				for i := range recs {
					want := recs[i]
					want.OffsetDelta = int32(i)
					if !got[i].Equal(&want) {
						t.Fatalf("record %d:\n got %+v\nwant %+v", i, got[i], want)
					}
				}
			})
		}
	}
}

func TestAppendBatch_HeaderFields(t *testing.T) {
	spec := BatchSpec{
		BaseOffset: 42, PartitionLeaderEpoch: 3, BaseTimestamp: 1000, MaxTimestamp: 5,
		ProducerID: 99, ProducerEpoch: 2, BaseSequence: 10, Transactional: true,
	}
	recs := []Record{{TimestampDelta: 7}, {TimestampDelta: 30}, {TimestampDelta: -2}}
	h, err := Validate(mustBatch(t, spec, recs, CodecGzip))
	if err != nil {
		t.Fatal(err)
	}
	if h.BaseOffset != 42 || h.PartitionLeaderEpoch != 3 || h.BaseTimestamp != 1000 || h.MaxTimestamp != 1030 ||
		h.ProducerID != 99 || h.ProducerEpoch != 2 || h.BaseSequence != 10 || h.LastOffsetDelta != 2 || h.RecordsCount != 3 {
		t.Fatalf("header %+v", h)
	}
	if !h.Attributes.Transactional() || h.Attributes.Control() || h.Attributes.LogAppendTime() || h.Attributes.DeleteHorizon() {
		t.Fatalf("attributes %#x", uint16(h.Attributes))
	}

	spec = BatchSpec{BaseTimestamp: 1000, MaxTimestamp: 9999, LogAppendTime: true, DeleteHorizon: true}
	h, err = Validate(mustBatch(t, spec, recs, CodecNone))
	if err != nil {
		t.Fatal(err)
	}
	if h.MaxTimestamp != 9999 || !h.Attributes.LogAppendTime() || !h.Attributes.DeleteHorizon() {
		t.Fatalf("LogAppendTime batch header %+v", h)
	}
}

// TestAppendBatch_KeepsCompactedOffsets rewrites a batch with some records
// dropped, as compaction does: explicit offset deltas, the original
// LastOffsetDelta and codec, through Header.Spec.
func TestAppendBatch_KeepsCompactedOffsets(t *testing.T) {
	for _, codec := range allCodecs {
		orig := mustBatch(t, BatchSpec{BaseOffset: 500, ProducerID: 4, ProducerEpoch: 1, BaseSequence: 20, BaseTimestamp: 1}, sampleRecords(), codec)
		var d Decoder
		h, recs, err := decodeAll(&d, orig)
		if err != nil {
			t.Fatal(err)
		}
		survivors := []Record{recs[1], recs[3]}
		b := mustBatch(t, h.Spec(), survivors, h.Attributes.Codec())
		h2, got, err := decodeAll(&d, b)
		if err != nil {
			t.Fatalf("%v: %v", codec, err)
		}
		if h2.BaseOffset != 500 || h2.LastOffsetDelta != 4 || h2.RecordsCount != 2 || h2.BaseSequence != 20 ||
			h2.Attributes.Codec() != codec || h2.MaxTimestamp != 1+5 {
			t.Fatalf("%v: rewritten header %+v", codec, h2)
		}
		if got[0].Offset(&h2) != 501 || got[1].Offset(&h2) != 503 || !got[1].Equal(&recs[3]) {
			t.Fatalf("%v: survivors %+v", codec, got)
		}
		if _, err := ValidateProduce(b); err == nil {
			t.Fatalf("%v: ValidateProduce accepted a batch with offset gaps", codec)
		}
		// Every record gone: the batch stays, empty, with its range.
		empty := mustBatch(t, h.Spec(), nil, CodecNone)
		if h3, err := Validate(empty); err != nil || h3.LastOffsetDelta != 4 || h3.RecordsCount != 0 || h3.NextOffset() != 505 {
			t.Fatalf("emptied batch: %+v %v", h3, err)
		}
	}
}

func TestAppendBatch_RejectsBadInput(t *testing.T) {
	cases := []struct {
		name  string
		spec  BatchSpec
		recs  []Record
		codec Codec
	}{
		{"codec 5", plainSpec(), sampleRecords(), 5},
		{"codec -1", plainSpec(), sampleRecords(), -1},
		{"offset deltas repeat", plainSpec(), []Record{{OffsetDelta: 1}, {OffsetDelta: 1}}, CodecNone},
		{"offset deltas decrease", plainSpec(), []Record{{OffsetDelta: 2}, {OffsetDelta: 1}}, CodecNone},
		{"offset delta negative", plainSpec(), []Record{{OffsetDelta: -1}}, CodecNone},
		{"LastOffsetDelta below the last record", BatchSpec{LastOffsetDelta: 1}, []Record{{OffsetDelta: 0}, {OffsetDelta: 3}}, CodecNone},
		{"LastOffsetDelta negative", BatchSpec{LastOffsetDelta: -4}, nil, CodecNone},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("prefix")
			out, err := AppendBatch(dst, tc.spec, tc.recs, tc.codec)
			wantKind(t, err, ErrInvalidRecord)
			if string(out) != "prefix" {
				t.Fatalf("dst changed on error: %q", out)
			}
		})
	}
}

// TestAppendBatch_MatchesKmsg reads AppendBatch's output with franz-go's
// kmsg, an independent implementation of the format.
func TestAppendBatch_MatchesKmsg(t *testing.T) {
	spec := BatchSpec{BaseOffset: 7, PartitionLeaderEpoch: 2, BaseTimestamp: testBaseTimestamp, ProducerID: 5, ProducerEpoch: 1, BaseSequence: 3}
	recs := sampleRecords()
	b := mustBatch(t, spec, recs, CodecNone)
	var kb kmsg.RecordBatch
	if err := kb.ReadFrom(b); err != nil {
		t.Fatal(err)
	}
	if kb.FirstOffset != 7 || kb.Length != int32(len(b)-LogOverhead) || kb.Magic != 2 || kb.NumRecords != int32(len(recs)) ||
		kb.LastOffsetDelta != 4 || kb.FirstTimestamp != testBaseTimestamp || kb.ProducerID != 5 || kb.FirstSequence != 3 ||
		uint32(kb.CRC) != crc(b) {
		t.Fatalf("kmsg header %+v", kb)
	}
	rest := kb.Records
	for i, want := range recs {
		var kr kmsg.Record
		if err := kr.ReadFrom(rest); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		rest = rest[kr.Length+int32(varintLen(int64(kr.Length))):]
		if kr.OffsetDelta != int32(i) || kr.TimestampDelta64 != want.TimestampDelta ||
			!equalNullable(kr.Key, want.Key) || !equalNullable(kr.Value, want.Value) || len(kr.Headers) != len(want.Headers) {
			t.Fatalf("record %d: kmsg read %+v, want %+v", i, kr, want)
		}
		for j, h := range kr.Headers {
			if h.Key != string(want.Headers[j].Key) || !equalNullable(h.Value, want.Headers[j].Value) {
				t.Fatalf("record %d header %d: %+v", i, j, h)
			}
		}
	}
	if len(rest) != 0 {
		t.Fatalf("%d bytes left after the records", len(rest))
	}
}

func crc(b []byte) uint32 { h, _ := ParseHeader(b); return h.CRC }
