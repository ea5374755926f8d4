package txn

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// InitProducerID (key 22) with a transactional id: the producer gets the
// id's producer id with its epoch bumped, which fences every older
// producer of the same transactional id (PRODUCER_FENCED on their next
// request). The first use of an id takes a new producer id, epoch 0.
//
//   - A transaction left Ongoing by an older producer is aborted first,
//     with the epoch bumped; the request is answered
//     CONCURRENT_TRANSACTIONS and the producer retries until the abort
//     completes (Kafka's PrepareEpochFence).
//   - PrepareCommit/PrepareAbort: CONCURRENT_TRANSACTIONS.
//   - KIP-360 (v3+): a producer giving its current id and epoch keeps its
//     id; a retry of a bump it never saw the answer of gets the same
//     epoch; an unknown id or epoch is PRODUCER_FENCED.
//   - An epoch at 32766 (exhausted) rotates to a new producer id, epoch 0.
//   - A timeout above transaction.max.timeout.ms, or not above 0:
//     INVALID_TRANSACTION_TIMEOUT. An empty transactional id:
//     INVALID_REQUEST.
//
// Requests without a transactional id are not the coordinator's. Before
// v4, PRODUCER_FENCED is answered INVALID_PRODUCER_EPOCH (KIP-588).
func (c *Coordinator) InitProducerID(req *kmsg.InitProducerIDRequest) Result {
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.Version = req.Version
	resp.ProducerID, resp.ProducerEpoch = noProducerID, noProducerEpoch
	err := c.initProducerID(req, resp)
	if err != nil {
		resp.ProducerID, resp.ProducerEpoch = noProducerID, noProducerEpoch
		resp.ErrorCode = fenced(err, req.Version, 4).Code
	}
	return c.finish(resp)
}

func (c *Coordinator) initProducerID(req *kmsg.InitProducerIDRequest, resp *kmsg.InitProducerIDResponse) *kerr.Error {
	if err := c.unavailable(); err != nil {
		return err
	}
	if req.TransactionalID == nil || *req.TransactionalID == "" {
		return kerr.InvalidRequest
	}
	if req.TransactionTimeoutMillis <= 0 || int64(req.TransactionTimeoutMillis) > c.cfg.MaxTimeout.Milliseconds() {
		return kerr.InvalidTransactionTimeout
	}
	id := *req.TransactionalID
	expected := req.Version >= 3 && (req.ProducerID != noProducerID || req.ProducerEpoch != noProducerEpoch)
	if expected && (req.ProducerID == noProducerID || req.ProducerEpoch == noProducerEpoch) {
		return kerr.InvalidRequest
	}
	now := c.nowMs()
	t := c.txns[id]
	if t == nil {
		pid, err := c.producerID()
		if err != nil {
			return err
		}
		t = &txn{meta: meta{producerID: pid, prevProducerID: noProducerID, nextProducerID: noProducerID,
			producerEpoch: noProducerEpoch, timeoutMs: req.TransactionTimeoutMillis, state: Empty,
			partitions: map[tp]struct{}{}, startTime: -1, updateTime: now}, lastProducerEpoch: noProducerEpoch}
	}
	if expected && !(t.producerEpoch == noProducerEpoch || req.ProducerID == t.producerID ||
		(req.ProducerID == t.prevProducerID && req.ProducerEpoch >= exhausted)) {
		return kerr.ProducerFenced
	}
	switch {
	case t.state.preparing():
		return kerr.ConcurrentTransactions
	case t.state == Ongoing:
		c.fenceAndAbort(id, c.txns[id])
		return kerr.ConcurrentTransactions
	}
	next := t.clone()
	next.state, next.partitions, next.startTime, next.updateTime = Empty, map[tp]struct{}{}, -1, now
	next.timeoutMs, next.nextProducerID = req.TransactionTimeoutMillis, noProducerID
	lastEpoch := int16(noProducerEpoch)
	switch {
	case t.producerEpoch >= exhausted && (!expected || req.ProducerEpoch == t.producerEpoch):
		pid, err := c.producerID()
		if err != nil {
			return err
		}
		next.prevProducerID, next.producerID, next.producerEpoch = t.producerID, pid, 0
		if expected {
			lastEpoch = t.producerEpoch
		}
	case !expected:
		next.producerEpoch++
	case t.producerEpoch == noProducerEpoch || req.ProducerEpoch == t.producerEpoch:
		next.producerEpoch++
		lastEpoch = t.producerEpoch
	case req.ProducerEpoch == t.lastProducerEpoch:
		lastEpoch = t.lastProducerEpoch // a retry: the same answer again
	default:
		return kerr.ProducerFenced
	}
	c.apply(id, &next)
	c.txns[id].lastProducerEpoch = lastEpoch
	c.txns[id].prevProducerID = next.prevProducerID // v0 records do not carry it
	resp.ProducerID, resp.ProducerEpoch = next.producerID, next.producerEpoch
	return nil
}

func (c *Coordinator) producerID() (int64, *kerr.Error) {
	if c.cfg.ProducerIDs == nil {
		return 0, kerr.CoordinatorNotAvailable
	}
	pid, err := c.cfg.ProducerIDs()
	if err != nil {
		return 0, kerr.CoordinatorNotAvailable
	}
	return pid, nil
}

// fenced maps PRODUCER_FENCED to INVALID_PRODUCER_EPOCH for request
// versions below since, which predate the error (KIP-588).
func fenced(err *kerr.Error, version, since int16) *kerr.Error {
	if err == kerr.ProducerFenced && version < since {
		return kerr.InvalidProducerEpoch
	}
	return err
}
