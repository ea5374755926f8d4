package api

// DeleteGroups (key 42), versions 0-2.
//
// Each group is deleted by its own coordinator shard, with its committed
// offsets (a tombstone for each, then the group's), answered once the
// tombstones are durable; answers come back in request order.
// NON_EMPTY_GROUP for a group with members, GROUP_ID_NOT_FOUND for an
// unknown one. v2 is flexible.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/group"
)

func init() { register(42, 0, 0, 2, (*Handlers).deleteGroups) }

func (h *Handlers) deleteGroups(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.DeleteGroupsRequest)
	collect, err := h.fanOut(ctx, len(req.Groups),
		func(i int) int32 { return h.groupShard(req.Groups[i]) },
		func(items []int) groupCommand {
			sub := *req
			sub.Groups = nil
			for _, i := range items {
				sub.Groups = append(sub.Groups, req.Groups[i])
			}
			return func(c *group.Coordinator, from group.Caller) group.Result { return c.DeleteGroups(from, &sub) }
		})
	if err != nil {
		return nil, nil, err
	}
	return nil, func(ctx context.Context) (kmsg.Response, error) {
		answers, err := collect(ctx)
		if err != nil {
			return nil, err
		}
		byID := map[string]kmsg.DeleteGroupsResponseGroup{}
		for _, a := range answers {
			for _, g := range a.(*kmsg.DeleteGroupsResponse).Groups {
				byID[g.Group] = g
			}
		}
		resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
		for _, id := range req.Groups {
			resp.Groups = append(resp.Groups, byID[id])
		}
		return resp, nil
	}, nil
}
