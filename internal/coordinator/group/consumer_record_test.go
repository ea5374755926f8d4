package group

import (
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/clock"
)

func sampleConsumerRecords() []Record {
	inst, re, asg := "i", "t-.*", "range"
	a := assignment{topicID("foo"): {0, 2}, topicID("bar"): {1}}
	return []Record{
		cgMemberRecord("g", "m", &memberMeta{instanceID: &inst, clientID: "c", clientHost: "/h", topics: []string{"bar", "foo"}, regex: &re, rebalanceTimeout: 5000, assignor: &asg}),
		cgSubscriptionRecord("g", 1, map[string]topicMeta{"foo": {topicID("foo"), 3}, "bar": {topicID("bar"), 2}}),
		cgEpochRecord("g", 1),
		cgTargetMemberRecord("g", "m", a),
		cgTargetEpochRecord("g", 1),
		cgCurrentRecord("g", "m", &currentAssignment{epoch: 1, state: memberUnrevokedPartitions, assigned: a, revoking: assignment{topicID("foo"): {1}}}),
		cgCurrentRecord("g", "m", nil),
		cgMemberRecord("g", "m", nil),
	}
}

// TestConsumerRecord_Layout pins the first bytes of each record to
// Kafka 4.0's: an int16 record type (3-8) then the group id; values start
// with version 0.
func TestConsumerRecord_Layout(t *testing.T) {
	types := []int16{5, 4, 3, 7, 6, 8, 8, 5}
	for i, r := range sampleConsumerRecords() {
		if got := int16(r.Key[0])<<8 | int16(r.Key[1]); got != types[i] {
			t.Fatalf("record %d: type %d, want %d", i, got, types[i])
		}
		if r.Key[2] != 0 || r.Key[3] != 1 || r.Key[4] != 'g' {
			t.Fatalf("record %d: key %x", i, r.Key)
		}
		if r.Value != nil && (r.Value[0] != 0 || r.Value[1] != 0) {
			t.Fatalf("record %d: value version %x", i, r.Value[:2])
		}
	}
	// The member metadata value byte by byte (see
	// docs/format/consumer-offsets.md).
	v := memberMetaValue(&memberMeta{clientID: "c", clientHost: "h", topics: []string{"t"}, rebalanceTimeout: 1})
	want := []byte{0, 0, 0, 0, 2, 'c', 2, 'h', 2, 2, 't', 0, 0, 0, 0, 1, 0, 0}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("member metadata value %v, want %v", v, want)
	}
}

func TestConsumerRecord_RoundTrip(t *testing.T) {
	for i, r := range sampleConsumerRecords()[:6] {
		k, err := decodeConsumerKey(r.Key)
		if err != nil || !reflect.DeepEqual(k.appendTo(nil), r.Key) {
			t.Fatalf("record %d key: %v", i, err)
		}
		var again []byte
		switch k.typ {
		case consumerGroupMetadataType, consumerGroupTargetMetadataType:
			e, err := decodeEpochValue(r.Value, "")
			if err != nil {
				t.Fatal(err)
			}
			again = epochValue(e)
		case consumerGroupPartitionMetadataType:
			s, err := decodePartitionMetadataValue(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			again = partitionMetadataValue(1, s)
		case consumerGroupMemberMetadataType:
			m, err := decodeMemberMetaValue(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			again = memberMetaValue(&m)
		case consumerGroupTargetMemberType:
			a, err := decodeTargetMemberValue(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			again = targetMemberValue(a)
		case consumerGroupCurrentAssignmentType:
			c, err := decodeCurrentAssignmentValue(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			again = currentAssignmentValue(&c)
		}
		if !reflect.DeepEqual(again, r.Value) {
			t.Fatalf("record %d value: %x, want %x", i, again, r.Value)
		}
	}
}

// FuzzReplayConsumerRecord feeds arbitrary keys and values of the KIP-848
// record types to Replay: an error or a change, never a panic.
func FuzzReplayConsumerRecord(f *testing.F) {
	for _, r := range sampleConsumerRecords() {
		f.Add(r.Key, r.Value)
	}
	f.Add([]byte{0, 8, 0, 1, 'g', 0, 1, 'm'}, []byte{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		c := New(clock.NewFake(t0), testConfig())
		for _, r := range sampleConsumerRecords()[:6] {
			if err := c.Replay(r); err != nil {
				t.Fatal(err)
			}
		}
		_ = c.Replay(Record{Key: key, Value: value})
		c.Loaded()
		_ = c.Tick()
	})
}

// FuzzConsumerGroupHeartbeat runs arbitrary ConsumerGroupHeartbeat
// requests (v0 and v1) against a group with members: every request gets
// an answer that encodes, nothing panics, and a partition is never held
// by two members.
func FuzzConsumerGroupHeartbeat(f *testing.F) {
	img := newImage(map[string]int32{"foo": 4, "bar": 2})
	for _, m := range []*cm{newCM("g", "a", "foo"), newCM("g", "b", "foo", "bar").static("i")} {
		req := m.req(img)
		f.Add(int16(1), req.AppendTo(nil))
		req.MemberEpoch = 1
		f.Add(int16(1), req.AppendTo(nil))
	}
	f.Fuzz(func(t *testing.T, version int16, raw []byte) {
		req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
		req.Version = version & 1
		if req.ReadFrom(raw) != nil {
			return
		}
		h := newHarness(t, testConfig())
		a, b := newCM("g", "a", "foo"), newCM("g", "b", "foo", "bar").static("i")
		h.mustHeartbeat(a, img)
		h.mustHeartbeat(b, img)
		h.cgHeartbeat(newCM("", "", ""), img) // an invalid one: no group
		h.send(newCM("", "", ""), req, img)
		h.send(newCM("", "", ""), req, img)
		h.cgHeartbeat(a, img) // may fail: the request may have been a's
		h.checkOwners("g")
		h.checkOwners(req.Group)
	})
}
