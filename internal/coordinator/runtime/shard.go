package runtime

import (
	"log/slog"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/record"
)

// queueLength is how many calls may wait for a shard before Submit blocks.
const queueLength = 256

// shard owns the machine of one partition. Every field is touched only by
// the shard's goroutine, except calls.
type shard[M Machine] struct {
	e      *engine[M]
	p      int32
	calls  chan *call[M]
	logger *slog.Logger

	coord    M
	log      Log
	epoch    int32
	timer    clock.Timer
	deadline time.Time

	recs []record.Record
	buf  []byte
	dec  record.Decoder
}

func newShard[M Machine](e *engine[M], p int32) *shard[M] {
	return &shard[M]{
		e: e, p: p, calls: make(chan *call[M], queueLength),
		logger: e.opts.logger.With("topic", e.opts.topic, "partition", p),
		coord:  e.opts.newMachine(p, -1),
	}
}

// run loads the partition, then serves calls and timers until the engine
// closes.
func (s *shard[M]) run() {
	defer s.stopTimer()
	for s.e.ctx.Err() == nil && !s.load() {
	}
	for s.e.ctx.Err() == nil {
		var fired <-chan time.Time
		if s.timer != nil {
			fired = s.timer.C()
		}
		select {
		case <-s.e.ctx.Done():
		case c := <-s.calls:
			s.serve(c)
		case <-fired:
			s.timer = nil
			s.write(s.coord.Tick(), nil)
		}
		s.arm()
	}
	s.deliver(s.coord.Unload(), nil)
}

// serve runs one call, then any timer its clock has already passed.
func (s *shard[M]) serve(c *call[M]) {
	s.write(c.cmd(s.coord, c), c)
	if d, ok := s.coord.NextDeadline(); ok && !d.After(s.e.opts.clock.Now()) {
		s.write(s.coord.Tick(), nil)
	}
}

// write keeps the owner's contract for one Output: its records durable
// first, then its answers. self is the call that produced it, if any.
func (s *shard[M]) write(out Output, self *call[M]) {
	if len(out.Records) > 0 {
		if err := s.append(out); err != nil {
			s.fail(out, self, err)
			return
		}
	}
	if out.Durable != nil {
		out.Durable()
	}
	s.deliver(out, self)
}

func (s *shard[M]) deliver(out Output, self *call[M]) {
	if self != nil {
		self.answer(out.Response)
	}
	for _, rep := range out.Replies {
		rep.Ref.(*call[M]).answer(rep.Response)
	}
}

// fail handles an Output whose records did not become durable: its
// requests are answered NOT_COORDINATOR, the machine (now ahead of its
// log) is unloaded and a new one loaded from the log.
func (s *shard[M]) fail(out Output, self *call[M], err error) {
	if s.e.ctx.Err() == nil {
		s.logger.Error(s.e.opts.kind+" coordinator write failed; reloading the partition", "err", err)
	}
	if self != nil && out.Response != nil {
		self.answer(s.e.unavailable(self))
	}
	for _, rep := range out.Replies {
		c := rep.Ref.(*call[M])
		c.answer(s.e.unavailable(c))
	}
	s.deliver(s.coord.Unload(), nil)
	s.stopTimer()
	for s.e.ctx.Err() == nil && !s.load() {
	}
}

// append writes the records as one batch and waits until it is durable.
func (s *shard[M]) append(out Output) error {
	s.recs = s.recs[:0]
	for _, r := range out.Records {
		s.recs = append(s.recs, record.Record{Key: r.Key, Value: r.Value})
	}
	now := s.e.opts.clock.Now().UnixMilli()
	spec := record.BatchSpec{
		BaseTimestamp: now, MaxTimestamp: now,
		ProducerID: record.NoProducerID, ProducerEpoch: record.NoProducerEpoch, BaseSequence: record.NoSequence,
	}
	if p := out.Producer; p != nil {
		spec.ProducerID, spec.ProducerEpoch, spec.Transactional, spec.Control = p.ID, p.Epoch, true, p.Control
	}
	var err error
	if s.buf, err = record.AppendBatch(s.buf[:0], spec, s.recs, record.CodecNone); err != nil {
		return err
	}
	info, err := s.log.Append(s.buf, s.epoch)
	if err != nil {
		return err
	}
	return s.log.WaitDurable(s.e.ctx, info.LastOffset+1)
}

// arm keeps one timer set for the machine's next deadline.
func (s *shard[M]) arm() {
	d, ok := s.coord.NextDeadline()
	if !ok {
		s.stopTimer()
		return
	}
	if s.timer != nil && d.Equal(s.deadline) {
		return
	}
	s.stopTimer()
	s.timer = s.e.opts.clock.NewTimer(max(d.Sub(s.e.opts.clock.Now()), 0))
	s.deadline = d
}

func (s *shard[M]) stopTimer() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}
