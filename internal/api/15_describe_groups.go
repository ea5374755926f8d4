package api

// DescribeGroups (key 15), versions 0-5.
//
// Each group is described by its own coordinator shard; the answers come
// back in request order. An unknown group is Dead with no error (v6 would
// make it GROUP_ID_NOT_FOUND). Members' metadata and the protocol are
// shown for a Stable group only. v3 adds authorized operations (KIP-430;
// not computed, -2^31 as Kafka sends when not asked); v4 members'
// group.instance.id (KIP-345); v5 is flexible.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/group"
)

func init() { register(15, 0, 0, 5, (*Handlers).describeGroups) }

func (h *Handlers) describeGroups(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.DescribeGroupsRequest)
	return fanOutGroups(h, ctx, req.Groups, func(id string) string { return id },
		func(sub []string) groupCommand {
			s := *req
			s.Groups = sub
			return func(c *group.Coordinator, from group.Caller) group.Result { return c.DescribeGroups(from, &s) }
		},
		func(r kmsg.Response) []kmsg.DescribeGroupsResponseGroup {
			return r.(*kmsg.DescribeGroupsResponse).Groups
		},
		func(g kmsg.DescribeGroupsResponseGroup) string { return g.Group },
		func(gs []kmsg.DescribeGroupsResponseGroup) kmsg.Response {
			resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
			resp.Groups = gs
			return resp
		})
}
