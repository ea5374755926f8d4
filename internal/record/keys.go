package record

// RecordKey is what the log cleaner decides a record's fate on, read
// without parsing the rest of it: its offset delta, its key, and whether
// its value is null (a tombstone).
type RecordKey struct {
	OffsetDelta int32
	Key         []byte // nil for a null key
	NullValue   bool
	body        []byte // the record after its length, for Decoder.Record
}

// Keys validates batch and decompresses its records as Records does, then
// calls fn for each record in order with its RecordKey, reading each
// record only up to its value's length: the value and the headers are not
// looked at, only bounded by the record's length. It checks the record
// lengths, that exactly RecordsCount records fill the records section, and
// the offset-delta rule, with Records' errors. Use it on batches whose
// structure was checked when they were produced and whose CRC it checks
// (or the caller did): a record with malformed headers is not reported.
//
// The Header and RecordKey passed to fn are reused for the next record.
// Key, and the record Decoder.Record parses from a RecordKey, alias batch
// or the Decoder's decompression buffer, which stay unchanged until the
// next call of Records or Keys: a caller may keep RecordKey values until
// then.
func (d *Decoder) Keys(batch []byte, fn func(h *Header, k *RecordKey) error) error {
	data, err := d.open(batch)
	if err != nil {
		return err
	}
	h := &d.header
	prevDelta := int32(-1)
	k := &d.key
	for i := int32(0); i < h.RecordsCount; i++ {
		r := reader{b: data, ok: true}
		n := r.varint()
		if !r.ok || n < 0 || int(n) > len(r.b) {
			return errorf(ErrCorrupt, "record %d: length is malformed or past the end of the records", i)
		}
		body, rest := r.b[:n], r.b[n:]
		br := reader{b: body, ok: true}
		br.int8()    // attributes
		br.varlong() // timestamp delta
		k.OffsetDelta = br.varint()
		k.Key = br.bytes(true)
		valueLen := br.varint()
		if !br.ok || valueLen < -1 || int(valueLen) > len(br.b) {
			return errorf(ErrCorrupt, "record %d: malformed field or field past the end of the record", i)
		}
		k.NullValue = valueLen == -1
		k.body = body
		if delta := k.OffsetDelta; delta <= prevDelta || delta > h.LastOffsetDelta {
			return errorf(ErrInvalidRecord, "record %d: offset delta %d after %d, last offset delta %d",
				i, delta, prevDelta, h.LastOffsetDelta)
		}
		prevDelta = k.OffsetDelta
		if err := fn(h, k); err != nil {
			return err
		}
		data = rest
	}
	if len(data) != 0 {
		return errorf(ErrCorrupt, "%d bytes follow the batch's %d records", len(data), h.RecordsCount)
	}
	return nil
}

// Record parses the whole record k came from, as Records would have. The
// Record is the Decoder's and valid until the next call of Record, Records
// or Keys; its Headers slice is reused by the next call of Record, while
// its byte slices alias what k's Key does.
func (d *Decoder) Record(k *RecordKey) (*Record, error) {
	if err := d.parseRecord(k.body); err != nil {
		return nil, err
	}
	return &d.record, nil
}
