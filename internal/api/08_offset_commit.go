package api

// OffsetCommit (key 8), versions 2-9.
//
// Forwarded to the group's coordinator shard, which answers once the
// commit is durable: from a member of the current generation, or from a
// client outside any generation (generation -1, no member id: assign-mode
// consumers and admin tools) while the group is empty. Partitions of
// topics or partitions that do not exist get UNKNOWN_TOPIC_OR_PARTITION,
// as in Kafka, and are not committed. Metadata strings round-trip.
//
// v2-4 carry a retention time (per-commit expiry; KIP-211 dropped it in
// v5); v6 adds the committed leader epoch (KIP-320); v7 group.instance.id
// (KIP-345); v8 is flexible; v9 is the KIP-848 form, the same fields for a
// classic group. v0 and v1 (ZooKeeper-era commits) are not served; min 2
// still satisfies librdkafka 2.0's check (protocol.md §1.3).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/group"
)

func init() { register(8, 2, 2, 9, (*Handlers).offsetCommit) }

func (h *Handlers) offsetCommit(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.OffsetCommitRequest)
	im := h.Image()
	known := *req
	known.Topics = nil
	var unknown []kmsg.OffsetCommitResponseTopic
	for _, t := range req.Topics {
		topic, ok := im.Topic(t.Topic)
		kt := t
		kt.Partitions = nil
		ut := kmsg.NewOffsetCommitResponseTopic()
		ut.Topic = t.Topic
		for _, p := range t.Partitions {
			if ok && p.Partition >= 0 && int(p.Partition) < len(topic.Partitions) {
				kt.Partitions = append(kt.Partitions, p)
				continue
			}
			up := kmsg.NewOffsetCommitResponseTopicPartition()
			up.Partition, up.ErrorCode = p.Partition, kerr.UnknownTopicOrPartition.Code
			ut.Partitions = append(ut.Partitions, up)
		}
		if len(kt.Partitions) > 0 {
			known.Topics = append(known.Topics, kt)
		}
		if len(ut.Partitions) > 0 {
			unknown = append(unknown, ut)
		}
	}
	_, wait, err := h.coordinate(ctx, req.Group, func(c *group.Coordinator, from group.Caller) group.Result {
		return c.OffsetCommit(from, &known)
	})
	if err != nil || len(unknown) == 0 {
		return nil, wait, err
	}
	return nil, func(ctx context.Context) (kmsg.Response, error) {
		resp, err := wait(ctx)
		if err != nil {
			return nil, err
		}
		out := resp.(*kmsg.OffsetCommitResponse)
		out.Topics = append(out.Topics, unknown...)
		return out, nil
	}, nil
}
