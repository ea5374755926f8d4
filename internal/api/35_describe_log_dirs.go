package api

// DescribeLogDirs (key 35), versions 1-4 (v0 was removed in Kafka 4.0,
// KIP-896).
//
// Describes this broker's one log directory: for every partition it hosts
// (all, or the topics asked for) the bytes of its segments and its offset
// lag, which on a single broker is always 0 (the log end offset never
// trails this replica's high watermark); no future (AlterReplicaLogDirs)
// replicas exist. v3 adds a top-level error code, v4 (KIP-827) the total
// and usable bytes of the directory's file system. Topics asked for that
// do not exist are left out, as Kafka does.
//
// Basket extension: for a partition of a compacted topic (cleanup.policy
// includes compact) v2+ responses carry the log cleaner's current dirty
// ratio — bytes not yet cleaned over the bytes up to the cleanable bound,
// the figure min.cleanable.dirty.ratio is compared with — as a float64
// (IEEE 754, big-endian) under tagged field DirtyRatioTag of the
// partition. Kafka clients skip tagged fields they do not know; `basket
// topic describe` reads it.

import (
	"context"
	"encoding/binary"
	"math"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sys/unix"
)

func init() { register(35, 1, 1, 4, now((*Handlers).describeLogDirs)) }

// DirtyRatioTag is the tag of the partition field that carries a
// compacted partition's dirty ratio in DescribeLogDirs v2+. It sits far
// above the tags Kafka allocates (from 0 upwards) so it cannot collide.
const DirtyRatioTag = 0x4241 // "BA"

// LogDirs describes the broker's data directory for DescribeLogDirs.
type LogDirs interface {
	// Path is the log directory.
	Path() string
	// DirtyRatio is the cleaner's dirty ratio of a compacted partition;
	// false when there is no cleaner or the partition is not compacted.
	DirtyRatio(topic string, partition int32) (float64, bool)
}

func (h *Handlers) describeLogDirs(_ context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.DescribeLogDirsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	if h.LogDirs == nil {
		resp.ErrorCode = kerr.KafkaStorageError.Code
		return resp, nil
	}
	dir := kmsg.NewDescribeLogDirsResponseDir()
	dir.Dir = h.LogDirs.Path()
	if req.Version >= 4 {
		var st unix.Statfs_t
		if err := unix.Statfs(dir.Dir, &st); err == nil {
			dir.TotalBytes = int64(st.Blocks) * st.Bsize
			dir.UsableBytes = int64(st.Bavail) * st.Bsize
		}
	}
	im := h.Image()
	wanted := map[string][]int32{} // nil slice: every partition
	if req.Topics == nil {
		for _, t := range im.Topics() {
			wanted[t.Name] = nil
		}
	} else {
		for _, rt := range req.Topics {
			wanted[rt.Topic] = append(wanted[rt.Topic], rt.Partitions...)
		}
	}
	names := make([]string, 0, len(wanted))
	for name := range wanted {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t, ok := im.Topic(name)
		if !ok {
			continue
		}
		parts := wanted[name]
		if parts == nil {
			for i := range t.Partitions {
				parts = append(parts, int32(i))
			}
		}
		dt := kmsg.NewDescribeLogDirsResponseDirTopic()
		dt.Topic = name
		for _, pi := range parts {
			p, ok := h.Partitions.Partition(name, pi)
			if !ok {
				continue
			}
			dp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
			dp.Partition, dp.Size = pi, p.Log().Size()
			if ratio, ok := h.LogDirs.DirtyRatio(name, pi); ok && req.Version >= 2 {
				dp.UnknownTags.Set(DirtyRatioTag, binary.BigEndian.AppendUint64(nil, math.Float64bits(ratio)))
			}
			dt.Partitions = append(dt.Partitions, dp)
		}
		if len(dt.Partitions) > 0 {
			dir.Topics = append(dir.Topics, dt)
		}
	}
	resp.Dirs = append(resp.Dirs, dir)
	return resp, nil
}

// DirtyRatioOf reads the Basket dirty-ratio tag of a DescribeLogDirs
// partition, for clients (the CLI).
func DirtyRatioOf(p *kmsg.DescribeLogDirsResponseDirTopicPartition) (float64, bool) {
	var ratio float64
	found := false
	p.UnknownTags.Each(func(key uint32, val []byte) {
		if key == DirtyRatioTag && len(val) == 8 {
			ratio, found = math.Float64frombits(binary.BigEndian.Uint64(val)), true
		}
	})
	return ratio, found
}
