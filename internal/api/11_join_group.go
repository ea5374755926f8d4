package api

// JoinGroup (key 11), versions 0-9.
//
// Forwarded to the coordinator shard of the group (coordinator/group has
// the rules); the answer usually waits until the join phase of the
// rebalance ends, up to the rebalance timeout. v1 adds the rebalance
// timeout; v4+ joins without a member id get MEMBER_ID_REQUIRED and an id
// to join with (KIP-394); v5+ carry group.instance.id for static members
// (KIP-345); v6 is flexible; v7+ answers name the protocol type and name
// (KIP-559); v8 adds a reason (KIP-800); v9 SkipAssignment for a returning
// static leader (KIP-814). Versions 0 and 1 are kept for librdkafka 2.0's
// feature checks (protocol.md §1.3), as Kafka 4.1 restored them.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/group"
)

func init() { register(11, 0, 0, 9, (*Handlers).joinGroup) }

func (h *Handlers) joinGroup(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.JoinGroupRequest)
	return h.coordinate(ctx, req.Group, func(c *group.Coordinator, from group.Caller) group.Result {
		return c.JoinGroup(from, req)
	})
}
