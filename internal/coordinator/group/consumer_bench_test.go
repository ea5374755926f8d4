package group

import (
	"fmt"
	"testing"
)

// benchGroup is a settled KIP-848 group of n members on one topic of p
// partitions.
func benchGroup(b *testing.B, n int, p int32) (*harness, *fakeImage, []*cm) {
	b.Helper()
	h := newHarness(b, testConfig())
	img := newImage(map[string]int32{"t": p})
	ms := make([]*cm, n)
	for i := range ms {
		ms[i] = newCM("g", fmt.Sprintf("m%04d", i), "t")
		h.mustHeartbeat(ms[i], img)
	}
	h.stabilise(img, ms...)
	return h, img, ms
}

// BenchmarkConsumerGroupHeartbeat_Steady is a full heartbeat of a member
// of a settled group: no record written.
func BenchmarkConsumerGroupHeartbeat_Steady(b *testing.B) {
	for _, size := range []struct {
		members    int
		partitions int32
	}{{10, 100}, {200, 1000}} {
		b.Run(fmt.Sprintf("%dmembers", size.members), func(b *testing.B) {
			h, img, ms := benchGroup(b, size.members, size.partitions)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				m := ms[i%len(ms)]
				h.c.ConsumerGroupHeartbeat(Caller{ClientID: "client", ClientHost: "/127.0.0.1"}, m.req(img), img)
			}
		})
	}
}

// BenchmarkConsumerGroupHeartbeat_JoinLeave is a member joining a settled
// group (a new target assignment) and leaving again (another).
func BenchmarkConsumerGroupHeartbeat_JoinLeave(b *testing.B) {
	h, img, _ := benchGroup(b, 200, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m := newCM("g", "joiner", "t")
		h.c.ConsumerGroupHeartbeat(Caller{}, m.req(img), img)
		req := m.req(img)
		req.MemberEpoch = leaveEpoch
		h.c.ConsumerGroupHeartbeat(Caller{}, req, img)
	}
}
