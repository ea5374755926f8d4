package wire

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
)

// DefaultMaxInFlight is the bound on outstanding slots NewResponder uses
// for a non-positive limit.
const DefaultMaxInFlight = 100

// ErrClosed is returned by Reserve once the Responder is closed.
var ErrClosed = errors.New("wire: responder closed")

// Responder writes one connection's responses in request order while the
// requests complete in any order.
//
// The connection's reader reserves a Slot per request, in request order;
// whichever goroutine finishes the request completes the slot (or drops
// it, for a request that gets no response); Run writes the completed
// slots strictly in reservation order, batching every response that is
// ready into one vectored write (net.Buffers, writev on a TCP connection).
// A pending slot holds back the slots after it; a dropped slot does not.
//
// A slot is outstanding from Reserve until Run has written or skipped it.
// At most limit slots are outstanding: Reserve blocks beyond that, which
// stops the reader taking more requests from a client that does not read
// its responses.
//
// Reserve, Close and the Slot methods are safe for concurrent use; Run is
// called once, by the connection's writer goroutine. A Responder starts no
// goroutines of its own.
type Responder struct {
	tokens    chan struct{} // one per outstanding slot; its capacity is the limit
	wake      chan struct{} // capacity 1: the head slot may have finished
	done      chan struct{} // closed by Close
	closeOnce sync.Once

	mu     sync.Mutex
	queue  []*Slot // ring of reserved slots not yet taken by Run
	head   int     // index in queue of the oldest slot
	n      int     // number of slots in queue
	closed bool

	// Owned by Run.
	parts   []Part      // the parts of the batch being written
	vec     [][]byte    // one run of buffers among the parts
	out     net.Buffers // vec as consumed by WriteTo
	batches int         // writes issued, for tests
}

// NewResponder returns a Responder allowing limit outstanding slots, or
// DefaultMaxInFlight if limit <= 0.
func NewResponder(limit int) *Responder {
	if limit <= 0 {
		limit = DefaultMaxInFlight
	}
	return &Responder{
		tokens: make(chan struct{}, limit),
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		queue:  make([]*Slot, limit),
	}
}

// Reserve returns the slot for the next response. Responses leave in the
// order of Reserve calls, so the connection's reader calls it once per
// request, in request order, before handing the request on. It blocks
// while limit slots are outstanding, and returns ErrClosed once the
// Responder is closed or ctx.Err() when ctx is done first.
func (r *Responder) Reserve(ctx context.Context) (*Slot, error) {
	select {
	case r.tokens <- struct{}{}:
	case <-r.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s := &Slot{r: r}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		<-r.tokens
		return nil, ErrClosed
	}
	r.queue[(r.head+r.n)%len(r.queue)] = s
	r.n++
	r.mu.Unlock()
	return s, nil
}

// Close stops the Responder: Run returns, blocked and later Reserve calls
// return ErrClosed, and responses not yet written are discarded. It does
// not interrupt a write already in progress; closing the connection does.
// Close is idempotent.
func (r *Responder) Close() {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		clear(r.queue) // let unsent responses be collected
		r.n = 0
		r.mu.Unlock()
		close(r.done)
	})
}

// Run writes completed responses to w in reservation order until Close is
// called, returning nil, or a write fails, returning that error after
// closing the Responder. Buffers are not touched once written, and Run
// keeps no reference to them.
func (r *Responder) Run(w io.Writer) error {
	for {
		select {
		case <-r.wake:
		case <-r.done:
			return nil
		}
		for {
			taken := r.takeReady()
			if taken == 0 {
				break
			}
			if err := r.flush(w); err != nil {
				r.Close()
				return err
			}
			for range taken {
				<-r.tokens
			}
		}
	}
}

