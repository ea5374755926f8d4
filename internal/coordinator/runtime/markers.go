package runtime

import (
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/txn"
)

// writeMarkers starts writing the markers of one transaction whose
// PrepareCommit or PrepareAbort is durable, unless a writer for them is
// already running (a reload resends the markers of every Prepare*
// transaction). It runs on a shard's goroutine and does not block.
func (t *Transactions) writeMarkers(p, coordinatorEpoch int32, m txn.Markers) {
	key := markerKey{m.TransactionalID, m.ProducerID, m.ProducerEpoch, m.Commit}
	t.mu.Lock()
	if t.inflight[key] || t.e.ctx.Err() != nil {
		t.mu.Unlock()
		return
	}
	t.inflight[key] = true
	t.writers.Add(1)
	t.mu.Unlock()
	go func() {
		defer t.writers.Done()
		defer func() {
			t.mu.Lock()
			delete(t.inflight, key)
			t.mu.Unlock()
		}()
		if !t.markUntilDone(coordinatorEpoch, m) {
			return
		}
		// An error means the runtime is closing; a reload resends the
		// markers of a transaction left in Prepare*.
		_, _ = t.e.submit(t.e.ctx, p, func(s txnMachine, _ any) Output { return s.output(s.c.CompleteMarkers(m)) })
	}()
}

// markUntilDone sends WriteTxnMarkers for the partitions not yet
// acknowledged until none is left; false if the runtime closed first.
//
// Per partition, as Kafka's TransactionMarkerRequestCompletionHandler:
// NONE is done; NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS(_AFTER_APPEND),
// REQUEST_TIMED_OUT, KAFKA_STORAGE_ERROR, NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS (a __consumer_offsets shard loading) and
// UNKNOWN_SERVER_ERROR are retried. UNKNOWN_TOPIC_OR_PARTITION (the topic
// was deleted: nothing left to mark), UNSUPPORTED_FOR_MESSAGE_FORMAT and
// UNSUPPORTED_VERSION count as done, as do INVALID_PRODUCER_EPOCH and
// TRANSACTION_COORDINATOR_FENCED (a newer epoch already wrote there),
// which are logged: the transaction must not hang in Prepare*. Every
// other code is retried.
func (t *Transactions) markUntilDone(coordinatorEpoch int32, m txn.Markers) bool {
	left := map[string][]int32{}
	for topic, ps := range m.Topics {
		left[topic] = slices.Clone(ps)
	}
	for attempt := 0; ; attempt++ {
		if t.e.ctx.Err() != nil {
			return false
		}
		if attempt > 0 {
			timer := t.opts.Clock.NewTimer(t.opts.MarkerRetryBackoff)
			select {
			case <-t.e.ctx.Done():
				timer.Stop()
				return false
			case <-timer.C():
			}
		}
		req := markersRequest(coordinatorEpoch, m, left)
		resp, err := t.opts.WriteTxnMarkers(t.e.ctx, req)
		if err != nil {
			t.opts.Logger.Warn("writing transaction markers failed; retrying", "transactional_id", m.TransactionalID, "err", err)
			continue
		}
		t.settle(m, left, resp)
		if len(left) == 0 {
			return true
		}
		if attempt%100 == 99 {
			t.opts.Logger.Warn("transaction markers still not written; retrying", "transactional_id", m.TransactionalID,
				"attempts", attempt+1, "partitions_left", left)
		}
	}
}

func markersRequest(coordinatorEpoch int32, m txn.Markers, left map[string][]int32) *kmsg.WriteTxnMarkersRequest {
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	req.Version = 2
	rm := kmsg.NewWriteTxnMarkersRequestMarker()
	rm.ProducerID, rm.ProducerEpoch, rm.Committed = m.ProducerID, m.ProducerEpoch, m.Commit
	rm.CoordinatorEpoch, rm.TransactionVersion = coordinatorEpoch, m.TransactionVersion
	topics := make([]string, 0, len(left))
	for topic := range left {
		topics = append(topics, topic)
	}
	sort.Strings(topics)
	for _, topic := range topics {
		rt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
		rt.Topic, rt.Partitions = topic, slices.Clone(left[topic])
		rm.Topics = append(rm.Topics, rt)
	}
	req.Markers = append(req.Markers, rm)
	return req
}

// settle removes from left the partitions resp finished.
func (t *Transactions) settle(m txn.Markers, left map[string][]int32, resp *kmsg.WriteTxnMarkersResponse) {
	for _, rm := range resp.Markers {
		if rm.ProducerID != m.ProducerID {
			continue
		}
		for _, rt := range rm.Topics {
			for _, rp := range rt.Partitions {
				if !markerDone(rp.ErrorCode) {
					continue
				}
				if rp.ErrorCode != 0 {
					t.opts.Logger.Warn("transaction marker not written; treating the partition as done",
						"transactional_id", m.TransactionalID, "topic", rt.Topic, "partition", rp.Partition,
						"err", kerr.ErrorForCode(rp.ErrorCode))
				}
				ps := slices.DeleteFunc(left[rt.Topic], func(p int32) bool { return p == rp.Partition })
				if len(ps) == 0 {
					delete(left, rt.Topic)
				} else {
					left[rt.Topic] = ps
				}
			}
		}
	}
}

func markerDone(code int16) bool {
	switch code {
	case 0, kerr.UnknownTopicOrPartition.Code, kerr.UnsupportedForMessageFormat.Code, kerr.UnsupportedVersion.Code,
		kerr.InvalidProducerEpoch.Code, kerr.TransactionCoordinatorFenced.Code:
		return true
	}
	return false
}
