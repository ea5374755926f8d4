package log

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/basketmq/basket/internal/record"
)

func dumpTestBatches(t testing.TB) []byte {
	var b []byte
	var err error
	for i := range 3 {
		spec := record.BatchSpec{BaseOffset: int64(10 * i), BaseTimestamp: 1000, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
		b, err = record.AppendBatch(b, spec, []record.Record{{Value: []byte("v")}, {Value: []byte("w")}}, record.CodecNone)
		if err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func TestScanSegmentFile_WalksBatchesAndReportsDamage(t *testing.T) {
	b := dumpTestBatches(t)
	size := len(b) / 3
	var bases []int64
	var invalid []bool
	scan := func(data []byte) error {
		bases, invalid = nil, nil
		return ScanSegmentFile(bytes.NewReader(data), int64(len(data)), func(sb *SegmentBatch) error {
			bases = append(bases, sb.Header.BaseOffset)
			invalid = append(invalid, sb.Invalid != nil)
			if sb.Position != int64(len(bases)-1)*int64(size) || int64(len(sb.Batch)) != sb.Header.Size() {
				t.Errorf("batch %d at %d, %d bytes", len(bases)-1, sb.Position, len(sb.Batch))
			}
			return nil
		})
	}
	if err := scan(b); err != nil || len(bases) != 3 || bases[2] != 20 {
		t.Fatalf("whole file: %v, bases %v", err, bases)
	}
	if err := scan(b[:len(b)-1]); !errors.Is(err, ErrTruncatedSegment) || len(bases) != 2 {
		t.Errorf("torn tail: %v, bases %v", err, bases)
	}
	if err := scan(b[:2*size+20]); !errors.Is(err, ErrTruncatedSegment) || len(bases) != 2 {
		t.Errorf("torn header: %v, bases %v", err, bases)
	}
	bad := bytes.Clone(b)
	bad[size+record.HeaderSize] ^= 1 // a record byte of the second batch
	if err := scan(bad); err != nil || len(bases) != 3 || !invalid[1] || invalid[0] || invalid[2] {
		t.Errorf("bad CRC: %v, invalid %v", err, invalid)
	}
	bad = bytes.Clone(b)
	bad[size+16] = 1 // the second batch's magic
	if err := scan(bad); err == nil || len(bases) != 1 {
		t.Errorf("bad magic: %v, bases %v", err, bases)
	}
	stop := errors.New("stop")
	if err := ScanSegmentFile(bytes.NewReader(b), int64(len(b)), func(*SegmentBatch) error { return stop }); err != stop {
		t.Errorf("callback error: %v", err)
	}
}

func TestDecodeIndexes_TornTail(t *testing.T) {
	idx := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 5), 300)
	es, err := DecodeIndex(append(idx, 1, 2, 3))
	if err == nil || len(es) != 1 || es[0] != (IndexEntry{5, 300}) {
		t.Errorf("index: %v %v", es, err)
	}
	tidx := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, 1234), 7)
	ts, err := DecodeTimeIndex(tidx)
	if err != nil || len(ts) != 1 || ts[0] != (TimeIndexEntry{1234, 7}) {
		t.Errorf("time index: %v %v", ts, err)
	}
}

func TestParseFileName(t *testing.T) {
	for name, want := range map[string]struct {
		base int64
		kind string
		ok   bool
	}{
		"00000000000000001000.log":         {1000, "log", true},
		"00000000000000001000.timeindex":   {1000, "timeindex", true},
		"00000000000000000042.snapshot":    {42, "snapshot", true},
		"00000000000000001000.log.deleted": {1000, "log", true},
		"0000000000000001000.log":          {0, "", false},
		"leader-epoch-checkpoint":          {0, "", false},
		"-0000000000000001000.log":         {0, "", false},
	} {
		base, kind, ok := ParseFileName(name)
		if base != want.base || kind != want.kind || ok != want.ok {
			t.Errorf("%s: %d %q %v", name, base, kind, ok)
		}
	}
}

// FuzzScanSegmentFile: any bytes walk to the end or stop with an error,
// never panic, and every batch handed out lies inside the file.
func FuzzScanSegmentFile(f *testing.F) {
	b := dumpTestBatches(f)
	f.Add(b)
	f.Add(b[:len(b)-5])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		ScanSegmentFile(bytes.NewReader(data), int64(len(data)), func(sb *SegmentBatch) error {
			if sb.Position < 0 || sb.Position+int64(len(sb.Batch)) > int64(len(data)) {
				t.Fatalf("batch at %d of %d bytes outside a %d-byte file", sb.Position, len(sb.Batch), len(data))
			}
			return nil
		})
		DecodeIndex(data)
		DecodeTimeIndex(data)
	})
}
