package group

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fakeImage is a TopicImage for tests: topic name -> partitions; topic
// ids derive from the name.
type fakeImage struct {
	topics  map[string]int32
	version int64
}

func newImage(topics map[string]int32) *fakeImage {
	return &fakeImage{topics: maps.Clone(topics)}
}

func topicID(name string) [16]byte {
	var id [16]byte
	copy(id[:], "id-"+name)
	return id
}

func (f *fakeImage) Topic(name string) ([16]byte, int32, bool) {
	n, ok := f.topics[name]
	return topicID(name), n, ok
}

func (f *fakeImage) TopicName(id [16]byte) (string, bool) {
	for name := range f.topics {
		if topicID(name) == id {
			return name, true
		}
	}
	return "", false
}

func (f *fakeImage) TopicNames() []string { return slices.Sorted(maps.Keys(f.topics)) }
func (f *fakeImage) Version() int64       { return f.version }

// set changes a topic's partitions (0 deletes it) as a metadata change.
func (f *fakeImage) set(name string, partitions int32) {
	if partitions == 0 {
		delete(f.topics, name)
	} else {
		f.topics[name] = partitions
	}
	f.version++
}

// cm is a KIP-848 consumer as the tests drive it: what it owns follows
// the assignments it is given, revoking at once.
type cm struct {
	group, id string
	instance  *string
	epoch     int32
	topics    []string
	owned     map[string][]int32 // topic name -> partitions
	version   int16
}

func newCM(group, id string, topics ...string) *cm {
	return &cm{group: group, id: id, topics: topics, owned: map[string][]int32{}, version: 1}
}

func (m *cm) static(instance string) *cm { m.instance = &instance; return m }

func (m *cm) ownedTopics(img *fakeImage) []kmsg.ConsumerGroupHeartbeatRequestTopic {
	out := []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	for _, name := range slices.Sorted(maps.Keys(m.owned)) {
		if len(m.owned[name]) == 0 {
			continue
		}
		t := kmsg.NewConsumerGroupHeartbeatRequestTopic()
		t.TopicID, t.Partitions = topicID(name), slices.Clone(m.owned[name])
		out = append(out, t)
	}
	return out
}

func (m *cm) req(img *fakeImage) *kmsg.ConsumerGroupHeartbeatRequest {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version = m.version
	req.Group, req.MemberID, req.MemberEpoch, req.InstanceID = m.group, m.id, m.epoch, m.instance
	req.RebalanceTimeoutMillis = 60000
	req.SubscribedTopicNames = m.topics
	req.Topics = m.ownedTopics(img)
	if m.epoch == 0 {
		req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	}
	return req
}

// heartbeat sends a full heartbeat (or join at epoch 0) and applies the
// answer; it returns the response.
func (h *harness) cgHeartbeat(m *cm, img *fakeImage) *kmsg.ConsumerGroupHeartbeatResponse {
	h.t.Helper()
	return h.send(m, m.req(img), img)
}

func (h *harness) send(m *cm, req *kmsg.ConsumerGroupHeartbeatRequest, img *fakeImage) *kmsg.ConsumerGroupHeartbeatResponse {
	h.t.Helper()
	from := h.caller()
	res := h.take(h.c.ConsumerGroupHeartbeat(from, req, img), from.Ref.(int))
	resp := res.Response.(*kmsg.ConsumerGroupHeartbeatResponse)
	if resp.ErrorCode != 0 {
		return resp
	}
	if resp.MemberID != nil {
		m.id = *resp.MemberID
	}
	m.epoch = resp.MemberEpoch
	if resp.Assignment != nil {
		m.owned = map[string][]int32{}
		for _, t := range resp.Assignment.Topics {
			name, ok := img.TopicName(t.TopicID)
			if !ok {
				h.t.Fatalf("assigned unknown topic id %x", t.TopicID)
			}
			m.owned[name] = slices.Clone(t.Partitions)
		}
	}
	return resp
}

func (h *harness) mustHeartbeat(m *cm, img *fakeImage) *kmsg.ConsumerGroupHeartbeatResponse {
	h.t.Helper()
	resp := h.cgHeartbeat(m, img)
	wantCode(h.t, "heartbeat of "+m.id, resp.ErrorCode, nil)
	return resp
}

// stabilise heartbeats every member in turn until a round changes
// nothing, and checks no partition was ever owned twice.
func (h *harness) stabilise(img *fakeImage, ms ...*cm) {
	h.t.Helper()
	for round := 0; round < 20; round++ {
		before := h.ownership(ms...)
		for _, m := range ms {
			h.mustHeartbeat(m, img)
			h.ownership(ms...)
		}
		if g := h.c.cgroups[ms[0].group]; reflect.DeepEqual(before, h.ownership(ms...)) && g.state() == cgStable {
			return
		}
	}
	h.t.Fatalf("group %s did not stabilise: %s", ms[0].group, h.c.cgroups[ms[0].group].state())
}

// ownership maps "topic/partition" to its owner among ms, failing on a
// partition two members own.
func (h *harness) ownership(ms ...*cm) map[string]string {
	h.t.Helper()
	own := map[string]string{}
	for _, m := range ms {
		for t, ps := range m.owned {
			for _, p := range ps {
				k := fmt.Sprintf("%s/%d", t, p)
				if o, dup := own[k]; dup {
					h.t.Fatalf("%s owned by %s and %s", k, o, m.id)
				}
				own[k] = m.id
			}
		}
	}
	return own
}

func count(m *cm) int {
	n := 0
	for _, ps := range m.owned {
		n += len(ps)
	}
	return n
}

func wantHB(t testing.TB, what string, resp *kmsg.ConsumerGroupHeartbeatResponse, want *kerr.Error) {
	t.Helper()
	wantCode(t, what, resp.ErrorCode, want)
}

// cgSnap is a consumer group's persisted state, for replay comparisons.
type cgSnap struct {
	Epoch, AssignmentEpoch int32
	Subscription           map[string]topicMeta
	Target                 map[string]assignment
	Members                map[string]cmember
	Owners                 map[[16]byte]map[int32]string
	Static                 map[string]string
}

func consumerSnapshot(c *Coordinator) map[string]cgSnap {
	out := map[string]cgSnap{}
	for id, g := range c.cgroups {
		s := cgSnap{g.epoch, g.assignmentEpoch, g.subscription, map[string]assignment{}, map[string]cmember{}, g.owners, g.static}
		for mid, a := range g.target {
			s.Target[mid] = a.clone()
		}
		for mid, m := range g.members {
			mm := *m
			mm.cur.assigned, mm.cur.revoking = m.cur.assigned.clone(), m.cur.revoking.clone()
			if len(mm.meta.topics) == 0 {
				mm.meta.topics = nil
			}
			s.Members[mid] = mm
		}
		out[id] = s
	}
	return out
}

func assertSameConsumerState(t testing.TB, h *harness) {
	t.Helper()
	replayed := replayAll(t, h, h.log)
	live, again := consumerSnapshot(h.c), consumerSnapshot(replayed)
	if !reflect.DeepEqual(live, again) {
		t.Fatalf("consumer groups differ after replay\nlive:     %+v\nreplayed: %+v", live, again)
	}
	for _, g := range h.c.groups {
		if g.state != Empty && g.state != Stable {
			return // mid-rebalance state is in memory only
		}
	}
	assertSameState(t, h.c, replayed)
}
