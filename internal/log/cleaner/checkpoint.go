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

// setCheckpoint records tp's first dirty offset. The file is rewritten
// off the cleaning path, by a writer goroutine that takes every update
// made meanwhile in one write, and last by Close. The checkpoint only says
// where the next clean starts, and a clean's swap is durable before its
// checkpoint is set: a checkpoint lost in a crash makes the next clean
// reread segments that are already clean, nothing worse.
func (c *Cleaner) setCheckpoint(tp log.TopicPartition, offset int64) {
	c.mu.Lock()
	c.checkpoints[tp] = offset
	c.ckDirty = true
	start := !c.ckWriting
	c.ckWriting = true
	c.mu.Unlock()
	if start {
		c.ckWG.Add(1)
		go func() {
			defer c.ckWG.Done()
			c.writeCheckpoints()
		}()
	}
}

// writeCheckpoints rewrites the file until no update is left, keeping only
// partitions the Dir still has.
func (c *Cleaner) writeCheckpoints() {
	for {
		live := map[log.TopicPartition]bool{}
		for _, l := range c.dir.Logs() {
			live[l.TopicPartition()] = true
		}
		c.mu.Lock()
		if !c.ckDirty {
			c.ckWriting = false
			c.mu.Unlock()
			return
		}
		c.ckDirty = false
		out := make(map[log.TopicPartition]int64, len(c.checkpoints))
		for p, o := range c.checkpoints {
			if live[p] {
				out[p] = o
			} else {
				delete(c.checkpoints, p)
			}
		}
		c.mu.Unlock()
		if err := log.WriteCheckpointFile(c.dir.FS(), c.dir.Path(), CheckpointFile, out); err != nil {
			c.logger.Error("writing the cleaner checkpoint", "dir", c.dir.Path(), "err", err)
		}
	}
}
