package cleaner

import (
	"fmt"
	"io"
	"sync"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
)

// batchReader walks the batches of one segment through the worker's read
// buffer, reading a chunk at a time and growing the buffer for a batch that
// does not fit (a batch never exceeds its segment).
type batchReader struct {
	seg log.SegmentInfo
	mem []byte // the whole segment, when cached; then buf is unused
	// pf, when set, is reading the segment into buf, the arena space
	// it is cached in, ahead of the reader.
	pf    *prefetcher
	buf   *[]byte
	start int64 // segment position of buf[0]
	n     int   // valid bytes in buf
	pos   int64 // position of the next batch
}

func newBatchReader(seg log.SegmentInfo, buf *[]byte, from int64) *batchReader {
	return &batchReader{seg: seg, buf: buf, pos: from}
}

// prefetchingBatchReader walks seg as pf reads it into dst (len(dst) ==
// seg.Size), which holds the whole segment once the reader reaches its end.
func prefetchingBatchReader(seg log.SegmentInfo, dst []byte, pf *prefetcher) *batchReader {
	r := &batchReader{seg: seg, pf: pf}
	r.buf = &dst
	return r
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
		off = int(r.pos - r.start)
	}
	pos := r.pos
	r.pos += size
	return (*r.buf)[off : off+int(size)], h, pos, nil
}

// fill reads from r.pos, growing the buffer to hold at least need bytes.
func (r *batchReader) fill(need int64) error {
	if r.pf != nil {
		return r.waitPrefetched(r.pos + need)
	}
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

// waitPrefetched waits until the prefetcher has read up to end.
func (r *batchReader) waitPrefetched(end int64) error {
	n, err := r.pf.wait(min(end, r.seg.Size))
	r.n = int(n)
	if err != nil {
		return err
	}
	if n < end {
		return fmt.Errorf("%w: segment %d: batch at %d runs past the end", record.ErrCorrupt, r.seg.BaseOffset, r.pos)
	}
	return nil
}

// prefetchChunk is how much the prefetcher reads at a time.
const prefetchChunk = 256 << 10

// prefetcher reads a segment into arena space on its own goroutine, a
// chunk at a time, just ahead of the map pass that checks and parses it:
// the reading (a copy out of the page cache, or a wait for the disk)
// overlaps the parsing, and each chunk is still in the CPU cache when it
// is parsed. It counts its reads against the I/O throttle.
type prefetcher struct {
	stop chan struct{}
	done chan struct{}

	mu     sync.Mutex
	cond   sync.Cond
	filled int64
	err    error
}

func startPrefetch(seg log.SegmentInfo, dst []byte, th *throttler) *prefetcher {
	p := &prefetcher{stop: make(chan struct{}), done: make(chan struct{})}
	p.cond.L = &p.mu
	go p.run(seg, dst, th)
	return p
}

func (p *prefetcher) run(seg log.SegmentInfo, dst []byte, th *throttler) {
	defer close(p.done)
	var err error
	for off := int64(0); off < seg.Size && err == nil; {
		select {
		case <-p.stop:
			return
		default:
		}
		to := min(off+prefetchChunk, seg.Size)
		th.maybeThrottle(to-off, p.stop)
		m, rerr := seg.ReadAt(dst[off:to], off)
		if int64(m) < to-off {
			if rerr == nil || rerr == io.EOF {
				rerr = io.ErrUnexpectedEOF
			}
			err = fmt.Errorf("segment %d: read at %d: %w", seg.BaseOffset, off+int64(m), rerr)
		}
		off += int64(m)
		p.mu.Lock()
		p.filled, p.err = off, err
		p.cond.Broadcast()
		p.mu.Unlock()
	}
}

// wait returns once end bytes are read, or the read failed.
func (p *prefetcher) wait(end int64) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.filled < end && p.err == nil {
		p.cond.Wait()
	}
	return p.filled, p.err
}

// close stops the prefetcher and waits for it: after close nothing
// writes to its arena space.
func (p *prefetcher) close() {
	close(p.stop)
	<-p.done
}
