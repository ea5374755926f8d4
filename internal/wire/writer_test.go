package wire

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is an io.Writer the test can read while Run writes to it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// correlationIDs splits response frames written by Run and returns their
// correlation ids in order.
func correlationIDs(t *testing.T, b []byte) []int32 {
	t.Helper()
	var ids []int32
	for len(b) > 0 {
		if len(b) < 8 {
			t.Fatalf("trailing %d bytes", len(b))
		}
		n := int(binary.BigEndian.Uint32(b))
		ids = append(ids, int32(binary.BigEndian.Uint32(b[4:])))
		b = b[4+n:]
	}
	return ids
}

func response(corr int32) []byte {
	return AppendRawResponse(nil, corr, false, []byte("body"))
}

// startResponder runs a Responder writing to w and stops it at cleanup,
// checking that Run returned nil.
func startResponder(t *testing.T, limit int, w io.Writer) *Responder {
	t.Helper()
	r := NewResponder(limit)
	done := make(chan error, 1)
	go func() { done <- r.Run(w) }()
	t.Cleanup(func() {
		r.Close()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return r
}

func reserveN(t *testing.T, r *Responder, n int) []*Slot {
	t.Helper()
	slots := make([]*Slot, n)
	for i := range slots {
		s, err := r.Reserve(context.Background())
		if err != nil {
			t.Fatalf("Reserve %d: %v", i, err)
		}
		slots[i] = s
	}
	return slots
}

func waitForIDs(t *testing.T, out *lockedBuffer, want []int32) {
	t.Helper()
	var got []int32
	waitFor(t, "responses", func() bool {
		got = correlationIDs(t, out.Bytes())
		return len(got) >= len(want)
	})
	if !equalIDs(got, want) {
		t.Fatalf("responses written in order %v, want %v", got, want)
	}
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestResponder_OutOfOrderCompletionWritesInOrder(t *testing.T) {
	tests := []struct {
		name  string
		order []int // completion order of slots 0..n-1
		drop  map[int]bool
		want  []int32
	}{
		{name: "in order", order: []int{0, 1, 2, 3}, want: []int32{0, 1, 2, 3}},
		{name: "reversed", order: []int{3, 2, 1, 0}, want: []int32{0, 1, 2, 3}},
		{name: "head last", order: []int{1, 2, 3, 0}, want: []int32{0, 1, 2, 3}},
		{name: "interleaved", order: []int{2, 0, 3, 1}, want: []int32{0, 1, 2, 3}},
		{name: "dropped head does not block", order: []int{1, 2, 3, 0}, drop: map[int]bool{0: true}, want: []int32{1, 2, 3}},
		{name: "dropped middle", order: []int{3, 0, 1, 2}, drop: map[int]bool{1: true, 2: true}, want: []int32{0, 3}},
		{name: "all dropped but last", order: []int{0, 1, 2, 3}, drop: map[int]bool{0: true, 1: true, 2: true}, want: []int32{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &lockedBuffer{}
			r := startResponder(t, 10, out)
			slots := reserveN(t, r, len(tt.order))
			for _, i := range tt.order {
				if tt.drop[i] {
					slots[i].Drop()
				} else {
					slots[i].Complete(response(int32(i)))
				}
			}
			waitForIDs(t, out, tt.want)
		})
	}
}

func TestResponder_CompleteBuffersWritesThemBackToBack(t *testing.T) {
	out := &lockedBuffer{}
	r := startResponder(t, 10, out)
	slots := reserveN(t, r, 2)
	body := []byte("a large body sent without copying it")
	slots[1].Complete(response(1))
	slots[0].CompleteBuffers([][]byte{AppendResponseHeader(nil, 0, true, len(body)), body})
	want := append(AppendRawResponse(nil, 0, true, body), response(1)...)
	waitFor(t, "both responses", func() bool { return len(out.Bytes()) >= len(want) })
	if got := out.Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("wrote %q, want %q", got, want)
	}
}

func TestResponder_BatchesReadyResponsesIntoOneWrite(t *testing.T) {
	r := NewResponder(20)
	slots := reserveN(t, r, 10)
	for i := len(slots) - 1; i >= 0; i-- {
		slots[i].Complete(response(int32(i)))
	}
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- r.Run(out) }()
	want := []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	waitForIDs(t, out, want)
	r.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r.batches != 1 {
		t.Errorf("%d writes for 10 ready responses, want 1", r.batches)
	}
}

func TestResponder_ReserveBlocksAtTheBound(t *testing.T) {
	out := &lockedBuffer{}
	r := startResponder(t, 3, out)
	slots := reserveN(t, r, 3)

	// Outstanding means not yet written: a completed slot still counts
	// while an earlier one is pending.
	slots[2].Complete(response(2))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if s, err := r.Reserve(ctx); !errors.Is(err, context.DeadlineExceeded) || s != nil {
		t.Fatalf("Reserve beyond the bound = %v, %v; want it to block until the deadline", s, err)
	}

	got := make(chan *Slot)
	go func() {
		s, err := r.Reserve(context.Background())
		if err != nil {
			t.Errorf("blocked Reserve: %v", err)
		}
		got <- s
	}()
	slots[1].Drop()
	slots[0].Complete(response(0))
	s := <-got // unblocked once slots 0-2 are written or skipped
	s.Complete(response(3))
	waitForIDs(t, out, []int32{0, 2, 3})
}

func TestResponder_CloseUnblocksEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	r := NewResponder(2)
	slots := reserveN(t, r, 2)

	var wg sync.WaitGroup
	errs := make(chan error, 3)
	wg.Add(3)
	go func() { defer wg.Done(); errs <- r.Run(io.Discard) }()
	for range 2 {
		go func() {
			defer wg.Done()
			_, err := r.Reserve(context.Background()) // blocks: both slots are pending
			errs <- err
		}()
	}
	waitFor(t, "goroutines to block", func() bool { return runtime.NumGoroutine() >= before+3 })
	r.Close()
	r.Close() // idempotent
	wg.Wait()
	close(errs)
	var nilErrs, closedErrs int
	for err := range errs {
		switch {
		case err == nil:
			nilErrs++ // Run
		case errors.Is(err, ErrClosed):
			closedErrs++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if nilErrs != 1 || closedErrs != 2 {
		t.Errorf("Run returned nil %d times, Reserve ErrClosed %d times; want 1 and 2", nilErrs, closedErrs)
	}
	if _, err := r.Reserve(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Reserve after Close: %v, want ErrClosed", err)
	}
	slots[0].Complete(response(0)) // discarded, not a panic
	slots[1].Drop()
	waitFor(t, "no leaked goroutines", func() bool { return runtime.NumGoroutine() <= before })
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestResponder_WriteErrorStopsRunAndReserve(t *testing.T) {
	r := NewResponder(4)
	broken := errors.New("connection reset")
	done := make(chan error, 1)
	go func() { done <- r.Run(failingWriter{broken}) }()
	s := reserveN(t, r, 1)[0]
	s.Complete(response(0))
	if err := <-done; !errors.Is(err, broken) {
		t.Fatalf("Run = %v, want %v", err, broken)
	}
	if _, err := r.Reserve(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Reserve after a write error: %v, want ErrClosed", err)
	}
}

func TestSlot_FinishingTwicePanics(t *testing.T) {
	for _, second := range []string{"Complete", "Drop"} {
		t.Run(second, func(t *testing.T) {
			r := NewResponder(1)
			t.Cleanup(r.Close)
			s := reserveN(t, r, 1)[0]
			s.Complete(response(0))
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			if second == "Drop" {
				s.Drop()
			} else {
				s.Complete(response(0))
			}
		})
	}
}

// Many requests pipelined through a small bound, completed and dropped by
// many goroutines in random order, leave strictly in request order.
func TestResponder_ConcurrentCompletionStress(t *testing.T) {
	const (
		requests = 5000
		workers  = 16
	)
	before := runtime.NumGoroutine()
	out := &lockedBuffer{}
	r := NewResponder(32)
	runErr := make(chan error, 1)
	go func() { runErr <- r.Run(out) }()

	work := make(chan func(), requests)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				if rand.IntN(4) == 0 {
					runtime.Gosched()
				}
				f()
			}
		}()
	}
	var want []int32
	for i := range int32(requests) {
		s, err := r.Reserve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if i%7 == 3 {
			work <- s.Drop
			continue
		}
		want = append(want, i)
		work <- func() { s.Complete(response(i)) }
	}
	close(work)
	wg.Wait()
	waitForIDs(t, out, want)
	r.Close()
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "no leaked goroutines", func() bool { return runtime.NumGoroutine() <= before })
}

// File regions are written in place among the buffers: copied when the
// writer is not a socket, with sendfile over a real TCP connection.
func TestResponder_WritesFileRegionsInOrder(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "seg")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("0123456789abcdef")
	parts := []Part{{Buf: []byte("<")}, {Region: &FileRegion{File: f, Off: 2, Len: 5}}, {Buf: []byte("|")}, {Region: &FileRegion{File: f, Off: 10, Len: 6}}, {Buf: []byte(">")}}
	const want = "<23456|abcdef>"

	var buf lockedBuffer
	r := NewResponder(4)
	done := make(chan error, 1)
	go func() { done <- r.Run(&buf) }()
	s, _ := r.Reserve(context.Background())
	s.CompleteParts(parts)
	waitFor(t, "regions written", func() bool { return len(buf.Bytes()) == len(want) })
	r.Close()
	<-done
	if got := string(buf.Bytes()); got != want {
		t.Fatalf("copied: %q, want %q", got, want)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		r := NewResponder(4)
		go r.Run(c)
		s, _ := r.Reserve(context.Background())
		s.CompleteParts(parts)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Fatalf("sendfile: %q %v, want %q", got, err, want)
	}
}
