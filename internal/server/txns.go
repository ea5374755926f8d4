package server

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
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

// writeTxnMarkers is how the transaction coordinators write markers.
//
// PLACEHOLDER until the partition side of transactions (branch txnpart)
// merges: markers of __consumer_offsets partitions go to the group
// shards (runtime.Runtime.WriteTxnMarker), as the real handler will route
// them, but markers of data partitions are answered NONE WITHOUT being
// written, so read_committed consumers cannot tell committed from aborted
// data. That is why the transaction coordinator runs only with
// Config.EnableTransactions, which only tests set. On merge this becomes
//
//	func(ctx, req) { return b.handlers.WriteTxnMarkers(ctx, req), nil }
//
// and EnableTransactions defaults on.
func (b *Broker) writeTxnMarkers(ctx context.Context, req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error) {
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	for _, m := range req.Markers {
		rm := kmsg.NewWriteTxnMarkersResponseMarker()
		rm.ProducerID = m.ProducerID
		for _, t := range m.Topics {
			rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				rp.Partition = p
				if t.Topic == runtime.Topic {
					err := b.groups.WriteTxnMarker(ctx, p, m.ProducerID, m.ProducerEpoch, m.CoordinatorEpoch, m.Committed)
					if ke, ok := err.(*kerr.Error); ok {
						rp.ErrorCode = ke.Code
					} else if err != nil {
						rp.ErrorCode = kerr.RequestTimedOut.Code
					}
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			rm.Topics = append(rm.Topics, rt)
		}
		resp.Markers = append(resp.Markers, rm)
	}
	return resp, nil
}
