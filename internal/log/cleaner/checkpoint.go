package cleaner

import (
	"errors"
	"io/fs"

	"github.com/basketmq/basket/internal/log"
)

// CheckpointFile is the name of the cleaner's checkpoint in each log
// directory (docs/format/checkpoints.md): for every compacted partition, the
// offset where its dirty section starts, that is the end offset of its last
// clean. It has the same text format as the log's own checkpoints.
const CheckpointFile = "cleaner-offset-checkpoint"

func (c *Cleaner) readCheckpoint() map[log.TopicPartition]int64 {
	m, err := log.ReadCheckpointFile(c.dir.FS(), c.dir.Path(), CheckpointFile)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.logger.Warn("ignoring unreadable cleaner checkpoint; every compacted log is dirty from its start",
				"dir", c.dir.Path(), "err", err)
		}
		return map[log.TopicPartition]int64{}
	}
	return m
}

// setCheckpoint records tp's first dirty offset and rewrites the file,
// dropping partitions the Dir no longer has.
func (c *Cleaner) setCheckpoint(tp log.TopicPartition, offset int64) error {
	c.ckMu.Lock()
	defer c.ckMu.Unlock()
	live := map[log.TopicPartition]bool{}
	for _, l := range c.dir.Logs() {
		live[l.TopicPartition()] = true
	}
	c.mu.Lock()
	c.checkpoints[tp] = offset
	out := make(map[log.TopicPartition]int64, len(c.checkpoints))
	for p, o := range c.checkpoints {
		if live[p] {
			out[p] = o
		} else {
			delete(c.checkpoints, p)
		}
	}
	c.mu.Unlock()
	return log.WriteCheckpointFile(c.dir.FS(), c.dir.Path(), CheckpointFile, out)
}
