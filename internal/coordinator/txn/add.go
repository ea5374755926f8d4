package txn

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AddPartitionsToTxn (key 24) for one transaction, in the v4+ shape: the
// Response is a *kmsg.AddPartitionsToTxnResponse at version with one entry
// in Transactions. (The api package answers v0-3 requests from it.)
//
// Without VerifyOnly the partitions join the transaction, which starts
// (Ongoing, its timeout running) if none was open; the record is durable
// before the answer. Errors cover every partition: an unknown
// transactional id or another producer id INVALID_PRODUCER_ID_MAPPING, an
// old epoch PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v2, KIP-588),
// a transaction completing CONCURRENT_TRANSACTIONS. From version 5 an add
// comes from a partition leader for a KIP-890 part 2 producer (Produce
// v12, implicit add): the transaction is marked as on transaction version 2.
//
// With VerifyOnly (KIP-890 part 1, sent by partition leaders before they
// take transactional data) nothing is written: each partition is answered
// NONE if it is in the open transaction, else TRANSACTION_ABORTABLE, or
// the errors above.
func (c *Coordinator) AddPartitionsToTxn(version int16, tx *kmsg.AddPartitionsToTxnRequestTransaction) Result {
	resp := kmsg.NewPtrAddPartitionsToTxnResponse()
	resp.Version = version
	rt := kmsg.NewAddPartitionsToTxnResponseTransaction()
	rt.TransactionalID = tx.TransactionalID
	parts := map[tp]struct{}{}
	for _, t := range tx.Topics {
		for _, p := range t.Partitions {
			parts[tp{t.Topic, p}] = struct{}{}
		}
	}
	var codes func(tp) int16
	if tx.VerifyOnly {
		codes = c.verify(tx, parts)
	} else {
		err := fenced(c.add(tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, parts, version >= 5), version, 2)
		codes = func(tp) int16 { return errCode(err) }
	}
	for _, t := range tx.Topics {
		rtt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
		rtt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
			rp.Partition, rp.ErrorCode = p, codes(tp{t.Topic, p})
			rtt.Partitions = append(rtt.Partitions, rp)
		}
		rt.Topics = append(rt.Topics, rtt)
	}
	resp.Transactions = append(resp.Transactions, rt)
	return c.finish(resp)
}

// AddOffsetsToTxn (key 25): the __consumer_offsets partition of the
// group (offsetsPartition, which the caller computes) joins the
// transaction, so TxnOffsetCommit may write there; errors as
// AddPartitionsToTxn (INVALID_PRODUCER_EPOCH for PRODUCER_FENCED before
// v2).
func (c *Coordinator) AddOffsetsToTxn(req *kmsg.AddOffsetsToTxnRequest, offsetsTopic string, offsetsPartition int32) Result {
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	resp.Version = req.Version
	err := c.add(req.TransactionalID, req.ProducerID, req.ProducerEpoch, map[tp]struct{}{{offsetsTopic, offsetsPartition}: {}}, false)
	resp.ErrorCode = errCode(fenced(err, req.Version, 2))
	return c.finish(resp)
}

// check finds id's transaction for a request of producer pid at epoch.
func (c *Coordinator) check(id string, pid int64, epoch int16) (*txn, *kerr.Error) {
	if err := c.unavailable(); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, kerr.InvalidRequest
	}
	t := c.txns[id]
	switch {
	case t == nil || t.producerID != pid:
		return nil, kerr.InvalidProducerIDMapping
	case t.producerEpoch != epoch:
		return nil, kerr.ProducerFenced
	case t.state.preparing():
		return nil, kerr.ConcurrentTransactions
	}
	return t, nil
}

func (c *Coordinator) add(id string, pid int64, epoch int16, parts map[tp]struct{}, tv2 bool) *kerr.Error {
	t, err := c.check(id, pid, epoch)
	if err != nil {
		return err
	}
	if t.state == Ongoing && subset(parts, t.partitions) && (!tv2 || t.clientTV >= 2) {
		return nil
	}
	now := c.nowMs()
	next := t.clone()
	if t.state.completed() {
		next.startTime = now
		next.partitions = map[tp]struct{}{}
		next.clientTV = 0
	}
	if tv2 {
		next.clientTV = 2
	}
	next.state, next.updateTime = Ongoing, now
	for p := range parts {
		next.partitions[p] = struct{}{}
	}
	c.apply(id, &next)
	return nil
}

func (c *Coordinator) verify(tx *kmsg.AddPartitionsToTxnRequestTransaction, parts map[tp]struct{}) func(tp) int16 {
	t, err := c.check(tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch)
	if err != nil {
		return func(tp) int16 { return err.Code }
	}
	return func(p tp) int16 {
		if _, ok := t.partitions[p]; ok && t.state == Ongoing {
			return 0
		}
		return kerr.TransactionAbortable.Code
	}
}

func subset(a, b map[tp]struct{}) bool {
	for p := range a {
		if _, ok := b[p]; !ok {
			return false
		}
	}
	return true
}

func errCode(err *kerr.Error) int16 {
	if err == nil {
		return 0
	}
	return err.Code
}
