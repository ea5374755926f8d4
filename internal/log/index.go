package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/basketmq/basket/internal/vfs"
)

// offsetIndex is a segment's sparse offset index: entries map the last
// offset of a batch, relative to the segment's base offset, to the file
// position where that batch starts. Entries are added every
// index.interval.bytes of log, so a lookup lands at most that many bytes
// before the batch it wants.
//
// The entries live in memory; the file (.index, docs/format/index.md) is
// brought up to date by flush and is rebuilt from the segment whenever it
// cannot be trusted. Lookups may run concurrently with one appender.
type offsetIndex struct {
	mu      sync.RWMutex
	entries []indexEntry
	written int // entries already written to the file
	maxSize int // entries allowed before the segment must roll
}

type indexEntry struct {
	rel uint32 // last offset of the batch - segment base offset
	pos uint32 // file position of the batch
}

const indexEntrySize = 8

func newOffsetIndex(maxBytes int) *offsetIndex {
	return &offsetIndex{maxSize: max(maxBytes/indexEntrySize, 1)}
}

// full reports whether another entry would exceed segment.index.bytes.
func (x *offsetIndex) full() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.entries) >= x.maxSize
}

func (x *offsetIndex) append(rel uint32, pos uint32) {
	x.mu.Lock()
	x.entries = append(x.entries, indexEntry{rel, pos})
	x.mu.Unlock()
}

// lookup returns the last entry whose offset is <= rel, or ok=false when
// every entry is above it (the caller then scans from the segment start).
func (x *offsetIndex) lookup(rel uint32) (indexEntry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	i := sort.Search(len(x.entries), func(i int) bool { return x.entries[i].rel > rel })
	if i == 0 {
		return indexEntry{}, false
	}
	return x.entries[i-1], true
}

// lookupPosition returns the last entry whose position is <= pos.
func (x *offsetIndex) lookupPosition(pos uint32) (indexEntry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	i := sort.Search(len(x.entries), func(i int) bool { return x.entries[i].pos > pos })
	if i == 0 {
		return indexEntry{}, false
	}
	return x.entries[i-1], true
}

func (x *offsetIndex) last() (indexEntry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if len(x.entries) == 0 {
		return indexEntry{}, false
	}
	return x.entries[len(x.entries)-1], true
}

// truncateToPosition drops the entries of batches at or after pos.
func (x *offsetIndex) truncateToPosition(pos uint32) {
	x.mu.Lock()
	defer x.mu.Unlock()
	i := sort.Search(len(x.entries), func(i int) bool { return x.entries[i].pos >= pos })
	x.entries = x.entries[:i]
	x.written = min(x.written, i)
}

func (x *offsetIndex) reset() {
	x.mu.Lock()
	x.entries = x.entries[:0]
	x.written = 0
	x.mu.Unlock()
}

// writeTo brings f up to date with the in-memory entries. Only the appender
// or the flusher (holding the segment's flush lock) calls it.
func (x *offsetIndex) writeTo(f vfs.File) error {
	x.mu.RLock()
	from, to := x.written, len(x.entries)
	buf := make([]byte, 0, (to-from)*indexEntrySize)
	for _, e := range x.entries[from:to] {
		buf = binary.BigEndian.AppendUint32(buf, e.rel)
		buf = binary.BigEndian.AppendUint32(buf, e.pos)
	}
	x.mu.RUnlock()
	if from == to {
		return nil
	}
	if err := f.Truncate(int64(from) * indexEntrySize); err != nil {
		return err
	}
	if _, err := f.WriteAt(buf, int64(from)*indexEntrySize); err != nil {
		return err
	}
	x.mu.Lock()
	if x.written == from { // not truncated meanwhile
		x.written = to
	}
	x.mu.Unlock()
	return nil
}

var errBadIndex = errors.New("index does not match its segment")

// load reads an index file and checks it against the segment: whole entries,
// offsets and positions strictly increasing, every position inside the
// segment. Any mismatch returns errBadIndex and the caller rebuilds.
func (x *offsetIndex) load(f vfs.File, segmentSize int64) error {
	b, err := vfs.ReadAll(f)
	if err != nil {
		return err
	}
	if len(b)%indexEntrySize != 0 {
		return fmt.Errorf("%w: %d bytes is not a whole number of entries", errBadIndex, len(b))
	}
	entries := make([]indexEntry, 0, len(b)/indexEntrySize)
	for i := 0; i < len(b); i += indexEntrySize {
		e := indexEntry{binary.BigEndian.Uint32(b[i:]), binary.BigEndian.Uint32(b[i+4:])}
		if n := len(entries); n > 0 && (e.rel <= entries[n-1].rel || e.pos <= entries[n-1].pos) {
			return fmt.Errorf("%w: entry %d is not above the one before", errBadIndex, n)
		}
		if int64(e.pos) >= segmentSize {
			return fmt.Errorf("%w: entry %d points past the segment end", errBadIndex, len(entries))
		}
		entries = append(entries, e)
	}
	x.mu.Lock()
	x.entries, x.written = entries, len(entries)
	x.mu.Unlock()
	return nil
}
