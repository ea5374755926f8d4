package producerstate

import "slices"

// DecodeSnapshot decodes the bytes of a producer state snapshot file for
// tools such as `basket dump-log`. offset is the offset in the file's name;
// the snapshot must have been taken at it. It applies the checks Load does
// (docs/format/producer-snapshot.md) and returns the entries sorted by
// producer id; the caller owns them.
func DecodeSnapshot(b []byte, offset int64) ([]Entry, error) {
	s, err := decode(b, offset)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(s.producers))
	for id := range s.producers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]Entry, 0, len(ids))
	for _, id := range ids {
		e, _ := s.Producer(id)
		out = append(out, e)
	}
	return out, nil
}
