package producerstate

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"testing"

	"github.com/basketmq/basket/internal/record"
)

// sampleState covers what a snapshot must carry: full and partial batch
// windows, wrapped sequences, a batch without sequences, an epoch moved by
// a marker, transaction fields, extreme ids and timestamps. It returns the
// state and the offset it is taken at.
func sampleState(t testing.TB) (*State, int64) {
	t.Helper()
	a := newAppender()
	for i := range 7 {
		a.mustProduce(t, hdr(1, 0, int32(i*3), 3))
	}
	a.mustProduce(t, hdr(2, 5, math.MaxInt32-1, 4))
	a.mustProduce(t, hdr(math.MaxInt64, math.MaxInt16, 0, 1))
	marker := hdr(3, 9, record.NoSequence, 1)
	marker.Attributes = attrControl
	a.mustProduce(t, marker)
	a.now = -1
	offsetCommit := hdr(4, 1, record.NoSequence, 2) // as a coordinator writes
	offsetCommit.BaseOffset = a.next
	a.s.Update(offsetCommit, math.MinInt64)
	a.next = offsetCommit.NextOffset()
	a.s.producers[2].txnFirstOffset = a.s.producers[2].batches[0].FirstOffset
	a.s.producers[2].coordinatorEpoch = 17
	return a.s, a.next
}

func mustDecode(t *testing.T, b []byte, offset int64) *State {
	t.Helper()
	s, err := decode(b, offset)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return s
}

func TestSnapshot_RoundTrip(t *testing.T) {
	s, off := sampleState(t)
	b := s.encode(off)
	got := mustDecode(t, b, off)
	assertSameState(t, got, s)
	if again := got.encode(off); !bytes.Equal(again, b) {
		t.Fatal("re-encoding a decoded snapshot changed its bytes")
	}
	if want := headerSize + 5*entryFixedSize + (5+1+1+0+1)*batchSize; len(b) != want {
		t.Fatalf("snapshot of %d bytes, want %d", len(b), want)
	}

	empty := New().encode(0)
	if len(empty) != headerSize || mustDecode(t, empty, 0).Len() != 0 {
		t.Fatalf("empty snapshot: %x", empty)
	}
}

func TestSnapshot_DecodeRejectsEveryBitFlipAndTruncation(t *testing.T) {
	s, off := sampleState(t)
	b := s.encode(off)
	for i := range len(b) * 8 {
		c := bytes.Clone(b)
		c[i/8] ^= 1 << (i % 8)
		if _, err := decode(c, off); !errors.Is(err, errCorruptSnapshot) {
			t.Fatalf("bit %d of byte %d flipped: err %v", i%8, i/8, err)
		}
	}
	for n := range len(b) {
		if _, err := decode(b[:n], off); !errors.Is(err, errCorruptSnapshot) {
			t.Fatalf("cut to %d of %d bytes: err %v", n, len(b), err)
		}
	}
}

// reseal recomputes the CRC after a test edited the body.
func reseal(b []byte) []byte {
	binary.BigEndian.PutUint32(b[crcOffset:], crc32.Checksum(b[bodyOffset:], castagnoli))
	return b
}

func TestSnapshot_DecodeRejectsBadContentWithGoodCRC(t *testing.T) {
	s := New()
	s.Update(&record.Header{BaseOffset: 10, LastOffsetDelta: 1, ProducerID: 5, BaseSequence: 0, MaxTimestamp: t0}, t0)
	s.Update(&record.Header{BaseOffset: 12, LastOffsetDelta: 0, ProducerID: 5, BaseSequence: 2, MaxTimestamp: t0}, t0)
	s.Update(&record.Header{BaseOffset: 13, LastOffsetDelta: 0, ProducerID: 6, BaseSequence: 0, MaxTimestamp: t0}, t0)
	const off = 14
	const e1 = headerSize                        // first entry (producer 5)
	const b1 = e1 + entryFixedSize               // its first batch
	const e2 = e1 + entryFixedSize + 2*batchSize // second entry (producer 6)
	be := binary.BigEndian
	for _, tc := range []struct {
		name string
		edit func(b []byte) []byte
	}{
		{"other magic", func(b []byte) []byte { b[magicOffset] = 'K'; return b }},
		{"version 2", func(b []byte) []byte { be.PutUint16(b[versionOffset:], 2); return b }},
		{"offset other than the name's", func(b []byte) []byte { be.PutUint64(b[offsetOffset:], off+1); return b }},
		{"count too high", func(b []byte) []byte { be.PutUint32(b[countOffset:], 3); return b }},
		{"count too low", func(b []byte) []byte { be.PutUint32(b[countOffset:], 1); return b }},
		{"huge count", func(b []byte) []byte { be.PutUint32(b[countOffset:], math.MaxUint32); return b }},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }},
		{"ids out of order", func(b []byte) []byte { be.PutUint64(b[e2:], 5); return b }},
		{"negative id", func(b []byte) []byte { be.PutUint64(b[e1:], math.MaxUint64); return b }},
		{"six batches", func(b []byte) []byte { b[e1+30] = 6; return b }},
		{"transaction offset -2", func(b []byte) []byte { be.PutUint64(b[e1+14:], uint64(math.MaxUint64-1)); return b }},
		{"transaction offset at the end", func(b []byte) []byte { be.PutUint64(b[e1+14:], off); return b }},
		{"batch ends at the snapshot offset", func(b []byte) []byte { be.PutUint64(b[e2+entryFixedSize+16:], off); return b }},
		{"batch offsets reversed", func(b []byte) []byte { be.PutUint64(b[b1+8:], 12); return b }},
		{"batches overlap", func(b []byte) []byte { be.PutUint64(b[b1+batchSize+8:], 11); return b }},
		{"last sequence off by one", func(b []byte) []byte { be.PutUint32(b[b1+4:], 2); return b }},
		{"sequence -2", func(b []byte) []byte { be.PutUint32(b[b1:], math.MaxUint32-1); return b }},
		{"first sequence -1, last 1", func(b []byte) []byte { be.PutUint32(b[b1:], math.MaxUint32); return b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := reseal(tc.edit(s.encode(off)))
			if _, err := decode(b, off); !errors.Is(err, errCorruptSnapshot) {
				t.Fatalf("decode: err %v, want errCorruptSnapshot", err)
			}
		})
	}
	mustDecode(t, s.encode(off), off) // the unedited snapshot is fine
}
