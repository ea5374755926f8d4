package log

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/basketmq/basket/internal/record"
)

// AppendAbortedTxn adds an aborted transaction to the index of the segment
// holding its marker (a.LastOffset), whose batch is already in the log:
// recovery's Options.RebuildTxnIndex calls it for every ABORT marker at or
// after the offset it was given. Entries must come in marker order. The
// append path uses AppendMarker instead, which writes the entry with the
// marker. An entry added to a sealed segment is synced at once; one in the
// active segment with the segment's next flush.
func (l *Log) AppendAbortedTxn(a AbortedTxn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.err(); err != nil {
		return err
	}
	segs := *l.segs.Load()
	i := sort.Search(len(segs), func(i int) bool { return segs[i].base > a.LastOffset }) - 1
	if i < 0 || a.LastOffset >= segs[i].next.Load() || a.FirstOffset > a.LastOffset {
		return fmt.Errorf("log %s: aborted transaction %+v is not in the log", l.tp, a)
	}
	created, err := segs[i].appendTxn(l.owner.fs, a)
	if err != nil {
		return l.fail(fmt.Errorf("transaction index: %w", err))
	}
	if created {
		l.dirDirty.Store(true) // the next flush syncs the new name
	}
	if segs[i].sealed.Load() {
		// The flusher may have synced this segment's indexes already
		// and let the recovery point pass it: sync the entry now.
		if err := segs[i].syncTxn(); err != nil {
			return l.fail(fmt.Errorf("transaction index: %w", err))
		}
	}
	return nil
}

// AppendMarker is Append for a transaction marker: aborted is called with
// the offset the marker gets and returns the aborted-transaction index
// entry to write with it, or false for none (a COMMIT, or an ABORT of a
// transaction with no data here). The entry is written before the log end
// offset moves, so the flush that makes the marker durable makes the entry
// durable too, and recovery need rebuild only entries of markers above the
// recovery point. aborted runs under the log's append lock and must not
// call the log.
func (l *Log) AppendMarker(batch []byte, leaderEpoch int32, aborted func(offset int64) (AbortedTxn, bool)) (AppendInfo, error) {
	h, err := record.Validate(batch)
	if err != nil {
		return AppendInfo{}, err
	}
	return l.append(batch, h, leaderEpoch, aborted)
}

// AbortedTxns returns the aborted transactions that overlap the offsets
// [from, upper): those whose ABORT marker is at or after from and whose
// first offset is below upper, in marker order. A read_committed fetch
// returning data from from up to upper sends them to the client (KIP-98).
// It reads the index of the segment holding from and of the later ones
// until an entry's LastStableOffset shows no later entry can overlap, as
// Kafka's collectAbortedTransactions. Safe for concurrent use with the
// appender; the caller owns the result.
func (l *Log) AbortedTxns(from, upper int64) []AbortedTxn {
	segs := *l.segs.Load()
	i := max(sort.Search(len(segs), func(i int) bool { return segs[i].base > from })-1, 0)
	var out []AbortedTxn
	for ; i < len(segs); i++ {
		var complete bool
		if out, complete = segs[i].collectTxns(out, from, upper); complete {
			break
		}
	}
	return out
}

// loadTxnIndexes opens the aborted-transaction index of every segment of a
// log being opened, once the segments are final. An index of a segment
// below the recovery point is trusted if it decodes. Segments from
// recoverFrom on were re-validated after a crash: entries of markers below
// the checkpointed recovery point rp were synced with those markers and
// are kept, but a marker above it may have survived while its entry did
// not. So with Options.RebuildTxnIndex set, every entry from the first
// such offset on (the recovery point, or the base of the first segment
// whose index fails to decode) is dropped and rebuilt from the producer
// state there, as Kafka rebuilds the transaction index while recovering a
// segment. Without it the entries whose markers survived are kept.
func (d *Dir) loadTxnIndexes(l *Log, segs []*segment, recoverFrom int, rp int64, hasRP bool) error {
	first := min(recoverFrom, len(segs)) // first segment whose index is not trusted whole
	corrupt := map[int]bool{}
	for i, s := range segs {
		// A recovered segment may have lost the tail its index
		// describes, and the index a torn last entry: read what is
		// whole, then cut it below.
		recovered := i >= recoverFrom
		next := s.next.Load()
		if recovered {
			next = math.MaxInt64
		}
		err := s.openTxnIndex(d.fs, next, recovered)
		if errors.Is(err, errCorruptTxnIndex) {
			if !recovered {
				d.logger.Warn("transaction index does not match its segment; rebuilding it", "partition", l.tp.String(), "base", s.base, "err", err)
			}
			corrupt[i] = true
			first = min(first, i)
			continue
		}
		if err != nil {
			return fmt.Errorf("segment %d: transaction index: %w", s.base, err)
		}
	}
	if first == len(segs) {
		return nil
	}
	rebuild := d.opts.RebuildTxnIndex
	cut := segs[first].base
	if first == recoverFrom && !corrupt[first] && hasRP {
		cut = max(cut, min(rp, segs[first].next.Load()))
	}
	for i := first; i < len(segs); i++ {
		s := segs[i]
		var err error
		switch {
		case corrupt[i]:
			err = s.resetTxnIndex()
		case rebuild != nil:
			err = s.truncateTxn(cut)
		default:
			err = s.truncateTxn(s.next.Load())
		}
		if err != nil {
			return fmt.Errorf("segment %d: transaction index: %w", s.base, err)
		}
	}
	if rebuild != nil {
		if err := rebuild(l, cut); err != nil {
			return fmt.Errorf("rebuilding the transaction index from offset %d: %w", cut, err)
		}
	}
	for _, s := range segs[first:] {
		if err := s.syncTxn(); err != nil {
			return fmt.Errorf("segment %d: transaction index: %w", s.base, err)
		}
	}
	return nil
}
