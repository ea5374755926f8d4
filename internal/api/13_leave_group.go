package api

// LeaveGroup (key 13), versions 0-5.
//
// Forwarded to the group's coordinator shard. v0-2 remove one member by
// id; v3+ remove a batch by member id or group.instance.id, with an
// answer per member (KIP-345); v4 is flexible; v5 adds a reason (KIP-800).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/group"
)

func init() { register(13, 0, 0, 5, (*Handlers).leaveGroup) }

func (h *Handlers) leaveGroup(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.LeaveGroupRequest)
	return h.coordinate(ctx, req.Group, func(c *group.Coordinator, from group.Caller) group.Result {
		return c.LeaveGroup(from, req)
	})
}
