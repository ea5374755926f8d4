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
	collect, err := h.fanOut(ctx, len(req.Groups),
		func(i int) int32 { return h.groupShard(req.Groups[i]) },
		func(items []int) groupCommand {
			sub := *req
			sub.Groups = nil
			for _, i := range items {
				sub.Groups = append(sub.Groups, req.Groups[i])
			}
			return func(c *group.Coordinator, from group.Caller) group.Result { return c.DescribeGroups(from, &sub) }
		})
	if err != nil {
		return nil, nil, err
	}
	return nil, func(ctx context.Context) (kmsg.Response, error) {
		answers, err := collect(ctx)
		if err != nil {
			return nil, err
		}
		byID := map[string]kmsg.DescribeGroupsResponseGroup{}
		for _, a := range answers {
			for _, g := range a.(*kmsg.DescribeGroupsResponse).Groups {
				byID[g.Group] = g
			}
		}
		resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
		for _, id := range req.Groups {
			resp.Groups = append(resp.Groups, byID[id])
		}
		return resp, nil
	}, nil
}
