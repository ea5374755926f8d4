package api

import (
	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/wire"
)

// fetchResponse is a Fetch response whose record data stays in the segment
// files: regions[t][p] holds topic t, partition p's batches (Len 0 for
// none), and RecordBatches is left nil where a region stands. The server
// writes it with Parts, which lays the encoded fields and the file regions
// out in order, so batch bytes go from the page cache to the socket with
// sendfile.
type fetchResponse struct {
	*kmsg.FetchResponse
	regions [][]log.Region
}

// Parts encodes the response, size prefix and header included, as buffers
// and file regions. It covers the versions Basket serves (4-12) and writes
// the same bytes kmsg's AppendTo would with the regions' contents as
// RecordBatches, except that a partition without data gets an empty record
// set rather than a null one, as Apache Kafka sends (librdkafka reports a
// null set as a parse failure); no partition carries tagged fields (diverging epoch,
// current leader and snapshot id keep their defaults).
func (r *fetchResponse) Parts(correlationID int32, flexibleHeader bool) []wire.Part {
	v := r.Version
	flex := v >= 12
	var parts []wire.Part
	buf := make([]byte, 0, 512)
	var size int64
	cut := func() {
		size += int64(len(buf))
		parts = append(parts, wire.Part{Buf: buf})
		buf = make([]byte, 0, 256)
	}
	arrayLen := func(n int) {
		if flex {
			buf = kbin.AppendCompactArrayLen(buf, n)
		} else {
			buf = kbin.AppendArrayLen(buf, n)
		}
	}
	buf = kbin.AppendInt32(buf, r.ThrottleMillis)
	if v >= 7 {
		buf = kbin.AppendInt16(buf, r.ErrorCode)
		buf = kbin.AppendInt32(buf, r.SessionID)
	}
	arrayLen(len(r.Topics))
	for ti := range r.Topics {
		t := &r.Topics[ti]
		if flex {
			buf = kbin.AppendCompactString(buf, t.Topic)
		} else {
			buf = kbin.AppendString(buf, t.Topic)
		}
		arrayLen(len(t.Partitions))
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			buf = kbin.AppendInt32(buf, p.Partition)
			buf = kbin.AppendInt16(buf, p.ErrorCode)
			buf = kbin.AppendInt64(buf, p.HighWatermark)
			buf = kbin.AppendInt64(buf, p.LastStableOffset)
			if v >= 5 {
				buf = kbin.AppendInt64(buf, p.LogStartOffset)
			}
			if flex {
				buf = kbin.AppendCompactNullableArrayLen(buf, len(p.AbortedTransactions), p.AbortedTransactions == nil)
			} else {
				buf = kbin.AppendNullableArrayLen(buf, len(p.AbortedTransactions), p.AbortedTransactions == nil)
			}
			for _, a := range p.AbortedTransactions {
				buf = kbin.AppendInt64(buf, a.ProducerID)
				buf = kbin.AppendInt64(buf, a.FirstOffset)
				if flex {
					buf = kbin.AppendUvarint(buf, 0)
				}
			}
			if v >= 11 {
				buf = kbin.AppendInt32(buf, p.PreferredReadReplica)
			}
			region := r.region(ti, pi)
			switch {
			case region.Len > 0 && flex:
				buf = kbin.AppendUvarint(buf, uint32(region.Len)+1)
			case region.Len > 0:
				buf = kbin.AppendInt32(buf, int32(region.Len))
			case flex: // an empty set, never null: librdkafka rejects a null one
				buf = kbin.AppendCompactBytes(buf, p.RecordBatches)
			default:
				buf = kbin.AppendBytes(buf, p.RecordBatches)
			}
			if region.Len > 0 {
				cut()
				parts = append(parts, wire.Part{Region: &wire.FileRegion{File: region.File, Off: region.Pos, Len: region.Len}})
				size += region.Len
			}
			if flex {
				buf = kbin.AppendUvarint(buf, 0) // partition tags
			}
		}
		if flex {
			buf = kbin.AppendUvarint(buf, 0) // topic tags
		}
	}
	if flex {
		buf = kbin.AppendUvarint(buf, 0) // response tags
	}
	cut()
	header := wire.AppendResponseHeader(nil, correlationID, flexibleHeader, int(size))
	return append([]wire.Part{{Buf: header}}, parts...)
}

func (r *fetchResponse) region(t, p int) log.Region {
	if t < len(r.regions) && p < len(r.regions[t]) {
		return r.regions[t][p]
	}
	return log.Region{}
}
