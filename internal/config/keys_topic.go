package config

var compressionTypes = oneOf("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")

// sharedDefs carry the same name on the broker (the default) and on topics.
var sharedDefs = []Key{
	{Name: "compression.type", Type: String, Default: "producer", Validate: compressionTypes,
		Doc: "Codec batches are stored with; producer keeps the one the producer chose"},
	{Name: "min.insync.replicas", Type: Int, Default: "1", Validate: atLeast(1),
		Doc: "Replicas that must have a write before an acks=all produce succeeds"},
	{Name: "unclean.leader.election.enable", Type: Boolean, Default: "false",
		Doc: "Let a replica outside the ISR become leader, losing acknowledged writes"},
}

// topicDefs are the per-topic keys. Each default equals its broker key's
// default, so an unconfigured broker yields these values.
var topicDefs = []Key{
	{Name: "cleanup.policy", Type: List, Default: "delete", Validate: listOf("compact", "delete"), BrokerDefault: "log.cleanup.policy",
		Doc: "Delete old segments, compact by key, or both; empty does neither"},
	{Name: "delete.retention.ms", Type: Long, Default: "86400000", Validate: atLeast(0), BrokerDefault: "log.cleaner.delete.retention.ms",
		Doc: "How long compaction keeps tombstones, so readers from the start see the deletes"},
	{Name: "file.delete.delay.ms", Type: Long, Default: "60000", Validate: atLeast(0), BrokerDefault: "log.segment.delete.delay.ms",
		Doc: "Keep a deleted segment's files this long for readers still using them"},
	{Name: "flush.messages", Type: Long, Default: maxInt64, Validate: atLeast(1), BrokerDefault: "log.flush.interval.messages",
		Doc: "With basket.log.flush.policy=async, fsync after this many records"},
	{Name: "flush.ms", Type: Long, Default: maxInt64, Validate: atLeast(0), BrokerDefault: "log.flush.interval.ms",
		Doc: "With basket.log.flush.policy=async, fsync data once it is this old"},
	{Name: "index.interval.bytes", Type: Int, Default: "4096", Validate: atLeast(0), BrokerDefault: "log.index.interval.bytes",
		Doc: "Bytes of log between offset-index entries"},
	{Name: "max.compaction.lag.ms", Type: Long, Default: maxInt64, Validate: atLeast(1), BrokerDefault: "log.cleaner.max.compaction.lag.ms",
		Doc: "Records older than this become eligible for compaction regardless of the dirty ratio"},
	{Name: "max.message.bytes", Type: Int, Default: "1048588", Validate: atLeast(0), BrokerDefault: "message.max.bytes",
		Doc: "Largest record batch accepted, after compression"},
	{Name: "message.timestamp.type", Type: String, Default: "CreateTime", Validate: oneOf("CreateTime", "LogAppendTime"), BrokerDefault: "log.message.timestamp.type",
		Doc: "Keep the producer's timestamp (CreateTime) or stamp the append time (LogAppendTime)"},
	{Name: "message.timestamp.before.max.ms", Type: Long, Default: maxInt64, Validate: atLeast(0), BrokerDefault: "log.message.timestamp.before.max.ms",
		Doc: "Reject CreateTime batches whose timestamp is further than this in the past"},
	{Name: "message.timestamp.after.max.ms", Type: Long, Default: "3600000", Validate: atLeast(0), BrokerDefault: "log.message.timestamp.after.max.ms",
		Doc: "Reject CreateTime batches whose timestamp is further than this in the future"},
	{Name: "min.cleanable.dirty.ratio", Type: Double, Default: "0.5", Validate: between(0, 1), BrokerDefault: "log.cleaner.min.cleanable.ratio",
		Doc: "Dirty share of the log that makes it worth compacting"},
	{Name: "min.compaction.lag.ms", Type: Long, Default: "0", Validate: atLeast(0), BrokerDefault: "log.cleaner.min.compaction.lag.ms",
		Doc: "Records younger than this are never compacted"},
	{Name: "retention.bytes", Type: Long, Default: "-1", Validate: atLeast(-1), BrokerDefault: "log.retention.bytes",
		Doc: "Delete the oldest segments while a partition is larger than this; -1 for no limit"},
	{Name: "retention.ms", Type: Long, Default: "604800000", Validate: atLeast(-1), BrokerDefault: "log.retention.ms",
		Doc: "Delete segments whose newest record is older than this; -1 keeps them forever"},
	{Name: "segment.bytes", Type: Int, Default: "1073741824", Validate: atLeast(14), BrokerDefault: "log.segment.bytes",
		Doc: "Roll a segment when it reaches this size"},
	{Name: "segment.index.bytes", Type: Int, Default: "10485760", Validate: atLeast(4), BrokerDefault: "log.index.size.max.bytes",
		Doc: "Roll a segment when its offset index reaches this size"},
	{Name: "segment.ms", Type: Long, Default: "604800000", Validate: atLeast(1), BrokerDefault: "log.roll.ms",
		Doc: "Roll a segment this long after it opened, even if not full"},
	{Name: "segment.jitter.ms", Type: Long, Default: "0", Validate: atLeast(0), BrokerDefault: "log.roll.jitter.ms",
		Doc: "Random slack subtracted from segment.ms so partitions do not roll together"},
	{Name: "preallocate", Type: Boolean, Default: "false", BrokerDefault: "log.preallocate",
		Doc: "Reserve a new segment's full size on disk when it is created"},
}
