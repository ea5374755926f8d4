package api

// OffsetForLeaderEpoch (key 23), versions 2-4 (librdkafka 2.1+ sends v2;
// Kafka 4.0's floor is 2).
//
// Consumers use it to detect log truncation after a leader change
// (KIP-320): for a leader epoch, the end offset of that epoch. A single
// broker has had one leader epoch, 0, since each partition was created, so
// epoch 0 ends at the log end offset; an epoch above the current one, or
// below 0, is unknown (-1, -1). CurrentLeaderEpoch is checked as in Fetch
// (FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH). v3 adds ReplicaID; v4 is
// flexible.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(23, 2, 2, 4, now((*Handlers).offsetForLeaderEpoch)) }

func (h *Handlers) offsetForLeaderEpoch(_ context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	for _, rt := range req.Topics {
		ot := kmsg.NewOffsetForLeaderEpochResponseTopic()
		ot.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			op := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			op.Partition, op.LeaderEpoch, op.EndOffset = rp.Partition, -1, -1
			p, ok := h.Partitions.Partition(rt.Topic, rp.Partition)
			if !ok {
				op.ErrorCode = kerr.UnknownTopicOrPartition.Code
				ot.Partitions = append(ot.Partitions, op)
				continue
			}
			epoch := p.LeaderEpoch()
			switch {
			case rp.CurrentLeaderEpoch >= 0 && rp.CurrentLeaderEpoch > epoch:
				op.ErrorCode = kerr.UnknownLeaderEpoch.Code
			case rp.CurrentLeaderEpoch >= 0 && rp.CurrentLeaderEpoch < epoch:
				op.ErrorCode = kerr.FencedLeaderEpoch.Code
			case rp.LeaderEpoch >= 0 && rp.LeaderEpoch <= epoch:
				op.LeaderEpoch, op.EndOffset = epoch, p.Log().LogEndOffset()
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp, nil
}
