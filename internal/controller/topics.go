package controller

import (
	"context"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/basketmq/basket/internal/metadata"
)

// CreateTopic is one topic of a CreateTopics request.
type CreateTopic struct {
	Name              string
	Partitions        int32 // -1: num.partitions
	ReplicationFactor int16 // -1: the default (1 on a single node)
	Configs           map[string]*string
}

// ValidateTopicName applies Kafka's topic name rules: 1 to 249 characters
// of [a-zA-Z0-9._-], and neither "." nor "..".
func ValidateTopicName(name string) *Error {
	switch {
	case name == "":
		return errorf(kerr.InvalidTopicException, "topic name is empty")
	case name == "." || name == "..":
		return errorf(kerr.InvalidTopicException, "topic name cannot be %q", name)
	case len(name) > 249:
		return errorf(kerr.InvalidTopicException, "topic name is %d characters, the limit is 249", len(name))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return errorf(kerr.InvalidTopicException, "topic name %q contains %q; allowed are ASCII letters, digits, '.', '_' and '-'", name, r)
		}
	}
	return nil
}

// CreateTopics validates each topic and, unless validateOnly, creates the
// valid ones. It returns one error (nil for success) per topic, in order.
func (c *Controller) CreateTopics(ctx context.Context, topics []CreateTopic, validateOnly bool) []*Error {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Error, len(topics))
	im := c.store.Image()
	seen := map[string]string{} // normalized name -> name, for this request
	for i, t := range topics {
		if err := c.validateCreate(im, t, seen); err != nil {
			out[i] = err
			continue
		}
		seen[normalize(t.Name)] = t.Name
		if validateOnly {
			continue
		}
		if _, err := c.store.Commit(ctx, c.topicRecords(t)...); err != nil {
			out[i] = errorf(kerr.UnknownServerError, "committing topic %q: %v", t.Name, err)
		}
	}
	return out
}

func (c *Controller) validateCreate(im *metadata.Image, t CreateTopic, seen map[string]string) *Error {
	if err := ValidateTopicName(t.Name); err != nil {
		return err
	}
	if _, exists := im.Topic(t.Name); exists || seen[normalize(t.Name)] == t.Name {
		return errorf(kerr.TopicAlreadyExists, "topic %q already exists", t.Name)
	}
	collides := c.collision(im, t.Name)
	if other, ok := seen[normalize(t.Name)]; ok && collides == "" {
		collides = other
	}
	if collides != "" {
		return errorf(kerr.InvalidTopicException, "topic %q collides with existing topic %q: '.' and '_' are the same in metric names", t.Name, collides)
	}
	if t.Partitions == 0 || t.Partitions < -1 {
		return errorf(kerr.InvalidPartitions, "number of partitions must be at least 1, was %d", t.Partitions)
	}
	if t.ReplicationFactor != -1 && t.ReplicationFactor != 1 {
		return errorf(kerr.InvalidReplicationFactor, "replication factor %d is larger than the 1 available broker", t.ReplicationFactor)
	}
	if c.opts.ValidateTopicConfigs != nil {
		if err := c.opts.ValidateTopicConfigs(t.Configs); err != nil {
			return errorf(kerr.InvalidConfig, "%v", err)
		}
	}
	return nil
}

// collision finds an existing topic whose name differs from name only in
// '.' versus '_', which Kafka refuses because metric names merge them.
func (c *Controller) collision(im *metadata.Image, name string) string {
	norm := normalize(name)
	for _, t := range im.Topics() {
		if t.Name != name && normalize(t.Name) == norm {
			return t.Name
		}
	}
	return ""
}

func normalize(name string) string { return strings.ReplaceAll(name, ".", "_") }

func (c *Controller) topicRecords(t CreateTopic) []metadata.Record {
	n := t.Partitions
	if n == -1 {
		n = max(c.opts.DefaultPartitions, 1)
	}
	id := metadata.NewUUID()
	recs := []metadata.Record{{Topic: &metadata.TopicRecord{Name: t.Name, ID: id}}}
	for p := range n {
		recs = append(recs, metadata.Record{Partition: &metadata.PartitionRecord{
			TopicID: id, Partition: p, Replicas: []int32{c.opts.NodeID}, ISR: []int32{c.opts.NodeID}, Leader: c.opts.NodeID,
		}})
	}
	for k, v := range t.Configs {
		if v != nil {
			recs = append(recs, metadata.Record{Config: &metadata.ConfigRecord{ResourceType: metadata.ResourceTopic, ResourceName: t.Name, Name: k, Value: v}})
		}
	}
	return recs
}
