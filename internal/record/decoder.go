package record

import "math"

// DefaultMaxDecompressedBytes is the bound a Decoder with
// MaxDecompressedBytes 0 puts on a batch's decompressed records.
const DefaultMaxDecompressedBytes = 64 << 20

// minRecordSize is the smallest encoded record: a one-byte length, then
// attributes, timestamp delta, offset delta, key length, value length and
// header count of one byte each.
const minRecordSize = 7

// Decoder reads the records of v2 batches. The zero value is ready to use.
// A Decoder keeps its buffers and decompressors between calls, so reusing
// one saves allocations; it holds on to up to MaxDecompressedBytes (twice
// that for zstd) until it is dropped. Independent of the bound, an lz4
// frame with 4 MiB blocks needs two block buffers of that size, which the
// lz4 package pools. A Decoder is not safe for concurrent use.
type Decoder struct {
	// MaxDecompressedBytes bounds the size of a compressed batch's
	// records after decompression; 0 means DefaultMaxDecompressedBytes.
	// A batch that expands beyond it fails with ErrTooLarge as soon as
	// the decompressor has produced that much, so a compression bomb
	// costs at most about this much memory and time. Uncompressed
	// batches are not limited.
	MaxDecompressedBytes int
	// TrustCRC skips the CRC check of Records, for a caller that has
	// already checked this very batch (the log cleaner's second pass over
	// a batch it checked in its first). Every other check still runs.
	TrustCRC bool

	header  Header
	record  Record
	key     RecordKey
	headers []RecordHeader
	buf     []byte // decompressed records
	codecs  decompressors
}

// limit is the bound in force. Records of a batch never exceed 2 GiB (their
// sizes are int32s), which also keeps limit+1 from overflowing.
func (d *Decoder) limit() int {
	if d.MaxDecompressedBytes > 0 {
		return min(d.MaxDecompressedBytes, math.MaxInt32)
	}
	return DefaultMaxDecompressedBytes
}

// Records validates batch (see Validate), decompresses its records and
// calls fn for each in order. It checks that every varint and length is in
// bounds, that exactly RecordsCount records fill the records section with no
// bytes left over, and that offset deltas increase strictly and do not pass
// LastOffsetDelta.
//
// The Header and Record passed to fn, and every slice in the Record, alias
// batch or the Decoder's buffers: they are valid only until fn returns, and
// fn must not modify them. Use Record.Clone to keep a record.
//
// If fn returns an error, Records stops and returns it unchanged. Otherwise
// errors are ErrCorrupt for malformed bytes, ErrInvalidRecord for offset
// deltas that break the rules and ErrTooLarge for records that decompress
// beyond MaxDecompressedBytes; fn may already have seen the records before
// the fault.
func (d *Decoder) Records(batch []byte, fn func(h *Header, r *Record) error) error {
	data, err := d.open(batch)
	if err != nil {
		return err
	}
	h := &d.header
	prevDelta := int32(-1)
	for i := int32(0); i < h.RecordsCount; i++ {
		r := reader{b: data, ok: true}
		n := r.varint()
		if !r.ok || n < 0 || int(n) > len(r.b) {
			return errorf(ErrCorrupt, "record %d: length is malformed or past the end of the records", i)
		}
		body, rest := r.b[:n], r.b[n:]
		if err := d.parseRecord(body); err != nil {
			return errorf(ErrCorrupt, "record %d: %v", i, err)
		}
		if delta := d.record.OffsetDelta; delta <= prevDelta || delta > h.LastOffsetDelta {
			return errorf(ErrInvalidRecord, "record %d: offset delta %d after %d, last offset delta %d",
				i, delta, prevDelta, h.LastOffsetDelta)
		}
		prevDelta = d.record.OffsetDelta
		if err := fn(&d.header, &d.record); err != nil {
			return err
		}
		data = rest
	}
	if len(data) != 0 {
		return errorf(ErrCorrupt, "%d bytes follow the batch's %d records", len(data), h.RecordsCount)
	}
	return nil
}

// open validates batch into d.header and returns its records section,
// decompressed.
func (d *Decoder) open(batch []byte) ([]byte, error) {
	h, err := validate(batch, !d.TrustCRC)
	if err != nil {
		return nil, err
	}
	d.header = h
	data := batch[HeaderSize:]
	if codec := h.Attributes.Codec(); codec != CodecNone && len(data) > 0 {
		d.buf, err = d.codecs.decompress(d.buf[:0], codec, data, d.limit())
		if err != nil {
			return nil, err
		}
		data = d.buf
	}
	if int64(h.RecordsCount) > int64(len(data)/minRecordSize) {
		return nil, errorf(ErrCorrupt, "batch says %d records, but %d bytes of records hold at most %d",
			h.RecordsCount, len(data), len(data)/minRecordSize)
	}
	return data, nil
}

// parseRecord decodes one record body, everything after its length, into
// d.record. The error it returns is only a description.
func (d *Decoder) parseRecord(body []byte) error {
	r := reader{b: body, ok: true}
	rec := &d.record
	rec.Attributes = r.int8()
	rec.TimestampDelta = r.varlong()
	rec.OffsetDelta = r.varint()
	rec.Key = r.bytes(true)
	rec.Value = r.bytes(true)
	count := r.varint()
	if !r.ok {
		return errorf(ErrCorrupt, "malformed field or field past the end of the record")
	}
	// Each header takes at least two bytes, so a count this bounds cannot
	// make the slice below grow beyond the record's size.
	if count < 0 || int(count) > len(r.b)/2 {
		return errorf(ErrCorrupt, "header count %d with %d bytes left", count, len(r.b))
	}
	rec.Headers = nil
	if count > 0 {
		hs := d.headers[:0]
		for range count {
			k := r.bytes(false)
			v := r.bytes(true)
			hs = append(hs, RecordHeader{Key: k, Value: v})
		}
		d.headers = hs
		rec.Headers = hs
	}
	if !r.ok {
		return errorf(ErrCorrupt, "malformed header or header past the end of the record")
	}
	if len(r.b) != 0 {
		return errorf(ErrCorrupt, "%d bytes follow the record's headers", len(r.b))
	}
	return nil
}
