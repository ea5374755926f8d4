package runtime

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/record"
)

// Machine is a coordinator state machine as a shard runs it: the group
// coordinator and the transaction coordinator each have an adapter. Every
// call is made on the shard's goroutine.
type Machine interface {
	// Replay applies one record of the partition while loading, with the
	// header of its batch (transactional and control batches included).
	// An error is logged and the record skipped.
	Replay(h *record.Header, r *record.Record) error
	Loaded() Output
	Unload() Output
	Tick() Output
	NextDeadline() (time.Time, bool)
}

// Output is what one call of a Machine produced, in the shape the shard
// writes and answers it.
type Output struct {
	// Records are appended as one batch; the shard waits until it is
	// durable before anything else of this Output happens.
	Records []Record
	// Producer, when set, makes the batch transactional for that producer
	// (TxnOffsetCommit), or a transaction marker with Control.
	Producer *Producer
	// Response answers the call's own request; nil for none.
	Response kmsg.Response
	// Replies answer earlier requests parked by the machine.
	Replies []Reply
	// Durable, if set, runs on the shard's goroutine once Records are
	// durable, before the answers leave (the transaction coordinator
	// starts writing markers here).
	Durable func()
}

// Record is one key and value; a nil Value is a tombstone.
type Record struct{ Key, Value []byte }

// Producer is the producer of a transactional batch.
type Producer struct {
	ID      int64
	Epoch   int16
	Control bool
}

// Reply answers a parked request: Ref is the call handed to its Command.
type Reply struct {
	Ref      any
	Response kmsg.Response
}

// command runs one request against a shard's machine; ref is the call,
// for machines that park requests and answer them later in Replies. It
// must be a pure function of its request and the machine: the shard may
// run it again on an unloaded machine to build a NOT_COORDINATOR answer
// of the right shape.
type command[M Machine] func(m M, ref any) Output

// engineOptions configure an engine.
type engineOptions[M Machine] struct {
	topic      string
	kind       string // for logs: "group", "transaction"
	partitions int32
	clock      clock.Clock
	logger     *slog.Logger
	partition  func(p int32) (Log, int32, bool)
	// newMachine returns a loading machine for partition p at the
	// partition's leader epoch (-1 when not known yet).
	newMachine func(p, epoch int32) M
}

// engine runs one shard per partition of a coordinator topic: the
// machinery the group and transaction runtimes share.
type engine[M Machine] struct {
	opts   engineOptions[M]
	shards []*shard[M]
	ctx    context.Context // canceled by close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu orders submit against close: once closed is set no call enters
	// a queue, so the calls close drains are all there are.
	mu     sync.RWMutex
	closed bool

	// changed is closed, and replaced, by partitionsChanged: shards
	// waiting for their partition look again at once.
	changedMu sync.Mutex
	changed   chan struct{}
}

// partitionsChanged wakes the shards waiting for their partition to
// appear (the owner calls it when the topic's partitions change).
func (e *engine[M]) partitionsChanged() {
	e.changedMu.Lock()
	close(e.changed)
	e.changed = make(chan struct{})
	e.changedMu.Unlock()
}

// partitionsChangedCh is closed by the next partitionsChanged.
func (e *engine[M]) partitionsChangedCh() <-chan struct{} {
	e.changedMu.Lock()
	defer e.changedMu.Unlock()
	return e.changed
}

// newEngine makes the shards; start runs them. The owner keeps the engine
// before it starts, so machines may reach it from their first call.
func newEngine[M Machine](opts engineOptions[M]) *engine[M] {
	if opts.clock == nil {
		opts.clock = clock.Real
	}
	if opts.logger == nil {
		opts.logger = slog.Default()
	}
	e := &engine[M]{opts: opts, changed: make(chan struct{})}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.shards = make([]*shard[M], opts.partitions)
	for p := range e.shards {
		e.shards[p] = newShard(e, int32(p))
	}
	return e
}

// start runs every shard; each loads its partition in the background.
func (e *engine[M]) start() {
	for _, s := range e.shards {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			s.run()
		}()
	}
}

// errNoShard is returned by submit for a partition out of range.
var errNoShard = errors.New("runtime: no such shard")

func (e *engine[M]) submit(ctx context.Context, p int32, cmd command[M]) (<-chan kmsg.Response, error) {
	if p < 0 || p >= int32(len(e.shards)) {
		return nil, errNoShard
	}
	if err := ctx.Err(); err != nil {
		// Checked first: below, a free queue slot and a done context are
		// both ready and select would pick either.
		return nil, err
	}
	c := &call[M]{cmd: cmd, p: p, reply: make(chan kmsg.Response, 1)}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		c.answer(e.unavailable(c))
		return c.reply, nil
	}
	select {
	case e.shards[p].calls <- c:
		return c.reply, nil
	case <-e.ctx.Done():
		c.answer(e.unavailable(c))
		return c.reply, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (e *engine[M]) close() {
	e.cancel()
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.wg.Wait()
	for _, s := range e.shards {
		for {
			select {
			case c := <-s.calls:
				c.answer(e.unavailable(c))
				continue
			default:
			}
			break
		}
	}
}

// unavailable is c's NOT_COORDINATOR answer: its command run on a machine
// that has given its partition up.
func (e *engine[M]) unavailable(c *call[M]) kmsg.Response {
	u := e.opts.newMachine(c.p, -1)
	u.Unload()
	return c.cmd(u, c).Response
}

// call is one submitted request; it is its own reference.
type call[M Machine] struct {
	cmd      command[M]
	p        int32
	reply    chan kmsg.Response
	answered bool // touched only by the shard's goroutine
}

func (c *call[M]) answer(resp kmsg.Response) {
	if c.answered || resp == nil {
		return
	}
	c.answered = true
	c.reply <- resp
}
