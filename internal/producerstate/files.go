package producerstate

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/vfs"
)

// SnapshotsToKeep is how many snapshot files WriteSnapshot leaves in a
// partition directory: the one it wrote and the newest older one, which
// Load falls back to if the newest turns out unreadable.
const SnapshotsToKeep = 2

const snapshotSuffix = ".snapshot"

// snapshotName is the file name of the snapshot taken at offset: the offset
// in 20 zero-padded digits, as Kafka names its producer snapshots.
func snapshotName(offset int64) string {
	return fmt.Sprintf("%020d%s", offset, snapshotSuffix)
}

// parseSnapshotName returns the offset of a snapshot file name.
func parseSnapshotName(name string) (int64, bool) {
	digits, ok := strings.CutSuffix(name, snapshotSuffix)
	if !ok || len(digits) != 20 || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	off, err := strconv.ParseInt(digits, 10, 64)
	return off, err == nil
}

// WriteSnapshot writes the state to dir (the partition directory) as the
// snapshot taken at offset, which must be the log end offset the state
// reflects: every batch below offset applied with Update, none above. The
// file is replaced atomically (temporary file, sync, rename, directory
// sync), so a crash leaves the old snapshot or the new one.
//
// Then it deletes the snapshots above offset, which describe a log that has
// since been truncated, and the oldest ones below it, leaving
// SnapshotsToKeep. An error after the new file is in place leaves extra
// snapshots behind, which the next WriteSnapshot removes. Like every State
// method, WriteSnapshot must not run concurrently with Update.
func (s *State) WriteSnapshot(fs vfs.FS, dir string, offset int64) error {
	if offset < 0 {
		return fmt.Errorf("producer state snapshot at negative offset %d", offset)
	}
	if err := vfs.WriteFileAtomic(fs, dir, snapshotName(offset), s.encode(offset)); err != nil {
		return fmt.Errorf("writing producer state snapshot %d in %s: %w", offset, dir, err)
	}
	if err := DeleteSnapshotsAbove(fs, dir, offset); err != nil {
		return err
	}
	offsets, err := listSnapshots(fs, dir)
	if err != nil {
		return err
	}
	for len(offsets) > SnapshotsToKeep {
		if err := removeSnapshot(fs, dir, offsets[0]); err != nil {
			return err
		}
		offsets = offsets[1:]
	}
	return nil
}

// DeleteSnapshotsAbove deletes every snapshot in dir taken above offset,
// and syncs dir so that none comes back after a power loss. After
// log.TruncateTo, Load does this itself; after log.TruncateFullyAndStartAt
// call DeleteSnapshotsAbove(fs, dir, -1) to delete them all, then start from
// New.
func DeleteSnapshotsAbove(fs vfs.FS, dir string, offset int64) error {
	offsets, err := listSnapshots(fs, dir)
	if err != nil {
		return err
	}
	removed := false
	for _, off := range offsets {
		if off > offset {
			if err := removeSnapshot(fs, dir, off); err != nil {
				return err
			}
			removed = true
		}
	}
	if removed {
		return fs.SyncDir(dir)
	}
	return nil
}

// Load rebuilds the producer state of the log l, whose partition directory
// is dir, as appending every batch of l from its log start offset would
// leave it (with each batch's MaxTimestamp as its update time).
//
// It deletes the snapshots above l's log end offset, then loads the newest
// snapshot at or above the log start offset that passes its checks and
// replays the batch headers above it with l.ScanHeaders; with no usable
// snapshot it replays the whole log. A snapshot that fails its checks (torn,
// bit-flipped, wrong version) is deleted and the next older one tried.
// Snapshots below the log start offset are not used: the batches between
// them and the log start are gone.
//
// Call Load when the log is opened and again after l.TruncateTo, before
// appending; it does not expire idle producers, so call ExpireIdle after
// it. l must not take appends during Load.
func Load(fs vfs.FS, dir string, l *log.Log) (*State, error) {
	start, end := l.LogStartOffset(), l.LogEndOffset()
	if err := DeleteSnapshotsAbove(fs, dir, end); err != nil {
		return nil, err
	}
	offsets, err := listSnapshots(fs, dir)
	if err != nil {
		return nil, err
	}
	s, from := New(), start
	skipBelow := int64(math.MinInt64)
	for i := len(offsets) - 1; i >= 0 && offsets[i] >= start; i-- {
		loaded, err := readSnapshot(fs, dir, offsets[i])
		if errors.Is(err, errCorruptSnapshot) {
			// Skipped either way; a file that cannot be removed is
			// skipped again at the next load.
			_ = removeSnapshot(fs, dir, offsets[i])
			continue
		}
		if err != nil {
			return nil, err
		}
		s, from, skipBelow = loaded, offsets[i], offsets[i]
		break
	}
	if err := replay(l, s, from, skipBelow, nil); err != nil {
		return nil, fmt.Errorf("rebuilding producer state of %s from offset %d: %w", l.TopicPartition(), from, err)
	}
	return s, nil
}

// readSnapshot reads and decodes the snapshot taken at offset. A file that
// fails decode gives an error wrapping errCorruptSnapshot; other errors are
// the file system's.
func readSnapshot(fs vfs.FS, dir string, offset int64) (*State, error) {
	path := filepath.Join(dir, snapshotName(offset))
	b, err := vfs.ReadFile(fs, path)
	if err != nil {
		return nil, fmt.Errorf("reading producer state snapshot %s: %w", path, err)
	}
	s, err := decode(b, offset)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// listSnapshots returns the offsets of the snapshots in dir, ascending.
func listSnapshots(fs vfs.FS, dir string) ([]int64, error) {
	entries, err := fs.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing producer state snapshots: %w", err)
	}
	var offsets []int64
	for _, e := range entries { // ReadDir sorts by name: offset order
		if off, ok := parseSnapshotName(e.Name()); ok && e.Type().IsRegular() {
			offsets = append(offsets, off)
		}
	}
	return offsets, nil
}

func removeSnapshot(fs vfs.FS, dir string, offset int64) error {
	if err := fs.Remove(filepath.Join(dir, snapshotName(offset))); err != nil {
		return fmt.Errorf("deleting producer state snapshot: %w", err)
	}
	return nil
}
