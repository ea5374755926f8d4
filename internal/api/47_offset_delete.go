package api

// OffsetDelete (key 47), version 0 (KIP-496).
//
// Forwarded to the group's coordinator shard: deletes committed offsets of
// topics the group does not consume (GROUP_SUBSCRIBED_TO_TOPIC for one it
// does, NON_EMPTY_GROUP for a non-consumer group with members).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/group"
)

func init() { register(47, 0, 0, 0, (*Handlers).offsetDelete) }

func (h *Handlers) offsetDelete(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.OffsetDeleteRequest)
	return h.coordinate(ctx, req.Group, func(c *group.Coordinator, from group.Caller) group.Result {
		return c.OffsetDelete(from, req)
	})
}
