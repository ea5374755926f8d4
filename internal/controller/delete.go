package controller

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/basketmq/basket/internal/metadata"
)

// DeleteTopic names one topic of a DeleteTopics request: by ID when ID is
// not zero, otherwise by Name.
type DeleteTopic struct {
	Name string
	ID   metadata.UUID
}

// DeletedTopic is the outcome for one DeleteTopic: the topic's name and id
// as far as they are known, and nil or the reason it was not deleted.
type DeletedTopic struct {
	Name string
	ID   metadata.UUID
	Err  *Error
}

// DeleteTopics removes the named topics, their partitions and their configs
// in one metadata commit; the replica manager then deletes their logs. It
// answers one result per topic, in order: UNKNOWN_TOPIC_OR_PARTITION for an
// unknown name, UNKNOWN_TOPIC_ID for an unknown id, and INVALID_REQUEST for
// every entry when a name and an id in the same request are the same topic.
// Callers reject exact duplicates (the same name or id twice) themselves.
func (c *Controller) DeleteTopics(ctx context.Context, topics []DeleteTopic) []DeletedTopic {
	c.mu.Lock()
	defer c.mu.Unlock()
	im := c.store.Image()
	out := make([]DeletedTopic, len(topics))
	first := map[metadata.UUID]int{} // topic id → first entry naming it
	for i, t := range topics {
		var tp *metadata.Topic
		var ok bool
		if t.ID.IsZero() {
			out[i].Name = t.Name
			if tp, ok = im.Topic(t.Name); !ok {
				out[i].Err = errorf(kerr.UnknownTopicOrPartition, "topic %q does not exist", t.Name)
				continue
			}
		} else {
			out[i].ID = t.ID
			if tp, ok = im.TopicByID(t.ID); !ok {
				out[i].Err = errorf(kerr.UnknownTopicID, "no topic has id %s", t.ID)
				continue
			}
		}
		out[i].Name, out[i].ID = tp.Name, tp.ID
		if j, dup := first[tp.ID]; dup {
			err := errorf(kerr.InvalidRequest, "The provided topic name maps to an ID that was already supplied.")
			out[i].Err, out[j].Err = err, err
			continue
		}
		first[tp.ID] = i
	}
	var recs []metadata.Record
	var deleting []int
	for i, r := range out {
		if r.Err == nil {
			recs = append(recs, metadata.Record{RemoveTopic: &metadata.RemoveTopicRecord{ID: r.ID}})
			deleting = append(deleting, i)
		}
	}
	if _, err := c.store.Commit(ctx, recs...); err != nil {
		for _, i := range deleting {
			out[i].Err = errorf(kerr.UnknownServerError, "committing the deletion: %v", err)
		}
	}
	return out
}
