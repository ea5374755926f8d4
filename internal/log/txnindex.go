package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/basketmq/basket/internal/vfs"
)

// txnIndexSuffix names a segment's aborted-transaction index
// (docs/format/txnindex.md).
const txnIndexSuffix = ".txnindex"

// AbortedTxnSize is the size of one entry of a .txnindex file.
const AbortedTxnSize = 34

// abortedTxnVersion is the only entry version Kafka and Basket write.
const abortedTxnVersion = 0

// AbortedTxn is one entry of a segment's aborted-transaction index: a
// transaction of ProducerID whose first data batch in the partition is at
// FirstOffset and whose ABORT marker is at LastOffset, in this segment.
// LastStableOffset is the partition's last stable offset once the marker was
// written: the first offset of the earliest transaction still open, or
// LastOffset+1. A read_committed fetch gives the client the aborted
// transactions overlapping the data it returns, so it can drop their
// records (KIP-98).
type AbortedTxn struct {
	ProducerID       int64
	FirstOffset      int64
	LastOffset       int64
	LastStableOffset int64
}

// appendTo encodes a in Kafka's AbortedTxn layout: int16 version 0, then
// the four int64 fields, big-endian.
func (a AbortedTxn) appendTo(b []byte) []byte {
	be := binary.BigEndian
	b = be.AppendUint16(b, abortedTxnVersion)
	b = be.AppendUint64(b, uint64(a.ProducerID))
	b = be.AppendUint64(b, uint64(a.FirstOffset))
	b = be.AppendUint64(b, uint64(a.LastOffset))
	return be.AppendUint64(b, uint64(a.LastStableOffset))
}

// errCorruptTxnIndex marks a .txnindex whose bytes cannot be what the
// writer wrote for its segment.
var errCorruptTxnIndex = errors.New("corrupt transaction index")

// DecodeTxnIndex parses the content of a .txnindex file of the segment
// holding offsets [base, next). Every entry must be version 0 with a
// producer id >= 0, 0 <= FirstOffset <= LastOffset, LastOffset in
// [base, next), 0 <= LastStableOffset <= LastOffset+1, and entries in
// strictly ascending LastOffset order; a length that is not a multiple of
// AbortedTxnSize (a torn write) or any other violation is an error
// wrapping errCorruptTxnIndex. It allocates at most len(b) worth of
// entries.
func DecodeTxnIndex(b []byte, base, next int64) ([]AbortedTxn, error) {
	if len(b)%AbortedTxnSize != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a whole number of %d-byte entries", errCorruptTxnIndex, len(b), AbortedTxnSize)
	}
	be := binary.BigEndian
	out := make([]AbortedTxn, 0, len(b)/AbortedTxnSize)
	prev := int64(-1)
	for pos := 0; pos < len(b); pos += AbortedTxnSize {
		e := b[pos : pos+AbortedTxnSize]
		if v := int16(be.Uint16(e)); v != abortedTxnVersion {
			return nil, fmt.Errorf("%w: entry %d has version %d", errCorruptTxnIndex, pos/AbortedTxnSize, v)
		}
		a := AbortedTxn{
			ProducerID:       int64(be.Uint64(e[2:])),
			FirstOffset:      int64(be.Uint64(e[10:])),
			LastOffset:       int64(be.Uint64(e[18:])),
			LastStableOffset: int64(be.Uint64(e[26:])),
		}
		if a.ProducerID < 0 || a.FirstOffset < 0 || a.FirstOffset > a.LastOffset || a.LastOffset < base || a.LastOffset >= next ||
			a.LastOffset <= prev || a.LastStableOffset < 0 || a.LastStableOffset > a.LastOffset+1 {
			return nil, fmt.Errorf("%w: entry %d (%+v) in segment [%d, %d)", errCorruptTxnIndex, pos/AbortedTxnSize, a, base, next)
		}
		prev = a.LastOffset
		out = append(out, a)
	}
	return out, nil
}

// txnIndex is a segment's aborted-transaction index. The entries live in
// memory (aborts are rare; each costs 34 bytes); the file is created on the
// first entry, written at every append and synced with the segment's other
// indexes when the segment is sealed. After a crash the index of every
// recovered segment is rebuilt from producer state (Options.RebuildTxnIndex)
// rather than trusted. Readers (collect) run concurrently with the one
// appender, which holds Log.mu or is recovery.
type txnIndex struct {
	mu      sync.RWMutex // guards entries
	entries []AbortedTxn

	fmu     sync.Mutex // guards the file state: the appender and the flusher
	f       vfs.File   // nil until the first entry or when no file exists
	written int        // entries in the file
	synced  bool       // the file holds nothing unsynced
}

