package runtime

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/coordinator/txn"
	"github.com/basketmq/basket/internal/record"
)

// TxnOptions configure a Transactions runtime.
type TxnOptions struct {
	// Partitions is transaction.state.log.num.partitions: the number of
	// shards.
	Partitions int32
	// Txn is the coordinators' configuration.
	Txn txn.Config
	// Clock is the coordinators' time; nil means clock.Real.
	Clock clock.Clock
	// Partition returns the log of a partition of txn.Topic and its
	// leader epoch (the coordinator epoch markers carry), once it exists.
	Partition func(p int32) (Log, int32, bool)
	// WriteTxnMarkers writes transaction markers to the partitions of a
	// transaction, as the WriteTxnMarkers API (key 27) does; it is called
	// from the runtime's own goroutines. A Go error or a retriable error
	// code is retried after MarkerRetryBackoff.
	WriteTxnMarkers func(ctx context.Context, req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error)
	// MarkerRetryBackoff is the wait before writing markers again; 0
	// means 100ms.
	MarkerRetryBackoff time.Duration
	Logger             *slog.Logger
}

// TxnCommand runs one request against a shard's transaction
// coordinator. Like Command it must be a pure function of its request and
// the coordinator.
type TxnCommand = func(c *txn.Coordinator) txn.Result

// Transactions runs the transaction coordinators: one shard per partition
// of __transaction_state, with the same load, append, durability and
// timer machinery as the group coordinators. After a Result's records
// are durable it writes the Result's markers through WriteTxnMarkers,
// retrying until every partition has acknowledged, then submits
// CompleteMarkers to the shard. Safe for concurrent use.
type Transactions struct {
	opts TxnOptions
	e    *engine[txnMachine]

	mu       sync.Mutex
	inflight map[markerKey]bool // marker writers running
	writers  sync.WaitGroup
}

// markerKey identifies the markers of one transaction.
type markerKey struct {
	id     string
	pid    int64
	epoch  int16
	commit bool
}

// StartTransactions starts every shard; each loads its partition in the
// background.
func StartTransactions(opts TxnOptions) *Transactions {
	if opts.Clock == nil {
		opts.Clock = clock.Real
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MarkerRetryBackoff <= 0 {
		opts.MarkerRetryBackoff = 100 * time.Millisecond
	}
	t := &Transactions{opts: opts, inflight: map[markerKey]bool{}}
	t.e = newEngine(engineOptions[txnMachine]{
		topic: txn.Topic, kind: "transaction", partitions: opts.Partitions, clock: opts.Clock,
		logger: opts.Logger, partition: opts.Partition,
		newMachine: func(p, epoch int32) txnMachine {
			return txnMachine{c: txn.New(opts.Clock, opts.Txn), t: t, p: p, epoch: epoch}
		},
	})
	t.e.start()
	return t
}

// Partitions is the number of shards, transaction.state.log.num.partitions.
func (t *Transactions) Partitions() int32 { return t.opts.Partitions }

// PartitionsChanged is Runtime.PartitionsChanged for the transaction
// coordinators.
func (t *Transactions) PartitionsChanged() { t.e.partitionsChanged() }

// Submit queues cmd on the shard of partition p; the channel receives the
// response once, after the records it wrote are durable (or
// NOT_COORDINATOR if the shard could not serve it). It is an error for p
// to be out of range.
func (t *Transactions) Submit(ctx context.Context, p int32, cmd TxnCommand) (<-chan kmsg.Response, error) {
	return t.e.submit(ctx, p, func(m txnMachine, _ any) Output { return m.output(cmd(m.c)) })
}

// Close stops every shard and every marker writer, and returns once none
// will write again.
func (t *Transactions) Close() {
	t.e.close()
	t.writers.Wait()
}

// txnMachine adapts a txn.Coordinator to a shard.
type txnMachine struct {
	c     *txn.Coordinator
	t     *Transactions
	p     int32
	epoch int32 // the partition's leader epoch: the coordinator epoch
}

func (m txnMachine) Replay(h *record.Header, r *record.Record) error {
	if h.Attributes.Control() || h.Attributes.Transactional() {
		return nil
	}
	return m.c.Replay(txn.Record{Key: r.Key, Value: r.Value})
}

func (m txnMachine) Loaded() Output                       { return m.output(m.c.Loaded()) }
func (m txnMachine) Unload() Output                       { return m.output(m.c.Unload()) }
func (m txnMachine) Tick() Output                         { return m.output(m.c.Tick()) }
func (m txnMachine) NextDeadline() (t time.Time, ok bool) { return m.c.NextDeadline() }

func (m txnMachine) output(res txn.Result) Output {
	out := Output{Response: res.Response}
	if len(res.Records) > 0 {
		out.Records = make([]Record, len(res.Records))
		for i, r := range res.Records {
			out.Records[i] = Record{Key: r.Key, Value: r.Value}
		}
	}
	if len(res.Markers) > 0 {
		markers, p, epoch := res.Markers, m.p, m.epoch
		out.Durable = func() {
			for _, mk := range markers {
				m.t.writeMarkers(p, epoch, mk)
			}
		}
	}
	return out
}

// VerifyTxnPartitions is the partition leaders' check before they append
// transactional data (KIP-890): each listed partition is answered a Kafka
// error code, 0 when it may take the producer's data. With add false it
// is AddPartitionsToTxn v4 verify-only: NONE if the partition is in the
// open transaction, INVALID_TXN_STATE if not (the wire API answers
// TRANSACTION_ABORTABLE there, which Produce before v11 and
// TxnOffsetCommit before v5 cannot carry; callers translate as they need),
// or for every partition
// INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED, CONCURRENT_TRANSACTIONS,
// NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS. With add true (KIP-890
// part 2, Produce v12's implicit add) the partitions join the transaction
// — which starts if none is open — durably before the answer, and the
// transaction is marked as on transaction version 2. The error is ctx's
// when it ends first.
func (t *Transactions) VerifyTxnPartitions(ctx context.Context, transactionalID string, producerID int64, producerEpoch int16, add bool, partitions map[string][]int32) (map[string]map[int32]int16, error) {
	tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly = transactionalID, producerID, producerEpoch, !add
	topics := make([]string, 0, len(partitions))
	for topic := range partitions {
		topics = append(topics, topic)
	}
	sort.Strings(topics)
	for _, topic := range topics {
		rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
		rt.Topic, rt.Partitions = topic, partitions[topic]
		tx.Topics = append(tx.Topics, rt)
	}
	if t.Partitions() <= 0 {
		return nil, errNoShard
	}
	version := int16(4)
	if add {
		version = 5
	}
	ch, err := t.Submit(ctx, txn.PartitionFor(transactionalID, t.Partitions()), func(c *txn.Coordinator) txn.Result {
		return c.AddPartitionsToTxn(version, &tx)
	})
	if err != nil {
		return nil, err
	}
	var resp kmsg.Response
	select {
	case resp = <-ch:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	out := make(map[string]map[int32]int16, len(partitions))
	for _, rt := range resp.(*kmsg.AddPartitionsToTxnResponse).Transactions {
		for _, topic := range rt.Topics {
			if out[topic.Topic] == nil {
				out[topic.Topic] = map[int32]int16{}
			}
			for _, p := range topic.Partitions {
				code := p.ErrorCode
				if code == kerr.TransactionAbortable.Code {
					code = kerr.InvalidTxnState.Code
				}
				out[topic.Topic][p.Partition] = code
			}
		}
	}
	return out, nil
}
