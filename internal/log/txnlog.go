package log

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// AppendAbortedTxn adds an aborted transaction to the index of the segment
// holding its marker (a.LastOffset). The partition calls it right after
// appending an ABORT marker, before the next append; recovery's
// Options.RebuildTxnIndex calls it for every ABORT marker at or after the
// offset it was given. Entries must come in marker order. The entry
// becomes durable with the segment's indexes (at seal); after a crash the
// index of every recovered segment is rebuilt, so an entry is never lost
// while its marker survives.
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
	if err := segs[i].appendTxn(l.owner.fs, a); err != nil {
		return l.fail(fmt.Errorf("transaction index: %w", err))
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
// log being opened, once the segments are final. Segments from recoverFrom
// on were recovered, and their index files may lack entries written before
// the crash and not synced: with Options.RebuildTxnIndex set, those
// indexes (and any later one, and any that fails to decode) are emptied and
// rebuilt from the producer state at the first of them, as Kafka rebuilds
// the transaction index while recovering a segment. Without it they keep
// the entries whose markers survived.
func (d *Dir) loadTxnIndexes(l *Log, segs []*segment, recoverFrom int) error {
	stale := len(segs)
	if recoverFrom < len(segs) {
		stale = recoverFrom
	}
	corrupt := map[int]bool{}
	for i, s := range segs {
		// A recovered segment may have lost the tail its index
		// describes: read the index whole, then cut it to the segment.
		next := s.next.Load()
		if i >= recoverFrom {
			next = math.MaxInt64
		}
		err := s.openTxnIndex(d.fs, next)
		if errors.Is(err, errCorruptTxnIndex) {
			if i < recoverFrom {
				d.logger.Warn("transaction index does not match its segment; rebuilding it", "partition", l.tp.String(), "base", s.base, "err", err)
			}
			stale = min(stale, i)
			corrupt[i] = true
			continue
		}
		if err != nil {
			return fmt.Errorf("segment %d: transaction index: %w", s.base, err)
		}
	}
	if stale == len(segs) {
		return nil
	}
	for i, s := range segs[stale:] {
		var err error
		if d.opts.RebuildTxnIndex != nil || corrupt[stale+i] {
			err = s.resetTxnIndex()
		} else {
			err = s.truncateTxn(s.next.Load())
		}
		if err != nil {
			return fmt.Errorf("segment %d: transaction index: %w", s.base, err)
		}
	}
	if d.opts.RebuildTxnIndex != nil {
		if err := d.opts.RebuildTxnIndex(l, segs[stale].base); err != nil {
			return fmt.Errorf("rebuilding the transaction index from offset %d: %w", segs[stale].base, err)
		}
	}
	for _, s := range segs[stale:] {
		if err := s.syncTxn(); err != nil {
			return fmt.Errorf("segment %d: transaction index: %w", s.base, err)
		}
	}
	return nil
}