// flush writes what takeReady collected: runs of buffers with one writev
// each, file regions with writeRegion.
func (r *Responder) flush(w io.Writer) error {
	defer func() {
		clear(r.parts)
		r.parts = r.parts[:0]
	}()
	from := 0
	for i := 0; i <= len(r.parts); i++ {
		if i < len(r.parts) && r.parts[i].Region == nil {
			continue
		}
		if i > from {
			for _, p := range r.parts[from:i] {
				r.vec = append(r.vec, p.Buf)
			}
			r.out = r.vec
			_, err := r.out.WriteTo(w)
			r.batches++
			clear(r.vec)
			r.vec, r.out = r.vec[:0], nil
			if err != nil {
				return err
			}
		}
		if i < len(r.parts) {
			if err := writeRegion(w, r.parts[i].Region); err != nil {
				return err
			}
		}
		from = i + 1
	}
	return nil
}

// takeReady removes the finished slots at the head of the queue, appends
// the parts of the completed ones to r.parts, and returns how many slots it
// removed.
func (r *Responder) takeReady() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0
	}
	taken := 0
	for r.n > 0 {
		s := r.queue[r.head]
		if s.state == slotPending {
			break
		}
		if s.state == slotCompleted {
			for _, b := range s.bufs {
				r.parts = append(r.parts, Part{Buf: b})
			}
			r.parts = append(r.parts, s.parts...)
		}
		s.bufs, s.one[0], s.parts = nil, nil, nil
		r.queue[r.head] = nil
		r.head = (r.head + 1) % len(r.queue)
		r.n--
		taken++
	}
	return taken
}

type slotState uint8

const (
	slotPending slotState = iota
	slotCompleted
	slotDropped
)

// Slot is the place of one response in a connection's response order. It
// is finished exactly once, by Complete, CompleteBuffers or Drop, from any
// goroutine; finishing it twice is a bug and panics. Finishing a slot of a
// closed Responder discards the response.
//
// A response is a list of byte buffers written back to back, or of parts
// that may include file regions (CompleteParts), which go from the file to
// the socket with sendfile.
type Slot struct {
	r     *Responder
	state slotState // guarded by r.mu
	bufs  [][]byte  // guarded by r.mu
	parts []Part    // guarded by r.mu
	one   [1][]byte // backs bufs for Complete, saving an allocation
}

// Complete sets the response to b, a whole frame (size prefix, header,
// body; see AppendResponse). The Responder owns b until it is written.
func (s *Slot) Complete(b []byte) {
	s.finish(slotCompleted, b, nil)
}

// CompleteBuffers sets the response to bufs written back to back, for a
// frame assembled from several buffers (see AppendResponseHeader). The
// Responder owns bufs and their contents until they are written.
func (s *Slot) CompleteBuffers(bufs [][]byte) {
	s.finish(slotCompleted, nil, bufs)
}

// CompleteParts sets the response to parts written in order: buffers as
// they are, file regions with sendfile when the connection is a socket and
// the file an OS file. The parts must make one whole frame. The Responder
// owns them until they are written; a file region whose file turns out
// shorter than promised fails Run, which closes the connection.
func (s *Slot) CompleteParts(parts []Part) {
	r := s.r
	r.mu.Lock()
	if s.state == slotPending {
		s.parts = parts
	}
	r.mu.Unlock()
	s.finish(slotCompleted, nil, [][]byte{})
}

// Drop gives up the slot for a request that gets no response (acks=0
// produce). The responses after it are not held back.
func (s *Slot) Drop() {
	s.finish(slotDropped, nil, nil)
}

func (s *Slot) finish(state slotState, b []byte, bufs [][]byte) {
	r := s.r
	r.mu.Lock()
	if s.state != slotPending {
		r.mu.Unlock()
		panic("wire: response slot finished twice")
	}
	s.state = state
	if state == slotCompleted {
		if bufs == nil {
			s.one[0] = b
			bufs = s.one[:]
		}
		s.bufs = bufs
	}
	atHead := !r.closed && r.n > 0 && r.queue[r.head] == s
	r.mu.Unlock()
	if atHead {
		select {
		case r.wake <- struct{}{}:
		default: // Run is already due to look
		}
	}
}
