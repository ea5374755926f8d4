package api

// ListOffsets (key 2), versions 1-7.
//
// Per partition, the offset for a timestamp: -2 earliest (the log start
// offset), -1 latest (the high watermark, or the last stable offset under
// read_committed, v2+), -3 the record with the largest timestamp (v7,
// KIP-734), and otherwise the first record whose timestamp is at or after
// the one given; -1/-1 when there is none below the high watermark — below
// the last stable offset under read_committed (KIP-98), as Kafka's
// lastFetchableOffset. v4+ returns the leader epoch and checks
// CurrentLeaderEpoch (KIP-320).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/partition"
)

func init() { register(2, 1, 1, 7, now((*Handlers).listOffsets)) }

func (h *Handlers) listOffsets(_ context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		ot := kmsg.NewListOffsetsResponseTopic()
		ot.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			op := kmsg.NewListOffsetsResponseTopicPartition()
			op.Partition = rp.Partition
			if p, ok := h.Partitions.Partition(rt.Topic, rp.Partition); !ok {
				op.ErrorCode = kerr.UnknownTopicOrPartition.Code
			} else {
				listOffset(p, req.IsolationLevel, &rp, &op)
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp, nil
}

func listOffset(p *partition.Partition, isolation int8, rp *kmsg.ListOffsetsRequestTopicPartition, op *kmsg.ListOffsetsResponseTopicPartition) {
	epoch := p.LeaderEpoch()
	if rp.CurrentLeaderEpoch >= 0 && rp.CurrentLeaderEpoch != epoch {
		op.ErrorCode = kerr.FencedLeaderEpoch.Code
		if rp.CurrentLeaderEpoch > epoch {
			op.ErrorCode = kerr.UnknownLeaderEpoch.Code
		}
		return
	}
	op.LeaderEpoch = epoch
	hw := p.HighWatermark()
	fetchable := hw
	if isolation == 1 {
		fetchable = min(p.LastStableOffset(), hw)
	}
	op.Timestamp, op.Offset = -1, -1
	var err error
	var ok bool
	switch rp.Timestamp {
	case -2:
		op.Offset = p.Log().LogStartOffset()
	case -1:
		op.Offset = fetchable
	case -3:
		op.Offset, op.Timestamp, ok, err = p.Log().OffsetOfMaxTimestamp()
	default:
		if rp.Timestamp < 0 {
			op.ErrorCode = kerr.InvalidRequest.Code
			return
		}
		op.Offset, op.Timestamp, ok, err = p.Log().OffsetForTimestamp(rp.Timestamp)
	}
	if err != nil {
		op.ErrorCode = codeFor(err).Code
		return
	}
	if rp.Timestamp >= 0 || rp.Timestamp == -3 {
		if !ok || op.Offset >= fetchable {
			op.Offset, op.Timestamp = -1, -1
		}
	}
}
