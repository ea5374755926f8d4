package metadata

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
)

// LogTopic is the partition that holds the metadata log.
var LogTopic = log.TopicPartition{Topic: "__cluster_metadata", Partition: 0}

// Store keeps the current Image and persists the records that produce it.
type Store struct {
	dir   *log.Dir
	log   *log.Log
	mu    sync.Mutex // serializes Commit
	image atomic.Pointer[Image]
	subs  []func(old, new *Image)
}

// OpenStore opens (or creates) the metadata log in a log directory of its
// own at path and replays it into the current Image.
func OpenStore(path string, opts log.Options) (*Store, error) {
	cfg := log.DefaultConfig()
	cfg.RetentionMs, cfg.RetentionBytes = -1, -1
	opts.Config = func(log.TopicPartition) log.Config { return cfg }
	opts.Durability = log.DurabilitySync
	dir, err := log.OpenDir(path, opts)
	if err != nil {
		return nil, fmt.Errorf("metadata log: %w", err)
	}
	l, ok := dir.Log(LogTopic)
	if !ok {
		if l, err = dir.CreateLog(LogTopic, cfg); err != nil {
			dir.Close()
			return nil, fmt.Errorf("metadata log: %w", err)
		}
	}
	s := &Store{dir: dir, log: l}
	im, err := replay(l)
	if err != nil {
		dir.Close()
		return nil, err
	}
	s.image.Store(im)
	return s, nil
}

// replay reads the whole metadata log into an Image.
func replay(l *log.Log) (*Image, error) {
	d := NewDelta(Empty())
	var dec record.Decoder
	for off := l.LogStartOffset(); off < l.LogEndOffset(); {
		region, err := l.Read(off, 1<<20)
		if err != nil {
			return nil, fmt.Errorf("metadata log at %d: %w", off, err)
		}
		b, err := region.ReadAll()
		if err != nil {
			return nil, fmt.Errorf("metadata log at %d: %w", off, err)
		}
		for len(b) > 0 {
			h, err := record.ParseHeader(b)
			if err != nil {
				return nil, fmt.Errorf("metadata log at %d: %w", off, err)
			}
			err = dec.Records(b[:h.Size()], func(h *record.Header, rec *record.Record) error {
				r, err := DecodeRecord(rec.Value)
				if err != nil {
					return err
				}
				return d.Replay(r, rec.Offset(h))
			})
			if err != nil {
				return nil, fmt.Errorf("metadata log batch at %d: %w", h.BaseOffset, err)
			}
			off = h.NextOffset()
			b = b[h.Size():]
		}
	}
	return d.Image(), nil
}

// Image is the current metadata. It never changes once returned.
func (s *Store) Image() *Image { return s.image.Load() }

// Subscribe registers fn to run after every commit with the images before
// and after it, synchronously and in commit order. Register before the
// first Commit.
func (s *Store) Subscribe(fn func(old, new *Image)) {
	s.mu.Lock()
	s.subs = append(s.subs, fn)
	s.mu.Unlock()
}

// Commit checks that records apply to the current image, writes them to the
// metadata log as one batch (so a crash keeps all or none), waits until
// they are durable, publishes the new image and tells the subscribers.
func (s *Store) Commit(ctx context.Context, records ...Record) (*Image, error) {
	if len(records) == 0 {
		return s.Image(), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.image.Load()
	base := s.log.LogEndOffset()
	d := NewDelta(old)
	recs := make([]record.Record, len(records))
	for i, r := range records {
		b, err := r.Encode()
		if err != nil {
			return nil, err
		}
		if err := d.Replay(r, base+int64(i)); err != nil {
			return nil, err
		}
		recs[i] = record.Record{OffsetDelta: int32(i), Value: b}
	}
	batch, err := record.AppendBatch(nil, record.BatchSpec{
		ProducerID: record.NoProducerID, ProducerEpoch: record.NoProducerEpoch, BaseSequence: record.NoSequence,
	}, recs, record.CodecNone)
	if err != nil {
		return nil, err
	}
	info, err := s.log.Append(batch, 0)
	if err != nil {
		return nil, fmt.Errorf("metadata log: %w", err)
	}
	if info.BaseOffset != base {
		return nil, errors.New("metadata log: appended at an unexpected offset")
	}
	if err := s.log.WaitDurable(ctx, info.LastOffset+1); err != nil {
		return nil, fmt.Errorf("metadata log: %w", err)
	}
	next := d.Image()
	s.image.Store(next)
	for _, fn := range s.subs {
		fn(old, next)
	}
	return next, nil
}

// Close closes the metadata log.
func (s *Store) Close() error { return s.dir.Close() }
