package cleaner

import (
	"github.com/basketmq/basket/internal/log"
)

// The dedupe buffer is a worker's whole memory budget. What the key map
// does not need of it holds the dirty segments read while building the map,
// so the recopy reads them from memory instead of from the file a second
// time. The map comes first: when it must grow into the space the cached
// segments take, the cache is dropped, and the recopy reads those segments
// from their files as it would anyway.

// cachedSegment is a dirty segment's bytes held in the worker's arena.
type cachedSegment struct {
	off, size int64
}

// mapBytes is the memory the key map takes now.
func (w *worker) mapBytes() int64 { return int64(len(w.m.offsets)) * bytesPerEntry }

// dropCache forgets the cached segments and frees the arena.
func (w *worker) dropCache() {
	w.arena, w.used, w.cached = nil, 0, nil
}

// beforeGrow is the key map's hook: a map about to take newBytes drops the
// cache if together they would pass the budget.
func (w *worker) beforeGrow(newBytes int64) {
	if int64(cap(w.arena))+newBytes > w.budget {
		w.dropCache()
	}
}

// cacheSpace returns room in the arena for the whole of s if the budget
// allows, or nil. The map pass reads s into it as it maps s, and then
// keeps it with keepCached.
func (w *worker) cacheSpace(s log.SegmentInfo) []byte {
	need := w.used + s.Size
	if need+w.mapBytes() > w.budget || s.Size == 0 {
		return nil
	}
	if int64(cap(w.arena)) < need {
		grown := make([]byte, min(max(2*int64(cap(w.arena)), need), w.budget-w.mapBytes()))
		copy(grown, w.arena[:w.used])
		w.arena = grown
	}
	return w.arena[w.used:need:need]
}

// keepCached records that b, from cacheSpace, now holds all of s, unless
// the cache was dropped meanwhile (the map grew into it).
func (w *worker) keepCached(s log.SegmentInfo, b []byte) {
	need := w.used + s.Size
	if int64(len(b)) != s.Size || int64(cap(w.arena)) < need || &w.arena[w.used:need][0] != &b[0] {
		return
	}
	if w.cached == nil {
		w.cached = map[int64]cachedSegment{}
	}
	w.cached[s.BaseOffset] = cachedSegment{w.used, s.Size}
	w.used = need
}

// cachedBytes returns s's bytes if the map pass cached them.
func (w *worker) cachedBytes(s log.SegmentInfo) []byte {
	c, ok := w.cached[s.BaseOffset]
	if !ok || c.size != s.Size {
		return nil
	}
	return w.arena[c.off : c.off+c.size : c.off+c.size]
}

// reserveCache sizes the arena for n bytes of dirty segments, within the
// budget, so that it is allocated once rather than grown.
func (w *worker) reserveCache(n int64) {
	n = min(n, w.budget-w.mapBytes())
	if int64(cap(w.arena)) < n {
		w.arena = make([]byte, n)
	}
}
