package cleaner

import (
	"fmt"
	"io"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
)

// batchReader walks the batches of one segment through the worker's read
// buffer, reading a chunk at a time and growing the buffer for a batch that
// does not fit (a batch never exceeds its segment).
type batchReader struct {
	seg   log.SegmentInfo
	mem   []byte // the whole segment, when cached; then buf is unused
	buf   *[]byte
	start int64 // segment position of buf[0]
	n     int   // valid bytes in buf
	pos   int64 // position of the next batch
}

func newBatchReader(seg log.SegmentInfo, buf *[]byte, from int64) *batchReader {
	return &batchReader{seg: seg, buf: buf, pos: from}
}

// memBatchReader walks a segment held in memory.
func memBatchReader(seg log.SegmentInfo, mem []byte) *batchReader {
	return &batchReader{seg: seg, mem: mem, buf: &mem, n: len(mem)}
}

// next returns the next batch (aliasing the read buffer until the next
// call) and its position, or io.EOF at the segment's end.
func (r *batchReader) next() ([]byte, record.Header, int64, error) {
	if r.pos >= r.seg.Size {
		return nil, record.Header{}, r.pos, io.EOF
	}
	if r.pos+record.HeaderSize > r.start+int64(r.n) {
		if r.mem != nil {
			return nil, record.Header{}, r.pos, fmt.Errorf("%w: segment %d: batch header at %d runs past the end", record.ErrCorrupt, r.seg.BaseOffset, r.pos)
		}
		if err := r.fill(record.HeaderSize); err != nil {
			return nil, record.Header{}, r.pos, err
		}
	}
	off := int(r.pos - r.start)
	h, err := record.ParseHeader((*r.buf)[off:r.n])
	if err != nil {
		return nil, h, r.pos, fmt.Errorf("segment %d position %d: %w", r.seg.BaseOffset, r.pos, err)
	}
	size := h.Size()
	if size > r.seg.Size-r.pos {
		return nil, h, r.pos, fmt.Errorf("%w: segment %d: batch at %d of %d bytes runs past the segment end %d",
			record.ErrCorrupt, r.seg.BaseOffset, r.pos, size, r.seg.Size)
	}
	if r.pos+size > r.start+int64(r.n) {
		if r.mem != nil {
			return nil, h, r.pos, fmt.Errorf("%w: segment %d: batch at %d runs past the end", record.ErrCorrupt, r.seg.BaseOffset, r.pos)
		}
		if err := r.fill(size); err != nil {
			return nil, h, r.pos, err
		}
		off = 0
	}
	pos := r.pos
	r.pos += size
	return (*r.buf)[off : off+int(size)], h, pos, nil
}

// fill reads from r.pos, growing the buffer to hold at least need bytes.
func (r *batchReader) fill(need int64) error {
	if int64(len(*r.buf)) < need {
		*r.buf = make([]byte, need)
	}
	want := min(int64(len(*r.buf)), r.seg.Size-r.pos)
	m, err := r.seg.ReadAt((*r.buf)[:want], r.pos)
	if int64(m) < min(want, need) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("segment %d: read at %d: %w", r.seg.BaseOffset, r.pos, err)
	}
	r.start, r.n = r.pos, m
	return nil
}
