package log

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// completeSwaps finishes every cleaner swap found committed in a partition
// directory: for each <base>.log.swap, every segment whose base offset lies
// in [base, next) — next being the offset after the swap file's last batch —
// is one it replaces and is removed with its indexes (.txnindex included:
// the swapped segment's aborted-transaction index is its own
// <base>.txnindex.swap, absent when it has none), then the .swap files take
// the normal names. The cleaner keeps the last batch of every group it cleans, so a
// swap file's range always covers the base offsets of all the segments it
// replaced. Uncommitted *.cleaned files are left for listSegments to remove.
func (d *Dir) completeSwaps(path string) error {
	entries, err := d.fs.ReadDir(path)
	if err != nil {
		return err
	}
	var swaps []int64
	for _, e := range entries {
		if name := e.Name(); strings.HasSuffix(name, logSuffix+swapSuffix) {
			if base, ok := parseBase(strings.TrimSuffix(name, swapSuffix), logSuffix); ok {
				swaps = append(swaps, base)
			}
		}
	}
	for _, base := range swaps {
		next, err := d.swapNextOffset(path, base)
		if err != nil {
			return err
		}
		d.logger.Warn("completing an interrupted cleaner swap", "dir", path, "base", base, "next", next)
		// The .swap files take their names index first and the log last,
		// after every old segment was renamed .deleted: with no
		// <base>.index.swap left, the <base> files are already the new
		// ones (a .txnindex among them is the cleaned segment's).
		_, serr := d.fs.Stat(segmentName(path, base, indexSuffix) + swapSuffix)
		renaming := os.IsNotExist(serr)
		for _, e := range entries {
			name := e.Name()
			for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
				if b, ok := parseBase(name, suf); ok && b >= base && (b < next || b == base) && !(renaming && b == base) {
					if err := d.fs.Remove(filepath.Join(path, name)); err != nil && !os.IsNotExist(err) {
						return err
					}
				}
			}
		}
		for _, suf := range []string{indexSuffix, timeIndexSuffix, txnIndexSuffix, logSuffix} {
			name := segmentName(path, base, suf)
			if err := d.fs.Rename(name+swapSuffix, name); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
		if err := d.fs.SyncDir(path); err != nil {
			return err
		}
	}
	return nil
}

// swapNextOffset walks the batch headers of a .swap log file and returns
// the offset after its last whole batch.
func (d *Dir) swapNextOffset(path string, base int64) (int64, error) {
	f, err := d.fs.OpenFile(segmentName(path, base, logSuffix)+swapSuffix, os.O_RDONLY, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return 0, err
	}
	r := getHeaderReader()
	defer putHeaderReader(r)
	r.reset(f)
	next := base
	for pos := int64(0); pos < size; {
		h, err := r.header(pos, size)
		if err != nil {
			// Synced before it was committed, so this is damage after the
			// fact; the segment's own recovery cuts it there.
			d.logger.Warn("cleaner swap file has a bad batch", "dir", path, "base", base, "position", pos, "err", err)
			break
		}
		if h.BaseOffset < next {
			return 0, fmt.Errorf("cleaner swap file %d: batch at %d goes back to offset %d", base, pos, h.BaseOffset)
		}
		next = h.NextOffset()
		pos += h.Size()
	}
	return next, nil
}
