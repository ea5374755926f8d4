package record

import (
	"encoding/binary"
	"testing"
)

type headerCase struct {
	name         string
	batch        []byte
	wantValidate error // kind, or nil
	wantProduce  error // ValidateProduce's kind, or nil
}

// headerCases are whole batches with one thing wrong (or legitimately
// unusual) in the header. The fuzz targets start from them too.
func headerCases(t testing.TB) []headerCase {
	good := mustBatch(t, plainSpec(), sampleRecords(), CodecNone)
	edit := func(fix bool, f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		if fix {
			UpdateCRC(b)
		}
		return b
	}
	put16 := func(off int, v uint16) func([]byte) {
		return func(b []byte) { binary.BigEndian.PutUint16(b[off:], v) }
	}
	put32 := func(off int, v uint32) func([]byte) {
		return func(b []byte) { binary.BigEndian.PutUint32(b[off:], v) }
	}
	compacted := mustBatch(t, BatchSpec{LastOffsetDelta: 9, ProducerID: 7}, []Record{
		{OffsetDelta: 2, Key: []byte("a")}, {OffsetDelta: 7, Key: []byte("b")},
	}, CodecNone)
	emptied := mustBatch(t, BatchSpec{LastOffsetDelta: 4, ProducerID: 7}, nil, CodecNone)
	control := mustBatch(t, BatchSpec{Control: true, Transactional: true, ProducerID: 7, BaseSequence: NoSequence},
		[]Record{EndTxnMarker{Type: ControlCommit}.Record()}, CodecNone)

	return []headerCase{
		{"valid", good, nil, nil},
		{"empty input", nil, ErrCorrupt, ErrCorrupt},
		{"header only, Length says more", good[:HeaderSize], ErrCorrupt, ErrCorrupt},
		{"trailing byte", append(append([]byte(nil), good...), 0), ErrCorrupt, ErrCorrupt},
		{"Length huge", edit(false, put32(lengthOffset, 0x7fffffff)), ErrCorrupt, ErrCorrupt},
		{"Length negative", edit(false, put32(lengthOffset, 0xffffffff)), ErrCorrupt, ErrCorrupt},
		{"Length below a header", edit(false, put32(lengthOffset, HeaderSize-LogOverhead-1)), ErrCorrupt, ErrCorrupt},
		{"magic 0", edit(false, func(b []byte) { b[magicOffset] = 0 }), ErrCorrupt, ErrCorrupt},
		{"magic 1", edit(false, func(b []byte) { b[magicOffset] = 1 }), ErrCorrupt, ErrCorrupt},
		{"magic 3", edit(false, func(b []byte) { b[magicOffset] = 3 }), ErrCorrupt, ErrCorrupt},
		{"CRC wrong", edit(false, put32(crcOffset, 0xdeadbeef)), ErrCorrupt, ErrCorrupt},
		{"record byte changed", edit(false, func(b []byte) { b[len(b)-1] ^= 1 }), ErrCorrupt, ErrCorrupt},
		{"codec 5", edit(true, put16(attrOffset, 5)), ErrCorrupt, ErrCorrupt},
		{"codec 6", edit(true, put16(attrOffset, 6)), ErrCorrupt, ErrCorrupt},
		{"codec 7", edit(true, put16(attrOffset, 7)), ErrCorrupt, ErrCorrupt},
		{"undefined attribute bit 7", edit(true, put16(attrOffset, 0x80)), ErrCorrupt, ErrCorrupt},
		{"undefined attribute bit 15", edit(true, put16(attrOffset, 0x8000)), ErrCorrupt, ErrCorrupt},
		{"record count negative", edit(true, put32(recordsCountOffset, 0xffffffff)), ErrCorrupt, ErrCorrupt},
		{"LastOffsetDelta below count-1", edit(true, put32(lastOffsetDeltaOffset, 2)), ErrInvalidRecord, ErrInvalidRecord},
		{"LastOffsetDelta negative", edit(true, put32(lastOffsetDeltaOffset, 0xffffffff)), ErrInvalidRecord, ErrInvalidRecord},
		{"LastOffsetDelta above count-1 (gap)", edit(true, put32(lastOffsetDeltaOffset, 5)), nil, ErrInvalidRecord},
		{"compacted, offsets with gaps", compacted, nil, ErrInvalidRecord},
		{"emptied by compaction", emptied, nil, ErrInvalidRecord},
		{"control batch", control, nil, ErrInvalidRecord},
		{"BaseOffset and epoch rewritten", edit(false, func(b []byte) { SetBaseOffset(b, 1<<40); SetPartitionLeaderEpoch(b, 9) }), nil, nil},
	}
}

