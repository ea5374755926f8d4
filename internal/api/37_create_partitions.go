package api

// CreatePartitions (key 37), versions 0-3.
//
// Grows topics to a new partition count; partitions are never removed, so
// the same or a smaller count is INVALID_PARTITIONS with Kafka's message.
// Manual assignments must give one replica list per new partition, each
// naming this broker alone (INVALID_REPLICA_ASSIGNMENT otherwise, with
// Kafka's KRaft messages). validate_only checks without creating. A topic
// named twice in one request is INVALID_REQUEST, answered once. New
// partitions get logs before the response, so they are producible at once.
// v1 only changed throttling (KIP-219), v2 is flexible (KIP-482), v3 is the
// same as v2 (KIP-599 quotas). The request timeout is not enforced.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/controller"
)

func init() { register(37, 0, 0, 3, now((*Handlers).createPartitions)) }

func (h *Handlers) createPartitions(ctx context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	count := map[string]int{}
	for _, t := range req.Topics {
		count[t.Topic]++
	}
	errs := make([]*controller.Error, len(req.Topics))
	answer := make([]bool, len(req.Topics))
	var todo []controller.CreatePartitions
	var idx []int
	for i, t := range req.Topics {
		switch count[t.Topic] {
		case 0: // a repeat of a duplicate, already answered
			continue
		case 1:
			spec := controller.CreatePartitions{Topic: t.Topic, Count: t.Count}
			if t.Assignment != nil {
				spec.Assignment = make([][]int32, len(t.Assignment))
				for j, a := range t.Assignment {
					spec.Assignment[j] = a.Replicas
				}
			}
			todo, idx = append(todo, spec), append(idx, i)
		default:
			errs[i] = &controller.Error{Code: kerr.InvalidRequest, Message: "Duplicate topic name."}
			count[t.Topic] = 0
		}
		answer[i] = true
	}
	for j, e := range h.Admin.CreatePartitions(ctx, todo, req.ValidateOnly) {
		errs[idx[j]] = e
	}
	for i, t := range req.Topics {
		if !answer[i] {
			continue
		}
		rt := kmsg.NewCreatePartitionsResponseTopic()
		rt.Topic = t.Topic
		if e := errs[i]; e != nil {
			rt.ErrorCode, rt.ErrorMessage = e.Code.Code, &e.Message
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}
