package txn

import (
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// EndTxn (key 26) commits or aborts the open transaction: PrepareCommit
// (PrepareAbort) is written and, once durable, the request is answered
// and the markers go out (Result.Markers); the owner calls
// CompleteMarkers when every partition has its marker. A transaction
// without partitions completes at once.
//
// Versions 0-4 (transaction version 1) keep the epoch: the request's
// epoch must be the current one (else PRODUCER_FENCED, or
// INVALID_PRODUCER_EPOCH before v2); a retry after completion of the same
// outcome is answered NONE, the other outcome or no transaction
// INVALID_TXN_STATE, a retry while completing CONCURRENT_TRANSACTIONS.
//
// Version 5 (KIP-890 part 2, transaction version 2) bumps the epoch with
// every transaction, and answers the producer id and epoch to use next
// (a new producer id, epoch 0, once the epoch is exhausted). A request
// with the epoch just before the current one is a retry: NONE if it
// matches the completed outcome. An abort without a transaction is
// allowed and bumps the epoch. Because each transaction has its own epoch,
// a delayed EndTxn of an earlier transaction is PRODUCER_FENCED and cannot
// end a later one (KAFKA-17754).
func (c *Coordinator) EndTxn(req *kmsg.EndTxnRequest) Result {
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	resp.Version = req.Version
	resp.ProducerID, resp.ProducerEpoch = noProducerID, noProducerEpoch
	var err *kerr.Error
	if req.Version >= 5 {
		err = c.endTxnV2(req, resp)
	} else {
		err = c.endTxnV1(req)
	}
	if err != nil {
		resp.ProducerID, resp.ProducerEpoch = noProducerID, noProducerEpoch
	}
	resp.ErrorCode = errCode(fenced(err, req.Version, 2))
	return c.finish(resp)
}

func (c *Coordinator) lookup(id string, pid int64) (*txn, *kerr.Error) {
	if err := c.unavailable(); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, kerr.InvalidRequest
	}
	t := c.txns[id]
	if t == nil {
		return nil, kerr.InvalidProducerIDMapping
	}
	return t, nil
}

func (c *Coordinator) endTxnV1(req *kmsg.EndTxnRequest) *kerr.Error {
	t, err := c.lookup(req.TransactionalID, req.ProducerID)
	switch {
	case err != nil:
		return err
	case t.producerID != req.ProducerID:
		return kerr.InvalidProducerIDMapping
	case t.producerEpoch != req.ProducerEpoch:
		return kerr.ProducerFenced
	}
	switch t.state {
	case Ongoing:
		c.prepare(req.TransactionalID, t, req.Commit, 1, false)
		return nil
	case CompleteCommit, CompleteAbort:
		if req.Commit == (t.state == CompleteCommit) {
			return nil
		}
	case PrepareCommit, PrepareAbort:
		if req.Commit == (t.state == PrepareCommit) {
			return kerr.ConcurrentTransactions
		}
	}
	return kerr.InvalidTxnState
}

func (c *Coordinator) endTxnV2(req *kmsg.EndTxnRequest, resp *kmsg.EndTxnResponse) *kerr.Error {
	t, err := c.lookup(req.TransactionalID, req.ProducerID)
	if err != nil {
		return err
	}
	retryOnOverflow := t.prevProducerID == req.ProducerID && req.ProducerEpoch == math.MaxInt16-1 && t.producerEpoch == 0
	retryOnBump := int32(t.producerEpoch) == int32(req.ProducerEpoch)+1
	if t.producerID != req.ProducerID && !retryOnOverflow {
		return kerr.InvalidProducerIDMapping
	}
	var valid bool
	switch t.state {
	case PrepareCommit, PrepareAbort:
		valid = retryOnBump
	case CompleteCommit, CompleteAbort:
		valid = retryOnBump || retryOnOverflow || req.ProducerEpoch == t.producerEpoch
	default:
		valid = req.ProducerEpoch == t.producerEpoch
	}
	if !valid {
		return kerr.ProducerFenced
	}
	retry := retryOnBump || retryOnOverflow
	begin := func(commit, noPartitions bool) *kerr.Error {
		if t.producerEpoch >= math.MaxInt16 {
			return kerr.ProducerFenced // cannot bump; the producer must re-initialise
		}
		next, err := c.prepare(req.TransactionalID, t, commit, 2, noPartitions)
		if err != nil {
			return err
		}
		resp.ProducerID, resp.ProducerEpoch = next.producerID, next.producerEpoch
		if next.nextProducerID != noProducerID {
			resp.ProducerID, resp.ProducerEpoch = next.nextProducerID, 0
		}
		return nil
	}
	switch t.state {
	case Ongoing:
		return begin(req.Commit, false)
	case Empty:
		if !req.Commit {
			return begin(false, true)
		}
	case CompleteCommit, CompleteAbort:
		sameOutcome := req.Commit == (t.state == CompleteCommit)
		switch {
		case retry && sameOutcome:
			resp.ProducerID, resp.ProducerEpoch = t.producerID, t.producerEpoch
			return nil
		case !retry && !req.Commit:
			return begin(false, true)
		}
	case PrepareCommit, PrepareAbort:
		if req.Commit == (t.state == PrepareCommit) {
			return kerr.ConcurrentTransactions
		}
	}
	return kerr.InvalidTxnState
}

// prepare writes PrepareCommit or PrepareAbort for t and queues its
// markers; a transaction without partitions completes in the same call.
// With transaction version 2 the epoch is bumped, and an exhausted epoch
// takes the next producer id (used once the transaction completes).
func (c *Coordinator) prepare(id string, t *txn, commit bool, tv int16, noPartitions bool) (*meta, *kerr.Error) {
	now := c.nowMs()
	next := t.clone()
	next.state, next.updateTime = PrepareAbort, now
	if commit {
		next.state = PrepareCommit
	}
	// The EndTxn's version decides the transaction version of the
	// markers: version 2 markers must carry a newer epoch than the data.
	next.clientTV = 0
	if tv >= 2 {
		next.clientTV = 2
		if t.producerEpoch >= exhausted {
			pid, err := c.producerID()
			if err != nil {
				return nil, err
			}
			next.nextProducerID = pid
		}
		next.producerEpoch++
		c.txns[id].lastProducerEpoch = t.producerEpoch
	}
	if noPartitions {
		next.startTime = now
		next.partitions = map[tp]struct{}{}
	}
	c.apply(id, &next)
	m := markersOf(id, &next)
	if len(next.partitions) == 0 {
		c.complete(m)
		return &next, nil
	}
	c.markers = append(c.markers, m)
	return &next, nil
}
