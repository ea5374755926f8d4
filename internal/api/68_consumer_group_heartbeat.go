package api

// ConsumerGroupHeartbeat (key 68), versions 0-1: the KIP-848 consumer
// group protocol.
//
// Forwarded to the group's coordinator shard with the broker's current
// metadata image, from which the coordinator resolves subscriptions
// (topic names, RE2 regexes) to topic ids and partition counts and sees
// topics created, deleted or grown. The coordinator answers at once:
// member id and epoch, the heartbeat interval
// (group.consumer.heartbeat.interval.ms) and, when it changed or the
// member joined, the member's assignment; errors carry Kafka's
// ErrorMessage. v0 joins get a member id from the coordinator; v1
// (KIP-1082) members name themselves and may subscribe by regex.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/group"
)

func init() { register(68, 0, 0, 1, (*Handlers).consumerGroupHeartbeat) }

func (h *Handlers) consumerGroupHeartbeat(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.ConsumerGroupHeartbeatRequest)
	img := topicImage{h.Image()}
	return h.coordinate(ctx, req.Group, func(c *group.Coordinator, from group.Caller) group.Result {
		return c.ConsumerGroupHeartbeat(from, req, img)
	})
}
