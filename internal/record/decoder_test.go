package record

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

type decodeCase struct {
	name  string
	batch []byte
	want  error // kind, or nil
}

// decodeCases are batches with a valid header and CRC whose records section
// is wrong, each in one way. The fuzz targets start from them too.
func decodeCases() []decodeCase {
	one := func(b enc) []byte { return withPayload(CodecNone, 1, 0, b) }
	rec := func(b enc) []byte { return one(enc{}.record(b)) }
	two := func(a, b enc) []byte { return withPayload(CodecNone, 2, 1, enc{}.record(a).record(b)) }
	maxed := func(b enc) enc { return b.raw(0xff, 0xff, 0xff, 0xff) }
	return []decodeCase{
		{"one good record", rec(body(0, "k")), nil},
		{"two good records", two(body(0, "a"), body(1, "b")), nil},
		{"gap before LastOffsetDelta", withPayload(CodecNone, 2, 5, enc{}.record(body(1, "a")).record(body(5, "b"))), nil},
		{"no records, range kept", withPayload(CodecNone, 0, 3, nil), nil},

		{"record length negative", one(enc{}.varint(-2).raw(body(0, "k")...)), ErrCorrupt},
		{"record length past the end", one(enc{}.varint(100).raw(body(0, "k")...)), ErrCorrupt},
		{"record length varint overflows", one(maxed(enc{}).raw(0x7f)), ErrCorrupt},
		{"record length varint too long", one(maxed(enc{}).raw(0xff, 0x01)), ErrCorrupt},
		{"record length varint cut short", one(enc{}.raw(0x80)), ErrCorrupt},
		{"timestamp varlong overflows", rec(enc{}.raw(0).raw(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02).varint(0).str("k").str("v").varint(0)), ErrCorrupt},
		{"offset delta varint overflows", rec(enc{}.raw(0).varint(0).raw(0xff, 0xff, 0xff, 0xff, 0x1f).str("k").str("v").varint(0)), ErrCorrupt},
		{"key length past the record", rec(enc{}.raw(0).varint(0).varint(0).varint(50).raw('k').str("v").varint(0)), ErrCorrupt},
		{"key length -2", rec(enc{}.raw(0).varint(0).varint(0).varint(-2).str("v").varint(0)), ErrCorrupt},
		{"value length huge", rec(enc{}.raw(0).varint(0).varint(0).str("k").varint(1 << 30).varint(0)), ErrCorrupt},
		{"header count negative", rec(enc{}.raw(0).varint(0).varint(0).str("k").str("v").varint(-1)), ErrCorrupt},
		{"header count huge", rec(enc{}.raw(0).varint(0).varint(0).str("k").str("v").varint(1<<30).raw(0, 0)), ErrCorrupt},
		{"header key null", rec(enc{}.raw(0).varint(0).varint(0).str("k").str("v").varint(1).varint(-1).str("x")), ErrCorrupt},
		{"header value past the record", rec(enc{}.raw(0).varint(0).varint(0).str("k").str("v").varint(1).str("h").varint(9)), ErrCorrupt},
		{"bytes after the headers", rec(body(0, "k").raw(0)), ErrCorrupt},
		{"empty record body", one(enc{}.record(nil).raw(0, 0, 0, 0, 0, 0)), ErrCorrupt},
		{"bytes after the last record", one(enc{}.record(body(0, "k")).raw(0)), ErrCorrupt},
		{"fewer records than counted", withPayload(CodecNone, 2, 1, enc{}.record(body(0, "k"))), ErrCorrupt},
		{"count far beyond the bytes", withPayload(CodecNone, 1<<30, 1<<30, enc{}.record(body(0, "k"))), ErrCorrupt},
		{"more records than counted", one(enc{}.record(body(0, "a")).record(body(1, "b"))), ErrCorrupt},

		{"offset delta repeated", two(body(0, "a"), body(0, "b")), ErrInvalidRecord},
		{"offset delta decreasing", withPayload(CodecNone, 2, 3, enc{}.record(body(2, "a")).record(body(1, "b"))), ErrInvalidRecord},
		{"offset delta negative", rec(body(-1, "k")), ErrInvalidRecord},
		{"offset delta past LastOffsetDelta", two(body(0, "a"), body(2, "b")), ErrInvalidRecord},

		{"gzip garbage", withPayload(CodecGzip, 1, 0, []byte("not gzip at all")), ErrCorrupt},
		{"snappy garbage", withPayload(CodecSnappy, 1, 0, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), ErrCorrupt},
		{"lz4 garbage", withPayload(CodecLZ4, 1, 0, []byte("not an lz4 frame")), ErrCorrupt},
		{"zstd garbage", withPayload(CodecZstd, 1, 0, []byte("not a zstd frame")), ErrCorrupt},
		{"xerial block length past the end", withPayload(CodecSnappy, 1, 0, append(xerialHeader(), 0, 0, 1, 0, 1)), ErrCorrupt},
		{"xerial block length negative", withPayload(CodecSnappy, 1, 0, append(xerialHeader(), 0xff, 0xff, 0xff, 0xff)), ErrCorrupt},
		{"xerial block length cut short", withPayload(CodecSnappy, 1, 0, append(xerialHeader(), 0, 0)), ErrCorrupt},
	}
}

