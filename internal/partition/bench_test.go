package partition

import (
	"log/slog"
	"testing"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

// BenchmarkPartition_AppendIdempotent measures the append path of an
// idempotent producer's batches (validation, producer check, log append,
// producer update) without waiting for durability, on the in-memory file
// system: what the transaction checks added to it shows here.
func BenchmarkPartition_AppendIdempotent(b *testing.B) {
	d, err := log.OpenDir("/d", log.Options{FS: vfs.NewFaultFS(), Clock: clock.Real, Durability: log.DurabilityAsync, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	l, err := d.CreateLog(log.TopicPartition{Topic: "t", Partition: 0}, log.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	p, err := Open(l, 0, false)
	if err != nil {
		b.Fatal(err)
	}
	recs := make([]record.Record, 10)
	for i := range recs {
		recs[i] = record.Record{Value: make([]byte, 100)}
	}
	batch, err := record.AppendBatch(nil, record.BatchSpec{ProducerID: 1, BaseSequence: 0}, recs, record.CodecNone)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(batch)))
	for i := 0; b.Loop(); i++ {
		record.SetBaseOffset(batch, 0)
		binaryPutSeq(batch, int32(i*10))
		if _, err := p.Append(batch); err != nil {
			b.Fatal(err)
		}
	}
}

// binaryPutSeq rewrites the batch's BaseSequence and its CRC.
func binaryPutSeq(b []byte, seq int32) {
	b[53], b[54], b[55], b[56] = byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq)
	record.UpdateCRC(b)
}
