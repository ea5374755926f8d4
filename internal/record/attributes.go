package record

import "fmt"

// Attributes is the int16 attributes field of a batch header.
type Attributes uint16

const (
	attrCodecMask     Attributes = 0x07
	attrLogAppendTime Attributes = 0x08
	attrTransactional Attributes = 0x10
	attrControl       Attributes = 0x20
	attrDeleteHorizon Attributes = 0x40
	attrUndefinedMask Attributes = ^(attrCodecMask | attrLogAppendTime | attrTransactional | attrControl | attrDeleteHorizon)
)

// Codec is a batch compression codec.
type Codec int8

// The codecs Kafka defines; the numbers are the attribute values.
const (
	CodecNone   Codec = 0
	CodecGzip   Codec = 1
	CodecSnappy Codec = 2
	CodecLZ4    Codec = 3
	CodecZstd   Codec = 4
)

func (c Codec) String() string {
	switch c {
	case CodecNone:
		return "none"
	case CodecGzip:
		return "gzip"
	case CodecSnappy:
		return "snappy"
	case CodecLZ4:
		return "lz4"
	case CodecZstd:
		return "zstd"
	}
	return fmt.Sprintf("codec(%d)", int8(c))
}

// Codec is the compression codec of the batch's records.
func (a Attributes) Codec() Codec { return Codec(a & attrCodecMask) }

// LogAppendTime reports whether MaxTimestamp is the broker's append time
// rather than the producer's create time.
func (a Attributes) LogAppendTime() bool { return a&attrLogAppendTime != 0 }

// Transactional reports whether the batch belongs to a transaction.
func (a Attributes) Transactional() bool { return a&attrTransactional != 0 }

// Control reports whether the batch holds control records (transaction
// markers) rather than data.
func (a Attributes) Control() bool { return a&attrControl != 0 }

// DeleteHorizon reports whether BaseTimestamp holds the delete horizon set by
// compaction (KIP-534) rather than the first record's timestamp.
func (a Attributes) DeleteHorizon() bool { return a&attrDeleteHorizon != 0 }

func (a Attributes) validate() error {
	if c := a.Codec(); c > CodecZstd {
		return errorf(ErrCorrupt, "batch compression codec %d is not one Kafka defines", int8(c))
	}
	if a&attrUndefinedMask != 0 {
		return errorf(ErrCorrupt, "batch attributes %#04x set undefined bits", uint16(a))
	}
	return nil
}
