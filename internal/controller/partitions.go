package controller

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/basketmq/basket/internal/metadata"
)

// maxRecordsPerOp bounds the metadata records one admin request may write,
// as Kafka's controller does (QuorumController.MAX_RECORDS_PER_USER_OP), so a
// request for two billion partitions fails instead of exhausting memory.
const maxRecordsPerOp = 10000

// CreatePartitions is one topic of a CreatePartitions request.
type CreatePartitions struct {
	Topic string
	// Count is the total number of partitions wanted; it must exceed the
	// current count (partitions are never removed).
	Count int32
	// Assignment, when not nil, gives the replicas of each new partition,
	// one list per partition added.
	Assignment [][]int32
}

// CreatePartitions grows each topic to its Count and, unless validateOnly,
// commits the new partitions (one commit per topic); the replica manager
// then opens their logs. It returns one error (nil for success) per topic,
// in order, with Kafka's codes and messages.
func (c *Controller) CreatePartitions(ctx context.Context, topics []CreatePartitions, validateOnly bool) []*Error {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Error, len(topics))
	budget := maxRecordsPerOp
	for i, t := range topics {
		recs, err := c.partitionRecords(c.store.Image(), t)
		if err == nil && len(recs) > budget {
			err = errorf(kerr.PolicyViolation, "Unable to perform excessively large batch operation.")
		}
		if err != nil {
			out[i] = err
			continue
		}
		budget -= len(recs)
		if validateOnly {
			continue
		}
		if _, err := c.store.Commit(ctx, recs...); err != nil {
			out[i] = errorf(kerr.UnknownServerError, "committing partitions of %q: %v", t.Topic, err)
		}
	}
	return out
}

func (c *Controller) partitionRecords(im *metadata.Image, t CreatePartitions) ([]metadata.Record, *Error) {
	tp, ok := im.Topic(t.Topic)
	if !ok {
		return nil, errorf(kerr.UnknownTopicOrPartition, "topic %q does not exist", t.Topic)
	}
	have := int32(len(tp.Partitions))
	switch {
	case t.Count == have:
		return nil, errorf(kerr.InvalidPartitions, "Topic already has %d partition(s).", have)
	case t.Count < have:
		return nil, errorf(kerr.InvalidPartitions, "The topic %s currently has %d partition(s); %d would not be an increase.", t.Topic, have, t.Count)
	}
	add := int64(t.Count) - int64(have)
	if add > maxRecordsPerOp {
		return nil, errorf(kerr.PolicyViolation, "Unable to perform excessively large batch operation.")
	}
	if t.Assignment != nil && int64(len(t.Assignment)) != add {
		return nil, errorf(kerr.InvalidReplicaAssignment, "Attempted to add %d additional partition(s), but only %d assignment(s) were specified.", add, len(t.Assignment))
	}
	rf := 1
	if have > 0 {
		rf = len(tp.Partitions[0].Replicas)
	}
	for _, replicas := range t.Assignment {
		if err := c.checkAssignment(replicas, rf); err != nil {
			return nil, err
		}
	}
	recs := make([]metadata.Record, 0, add)
	for p := have; p < t.Count; p++ {
		recs = append(recs, metadata.Record{Partition: &metadata.PartitionRecord{
			TopicID: tp.ID, Partition: p, Replicas: []int32{c.opts.NodeID}, ISR: []int32{c.opts.NodeID}, Leader: c.opts.NodeID,
		}})
	}
	return recs, nil
}

// checkAssignment validates one manual replica list as Kafka's controller
// does; on a single node the only registered broker is this one.
func (c *Controller) checkAssignment(replicas []int32, rf int) *Error {
	if len(replicas) == 0 {
		return errorf(kerr.InvalidReplicaAssignment, "The manual partition assignment includes an empty replica list.")
	}
	seen := map[int32]bool{}
	for _, b := range replicas {
		if b != c.opts.NodeID {
			return errorf(kerr.InvalidReplicaAssignment, "The manual partition assignment includes broker %d, but no such broker is registered.", b)
		}
		if seen[b] {
			return errorf(kerr.InvalidReplicaAssignment, "The manual partition assignment includes the broker %d more than once.", b)
		}
		seen[b] = true
	}
	if len(replicas) != rf {
		return errorf(kerr.InvalidReplicaAssignment, "The manual partition assignment includes a partition with %d replica(s), but this is not consistent with previous partitions, which have %d replica(s).", len(replicas), rf)
	}
	return nil
}
