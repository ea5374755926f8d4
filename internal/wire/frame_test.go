package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
)

func sizePrefix(n int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }

func TestReadFrame_Table(t *testing.T) {
	f8 := []byte{0, 3, 0, 1, 0, 0, 0, 7}
	f12 := []byte{0, 18, 0, 3, 0, 0, 0, 9, 0xff, 0xff, 0, 42}
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

	tests := []struct {
		name    string
		in      []byte
		max     int32
		want    [][]byte // frames read before the final error
		wantErr error
		size    int32 // FrameSizeError.Size, if wantErr is a size error
		limit   int32 // FrameSizeError.Limit
	}{
		{name: "exact minimum frame", in: sized(f8), max: 100, want: [][]byte{f8}, wantErr: io.EOF},
		{name: "frame at max", in: sized(f12), max: 12, want: [][]byte{f12}, wantErr: io.EOF},
		{name: "two frames back to back", in: cat(sized(f8), sized(f12)), max: 100, want: [][]byte{f8, f12}, wantErr: io.EOF},
		{name: "EOF before any frame", in: nil, max: 100, wantErr: io.EOF},
		{name: "EOF inside size prefix", in: []byte{0, 0}, max: 100, wantErr: io.ErrUnexpectedEOF},
		{name: "EOF inside body", in: cat(sizePrefix(12), f12[:5]), max: 100, wantErr: io.ErrUnexpectedEOF},
		{name: "EOF right after size prefix", in: sizePrefix(12), max: 100, wantErr: io.ErrUnexpectedEOF},
		{name: "EOF inside second frame", in: cat(sized(f8), sizePrefix(12), f12[:11]), max: 100, want: [][]byte{f8}, wantErr: io.ErrUnexpectedEOF},
		{name: "oversized", in: cat(sizePrefix(13), f12, []byte{0}), max: 12, wantErr: ErrFrameTooLarge, size: 13, limit: 12},
		{name: "huge declared size", in: sizePrefix(1 << 30), max: 100 << 20, wantErr: ErrFrameTooLarge, size: 1 << 30, limit: 100 << 20},
		{name: "size 0", in: sizePrefix(0), max: 100, wantErr: ErrFrameTooSmall, size: 0, limit: MinFrameSize},
		{name: "size below header v0", in: cat(sizePrefix(7), f8[:7]), max: 100, wantErr: ErrFrameTooSmall, size: 7, limit: MinFrameSize},
		{name: "negative size", in: sizePrefix(-1), max: 100, wantErr: ErrFrameTooSmall, size: -1, limit: MinFrameSize},
		{name: "most negative size", in: sizePrefix(-1 << 31), max: 100, wantErr: ErrFrameTooSmall, size: -1 << 31, limit: MinFrameSize},
		{name: "max below minimum rejects all", in: sized(f8), max: 4, wantErr: ErrFrameTooLarge, size: 8, limit: 4},
	}
	readers := []struct {
		name string
		next func(r io.Reader, max int32) func() ([]byte, error)
	}{
		{"ReadFrame", func(r io.Reader, max int32) func() ([]byte, error) {
			return func() ([]byte, error) { return ReadFrame(r, max, nil) }
		}},
		{"FrameReader", func(r io.Reader, max int32) func() ([]byte, error) {
			fr := NewFrameReader(r, max)
			return func() ([]byte, error) { return fr.Next(nil) }
		}},
		{"one byte at a time", func(r io.Reader, max int32) func() ([]byte, error) {
			fr := NewFrameReader(iotest.OneByteReader(r), max)
			return func() ([]byte, error) { return fr.Next(nil) }
		}},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				src := bytes.NewReader(tt.in)
				next := rd.next(src, tt.max)
				for i, want := range tt.want {
					got, err := next()
					if err != nil {
						t.Fatalf("frame %d: %v", i, err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("frame %d = %x, want %x", i, got, want)
					}
					if cap(got) != len(want) {
						t.Errorf("frame %d: cap %d, want exactly the frame size %d", i, cap(got), len(want))
					}
				}
				got, err := next()
				if !errors.Is(err, tt.wantErr) || got != nil {
					t.Fatalf("final read = %x, %v; want nil, %v", got, err, tt.wantErr)
				}
				var se *FrameSizeError
				if errors.As(err, &se) {
					if se.Size != tt.size || se.Limit != tt.limit {
						t.Errorf("FrameSizeError = %+v, want size %d limit %d", *se, tt.size, tt.limit)
					}
					// The body of a rejected frame is left unread.
					if consumed := len(tt.in) - src.Len(); consumed != 4+4*len(tt.want)+sumLen(tt.want) {
						t.Errorf("consumed %d bytes after a size error", consumed)
					}
				}
			})
		}
	}
}

