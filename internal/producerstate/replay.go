package producerstate

import (
	"errors"
	"fmt"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
)

// readMarker reads the transaction marker of the control batch with header
// h from l. ok is false for a control batch holding no marker (compaction
// may empty one); a marker that does not parse is an error wrapping
// record.ErrCorrupt.
func readMarker(l *log.Log, h *record.Header) (m record.EndTxnMarker, ok bool, err error) {
	region, err := l.Read(h.BaseOffset, int(h.Size()))
	if err != nil {
		return m, false, err
	}
	b, err := region.ReadAll()
	if err != nil {
		return m, false, err
	}
	if int64(len(b)) < h.Size() {
		return m, false, fmt.Errorf("%w: control batch at %d cut short", record.ErrCorrupt, h.BaseOffset)
	}
	var d record.Decoder
	err = d.Records(b[:h.Size()], func(_ *record.Header, r *record.Record) error {
		if ok {
			return nil
		}
		m, err = record.ParseEndTxnMarker(r)
		ok = err == nil
		return err
	})
	return m, ok, err
}

// replay applies the batches of l from offset from to s, reading the
// content of each transaction marker so that its coordinator epoch and
// type are known. Batches below skipBelow are passed over. completed, when
// not nil, is called after each marker that completed a transaction, with
// the state already updated.
func replay(l *log.Log, s *State, from, skipBelow int64, completed func(c CompletedTxn) error) error {
	return l.ScanHeaders(from, func(h *record.Header) error {
		if h.BaseOffset < skipBelow {
			return nil
		}
		if !h.Attributes.Control() || h.ProducerID < 0 {
			s.Update(h, h.MaxTimestamp)
			return nil
		}
		m, ok, err := readMarker(l, h)
		if err != nil || !ok {
			// A marker that cannot be read still ends the
			// producer's transaction, as any control batch does.
			s.Update(h, h.MaxTimestamp)
			return nil
		}
		c, done := s.UpdateMarker(h, m, h.MaxTimestamp)
		if done && completed != nil {
			return completed(c)
		}
		return nil
	})
}

// RebuildTxnIndex rebuilds the aborted-transaction index of l from offset
// from on, for log.Options.RebuildTxnIndex: recovery re-validated the
// segments from the one at from and emptied their indexes. It loads the
// newest readable producer-state snapshot at or below from (or starts from
// the log start offset), replays the log to its end, and adds an entry for
// every ABORT marker at or after from that completed a transaction, with
// the last stable offset as it stood after the marker — what the append
// path wrote before the crash. It does not delete or write snapshots.
func RebuildTxnIndex(l *log.Log, from int64) error {
	fs, dir := l.FS(), l.Path()
	start := l.LogStartOffset()
	offsets, err := listSnapshots(fs, dir)
	if err != nil {
		return err
	}
	s, at := New(), start
	for i := len(offsets) - 1; i >= 0; i-- {
		if offsets[i] > from || offsets[i] > l.LogEndOffset() {
			continue
		}
		if offsets[i] < start {
			break
		}
		loaded, err := readSnapshot(fs, dir, offsets[i])
		if errors.Is(err, errCorruptSnapshot) {
			continue
		}
		if err != nil {
			return err
		}
		s, at = loaded, offsets[i]
		break
	}
	skip := int64(-1)
	if at > start {
		skip = at
	}
	return replay(l, s, at, skip, func(c CompletedTxn) error {
		if !c.Aborted || c.LastOffset < from {
			return nil
		}
		return l.AppendAbortedTxn(log.AbortedTxn{ProducerID: c.ProducerID, FirstOffset: c.FirstOffset,
			LastOffset: c.LastOffset, LastStableOffset: s.LastStableOffsetAfter(c)})
	})
}
