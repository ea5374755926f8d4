package cleaner

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var quiet = slog.New(slog.DiscardHandler)

// fsKinds runs a test over the OS file system and the in-memory FaultFS.
func fsKinds(t *testing.T, fn func(t *testing.T, fs vfs.FS, dir string)) {
	t.Helper()
	t.Run("os", func(t *testing.T) { fn(t, vfs.OS, t.TempDir()) })
	t.Run("fault", func(t *testing.T) { fn(t, vfs.NewFaultFS(), "/data") })
}

// compactConfig is a compacted log with small segments, so tests see many.
func compactConfig() log.Config {
	c := log.DefaultConfig()
	c.SegmentBytes = 4 << 10
	c.IndexIntervalBytes = 512
	c.RetentionMs, c.RetentionBytes = -1, -1
	c.FileDeleteDelayMs = 0
	c.Compact = true
	c.MinCleanableDirtyRatio = 0
	return c
}

func openDir(t *testing.T, fs vfs.FS, path string, clk clock.Clock) *log.Dir {
	t.Helper()
	d, err := log.OpenDir(path, log.Options{FS: fs, Clock: clk, Logger: quiet,
		Config: func(log.TopicPartition) log.Config { return compactConfig() }})
	if err != nil {
		t.Fatalf("OpenDir: %v", err)
	}
	return d
}

// newCleaner makes a cleaner that may clean every log up to its end,
// closed when the test ends.
func newCleaner(t testing.TB, d *log.Dir, opts Options) *Cleaner {
	if opts.Bound == nil {
		opts.Bound = func(l *log.Log) (Bound, bool) { return Bound{UpperOffset: l.LogEndOffset()}, true }
	}
	opts.Logger = quiet
	c := New(d, opts)
	t.Cleanup(c.Close)
	return c
}

type kv struct {
	key, value string
	null       bool // tombstone
}

// appendKV appends one batch of records with the codec, stamped ts.
func appendKV(t *testing.T, l *log.Log, codec record.Codec, ts int64, recs ...kv) log.AppendInfo {
	t.Helper()
	b := buildBatch(t, codec, ts, recs...)
	info, err := l.Append(b, 1)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.WaitDurable(ctx, info.LastOffset+1); err != nil {
		t.Fatal(err)
	}
	return info
}

func buildBatch(t testing.TB, codec record.Codec, ts int64, recs ...kv) []byte {
	rs := make([]record.Record, len(recs))
	for i, r := range recs {
		rs[i] = record.Record{Key: []byte(r.key), OffsetDelta: int32(i)}
		if !r.null {
			rs[i].Value = []byte(r.value)
		}
	}
	spec := record.BatchSpec{BaseTimestamp: ts, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
	b, err := record.AppendBatch(nil, spec, rs, codec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type readRecord struct {
	offset    int64
	key       string
	value     string
	null      bool
	timestamp int64
}

// readAll reads the whole log, checking every batch and that offsets only
// increase.
func readAll(t *testing.T, l *log.Log) []readRecord {
	t.Helper()
	var out []readRecord
	var dec record.Decoder
	off := l.LogStartOffset()
	last := int64(-1)
	for off < l.LogEndOffset() {
		r, err := l.Read(off, 1<<20)
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		b, err := r.ReadAll()
		if err != nil || len(b) == 0 {
			t.Fatalf("Read(%d): %d bytes, %v", off, len(b), err)
		}
		for len(b) > 0 {
			h, err := record.ParseHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			err = dec.Records(b[:h.Size()], func(bh *record.Header, rec *record.Record) error {
				o := rec.Offset(bh)
				if o <= last {
					return fmt.Errorf("offset %d after %d", o, last)
				}
				last = o
				out = append(out, readRecord{o, string(rec.Key), string(rec.Value), rec.Value == nil, rec.Timestamp(bh)})
				return nil
			})
			if err != nil {
				t.Fatalf("batch at %d: %v", h.BaseOffset, err)
			}
			b = b[h.Size():]
			off = h.NextOffset()
		}
	}
	return out
}

// model is the expected latest record per key, with its offset.
type model map[string]readRecord

func (m model) apply(base int64, recs ...kv) {
	for i, r := range recs {
		m[r.key] = readRecord{offset: base + int64(i), key: r.key, value: r.value, null: r.null}
	}
}

// checkLatest checks that every key's latest record is in got, at its
// original offset, and that no key appears twice; tombstones are skipped
// when dropTombstones (they may be gone).
func checkLatest(t *testing.T, got []readRecord, want model, allowStale bool) {
	t.Helper()
	seen := map[string]readRecord{}
	for _, r := range got {
		if prev, dup := seen[r.key]; dup && !allowStale {
			t.Fatalf("key %q twice: offsets %d and %d", r.key, prev.offset, r.offset)
		}
		seen[r.key] = r
	}
	for k, w := range want {
		g, ok := seen[k]
		if !ok {
			if w.null {
				continue
			}
			t.Fatalf("key %q lost; want value %q at %d", k, w.value, w.offset)
		}
		if g.offset != w.offset || g.value != w.value || g.null != w.null {
			t.Fatalf("key %q: got %q (null %v) at %d, want %q (null %v) at %d", k, g.value, g.null, g.offset, w.value, w.null, w.offset)
		}
	}
}

// fill appends rounds of updates to keys key-0..key-(keys-1), batch records
// per batch, and returns the model.
func fill(t *testing.T, l *log.Log, codec record.Codec, ts int64, keys, updates, batch int) model {
	t.Helper()
	m := model{}
	for i := 0; i < updates; i += batch {
		var recs []kv
		for j := i; j < min(i+batch, updates); j++ {
			recs = append(recs, kv{key: "key-" + strconv.Itoa(j%keys), value: "v" + strconv.Itoa(j) + "-" + string(make([]byte, 40))})
		}
		info := appendKV(t, l, codec, ts, recs...)
		m.apply(info.BaseOffset, recs...)
	}
	return m
}

func mustCreate(t *testing.T, d *log.Dir, topic string) *log.Log {
	t.Helper()
	l, err := d.CreateLog(log.TopicPartition{Topic: topic}, compactConfig())
	if err != nil {
		t.Fatal(err)
	}
	return l
}
