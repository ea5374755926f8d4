// Package config is Basket's table of broker and topic configuration keys,
// under Kafka's names, and everything derived from it: the server.properties
// parser, the resolved broker configuration, topic-override validation and
// resolution, and the `basket serve --help` listing. DescribeConfigs takes
// types, defaults, sources and sensitivity from here; CreateTopics,
// AlterConfigs and IncrementalAlterConfigs validate with it.
//
// # The table
//
// Each Key has a name, a Type (numbered as DescribeConfigs' ConfigType), a
// textual default or null, a validator, a one-line doc, a Scope (broker,
// topic or both) and, for topic keys, the broker key that supplies its
// default (retention.ms ← log.retention.ms). Defaults are Kafka 4.x's, with
// these deliberate differences, each noted on its key:
//
//   - listeners defaults to PLAINTEXT://127.0.0.1:9092 (Kafka binds every
//     interface), log.dirs to ./data, node.id to 1;
//   - offsets.topic.replication.factor, transaction.state.log.replication.factor
//     and transaction.state.log.min.isr default to 1 so a single node works
//     without configuration (Kafka: 3, 3, 2);
//   - segment.bytes and log.segment.bytes accept down to 14 bytes, Kafka's
//     limit before 4.0 (KIP-1030 raised it to 1 MiB), so tests can roll tiny
//     segments;
//   - retention.bytes and log.retention.bytes reject values below -1 (Kafka
//     treats any negative as unlimited), matching internal/log;
//   - log.retention.minutes/hours, log.roll.ms, log.roll.jitter.ms,
//     log.flush.interval.ms and log.flush.scheduler.interval.ms get the
//     ranges of the topic keys they feed, where Kafka checks none;
//     log.cleaner.io.max.bytes.per.second must be positive;
//   - listeners and advertised.listeners are read-only (Kafka can change
//     them per broker at runtime).
//
// basket.log.flush.policy is Basket's own key. "sync" (the default)
// acknowledges a write only once it is fsynced, with concurrent appends
// sharing one fsync (group commit); flush.messages and flush.ms then change
// nothing, since every acknowledged write is already on disk. "async" is
// Kafka's policy: writes are acknowledged from the page cache and fsynced
// when a partition reaches flush.messages unflushed records or flush.ms of
// age, when a segment rolls, and at shutdown.
//
// basket.transaction.version stands in for Kafka's transaction.version
// feature, which Kafka finalizes with kafka-storage format or
// kafka-features (KIP-1022) and a single Basket node fixes at startup: 2
// (the default, as a new Kafka 4.x cluster) lets clients use KIP-890 part
// 2, 0 or 1 keep them on the classic protocol.
//
// # Synonyms and precedence
//
// Some broker values can be given several ways. The first key configured in
// each chain wins; if none is, the first non-null default does:
//
//	log.retention.ms > log.retention.minutes > log.retention.hours  (negative = forever, -1)
//	log.roll.ms > log.roll.hours
//	log.roll.jitter.ms > log.roll.jitter.hours
//	log.flush.interval.ms > log.flush.scheduler.interval.ms
//	log.dirs > log.dir
//	advertised.listeners > listeners  (a fallback, not a DescribeConfigs synonym)
//
// log.flush.interval.ms is null by default, as in Kafka, so flush.ms comes
// from log.flush.scheduler.interval.ms (default Long.MAX: never by time).
//
// # Sources
//
// Broker.Source gives DEFAULT_CONFIG or STATIC_BROKER_CONFIG (from
// server.properties and --override, which are simply layered props), or
// DYNAMIC_BROKER_CONFIG for values from Broker.WithDynamic. TopicConfig
// gives TOPIC_CONFIG for overrides and otherwise the source of the broker
// value that supplied the default.
//
// # Concurrency
//
// The table is built at init and never changes. A *Broker is immutable
// after NewBroker or WithDynamic returns and is safe for concurrent reads;
// to change configuration, build a new one and publish it (for example
// behind an atomic.Pointer). Everything returned to callers (maps, slices,
// TopicConfig) is a fresh copy the caller owns, except *Key values, which
// are shared and must not be modified.
package config
