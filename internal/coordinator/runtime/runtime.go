package runtime

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/coordinator/group"
	"github.com/basketmq/basket/internal/log"
)

// Topic is the internal topic holding the groups and their offsets.
const Topic = "__consumer_offsets"

// Log is what a shard needs of its partition's log; *log.Log has it.
type Log interface {
	Append(batch []byte, leaderEpoch int32) (log.AppendInfo, error)
	WaitDurable(ctx context.Context, offset int64) error
	LogStartOffset() int64
	LogEndOffset() int64
	ReadUpTo(offset int64, maxBytes int, limit int64) (log.Region, error)
}

// Options configure a Runtime.
type Options struct {
	// Partitions is offsets.topic.num.partitions: the number of shards.
	Partitions int32
	// Group is the coordinators' configuration.
	Group group.Config
	// Clock is the coordinators' time; nil means clock.Real.
	Clock clock.Clock
	// Partition returns the log of a partition of Topic and its leader
	// epoch, once it exists; a shard asks again until it does.
	Partition func(p int32) (Log, int32, bool)
	Logger    *slog.Logger
}

// Command runs one request against a shard's coordinator, passing from
// through: for example
//
//	func(c *group.Coordinator, from group.Caller) group.Result { return c.Heartbeat(from, req) }
//
// It must be a pure function of its request and the coordinator: the
// shard may run it again on an unloaded coordinator to build a
// NOT_COORDINATOR answer of the right shape.
type Command = func(c *group.Coordinator, from group.Caller) group.Result

// ErrClosed is returned by Submit once the runtime is closed.
var ErrClosed = errors.New("runtime: closed")

// Runtime runs one shard per partition of Topic.
type Runtime struct {
	opts   Options
	shards []*shard
	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu orders Submit against Close: once closed is set no call enters
	// a queue, so the calls Close drains are all there are.
	mu     sync.RWMutex
	closed bool
}

// Start starts every shard; each loads its partition in the background.
func Start(opts Options) *Runtime {
	if opts.Clock == nil {
		opts.Clock = clock.Real
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &Runtime{opts: opts}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.shards = make([]*shard, opts.Partitions)
	for p := range r.shards {
		s := newShard(r, int32(p))
		r.shards[p] = s
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			s.run()
		}()
	}
	return r
}

// Partitions is the number of shards, offsets.topic.num.partitions.
func (r *Runtime) Partitions() int32 { return r.opts.Partitions }

// Submit queues cmd on the shard of partition p. It blocks only while the
// shard's queue is full. The returned channel receives the response
// exactly once: after the records it caused are durable, or with an error
// code (NOT_COORDINATOR) if the shard could not serve it. It is an error
// for p to be out of range.
func (r *Runtime) Submit(ctx context.Context, p int32, from group.Caller, cmd Command) (<-chan kmsg.Response, error) {
	if p < 0 || p >= int32(len(r.shards)) {
		return nil, errors.New("runtime: no such shard")
	}
	c := &call{cmd: cmd, from: from, reply: make(chan kmsg.Response, 1)}
	c.from.Ref = c
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		c.answer(r.unavailable(c))
		return c.reply, nil
	}
	select {
	case r.shards[p].calls <- c:
		return c.reply, nil
	case <-r.ctx.Done():
		c.answer(r.unavailable(c))
		return c.reply, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops every shard, answering queued and parked requests
// NOT_COORDINATOR, and returns once no shard will write again.
func (r *Runtime) Close() {
	r.cancel()
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.wg.Wait()
	for _, s := range r.shards {
		for {
			select {
			case c := <-s.calls:
				c.answer(r.unavailable(c))
				continue
			default:
			}
			break
		}
	}
}

// unavailable is c's NOT_COORDINATOR answer: its command run on a
// coordinator that has given its partition up.
func (r *Runtime) unavailable(c *call) kmsg.Response {
	u := group.New(r.opts.Clock, r.opts.Group)
	u.Unload()
	return c.cmd(u, c.from).Response
}

// call is one submitted request; it is its own Caller.Ref.
type call struct {
	cmd      Command
	from     group.Caller
	reply    chan kmsg.Response
	answered bool // touched only by the shard's goroutine
}

func (c *call) answer(resp kmsg.Response) {
	if c.answered || resp == nil {
		return
	}
	c.answered = true
	c.reply <- resp
}
