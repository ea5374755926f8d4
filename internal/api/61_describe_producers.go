package api

// DescribeProducers (key 61), version 0 (KIP-664).
//
// For each requested partition, the producers the partition's producer
// state holds: id, epoch, the last sequence of its latest batch (-1 for
// none), the time of its last append (ms), the coordinator epoch of its
// last transaction marker (-1 for none) and the first offset of its open
// transaction (-1 for none). Unknown partitions are
// UNKNOWN_TOPIC_OR_PARTITION. Producers are listed by id.

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(61, 0, 0, 0, now((*Handlers).describeProducers)) }

func (h *Handlers) describeProducers(_ context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.DescribeProducersRequest)
	resp := req.ResponseKind().(*kmsg.DescribeProducersResponse)
	for _, rt := range req.Topics {
		ot := kmsg.NewDescribeProducersResponseTopic()
		ot.Topic = rt.Topic
		for _, part := range rt.Partitions {
			op := kmsg.NewDescribeProducersResponseTopicPartition()
			op.Partition = part
			p, ok := h.Partitions.Partition(rt.Topic, part)
			if !ok {
				op.ErrorCode = kerr.UnknownTopicOrPartition.Code
				ot.Partitions = append(ot.Partitions, op)
				continue
			}
			entries := p.Producers()
			sort.Slice(entries, func(i, j int) bool { return entries[i].ProducerID < entries[j].ProducerID })
			for _, e := range entries {
				ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
				ap.ProducerID, ap.ProducerEpoch = e.ProducerID, int32(e.ProducerEpoch)
				ap.LastSequence, ap.LastTimestamp = -1, e.LastUpdateMs
				if n := len(e.Batches); n > 0 {
					ap.LastSequence = e.Batches[n-1].LastSeq
					ap.LastTimestamp = e.Batches[n-1].MaxTimestamp
				}
				ap.CoordinatorEpoch, ap.CurrentTxnStartOffset = e.CoordinatorEpoch, e.CurrentTxnFirstOffset
				op.ActiveProducers = append(op.ActiveProducers, ap)
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp, nil
}
