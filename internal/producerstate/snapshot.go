package producerstate

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
)

// The snapshot format, version 1; docs/format/producer-snapshot.md describes
// it byte by byte. All integers are big-endian.
const (
	snapshotMagic   = "BKPS" // Basket producer snapshot
	snapshotVersion = 1

	magicOffset   = 0  // 4 bytes
	versionOffset = 4  // int16
	crcOffset     = 6  // uint32, CRC-32C of bytes [bodyOffset:]
	bodyOffset    = 10 // the checksummed body starts here
	offsetOffset  = 10 // int64: the log offset the snapshot is taken at
	countOffset   = 18 // uint32: number of producer entries
	headerSize    = 22

	entryFixedSize = 31 // producer entry before its batches
	batchSize      = 32
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encode renders the state as a snapshot taken at offset. Entries are
// sorted by producer id, so equal states give equal bytes.
func (s *State) encode(offset int64) []byte {
	ids := make([]int64, 0, len(s.producers))
	size := headerSize
	for id, p := range s.producers {
		ids = append(ids, id)
		size += entryFixedSize + int(p.n)*batchSize
	}
	slices.Sort(ids)

	be := binary.BigEndian
	b := make([]byte, headerSize, size)
	copy(b[magicOffset:], snapshotMagic)
	be.PutUint16(b[versionOffset:], snapshotVersion)
	be.PutUint64(b[offsetOffset:], uint64(offset))
	be.PutUint32(b[countOffset:], uint32(len(ids)))
	for _, id := range ids {
		p := s.producers[id]
		b = be.AppendUint64(b, uint64(id))
		b = be.AppendUint16(b, uint16(p.epoch))
		b = be.AppendUint32(b, uint32(p.coordinatorEpoch))
		b = be.AppendUint64(b, uint64(p.txnFirstOffset))
		b = be.AppendUint64(b, uint64(p.lastUpdateMs))
		b = append(b, p.n)
		for _, m := range p.batches[:p.n] {
			b = be.AppendUint32(b, uint32(m.FirstSeq))
			b = be.AppendUint32(b, uint32(m.LastSeq))
			b = be.AppendUint64(b, uint64(m.FirstOffset))
			b = be.AppendUint64(b, uint64(m.LastOffset))
			b = be.AppendUint64(b, uint64(m.MaxTimestamp))
		}
	}
	be.PutUint32(b[crcOffset:], crc32.Checksum(b[bodyOffset:], castagnoli))
	return b
}

// decode parses a snapshot that must have been taken at offset. It accepts
// only what encode produces for some State: a wrong version, checksum or
// offset, a length that does not match the counts, entries out of order,
// or batches that Update could not have recorded below offset give an
// error wrapping errCorruptSnapshot. It never allocates more than
// len(b) warrants.
func decode(b []byte, offset int64) (*State, error) {
	be := binary.BigEndian
	if len(b) < headerSize {
		return nil, corruptf("%d bytes is shorter than the %d-byte header", len(b), headerSize)
	}
	if string(b[magicOffset:magicOffset+len(snapshotMagic)]) != snapshotMagic {
		return nil, corruptf("magic %q, want %q", b[magicOffset:magicOffset+len(snapshotMagic)], snapshotMagic)
	}
	if v := int16(be.Uint16(b[versionOffset:])); v != snapshotVersion {
		return nil, corruptf("version %d, want %d", v, snapshotVersion)
	}
	if stored, computed := be.Uint32(b[crcOffset:]), crc32.Checksum(b[bodyOffset:], castagnoli); stored != computed {
		return nil, corruptf("stored CRC %#08x, computed %#08x", stored, computed)
	}
	if at := int64(be.Uint64(b[offsetOffset:])); at != offset {
		return nil, corruptf("taken at offset %d, but named for offset %d", at, offset)
	}
	count := int64(be.Uint32(b[countOffset:]))
	if count > int64(len(b)-headerSize)/entryFixedSize {
		return nil, corruptf("%d producers cannot fit in %d bytes", count, len(b))
	}
	s := &State{producers: make(map[int64]*producer, count), ongoing: make(map[int64]int64)}
	pos, prevID := headerSize, int64(-1)
	for range count {
		if len(b)-pos < entryFixedSize {
			return nil, corruptf("producer entry at byte %d is cut short", pos)
		}
		id := int64(be.Uint64(b[pos:]))
		p := &producer{
			epoch:            int16(be.Uint16(b[pos+8:])),
			coordinatorEpoch: int32(be.Uint32(b[pos+10:])),
			txnFirstOffset:   int64(be.Uint64(b[pos+14:])),
			lastUpdateMs:     int64(be.Uint64(b[pos+22:])),
			n:                b[pos+30],
		}
		pos += entryFixedSize
		if id <= prevID {
			return nil, corruptf("producer id %d follows %d", id, prevID)
		}
		if p.txnFirstOffset < -1 || p.txnFirstOffset >= offset {
			return nil, corruptf("producer %d: transaction first offset %d", id, p.txnFirstOffset)
		}
		if p.n > NumBatchesToRetain || len(b)-pos < int(p.n)*batchSize {
			return nil, corruptf("producer %d: %d batches at byte %d", id, p.n, pos)
		}
		next := int64(0)
		for i := range p.n {
			m := BatchMetadata{
				FirstSeq:     int32(be.Uint32(b[pos:])),
				LastSeq:      int32(be.Uint32(b[pos+4:])),
				FirstOffset:  int64(be.Uint64(b[pos+8:])),
				LastOffset:   int64(be.Uint64(b[pos+16:])),
				MaxTimestamp: int64(be.Uint64(b[pos+24:])),
			}
			pos += batchSize
			if err := m.check(next, offset); err != nil {
				return nil, corruptf("producer %d batch %d: %v", id, i, err)
			}
			p.batches[i], next = m, m.LastOffset+1
		}
		s.producers[id], prevID = p, id
		if p.txnFirstOffset >= 0 {
			s.ongoing[id] = p.txnFirstOffset
		}
	}
	if pos != len(b) {
		return nil, corruptf("%d bytes after the last producer", len(b)-pos)
	}
	return s, nil
}

// check reports whether Update could have recorded m after a batch ending
// below next, in a log ending at end.
func (m *BatchMetadata) check(next, end int64) error {
	delta := m.LastOffset - m.FirstOffset
	switch {
	case m.FirstOffset < next || delta < 0 || delta > 1<<31-1 || m.LastOffset >= end:
		return fmt.Errorf("offsets %d..%d", m.FirstOffset, m.LastOffset)
	case m.FirstSeq < 0 && (m.FirstSeq != -1 || m.LastSeq != -1):
		return fmt.Errorf("sequences %d..%d", m.FirstSeq, m.LastSeq)
	case m.FirstSeq >= 0 && m.LastSeq != addSeq(m.FirstSeq, delta):
		return fmt.Errorf("sequences %d..%d over offsets %d..%d", m.FirstSeq, m.LastSeq, m.FirstOffset, m.LastOffset)
	}
	return nil
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errCorruptSnapshot, fmt.Sprintf(format, args...))
}
