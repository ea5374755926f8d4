package api

// SyncGroup (key 14), versions 0-5.
//
// Forwarded to the group's coordinator shard. The leader's request carries
// the assignment, which is written durably before anyone gets an answer;
// followers' requests wait for it. v3+ carry group.instance.id (KIP-345);
// v4 is flexible; v5 requests and answers name the protocol type and name
// (KIP-559).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/group"
)

func init() { register(14, 0, 0, 5, (*Handlers).syncGroup) }

func (h *Handlers) syncGroup(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.SyncGroupRequest)
	return h.coordinate(ctx, req.Group, func(c *group.Coordinator, from group.Caller) group.Result {
		return c.SyncGroup(from, req)
	})
}
