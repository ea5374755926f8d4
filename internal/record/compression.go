package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// decompressors holds one decompressor per codec for a Decoder, created on
// first use and reset for every batch.
type decompressors struct {
	src       bytes.Reader
	gzip      *gzip.Reader
	lz4       *lz4.Reader
	zstd      *zstd.Decoder
	zstdLimit int
}

// decompress appends the decompressed form of src to dst. Output beyond
// limit bytes is ErrTooLarge; every other failure is ErrCorrupt.
func (c *decompressors) decompress(dst []byte, codec Codec, src []byte, limit int) ([]byte, error) {
	switch codec {
	case CodecGzip:
		c.src.Reset(src)
		var err error
		if c.gzip == nil {
			c.gzip, err = gzip.NewReader(&c.src)
		} else {
			err = c.gzip.Reset(&c.src)
		}
		if err != nil {
			return dst, errorf(ErrCorrupt, "gzip: %v", err)
		}
		return readLimited(dst, c.gzip, limit, len(src), "gzip")
	case CodecSnappy:
		if isXerial(src) {
			return decodeXerial(dst, src, limit)
		}
		return decodeSnappy(dst, src, limit)
	case CodecLZ4:
		if err := checkLZ4Frame(src); err != nil {
			return dst, err
		}
		c.src.Reset(src)
		if c.lz4 == nil {
			c.lz4 = lz4.NewReader(&c.src)
		} else {
			c.lz4.Reset(&c.src)
		}
		return readLimited(dst, c.lz4, limit, len(src), "lz4")
	case CodecZstd:
		return c.decodeZstd(dst, src, limit)
	}
	return dst, errorf(ErrCorrupt, "batch compression codec %d is not one Kafka defines", int8(codec))
}

// readLimited reads r to its end, appending to dst and growing dst by
// doubling, but never past limit+1 bytes: one byte more than limit proves
// the output too large without holding any more of it.
func readLimited(dst []byte, r io.Reader, limit, srcLen int, name string) ([]byte, error) {
	start := len(dst)
	for idle := 0; ; {
		if len(dst) == cap(dst) {
			if len(dst)-start > limit {
				return dst, errorf(ErrTooLarge, "%s: records decompress to more than %d bytes", name, limit)
			}
			want := max(2*cap(dst), 4*srcLen, 4096)
			want = min(want, start+limit+1)
			dst = append(dst[:cap(dst)], make([]byte, want-cap(dst))...)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		switch {
		case n > 0:
			idle = 0
		case err == nil:
			if idle++; idle >= 100 {
				err = io.ErrNoProgress // the decompressor stopped making progress
			}
		}
		if len(dst)-start > limit {
			return dst, errorf(ErrTooLarge, "%s: records decompress to more than %d bytes", name, limit)
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, errorf(ErrCorrupt, "%s: %v", name, err)
		}
	}
}

// decodeSnappy decodes one raw snappy block, the form franz-go, sarama and
// librdkafka send. The block states its decoded length up front, so the
// limit is checked before anything is allocated.
func decodeSnappy(dst, src []byte, limit int) ([]byte, error) {
	n, err := snappy.DecodedLen(src)
	if err != nil {
		return dst, errorf(ErrCorrupt, "snappy: %v", err)
	}
	if n > limit {
		return dst, errorf(ErrTooLarge, "snappy: records decompress to %d bytes, more than %d", n, limit)
	}
	start := len(dst)
	dst = grow(dst, n)
	// DecodeStrict rejects the s2 extensions that plain Decode accepts
	// but the Java and C snappy libraries do not.
	out, err := snappy.DecodeStrict(dst[start:start+n], src)
	if err != nil {
		return dst[:start], errorf(ErrCorrupt, "snappy: %v", err)
	}
	if len(out) != n {
		return dst[:start], errorf(ErrCorrupt, "snappy: block decoded to %d bytes, stated %d", len(out), n)
	}
	return dst[:start+n], nil
}

// grow returns dst with room for n more bytes past its length, which it
// keeps.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	return append(dst, make([]byte, n)...)[:len(dst)]
}

// lz4Magic opens an LZ4 frame (little-endian 0x184D2204); the FLG byte
// follows, with bit 5 set when blocks are independent.
const (
	lz4Magic           = 0x184D2204
	lz4FlagIndependent = 1 << 5
)

