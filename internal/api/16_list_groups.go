package api

// ListGroups (key 16), versions 0-5.
//
// Asks every coordinator shard and lists their groups together, sorted by
// id. If a shard cannot answer (still loading: COORDINATOR_LOAD_IN_PROGRESS)
// its error is the response's, with the groups the others listed, as Kafka
// does. Before __consumer_offsets exists no shard hosts a partition, so
// none is asked and the list is empty with no error: Kafka asks only the
// coordinators of partitions it hosts (kafka-python 2.0.2 does not retry
// an error here). v3 is flexible; v4 filters by state (KIP-518); v5 by type
// (KIP-848): "classic" or "consumer" (KIP-848 groups).

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/group"
)

func init() { register(16, 0, 0, 5, (*Handlers).listGroups) }

func (h *Handlers) listGroups(ctx context.Context, r kmsg.Request) (kmsg.Response, Wait, error) {
	req := r.(*kmsg.ListGroupsRequest)
	if _, ok := h.Image().Topic(consumerOffsetsTopic); !ok {
		return req.ResponseKind(), nil, nil
	}
	collect, err := h.fanOut(ctx, 0, nil, func([]int) groupCommand {
		return func(c *group.Coordinator, from group.Caller) group.Result { return c.ListGroups(from, req) }
	})
	if err != nil {
		return nil, nil, err
	}
	return nil, func(ctx context.Context) (kmsg.Response, error) {
		answers, err := collect(ctx)
		if err != nil {
			return nil, err
		}
		resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
		for _, a := range answers {
			lr := a.(*kmsg.ListGroupsResponse)
			if resp.ErrorCode == 0 {
				resp.ErrorCode = lr.ErrorCode
			}
			resp.Groups = append(resp.Groups, lr.Groups...)
		}
		sort.Slice(resp.Groups, func(i, j int) bool { return resp.Groups[i].Group < resp.Groups[j].Group })
		return resp, nil
	}, nil
}
