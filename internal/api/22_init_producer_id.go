package api

// InitProducerId (key 22), versions 0-5.
//
// For idempotent producers (no transactional id): a new producer id, never
// handed out before (ids are reserved in blocks through the metadata log),
// with epoch 0. A producer that sends its current id and epoch (v3+,
// KIP-360) to recover also gets a fresh id. Transactional ids need the
// transaction coordinator, which does not exist yet: such requests get
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED with no producer id.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(22, 0, 0, 5, now((*Handlers).initProducerID)) }

func (h *Handlers) initProducerID(ctx context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp, nil
	}
	id, err := h.Admin.NextProducerID(ctx)
	if err != nil {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp, nil
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return resp, nil
}
