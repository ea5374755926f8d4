package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
)

// testSegment builds a segment by hand, so its dump is the same on every
// run: a plain batch, a gzip batch from an idempotent transactional
// producer with a header, a null key, a null value and a binary value, and
// a COMMIT marker. pos2 is where the second batch starts.
func testSegment() (b []byte, pos2 int, err error) {
	none := record.BatchSpec{BaseOffset: 100, BaseTimestamp: 1700000000000, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
	b, err = record.AppendBatch(nil, none, []record.Record{
		{Key: []byte("k1"), Value: []byte("v1")},
		{Key: []byte("k2"), Value: []byte("line\nbreak"), TimestampDelta: 5},
	}, record.CodecNone)
	if err != nil {
		return nil, 0, err
	}
	pos2 = len(b)
	txn := record.BatchSpec{BaseOffset: 102, BaseTimestamp: 1700000001000, ProducerID: 7, ProducerEpoch: 1, BaseSequence: 10, Transactional: true, PartitionLeaderEpoch: 3}
	b, err = record.AppendBatch(b, txn, []record.Record{
		{Value: []byte("tx-a"), Headers: []record.RecordHeader{{Key: []byte("h"), Value: []byte("1")}}},
		{Value: nil},
		{Value: []byte{0xff, 0x00}},
	}, record.CodecGzip)
	if err != nil {
		return nil, 0, err
	}
	marker := record.BatchSpec{BaseOffset: 105, BaseTimestamp: 1700000002000, ProducerID: 7, ProducerEpoch: 1, BaseSequence: -1, Transactional: true, Control: true, PartitionLeaderEpoch: 3}
	b, err = record.AppendBatch(b, marker, []record.Record{record.EndTxnMarker{Type: record.ControlCommit, CoordinatorEpoch: 0}.Record()}, record.CodecNone)
	return b, pos2, err
}

// writeTestSegment writes testSegment and its two indexes into a partition
// directory, with a file dump-log does not decode next to them.
func writeTestSegment(t *testing.T) (dir string, logBytes []byte) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "orders-0")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, pos2, err := testSegment()
	if err != nil {
		t.Fatal(err)
	}
	index := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 4), uint32(pos2))
	tindex := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, 1700000001000), 4)
	for name, data := range map[string][]byte{
		"00000000000000000100.log": b, "00000000000000000100.index": index, "00000000000000000100.timeindex": tindex,
		"leader-epoch-checkpoint": []byte("0\n0\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, b
}

func TestDumpLog_Golden(t *testing.T) {
	dir, _ := writeTestSegment(t)
	seg := filepath.Join(dir, "00000000000000000100.log")
	norm := func(s string) string { return strings.ReplaceAll(s, dir, "DIR") }

	r := runCLI(t, "", "dump-log", seg)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	golden(t, "dump_log.txt", norm(r.stdout))
	golden(t, "dump_log_print_data.txt", norm(runCLI(t, "", "dump-log", seg, "--print-data").stdout))
	golden(t, "dump_log_print_data.json", norm(runCLI(t, "", "dump-log", seg, "--print-data", "--format", "json").stdout))
	golden(t, "dump_log_dir.txt", norm(runCLI(t, "", "dump-log", dir).stdout))
}

func TestDumpLog_CorruptAndTruncatedFiles(t *testing.T) {
	dir, b := writeTestSegment(t)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// A torn tail: everything before it is printed, then one error line.
	p := write("00000000000000000000.log", b[:len(b)-10])
	r := runCLI(t, "", "dump-log", p)
	line := expectFailure(t, r, "segment ends inside a batch", nil)
	if !strings.Contains(line, p) || strings.Count(r.stdout, "baseOffset:") != 2 {
		t.Errorf("torn tail: %s\n%s", line, r.stdout)
	}

	// A flipped byte in the first batch's records: shown as crcValid
	// false, and the walk goes on.
	bad := append([]byte(nil), b...)
	bad[70] ^= 0xff
	p = write("00000000000000000001.log", bad)
	r = runCLI(t, "", "dump-log", p)
	if r.code != 0 || !strings.Contains(r.stdout, "crcValid: false") || !strings.Contains(r.stdout, "invalid batch: batch CRC") || strings.Count(r.stdout, "baseOffset:") != 3 {
		t.Errorf("bad CRC: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Garbage where a header should be.
	p = write("00000000000000000002.log", []byte(strings.Repeat("garbage!", 20)))
	expectFailure(t, runCLI(t, "", "dump-log", p), "position 0: batch magic", nil)

	// Torn index entries.
	p = write("00000000000000000003.index", []byte{0, 0, 0, 1, 0, 0, 0, 2, 9, 9})
	r = runCLI(t, "", "dump-log", p)
	expectFailure(t, r, "not a multiple of 8", nil)
	if !strings.Contains(r.stdout, "offset: 4 position: 2") {
		t.Errorf("entries before the torn one not shown:\n%s", r.stdout)
	}
	p = write("00000000000000000003.timeindex", make([]byte, 13))
	expectFailure(t, runCLI(t, "", "dump-log", p), "not a multiple of 12", nil)

	expectFailure(t, runCLI(t, "", "dump-log", filepath.Join(dir, "leader-epoch-checkpoint")), "not a segment file", nil)
	expectFailure(t, runCLI(t, "", "dump-log", filepath.Join(dir, "nope.log")), "no such file", nil)
	expectFailure(t, runCLI(t, "", "dump-log", t.TempDir()), "no .log, .index, .timeindex or .snapshot files", nil)
	expectFailure(t, runCLI(t, "", "dump-log", p, "--format", "xml"), "--format must be text or json", nil)
}

// TestDumpLog_BrokerDataDir dumps what a real broker wrote.
func TestDumpLog_BrokerDataDir(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "orders")
	// kgo sends a batch uncompressed unless compression makes it smaller.
	b.mustRun(t, "a:1\nb:"+strings.Repeat("2", 500)+"\n", "produce", "orders", "--key-separator", ":", "-z", "lz4", "-H", "x=y")
	b.b.Close() // a clean shutdown writes the indexes
	r := runCLI(t, "", "dump-log", filepath.Join(b.dataDir, "orders-0"), "--print-data")
	if r.code != 0 || !strings.Contains(r.stdout, "compresscodec: lz4") || !strings.Contains(r.stdout, `key: "b" payload: "222`) ||
		!strings.Contains(r.stdout, `headers: ["x"="y"]`) || !strings.Contains(r.stdout, "crcValid: true") ||
		!strings.Contains(r.stdout, ".snapshot\nproducerId: 0 producerEpoch: 0") || !strings.Contains(r.stdout, "| firstSequence: 0 lastSequence: 1 firstOffset: 0 lastOffset: 1") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// FuzzDumpSegment: any bytes as a .log, .index or .timeindex file give
// output or an error, never a panic.
func FuzzDumpSegment(f *testing.F) {
	b, _, err := testSegment()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		d := dumper{w: discard{}, printData: true, format: "json"}
		d.dumpSegment(bytesReaderAt(data), int64(len(data)))
		d.format = "text"
		d.dumpSegment(bytesReaderAt(data), int64(len(data)))
		d.dumpIndex(data, 0)
		d.dumpTimeIndex(data, 0)
		d.dumpSnapshot(data, 0)
		log.ParseFileName(string(data))
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, os.ErrClosed
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, os.ErrClosed
	}
	return n, nil
}
