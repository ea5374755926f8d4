package metadata

import (
	"encoding/json"
	"fmt"
)

// Record is one metadata change. Exactly one field is set.
type Record struct {
	Topic       *TopicRecord       `json:"topic,omitempty"`
	Partition   *PartitionRecord   `json:"partition,omitempty"`
	Config      *ConfigRecord      `json:"config,omitempty"`
	RemoveTopic *RemoveTopicRecord `json:"remove_topic,omitempty"`
	ProducerIDs *ProducerIDsRecord `json:"producer_ids,omitempty"`
}

// ProducerIDsRecord reserves the producer ids below NextProducerID: a
// broker hands out ids from a block only after the record reserving it is
// durable, so ids never repeat across restarts.
type ProducerIDsRecord struct {
	NextProducerID int64 `json:"next_producer_id"`
}

// TopicRecord creates a topic. Its partitions follow as PartitionRecords.
type TopicRecord struct {
	Name string `json:"name"`
	ID   UUID   `json:"id"`
}

// PartitionRecord creates or changes one partition of a topic.
type PartitionRecord struct {
	TopicID     UUID    `json:"topic_id"`
	Partition   int32   `json:"partition"`
	Replicas    []int32 `json:"replicas"`
	ISR         []int32 `json:"isr"`
	Leader      int32   `json:"leader"`
	LeaderEpoch int32   `json:"leader_epoch"`
}

// ConfigRecord sets (Value non-nil) or removes (Value nil) one config of a
// resource: a topic by name, or a broker by id ("" for the cluster default).
type ConfigRecord struct {
	ResourceType ResourceType `json:"resource_type"`
	ResourceName string       `json:"resource_name"`
	Name         string       `json:"name"`
	Value        *string      `json:"value"`
}

// RemoveTopicRecord deletes a topic, its partitions and its configs.
type RemoveTopicRecord struct {
	ID UUID `json:"id"`
}

// ResourceType is Kafka's config resource type code.
type ResourceType int8

// The resource types configs attach to (Kafka's DescribeConfigs codes).
const (
	ResourceTopic  ResourceType = 2
	ResourceBroker ResourceType = 4
)

// Encode renders a record for the metadata log.
func (r Record) Encode() ([]byte, error) {
	if r.count() != 1 {
		return nil, fmt.Errorf("metadata record must set exactly one kind, has %d", r.count())
	}
	return json.Marshal(r)
}

// DecodeRecord parses a record written by Encode.
func DecodeRecord(b []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("metadata record: %w", err)
	}
	if r.count() != 1 {
		return r, fmt.Errorf("metadata record sets %d kinds, want exactly one", r.count())
	}
	return r, nil
}

func (r Record) count() int {
	n := 0
	for _, set := range []bool{r.Topic != nil, r.Partition != nil, r.Config != nil, r.RemoveTopic != nil, r.ProducerIDs != nil} {
		if set {
			n++
		}
	}
	return n
}
