package api

// AddOffsetsToTxn (key 25), versions 0-4.
//
// The group's __consumer_offsets partition joins the producer's
// transaction on the transaction coordinator, so the producer may then
// send TxnOffsetCommit to the group coordinator. Errors as
// AddPartitionsToTxn: INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED
// (INVALID_PRODUCER_EPOCH before v2, KIP-588), CONCURRENT_TRANSACTIONS,
// NOT_COORDINATOR; an empty group id is INVALID_GROUP_ID. Without group
// coordinators: COORDINATOR_NOT_AVAILABLE. v3 is flexible; v4 (KIP-890)
// changes nothing here.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/txn"
)

func init() { register(25, 0, 0, 4, (*Handlers).addOffsetsToTxn) }

func (h *Handlers) addOffsetsToTxn(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.AddOffsetsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	switch {
	case req.Group == "":
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp, nil, nil
	case h.Groups == nil:
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp, nil, nil
	}
	p := h.groupShard(req.Group)
	return h.coordinateTxn(ctx, req.TransactionalID, func(c *txn.Coordinator) txn.Result {
		return c.AddOffsetsToTxn(req, consumerOffsetsTopic, p)
	})
}
