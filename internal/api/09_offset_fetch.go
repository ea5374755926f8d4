package api

// OffsetFetch (key 9), versions 1-9.
//
// Forwarded to the coordinator shard of each group. A null topic list
// (v2+) asks for every committed offset of the group; a partition with no
// commit is offset -1. v2 adds a group-level error; v5 leader epochs
// (KIP-320); v6 is flexible; v7 require_stable (KIP-447), which changes
// nothing until transactional commits exist; v8+ batch several groups
// (KIP-709), each routed to its own shard and answered in request order;
// v9 adds the KIP-848 member id and epoch, unused by classic groups.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/group"
)

func init() { register(9, 1, 1, 9, (*Handlers).offsetFetch) }

func (h *Handlers) offsetFetch(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.OffsetFetchRequest)
	if req.Version < 8 {
		return h.coordinate(ctx, req.Group, func(c *group.Coordinator, from group.Caller) group.Result {
			return c.OffsetFetch(from, req)
		})
	}
	return fanOutGroups(h, ctx, req.Groups, func(g kmsg.OffsetFetchRequestGroup) string { return g.Group },
		func(sub []kmsg.OffsetFetchRequestGroup) groupCommand {
			s := *req
			s.Groups = sub
			return func(c *group.Coordinator, from group.Caller) group.Result { return c.OffsetFetch(from, &s) }
		},
		func(r kmsg.Response) []kmsg.OffsetFetchResponseGroup { return r.(*kmsg.OffsetFetchResponse).Groups },
		func(g kmsg.OffsetFetchResponseGroup) string { return g.Group },
		func(gs []kmsg.OffsetFetchResponseGroup) kmsg.Response {
			resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
			resp.Groups = gs
			return resp
		})
}
