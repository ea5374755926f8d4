package api

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// errOutOfProportion: a request whose decoding would allocate far more than
// its own size (arrays of near-empty elements), refused before kmsg builds
// it.
var errOutOfProportion = errors.New("request would decode to far more memory than its size")

// maxDecodeAmplification bounds the memory decoding may take, as a multiple
// of the body's size (plus a small allowance). Real requests stay near 1-2x:
// elements carry names and record data.
const maxDecodeAmplification = 8

// CheckRequest runs before a request body is decoded. kmsg bounds an array
// count only by the bytes left at one byte per element, so a request of
// millions of empty elements would allocate tens of times its size
// (KAFKA-14063's class). For Produce, the request a client may make large,
// CheckRequest walks the structure and refuses bodies that are malformed or
// out of proportion; other requests are small and pass.
func CheckRequest(key, version int16, body []byte) error {
	if key != 0 {
		return nil
	}
	topics, partitions, err := scanProduce(body, version >= 9)
	if err != nil {
		return fmt.Errorf("produce request: %w", err)
	}
	cost := uintptr(topics)*unsafe.Sizeof(kmsg.ProduceRequestTopic{}) + uintptr(partitions)*unsafe.Sizeof(kmsg.ProduceRequestTopicPartition{})
	if cost > uintptr(maxDecodeAmplification*len(body)+64<<10) {
		return fmt.Errorf("produce request: %w (%d topics, %d partitions in %d bytes)", errOutOfProportion, topics, partitions, len(body))
	}
	return nil
}

// scanProduce walks a Produce v3+ body and counts its topics and
// partitions, failing on anything truncated or negative.
func scanProduce(b []byte, flex bool) (topics, partitions int, err error) {
	r := scanner{b: b, flex: flex}
	r.nullableString() // transactional id
	r.skip(2 + 4)      // acks, timeout
	nt := r.count()
	for range nt {
		topics++
		r.nullableString() // topic name
		np := r.count()
		for range np {
			partitions++
			r.skip(4)         // partition
			r.nullableBytes() // records
			r.tags()
		}
		r.tags()
	}
	r.tags()
	return topics, partitions, r.err
}

// scanner reads Kafka's primitive encodings, remembering the first error;
// after an error every read is a no-op returning zero.
type scanner struct {
	b    []byte
	flex bool
	err  error
}

func (s *scanner) fail(what string) {
	if s.err == nil {
		s.err = fmt.Errorf("malformed %s", what)
	}
	s.b = nil
}

func (s *scanner) skip(n int) {
	if s.err != nil || n < 0 || n > len(s.b) {
		s.fail("field")
		return
	}
	s.b = s.b[n:]
}

func (s *scanner) uvarint() int {
	v, n := binary.Uvarint(s.b)
	if n <= 0 || v > 1<<31 {
		s.fail("varint")
		return 0
	}
	s.b = s.b[n:]
	return int(v)
}

func (s *scanner) int32() int {
	if len(s.b) < 4 {
		s.fail("int32")
		return 0
	}
	v := int32(binary.BigEndian.Uint32(s.b))
	s.b = s.b[4:]
	return int(v)
}

// count reads an array length; null or negative counts as empty.
func (s *scanner) count() int {
	n := 0
	if s.flex {
		n = s.uvarint() - 1
	} else {
		n = s.int32()
	}
	if s.err != nil || n < 0 {
		return 0
	}
	if n > len(s.b) { // every element takes at least one byte
		s.fail("array length")
		return 0
	}
	return n
}

func (s *scanner) nullableString() {
	if s.flex {
		s.skip(max(s.uvarint()-1, 0))
		return
	}
	if len(s.b) < 2 {
		s.fail("string")
		return
	}
	n := int(int16(binary.BigEndian.Uint16(s.b)))
	s.b = s.b[2:]
	s.skip(max(n, 0))
}

func (s *scanner) nullableBytes() {
	if s.flex {
		s.skip(max(s.uvarint()-1, 0))
		return
	}
	s.skip(max(s.int32(), 0))
}

func (s *scanner) tags() {
	if !s.flex {
		return
	}
	n := s.uvarint() // a plain count, not the compact n+1
	if n > len(s.b) {
		s.fail("tagged fields")
		return
	}
	for range n {
		s.uvarint()         // tag
		s.skip(s.uvarint()) // size, data
	}
}
