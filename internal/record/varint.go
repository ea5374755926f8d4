package record

import "encoding/binary"

// Records use Kafka's variable-length integers: the zig-zag value (0, -1, 1,
// -2 ... become 0, 1, 2, 3 ...) written seven bits at a time, least
// significant group first, with the top bit of each byte saying another byte
// follows. A varint is an int32 in at most 5 bytes; a varlong an int64 in at
// most 10. binary.AppendVarint writes exactly this encoding.

const (
	maxVarintLen  = 5
	maxVarlongLen = binary.MaxVarintLen64
)

// reader walks a record's bytes. Once a read fails, ok is false and every
// later read returns zero values, so a caller checks once after a group of
// reads (a sticky error, as franz-go's kbin.Reader does).
type reader struct {
	b  []byte
	ok bool
}

func (r *reader) fail() { r.ok, r.b = false, nil }

func (r *reader) int8() int8 {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := int8(r.b[0])
	r.b = r.b[1:]
	return v
}

// uvarint reads an unsigned varint of at most maxLen bytes. Bits that do not
// fit in 7*maxLen-(unused high bits) are an overflow, as are more than
// maxLen bytes.
func (r *reader) uvarint(maxLen int, lastByteMax byte) uint64 {
	// Fast paths: most fields of a record (attributes, deltas, key and
	// value lengths) take one or two bytes. maxLen is at least 5, so
	// neither byte is the last one allowed.
	if b := r.b; len(b) >= 2 {
		if b[0] < 0x80 {
			r.b = b[1:]
			return uint64(b[0])
		}
		if b[1] < 0x80 {
			r.b = b[2:]
			return uint64(b[0]&0x7f) | uint64(b[1])<<7
		}
	}
	var v uint64
	for i := 0; i < maxLen; i++ {
		if i >= len(r.b) {
			r.fail()
			return 0
		}
		c := r.b[i]
		if i == maxLen-1 && c > lastByteMax {
			r.fail() // continuation bit or bits beyond the type's width
			return 0
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			r.b = r.b[i+1:]
			return v
		}
	}
	r.fail()
	return 0
}

// varint reads a zig-zag int32: 5 bytes, the last holding at most 4 bits.
func (r *reader) varint() int32 {
	u := uint32(r.uvarint(maxVarintLen, 0x0f))
	return int32(u>>1) ^ -int32(u&1)
}

// varlong reads a zig-zag int64: 10 bytes, the last holding at most 1 bit.
func (r *reader) varlong() int64 {
	u := r.uvarint(maxVarlongLen, 0x01)
	return int64(u>>1) ^ -int64(u&1)
}

// bytes reads a varint length and that many bytes. Length -1 is null (nil)
// when nullable; any other negative length, or one longer than what is
// left, fails. A zero length gives an empty, non-nil slice.
func (r *reader) bytes(nullable bool) []byte {
	n := r.varint()
	switch {
	case !r.ok:
		return nil
	case n == -1 && nullable:
		return nil
	case n < 0 || int(n) > len(r.b):
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// appendVarint appends v as a zig-zag varint; for an int32 it takes at most
// maxVarintLen bytes.
func appendVarint(dst []byte, v int64) []byte { return binary.AppendVarint(dst, v) }

// varintLen is the encoded size of v.
func varintLen(v int64) int {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

// appendVarintBytes appends a length-prefixed byte string; nil is written as
// length -1 when nullable and as an empty string otherwise.
func appendVarintBytes(dst, b []byte, nullable bool) []byte {
	if b == nil && nullable {
		return appendVarint(dst, -1)
	}
	dst = appendVarint(dst, int64(len(b)))
	return append(dst, b...)
}
