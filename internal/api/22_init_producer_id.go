package api

// InitProducerId (key 22), versions 0-5.
//
// For idempotent producers (no transactional id): a new producer id, never
// handed out before (ids are reserved in blocks through the metadata log),
// with epoch 0. A producer that sends its current id and epoch (v3+,
// KIP-360) to recover also gets a fresh id.
//
// With a transactional id the request goes to the id's transaction
// coordinator (coordinator/txn): the id's producer id with the epoch
// bumped, fencing older producers (PRODUCER_FENCED, v4+; before v4
// INVALID_PRODUCER_EPOCH, KIP-588), aborting a transaction they left open
// (CONCURRENT_TRANSACTIONS until done), KIP-360 recovery with the current
// id and epoch, INVALID_TRANSACTION_TIMEOUT above
// transaction.max.timeout.ms. Without a transaction coordinator such
// requests get TRANSACTIONAL_ID_AUTHORIZATION_FAILED with no producer id.
//
// v2 is flexible; v3 adds ProducerId/ProducerEpoch (KIP-360); v4 allows
// PRODUCER_FENCED; v5 (KIP-890) changes nothing here.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/txn"
)

func init() { register(22, 0, 0, 5, (*Handlers).initProducerID) }

func (h *Handlers) initProducerID(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		if h.Txns == nil {
			resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
			return resp, nil, nil
		}
		return h.coordinateTxn(ctx, *req.TransactionalID, func(c *txn.Coordinator) txn.Result { return c.InitProducerID(req) })
	}
	id, err := h.Admin.NextProducerID(ctx)
	if err != nil {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp, nil, nil
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return resp, nil, nil
}
