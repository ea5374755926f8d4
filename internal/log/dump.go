package log

// Read-only decoding of a partition directory's files for tools such as
// `basket dump-log`: the segment (.log), offset index (.index) and time
// index (.timeindex) formats of docs/format/segment.md, index.md and
// timeindex.md. Nothing here is used by the broker itself.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/basketmq/basket/internal/record"
)

// IndexEntry is one entry of a .index file: the last offset of a batch,
// relative to the segment's base offset, and the batch's start position in
// the .log file.
type IndexEntry struct {
	RelativeOffset uint32
	Position       uint32
}

// TimeIndexEntry is one entry of a .timeindex file: the largest batch
// timestamp the segment had reached, and the last offset, relative to the
// segment's base offset, of the batch carrying it.
type TimeIndexEntry struct {
	Timestamp      int64
	RelativeOffset uint32
}

// DecodeIndex decodes the bytes of a .index file. If the length is not a
// multiple of the 8-byte entry size it returns the whole entries and an
// error describing the torn tail. It does not check that entries increase.
func DecodeIndex(b []byte) ([]IndexEntry, error) {
	n := len(b) / indexEntrySize
	out := make([]IndexEntry, 0, n)
	for i := range n {
		e := b[i*indexEntrySize:]
		out = append(out, IndexEntry{binary.BigEndian.Uint32(e), binary.BigEndian.Uint32(e[4:])})
	}
	if rest := len(b) % indexEntrySize; rest != 0 {
		return out, fmt.Errorf("offset index is %d bytes, not a multiple of %d: %d bytes of a torn entry at the end", len(b), indexEntrySize, rest)
	}
	return out, nil
}

// DecodeTimeIndex decodes the bytes of a .timeindex file, like DecodeIndex
// with 12-byte entries.
func DecodeTimeIndex(b []byte) ([]TimeIndexEntry, error) {
	n := len(b) / timeEntrySize
	out := make([]TimeIndexEntry, 0, n)
	for i := range n {
		e := b[i*timeEntrySize:]
		out = append(out, TimeIndexEntry{int64(binary.BigEndian.Uint64(e)), binary.BigEndian.Uint32(e[8:])})
	}
	if rest := len(b) % timeEntrySize; rest != 0 {
		return out, fmt.Errorf("time index is %d bytes, not a multiple of %d: %d bytes of a torn entry at the end", len(b), timeEntrySize, rest)
	}
	return out, nil
}

// SegmentBatch is one batch found by ScanSegmentFile.
type SegmentBatch struct {
	// Position is where the batch starts in the .log file.
	Position int64
	Header   record.Header
	// Batch is the whole batch, LogOverhead bytes of BaseOffset and
	// Length included. It is valid only during the callback.
	Batch []byte
	// Invalid, if not nil, says why record.Validate rejects the batch
	// (a CRC mismatch, unknown attribute bits); its records should not
	// be trusted.
	Invalid error
}

// ErrTruncatedSegment is wrapped by the error ScanSegmentFile returns when
// the file ends inside a batch: the torn tail a crash can leave, which
// the broker's recovery truncates.
var ErrTruncatedSegment = errors.New("segment ends inside a batch")

// ScanSegmentFile walks the batches of a .log file of size bytes read
// through r, calling fn with each in file order. A batch whose header
// parses and whose Length fits in the file is passed to fn even if it
// fails validation (SegmentBatch.Invalid), and the walk continues after
// it. A header that does not parse stops the walk with an error naming
// the position; a batch that runs past the end of the file stops it with
// an error wrapping ErrTruncatedSegment. An error from fn stops the walk
// and is returned unchanged. Memory use is bounded by the largest batch.
func ScanSegmentFile(r io.ReaderAt, size int64, fn func(*SegmentBatch) error) error {
	var hdr [record.HeaderSize]byte
	var buf []byte
	for pos := int64(0); pos < size; {
		left := size - pos
		if left < record.HeaderSize {
			return fmt.Errorf("position %d: %d bytes left, less than a batch header (%d): %w", pos, left, record.HeaderSize, ErrTruncatedSegment)
		}
		if _, err := r.ReadAt(hdr[:], pos); err != nil {
			return fmt.Errorf("position %d: %w", pos, err)
		}
		h, err := record.ParseHeader(hdr[:])
		if err != nil {
			return fmt.Errorf("position %d: %w", pos, err)
		}
		if h.Size() > left {
			return fmt.Errorf("position %d: batch of %d bytes, only %d left in the file: %w", pos, h.Size(), left, ErrTruncatedSegment)
		}
		if int64(cap(buf)) < h.Size() {
			buf = make([]byte, h.Size())
		}
		b := buf[:h.Size()]
		if _, err := r.ReadAt(b, pos); err != nil {
			return fmt.Errorf("position %d: %w", pos, err)
		}
		sb := SegmentBatch{Position: pos, Header: h, Batch: b}
		if _, err := record.Validate(b); err != nil {
			sb.Invalid = err
		}
		if err := fn(&sb); err != nil {
			return err
		}
		pos += h.Size()
	}
	return nil
}

// ParseFileName splits a partition directory file name such as
// 00000000000000001000.timeindex into its base offset and kind ("log",
// "index", "timeindex", "snapshot", ...). A suffix Kafka or Basket adds
// while a file is being replaced or deleted (.deleted, .cleaned, .swap) is
// dropped. ok is false if the name does not start with a 20-digit offset.
func ParseFileName(name string) (base int64, kind string, ok bool) {
	for _, s := range []string{".deleted", ".cleaned", ".swap"} {
		name = strings.TrimSuffix(name, s)
	}
	digits, kind, found := strings.Cut(name, ".")
	if !found || len(digits) != 20 {
		return 0, "", false
	}
	base, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || base < 0 {
		return 0, "", false
	}
	return base, kind, true
}
