package log

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/basketmq/basket/internal/vfs"
)

// Checkpoint file names in a log directory (docs/format/checkpoints.md).
const (
	recoveryPointFile  = "recovery-point-offset-checkpoint"
	logStartOffsetFile = "log-start-offset-checkpoint"
	cleanShutdownFile  = ".basket_cleanshutdown"
	checkpointVersion  = 0
)

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string {
	return tp.Topic + "-" + strconv.FormatInt(int64(tp.Partition), 10)
}

// encodeCheckpoint renders offsets in Kafka's checkpoint text format: a
// version line, a count line, then "topic partition offset" per line.
func encodeCheckpoint(offsets map[TopicPartition]int64) []byte {
	tps := make([]TopicPartition, 0, len(offsets))
	for tp := range offsets {
		tps = append(tps, tp)
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d\n%d\n", checkpointVersion, len(tps))
	for _, tp := range tps {
		fmt.Fprintf(&b, "%s %d %d\n", tp.Topic, tp.Partition, offsets[tp])
	}
	return b.Bytes()
}

// decodeCheckpoint parses the checkpoint format. A file that does not parse
// whole, including one whose count does not match its lines, is an error:
// the caller then recovers every partition from scratch, which is always safe.
func decodeCheckpoint(data []byte) (map[TopicPartition]int64, error) {
	lines := strings.Split(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) < 2 {
		return nil, fmt.Errorf("checkpoint: %d lines, want at least 2", len(lines))
	}
	if v, err := strconv.Atoi(lines[0]); err != nil || v != checkpointVersion {
		return nil, fmt.Errorf("checkpoint: unsupported version %q", lines[0])
	}
	n, err := strconv.Atoi(lines[1])
	if err != nil || n != len(lines)-2 {
		return nil, fmt.Errorf("checkpoint: count %q does not match %d entries", lines[1], len(lines)-2)
	}
	out := make(map[TopicPartition]int64, n)
	for _, line := range lines[2:] {
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("checkpoint: malformed line %q", line)
		}
		p, err1 := strconv.ParseInt(f[1], 10, 32)
		off, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || p < 0 || off < 0 {
			return nil, fmt.Errorf("checkpoint: malformed line %q", line)
		}
		out[TopicPartition{f[0], int32(p)}] = off
	}
	return out, nil
}

func readCheckpoint(fs vfs.FS, dir, name string) (map[TopicPartition]int64, error) {
	data, err := vfs.ReadFile(fs, dir+"/"+name)
	if err != nil {
		return nil, err
	}
	return decodeCheckpoint(data)
}

// ReadCheckpointFile reads a checkpoint file of the log directory dir in
// the format above (other packages keep their own checkpoints beside the
// log's, as the cleaner does with cleaner-offset-checkpoint).
func ReadCheckpointFile(fs vfs.FS, dir, name string) (map[TopicPartition]int64, error) {
	return readCheckpoint(fs, dir, name)
}

// WriteCheckpointFile atomically replaces a checkpoint file of dir.
func WriteCheckpointFile(fs vfs.FS, dir, name string, offsets map[TopicPartition]int64) error {
	return vfs.WriteFileAtomic(fs, dir, name, encodeCheckpoint(offsets))
}
