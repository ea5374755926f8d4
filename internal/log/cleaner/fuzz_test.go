package cleaner

import (
	"math"
	"testing"

	"github.com/basketmq/basket/internal/record"
)

// FuzzFilter feeds arbitrary bytes, as a batch read from a segment, to the
// cleaner's per-batch filter (transaction markers included): it must return an error or a batch that
// passes record.Validate and keeps the input's offset range, never panic.
func FuzzFilter(f *testing.F) {
	for _, codec := range []record.Codec{record.CodecNone, record.CodecGzip, record.CodecSnappy, record.CodecLZ4, record.CodecZstd} {
		f.Add(buildBatch(f, codec, 1000, kv{key: "a", value: "1"}, kv{key: "b", null: true}, kv{key: "a", value: "2"}), int64(1), false)
	}
	f.Add(buildBatch(f, record.CodecNone, 5, kv{key: "x", value: "y"}), int64(-1), true)
	for _, typ := range []record.ControlType{record.ControlAbort, record.ControlCommit} {
		em := record.EndTxnMarker{Type: typ}
		b, err := record.AppendBatch(nil, record.BatchSpec{BaseTimestamp: 5, ProducerID: 3, BaseSequence: record.NoSequence,
			Transactional: true, Control: true}, []record.Record{em.Record()}, record.CodecNone)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, int64(0), false)
	}
	f.Fuzz(func(t *testing.T, batch []byte, latest int64, keepLast bool) {
		h, err := record.ParseHeader(batch)
		if err != nil || h.Size() != int64(len(batch)) {
			return
		}
		w := &worker{m: newOffsetMap(1 << 12)}
		w.dec.MaxDecompressedBytes = 1 << 20
		w.m.put([]byte("a"), 2)
		r := &round{c: &Cleaner{}, w: w, t: &logToClean{}, now: 2000, latest: latest}
		if _, err := record.Validate(batch); err != nil {
			// Only a batch the map pass checked is trusted without its CRC.
			r.t.firstDirty = math.MaxInt64
		}
		r.cfg.DeleteRetentionMs = 10
		out, err := r.filter(batch, &h, keepLast)
		if err != nil || out == nil {
			return
		}
		oh, err := record.Validate(out)
		if err != nil {
			t.Fatalf("filter wrote an invalid batch: %v", err)
		}
		if oh.BaseOffset != h.BaseOffset || oh.LastOffset() != h.LastOffset() {
			t.Fatalf("offset range [%d, %d] became [%d, %d]", h.BaseOffset, h.LastOffset(), oh.BaseOffset, oh.LastOffset())
		}
	})
}
