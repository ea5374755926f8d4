package record

import (
	"encoding/binary"
	"errors"
	"testing"
)

var allCodecs = []Codec{CodecNone, CodecGzip, CodecSnappy, CodecLZ4, CodecZstd}

const testBaseTimestamp = 1700000000000

// plainSpec is a batch from a producer that is not idempotent.
func plainSpec() BatchSpec {
	return BatchSpec{
		BaseTimestamp: testBaseTimestamp,
		ProducerID:    NoProducerID,
		ProducerEpoch: NoProducerEpoch,
		BaseSequence:  NoSequence,
	}
}

// sampleRecords covers null and empty keys and values, headers (with a null
// value and a repeated key) and a negative timestamp delta.
func sampleRecords() []Record {
	return []Record{
		{Key: []byte("k1"), Value: []byte("v1"), Headers: []RecordHeader{{Key: []byte("h"), Value: []byte("x")}}},
		{TimestampDelta: 5, Key: nil, Value: []byte("no key")},
		{TimestampDelta: 9, Key: []byte("tombstone"), Value: nil},
		{TimestampDelta: -3, Key: []byte{}, Value: []byte{}},
		{TimestampDelta: 12, Key: []byte("k2"), Value: []byte("v2"), Headers: []RecordHeader{
			{Key: []byte("a"), Value: nil}, {Key: []byte("a"), Value: []byte{}}, {Key: []byte{}, Value: []byte("b")},
		}},
	}
}

func mustBatch(t testing.TB, spec BatchSpec, recs []Record, codec Codec) []byte {
	t.Helper()
	b, err := AppendBatch(nil, spec, recs, codec)
	if err != nil {
		t.Fatalf("AppendBatch(%v): %v", codec, err)
	}
	return b
}

// decodeAll decodes b and returns copies of its records.
func decodeAll(d *Decoder, b []byte) (Header, []Record, error) {
	var (
		hdr  Header
		recs []Record
	)
	err := d.Records(b, func(h *Header, r *Record) error {
		hdr = *h
		recs = append(recs, r.Clone())
		return nil
	})
	return hdr, recs, err
}

// fixBatch recomputes Length and CRC after a test edited b.
func fixBatch(b []byte) []byte {
	binary.BigEndian.PutUint32(b[lengthOffset:], uint32(len(b)-LogOverhead))
	UpdateCRC(b)
	return b
}

// withPayload returns a batch with a valid header and CRC around an
// arbitrary records section: codec in the attributes, count records and the
// given LastOffsetDelta.
func withPayload(codec Codec, count, lastOffsetDelta int32, payload []byte) []byte {
	b := make([]byte, HeaderSize, HeaderSize+len(payload))
	binary.BigEndian.PutUint32(b[leaderEpochOffset:], 0xffffffff)
	b[magicOffset] = Magic
	binary.BigEndian.PutUint16(b[attrOffset:], uint16(codec))
	binary.BigEndian.PutUint32(b[lastOffsetDeltaOffset:], uint32(lastOffsetDelta))
	binary.BigEndian.PutUint64(b[baseTimestampOffset:], testBaseTimestamp)
	binary.BigEndian.PutUint64(b[maxTimestampOffset:], testBaseTimestamp)
	binary.BigEndian.PutUint64(b[producerIDOffset:], ^uint64(0))
	binary.BigEndian.PutUint16(b[producerEpochOffset:], 0xffff)
	binary.BigEndian.PutUint32(b[baseSequenceOffset:], 0xffffffff)
	binary.BigEndian.PutUint32(b[recordsCountOffset:], uint32(count))
	return fixBatch(append(b, payload...))
}

// enc builds raw record bytes by hand, including ones no encoder would write.
type enc []byte

func (e enc) varint(v int64) enc { return appendVarint(e, v) }
func (e enc) raw(b ...byte) enc  { return append(e, b...) }
func (e enc) str(s string) enc   { return append(e.varint(int64(len(s))), s...) }

// record wraps a record body in its length.
func (e enc) record(body enc) enc { return append(e.varint(int64(len(body))), body...) }

// body is a well-formed record body with the given offset delta and key.
func body(offsetDelta int64, key string) enc {
	return enc{}.raw(0).varint(0).varint(offsetDelta).str(key).str("v").varint(0)
}

// errKind returns which of the package's error kinds err is, or err itself
// when it is none of them.
func errKind(err error) error {
	for _, k := range []error{ErrCorrupt, ErrInvalidRecord, ErrTooLarge} {
		if errors.Is(err, k) {
			return k
		}
	}
	return err
}

func wantKind(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error = %v (kind %v), want kind %v", err, errKind(err), want)
	}
}
