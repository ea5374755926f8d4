package record

import (
	"encoding/binary"
	"hash/crc32"
)

// Byte offsets of the fields in a v2 record batch header. Everything from
// attrOffset to the end of the batch is covered by the CRC, so BaseOffset and
// PartitionLeaderEpoch can be rewritten without recomputing it.
const (
	baseOffsetOffset      = 0  // int64
	lengthOffset          = 8  // int32: bytes after this field
	leaderEpochOffset     = 12 // int32
	magicOffset           = 16 // int8
	crcOffset             = 17 // uint32, CRC-32C of [attrOffset:]
	attrOffset            = 21 // int16
	lastOffsetDeltaOffset = 23 // int32
	baseTimestampOffset   = 27 // int64
	maxTimestampOffset    = 35 // int64
	producerIDOffset      = 43 // int64
	producerEpochOffset   = 51 // int16
	baseSequenceOffset    = 53 // int32
	recordsCountOffset    = 57 // int32

	// HeaderSize is the size of the v2 batch header, up to and including
	// RecordsCount; the records follow it.
	HeaderSize = 61

	// LogOverhead is the size of the BaseOffset and Length fields, which
	// are not counted in Length.
	LogOverhead = 12

	// Magic is the only message format version this package accepts.
	Magic = 2

	// NoTimestamp is the timestamp Kafka uses for "none" (-1).
	NoTimestamp = -1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header is the decoded 61-byte header of a v2 record batch.
type Header struct {
	BaseOffset           int64
	Length               int32 // bytes after the Length field
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           Attributes
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	RecordsCount         int32
}

// Size is the number of bytes the whole batch occupies: LogOverhead+Length.
func (h *Header) Size() int64 { return LogOverhead + int64(h.Length) }

// LastOffset is the offset of the last record in the batch.
func (h *Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// NextOffset is the offset just after the batch.
func (h *Header) NextOffset() int64 { return h.LastOffset() + 1 }

// ParseHeader decodes the header at the start of b. It checks only what is
// needed to walk a log safely: that b holds a whole header, that the magic is
// 2 and that Length is at least a header's worth. It does not check the CRC
// or that b holds the whole batch; Validate does.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderSize {
		return h, errorf(ErrCorrupt, "batch header needs %d bytes, have %d", HeaderSize, len(b))
	}
	h.BaseOffset = int64(binary.BigEndian.Uint64(b[baseOffsetOffset:]))
	h.Length = int32(binary.BigEndian.Uint32(b[lengthOffset:]))
	h.PartitionLeaderEpoch = int32(binary.BigEndian.Uint32(b[leaderEpochOffset:]))
	h.Magic = int8(b[magicOffset])
	h.CRC = binary.BigEndian.Uint32(b[crcOffset:])
	h.Attributes = Attributes(binary.BigEndian.Uint16(b[attrOffset:]))
	h.LastOffsetDelta = int32(binary.BigEndian.Uint32(b[lastOffsetDeltaOffset:]))
	h.BaseTimestamp = int64(binary.BigEndian.Uint64(b[baseTimestampOffset:]))
	h.MaxTimestamp = int64(binary.BigEndian.Uint64(b[maxTimestampOffset:]))
	h.ProducerID = int64(binary.BigEndian.Uint64(b[producerIDOffset:]))
	h.ProducerEpoch = int16(binary.BigEndian.Uint16(b[producerEpochOffset:]))
	h.BaseSequence = int32(binary.BigEndian.Uint32(b[baseSequenceOffset:]))
	h.RecordsCount = int32(binary.BigEndian.Uint32(b[recordsCountOffset:]))
	if h.Magic != Magic {
		return h, errorf(ErrCorrupt, "batch magic is %d, only 2 is supported", h.Magic)
	}
	if int64(h.Length) < HeaderSize-LogOverhead {
		return h, errorf(ErrCorrupt, "batch length %d is shorter than a batch header", h.Length)
	}
	return h, nil
}

