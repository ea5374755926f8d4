package api

import (
	"context"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/config"
	"github.com/basketmq/basket/internal/controller"
	"github.com/basketmq/basket/internal/coordinator/group"
	"github.com/basketmq/basket/internal/metadata"
	"github.com/basketmq/basket/internal/partition"
)

// Node describes this broker to clients.
type Node struct {
	ID        int32
	Host      string // advertised
	Port      int32
	ClusterID string
}

// TopicAdmin makes metadata changes (the controller).
type TopicAdmin interface {
	CreateTopics(ctx context.Context, topics []controller.CreateTopic, validateOnly bool) []*controller.Error
	NextProducerID(ctx context.Context) (int64, error)
	DeleteTopics(ctx context.Context, topics []controller.DeleteTopic) []controller.DeletedTopic
	CreatePartitions(ctx context.Context, topics []controller.CreatePartitions, validateOnly bool) []*controller.Error
	AlterConfigs(ctx context.Context, alters []controller.AlterConfigs, validateOnly bool) []*controller.Error
}

// Partitions finds the partitions this broker hosts.
type Partitions interface {
	Partition(topic string, p int32) (*partition.Partition, bool)
}

// Groups runs the group coordinators, one shard per partition of
// __consumer_offsets (coordinator/runtime).
type Groups interface {
	// Partitions is offsets.topic.num.partitions.
	Partitions() int32
	// Submit queues cmd on shard p in call order; the channel receives
	// the answer once, after the records it wrote are durable.
	Submit(ctx context.Context, p int32, from group.Caller, cmd func(*group.Coordinator, group.Caller) group.Result) (<-chan kmsg.Response, error)
}

// Handlers serves the APIs. Fields are set once, before serving.
type Handlers struct {
	Node       Node
	Image      func() *metadata.Image
	Admin      TopicAdmin
	Partitions Partitions
	Logger     *slog.Logger
	// Groups serves the group APIs; nil answers them NOT_COORDINATOR
	// (FindCoordinator: COORDINATOR_NOT_AVAILABLE).
	Groups Groups

	// AutoCreateTopics is auto.create.topics.enable.
	AutoCreateTopics bool
	// MaxMessageBytes is a topic's max.message.bytes.
	MaxMessageBytes func(t *metadata.Topic) int32
	// BrokerConfig is the static broker configuration (server.properties
	// and overrides). DescribeConfigs reports it with the dynamic broker
	// configs of the image layered on top; AlterConfigs validates dynamic
	// changes against it.
	BrokerConfig *config.Broker
	// OffsetsTopicSegmentBytes (offsets.topic.segment.bytes) is the
	// segment.bytes __consumer_offsets is created with; 0 leaves the
	// default.
	OffsetsTopicSegmentBytes int32
}
