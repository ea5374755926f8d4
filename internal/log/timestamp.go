package log

import (
	"errors"
	"fmt"

	"github.com/basketmq/basket/internal/record"
)

var errFound = errors.New("found")

// OffsetForTimestamp returns the offset and timestamp of the first record,
// at or above the log start offset, whose timestamp is >= ts: Kafka's
// ListOffsets by timestamp. ok is false when no record is that late.
//
// Segments whose largest timestamp is below ts are skipped; inside a
// segment the search starts after the last time-index entry below ts, walks
// batch headers to the first batch whose MaxTimestamp reaches ts, and
// decodes that batch to find the record (timestamps inside a batch need not
// be ordered).
func (l *Log) OffsetForTimestamp(ts int64) (offset, timestamp int64, ok bool, err error) {
	segs := *l.segs.Load()
	start := l.logStartOffset.Load()
	r := getHeaderReader()
	defer putHeaderReader(r)
	var dec record.Decoder
	for _, s := range segs {
		if s.maxTimestamp.Load() < ts || s.next.Load() <= start {
			continue
		}
		from := max(s.base, start)
		if e, ok := s.timeIndex.lookupBelow(ts); ok {
			from = max(from, s.base+int64(e.rel)+1)
		}
		size := s.size.Load()
		r.reset(s.log)
		pos, h, found, err := s.findBatch(r, from, size)
		if err != nil {
			return 0, 0, false, fmt.Errorf("log %s: %w", l.tp, err)
		}
		for found && pos < size {
			if h.MaxTimestamp >= ts {
				offset, timestamp, ok, err = firstRecordAtOrAfter(&dec, s, pos, &h, ts, start)
				if err != nil || ok {
					return offset, timestamp, ok, err
				}
			}
			if pos += h.Size(); pos < size {
				if h, err = r.header(pos, size); err != nil {
					return 0, 0, false, fmt.Errorf("log %s: %w", l.tp, err)
				}
			}
		}
	}
	return -1, -1, false, nil
}

// firstRecordAtOrAfter decodes the batch at pos and returns its first
// record at or above minOffset with a timestamp >= ts.
func firstRecordAtOrAfter(dec *record.Decoder, s *segment, pos int64, h *record.Header, ts, minOffset int64) (int64, int64, bool, error) {
	batch := make([]byte, h.Size())
	if _, err := s.log.ReadAt(batch, pos); err != nil {
		return 0, 0, false, err
	}
	var offset, timestamp int64
	err := dec.Records(batch, func(bh *record.Header, rec *record.Record) error {
		if o, t := rec.Offset(bh), rec.Timestamp(bh); o >= minOffset && t >= ts {
			offset, timestamp = o, t
			return errFound
		}
		return nil
	})
	if err == errFound {
		return offset, timestamp, true, nil
	}
	return 0, 0, false, err
}

// OffsetOfMaxTimestamp returns the offset and timestamp of the record with
// the largest timestamp in the log (the first such record when several
// share it): ListOffsets with timestamp -3 (KIP-734). ok is false for an
// empty log.
func (l *Log) OffsetOfMaxTimestamp() (offset, timestamp int64, ok bool, err error) {
	segs := *l.segs.Load()
	start := l.logStartOffset.Load()
	var best *segment
	for _, s := range segs {
		if s.next.Load() > start && s.maxTimestamp.Load() != record.NoTimestamp &&
			(best == nil || s.maxTimestamp.Load() > best.maxTimestamp.Load()) {
			best = s
		}
	}
	if best == nil {
		return -1, -1, false, nil
	}
	ts := best.maxTimestamp.Load()
	r := getHeaderReader()
	defer putHeaderReader(r)
	r.reset(best.log)
	size := best.size.Load()
	pos, h, found, err := best.findBatch(r, max(best.lastOffsetOfMax.Load(), start), size)
	if err != nil || !found {
		return -1, -1, false, err
	}
	var dec record.Decoder
	offset, timestamp, ok, err = firstRecordAtOrAfter(&dec, best, pos, &h, ts, start)
	if err != nil || !ok {
		return -1, -1, false, err
	}
	return offset, timestamp, true, nil
}
