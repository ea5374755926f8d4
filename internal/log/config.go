package log

import (
	"fmt"
	"math"
)

// Config is the per-partition configuration the log reads. Field names follow
// Kafka's topic config keys; the broker's config table maps them. A Config is
// immutable once given to a Log: change it with Log.SetConfig.
type Config struct {
	// SegmentBytes (segment.bytes): roll when a segment would grow past it.
	SegmentBytes int64
	// SegmentMs (segment.ms): roll a segment this long after its first
	// append.
	SegmentMs int64
	// SegmentIndexBytes (segment.index.bytes): roll when the offset index
	// reaches this size.
	SegmentIndexBytes int
	// IndexIntervalBytes (index.interval.bytes): bytes of log between
	// offset-index entries.
	IndexIntervalBytes int
	// RetentionMs (retention.ms): delete segments whose newest timestamp is
	// older than this; -1 keeps them forever.
	RetentionMs int64
	// RetentionBytes (retention.bytes): delete the oldest segments while the
	// log is larger than this; -1 means no limit.
	RetentionBytes int64
	// LogAppendTime (message.timestamp.type=LogAppendTime): stamp every
	// batch with the broker's time on append.
	LogAppendTime bool
	// FlushIntervalMessages (flush.messages) and FlushIntervalMs (flush.ms)
	// drive flushing under DurabilityAsync; they are ignored under
	// DurabilitySync, where every acknowledged append is flushed.
	FlushIntervalMessages int64
	FlushIntervalMs       int64
	// FileDeleteDelayMs (file.delete.delay.ms): how long a deleted
	// segment's files stay open, so readers holding a Region finish.
	FileDeleteDelayMs int64

	// Compaction, read by package cleaner. Compact is cleanup.policy
	// containing compact; retention by time and size stays under
	// RetentionMs and RetentionBytes (-1 when the policy lacks delete).
	Compact bool
	// MinCleanableDirtyRatio (min.cleanable.dirty.ratio): the dirty share
	// of the log that makes it worth cleaning.
	MinCleanableDirtyRatio float64
	// MinCompactionLagMs (min.compaction.lag.ms): segments holding a
	// record younger than this are not cleaned.
	MinCompactionLagMs int64
	// MaxCompactionLagMs (max.compaction.lag.ms): a dirty segment whose
	// first batch is older than this is cleaned whatever the ratio; a
	// compacted log also rolls its active segment at
	// min(segment.ms, max.compaction.lag.ms), as Kafka does. 0 means no
	// limit.
	MaxCompactionLagMs int64
	// DeleteRetentionMs (delete.retention.ms): how long a tombstone stays
	// after the clean that first kept it (KIP-534 delete horizon).
	DeleteRetentionMs int64
}

// DefaultConfig is Kafka's default for each key.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:          1 << 30,
		SegmentMs:             7 * 24 * 3600 * 1000,
		SegmentIndexBytes:     10 << 20,
		IndexIntervalBytes:    4096,
		RetentionMs:           7 * 24 * 3600 * 1000,
		RetentionBytes:        -1,
		FlushIntervalMessages: math.MaxInt64,
		FlushIntervalMs:       math.MaxInt64,
		FileDeleteDelayMs:     60000,

		MinCleanableDirtyRatio: 0.5,
		MaxCompactionLagMs:     math.MaxInt64,
		DeleteRetentionMs:      86400000,
	}
}

// Validate reports the first field outside the range Kafka accepts.
func (c *Config) Validate() error {
	switch {
	case c.SegmentBytes < 14:
		return fmt.Errorf("segment.bytes %d is below the minimum 14", c.SegmentBytes)
	case c.SegmentBytes > math.MaxInt32:
		return fmt.Errorf("segment.bytes %d is above the maximum %d", c.SegmentBytes, math.MaxInt32)
	case c.SegmentMs < 1:
		return fmt.Errorf("segment.ms %d must be at least 1", c.SegmentMs)
	case c.SegmentIndexBytes < indexEntrySize:
		return fmt.Errorf("segment.index.bytes %d is below the minimum %d", c.SegmentIndexBytes, indexEntrySize)
	case c.IndexIntervalBytes < 0:
		return fmt.Errorf("index.interval.bytes %d must not be negative", c.IndexIntervalBytes)
	case c.RetentionMs < -1:
		return fmt.Errorf("retention.ms %d must be -1 or more", c.RetentionMs)
	case c.RetentionBytes < -1:
		return fmt.Errorf("retention.bytes %d must be -1 or more", c.RetentionBytes)
	case c.FlushIntervalMessages < 1:
		return fmt.Errorf("flush.messages %d must be at least 1", c.FlushIntervalMessages)
	case c.FlushIntervalMs < 0:
		return fmt.Errorf("flush.ms %d must not be negative", c.FlushIntervalMs)
	case c.FileDeleteDelayMs < 0:
		return fmt.Errorf("file.delete.delay.ms %d must not be negative", c.FileDeleteDelayMs)
	case c.MinCleanableDirtyRatio < 0 || c.MinCleanableDirtyRatio > 1:
		return fmt.Errorf("min.cleanable.dirty.ratio %v must be between 0 and 1", c.MinCleanableDirtyRatio)
	case c.MinCompactionLagMs < 0:
		return fmt.Errorf("min.compaction.lag.ms %d must not be negative", c.MinCompactionLagMs)
	case c.MaxCompactionLagMs < 0:
		return fmt.Errorf("max.compaction.lag.ms %d must not be negative", c.MaxCompactionLagMs)
	case c.DeleteRetentionMs < 0:
		return fmt.Errorf("delete.retention.ms %d must not be negative", c.DeleteRetentionMs)
	}
	return nil
}

// rollMs is the age at which the active segment rolls: segment.ms, or
// max.compaction.lag.ms when that is sooner on a compacted log (Kafka's
// LogConfig.maxSegmentMs), so records can become cleanable in time.
func (c *Config) rollMs() int64 {
	if c.Compact && c.MaxCompactionLagMs > 0 {
		return min(c.SegmentMs, c.MaxCompactionLagMs)
	}
	return c.SegmentMs
}
