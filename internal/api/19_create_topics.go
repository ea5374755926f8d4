package api

// CreateTopics (key 19), versions 2-7 (Kafka 4.0's floor is 2).
//
// Validates each topic (name rules, partitions >= 1 or -1 for
// num.partitions, replication factor 1 or -1 on a single broker, configs)
// and creates the valid ones; validate_only checks without creating. Errors
// are per topic with a message. v5+ echoes partitions and replication
// factor; v7 returns the topic id. Manual replica assignments are accepted
// only when they name this broker alone.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/controller"
)

func init() { register(19, 2, 2, 7, now((*Handlers).createTopics)) }

func (h *Handlers) createTopics(ctx context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	specs := make([]controller.CreateTopic, len(req.Topics))
	preErr := make([]*controller.Error, len(req.Topics))
	for i, t := range req.Topics {
		specs[i] = controller.CreateTopic{Name: t.Topic, Partitions: t.NumPartitions, ReplicationFactor: t.ReplicationFactor, Configs: map[string]*string{}}
		for _, c := range t.Configs {
			specs[i].Configs[c.Name] = c.Value
		}
		if len(t.ReplicaAssignment) > 0 {
			if t.NumPartitions != -1 || t.ReplicationFactor != -1 {
				preErr[i] = &controller.Error{Code: kerr.InvalidRequest, Message: "both replica assignment and partitions/replication factor given"}
			}
			specs[i].Partitions, specs[i].ReplicationFactor = int32(len(t.ReplicaAssignment)), 1
			for _, a := range t.ReplicaAssignment {
				if len(a.Replicas) != 1 || a.Replicas[0] != h.Node.ID {
					preErr[i] = &controller.Error{Code: kerr.InvalidReplicaAssignment, Message: "replicas must name broker " + itoa(h.Node.ID) + " alone"}
				}
			}
		}
	}
	var todo []controller.CreateTopic
	var idx []int
	for i := range specs {
		if preErr[i] == nil {
			todo = append(todo, specs[i])
			idx = append(idx, i)
		}
	}
	errs := h.Admin.CreateTopics(ctx, todo, req.ValidateOnly)
	for j, e := range errs {
		preErr[idx[j]] = e
	}
	im := h.Image()
	for i, t := range req.Topics {
		rt := kmsg.NewCreateTopicsResponseTopic()
		rt.Topic = t.Topic
		if e := preErr[i]; e != nil {
			rt.ErrorCode, rt.ErrorMessage = e.Code.Code, &e.Message
		} else {
			rt.NumPartitions, rt.ReplicationFactor = specs[i].Partitions, 1
			if created, ok := im.Topic(t.Topic); ok {
				rt.TopicID = created.ID
				rt.NumPartitions = int32(len(created.Partitions))
			}
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}
