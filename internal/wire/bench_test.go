package wire

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
)

func BenchmarkParseRequestHeader(b *testing.B) {
	frames := []struct {
		name  string
		frame []byte
	}{
		{"v1", encodeKmsgRequest(metadataRequest(1, "orders"), 1, strp("consumer-1"), 1)},
		{"v2", encodeKmsgRequest(metadataRequest(12, "orders"), 2, strp("consumer-1"), 2)},
		{"v2/tags", encodeKmsgRequest(metadataRequest(12, "orders"), 3, strp("consumer-1"), 2, tag{tag: 1, data: []byte{1, 2, 3}})},
	}
	for _, f := range frames {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ParseRequestHeader(f.frame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// repeatReader returns its data over and over.
type repeatReader struct {
	data []byte
	r    bytes.Reader
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.r.Len() == 0 {
		r.r.Reset(r.data)
	}
	return r.r.Read(p)
}

func BenchmarkFrameReader(b *testing.B) {
	for _, size := range []int{100, 16 << 10} {
		frame := sized(make([]byte, size))
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			fr := NewFrameReader(&repeatReader{data: frame}, 1<<20)
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				if _, err := fr.Next(nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// countingWriter signals done once want bytes have been written.
type countingWriter struct {
	n, want int
	done    chan struct{}
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	if w.n == w.want {
		close(w.done)
	}
	return len(p), nil
}

// BenchmarkResponder reserves slots in request order and has workers
// complete them in whatever order they get to them, as handlers do; Run
// writes to a discarding writer. One op is one request's response.
func BenchmarkResponder(b *testing.B) {
	resp := AppendRawResponse(nil, 1, true, make([]byte, 200))
	for _, workers := range []int{1, 8} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(resp)))
			r := NewResponder(DefaultMaxInFlight)
			w := &countingWriter{want: b.N * len(resp), done: make(chan struct{})}
			runErr := make(chan error, 1)
			go func() { runErr <- r.Run(w) }()
			work := make(chan *Slot, DefaultMaxInFlight)
			var wg sync.WaitGroup
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for s := range work {
						s.Complete(resp)
					}
				}()
			}
			b.ResetTimer()
			for range b.N {
				s, err := r.Reserve(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				work <- s
			}
			close(work)
			<-w.done
			b.StopTimer()
			wg.Wait()
			r.Close()
			if err := <-runErr; err != nil {
				b.Fatal(err)
			}
		})
	}
}
