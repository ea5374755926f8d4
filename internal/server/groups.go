package server

import (
	"github.com/basketmq/basket/internal/coordinator/group"
	"github.com/basketmq/basket/internal/coordinator/runtime"
	"github.com/basketmq/basket/internal/metadata"
)

// defaultOffsetsTopicPartitions is Kafka's offsets.topic.num.partitions.
const defaultOffsetsTopicPartitions = 50

// offsetsTopicPartitions is the partition count of __consumer_offsets:
// the existing topic's, or offsets.topic.num.partitions (0: Kafka's 50)
// for the topic FindCoordinator will create when the first group needs it.
func offsetsTopicPartitions(im *metadata.Image, partitions int32) int32 {
	if t, ok := im.Topic(runtime.Topic); ok {
		return int32(len(t.Partitions))
	}
	if partitions <= 0 {
		partitions = defaultOffsetsTopicPartitions
	}
	return partitions
}

// startGroups starts the group coordinator shards on the partitions of
// __consumer_offsets.
func (b *Broker) startGroups(partitions int32) *runtime.Runtime {
	gc := group.DefaultConfig()
	if b.cfg.Group != nil {
		gc = *b.cfg.Group
	}
	return runtime.Start(runtime.Options{
		Partitions: partitions,
		Group:      gc,
		Logger:     b.logger,
		Partition: func(p int32) (runtime.Log, int32, bool) {
			part, ok := b.replicas.Partition(runtime.Topic, p)
			if !ok {
				return nil, 0, false
			}
			return part.Log(), part.LeaderEpoch(), true
		},
	})
}
