package wire

import (
	"math/bits"
	"sync"
)

// poolClasses is how many size classes a BufferPool keeps: buffers of
// 2^minPoolShift (64 KiB) up to 2^(minPoolShift+poolClasses-1) (128 MiB)
// bytes of capacity.
const (
	minPoolShift = 16
	poolClasses  = 12
)

// BufferPool lends frame buffers out again once their requests are done
// with them, so that a busy producer connection stops allocating (and the
// runtime stops zeroing) a fresh buffer per request. Buffers are kept by
// power-of-two capacity class in sync.Pools, so the garbage collector
// still reclaims them when they go unused.
//
// A pool never allocates: Get returns nil when it has nothing big enough,
// and the frame reader then allocates as it would without a pool, growing
// the buffer only as bytes arrive. A peer therefore cannot make a pool
// allocate by declaring a large frame.
//
// A BufferPool is safe for concurrent use. The zero value is ready.
type BufferPool struct {
	classes [poolClasses]sync.Pool // of *[]byte
}

// Get returns a buffer of length n from the pool, or nil if none with
// enough capacity is pooled. The caller owns the buffer.
func (p *BufferPool) Get(n int) []byte {
	c := classFor(n)
	if c < 0 {
		return nil
	}
	for ; c < poolClasses; c++ {
		if b, ok := p.classes[c].Get().(*[]byte); ok {
			return (*b)[:n]
		}
	}
	return nil
}

// Put gives b back to the pool. The caller must not use b, or anything
// that aliases it, afterwards. Buffers below 64 KiB are not kept.
func (p *BufferPool) Put(b []byte) {
	if cap(b) < 1<<minPoolShift {
		return
	}
	// The class whose size cap(b) reaches: every buffer in class c holds
	// at least 2^(minPoolShift+c) bytes.
	c := min(bits.Len(uint(cap(b)))-1-minPoolShift, poolClasses-1)
	b = b[:0]
	p.classes[c].Put(&b)
}

// classFor is the smallest class whose buffers all hold n bytes, or -1 if
// n is beyond the largest class.
func classFor(n int) int {
	if n <= 1<<minPoolShift {
		return 0
	}
	c := bits.Len(uint(n-1)) - minPoolShift
	if c >= poolClasses {
		return -1
	}
	return c
}
