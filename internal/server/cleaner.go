package server

import (
	"github.com/basketmq/basket/internal/config"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/log/cleaner"
)

// startCleaner starts log compaction over the data directory, unless
// Config.Cleaner is nil. A log is cleaned only while a partition serves it,
// up to its last stable offset (Partition.CleanerBound).
func (b *Broker) startCleaner() {
	if b.cfg.Cleaner == nil {
		return
	}
	opts := *b.cfg.Cleaner
	threads := opts.Threads
	opts.Logger = b.logger
	opts.Bound = func(l *log.Log) (cleaner.Bound, bool) {
		tp := l.TopicPartition()
		p, ok := b.replicas.Partition(tp.Topic, tp.Partition)
		if !ok || p.Log() != l {
			return cleaner.Bound{}, false
		}
		upper, active := p.CleanerBound()
		bound := cleaner.Bound{UpperOffset: upper, Producers: make(map[int64]cleaner.ProducerLast, len(active))}
		for id, last := range active {
			bound.Producers[id] = cleaner.ProducerLast{LastDataOffset: last.LastDataOffset, Epoch: last.Epoch}
		}
		return bound, true
	}
	b.cleaner = cleaner.New(b.data, opts)
	if threads > 0 {
		b.cleaner.Start()
	}
}

// Cleaner is the broker's log cleaner, for its statistics (Stats,
// DirtyRatio); nil when log.cleaner.enable is false.
func (b *Broker) Cleaner() *cleaner.Cleaner { return b.cleaner }

// logDirs describes the data directory to DescribeLogDirs.
type logDirs struct{ b *Broker }

func (d logDirs) Path() string { return d.b.data.Path() }

// DirtyRatio is the cleaner's dirty ratio of a compacted partition.
func (d logDirs) DirtyRatio(topic string, partition int32) (float64, bool) {
	p, ok := d.b.replicas.Partition(topic, partition)
	if !ok || d.b.cleaner == nil || !p.Log().Config().Compact {
		return 0, false
	}
	return d.b.cleaner.DirtyRatio(p.Log()), true
}

// LogConfig maps a topic's configuration onto the storage engine's. A
// topic whose cleanup.policy lacks "delete" (compact only, as
// __consumer_offsets) is never trimmed by retention.ms or retention.bytes;
// one that includes "compact" is cleaned by the log cleaner.
func LogConfig(t config.TopicConfig) log.Config {
	if !t.Delete() {
		t.RetentionMs, t.RetentionBytes = -1, -1
	}
	return log.Config{
		SegmentBytes: int64(t.SegmentBytes), SegmentMs: t.SegmentMs, SegmentIndexBytes: int(t.SegmentIndexBytes),
		IndexIntervalBytes: int(t.IndexIntervalBytes), RetentionMs: t.RetentionMs, RetentionBytes: t.RetentionBytes,
		LogAppendTime:         t.MessageTimestampType == "LogAppendTime",
		FlushIntervalMessages: t.FlushMessages, FlushIntervalMs: t.FlushMs, FileDeleteDelayMs: t.FileDeleteDelayMs,

		Compact: t.Compact(), MinCleanableDirtyRatio: t.MinCleanableDirtyRatio,
		MinCompactionLagMs: t.MinCompactionLagMs, MaxCompactionLagMs: t.MaxCompactionLagMs,
		DeleteRetentionMs: t.DeleteRetentionMs,
	}
}
