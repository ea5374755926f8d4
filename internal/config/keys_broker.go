package config

// Textual extremes Kafka uses as "no limit" defaults.
const (
	maxInt32   = "2147483647"
	maxInt64   = "9223372036854775807"
	maxFloat64 = "1.7976931348623157E308"
)

// brokerDefs are the broker-only keys. Defaults are Kafka 4.x's except where a
// comment says Basket differs. ReadOnly follows Kafka's dynamic broker
// configs: the broker-level defaults of topic keys (and a few thread pools)
// may change at runtime; the rest are fixed at startup.
var brokerDefs = []Key{
	// Network and identity. Kafka can reconfigure listeners per broker at
	// runtime; Basket cannot yet.
	{Name: "listeners", Type: List, Default: "PLAINTEXT://127.0.0.1:9092", ReadOnly: true, Validate: validListeners(false),
		Doc: "Addresses to accept connections on, as NAME://host:port (Basket binds loopback by default; Kafka binds all)"},
	{Name: "advertised.listeners", Type: List, Nullable: true, ReadOnly: true, Validate: validListeners(true),
		Doc: "Addresses handed to clients in metadata, as NAME://host:port; defaults to listeners"},
	{Name: "node.id", Type: Int, Default: "1", ReadOnly: true, Validate: atLeast(0),
		Doc: "This node's id in the cluster (Kafka requires it; Basket defaults to 1)"},
	{Name: "socket.request.max.bytes", Type: Int, Default: "104857600", ReadOnly: true, Validate: atLeast(1),
		Doc: "Largest request frame accepted; bigger frames close the connection"},

	// Storage layout and topic creation.
	{Name: "log.dirs", Type: List, Default: "./data", ReadOnly: true, Validate: nonEmptyList,
		Doc: "Directories holding partition data; wins over log.dir"},
	{Name: "log.dir", Type: List, Nullable: true, ReadOnly: true, Validate: nonEmptyList,
		Doc: "Older name for log.dirs, used only when log.dirs is not set"},
	{Name: "num.partitions", Type: Int, Default: "1", ReadOnly: true, Validate: atLeast(1),
		Doc: "Partition count for auto-created topics and CreateTopics with -1 partitions"},
	{Name: "default.replication.factor", Type: Int, Default: "1", ReadOnly: true, Validate: atLeast(1),
		Doc: "Replication factor for auto-created topics and CreateTopics with -1"},
	{Name: "auto.create.topics.enable", Type: Boolean, Default: "true", ReadOnly: true,
		Doc: "Create a topic when a client asks for metadata or produces to an unknown one"},
	{Name: "delete.topic.enable", Type: Boolean, Default: "true", ReadOnly: true,
		Doc: "Allow DeleteTopics; when false, deletion requests are refused"},
	{Name: "num.recovery.threads.per.data.dir", Type: Int, Default: "2", Validate: atLeast(1),
		Doc: "Goroutines per data directory that recover logs at startup and flush them at shutdown"},

	// Broker-level defaults of topic keys (dynamic in Kafka).
	{Name: "message.max.bytes", Type: Int, Default: "1048588", Validate: atLeast(0),
		Doc: "Default max.message.bytes: largest record batch accepted"},
	{Name: "log.segment.bytes", Type: Int, Default: "1073741824", Validate: atLeast(14),
		Doc: "Default segment.bytes: roll a segment when it reaches this size"},
	{Name: "log.roll.ms", Type: Long, Nullable: true, Validate: atLeast(1),
		Doc: "Default segment.ms: roll a segment this long after it opened; wins over log.roll.hours"},
	{Name: "log.roll.hours", Type: Int, Default: "168", ReadOnly: true, Validate: atLeast(1),
		Doc: "log.roll.ms in hours, used when log.roll.ms is not set"},
	{Name: "log.roll.jitter.ms", Type: Long, Nullable: true, Validate: atLeast(0),
		Doc: "Default segment.jitter.ms: random slack subtracted from the roll time; wins over log.roll.jitter.hours"},
	{Name: "log.roll.jitter.hours", Type: Int, Default: "0", ReadOnly: true, Validate: atLeast(0),
		Doc: "log.roll.jitter.ms in hours, used when log.roll.jitter.ms is not set"},
	{Name: "log.retention.ms", Type: Long, Nullable: true, Validate: atLeast(-1),
		Doc: "Default retention.ms: delete segments older than this, -1 keeps them forever; wins over minutes and hours"},
	{Name: "log.retention.minutes", Type: Int, Nullable: true, ReadOnly: true, Validate: atLeast(-1),
		Doc: "log.retention.ms in minutes, used when log.retention.ms is not set"},
	{Name: "log.retention.hours", Type: Int, Default: "168", ReadOnly: true, Validate: atLeast(-1),
		Doc: "log.retention.ms in hours, used when neither log.retention.ms nor minutes is set"},
	{Name: "log.retention.bytes", Type: Long, Default: "-1", Validate: atLeast(-1),
		Doc: "Default retention.bytes: delete old segments while a partition is larger, -1 for no limit"},
	{Name: "log.index.interval.bytes", Type: Int, Default: "4096", Validate: atLeast(0),
		Doc: "Default index.interval.bytes: bytes of log between offset-index entries"},
	{Name: "log.index.size.max.bytes", Type: Int, Default: "10485760", Validate: atLeast(4),
		Doc: "Default segment.index.bytes: roll a segment when its offset index reaches this size"},
	{Name: "log.flush.interval.messages", Type: Long, Default: maxInt64, Validate: atLeast(1),
		Doc: "Default flush.messages: with basket.log.flush.policy=async, fsync after this many records"},
	{Name: "log.flush.interval.ms", Type: Long, Nullable: true, Validate: atLeast(0),
		Doc: "Default flush.ms: with basket.log.flush.policy=async, fsync data this old; falls back to log.flush.scheduler.interval.ms"},
	{Name: "log.segment.delete.delay.ms", Type: Long, Default: "60000", Validate: atLeast(0),
		Doc: "Default file.delete.delay.ms: keep a deleted segment's files this long for readers still using them"},
	{Name: "log.message.timestamp.type", Type: String, Default: "CreateTime", Validate: oneOf("CreateTime", "LogAppendTime"),
		Doc: "Default message.timestamp.type: keep the producer's timestamp or stamp the append time"},
	{Name: "log.message.timestamp.before.max.ms", Type: Long, Default: maxInt64, Validate: atLeast(0),
		Doc: "Default message.timestamp.before.max.ms: how far in the past a CreateTime timestamp may lie"},
	{Name: "log.message.timestamp.after.max.ms", Type: Long, Default: "3600000", Validate: atLeast(0),
		Doc: "Default message.timestamp.after.max.ms: how far in the future a CreateTime timestamp may lie"},
	{Name: "log.cleanup.policy", Type: List, Default: "delete", Validate: listOf("compact", "delete"),
		Doc: "Default cleanup.policy: delete old segments, compact by key, or both"},
	{Name: "log.preallocate", Type: Boolean, Default: "false",
		Doc: "Default preallocate: reserve a new segment's full size on disk when it is created"},

	// Background work on the log.
	{Name: "log.retention.check.interval.ms", Type: Long, Default: "300000", ReadOnly: true, Validate: atLeast(1),
		Doc: "How often logs are checked for segments to delete"},
	{Name: "log.flush.scheduler.interval.ms", Type: Long, Default: maxInt64, ReadOnly: true, Validate: atLeast(0),
		Doc: "Flush interval used as flush.ms when log.flush.interval.ms is not set"},
	{Name: "log.flush.offset.checkpoint.interval.ms", Type: Int, Default: "60000", ReadOnly: true, Validate: atLeast(0),
		Doc: "How often each data directory's recovery points are written"},
	{Name: "basket.log.flush.policy", Type: String, Default: "sync", ReadOnly: true, Validate: oneOf("sync", "async"),
		Doc: "sync: acknowledge only fsynced data (group commit); async: Kafka's page-cache acks, flushed per flush.messages/flush.ms"},
	{Name: "basket.log.page.cache.retain.bytes", Type: Long, Default: "67108864", ReadOnly: true, Validate: atLeast(-1),
		Doc: "After each flush, durable data more than this many bytes behind a partition's end is dropped from the page cache, in 2 MiB-aligned ranges; -1 keeps it all (Kafka's behaviour)"},

	// Compaction.
	{Name: "log.cleaner.enable", Type: Boolean, Default: "true", ReadOnly: true,
		Doc: "Run the log cleaner, which compacts topics with cleanup.policy=compact"},
	{Name: "log.cleaner.threads", Type: Int, Default: "1", Validate: atLeast(0),
		Doc: "Number of cleaner goroutines"},
	{Name: "log.cleaner.dedupe.buffer.size", Type: Long, Default: "134217728", Validate: atLeast(0),
		Doc: "Memory shared by all cleaners for the key-to-offset map"},
	{Name: "log.cleaner.io.max.bytes.per.second", Type: Double, Default: maxFloat64, Validate: positive,
		Doc: "Read plus write rate limit for all cleaners together"},
	{Name: "log.cleaner.backoff.ms", Type: Long, Default: "15000", ReadOnly: true, Validate: atLeast(0),
		Doc: "How long a cleaner sleeps when no log needs cleaning"},
	{Name: "log.cleaner.min.cleanable.ratio", Type: Double, Default: "0.5", Validate: between(0, 1),
		Doc: "Default min.cleanable.dirty.ratio: dirty share of a log that makes it worth compacting"},
	{Name: "log.cleaner.delete.retention.ms", Type: Long, Default: "86400000", Validate: atLeast(0),
		Doc: "Default delete.retention.ms: how long compaction keeps tombstones"},
	{Name: "log.cleaner.min.compaction.lag.ms", Type: Long, Default: "0", Validate: atLeast(0),
		Doc: "Default min.compaction.lag.ms: records younger than this are never compacted"},
	{Name: "log.cleaner.max.compaction.lag.ms", Type: Long, Default: maxInt64, Validate: atLeast(1),
		Doc: "Default max.compaction.lag.ms: records older than this become eligible for compaction regardless of ratio"},

	// Group coordinator. Basket defaults the internal topics' replication to
	// 1 so that a single node works out of the box; Kafka's are 3 (min ISR 2).
	{Name: "offsets.topic.num.partitions", Type: Int, Default: "50", ReadOnly: true, Validate: atLeast(1),
		Doc: "Partitions of __consumer_offsets; fixed once the topic exists"},
	{Name: "offsets.topic.segment.bytes", Type: Int, Default: "104857600", ReadOnly: true, Validate: atLeast(14),
		Doc: "segment.bytes of __consumer_offsets when it is created; small segments let compaction keep it small"},
	{Name: "offsets.topic.replication.factor", Type: Short, Default: "1", ReadOnly: true, Validate: atLeast(1),
		Doc: "Replication factor of __consumer_offsets (Kafka: 3; set 3 in a cluster)"},
	{Name: "offsets.retention.minutes", Type: Int, Default: "10080", ReadOnly: true, Validate: atLeast(1),
		Doc: "How long committed offsets of an empty group are kept"},
	{Name: "group.initial.rebalance.delay.ms", Type: Int, Default: "3000", ReadOnly: true, Validate: atLeast(0),
		Doc: "Wait this long for more members before the first rebalance of a new group"},
	{Name: "group.min.session.timeout.ms", Type: Int, Default: "6000", ReadOnly: true, Validate: atLeast(1),
		Doc: "Smallest session timeout a consumer may ask for"},
	{Name: "group.max.session.timeout.ms", Type: Int, Default: "1800000", ReadOnly: true, Validate: atLeast(1),
		Doc: "Largest session timeout a consumer may ask for"},
	{Name: "group.max.size", Type: Int, Default: maxInt32, ReadOnly: true, Validate: atLeast(1),
		Doc: "Most members one consumer group may have"},
	{Name: "group.consumer.session.timeout.ms", Type: Int, Default: "45000", ReadOnly: true, Validate: atLeast(1),
		Doc: "KIP-848 consumer groups: a member that has not heartbeaten for this long is fenced"},
	{Name: "group.consumer.heartbeat.interval.ms", Type: Int, Default: "5000", ReadOnly: true, Validate: atLeast(1),
		Doc: "KIP-848 consumer groups: the heartbeat interval given to members"},
	{Name: "group.consumer.max.size", Type: Int, Default: maxInt32, ReadOnly: true, Validate: atLeast(1),
		Doc: "KIP-848 consumer groups: most members one group may have"},
	{Name: "group.consumer.assignors", Type: List, Default: "uniform,range", ReadOnly: true,
		Validate: func(s string) error {
			if err := nonEmptyList(s); err != nil {
				return err
			}
			return listOf("uniform", "range", uniformAssignorClass, rangeAssignorClass)(s)
		},
		Doc: "KIP-848 consumer groups: the server-side assignors members may choose (uniform, range, or Kafka's class names); the first is the default"},

	// Transaction coordinator.
	{Name: "transaction.max.timeout.ms", Type: Int, Default: "900000", ReadOnly: true, Validate: atLeast(1),
		Doc: "Largest transaction timeout a producer may ask for"},
	{Name: "transactional.id.expiration.ms", Type: Int, Default: "604800000", ReadOnly: true, Validate: atLeast(1),
		Doc: "Forget a transactional id after it has been idle this long"},
	{Name: "transaction.state.log.num.partitions", Type: Int, Default: "50", ReadOnly: true, Validate: atLeast(1),
		Doc: "Partitions of __transaction_state; fixed once the topic exists"},
	{Name: "transaction.state.log.replication.factor", Type: Short, Default: "1", ReadOnly: true, Validate: atLeast(1),
		Doc: "Replication factor of __transaction_state (Kafka: 3; set 3 in a cluster)"},
	{Name: "transaction.state.log.min.isr", Type: Int, Default: "1", ReadOnly: true, Validate: atLeast(1),
		Doc: "min.insync.replicas of __transaction_state (Kafka: 2)"},
	{Name: "add.partitions.to.txn.retry.backoff.ms", Type: Int, Default: "20", ReadOnly: true, Validate: atLeast(1),
		Doc: "How often a Produce v12 asks the transaction coordinator again to add its partitions while it answers CONCURRENT_TRANSACTIONS"},
	{Name: "add.partitions.to.txn.retry.backoff.max.ms", Type: Int, Default: "100", ReadOnly: true, Validate: atLeast(1),
		Doc: "How long a Produce v12 keeps asking before it answers the client CONCURRENT_TRANSACTIONS"},
	{Name: "basket.transaction.version", Type: Short, Default: "2", ReadOnly: true, Validate: oneOf("0", "1", "2"),
		Doc: "The transaction.version feature level finalized in ApiVersions (Kafka sets it with kafka-storage/kafka-features): 2 turns on KIP-890 part 2 for clients (Produce v12 implicit add, an epoch bump per transaction); 0 keeps them on AddPartitionsToTxn"},
}

// Kafka's class names of its server-side assignors, accepted in
// group.consumer.assignors for "uniform" and "range".
const (
	uniformAssignorClass = "org.apache.kafka.coordinator.group.assignor.UniformAssignor"
	rangeAssignorClass   = "org.apache.kafka.coordinator.group.assignor.RangeAssignor"
)

// ConsumerAssignor is the short name ("uniform", "range") of a
// group.consumer.assignors element.
func ConsumerAssignor(name string) string {
	switch name {
	case uniformAssignorClass:
		return "uniform"
	case rangeAssignorClass:
		return "range"
	}
	return name
}
