package log

import (
	"errors"
	"fmt"
	"sort"

	"github.com/basketmq/basket/internal/record"
)

// ErrStopScan, returned by a ScanHeaders callback, ends the scan without an
// error.
var ErrStopScan = errors.New("stop scan")

// ScanHeaders calls fn with the header of every batch whose last offset is
// >= from, in offset order, up to the log end offset, reading only headers
// (61 bytes each, through a read-ahead window). Producer-state rebuilding
// and tools use it. fn's error ends the scan and is returned, except
// ErrStopScan which ends it cleanly. It runs concurrently with appends and
// sees the batches published when it reaches each segment.
func (l *Log) ScanHeaders(from int64, fn func(h *record.Header) error) error {
	segs := *l.segs.Load()
	from = max(from, l.logStartOffset.Load())
	r := getHeaderReader()
	defer putHeaderReader(r)
	i := max(sort.Search(len(segs), func(i int) bool { return segs[i].base > from })-1, 0)
	for ; i < len(segs); i++ {
		s := segs[i]
		size := s.size.Load()
		r.reset(s.log)
		pos, h, ok, err := s.findBatch(r, max(from, s.base), size)
		if err != nil {
			return fmt.Errorf("log %s: %w", l.tp, err)
		}
		for ok {
			if err := fn(&h); err != nil {
				if err == ErrStopScan {
					return nil
				}
				return err
			}
			if pos += h.Size(); pos >= size {
				break
			}
			if h, err = r.header(pos, size); err != nil {
				return fmt.Errorf("log %s: %w", l.tp, err)
			}
		}
	}
	return nil
}
