package api

// Fetch (key 1), versions 4-12.
//
// For each partition: the whole batch containing the fetch offset and the
// batches after it, up to the high watermark (the durable offset under the
// default sync policy), at most PartitionMaxBytes per partition and MaxBytes
// in all — except that the first partition with data always gets at least
// one whole batch (KIP-74). An offset below the log start or above the
// high watermark is OFFSET_OUT_OF_RANGE, with the high watermark and log
// start offset so the client can reset.
//
// Long poll: with less than MinBytes available the request waits up to
// MaxWaitMillis and is woken as soon as any of its partitions' high
// watermark moves.
//
// read_committed (isolation level 1, KIP-98) returns whole batches only
// below the last stable offset — the first offset of the earliest
// transaction not yet decided, capped by the high watermark — with the
// aborted transactions (producer id, first offset) that overlap the
// returned data, from the segments' aborted-transaction indexes, so the
// client drops their records; control batches (markers) are returned as
// the log holds them. An offset between the last stable offset and the
// high watermark is answered with no data. read_uncommitted reads up to
// the high watermark with a null aborted list. LastStableOffset is set in
// every version.
//
// Fetch sessions (v7+, KIP-227): Basket declines to create sessions by
// answering SessionID 0, so clients keep sending full fetches; an
// incremental fetch naming a session is FETCH_SESSION_ID_NOT_FOUND.
// CurrentLeaderEpoch (v9+, KIP-320) newer than the partition's is
// UNKNOWN_LEADER_EPOCH, older is FENCED_LEADER_EPOCH.
//
// Record data is not copied: the response carries file regions of the
// segments (fetchResponse), which the server sends with sendfile.

import (
	"context"
	"reflect"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/partition"
)

func init() { register(1, 4, 4, 12, (*Handlers).fetch) }

func (h *Handlers) fetch(_ context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.FetchRequest)
	resp := &fetchResponse{FetchResponse: req.ResponseKind().(*kmsg.FetchResponse)}
	if req.Version >= 7 && req.SessionID != 0 {
		resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
		return resp, nil, nil
	}
	var wake []<-chan struct{}
	total := h.fill(req, resp, &wake)
	if total >= int(req.MinBytes) || req.MaxWaitMillis <= 0 || len(wake) == 0 {
		return resp, nil, nil
	}
	return nil, func(ctx context.Context) (kmsg.Response, error) {
		deadline := time.NewTimer(time.Duration(req.MaxWaitMillis) * time.Millisecond)
		defer deadline.Stop()
		for {
			cases := make([]reflect.SelectCase, 0, len(wake)+2)
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
				reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(deadline.C)})
			for _, ch := range wake {
				cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
			}
			chosen, _, _ := reflect.Select(cases)
			if chosen == 0 {
				return nil, ctx.Err()
			}
			wake = wake[:0]
			total := h.fill(req, resp, &wake)
			if chosen == 1 || total >= int(req.MinBytes) {
				return resp, nil
			}
		}
	}, nil
}

// fill reads every requested partition into resp and returns the bytes of
// record data; wake collects the channels that signal new data.
func (h *Handlers) fill(req *kmsg.FetchRequest, resp *fetchResponse, wake *[]<-chan struct{}) int {
	resp.Topics, resp.regions = resp.Topics[:0], resp.regions[:0]
	total := 0
	budget := int(req.MaxBytes)
	if budget <= 0 {
		budget = 1 << 30
	}
	for _, rt := range req.Topics {
		ot := kmsg.NewFetchResponseTopic()
		ot.Topic, ot.TopicID = rt.Topic, rt.TopicID
		regions := make([]log.Region, len(rt.Partitions))
		for i, rp := range rt.Partitions {
			op := kmsg.NewFetchResponseTopicPartition()
			op.Partition = rp.Partition
			p, ok := h.Partitions.Partition(rt.Topic, rp.Partition)
			if !ok {
				op.ErrorCode = kerr.UnknownTopicOrPartition.Code
				ot.Partitions = append(ot.Partitions, op)
				continue
			}
			*wake = append(*wake, p.Changed())
			regions[i] = h.fetchPartition(p, &rp, &op, min(int(rp.PartitionMaxBytes), budget-total), total == 0, req.IsolationLevel == 1)
			total += int(regions[i].Len)
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
		resp.regions = append(resp.regions, regions)
	}
	return total
}

// fetchPartition fills one partition's answer and returns the region of
// its record data (Len 0 for none). first allows exceeding maxBytes with a
// single batch, for the first partition with data.
func (h *Handlers) fetchPartition(p *partition.Partition, rp *kmsg.FetchRequestTopicPartition, op *kmsg.FetchResponseTopicPartition, maxBytes int, first, readCommitted bool) log.Region {
	hw := p.HighWatermark()
	op.HighWatermark, op.LastStableOffset, op.LogStartOffset = hw, min(p.LastStableOffset(), hw), p.Log().LogStartOffset()
	if rp.CurrentLeaderEpoch >= 0 {
		switch epoch := p.LeaderEpoch(); {
		case rp.CurrentLeaderEpoch > epoch:
			op.ErrorCode = kerr.UnknownLeaderEpoch.Code
			return log.Region{}
		case rp.CurrentLeaderEpoch < epoch:
			op.ErrorCode = kerr.FencedLeaderEpoch.Code
			return log.Region{}
		}
	}
	if rp.FetchOffset < op.LogStartOffset || rp.FetchOffset > hw {
		op.ErrorCode = kerr.OffsetOutOfRange.Code
		return log.Region{}
	}
	if maxBytes <= 0 && !first {
		return log.Region{}
	}
	var region log.Region
	var err error
	if readCommitted {
		region, err = p.Log().ReadUpTo(rp.FetchOffset, max(maxBytes, 1), op.LastStableOffset)
		op.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
	} else {
		region, err = p.Read(rp.FetchOffset, max(maxBytes, 1))
	}
	if err != nil {
		op.ErrorCode = codeFor(err).Code
		return log.Region{}
	}
	if !first && region.Len > int64(maxBytes) {
		return log.Region{}
	}
	if readCommitted && region.Len > 0 {
		for _, a := range p.AbortedTxns(rp.FetchOffset, op.LastStableOffset) {
			at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
			at.ProducerID, at.FirstOffset = a.ProducerID, a.FirstOffset
			op.AbortedTransactions = append(op.AbortedTransactions, at)
		}
	}
	return region
}
