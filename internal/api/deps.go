package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/config"
	"github.com/basketmq/basket/internal/controller"
	"github.com/basketmq/basket/internal/coordinator/group"
	"github.com/basketmq/basket/internal/coordinator/txn"
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

// TxnVerifier asks the transaction coordinator whether partitions belong to
// a producer's ongoing transaction (KIP-890 part 1), before the partition
// accepts the producer's first transactional batch: this is what keeps a
// late or misdirected batch from opening a transaction that nothing will
// ever end. The coordinator side (coordinator/txn) implements it in
// process.
type TxnVerifier interface {
	// VerifyTxnPartitions answers, for each topic and partition, 0 when
	// it is part of transactionalID's ongoing transaction at producerID
	// and producerEpoch, else the Kafka error code (INVALID_TXN_STATE,
	// INVALID_PRODUCER_EPOCH, PRODUCER_FENCED, CONCURRENT_TRANSACTIONS,
	// NOT_COORDINATOR, ...). add=true is Produce v12's implicit
	// AddPartitionsToTxn (KIP-890 part 2): the coordinator adds the
	// partitions instead of only checking. A partition missing from the
	// answer counts as INVALID_TXN_STATE; an error fails every partition
	// as COORDINATOR_NOT_AVAILABLE. It may block briefly; it must not
	// call back into the produce path.
	VerifyTxnPartitions(ctx context.Context, transactionalID string, producerID int64, producerEpoch int16, add bool, partitions map[string][]int32) (map[string]map[int32]int16, error)
}

// GroupTxnMarkers writes transaction markers to the partitions of
// __consumer_offsets, whose logs the group runtime owns: a COMMIT makes
// the transaction's TxnOffsetCommits visible, an ABORT drops them. The
// group runtime implements it.
type GroupTxnMarkers interface {
	// WriteTxnMarker appends the marker to __consumer_offsets partition
	// and returns once it is durable; an error is a Kafka error
	// (*kerr.Error) or a storage error.
	WriteTxnMarker(ctx context.Context, partition int32, producerID int64, producerEpoch int16, coordinatorEpoch int32, commit bool) error
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

	// TxnVerifier verifies transactional produce (KIP-890); nil accepts
	// transactional batches unverified, as Kafka before 3.6.
	TxnVerifier TxnVerifier
	// GroupTxnMarkers takes WriteTxnMarkers for __consumer_offsets; nil
	// answers those partitions COORDINATOR_NOT_AVAILABLE.
	GroupTxnMarkers GroupTxnMarkers

	// AutoCreateTopics is auto.create.topics.enable.
	AutoCreateTopics bool
	// MaxMessageBytes is a topic's max.message.bytes.
	MaxMessageBytes func(t *metadata.Topic) int32
	// BrokerConfig is the static broker configuration (server.properties
	// and overrides). DescribeConfigs reports it with the dynamic broker
	// configs of the image layered on top; AlterConfigs validates dynamic
	// changes against it.
	BrokerConfig *config.Broker

	// Txns serves the transaction APIs; nil leaves AddPartitionsToTxn,
	// AddOffsetsToTxn, EndTxn, TxnOffsetCommit, DescribeTransactions and
	// ListTransactions out of ApiVersions (answering them NOT_COORDINATOR
	// if sent anyway) and FindCoordinator answers transactional ids
	// COORDINATOR_NOT_AVAILABLE.
	Txns Txns
	// TransactionVersion is the transaction.version feature level
	// ApiVersions v3+ advertises as supported and finalized (KIP-890,
	// KIP-1022): 2 lets clients use Produce v12 and EndTxn v5. 0
	// advertises no feature, so clients keep to AddPartitionsToTxn.
	TransactionVersion int16
	// LogDirs serves DescribeLogDirs; nil answers it KAFKA_STORAGE_ERROR.
	LogDirs LogDirs
	// OffsetsTopicSegmentBytes (offsets.topic.segment.bytes) is the
	// segment.bytes __consumer_offsets is created with; 0 leaves the
	// default.
	OffsetsTopicSegmentBytes int32
	// AddPartitionsRetryBackoff and AddPartitionsRetryBackoffMax are
	// add.partitions.to.txn.retry.backoff.ms and .max.ms: how often and
	// how long a Produce v12 asks the coordinator again to add its
	// partitions while the previous transaction completes (KAFKA-18654);
	// zero means Kafka's 20 ms and 100 ms.
	AddPartitionsRetryBackoff, AddPartitionsRetryBackoffMax time.Duration
}

// Txns runs the transaction coordinators, one shard per partition of
// __transaction_state (coordinator/runtime.Transactions).
type Txns interface {
	// Partitions is transaction.state.log.num.partitions.
	Partitions() int32
	// Submit queues cmd on shard p in call order; the channel receives
	// the answer once, after the records it wrote are durable.
	Submit(ctx context.Context, p int32, cmd func(*txn.Coordinator) txn.Result) (<-chan kmsg.Response, error)
	// VerifyTxnPartitions checks (add false) or adds (add true) the
	// partitions of the producer's transaction and answers an error code
	// per partition (KIP-890); TxnOffsetCommit uses it for the group's
	// __consumer_offsets partition.
	VerifyTxnPartitions(ctx context.Context, transactionalID string, producerID int64, producerEpoch int16, add bool, partitions map[string][]int32) (map[string]map[int32]int16, error)
}
