package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// MinFrameSize is the smallest valid request frame, not counting its size
// prefix: request header v0 (api key, api version, correlation id).
const MinFrameSize = 8

// eagerAllocLimit is the largest frame ReadFrame allocates in full before
// reading it. A larger frame's buffer starts at this size and doubles as
// bytes arrive, so a peer that declares a huge frame and then trickles or
// stalls holds at most about twice what it has sent, not what it declared.
// Frames up to 1 MiB — nearly all produce requests — cost one allocation
// and no copy; a larger frame costs about log2(size/1MiB) extra
// allocations and at most one extra copy of its bytes in total.
const eagerAllocLimit = 1 << 20

// ErrFrameTooLarge and ErrFrameTooSmall are matched (errors.Is) by the
// *FrameSizeError ReadFrame returns for a size prefix out of bounds.
var (
	ErrFrameTooLarge = errors.New("wire: frame too large")
	ErrFrameTooSmall = errors.New("wire: frame too small")
)

// FrameSizeError reports a frame size prefix outside [MinFrameSize, max].
// The frame's bytes have not been read; the connection cannot be resynced
// and must be closed.
type FrameSizeError struct {
	Size  int32 // the declared size
	Limit int32 // max if Size was too large, MinFrameSize if too small
}

func (e *FrameSizeError) Error() string {
	if e.Size < MinFrameSize {
		return fmt.Sprintf("wire: frame size %d is below the minimum of %d bytes", e.Size, e.Limit)
	}
	return fmt.Sprintf("wire: frame size %d exceeds the limit of %d bytes", e.Size, e.Limit)
}

// Unwrap returns ErrFrameTooSmall or ErrFrameTooLarge.
func (e *FrameSizeError) Unwrap() error {
	if e.Size < MinFrameSize {
		return ErrFrameTooSmall
	}
	return ErrFrameTooLarge
}

// ReadFrame reads one size-prefixed frame from r and returns its bytes
// without the 4-byte big-endian size prefix.
//
// The size is checked against [MinFrameSize, max] before anything is
// allocated (*FrameSizeError otherwise; max is Kafka's
// socket.request.max.bytes). buf is scratch space whose contents are
// overwritten: if cap(buf) holds the frame, the frame is read into it and
// the result aliases buf; otherwise a new slice is allocated, never
// with a capacity beyond the frame size, and a frame over 1 MiB is grown as
// its bytes arrive rather than allocated up front (see eagerAllocLimit).
//
// ReadFrame returns io.EOF if r ends cleanly before a frame starts and
// io.ErrUnexpectedEOF if it ends inside one; other errors from r are
// returned as they are. Reading the size prefix allocates 4 bytes when
// cap(buf) < 4; a connection loop that cannot lend a buffer uses a
// FrameReader instead.
func ReadFrame(r io.Reader, max int32, buf []byte) ([]byte, error) {
	var prefix []byte
	if cap(buf) >= 4 {
		prefix = buf[:4]
	} else {
		prefix = make([]byte, 4)
	}
	return readFrame(r, max, prefix, buf, nil)
}

// FrameReader reads frames from one connection, as ReadFrame does, with a
// scratch area for the size prefix so that a frame costs at most one
// allocation. It is not safe for concurrent use.
type FrameReader struct {
	r      io.Reader
	max    int32
	prefix [4]byte
	pool   *BufferPool
}

// NewFrameReader returns a FrameReader that reads frames of at most max
// bytes from r.
func NewFrameReader(r io.Reader, max int32) *FrameReader {
	return &FrameReader{r: r, max: max}
}

// UsePool makes Next take frame buffers from pool when buf is too small
// and the pool has one; see BufferPool. When the pool has none, Next
// allocates as without a pool but with a power-of-two capacity (at most
// twice the frame, and for frames over 1 MiB at most twice the bytes
// received so far), so that the buffer, once given back, serves the next
// frame of the same size.
func (f *FrameReader) UsePool(pool *BufferPool) { f.pool = pool }

// Next reads the next frame; buf, the result and the errors are as for
// ReadFrame.
func (f *FrameReader) Next(buf []byte) ([]byte, error) {
	return readFrame(f.r, f.max, f.prefix[:], buf, f.pool)
}

func readFrame(r io.Reader, max int32, prefix, buf []byte, pool *BufferPool) ([]byte, error) {
	if _, err := io.ReadFull(r, prefix); err != nil {
		return nil, err // io.EOF between frames, io.ErrUnexpectedEOF inside the prefix
	}
	size := int32(binary.BigEndian.Uint32(prefix))
	switch {
	case size < MinFrameSize:
		return nil, &FrameSizeError{Size: size, Limit: MinFrameSize}
	case size > max:
		return nil, &FrameSizeError{Size: size, Limit: max}
	}
	n := int(size)

	if cap(buf) < n && pool != nil {
		if b := pool.Get(n); b != nil {
			buf = b
		}
	}
	var frame []byte
	switch {
	case cap(buf) >= n:
		frame = buf[:n]
	case n <= eagerAllocLimit && pool != nil:
		// A power-of-two capacity fits the pool's classes, so the buffer
		// serves any frame up to its size when it comes back.
		frame = make([]byte, n, 1<<bits.Len(uint(n-1)))
	case n <= eagerAllocLimit:
		frame = make([]byte, n)
	default:
		return readGrowing(r, n, pool != nil)
	}
	if _, err := io.ReadFull(r, frame); err != nil {
		return nil, unexpected(err)
	}
	return frame, nil
}

// readGrowing reads an n-byte frame into a buffer that starts at
// eagerAllocLimit bytes and doubles each time it fills: capped at n, or,
// for a pool (pow2), not capped, so that its capacity stays a power of two.
// Either way it holds at most twice the bytes received.
func readGrowing(r io.Reader, n int, pow2 bool) ([]byte, error) {
	frame := make([]byte, 0, eagerAllocLimit)
	for len(frame) < n {
		if len(frame) == cap(frame) {
			c := 2 * cap(frame)
			if !pow2 {
				c = min(c, n)
			}
			grown := make([]byte, len(frame), c)
			copy(grown, frame)
			frame = grown
		}
		m, err := io.ReadFull(r, frame[len(frame):min(cap(frame), n)])
		frame = frame[:len(frame)+m]
		if err != nil {
			return nil, unexpected(err)
		}
	}
	return frame, nil
}

// unexpected maps io.EOF inside a frame to io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
