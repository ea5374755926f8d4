package api

// ListTransactions (key 66), versions 0-1 (KIP-664; v1 KIP-994).
//
// Lists the transactional ids of every transaction coordinator of this
// broker, sorted, filtered by state names (unknown names come back in
// UnknownStateFilters), producer ids and (v1) by having run longer than
// DurationFilterMillis. While a coordinator is loading the answer is
// COORDINATOR_LOAD_IN_PROGRESS with what the others hold. Before the first
// transactional id created __transaction_state the list is empty. v2's
// transactional id pattern is not served.

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/txn"
)

func init() { register(66, 0, 0, 1, (*Handlers).listTransactions) }

func (h *Handlers) listTransactions(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.ListTransactionsRequest)
	if _, ok := h.Image().Topic(transactionStateTopic); !ok && h.Txns != nil {
		return req.ResponseKind(), nil, nil // no transactional id was ever used
	}
	collect, err := h.fanOutTxn(ctx, 1, nil, func([]int) txnCommand {
		return func(c *txn.Coordinator) txn.Result { return c.ListTransactions(req) }
	})
	if err != nil {
		return nil, nil, err
	}
	return nil, func(ctx context.Context) (kmsg.Response, error) {
		answers, err := collect(ctx)
		if err != nil {
			return nil, err
		}
		resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
		for i, a := range answers {
			lr := a.(*kmsg.ListTransactionsResponse)
			if i == 0 {
				resp.UnknownStateFilters = lr.UnknownStateFilters
			}
			switch lr.ErrorCode {
			case 0:
			case kerr.CoordinatorLoadInProgress.Code:
				resp.ErrorCode = lr.ErrorCode
			default:
				if resp.ErrorCode == 0 {
					resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
				}
			}
			resp.TransactionStates = append(resp.TransactionStates, lr.TransactionStates...)
		}
		sort.Slice(resp.TransactionStates, func(i, j int) bool {
			return resp.TransactionStates[i].TransactionalID < resp.TransactionStates[j].TransactionalID
		})
		return resp, nil
	}, nil
}
