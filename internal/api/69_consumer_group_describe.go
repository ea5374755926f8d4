package api

// ConsumerGroupDescribe (key 69), versions 0-1: describes KIP-848
// consumer groups.
//
// Each group is described by its own coordinator shard; the answers come
// back in request order. Per group: state (Empty, Assigning, Reconciling,
// Stable), group and assignment epochs, the server assignor, and per
// member its subscription, current and target assignment (topic ids with
// names from the metadata image). A classic or unknown group is
// GROUP_ID_NOT_FOUND. Authorized operations are not computed (-2^31, as
// Kafka sends when not asked). v1 adds the member type (1: consumer
// protocol).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/group"
)

func init() { register(69, 0, 0, 1, (*Handlers).consumerGroupDescribe) }

func (h *Handlers) consumerGroupDescribe(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.ConsumerGroupDescribeRequest)
	img := topicImage{h.Image()}
	return fanOutGroups(h, ctx, req.Groups, func(id string) string { return id },
		func(sub []string) groupCommand {
			s := *req
			s.Groups = sub
			return func(c *group.Coordinator, from group.Caller) group.Result {
				return c.ConsumerGroupDescribe(from, &s, img)
			}
		},
		func(r kmsg.Response) []kmsg.ConsumerGroupDescribeResponseGroup {
			return r.(*kmsg.ConsumerGroupDescribeResponse).Groups
		},
		func(g kmsg.ConsumerGroupDescribeResponseGroup) string { return g.Group },
		func(gs []kmsg.ConsumerGroupDescribeResponseGroup) kmsg.Response {
			resp := req.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
			resp.Groups = gs
			return resp
		})
}
