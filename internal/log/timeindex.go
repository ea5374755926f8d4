package log

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync"

	"github.com/basketmq/basket/internal/vfs"
)

// timeIndex is a segment's sparse time index: each entry holds the largest
// batch timestamp seen in the segment so far and the last offset of the batch
// that carried it, relative to the segment's base offset. Timestamps in the
// index only increase, even when the producers' timestamps do not, so a
// search for "the first record at or after T" can start at the last entry
// whose timestamp is below T.
//
// Like offsetIndex, entries are kept in memory and written to the
// .timeindex file (docs/format/timeindex.md) lazily; a file that does not
// match its segment is rebuilt.
type timeIndex struct {
	mu      sync.RWMutex
	entries []timeEntry
	written int
}

type timeEntry struct {
	ts  int64
	rel uint32
}

const timeEntrySize = 12

// maybeAppend records (ts, rel) if ts is larger than the last entry's.
func (x *timeIndex) maybeAppend(ts int64, rel uint32) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if n := len(x.entries); n > 0 && (ts <= x.entries[n-1].ts || rel < x.entries[n-1].rel) {
		return
	}
	x.entries = append(x.entries, timeEntry{ts, rel})
}

// lookupBelow returns the last entry whose timestamp is < ts. Every batch up
// to and including that entry's offset has a timestamp below ts.
func (x *timeIndex) lookupBelow(ts int64) (timeEntry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	i := sort.Search(len(x.entries), func(i int) bool { return x.entries[i].ts >= ts })
	if i == 0 {
		return timeEntry{}, false
	}
	return x.entries[i-1], true
}

func (x *timeIndex) last() (timeEntry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if len(x.entries) == 0 {
		return timeEntry{}, false
	}
	return x.entries[len(x.entries)-1], true
}

// truncateToRel drops entries whose offset is >= rel.
func (x *timeIndex) truncateToRel(rel uint32) {
	x.mu.Lock()
	defer x.mu.Unlock()
	i := sort.Search(len(x.entries), func(i int) bool { return x.entries[i].rel >= rel })
	x.entries = x.entries[:i]
	x.written = min(x.written, i)
}

func (x *timeIndex) reset() {
	x.mu.Lock()
	x.entries = x.entries[:0]
	x.written = 0
	x.mu.Unlock()
}

func (x *timeIndex) writeTo(f vfs.File) error {
	x.mu.RLock()
	from, to := x.written, len(x.entries)
	buf := make([]byte, 0, (to-from)*timeEntrySize)
	for _, e := range x.entries[from:to] {
		buf = binary.BigEndian.AppendUint64(buf, uint64(e.ts))
		buf = binary.BigEndian.AppendUint32(buf, e.rel)
	}
	x.mu.RUnlock()
	if from == to {
		return nil
	}
	if err := f.Truncate(int64(from) * timeEntrySize); err != nil {
		return err
	}
	if _, err := f.WriteAt(buf, int64(from)*timeEntrySize); err != nil {
		return err
	}
	x.mu.Lock()
	if x.written == from {
		x.written = to
	}
	x.mu.Unlock()
	return nil
}

// load reads a time index and checks it: whole entries, timestamps strictly
// increasing, offsets not decreasing and not beyond lastRel (the segment's
// last offset relative to its base).
func (x *timeIndex) load(f vfs.File, lastRel int64) error {
	b, err := vfs.ReadAll(f)
	if err != nil {
		return err
	}
	if len(b)%timeEntrySize != 0 {
		return fmt.Errorf("%w: %d bytes is not a whole number of time entries", errBadIndex, len(b))
	}
	entries := make([]timeEntry, 0, len(b)/timeEntrySize)
	for i := 0; i < len(b); i += timeEntrySize {
		e := timeEntry{int64(binary.BigEndian.Uint64(b[i:])), binary.BigEndian.Uint32(b[i+8:])}
		if n := len(entries); n > 0 && (e.ts <= entries[n-1].ts || e.rel < entries[n-1].rel) {
			return fmt.Errorf("%w: time entry %d is not above the one before", errBadIndex, n)
		}
		if int64(e.rel) > lastRel {
			return fmt.Errorf("%w: time entry %d points past the segment's last offset", errBadIndex, len(entries))
		}
		entries = append(entries, e)
	}
	x.mu.Lock()
	x.entries, x.written = entries, len(entries)
	x.mu.Unlock()
	return nil
}
