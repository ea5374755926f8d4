package api

// DeleteTopics (key 20), versions 1-6 (Kafka 4.0's floor is 1).
//
// Deletes topics with their partitions and configs in one metadata commit;
// the replica manager then deletes their logs, so a topic created again
// under the same name gets a new id and starts empty. An unknown name is
// UNKNOWN_TOPIC_OR_PARTITION, an unknown id UNKNOWN_TOPIC_ID; an entry with
// both or neither of name and id, a name or id given twice (answered once),
// and a name and an id of the same topic are INVALID_REQUEST, as in Kafka's
// ControllerApis. With delete.topic.enable=false every topic gets
// TOPIC_DELETION_DISABLED. The request timeout is not enforced: deletion is
// one local commit.
//
// Versions: v1 adds throttle time; v2 only changed throttling (KIP-219); v3
// brings TOPIC_DELETION_DISABLED (KIP-322; INVALID_REQUEST before); v4 is
// flexible (KIP-482); v5 carries error messages (KIP-599); v6 names each
// topic by name or by id and returns topic ids (KIP-516). v1-5 name topics
// in TopicNames.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/controller"
	"github.com/basketmq/basket/internal/metadata"
)

func init() { register(20, 1, 1, 6, now((*Handlers).deleteTopics)) }

func (h *Handlers) deleteTopics(ctx context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	topics := req.Topics
	if req.Version < 6 {
		topics = make([]kmsg.DeleteTopicsRequestTopic, len(req.TopicNames))
		for i := range req.TopicNames {
			topics[i].Topic = &req.TopicNames[i]
		}
	}
	add := func(name *string, id [16]byte, code *kerr.Error, msg string) {
		rt := kmsg.NewDeleteTopicsResponseTopic()
		rt.Topic, rt.TopicID = name, id
		if code != nil {
			rt.ErrorCode, rt.ErrorMessage = code.Code, &msg
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if h.BrokerConfig != nil && !h.BrokerConfig.Bool("delete.topic.enable") {
		code := kerr.TopicDeletionDisabled
		if req.Version < 3 {
			code = kerr.InvalidRequest
		}
		for _, t := range topics {
			add(t.Topic, t.TopicID, code, "Topic deletion is disabled.")
		}
		return resp, nil
	}

	names, ids := map[string]int{}, map[[16]byte]int{}
	for _, t := range topics {
		if t.Topic != nil && t.TopicID == ([16]byte{}) {
			names[*t.Topic]++
		} else if t.Topic == nil && t.TopicID != ([16]byte{}) {
			ids[t.TopicID]++
		}
	}
	var todo []controller.DeleteTopic
	for _, t := range topics {
		hasID := t.TopicID != [16]byte{}
		switch {
		case t.Topic == nil && !hasID:
			add(nil, t.TopicID, kerr.InvalidRequest, "Neither topic name nor id were specified.")
		case t.Topic != nil && hasID:
			add(t.Topic, t.TopicID, kerr.InvalidRequest, "You may not specify both topic name and topic id.")
		case t.Topic != nil && names[*t.Topic] > 1:
			add(t.Topic, [16]byte{}, kerr.InvalidRequest, "Duplicate topic name.")
			names[*t.Topic] = 0 // answered once, as Kafka does
		case t.Topic == nil && ids[t.TopicID] > 1:
			add(nil, t.TopicID, kerr.InvalidRequest, "Duplicate topic id.")
			ids[t.TopicID] = 0
		case t.Topic != nil && names[*t.Topic] == 1:
			todo = append(todo, controller.DeleteTopic{Name: *t.Topic})
		case t.Topic == nil && ids[t.TopicID] == 1:
			todo = append(todo, controller.DeleteTopic{ID: metadata.UUID(t.TopicID)})
		}
	}
	for _, d := range h.Admin.DeleteTopics(ctx, todo) {
		var name *string
		if d.Name != "" {
			name = &d.Name
		}
		if d.Err != nil {
			add(name, d.ID, d.Err.Code, d.Err.Message)
		} else {
			add(name, d.ID, nil, "")
		}
	}
	return resp, nil
}
