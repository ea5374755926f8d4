package cleaner

import (
	"sort"

	"github.com/basketmq/basket/internal/record"
)

// Batch liveness lets the recopy decide about most dirty batches from
// their header alone. While the map pass puts a batch's keys into the map
// it counts, for that batch, the records that are the latest of their key
// so far; when a later record takes a key over, the batch that held the
// key's previous latest record loses one. At the end of the pass a batch's
// count is the number of its records the recopy would keep, so a batch
// counted at 0 is dropped and one counted at RecordsCount is written as it
// is, without reading its records a second time. Only plain batches are
// counted: data batches wholly inside the mapped section, with no record
// of null key or null value (those need the record-by-record rules) and
// no delete horizon. Every other batch takes the record-by-record path.

// batchLive is the liveness of one batch of the map pass.
type batchLive struct {
	base, last int64 // the batch's offset range
	live       int32 // its records that are the latest of their key
	plain      bool  // false once a record needs the record-by-record rules
}

// bytesPerLive is the memory one batchLive takes.
const bytesPerLive = 24

// liveShare is the part of a worker's dedupe buffer set aside for batch
// liveness (1/16); the map and the segment cache share the rest.
const liveShare = 16

// liveTracker holds the liveness of the batches of one map pass, in offset
// order, up to max batches; the batches after that are not tracked.
type liveTracker struct {
	batches []batchLive
	max     int
	cursor  int // the recopy's position in batches
}

func (t *liveTracker) reset() {
	t.batches, t.cursor = t.batches[:0], 0
}

// begin starts tracking the batch h, if there is room; it reports whether
// the batch is tracked.
func (t *liveTracker) begin(h *record.Header) bool {
	if len(t.batches) >= t.max || h.Attributes.DeleteHorizon() {
		return false
	}
	t.batches = append(t.batches, batchLive{base: h.BaseOffset, last: h.LastOffset(), plain: true})
	return true
}

// current is the batch begin started.
func (t *liveTracker) current() *batchLive { return &t.batches[len(t.batches)-1] }

// drop forgets the batch begin started: the map filled inside it.
func (t *liveTracker) drop() { t.batches = t.batches[:len(t.batches)-1] }

// overtaken counts that the record at offset is no longer the latest of
// its key.
func (t *liveTracker) overtaken(offset int64) {
	i := sort.Search(len(t.batches), func(i int) bool { return t.batches[i].base > offset }) - 1
	if i >= 0 && offset <= t.batches[i].last {
		t.batches[i].live--
	}
}

// lookup returns the liveness of the batch at base, if tracked; the recopy
// asks in offset order.
func (t *liveTracker) lookup(base int64) (batchLive, bool) {
	for t.cursor < len(t.batches) && t.batches[t.cursor].base < base {
		t.cursor++
	}
	if t.cursor < len(t.batches) && t.batches[t.cursor].base == base {
		return t.batches[t.cursor], true
	}
	return batchLive{}, false
}
