package api

// FindCoordinator (key 10), versions 0-6.
//
// Every coordinator is this broker. The first group key creates
// __consumer_offsets (offsets.topic.num.partitions partitions, compacted),
// as Kafka does. For a group key (type 0) the answer is this node once the
// group's partition is open here; before that COORDINATOR_NOT_AVAILABLE,
// so the client asks again. The
// coordinator may still be loading, which the group APIs then report as
// COORDINATOR_LOAD_IN_PROGRESS. A transactional id (type 1) is answered
// the same way for its __transaction_state partition, which the first
// such key creates (transaction.state.log.num.partitions partitions,
// compacted); without a transaction coordinator it gets
// COORDINATOR_NOT_AVAILABLE. Other key types are INVALID_REQUEST, as in
// Kafka.
//
// v0 asks for a group only; v1 adds the key type and an error message;
// v3 is flexible; v4+ (KIP-699) batches keys in CoordinatorKeys with one
// answer per key; v5 (KIP-890) and v6 (KIP-932, share groups' keys) change
// nothing for these key types.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(10, 0, 0, 6, now((*Handlers).findCoordinator)) }

func (h *Handlers) findCoordinator(ctx context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	if req.Version >= 4 {
		for _, key := range req.CoordinatorKeys {
			c := kmsg.NewFindCoordinatorResponseCoordinator()
			c.Key = key
			c.NodeID, c.Host, c.Port, c.ErrorCode, c.ErrorMessage = h.coordinatorFor(ctx, req.CoordinatorType, key)
			resp.Coordinators = append(resp.Coordinators, c)
		}
		return resp, nil
	}
	resp.NodeID, resp.Host, resp.Port, resp.ErrorCode, resp.ErrorMessage = h.coordinatorFor(ctx, req.CoordinatorType, req.CoordinatorKey)
	return resp, nil
}

// coordinatorFor answers one key: the node, or -1 and an error.
func (h *Handlers) coordinatorFor(ctx context.Context, keyType int8, key string) (int32, string, int32, int16, *string) {
	fail := func(err *kerr.Error, msg string) (int32, string, int32, int16, *string) {
		return -1, "", -1, err.Code, &msg
	}
	switch keyType {
	case 0:
	case 1:
		if h.Txns == nil {
			return fail(kerr.CoordinatorNotAvailable, "transactions are not enabled on this broker")
		}
		if !h.createTransactionStateTopic(ctx) {
			return fail(kerr.CoordinatorNotAvailable, transactionStateTopic+" is not available")
		}
		if _, ok := h.Partitions.Partition(transactionStateTopic, h.txnShard(key)); !ok {
			return fail(kerr.CoordinatorNotAvailable, transactionStateTopic+" is not available yet")
		}
		return h.Node.ID, h.Node.Host, h.Node.Port, 0, nil
	default:
		return fail(kerr.InvalidRequest, "unknown coordinator type "+itoa(int32(keyType)))
	}
	if !h.createOffsetsTopic(ctx) {
		return fail(kerr.CoordinatorNotAvailable, consumerOffsetsTopic+" is not available")
	}
	if _, ok := h.Partitions.Partition(consumerOffsetsTopic, h.groupShard(key)); !ok {
		return fail(kerr.CoordinatorNotAvailable, consumerOffsetsTopic+" is not available yet")
	}
	return h.Node.ID, h.Node.Host, h.Node.Port, 0, nil
}
