package api

// DeleteRecords (key 21), versions 0-2.
//
// Advances a partition's log start offset: records below it are no longer
// served and whole segments below it are deleted. The offset -1 means the
// high watermark; an offset above the high watermark is OFFSET_OUT_OF_RANGE;
// one at or below the current log start changes nothing. The new log start
// offset (the low watermark) is persisted before the answer. A topic whose
// cleanup.policy lacks delete (compact alone) refuses with
// POLICY_VIOLATION, as Kafka's Partition.deleteRecordsOnLeader does. v2 is
// flexible.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(21, 0, 0, 2, now((*Handlers).deleteRecords)) }

func (h *Handlers) deleteRecords(_ context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	layers := h.configLayers()
	for _, rt := range req.Topics {
		ot := kmsg.NewDeleteRecordsResponseTopic()
		ot.Topic = rt.Topic
		deletable := true
		if t, ok := layers.im.Topic(rt.Topic); ok {
			deletable = layers.eff.ResolveTopic(t.Configs).Delete()
		}
		for _, rp := range rt.Partitions {
			op := kmsg.NewDeleteRecordsResponseTopicPartition()
			op.Partition, op.LowWatermark = rp.Partition, -1
			p, ok := h.Partitions.Partition(rt.Topic, rp.Partition)
			switch {
			case !ok:
				op.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case !deletable:
				op.ErrorCode = kerr.PolicyViolation.Code
			default:
				offset, hw := rp.Offset, p.HighWatermark()
				if offset == -1 {
					offset = hw
				}
				if offset < 0 || offset > hw {
					op.ErrorCode = kerr.OffsetOutOfRange.Code
					break
				}
				low, err := p.Log().DeleteRecords(max(offset, p.Log().LogStartOffset()))
				if err != nil {
					op.ErrorCode = codeFor(err).Code
					break
				}
				op.LowWatermark = low
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp, nil
}
