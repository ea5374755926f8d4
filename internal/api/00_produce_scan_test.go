package api

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestCheckRequest_ProduceOutOfProportionRefused(t *testing.T) {
	for _, v := range []int16{3, 7, 9, 11} {
		// A real request: passes, whatever its size.
		req := kmsg.NewPtrProduceRequest()
		req.Version, req.Acks, req.TimeoutMillis = v, -1, 1000
		for ti := range 50 {
			rt := kmsg.NewProduceRequestTopic()
			rt.Topic = "topic-" + string(rune('a'+ti%26))
			for p := range 20 {
				rp := kmsg.NewProduceRequestTopicPartition()
				rp.Partition, rp.Records = int32(p), make([]byte, 100)
				rt.Partitions = append(rt.Partitions, rp)
			}
			req.Topics = append(req.Topics, rt)
		}
		if err := CheckRequest(0, v, req.AppendTo(nil)); err != nil {
			t.Fatalf("v%d: a real request refused: %v", v, err)
		}
		// Hostile: a million empty topics.
		hostile := kmsg.NewPtrProduceRequest()
		hostile.Version = v
		hostile.Topics = make([]kmsg.ProduceRequestTopic, 1<<20)
		if err := CheckRequest(0, v, hostile.AppendTo(nil)); err == nil {
			t.Fatalf("v%d: a million empty topics accepted", v)
		}
		// Truncated at every byte of a small request: never a panic.
		small := req.AppendTo(nil)[:200]
		for i := range small {
			CheckRequest(0, v, small[:i])
		}
	}
}
