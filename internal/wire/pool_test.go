package wire

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestBufferPool_GetNeverAllocates(t *testing.T) {
	var p BufferPool
	for _, n := range []int{0, 1, 64 << 10, 3 << 20, 1 << 30} {
		if b := p.Get(n); b != nil {
			t.Fatalf("empty pool: Get(%d) returned %d bytes", n, cap(b))
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { p.Get(4 << 20) }); allocs != 0 {
		t.Fatalf("Get on an empty pool allocates %v times", allocs)
	}
}

func TestBufferPool_ReturnsBuffersThatHoldTheFrame(t *testing.T) {
	for _, tc := range []struct {
		name    string
		put     int // capacity given back
		get     int
		wantHit bool
	}{
		{"exact power of two", 1 << 20, 1 << 20, true},
		{"smaller frame", 3 << 20, 2 << 20, true},
		{"odd capacity serves its class", 3 << 20, 2<<20 + 1, false}, // class of 3 MiB is 2 MiB
		{"below 64 KiB is not kept", 32 << 10, 100, false},
		{"small frame from the smallest class", 64 << 10, 10, true},
		{"larger frame misses", 1 << 20, 1<<20 + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p BufferPool
			putMany(&p, tc.put)
			b := p.Get(tc.get)
			if hit := b != nil; hit != tc.wantHit {
				t.Fatalf("Get(%d) after Put(cap %d): hit %v, want %v", tc.get, tc.put, hit, tc.wantHit)
			}
			if b != nil && (len(b) != tc.get || cap(b) < tc.get) {
				t.Fatalf("Get(%d) = len %d cap %d", tc.get, len(b), cap(b))
			}
		})
	}
}

func TestFrameReader_ReadsIntoPooledBuffer(t *testing.T) {
	var p BufferPool
	pooled := putMany(&p, 2<<20)

	body := bytes.Repeat([]byte{7}, 1500<<10) // over eagerAllocLimit: would grow without a pool
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	fr := NewFrameReader(bytes.NewReader(append(frame, body...)), 4<<20)
	fr.UsePool(&p)
	got, err := fr.Next(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) {
		t.Fatal("frame bytes differ")
	}
	if !pooled[&got[:1][0]] {
		t.Fatal("the frame was not read into a pooled buffer")
	}
}

// putMany gives the pool ten buffers of capacity c and returns their first
// bytes' addresses. Ten, because under the race detector sync.Pool drops
// a quarter of what it is given.
func putMany(p *BufferPool, c int) map[*byte]bool {
	first := map[*byte]bool{}
	for range 10 {
		b := make([]byte, 0, c)
		first[&b[:1][0]] = true
		p.Put(b)
	}
	return first
}

func TestFrameReader_PooledFramesComeBackForTheNextFrameOfTheSameSize(t *testing.T) {
	for _, size := range []int{100 << 10, 1<<20 + 1, 3<<20 + 12345} {
		var p BufferPool
		body := bytes.Repeat([]byte{1}, size)
		frame := binary.BigEndian.AppendUint32(nil, uint32(size))
		frame = append(frame, body...)
		fr := NewFrameReader(bytes.NewReader(bytes.Repeat(frame, 40)), 8<<20)
		fr.UsePool(&p)
		hits := 0
		var last []byte
		for range 40 {
			got, err := fr.Next(nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != size || cap(got)&(cap(got)-1) != 0 || cap(got) >= 2*size {
				t.Fatalf("size %d: frame len %d cap %d, want a power-of-two capacity below twice the size", size, len(got), cap(got))
			}
			if last != nil && &got[0] == &last[0] {
				hits++
			}
			last = got
			p.Put(got)
		}
		// Under the race detector sync.Pool drops a quarter of its puts.
		if hits < 20 {
			t.Fatalf("size %d: only %d of 39 frames reused the previous buffer", size, hits)
		}
	}
}
