package record

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
)

// Values a batch carries when its producer is not idempotent.
const (
	NoProducerID    = -1
	NoProducerEpoch = -1
	NoSequence      = -1
)

// BatchSpec is the header of a batch for AppendBatch, less what AppendBatch
// computes from the records (Length, CRC, RecordsCount and, usually,
// LastOffsetDelta and MaxTimestamp).
//
// The zero value is not a non-idempotent producer: set ProducerID,
// ProducerEpoch and BaseSequence to NoProducerID, NoProducerEpoch and
// NoSequence for one.
type BatchSpec struct {
	BaseOffset           int64
	PartitionLeaderEpoch int32
	// BaseTimestamp is the timestamp record TimestampDeltas count from:
	// normally the first record's, or the delete horizon when
	// DeleteHorizon is set.
	BaseTimestamp int64
	// MaxTimestamp is written as given for LogAppendTime batches (it is
	// the append time) and for batches without records. Otherwise it is
	// computed as the latest record timestamp.
	MaxTimestamp  int64
	ProducerID    int64
	ProducerEpoch int16
	BaseSequence  int32
	// LastOffsetDelta, when 0, is taken from the last record. Compaction
	// sets it to keep a batch's original offset range after dropping its
	// last records; it must not be below the last record's OffsetDelta.
	LastOffsetDelta int32

	LogAppendTime bool
	Transactional bool
	Control       bool
	DeleteHorizon bool // BaseTimestamp is the delete horizon (KIP-534)
}

// Spec returns the BatchSpec that rewrites the batch described by h:
// the same offsets, producer fields, timestamps and flags, with its
// LastOffsetDelta kept. Compaction passes it to AppendBatch with the
// surviving records and h.Attributes.Codec().
func (h *Header) Spec() BatchSpec {
	return BatchSpec{
		BaseOffset:           h.BaseOffset,
		PartitionLeaderEpoch: h.PartitionLeaderEpoch,
		BaseTimestamp:        h.BaseTimestamp,
		MaxTimestamp:         h.MaxTimestamp,
		ProducerID:           h.ProducerID,
		ProducerEpoch:        h.ProducerEpoch,
		BaseSequence:         h.BaseSequence,
		LastOffsetDelta:      h.LastOffsetDelta,
		LogAppendTime:        h.Attributes.LogAppendTime(),
		Transactional:        h.Attributes.Transactional(),
		Control:              h.Attributes.Control(),
		DeleteHorizon:        h.Attributes.DeleteHorizon(),
	}
}

// scratch holds uncompressed records on their way to a compressor.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

// AppendBatch appends a v2 batch holding records, compressed with codec, to
// dst and returns the extended slice. The batch passes Validate.
//
// Records keep their TimestampDelta and OffsetDelta as given, so a
// compacted batch can keep its records' offsets. If every OffsetDelta is 0
// the records are numbered 0, 1, 2 ... instead; a valid explicit numbering
// is never all zeros past the first record, so nothing is lost. Explicit
// deltas must increase strictly from at least 0, or AppendBatch returns
// ErrInvalidRecord. Records larger than a batch can hold give ErrTooLarge.
// On error dst is returned unchanged in length.
//
// AppendBatch does not keep records or dst and is safe for concurrent use.
func AppendBatch(dst []byte, spec BatchSpec, records []Record, codec Codec) ([]byte, error) {
	if codec < CodecNone || codec > CodecZstd {
		return dst, errorf(ErrInvalidRecord, "compression codec %d is not one Kafka defines", int8(codec))
	}
	if len(records) > math.MaxInt32 {
		return dst, errorf(ErrTooLarge, "%d records do not fit in a batch", len(records))
	}
	number := true
	for i := range records {
		number = number && records[i].OffsetDelta == 0
	}
	last, maxDelta := int32(-1), int64(math.MinInt64)
	for i := range records {
		delta := records[i].OffsetDelta
		if number {
			delta = int32(i)
		}
		if delta <= last {
			return dst, errorf(ErrInvalidRecord, "record %d: offset delta %d after %d", i, delta, last)
		}
		last = delta
		maxDelta = max(maxDelta, records[i].TimestampDelta)
	}
	lastOffsetDelta := spec.LastOffsetDelta
	if lastOffsetDelta == 0 {
		lastOffsetDelta = max(last, 0)
	}
	if lastOffsetDelta < last || lastOffsetDelta < 0 {
		return dst, errorf(ErrInvalidRecord, "last offset delta %d is below the last record's %d", spec.LastOffsetDelta, last)
	}
	maxTimestamp := spec.MaxTimestamp
	if len(records) > 0 && !spec.LogAppendTime {
		maxTimestamp = spec.BaseTimestamp + maxDelta
	}

	start := len(dst)
	dst = append(dst, make([]byte, HeaderSize)...)
	if codec == CodecNone {
		dst = appendRecords(dst, records, number)
	} else {
		buf := scratch.Get().(*[]byte)
		*buf = appendRecords((*buf)[:0], records, number)
		var err error
		dst, err = compress(dst, codec, *buf)
		if cap(*buf) <= 4<<20 {
			scratch.Put(buf)
		}
		if err != nil {
			return dst[:start], fmt.Errorf("record: %v compression: %w", codec, err)
		}
	}
	if len(dst)-start-LogOverhead > math.MaxInt32 {
		return dst[:start], errorf(ErrTooLarge, "batch of %d bytes is larger than a batch can be", len(dst)-start)
	}

	b := dst[start:]
	be := binary.BigEndian
	be.PutUint64(b[baseOffsetOffset:], uint64(spec.BaseOffset))
	be.PutUint32(b[lengthOffset:], uint32(len(b)-LogOverhead))
	be.PutUint32(b[leaderEpochOffset:], uint32(spec.PartitionLeaderEpoch))
	b[magicOffset] = Magic
	be.PutUint16(b[attrOffset:], uint16(spec.attributes(codec)))
	be.PutUint32(b[lastOffsetDeltaOffset:], uint32(lastOffsetDelta))
	be.PutUint64(b[baseTimestampOffset:], uint64(spec.BaseTimestamp))
	be.PutUint64(b[maxTimestampOffset:], uint64(maxTimestamp))
	be.PutUint64(b[producerIDOffset:], uint64(spec.ProducerID))
	be.PutUint16(b[producerEpochOffset:], uint16(spec.ProducerEpoch))
	be.PutUint32(b[baseSequenceOffset:], uint32(spec.BaseSequence))
	be.PutUint32(b[recordsCountOffset:], uint32(len(records)))
	UpdateCRC(b)
	return dst, nil
}

func (s *BatchSpec) attributes(codec Codec) Attributes {
	a := Attributes(codec)
	if s.LogAppendTime {
		a |= attrLogAppendTime
	}
	if s.Transactional {
		a |= attrTransactional
	}
	if s.Control {
		a |= attrControl
	}
	if s.DeleteHorizon {
		a |= attrDeleteHorizon
	}
	return a
}

// appendRecords appends the encoded records, numbering their offset deltas
// 0, 1, 2 ... when number is set.
func appendRecords(dst []byte, records []Record, number bool) []byte {
	for i := range records {
		r := &records[i]
		if number && r.OffsetDelta != int32(i) {
			c := *r
			c.OffsetDelta = int32(i)
			r = &c
		}
		dst = appendRecord(dst, r)
	}
	return dst
}
