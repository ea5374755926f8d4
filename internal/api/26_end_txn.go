package api

// EndTxn (key 26), versions 0-5.
//
// Commits or aborts the producer's open transaction on its transaction
// coordinator. The answer leaves once PrepareCommit (PrepareAbort) is
// durable; the coordinator then writes the markers to every partition of
// the transaction (WriteTxnMarkers) and, when all are acknowledged,
// CompleteCommit (CompleteAbort). Meanwhile the id's requests get
// CONCURRENT_TRANSACTIONS, so the next transaction starts only after the
// markers are written. Misuse: no transaction INVALID_TXN_STATE, an old
// epoch PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v2, KIP-588),
// another producer id INVALID_PRODUCER_ID_MAPPING.
//
// v3 is flexible. v5 (KIP-890 part 2, transaction version 2) bumps the
// producer epoch with every transaction and answers the producer id and
// epoch to use next; a delayed EndTxn of an earlier transaction is then
// fenced (KAFKA-17754). Clients send v5 only when ApiVersions finalizes
// transaction.version 2.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/txn"
)

func init() { register(26, 0, 0, 5, (*Handlers).endTxn) }

func (h *Handlers) endTxn(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.EndTxnRequest)
	return h.coordinateTxn(ctx, req.TransactionalID, func(c *txn.Coordinator) txn.Result { return c.EndTxn(req) })
}
