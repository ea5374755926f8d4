package txn

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeTransactions (key 65, v0) describes the listed transactional
// ids this coordinator owns, in request order: state, producer id and
// epoch, timeout, start time and partitions. An unknown id is
// TRANSACTIONAL_ID_NOT_FOUND, an empty one INVALID_REQUEST.
func (c *Coordinator) DescribeTransactions(req *kmsg.DescribeTransactionsRequest) Result {
	resp := req.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	resp.Version = req.Version
	for _, id := range req.TransactionalIDs {
		ds := kmsg.NewDescribeTransactionsResponseTransactionState()
		ds.TransactionalID = id
		t := c.txns[id]
		switch err := c.unavailable(); {
		case err != nil:
			ds.ErrorCode = err.Code
		case id == "":
			ds.ErrorCode = kerr.InvalidRequest.Code
		case t == nil:
			ds.ErrorCode = kerr.TransactionalIDNotFound.Code
		default:
			ds.State, ds.TimeoutMillis, ds.StartTimestamp = t.state.String(), t.timeoutMs, t.startTime
			ds.ProducerID, ds.ProducerEpoch = t.producerID, t.producerEpoch
			topics, byTopic := t.sortedPartitions()
			for _, name := range topics {
				dt := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
				dt.Topic, dt.Partitions = name, byTopic[name]
				ds.Topics = append(ds.Topics, dt)
			}
		}
		resp.TransactionStates = append(resp.TransactionStates, ds)
	}
	return c.finish(resp)
}

// ListTransactions (key 66, v0-1) lists this coordinator's transactional
// ids, sorted, filtered by state names (unknown names are returned in
// UnknownStateFilters; if every name is unknown nothing matches), by
// producer id and (v1) by running longer than DurationFilterMillis.
func (c *Coordinator) ListTransactions(req *kmsg.ListTransactionsRequest) Result {
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	resp.Version = req.Version
	if err := c.unavailable(); err != nil {
		resp.ErrorCode = err.Code
		return c.finish(resp)
	}
	var states map[State]bool
	for _, name := range req.StateFilters {
		s, ok := ParseState(name)
		if !ok {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, name)
			continue
		}
		if states == nil {
			states = map[State]bool{}
		}
		states[s] = true
	}
	if len(req.StateFilters) > 0 && states == nil {
		return c.finish(resp)
	}
	var pids map[int64]bool
	for _, p := range req.ProducerIDFilters {
		if pids == nil {
			pids = map[int64]bool{}
		}
		pids[p] = true
	}
	now := c.nowMs()
	for _, id := range c.sortedIDs() {
		t := c.txns[id]
		if (states != nil && !states[t.state]) || (pids != nil && !pids[t.producerID]) {
			continue
		}
		if req.Version >= 1 && req.DurationFilterMillis >= 0 && (t.startTime < 0 || now-t.startTime <= req.DurationFilterMillis) {
			continue
		}
		ls := kmsg.NewListTransactionsResponseTransactionState()
		ls.TransactionalID, ls.ProducerID, ls.TransactionState = id, t.producerID, t.state.String()
		resp.TransactionStates = append(resp.TransactionStates, ls)
	}
	return c.finish(resp)
}
