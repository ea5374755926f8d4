package api

// DescribeTransactions (key 65), version 0 (KIP-664).
//
// Describes transactional ids, each by its own transaction coordinator,
// in request order: state, producer id and epoch, timeout, start time and
// partitions. An unknown id is TRANSACTIONAL_ID_NOT_FOUND.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/txn"
)

func init() { register(65, 0, 0, 0, (*Handlers).describeTransactions) }

func (h *Handlers) describeTransactions(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.DescribeTransactionsRequest)
	ids := req.TransactionalIDs
	collect, err := h.fanOutTxn(ctx, len(ids),
		func(i int) int32 { return h.txnShard(ids[i]) },
		func(items []int) txnCommand {
			sub := kmsg.NewPtrDescribeTransactionsRequest()
			sub.Version = req.Version
			for _, i := range items {
				sub.TransactionalIDs = append(sub.TransactionalIDs, ids[i])
			}
			return func(c *txn.Coordinator) txn.Result { return c.DescribeTransactions(sub) }
		})
	if err != nil {
		return nil, nil, err
	}
	return nil, func(ctx context.Context) (kmsg.Response, error) {
		answers, err := collect(ctx)
		if err != nil {
			return nil, err
		}
		byID := map[string]kmsg.DescribeTransactionsResponseTransactionState{}
		for _, a := range answers {
			for _, s := range a.(*kmsg.DescribeTransactionsResponse).TransactionStates {
				byID[s.TransactionalID] = s
			}
		}
		resp := req.ResponseKind().(*kmsg.DescribeTransactionsResponse)
		for _, id := range ids {
			resp.TransactionStates = append(resp.TransactionStates, byID[id])
		}
		return resp, nil
	}, nil
}