func sumLen(bs [][]byte) (n int) {
	for _, b := range bs {
		n += len(b)
	}
	return n
}

func TestReadFrame_SizeErrorMessageNamesBothSizes(t *testing.T) {
	_, err := ReadFrame(bytes.NewReader(sizePrefix(2000)), 1000, nil)
	if want := "wire: frame size 2000 exceeds the limit of 1000 bytes"; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	_, err = ReadFrame(bytes.NewReader(sizePrefix(-5)), 1000, nil)
	if want := "wire: frame size -5 is below the minimum of 8 bytes"; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestReadFrame_ReusesBufferThatFits(t *testing.T) {
	f := []byte("0123456789")
	buf := make([]byte, 0, 64)
	got, err := ReadFrame(bytes.NewReader(sized(f)), 100, buf)
	if err != nil || !bytes.Equal(got, f) {
		t.Fatalf("ReadFrame = %q, %v", got, err)
	}
	if &got[0] != &buf[:1][0] {
		t.Error("frame does not alias the buffer that fits it")
	}
	small := make([]byte, 0, 5)
	got, err = ReadFrame(bytes.NewReader(sized(f)), 100, small)
	if err != nil || !bytes.Equal(got, f) || cap(got) != len(f) {
		t.Fatalf("ReadFrame with small buf = %q (cap %d), %v", got, cap(got), err)
	}
}

func TestReadFrame_LargeFrameGrowsAsBytesArrive(t *testing.T) {
	const n = 3*eagerAllocLimit + 12345
	frame := make([]byte, n)
	for i := range frame {
		frame[i] = byte(i * 7)
	}
	// Chunks of varying size, as a slow connection delivers them.
	got, err := ReadFrame(&chunkReader{data: sized(frame)}, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, frame) {
		t.Fatal("large frame corrupted")
	}
	if cap(got) != n {
		t.Errorf("cap = %d, want exactly %d", cap(got), n)
	}
}

// A peer declaring a 100 MB frame and then sending 1 MB must not make the
// broker allocate 100 MB.
func TestReadFrame_DeclaredSizeDoesNotDriveAllocation(t *testing.T) {
	const declared = 100 << 20
	const sent = 1 << 20
	in := append(sizePrefix(declared), make([]byte, sent)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadFrame(&chunkReader{data: in}, 128<<20, nil)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4*sent {
		t.Errorf("allocated %d bytes for a frame of which %d bytes arrived", alloc, sent)
	}
}

func TestReadFrame_AllocatesOnlyTheFrame(t *testing.T) {
	in := sized(make([]byte, 100))
	r := bytes.NewReader(in)
	fr := NewFrameReader(r, 1000)
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(in)
		if _, err := fr.Next(nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 1 {
		t.Errorf("FrameReader.Next allocs = %v, want 1 (the frame)", allocs)
	}
	buf := make([]byte, 0, 128)
	allocs = testing.AllocsPerRun(100, func() {
		r.Reset(in)
		if _, err := ReadFrame(r, 1000, buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ReadFrame into a buffer that fits allocs = %v, want 0", allocs)
	}
}

// chunkReader returns its data in chunks of 1 to 64 KiB.
type chunkReader struct {
	data []byte
	i    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	c.i++
	n := min(len(p), len(c.data), 1+(c.i*7919)%(64<<10))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}
