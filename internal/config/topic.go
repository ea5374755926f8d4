package config

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ValidateTopicConfigs checks per-topic overrides as CreateTopics,
// AlterConfigs and IncrementalAlterConfigs carry them: a nil value deletes
// the override (the topic falls back to the broker default) and is always
// acceptable for a known key. Unknown keys, including broker-only keys such
// as log.retention.ms, give *UnknownKeyError; bad values *InvalidValueError.
// Kafka reports both as INVALID_CONFIG. Every problem is reported, one per
// line, sorted by key.
//
// The one cross-key rule, min.compaction.lag.ms <= max.compaction.lag.ms,
// is checked here only when both are given; to check it against the broker
// defaults as well, use Broker.ResolveTopic(...).CheckConflicts.
func ValidateTopicConfigs(cfgs map[string]*string) error {
	names := make([]string, 0, len(cfgs))
	for name := range cfgs {
		names = append(names, name)
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		k, ok := registry[name]
		if !ok || !k.Scope.Has(ScopeTopic) {
			errs = append(errs, &UnknownKeyError{Name: name, Scope: ScopeTopic})
			continue
		}
		if v := cfgs[name]; v != nil {
			if err := k.Check(*v); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) == 0 {
		lo, hi := cfgs["min.compaction.lag.ms"], cfgs["max.compaction.lag.ms"]
		if lo != nil && hi != nil {
			if err := checkCompactionLag(parseLong(*lo), parseLong(*hi)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func checkCompactionLag(lo, hi int64) error {
	if lo > hi {
		return fmt.Errorf("configuration min.compaction.lag.ms (%d) must not exceed max.compaction.lag.ms (%d)", lo, hi)
	}
	return nil
}

func parseLong(s string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n
}

// TopicDefaults returns, for every topic key, the value a topic without an
// override gets: the effective value of its broker default key. With
// log.retention.hours=1, retention.ms is "3600000". The caller owns the map.
func (b *Broker) TopicDefaults() map[string]string {
	out := make(map[string]string, len(topicKeys))
	for _, k := range topicKeys {
		out[k.Name] = b.effective(k.BrokerDefault).text
	}
	return out
}

// TopicConfig is one topic's effective configuration. Each field is named
// after its key. The caller owns the maps and slices.
type TopicConfig struct {
	CleanupPolicy               []string // cleanup.policy
	CompressionType             string   // compression.type
	DeleteRetentionMs           int64    // delete.retention.ms
	FileDeleteDelayMs           int64    // file.delete.delay.ms
	FlushMessages               int64    // flush.messages
	FlushMs                     int64    // flush.ms
	IndexIntervalBytes          int32    // index.interval.bytes
	MaxCompactionLagMs          int64    // max.compaction.lag.ms
	MaxMessageBytes             int32    // max.message.bytes
	MessageTimestampType        string   // message.timestamp.type
	MessageTimestampBeforeMaxMs int64    // message.timestamp.before.max.ms
	MessageTimestampAfterMaxMs  int64    // message.timestamp.after.max.ms
	MinCleanableDirtyRatio      float64  // min.cleanable.dirty.ratio
	MinCompactionLagMs          int64    // min.compaction.lag.ms
	MinInsyncReplicas           int32    // min.insync.replicas
	Preallocate                 bool     // preallocate
	RetentionBytes              int64    // retention.bytes
	RetentionMs                 int64    // retention.ms
	SegmentBytes                int32    // segment.bytes
	SegmentIndexBytes           int32    // segment.index.bytes
	SegmentJitterMs             int64    // segment.jitter.ms
	SegmentMs                   int64    // segment.ms
	UncleanLeaderElectionEnable bool     // unclean.leader.election.enable

	// Values holds each key's effective value as canonical text, and
	// Sources where it came from: SourceTopicConfig for an override,
	// otherwise the source of the broker default that supplied it.
	Values  map[string]string
	Sources map[string]Source
}

// CheckConflicts reports values that are valid alone but not together:
// min.compaction.lag.ms above max.compaction.lag.ms.
func (c TopicConfig) CheckConflicts() error {
	return checkCompactionLag(c.MinCompactionLagMs, c.MaxCompactionLagMs)
}

// Compact reports whether cleanup.policy includes compact.
func (c TopicConfig) Compact() bool { return slices.Contains(c.CleanupPolicy, "compact") }

// Delete reports whether cleanup.policy includes delete.
func (c TopicConfig) Delete() bool { return slices.Contains(c.CleanupPolicy, "delete") }

// ResolveTopic returns a topic's effective configuration: each key's
// override from overrides, or else its broker default. Overrides are
// expected to have passed ValidateTopicConfigs (they come from the
// metadata log); an unknown key is ignored, and an invalid value is ignored
// in favour of the broker default rather than failing the partition.
func (b *Broker) ResolveTopic(overrides map[string]string) TopicConfig {
	c := TopicConfig{
		Values:  make(map[string]string, len(topicKeys)),
		Sources: make(map[string]Source, len(topicKeys)),
	}
	for _, k := range topicKeys {
		e := b.effective(k.BrokerDefault)
		if s, ok := overrides[k.Name]; ok {
			if o, err := k.parse(s); err == nil {
				e = o
				e.src = SourceTopicConfig
			}
		}
		c.set(k.Name, e.v)
		c.Values[k.Name] = e.text
		c.Sources[k.Name] = e.src
	}
	return c
}

func (c *TopicConfig) set(name string, v any) {
	i, _ := v.(int64)
	i32 := int32(i)
	switch name {
	case "cleanup.policy":
		l, _ := v.([]string)
		c.CleanupPolicy = append([]string{}, l...)
	case "compression.type":
		c.CompressionType, _ = v.(string)
	case "delete.retention.ms":
		c.DeleteRetentionMs = i
	case "file.delete.delay.ms":
		c.FileDeleteDelayMs = i
	case "flush.messages":
		c.FlushMessages = i
	case "flush.ms":
		c.FlushMs = i
	case "index.interval.bytes":
		c.IndexIntervalBytes = i32
	case "max.compaction.lag.ms":
		c.MaxCompactionLagMs = i
	case "max.message.bytes":
		c.MaxMessageBytes = i32
	case "message.timestamp.type":
		c.MessageTimestampType, _ = v.(string)
	case "message.timestamp.before.max.ms":
		c.MessageTimestampBeforeMaxMs = i
	case "message.timestamp.after.max.ms":
		c.MessageTimestampAfterMaxMs = i
	case "min.cleanable.dirty.ratio":
		c.MinCleanableDirtyRatio, _ = v.(float64)
	case "min.compaction.lag.ms":
		c.MinCompactionLagMs = i
	case "min.insync.replicas":
		c.MinInsyncReplicas = i32
	case "preallocate":
		c.Preallocate, _ = v.(bool)
	case "retention.bytes":
		c.RetentionBytes = i
	case "retention.ms":
		c.RetentionMs = i
	case "segment.bytes":
		c.SegmentBytes = i32
	case "segment.index.bytes":
		c.SegmentIndexBytes = i32
	case "segment.jitter.ms":
		c.SegmentJitterMs = i
	case "segment.ms":
		c.SegmentMs = i
	case "unclean.leader.election.enable":
		c.UncleanLeaderElectionEnable, _ = v.(bool)
	default:
		panic("config: TopicConfig has no field for " + strconv.Quote(name))
	}
}
