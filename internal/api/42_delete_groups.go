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
	return fanOutGroups(h, ctx, req.Groups, func(id string) string { return id },
		func(sub []string) groupCommand {
			s := *req
			s.Groups = sub
			return func(c *group.Coordinator, from group.Caller) group.Result { return c.DeleteGroups(from, &s) }
		},
		func(r kmsg.Response) []kmsg.DeleteGroupsResponseGroup { return r.(*kmsg.DeleteGroupsResponse).Groups },
		func(g kmsg.DeleteGroupsResponseGroup) string { return g.Group },
		func(gs []kmsg.DeleteGroupsResponseGroup) kmsg.Response {
			resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
			resp.Groups = gs
			return resp
		})
}