// checkLZ4Frame rejects an LZ4 frame with linked blocks: the Java client
// reads only independent blocks, so such a batch is unreadable for Kafka's
// own consumers even though the Go decoder would accept it.
func checkLZ4Frame(src []byte) error {
	if len(src) >= 5 && binary.LittleEndian.Uint32(src) == lz4Magic && src[4]&lz4FlagIndependent == 0 {
		return errorf(ErrCorrupt, "lz4: frame has linked blocks; Kafka requires independent blocks")
	}
	return nil
}

// decodeZstd decodes with a Decoder whose memory bound is limit: it rejects
// a frame that declares a larger size or window before allocating and stops
// a frame that grows past the bound block by block. Frames are checked one
// at a time, so the output can briefly reach twice the limit.
func (c *decompressors) decodeZstd(dst, src []byte, limit int) ([]byte, error) {
	if c.zstd == nil || c.zstdLimit != limit {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(uint64(limit)))
		if err != nil {
			return dst, errorf(ErrCorrupt, "zstd: %v", err)
		}
		if c.zstd != nil {
			c.zstd.Close()
		}
		c.zstd, c.zstdLimit = d, limit
	}
	start := len(dst)
	out, err := c.zstd.DecodeAll(src, dst)
	switch {
	case errors.Is(err, zstd.ErrDecoderSizeExceeded), errors.Is(err, zstd.ErrWindowSizeExceeded):
		return dst[:start], errorf(ErrTooLarge, "zstd: records decompress to more than %d bytes: %v", limit, err)
	case err != nil:
		return dst[:start], errorf(ErrCorrupt, "zstd: %v", err)
	case len(out)-start > limit:
		return out, errorf(ErrTooLarge, "zstd: records decompress to more than %d bytes", limit)
	}
	return out, nil
}

// Compressors for AppendBatch, shared by all goroutines.
var (
	gzipWriters = sync.Pool{New: func() any {
		s := new(gzipWriter)
		s.w = gzip.NewWriter(&s.out)
		return s
	}}
	lz4Writers = sync.Pool{New: func() any {
		s := new(lz4Writer)
		s.w = lz4.NewWriter(&s.out)
		// Kafka's Java LZ4 stream writes 64 KiB independent blocks;
		// independence is the lz4 package's default.
		_ = s.w.Apply(lz4.BlockSizeOption(lz4.Block64Kb))
		return s
	}}
	// zstdEncoder's EncodeAll is safe for concurrent use.
	zstdEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
		return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
	})
)

type gzipWriter struct {
	w   *gzip.Writer
	out appendWriter
}

type lz4Writer struct {
	w   *lz4.Writer
	out appendWriter
}

// appendWriter is an io.Writer that appends to a slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// compress appends src compressed with codec to dst. Snappy is written in
// the xerial framing, as Apache Kafka's own Java code writes it.
func compress(dst []byte, codec Codec, src []byte) ([]byte, error) {
	switch codec {
	case CodecNone:
		return append(dst, src...), nil
	case CodecGzip:
		s := gzipWriters.Get().(*gzipWriter)
		defer gzipWriters.Put(s)
		return streamCompress(dst, src, s.w, &s.out)
	case CodecSnappy:
		return appendXerial(dst, src), nil
	case CodecLZ4:
		s := lz4Writers.Get().(*lz4Writer)
		defer lz4Writers.Put(s)
		return streamCompress(dst, src, s.w, &s.out)
	case CodecZstd:
		enc, err := zstdEncoder()
		if err != nil {
			return dst, err
		}
		return enc.EncodeAll(src, dst), nil
	}
	return dst, errorf(ErrInvalidRecord, "compression codec %d is not one Kafka defines", int8(codec))
}

// streamWriter is a stream compressor that can be reused.
type streamWriter interface {
	io.WriteCloser
	Reset(io.Writer)
}

// streamCompress runs src through a pooled stream compressor w whose output
// goes to out, and appends the result to dst.
func streamCompress(dst, src []byte, w streamWriter, out *appendWriter) ([]byte, error) {
	out.b = dst
	w.Reset(out)
	defer func() { out.b = nil }()
	if _, err := w.Write(src); err != nil {
		return dst, err
	}
	if err := w.Close(); err != nil {
		return dst, err
	}
	return out.b, nil
}
