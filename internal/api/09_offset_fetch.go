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
	collect, err := h.fanOut(ctx, len(req.Groups),
		func(i int) int32 { return h.groupShard(req.Groups[i].Group) },
		func(items []int) groupCommand {
			sub := *req
			sub.Groups = nil
			for _, i := range items {
				sub.Groups = append(sub.Groups, req.Groups[i])
			}
			return func(c *group.Coordinator, from group.Caller) group.Result { return c.OffsetFetch(from, &sub) }
		})
	if err != nil {
		return nil, nil, err
	}
	return nil, func(ctx context.Context) (kmsg.Response, error) {
		answers, err := collect(ctx)
		if err != nil {
			return nil, err
		}
		byID := map[string]kmsg.OffsetFetchResponseGroup{}
		for _, a := range answers {
			for _, g := range a.(*kmsg.OffsetFetchResponse).Groups {
				byID[g.Group] = g
			}
		}
		resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
		for _, g := range req.Groups {
			resp.Groups = append(resp.Groups, byID[g.Group])
		}
		return resp, nil
	}, nil
}
