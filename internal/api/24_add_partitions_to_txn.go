package api

// AddPartitionsToTxn (key 24), versions 0-5.
//
// v0-3 (producers): the partitions join the producer's open transaction,
// which starts with the first add; the answer waits until the
// transaction coordinator's record is durable. A partition of a topic
// that does not exist is UNKNOWN_TOPIC_OR_PARTITION and then every other
// partition OPERATION_NOT_ATTEMPTED, nothing being added, as in Kafka.
// Coordinator errors (INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED — or
// INVALID_PRODUCER_EPOCH before v2, KIP-588 — CONCURRENT_TRANSACTIONS,
// NOT_COORDINATOR) cover every partition.
//
// v4-5 (KIP-890, from partition leaders): transactions batched, each
// routed to its own coordinator; VerifyOnly checks without adding (each
// partition NONE, or TRANSACTION_ABORTABLE if it was never added); v5
// marks an add as coming from a transaction version 2 producer (Produce
// v12's implicit add). v3 is flexible.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/txn"
)

func init() { register(24, 0, 0, 5, (*Handlers).addPartitionsToTxn) }

func (h *Handlers) addPartitionsToTxn(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.AddPartitionsToTxnRequest)
	if req.Version >= 4 {
		return h.addPartitionsBatched(ctx, req)
	}
	tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch = req.TransactionalID, req.ProducerID, req.ProducerEpoch
	unknown := false
	for _, t := range req.Topics {
		if _, ok := h.Image().Topic(t.Topic); !ok {
			unknown = true
		}
		rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
		rt.Topic, rt.Partitions = t.Topic, t.Partitions
		tx.Topics = append(tx.Topics, rt)
	}
	if unknown {
		return h.addPartitionsAnswer(req, func(topic string, _ int32) int16 {
			if _, ok := h.Image().Topic(topic); !ok {
				return kerr.UnknownTopicOrPartition.Code
			}
			return kerr.OperationNotAttempted.Code
		}), nil, nil
	}
	_, wait, err := h.coordinateTxn(ctx, req.TransactionalID, func(c *txn.Coordinator) txn.Result {
		return c.AddPartitionsToTxn(req.Version, &tx)
	})
	if err != nil {
		return nil, nil, err
	}
	return nil, func(ctx context.Context) (kmsg.Response, error) {
		resp, err := wait(ctx)
		if err != nil {
			return nil, err
		}
		codes := map[string]map[int32]int16{}
		for _, rt := range resp.(*kmsg.AddPartitionsToTxnResponse).Transactions {
			for _, t := range rt.Topics {
				codes[t.Topic] = map[int32]int16{}
				for _, p := range t.Partitions {
					codes[t.Topic][p.Partition] = p.ErrorCode
				}
			}
		}
		return h.addPartitionsAnswer(req, func(topic string, p int32) int16 { return codes[topic][p] }), nil
	}, nil
}

// addPartitionsAnswer is the v0-3 response with code(topic, partition)
// for each asked partition.
func (h *Handlers) addPartitionsAnswer(req *kmsg.AddPartitionsToTxnRequest, code func(string, int32) int16) *kmsg.AddPartitionsToTxnResponse {
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewAddPartitionsToTxnResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p, code(t.Topic, p)
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// addPartitionsBatched serves v4+: each transaction on its coordinator,
// the answers in request order.
func (h *Handlers) addPartitionsBatched(ctx context.Context, req *kmsg.AddPartitionsToTxnRequest) (kmsg.Response, Wait, error) {
	collect, err := h.fanOutTxn(ctx, len(req.Transactions),
		func(i int) int32 { return h.txnShard(req.Transactions[i].TransactionalID) },
		func(items []int) txnCommand {
			return func(c *txn.Coordinator) txn.Result {
				var merged txn.Result
				out := kmsg.NewPtrAddPartitionsToTxnResponse()
				out.Version = req.Version
				for _, i := range items {
					res := c.AddPartitionsToTxn(req.Version, &req.Transactions[i])
					merged.Records = append(merged.Records, res.Records...)
					merged.Markers = append(merged.Markers, res.Markers...)
					out.Transactions = append(out.Transactions, res.Response.(*kmsg.AddPartitionsToTxnResponse).Transactions...)
				}
				merged.Response = out
				return merged
			}
		})
	if err != nil {
		return nil, nil, err
	}
	return nil, func(ctx context.Context) (kmsg.Response, error) {
		answers, err := collect(ctx)
		if err != nil {
			return nil, err
		}
		byID := map[string]kmsg.AddPartitionsToTxnResponseTransaction{}
		for _, a := range answers {
			for _, rt := range a.(*kmsg.AddPartitionsToTxnResponse).Transactions {
				byID[rt.TransactionalID] = rt
			}
		}
		resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
		for _, tx := range req.Transactions {
			resp.Transactions = append(resp.Transactions, byID[tx.TransactionalID])
		}
		return resp, nil
	}, nil
}
