package runtime

import (
	"errors"
	"time"

	"github.com/basketmq/basket/internal/record"
)

const (
	// loadReadBytes is how much of the log one read during loading takes.
	loadReadBytes = 1 << 20
	// retryInterval is how long a shard waits for its log to appear
	// (unless the owner reports a change of partitions first), or before
	// loading again after a failed load.
	retryInterval = 100 * time.Millisecond
)

// load makes a new machine and replays the partition into it, then marks
// it loaded. Calls arriving meanwhile are answered
// COORDINATOR_LOAD_IN_PROGRESS by the loading machine. It reports false if
// loading failed or the engine closed; the caller tries again.
func (s *shard[M]) load() bool {
	s.coord = s.e.opts.newMachine(s.p, -1)
	for {
		changed := s.e.partitionsChangedCh() // before looking, so no change is missed
		l, epoch, ok := s.e.opts.partition(s.p)
		if ok {
			s.log, s.epoch = l, epoch
			break
		}
		if !s.pauseUntil(retryInterval, changed) {
			return false
		}
	}
	s.coord = s.e.opts.newMachine(s.p, s.epoch)
	began := time.Now()
	records, err := s.replay()
	if err != nil {
		if s.e.ctx.Err() == nil {
			s.logger.Error("loading the "+s.e.opts.kind+" coordinator failed; retrying", "err", err)
			s.pause(retryInterval)
		}
		return false
	}
	s.write(s.coord.Loaded(), nil)
	s.arm()
	s.logger.Debug(s.e.opts.kind+" coordinator loaded", "records", records, "took", time.Since(began))
	return true
}

// replay feeds the log from its start to its end to the machine, one
// batch at a time, answering queued calls between reads.
func (s *shard[M]) replay() (int, error) {
	n := 0
	off, end := s.log.LogStartOffset(), s.log.LogEndOffset()
	for off < end {
		if s.e.ctx.Err() != nil {
			return n, s.e.ctx.Err()
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
			err = s.dec.Records(batch, func(h *record.Header, r *record.Record) error {
				n++
				if err := s.coord.Replay(h, r); err != nil {
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
func (s *shard[M]) answerQueued() {
	for {
		select {
		case c := <-s.calls:
			s.serve(c)
		default:
			return
		}
	}
}

// pause waits for d, serving calls meanwhile; false if the engine closed.
func (s *shard[M]) pause(d time.Duration) bool {
	return s.pauseUntil(d, nil)
}

// pauseUntil is pause that also ends when wake is closed.
func (s *shard[M]) pauseUntil(d time.Duration, wake <-chan struct{}) bool {
	t := s.e.opts.clock.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-s.e.ctx.Done():
			return false
		case c := <-s.calls:
			s.serve(c)
		case <-t.C():
			return true
		case <-wake:
			return true
		}
	}
}
