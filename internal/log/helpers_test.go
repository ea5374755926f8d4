package log

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testBatch builds an uncompressed batch of n records with values of
// valueSize bytes, all stamped ts.
func testBatch(n, valueSize int, ts int64) []byte {
	var recs []byte
	for i := range n {
		var body []byte
		body = append(body, 0)                             // attributes
		body = binary.AppendVarint(body, 0)                // timestamp delta
		body = binary.AppendVarint(body, int64(i))         // offset delta
		body = binary.AppendVarint(body, -1)               // null key
		body = binary.AppendVarint(body, int64(valueSize)) // value length
		for j := range valueSize {
			body = append(body, byte(i+j))
		}
		body = binary.AppendVarint(body, 0) // headers
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	b := make([]byte, record.HeaderSize, record.HeaderSize+len(recs))
	binary.BigEndian.PutUint32(b[8:], uint32(record.HeaderSize-record.LogOverhead+len(recs)))
	b[16] = record.Magic
	binary.BigEndian.PutUint32(b[23:], uint32(n-1))
	binary.BigEndian.PutUint64(b[27:], uint64(ts))
	binary.BigEndian.PutUint64(b[35:], uint64(ts))
	binary.BigEndian.PutUint64(b[43:], ^uint64(0)) // producer id -1
	binary.BigEndian.PutUint16(b[51:], ^uint16(0))
	binary.BigEndian.PutUint32(b[53:], ^uint32(0))
	binary.BigEndian.PutUint32(b[57:], uint32(n))
	b = append(b, recs...)
	record.UpdateCRC(b)
	return b
}

// fsKinds runs a test over the OS file system and the in-memory FaultFS.
func fsKinds(t *testing.T, fn func(t *testing.T, fs vfs.FS, dir string)) {
	t.Helper()
	t.Run("os", func(t *testing.T) { fn(t, vfs.OS, t.TempDir()) })
	t.Run("fault", func(t *testing.T) { fn(t, vfs.NewFaultFS(), "/data") })
}

type dirOpt func(*Options)

func openTestDir(t *testing.T, fs vfs.FS, path string, clk clock.Clock, opts ...dirOpt) *Dir {
	t.Helper()
	o := Options{FS: fs, Clock: clk, Config: func(TopicPartition) Config { return smallConfig() }}
	for _, f := range opts {
		f(&o)
	}
	d, err := OpenDir(path, o)
	if err != nil {
		t.Fatalf("OpenDir: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// smallConfig makes segments roll often enough for tests to see many.
func smallConfig() Config {
	c := DefaultConfig()
	c.SegmentBytes = 64 << 10
	c.IndexIntervalBytes = 1024
	c.RetentionMs = -1
	c.FileDeleteDelayMs = 0
	return c
}

func mustCreate(t *testing.T, d *Dir, topic string) *Log {
	t.Helper()
	l, err := d.CreateLog(TopicPartition{topic, 0}, smallConfig())
	if err != nil {
		t.Fatalf("CreateLog: %v", err)
	}
	return l
}

func mustAppend(t *testing.T, l *Log, batch []byte) AppendInfo {
	t.Helper()
	info, err := l.Append(batch, 7)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return info
}

func mustDurable(t *testing.T, l *Log, offset int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.WaitDurable(ctx, offset); err != nil {
		t.Fatalf("WaitDurable(%d): %v", offset, err)
	}
}

// readAllBatches reads the whole log from offset through Read and returns the
// header of every batch, checking each batch's CRC.
func readAllBatches(t *testing.T, l *Log, from int64) []record.Header {
	t.Helper()
	var out []record.Header
	off := from
	for off < l.LogEndOffset() {
		r, err := l.Read(off, 100<<10)
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		if r.Len == 0 {
			t.Fatalf("Read(%d): empty region below the log end %d", off, l.LogEndOffset())
		}
		b, err := r.ReadAll()
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		for len(b) > 0 {
			h, err := record.ParseHeader(b)
			if err != nil {
				t.Fatalf("region at %d: %v", off, err)
			}
			if _, err := record.Validate(b[:h.Size()]); err != nil {
				t.Fatalf("region at %d served a bad batch: %v", off, err)
			}
			out = append(out, h)
			b = b[h.Size():]
			off = h.NextOffset()
		}
	}
	return out
}

// eventually polls cond until it holds or 10s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func isErr(err, target error) bool { return errors.Is(err, target) }

func parseHeaderForBench(b []byte) (record.Header, error) { return record.ParseHeader(b) }

var quiet = slog.New(slog.DiscardHandler)
