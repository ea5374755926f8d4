package record

import "bytes"

// Record is one record of a v2 batch. Its offset and timestamp are deltas
// from the batch header; Offset and Timestamp resolve them.
//
// A Record filled in by a Decoder aliases memory the Decoder or the caller's
// batch owns and is valid only until the callback returns; Clone makes a
// copy that owns its memory.
type Record struct {
	// Attributes is the record-level attributes byte. Kafka defines no
	// bits in it; it is kept as read and written as given.
	Attributes int8
	// TimestampDelta is the record's timestamp minus the batch's
	// BaseTimestamp. It may be negative: producers do not sort records by
	// time.
	TimestampDelta int64
	// OffsetDelta is the record's offset minus the batch's BaseOffset.
	OffsetDelta int32
	// Key and Value are nil for null, which differs from empty: a null
	// value is a tombstone on a compacted topic.
	Key, Value []byte
	// Headers are the record's headers in order; keys may repeat.
	Headers []RecordHeader
}

// RecordHeader is one record header. Kafka header keys are non-null
// strings, so a nil Key is written as an empty key; a nil Value is null.
type RecordHeader struct {
	Key   []byte
	Value []byte
}

// Offset is the record's absolute offset in the batch described by h.
func (r *Record) Offset(h *Header) int64 { return h.BaseOffset + int64(r.OffsetDelta) }

// Timestamp is the record's timestamp in the batch described by h. In a
// LogAppendTime batch every record carries the batch's MaxTimestamp, the
// time the broker appended it, whatever its delta says.
func (r *Record) Timestamp(h *Header) int64 {
	if h.Attributes.LogAppendTime() {
		return h.MaxTimestamp
	}
	return h.BaseTimestamp + r.TimestampDelta
}

// Clone returns a deep copy of r that shares no memory with it. Null stays
// null and empty stays empty.
func (r *Record) Clone() Record {
	c := *r
	c.Key, c.Value = cloneBytes(r.Key), cloneBytes(r.Value)
	if r.Headers != nil {
		c.Headers = make([]RecordHeader, len(r.Headers))
		for i, h := range r.Headers {
			c.Headers[i] = RecordHeader{Key: cloneBytes(h.Key), Value: cloneBytes(h.Value)}
		}
	}
	return c
}

// Equal reports whether r and o hold the same fields, telling null from
// empty in keys, values and header values.
func (r *Record) Equal(o *Record) bool {
	if r.Attributes != o.Attributes || r.TimestampDelta != o.TimestampDelta || r.OffsetDelta != o.OffsetDelta ||
		!equalNullable(r.Key, o.Key) || !equalNullable(r.Value, o.Value) || len(r.Headers) != len(o.Headers) {
		return false
	}
	for i, h := range r.Headers {
		if !bytes.Equal(h.Key, o.Headers[i].Key) || !equalNullable(h.Value, o.Headers[i].Value) {
			return false
		}
	}
	return true
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

func equalNullable(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

// encodedLen is the size of the record body, everything after its length
// varint, as appendRecord writes it.
func (r *Record) encodedLen() int {
	n := 1 + varintLen(r.TimestampDelta) + varintLen(int64(r.OffsetDelta)) +
		bytesLen(r.Key, true) + bytesLen(r.Value, true) + varintLen(int64(len(r.Headers)))
	for _, h := range r.Headers {
		n += bytesLen(h.Key, false) + bytesLen(h.Value, true)
	}
	return n
}

func bytesLen(b []byte, nullable bool) int {
	if b == nil && nullable {
		return 1
	}
	return varintLen(int64(len(b))) + len(b)
}

// appendRecord appends r in the v2 record encoding: body length, then
// attributes, timestamp delta, offset delta, key, value and headers.
func appendRecord(dst []byte, r *Record) []byte {
	dst = appendVarint(dst, int64(r.encodedLen()))
	dst = append(dst, byte(r.Attributes))
	dst = appendVarint(dst, r.TimestampDelta)
	dst = appendVarint(dst, int64(r.OffsetDelta))
	dst = appendVarintBytes(dst, r.Key, true)
	dst = appendVarintBytes(dst, r.Value, true)
	dst = appendVarint(dst, int64(len(r.Headers)))
	for _, h := range r.Headers {
		dst = appendVarintBytes(dst, h.Key, false)
		dst = appendVarintBytes(dst, h.Value, true)
	}
	return dst
}
