package record

import (
	"fmt"
	"testing"
)

// benchRecords are about 16 KiB of records: 100 keyed records of 150-byte
// text values with a header, like a typical producer batch.
func benchRecords() []Record {
	recs := make([]Record, 100)
	for i := range recs {
		recs[i] = Record{
			TimestampDelta: int64(i),
			Key:            fmt.Appendf(nil, "customer-%06d", i*7919%100000),
			Value:          fmt.Appendf(nil, `{"id":%d,"event":"page_view","path":"/products/%d","agent":"Mozilla/5.0 (X11; Linux x86_64)","ms":%d,"ok":true}`, i, i*31, i*17),
			Headers:        []RecordHeader{{Key: []byte("trace-id"), Value: fmt.Appendf(nil, "%016x", i*104729)}},
		}
	}
	return recs
}

func BenchmarkValidate_16KiB(b *testing.B) {
	batch := mustBatch(b, plainSpec(), benchRecords(), CodecNone)
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Validate(batch); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecoder_Records(b *testing.B) {
	for _, codec := range allCodecs {
		b.Run(codec.String(), func(b *testing.B) {
			batch := mustBatch(b, plainSpec(), benchRecords(), codec)
			var d Decoder
			n := 0
			fn := func(_ *Header, r *Record) error { n += len(r.Value); return nil }
			b.SetBytes(int64(len(appendRecords(nil, benchRecords(), true)))) // uncompressed bytes
			b.ReportAllocs()
			for b.Loop() {
				if err := d.Records(batch, fn); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(batch)), "batch-bytes")
		})
	}
}

func BenchmarkAppendBatch(b *testing.B) {
	recs := benchRecords()
	for _, codec := range allCodecs {
		b.Run(codec.String(), func(b *testing.B) {
			var dst []byte
			b.SetBytes(int64(len(appendRecords(nil, recs, true))))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = AppendBatch(dst[:0], plainSpec(), recs, codec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
