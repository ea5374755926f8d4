package runtime

import (
	"errors"
	"time"

	"github.com/basketmq/basket/internal/coordinator/group"
	"github.com/basketmq/basket/internal/record"
)

const (
	// loadReadBytes is how much of the log one read during loading takes.
	loadReadBytes = 1 << 20
	// retryInterval is how long a shard waits for its log to appear, or
	// before loading again after a failed load.
	retryInterval = 100 * time.Millisecond
)

// load makes a new coordinator and replays the partition into it, then
// marks it loaded. Calls arriving meanwhile are answered
// COORDINATOR_LOAD_IN_PROGRESS by the loading coordinator. It reports
// false if loading failed or the runtime closed; the caller tries again.
func (s *shard) load() bool {
	s.coord = group.New(s.r.opts.Clock, s.r.opts.Group)
	for {
		l, epoch, ok := s.r.opts.Partition(s.p)
		if ok {
			s.log, s.epoch = l, epoch
			break
		}
		if !s.pause(retryInterval) {
			return false
		}
	}
	began := time.Now()
	records, err := s.replay()
	if err != nil {
		if s.r.ctx.Err() == nil {
			s.logger.Error("loading the group coordinator failed; retrying", "err", err)
			s.pause(retryInterval)
		}
		return false
	}
	s.write(s.coord.Loaded(), nil)
	s.arm()
	s.logger.Debug("group coordinator loaded", "records", records, "took", time.Since(began))
	return true
}

// replay feeds the log from its start to its end to the coordinator, one
// batch at a time, answering queued calls between reads.
func (s *shard) replay() (int, error) {
	n := 0
	off, end := s.log.LogStartOffset(), s.log.LogEndOffset()
	for off < end {
		if s.r.ctx.Err() != nil {
			return n, s.r.ctx.Err()
		}
		s.answerQueued()
		region, err := s.log.ReadUpTo(off, loadReadBytes, end)
		if err != nil {
			return n, err
		}
		data, err := region.ReadAll()
		if err != nil {
			return n, err
		}
		if len(data) == 0 {
			break
		}
		for len(data) > 0 {
			h, err := record.ParseHeader(data)
			if err != nil {
				return n, err
			}
			if h.Size() > int64(len(data)) {
				return n, errors.New("runtime: batch runs past the region read")
			}
			batch := data[:h.Size()]
			data = data[h.Size():]
			off = h.NextOffset()
			if h.Attributes.Control() {
				continue
			}
			err = s.dec.Records(batch, func(_ *record.Header, r *record.Record) error {
				n++
				if err := s.coord.Replay(group.Record{Key: r.Key, Value: r.Value}); err != nil {
					s.logger.Warn("skipping a record that does not decode", "err", err)
				}
				return nil
			})
			if err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// answerQueued serves the calls waiting now, without blocking.
func (s *shard) answerQueued() {
	for {
		select {
		case c := <-s.calls:
			s.serve(c)
		default:
			return
		}
	}
}

// pause waits for d, serving calls meanwhile; false if the runtime closed.
func (s *shard) pause(d time.Duration) bool {
	t := s.r.opts.Clock.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-s.r.ctx.Done():
			return false
		case c := <-s.calls:
			s.serve(c)
		case <-t.C():
			return true
		}
	}
}
