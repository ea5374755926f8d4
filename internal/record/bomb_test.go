package record

import (
	"bytes"
	"encoding/binary"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/pierrec/lz4/v4"
)

const (
	bombSize  = 1 << 30 // what each bomb expands to
	bombLimit = 1 << 20 // the Decoder's MaxDecompressedBytes in these tests
)

type bomb struct {
	name    string
	codec   Codec
	payload func(t *testing.T) []byte
	// overhead is memory the codec's decompressor needs whatever the
	// limit: lz4 holds a whole compressed and a whole decompressed block,
	// up to 4 MiB each, however little of them is read; zstd grows its
	// output by appending, so it may allocate a little more than others.
	overhead uint64
}

var bombs = []bomb{
	{"gzip, 1024 members of 1 MiB of zeros", CodecGzip, gzipBomb, 0},
	{"zstd, RLE blocks", CodecZstd, zstdRLEBomb, 1 << 20},
	{"zstd, frame declaring 1 GiB", CodecZstd, zstdDeclaredBomb, 0},
	{"lz4, 4 MiB blocks of zeros", CodecLZ4, lz4Bomb, 8 << 20},
	{"snappy raw, block declaring 1 GiB", CodecSnappy, snappyDeclaredBomb, 0},
	{"snappy xerial, block declaring 1 GiB", CodecSnappy, xerialDeclaredBomb, 0},
	{"snappy xerial, 64 blocks of 1 MiB of zeros", CodecSnappy, xerialBomb, 0},
}

// TestDecoder_RejectsCompressionBomb decodes batches of a few KiB to a few
// MiB whose records expand to 1 GiB (or claim to), with a 1 MiB limit. Each
// must fail with ErrTooLarge, having allocated no more than a small
// multiple of the limit.
func TestDecoder_RejectsCompressionBomb(t *testing.T) {
	for _, bb := range bombs {
		t.Run(bb.name, func(t *testing.T) {
			batch := withPayload(bb.codec, 1, 0, bb.payload(t))
			d := Decoder{MaxDecompressedBytes: bombLimit}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			err := d.Records(batch, func(*Header, *Record) error { return nil })
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			wantKind(t, err, ErrTooLarge)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d-byte batch: %v after %v, %d KiB allocated", len(batch), err, elapsed, allocated>>10)
			if bound := 4*bombLimit + bb.overhead + 1<<20; allocated > bound {
				t.Fatalf("allocated %d bytes, more than %d", allocated, bound)
			}
		})
	}
}

func zeros(n int) []byte { return make([]byte, n) }

func gzipBomb(t *testing.T) []byte {
	var member bytes.Buffer
	w, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	if _, err := w.Write(zeros(1 << 20)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.Repeat(member.Bytes(), bombSize>>20)
}

// zstdRLEBomb is one frame of RLE blocks, each 4 bytes expanding to 128 KiB:
// magic, a descriptor with no content size, a 128 KiB window, then blocks.
func zstdRLEBomb(*testing.T) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 0xFD2FB528)
	b = append(b, 0x00, 0x38) // no FCS, not single segment; window 2^(10+7)
	const block = 128 << 10
	for i := range bombSize / block {
		hdr := uint32(block)<<3 | 1<<1 // RLE
		if i == bombSize/block-1 {
			hdr |= 1 // last block
		}
		b = append(b, byte(hdr), byte(hdr>>8), byte(hdr>>16), 0)
	}
	return b
}

// zstdDeclaredBomb is a single-segment frame whose header says 1 GiB, with
// one small block after it.
func zstdDeclaredBomb(*testing.T) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 0xFD2FB528)
	b = append(b, 0xA0) // 4-byte FCS, single segment
	b = binary.LittleEndian.AppendUint32(b, bombSize)
	hdr := uint32(16)<<3 | 1<<1 | 1
	return append(b, byte(hdr), byte(hdr>>8), byte(hdr>>16), 0)
}

// lz4Bomb compresses one 4 MiB block of zeros, then repeats that block 256
// times inside one frame: blocks are independent, so any order is valid.
func lz4Bomb(t *testing.T) []byte {
	var frame bytes.Buffer
	w := lz4.NewWriter(&frame)
	if err := w.Apply(lz4.BlockSizeOption(lz4.Block4Mb), lz4.ChecksumOption(false)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, bytes.NewReader(zeros(4<<20))); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f := frame.Bytes()
	const hdr = 7 // magic, FLG, BD, header checksum
	n := int(binary.LittleEndian.Uint32(f[hdr:]))
	if n&(1<<31) != 0 || hdr+4+n+4 != len(f) {
		t.Fatalf("unexpected lz4 frame layout: block %d, frame %d", n, len(f))
	}
	block := f[hdr : hdr+4+n]
	out := append([]byte(nil), f[:hdr]...)
	out = append(out, bytes.Repeat(block, bombSize/(4<<20))...)
	return append(out, 0, 0, 0, 0) // end mark
}

func snappyDeclaredBomb(*testing.T) []byte {
	return append(binary.AppendUvarint(nil, bombSize), 0x00, 'x')
}

func xerialDeclaredBomb(*testing.T) []byte {
	block := snappyDeclaredBomb(nil)
	b := binary.BigEndian.AppendUint32(xerialHeader(), uint32(len(block)))
	return append(b, block...)
}

func xerialBomb(*testing.T) []byte {
	block := snappy.Encode(nil, zeros(1<<20))
	b := xerialHeader()
	for range 64 {
		b = binary.BigEndian.AppendUint32(b, uint32(len(block)))
		b = append(b, block...)
	}
	return b
}

// TestDecoder_LimitAdmitsWhatFits checks the bound is not off by one: records
// of exactly MaxDecompressedBytes decode with every codec.
func TestDecoder_LimitAdmitsWhatFits(t *testing.T) {
	recs := []Record{{Value: bytes.Repeat([]byte("abc"), 3000)}}
	raw := appendRecords(nil, recs, true)
	for _, codec := range allCodecs[1:] {
		b := mustBatch(t, plainSpec(), recs, codec)
		d := Decoder{MaxDecompressedBytes: len(raw)}
		if _, _, err := decodeAll(&d, b); err != nil {
			t.Fatalf("%v at the limit: %v", codec, err)
		}
		d.MaxDecompressedBytes = len(raw) - 1
		_, _, err := decodeAll(&d, b)
		wantKind(t, err, ErrTooLarge)
	}
}
