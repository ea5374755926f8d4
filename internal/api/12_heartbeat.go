package api

// Heartbeat (key 12), versions 0-4.
//
// Forwarded to the group's coordinator shard: it keeps the member's
// session alive and answers REBALANCE_IN_PROGRESS when the member must
// rejoin. v3+ carry group.instance.id (KIP-345); v4 is flexible.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/group"
)

func init() { register(12, 0, 0, 4, (*Handlers).heartbeat) }

func (h *Handlers) heartbeat(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.HeartbeatRequest)
	return h.coordinate(ctx, req.Group, func(c *group.Coordinator, from group.Caller) group.Result {
		return c.Heartbeat(from, req)
	})
}