func xerialHeader() []byte { return appendXerial(nil, nil) }

func TestDecoder_Table(t *testing.T) {
	var d Decoder
	for _, tc := range decodeCases() {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := decodeAll(&d, tc.batch)
			wantKind(t, err, tc.want)
		})
	}
}

// TestDecoder_CompressedTruncatedAtEveryByte cuts the records of each codec
// short, fixing the header, so that only the decompressor can notice.
func TestDecoder_CompressedTruncatedAtEveryByte(t *testing.T) {
	var d Decoder
	for _, codec := range allCodecs {
		b := mustBatch(t, plainSpec(), sampleRecords(), codec)
		for n := HeaderSize; n < len(b); n++ {
			cut := fixBatch(append([]byte(nil), b[:n]...))
			if _, _, err := decodeAll(&d, cut); err == nil {
				t.Fatalf("%v: records cut to %d of %d bytes decoded without error", codec, n-HeaderSize, len(b)-HeaderSize)
			} else if k := errKind(err); k != ErrCorrupt {
				t.Fatalf("%v: cut to %d bytes: %v", codec, n, err)
			}
		}
	}
}

func TestDecoder_RecordsAliasAndResolve(t *testing.T) {
	spec := plainSpec()
	spec.BaseOffset = 1000
	b := mustBatch(t, spec, sampleRecords(), CodecNone)
	var d Decoder
	var offsets, stamps []int64
	err := d.Records(b, func(h *Header, r *Record) error {
		offsets = append(offsets, r.Offset(h))
		stamps = append(stamps, r.Timestamp(h))
		if r.Key != nil && len(r.Key) > 0 && !bytes.Contains(b, r.Key) {
			t.Errorf("key %q is not a view of the batch", r.Key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantOffsets := []int64{1000, 1001, 1002, 1003, 1004}
	wantStamps := []int64{testBaseTimestamp, testBaseTimestamp + 5, testBaseTimestamp + 9, testBaseTimestamp - 3, testBaseTimestamp + 12}
	for i := range wantOffsets {
		if offsets[i] != wantOffsets[i] || stamps[i] != wantStamps[i] {
			t.Fatalf("record %d: offset %d timestamp %d, want %d %d", i, offsets[i], stamps[i], wantOffsets[i], wantStamps[i])
		}
	}
}

func TestDecoder_StopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	var d Decoder
	seen := 0
	err := d.Records(mustBatch(t, plainSpec(), sampleRecords(), CodecZstd), func(*Header, *Record) error {
		seen++
		return stop
	})
	if err != stop || seen != 1 {
		t.Fatalf("Records = %v after %d records, want the callback's error after 1", err, seen)
	}
}

// TestDecoder_ReusesBuffers checks that a warmed-up Decoder decodes an
// uncompressed batch without allocating.
func TestDecoder_ReusesBuffers(t *testing.T) {
	b := mustBatch(t, plainSpec(), sampleRecords(), CodecNone)
	var d Decoder
	fn := func(*Header, *Record) error { return nil }
	allocs := testing.AllocsPerRun(100, func() {
		if err := d.Records(b, fn); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per uncompressed batch, want 0", allocs)
	}
}

func TestReader_Varints(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 63, -64, 64, 1 << 20, -1 << 31, 1<<31 - 1} {
		r := reader{b: appendVarint(nil, v), ok: true}
		if got := r.varint(); !r.ok || int64(got) != v || len(r.b) != 0 {
			t.Fatalf("varint %d: got %d ok=%v left=%d", v, got, r.ok, len(r.b))
		}
		if n := varintLen(v); n != len(appendVarint(nil, v)) {
			t.Fatalf("varintLen(%d) = %d", v, n)
		}
	}
	for _, v := range []int64{0, -1, 1 << 40, -1 << 63, 1<<63 - 1} {
		r := reader{b: appendVarint(nil, v), ok: true}
		if got := r.varlong(); !r.ok || got != v {
			t.Fatalf("varlong %d: got %d ok=%v", v, got, r.ok)
		}
	}
	// An int32 that does not fit: 1<<31 needs 33 zig-zag bits.
	r := reader{b: appendVarint(nil, 1<<31), ok: true}
	if r.varint(); r.ok {
		t.Fatal("varint accepted a value beyond int32")
	}
}

func TestDecoder_HugeLimitIsClamped(t *testing.T) {
	d := Decoder{MaxDecompressedBytes: math.MaxInt}
	for _, codec := range allCodecs {
		if _, _, err := decodeAll(&d, mustBatch(t, plainSpec(), sampleRecords(), codec)); err != nil {
			t.Fatalf("%v: %v", codec, err)
		}
	}
}
