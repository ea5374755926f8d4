package api

// WriteTxnMarkers (key 27), versions 1-2 (Kafka 4.0 dropped v0; v2,
// KIP-1228, carries the transaction version).
//
// The transaction coordinator ends a transaction by writing a COMMIT or
// ABORT marker (a control batch) to every partition in it (KIP-98). For
// each marker and partition the broker appends the control batch with the
// producer id and epoch and the coordinator epoch, after the partition's
// checks: a producer epoch older than the partition's is
// INVALID_PRODUCER_EPOCH — under transaction version 2 (KIP-890 part 2)
// the marker's epoch must be newer, so a delayed marker cannot end a
// later transaction (KAFKA-17754), a retry at the same epoch after the
// transaction ended being accepted — and a coordinator epoch older than
// the last marker's is TRANSACTION_COORDINATOR_FENCED. An ABORT enters the
// segment's aborted-transaction index. Every partition's marker is
// appended first, in request order, then the answer waits until all are
// durable; per-partition errors are Kafka codes. Unknown partitions are
// UNKNOWN_TOPIC_OR_PARTITION. Markers for __consumer_offsets go to the
// group runtime (GroupTxnMarkers), which owns those logs, or are
// COORDINATOR_NOT_AVAILABLE without one.
//
// The coordinator in this process calls Handlers.WriteTxnMarkers directly;
// the wire API is what a coordinator on another broker uses.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/partition"
)

func init() { register(27, 1, 1, 2, (*Handlers).writeTxnMarkersHandler) }

// markerWait is one marker waiting to be acknowledged: an appended control
// batch to wait durable for, or a __consumer_offsets marker to hand to the
// group runtime.
type markerWait struct {
	p     *partition.Partition
	res   partition.AppendResult
	group *int32 // __consumer_offsets partition
	m     *kmsg.WriteTxnMarkersRequestMarker
	out   *kmsg.WriteTxnMarkersResponseMarkerTopicPartition
}

func (h *Handlers) writeTxnMarkersHandler(_ context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	resp, waits := h.appendTxnMarkers(r.(*kmsg.WriteTxnMarkersRequest))
	if len(waits) == 0 {
		return resp, nil, nil
	}
	return nil, func(ctx context.Context) (kmsg.Response, error) {
		h.waitTxnMarkers(ctx, waits)
		return resp, nil
	}, nil
}

// WriteTxnMarkers writes the markers of req and returns once every one is
// durable or failed, with a per-partition error code. The transaction
// coordinator of this broker calls it in process; it is safe for
// concurrent use. req.Version selects the response version only.
func (h *Handlers) WriteTxnMarkers(ctx context.Context, req *kmsg.WriteTxnMarkersRequest) *kmsg.WriteTxnMarkersResponse {
	resp, waits := h.appendTxnMarkers(req)
	h.waitTxnMarkers(ctx, waits)
	return resp
}

// appendTxnMarkers appends every marker of req to its data partitions and
// returns the response to fill and what is left to wait for.
func (h *Handlers) appendTxnMarkers(req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, []markerWait) {
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	var waits []markerWait
	resp.Markers = make([]kmsg.WriteTxnMarkersResponseMarker, len(req.Markers))
	for i := range req.Markers {
		m := &req.Markers[i]
		om := &resp.Markers[i]
		*om = kmsg.NewWriteTxnMarkersResponseMarker()
		om.ProducerID = m.ProducerID
		om.Topics = make([]kmsg.WriteTxnMarkersResponseMarkerTopic, len(m.Topics))
		for j, rt := range m.Topics {
			ot := &om.Topics[j]
			*ot = kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			ot.Topic = rt.Topic
			ot.Partitions = make([]kmsg.WriteTxnMarkersResponseMarkerTopicPartition, len(rt.Partitions))
			for k, part := range rt.Partitions {
				op := &ot.Partitions[k]
				*op = kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				op.Partition = part
				if rt.Topic == transactionStateTopic { // the coordinators' own log: never a transaction's
					op.ErrorCode = kerr.InvalidTopicException.Code
					continue
				}
				if rt.Topic == consumerOffsetsTopic {
					if h.GroupTxnMarkers == nil {
						op.ErrorCode = kerr.CoordinatorNotAvailable.Code
						continue
					}
					waits = append(waits, markerWait{group: &part, m: m, out: op})
					continue
				}
				p, ok := h.Partitions.Partition(rt.Topic, part)
				if !ok {
					op.ErrorCode = kerr.UnknownTopicOrPartition.Code
					continue
				}
				res, err := p.WriteMarker(partition.Marker{
					ProducerID: m.ProducerID, ProducerEpoch: m.ProducerEpoch, CoordinatorEpoch: m.CoordinatorEpoch,
					Commit: m.Committed, TransactionVersion: m.TransactionVersion,
				})
				if err != nil {
					op.ErrorCode = codeFor(err).Code
					continue
				}
				waits = append(waits, markerWait{p: p, res: res, m: m, out: op})
			}
		}
	}
	return resp, waits
}

// waitTxnMarkers waits for every appended marker to be durable and hands
// the __consumer_offsets ones to the group runtime, filling in errors.
func (h *Handlers) waitTxnMarkers(ctx context.Context, waits []markerWait) {
	for _, w := range waits {
		var err error
		if w.group != nil {
			err = h.GroupTxnMarkers.WriteTxnMarker(ctx, *w.group, w.m.ProducerID, w.m.ProducerEpoch, w.m.CoordinatorEpoch, w.m.Committed)
		} else {
			err = w.p.WaitAcked(ctx, w.res)
		}
		if err != nil {
			w.out.ErrorCode = codeFor(err).Code
		}
	}
}
