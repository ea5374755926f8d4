package api

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/vfs"
	"github.com/basketmq/basket/internal/wire"
)

// TestFetchResponse_PartsMatchKmsgEncoding encodes random fetch responses
// both ways — Parts with file regions, and kmsg with the same bytes inline
// — for every served version, and requires identical frames.
func TestFetchResponse_PartsMatchKmsgEncoding(t *testing.T) {
	data := make([]byte, 1<<16)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	path := t.TempDir() + "/seg"
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := vfs.OS.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for v := int16(4); v <= 12; v++ {
		for trial := range 20 {
			resp := &fetchResponse{FetchResponse: kmsg.NewPtrFetchResponse()}
			resp.Version, resp.ThrottleMillis, resp.ErrorCode, resp.SessionID = v, rng.Int32N(100), int16(rng.IntN(2)), rng.Int32()
			inline := kmsg.NewPtrFetchResponse()
			*inline = *resp.FetchResponse
			inline.Topics = nil
			for ti := range rng.IntN(3) {
				topic := kmsg.NewFetchResponseTopic()
				topic.Topic = "topic-" + string(rune('a'+ti))
				var regions []log.Region
				for pi := range rng.IntN(4) {
					p := kmsg.NewFetchResponseTopicPartition()
					p.Partition, p.ErrorCode, p.HighWatermark = int32(pi), int16(rng.IntN(3)), rng.Int64N(1e9)
					p.LastStableOffset, p.LogStartOffset = rng.Int64N(1e9), rng.Int64N(1e9)
					if rng.IntN(3) == 0 {
						at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
						at.ProducerID, at.FirstOffset = rng.Int64(), rng.Int64()
						p.AbortedTransactions = append(p.AbortedTransactions, at)
					} else if rng.IntN(2) == 0 {
						p.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
					}
					var region log.Region
					if rng.IntN(3) > 0 {
						off := rng.Int64N(int64(len(data) - 1))
						region = log.Region{File: f, Pos: off, Len: 1 + rng.Int64N(int64(len(data))-off)}
					}
					regions = append(regions, region)
					topic.Partitions = append(topic.Partitions, p)
				}
				resp.Topics = append(resp.Topics, topic)
				resp.regions = append(resp.regions, regions)
				it := topic
				it.Partitions = append([]kmsg.FetchResponseTopicPartition(nil), topic.Partitions...)
				for pi, r := range regions {
					it.Partitions[pi].RecordBatches = data[r.Pos : r.Pos+r.Len] // empty, never nil
				}
				inline.Topics = append(inline.Topics, it)
			}
			flexHeader := wire.ResponseHeaderFlexible(1, v)
			want := wire.AppendResponse(nil, 77, flexHeader, inline)
			var got bytes.Buffer
			for _, p := range resp.Parts(77, flexHeader) {
				if p.Region == nil {
					got.Write(p.Buf)
					continue
				}
				got.ReadFrom(io.NewSectionReader(p.Region.File, p.Region.Off, p.Region.Len))
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("v%d trial %d: parts encode %d bytes, kmsg %d; first difference at %d", v, trial, got.Len(), len(want), firstDiff(got.Bytes(), want))
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
