package partition

import (
	"errors"
	"testing"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/producerstate"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

func idempotentBatch(t *testing.T, pid int64, seq int32) []byte {
	epoch := int16(0)
	if pid < 0 {
		epoch = -1
	}
	t.Helper()
	b, err := record.AppendBatch(nil, record.BatchSpec{ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq},
		[]record.Record{{Value: []byte("v")}, {OffsetDelta: 1, Value: []byte("w")}}, record.CodecNone)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openPartition(t *testing.T, fs vfs.FS) (*log.Dir, *Partition) {
	t.Helper()
	d, err := log.OpenDir("/d", log.Options{FS: fs, Clock: clock.Real, RebuildTxnIndex: producerstate.RebuildTxnIndex})
	if err != nil {
		t.Fatal(err)
	}
	tp := log.TopicPartition{Topic: "t", Partition: 0}
	l, ok := d.Log(tp)
	if !ok {
		if l, err = d.CreateLog(tp, log.DefaultConfig()); err != nil {
			t.Fatal(err)
		}
	}
	p, err := Open(l, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	return d, p
}

func TestPartition_DuplicateAnsweredWithOriginalOffsets(t *testing.T) {
	_, p := openPartition(t, vfs.NewFaultFS())
	first, err := p.Append(idempotentBatch(t, 7, 0))
	if err != nil {
		t.Fatal(err)
	}
	p.Append(idempotentBatch(t, 7, 2))
	dup, err := p.Append(idempotentBatch(t, 7, 0))
	if err != nil || dup.BaseOffset != first.BaseOffset || dup.LastOffset != first.LastOffset {
		t.Fatalf("retry of the first batch: %+v %v, want offsets of %+v", dup, err, first)
	}
	if p.Log().LogEndOffset() != 4 {
		t.Fatalf("duplicate appended: log end %d", p.Log().LogEndOffset())
	}
	if _, err := p.Append(idempotentBatch(t, 7, 9)); !errors.Is(err, producerstate.ErrOutOfOrderSequence) {
		t.Fatalf("gap: %v", err)
	}
}

func TestPartition_MaintainSnapshotsProducerStateAcrossCrash(t *testing.T) {
	fs := vfs.NewFaultFS()
	d, p := openPartition(t, fs)
	for seq := int32(0); seq < 20; seq += 2 {
		if _, err := p.Append(idempotentBatch(t, 7, seq)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Maintain(0, producerstate.DefaultProducerIDExpirationMs); err != nil {
		t.Fatal(err)
	}
	if snaps := countSnapshots(fs); snaps != 1 {
		t.Fatalf("%d snapshots after Maintain", snaps)
	}
	fs.Crash()
	d.Close()
	_, p2 := openPartition(t, fs)
	// The producer's next sequence is accepted, a retry is a duplicate.
	if _, err := p2.Append(idempotentBatch(t, 7, 20)); err != nil {
		t.Fatalf("next sequence after restart: %v", err)
	}
	if r, err := p2.Append(idempotentBatch(t, 7, 18)); err != nil || r.BaseOffset != 18 {
		t.Fatalf("retry after restart: %+v %v", r, err)
	}
}

func countSnapshots(fs *vfs.FaultFS) int {
	n := 0
	for _, f := range fs.Files() {
		if len(f) > 9 && f[len(f)-9:] == ".snapshot" {
			n++
		}
	}
	return n
}

func TestPartition_RefusesBatchWhoseRecordsDoNotDecode(t *testing.T) {
	_, p := openPartition(t, vfs.NewFaultFS())
	good := idempotentBatch(t, -1, -1)
	// Claim 3 records while holding 2, and fix the CRC: only decoding the
	// records can tell.
	bad := append([]byte(nil), good...)
	bad[60] = 3 // RecordsCount low byte
	bad[26] = 2 // LastOffsetDelta low byte, so the header stays consistent
	record.UpdateCRC(bad)
	if _, err := p.Append(bad); !errors.Is(err, record.ErrCorrupt) && !errors.Is(err, record.ErrInvalidRecord) {
		t.Fatalf("batch with a wrong record count: %v", err)
	}
	if p.Log().LogEndOffset() != 0 {
		t.Fatal("bad batch stored")
	}
}
