package record

import (
	"encoding/binary"
	"strconv"
)

// ControlType is the type in the key of a control record, the records of a
// batch whose Control attribute is set.
type ControlType int16

// The control record types. Transaction markers are ABORT and COMMIT; Kafka's
// KRaft metadata log also uses types 2 (leader change) to 6, which topic
// partitions never hold.
const (
	ControlAbort  ControlType = 0
	ControlCommit ControlType = 1
)

func (t ControlType) String() string {
	switch t {
	case ControlAbort:
		return "ABORT"
	case ControlCommit:
		return "COMMIT"
	}
	return "control type " + strconv.Itoa(int(t))
}

const (
	controlKeySize   = 4 // int16 version, int16 type
	endTxnMarkerSize = 6 // int16 version, int32 coordinator epoch
)

// ParseControlKey returns the type in a control record's key: an int16
// version (0; later versions may append fields, which are ignored) then an
// int16 type. A key shorter than that or with a negative version is
// ErrCorrupt. The type is returned even if this package does not name it.
func ParseControlKey(key []byte) (ControlType, error) {
	if len(key) < controlKeySize {
		return 0, errorf(ErrCorrupt, "control record key has %d bytes, want at least %d", len(key), controlKeySize)
	}
	if v := int16(binary.BigEndian.Uint16(key)); v < 0 {
		return 0, errorf(ErrCorrupt, "control record key version %d is negative", v)
	}
	return ControlType(binary.BigEndian.Uint16(key[2:])), nil
}

// EndTxnMarker is the content of a transaction marker: an ABORT or COMMIT
// control record the transaction coordinator has written to each partition
// of a transaction.
type EndTxnMarker struct {
	Type             ControlType
	CoordinatorEpoch int32
}

// ParseEndTxnMarker reads a transaction marker from a control record: the
// type from its key, the coordinator epoch from its value (int16 version,
// then int32 epoch). A type other than ABORT or COMMIT, a short value or a
// negative version is ErrCorrupt.
func ParseEndTxnMarker(r *Record) (EndTxnMarker, error) {
	t, err := ParseControlKey(r.Key)
	if err != nil {
		return EndTxnMarker{}, err
	}
	if t != ControlAbort && t != ControlCommit {
		return EndTxnMarker{}, errorf(ErrCorrupt, "control record type %d is not a transaction marker", int16(t))
	}
	if len(r.Value) < endTxnMarkerSize {
		return EndTxnMarker{}, errorf(ErrCorrupt, "transaction marker value has %d bytes, want at least %d", len(r.Value), endTxnMarkerSize)
	}
	if v := int16(binary.BigEndian.Uint16(r.Value)); v < 0 {
		return EndTxnMarker{}, errorf(ErrCorrupt, "transaction marker value version %d is negative", v)
	}
	return EndTxnMarker{Type: t, CoordinatorEpoch: int32(binary.BigEndian.Uint32(r.Value[2:]))}, nil
}

// Record returns the marker as a control record (key and value version 0,
// deltas 0). Write it with AppendBatch and a BatchSpec with Control and
// Transactional set, the producer's ID and epoch, BaseSequence NoSequence
// and BaseTimestamp the time the marker is written, as Kafka does.
func (m EndTxnMarker) Record() Record {
	key := make([]byte, controlKeySize)
	binary.BigEndian.PutUint16(key[2:], uint16(m.Type))
	value := make([]byte, endTxnMarkerSize)
	binary.BigEndian.PutUint32(value[2:], uint32(m.CoordinatorEpoch))
	return Record{Key: key, Value: value}
}