func TestValidate_Table(t *testing.T) {
	for _, tc := range headerCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Validate(tc.batch)
			wantKind(t, err, tc.wantValidate)
			_, err = ValidateProduce(tc.batch)
			wantKind(t, err, tc.wantProduce)
		})
	}
}

func TestParseHeader_ReadsEveryField(t *testing.T) {
	spec := BatchSpec{
		BaseOffset: 1 << 33, PartitionLeaderEpoch: 12, BaseTimestamp: testBaseTimestamp,
		ProducerID: 1 << 40, ProducerEpoch: 3, BaseSequence: 77, Transactional: true,
	}
	b := mustBatch(t, spec, sampleRecords(), CodecLZ4)
	h, err := ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Header{
		BaseOffset: 1 << 33, Length: int32(len(b) - LogOverhead), PartitionLeaderEpoch: 12, Magic: 2,
		CRC: binary.BigEndian.Uint32(b[crcOffset:]), Attributes: Attributes(CodecLZ4) | attrTransactional,
		LastOffsetDelta: 4, BaseTimestamp: testBaseTimestamp, MaxTimestamp: testBaseTimestamp + 12,
		ProducerID: 1 << 40, ProducerEpoch: 3, BaseSequence: 77, RecordsCount: 5,
	}
	if h != want {
		t.Fatalf("ParseHeader =\n%+v\nwant\n%+v", h, want)
	}
	if h.Size() != int64(len(b)) || h.LastOffset() != 1<<33+4 || h.NextOffset() != 1<<33+5 {
		t.Fatalf("Size/LastOffset/NextOffset = %d/%d/%d", h.Size(), h.LastOffset(), h.NextOffset())
	}
}

func TestParseHeader_TruncatedAtEveryByte(t *testing.T) {
	b := mustBatch(t, plainSpec(), sampleRecords(), CodecNone)
	for n := range len(b) {
		_, perr := ParseHeader(b[:n])
		if n < HeaderSize {
			wantKind(t, perr, ErrCorrupt)
		} else if perr != nil {
			t.Fatalf("ParseHeader(%d of %d bytes): %v", n, len(b), perr)
		}
		_, verr := Validate(b[:n])
		wantKind(t, verr, ErrCorrupt)
	}
}

// TestValidate_DetectsEveryBitFlip flips each bit of a batch in turn. Only
// BaseOffset and PartitionLeaderEpoch lie outside the CRC and may change;
// any other flip must fail Validate.
func TestValidate_DetectsEveryBitFlip(t *testing.T) {
	good := mustBatch(t, plainSpec(), sampleRecords(), CodecGzip)
	for i := range len(good) {
		for bit := range 8 {
			b := append([]byte(nil), good...)
			b[i] ^= 1 << bit
			_, err := Validate(b)
			free := i < lengthOffset || (i >= leaderEpochOffset && i < magicOffset)
			if free && err != nil {
				t.Fatalf("byte %d bit %d (outside the CRC): %v", i, bit, err)
			}
			if !free && err == nil {
				t.Fatalf("byte %d bit %d: flip not detected", i, bit)
			}
		}
	}
}

func TestSetLogAppendTime_RewritesHeaderAndCRC(t *testing.T) {
	b := mustBatch(t, plainSpec(), sampleRecords(), CodecSnappy)
	SetLogAppendTime(b, testBaseTimestamp+1000)
	h, err := Validate(b)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Attributes.LogAppendTime() || h.MaxTimestamp != testBaseTimestamp+1000 || h.Attributes.Codec() != CodecSnappy {
		t.Fatalf("header after SetLogAppendTime: %+v", h)
	}
	var d Decoder
	_, recs, err := decodeAll(&d, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if ts := r.Timestamp(&h); ts != testBaseTimestamp+1000 {
			t.Fatalf("record timestamp %d in a LogAppendTime batch, want MaxTimestamp", ts)
		}
	}
}
