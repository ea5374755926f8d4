package api

// Produce (key 0), advertised 0-12, served 3-12.
//
// Versions 0-2 (message format v0/v1) are advertised only because
// librdkafka 2.0 turns compression off unless the Produce range contains v0
// (protocol.md §1.3, KAFKA-18659, as Apache Kafka 4.x does); a request at
// those versions closes the connection. v3+: each partition's records must
// be exactly one v2 batch (CORRUPT_MESSAGE otherwise), no larger than the
// topic's max.message.bytes (MESSAGE_TOO_LARGE). Batches keep the bytes the
// client sent; the broker rewrites only the header's offset, leader epoch
// and, for message.timestamp.type=LogAppendTime, the timestamp.
//
// acks=0 is never answered. acks=1 and acks=-1 (all) are answered once the
// batches are durable under the default sync flush policy: every partition
// of the request is appended first and then all wait together, so they
// share one group commit; TimeoutMillis bounds the wait
// (REQUEST_TIMED_OUT). v5+ returns the log start offset; v8+ has an error
// message field and per-record errors (record_errors, KIP-467): on a
// topic whose cleanup.policy includes compact every record needs a key,
// and a batch with keyless records is INVALID_RECORD listing each of
// them, as Kafka's LogValidator does. Internal topics (__consumer_offsets,
// __transaction_state) are the broker's own: INVALID_TOPIC_EXCEPTION, as
// Kafka answers.
//
// Transactions (KIP-98): transactional batches are appended as any other;
// the partition tracks each producer's open transaction, and a
// non-transactional batch from a producer whose transaction is open is
// INVALID_TXN_STATE. With a TxnVerifier wired and a transactional_id in
// the request, a producer's first transactional batch to a partition is
// appended only after the transaction coordinator confirmed the partition
// is in its transaction (KIP-890 part 1; produce_verify.go): a refusal is
// INVALID_TXN_STATE, a coordinator that cannot answer NOT_ENOUGH_REPLICAS
// (retriable, as Kafka translates it). Transactional batches of more than
// one producer in one request are INVALID_TXN_STATE. A request with
// transactional batches but no transactional_id is refused whole with
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as Kafka's KafkaApis does. Produce v12
// (KIP-890 part 2) is the same path with add=true: the coordinator adds
// the partition to the transaction itself, so a client that sees
// transaction.version 2 finalized sends no AddPartitionsToTxn. v12 is
// advertised whatever the feature level, as Kafka 4.x does; clients gate
// its use on the feature.

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/partition"
	"github.com/basketmq/basket/internal/record"
)

// maxProduceVersion is the highest Produce version served. v13 (topic
// ids) is not.
const maxProduceVersion = 12

func init() { register(0, 0, 3, maxProduceVersion, (*Handlers).produce) }

// produceWait is one appended batch waiting for its acknowledgement.
type produceWait struct {
	p   *partition.Partition
	res partition.AppendResult
	out *kmsg.ProduceResponseTopicPartition
}

// produce must not refer to the request's record bytes once it returns:
// the server hands the frame they alias to the next request (the Wait
// reads only the response and the append results).
func (h *Handlers) produce(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	im := h.Image()
	txnRefused := req.TransactionID == nil && hasTransactionalBatch(req)
	txn := h.startTxnVerification(ctx, req)
	var waits []produceWait
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		out := &resp.Topics[i]
		*out = kmsg.NewProduceResponseTopic()
		out.Topic = rt.Topic
		out.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		topic, topicOK := im.Topic(rt.Topic)
		for j, rp := range rt.Partitions {
			op := &out.Partitions[j]
			*op = kmsg.NewProduceResponseTopicPartition()
			op.Partition = rp.Partition
			p, ok := h.Partitions.Partition(rt.Topic, rp.Partition)
			switch {
			case txnRefused:
				op.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
				setMessage(op, "transactional records need the request's transactional id")
				continue
			case !topicOK || !ok:
				op.ErrorCode = kerr.UnknownTopicOrPartition.Code
				continue
			case isInternal(rt.Topic):
				op.ErrorCode = kerr.InvalidTopicException.Code
				setMessage(op, "cannot append to internal topic "+rt.Topic)
				continue
			case len(rp.Records) > int(h.MaxMessageBytes(topic)):
				op.ErrorCode = kerr.MessageTooLarge.Code
				setMessage(op, "batch of "+itoa(int32(len(rp.Records)))+" bytes exceeds max.message.bytes "+itoa(h.MaxMessageBytes(topic)))
				continue
			}
			res, err := txn.append(p, rt.Topic, rp.Partition, rp.Records)
			if err != nil {
				op.ErrorCode = codeFor(err).Code
				setMessage(op, err.Error())
				setRecordErrors(op, err)
				continue
			}
			op.BaseOffset, op.LogAppendTime, op.LogStartOffset = res.BaseOffset, res.LogAppendTime, res.LogStartOffset
			waits = append(waits, produceWait{p, res, op})
		}
	}
	if req.Acks == 0 { // never answered; on an error the client must notice
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode != 0 {
					return nil, nil, ErrCloseConnection
				}
			}
		}
		return nil, nil, nil
	}
	if len(waits) == 0 {
		return resp, nil, nil
	}
	return nil, func(ctx context.Context) (kmsg.Response, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Duration(max(req.TimeoutMillis, 0))*time.Millisecond)
		defer cancel()
		for _, w := range waits {
			if err := w.p.WaitAcked(ctx, w.res); err != nil {
				w.out.ErrorCode = codeFor(err).Code
				w.out.BaseOffset = -1
			}
		}
		return resp, nil
	}, nil
}

func setMessage(op *kmsg.ProduceResponseTopicPartition, msg string) { op.ErrorMessage = &msg }

// hasTransactionalBatch reports whether any partition's records start with
// a transactional batch header.
func hasTransactionalBatch(req *kmsg.ProduceRequest) bool {
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			if h, err := record.ParseHeader(rp.Records); err == nil && h.Attributes.Transactional() {
				return true
			}
		}
	}
	return false
}

// setRecordErrors lists the offending records of a batch refused for some
// of its records (Produce v8+ record_errors; older versions drop them).
func setRecordErrors(op *kmsg.ProduceResponseTopicPartition, err error) {
	var re *partition.RecordErrors
	if !errors.As(err, &re) {
		return
	}
	for _, r := range re.Records {
		e := kmsg.NewProduceResponseTopicPartitionErrorRecord()
		e.RelativeOffset = r.BatchIndex
		msg := r.Message
		e.ErrorMessage = &msg
		op.ErrorRecords = append(op.ErrorRecords, e)
	}
}
