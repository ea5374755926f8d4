package record

import (
	"runtime"
	"testing"
)

// Run one with, for example:
//
//	go test -run XXX -fuzz FuzzDecoder -fuzztime 30s ./internal/record/

// fuzzLimit is the Decoder's MaxDecompressedBytes while fuzzing: small, so
// that the allocation bound below is tight.
const fuzzLimit = 64 << 10

func addFuzzSeeds(f *testing.F) {
	for _, s := range loadSeeds(f) {
		f.Add(s.batch)
	}
	for _, c := range headerCases(f) {
		f.Add(c.batch)
	}
	for _, c := range decodeCases() {
		f.Add(c.batch)
	}
	for _, codec := range allCodecs {
		f.Add(mustBatch(f, plainSpec(), sampleRecords(), codec))
	}
	f.Add(withPayload(CodecSnappy, 1, 0, snappyDeclaredBomb(nil)))
	f.Add(withPayload(CodecSnappy, 1, 0, xerialDeclaredBomb(nil)))
	f.Add(withPayload(CodecZstd, 1, 0, zstdDeclaredBomb(nil)))
}

// checkKind fails unless err is nil or one of the package's three kinds.
func checkKind(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil && errKind(err) == err {
		t.Fatalf("%s: error %q is none of ErrCorrupt, ErrInvalidRecord, ErrTooLarge", what, err)
	}
}

func FuzzParseHeader(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		checkKind(t, "ParseHeader", err)
		if err == nil && (len(b) < HeaderSize || h.Magic != Magic || h.Length < HeaderSize-LogOverhead) {
			t.Fatalf("ParseHeader accepted %+v from %d bytes", h, len(b))
		}
		if vh, verr := Validate(b); verr == nil && (err != nil || vh != h) {
			t.Fatalf("Validate accepted a batch ParseHeader reads differently: %+v vs %+v, %v", vh, h, err)
		}
	})
}

func FuzzValidate(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		// Mutations almost always break the CRC; also validate a copy
		// with Length and CRC made right to reach the later checks.
		for _, in := range fuzzInputs(b) {
			h, err := Validate(in)
			checkKind(t, "Validate", err)
			ph, perr := ValidateProduce(in)
			checkKind(t, "ValidateProduce", perr)
			if perr == nil && (err != nil || ph != h || h.LastOffsetDelta != h.RecordsCount-1 || h.Attributes.Control()) {
				t.Fatalf("ValidateProduce accepted %+v (Validate: %v)", ph, err)
			}
			if err != nil {
				continue
			}
			if h.Size() != int64(len(in)) || h.RecordsCount < 0 || int64(h.RecordsCount) > int64(h.LastOffsetDelta)+1 ||
				h.Attributes.Codec() > CodecZstd {
				t.Fatalf("Validate accepted %+v for %d bytes", h, len(in))
			}
		}
	})
}

// fuzzInputs returns b and, when it holds a header, a copy with Length and
// CRC fixed.
func fuzzInputs(b []byte) [][]byte {
	if len(b) < HeaderSize {
		return [][]byte{b}
	}
	return [][]byte{b, fixBatch(append([]byte(nil), b...))}
}

func FuzzDecoder(f *testing.F) {
	addFuzzSeeds(f)
	d := &Decoder{MaxDecompressedBytes: fuzzLimit}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, in := range fuzzInputs(b) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := d.Records(in, func(*Header, *Record) error { return nil })
			runtime.ReadMemStats(&after)
			checkKind(t, "Decoder.Records", err)
			// The header slice may take 24 bytes per input byte
			// (two-byte headers of 48 bytes), decompression a few
			// times the limit, and lz4's two block buffers 8 MiB.
			bound := 64*uint64(len(in)+fuzzLimit) + 9<<20
			if got := after.TotalAlloc - before.TotalAlloc; got > bound {
				t.Fatalf("decoding %d bytes allocated %d, more than %d", len(in), got, bound)
			}
			h, recs, err2 := decodeAll(d, in)
			if errKind(err2) != errKind(err) {
				t.Fatalf("decoding twice: %v, then %v", err, err2)
			}
			checkKeys(t, d, in, err, recs)
			if err != nil {
				continue
			}
			if len(recs) != int(h.RecordsCount) {
				t.Fatalf("decoded %d records, header says %d", len(recs), h.RecordsCount)
			}
			checkReencode(t, d, &h, recs)
		}
	})
}

// checkReencode writes decoded records back with AppendBatch, as compaction
// would, and checks they decode to the same records.
func checkReencode(t *testing.T, d *Decoder, h *Header, recs []Record) {
	t.Helper()
	b, err := AppendBatch(nil, h.Spec(), recs, h.Attributes.Codec())
	if err != nil {
		t.Fatalf("AppendBatch of decoded records: %v", err)
	}
	h2, again, err := decodeAll(d, b)
	if err != nil {
		t.Fatalf("decoding re-encoded batch: %v", err)
	}
	if h2.RecordsCount != h.RecordsCount || h2.LastOffsetDelta != h.LastOffsetDelta || h2.BaseOffset != h.BaseOffset {
		t.Fatalf("re-encoded header %+v, was %+v", h2, *h)
	}
	for i := range recs {
		if !again[i].Equal(&recs[i]) {
			t.Fatalf("record %d re-encoded as %+v, was %+v", i, again[i], recs[i])
		}
	}
}

// checkKeys reads with Keys, then Record for each record, a batch Records
// decoded as recs or failed on with recErr: together they fail exactly
// where Records does, and otherwise agree with it record by record.
func checkKeys(t *testing.T, d *Decoder, in []byte, recErr error, recs []Record) {
	t.Helper()
	var keys []RecordKey
	var full []Record
	err := d.Keys(in, func(_ *Header, k *RecordKey) error {
		keys = append(keys, RecordKey{OffsetDelta: k.OffsetDelta, Key: cloneBytes(k.Key), NullValue: k.NullValue})
		r, err := d.Record(k)
		if err != nil {
			return errorf(ErrCorrupt, "%v", err)
		}
		full = append(full, r.Clone())
		return nil
	})
	checkKind(t, "Decoder.Keys", err)
	if (err == nil) != (recErr == nil) {
		t.Fatalf("Keys and Record: %v; Records: %v", err, recErr)
	}
	if err != nil {
		return
	}
	if len(keys) != len(recs) {
		t.Fatalf("Keys gave %d records, Records %d", len(keys), len(recs))
	}
	for i, k := range keys {
		r := &recs[i]
		if k.OffsetDelta != r.OffsetDelta || !equalNullable(k.Key, r.Key) || k.NullValue != (r.Value == nil) {
			t.Fatalf("record %d: Keys gave %+v, Records %+v", i, k, *r)
		}
		if !full[i].Equal(r) {
			t.Fatalf("record %d: Record gave %+v, Records %+v", i, full[i], *r)
		}
	}
}
