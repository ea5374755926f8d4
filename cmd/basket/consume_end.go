package main

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// startSpec is where --offset says to start, in a form that can be turned
// both into a kgo.Offset and into a partition's starting offset.
type startSpec struct {
	kind byte // 's' start, 'e' end, 'a' at n, 'r' n before the end, 't' timestamp n
	n    int64
}

func (s startSpec) offset() kgo.Offset {
	switch s.kind {
	case 's':
		return kgo.NewOffset().AtStart()
	case 'a':
		return kgo.NewOffset().At(s.n)
	case 'r':
		return kgo.NewOffset().AtEnd().Relative(-s.n)
	case 't':
		return kgo.NewOffset().AfterMilli(s.n)
	}
	return kgo.NewOffset().AtEnd()
}

// endTracker serves --exit-at-end: it knows which partitions still have
// records before the end offset (the last stable offset under
// read_committed) that each had when the command started.
type endTracker struct {
	end       map[string]map[int32]int64
	remaining int
}

// newEndTracker lists the start, end and (for @timestamp) time offsets of
// the partitions to be read and counts those whose starting offset is
// below their end. kgo bounds an exact or relative start offset to the
// log, and so does this.
func newEndTracker(ctx context.Context, adm *kadm.Client, spec startSpec, committed bool, parts map[string][]int32) (*endTracker, error) {
	var topics []string
	for t := range parts {
		topics = append(topics, t)
	}
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, err
	}
	var ends kadm.ListedOffsets
	if committed {
		ends, err = adm.ListCommittedOffsets(ctx, topics...)
	} else {
		ends, err = adm.ListEndOffsets(ctx, topics...)
	}
	if err != nil {
		return nil, err
	}
	var times kadm.ListedOffsets
	if spec.kind == 't' {
		if times, err = adm.ListOffsetsAfterMilli(ctx, spec.n, topics...); err != nil {
			return nil, err
		}
	}
	e := &endTracker{end: map[string]map[int32]int64{}}
	for t, ps := range parts {
		e.end[t] = map[int32]int64{}
		for _, p := range ps {
			s, _ := starts.Lookup(t, p)
			end, _ := ends.Lookup(t, p)
			if s.Err != nil || end.Err != nil {
				return nil, topicErr(t, errors.Join(s.Err, end.Err), "")
			}
			from := end.Offset
			switch spec.kind {
			case 's':
				from = s.Offset
			case 'a':
				from = spec.n
			case 'r':
				from = end.Offset - spec.n
			case 't':
				if o, ok := times.Lookup(t, p); ok && o.Err == nil && o.Offset >= 0 {
					from = o.Offset
				}
			}
			from = max(s.Offset, min(from, end.Offset))
			if from < end.Offset {
				e.end[t][p] = end.Offset
				e.remaining++
			}
		}
	}
	return e, nil
}

func (e *endTracker) done() bool { return e.remaining == 0 }

// reached reports whether r's partition has now been read to its end; the
// caller prints r only if the partition was not already done.
func (e *endTracker) saw(r *kgo.Record) (print bool) {
	end, ok := e.end[r.Topic][r.Partition]
	if !ok {
		return false // done already, or not a partition being tracked
	}
	if r.Offset >= end {
		return false
	}
	if r.Offset+1 >= end {
		delete(e.end[r.Topic], r.Partition)
		e.remaining--
	}
	return true
}
