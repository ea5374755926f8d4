package api

// Routing of the transaction APIs to the transaction coordinator shards
// (one per partition of __transaction_state), as group_routing.go does
// for groups: the first phase submits the command, so a connection's
// pipelined requests reach a coordinator in order, and the Wait returns
// the shard's answer once the records it wrote are durable.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/controller"
	"github.com/basketmq/basket/internal/coordinator/txn"
)

// txnCommand is one request run against a transaction coordinator.
type txnCommand = func(*txn.Coordinator) txn.Result

// transactionStateTopic is the internal topic of the transaction
// coordinators.
const transactionStateTopic = txn.Topic

// txnAPIs are the keys only the transaction coordinator serves. ApiVersions
// lists them only when Handlers.Txns is set.
var txnAPIs = map[int16]bool{24: true, 25: true, 26: true, 28: true, 65: true, 66: true}

// TransactionAPI reports whether key is served by the transaction
// coordinator alone, and so advertised only when Handlers.Txns is set.
func TransactionAPI(key int16) bool { return txnAPIs[key] }

// txnShard is the shard coordinating transactionalID.
func (h *Handlers) txnShard(transactionalID string) int32 {
	return txn.PartitionFor(transactionalID, h.Txns.Partitions())
}

// submitTxn queues cmd on shard p. Without a runtime the command runs on
// a coordinator that has given its partition up, which answers
// NOT_COORDINATOR in the request's own shape.
func (h *Handlers) submitTxn(ctx context.Context, p int32, cmd txnCommand) (<-chan kmsg.Response, error) {
	if h.Txns == nil {
		u := txn.New(clock.Real, txn.DefaultConfig())
		u.Unload()
		ch := make(chan kmsg.Response, 1)
		ch <- cmd(u).Response
		return ch, nil
	}
	return h.Txns.Submit(ctx, p, cmd)
}

// coordinateTxn serves a request of one transactional id: cmd runs on the
// id's shard and the Wait returns its answer.
func (h *Handlers) coordinateTxn(ctx context.Context, transactionalID string, cmd txnCommand) (kmsg.Response, Wait, error) {
	p := int32(0)
	if h.Txns != nil {
		p = h.txnShard(transactionalID)
	}
	ch, err := h.submitTxn(ctx, p, cmd)
	if err != nil {
		return nil, nil, err
	}
	return nil, func(ctx context.Context) (kmsg.Response, error) { return awaitGroup(ctx, ch) }, nil
}

// fanOutTxn submits one transaction command per shard, built by cmdFor
// from the indexes of the items that shard owns (every shard gets every
// item when shardOf is nil), and returns a function waiting for their
// answers (fanOutShards).
func (h *Handlers) fanOutTxn(ctx context.Context, n int, shardOf func(i int) int32, cmdFor func(items []int) txnCommand) (func(context.Context) ([]kmsg.Response, error), error) {
	shards := int32(0)
	if h.Txns != nil {
		shards = h.Txns.Partitions()
	}
	return fanOutShards(ctx, n, shards, shardOf, cmdFor, h.submitTxn)
}

// createTransactionStateTopic creates __transaction_state with the
// transaction coordinators' partition count and cleanup.policy=compact,
// as Kafka does for the first transactional id that needs a coordinator.
// It reports whether the topic exists now.
func (h *Handlers) createTransactionStateTopic(ctx context.Context) bool {
	if _, ok := h.Image().Topic(transactionStateTopic); ok {
		return true
	}
	if h.Txns == nil {
		return false
	}
	compact := "compact"
	errs := h.Admin.CreateTopics(ctx, []controller.CreateTopic{{
		Name: transactionStateTopic, Partitions: h.Txns.Partitions(), ReplicationFactor: -1,
		Configs: map[string]*string{"cleanup.policy": &compact},
	}}, false)
	if errs[0] != nil && errs[0].Code != kerr.TopicAlreadyExists {
		h.Logger.Error("creating "+transactionStateTopic, "err", errs[0])
		return false
	}
	_, ok := h.Image().Topic(transactionStateTopic)
	return ok
}
