package server

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/controller"
	"github.com/basketmq/basket/internal/coordinator/runtime"
	"github.com/basketmq/basket/internal/coordinator/txn"
	"github.com/basketmq/basket/internal/metadata"
)

// defaultTransactionStatePartitions is Kafka's
// transaction.state.log.num.partitions.
const defaultTransactionStatePartitions = 50

// transactionStatePartitions is the partition count of
// __transaction_state: the existing topic's, or the configured count (0:
// Kafka's 50) for the topic FindCoordinator will create when the first
// transactional id needs it.
func transactionStatePartitions(im *metadata.Image, partitions int32) int32 {
	if t, ok := im.Topic(txn.Topic); ok {
		return int32(len(t.Partitions))
	}
	if partitions <= 0 {
		partitions = defaultTransactionStatePartitions
	}
	return partitions
}

// startTxns starts the transaction coordinator shards on the partitions
// of __transaction_state, taking producer ids from the controller.
func (b *Broker) startTxns(ctrl *controller.Controller, partitions int32) *runtime.Transactions {
	tc := txn.DefaultConfig()
	if b.cfg.Txn != nil {
		tc = *b.cfg.Txn
	}
	tc.ProducerIDs = func() (int64, error) { return ctrl.NextProducerID(b.ctx) }
	return runtime.StartTransactions(runtime.TxnOptions{
		Partitions: partitions, Txn: tc, Logger: b.logger,
		WriteTxnMarkers: b.writeTxnMarkers,
		Partition: func(p int32) (runtime.Log, int32, bool) {
			part, ok := b.replicas.Partition(txn.Topic, p)
			if !ok {
				return nil, 0, false
			}
			return part.Log(), part.LeaderEpoch(), true
		},
	})
}

// writeTxnMarkers is how the transaction coordinators write markers: in
// process, through the WriteTxnMarkers handler a cluster's coordinators
// will reach over the network, which routes markers of __consumer_offsets
// partitions to the group shards.
func (b *Broker) writeTxnMarkers(ctx context.Context, req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error) {
	return b.handlers.WriteTxnMarkers(ctx, req), nil
}
