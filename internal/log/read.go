package log

import (
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

// Region is a byte range of a segment file holding whole batches, for the
// server to send as is (with sendfile where the file is an OS file).
//
// The file stays open at least file.delete.delay.ms after the segment is
// deleted by retention or truncation, so a reader that sends the region
// promptly never sees it closed. If the log was truncated meanwhile, reading
// may return fewer bytes than Len; send what was read.
type Region struct {
	File vfs.File
	Pos  int64
	Len  int64
	// BaseOffset is the base offset of the first batch in the region, which
	// may be below the offset asked for: the whole batch containing it is
	// returned.
	BaseOffset int64
}

// ReadAll copies the region into memory; for tests and tools, not the fetch
// path.
func (r Region) ReadAll() ([]byte, error) {
	if r.Len == 0 {
		return nil, nil
	}
	b := make([]byte, r.Len)
	n, err := r.File.ReadAt(b, r.Pos)
	if err == io.EOF && int64(n) == r.Len {
		err = nil
	}
	return b[:n], err
}

// Read returns the batches from the one containing offset, up to the log end
// offset; see ReadUpTo.
func (l *Log) Read(offset int64, maxBytes int) (Region, error) {
	return l.ReadUpTo(offset, maxBytes, l.LogEndOffset())
}

// ReadUpTo returns a region that starts at the batch containing offset (or
// the first batch after it, across a gap), ends on a batch boundary, holds no
// batch reaching limit or beyond (limit is the high watermark or the durable
// offset, always a batch boundary), and is at most maxBytes long unless the
// first batch alone is larger, in which case it holds exactly that batch
// (KIP-74). A region never spans segments: the next read continues in the
// next one.
//
// An offset below LogStartOffset or above LogEndOffset is
// ErrOffsetOutOfRange. An offset at or past limit gives an empty region.
func (l *Log) ReadUpTo(offset int64, maxBytes int, limit int64) (Region, error) {
	if l.closed.Load() {
		return Region{}, ErrClosed
	}
	segs := *l.segs.Load()
	start, end := l.logStartOffset.Load(), l.logEndOffset.Load()
	if offset < start || offset > end {
		return Region{}, fmt.Errorf("%w: %d is outside [%d, %d] of %s", ErrOffsetOutOfRange, offset, start, end, l.tp)
	}
	limit = min(limit, end)
	if offset >= limit {
		return Region{}, nil
	}
	r := getHeaderReader()
	defer putHeaderReader(r)
	i := max(sort.Search(len(segs), func(i int) bool { return segs[i].base > offset })-1, 0)
	for ; i < len(segs); i++ {
		s := segs[i]
		size := s.size.Load()
		r.reset(s.log)
		pos, h, ok, err := s.findBatch(r, max(offset, s.base), size)
		if err != nil {
			return Region{}, fmt.Errorf("log %s: %w", l.tp, err)
		}
		if !ok {
			continue
		}
		if h.LastOffset() >= limit {
			return Region{}, nil
		}
		visible := size
		if limit < s.next.Load() {
			if p, _, ok, err := s.findBatch(r, limit, size); err != nil {
				return Region{}, fmt.Errorf("log %s: %w", l.tp, err)
			} else if ok {
				visible = p
			}
		}
		regionEnd, err := s.boundaryBefore(r, pos, h.Size(), pos+int64(max(maxBytes, 0)), visible)
		if err != nil {
			return Region{}, fmt.Errorf("log %s: %w", l.tp, err)
		}
		return Region{File: s.log, Pos: pos, Len: regionEnd - pos, BaseOffset: h.BaseOffset}, nil
	}
	return Region{}, nil
}

// findBatch returns the position and header of the first batch whose last
// offset is >= target among the first size bytes, starting from the index.
func (s *segment) findBatch(r *headerReader, target, size int64) (int64, record.Header, bool, error) {
	var pos int64
	if target > s.base {
		if target-s.base > int64(^uint32(0)) {
			return 0, record.Header{}, false, nil
		}
		if e, ok := s.index.lookup(s.relative(target)); ok {
			if int64(e.pos) >= size {
				return 0, record.Header{}, false, nil // indexed batch not visible yet
			}
			pos = int64(e.pos)
		}
	}
	for pos < size {
		h, err := r.header(pos, size)
		if err != nil {
			return 0, h, false, err
		}
		if h.LastOffset() >= target {
			return pos, h, true, nil
		}
		pos += h.Size()
	}
	return 0, record.Header{}, false, nil
}

// boundaryBefore returns the end of the last whole batch that ends at or
// before maxEnd, counting from the batch at pos of firstSize bytes; at least
// that first batch. It never passes visible.
func (s *segment) boundaryBefore(r *headerReader, pos, firstSize, maxEnd, visible int64) (int64, error) {
	p := pos + firstSize
	if p >= maxEnd || p >= visible {
		return min(p, visible), nil
	}
	if maxEnd >= visible {
		return visible, nil
	}
	if e, ok := s.index.lookupPosition(uint32(maxEnd)); ok && int64(e.pos) > p {
		p = int64(e.pos)
	}
	for p < visible {
		h, err := r.header(p, visible)
		if err != nil {
			return 0, err
		}
		if p+h.Size() > maxEnd {
			break
		}
		p += h.Size()
	}
	return p, nil
}

// headerReader reads batch headers through a small read-ahead window, so a
// scan over small batches costs one read per window rather than per batch.
type headerReader struct {
	f     vfs.File
	buf   []byte
	start int64
	n     int
}

const headerWindow = 4096

var headerReaders = sync.Pool{New: func() any { return &headerReader{buf: make([]byte, headerWindow)} }}

func getHeaderReader() *headerReader  { return headerReaders.Get().(*headerReader) }
func putHeaderReader(r *headerReader) { r.f = nil; headerReaders.Put(r) }

func (r *headerReader) reset(f vfs.File) { r.f, r.start, r.n = f, 0, 0 }

// header parses the batch header at pos; limit is the end of valid data.
func (r *headerReader) header(pos, limit int64) (record.Header, error) {
	if pos+record.HeaderSize > limit {
		return record.Header{}, fmt.Errorf("%w: batch header at %d runs past the data end %d", record.ErrCorrupt, pos, limit)
	}
	if pos < r.start || pos+record.HeaderSize > r.start+int64(r.n) {
		n := int(min(int64(len(r.buf)), limit-pos))
		m, err := r.f.ReadAt(r.buf[:n], pos)
		if m < record.HeaderSize {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			r.n = 0
			return record.Header{}, fmt.Errorf("read batch header at %d: %w", pos, err)
		}
		r.start, r.n = pos, m
	}
	h, err := record.ParseHeader(r.buf[pos-r.start : r.n])
	if err != nil {
		return h, fmt.Errorf("batch at position %d: %w", pos, err)
	}
	if pos+h.Size() > limit {
		return h, fmt.Errorf("%w: batch at %d of %d bytes runs past the data end %d", record.ErrCorrupt, pos, h.Size(), limit)
	}
	return h, nil
}