// Validate checks that b is exactly one well-formed v2 batch, as it may sit
// in a log: the header parses, Length matches len(b), the CRC-32C matches,
// the attribute bits are ones Kafka defines, and RecordsCount fits the offset
// range (0 <= RecordsCount <= LastOffsetDelta+1). The range may hold more
// offsets than records because compaction keeps a batch's LastOffsetDelta
// when it drops records, down to none. It reads the records only through the
// checksum. Batches arriving from a producer need ValidateProduce.
func Validate(b []byte) (Header, error) { return validate(b, true) }

// validate is Validate, checking the CRC only when checkCRC is set.
func validate(b []byte, checkCRC bool) (Header, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, err
	}
	if h.Size() != int64(len(b)) {
		return h, errorf(ErrCorrupt, "batch length field says %d bytes, have %d", h.Size(), len(b))
	}
	if checkCRC {
		if crc := crc32.Checksum(b[attrOffset:], castagnoli); crc != h.CRC {
			return h, errorf(ErrCorrupt, "batch CRC is %#08x, computed %#08x", h.CRC, crc)
		}
	}
	if h.RecordsCount < 0 {
		return h, errorf(ErrCorrupt, "batch record count %d is negative", h.RecordsCount)
	}
	if err := h.Attributes.validate(); err != nil {
		return h, err
	}
	if h.LastOffsetDelta < 0 || int64(h.RecordsCount) > int64(h.LastOffsetDelta)+1 {
		return h, errorf(ErrInvalidRecord, "batch holds %d records in an offset range of %d (last offset delta %d)",
			h.RecordsCount, int64(h.LastOffsetDelta)+1, h.LastOffsetDelta)
	}
	return h, nil
}

// ValidateProduce is Validate plus the rules Kafka applies only to a batch
// that arrives from a client in a ProduceRequest (LogValidator, origin
// CLIENT): it holds at least one record, its offset deltas are contiguous
// (LastOffsetDelta == RecordsCount-1) and it is not a control batch, which
// only a transaction coordinator writes. Breaking one of these rules is
// ErrInvalidRecord. Like Validate it reads only the header and checksum;
// the records' own offset deltas are checked by a Decoder.
func ValidateProduce(b []byte) (Header, error) {
	h, err := Validate(b)
	if err != nil {
		return h, err
	}
	return h, CheckProduce(&h)
}

// CheckProduce applies the client-batch rules of ValidateProduce to a
// header that already passed Validate (for instance through
// Decoder.Records), without checksumming the batch again.
func CheckProduce(h *Header) error {
	if h.RecordsCount < 1 || h.LastOffsetDelta != h.RecordsCount-1 {
		return errorf(ErrInvalidRecord, "produced batch has %d records and last offset delta %d; want at least one record and contiguous offsets",
			h.RecordsCount, h.LastOffsetDelta)
	}
	if h.Attributes.Control() {
		return errorf(ErrInvalidRecord, "clients may not produce control batches")
	}
	return nil
}

// SetBaseOffset rewrites BaseOffset in place. The CRC does not cover it.
func SetBaseOffset(b []byte, offset int64) {
	binary.BigEndian.PutUint64(b[baseOffsetOffset:], uint64(offset))
}

// SetPartitionLeaderEpoch rewrites PartitionLeaderEpoch in place. The CRC does
// not cover it.
func SetPartitionLeaderEpoch(b []byte, epoch int32) {
	binary.BigEndian.PutUint32(b[leaderEpochOffset:], uint32(epoch))
}

// SetLogAppendTime marks the batch as using LogAppendTime, sets MaxTimestamp
// to ts and recomputes the CRC, as a broker does for topics with
// message.timestamp.type=LogAppendTime. Consumers then use MaxTimestamp for
// every record in the batch. b must be a whole batch that passed Validate.
func SetLogAppendTime(b []byte, ts int64) {
	attrs := Attributes(binary.BigEndian.Uint16(b[attrOffset:])) | attrLogAppendTime
	binary.BigEndian.PutUint16(b[attrOffset:], uint16(attrs))
	binary.BigEndian.PutUint64(b[maxTimestampOffset:], uint64(ts))
	UpdateCRC(b)
}

// UpdateCRC recomputes the CRC-32C of a whole batch after its covered bytes
// changed.
func UpdateCRC(b []byte) {
	binary.BigEndian.PutUint32(b[crcOffset:], crc32.Checksum(b[attrOffset:], castagnoli))
}
