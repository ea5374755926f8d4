package api

// TxnOffsetCommit (key 28), versions 0-5.
//
// Commits consumer offsets as part of a transaction (KIP-98, KIP-447).
// First the transaction coordinator confirms that AddOffsetsToTxn put the
// group's __consumer_offsets partition in the producer's open transaction
// (the KIP-890 verification): if not, every partition is answered
// INVALID_TXN_STATE; a stale epoch PRODUCER_FENCED (INVALID_PRODUCER_EPOCH
// before v3, KIP-588), an unknown producer INVALID_PRODUCER_ID_MAPPING.
// Then the group coordinator writes the offsets as a transactional batch:
// pending, invisible to OffsetFetch (UNSTABLE_OFFSET_COMMIT with
// require_stable), until the transaction's marker commits or drops them.
// v3+ carries the member id, generation and instance id, checked against
// the group (KIP-447). v3 is flexible. v5 (KIP-890 part 2, transaction
// version 2) adds the partition to the transaction implicitly instead of
// requiring AddOffsetsToTxn. v6 (topic ids) is not served.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/group"
)

func init() { register(28, 0, 0, 5, (*Handlers).txnOffsetCommit) }

func (h *Handlers) txnOffsetCommit(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.TxnOffsetCommitRequest)
	if code := h.verifyOffsetsPartition(ctx, req); code != 0 {
		resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
		for _, t := range req.Topics {
			rt := kmsg.NewTxnOffsetCommitResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, nil
	}
	return h.coordinate(ctx, req.Group, func(c *group.Coordinator, from group.Caller) group.Result {
		return c.TxnOffsetCommit(from, req)
	})
}

// verifyOffsetsPartition asks the transaction coordinator whether the
// group's partition is in the producer's transaction; 0 if it is, else
// the error code every partition gets.
func (h *Handlers) verifyOffsetsPartition(ctx context.Context, req *kmsg.TxnOffsetCommitRequest) int16 {
	switch {
	case req.Group == "":
		return kerr.InvalidGroupID.Code
	case h.Groups == nil || h.Txns == nil:
		return kerr.CoordinatorNotAvailable.Code
	}
	p := h.groupShard(req.Group)
	codes, err := h.Txns.VerifyTxnPartitions(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Version >= 5,
		map[string][]int32{consumerOffsetsTopic: {p}})
	if err != nil {
		return codeFor(err).Code
	}
	switch code := codes[consumerOffsetsTopic][p]; code {
	case kerr.ProducerFenced.Code:
		if req.Version < 3 {
			return kerr.InvalidProducerEpoch.Code
		}
		return code
	default:
		return code
	}
}
