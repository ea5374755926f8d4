package runtime

import (
	"log/slog"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/coordinator/group"
	"github.com/basketmq/basket/internal/record"
)

// queueLength is how many calls may wait for a shard before Submit blocks.
const queueLength = 256

// shard owns the coordinator of one partition of Topic. Every field is
// touched only by the shard's goroutine, except calls.
type shard struct {
	r      *Runtime
	p      int32
	calls  chan *call
	logger *slog.Logger

	coord    *group.Coordinator
	log      Log
	epoch    int32
	timer    clock.Timer
	deadline time.Time

	recs []record.Record
	buf  []byte
	dec  record.Decoder
}

func newShard(r *Runtime, p int32) *shard {
	return &shard{
		r: r, p: p, calls: make(chan *call, queueLength),
		logger: r.opts.Logger.With("topic", Topic, "partition", p),
		coord:  group.New(r.opts.Clock, r.opts.Group),
	}
}

// run loads the partition, then serves calls and timers until the runtime
// closes.
func (s *shard) run() {
	defer s.stopTimer()
	for s.r.ctx.Err() == nil && !s.load() {
	}
	for s.r.ctx.Err() == nil {
		var fired <-chan time.Time
		if s.timer != nil {
			fired = s.timer.C()
		}
		select {
		case <-s.r.ctx.Done():
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
func (s *shard) serve(c *call) {
	s.write(c.cmd(s.coord, c.from), c)
	if d, ok := s.coord.NextDeadline(); ok && !d.After(s.r.opts.Clock.Now()) {
		s.write(s.coord.Tick(), nil)
	}
}

// write keeps the owner's contract for one Result: its records durable
// first, then its answers. self is the call that produced it, if any.
func (s *shard) write(res group.Result, self *call) {
	if len(res.Records) > 0 {
		if err := s.append(res.Records); err != nil {
			s.fail(res, self, err)
			return
		}
	}
	s.deliver(res, self)
}

func (s *shard) deliver(res group.Result, self *call) {
	if self != nil {
		self.answer(res.Response)
	}
	for _, rep := range res.Replies {
		rep.Ref.(*call).answer(rep.Response)
	}
}

// fail handles a Result whose records did not become durable: its
// requests are answered NOT_COORDINATOR, the coordinator (now ahead of
// its log) is unloaded and a new one loaded from the log.
func (s *shard) fail(res group.Result, self *call, err error) {
	if s.r.ctx.Err() == nil {
		s.logger.Error("group coordinator write failed; reloading the partition", "err", err)
	}
	if self != nil && res.Response != nil {
		self.answer(s.r.unavailable(self))
	}
	for _, rep := range res.Replies {
		c := rep.Ref.(*call)
		c.answer(s.r.unavailable(c))
	}
	s.deliver(s.coord.Unload(), nil)
	s.stopTimer()
	for s.r.ctx.Err() == nil && !s.load() {
	}
}

// append writes records as one batch and waits until it is durable.
func (s *shard) append(records []group.Record) error {
	s.recs = s.recs[:0]
	for _, r := range records {
		s.recs = append(s.recs, record.Record{Key: r.Key, Value: r.Value})
	}
	now := s.r.opts.Clock.Now().UnixMilli()
	spec := record.BatchSpec{
		BaseTimestamp: now, MaxTimestamp: now,
		ProducerID: record.NoProducerID, ProducerEpoch: record.NoProducerEpoch, BaseSequence: record.NoSequence,
	}
	var err error
	if s.buf, err = record.AppendBatch(s.buf[:0], spec, s.recs, record.CodecNone); err != nil {
		return err
	}
	info, err := s.log.Append(s.buf, s.epoch)
	if err != nil {
		return err
	}
	return s.log.WaitDurable(s.r.ctx, info.LastOffset+1)
}

// arm keeps one timer set for the coordinator's next deadline.
func (s *shard) arm() {
	d, ok := s.coord.NextDeadline()
	if !ok {
		s.stopTimer()
		return
	}
	if s.timer != nil && d.Equal(s.deadline) {
		return
	}
	s.stopTimer()
	s.timer = s.r.opts.Clock.NewTimer(max(d.Sub(s.r.opts.Clock.Now()), 0))
	s.deadline = d
}

func (s *shard) stopTimer() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}
