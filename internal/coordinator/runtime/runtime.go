package runtime

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/coordinator/group"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
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

// Runtime runs the group coordinators: one shard per partition of Topic.
type Runtime struct {
	opts Options
	e    *engine[groupMachine]
}

// Start starts every shard; each loads its partition in the background.
func Start(opts Options) *Runtime {
	if opts.Clock == nil {
		opts.Clock = clock.Real
	}
	r := &Runtime{opts: opts}
	r.e = newEngine(engineOptions[groupMachine]{
		topic: Topic, kind: "group", partitions: opts.Partitions, clock: opts.Clock,
		logger: opts.Logger, partition: opts.Partition,
		newMachine: func(int32, int32) groupMachine { return groupMachine{group.New(opts.Clock, opts.Group)} },
	})
	r.e.start()
	return r
}

// Partitions is the number of shards, offsets.topic.num.partitions.
func (r *Runtime) Partitions() int32 { return r.opts.Partitions }

// PartitionsChanged tells the shards still waiting for their partition of
// Topic to look again now rather than at their next retry: the broker
// calls it on each metadata change, so the coordinators start loading as
// soon as the topic is created.
func (r *Runtime) PartitionsChanged() { r.e.partitionsChanged() }

// Submit queues cmd on the shard of partition p. It blocks only while the
// shard's queue is full. The returned channel receives the response
// exactly once: after the records it caused are durable, or with an error
// code (NOT_COORDINATOR) if the shard could not serve it. It is an error
// for p to be out of range.
func (r *Runtime) Submit(ctx context.Context, p int32, from group.Caller, cmd Command) (<-chan kmsg.Response, error) {
	return r.e.submit(ctx, p, func(m groupMachine, ref any) Output {
		f := from
		f.Ref = ref
		return fromGroup(cmd(m.c, f))
	})
}

// WriteTxnMarker writes a transaction marker (COMMIT if commit, else
// ABORT) of the producer to partition p of Topic through its shard, as
// WriteTxnMarkers does for a __consumer_offsets partition: the control
// batch is appended with the producer's id and epoch, the coordinator
// applies it (the producer's pending transactional offsets of that shard
// are committed or dropped), and it returns once the marker is durable.
// An error carries the Kafka error (NOT_COORDINATOR when the shard is not
// loaded, the partition's write failed or the runtime is closed).
func (r *Runtime) WriteTxnMarker(ctx context.Context, partition int32, producerID int64, producerEpoch int16, coordinatorEpoch int32, commit bool) error {
	ch, err := r.e.submit(ctx, partition, func(m groupMachine, _ any) Output {
		return fromGroup(m.c.WriteTxnMarker(producerID, producerEpoch, coordinatorEpoch, commit))
	})
	if err != nil {
		return err
	}
	select {
	case resp := <-ch:
		return kerr.ErrorForCode(resp.(*kmsg.WriteTxnMarkersResponse).Markers[0].Topics[0].Partitions[0].ErrorCode)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops every shard, answering queued and parked requests
// NOT_COORDINATOR, and returns once no shard will write again.
func (r *Runtime) Close() { r.e.close() }

// groupMachine adapts a group.Coordinator to a shard.
type groupMachine struct{ c *group.Coordinator }

func (g groupMachine) Replay(h *record.Header, r *record.Record) error {
	switch {
	case h.Attributes.Control():
		m, err := record.ParseEndTxnMarker(r)
		if err != nil {
			return nil // not a transaction marker: nothing for the groups
		}
		return g.c.ReplayTxnMarker(h.ProducerID, m.Type == record.ControlCommit)
	case h.Attributes.Transactional():
		return g.c.ReplayTxnOffset(group.Record{Key: r.Key, Value: r.Value}, h.ProducerID)
	}
	return g.c.Replay(group.Record{Key: r.Key, Value: r.Value})
}

func (g groupMachine) Loaded() Output                       { return fromGroup(g.c.Loaded()) }
func (g groupMachine) Unload() Output                       { return fromGroup(g.c.Unload()) }
func (g groupMachine) Tick() Output                         { return fromGroup(g.c.Tick()) }
func (g groupMachine) NextDeadline() (t time.Time, ok bool) { return g.c.NextDeadline() }

func fromGroup(res group.Result) Output {
	out := Output{Response: res.Response}
	if len(res.Records) > 0 {
		out.Records = make([]Record, len(res.Records))
		for i, r := range res.Records {
			out.Records[i] = Record{Key: r.Key, Value: r.Value}
		}
	}
	if tb := res.Txn; tb != nil {
		out.Producer = &Producer{ID: tb.ProducerID, Epoch: tb.ProducerEpoch, Control: tb.Control}
	}
	if len(res.Replies) > 0 {
		out.Replies = make([]Reply, len(res.Replies))
		for i, rep := range res.Replies {
			out.Replies[i] = Reply{Ref: rep.Ref, Response: rep.Response}
		}
	}
	return out
}
