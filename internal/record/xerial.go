package record

import (
	"bytes"
	"encoding/binary"

	"github.com/klauspost/compress/snappy"
)

// The Java producer compresses snappy through snappy-java's stream, which
// frames raw snappy blocks ("xerial" framing, after the library's author):
//
//	8 bytes   magic 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00
//	int32     version, big-endian (1)
//	int32     minimum compatible version, big-endian (1)
//	then, until the end of the input:
//	int32     length of the block, big-endian
//	bytes     one raw snappy block of that length
//
// Go and C clients send a single raw snappy block instead. A raw block cannot
// begin with the magic (its first tag would be a copy with nothing to copy
// from), so the magic alone tells the two apart.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const (
	xerialHeaderSize = 16
	xerialVersion    = 1
	// xerialBlockSize is how much input the Java stream puts in a block.
	xerialBlockSize = 32 << 10
)

func isXerial(src []byte) bool {
	return len(src) >= xerialHeaderSize && bytes.HasPrefix(src, xerialMagic)
}

// decodeXerial appends the blocks of a xerial stream to dst. Each block
// states its decoded length, so the running total is checked against limit
// before a block is decoded. The version fields are not checked.
func decodeXerial(dst, src []byte, limit int) ([]byte, error) {
	start := len(dst)
	for rest := src[xerialHeaderSize:]; len(rest) > 0; {
		if len(rest) < 4 {
			return dst[:start], errorf(ErrCorrupt, "snappy: xerial block length cut short")
		}
		n := int64(int32(binary.BigEndian.Uint32(rest)))
		rest = rest[4:]
		if n <= 0 || n > int64(len(rest)) {
			return dst[:start], errorf(ErrCorrupt, "snappy: xerial block length %d with %d bytes left", n, len(rest))
		}
		block := rest[:n]
		rest = rest[n:]
		size, err := snappy.DecodedLen(block)
		if err != nil {
			return dst[:start], errorf(ErrCorrupt, "snappy: xerial block: %v", err)
		}
		if size > limit-(len(dst)-start) {
			return dst[:start], errorf(ErrTooLarge, "snappy: records decompress to more than %d bytes", limit)
		}
		at := len(dst)
		dst = grow(dst, size)
		out, err := snappy.DecodeStrict(dst[at:at+size], block)
		if err != nil {
			return dst[:start], errorf(ErrCorrupt, "snappy: xerial block: %v", err)
		}
		if len(out) != size {
			return dst[:start], errorf(ErrCorrupt, "snappy: xerial block decoded to %d bytes, stated %d", len(out), size)
		}
		dst = dst[:at+size]
	}
	return dst, nil
}

// appendXerial appends src compressed as a xerial stream, in blocks of
// xerialBlockSize as the Java producer writes them.
func appendXerial(dst, src []byte) []byte {
	dst = append(dst, xerialMagic...)
	dst = binary.BigEndian.AppendUint32(dst, xerialVersion)
	dst = binary.BigEndian.AppendUint32(dst, xerialVersion)
	for len(src) > 0 {
		n := min(len(src), xerialBlockSize)
		at := len(dst)
		dst = grow(dst, 4+snappy.MaxEncodedLen(n))
		dst = dst[:at+4]
		block := snappy.Encode(dst[at+4:cap(dst)], src[:n])
		binary.BigEndian.PutUint32(dst[at:], uint32(len(block)))
		dst = dst[:at+4+len(block)]
		src = src[n:]
	}
	return dst
}