// openTxnIndex opens the segment's .txnindex if it exists and reads it,
// checking entries against the offsets below next. With tornTail, a
// partial last entry (a write a crash cut) is dropped and cut from the
// file rather than failing the file. A file that does not decode is
// reported with errCorruptTxnIndex; the entries are then empty and the
// caller rebuilds them.
func (s *segment) openTxnIndex(fs vfs.FS, next int64, tornTail bool) error {
	name := segmentName(s.dir, s.base, txnIndexSuffix)
	f, err := fs.OpenFile(name, os.O_RDWR, 0o644)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	x := &s.txn
	x.fmu.Lock()
	defer x.fmu.Unlock()
	x.f, x.synced = f, true
	size, err := f.Size()
	if err != nil {
		return err
	}
	if size > 1<<31 {
		return fmt.Errorf("%w: %d bytes", errCorruptTxnIndex, size)
	}
	b := make([]byte, size)
	if n, err := f.ReadAt(b, 0); int64(n) != size {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if whole := len(b) / AbortedTxnSize * AbortedTxnSize; tornTail && whole < len(b) {
		b = b[:whole]
		x.synced = false
		if err := f.Truncate(int64(whole)); err != nil {
			return err
		}
	}
	entries, err := DecodeTxnIndex(b, s.base, next)
	if err != nil {
		return err
	}
	x.entries, x.written = entries, len(entries)
	return nil
}

// resetTxnIndex empties the index and cuts its file, for a segment whose
// index is to be rebuilt.
func (s *segment) resetTxnIndex() error {
	x := &s.txn
	x.mu.Lock()
	x.entries = nil
	x.mu.Unlock()
	x.fmu.Lock()
	defer x.fmu.Unlock()
	x.written = 0
	if x.f == nil {
		return nil
	}
	x.synced = false
	return x.f.Truncate(0)
}

// appendTxn adds an entry, creating the file on the first one (named with
// the segment's suffix: .cleaned while the cleaner writes it), and writes
// it (without a sync). created reports a new file, whose name the caller
// must make durable with a directory sync before trusting the entry.
func (s *segment) appendTxn(fs vfs.FS, a AbortedTxn) (created bool, err error) {
	x := &s.txn
	x.fmu.Lock()
	defer x.fmu.Unlock()
	if x.f == nil {
		f, err := fs.OpenFile(segmentName(s.dir, s.base, txnIndexSuffix)+s.suffix, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
		if err != nil {
			return false, err
		}
		x.f, created = f, true
	}
	if _, err := x.f.WriteAt(a.appendTo(make([]byte, 0, AbortedTxnSize)), int64(x.written)*AbortedTxnSize); err != nil {
		x.f.Truncate(int64(x.written) * AbortedTxnSize)
		return created, err
	}
	x.written++
	x.synced = false
	x.mu.Lock()
	x.entries = append(x.entries, a)
	x.mu.Unlock()
	return created, nil
}

// truncateTxn drops the entries whose marker is at or after offset, as
// Kafka's TransactionIndex.truncateTo, and cuts the file to match.
func (s *segment) truncateTxn(offset int64) error {
	x := &s.txn
	x.mu.Lock()
	n := len(x.entries)
	for n > 0 && x.entries[n-1].LastOffset >= offset {
		n--
	}
	x.entries = x.entries[:n]
	x.mu.Unlock()
	x.fmu.Lock()
	defer x.fmu.Unlock()
	if x.f == nil || n == x.written {
		return nil
	}
	x.written = n
	x.synced = false
	return x.f.Truncate(int64(n) * AbortedTxnSize)
}

// syncTxn makes the index file durable: when a sealed segment's indexes
// are synced, on truncation, and for an entry added to a sealed segment.
func (s *segment) syncTxn() error {
	x := &s.txn
	x.fmu.Lock()
	defer x.fmu.Unlock()
	if x.f == nil || x.synced {
		return nil
	}
	if err := x.f.Sync(); err != nil {
		return err
	}
	x.synced = true
	return nil
}

// hasTxnFile reports whether the segment has a .txnindex file.
func (s *segment) hasTxnFile() bool {
	x := &s.txn
	x.fmu.Lock()
	defer x.fmu.Unlock()
	return x.f != nil
}

func (s *segment) closeTxn() error {
	x := &s.txn
	x.fmu.Lock()
	defer x.fmu.Unlock()
	if x.f == nil {
		return nil
	}
	return x.f.Close()
}

// collectTxns appends to out the entries that overlap [from, upper): marker
// at or after from, first offset below upper. complete reports that an
// entry's LastStableOffset passed upper, so no later segment can hold
// another overlapping entry (Kafka's TxnIndexSearchResult.isComplete).
func (s *segment) collectTxns(out []AbortedTxn, from, upper int64) ([]AbortedTxn, bool) {
	x := &s.txn
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, a := range x.entries {
		if a.LastOffset >= from && a.FirstOffset < upper {
			out = append(out, a)
		}
		if a.LastStableOffset > upper {
			return out, true
		}
	}
	return out, false
}
