package log

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

func writeFuzzFile(t *testing.T, fs vfs.FS, name string, data []byte) vfs.File {
	f, err := fs.OpenFile(name, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data, 0); err != nil && len(data) > 0 {
		t.Fatal(err)
	}
	return f
}

// FuzzOffsetIndexLoad: any bytes either load as an index whose entries are
// strictly increasing and inside the segment, or are rejected.
func FuzzOffsetIndexLoad(f *testing.F) {
	f.Add([]byte{}, int64(100))
	f.Add(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 3), 50), int64(100))
	f.Add(bytes.Repeat([]byte{0, 0, 0, 1, 0, 0, 0, 2}, 3), int64(10))
	f.Fuzz(func(t *testing.T, data []byte, segSize int64) {
		fs := vfs.NewFaultFS()
		file := writeFuzzFile(t, fs, "/x.index", data)
		x := newOffsetIndex(1 << 20)
		if err := x.load(file, segSize); err != nil {
			return
		}
		for i, e := range x.entries {
			if int64(e.pos) >= segSize || i > 0 && (e.rel <= x.entries[i-1].rel || e.pos <= x.entries[i-1].pos) {
				t.Fatalf("loaded a bad index: entry %d %+v", i, e)
			}
		}
	})
}

// FuzzTimeIndexLoad: likewise for time indexes.
func FuzzTimeIndexLoad(f *testing.F) {
	f.Add([]byte{}, int64(5))
	f.Add(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, 1000), 3), int64(5))
	f.Fuzz(func(t *testing.T, data []byte, lastRel int64) {
		fs := vfs.NewFaultFS()
		file := writeFuzzFile(t, fs, "/x.timeindex", data)
		var x timeIndex
		if err := x.load(file, lastRel); err != nil {
			return
		}
		for i, e := range x.entries {
			if int64(e.rel) > lastRel || i > 0 && (e.ts <= x.entries[i-1].ts || e.rel < x.entries[i-1].rel) {
				t.Fatalf("loaded a bad time index: entry %d %+v", i, e)
			}
		}
	})
}

// FuzzRecoverSegment: a segment file of arbitrary bytes is recovered to a
// prefix of valid, ordered batches; reads of the recovered log return only
// batches that pass their CRC; nothing panics.
func FuzzRecoverSegment(f *testing.F) {
	var good []byte
	for i := range 4 {
		b := testBatch(1+i, 20*i, int64(i))
		record.SetBaseOffset(b, int64(i*10))
		good = append(good, b...)
	}
	f.Add(good)
	f.Add(good[:len(good)-7])
	f.Add(append(bytes.Clone(good), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
	flipped := bytes.Clone(good)
	flipped[100] ^= 0x10
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := vfs.NewFaultFS()
		fs.MkdirAll("/d/t-0", 0o755)
		writeFuzzFile(t, fs, "/d/t-0/00000000000000000000.log", data).Close()
		d, err := OpenDir("/d", Options{FS: fs, Clock: clock.NewFake(t0), Logger: quiet, Config: func(TopicPartition) Config { return smallConfig() }})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer d.Close()
		l, ok := d.Log(TopicPartition{"t", 0})
		if !ok {
			t.Fatal("log missing")
		}
		if l.Size() > int64(len(data)) {
			t.Fatalf("recovered %d bytes from %d", l.Size(), len(data))
		}
		readAllBatches(t, l, 0)
		if _, err := l.Append(testBatch(1, 1, 1), 0); err != nil {
			t.Fatalf("append after recovery: %v", err)
		}
	})
}
