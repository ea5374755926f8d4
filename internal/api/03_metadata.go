package api

// Metadata (key 3), versions 0-12.
//
// Returns this broker, the cluster id (v2+), the controller (v1+: this
// broker) and the requested topics with their partitions; v10+ carries topic
// ids, and v12 may ask for topics by id. A null topic list (v1+), or an
// empty one in v0, means every topic. A missing topic is auto-created with
// the broker defaults when auto.create.topics.enable is on and the request
// allows it (v4+ AllowAutoTopicCreation; always in v0-3); a partition whose
// log is not open yet is LEADER_NOT_AVAILABLE. Leader epochs are v7+.
// __consumer_offsets is marked internal (v1+); auto-created, it gets the
// group coordinators' partition count and config.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/controller"
	"github.com/basketmq/basket/internal/metadata"
)

func init() { register(3, 0, 0, 12, now((*Handlers).metadata)) }

func (h *Handlers) metadata(ctx context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	b := kmsg.NewMetadataResponseBroker()
	b.NodeID, b.Host, b.Port = h.Node.ID, h.Node.Host, h.Node.Port
	resp.Brokers = []kmsg.MetadataResponseBroker{b}
	resp.ClusterID = &h.Node.ClusterID
	resp.ControllerID = h.Node.ID

	im := h.Image()
	all := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	if all {
		for _, t := range im.Topics() {
			resp.Topics = append(resp.Topics, h.describeTopic(t))
		}
		return resp, nil
	}
	autoCreate := h.AutoCreateTopics && (req.Version < 4 || req.AllowAutoTopicCreation)
	for _, rt := range req.Topics {
		var t *metadata.Topic
		var ok bool
		if rt.Topic != nil {
			t, ok = im.Topic(*rt.Topic)
		} else {
			t, ok = im.TopicByID(metadata.UUID(rt.TopicID))
		}
		if ok {
			resp.Topics = append(resp.Topics, h.describeTopic(t))
			continue
		}
		mt := kmsg.NewMetadataResponseTopic()
		mt.Topic, mt.TopicID = rt.Topic, rt.TopicID
		switch {
		case rt.Topic == nil:
			mt.ErrorCode = kerr.UnknownTopicID.Code
		case controller.ValidateTopicName(*rt.Topic) != nil:
			mt.ErrorCode = kerr.InvalidTopicException.Code
		case autoCreate && isInternal(*rt.Topic):
			if h.createOffsetsTopic(ctx) {
				if t, ok := h.Image().Topic(*rt.Topic); ok {
					mt = h.describeTopic(t)
					break
				}
			}
			mt.ErrorCode = kerr.LeaderNotAvailable.Code
		case autoCreate:
			errs := h.Admin.CreateTopics(ctx, []controller.CreateTopic{{Name: *rt.Topic, Partitions: -1, ReplicationFactor: -1}}, false)
			if errs[0] != nil && errs[0].Code != kerr.TopicAlreadyExists {
				mt.ErrorCode = errs[0].Code.Code
				break
			}
			if t, ok := h.Image().Topic(*rt.Topic); ok {
				mt = h.describeTopic(t)
			} else {
				mt.ErrorCode = kerr.LeaderNotAvailable.Code
			}
		default:
			mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
		}
		resp.Topics = append(resp.Topics, mt)
	}
	return resp, nil
}

func (h *Handlers) describeTopic(t *metadata.Topic) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	name := t.Name
	mt.Topic, mt.TopicID, mt.IsInternal = &name, t.ID, isInternal(t.Name)
	for _, p := range t.Partitions {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition, mp.Leader, mp.LeaderEpoch = p.Partition, p.Leader, p.LeaderEpoch
		mp.Replicas, mp.ISR = p.Replicas, p.ISR
		if _, ok := h.Partitions.Partition(t.Name, p.Partition); !ok {
			mp.ErrorCode = kerr.LeaderNotAvailable.Code
		}
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}
